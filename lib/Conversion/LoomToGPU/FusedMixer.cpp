//===- FusedMixer.cpp - mixer fusion groups on the GPU --------------------===//
//
// loom-fuse's mixer groups, anchored on loom.pool_mixer or loom.dwconv: an
// optional layer_norm or rms_norm prologue (whose result only the mixer
// reads), the mixer, and a chain of elementwise epilogues (each reading the
// previous result and a group input of the same shape: arith.addf, such as
// the residual add x + pool_mixer(norm(x)), arith.mulf, arith.subf), as ONE
// launch of the fused mixer kernel (MixerKernel.h). Covered:
//
//   - pool_mixer and dwconv over [B, H, W, C] (a Kh x Kw window) and
//     [B, S, C] (passed as [B, 1, S, C] with a 1 x K window, dwconv weights
//     [K, C] as [1, K, C]; causal or centred), static or dynamic B, H, W, C;
//     dwconv weights of a static shape;
//   - one element type for x, g, b, w, the epilogue operands and the
//     result: bf16, f16 or f32.
//
// Left to the op-by-op path (the group unchanged): other epilogue ops (SiLU,
// GELU, quantize), epilogue operands computed inside the group (constants),
// mixed element types, dynamic dwconv window sizes, windows longer than
// kMaxWindow on an axis, and windows whose halo statistics do not fit the
// target's static shared memory (defaultSharedMemoryBytes, 48 KiB).

#include "Launch.h"
#include "loom/GPU/Kernels/MixerKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using loom::gpu::MixerKernelConfig;

namespace {

/// The longest window axis the kernel takes (longer ones, such as a
/// convolution over a whole long sequence, stay op by op).
constexpr int64_t kMaxWindow = 4096;
/// Output elements a CTA aims at (tokens per CTA = this / C, clamped).
constexpr int64_t kElementsPerCta = 4096;
/// About one CTA per SM of an H100.
constexpr int64_t kEnoughCtas = 128;

/// The fused mixer a group's body computes.
struct MixerPlan {
  Operation *norm = nullptr;  // layer_norm or rms_norm, or none
  Operation *mixer = nullptr; // pool_mixer or dwconv
  Value x() const { return mixer->getOperand(0); }
  Value weights() const {
    return isa<loom::DwConvOp>(mixer) ? mixer->getOperand(1) : Value();
  }
  SmallVector<Operation *> chain;  // elementwise epilogue ops, in order
  SmallVector<Value> stepOperands; // their other operand (block arguments)
  std::string steps;               // MixerKernelConfig::Step codes
};

/// The epilogue step of `op` applied to `prev` with `other`, if any.
std::optional<MixerKernelConfig::Step> stepOf(Operation *op, Value prev,
                                              Value &other) {
  if (op->getNumOperands() != 2 || op->getNumResults() != 1)
    return std::nullopt;
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  if (lhs == rhs)
    return std::nullopt;
  bool prevFirst = lhs == prev;
  if (!prevFirst && rhs != prev)
    return std::nullopt;
  other = prevFirst ? rhs : lhs;
  if (isa<arith::AddFOp>(op))
    return MixerKernelConfig::Step::Add;
  if (isa<arith::MulFOp>(op))
    return MixerKernelConfig::Step::Mul;
  if (isa<arith::SubFOp>(op))
    return prevFirst ? MixerKernelConfig::Step::Sub
                     : MixerKernelConfig::Step::SubFrom;
  return std::nullopt;
}

/// The plan of `group` when its body is exactly [norm] pool_mixer epilogues,
/// every operand from outside the chain a group input of one element type
/// (bf16, f16, f32) and the yielded value the last result.
std::optional<MixerPlan> planOf(loom::KernelOp group) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBodyBlock().without_terminator())
    ops.push_back(&op);
  MixerPlan plan;
  size_t next = 0;
  if (next < ops.size() && isa<loom::LayerNormOp, loom::RmsNormOp>(ops[next]))
    plan.norm = ops[next++];
  if (next >= ops.size() || !isa<loom::PoolMixerOp, loom::DwConvOp>(ops[next]))
    return std::nullopt;
  plan.mixer = ops[next++];
  auto type = dyn_cast<RankedTensorType>(plan.mixer->getResult(0).getType());
  if (!type || type != plan.x().getType() ||
      !llvm::is_contained({"bf16", "f16", "f32"},
                          loom::gpu::elementTypeName(type.getElementType())))
    return std::nullopt;
  auto isInput = [&](Value v, Type t) {
    return isa<BlockArgument>(v) && v.getType() == t;
  };
  if (plan.norm) {
    auto gType = RankedTensorType::get({type.getShape().back()},
                                       type.getElementType());
    if (plan.x() != plan.norm->getResult(0) ||
        !isInput(plan.norm->getOperand(0), type) ||
        !llvm::all_of(plan.norm->getOperands().drop_front(),
                      [&](Value v) { return isInput(v, gType); }))
      return std::nullopt;
  } else if (!isInput(plan.x(), type)) {
    return std::nullopt;
  }
  if (auto dw = dyn_cast<loom::DwConvOp>(plan.mixer)) {
    // Static window sizes (the kernel unrolls nothing but bakes them in),
    // a group input, causal only over a sequence.
    auto wType = cast<RankedTensorType>(dw.getW().getType());
    if (!isInput(dw.getW(), wType) || wType.getRank() != type.getRank() - 1 ||
        !wType.hasStaticShape() || (dw.getCausal() && type.getRank() != 3))
      return std::nullopt;
  }
  Value prev = plan.mixer->getResult(0);
  for (; next < ops.size(); ++next) {
    Value other;
    std::optional<MixerKernelConfig::Step> step = stepOf(ops[next], prev, other);
    if (!step || ops[next]->getResult(0).getType() != type ||
        !isInput(other, type))
      return std::nullopt;
    plan.chain.push_back(ops[next]);
    plan.stepOperands.push_back(other);
    plan.steps.push_back(static_cast<char>(*step));
    prev = ops[next]->getResult(0);
  }
  loom::YieldOp yield = group.getYield();
  if (yield.getNumOperands() != 1 || yield.getOperand(0) != prev)
    return std::nullopt;
  return plan;
}

/// The window of the mixer, {Kh, Kw} (rank 3: {1, K}).
std::pair<int64_t, int64_t> windowOf(const MixerPlan &plan,
                                     RankedTensorType type) {
  bool rank4 = type.getRank() == 4;
  if (auto dw = dyn_cast<loom::DwConvOp>(plan.mixer)) {
    ArrayRef<int64_t> k = cast<RankedTensorType>(dw.getW().getType()).getShape();
    return {rank4 ? k[0] : 1, k[rank4 ? 1 : 0]};
  }
  int64_t k = static_cast<int64_t>(cast<loom::PoolMixerOp>(plan.mixer).getKernel());
  return {rank4 ? k : 1, k};
}

/// The kernel configuration for x [B, H, W, C] (rank 3: H = 1) of `type`.
MixerKernelConfig configOf(const MixerPlan &plan, RankedTensorType type,
                           const std::string &element) {
  MixerKernelConfig c;
  c.elementType = element;
  if (isa_and_nonnull<loom::LayerNormOp>(plan.norm))
    c.norm = MixerKernelConfig::Norm::Layer;
  else if (plan.norm)
    c.norm = MixerKernelConfig::Norm::Rms;
  bool rank4 = type.getRank() == 4;
  if (auto dw = dyn_cast<loom::DwConvOp>(plan.mixer)) {
    c.dwconv = true;
    c.causal = dw.getCausal();
  }
  auto [kh, kw] = windowOf(plan, type);
  c.kh = static_cast<int>(kh);
  c.kw = static_cast<int>(kw);
  c.steps = plan.steps;
  // About kElementsPerCta outputs per CTA (4 to 64 tokens), W first; the
  // tile shrinks to static sizes below it, and, for a small static tensor,
  // so that the grid has about a CTA per SM (each thread's window sums are
  // a chain of dependent loads: few CTAs with many outputs each were
  // MEASURED 4x slower on the H100 for PoolFormer's 16 x 16 x 64 image).
  int64_t ch = type.getShape().back();
  int64_t tokens = ShapedType::isDynamic(ch)
                       ? 16
                       : std::clamp<int64_t>(kElementsPerCta / std::max<int64_t>(ch, 1), 4, 64);
  if (type.hasStaticShape()) {
    int64_t all = type.getNumElements() / std::max<int64_t>(ch, 1);
    tokens = std::clamp<int64_t>((all + kEnoughCtas - 1) / kEnoughCtas, 1, tokens);
  }
  int64_t W = type.getShape()[type.getRank() - 2];
  int64_t tileW = rank4 ? std::min<int64_t>(tokens, 16) : tokens;
  if (!ShapedType::isDynamic(W))
    tileW = std::clamp<int64_t>(W, 1, tileW);
  int64_t tileH = rank4 ? std::max<int64_t>(tokens / tileW, 1) : 1;
  int64_t H = rank4 ? type.getShape()[1] : 1;
  if (!ShapedType::isDynamic(H))
    tileH = std::clamp<int64_t>(H, 1, tileH);
  c.tileH = static_cast<int>(tileH);
  c.tileW = static_cast<int>(tileW);
  return c;
}

/// `v` [B, S, C] as [B, 1, S, C]; rank-4 values unchanged.
Value asRank4(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 4)
    return v;
  auto t4 = RankedTensorType::get(
      {type.getDimSize(0), 1, type.getDimSize(1), type.getDimSize(2)},
      type.getElementType());
  SmallVector<OpFoldResult> shape{tensor::getMixedSize(b, loc, v, 0),
                                  b.getIndexAttr(1),
                                  tensor::getMixedSize(b, loc, v, 1),
                                  tensor::getMixedSize(b, loc, v, 2)};
  return tensor::ExpandShapeOp::create(
      b, loc, t4, v, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}}, shape);
}

/// Weights [K, C] as [1, K, C]; rank-3 weights unchanged.
Value asRank3(OpBuilder &b, Location loc, Value w) {
  auto type = cast<RankedTensorType>(w.getType());
  if (type.getRank() == 3)
    return w;
  auto t3 = RankedTensorType::get({1, type.getDimSize(0), type.getDimSize(1)},
                                  type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, t3, w, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

} // namespace

FailureOr<bool> loom::rewriteFusedMixer(loom::KernelOp group,
                                        const gpu::Target &target) {
  std::optional<MixerPlan> plan = planOf(group);
  if (!plan)
    return false;
  auto type = cast<RankedTensorType>(plan->mixer->getResult(0).getType());
  auto [kh, kw] = windowOf(*plan, type);
  if (kh > kMaxWindow || kw > kMaxWindow)
    return false;
  std::string element = gpu::elementTypeName(type.getElementType());
  MixerKernelConfig config = configOf(*plan, type, element);
  // The kernel's shared memory is static: it must fit without raising the
  // block's limit.
  if (config.sharedMemoryBytes() > target.defaultSharedMemoryBytes)
    return false;

  // The group's input bound to a block argument of its body.
  auto outside = [&](Value v) {
    return group.getInputs()[cast<BlockArgument>(v).getArgNumber()];
  };
  Location loc = group.getLoc();
  OpBuilder b(group);
  FailureOr<SymbolRefAttr> kernel =
      gpu::buildMixerKernel(group->getParentOfType<ModuleOp>(), loc, config);
  if (failed(kernel))
    return failure();

  Value x = asRank4(b, loc, outside(plan->norm ? plan->norm->getOperand(0)
                                               : plan->x()));
  SmallVector<Value> args{gpu::bufferOf(b, loc, x)};
  float eps = 0.0f;
  if (plan->norm) {
    for (Value v : plan->norm->getOperands().drop_front())
      args.push_back(gpu::bufferOf(b, loc, outside(v)));
    eps = isa<LayerNormOp>(plan->norm)
              ? cast<LayerNormOp>(plan->norm).getEpsilon().convertToFloat()
              : cast<RmsNormOp>(plan->norm).getEpsilon().convertToFloat();
  }
  if (Value w = plan->weights())
    args.push_back(gpu::bufferOf(b, loc, asRank3(b, loc, outside(w))));
  for (Value v : plan->stepOperands)
    args.push_back(gpu::bufferOf(b, loc, asRank4(b, loc, outside(v))));
  auto t4 = cast<RankedTensorType>(x.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < 4; ++d)
    if (t4.isDynamicDim(d))
      dynamicSizes.push_back(gpu::dim(b, loc, x, d));
  Value out = gpu::allocBuffer(b, loc, t4, dynamicSizes);
  args.push_back(gpu::dynamicBuffer(b, loc, out));
  args.push_back(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(eps)));

  // A 1-D grid of max(B * hTiles * wTiles, 1) CTAs, the tile counts at
  // least 1 as the kernel computes them.
  Value one = gpu::indexConst(b, loc, 1);
  auto tiles = [&](int64_t d, int64_t tile) {
    return arith::MaxUIOp::create(
        b, loc, gpu::ceilDiv(b, loc, gpu::dim(b, loc, x, d), tile), one);
  };
  Value ctas = arith::MulIOp::create(b, loc, gpu::dim(b, loc, x, 0),
                                     tiles(1, config.tileH));
  ctas = arith::MulIOp::create(b, loc, ctas, tiles(2, config.tileW));
  Value gx = arith::MaxUIOp::create(b, loc, ctas, one);
  Value smem = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  mlir::gpu::LaunchFuncOp::create(
      b, loc, *kernel, mlir::gpu::KernelDim3{gx, one, one},
      mlir::gpu::KernelDim3{gpu::indexConst(b, loc, config.threads), one, one},
      smem, args);

  Value y = gpu::tensorOf(b, loc, out, t4);
  auto resultType = cast<RankedTensorType>(group->getResult(0).getType());
  if (resultType.getRank() == 3)
    y = tensor::CollapseShapeOp::create(
        b, loc, resultType, y,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  group->getResult(0).replaceAllUsesWith(y);
  group->erase();
  return true;
}
