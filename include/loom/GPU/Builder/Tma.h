//===- Tma.h - TMA copies and mbarrier pipelines (Hopper) --------*- C++ -*-===//
//
// The tensor memory accelerator copies a box of a tensor between global and
// shared memory on its own, described by a 128-byte tensor map that the host
// encodes (here: nvgpu.tma.create.descriptor, which Loom's runtime encodes
// once per buffer and shape and caches, docs/abi.md). Completion is counted
// in bytes on an mbarrier: a producer arms the barrier with the bytes it
// expects, the copies complete the transaction, consumers wait on the
// barrier's phase parity. The same barriers, armed by arrivals instead of
// bytes, tell the producer that a stage is free again.
//
// One implementation of each mechanism for every Hopper kernel; phases are
// always derived with `stagePhase`, the one helper for the parity
// bookkeeping (a usual source of hangs).

#ifndef LOOM_GPU_BUILDER_TMA_H
#define LOOM_GPU_BUILDER_TMA_H

#include "loom/GPU/Builder/KernelBuilder.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

namespace loom {
namespace gpu {

/// The tensor map type of a 2-D box of `rows` x `columns` elements of
/// `elementType` landing in shared memory, 128-byte swizzled when
/// `swizzle128` (then columns * bytes must be 128), out-of-bounds elements
/// read as zero.
mlir::nvgpu::TensorMapDescriptorType
tmaDescriptorType(mlir::MLIRContext *ctx, int64_t rows, int64_t columns,
                  mlir::Type elementType, bool swizzle128);
/// The same for a box of any rank (outermost first, the innermost
/// `columns` last), e.g. [1, 1, rows, 64] of a [B, H, S, D] tensor.
mlir::nvgpu::TensorMapDescriptorType
tmaDescriptorType(mlir::MLIRContext *ctx, llvm::ArrayRef<int64_t> box,
                  mlir::Type elementType, bool swizzle128);

/// A group of `count` mbarriers in shared memory (static).
mlir::Value createBarriers(KernelBuilder &b, int64_t count);

/// Initializes barrier `index` of `barriers` to expect `arrivals` arrivals
/// per phase. One thread does this, then fenceBarrierInit and a block
/// barrier before anyone uses them.
void initBarrier(KernelBuilder &b, mlir::Value barriers, mlir::Value index,
                 int64_t arrivals);

/// Makes the barriers' initialization visible to the async proxy (TMA).
void fenceBarrierInit(KernelBuilder &b);

/// Arrives on barrier `index` and arms its phase with `bytes` expected
/// transaction bytes (the producer, before its TMA copies).
void arriveExpectBytes(KernelBuilder &b, mlir::Value barriers,
                       mlir::Value index, int64_t bytes);

/// A plain arrival on barrier `index`.
void arriveBarrier(KernelBuilder &b, mlir::Value barriers, mlir::Value index);

/// Waits until the phase of barrier `index` with parity `parity` (i1) has
/// completed.
void waitBarrier(KernelBuilder &b, mlir::Value barriers, mlir::Value index,
                 mlir::Value parity);

/// The stage (it % stages) and phase parity ((it / stages) % 2, as i1) of
/// the pipeline step `it` (an index) of a ring of `stages` buffers.
std::pair<mlir::Value, mlir::Value> stagePhase(KernelBuilder &b, mlir::Value it,
                                               int64_t stages);

/// Copies the box of `descriptor` at `coordinates` (innermost first, in
/// elements) into the shared buffer `dst`, completing bytes on barrier
/// `index`.
void tmaLoad(KernelBuilder &b, mlir::Value descriptor, mlir::ValueRange coordinates,
             mlir::Value dst, mlir::Value barriers, mlir::Value index);

/// Fetches the tensor map into the cache ahead of its first use.
void tmaPrefetch(KernelBuilder &b, mlir::Value descriptor);

/// The dynamic shared memory (`memref`), the address of its base and the
/// bytes `pad` that take it to the next 1024-byte boundary (the 128-byte
/// swizzle repeats over 1024 bytes; the dynamic base is only 16-byte
/// aligned): swizzled tiles start at pad + a multiple of 1024.
struct SwizzleAlignedShared {
  mlir::Value memref, base, pad;
};
SwizzleAlignedShared swizzleAlignedSharedMemory(KernelBuilder &b);

/// The mbarriers of a ring of `stages` stages that one producer thread
/// fills by TMA: stage s's `full` barrier is s (one arrival, armed with the
/// stage's bytes), its `empty` barrier stages + s (`consumers` arrivals:
/// consumer warpgroups or warps, as releaseRingStage's `arriver` counts).
/// Thread `tid` 0 initializes them and fences them for the TMA; then a
/// block barrier.
mlir::Value createRingBarriers(KernelBuilder &b, mlir::Value tid,
                               int64_t stages, int64_t consumers);

/// A consumer's release of the stage of pipeline step `it` (an index) to
/// the producer: the thread whose `arriver` is 0 arrives on its `empty`
/// barrier. With `arriver` = the thread's index in its warpgroup, one
/// arrival per consumer warpgroup (enough where the consumers read the
/// stage only through wgmma descriptors and wait on the whole group's
/// products); with `arriver` = its lane, one per warp (`consumers` in
/// createRingBarriers counts warps), for consumers whose warps also read
/// the stage themselves and may lag each other.
void releaseRingStage(KernelBuilder &b, mlir::Value barriers, mlir::Value it,
                      int64_t stages, mlir::Value arriver);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_TMA_H
