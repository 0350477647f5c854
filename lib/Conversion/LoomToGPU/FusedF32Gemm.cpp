//===- FusedF32Gemm.cpp - f32 GEMM fusion groups on the GPU ---------------===//
//
// The fusion groups (docs/fusion.md) anchored on f32 products, which have no
// tensor-core kernel, as one launch of the f32 SIMT GEMM kernel
// (F32GemmKernel.h). The products: loom.linear with f32 operands, and
// loom.qlinear with f32 activations, i8 or i4 weights (i4: the packed bytes
// of the entry ABI) and f32 scales, per channel or in groups of any size.
// Three shapes of group:
//
// - [rms_norm | layer_norm of a group input]? then one product reading it
//   (or a group input), then an elementwise chain (SiLU, GELU erf/tanh, an
//   add or multiply with an f32 group input of the result's shape), the last
//   result yielded: Y = chain(norm(x) @ w^T + bias);
// - [norm]? then several products reading the same value, each result
//   yielded and nothing else (horizontal siblings: one launch, the grid
//   covers every part's column tiles);
// - [norm]? then a gate/up pair and its gating, act(gate) * up with SiLU or
//   GELU, the product yielded (SwiGLU, GeGLU: one launch whose blocks
//   compute the same tile of both products).
//
// The products of a group are alike (the same weight type, scales and bias
// presence). x may have leading batch dims (collapsed into M and expanded
// back on the results, as for the tensor-core GEMM); w, the scales, the
// biases, the norm's weights and the epilogue's tensors must be inputs of
// the group. Anything else is left to the other kernels, unchanged.
//
// The register tile (4, 2 or 1: 64 x 64, 32 x 32 or 16 x 16 blocks) is the
// largest whose grid still has a block per SM of the target, so that small
// products such as PoolFormer's fc2 (M = 256, N = 64) spread over the chip;
// a dynamic M or N takes 64 x 64.

#include "loom/GPU/Kernels/F32GemmKernel.h"
#include "Launch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::F32GemmKernelConfig;

namespace {

bool isF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isF32();
}

/// The operands of a product the kernel takes, in terms of the group's
/// body.
struct Product {
  Operation *op = nullptr;
  Value x, w, scale, bias, result;
  std::string weights; // "f32", "i8" or "i4"
  int64_t group = 0;   // qlinear's group_size (0: per channel)
};

/// What the rewrite needs, in terms of the group's body.
struct F32GemmPlan {
  F32GemmKernelConfig config;
  Operation *norm = nullptr;
  /// The products (a gated pair: gate, then up).
  SmallVector<Product> products;
  /// A gated pair's result (the multiply).
  Operation *gating = nullptr;
  /// The epilogue's tensor operands, in step order.
  SmallVector<Value> tensors;
  /// The value the products read (the norm's input where there is a norm).
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

bool isProduct(Operation *op) { return isa<loom::LinearOp, loom::QLinearOp>(op); }

/// The product `op` when the kernel takes it: f32 x (`x`, of rank >= 2) and
/// result, weights, scales and bias inputs of `group` (an i4 weight unpacked
/// from the entry's packed bytes).
/// The operands of loom.linear (f32 weights) or loom.qlinear (i8 or i4
/// weights) `op`; nothing for other ops and weight types.
std::optional<Product> operandsOf(Operation *op) {
  Product p;
  p.op = op;
  if (auto linear = dyn_cast<loom::LinearOp>(op)) {
    p.x = linear.getX();
    p.w = linear.getW();
    p.bias = linear.getBias();
    p.result = linear.getResult();
    p.weights = "f32";
    if (!isF32(p.w))
      return std::nullopt;
    return p;
  }
  auto q = dyn_cast<loom::QLinearOp>(op);
  if (!q)
    return std::nullopt;
  p.x = q.getX();
  p.w = q.getW();
  p.scale = q.getWScale();
  p.bias = q.getBias();
  p.result = q.getResult();
  p.group = static_cast<int64_t>(q.getGroupSize());
  Type w = getElementTypeOrSelf(p.w.getType());
  if (w.isSignlessInteger(8))
    p.weights = "i8";
  else if (w.isSignlessInteger(4))
    p.weights = "i4";
  else
    return std::nullopt;
  return p;
}

std::optional<Product> productOf(Operation *op, Value x, loom::KernelOp group) {
  std::optional<Product> operands = operandsOf(op);
  if (!operands)
    return std::nullopt;
  Product p = *operands;
  if (p.scale &&
      (!isF32(p.scale) || !isa<BlockArgument>(p.scale) || p.group < 0))
    return std::nullopt;
  if (p.x != x || !isF32(p.x) || !isF32(p.result) ||
      !isa<BlockArgument>(p.w) ||
      cast<RankedTensorType>(x.getType()).getRank() < 2)
    return std::nullopt;
  if (p.weights == "i4" &&
      !loom::gpu::packedI4Source(
          group.getInputs()[cast<BlockArgument>(p.w).getArgNumber()]))
    return std::nullopt;
  if (p.bias && (!isF32(p.bias) || !isa<BlockArgument>(p.bias)))
    return std::nullopt;
  return p;
}

/// The gating activation `op` is (SiLU, GELU erf or tanh), if any.
std::optional<EpilogueStep::Kind> gatingKind(Operation *op) {
  if (isa<loom::SiluOp>(op))
    return EpilogueStep::Kind::Silu;
  if (auto gelu = dyn_cast<loom::GeluOp>(op)) {
    if (gelu.getApproximate() == "tanh")
      return EpilogueStep::Kind::GeluTanh;
    if (gelu.getApproximate() == "none")
      return EpilogueStep::Kind::Gelu;
  }
  return std::nullopt;
}

/// Whether ops[i], ops[i + 1] gate the pair plan.products (act of one times
/// the other, yielded): then the products are ordered gate, up and the
/// config is set.
bool takesGating(ArrayRef<Operation *> ops, size_t i, loom::YieldOp yield,
                 F32GemmPlan &plan) {
  if (plan.products.size() != 2 || ops.size() != i + 2)
    return false;
  Operation *act = ops[i], *mul = ops[i + 1];
  std::optional<EpilogueStep::Kind> kind = gatingKind(act);
  if (!kind || !isa<arith::MulFOp>(mul) || act->getResult(0).getType() !=
                                               plan.products[0].result.getType())
    return false;
  Product &a = plan.products[0], &b = plan.products[1];
  if (a.result.getType() != b.result.getType() || !a.result.hasOneUse() ||
      !b.result.hasOneUse() || !act->getResult(0).hasOneUse())
    return false;
  if (act->getOperand(0) == b.result)
    std::swap(a, b);
  if (act->getOperand(0) != a.result)
    return false;
  Value lhs = mul->getOperand(0), rhs = mul->getOperand(1);
  if (!((lhs == act->getResult(0) && rhs == b.result) ||
        (rhs == act->getResult(0) && lhs == b.result)))
    return false;
  if (yield.getNumOperands() != 1 || yield.getOperand(0) != mul->getResult(0))
    return false;
  plan.config.gated = true;
  plan.config.act = *kind;
  plan.gating = mul;
  return true;
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
  size_t firstProduct = i;
  if (i >= ops.size() || !isProduct(ops[i]))
    return std::nullopt;
  Value x = plan.norm ? Value(plan.norm->getResult(0)) : ops[i]->getOperand(0);
  if (!plan.norm)
    plan.x = x;
  if (!isa<BlockArgument>(plan.x))
    return std::nullopt;
  for (; i < ops.size() && isProduct(ops[i]); ++i) {
    std::optional<Product> p = productOf(ops[i], x, group);
    if (!p)
      return std::nullopt;
    plan.products.push_back(*p);
  }
  // The normalized x is read by the products only (it is not materialized).
  if (plan.norm && llvm::any_of(x.getUsers(), [](Operation *user) {
        return !isProduct(user);
      }))
    return std::nullopt;
  // The products are alike.
  const Product &first = plan.products[0];
  for (const Product &p : plan.products)
    if (p.weights != first.weights || p.group != first.group ||
        static_cast<bool>(p.bias) != static_cast<bool>(first.bias))
      return std::nullopt;
  plan.config.bias = static_cast<bool>(first.bias);
  plan.config.weights = first.weights;
  plan.config.grouped = first.group > 0;
  loom::YieldOp yield = group.getYield();
  if (plan.products.size() > 1) {
    plan.config.parts = static_cast<int64_t>(plan.products.size());
    if (takesGating(ops, i, yield, plan))
      return plan;
    // Siblings: every product yielded, nothing after them.
    if (i != ops.size() || yield.getNumOperands() != plan.products.size())
      return std::nullopt;
    for (const Product &p : plan.products)
      if (!p.result.hasOneUse() ||
          !isa<loom::YieldOp>(*p.result.getUsers().begin()))
        return std::nullopt;
    return plan;
  }
  if (i == ops.size()) {
    if (yield.getNumOperands() != 1 || yield.getOperand(0) != first.result)
      return std::nullopt;
    return plan;
  }
  std::optional<SmallVector<Operation *>> chain = loom::gpu::epilogueChain(
      ArrayRef<Operation *>(ops).drop_front(firstProduct), yield);
  if (!chain)
    return std::nullopt;
  Value value = first.result;
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

namespace {

/// Launches the kernel of `plan` before `at` (the group or the op it
/// replaces); `outer` maps a value the plan names to the value outside the
/// group. Returns the products' results (a gated pair: its one result) at
/// their shapes, and adds the i4 unpackings that the launch reads past to
/// `unpacks`.
FailureOr<SmallVector<Value>>
emitLaunch(Operation *at, F32GemmPlan &planRef,
           llvm::function_ref<Value(Value)> outer,
           const loom::gpu::Target &target,
           llvm::SetVector<Operation *> &unpacks) {
  namespace gpu = loom::gpu;
  F32GemmPlan *plan = &planRef;
  F32GemmKernelConfig &config = plan->config;
  // The kernel's tiles fit every chip's static shared memory.
  OpBuilder b(at);
  Location loc = at->getLoc();
  Value x = outer(plan->x);
  Value x2d = gpu::collapseRows(b, loc, x);
  auto x2dType = cast<RankedTensorType>(x2d.getType());
  // The products' N; a gated pair's grid covers the tiles of one.
  ArrayRef<Product> parts = plan->products;
  if (config.gated)
    parts = parts.take_front();
  SmallVector<int64_t> ns;
  for (const Product &p : parts)
    ns.push_back(cast<RankedTensorType>(p.w.getType()).getDimSize(0));
  config.tile = pickTile(x2dType.getDimSize(0), ns, target.smCount);
  std::string why = config.check();
  if (!why.empty())
    return at->emitError() << "internal error: f32 GEMM kernel "
                             << config.kernelName() << " is invalid: " << why;

  // Arguments: X, [g, [b]], W_p, [scale_p], [bias_p], Y_p, E_s, [eps],
  // [group]. i4 weights are passed as their packed bytes.
  Value m = gpu::dim(b, loc, x2d, 0);
  SmallVector<Value> args{gpu::bufferOf(b, loc, x2d)};
  if (plan->norm)
    for (Value v : plan->norm->getOperands().drop_front())
      args.push_back(gpu::bufferOf(b, loc, outer(v)));
  for (const Product &p : plan->products) {
    Value w = outer(p.w);
    if (config.weights == "i4") {
      unpacks.insert(w.getDefiningOp());
      w = gpu::packedI4Source(w);
    }
    args.push_back(gpu::bufferOf(b, loc, w));
  }
  if (config.weights != "f32")
    for (const Product &p : plan->products)
      args.push_back(gpu::bufferOf(b, loc, outer(p.scale)));
  if (config.bias)
    for (const Product &p : plan->products)
      args.push_back(gpu::bufferOf(b, loc, outer(p.bias)));
  SmallVector<Value> outs;
  SmallVector<RankedTensorType> outTypes;
  Value columnTiles = gpu::indexConst(b, loc, 0);
  for (auto [p, n] : llvm::zip(parts, ns)) {
    Value nv = gpu::dim(b, loc, outer(p.w), 0);
    outTypes.push_back(RankedTensorType::get(
        {x2dType.getDimSize(0), n}, getElementTypeOrSelf(p.result.getType())));
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
  if (config.grouped)
    args.push_back(gpu::indexConst(b, loc, plan->products[0].group));

  FailureOr<SymbolRefAttr> kernel =
      gpu::buildF32GemmKernel(at->getParentOfType<ModuleOp>(), loc, config);
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

  SmallVector<Value> results;
  for (auto [p, out, type] : llvm::zip(parts, outs, outTypes))
    results.push_back(
        gpu::expandRows(b, loc, gpu::tensorOf(b, loc, out, type), x,
                        cast<RankedTensorType>(p.result.getType())));
  return results;
}

/// Erases the i4 unpackings that nothing reads any more.
void eraseUnused(const llvm::SetVector<Operation *> &unpacks) {
  for (Operation *unpack : unpacks)
    if (unpack->use_empty())
      unpack->erase();
}

} // namespace

FailureOr<bool> loom::rewriteFusedF32Gemm(loom::KernelOp group,
                                          const gpu::Target &target) {
  std::optional<F32GemmPlan> plan = planGroup(group);
  if (!plan)
    return false;
  auto outer = [&](Value v) {
    return group.getInputs()[cast<BlockArgument>(v).getArgNumber()];
  };
  llvm::SetVector<Operation *> unpacks;
  FailureOr<SmallVector<Value>> ys =
      emitLaunch(group, *plan, outer, target, unpacks);
  if (failed(ys))
    return failure();
  // The group's results: the products (siblings) or the chain's last value
  // or the gated product.
  SmallVector<Value> results(group->getNumResults());
  loom::YieldOp yield = group.getYield();
  size_t parts = ys->size();
  for (auto [p, y] : llvm::zip(ArrayRef<Product>(plan->products).take_front(parts), *ys))
    for (auto [k, v] : llvm::enumerate(yield.getOperands()))
      if (v == p.result || parts == 1)
        results[k] = y;
  group->replaceAllUsesWith(results);
  group->erase();
  eraseUnused(unpacks);
  return true;
}

FailureOr<bool> loom::gpu::rewriteSimtGemm(Operation *op,
                                           const Target &target) {
  // One product, outside any group: f32 linear, or qlinear with f32, bf16 or
  // f16 activations and float scales, bias and result.
  std::optional<Product> operands = operandsOf(op);
  if (!operands || (operands->weights == "f32" && !isF32(operands->x)))
    return false;
  Product p = *operands;
  if (p.weights == "i4" && !packedI4Source(p.w))
    return false;
  auto name = [](Value v) {
    return v ? elementTypeName(getElementTypeOrSelf(v.getType()))
             : std::string("f32");
  };
  F32GemmPlan plan;
  plan.x = p.x;
  plan.products.push_back(p);
  F32GemmKernelConfig &c = plan.config;
  c.weights = p.weights;
  c.grouped = p.group > 0;
  c.bias = static_cast<bool>(p.bias);
  c.xType = name(p.x);
  c.yType = name(p.result);
  c.biasType = name(p.bias);
  c.scaleType = name(p.scale);
  for (const std::string &t : {c.xType, c.yType, c.biasType, c.scaleType})
    if (t != "f32" && t != "bf16" && t != "f16")
      return false;
  if (!c.check().empty())
    return false;
  llvm::SetVector<Operation *> unpacks;
  FailureOr<SmallVector<Value>> ys = emitLaunch(
      op, plan, [](Value v) { return v; }, target, unpacks);
  if (failed(ys))
    return failure();
  op->getResult(0).replaceAllUsesWith(ys->front());
  op->erase();
  eraseUnused(unpacks);
  return true;
}
