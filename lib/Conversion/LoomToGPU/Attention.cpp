//===- Attention.cpp - flash attention kernels ------------------------===//
//
// loom.attention and loom.block_sparse_attention to launches of the
// flash-attention kernel (AttentionKernel.h). Covered:
//
//   - element type bf16 or f16 (q, k, v and the result alike);
//   - head dims D = Dv, static, a multiple of 16 up to 256 (64 to 256 on
//     the wgmma kernel on sm_90a, D 80, 96, ... in zero-filled 64-column
//     panels; 16 to 48, and every D elsewhere, on the flash kernel);
//   - any B, Hq, Hkv (GQA/MQA), Sq, Skv, static or dynamic;
//   - causal (bottom-right aligned), window (with causal), softcap, scale;
//   - block_sparse_attention with block_q and block_k multiples of 16 (key
//     tiles of 64, or of 32 or 16 for smaller key blocks; block_q a
//     multiple of 128 gets 128-row CTAs, of 64 64-row ones, else CTAs of
//     2 or 1 warps for 32 or 16 rows): a CTA lies in one query block and
//     visits only the key tiles whose layout bit is set.
//
// Configurations (4 warps): 128-row CTAs of 32-row warps with 64-key tiles;
// with causal (not block-sparse) 32-key tiles; a short static query (<= 64)
// or a block_q that is not a multiple of 128 takes 64-row CTAs of 16-row
// warps. MEASURED on H100 (B4 H16 S4096 D128 bf16, ms): dense 1.674 (16-row
// warps x 8: 2.032; FA2 1.534, cuDNN 0.813), causal 0.975 (64-key tiles
// 1.023, 64-row CTAs 1.003; FA2 0.902, cuDNN 0.477); D64 f16 dense 0.904
// (FA2 0.912).
//
// A target description with an attention tile (`tiles=attention:QxKV`,
// docs/Design.md) replaces these choices for every op the kernel covers:
// Q-row CTAs of 4 warps (Q 64 or 128: warps of Q / 64 m-tiles) and KV-key
// tiles (a multiple of 16, at most 128). A tile the kernel cannot build, or
// one that needs more shared memory than the chip has, is an error at the
// op.
//
// On sm_90a, the dense forms (causal, scale, window and softcap) with more
// than 64 query rows and no requested tile take the wgmma kernel
// (HopperAttentionKernel.h; selectHopper) where the TMA can read q, k and
// v, checked at run time, the flash kernel otherwise. Its grid is linear,
// query tiles fastest, so the CTAs that run together share one head's k and
// v in L2; two consumer warpgroups ping-pong between softmax and wgmma.
// MEASURED on H100, 2026-12-05 (B4 H16 S4096 D128 bf16): dense 0.864 ms,
// causal 0.505 ms (cuDNN 0.820, 0.480; FA2 1.714, 0.902); docs/perf.md.
//
// block_sparse_attention on sm_90a takes the same wgmma kernel where
// block_q is a multiple of 128 (a CTA in one query block) and one of its
// key tile sizes divides block_k: the kernel compacts the CTA's visible key
// tiles into a list in shared memory first, whose bytes the launch adds
// (the flash kernel runs where the total passes the chip's limit).
//
// loom.attention with sinks, per-head windows or sink logits (issue 16's
// serving forms) on sm_90a takes the same wgmma kernel
// (selectHopperOnly, rewriteHopperOrGeneric): the kernel visits only the
// sink tiles and the window's tiles, masks elements only on the tiles that
// need it, and starts each row's running max and sum from its head's sink
// logit. Where the TMA cannot read the operands (checked at run time) the
// op's generic lowering runs instead, writing into the same buffers.
//
// Dv != D (both static multiples of 16 from 64 to 256, e.g. 192 / 128) on
// sm_90a takes the wgmma kernel with V and O in their own panels
// (selectHopperOnly, rewriteHopperOrGeneric: the generic path where the TMA
// cannot read the operands).
//
// Few query rows per kv head (decode) take the split-KV kernels instead
// (DecodeAttention.cpp), f32 their chunked form. Everything else (head dims
// that are not multiples of 16, Dv != D off sm_90a or outside 64..256,
// block sizes that are not multiples of 16) is left alone and takes the
// generic path (correct, with the scores materialized).

#include "loom/GPU/Kernels/AttentionKernel.h"
#include "loom/GPU/Kernels/HopperAttentionKernel.h"
#include "Launch.h"
#include "StridedOperands.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <optional>

using namespace mlir;

namespace {

/// The operands and attributes common to both attention ops.
struct AttentionOperands {
  Value q, k, v, layout;
  bool causal = false;
  std::optional<APFloat> scale, softcap;
  std::optional<uint64_t> window;
  uint64_t blockQ = 0, blockK = 0;
  /// Sink, per-head windows or sink logits (or a window on the block-sparse
  /// op): the flash kernel does not implement them; on sm_90a the wgmma
  /// kernel does (selectHopperOnly), elsewhere the op takes the generic
  /// path.
  bool serving = false;
};

/// The scale as the f32 the kernels take: the op's, else 1/sqrt(D).
float scaleOf(const AttentionOperands &a, int64_t headDim) {
  return a.scale ? a.scale->convertToFloat()
                 : static_cast<float>(1.0 / std::sqrt(double(headDim)));
}

AttentionOperands operandsOf(Operation *op) {
  AttentionOperands a;
  if (auto att = dyn_cast<loom::AttentionOp>(op)) {
    a.q = att.getQ();
    a.k = att.getK();
    a.v = att.getV();
    a.causal = att.getCausal();
    a.scale = att.getScale();
    a.softcap = att.getSoftcap();
    if (std::optional<int64_t> w = att.getUniformWindow())
      a.window = static_cast<uint64_t>(*w);
    a.serving = att.hasServingMasks();
    return a;
  }
  auto bsa = cast<loom::BlockSparseAttentionOp>(op);
  a.q = bsa.getQ();
  a.k = bsa.getK();
  a.v = bsa.getV();
  a.layout = bsa.getLayout();
  a.causal = bsa.getCausal();
  a.scale = bsa.getScale();
  a.softcap = bsa.getSoftcap();
  a.blockQ = bsa.getBlockQ();
  a.blockK = bsa.getBlockK();
  // The sparse kernels take no window: a windowed block-sparse op runs on
  // the generic path, as do the serving masks.
  a.serving = bsa.hasServingMasks() || bsa.getWindowAttr();
  return a;
}

/// The kernel for `op` without its CTA shape (warps, warpTiles, blockN), or
/// nothing when the op is outside the kernel's reach. With `anyValueDim`
/// the head dim of v and the result may differ from D (a static multiple of
/// 16 up to 256): the config then serves only to select the wgmma kernel
/// (selectHopperOnly), which takes Dv on its own; the flash kernel
/// takes D = Dv only.
std::optional<loom::gpu::AttentionKernelConfig>
selectKernel(Operation *op, const AttentionOperands &a,
             bool anyValueDim = false) {
  auto qType = dyn_cast<RankedTensorType>(a.q.getType());
  auto kType = dyn_cast<RankedTensorType>(a.k.getType());
  auto vType = dyn_cast<RankedTensorType>(a.v.getType());
  auto rType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!qType || !kType || !vType || !rType || a.serving)
    return std::nullopt;
  for (RankedTensorType t : {qType, kType, vType, rType})
    if (t.getRank() != 4)
      return std::nullopt;
  Type element = qType.getElementType();
  if (!element.isBF16() && !element.isF16())
    return std::nullopt;
  for (RankedTensorType t : {kType, vType, rType})
    if (t.getElementType() != element)
      return std::nullopt;
  // D = Dv, static, a multiple of the mma's 16-wide k step, up to 256 (the
  // accumulators of a 16-row m-tile of a 256-wide head are 128 registers a
  // thread).
  int64_t d = qType.getDimSize(3);
  if (ShapedType::isDynamic(d) || d < 16 || d > 256 || d % 16 != 0)
    return std::nullopt;
  if (kType.getDimSize(3) != d || rType.getDimSize(3) != vType.getDimSize(3))
    return std::nullopt;
  int64_t dv = vType.getDimSize(3);
  if (dv != d && (!anyValueDim || ShapedType::isDynamic(dv) || dv < 16 ||
                  dv > 256 || dv % 16 != 0))
    return std::nullopt;
  if (a.window && (!a.causal || *a.window == 0 ||
                   *a.window > static_cast<uint64_t>(INT64_MAX)))
    return std::nullopt;

  loom::gpu::AttentionKernelConfig c;
  c.elementType = element.isBF16() ? "bf16" : "f16";
  c.headDim = d;
  c.causal = a.causal;
  c.window = a.window.has_value();
  c.softcap = a.softcap.has_value();
  // scale * log2(e) folds into one fma per score when the scale (as the f32
  // the kernel gets) is positive and normal, so that it maps -inf to -inf.
  float scale = scaleOf(a, d);
  c.positiveScale = !c.softcap && std::isnormal(scale) && scale > 0;
  if (a.layout) {
    auto lType = dyn_cast<RankedTensorType>(a.layout.getType());
    if (!lType || lType.getRank() != 4 || !lType.getElementType().isInteger(1))
      return std::nullopt;
    if (a.blockQ == 0 || a.blockK == 0)
      return std::nullopt;
    c.sparse = true;
  }
  return c;
}

/// The chip's own CTA shape for `c`; false when the op is outside its
/// reach (block sizes of a block-sparse layout, shared memory).
bool chooseDefaultTile(const AttentionOperands &a,
                       const loom::gpu::Target &target,
                       loom::gpu::AttentionKernelConfig &c) {
  // 128-row CTAs of 4 warps owning 32 rows each: every K/V fragment a warp
  // reads from shared memory feeds 4 mma.sync instead of 2 (16-row warps are
  // bound by shared-memory bandwidth; see MEASURED above). A short
  // static query length (decode) takes 64-row CTAs of 4 warps x 16 rows,
  // whose threads share the copies of each key/value tile.
  auto qType = cast<RankedTensorType>(a.q.getType());
  bool shortQuery = !qType.isDynamicDim(2) && qType.getDimSize(2) <= 64;
  c.warps = 4;
  // Heads wider than 128: one m-tile a warp (two would need 256 accumulator
  // registers a thread).
  c.warpTiles = shortQuery || c.headDim > 128 ? 1 : 2;
  // With causal, 32-key tiles: less work is masked away on the diagonal and
  // the kernel needs fewer registers (MEASURED: 0.975 vs 1.023 ms).
  c.blockN = a.causal && !a.layout ? 32 : 64;
  if (c.sparse) {
    // A CTA must lie in one query block and a key tile in one key block.
    // Blocks of 16 or 32 (rows or keys) take CTAs of 1 or 2 warps of 16
    // rows and key tiles of 16 or 32.
    if (a.blockQ % 16 != 0 || a.blockK % 16 != 0)
      return false;
    while (a.blockK % c.blockN != 0)
      c.blockN /= 2;
    if (a.blockQ % 64 != 0) {
      c.warpTiles = 1;
      c.warps = a.blockQ % 32 == 0 ? 2 : 1;
    } else if (a.blockQ % c.blockM() != 0) {
      c.warpTiles = 1; // 64-row CTAs
    }
  }
  // Wide heads on chips with less shared memory (D 256 on sm_80): halve
  // the key/value tiles until the stages fit (a sparse key block stays a
  // multiple of them).
  while (c.sharedMemoryBytes() > target.sharedMemoryBytes && c.blockN > 16)
    c.blockN /= 2;
  return c.sharedMemoryBytes() <= target.sharedMemoryBytes;
}

/// The CTA shape the target description asks for: blockQ query rows as 4
/// warps of blockQ / 64 m-tiles each, blockKV keys per key/value tile. A
/// shape the kernel cannot build is an error at `op`.
LogicalResult applyRequestedTile(Operation *op, const AttentionOperands &a,
                                 const loom::gpu::Target &target,
                                 loom::gpu::AttentionKernelConfig &c) {
  const loom::AttentionTile &tile = *target.attention;
  std::string why;
  if (tile.blockQ != 64 && tile.blockQ != 128)
    why = "blockQ must be 64 or 128";
  else if (tile.blockKV % 16 != 0 || tile.blockKV > 128)
    why = "blockKV must be a multiple of 16, at most 128";
  else if (c.sparse && (a.blockQ % tile.blockQ || a.blockK % tile.blockKV))
    why = "the block-sparse layout's blocks (block_q " +
          std::to_string(a.blockQ) + ", block_k " + std::to_string(a.blockK) +
          ") must be multiples of the tile";
  c.warps = 4;
  c.warpTiles = tile.blockQ / 64;
  c.blockN = tile.blockKV;
  return loom::gpu::checkTile(op, target, loom::toString(tile), why,
                              why.empty() ? c.sharedMemoryBytes() : 0);
}

using loom::gpu::indexConst;

/// The wgmma kernel for an op that the flash kernel `c` covers, on a chip
/// with wgmma (sm_90a); nothing where it does not apply: block-sparse,
/// window and softcap forms, a requested tile, RoPE fused in a group, short
/// static queries (a 128-row CTA would be mostly empty), or too little
/// shared memory. The flash kernel stays the fallback at run time for
/// operands the TMA cannot read (misaligned addresses or strides).
std::optional<loom::gpu::HopperAttentionConfig>
selectHopper(const AttentionOperands &a,
             const loom::gpu::AttentionKernelConfig &c,
             const loom::gpu::Target &target) {
  if (!target.hasWgmma() || !target.hasTma() || target.attention ||
      a.serving || c.ropeQ || c.ropeK)
    return std::nullopt;
  auto qType = cast<RankedTensorType>(a.q.getType());
  if (!qType.isDynamicDim(2) && qType.getDimSize(2) <= 64)
    return std::nullopt;
  loom::gpu::HopperAttentionConfig h;
  h.elementType = c.elementType;
  h.headDim = c.headDim;
  int64_t valueDim = cast<RankedTensorType>(a.v.getType()).getDimSize(3);
  h.valueDim = valueDim == c.headDim ? 0 : valueDim;
  h.causal = c.causal;
  h.positiveScale = c.positiveScale;
  h.lse = c.lse;
  h.strided = c.strided;
  h.softcap = c.softcap;
  if (c.window)
    h.windows = {static_cast<int64_t>(*a.window)};
  // Block-sparse: a CTA's 128 rows must lie in one query block and a key
  // tile in one key block.
  h.sparse = c.sparse;
  if (c.sparse && a.blockQ % h.blockM() != 0)
    return std::nullopt;
  // The first key tile of these where S, O and P fit the consumers' 240
  // registers and the stages the shared memory
  // (HopperAttentionConfig::check): 128 keys up to D 128; 192 for D 64 not
  // causal, so that each tile's softmax and barriers are spread over more
  // of the short products (as FlashAttention-3 does; causal keeps 128, less
  // masked work on the diagonal); 80 where a side is 256 wide (64 for D
  // 192). MEASURED on an H100, 2026-12-06, B4 H16 S4096 not causal, same
  // call: D 64 0.680 / 0.670 ms with 128-key tiles, 0.652 / 0.649 with 192
  // (cuDNN 0.569); D 256 1.863 / 1.890 with 64, 1.716 / 1.657 with 80
  // (cuDNN 1.529).
  h.stages = 2;
  SmallVector<int64_t> tiles = {128, 64};
  if (h.paddedDim() <= 64 && h.paddedValueDim() <= 64 && !c.causal)
    tiles = {192, 128, 64};
  else if (h.paddedDim() == 256 || h.paddedValueDim() == 256)
    tiles = {128, 80, 64};
  for (int64_t blockN : tiles) {
    h.blockN = blockN;
    if (c.sparse && a.blockK % blockN != 0)
      continue;
    if (h.check().empty() &&
        h.sharedMemoryBytes() <= target.sharedMemoryBytes)
      return h;
  }
  return std::nullopt;
}

/// The tensor map of the [B, H, S, D] buffer `buffer` (a strided view
/// included) for boxes of [1, 1, rows, 64]: the runtime's
/// loomCudaTensorMap4D, 128-byte swizzle, zero fill.
Value tensorMap4D(OpBuilder &b, Location loc, ModuleOp module, Value buffer,
                  int64_t rows, const std::string &elementType) {
  auto constI64 = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  };
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value basePtr = memref::ExtractAlignedPointerAsIndexOp::create(
      b, loc, meta.getBaseBuffer());
  Value byteOffset = arith::MulIOp::create(b, loc, meta.getOffset(),
                                           indexConst(b, loc, 2));
  SmallVector<Value> operands{
      arith::AddIOp::create(b, loc, basePtr, byteOffset)};
  llvm::append_range(operands, meta.getSizes());
  llvm::append_range(operands, meta.getStrides().drop_back());
  int64_t dataType = elementType == "bf16" ? 9 : 6;
  // 128-byte swizzle (3), 256-byte L2 promotion (3), zero fill (0).
  operands.append({constI64(dataType), constI64(2), constI64(rows),
                   constI64(64), constI64(3), constI64(3), constI64(0)});
  return loom::gpu::callTensorMapEncoder(b, loc, module, "loomCudaTensorMap4D",
                                         operands);
}

/// True (i1) when the TMA can read `buffers` ([B, H, S, D] views of 16-bit
/// elements): 16-byte aligned start and strides, and no empty dimension (a
/// tensor map cannot describe one).
Value tmaCanRead(OpBuilder &b, Location loc, ValueRange buffers) {
  Value ok = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  Value zero = indexConst(b, loc, 0);
  auto andWith = [&](Value cond) {
    ok = arith::AndIOp::create(b, loc, ok, cond);
  };
  auto multipleOf = [&](Value v, int64_t d) {
    Value r = arith::RemUIOp::create(b, loc, v, indexConst(b, loc, d));
    andWith(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, r, zero));
  };
  for (Value buffer : buffers) {
    auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
    Value basePtr = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, meta.getBaseBuffer());
    Value byteOffset = arith::MulIOp::create(b, loc, meta.getOffset(),
                                             indexConst(b, loc, 2));
    multipleOf(arith::AddIOp::create(b, loc, basePtr, byteOffset), 16);
    for (Value stride : meta.getStrides().drop_back())
      multipleOf(stride, 8);
    for (Value size : meta.getSizes())
      andWith(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, size,
                                    zero));
  }
  return ok;
}

using loom::gpu::dim;
using loom::gpu::indexConst;
using loom::gpu::isStatic;
using loom::gpu::OperandChain;
/// Launches the wgmma kernel `kernel` of `h` on q, k, v and o (buffers the
/// TMA can read) with `extra` after the tensor maps and buffers (the scale,
/// the softcap, the sink logits, the lse buffer, as its signature orders
/// them): one linear grid, query tiles fastest (HopperAttentionKernel.h).
void launchWgmma(OpBuilder &b, Location loc, ModuleOp module,
                 SymbolRefAttr kernel,
                 const loom::gpu::HopperAttentionConfig &h, Value qv, Value kv,
                 Value vv, Value ov, ValueRange extra, Value batch,
                 Value heads, Value sq, Value smemBytes = {}) {
  SmallVector<Value> args{
      tensorMap4D(b, loc, module, qv, h.blockM(), h.elementType),
      tensorMap4D(b, loc, module, kv, h.blockN, h.elementType),
      tensorMap4D(b, loc, module, vv, h.blockN, h.elementType),
      qv, kv, vv, ov};
  args.append(extra.begin(), extra.end());
  Value one = indexConst(b, loc, 1);
  Value tiles = arith::MaxUIOp::create(
      b, loc, loom::gpu::ceilDiv(b, loc, sq, h.blockM()), one);
  Value heads1 = arith::MaxUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batch, heads), one);
  Value grid = arith::MulIOp::create(b, loc, heads1, tiles);
  // Static, or (block-sparse) the rings plus the visible-tile list.
  Value smem =
      smemBytes
          ? arith::IndexCastOp::create(b, loc, b.getI32Type(), smemBytes)
                .getResult()
          : arith::ConstantOp::create(
                b, loc,
                b.getI32IntegerAttr(
                    static_cast<int32_t>(h.sharedMemoryBytes())))
                .getResult();
  mlir::gpu::LaunchFuncOp::create(
      b, loc, kernel, mlir::gpu::KernelDim3{grid, one, one},
      mlir::gpu::KernelDim3{indexConst(b, loc, h.threads()), one, one}, smem,
      args);
}

using loom::gpu::ResultChain;
using loom::gpu::outputView;
using loom::gpu::traceResult;
using loom::gpu::stridedType;
using loom::gpu::traceOperand;
using loom::gpu::viewOf;

/// What a fusion group gives the kernel instead of the op's own tensors:
/// q, k, v and o as strided views of the group's buffers (the layout
/// changes absorbed), the RoPE tables, and the op whose result the launch
/// replaces (the group's last layout change), with the buffer it reads.
struct FusedViews {
  Value q, k, v, o, out;
  SmallVector<Value> ropeTables; // cos, sin of q, then of k
  Operation *replaced = nullptr;
};

LogicalResult
rewrite(Operation *op, const AttentionOperands &a,
        const loom::gpu::AttentionKernelConfig &c, ModuleOp module,
        const FusedViews *views = nullptr,
        const std::optional<loom::gpu::HopperAttentionConfig> &hopper = {},
        int64_t sharedMemoryLimit = 0) {
  Location loc = op->getLoc();
  OpBuilder b(op);
  auto rType = cast<RankedTensorType>(op->getResult(0).getType());

  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildAttentionKernel(module, loc, c);
  if (failed(kernel))
    return failure();

  // Result [B, Hq, Sq, D]: its dynamic sizes are those of q.
  // (Of the view of q in a fusion group, whose tensors are about to go.)
  auto qDim = [&](int64_t d) -> Value {
    if (views)
      return b.createOrFold<memref::DimOp>(loc, views->q, d);
    return dim(b, loc, a.q, d);
  };
  Value sizes[3] = {qDim(0), qDim(1), qDim(2)};
  SmallVector<Value> dynSizes;
  for (int64_t i = 0; i < 3; ++i)
    if (rType.isDynamicDim(i))
      dynSizes.push_back(sizes[i]);
  Value batch = sizes[0], heads = sizes[1], sq = sizes[2];

  SmallVector<Value> args;
  Value out;
  if (views) {
    args = {views->q, views->k, views->v, views->o};
    out = views->out;
  } else {
    args = {loom::gpu::bufferOf(b, loc, a.q), loom::gpu::bufferOf(b, loc, a.k),
            loom::gpu::bufferOf(b, loc, a.v)};
    out = loom::gpu::allocBuffer(b, loc, rType, dynSizes);
    args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  }
  if (c.sparse) {
    args.push_back(loom::gpu::bufferOf(b, loc, a.layout));
    args.push_back(indexConst(b, loc, static_cast<int64_t>(a.blockQ)));
    args.push_back(indexConst(b, loc, static_cast<int64_t>(a.blockK)));
  }
  Value scaleValue = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(scaleOf(a, c.headDim)));
  args.push_back(scaleValue);
  Value softcapValue;
  if (c.softcap) {
    softcapValue = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(a.softcap->convertToFloat()));
    args.push_back(softcapValue);
  }
  if (c.window)
    args.push_back(indexConst(b, loc, static_cast<int64_t>(*a.window)));
  if (views)
    args.append(views->ropeTables);
  // The log-sum-exp [B, Hq, Sq] f32 (not in fusion groups: their rewrite
  // declines the two-result form).
  SmallVector<Value, 1> moreOuts;
  if (c.lse) {
    auto lseType = cast<RankedTensorType>(op->getResult(1).getType());
    SmallVector<Value> lseSizes;
    for (int64_t i = 0; i < 3; ++i)
      if (lseType.isDynamicDim(i))
        lseSizes.push_back(sizes[i]);
    Value lse = loom::gpu::allocBuffer(b, loc, lseType, lseSizes);
    args.push_back(loom::gpu::dynamicBuffer(b, loc, lse));
    moreOuts.push_back(lse);
  }

  // Grid (max(B * Hq, 1), max(ceil(Sq / blockM), 1), 1): never empty (a CTA
  // without a (b, h) touches no memory), so no launch needs a guard.
  auto launchFlash = [&] {
    loom::gpu::launchPerHeadGrid(b, loc, *kernel, batch, heads, sq,
                                 c.blockM(), c.threads(),
                                 c.sharedMemoryBytes(), args);
  };
  if (hopper) {
    // The wgmma kernel where the TMA can read q, k and v, else the flash
    // kernel.
    FailureOr<SymbolRefAttr> wgmma =
        loom::gpu::buildHopperAttentionKernel(module, loc, *hopper);
    if (failed(wgmma))
      return failure();
    Value qv = args[0], kv = args[1], vv = args[2], ov = args[3];
    Value ok = tmaCanRead(b, loc, {qv, kv, vv});
    // Block-sparse: the list of visible key tiles needs shared memory by
    // Skv; where the chip has too little, the flash kernel runs.
    Value smemBytes;
    if (hopper->sparse) {
      smemBytes = indexConst(b, loc, hopper->sharedMemoryBytes());
      Value keyTiles = loom::gpu::ceilDiv(
          b, loc, memref::DimOp::create(b, loc, kv, 2), hopper->blockN);
      Value list = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, keyTiles, indexConst(b, loc, 4)),
          indexConst(b, loc, 4));
      smemBytes = arith::AddIOp::create(b, loc, smemBytes, list);
      Value fits = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ule, smemBytes,
          indexConst(b, loc, sharedMemoryLimit));
      ok = arith::AndIOp::create(b, loc, ok, fits);
    }
    auto choice = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&choice.getThenRegion().front());
    SmallVector<Value> extra{scaleValue};
    if (hopper->softcap)
      extra.push_back(softcapValue);
    if (hopper->lse)
      extra.push_back(args.back());
    if (hopper->sparse)
      extra.append({args[4], args[5], args[6]}); // layout, block_q, block_k
    launchWgmma(b, loc, module, *wgmma, *hopper, qv, kv, vv, ov, extra, batch,
                heads, sq, smemBytes);
    b.setInsertionPointToStart(&choice.getElseRegion().front());
    launchFlash();
  } else {
    launchFlash();
  }
  loom::gpu::replaceByOutputs(b, loc, views ? views->replaced : op, out,
                              moreOuts);
  return success();
}

/// The kernel configuration of `op`: its CTA shape from the target
/// description, else the chip's default; nullopt outside the kernel's
/// reach, failure for a requested tile the kernel cannot build.
FailureOr<std::optional<loom::gpu::AttentionKernelConfig>>
configure(Operation *op, const AttentionOperands &a,
          const loom::gpu::Target &target) {
  std::optional<loom::gpu::AttentionKernelConfig> config = selectKernel(op, a);
  if (!config)
    return config;
  // The form with an lse result: the kernel writes it too.
  config->lse = op->getNumResults() == 2;
  if (target.attention) {
    if (failed(applyRequestedTile(op, a, target, *config)))
      return failure();
  } else if (!chooseDefaultTile(a, target, *config)) {
    return std::optional<loom::gpu::AttentionKernelConfig>();
  }
  return config;
}

/// The wgmma kernel for the forms of loom.attention that the flash kernel
/// does not cover: the serving masks (sink, per-head windows, sink logits)
/// and Dv != D (e.g. 192 / 128). Nothing where the kernel does not apply
/// (the op then takes the generic path).
std::optional<loom::gpu::HopperAttentionConfig>
selectHopperOnly(Operation *op, AttentionOperands a,
                    const loom::gpu::Target &target) {
  auto att = dyn_cast<loom::AttentionOp>(op);
  if (!att)
    return std::nullopt;
  auto qType = cast<RankedTensorType>(att.getQ().getType());
  auto vType = cast<RankedTensorType>(att.getV().getType());
  if (!a.serving && vType.getDimSize(3) == qType.getDimSize(3))
    return std::nullopt;
  a.serving = false;
  std::optional<loom::gpu::AttentionKernelConfig> c =
      selectKernel(op, a, /*anyValueDim=*/true);
  if (!c)
    return std::nullopt;
  c->lse = op->getNumResults() == 2;
  std::optional<loom::gpu::HopperAttentionConfig> h =
      selectHopper(a, *c, target);
  if (!h)
    return std::nullopt;
  loom::gpu::AttentionMasks masks = loom::gpu::attentionMasksOf(att);
  h->windows = std::move(masks.windows);
  h->sink = masks.sink;
  h->sinkLogits = masks.sinkLogits;
  if (!h->check().empty())
    return std::nullopt;
  return h;
}

/// A serving loom.attention (or one with Dv != D) as the wgmma kernel `h`
/// where the TMA can read q, k and v; else (misaligned operands, an empty
/// dimension) a copy of the op, which takes the generic path, writes the
/// same buffers.
LogicalResult
rewriteHopperOrGeneric(Operation *op, const AttentionOperands &a,
                       const loom::gpu::HopperAttentionConfig &h,
                       ModuleOp module) {
  auto att = cast<loom::AttentionOp>(op);
  Location loc = op->getLoc();
  OpBuilder b(op);
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildHopperAttentionKernel(module, loc, h);
  if (failed(kernel))
    return failure();
  Value sizes[3] = {dim(b, loc, a.q, 0), dim(b, loc, a.q, 1),
                    dim(b, loc, a.q, 2)};
  auto allocFor = [&](unsigned result) {
    auto type = cast<RankedTensorType>(op->getResult(result).getType());
    SmallVector<Value> dyn;
    for (int64_t i = 0; i < 3; ++i)
      if (type.isDynamicDim(i))
        dyn.push_back(sizes[i]);
    return loom::gpu::allocBuffer(b, loc, type, dyn);
  };
  SmallVector<Value> outs{allocFor(0)};
  if (h.lse)
    outs.push_back(allocFor(1));
  Value qv = loom::gpu::bufferOf(b, loc, a.q),
        kv = loom::gpu::bufferOf(b, loc, a.k),
        vv = loom::gpu::bufferOf(b, loc, a.v);
  Value ok = tmaCanRead(b, loc, {qv, kv, vv});
  auto choice = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&choice.getThenRegion().front());
    SmallVector<Value> extra{arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(scaleOf(a, h.headDim)))};
    if (h.softcap)
      extra.push_back(arith::ConstantOp::create(
          b, loc, b.getF32FloatAttr(a.softcap->convertToFloat())));
    if (h.sinkLogits)
      extra.push_back(loom::gpu::bufferOf(b, loc, att.getSinkLogits()));
    if (h.lse)
      extra.push_back(loom::gpu::dynamicBuffer(b, loc, outs[1]));
    launchWgmma(b, loc, module, *kernel, h, qv, kv, vv,
                loom::gpu::dynamicBuffer(b, loc, outs[0]), extra, sizes[0],
                sizes[1], sizes[2]);

    b.setInsertionPointToStart(&choice.getElseRegion().front());
    Operation *generic = b.clone(*op);
    for (auto [result, out] : llvm::zip(generic->getResults(), outs)) {
      auto copy = bufferization::MaterializeInDestinationOp::create(
          b, loc, result, out);
      copy.setRestrict(true);
      copy.setWritable(true);
    }
  }
  loom::gpu::replaceByOutputs(b, loc, op, outs[0],
                              ValueRange(outs).drop_front());
  return success();
}

int64_t ceilDivConst(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace

LogicalResult loom::rewriteAttentionOps(ModuleOp module,
                                        const gpu::Target &target) {
  SmallVector<Operation *> ops;
  SmallVector<loom::PagedAttentionOp> paged;
  module.walk([&](Operation *op) {
    if (!op->getParentOfType<func::FuncOp>())
      return;
    if (isa<loom::AttentionOp, loom::BlockSparseAttentionOp>(op))
      ops.push_back(op);
    else if (auto p = dyn_cast<loom::PagedAttentionOp>(op))
      paged.push_back(p);
  });
  // Paged caches: the split-KV decode kernels in their paged form (a CTA
  // per token); the generic path where they do not apply.
  for (loom::PagedAttentionOp op : paged)
    if (failed(gpu::rewritePagedAttention(op, target)))
      return failure();
  for (Operation *op : ops) {
    // Few query rows per kv head: the split-KV decode kernels.
    FailureOr<bool> decode = gpu::rewriteDecodeAttention(op, target);
    if (failed(decode))
      return failure();
    if (*decode)
      continue;
    AttentionOperands a = operandsOf(op);
    FailureOr<std::optional<gpu::AttentionKernelConfig>> config =
        configure(op, a, target);
    if (failed(config))
      return failure();
    if (!*config) {
      // The serving forms on sm_90a: the wgmma kernel; what the tensor-core
      // kernels do not take, the chunked SIMT kernel; else the generic path.
      if (std::optional<gpu::HopperAttentionConfig> h =
              selectHopperOnly(op, a, target)) {
        if (failed(rewriteHopperOrGeneric(op, a, *h, module)))
          return failure();
      } else if (auto att = dyn_cast<loom::AttentionOp>(op)) {
        if (failed(gpu::rewriteChunkedAttention(att, target)))
          return failure();
      }
      continue;
    }
    if (failed(rewrite(op, a, **config, module, /*views=*/nullptr,
                       selectHopper(a, **config, target),
                       target.sharedMemoryBytes)))
      return failure();
  }
  return success();
}

FailureOr<bool> loom::gpu::rewriteAttentionGroup(Operation *op,
                                                 const Target &target) {
  // The form with an lse result runs op by op (rewriteAttentionOps).
  if (!isa<loom::AttentionOp, loom::BlockSparseAttentionOp>(op) ||
      op->getNumResults() != 1)
    return false;
  AttentionOperands a = operandsOf(op);
  FailureOr<std::optional<AttentionKernelConfig>> config =
      configure(op, a, target);
  if (failed(config))
    return failure();
  if (!*config)
    return false;
  AttentionKernelConfig c = **config;
  // Every CTA rotates each K tile it visits, so K's RoPE is fused only
  // where few CTAs share a kv head (query tiles x query heads per kv head
  // <= 8). MEASURED: H100, the long-context block (16 query tiles x GQA 4):
  // 27.6 us fused (tables staged in shared memory) against 20.1 + 2.1 us
  // for the separate RoPE; H200, the transformers Llama layer (S 2048, 16
  // query tiles x GQA 4, D 128): the fused attention took 0.148 ms of the
  // layer's 0.468.
  auto qType = cast<RankedTensorType>(a.q.getType());
  auto kType = cast<RankedTensorType>(a.k.getType());
  int64_t group =
      kType.getDimSize(1) ? qType.getDimSize(1) / kType.getDimSize(1) : 1;
  bool fuseRopeK =
      ceilDivConst(qType.getDimSize(2), c.blockM()) * std::max<int64_t>(group, 1) <= 8;
  std::optional<OperandChain> q = traceOperand(a.q, true),
                              k = traceOperand(a.k, fuseRopeK),
                              v = traceOperand(a.v, false);
  // On sm_90a the wgmma kernel reads the group's layout changes in place
  // but does not rotate: a RoPE stays a kernel of its own there (the
  // strided RoPE kernel of Rows.cpp, which reads q's or k's layout changes
  // in place). That costs a launch and a pass over q and k, worth it where
  // the attention's work
  // is large: at least 2^32 multiply-adds (B Hq Sq Skv D, static sizes;
  // dynamic ones count as large). Smaller groups keep the flash kernel with
  // RoPE fused.
  loom::gpu::AttentionKernelConfig plainConfig = c;
  plainConfig.strided = true;
  bool wgmma = selectHopper(a, plainConfig, target).has_value();
  if (wgmma && q && k && (q->rope || k->rope)) {
    auto vType = cast<RankedTensorType>(a.v.getType());
    double work = 1;
    for (int64_t d : {qType.getDimSize(0), qType.getDimSize(1),
                      qType.getDimSize(2), kType.getDimSize(2),
                      vType.getDimSize(3)})
      work *= ShapedType::isDynamic(d) ? double(1 << 16) : double(d);
    wgmma = work >= 4294967296.0;
  }
  if (wgmma) {
    q = traceOperand(a.q, false);
    k = traceOperand(a.k, false);
  }
  std::optional<ResultChain> o = traceResult(op);
  if (!q || !k || !v || !o)
    return false;
  // A group without RoPE or layout changes around a decode-sized op: the
  // split-KV decode kernels, op by op, read the cache once per kv head.
  auto plain = [](const OperandChain &ch) {
    return !ch.expand && !ch.transpose && !ch.rope;
  };
  if (plain(*q) && plain(*k) && plain(*v) && !o->transpose && !o->collapse &&
      decodeAttentionApplies(op, target))
    return false;
  // One table type and rotation for both RoPEs.
  loom::RopeOp ropes[2] = {q->rope, k->rope};
  auto tableType = [](loom::RopeOp rope) {
    return getElementTypeOrSelf(rope.getCos().getType());
  };
  if (ropes[0] && ropes[1] &&
      (ropes[0].getStyle() != ropes[1].getStyle() ||
       tableType(ropes[0]) != tableType(ropes[1])))
    return false;
  for (loom::RopeOp rope : ropes)
    if (rope && tableType(rope) != getElementTypeOrSelf(rope.getSin().getType()))
      return false;
  c.strided = true;
  auto setRopes = [&] {
    c.ropeQ = static_cast<bool>(ropes[0]);
    c.ropeK = static_cast<bool>(ropes[1]);
    for (loom::RopeOp rope : ropes)
      if (rope) {
        c.ropeInterleaved = rope.getStyle() == "interleaved";
        c.ropeType = elementTypeName(
            cast<RankedTensorType>(rope.getCos().getType()).getElementType());
      }
  };
  setRopes();
  if (c.ropeType != "f32" && c.ropeType != "bf16" && c.ropeType != "f16")
    return false;
  // K's cos and sin rows staged beside the tile may not fit in the block's
  // shared memory (the tile was checked without them): K's RoPE then stays
  // a separate op, and K is read as it is.
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes && c.ropeK) {
    k = traceOperand(a.k, false);
    if (!k)
      return false;
    ropes[1] = nullptr;
    setRopes();
  }
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return false;

  OpBuilder b(op);
  Location loc = op->getLoc();
  FusedViews views;
  views.q = viewOf(b, loc, *q);
  views.k = viewOf(b, loc, *k);
  views.v = viewOf(b, loc, *v);
  views.replaced = o->last;
  auto outType = cast<RankedTensorType>(o->last->getResult(0).getType());
  views.out = loom::gpu::allocBuffer(b, loc, outType, {});
  views.o = outputView(b, loc, views.out, *o);
  for (loom::RopeOp rope : ropes)
    if (rope) {
      views.ropeTables.push_back(loom::gpu::bufferOf(b, loc, rope.getCos()));
      views.ropeTables.push_back(loom::gpu::bufferOf(b, loc, rope.getSin()));
    }
  if (failed(rewrite(op, a, c, op->getParentOfType<ModuleOp>(), &views,
                     selectHopper(a, c, target), target.sharedMemoryBytes)))
    return failure();
  // The layout changes and RoPEs are dead now, the attention op included
  // (launchPerHead erased the last op of the result's chain).
  loom::gpu::eraseFusedChains(op, *o, {*q, *k, *v});
  return true;
}
