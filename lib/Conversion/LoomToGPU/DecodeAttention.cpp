//===- DecodeAttention.cpp - split-KV attention for a few query rows ------===//
//
// loom.attention with few query rows per kv head (decode) to the split and
// combine kernels of DecodeAttentionKernel.h. Covered:
//
//   - q, k, v and the result bf16, f16 or f32 alike, D = Dv static, one of
//     16, 32, 64, 128, 256;
//   - Hq, Hkv and Sq static, Hq a multiple of Hkv, Sq <= 4 and
//     (Hq / Hkv) * Sq <= 16 (the whole GQA group's rows in one query tile,
//     so the cache is read once per kv head instead of once per query head);
//   - B and Skv static or dynamic; causal, softcap, scale;
//   - windows (one, or one per query head), sinks and sink logits (the
//     serving forms, checked on the H100 on 2026-12-06): the split kernel visits only the sink's tiles and
//     the tiles from the first one that the group's widest window reaches
//     (all of them when a head of the group has no window), computed here.
//
// The form with an lse result is covered: the combine kernel writes it.
//
// f32 loom.attention of any query length (rewriteChunkedAttention, for
// what the tensor-core kernels decline) takes the chunked form: 16 / G
// query positions of the group's heads a CTA.
//
// loom.paged_attention (rewritePagedAttention) takes the same kernels in
// their paged form: bf16/f16, D = Dv of 16..256, static Hq, Hkv and page
// size, G = Hq / Hkv <= 16; any T and batch (a CTA per token, kv head and
// split; the splits cover maxPages * page keys), causal, windows, sinks,
// sink logits, softcap and lse.
//
// Not covered (the flash kernel or the generic path takes them):
// block-sparse, fusion groups (RoPE and layout changes), and any op when the
// target description asks for an attention tile (`tiles=attention:...`,
// which names the flash kernel's shape).
//
// The keys are split so that the grid is at most one wave of two CTAs per
// SM (the target's SM count; the bf16/f16 split kernel up to D 128 takes
// about 250 registers a thread, so two of its CTAs fit an SM): splits =
// max(min(floor(2 * SMs / (B * Hkv)), ceil(Skv / 128)), 1), each split a
// multiple of the 128-key tile, computed on the host when B or Skv are
// dynamic. (With ceil, a kernel that fits three CTAs an SM ran B32 x 8 kv
// heads in 2 splits: 512 CTAs for 396 slots, most SMs idle in the second
// wave.)

#include "Launch.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/GPU/Builder/AttentionMask.h"
#include "loom/GPU/Kernels/DecodeAttentionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <cmath>

using namespace mlir;
using loom::gpu::DecodeAttentionKernelConfig;

namespace {

/// Query lengths up to this (decode, speculative decode) take the SIMT
/// split-KV kernels; longer ones have enough rows for the flash kernel's
/// tensor cores.
constexpr int64_t kMaxQueryLen = 4;

/// `c` with the mask and score options of `op` (loom.attention or
/// loom.paged_attention), or nothing when the kernels cannot build it.
template <typename Op>
std::optional<DecodeAttentionKernelConfig>
withMasks(DecodeAttentionKernelConfig c, Op op) {
  c.causal = op.getCausal();
  c.lse = static_cast<bool>(op.getLse());
  c.softcap = op.getSoftcap().has_value();
  loom::gpu::AttentionMasks masks = loom::gpu::attentionMasksOf(op);
  c.windows = std::move(masks.windows);
  c.sink = masks.sink;
  c.sinkLogits = masks.sinkLogits;
  if (!c.invalidReason().empty())
    return std::nullopt;
  return c;
}

/// The config for `op`, or nothing when the kernels do not cover it. With
/// `chunked`, for any query length (the chunked form: rows of kMaxRows / G
/// positions of the group's heads).
std::optional<DecodeAttentionKernelConfig>
selectDecode(loom::AttentionOp op, const loom::gpu::Target &target,
             bool chunked = false) {
  auto qType = dyn_cast<RankedTensorType>(op.getQ().getType());
  auto kType = dyn_cast<RankedTensorType>(op.getK().getType());
  auto vType = dyn_cast<RankedTensorType>(op.getV().getType());
  auto rType = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!qType || !kType || !vType || !rType)
    return std::nullopt;
  for (RankedTensorType t : {qType, kType, vType, rType})
    if (t.getRank() != 4 || t.getElementType() != qType.getElementType())
      return std::nullopt;
  int64_t d = qType.getDimSize(3);
  for (RankedTensorType t : {kType, vType, rType})
    if (t.getDimSize(3) != d)
      return std::nullopt;
  int64_t hq = qType.getDimSize(1), hkv = kType.getDimSize(1),
          sq = qType.getDimSize(2);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hkv) || hkv <= 0 || hq % hkv != 0 ||
      vType.getDimSize(1) != hkv)
    return std::nullopt;
  if (!chunked && (ShapedType::isDynamic(sq) || sq <= 0 || sq > kMaxQueryLen))
    return std::nullopt;
  DecodeAttentionKernelConfig c;
  c.elementType = loom::gpu::elementTypeName(qType.getElementType());
  c.headDim = d;
  c.group = hq / hkv;
  c.queryLen = chunked ? std::max<int64_t>(
                             DecodeAttentionKernelConfig::kMaxRows / c.group, 1)
                       : sq;
  c.chunked = chunked;
  return withMasks(c, op);
}

Value minU(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MinUIOp::create(b, loc, x, y);
}
Value maxU(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MaxUIOp::create(b, loc, x, y);
}

/// The keys of a split and the count of splits for `heads` (B * Hkv) CTAs
/// of `keyCount` keys each: splits = max(min(floor(2 * SMs / heads),
/// ceil(keys / 128)), 1), then the keys of a split rounded up to whole
/// tiles and the count of splits that this leaves (never an empty one).
std::pair<Value, Value> chooseSplits(OpBuilder &b, Location loc, Value heads,
                                     Value keyCount,
                                     const loom::gpu::Target &target) {
  using loom::gpu::ceilDiv;
  using loom::gpu::indexConst;
  Value one = indexConst(b, loc, 1);
  Value tileKeys = indexConst(b, loc, DecodeAttentionKernelConfig::kTileKeys);
  Value ctas = indexConst(b, loc, 2 * target.smCount);
  Value want = arith::DivUIOp::create(b, loc, ctas, maxU(b, loc, heads, one));
  Value tiles =
      ceilDiv(b, loc, keyCount, DecodeAttentionKernelConfig::kTileKeys);
  Value splits0 = maxU(b, loc, minU(b, loc, want, tiles), one);
  Value perSplit = arith::CeilDivUIOp::create(b, loc, keyCount, splits0);
  Value perSplitTiles =
      ceilDiv(b, loc, perSplit, DecodeAttentionKernelConfig::kTileKeys);
  Value keys = maxU(
      b, loc, arith::MulIOp::create(b, loc, perSplitTiles, tileKeys), tileKeys);
  Value splits =
      maxU(b, loc, arith::CeilDivUIOp::create(b, loc, keyCount, keys), one);
  return {keys, splits};
}

/// What one decode attention's two launches take beyond the config: the
/// op's q, k, v and optional sink logits, the split kernel's arguments
/// after split_keys (`tail`), the grid's CTAs of keys (`heads`), the keys to
/// split among them, and the result and lse buffers with their types.
struct DecodeLaunch {
  Value q, k, v, sinkLogits;
  SmallVector<Value> tail;
  Value heads, keyCount;
  float scale;
  std::optional<float> softcap;
};

/// Builds both kernels of `c` and launches them: the split kernel over
/// (heads, splits) CTAs into an f32 workspace, then the combine kernel, a
/// CTA per query row, into fresh result buffers of `rType` (and `lseType`
/// when set) whose dynamic sizes are `dynSizes` (`lseSizes`). Returns the
/// result and lse buffers.
FailureOr<std::pair<Value, Value>>
launchDecode(OpBuilder &b, Location loc, ModuleOp module,
             const DecodeAttentionKernelConfig &c, const DecodeLaunch &l,
             RankedTensorType rType, ValueRange dynSizes,
             RankedTensorType lseType, ValueRange lseSizes,
             const loom::gpu::Target &target) {
  using namespace loom::gpu;
  FailureOr<SymbolRefAttr> split = buildDecodeAttentionKernel(module, loc, c);
  if (failed(split))
    return failure();
  FailureOr<SymbolRefAttr> combine = buildDecodeCombineKernel(module, loc, c);
  if (failed(combine))
    return failure();
  Value one = indexConst(b, loc, 1);
  auto [splitKeys, splits] = chooseSplits(b, loc, l.heads, l.keyCount, target);

  // The workspace: each split's rows (f32) and their max and sum.
  Type f32 = b.getF32Type();
  int64_t rows = c.rows();
  auto oType = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic, rows, c.headDim}, f32);
  auto mlType = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic, rows, 2}, f32);
  Value partO = allocBuffer(b, loc, oType, {l.heads, splits});
  Value partML = allocBuffer(b, loc, mlType, {l.heads, splits});
  Value out = allocBuffer(b, loc, rType, dynSizes);

  SmallVector<Value> args = {
      bufferOf(b, loc, l.q),
      bufferOf(b, loc, l.k),
      bufferOf(b, loc, l.v),
      dynamicBuffer(b, loc, partO),
      dynamicBuffer(b, loc, partML),
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(l.scale))};
  if (c.softcap)
    args.push_back(
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(*l.softcap)));
  args.push_back(splitKeys);
  args.append(l.tail.begin(), l.tail.end());

  Value noSmem = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  mlir::gpu::LaunchFuncOp::create(
      b, loc, *split,
      mlir::gpu::KernelDim3{maxU(b, loc, l.heads, one), splits, one},
      mlir::gpu::KernelDim3{
          indexConst(b, loc, DecodeAttentionKernelConfig::kThreads), one, one},
      noSmem, args);
  // max(.., 1): an empty batch launches one CTA of each, which sees that
  // its batch index (token) is past B (T) and touches nothing.
  Value combineRows = maxU(
      b, loc, arith::MulIOp::create(b, loc, l.heads, indexConst(b, loc, rows)),
      one);
  SmallVector<Value> combineArgs{dynamicBuffer(b, loc, partO),
                                 dynamicBuffer(b, loc, partML),
                                 dynamicBuffer(b, loc, out)};
  Value lseOut;
  if (lseType) {
    lseOut = allocBuffer(b, loc, lseType, lseSizes);
    combineArgs.push_back(dynamicBuffer(b, loc, lseOut));
  }
  if (c.sinkLogits)
    combineArgs.push_back(bufferOf(b, loc, l.sinkLogits));
  mlir::gpu::LaunchFuncOp::create(
      b, loc, *combine, mlir::gpu::KernelDim3{combineRows, one, one},
      mlir::gpu::KernelDim3{indexConst(b, loc, c.headDim), one, one}, noSmem,
      combineArgs);
  return std::pair{out, lseOut};
}

/// The scale of an attention op as the kernels take it: the op's, else
/// 1 / sqrt(D).
float scaleOf(std::optional<APFloat> scale, int64_t headDim) {
  return scale ? scale->convertToFloat()
               : static_cast<float>(1.0 / std::sqrt(double(headDim)));
}

/// Replaces `op` (loom.attention or loom.paged_attention) by the launches
/// of `c` over `heads` CTAs of `keyCount` keys, `tail` the split kernel's
/// arguments after split_keys. The result's (and lse's) dynamic sizes are
/// q's leading ones.
template <typename Op>
LogicalResult replaceByDecode(OpBuilder &b, Op op,
                              const DecodeAttentionKernelConfig &c, Value heads,
                              Value keyCount, ArrayRef<Value> tail,
                              const loom::gpu::Target &target) {
  using namespace loom::gpu;
  Location loc = op.getLoc();
  DecodeLaunch l;
  l.q = op.getQ();
  l.k = op.getK();
  l.v = op.getV();
  l.sinkLogits = op.getSinkLogits();
  l.heads = heads;
  l.keyCount = keyCount;
  l.tail.assign(tail.begin(), tail.end());
  l.scale = scaleOf(op.getScale(), c.headDim);
  if (op.getSoftcap())
    l.softcap = op.getSoftcap()->convertToFloat();
  auto rType = cast<RankedTensorType>(op.getResult().getType());
  auto lseType = op.getLse() ? cast<RankedTensorType>(op.getLse().getType())
                             : RankedTensorType();
  SmallVector<Value> dynSizes, lseSizes;
  for (int64_t i = 0; i + 1 < rType.getRank(); ++i) {
    if (rType.isDynamicDim(i))
      dynSizes.push_back(dim(b, loc, op.getQ(), i));
    if (lseType && lseType.isDynamicDim(i))
      lseSizes.push_back(dim(b, loc, op.getQ(), i));
  }
  FailureOr<std::pair<Value, Value>> outs =
      launchDecode(b, loc, op->template getParentOfType<ModuleOp>(), c, l,
                   rType, dynSizes, lseType, lseSizes, target);
  if (failed(outs))
    return failure();
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, outs->first, rType));
  if (lseType)
    op.getLse().replaceAllUsesWith(tensorOf(b, loc, outs->second, lseType));
  op.erase();
  return success();
}

/// The paged config for `op`, or nothing when the kernels do not cover it.
std::optional<DecodeAttentionKernelConfig>
selectPaged(loom::PagedAttentionOp op) {
  auto qType = dyn_cast<RankedTensorType>(op.getQ().getType());
  auto kType = dyn_cast<RankedTensorType>(op.getK().getType());
  auto vType = dyn_cast<RankedTensorType>(op.getV().getType());
  auto rType = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!qType || !kType || !vType || !rType || qType.getRank() != 3 ||
      kType.getRank() != 4 || vType.getRank() != 4 || rType.getRank() != 3)
    return std::nullopt;
  for (RankedTensorType t : {kType, vType, rType})
    if (t.getElementType() != qType.getElementType())
      return std::nullopt;
  int64_t d = qType.getDimSize(2), hq = qType.getDimSize(1),
          hkv = kType.getDimSize(2), page = kType.getDimSize(1);
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(hq) ||
      ShapedType::isDynamic(hkv) || ShapedType::isDynamic(page) || hkv <= 0 ||
      hq % hkv != 0 || kType.getDimSize(3) != d || vType.getDimSize(3) != d ||
      vType.getDimSize(1) != page || vType.getDimSize(2) != hkv)
    return std::nullopt;
  DecodeAttentionKernelConfig c;
  c.elementType = loom::gpu::elementTypeName(qType.getElementType());
  c.headDim = d;
  c.group = hq / hkv;
  c.queryLen = 1;
  c.paged = true;
  c.pageSize = page;
  return withMasks(c, op);
}

} // namespace

FailureOr<bool> loom::gpu::rewritePagedAttention(loom::PagedAttentionOp op,
                                                 const Target &target) {
  if (target.attention || target.smCount <= 0)
    return false;
  std::optional<DecodeAttentionKernelConfig> config = selectPaged(op);
  if (!config)
    return false;
  const DecodeAttentionKernelConfig &c = *config;
  Location loc = op.getLoc();
  // A CTA per (token, kv head, split); the splits cover the most keys a
  // sequence can have, maxPages * page (a shorter sequence's last splits
  // find no key and end at once).
  OpBuilder b(op);
  Value tokens = dim(b, loc, op.getQ(), 0);
  Value heads =
      arith::MulIOp::create(b, loc, tokens, dim(b, loc, op.getK(), 2));
  Value keyCount = arith::MulIOp::create(
      b, loc, dim(b, loc, op.getBlockTable(), 1), indexConst(b, loc, c.pageSize));
  if (failed(replaceByDecode(b, op, c, heads, keyCount,
                             {bufferOf(b, loc, op.getBlockTable()),
                              bufferOf(b, loc, op.getKvLens()),
                              bufferOf(b, loc, op.getQOffsets())},
                             target)))
    return failure();
  return true;
}

bool loom::gpu::decodeAttentionApplies(Operation *operation,
                                       const Target &target) {
  auto op = dyn_cast<loom::AttentionOp>(operation);
  return op && !target.attention && target.smCount > 0 &&
         selectDecode(op, target).has_value();
}

namespace {
/// Replaces loom.attention `op` by the split and combine kernels of `c`
/// (contiguous cache; chunked or not).
LogicalResult rewriteContiguous(loom::AttentionOp op,
                                const DecodeAttentionKernelConfig &c,
                                const loom::gpu::Target &target) {
  using namespace loom::gpu;
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value tileKeys = indexConst(b, loc, DecodeAttentionKernelConfig::kTileKeys);
  Value batch = dim(b, loc, op.getQ(), 0);
  Value hkv = dim(b, loc, op.getK(), 1);
  Value skv = dim(b, loc, op.getK(), 2);
  Value heads = arith::MulIOp::create(b, loc, batch, hkv);
  // Chunked: a CTA column per query chunk too; the window's first tile is
  // that of the op's first query row.
  Value sqRows;
  if (c.chunked || !c.windows.empty())
    sqRows = dim(b, loc, op.getQ(), 2);
  if (c.chunked) {
    Value chunks = arith::CeilDivUIOp::create(
        b, loc, sqRows, indexConst(b, loc, c.queryLen));
    heads = arith::MulIOp::create(
        b, loc, heads, maxU(b, loc, chunks, indexConst(b, loc, 1)));
  }
  // With windows the split kernel visits keys [0, sinkEnd) (the sink's
  // tiles) and [winStart, Skv): winStart is the tile of the first key that
  // the first query row's widest window reaches, Skv - Sq - W + 1 (0 when a
  // head of the group has no window), sinkEnd the sink rounded up to tiles
  // (at most winStart). keyCount is how many the splits share.
  Value keyCount = skv, sinkEnd, winStart;
  if (!c.windows.empty()) {
    const int64_t tile = DecodeAttentionKernelConfig::kTileKeys;
    int64_t widest = loom::gpu::widestWindow(c.windows);
    Value zero = indexConst(b, loc, 0);
    if (widest == 0) {
      winStart = zero;
    } else {
      Value lowKey = arith::SubIOp::create(
          b, loc,
          arith::AddIOp::create(b, loc, skv, indexConst(b, loc, 1 - widest)),
          sqRows);
      lowKey = arith::MaxSIOp::create(b, loc, lowKey, zero);
      winStart = arith::MulIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, lowKey, tileKeys), tileKeys);
    }
    int64_t sinkKeys = (c.sink + tile - 1) / tile * tile;
    sinkEnd = minU(b, loc, indexConst(b, loc, sinkKeys), winStart);
    keyCount = arith::AddIOp::create(
        b, loc, sinkEnd, arith::SubIOp::create(b, loc, skv, winStart));
  }
  SmallVector<Value> tail;
  if (!c.windows.empty())
    tail = {sinkEnd, winStart};
  return replaceByDecode(b, op, c, heads, keyCount, tail, target);
}
} // namespace

FailureOr<bool> loom::gpu::rewriteDecodeAttention(Operation *operation,
                                                  const Target &target) {
  if (!decodeAttentionApplies(operation, target))
    return false;
  auto op = cast<loom::AttentionOp>(operation);
  std::optional<DecodeAttentionKernelConfig> config = selectDecode(op, target);
  if (failed(rewriteContiguous(op, *config, target)))
    return failure();
  return true;
}

FailureOr<bool> loom::gpu::rewriteChunkedAttention(loom::AttentionOp op,
                                                   const Target &target) {
  if (target.attention || target.smCount <= 0)
    return false;
  // f32 only: the tensor-core kernels take bf16 and f16 wherever they can
  // (the serving forms on sm_80, which they cannot, keep the generic path
  // for now).
  auto qType = dyn_cast<RankedTensorType>(op.getQ().getType());
  if (!qType || !qType.getElementType().isF32())
    return false;
  std::optional<DecodeAttentionKernelConfig> config =
      selectDecode(op, target, /*chunked=*/true);
  if (!config)
    return false;
  if (failed(rewriteContiguous(op, *config, target)))
    return failure();
  return true;
}
