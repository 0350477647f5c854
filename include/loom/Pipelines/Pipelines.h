//===- Pipelines.h - Loom's named pass pipelines ------------------*- C++ -*-===//

#ifndef LOOM_PIPELINES_PIPELINES_H
#define LOOM_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace loom {

/// Options of --loom-cpu-pipeline.
struct LoomCPUPipelineOptions
    : public mlir::PassPipelineOptions<LoomCPUPipelineOptions> {
  Option<bool> toLLVM{*this, "to-llvm",
                      llvm::cl::desc("Lower to the LLVM dialect (false: stop "
                                     "after bufferization at scf loops)"),
                      llvm::cl::init(true)};
};

/// loom ops -> linalg on tensors -> one-shot bufferization -> loops -> LLVM
/// dialect, with C interfaces (`_mlir_ciface_<name>`) on every function.
/// Upstream tensor, linalg and arith ops beside loom ops go the same way.
/// Public functions return fresh allocations that the caller frees, and the
/// result needs only libc and libm (docs/abi.md).
void buildLoomCPUPipeline(mlir::OpPassManager &pm,
                          const LoomCPUPipelineOptions &options);

/// Registers --loom-cpu-pipeline.
void registerLoomPipelines();

} // namespace loom

#endif // LOOM_PIPELINES_PIPELINES_H
