//===- InlineKernels.cpp - loom-inline-kernels -------------------------------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Transforms/Passes.h"


namespace loom {
#define GEN_PASS_DEF_LOOMINLINEKERNELSPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;

namespace {
struct LoomInlineKernelsPass
    : public loom::impl::LoomInlineKernelsPassBase<LoomInlineKernelsPass> {
  void runOnOperation() override {
    SmallVector<KernelOp> kernels;
    getOperation()->walk([&](KernelOp kernel) { kernels.push_back(kernel); });
    for (KernelOp kernel : kernels)
      kernel.inlineBody();
  }
};
} // namespace
