//===- LoomToGPU.cpp - loom-gpu-kernels: ops to tensor-core kernel launches --===//

#include "Launch.h"
#include "loom/Dialect/Loom/IR/LoomAttrs.h"
#include "loom/Conversion/LoomToGPU/Passes.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMGPUKERNELSPASS
#include "loom/Conversion/LoomToGPU/Passes.h.inc"
} // namespace loom

namespace {
struct LoomGPUKernelsPass
    : loom::impl::LoomGPUKernelsPassBase<LoomGPUKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    std::string error;
    std::optional<loom::gpu::Target> target = loom::resolveTarget(
        getOperation(), chip, tiles, "sm_90a", error);
    if (target && !target->isGPU()) {
      error = "unknown chip '" + target->chip +
              "' (expected sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or sm_80)";
      target.reset();
    }
    if (!target) {
      getOperation().emitError() << "loom-gpu-kernels: " << error;
      return signalPassFailure();
    }
    // Fusion groups: one launch where a fused kernel covers the group; the
    // others are inlined, and their ops take the rewrites below one by one.
    SmallVector<loom::KernelOp> groups;
    getOperation().walk([&](loom::KernelOp group) { groups.push_back(group); });
    for (loom::KernelOp group : groups) {
      bool fused = false;
      for (auto rewrite :
           {loom::rewriteFusedAttention, loom::rewriteFusedSelectBlocks,
            loom::rewriteFusedMixer, loom::rewriteFusedF32Gemm,
            loom::rewriteFusedGemm}) {
        FailureOr<bool> rewritten = rewrite(group, *target);
        if (failed(rewritten))
          return signalPassFailure();
        if ((fused = *rewritten))
          break;
      }
      if (!fused)
        group.inlineBody();
    }
    if (failed(loom::rewriteAttentionOps(getOperation(), *target)) ||
        failed(loom::rewriteLinearAttentionOps(getOperation(), *target)) ||
        failed(loom::rewriteGemmOps(getOperation(), *target)) ||
        failed(loom::rewriteRowOps(getOperation(), *target)))
      return signalPassFailure();
  }
};
} // namespace
