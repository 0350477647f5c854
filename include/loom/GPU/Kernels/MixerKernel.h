//===- MixerKernel.h - fused norm -> pool_mixer/dwconv -> epilogue kernel -*- C++ -*-===//
//
// The kernel of loom-fuse's mixer groups (a layer_norm or rms_norm prologue,
// loom.pool_mixer or loom.dwconv, elementwise epilogues such as the residual
// add) as one GPU kernel; see lib/GPU/Kernels/MixerKernel.cpp for its
// schedule. A config struct (no MLIR in it) and the function that builds
// its gpu.func.

#ifndef LOOM_GPU_KERNELS_MIXERKERNEL_H
#define LOOM_GPU_KERNELS_MIXERKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace loom {
namespace gpu {

/// A fused mixer kernel over channels-last x [B, H, W, C] (a rank-3 [B, S, C]
/// is passed as [B, 1, S, C] with a 1 x K window, its dwconv weights [K, C]
/// as [1, K, C]).
struct MixerKernelConfig {
  enum class Norm { None, Layer, Rms };
  /// Epilogue steps applied in f32 to the mixer's result v, each with one
  /// more [B, H, W, C] operand e: Add (v + e), Mul (v * e), Sub (v - e),
  /// SubFrom (e - v).
  enum class Step : char { Add = 'a', Mul = 'm', Sub = 's', SubFrom = 'r' };

  std::string elementType; // "bf16", "f16" or "f32"
  Norm norm = Norm::None;
  /// The mixer: pool_mixer (avg - x over the window) or dwconv (the
  /// window weighted by w [kh, kw, C]; `causal`: the window ends at the
  /// output position on the W axis instead of being centred).
  bool dwconv = false;
  bool causal = false;
  int kh = 3, kw = 3;        // the window (odd unless causal)
  int tileH = 4, tileW = 16; // output tokens per CTA
  std::string steps;         // the epilogue, one Step character each
  int threads = 256;         // a multiple of 32

  /// f32 statistics per token in shared memory (mean, r, inv for layer_norm;
  /// inv for rms_norm).
  int statsPerToken() const {
    return norm == Norm::Layer ? 3 : norm == Norm::Rms ? 1 : 0;
  }
  /// Tokens whose statistics a CTA computes: its tile and the window's halo.
  int64_t haloTokens() const {
    return int64_t(tileH + kh - 1) * (tileW + kw - 1);
  }
  int64_t sharedMemoryBytes() const { return haloTokens() * statsPerToken() * 4; }
  /// Window position d on an axis reads input position p + d - offset.
  int offsetH() const { return (kh - 1) / 2; }
  int offsetW() const { return causal ? kw - 1 : (kw - 1) / 2; }
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use), with arguments (x, [g, [b]], [w], e0 .. e<n-1>, y, eps): x, the e's
/// and y memref<?x?x?x?xT>, g and b memref<?xT>, w memref<?x?x?xT>, eps f32.
/// Launched on max(B * hTiles * wTiles, 1) CTAs of `threads` (hTiles =
/// max(ceil(H / tileH), 1), wTiles = max(ceil(W / tileW), 1)); static shared
/// memory only.
mlir::FailureOr<mlir::SymbolRefAttr>
buildMixerKernel(mlir::ModuleOp module, mlir::Location loc,
                 const MixerKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_MIXERKERNEL_H
