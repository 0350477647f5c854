//===- LinearAttentionKernel.h - chunked linear attention --------*- C++ -*-===//
//
// The kernel of loom.linear_attention (see lib/GPU/Kernels/
// LinearAttentionKernel.cpp for its schedule): its config, and the function
// that builds its gpu.func.

#ifndef LOOM_GPU_KERNELS_LINEARATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_LINEARATTENTIONKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace loom {
namespace gpu {

/// One chunked linear-attention kernel over q, k [B, H, S, Dk] and
/// v [B, H, S, Dv] to o [B, H, S, Dv], all of one element type.
struct LinearAttentionKernelConfig {
  /// phi, applied to q and k: x, max(x, 0), or elu(x) + 1.
  enum class FeatureMap { Identity, Relu, EluPlusOne };

  /// Threads per CTA, rows of a chunk, columns of Dv per CTA.
  static constexpr int64_t kThreads = 256;
  static constexpr int64_t kChunk = 64;
  static constexpr int64_t kSlice = 64;

  std::string elementType; // "bf16", "f16" or "f32"
  int64_t dk = 0;          // static, > 0
  bool causal = false, normalize = false;
  FeatureMap featureMap = FeatureMap::Identity;
  /// Decay rates per head (head h uses decay[min(h, size - 1)]); empty: no
  /// decay. Causal only.
  llvm::SmallVector<float> decay;
  /// q, k, v and the result are strided views (unit stride in D): a fusion
  /// group's layout changes between [S, H*D] and [B, H, S, D] read and
  /// written in place.
  bool strided = false;

  /// Dk rounded up to a multiple of 64 (the shared arrays' depth; the rows
  /// beyond Dk are zero).
  int64_t paddedDk() const { return (dk + 63) / 64 * 64; }
  /// Byte offsets of the shared-memory arrays, in the order Qt, Kt, Vs, Ss,
  /// As, zs, dens, gs, ws; the last entry is the total.
  llvm::SmallVector<int64_t> sharedOffsets() const;
  /// The dynamic shared memory a launch needs.
  int64_t sharedMemoryBytes() const { return sharedOffsets().back(); }
  /// "identity", "relu" or "elu_plus_one" (the op's spelling).
  static const char *featureMapName(FeatureMap f);
  /// A name that encodes every choice (the decay rates as their f32 bits).
  std::string kernelName() const;
};

class KernelBuilder;

/// The decay rate of head `h` (an index) from the per-head `rates`:
/// rates[min(h, size - 1)] (as on the CPU for a dynamic H), a chain of
/// selects over the f32 constants. `rates` is not empty.
mlir::Value headDecayRate(KernelBuilder &b, llvm::ArrayRef<float> rates,
                          mlir::Value h);

/// "_decay" and each rate's f32 bits in hex, for a kernel's name.
std::string decayNameSuffix(llvm::ArrayRef<float> rates);

/// The kernel of `c` in `module`'s gpu.module @loom_kernels (built on first
/// use). Arguments: q, k, v, out memref<?x?x?x?xT> (strided<[?, ?, ?, 1],
/// offset: ?> when `strided`), scale f32. Launch: a grid of (max(B * H, 1),
/// max(ceil(Dv / kSlice), 1), 1) CTAs of kThreads threads with
/// sharedMemoryBytes() of dynamic shared memory; a CTA outside the sizes (or
/// S = 0) returns at once.
mlir::FailureOr<mlir::SymbolRefAttr>
buildLinearAttentionKernel(mlir::ModuleOp module, mlir::Location loc,
                           const LinearAttentionKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_LINEARATTENTIONKERNEL_H
