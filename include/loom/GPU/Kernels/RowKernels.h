//===- RowKernels.h - bandwidth-bound row kernels (norms, RoPE) --*- C++ -*-===//
//
// The kernels of loom.rms_norm, loom.layer_norm and loom.rope (see
// lib/GPU/Kernels/RowKernels.cpp for their structure): config structs, and
// the functions that build their gpu.funcs.

#ifndef LOOM_GPU_KERNELS_ROWKERNELS_H
#define LOOM_GPU_KERNELS_ROWKERNELS_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace loom {
namespace gpu {

/// A row-normalization kernel: rms_norm (x / sqrt(mean(x^2) + eps) * g) or
/// layer_norm ((x - mean) / sqrt(var + eps) * g + b) over the rows of a
/// [rows, C] matrix.
struct NormKernelConfig {
  std::string elementType; // "bf16", "f16" or "f32"
  bool layer = false;      // layer_norm (else rms_norm)
  int threads = 256;       // threads per row, a multiple of 32, <= 1024
  int rows = 1;            // rows per CTA (> 1 only with threads == 32)
  /// 16-byte vectors each thread keeps in registers (the row is read once);
  /// 0: the row is streamed from global memory once per pass (any C).
  int vectors = 0;

  /// Elements per 16-byte vector.
  int width() const { return elementType == "f32" ? 4 : 8; }
  int blockThreads() const { return threads * rows; }
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments: x memref<?x?xT> [rows, C], g memref<?xT>, (layer_norm)
/// b memref<?xT>, y memref<?x?xT> (written), eps f32. Launch: blocks of
/// (threads, rows, 1), one row per (block, y thread).
mlir::FailureOr<mlir::SymbolRefAttr>
buildNormKernel(mlir::ModuleOp module, mlir::Location loc,
                const NormKernelConfig &c);

/// A RoPE kernel over x [rows, D] (rows = B*H*S, row r at position r % S) with
/// cos/sin [S, D/2] f32: one thread per 16-byte vector of output ("half":
/// per pair of vectors d and d + D/2).
struct RopeKernelConfig {
  std::string elementType; // "bf16", "f16" or "f32"
  bool interleaved = false;
  int threads = 256; // per block, a multiple of 32, <= 1024
  /// x is a strided [B, H, S, D] view (unit stride in D; e.g. a transpose of
  /// a [S, H * D] projection read in place) instead of [rows, D]; y stays
  /// [B * H * S, D], row (b, h, s) at (b H + h) S + s.
  bool strided = false;

  int width() const { return elementType == "f32" ? 4 : 8; }
  std::string kernelName() const;
};

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments: x memref<?x?xT> [rows, D] (`strided`: memref<?x?x?x?xT,
/// strided<[?, ?, ?, 1], offset: ?>> [B, H, S, D]), cos and sin
/// memref<?x?xf32> [S, D/2], y memref<?x?xT> [rows, D] (written). Launch: blocks of (threads, 1, 1),
/// one thread per 16-byte output vector (half style: per pair of vectors).
mlir::FailureOr<mlir::SymbolRefAttr>
buildRopeKernel(mlir::ModuleOp module, mlir::Location loc,
                const RopeKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_ROWKERNELS_H
