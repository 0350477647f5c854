//===- FusedSelectBlocks.cpp - select_blocks groups as one kernel ---------===//
//
// A fusion group anchored on loom.select_blocks (loom-fuse: the RoPE and
// layout changes that compute q and k from the [S, H*D] projections) as one
// launch of the select_blocks kernel (SelectBlocksKernel.h): q and k are
// strided views of the group's buffers, their RoPE is applied while the
// blocks are pooled, and the block scores live in shared memory only (the
// full score matrix is never materialized). A plain select_blocks (a group
// of the op alone) takes the same kernel.
//
// Covered: static shapes with no zero size and B * Hq < 2^31; q and k bf16,
// f16 or f32; RoPE tables f32, bf16 or f16, either style, on q, k or both;
// any block sizes, topk, GQA/MQA, causal or not. Declined (the group goes op by
// op): dynamic shapes, a group whose body computes anything else or yields
// more, and a kv head's pooled key blocks (NKB x (D + 1) f32) that do not fit
// the chip's shared memory.
//
// Grid: (B * Hq, ceil(NQB / perCta)), perCta chosen so that the grid has
// about kTargetCtas CTAs; a CTA pools the key blocks of its kv head itself
// (up to its last query block's candidates under `causal`), so the fewer
// query blocks per CTA, the more often K is pooled again.

#include "Launch.h"
#include "loom/GPU/Kernels/SelectBlocksKernel.h"
#include "StridedOperands.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cmath>

using namespace mlir;

namespace {

/// CTAs the grid aims at: about twice the SMs of an H100 (132 SMs).
constexpr int64_t kTargetCtas = 256;
/// Query blocks pooled and scored at once, at most.
constexpr int64_t kMaxChunk = 16;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// What the group computes: the anchor and the chains of q and k.
struct SelectGroup {
  loom::SelectBlocksOp op;
  loom::gpu::OperandChain q, k;
};

/// The anchor of `body` (a fusion group's block) and its operand chains when
/// the body is exactly them (plus operand-free ops such as the transposes'
/// tensor.empty) and yields only the anchor's result.
std::optional<SelectGroup> matchGroup(Block &body) {
  SelectGroup g;
  for (Operation &op : body.without_terminator())
    if (auto s = dyn_cast<loom::SelectBlocksOp>(op)) {
      if (g.op)
        return std::nullopt;
      g.op = s;
    }
  if (!g.op)
    return std::nullopt;
  Operation *yield = body.getTerminator();
  if (yield->getNumOperands() != 1 || yield->getOperand(0) != g.op.getResult())
    return std::nullopt;
  std::optional<loom::gpu::OperandChain> q =
      loom::gpu::traceOperand(g.op.getQ(), true);
  std::optional<loom::gpu::OperandChain> k =
      loom::gpu::traceOperand(g.op.getK(), true);
  if (!q || !k)
    return std::nullopt;
  g.q = *q;
  g.k = *k;
  llvm::SmallPtrSet<Operation *, 8> covered = {g.op};
  for (loom::gpu::OperandChain *ch : {&g.q, &g.k})
    for (Operation *x : {ch->rope.getOperation(), ch->transpose.getOperation(),
                         ch->expand.getOperation()})
      if (x && !covered.insert(x).second)
        return std::nullopt; // q and k share an op
  for (Operation &op : body.without_terminator())
    if (!covered.contains(&op) && op.getNumOperands() != 0)
      return std::nullopt;
  return g;
}

/// The rope of a chain as the kernel applies it; false when its tables are
/// of a type the kernel does not read.
bool describeRope(loom::RopeOp rope, loom::gpu::SelectBlocksRope &r) {
  if (!rope)
    return true;
  if (rope.getPositions())
    return false;
  Type cosType = getElementTypeOrSelf(rope.getCos().getType());
  if (cosType != getElementTypeOrSelf(rope.getSin().getType()))
    return false;
  r.tableType = loom::gpu::elementTypeName(cosType);
  if (r.tableType != "f32" && r.tableType != "bf16" && r.tableType != "f16")
    return false;
  std::optional<loom::RopeStyle> style = rope.getStyleKind();
  if (!style)
    return false;
  r.enabled = true;
  r.interleaved = *style == loom::RopeStyle::Interleaved;
  return true;
}

/// The kernel configuration and the query blocks per CTA of `g`, or nothing
/// when it is outside the kernel's reach.
std::optional<std::pair<loom::gpu::SelectBlocksKernelConfig, int64_t>>
configure(SelectGroup g, const loom::gpu::Target &target) {
  auto qType = dyn_cast<RankedTensorType>(g.op.getQ().getType());
  auto kType = dyn_cast<RankedTensorType>(g.op.getK().getType());
  if (!qType || !kType || qType.getRank() != 4 || kType.getRank() != 4 ||
      !qType.hasStaticShape() || !kType.hasStaticShape() ||
      !loom::gpu::isStatic(g.op.getResult()))
    return std::nullopt;
  for (RankedTensorType t : {qType, kType})
    for (int64_t s : t.getShape())
      if (s == 0)
        return std::nullopt;
  loom::gpu::SelectBlocksKernelConfig c;
  c.elementType = loom::gpu::elementTypeName(qType.getElementType());
  if ((c.elementType != "bf16" && c.elementType != "f16" &&
       c.elementType != "f32") ||
      kType.getElementType() != qType.getElementType())
    return std::nullopt;
  c.headDim = qType.getDimSize(3);
  int64_t hq = qType.getDimSize(1), hkv = kType.getDimSize(1);
  if (kType.getDimSize(3) != c.headDim || hq % hkv != 0 ||
      kType.getDimSize(0) != qType.getDimSize(0))
    return std::nullopt;
  uint64_t blockQ = g.op.getBlockQ(), blockK = g.op.getBlockK();
  if (blockQ == 0 || blockK == 0 || blockQ > (1u << 30) || blockK > (1u << 30))
    return std::nullopt;
  c.blockQ = static_cast<int64_t>(blockQ);
  c.blockK = static_cast<int64_t>(blockK);
  c.causal = g.op.getCausal();
  c.keyBlocks = ceilDiv(kType.getDimSize(2), c.blockK);
  // Ranks are below NKB: a larger topk selects the same.
  c.topk = static_cast<int64_t>(
      std::min<uint64_t>(g.op.getTopk(), static_cast<uint64_t>(c.keyBlocks)));
  if (!describeRope(g.q.rope, c.ropeQ) || !describeRope(g.k.rope, c.ropeK))
    return std::nullopt;

  // One CTA column per (b, h): the grid's x dimension holds 2^31 - 1. (The
  // size bounds keep the arithmetic below from overflowing; shared memory
  // refuses far less.)
  if (qType.getDimSize(0) > INT32_MAX || hq > INT32_MAX ||
      qType.getDimSize(0) * hq > INT32_MAX || c.headDim > (1 << 20) ||
      c.keyBlocks > (1 << 20))
    return std::nullopt;
  int64_t queryBlocks = ceilDiv(qType.getDimSize(2), c.blockQ);
  int64_t heads = qType.getDimSize(0) * hq;
  int64_t ranges =
      std::clamp<int64_t>(ceilDiv(kTargetCtas, heads), 1, queryBlocks);
  int64_t perCta = ceilDiv(queryBlocks, ranges);
  for (c.chunk = std::min(perCta, kMaxChunk); c.chunk > 0; --c.chunk)
    if (c.sharedMemoryBytes() <= target.sharedMemoryBytes)
      return std::pair{c, perCta};
  return std::nullopt;
}

} // namespace

FailureOr<bool> loom::rewriteFusedSelectBlocks(loom::KernelOp group,
                                               const gpu::Target &target) {
  std::optional<SelectGroup> original = matchGroup(group.getBodyBlock());
  if (!original)
    return false;
  auto config = configure(*original, target);
  if (!config)
    return false;
  auto [c, perCta] = *config;

  // Inline; the clones are what the launch replaces.
  IRMapping map;
  group.inlineBody(&map);
  SelectGroup g;
  g.op = cast<loom::SelectBlocksOp>(map.lookup(original->op.getOperation()));
  auto retrace = [&](Value v) { return *gpu::traceOperand(v, true); };
  g.q = retrace(g.op.getQ());
  g.k = retrace(g.op.getK());

  ModuleOp module = g.op->getParentOfType<ModuleOp>();
  Location loc = g.op.getLoc();
  FailureOr<SymbolRefAttr> kernel = gpu::buildSelectBlocksKernel(module, loc, c);
  if (failed(kernel))
    return failure();

  OpBuilder b(g.op);
  auto rType = cast<RankedTensorType>(g.op.getType());
  Value out = gpu::allocBuffer(b, loc, rType, {});
  auto qType = cast<RankedTensorType>(g.op.getQ().getType());
  float scale = g.op.getScale()
                    ? g.op.getScale()->convertToFloat()
                    : static_cast<float>(1.0 / std::sqrt(double(c.headDim)));
  SmallVector<Value> args = {
      gpu::viewOf(b, loc, g.q), gpu::viewOf(b, loc, g.k),
      gpu::dynamicBuffer(b, loc, out),
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale)),
      gpu::indexConst(b, loc, perCta)};
  for (loom::RopeOp rope : {g.q.rope, g.k.rope})
    if (rope) {
      args.push_back(gpu::bufferOf(b, loc, rope.getCos()));
      args.push_back(gpu::bufferOf(b, loc, rope.getSin()));
    }
  gpu::launchPerHead(b, loc, g.op, *kernel,
                     gpu::indexConst(b, loc, qType.getDimSize(0)),
                     gpu::indexConst(b, loc, qType.getDimSize(1)),
                     gpu::indexConst(b, loc, rType.getDimSize(2)), perCta,
                     c.threads(), c.sharedMemoryBytes(), args, out);
  // The RoPEs and layout changes are dead now, and so are the operand-free
  // ops of the group that only they read (the transposes' inits).
  SmallVector<Operation *> dead;
  for (gpu::OperandChain *ch : {&g.q, &g.k})
    for (Operation *x : {ch->rope.getOperation(), ch->transpose.getOperation(),
                         ch->expand.getOperation()})
      if (x)
        dead.push_back(x);
  for (Operation *x : dead) {
    SmallVector<Value> operands(x->getOperands());
    if (!x->use_empty())
      continue;
    x->erase();
    for (Value v : operands)
      if (Operation *def = v.getDefiningOp();
          def && def->getNumOperands() == 0 && def->use_empty() &&
          isMemoryEffectFree(def))
        def->erase();
  }
  return true;
}
