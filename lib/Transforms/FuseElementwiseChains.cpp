//===- FuseElementwiseChains.cpp - loom-fuse-elementwise-chains --------------===//

#include "loom/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace loom {
#define GEN_PASS_DEF_LOOMFUSEELEMENTWISECHAINSPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {
bool allParallel(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumLoops() == linalgOp.getNumParallelLoops();
}

struct LoomFuseElementwiseChainsPass
    : loom::impl::LoomFuseElementwiseChainsPassBase<
          LoomFuseElementwiseChainsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          return allParallel(fused->get().getDefiningOp()) &&
                 allParallel(fused->getOwner());
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
