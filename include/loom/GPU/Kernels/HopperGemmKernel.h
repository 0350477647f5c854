//===- HopperGemmKernel.h - the warp-specialized wgmma GEMM ------*- C++ -*-===//
//
// Y[M, N] = epilogue(A[M, K] @ B[N, K]^T (+ bias[n])) on Hopper (sm_90a),
// A and B K-major as loom.linear's x and w are. See HopperGemmKernel.cpp for
// the schedule: a producer warpgroup feeding a ring of shared-memory stages
// by TMA, consumer warpgroups multiplying them with wgmma, mbarriers between
// them, persistent CTAs walking the output tiles.

#ifndef LOOM_GPU_KERNELS_HOPPERGEMMKERNEL_H
#define LOOM_GPU_KERNELS_HOPPERGEMMKERNEL_H

#include "loom/GPU/Builder/Epilogue.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

struct HopperGemmConfig {
  /// A and B: "bf16" or "f16" (f32 products), "i8" (W8A8: exact s32
  /// products) or "f8E4M3FN" (FP8: f32 products); the bias ("" when
  /// absent) and Y ("bf16", "f16", "f32").
  std::string abType = "bf16", biasType, yType = "bf16";
  /// qmatmul: the product is scaled by xs[m] * w_scale[n] (f32 arguments)
  /// before the bias.
  bool scaled = false;
  /// Applied to the product (after the bias) before the one rounding.
  std::vector<EpilogueStep> epilogue;
  /// The CTA tile: BM rows (64 per consumer warpgroup) x BN columns, K in
  /// steps of one 128-byte swizzled row per tile row (64 16-bit or 128
  /// 8-bit elements).
  int64_t bm = 128, bn = 256, stages = 4;
  /// Registers a thread of the producer / of a consumer warpgroup keeps
  /// (setmaxnreg), so that the consumers hold BN/2 accumulators each.
  int64_t producerRegisters = 56, consumerRegisters = 224;
  /// Output tiles are walked in groups of `groupM` rows of tiles, column by
  /// column within a group (L2 reuse of A and B).
  int64_t groupM = 16;
  /// Horizontal siblings sharing A (QKV): `parts` products, each its own B,
  /// bias and Y [M, N_p]; the persistent grid walks all their tiles.
  int64_t parts = 1;
  /// A gated pair (SwiGLU, GeGLU; parts == 2): each tile computes both
  /// products, gate and up, with one m64n(2 BN) wgmma over both B tiles
  /// (so BN is at most 128), and stores act(gate + bias_g) * (up + bias_u)
  /// then the epilogue into one Y.
  std::optional<EpilogueStep::Kind> gate;
  /// Results: one per part, or one for a gated pair.
  int64_t outputs() const { return gate ? 1 : parts; }
  /// W4A16 (loom.qlinear with i4 weights, A bf16): "i4" makes B the packed
  /// weights ([N, K/2] bytes, two signed nibbles a byte, even k in the low
  /// nibble), loaded by the TMA as they are and dequantized by the consumers
  /// into a bf16 tile in shared memory before the wgmma reads it; "" (the
  /// default) is B of A's type. One part, no gate.
  std::string bType;
  /// With i4 B: the scales' element type ("f32", "bf16", "f16") and the
  /// group size (0: one scale per column, applied to the f32 product in the
  /// epilogue; else a multiple of blockK(), the scale multiplied into the
  /// weights as they are dequantized, so that the bf16 weight is
  /// round(w * s)).
  std::string scaleType = "f32";
  int64_t group = 0;
  bool packedB() const { return bType == "i4"; }
  /// Bytes of one packed B row per K step (blockK() nibbles).
  int64_t packedRowBytes() const { return blockK() / 2; }
  /// With packed B: the dequantized bf16 tiles [BN][64] the wgmma reads,
  /// one more than the consumer warpgroups (a warpgroup rewrites a tile
  /// only once every consumer's products that read it are done).
  int64_t convertedTiles() const { return packedB() ? consumers() + 1 : 0; }

  static constexpr int64_t kRowBytes = 128;
  int64_t consumers() const { return bm / 64; }
  int64_t threads() const { return 128 * (consumers() + 1); }
  int64_t elementBytes() const {
    return abType == "bf16" || abType == "f16" ? 2 : 1;
  }
  /// K elements per step (one 128-byte row).
  int64_t blockK() const { return kRowBytes / elementBytes(); }
  /// The element type of the shared tiles and tensor maps: 8-bit types
  /// travel as unsigned bytes (the tensor-map lowering knows ui8, not i8 or
  /// the float8 types; wgmma reads the bytes as what they are).
  std::string tileType() const { return elementBytes() == 1 ? "ui8" : abType; }
  /// Bytes of one pipeline stage (an A tile and its B tile, or both B tiles
  /// of a gated pair).
  int64_t stageBytes() const {
    if (packedB())
      return bm * kRowBytes + bn * packedRowBytes();
    return (bm + (gate ? 2 : 1) * bn) * kRowBytes;
  }
  /// Dynamic shared memory: the stages and the dequantized tiles, plus 1 KiB
  /// to align them to the 1024 bytes the 128-byte swizzle repeats over.
  int64_t sharedMemoryBytes() const {
    return stages * stageBytes() + convertedTiles() * bn * kRowBytes + 1024;
  }
  /// Empty when the config is valid, else why not.
  std::string check() const;
  /// A name that encodes every choice above.
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments, in order (P = parts):
///   descA      !llvm.ptr to the tensor map of A [M, K] (box [BM, blockK()],
///              128-byte swizzle) in global memory
///   descB_p    the same for each part's B [N_p, K], box [BN, blockK()]
///              (packed B: the bytes [N, K/2], box [BN, 32], no swizzle)
///   A, B_p     memref<?x?xT> (packed B: memref<?x?xi8>): the buffers the
///              tensor maps describe, unused
///              by the kernel but named so that the launch's memory effects
///              keep them alive and ordered (the maps hold their addresses)
///   Y_p        memref<?x?xY> [M, N_p] (written; one for a gated pair)
///   K          index
///   xs, ws_p   memref<?xf32> [M], [N_p] (scaled: qmatmul's scales)
///   scale      memref<?xS> [N] or memref<?x?xS> [N, K / group] (packed B)
///   bias_p     memref<?xBias> [N_p]   (with a bias)
///   E_i        memref<?x?xE_i> [M, N] (one per tensor epilogue step)
/// Launch: (G, 1, 1) blocks of (threads(), 1, 1) threads with
/// sharedMemoryBytes() of dynamic shared memory, for any G >= 1 (each CTA
/// takes the output tiles t = blockIdx.x, blockIdx.x + G, ...; G = the
/// number of SMs, or the tile count where smaller).
mlir::FailureOr<mlir::SymbolRefAttr>
buildHopperGemmKernel(mlir::ModuleOp module, mlir::Location loc,
                      const HopperGemmConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_HOPPERGEMMKERNEL_H
