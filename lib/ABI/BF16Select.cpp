//===- BF16Select.cpp - keep bf16 selects out of LLVM's float legalization ===//
//
// See loom-bf16-select-as-i16 in Passes.td: a select on `bfloat` makes the
// x86 backend call __truncsfbf2, which would make compiled modules depend on
// a compiler runtime that the machine running them may not have.

#include "loom/ABI/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace loom {
#define GEN_PASS_DEF_LOOMBF16SELECTASI16PASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

/// select(c, a, b) : bf16 -> bitcast(select(c, bitcast(a), bitcast(b)) : i16).
struct SelectBF16AsI16 : OpRewritePattern<arith::SelectOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::SelectOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isBF16())
      return failure();
    Type i16 = rewriter.getI16Type();
    Type intType = i16;
    if (auto shaped = dyn_cast<ShapedType>(type))
      intType = shaped.clone(i16);
    Location loc = op.getLoc();
    Value t = arith::BitcastOp::create(rewriter, loc, intType,
                                       op.getTrueValue());
    Value f = arith::BitcastOp::create(rewriter, loc, intType,
                                       op.getFalseValue());
    Value s = arith::SelectOp::create(rewriter, loc, op.getCondition(), t, f);
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, type, s);
    return success();
  }
};

struct LoomBF16SelectAsI16Pass
    : loom::impl::LoomBF16SelectAsI16PassBase<LoomBF16SelectAsI16Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SelectBF16AsI16>(&getContext());
    arith::BitcastOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
