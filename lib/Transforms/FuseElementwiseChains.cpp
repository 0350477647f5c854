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

/// Whether merging would repeat a costly producer: the consumer reads the
/// fused operand broadcast (its map is not a permutation: several consumer
/// elements read one producer element) and the producer's body holds loops
/// or branches (a per-element search, as paged_attention's row lookup over
/// the sequences). The merged op would redo that work for every element of
/// the broadcast dims.
bool repeatsCostlyProducer(OpOperand *fused) {
  auto consumer = cast<linalg::LinalgOp>(fused->getOwner());
  if (consumer.getMatchingIndexingMap(fused).isPermutation())
    return false;
  auto producer = cast<linalg::LinalgOp>(fused->get().getDefiningOp());
  for (Operation &op : *producer.getBlock())
    if (op.getNumRegions() != 0)
      return true;
  return false;
}

struct LoomFuseElementwiseChainsPass
    : loom::impl::LoomFuseElementwiseChainsPassBase<
          LoomFuseElementwiseChainsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          return allParallel(fused->get().getDefiningOp()) &&
                 allParallel(fused->getOwner()) &&
                 !repeatsCostlyProducer(fused);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
