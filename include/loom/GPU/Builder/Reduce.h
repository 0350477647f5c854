//===- Reduce.h - warp and block reductions ----------------------*- C++ -*-===//

#ifndef LOOM_GPU_BUILDER_REDUCE_H
#define LOOM_GPU_BUILDER_REDUCE_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

enum class ReduceKind { Add, Max };

/// Combines the f32 `v` over each group of `lanes` consecutive lanes of a
/// warp (a power of two, at most 32) with xor shuffles; every lane of a
/// group gets the group's result. The shuffle distances run from lanes / 2
/// down to 1 (`descending`), or from 1 up; the result is the same up to the
/// rounding of the sums.
mlir::Value warpAllReduce(KernelBuilder &b, mlir::Value v, ReduceKind kind,
                          int64_t lanes = 32, bool descending = true);

/// Combines the f32 `v` over the `warps` warps of a block (every thread
/// gets the result): a warp reduction, then lane 0 of each warp writes its
/// value to `scratch` (a shared memref<warps x f32>), a barrier, and every
/// thread combines the slots in order. `tid` is the thread's linear index in
/// the block. The caller must not reuse `scratch` before another barrier.
mlir::Value blockAllReduce(KernelBuilder &b, mlir::Value v, ReduceKind kind,
                           mlir::Value tid, int64_t warps,
                           mlir::Value scratch);

/// The inclusive prefix sum of the f32 `v` over the lanes of a warp: lane
/// l gets v_0 + ... + v_l (`lane`, an index, is this lane's). Five shuffles
/// up (distances 1, 2, 4, 8, 16, Hillis-Steele), so the sums are added in a
/// fixed tree order, the same on every launch.
mlir::Value warpInclusiveAdd(KernelBuilder &b, mlir::Value v,
                             mlir::Value lane);

/// A warp's vote on the i1 `keep` of each lane (every lane of the warp must
/// reach it): `below`, how many lanes under this one (`lane`, an index)
/// keep, the slot of this lane's item in a compacted list, and `total`, how
/// many lanes keep; both i32. `vote.sync.ballot` and two `popc`.
struct WarpCount {
  mlir::Value below, total;
};
WarpCount warpCount(KernelBuilder &b, mlir::Value keep, mlir::Value lane);

/// The natural log-sum-exp of an online-softmax row from its running max
/// `mLog2` (in log2 units) and running sum `l` of exp2(x - m):
/// ln(2) * (m + lg2(l)), or -inf for a row without visible key (l = 0).
mlir::Value rowLogSumExp(KernelBuilder &b, mlir::Value mLog2, mlir::Value l);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_REDUCE_H
