//===- AttentionMask.h - windows and sinks of the attention kernels -*- C++ -*-===//
//
// The serving masks of loom.attention (sliding windows, one or one per query
// head, and attention sinks) as the GPU kernels share them: the config check,
// the kernel-name suffix, and head h's window as a Value.
//
// Key j is visible to aligned query row i' (i' = i + Skv - Sq) iff j <= i'
// (causal) and (W = 0 or j > i' - W or j < sink), W the window of the row's
// query head (0: none).

#ifndef LOOM_GPU_BUILDER_ATTENTIONMASK_H
#define LOOM_GPU_BUILDER_ATTENTIONMASK_H

#include "loom/GPU/Builder/KernelBuilder.h"

#include <string>

namespace loom {
namespace gpu {

/// Empty when the windows and sink are valid for a kernel (a window needs
/// `causal`, windows and the sink are >= 0), else why not.
std::string checkWindows(llvm::ArrayRef<int64_t> windows, int64_t sink,
                         bool causal);

/// The kernel-name suffix of the windows and sink: "" without a window,
/// "_w<W>" for one, "_wh<n>x<hash>" for one per head (their count and a
/// 64-bit FNV-1a hash of the values), then "_sink<N>" for a sink.
std::string windowsNameSuffix(llvm::ArrayRef<int64_t> windows, int64_t sink);

/// Head `h`'s window (index; 0: none): the one value, or a chain of selects
/// over the heads' values. `windows` is not empty.
mlir::Value headWindow(KernelBuilder &b, llvm::ArrayRef<int64_t> windows,
                       mlir::Value h);

/// Block-sparse: whether key tile `tile` (index, tiles of `blockN` keys, each
/// inside one key block of `blockK` keys) is set in the layout row
/// `layout[lb, lh, qBlock, *]` (memref<?x?x?x?xi1>); false, without reading
/// the layout, where `inRange` (i1) does not hold.
mlir::Value layoutTileSet(KernelBuilder &b, mlir::Value inRange,
                          mlir::Value layout, mlir::Value lb, mlir::Value lh,
                          mlir::Value qBlock, mlir::Value tile, int64_t blockN,
                          mlir::Value blockK);

/// The largest window of `windows`, or 0 when one of them is 0 (a head
/// without window sees every key, so no key can be skipped).
int64_t widestWindow(llvm::ArrayRef<int64_t> windows);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_ATTENTIONMASK_H
