//===- Rope.h - the RoPE rotation of one pair --------------------*- C++ -*-===//

#ifndef LOOM_GPU_BUILDER_ROPE_H
#define LOOM_GPU_BUILDER_ROPE_H

#include "loom/GPU/Builder/KernelBuilder.h"

namespace loom {
namespace gpu {

/// loom.rope's rotation of the pair (x1, x2) by the angle with cosine `c`
/// and sine `s`, in f32 (scalars or vectors of one shape):
/// (x1 c - x2 s, x2 c + x1 s). Which elements pair up ("half" or
/// "interleaved") is the caller's.
std::pair<mlir::Value, mlir::Value> rotatePair(KernelBuilder &b, mlir::Value x1,
                                               mlir::Value x2, mlir::Value c,
                                               mlir::Value s);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_ROPE_H
