//===- HopperAttentionKernel.h - flash attention on wgmma -------*- C++ -*-===//
//
// Loom's flash-attention forward kernel for sm_90a: TMA copies into
// 128-byte-swizzled shared memory, an mbarrier pipeline fed by a producer
// warpgroup, and two consumer warpgroups that multiply with wgmma (S = Q K^T
// with both operands in shared memory, O += P V with P in registers). See
// lib/GPU/Kernels/HopperAttentionKernel.cpp for the schedule.

#ifndef LOOM_GPU_KERNELS_HOPPERATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_HOPPERATTENTIONKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

/// One instantiation of the wgmma flash-attention kernel.
struct HopperAttentionConfig {
  /// "bf16" or "f16": q, k, v and the result.
  std::string elementType = "bf16";
  /// D = Dv: a multiple of 16 from 64 to 256. Rows sit in shared memory as
  /// whole 64-element panels, paddedDim() wide: the TMA zero-fills the
  /// columns past D of the last panel (the tensor maps are D wide), S = Q
  /// K^T takes only D / 16 k-steps, O = P V is paddedDim() wide and its
  /// columns past D are not stored.
  int64_t headDim = 128;
  /// Dv, the head dim of v and the result when it differs from D (0: D):
  /// a multiple of 16 from 64 to 256, in its own panels
  /// (paddedValueDim()); the scale's default is still 1/sqrt(D).
  int64_t valueDim = 0;
  /// Keys per key/value tile (the N of S = Q K^T's wgmma): a multiple of 16
  /// up to 256.
  int64_t blockN = 128;
  /// Stages of the K/V ring.
  int64_t stages = 2;
  /// Bottom-right aligned causal mask (key tiles past the diagonal of the
  /// CTA's last row are not visited).
  bool causal = false;
  /// The scale is > 0 and normal: the row maxima are taken over raw scores
  /// and the scale folds into one fma per score (AttentionKernelConfig).
  bool positiveScale = false;
  /// Also write each row's natural log-sum-exp to a [B, Hq, Sq] f32
  /// argument, the last one (-inf for a row without visible key).
  bool lse = false;
  /// Sliding window (requires `causal`): empty for none, one value for
  /// every query head, or one per query head (0: no window for that head).
  /// Key j is visible to aligned row i' iff j <= i' and (W = 0 or
  /// j > i' - W or j < sink). Only the sink tiles and the window's tiles
  /// are visited.
  std::vector<int64_t> windows;
  /// Keys j < sink are exempt from the window (ignored without one).
  int64_t sink = 0;
  /// Scores s = c * tanh(s / c), c an f32 argument after the scale.
  bool softcap = false;
  /// A [Hq] f32 argument (after the softcap): head h's sink logit joins
  /// every row's softmax denominator (loom.attention's sink_logits).
  bool sinkLogits = false;
  /// q, k, v and o are strided views (unit stride in D only), as in
  /// AttentionKernelConfig: a fusion group's layout changes are read and
  /// written in place (the tensor maps carry the strides).
  bool strided = false;
  /// Block-sparse (loom.block_sparse_attention): key j is visible to row i
  /// only where layout[lb, lh, i / blockQ, j / blockK] is set (lb, lh: 0 for
  /// a broadcast dimension of size 1). blockQ must be a multiple of
  /// blockM() (a CTA lies in one query block) and blockK of blockN (a key
  /// tile in one key block): the launch chooses the kernel only then. Warp
  /// 0 compacts the CTA's visible key tiles into a list in shared memory
  /// (listBytes() past sharedMemoryBytes()) before the pipeline starts;
  /// the producer and the consumers walk that list.
  bool sparse = false;
  /// The consumer warpgroups take turns on the tensor cores (named
  /// barriers): one's softmax runs while the other's products do.
  bool pingPong = true;
  /// setmaxnreg budgets of the producer and the consumer warpgroups.
  int64_t producerRegisters = 24, consumerRegisters = 240;

  /// The scale folds into one fma per score (raw scores, see
  /// positiveScale); not with softcap or sink logits.
  bool folded() const { return positiveScale && !softcap && !sinkLogits; }

  /// Consumer warpgroups, 64 query rows each.
  static constexpr int64_t kConsumers = 2;
  int64_t blockM() const { return 64 * kConsumers; }
  int64_t threads() const { return 128 * (1 + kConsumers); }
  /// Dv (valueDim, or D).
  int64_t vDim() const { return valueDim ? valueDim : headDim; }
  /// D and Dv rounded up to whole 64-element panels.
  int64_t paddedDim() const { return (headDim + 63) / 64 * 64; }
  int64_t paddedValueDim() const { return (vDim() + 63) / 64 * 64; }
  /// 64-element panels of a row of Q or K, and of V (a 128-byte swizzled
  /// row each).
  int64_t panels() const { return paddedDim() / 64; }
  int64_t valuePanels() const { return paddedValueDim() / 64; }
  int64_t elementBytes() const { return 2; }
  int64_t qBytes() const { return blockM() * paddedDim() * elementBytes(); }
  int64_t kTileBytes() const {
    return blockN * paddedDim() * elementBytes();
  }
  int64_t vTileBytes() const {
    return blockN * paddedValueDim() * elementBytes();
  }
  /// Q, the K and V rings, and 1024 bytes to align the base (the dynamic
  /// shared memory is only 16-byte aligned; swizzled tiles need 1024).
  int64_t sharedMemoryBytes() const {
    return 1024 + qBytes() + stages * (kTileBytes() + vTileBytes());
  }
  /// With `sparse`: the bytes of the visible-tile list for `keyTiles` key
  /// tiles (ceil(Skv / blockN)): a count and one i32 a tile, placed after
  /// the rings; the launch adds them to sharedMemoryBytes().
  static int64_t listBytes(int64_t keyTiles) { return 4 * (1 + keyTiles); }
  /// Why the kernel cannot be built ("" if it can).
  std::string check() const;
  /// A name that encodes every choice above.
  std::string kernelName() const;
};

/// The kernel of `config` in `module`'s gpu.module @loom_kernels (built on
/// first use). Its arguments, in order:
///
///   tensor maps of q, k, v (device pointers to CUtensorMaps, encoded by
///   the runtime's loomCudaTensorMap4D with boxes [1, 1, blockM, 64] for q
///   and [1, 1, blockN, 64] for k and v, 128-byte swizzle, zero fill)
///                                       !llvm.ptr
///   q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv] (sizes)
///   o [B, Hq, Sq, Dv] (written)         memref<?x?x?x?xT> (strided<[?, ?,
///                                       ?, 1], offset: ?> with `strided`)
///   scale                               f32
///   softcap c                           f32                 (softcap only)
///   sink logits [Hq]                    memref<?xf32>       (sinkLogits only)
///   lse [B, Hq, Sq]                     memref<?x?x?xf32>   (lse only)
///   layout [Lb, Lh, NQB, NKB], block_q, block_k
///                                       memref<?x?x?x?xi1>, index, index
///                                                           (sparse only)
///
/// Launch: grid (max(B * Hq, 1) * T, 1, 1) with T = max(ceil(Sq / blockM),
/// 1), block (threads, 1, 1), dynamic shared memory sharedMemoryBytes()
/// (plus listBytes(ceil(Skv / blockN)) with `sparse`).
/// Block x is t * T + (T - 1 - tile) for (b, h) = (t / Hq, t % Hq): query
/// tiles fastest, so that resident CTAs share K and V in L2.
mlir::FailureOr<mlir::SymbolRefAttr>
buildHopperAttentionKernel(mlir::ModuleOp module, mlir::Location loc,
                           const HopperAttentionConfig &config);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_HOPPERATTENTIONKERNEL_H
