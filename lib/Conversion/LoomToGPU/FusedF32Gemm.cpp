//===- FusedF32Gemm.cpp - f32 GEMM fusion groups on the GPU ---------------===//
//
// The fusion groups (docs/fusion.md) anchored on f32 loom.linear, which has
// no tensor-core kernel, as one launch of the f32 SIMT GEMM kernel
// (F32GemmKernel.h). Two shapes of group:
//
// - [rms_norm | layer_norm of a group input]? then one loom.linear reading it
//   (or a group input), then an elementwise chain (SiLU, GELU erf/tanh, an
//   add or multiply with an f32 group input of the result's shape), the last
//   result yielded: Y = chain(norm(x) @ w^T + bias);
// - [norm]? then several loom.linear reading the same value, each result
//   yielded and nothing else (horizontal siblings: one launch, the grid
//   covers every part's column tiles).
//
// Every operand must be f32; x may have leading batch dims (collapsed into M
// and expanded back on the results, as for the tensor-core GEMM); w, the
// biases, the norm's weights and the epilogue's tensors must be inputs of
// the group. Anything else is left to the other kernels, unchanged.
//
// The register tile (4, 2 or 1: 64 x 64, 32 x 32 or 16 x 16 blocks) is the
// largest whose grid still has about a block per SM of an H100 (128), so that
// small products such as PoolFormer's fc2 (M = 256, N = 64) spread over the
// chip; a dynamic M or N takes 64 x 64.

#include "loom/GPU/Kernels/F32GemmKernel.h"
#include "Launch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::F32GemmKernelConfig;

namespace {

bool isF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isF32();
}

/// What the rewrite needs, in terms of the group's body.
struct F32GemmPlan {
  F32GemmKernelConfig config;
  Operation *norm = nullptr;
  SmallVector<loom::LinearOp> linears;
  /// The epilogue's tensor operands, in step order.
  SmallVector<Value> tensors;
  /// The value the linears read (the norm's input where there is a norm).
  Value x;
  float eps = 0;
};

/// The epilogue step `op` is, applied to `value` (the previous result),
/// with its tensor operand in `tensor`; nothing for any other op.
std::optional<EpilogueStep> stepOf(Operation *op, Value value, Value &tensor) {
  using Kind = EpilogueStep::Kind;
  tensor = Value();
  if (op->getNumResults() != 1 || op->getResult(0).getType() != value.getType())
    return std::nullopt;
  if (isa<loom::SiluOp>(op))
    return EpilogueStep{Kind::Silu, ""};
  if (auto gelu = dyn_cast<loom::GeluOp>(op)) {
    if (gelu.getApproximate() == "tanh")
      return EpilogueStep{Kind::GeluTanh, ""};
    if (gelu.getApproximate() == "none")
      return EpilogueStep{Kind::Gelu, ""};
    return std::nullopt;
  }
  if (!isa<arith::AddFOp, arith::MulFOp>(op))
    return std::nullopt;
  Value other =
      op->getOperand(0) == value ? op->getOperand(1) : op->getOperand(0);
  if (other == value || !isa<BlockArgument>(other) ||
      other.getType() != value.getType())
    return std::nullopt;
  tensor = other;
  return EpilogueStep{
      isa<arith::AddFOp>(op) ? Kind::AddTensor : Kind::MulTensor, "f32"};
}

/// The linear's operands are f32 group inputs (x: `x`), of rank >= 2.
bool takesLinear(loom::LinearOp linear, Value x) {
  if (linear.getX() != x || !isF32(linear.getX()) || !isF32(linear.getW()) ||
      !isF32(linear.getResult()) || !isa<BlockArgument>(linear.getW()) ||
      cast<RankedTensorType>(x.getType()).getRank() < 2)
    return false;
  Value bias = linear.getBias();
  return !bias || (isF32(bias) && isa<BlockArgument>(bias));
}

/// The norm prologue `op` (rms_norm or layer_norm of f32 group inputs), its
/// input in `x`; false for anything else.
bool takesNorm(Operation *op, F32GemmPlan &plan) {
  if (auto rms = dyn_cast<loom::RmsNormOp>(op)) {
    plan.config.norm = F32GemmKernelConfig::Norm::Rms;
    plan.x = rms.getX();
    plan.eps = rms.getEpsilon().convertToFloat();
  } else if (auto layer = dyn_cast<loom::LayerNormOp>(op)) {
    plan.config.norm = F32GemmKernelConfig::Norm::Layer;
    plan.x = layer.getX();
    plan.eps = layer.getEpsilon().convertToFloat();
  } else {
    return false;
  }
  plan.norm = op;
  return llvm::all_of(
             op->getOperands(),
             [](Value v) { return isa<BlockArgument>(v) && isF32(v); }) &&
         isF32(op->getResult(0));
}

/// The plan for `group`, or nothing when the kernel does not cover it.
std::optional<F32GemmPlan> planGroup(loom::KernelOp group) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBodyBlock().without_terminator())
    ops.push_back(&op);
  if (ops.empty())
    return std::nullopt;
  F32GemmPlan plan;
  size_t i = 0;
  if (isa<loom::RmsNormOp, loom::LayerNormOp>(ops[0])) {
    if (!takesNorm(ops[0], plan))
      return std::nullopt;
    i = 1;
  }
  size_t firstLinear = i;
  for (; i < ops.size() && isa<loom::LinearOp>(ops[i]); ++i)
    plan.linears.push_back(cast<loom::LinearOp>(ops[i]));
  if (plan.linears.empty())
    return std::nullopt;
  Value x = plan.norm ? Value(plan.norm->getResult(0)) : plan.linears[0].getX();
  if (!plan.norm)
    plan.x = x;
  if (!isa<BlockArgument>(plan.x))
    return std::nullopt;
  for (loom::LinearOp linear : plan.linears)
    if (!takesLinear(linear, x))
      return std::nullopt;
  // The normalized x is read by the linears only (it is not materialized).
  if (plan.norm && llvm::any_of(x.getUsers(), [](Operation *user) {
        return !isa<loom::LinearOp>(user);
      }))
    return std::nullopt;
  plan.config.bias = static_cast<bool>(plan.linears[0].getBias());
  loom::YieldOp yield = group.getYield();
  if (plan.linears.size() > 1) {
    // Siblings: every product yielded, nothing after them, all alike.
    if (i != ops.size() || yield.getNumOperands() != plan.linears.size())
      return std::nullopt;
    for (loom::LinearOp linear : plan.linears)
      if (static_cast<bool>(linear.getBias()) != plan.config.bias ||
          !linear.getResult().hasOneUse() ||
          !isa<loom::YieldOp>(*linear.getResult().getUsers().begin()))
        return std::nullopt;
    plan.config.parts = static_cast<int64_t>(plan.linears.size());
    return plan;
  }
  if (i == ops.size()) {
    if (yield.getNumOperands() != 1 ||
        yield.getOperand(0) != plan.linears[0].getResult())
      return std::nullopt;
    return plan;
  }
  std::optional<SmallVector<Operation *>> chain = loom::gpu::epilogueChain(
      ArrayRef<Operation *>(ops).drop_front(firstLinear), yield);
  if (!chain)
    return std::nullopt;
  Value value = plan.linears[0].getResult();
  for (Operation *op : *chain) {
    Value tensor;
    std::optional<EpilogueStep> step = stepOf(op, value, tensor);
    if (!step || !value.hasOneUse() || *value.getUsers().begin() != op)
      return std::nullopt;
    plan.config.epilogue.push_back(*step);
    if (tensor)
      plan.tensors.push_back(tensor);
    value = op->getResult(0);
  }
  return plan;
}

/// The register tile: the largest whose grid still has a block for every SM
/// of the target, so that small products spread over the chip.
int64_t pickTile(int64_t m, ArrayRef<int64_t> ns, int64_t smCount) {
  if (ShapedType::isDynamic(m) || llvm::any_of(ns, ShapedType::isDynamic))
    return 4;
  for (int64_t tile : {4, 2}) {
    int64_t side = 16 * tile, columns = 0;
    for (int64_t n : ns)
      columns += (n + side - 1) / side;
    if ((m + side - 1) / side * columns >= smCount)
      return tile;
  }
  return 1;
}

} // namespace

FailureOr<bool> loom::rewriteFusedF32Gemm(loom::KernelOp group,
                                          const gpu::Target &target) {
  // The kernel's tiles fit every chip's static shared memory.
  std::optional<F32GemmPlan> plan = planGroup(group);
  if (!plan)
    return false;
  F32GemmKernelConfig &config = plan->config;
  auto outer = [&](Value v) {
    return group.getInputs()[cast<BlockArgument>(v).getArgNumber()];
  };
  OpBuilder b(group);
  Location loc = group.getLoc();
  Value x = outer(plan->x);
  Value x2d = gpu::collapseRows(b, loc, x);
  auto x2dType = cast<RankedTensorType>(x2d.getType());
  SmallVector<int64_t> ns;
  for (loom::LinearOp linear : plan->linears)
    ns.push_back(cast<RankedTensorType>(linear.getW().getType()).getDimSize(0));
  config.tile = pickTile(x2dType.getDimSize(0), ns, target.smCount);
  std::string why = config.check();
  if (!why.empty())
    return group.emitError() << "internal error: f32 GEMM kernel "
                             << config.kernelName() << " is invalid: " << why;

  // Arguments: X, [g, [b]], W_p, [bias_p], Y_p, E_s, [eps].
  Value m = gpu::dim(b, loc, x2d, 0);
  SmallVector<Value> args{gpu::bufferOf(b, loc, x2d)};
  if (plan->norm)
    for (Value v : plan->norm->getOperands().drop_front())
      args.push_back(gpu::bufferOf(b, loc, outer(v)));
  for (loom::LinearOp linear : plan->linears)
    args.push_back(gpu::bufferOf(b, loc, outer(linear.getW())));
  if (config.bias)
    for (loom::LinearOp linear : plan->linears)
      args.push_back(gpu::bufferOf(b, loc, outer(linear.getBias())));
  SmallVector<Value> outs;
  SmallVector<RankedTensorType> outTypes;
  Value columnTiles = gpu::indexConst(b, loc, 0);
  for (auto [linear, n] : llvm::zip(plan->linears, ns)) {
    Value nv = gpu::dim(b, loc, outer(linear.getW()), 0);
    outTypes.push_back(
        RankedTensorType::get({x2dType.getDimSize(0), n}, b.getF32Type()));
    SmallVector<Value> dynSizes;
    if (outTypes.back().isDynamicDim(0))
      dynSizes.push_back(m);
    if (outTypes.back().isDynamicDim(1))
      dynSizes.push_back(nv);
    outs.push_back(gpu::allocBuffer(b, loc, outTypes.back(), dynSizes));
    args.push_back(gpu::dynamicBuffer(b, loc, outs.back()));
    columnTiles = arith::AddIOp::create(b, loc, columnTiles,
                                        gpu::ceilDiv(b, loc, nv, config.bn()));
  }
  for (Value t : plan->tensors)
    args.push_back(gpu::bufferOf(b, loc, gpu::collapseRows(b, loc, outer(t))));
  if (plan->norm)
    args.push_back(
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(plan->eps)));

  FailureOr<SymbolRefAttr> kernel =
      gpu::buildF32GemmKernel(group->getParentOfType<ModuleOp>(), loc, config);
  if (failed(kernel))
    return failure();
  {
    // An empty grid is an invalid launch: skip it when M or every N is 0
    // (the results are then empty too).
    OpBuilder::InsertionGuard guard(b);
    Value zero = gpu::indexConst(b, loc, 0);
    Value nonEmpty = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, m, zero),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, columnTiles,
                              zero));
    auto ifOp = scf::IfOp::create(b, loc, nonEmpty, false);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value one = gpu::indexConst(b, loc, 1);
    Value rowTiles = arith::MinUIOp::create(
        b, loc, gpu::ceilDiv(b, loc, m, config.bm()),
        gpu::indexConst(b, loc, F32GemmKernelConfig::kMaxGridY));
    mlir::gpu::LaunchFuncOp::create(
        b, loc, *kernel, mlir::gpu::KernelDim3{columnTiles, rowTiles, one},
        mlir::gpu::KernelDim3{gpu::indexConst(b, loc, F32GemmKernelConfig::kThreads),
                              one, one},
        Value(), args);
  }

  // The group's results: the products (siblings) or the chain's last value,
  // at the linear's shape.
  SmallVector<Value> results(group->getNumResults());
  loom::YieldOp yield = group.getYield();
  for (auto [linear, out, type] : llvm::zip(plan->linears, outs, outTypes)) {
    Value y = gpu::expandRows(b, loc, gpu::tensorOf(b, loc, out, type), x,
                              cast<RankedTensorType>(linear.getResult().getType()));
    for (auto [k, v] : llvm::enumerate(yield.getOperands()))
      if (v == linear.getResult() || plan->linears.size() == 1)
        results[k] = y;
  }
  group->replaceAllUsesWith(results);
  group->erase();
  return true;
}
