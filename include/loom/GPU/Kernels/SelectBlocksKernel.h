//===- SelectBlocksKernel.h - the fused select_blocks kernel ---*- C++ -*-===//
//
// Loom's loom.select_blocks kernel for one configuration: block pooling,
// block scores and the top-k selection in one launch, q and k read as
// strided views of a fusion group's buffers with their RoPE applied on the
// fly. The full score matrix never exists: a CTA keeps its kv head's pooled
// key blocks and a chunk of its pooled query blocks and their scores in
// shared memory. A config struct (no MLIR in it) and the function that
// builds its gpu.func (lib/GPU/Kernels/SelectBlocksKernel.cpp).

#ifndef LOOM_GPU_KERNELS_SELECTBLOCKSKERNEL_H
#define LOOM_GPU_KERNELS_SELECTBLOCKSKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace loom {
namespace gpu {

/// A RoPE the kernel applies to q or k before pooling (loom.rope: rotate in
/// f32, round to the element type once).
struct SelectBlocksRope {
  bool enabled = false;
  /// "interleaved" (GPT-J) pairs (2i, 2i + 1), else "half" (NeoX) (i, i + D/2).
  bool interleaved = false;
  /// The cos/sin tables' element type: "f32", "bf16" or "f16".
  std::string tableType = "f32";
};

/// One instantiation of the select_blocks kernel.
struct SelectBlocksKernelConfig {
  /// q and k: "bf16", "f16" or "f32".
  std::string elementType = "bf16";
  int64_t headDim = 64;
  int64_t blockQ = 64, blockK = 64, topk = 8;
  bool causal = false;
  /// NKB = ceil(Skv / block_k): the pooled key blocks kept in shared memory
  /// (and the columns of the result).
  int64_t keyBlocks = 1;
  /// Query blocks pooled and scored at once (rows of the shared-memory
  /// query and score arrays).
  int64_t chunk = 1;
  SelectBlocksRope ropeQ, ropeK;

  /// Threads per CTA: 512, so that the CTA pooling the most key blocks
  /// (the critical path) spreads them over many threads and warps.
  int64_t threads() const { return 512; }
  /// f32 words per pooled row in shared memory: D + 1, so that the threads
  /// of a warp reading the same column of consecutive rows hit distinct banks.
  int64_t pitch() const { return headDim + 1; }
  int64_t sharedMemoryBytes() const {
    return 4 * ((keyBlocks + chunk) * pitch() + chunk * keyBlocks);
  }
  /// Encodes every value the kernel depends on.
  std::string kernelName() const;
};

/// The kernel of `config` in `module`'s gpu.module @loom_kernels (built on
/// first use), with arguments
///   q: memref<?x?x?x?xT, strided<[?, ?, ?, 1], offset: ?>>  [B, Hq, Sq, D]
///   k: the same type                                       [B, Hkv, Skv, D]
///   out: memref<?x?x?x?xi1>                                [B, Hq, NQB, NKB]
///   scale: f32, per_cta: index (query blocks per CTA),
///   then cos_q, sin_q [Sq, D/2] with ropeQ and cos_k, sin_k [Skv, D/2]
///   with ropeK (memref<?x?xTable>),
/// launched on a grid (max(B * Hq, 1), ceil(NQB / per_cta)) of threads()
/// threads with sharedMemoryBytes() of dynamic shared memory.
mlir::FailureOr<mlir::SymbolRefAttr>
buildSelectBlocksKernel(mlir::ModuleOp module, mlir::Location loc,
                        const SelectBlocksKernelConfig &config);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_SELECTBLOCKSKERNEL_H
