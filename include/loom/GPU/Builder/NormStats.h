//===- NormStats.h - the statistics of rms_norm and layer_norm ---*- C++ -*-===//
//
// Every kernel that normalizes rows (the norm kernels, the fused mixer's and
// the f32 GEMM's norm prologues) reduces the row's sums its own way and then
// turns them into the normalization the same way, here, as the CPU lowering
// does (lib/Conversion/LoomToLinalg/Elementwise.cpp):
//
//   rms_norm:   inv = rsqrt(sum x^2 / C + eps)                y = x inv g
//   layer_norm: mean = sum x / C; d = x - mean; r = sum d / C;
//               var = max(sum d^2 / C - r^2, 0); inv = rsqrt(var + eps)
//               y = ((x - mean) - r) inv g + b
//
// (the corrected two-pass: the f32 mean is off by up to half an ulp of
// itself, d is exact near the mean, so r recovers that error).

#ifndef LOOM_GPU_BUILDER_NORMSTATS_H
#define LOOM_GPU_BUILDER_NORMSTATS_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

/// rsqrt(sumSquares / count + eps) (f32 scalars).
mlir::Value rmsInverse(KernelBuilder &b, mlir::Value sumSquares,
                       mlir::Value count, mlir::Value eps);

/// layer_norm's correction r = sumD / count and inv = rsqrt(max(sumDD /
/// count - r^2, 0) + eps), from the centred sums (f32 scalars).
struct LayerNormStats {
  mlir::Value r, inv;
};
LayerNormStats layerNormStats(KernelBuilder &b, mlir::Value sumD,
                              mlir::Value sumDD, mlir::Value count,
                              mlir::Value eps);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_NORMSTATS_H
