//===- RecurrentLinearAttentionKernel.h - token by token ----------*- C++ -*-===//
//
// The decode kernel of causal loom.linear_attention (see lib/GPU/Kernels/
// RecurrentLinearAttentionKernel.cpp): the recurrence itself, token by
// token, with the f32 state in registers, for the few tokens of a decode
// step. Every gate, the additive and the delta rule, initial and final
// state.

#ifndef LOOM_GPU_KERNELS_RECURRENTLINEARATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_RECURRENTLINEARATTENTIONKERNEL_H

#include "loom/GPU/Kernels/LinearAttentionKernel.h"

namespace loom {
namespace gpu {

/// One token-by-token causal linear-attention kernel over q, k [B, H, S, Dk],
/// v [B, H, S, Dv] (one element type) to o [B, H, S, Dv], with the f32 state
/// [B, H, Dk, Dv] optionally read and written.
struct RecurrentLinearAttentionKernelConfig {
  using FeatureMap = LinearAttentionKernelConfig::FeatureMap;
  /// The log-gate g_t: none (0), `decay` (-decay[h]), an operand [B, H, S]
  /// (per head) or [B, H, S, Dk] (per key dimension) of type `gateType`.
  enum class Gate { None, Decay, PerHead, PerKey };

  /// Warps per CTA (each a group of state rows), columns of Dv per CTA (4
  /// per lane).
  static constexpr int64_t kWarps = 8;
  static constexpr int64_t kThreads = 32 * kWarps;
  static constexpr int64_t kSlice = 128;
  /// The largest Dk: each thread holds ceil(Dk / 8) rows of 4 columns.
  static constexpr int64_t kMaxDk = 256;

  std::string elementType; // "bf16", "f16" or "f32"
  int64_t dk = 0;          // static, 1 .. kMaxDk
  FeatureMap featureMap = FeatureMap::Identity;
  Gate gate = Gate::None;
  llvm::SmallVector<float> decay; // Gate::Decay
  std::string gateType;           // Gate::PerHead, PerKey
  /// The delta rule, with beta [B, H, S] of `betaType`.
  bool delta = false;
  std::string betaType;
  bool initialState = false, finalState = false;

  /// State rows per warp: ceil(dk / kWarps).
  int64_t rowsPerWarp() const { return (dk + kWarps - 1) / kWarps; }
  /// A name that encodes every choice.
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments: q, k, v, out memref<?x?x?x?xT>; the gate
/// (memref<?x?x?xG> per head, memref<?x?x?x?xG> per key); beta
/// memref<?x?x?xE> (delta); the initial state, then the final state,
/// memref<?x?x?x?xf32> (when asked for); scale f32. Launch: a grid of
/// (max(B * H, 1), max(ceil(Dv / kSlice), 1), 1) CTAs of kThreads threads,
/// no dynamic shared memory; a CTA outside the sizes returns at once. Dv
/// must be a multiple of 4.
mlir::FailureOr<mlir::SymbolRefAttr>
buildRecurrentLinearAttentionKernel(
    mlir::ModuleOp module, mlir::Location loc,
    const RecurrentLinearAttentionKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_RECURRENTLINEARATTENTIONKERNEL_H
