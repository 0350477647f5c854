//===- LoomToLinalg.cpp - the convert-loom-to-linalg pass ------------------===//

#include "loom/Conversion/LoomToLinalg/LoomToLinalg.h"
#include "loom/Conversion/Passes.h"
#include "loom/Dialect/Loom/IR/LoomDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

namespace loom {
#define GEN_PASS_DEF_CONVERTLOOMTOLINALGPASS
#include "loom/Conversion/Passes.h.inc"
} // namespace loom

using namespace mlir;

void loom::populateLoomToLinalgPatterns(RewritePatternSet &patterns) {
  populateAttentionToLinalgPatterns(patterns);
  populateMixerToLinalgPatterns(patterns);
  populateLinearToLinalgPatterns(patterns);
  populateElementwiseToLinalgPatterns(patterns);
  populateKvCacheToLinalgPatterns(patterns);
}

namespace {
struct ConvertLoomToLinalgPass
    : loom::impl::ConvertLoomToLinalgPassBase<ConvertLoomToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    // Every loom op must be lowered; one left behind is reported by name at
    // its location ("failed to legalize operation 'loom.x'").
    target.addIllegalDialect<loom::LoomDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    loom::populateLoomToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
