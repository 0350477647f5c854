//===- Kernels.cpp - loom-gpu-kernels: ops to tensor-core kernel launches --===//

#include "KernelLibrary.h"
#include "loom/GPU/Passes.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMGPUKERNELSPASS
#include "loom/GPU/Passes.h.inc"
} // namespace loom

namespace {
struct LoomGPUKernelsPass
    : loom::impl::LoomGPUKernelsPassBase<LoomGPUKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<loom::gpu::Target> target = loom::gpu::Target::parse(chip);
    if (failed(target)) {
      getOperation().emitError()
          << "loom-gpu-kernels: unknown chip '" << chip
          << "' (expected sm_NN or sm_NNa with NN >= 80, e.g. sm_90a)";
      return signalPassFailure();
    }
    if (failed(loom::rewriteAttentionOps(getOperation(), *target)) ||
        failed(loom::rewriteLinearAttentionOps(getOperation(), *target)) ||
        failed(loom::rewriteGemmOps(getOperation(), *target)) ||
        failed(loom::rewriteRowOps(getOperation(), *target)))
      return signalPassFailure();
  }
};
} // namespace
