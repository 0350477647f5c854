//===- Wgmma.h - warpgroup matrix products (Hopper) --------------*- C++ -*-===//
//
// wgmma.mma_async: four warps (a warpgroup, 128 threads) multiply an
// m64 x nN x k16 slice (k32 for 8-bit types) with both operands read from
// shared memory through 64-bit matrix descriptors, accumulating into
// registers that stay in one LLVM struct (N/2 f32 per thread). Issue is
// asynchronous: fence, issue, commit a group, and wait until at most N
// groups are pending before reading the accumulators or reusing the shared
// memory the products read.
//
// Accumulator layout (PTX ISA, "wgmma .m64nNk16 register fragment"): thread
// t of the warpgroup, warp w = t / 32, lane l = t % 32, holds for every n8
// column block j the elements 4j .. 4j + 3 at (row 16w + l/4, cols 8j +
// 2(l%4) + {0, 1}) and (row 16w + l/4 + 8, the same cols).
//
// Shared-memory operands here are K-major tiles whose rows are 128 bytes (64
// 16-bit or 128 8-bit elements), stored with the 128-byte swizzle in which
// the TMA writes them; a tile's base is 1024-byte aligned.

#ifndef LOOM_GPU_BUILDER_WGMMA_H
#define LOOM_GPU_BUILDER_WGMMA_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

/// The element types of a warpgroup product.
enum class WgmmaType { BF16, F16, E4M3, S8 };

/// Bytes of one element of `type`.
int64_t wgmmaElementBytes(WgmmaType type);

/// The struct of a warpgroup's accumulator for an m64 x nN product
/// (N/2 f32, or s32 for S8).
mlir::Type wgmmaAccumulatorType(KernelBuilder &b, WgmmaType type, int64_t n);

/// A zero accumulator.
mlir::Value wgmmaZeroAccumulator(KernelBuilder &b, mlir::Type accumulatorType);

/// The descriptor of the K-major, 128-byte-swizzled tile at byte address
/// `sharedAddress` (an index: the shared-window address of the tile's
/// element (0, k0)), with 8-row core matrices 1024 bytes apart.
mlir::Value wgmmaDescriptor(KernelBuilder &b, mlir::Value sharedAddress);

/// The descriptor of an N-major (transposed) B operand in 128-byte
/// swizzled rows: each row holds 64 16-bit elements of N (one "panel"),
/// consecutive K rows are 128 bytes apart, 8-row groups `strideBytes`
/// apart (1024 for a panel of whole rows), and the panels of further N
/// columns `leadingBytes` apart. E.g. attention's V tile [keys][D] as
/// D / 64 panels [keys][64]: the operand of P V, K = keys.
mlir::Value wgmmaDescriptorNMajor(KernelBuilder &b, mlir::Value sharedAddress,
                                  int64_t leadingBytes, int64_t strideBytes);
/// acc += A * B^T for one m64 x nN x k slice (k = 32 bytes of elements):
/// `descA`, `descB` from wgmmaDescriptor, both operands K-major (B N-major,
/// from wgmmaDescriptorNMajor, with `transposeB`; 16-bit types only).
mlir::Value wgmmaMma(KernelBuilder &b, WgmmaType type, int64_t n,
                     mlir::Value accumulator, mlir::Value descA,
                     mlir::Value descB, bool transposeB = false);
/// The same with A in registers (16-bit types): `a` the four i32 registers
/// of the thread's A fragment, which has the accumulator's layout for an
/// m64 x n16 tile (registers: rows g and g + 8 of columns 2t, 2t + 1, then
/// of columns 2t + 8, 2t + 9; each register two elements, the lower column
/// in the low half). An accumulator of a previous product (converted to
/// the element type, n8 blocks 2j and 2j + 1) is such a fragment for K
/// slice j: FlashAttention's P V. NVVM has no op for this form: it is
/// inline PTX with the accumulator tied in and out.
mlir::Value wgmmaMmaRegisterA(KernelBuilder &b, WgmmaType type, int64_t n,
                              mlir::Value accumulator, mlir::ValueRange a,
                              mlir::Value descB, bool transposeB);
/// The f32 values `lo`, `hi` rounded once to `type` (BF16 or F16) as one
/// i32 register of an A fragment (lo in the low half).
mlir::Value wgmmaPackA(KernelBuilder &b, WgmmaType type, mlir::Value lo,
                       mlir::Value hi);

/// wgmma.fence: orders register accesses before the next products.
void wgmmaFence(KernelBuilder &b);
/// Closes the group of products issued since the last commit.
void wgmmaCommit(KernelBuilder &b);
/// Waits until at most `pending` groups are in flight.
void wgmmaWait(KernelBuilder &b, int64_t pending);
/// In a pipelined loop: waits for every group when `drain` (the loop's last
/// iteration), else until at most `pending` are in flight. A loop whose
/// results are read after it must drain in its last iteration: ptxas (CUDA
/// 13) may schedule reads of an accumulator above a wait_group 0 placed
/// after the loop, having taken the loop's wait_group `pending` for the
/// accumulator's last write.
void wgmmaWaitOrDrain(KernelBuilder &b, mlir::Value drain, int64_t pending);

/// Element `i` (0 .. N/2 - 1) of an accumulator, and its (row, col) within
/// the warpgroup's 64 x N tile for the thread with lane `lane` and warp
/// `warp` (of its warpgroup), as index values.
mlir::Value wgmmaElement(KernelBuilder &b, mlir::Value accumulator, int64_t i);
std::pair<mlir::Value, mlir::Value> wgmmaElementPosition(KernelBuilder &b,
                                                         mlir::Value lane,
                                                         mlir::Value warp,
                                                         int64_t i);

/// Named barrier `id` (1 .. 15; 0 is the block barrier) of `threads`
/// threads (a multiple of 32): the calling warps wait until `threads`
/// threads have arrived or waited on it. Warp specialization's turns.
void namedBarrierSync(KernelBuilder &b, mlir::Value id, int64_t threads);
/// Arrives on named barrier `id` without waiting.
void namedBarrierArrive(KernelBuilder &b, mlir::Value id, int64_t threads);
/// fence.proxy.async.shared::cta: this thread's writes to shared memory
/// become visible to the async proxy (a wgmma reading a tile that threads
/// wrote, after a barrier among those threads).
void fenceProxyAsyncShared(KernelBuilder &b);
/// setmaxnreg: the warpgroup's threads raise (or lower) their register
/// budget to `registers` (a multiple of 8 in [24, 256]).
void setMaxRegisters(KernelBuilder &b, int64_t registers, bool increase);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_WGMMA_H
