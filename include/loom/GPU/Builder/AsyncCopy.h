//===- AsyncCopy.h - asynchronous copies into shared memory ------*- C++ -*-===//
//
// cp.async (Ampere and later): a thread issues 16-byte copies from global
// into shared memory, groups them (commit) and later waits until at most N
// of its groups are in flight. One implementation for every kernel: the
// copies are nvgpu.device_async_copy, the groups and waits nvvm's (so that
// copies issued inside nested regions join the same group).

#ifndef LOOM_GPU_BUILDER_ASYNCCOPY_H
#define LOOM_GPU_BUILDER_ASYNCCOPY_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

/// Copies `elements` elements (16 bytes' worth, or 4/8 bytes) from
/// src[srcIndices] to dst[dstIndices], reading only the first
/// `validElements` (an index value; null: all) and zero-filling the rest.
/// With `bypassL1` the copy goes through L2 only (cp.async.cg).
void asyncCopy(KernelBuilder &b, mlir::Value dst, mlir::ValueRange dstIndices,
               mlir::Value src, mlir::ValueRange srcIndices, int64_t elements,
               mlir::Value validElements = {}, bool bypassL1 = true);

/// Closes the group of this thread's copies issued since the last one
/// (cp.async.commit_group).
void commitAsyncCopies(KernelBuilder &b);

/// Waits until at most `pending` of this thread's groups are still in flight
/// (cp.async.wait_group); the caller adds the barrier that makes other
/// threads' copies visible.
void waitAsyncCopies(KernelBuilder &b, int64_t pending);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_ASYNCCOPY_H
