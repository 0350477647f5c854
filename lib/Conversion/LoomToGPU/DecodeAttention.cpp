//===- DecodeAttention.cpp - split-KV attention for a few query rows ------===//
//
// loom.attention with few query rows per kv head (decode) to the split and
// combine kernels of DecodeAttentionKernel.h. Covered:
//
//   - q, k, v and the result bf16 or f16 alike, D = Dv static, one of 16,
//     32, 64, 128, 256;
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
// Not covered (the flash kernel or the generic path takes them):
// block-sparse, fusion groups (RoPE and layout changes), and any op when the
// target description asks for an attention tile (`tiles=attention:...`,
// which names the flash kernel's shape).
//
// The keys are split so that the grid has about two CTAs per SM (the
// target's SM count): splits = min(ceil(2 * SMs / (B * Hkv)), ceil(Skv /
// 128)), each split a multiple of the 128-key tile, computed on the host
// when B or Skv are dynamic.

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

/// The config for `op`, or nothing when the kernels do not cover it.
std::optional<DecodeAttentionKernelConfig>
selectDecode(loom::AttentionOp op, const loom::gpu::Target &target) {
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
      ShapedType::isDynamic(hkv) || ShapedType::isDynamic(sq) || hkv <= 0 ||
      hq % hkv != 0 || vType.getDimSize(1) != hkv || sq <= 0 ||
      sq > kMaxQueryLen)
    return std::nullopt;
  DecodeAttentionKernelConfig c;
  c.elementType = loom::gpu::elementTypeName(qType.getElementType());
  c.headDim = d;
  c.group = hq / hkv;
  c.queryLen = sq;
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

Value minU(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MinUIOp::create(b, loc, x, y);
}
Value maxU(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MaxUIOp::create(b, loc, x, y);
}

} // namespace

bool loom::gpu::decodeAttentionApplies(Operation *operation,
                                       const Target &target) {
  auto op = dyn_cast<loom::AttentionOp>(operation);
  return op && !target.attention && target.smCount > 0 &&
         selectDecode(op, target).has_value();
}

FailureOr<bool> loom::gpu::rewriteDecodeAttention(Operation *operation,
                                                  const Target &target) {
  if (!decodeAttentionApplies(operation, target))
    return false;
  auto op = cast<loom::AttentionOp>(operation);
  std::optional<DecodeAttentionKernelConfig> config = selectDecode(op, target);
  const DecodeAttentionKernelConfig &c = *config;
  ModuleOp module = op->getParentOfType<ModuleOp>();
  Location loc = op.getLoc();
  FailureOr<SymbolRefAttr> split = buildDecodeAttentionKernel(module, loc, c);
  if (failed(split))
    return failure();
  FailureOr<SymbolRefAttr> combine = buildDecodeCombineKernel(module, loc, c);
  if (failed(combine))
    return failure();

  OpBuilder b(op);
  Value one = indexConst(b, loc, 1);
  Value tileKeys = indexConst(b, loc, DecodeAttentionKernelConfig::kTileKeys);
  Value batch = dim(b, loc, op.getQ(), 0);
  Value hkv = dim(b, loc, op.getK(), 1);
  Value skv = dim(b, loc, op.getK(), 2);
  Value heads = arith::MulIOp::create(b, loc, batch, hkv);
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
      Value lowKey = arith::AddIOp::create(
          b, loc, skv, indexConst(b, loc, 1 - c.queryLen - widest));
      lowKey = arith::MaxSIOp::create(b, loc, lowKey, zero);
      winStart = arith::MulIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, lowKey, tileKeys), tileKeys);
    }
    int64_t sinkKeys = (c.sink + tile - 1) / tile * tile;
    sinkEnd = minU(b, loc, indexConst(b, loc, sinkKeys), winStart);
    keyCount = arith::AddIOp::create(
        b, loc, sinkEnd, arith::SubIOp::create(b, loc, skv, winStart));
  }
  // splits = max(min(ceil(2 * SMs / (B * Hkv)), ceil(keys / 128)), 1), then
  // the keys of a split rounded up to whole tiles and the count of splits
  // that this leaves (never an empty one).
  Value ctas = indexConst(b, loc, 2 * target.smCount);
  Value want =
      arith::CeilDivUIOp::create(b, loc, ctas, maxU(b, loc, heads, one));
  Value tiles =
      ceilDiv(b, loc, keyCount, DecodeAttentionKernelConfig::kTileKeys);
  Value splits0 = maxU(b, loc, minU(b, loc, want, tiles), one);
  Value perSplit = arith::CeilDivUIOp::create(b, loc, keyCount, splits0);
  Value perSplitTiles =
      ceilDiv(b, loc, perSplit, DecodeAttentionKernelConfig::kTileKeys);
  Value splitKeys = maxU(
      b, loc, arith::MulIOp::create(b, loc, perSplitTiles, tileKeys), tileKeys);
  Value splits = maxU(
      b, loc, arith::CeilDivUIOp::create(b, loc, keyCount, splitKeys), one);

  // The workspace: each split's rows (f32) and their max and sum.
  Type f32 = b.getF32Type();
  int64_t rows = c.rows();
  auto oType = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic, rows, c.headDim}, f32);
  auto mlType = RankedTensorType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic, rows, 2}, f32);
  Value partO = allocBuffer(b, loc, oType, {heads, splits});
  Value partML = allocBuffer(b, loc, mlType, {heads, splits});

  auto rType = cast<RankedTensorType>(op.getResult().getType());
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 3; ++i)
    if (rType.isDynamicDim(i))
      dynSizes.push_back(dim(b, loc, op.getQ(), i));
  Value out = allocBuffer(b, loc, rType, dynSizes);

  float scale = op.getScale()
                    ? op.getScale()->convertToFloat()
                    : static_cast<float>(1.0 / std::sqrt(double(c.headDim)));
  SmallVector<Value> args = {
      bufferOf(b, loc, op.getQ()),
      bufferOf(b, loc, op.getK()),
      bufferOf(b, loc, op.getV()),
      dynamicBuffer(b, loc, partO),
      dynamicBuffer(b, loc, partML),
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(scale))};
  if (c.softcap)
    args.push_back(arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(op.getSoftcap()->convertToFloat())));
  args.push_back(splitKeys);
  if (!c.windows.empty())
    args.append({sinkEnd, winStart});

  Value noSmem = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value gx = maxU(b, loc, heads, one);
  mlir::gpu::LaunchFuncOp::create(
      b, loc, *split, mlir::gpu::KernelDim3{gx, splits, one},
      mlir::gpu::KernelDim3{
          indexConst(b, loc, DecodeAttentionKernelConfig::kThreads), one, one},
      noSmem, args);
  // max(.., 1): an empty batch launches one CTA of each, which sees that
  // its batch index is past B and touches nothing.
  Value combineRows =
      maxU(b, loc,
           arith::MulIOp::create(b, loc, heads, indexConst(b, loc, rows)), one);
  SmallVector<Value> combineArgs{dynamicBuffer(b, loc, partO),
                                 dynamicBuffer(b, loc, partML),
                                 dynamicBuffer(b, loc, out)};
  Value lseOut;
  auto lseType = op.getLse() ? cast<RankedTensorType>(op.getLse().getType())
                             : RankedTensorType();
  if (lseType) {
    SmallVector<Value> lseSizes;
    for (int64_t i = 0; i < 3; ++i)
      if (lseType.isDynamicDim(i))
        lseSizes.push_back(dim(b, loc, op.getQ(), i));
    lseOut = allocBuffer(b, loc, lseType, lseSizes);
    combineArgs.push_back(dynamicBuffer(b, loc, lseOut));
  }
  if (c.sinkLogits)
    combineArgs.push_back(bufferOf(b, loc, op.getSinkLogits()));
  mlir::gpu::LaunchFuncOp::create(
      b, loc, *combine, mlir::gpu::KernelDim3{combineRows, one, one},
      mlir::gpu::KernelDim3{indexConst(b, loc, c.headDim), one, one}, noSmem,
      combineArgs);
  op.getResult().replaceAllUsesWith(tensorOf(b, loc, out, rType));
  if (lseType)
    op.getLse().replaceAllUsesWith(tensorOf(b, loc, lseOut, lseType));
  op.erase();
  return true;
}
