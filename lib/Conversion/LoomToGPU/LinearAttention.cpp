//===- LinearAttention.cpp - loom.linear_attention to its kernels ---------===//
//
// loom.linear_attention to a launch of one of three kernels:
//
// - The token-by-token kernel (lib/GPU/Kernels/
//   RecurrentLinearAttentionKernel.cpp, selectRecurrentKernel): causal
//   without normalize, S static and at most 16 (decode steps), one element
//   type (bf16, f16, f32), Dk static up to 256, Dv a static multiple of 4;
//   every gate, both rules, the states. The recurrence in f32 with the state
//   in registers, read and written once. It also takes, at any S (static or
//   dynamic), what neither chunked kernel below takes: f32 data with a
//   gate, beta or a state, a per-key gate past the shared memory (one
//   launch, the tokens in sequence; not fast at long S, but not a launch
//   per token either).
// - The tensor-core kernel (lib/GPU/Kernels/ChunkedLinearAttentionKernel.cpp,
//   selectMmaKernel): causal without normalize, q, k, v and the result bf16
//   or f16, Dk static (a multiple of 8, at most 128), Dv static (a multiple
//   of 8); the additive and the delta rule, each with no gate, decay, a
//   log-gate per head [B, H, S] (Mamba2, Gated DeltaNet) or per key
//   dimension [B, H, S, Dk] (GLA, KDA); any feature map; an initial and a
//   final state. One CTA of 128
//   threads per (batch, head, 64-column slice of Dv; 32 columns when B, H are
//   static and the 64-column CTAs would fill at most half the SMs), chunks
//   of 64 tokens, the f32 state in registers, every product on mma.sync.
// - The CUDA-core kernel (lib/GPU/Kernels/LinearAttentionKernel.cpp,
//   selectKernel): the quadratic form (no gate, beta or state) in bf16, f16
//   or f32; Dk static (the shared memory, 804 * roundup(Dk, 64) + 34560
//   bytes, must fit the target: Dk <= 192 on sm_90a, <= 128 on sm_80); any
//   B, H, S, Dv, static or dynamic; every feature map, causal, decay (per
//   head, clamped to the last value for a dynamic H as on the CPU), scale
//   and normalize.
//
// Other ops (mixed element types, dynamic Dk, normalize with a gate, a Dv
// that is dynamic or not a multiple of 4 with a gate or a state) are left
// to the generic path. Fusion groups (layout changes of q, k, v and the
// result) take either kernel with strided views (rewriteLinearAttentionGroup).
//
// Measured on H100 (B4 H16 S4096 D128 bf16, causal, decay, elu+1, normalize):
// the CUDA-core kernel 2.17 ms (the generic path: 768 ms; a PyTorch chunked
// version with f32 matmuls: 6.85 ms; reading q, k, v and writing o: about
// 0.11 ms). The tensor-core kernel's figures are in docs/perf.md.

#include "Launch.h"
#include "StridedOperands.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/GPU/Kernels/ChunkedLinearAttentionKernel.h"
#include "loom/GPU/Kernels/LinearAttentionKernel.h"
#include "loom/GPU/Kernels/RecurrentLinearAttentionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <array>
#include <optional>

using namespace mlir;

namespace {

using LinearAttentionConfig = loom::gpu::LinearAttentionKernelConfig;
using MmaConfig = loom::gpu::ChunkedLinearAttentionKernelConfig;

/// The op's feature map as the kernels' enum (nothing for a spelling the
/// verifier rejects).
std::optional<LinearAttentionConfig::FeatureMap>
kernelFeatureMap(loom::LinearAttentionOp op) {
  std::optional<loom::FeatureMap> fm = op.getFeatureMapKind();
  if (!fm)
    return std::nullopt;
  switch (*fm) {
  case loom::FeatureMap::Identity:
    return LinearAttentionConfig::FeatureMap::Identity;
  case loom::FeatureMap::Relu:
    return LinearAttentionConfig::FeatureMap::Relu;
  case loom::FeatureMap::EluPlusOne:
    return LinearAttentionConfig::FeatureMap::EluPlusOne;
  }
  return std::nullopt;
}

using RecConfig = loom::gpu::RecurrentLinearAttentionKernelConfig;

/// What the three selections ask first: q, k, v and the result ranked 4-D
/// tensors of one element type, Dk static (q's or k's; the verifier makes
/// them agree), and Dv (v's or the result's; possibly dynamic).
struct OpShape {
  RankedTensorType q;
  std::string elementType;
  int64_t dk, dv;
};

std::optional<OpShape> opShape(loom::LinearAttentionOp op) {
  OpShape s;
  s.q = dyn_cast<RankedTensorType>(op.getQ().getType());
  auto k = dyn_cast<RankedTensorType>(op.getK().getType());
  auto v = dyn_cast<RankedTensorType>(op.getV().getType());
  auto result = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!s.q || !k || !v || !result)
    return std::nullopt;
  for (RankedTensorType ty : {s.q, k, v, result})
    if (ty.getRank() != 4 || ty.getElementType() != s.q.getElementType())
      return std::nullopt;
  s.elementType = loom::gpu::elementTypeName(s.q.getElementType());
  s.dk = s.q.isDynamicDim(3) ? k.getDimSize(3) : s.q.getDimSize(3);
  s.dv = v.isDynamicDim(3) ? result.getDimSize(3) : v.getDimSize(3);
  if (ShapedType::isDynamic(s.dk) || s.dk <= 0)
    return std::nullopt;
  return s;
}

/// The name of a gate's or beta's float element type ("f32", "bf16",
/// "f16"), or "" for any other.
std::string floatName(Value operand) {
  auto type = dyn_cast<RankedTensorType>(operand.getType());
  if (!type)
    return "";
  std::string name = loom::gpu::elementTypeName(type.getElementType());
  return (name == "f32" || name == "bf16" || name == "f16") ? name : "";
}

/// The op's gate into a kernel config (its Gate, gateType and decay): the
/// gate operand, per head (rank 3) or per key dimension, `decay`, or none.
/// False where the kernels cannot take it (a gate of another element type,
/// an empty decay).
template <typename Config>
bool selectGate(loom::LinearAttentionOp op, Config &c) {
  if (Value gate = op.getGate()) {
    auto gType = dyn_cast<RankedTensorType>(gate.getType());
    if (!gType)
      return false;
    c.gate = gType.getRank() == 3 ? Config::Gate::PerHead
                                  : Config::Gate::PerKey;
    c.gateType = floatName(gate);
    return !c.gateType.empty();
  }
  if (std::optional<ArrayRef<float>> decay = op.getDecay()) {
    c.gate = Config::Gate::Decay;
    c.decay.assign(decay->begin(), decay->end());
    return !c.decay.empty();
  }
  return true;
}

/// The most tokens (static S) that take the token-by-token kernel first: a
/// decode step, or a few speculative tokens. Longer sequences take the
/// chunked kernels, whose work per token is on the tensor cores, and the
/// token-by-token kernel only where neither chunked kernel does (`anyLength`).
constexpr int64_t kMaxRecurrentTokens = 16;

/// The token-by-token kernel for `op` (RecurrentLinearAttentionKernel.cpp),
/// or nothing when the op is outside its reach: causal without normalize,
/// S static and at most kMaxRecurrentTokens (any S, static or dynamic, with
/// `anyLength`), q, k, v and the result of one element type (bf16, f16 or
/// f32), Dk static (at most 256), Dv static (a multiple of 4); every gate,
/// both rules, any feature map, the states.
std::optional<RecConfig> selectRecurrentKernel(loom::LinearAttentionOp op,
                                               bool anyLength = false) {
  if (!op.getCausal() || op.getNormalize())
    return std::nullopt;
  std::optional<loom::UpdateRule> rule = op.getRuleKind();
  if (!rule)
    return std::nullopt;
  std::optional<OpShape> shape = opShape(op);
  if (!shape)
    return std::nullopt;
  RecConfig c;
  c.elementType = shape->elementType;
  if (c.elementType != "bf16" && c.elementType != "f16" &&
      c.elementType != "f32")
    return std::nullopt;
  int64_t seq = shape->q.getDimSize(2);
  c.dk = shape->dk;
  bool shortSeq = !ShapedType::isDynamic(seq) && seq <= kMaxRecurrentTokens;
  if ((!anyLength && !shortSeq) || c.dk > RecConfig::kMaxDk ||
      ShapedType::isDynamic(shape->dv) || shape->dv % 4 != 0)
    return std::nullopt;
  std::optional<LinearAttentionConfig::FeatureMap> fm = kernelFeatureMap(op);
  if (!fm)
    return std::nullopt;
  c.featureMap = *fm;
  if (!selectGate(op, c))
    return std::nullopt;
  c.delta = *rule == loom::UpdateRule::Delta;
  if (c.delta) {
    c.betaType = floatName(op.getBeta());
    if (c.betaType.empty())
      return std::nullopt;
  }
  c.initialState = static_cast<bool>(op.getInitialState());
  c.finalState = static_cast<bool>(op.getFinalState());
  return c;
}

/// The tensor-core kernel for `op` (ChunkedLinearAttentionKernel.cpp), or
/// nothing when the op is outside its reach: causal without normalize; the
/// additive or the delta rule (beta f32, bf16 or f16) with no gate,
/// `decay`, a gate per head [B, H, S] or per key dimension [B, H, S, Dk]
/// (rows 16-byte aligned); any
/// feature map; an initial and a final state; q, k, v and the result bf16
/// or f16; Dk static, a multiple of 8, at most 128; Dv static, a multiple
/// of 8 (16-byte rows for cp.async).
std::optional<MmaConfig> selectMmaKernel(loom::LinearAttentionOp op,
                                         const loom::gpu::Target &target) {
  std::optional<loom::UpdateRule> rule = op.getRuleKind();
  if (!op.getCausal() || op.getNormalize() || !rule)
    return std::nullopt;
  std::optional<OpShape> shape = opShape(op);
  if (!shape)
    return std::nullopt;
  MmaConfig c;
  c.delta = *rule == loom::UpdateRule::Delta;
  if (c.delta) {
    c.betaType = floatName(op.getBeta());
    if (c.betaType.empty())
      return std::nullopt;
  }
  c.elementType = shape->elementType;
  if (c.elementType != "bf16" && c.elementType != "f16")
    return std::nullopt;
  c.dk = shape->dk;
  int64_t dv = shape->dv;
  if (c.dk % 8 != 0 || c.paddedDk() > 128 || ShapedType::isDynamic(dv) ||
      dv % 8 != 0)
    return std::nullopt;
  std::optional<LinearAttentionConfig::FeatureMap> fm = kernelFeatureMap(op);
  if (!fm)
    return std::nullopt;
  c.featureMap = *fm;
  if (!selectGate(op, c))
    return std::nullopt;
  // Slices of 32 columns where those of 64 would leave half the SMs idle
  // (B1 H32 Dv128: 64 CTAs on 132 SMs): twice the CTAs, each with Q K^T
  // computed again but half the rest.
  if (!shape->q.isDynamicDim(0) && !shape->q.isDynamicDim(1)) {
    int64_t ctas =
        shape->q.getDimSize(0) * shape->q.getDimSize(1) * ((dv + 63) / 64);
    if (ctas > 0 && 2 * ctas <= target.smCount)
      c.slice = 32;
  }
  c.initialState = static_cast<bool>(op.getInitialState());
  c.finalState = static_cast<bool>(op.getFinalState());
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return std::nullopt;
  return c;
}

/// The kernel for `op`, or nothing when the op is outside the kernel's reach.
std::optional<LinearAttentionConfig>
selectKernel(loom::LinearAttentionOp op, const loom::gpu::Target &target) {
  // The kernel implements the quadratic form only: a gate, beta (the delta
  // rule), an initial or a final state take the generic path, which lowers
  // the recurrence of the CPU path.
  if (op.isRecurrentForm() || op.getRuleKind() != loom::UpdateRule::Additive)
    return std::nullopt;
  std::optional<OpShape> shape = opShape(op);
  if (!shape)
    return std::nullopt;
  LinearAttentionConfig c;
  c.elementType = shape->elementType;
  if (c.elementType != "bf16" && c.elementType != "f16" &&
      c.elementType != "f32")
    return std::nullopt;
  c.dk = shape->dk;
  std::optional<LinearAttentionConfig::FeatureMap> fm = kernelFeatureMap(op);
  if (!fm)
    return std::nullopt;
  c.featureMap = *fm;
  c.causal = op.getCausal();
  c.normalize = op.getNormalize();
  if (std::optional<ArrayRef<float>> decay = op.getDecay()) {
    if (!c.causal)
      return std::nullopt; // unverified
    c.decay.assign(decay->begin(), decay->end());
  }
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return std::nullopt;
  return c;
}

using loom::gpu::dim;
using loom::gpu::indexConst;

/// What a fusion group gives the kernel instead of the op's own tensors
/// (as for attention): q, k, v and the result as strided views of the
/// group's buffers, and the op whose result the launch replaces (the last
/// layout change of the result) with the buffer it reads.
struct FusedViews {
  Value q, k, v, o, out;
  Operation *replaced = nullptr;
};

/// The op's scale as the kernels' f32 argument (1 when absent).
Value scaleArgument(OpBuilder &b, loom::LinearAttentionOp op) {
  float scale = op.getScale() ? op.getScale()->convertToFloat() : 1.0f;
  return arith::ConstantOp::create(b, op.getLoc(), b.getF32FloatAttr(scale));
}

/// [B, H, S, Dv] for a kernel launch: B, H, S those of q, Dv the result's
/// (static: the selections ask).
std::array<Value, 4> launchSizes(OpBuilder &b, loom::LinearAttentionOp op) {
  Location loc = op.getLoc();
  auto rType = cast<RankedTensorType>(op.getResult().getType());
  return {dim(b, loc, op.getQ(), 0), dim(b, loc, op.getQ(), 1),
          dim(b, loc, op.getQ(), 2), indexConst(b, loc, rType.getDimSize(3))};
}

/// A fresh buffer of the op's final state [B, H, Dk, Dv].
Value allocFinalState(OpBuilder &b, loom::LinearAttentionOp op,
                      ArrayRef<Value> sizes, int64_t dk) {
  Location loc = op.getLoc();
  auto fType = cast<RankedTensorType>(op.getFinalState().getType());
  Value fSizes[4] = {sizes[0], sizes[1], indexConst(b, loc, dk), sizes[3]};
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 4; ++i)
    if (fType.isDynamicDim(i))
      dynSizes.push_back(fSizes[i]);
  return loom::gpu::allocBuffer(b, loc, fType, dynSizes);
}

LogicalResult rewrite(loom::LinearAttentionOp op,
                      const LinearAttentionConfig &c, ModuleOp module,
                      const FusedViews *views = nullptr) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto rType = cast<RankedTensorType>(op.getResult().getType());
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildLinearAttentionKernel(module, loc, c);
  if (failed(kernel))
    return failure();
  Value scaleArg = scaleArgument(b, op);
  if (views) {
    // Static sizes (the group's chains are static).
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    Value sizes[4] = {indexConst(b, loc, qType.getDimSize(0)),
                      indexConst(b, loc, qType.getDimSize(1)),
                      indexConst(b, loc, qType.getDimSize(2)),
                      indexConst(b, loc, rType.getDimSize(3))};
    loom::gpu::launchPerHead(b, loc, views->replaced, *kernel, sizes[0],
                             sizes[1], sizes[3], c.kSlice, c.kThreads,
                             c.sharedMemoryBytes(),
                             {views->q, views->k, views->v, views->o, scaleArg},
                             views->out);
    return success();
  }

  // Result [B, H, S, Dv]: B, H, S those of q, Dv that of v.
  Value sizes[4] = {dim(b, loc, op.getQ(), 0), dim(b, loc, op.getQ(), 1),
                    dim(b, loc, op.getQ(), 2), dim(b, loc, op.getV(), 3)};
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 4; ++i)
    if (rType.isDynamicDim(i))
      dynSizes.push_back(sizes[i]);
  SmallVector<Value> args = {loom::gpu::bufferOf(b, loc, op.getQ()),
                             loom::gpu::bufferOf(b, loc, op.getK()),
                             loom::gpu::bufferOf(b, loc, op.getV())};
  Value out = loom::gpu::allocBuffer(b, loc, rType, dynSizes);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  args.push_back(scaleArg);

  // Grid (max(B * H, 1), max(ceil(Dv / 64), 1)): never empty; the kernel
  // returns at once for a CTA outside the sizes (or S = 0).
  loom::gpu::launchPerHead(b, loc, op, *kernel, sizes[0], sizes[1], sizes[3],
                           c.kSlice, c.kThreads, c.sharedMemoryBytes(), args,
                           out);
  return success();
}

/// The launch of the tensor-core kernel `c` for `op` (with `views`: the
/// fusion group's strided views instead of the op's own tensors).
LogicalResult rewriteMma(loom::LinearAttentionOp op, const MmaConfig &c,
                         ModuleOp module, const FusedViews *views = nullptr) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto rType = cast<RankedTensorType>(op.getResult().getType());
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildChunkedLinearAttentionKernel(module, loc, c);
  if (failed(kernel))
    return failure();
  Value scaleArg = scaleArgument(b, op);
  std::array<Value, 4> sizes = launchSizes(b, op);
  SmallVector<Value> args;
  Value out;
  if (views) {
    args = {views->q, views->k, views->v, views->o};
  } else {
    args = {loom::gpu::bufferOf(b, loc, op.getQ()),
            loom::gpu::bufferOf(b, loc, op.getK()),
            loom::gpu::bufferOf(b, loc, op.getV())};
    SmallVector<Value> dynSizes;
    for (int64_t i = 0; i < 4; ++i)
      if (rType.isDynamicDim(i))
        dynSizes.push_back(sizes[i]);
    out = loom::gpu::allocBuffer(b, loc, rType, dynSizes);
    args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  }
  if (op.getGate())
    args.push_back(loom::gpu::bufferOf(b, loc, op.getGate()));
  if (c.delta)
    args.push_back(loom::gpu::bufferOf(b, loc, op.getBeta()));
  if (c.initialState)
    args.push_back(loom::gpu::bufferOf(b, loc, op.getInitialState()));
  Value finalBuf;
  if (c.finalState) {
    finalBuf = allocFinalState(b, op, sizes, c.dk);
    args.push_back(loom::gpu::dynamicBuffer(b, loc, finalBuf));
  }
  args.push_back(scaleArg);

  // Grid (max(B * H, 1), max(ceil(Dv / 64), 1)): never empty; the kernel
  // returns at once for a CTA outside the sizes.
  SmallVector<Value> moreOuts;
  if (finalBuf)
    moreOuts.push_back(finalBuf);
  if (views && views->replaced != op.getOperation()) {
    loom::gpu::launchPerHead(b, loc, views->replaced, *kernel, sizes[0],
                             sizes[1], sizes[3], c.slice, c.kThreads,
                             c.sharedMemoryBytes(), args, views->out);
    // The final state's tensor after the launch that writes it (before the
    // op, which the launch precedes).
    if (finalBuf) {
      OpBuilder after(op);
      op.getFinalState().replaceAllUsesWith(loom::gpu::tensorOf(
          after, loc, finalBuf,
          cast<RankedTensorType>(op.getFinalState().getType())));
    }
    return success();
  }
  // The op itself is replaced (no layout change of its result): its results
  // are the output and the final state.
  loom::gpu::launchPerHead(b, loc, op, *kernel, sizes[0], sizes[1], sizes[3],
                           c.slice, c.kThreads, c.sharedMemoryBytes(), args,
                           views ? views->out : out, moreOuts);
  return success();
}

/// The launch of the token-by-token kernel `c` for `op`.
LogicalResult rewriteRecurrent(loom::LinearAttentionOp op, const RecConfig &c,
                               ModuleOp module) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  auto rType = cast<RankedTensorType>(op.getResult().getType());
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildRecurrentLinearAttentionKernel(module, loc, c);
  if (failed(kernel))
    return failure();
  Value scaleArg = scaleArgument(b, op);
  std::array<Value, 4> sizes = launchSizes(b, op);
  SmallVector<Value> args = {loom::gpu::bufferOf(b, loc, op.getQ()),
                             loom::gpu::bufferOf(b, loc, op.getK()),
                             loom::gpu::bufferOf(b, loc, op.getV())};
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 4; ++i)
    if (rType.isDynamicDim(i))
      dynSizes.push_back(sizes[i]);
  Value out = loom::gpu::allocBuffer(b, loc, rType, dynSizes);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  if (op.getGate())
    args.push_back(loom::gpu::bufferOf(b, loc, op.getGate()));
  if (c.delta)
    args.push_back(loom::gpu::bufferOf(b, loc, op.getBeta()));
  if (c.initialState)
    args.push_back(loom::gpu::bufferOf(b, loc, op.getInitialState()));
  SmallVector<Value> moreOuts;
  if (c.finalState) {
    Value fin = allocFinalState(b, op, sizes, c.dk);
    args.push_back(loom::gpu::dynamicBuffer(b, loc, fin));
    moreOuts.push_back(fin);
  }
  args.push_back(scaleArg);
  // Grid (max(B * H, 1), max(ceil(Dv / 128), 1)), no dynamic shared memory.
  loom::gpu::launchPerHead(b, loc, op, *kernel, sizes[0], sizes[1], sizes[3],
                           RecConfig::kSlice, RecConfig::kThreads, 0, args,
                           out, moreOuts);
  return success();
}

} // namespace

LogicalResult loom::rewriteLinearAttentionOps(ModuleOp module,
                                              const gpu::Target &target) {
  SmallVector<loom::LinearAttentionOp> ops;
  module.walk([&](loom::LinearAttentionOp op) {
    if (op->getParentOfType<func::FuncOp>())
      ops.push_back(op);
  });
  for (loom::LinearAttentionOp op : ops) {
    if (std::optional<RecConfig> rec = selectRecurrentKernel(op)) {
      if (failed(rewriteRecurrent(op, *rec, module)))
        return failure();
      continue;
    }
    if (std::optional<MmaConfig> mma = selectMmaKernel(op, target)) {
      if (failed(rewriteMma(op, *mma, module)))
        return failure();
      continue;
    }
    if (std::optional<LinearAttentionConfig> config = selectKernel(op, target)) {
      if (failed(rewrite(op, *config, module)))
        return failure();
      continue;
    }
    // What no chunked kernel takes (f32 data with a gate, beta or a state, a
    // per-key gate past the shared memory):
    // the recurrence token by token in one launch, rather than the generic
    // path's launches per token.
    if (std::optional<RecConfig> rec =
            selectRecurrentKernel(op, /*anyLength=*/true)) {
      if (failed(rewriteRecurrent(op, *rec, module)))
        return failure();
      continue;
    }
    // generic path
  }
  return success();
}

FailureOr<bool> loom::gpu::rewriteLinearAttentionGroup(Operation *anchor,
                                                       const Target &target) {
  auto op = dyn_cast<loom::LinearAttentionOp>(anchor);
  if (!op)
    return false;
  // A decode step takes the token-by-token kernel, op by op (it reads
  // plain tensors): the group is inlined.
  if (selectRecurrentKernel(op))
    return false;
  std::optional<MmaConfig> mma = selectMmaKernel(op, target);
  std::optional<LinearAttentionConfig> config;
  if (!mma)
    config = selectKernel(op, target);
  if (!mma && !config)
    return false;
  std::optional<OperandChain> q = traceOperand(op.getQ(), false),
                              k = traceOperand(op.getK(), false),
                              v = traceOperand(op.getV(), false);
  std::optional<ResultChain> o = traceResult(op);
  if (!q || !k || !v || !o)
    return false;
  if (mma)
    mma->strided = true;
  else
    config->strided = true;
  OpBuilder b(op);
  Location loc = op.getLoc();
  FusedViews views;
  views.q = viewOf(b, loc, *q);
  views.k = viewOf(b, loc, *k);
  views.v = viewOf(b, loc, *v);
  views.replaced = o->last;
  views.out = allocBuffer(
      b, loc, cast<RankedTensorType>(o->last->getResult(0).getType()), {});
  views.o = outputView(b, loc, views.out, *o);
  ModuleOp module = op->getParentOfType<ModuleOp>();
  if (failed(mma ? rewriteMma(op, *mma, module, &views)
                 : rewrite(op, *config, module, &views)))
    return failure();
  eraseFusedChains(op, *o, {*q, *k, *v});
  return true;
}
