//===- ChunkedLinearAttentionKernel.h - linear attention on mma --*- C++ -*-===//
//
// The tensor-core kernel of causal loom.linear_attention (see lib/GPU/
// Kernels/ChunkedLinearAttentionKernel.cpp for its schedule): the additive
// rule with no gate, a constant per-head decay, a log-gate per head and
// token or per key dimension and token; the delta rule with each of them;
// an initial and a final state.

#ifndef LOOM_GPU_KERNELS_CHUNKEDLINEARATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_CHUNKEDLINEARATTENTIONKERNEL_H

#include "loom/GPU/Kernels/LinearAttentionKernel.h"

namespace loom {
namespace gpu {

/// One chunked causal linear-attention kernel on mma.sync over q, k
/// [B, H, S, Dk] and v [B, H, S, Dv] (one 16-bit element type) to o
/// [B, H, S, Dv], with the f32 state [B, H, Dk, Dv] optionally read and
/// written.
struct ChunkedLinearAttentionKernelConfig {
  using FeatureMap = LinearAttentionKernelConfig::FeatureMap;
  /// Where the log-gate g_t comes from: none (0), `decay` (-decay[h]), an
  /// operand [B, H, S] (one value per head and token), or an operand
  /// [B, H, S, Dk] (one per key dimension: GLA), of element type `gateType`.
  enum class Gate { None, Decay, PerHead, PerKey };

  /// Warps (threads) per CTA, rows of a chunk.
  static constexpr int64_t kWarps = 4;
  static constexpr int64_t kThreads = 32 * kWarps;
  static constexpr int64_t kChunk = 64;
  /// The delta rule: the row pitches of the inverted 16 x 16 diagonal
  /// blocks (elements; ldmatrix rows in distinct banks) and of L's diagonal
  /// blocks (f32; 8-byte pairs aligned).
  static constexpr int64_t kInversePitch = 24, kLPitch = 20;

  /// Columns of Dv per CTA: 64, or 32 where 64 would leave SMs idle (twice
  /// the CTAs, each computing Q K^T again).
  int64_t slice = 64;
  std::string elementType; // "bf16" or "f16"
  /// Static; a multiple of 8 with paddedDk() <= 128.
  int64_t dk = 0;
  FeatureMap featureMap = FeatureMap::Identity;
  Gate gate = Gate::None;
  /// Gate::Decay: the rates per head (head h uses decay[min(h, size - 1)]).
  llvm::SmallVector<float> decay;
  /// Gate::PerHead, Gate::PerKey: the gate's element type ("f32", "bf16" or
  /// "f16").
  std::string gateType;
  /// The delta rule (beta [B, H, S] of element type `betaType`: "f32",
  /// "bf16" or "f16"), with any gate.
  bool delta = false;
  std::string betaType;
  bool initialState = false, finalState = false;
  /// q, k, v and the result are strided views (unit stride in D), as for
  /// LinearAttentionKernelConfig.
  bool strided = false;

  /// Dk rounded up to a multiple of 64: the depth of the shared tiles (the
  /// columns beyond Dk are zero) and of the state, 16 rows per warp and
  /// m-tile.
  int64_t paddedDk() const { return (dk + 63) / 64 * 64; }
  /// The row pitch, in elements, of the Q and K tiles (8 elements of
  /// padding: ldmatrix rows spread over the banks).
  int64_t pitch() const { return paddedDk() + 8; }
  /// The row pitch of the V tiles and the state's copy: slice + 8.
  int64_t vPitch() const { return slice + 8; }
  /// The row pitch, in elements, of the per-key gate's tiles (raw and
  /// cumulative): paddedDk + 8.
  int64_t gatePitch() const { return paddedDk() + 8; }
  /// Byte offsets of the shared-memory arrays, in the order Qs [2][64][pitch],
  /// Ks [2][64][pitch], Vs [2][64][vPitch], Vw [64][vPitch] (gate per head or
  /// decay only), Ss [paddedDk][vPitch] (of the element type), Gs [64] (f32);
  /// then, for Gate::PerKey only, Gk [64][gatePitch] (f32), Gr
  /// [64][gatePitch] (of gateType), Kh [64][pitch] and Kb [64][pitch] (of the
  /// element type); for the delta rule only, Us [64][vPitch] and Ti
  /// [4][16][kInversePitch] (of the element type), Lf [4][16][kLPitch] and
  /// Bs [64] (f32); the last entry is the total.
  llvm::SmallVector<int64_t> sharedOffsets() const;
  int64_t sharedMemoryBytes() const { return sharedOffsets().back(); }
  /// A name that encodes every choice (the decay rates as their f32 bits).
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments: q, k, v, out memref<?x?x?x?xT> (strided<[?, ?, ?, 1],
/// offset: ?> when `strided`); the gate memref<?x?x?xG> (Gate::PerHead) or
/// memref<?x?x?x?xG> (Gate::PerKey, rows 16-byte aligned); beta
/// memref<?x?x?xB> (the delta rule); the initial state, then the final
/// state, memref<?x?x?x?xf32> (when asked for); scale f32. Launch: a grid
/// of (max(B * H, 1), max(ceil(Dv / slice), 1), 1) CTAs of kThreads threads
/// with sharedMemoryBytes() of dynamic shared memory; a CTA outside the
/// sizes returns at once. Dv must be a multiple of 8 (16-byte rows) and the
/// tensors' rows 16-byte aligned.
mlir::FailureOr<mlir::SymbolRefAttr>
buildChunkedLinearAttentionKernel(mlir::ModuleOp module, mlir::Location loc,
                                  const ChunkedLinearAttentionKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_CHUNKEDLINEARATTENTIONKERNEL_H
