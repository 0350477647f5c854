//===- GemvKernel.h - Loom's decode-sized (M <= 16) linear kernels -*- C++ -*-===//
//
// A GEMV-style kernel for loom.linear and loom.qlinear when x has at most 16
// rows (decoding): the cost is reading the weights once, so the schedule is
// built around streaming w at full memory bandwidth rather than around
// reusing tiles through shared memory.
//
// Y[M, N] = epilogue(sum_k X[m, k] * W[n, k]), W K-major ([N, K], as `w` is):
//
// - a block owns 8 * TILES output columns and WARPS warps; the warps split K
//   among themselves (warp w takes the 128-wide K blocks w*U .. w*U+U-1,
//   then every WARPS*U-th one), so that a block's columns are read by all its
//   warps at once and enough bytes are in flight even when N is small;
// - lane (g = lane / 4, q = lane % 4) of a warp reads, per K block and n8
//   tile, column g's 32 consecutive weights k = kb*128 + 32q .. +31 with
//   16-byte vector loads (the 4 lanes of a column read one contiguous run of
//   the row; quantized weights through ld.global.nc.L1::no_allocate, so that
//   the stream of weights does not evict x from L1), converts them to
//   bf16/f16 in registers (i4 and f16-x i8 with magic-number bit tricks,
//   exact) and multiplies them on the tensor cores with mma.sync m16n8k16, M
//   padded to 16. The 32 weights are the B fragments of 8 mmas under a
//   permutation of K that the A fragments (x, read from global memory
//   through L1, 16 bytes at a time, rows >= M and k >= K read as 0) follow,
//   so neither operand needs shared memory;
// - group-wise scales (groups a multiple of 128) multiply the f32 partial
//   sum of each K block; per-channel scales and the bias are applied once at
//   the end; the warps' f32 sums are added in shared memory in a fixed order
//   (deterministic) and rounded once to Y's element type.
//
// K must be a multiple of 32 (each lane's run of 32 weights is whole and its
// rows 16-byte aligned); the caller checks that (at run time when K is
// dynamic) and otherwise uses the GEMM kernel's decode tiles.

#ifndef LOOM_GPU_KERNELS_GEMVKERNEL_H
#define LOOM_GPU_KERNELS_GEMVKERNEL_H

#include "loom/GPU/Builder/Epilogue.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

struct GemvKernelConfig {
  /// loom.qlinear (scales) rather than loom.linear.
  bool qlinear = false;
  /// Element types: x ("bf16", "f16"), w (x's type for linear; "i8" or "i4"
  /// for qlinear, i4 packed two per byte with even k in the low nibble),
  /// scales ("f32", "bf16", "f16"), bias ("" when absent; float) and Y
  /// ("f32", "bf16", "f16").
  std::string xType = "bf16", wType = "bf16", scaleType = "f32", biasType,
              yType = "bf16";
  /// qlinear: 0 (per channel) or the group size (a multiple of kBlockK).
  int64_t group = 0;
  /// 1 when M <= 8 is known (rows 8..15 of the mma are skipped), else 2.
  int64_t rowHalves = 2;
  /// Warps per block (splitting K), n8 tiles per block, K blocks per loop
  /// iteration of a warp (loads issued together).
  int64_t warps = 8, tiles = 2, unroll = 2;
  /// Register pipeline depth: 1 loads an iteration's K blocks and then
  /// multiplies them; 2 carries them in registers from the previous
  /// iteration, which issues the next iteration's loads (weights, x and
  /// group scales) before its own products, so that a warp always has
  /// loads in flight.
  int64_t depth = 1;
  /// Applied to the f32 result before its rounding, in order (a fusion
  /// group's epilogue, as in the GEMM kernel); every tensor step adds an
  /// [M, N] argument after y.
  std::vector<EpilogueStep> epilogue;
  /// Weights read with ld.global.nc.L1::no_allocate (inline PTX; the memref
  /// must have an identity layout, as the kernel's arguments do) rather than
  /// plain vector loads.
  bool streamLoads = true;

  /// K elements one warp covers per K block (4 lanes x 32 per column).
  static constexpr int64_t kBlockK = 128;
  /// What K must be a multiple of.
  static constexpr int64_t kAlignK = 32;
  /// Largest M the kernel takes.
  static constexpr int64_t kMaxM = 16;

  /// Sets warps, tiles, unroll and streamLoads to the schedule measured
  /// best for wType (see GemvKernel.cpp); the types must be set first.
  void chooseSchedule();

  /// A name that encodes every parameter, e.g.
  /// loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r2_w8x2_u2_nc
  /// ("_d2" before "_nc" with depth 2).
  std::string kernelName() const;
  int64_t threads() const { return 32 * warps; }
  /// Bytes of the (static) shared buffer of the warps' partial sums.
  int64_t sharedBytes() const { return warps * tiles * 4 * 32 * 4; }
  /// Output columns of one block.
  int64_t columns() const { return 8 * tiles; }
  /// Empty when the parameters make a valid kernel, else why not.
  std::string check() const;
};

/// The kernel of `c` (which must check()) in `module`'s gpu.module
/// @loom_kernels (built on first use). Arguments: x memref<?x?xX>,
/// w memref<?x?xW> (i4: memref<?x?xi8>, K/2 bytes a row), [qlinear: scale
/// memref<?xS> or memref<?x?xS>], [bias memref<?xB>], Y memref<?x?xY>, then
/// one memref<?x?xE> per tensor step of the epilogue. Launched with
/// threads() x 1 x 1 threads and a ceil(N / columns()) x 1 x 1 grid, no
/// dynamic shared memory; requires 1 <= M <= 16 (M <= 8 with rowHalves = 1)
/// and K % 32 == 0.
mlir::FailureOr<mlir::SymbolRefAttr>
buildGemvKernel(mlir::ModuleOp module, mlir::Location loc,
                const GemvKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_GEMVKERNEL_H
