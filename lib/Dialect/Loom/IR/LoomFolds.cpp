//===- LoomFolds.cpp - folds and canonicalizations of loom ops --------------===//
//
// Only rewrites that pay: each removes work a kernel would do (a mask that
// masks nothing, a layout that selects everything) without changing results.

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace loom;

/// The constant value of a boolean tensor when every element is `value`.
static bool isConstantAll(Value v, bool value) {
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) ||
      !attr.getElementType().isInteger(1))
    return false;
  if (attr.isSplat())
    return attr.getSplatValue<bool>() == value;
  return llvm::all_of(attr.getValues<bool>(),
                      [&](bool b) { return b == value; });
}

/// The most keys a query of the op can see, or dynamic: Skv for the
/// contiguous ops, maxPages * page for paged attention (kv_lens beyond that
/// are clamped to it).
static int64_t keyCapacity(AttentionOp op) {
  return op.getK().getType().getDimSize(2);
}
static int64_t keyCapacity(BlockSparseAttentionOp op) {
  return op.getK().getType().getDimSize(2);
}
static int64_t keyCapacity(PagedAttentionOp op) {
  int64_t pages = op.getBlockTable().getType().getDimSize(1);
  int64_t page = op.getK().getType().getDimSize(1);
  if (ShapedType::isDynamic(pages) || ShapedType::isDynamic(page))
    return ShapedType::kDynamic;
  int64_t keys;
  if (llvm::MulOverflow(pages, page, keys))
    return ShapedType::kDynamic;
  return keys;
}

namespace {
/// The window and sink of the softmax attention ops, simplified:
/// - a `window` of W keys behind the diagonal covers every key when
///   W >= Skv: the largest aligned index i' is Skv - 1, so j > i' - W holds
///   for all j >= 0. Such a single window is dropped; such a per-head W_h
///   becomes 0 (no window for that head);
/// - a per-head window whose values are all equal becomes the single
///   `window` (all 0: no window);
/// - `sink = 0`, and a `sink` without a window (nothing for it to exempt a
///   key from), are dropped.
template <typename OpT>
struct SimplifyWindowAndSink : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op,
                                PatternRewriter &rewriter) const override {
    int64_t skv = keyCapacity(op);
    bool staticSkv = !ShapedType::isDynamic(skv);
    Attribute window = op.getWindowAttr();
    Attribute newWindow = window;
    if (std::optional<int64_t> w = op.getUniformWindow()) {
      if (staticSkv && *w >= skv)
        newWindow = nullptr;
    } else if (std::optional<ArrayRef<int64_t>> ws = op.getHeadWindows()) {
      SmallVector<int64_t> heads(ws->begin(), ws->end());
      if (staticSkv)
        for (int64_t &w : heads)
          if (w >= skv)
            w = 0;
      if (!heads.empty() && llvm::all_equal(heads))
        newWindow = heads.front() == 0
                        ? Attribute()
                        : Attribute(rewriter.getI64IntegerAttr(heads.front()));
      else if (ArrayRef<int64_t>(heads) != *ws)
        newWindow = rewriter.getDenseI64ArrayAttr(heads);
    }
    IntegerAttr sink = op.getSinkAttr();
    bool dropSink = sink && (sink.getValue().isZero() || !newWindow);
    if (newWindow == window && !dropSink)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (newWindow)
        op.setWindowAttr(newWindow);
      else
        op.removeWindowAttr();
      if (dropSink)
        op.removeSinkAttr();
    });
    return success();
  }
};

/// A constant all-true layout selects every block: plain attention.
struct AllTrueLayoutToAttention : OpRewritePattern<BlockSparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockSparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!isConstantAll(op.getLayout(), true))
      return failure();
    Value lse = op.getLse();
    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), lse ? lse.getType() : Type(), op.getQ(), op.getK(),
        op.getV(), op.getSinkLogits(), op.getCausal(), op.getScaleAttr(),
        op.getWindowAttr(), op.getSoftcapAttr(), op.getSinkAttr());
    return success();
  }
};

/// A constant all-false layout leaves every row without a visible key, and
/// such rows are zeros (and their log-sum-exp -inf) by definition.
struct AllFalseLayoutToZeros : OpRewritePattern<BlockSparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockSparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!isConstantAll(op.getLayout(), false))
      return failure();
    // With sink logits a row's lse is sink_h, not -inf: left to the lowering.
    if (op.getLse() && op.getSinkLogits())
      return failure();
    Location loc = op.getLoc();
    // Dynamic result dims come from the operands they equal: B, Hq, Sq from
    // q and Dv from v.
    auto splat = [&](RankedTensorType type, TypedAttr value) -> Value {
      Value scalar = arith::ConstantOp::create(rewriter, loc, value);
      SmallVector<Value> dynamicSizes;
      for (unsigned i = 0, e = type.getRank(); i < e; ++i) {
        if (!type.isDynamicDim(i))
          continue;
        Value source = i == 3 ? op.getV() : op.getQ();
        dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, source, i));
      }
      return tensor::SplatOp::create(rewriter, loc, scalar, type,
                                     dynamicSizes);
    };
    RankedTensorType type = op.getType();
    SmallVector<Value> results{
        splat(type, rewriter.getZeroAttr(type.getElementType()))};
    if (Value lse = op.getLse())
      results.push_back(
          splat(cast<RankedTensorType>(lse.getType()),
                rewriter.getF32FloatAttr(
                    -std::numeric_limits<float>::infinity())));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Under `causal`, select_blocks with at least as many selections as key
/// blocks picks every candidate block, and the candidates hold every causally
/// visible key: the block-sparse attention it feeds is causal attention.
struct SelectAllCausalToAttention : OpRewritePattern<BlockSparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BlockSparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto select = op.getLayout().getDefiningOp<SelectBlocksOp>();
    if (!select || !op.getCausal() || !select.getCausal() ||
        select.getBlockQ() != op.getBlockQ() ||
        select.getBlockK() != op.getBlockK())
      return failure();
    // Candidates depend on Sq and Skv: both ops must see the same lengths.
    int64_t sq = op.getQ().getType().getDimSize(2);
    int64_t skv = op.getK().getType().getDimSize(2);
    int64_t nkb = select.getLayout().getType().getDimSize(3);
    if (ShapedType::isDynamic(sq) || ShapedType::isDynamic(skv) ||
        ShapedType::isDynamic(nkb) ||
        select.getQ().getType().getDimSize(2) != sq ||
        select.getK().getType().getDimSize(2) != skv ||
        static_cast<int64_t>(select.getTopk()) + 1 < nkb)
      return failure();
    Value lse = op.getLse();
    rewriter.replaceOpWithNewOp<AttentionOp>(
        op, op.getType(), lse ? lse.getType() : Type(), op.getQ(), op.getK(),
        op.getV(), op.getSinkLogits(), /*causal=*/true, op.getScaleAttr(),
        op.getWindowAttr(), op.getSoftcapAttr(), op.getSinkAttr());
    return success();
  }
};

/// decay = 0 for every head multiplies every weight by exp(0) = 1.
struct DropZeroDecay : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<ArrayRef<float>> decay = op.getDecay();
    if (!decay || llvm::any_of(*decay, [](float d) { return d != 0.0f; }))
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.removeDecayAttr(); });
    return success();
  }
};

/// The value of a constant float tensor whose elements are all equal.
static std::optional<double> constantSplatFloat(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

/// The same op with `gate` and `initial_state` replaced, and without the
/// `final_state` result when `keepFinalState` is false. Discardable
/// (prefixed) attributes carry over.
static LinearAttentionOp rebuild(PatternRewriter &rewriter,
                                 LinearAttentionOp op, Value gate,
                                 Value initialState, bool keepFinalState,
                                 DenseF32ArrayAttr decay) {
  Type finalState =
      keepFinalState && op.getFinalState() ? op.getFinalState().getType()
                                           : Type();
  auto newOp = LinearAttentionOp::create(
      rewriter, op.getLoc(), op.getResult().getType(), finalState, op.getQ(),
      op.getK(), op.getV(), gate, op.getBeta(), initialState,
      op.getCausalAttr(), op.getFeatureMapAttr(), decay, op.getScaleAttr(),
      op.getNormalizeAttr(), op.getRuleAttr());
  newOp->setDiscardableAttrs(op->getDiscardableAttrDictionary());
  return newOp;
}

/// Replaces `op` by `newOp` (whose final state, if any, replaces op's).
static void replaceWith(PatternRewriter &rewriter, LinearAttentionOp op,
                        LinearAttentionOp newOp) {
  SmallVector<Value> values{newOp.getResult()};
  if (op.getFinalState())
    values.push_back(newOp.getFinalState() ? newOp.getFinalState() : Value());
  rewriter.replaceOp(op, values);
}

/// A constant gate: g = 0 everywhere multiplies by exp(0) = 1 (the gate is
/// dropped); a splat g < 0 is the constant gate of `decay = -g` for every
/// head (static H). Both are equal to the op in exact arithmetic; the
/// lowerings of the two forms round differently.
struct ConstantGate : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<double> g = constantSplatFloat(op.getGate());
    if (!g || op.getDecay() || !op.getCausal() || !(*g <= 0.0))
      return failure();
    DenseF32ArrayAttr decay;
    if (*g != 0.0) {
      int64_t heads = op.getQ().getType().getDimSize(1);
      if (ShapedType::isDynamic(heads) || !std::isfinite(*g))
        return failure();
      decay = rewriter.getDenseF32ArrayAttr(
          SmallVector<float>(heads, static_cast<float>(-*g)));
    }
    replaceWith(rewriter, op,
                rebuild(rewriter, op, Value(), op.getInitialState(),
                        /*keepFinalState=*/true, decay));
    return success();
  }
};

/// A constant all-zero initial state is the default S_{-1} = 0.
struct ZeroInitialState : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<double> s = constantSplatFloat(op.getInitialState());
    if (!s || *s != 0.0)
      return failure();
    replaceWith(rewriter, op,
                rebuild(rewriter, op, op.getGate(), Value(),
                        /*keepFinalState=*/true, op.getDecayAttr()));
    return success();
  }
};

/// A final state nobody reads need not be computed.
struct DropUnusedFinalState : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getFinalState() || !op.getFinalState().use_empty())
      return failure();
    replaceWith(rewriter, op,
                rebuild(rewriter, op, op.getGate(), op.getInitialState(),
                        /*keepFinalState=*/false, op.getDecayAttr()));
    return success();
  }
};
} // namespace

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<SimplifyWindowAndSink<AttentionOp>>(context);
}

void PagedAttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                   MLIRContext *context) {
  results.add<SimplifyWindowAndSink<PagedAttentionOp>>(context);
}

void BlockSparseAttentionOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<AllTrueLayoutToAttention, AllFalseLayoutToZeros,
              SelectAllCausalToAttention,
              SimplifyWindowAndSink<BlockSparseAttentionOp>>(context);
}

void LinearAttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                    MLIRContext *context) {
  results.add<DropZeroDecay, ConstantGate, ZeroInitialState,
              DropUnusedFinalState>(context);
}

/// Without `causal`, every key block is a candidate, so topk >= NKB selects
/// all of them: the layout is a constant all-true mask.
OpFoldResult SelectBlocksOp::fold(FoldAdaptor) {
  RankedTensorType type = getLayout().getType();
  if (getCausal() || !type.hasStaticShape() ||
      static_cast<int64_t>(getTopk()) < type.getDimSize(3))
    return {};
  return DenseElementsAttr::get(type, true);
}

/// One (o, lse) pair is the identity by definition (the op's description):
/// lse_0 + log(exp(0)) = lse_0 and exp(0) * o_0 = o_0 on every row with a
/// finite lse_0, and the row of attention without a visible key is 0 already.
LogicalResult MergeAttentionOp::fold(FoldAdaptor,
                                     SmallVectorImpl<OpFoldResult> &results) {
  if (getNumPairs() != 1 || getOutput(0).getType() != getResult().getType() ||
      getLogSumExp(0).getType() != getLse().getType())
    return failure();
  results.push_back(getOutput(0));
  results.push_back(getLogSumExp(0));
  return success();
}
