//===- HopperW4A16Kernel.h - W4A16 with the weights in registers -*- C++ -*-===//
//
// Y[M, N] = epilogue(x[M, K] @ dequant(W)[N, K]^T (+ bias[n])) on Hopper
// (sm_90a) for loom.qlinear with bf16 x and i4 weights (their packed bytes
// [N, K/2], two signed nibbles a byte, even k in the low nibble). The
// product is computed transposed, Y^T = W x^T: the weights are the wgmma's
// A operand, dequantized from shared memory straight into its registers
// (Machete's scheme), and x is its B operand, read from shared memory by
// descriptor. See HopperW4A16Kernel.cpp for the schedule.

#ifndef LOOM_GPU_KERNELS_HOPPERW4A16KERNEL_H
#define LOOM_GPU_KERNELS_HOPPERW4A16KERNEL_H

#include "loom/GPU/Builder/Epilogue.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

struct HopperW4A16Config {
  /// The scales' element type ("f32", "bf16", "f16") and the group size: 0
  /// is one scale per weight row (output column), applied to the f32
  /// product; else a multiple of 64, the scale multiplied into the weights
  /// as they are dequantized (the bf16 weight is round(w * round_bf16(s))).
  std::string scaleType = "f32";
  int64_t group = 0;
  /// The bias ("" when absent) and Y ("bf16", "f16", "f32").
  std::string biasType, yType = "bf16";
  /// Applied to the product (after the bias) before the one rounding.
  std::vector<EpilogueStep> epilogue;
  /// The CTA tile: 64 weight rows (output columns) per consumer warpgroup,
  /// `xRows` rows of x (output rows, the wgmma's N: 64, 128 or 256); K in
  /// steps of 64.
  int64_t consumers = 2, xRows = 128, stages = 8;
  /// setmaxnreg budgets of the producer and of each consumer warpgroup.
  int64_t producerRegisters = 40, consumerRegisters = 232;
  /// Horizontal siblings sharing x (QKV with i4 weights): `parts` products,
  /// each its own packed weights, scales, bias and Y [M, N_p]; the
  /// persistent grid walks all their tiles. Siblings take no epilogue.
  int64_t parts = 1;
  /// A gated pair (SwiGLU, GeGLU; parts == 2: gate and up, one Y): each
  /// warp's 16 fragment rows hold 8 output columns of both products, the
  /// gate's weights in rows g and the up projection's in rows g + 8, so a
  /// thread holds gate and up of the same outputs and stores act(gate +
  /// bias_g) * (up + bias_u), then the epilogue.
  std::optional<EpilogueStep::Kind> gate;
  /// Results: one per part, or one for a gated pair.
  int64_t outputs() const { return gate ? 1 : parts; }

  static constexpr int64_t kStepK = 64;
  /// Rows of the packed weight tile (the wgmma's M over the consumers).
  int64_t weightRows() const { return 64 * consumers; }
  /// Output columns of a tile: its weight rows, or half as many of a gated
  /// pair (both products' rows). Also the rows of one packed TMA box.
  int64_t tileColumns() const { return gate ? weightRows() / 2 : weightRows(); }
  int64_t threads() const { return 128 * (consumers + 1); }
  /// One stage: x's tile [xRows][64] bf16 (128-byte rows, swizzled) and the
  /// packed weights [weightRows][32] bytes.
  int64_t xTileBytes() const { return xRows * 128; }
  int64_t packedTileBytes() const { return weightRows() * kStepK / 2; }
  int64_t stageBytes() const { return xTileBytes() + packedTileBytes(); }
  /// Dynamic shared memory: the stages plus 1 KiB to align x's tiles to the
  /// 1024 bytes the 128-byte swizzle repeats over.
  int64_t sharedMemoryBytes() const { return stages * stageBytes() + 1024; }
  /// Empty when the config is valid, else why not.
  std::string check() const;
  /// A name that encodes every choice above.
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments, in order (P = parts):
///   descW_p  !llvm.ptr to the tensor map of each part's packed weights
///            [N_p, K/2] (bytes, box [tileColumns, 32], no swizzle) in
///            global memory
///   descX    the same for x [M, K] (bf16, box [xRows, 64], 128-byte
///            swizzle)
///   x, w_p   memref<?x?xbf16>, memref<?x?xi8>: the buffers the tensor maps
///            describe, unused by the kernel but named so that the launch's
///            memory effects keep them alive and ordered
///   Y_p      memref<?x?xY> [M, N_p] (written; one for a gated pair)
///   K        index
///   scale_p  memref<?xS> [N_p] (group 0) or memref<?x?xS> [N_p,
///            ceil(K/group)]
///   bias_p   memref<?xBias> [N_p]   (with a bias)
///   E_i      memref<?x?xE_i> [M, N] (one per tensor epilogue step)
/// Launch: (G, 1, 1) blocks of (threads(), 1, 1) threads with
/// sharedMemoryBytes() of dynamic shared memory, for any G >= 1 (each CTA
/// takes the output tiles t = blockIdx.x, blockIdx.x + G, ...).
mlir::FailureOr<mlir::SymbolRefAttr>
buildHopperW4A16Kernel(mlir::ModuleOp module, mlir::Location loc,
                       const HopperW4A16Config &c);

/// The inline PTX that turns one byte of packed weights into the bf16 pair
/// of an A fragment register (the even k's weight in the low half): $0 the
/// result, $1 the 32-bit word, $2 the prmt selector (t | t << 8 picks byte
/// t), $3 the bf16 pair (136, 136) (bits 0x43084308), and with
/// `groupScales` $4 the bf16 pair (s, s) it is multiplied by. Exposed so
/// that a test can interpret it for every byte.
std::string w4a16DequantizePtx(bool groupScales);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_HOPPERW4A16KERNEL_H
