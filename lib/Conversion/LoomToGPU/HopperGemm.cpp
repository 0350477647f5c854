//===- HopperGemm.cpp - launching the wgmma GEMM --------------------------===//

#include "HopperGemm.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Tma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

/// The runtime's tensor map (loomCudaTensorMap2D: encoded once per buffer,
/// shape and box, then cached) of the 2-D identity-layout `buffer`: CUDA
/// data type `dataType` of `elementBytes` bytes, boxes of `boxRows` x
/// `boxColumns` elements, `swizzle` (3: 128 bytes, 0: none), 256-byte L2
/// promotion (3), zero fill (0).
Value tensorMap2D(OpBuilder &b, Location loc, ModuleOp module, Value buffer,
                  int64_t dataType, int64_t elementBytes, int64_t boxRows,
                  int64_t boxColumns, int64_t swizzle) {
  Type i64 = b.getI64Type();
  auto asI64 = [&](Value v) -> Value {
    return arith::IndexCastOp::create(b, loc, i64, v);
  };
  auto constI64 = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  };
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value rows = memref::DimOp::create(b, loc, buffer, 0);
  Value cols = asI64(memref::DimOp::create(b, loc, buffer, 1));
  SmallVector<Value> operands{asI64(base),        asI64(rows),
                              cols,               cols,
                              constI64(dataType), constI64(elementBytes),
                              constI64(boxRows),  constI64(boxColumns),
                              constI64(swizzle),  constI64(3),
                              constI64(0)};
  return callTensorMapEncoder(b, loc, module, "loomCudaTensorMap2D", operands);
}

/// Launches `kernel` on a persistent grid of min(tiles, SMs) CTAs (at least
/// one) of `threads` threads with `sharedBytes` of dynamic shared memory.
void launchPersistent(OpBuilder &b, Location loc, SymbolRefAttr kernel,
                      const Target &target, Value tiles, int64_t threads,
                      int64_t sharedBytes, ValueRange args) {
  Value fewer = arith::MinUIOp::create(b, loc, tiles,
                                       indexConst(b, loc, target.smCount));
  Value grid = arith::MaxUIOp::create(b, loc, fewer, indexConst(b, loc, 1));
  Value one = indexConst(b, loc, 1);
  Value smem = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(static_cast<int32_t>(sharedBytes)));
  mlir::gpu::LaunchFuncOp::create(
      b, loc, kernel, mlir::gpu::KernelDim3{grid, one, one},
      mlir::gpu::KernelDim3{indexConst(b, loc, threads), one, one}, smem,
      args);
}

/// After the tensor maps, both wgmma GEMMs take the same operands in the
/// same order: x and the ws themselves (see their headers), the outputs, K,
/// the scales, the biases and the epilogue's tensors.
void appendBuffers(SmallVectorImpl<Value> &args, Value x, ValueRange ws,
                   ValueRange ys, Value k, ValueRange scales, ValueRange biases,
                   ValueRange epilogueTensors) {
  args.push_back(x);
  llvm::append_range(args, ws);
  llvm::append_range(args, ys);
  args.push_back(k);
  llvm::append_range(args, scales);
  llvm::append_range(args, biases);
  llvm::append_range(args, epilogueTensors);
}

/// What both W4A16 kernels on wgmma take: a wgmma target, bf16 x, and a
/// static K (if known) a multiple of 32. Group scales are multiplied into
/// the bf16 weights (round(w * s)): an f32 result would show that rounding,
/// so it keeps the mma.sync kernel's f32 scaling of each group's partial
/// sums.
bool w4a16OnWgmma(const Target &target, StringRef xType, int64_t group,
                  StringRef yType, int64_t staticK) {
  return target.hasWgmma() && target.hasTma() && xType == "bf16" &&
         !(group > 0 && yType == "f32") &&
         (ShapedType::isDynamic(staticK) || staticK % 32 == 0);
}

} // namespace

std::optional<HopperGemmConfig>
hopperGemmConfig(const Target &target, StringRef abType, StringRef biasType,
                 StringRef yType, const std::vector<EpilogueStep> &epilogue,
                 int64_t staticK) {
  if (!target.hasWgmma() || !target.hasTma())
    return std::nullopt;
  if ((abType != "bf16" && abType != "f16" && abType != "i8" &&
       abType != "f8E4M3FN") ||
      (yType != "bf16" && yType != "f16" && yType != "f32"))
    return std::nullopt;
  HopperGemmConfig c;
  c.abType = abType.str();
  c.scaled = abType == "i8" || abType == "f8E4M3FN";
  if (!ShapedType::isDynamic(staticK) &&
      (staticK * c.elementBytes()) % 16 != 0)
    return std::nullopt;
  c.biasType = biasType.str();
  c.yType = yType.str();
  c.epilogue = epilogue;
  // 128 x 256 tiles, 4 stages of 48 KiB: the shape of the best public
  // Hopper GEMMs; where the chip has less shared memory, fewer stages.
  while (c.stages > 2 && c.sharedMemoryBytes() > target.sharedMemoryBytes)
    --c.stages;
  if (!c.check().empty() || c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return std::nullopt;
  return c;
}

std::optional<HopperGemmConfig>
hopperGemmW4A16Config(const Target &target, StringRef xType, StringRef scaleType,
                  int64_t group, StringRef biasType, StringRef yType,
                  const std::vector<EpilogueStep> &epilogue, int64_t staticM,
                  int64_t staticN, int64_t staticK) {
  if (!w4a16OnWgmma(target, xType, group, yType, staticK))
    return std::nullopt;
  HopperGemmConfig c;
  c.abType = "bf16";
  c.bType = "i4";
  c.scaleType = scaleType.str();
  c.group = group;
  c.biasType = biasType.str();
  c.yType = yType.str();
  c.epilogue = epilogue;
  // 128 x 128 tiles (each consumer warpgroup holds 64 f32 accumulators and
  // the registers of the dequantization); 64 rows where 128-row tiles would
  // leave SMs idle (M = 128, N = 8192: 64 tiles of 128 rows, 128 of 64).
  c.bn = 128;
  if (!ShapedType::isDynamic(staticM) && !ShapedType::isDynamic(staticN) &&
      target.smCount > 0 &&
      llvm::divideCeil(staticM, 128) * llvm::divideCeil(staticN, c.bn) <
          target.smCount)
    c.bm = 64;
  else
    c.bm = 128;
  c.stages = c.bm == 64 ? 8 : 6;
  while (c.stages > 2 && c.sharedMemoryBytes() > target.sharedMemoryBytes)
    --c.stages;
  if (!c.check().empty() || c.sharedMemoryBytes() > target.sharedMemoryBytes)
    return std::nullopt;
  return c;
}

std::optional<HopperW4A16Config>
hopperW4A16Config(const Target &target, StringRef xType, StringRef scaleType,
                  int64_t group, StringRef biasType, StringRef yType,
                  const std::vector<EpilogueStep> &epilogue, int64_t staticM,
                  ArrayRef<int64_t> staticNs, int64_t staticK,
                  std::optional<EpilogueStep::Kind> gate, std::string &why) {
  if (!w4a16OnWgmma(target, xType, group, yType, staticK))
    return std::nullopt;
  HopperW4A16Config c;
  c.scaleType = scaleType.str();
  c.group = group;
  c.biasType = biasType.str();
  c.yType = yType.str();
  c.epilogue = epilogue;
  c.gate = gate;
  c.parts = gate ? 2 : static_cast<int64_t>(staticNs.size());
  // The tile (consumers, x rows) whose persistent grid does the least work
  // in its waves: waves x the tile's products, a 64-row x tile counted 1.25
  // times (it dequantizes the weights once per 64 rows of x instead of 128). Two consumers on 128
  // rows of x first (the weights dequantized once for 128 rows, two
  // warpgroups overlapping their dequantization with each other's
  // products); one consumer where that leaves SMs idle (M = 128, N = 8192:
  // 64 tiles of 128 weight rows, 128 of 64). Unknown sizes take the first.
  // Two consumers on 256 rows (ptxas 13.0 assembles them without spills)
  // are not among them until timed on a GPU: `w4a16:2x256` asks for them.
  const std::pair<int64_t, int64_t> shapes[] = {{2, 128}, {1, 128}, {1, 64}};
  auto cost = [&](int64_t consumers, int64_t xRows) {
    int64_t columns = (gate ? 32 : 64) * consumers, tiles = 0;
    for (int64_t n : staticNs)
      tiles += llvm::divideCeil(n, columns) * llvm::divideCeil(staticM, xRows);
    int64_t waves =
        llvm::divideCeil(std::max<int64_t>(tiles, 1), target.smCount);
    return static_cast<double>(waves * columns * xRows) *
           (xRows == 64 ? 1.25 : 1.0);
  };
  std::tie(c.consumers, c.xRows) = shapes[0];
  if (target.w4a16Shape)
    std::tie(c.consumers, c.xRows) = *target.w4a16Shape;
  else if (!ShapedType::isDynamic(staticM) &&
           !llvm::any_of(staticNs, ShapedType::isDynamic) &&
           target.smCount > 0)
    for (auto [consumers, xRows] : shapes)
      if (cost(consumers, xRows) < cost(c.consumers, c.xRows))
        std::tie(c.consumers, c.xRows) = std::pair{consumers, xRows};
  while (c.stages > 2 && c.sharedMemoryBytes() > target.sharedMemoryBytes)
    --c.stages;
  if (std::string bad = c.check(); !bad.empty()) {
    if (target.w4a16Shape)
      why = bad;
    return std::nullopt;
  }
  if (c.sharedMemoryBytes() > target.sharedMemoryBytes) {
    if (target.w4a16Shape)
      why = "two stages need " +
            std::to_string(llvm::divideCeil(c.sharedMemoryBytes(), 1024)) +
            " KiB of shared memory, " + target.chip + " has " +
            std::to_string(target.sharedMemoryBytes / 1024) + " KiB";
    return std::nullopt;
  }
  return c;
}

void chooseHopperTileWidth(HopperGemmConfig &c, const Target &target,
                           int64_t staticM, ArrayRef<int64_t> staticNs) {
  if (c.gate || ShapedType::isDynamic(staticM) || staticNs.empty() ||
      llvm::any_of(staticNs, ShapedType::isDynamic) || target.smCount <= 0)
    return;
  auto cost = [&](int64_t bn) {
    int64_t tiles = 0;
    for (int64_t n : staticNs)
      tiles += llvm::divideCeil(staticM, c.bm) * llvm::divideCeil(n, bn);
    int64_t waves = llvm::divideCeil(std::max<int64_t>(tiles, 1), target.smCount);
    return static_cast<double>(waves) * bn * (bn == 128 ? 1.1 : 1.0);
  };
  c.bn = cost(128) < cost(256) ? 128 : 256;
}

/// K a multiple of `kMultiple` and every buffer 16-byte aligned.
static Value operandsApply(OpBuilder &b, Location loc, int64_t kMultiple,
                           Value k, ValueRange buffers) {
  Value zero = indexConst(b, loc, 0);
  auto multipleOf = [&](Value v, int64_t d) -> Value {
    Value r = arith::RemUIOp::create(b, loc, v, indexConst(b, loc, d));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, r, zero);
  };
  Value ok = multipleOf(k, kMultiple);
  for (Value buffer : buffers) {
    Value ptr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    ok = arith::AndIOp::create(b, loc, ok, multipleOf(ptr, 16));
  }
  return ok;
}

Value hopperGemmApplies(OpBuilder &b, Location loc, const HopperGemmConfig &c,
                        Value k, ValueRange buffers) {
  // Packed i4 B: rows of K / 2 bytes, 16-byte aligned.
  return operandsApply(b, loc, c.packedB() ? 32 : 16 / c.elementBytes(), k,
                       buffers);
}

Value hopperW4A16Applies(OpBuilder &b, Location loc, Value k,
                         ValueRange buffers) {
  // The packed rows (K / 2 bytes) 16-byte aligned.
  return operandsApply(b, loc, 32, k, buffers);
}

LogicalResult launchHopperGemm(OpBuilder &b, Location loc, ModuleOp module,
                               const Target &target, const HopperGemmConfig &c,
                               Value x, ValueRange ws, ValueRange ys,
                               ValueRange scales, ValueRange biases,
                               ValueRange epilogueTensors, Value m,
                               ValueRange ns, Value k) {
  FailureOr<SymbolRefAttr> kernel = buildHopperGemmKernel(module, loc, c);
  if (failed(kernel))
    return failure();
  // The tensor maps (tensorMap2D), passed by address: the CUtensorMap data
  // type (8-bit operands as bytes), boxes of [rows, one K step], 128-byte
  // swizzle; packed i4 B: its bytes [N, K/2] (0), boxes of 32 bytes (one K
  // step) without swizzle.
  int64_t dataType = c.abType == "bf16" ? 9 : c.abType == "f16" ? 6 : 0;
  auto descriptor = [&](Value buffer, int64_t rows) {
    return tensorMap2D(b, loc, module, buffer, dataType, c.elementBytes(),
                       rows, c.blockK(), 3);
  };
  SmallVector<Value> args{descriptor(x, c.bm)};
  for (Value w : ws)
    args.push_back(c.packedB() ? tensorMap2D(b, loc, module, w, 0, 1, c.bn,
                                             c.packedRowBytes(), 0)
                               : descriptor(w, c.bn));
  appendBuffers(args, x, ws, ys, k, scales, biases, epilogueTensors);
  // Persistent CTAs: one per SM, or one per tile where there are fewer.
  Value rowTiles = ceilDiv(b, loc, m, c.bm);
  Value tiles = indexConst(b, loc, 0);
  for (Value n : ns) {
    Value partTiles =
        arith::MulIOp::create(b, loc, rowTiles, ceilDiv(b, loc, n, c.bn));
    tiles = arith::AddIOp::create(b, loc, tiles, partTiles);
  }
  launchPersistent(b, loc, *kernel, target, tiles, c.threads(),
                   c.sharedMemoryBytes(), args);
  return success();
}

LogicalResult launchHopperW4A16(OpBuilder &b, Location loc, ModuleOp module,
                                const Target &target,
                                const HopperW4A16Config &c, Value x,
                                ValueRange ws, ValueRange ys, ValueRange scales,
                                ValueRange biases, ValueRange epilogueTensors,
                                Value m, ValueRange ns, Value k) {
  FailureOr<SymbolRefAttr> kernel = buildHopperW4A16Kernel(module, loc, c);
  if (failed(kernel))
    return failure();
  // The packed weights as bytes (0), boxes of [tile columns, 32] without
  // swizzle; x as bf16 (9), boxes of [x rows, 64], 128-byte swizzle.
  SmallVector<Value> args;
  for (Value w : ws)
    args.push_back(tensorMap2D(b, loc, module, w, 0, 1, c.tileColumns(),
                               HopperW4A16Config::kStepK / 2, 0));
  args.push_back(tensorMap2D(b, loc, module, x, 9, 2, c.xRows,
                             HopperW4A16Config::kStepK, 3));
  appendBuffers(args, x, ws, ys, k, scales, biases, epilogueTensors);
  // Persistent CTAs: one per SM, or one per tile where there are fewer.
  Value xTiles = ceilDiv(b, loc, m, c.xRows);
  Value tiles = indexConst(b, loc, 0);
  for (Value n : ns)
    tiles = arith::AddIOp::create(
        b, loc, tiles,
        arith::MulIOp::create(b, loc, xTiles,
                              ceilDiv(b, loc, n, c.tileColumns())));
  launchPersistent(b, loc, *kernel, target, tiles, c.threads(),
                   c.sharedMemoryBytes(), args);
  return success();
}

} // namespace gpu
} // namespace loom

