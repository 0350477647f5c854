//===- KvCache.cpp - lowering of kv_cache_write -----------------------------===//
//
// kv_cache_write is a scatter of token rows into a paged cache. It lowers in
// destination style so that one-shot bufferization writes the cache's buffer
// in place: an scf.forall over the tokens whose shared output is the cache,
// each token inserting its [Hkv, D] row with tensor.parallel_insert_slice.
// A token whose slot is negative or past the cache inserts an empty slice
// (zero rows at offset 0): nothing is written, nothing out of bounds.

#include "Utils.h"
#include "loom/Conversion/LoomToLinalg/LoomToLinalg.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace loom::lowering;

namespace {

struct KvCacheWriteLowering : OpRewritePattern<loom::KvCacheWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::KvCacheWriteOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cache = op.getCache(), fresh = op.getNewTokens(),
          slots = op.getSlots();
    auto cacheType = cast<RankedTensorType>(cache.getType());
    auto freshType = cast<RankedTensorType>(fresh.getType());
    if (cacheType.getRank() != 4 || freshType.getRank() != 3)
      return rewriter.notifyMatchFailure(op, "unverified ranks");
    OpBuilder &b = rewriter;
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);

    // The row copied per token: [Hkv, D], the smaller of the two operands'
    // sizes where one is dynamic (the verifier makes static ones equal).
    SmallVector<OpFoldResult> rowSizes;
    for (auto [cd, fd] : {std::pair<int64_t, int64_t>{2, 1}, {3, 2}}) {
      int64_t c = cacheType.getDimSize(cd), f = freshType.getDimSize(fd);
      if (!ShapedType::isDynamic(c) && c == f)
        rowSizes.push_back(b.getIndexAttr(c));
      else
        rowSizes.push_back(
            arith::MinSIOp::create(b, loc, sizeValue(b, loc, cache, cd),
                                   sizeValue(b, loc, fresh, fd))
                .getResult());
    }
    Value numPages = sizeValue(b, loc, cache, 0);
    Value page = sizeValue(b, loc, cache, 1);
    Value slotsInCache = arith::MulIOp::create(b, loc, numPages, page);
    Value safePage = arith::MaxSIOp::create(b, loc, page, one);
    // Tokens: the smaller of new's and slots' T.
    Value tokens = arith::MinSIOp::create(b, loc, sizeValue(b, loc, fresh, 0),
                                          sizeValue(b, loc, slots, 0));

    auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{tokens},
                                        ValueRange{cache},
                                        /*mapping=*/std::nullopt);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forall.getBody());
      Value t = forall.getInductionVars()[0];
      Value out = forall.getRegionIterArgs()[0];
      Value slot = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          tensor::ExtractOp::create(b, loc, slots, ValueRange{t}));
      Value valid = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, slot, zero),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, slot,
                                slotsInCache));
      Value safeSlot = arith::SelectOp::create(b, loc, valid, slot, zero);
      Value pg = arith::DivUIOp::create(b, loc, safeSlot, safePage);
      Value off = arith::RemUIOp::create(b, loc, safeSlot, safePage);
      Value rows = arith::SelectOp::create(b, loc, valid, one, zero);
      SmallVector<OpFoldResult> srcOffsets{t, b.getIndexAttr(0),
                                           b.getIndexAttr(0)};
      SmallVector<OpFoldResult> srcSizes{rows, rowSizes[0], rowSizes[1]};
      SmallVector<OpFoldResult> ones3(3, b.getIndexAttr(1));
      Value row = tensor::ExtractSliceOp::create(b, loc, fresh, srcOffsets,
                                                 srcSizes, ones3);
      b.setInsertionPointToStart(forall.getTerminator().getBody());
      SmallVector<OpFoldResult> dstOffsets{pg, off, b.getIndexAttr(0),
                                           b.getIndexAttr(0)};
      SmallVector<OpFoldResult> dstSizes{b.getIndexAttr(1), rows, rowSizes[0],
                                         rowSizes[1]};
      SmallVector<OpFoldResult> ones4(4, b.getIndexAttr(1));
      tensor::ParallelInsertSliceOp::create(b, loc, row, out, dstOffsets,
                                            dstSizes, ones4);
    }
    rewriter.replaceOp(op, castToType(b, loc, forall.getResult(0),
                                      op.getResult().getType()));
    return success();
  }
};

} // namespace

void loom::populateKvCacheToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<KvCacheWriteLowering>(patterns.getContext());
}
