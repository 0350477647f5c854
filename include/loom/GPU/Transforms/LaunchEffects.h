//===- LaunchEffects.h - memory effects of kernel launches ------*- C++ -*-===//

#ifndef LOOM_GPU_TRANSFORMS_LAUNCHEFFECTS_H
#define LOOM_GPU_TRANSFORMS_LAUNCHEFFECTS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace loom {

/// Declares what upstream leaves unsaid: `gpu.launch_func` reads and writes
/// the buffers it is given (a MemoryEffectOpInterface model). Without it,
/// the ownership-based buffer deallocation rejects every launch that
/// loom-gpu-kernels puts on tensors before bufferization ("ops with unknown
/// memory side effects are not supported"), and passes that reason about
/// effects must assume the worst. Registered by loom::registerAllDialects.
void registerGPULaunchEffects(mlir::DialectRegistry &registry);

} // namespace loom

#endif // LOOM_GPU_TRANSFORMS_LAUNCHEFFECTS_H
