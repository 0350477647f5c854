//===- Attention.cpp - attention, block-sparse attention, select_blocks -===//
//
// The CPU reference lowering: scores are materialized as [B, Hq, Sq, Skv] f32
// tensors and every step of the softmax is its own linalg.generic:
//
//   s = dot(q_i, k_j)                      (reduction over D)
//   t = mask(softcap(scale * s))           (invisible keys become -inf)
//   m = max_j t,  p = exp(t - m),  l = sum_j p
//   o = (sum_j p * v_j) / l                (a row without visible key: 0)
//
// select_blocks pools q and k per block (an scf.for over the rows that exist),
// scores the blocks, and decides every layout bit by counting the candidates
// that outrank it (an scf.for over the key blocks): a block is selected when
// it is the causal diagonal or fewer than topk other candidates beat it.
//
// Query head h reads kv head h / G with G = Hq / Hkv. When G is static that is
// the affine map `d1 floordiv G`; when it is not, k and v are first repeated
// to Hq heads (a generic that extracts the kv head computed at run time).
//
// The optional lse result of both attention ops is m + log(l) per row (-inf
// for a row without visible key).
//
// Serving masks: `sink` and `window` (single or per head, a per-head window
// read from a constant [Hq] tensor) join the visibility test. `sink_logits`
// is a virtual key per head of score sink_h and value 0: m = max(m, sink_h)
// and l += exp(sink_h - m), so a row without visible key has o = 0 and
// lse = sink_h. merge_attention is two generics: the
// merged lse per row, then the weighted sum of the outputs.

#include "Utils.h"
#include "loom/Conversion/LoomToLinalg/LoomToLinalg.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace loom::lowering;

namespace {

Value cmpi(OpBuilder &b, Location loc, arith::CmpIPredicate pred, Value x,
           Value y) {
  return arith::CmpIOp::create(b, loc, pred, x, y);
}

Value andi(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AndIOp::create(b, loc, x, y);
}

/// ceil(s / block) for index s >= 0 and a positive constant block.
Value numBlocks(OpBuilder &b, Location loc, Value s, int64_t block) {
  Value num = arith::AddIOp::create(b, loc, s, indexConstant(b, loc, block - 1));
  return arith::DivUIOp::create(b, loc, num, indexConstant(b, loc, block));
}

/// ceil(size / block) of dim `dim` of `tensor`: a constant where it is static.
OpFoldResult numBlocksOf(OpBuilder &b, Location loc, Value tensor, int64_t dim,
                         int64_t block) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return b.getIndexAttr(
        llvm::divideCeil(static_cast<uint64_t>(type.getDimSize(dim)),
                         static_cast<uint64_t>(block)));
  return numBlocks(b, loc, sizeValue(b, loc, tensor, dim), block);
}

//===----------------------------------------------------------------------===//
// GQA: how query head h reaches kv head h / G.
//===----------------------------------------------------------------------===//

/// The kv-side tensors an op reads, and the affine expression of their head
/// index as a function of the loop dim that runs over query heads.
struct KvHeads {
  SmallVector<Value> tensors;
  std::function<AffineExpr(AffineExpr)> head;
};

/// `t` [B, Hkv, S, X] repeated to `hq` heads: out[b, h, s, x] = t[b, h / G, s,
/// x] with G = Hq / Hkv computed at run time.
Value repeatHeads(OpBuilder &b, Location loc, Value t, OpFoldResult hq,
                  Value group) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  sizes[1] = hq;
  Value init = emptyTensor(b, loc, sizes, type.getElementType());
  MLIRContext *ctx = b.getContext();
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, init, {identityMap(ctx, 4)},
      iterators(4), [&](OpBuilder &nb, Location nl, ValueRange) {
        Value ib = linalg::IndexOp::create(nb, nl, 0);
        Value ih = linalg::IndexOp::create(nb, nl, 1);
        Value is = linalg::IndexOp::create(nb, nl, 2);
        Value ix = linalg::IndexOp::create(nb, nl, 3);
        Value kvh = arith::DivUIOp::create(nb, nl, ih, group);
        Value e =
            tensor::ExtractOp::create(nb, nl, t, ValueRange{ib, kvh, is, ix});
        linalg::YieldOp::create(nb, nl, e);
      });
  return generic.getResult(0);
}

/// Reads of `kv` (all [B, Hkv, ...]) by query heads of `q` [B, Hq, ...].
KvHeads kvHeads(OpBuilder &b, Location loc, Value q, ArrayRef<Value> kv) {
  auto qType = cast<RankedTensorType>(q.getType());
  auto kType = cast<RankedTensorType>(kv.front().getType());
  int64_t hq = qType.getDimSize(1), hkv = kType.getDimSize(1);
  KvHeads r;
  // MQA: every query head reads kv head 0, whatever Hq is. With Hq = 0 there
  // are no query heads (an empty result); the same map keeps the linalg
  // verifier's static bound checks defined (`h floordiv (Hq / Hkv)` would be
  // a floordiv by 0, and `h` over an empty range a bound of -1).
  if (hkv == 1 || hq == 0) {
    r.tensors.assign(kv.begin(), kv.end());
    r.head = [](AffineExpr h) {
      return getAffineConstantExpr(0, h.getContext());
    };
    return r;
  }
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) && hkv > 0) {
    int64_t group = hq / hkv;
    r.tensors.assign(kv.begin(), kv.end());
    r.head = [group](AffineExpr h) {
      return group == 1 ? h : h.floorDiv(group);
    };
    return r;
  }
  // Dynamic group size. A dynamic Hkv of 0 only occurs with empty operands;
  // dividing by max(Hkv, 1) keeps the index computation defined there.
  Value hqV = sizeValue(b, loc, q, 1);
  Value hkvV = sizeValue(b, loc, kv.front(), 1);
  Value safeHkv = arith::MaxUIOp::create(b, loc, hkvV, indexConstant(b, loc, 1));
  Value group = arith::DivUIOp::create(b, loc, hqV, safeHkv);
  Value safeGroup = arith::MaxUIOp::create(b, loc, group, indexConstant(b, loc, 1));
  for (Value t : kv)
    r.tensors.push_back(
        repeatHeads(b, loc, t, getSize(b, loc, q, 1), safeGroup));
  r.head = [](AffineExpr h) { return h; };
  return r;
}

/// out[b, h, x, y] = sum_d a[b, h, x, d] * kv[b, head(h), y, d] in f32, where
/// `a` has query heads and `kv` is read through `head`.
Value headDot(OpBuilder &b, Location loc, Value a, Value kv,
              const std::function<AffineExpr(AffineExpr)> &head) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3, d4;
  bindDims(ctx, d0, d1, d2, d3, d4);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, a);
  sizes[3] = getSize(b, loc, kv, 2);
  Value init = filledTensor(b, loc, sizes, b.getF32Type(), 0.0);
  SmallVector<AffineMap> maps{AffineMap::get(5, 0, {d0, d1, d2, d4}, ctx),
                              AffineMap::get(5, 0, {d0, head(d1), d3, d4}, ctx),
                              AffineMap::get(5, 0, {d0, d1, d2, d3}, ctx)};
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{a, kv}, init, maps, iterators(4, 1),
      multiplyAccumulate);
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// Softmax attention
//===----------------------------------------------------------------------===//

/// Whether key j is visible to query i, built inside the mask generic from the
/// loop indices (b, h, i, j); null means every key is visible.
using VisibleFn = std::function<Value(OpBuilder &, Location, ValueRange idx)>;

/// A reduction of the last dim of a [B, H, S, T] f32 tensor into [B, H, S].
Value reduceRows(OpBuilder &b, Location loc, Value x, double initValue,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> f) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  sizes.pop_back();
  unsigned rank = sizes.size() + 1;
  Value init = filledTensor(b, loc, sizes, b.getF32Type(), initValue);
  MLIRContext *ctx = b.getContext();
  SmallVector<unsigned> rows;
  for (unsigned d = 0; d + 1 < rank; ++d)
    rows.push_back(d);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{x}, init,
      {identityMap(ctx, rank), projectionMap(ctx, rank, rows)},
      iterators(rank - 1, 1),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, f(nb, nl, args[1], args[0]));
      });
  return generic.getResult(0);
}

/// The softmax over the last dim of masked scores `t` (invisible keys
/// -inf; dim 1 is the query head): m, the row maxima (with the head's sink
/// logit when `sinkLogits` is given), p = exp(t - m) (a row without
/// visible key has m = -inf and would give exp(-inf - -inf) = NaN: it
/// subtracts 0 instead, so its p is exp(-inf) = 0) and l, the row sums of
/// p plus exp(sink_h - m) (where m = -inf, no visible key and sink_h =
/// -inf, the sink adds exp(-inf) = 0, as the keys do).
struct SoftmaxRows {
  Value m, p, l;
};
SoftmaxRows softmaxRows(OpBuilder &b, Location loc, Value t,
                        Value sinkLogits) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  double inf = std::numeric_limits<double>::infinity();
  unsigned rank = cast<RankedTensorType>(t.getType()).getRank();
  unsigned rowRank = rank - 1;
  SmallVector<unsigned> rowDims;
  for (unsigned d = 0; d < rowRank; ++d)
    rowDims.push_back(d);
  AffineMap idRows = identityMap(ctx, rowRank);
  AffineMap heads = projectionMap(ctx, rowRank, {1});
  AffineMap idAll = identityMap(ctx, rank);
  AffineMap rows = projectionMap(ctx, rank, rowDims);
  Value negInf = f32Constant(b, loc, -inf);
  Value zero = f32Constant(b, loc, 0.0);
  // max(m, 0 where m = -inf): the row max to subtract.
  auto finiteMax = [&](OpBuilder &nb, Location nl, Value mx) -> Value {
    Value empty =
        arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, mx, negInf);
    return arith::SelectOp::create(nb, nl, empty, zero, mx);
  };

  SoftmaxRows r;
  r.m = reduceRows(b, loc, t, -inf,
                   [](OpBuilder &nb, Location nl, Value acc, Value x) {
                     return arith::MaximumFOp::create(nb, nl, acc, x);
                   });
  if (sinkLogits) {
    Value mInit = emptyTensor(b, loc, getSizes(b, loc, r.m), f32);
    r.m = linalg::GenericOp::create(
              b, loc, mInit.getType(), ValueRange{r.m, sinkLogits}, mInit,
              {idRows, heads, idRows}, iterators(rowRank),
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                linalg::YieldOp::create(
                    nb, nl,
                    arith::MaximumFOp::create(nb, nl, args[0], args[1])
                        .getResult());
              })
              .getResult(0);
  }
  Value pInit = emptyTensor(b, loc, getSizes(b, loc, t), f32);
  r.p = linalg::GenericOp::create(
            b, loc, pInit.getType(), ValueRange{t, r.m}, pInit,
            {idAll, rows, idAll}, iterators(rank),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value e = math::ExpOp::create(
                  nb, nl,
                  arith::SubFOp::create(nb, nl, args[0],
                                        finiteMax(nb, nl, args[1])));
              linalg::YieldOp::create(nb, nl, e);
            })
            .getResult(0);
  r.l = reduceRows(b, loc, r.p, 0.0,
                   [](OpBuilder &nb, Location nl, Value acc, Value x) {
                     return arith::AddFOp::create(nb, nl, acc, x);
                   });
  if (sinkLogits) {
    Value lInit = emptyTensor(b, loc, getSizes(b, loc, r.l), f32);
    r.l = linalg::GenericOp::create(
              b, loc, lInit.getType(), ValueRange{r.l, r.m, sinkLogits},
              lInit, {idRows, idRows, heads, idRows}, iterators(rowRank),
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value e = math::ExpOp::create(
                    nb, nl,
                    arith::SubFOp::create(nb, nl, args[2],
                                          finiteMax(nb, nl, args[1])));
                linalg::YieldOp::create(
                    nb, nl,
                    arith::AddFOp::create(nb, nl, args[0], e).getResult());
              })
              .getResult(0);
  }
  return r;
}

/// The rows' log-sum-exp m + log(l) of `softmax` (any rank), and -inf
/// where l = 0 (m is -inf there too, and -inf + log(0) would be -inf as
/// well; the select says so explicitly).
Value rowLogSumExp(OpBuilder &b, Location loc, const SoftmaxRows &softmax) {
  MLIRContext *ctx = b.getContext();
  Value l = softmax.l;
  unsigned rank = cast<RankedTensorType>(l.getType()).getRank();
  Value lInit = emptyTensor(b, loc, getSizes(b, loc, l), b.getF32Type());
  AffineMap id = identityMap(ctx, rank);
  return linalg::GenericOp::create(
             b, loc, lInit.getType(), ValueRange{softmax.m, l}, lInit,
             {id, id, id}, iterators(rank),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value none = arith::CmpFOp::create(
                   nb, nl, arith::CmpFPredicate::OEQ, args[1],
                   f32Constant(nb, nl, 0.0));
               Value y = arith::AddFOp::create(
                   nb, nl, args[0], math::LogOp::create(nb, nl, args[1]));
               Value negInf = f32Constant(
                   nb, nl, -std::numeric_limits<double>::infinity());
               linalg::YieldOp::create(
                   nb, nl,
                   arith::SelectOp::create(nb, nl, none, negInf, y).getResult());
             })
      .getResult(0);
}

/// The softmax attention shared by attention and block_sparse_attention:
/// the output of type `resultType` and, when `lseType` is given, the rows'
/// log-sum-exp m + log(l) (-inf where l = 0: no visible key).
SmallVector<Value> softmaxAttention(OpBuilder &b, Location loc, Value q,
                                    Value k, Value v,
                                    std::optional<APFloat> scaleAttr,
                                    std::optional<APFloat> softcapAttr,
                                    const VisibleFn &visible, Type resultType,
                                    Type lseType, Value sinkLogits) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  Type elementType = cast<RankedTensorType>(q.getType()).getElementType();
  KvHeads kv = kvHeads(b, loc, q, {k, v});
  Value kk = kv.tensors[0], vv = kv.tensors[1];

  // s[b, h, i, j] = dot(q[b, h, i], k[b, h / G, j]).
  Value s = headDot(b, loc, q, kk, kv.head);

  // t = scale, softcap and mask: invisible keys are -inf.
  Value scale = scaleValue(b, loc, scaleAttr, q);
  Value init = emptyTensor(b, loc, getSizes(b, loc, s), f32);
  Value t = elementwiseF32(
      b, loc, s, init, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value x = arith::MulFOp::create(nb, nl, scale, a[0]);
        if (softcapAttr) {
          Value c = f32Constant(nb, nl, softcapAttr->convertToFloat());
          Value th =
              math::TanhOp::create(nb, nl, arith::DivFOp::create(nb, nl, x, c));
          x = arith::MulFOp::create(nb, nl, c, th);
        }
        if (!visible)
          return x;
        SmallVector<Value> idx;
        for (unsigned d = 0; d < 4; ++d)
          idx.push_back(linalg::IndexOp::create(nb, nl, d));
        Value vis = visible(nb, nl, idx);
        Value negInf = f32Constant(nb, nl, -std::numeric_limits<double>::infinity());
        return arith::SelectOp::create(nb, nl, vis, x, negInf).getResult();
      });

  // m, p = exp(t - m) and l = sum_j p, with the sink logits.
  SoftmaxRows softmax = softmaxRows(b, loc, t, sinkLogits);
  Value m = softmax.m, p = softmax.p, l = softmax.l;
  Value negInf = f32Constant(b, loc, -std::numeric_limits<double>::infinity());
  AffineMap id4 = identityMap(ctx, 4);
  AffineMap rows4 = projectionMap(ctx, 4, {0, 1, 2});
  Value zero = f32Constant(b, loc, 0.0);

  // o[b, h, i, e] = sum_j p[b, h, i, j] * v[b, h / G, j, e].
  AffineExpr d0, d1, d2, d3, d4;
  bindDims(ctx, d0, d1, d2, d3, d4);
  SmallVector<OpFoldResult> oSizes = getSizes(b, loc, q);
  oSizes[3] = getSize(b, loc, v, 3);
  Value oInit = filledTensor(b, loc, oSizes, f32, 0.0);
  Value o = linalg::GenericOp::create(
                b, loc, oInit.getType(), ValueRange{p, vv}, oInit,
                {AffineMap::get(5, 0, {d0, d1, d2, d4}, ctx),
                 AffineMap::get(5, 0, {d0, kv.head(d1), d4, d3}, ctx),
                 AffineMap::get(5, 0, {d0, d1, d2, d3}, ctx)},
                iterators(4, 1),
                multiplyAccumulate)
                .getResult(0);

  // result = o / l, and exactly 0 where l = 0 (no visible key; a row with a
  // visible key has l >= exp(0) = 1).
  Value rInit = emptyTensor(b, loc, oSizes, elementType);
  Value r =
      linalg::GenericOp::create(
          b, loc, rInit.getType(), ValueRange{o, l}, rInit, {id4, rows4, id4},
          iterators(4),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value none = arith::CmpFOp::create(
                nb, nl, arith::CmpFPredicate::OEQ, args[1], zero);
            Value div = arith::DivFOp::create(nb, nl, args[0], args[1]);
            Value y = arith::SelectOp::create(nb, nl, none, zero, div);
            linalg::YieldOp::create(nb, nl, fromF32(nb, nl, y, elementType));
          })
          .getResult(0);
  SmallVector<Value> results{castToType(b, loc, r, resultType)};
  if (!lseType)
    return results;

  results.push_back(castToType(b, loc, rowLogSumExp(b, loc, softmax), lseType));
  return results;
}

/// The type of an attention op's optional lse result, or null.
Type lseTypeOf(Value lse) { return lse ? lse.getType() : Type(); }

/// i' = i + (Skv - Sq), the bottom-right aligned query index (signed).
Value alignedRow(OpBuilder &b, Location loc, Value i, Value sq, Value skv) {
  Value offset = arith::SubIOp::create(b, loc, skv, sq);
  return arith::AddIOp::create(b, loc, i, offset);
}

/// The window-and-sink part of the visibility test (with `causal`, whose
/// j <= i' the caller adds): key j is visible to query i of head h iff
/// W_h = 0, or i' - j < W_h, or j < sink. Null when there is no window.
struct WindowAndSink {
  std::optional<int64_t> window;
  /// [Hq] i64 constant of the per-head windows, or null.
  Value headWindows;
  int64_t sink = 0;

  /// Reads the op's attributes and materializes the per-head table; fails
  /// on values the verifier rejects.
  template <typename OpT>
  static FailureOr<WindowAndSink> of(OpT op, OpBuilder &b) {
    WindowAndSink r;
    if (op.getWindowAttr() && !op.getCausal())
      return failure();
    if (IntegerAttr sink = op.getSinkAttr()) {
      r.sink = sink.getValue().getSExtValue();
      if (r.sink < 0)
        return failure();
    }
    if (std::optional<int64_t> w = op.getUniformWindow()) {
      if (*w <= 0)
        return failure();
      r.window = *w;
    } else if (std::optional<ArrayRef<int64_t>> ws = op.getHeadWindows()) {
      if (llvm::any_of(*ws, [](int64_t w) { return w < 0; }))
        return failure();
      auto type = RankedTensorType::get({static_cast<int64_t>(ws->size())},
                                        b.getI64Type());
      r.headWindows = arith::ConstantOp::create(
          b, op.getLoc(), DenseIntElementsAttr::get(type, *ws));
    }
    return r;
  }

  bool any() const { return window || headWindows; }

  /// The test for loop indices idx = (b, h, i, j) and aligned row ip.
  Value visible(OpBuilder &b, Location l, ValueRange idx, Value ip) const {
    // i' - j < W: i' - j is bounded by the lengths, where i' - W could
    // overflow for a huge W.
    Value dist = arith::SubIOp::create(b, l, ip, idx[3]);
    Value vis;
    if (window) {
      vis = cmpi(b, l, arith::CmpIPredicate::slt, dist,
                 indexConstant(b, l, *window));
    } else {
      Value w64 = tensor::ExtractOp::create(b, l, headWindows, idx[1]);
      Value w = arith::IndexCastOp::create(b, l, b.getIndexType(), w64);
      Value full = cmpi(b, l, arith::CmpIPredicate::eq, w,
                        indexConstant(b, l, 0));
      vis = arith::OrIOp::create(
          b, l, full, cmpi(b, l, arith::CmpIPredicate::slt, dist, w));
    }
    if (sink > 0)
      vis = arith::OrIOp::create(
          b, l, vis,
          cmpi(b, l, arith::CmpIPredicate::slt, idx[3],
               indexConstant(b, l, sink)));
    return vis;
  }
};

struct AttentionLowering : OpRewritePattern<loom::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = op.getQ(), k = op.getK();
    bool causal = op.getCausal();
    FailureOr<WindowAndSink> ws = WindowAndSink::of(op, rewriter);
    if (failed(ws))
      return rewriter.notifyMatchFailure(op, "unverified window or sink");

    VisibleFn visible;
    if (causal) {
      Value sq = sizeValue(rewriter, loc, q, 2);
      Value skv = sizeValue(rewriter, loc, k, 2);
      WindowAndSink w = *ws;
      visible = [=](OpBuilder &b, Location l, ValueRange idx) {
        Value ip = alignedRow(b, l, idx[2], sq, skv);
        // causal: j <= i'.
        Value vis = cmpi(b, l, arith::CmpIPredicate::sle, idx[3], ip);
        if (w.any())
          vis = andi(b, l, vis, w.visible(b, l, idx, ip));
        return vis;
      };
    }
    rewriter.replaceOp(op, softmaxAttention(rewriter, loc, q, k, op.getV(),
                                            op.getScale(), op.getSoftcap(),
                                            visible, op.getType(),
                                            lseTypeOf(op.getLse()),
                                            op.getSinkLogits()));
    return success();
  }
};

struct BlockSparseAttentionLowering
    : OpRewritePattern<loom::BlockSparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::BlockSparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = op.getQ(), k = op.getK(), layout = op.getLayout();
    int64_t blockQ = static_cast<int64_t>(op.getBlockQ());
    int64_t blockK = static_cast<int64_t>(op.getBlockK());
    if (blockQ <= 0 || blockK <= 0)
      return rewriter.notifyMatchFailure(op, "unverified block sizes");
    bool causal = op.getCausal();
    FailureOr<WindowAndSink> ws = WindowAndSink::of(op, rewriter);
    if (failed(ws))
      return rewriter.notifyMatchFailure(op, "unverified window or sink");
    WindowAndSink w = *ws;

    Value sq = sizeValue(rewriter, loc, q, 2);
    Value skv = sizeValue(rewriter, loc, k, 2);
    // A layout dim of size 1 broadcasts: read index 0 there. Whether it is 1
    // is known statically unless the dim is dynamic.
    auto layoutType = cast<RankedTensorType>(layout.getType());
    SmallVector<Value, 2> isOne;
    for (int64_t d = 0; d < 2; ++d)
      isOne.push_back(layoutType.isDynamicDim(d)
                          ? cmpi(rewriter, loc, arith::CmpIPredicate::eq,
                                 sizeValue(rewriter, loc, layout, d),
                                 indexConstant(rewriter, loc, 1))
                          : Value());
    VisibleFn visible = [=](OpBuilder &b, Location l, ValueRange idx) {
      Value zero = indexConstant(b, l, 0);
      auto layoutIndex = [&](int64_t d) -> Value {
        if (isOne[d])
          return arith::SelectOp::create(b, l, isOne[d], zero, idx[d]);
        return layoutType.getDimSize(d) == 1 ? zero : idx[d];
      };
      Value lb = layoutIndex(0), lh = layoutIndex(1);
      Value qBlock =
          arith::DivUIOp::create(b, l, idx[2], indexConstant(b, l, blockQ));
      Value kBlock =
          arith::DivUIOp::create(b, l, idx[3], indexConstant(b, l, blockK));
      Value vis = tensor::ExtractOp::create(b, l, layout,
                                            ValueRange{lb, lh, qBlock, kBlock});
      if (causal) {
        Value ip = alignedRow(b, l, idx[2], sq, skv);
        vis = andi(b, l, vis,
                   cmpi(b, l, arith::CmpIPredicate::sle, idx[3], ip));
        if (w.any())
          vis = andi(b, l, vis, w.visible(b, l, idx, ip));
      }
      return vis;
    };
    rewriter.replaceOp(op, softmaxAttention(rewriter, loc, q, k, op.getV(),
                                            op.getScale(), op.getSoftcap(),
                                            visible, op.getType(),
                                            lseTypeOf(op.getLse()),
                                            op.getSinkLogits()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// paged_attention
//===----------------------------------------------------------------------===//

/// `x` as index (signed: i32 and i64 sign-extend).
Value asIndex(OpBuilder &b, Location loc, Value x) {
  if (x.getType().isIndex())
    return x;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), x);
}

Value asI64(OpBuilder &b, Location loc, Value x) {
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), x);
}

Value minIndex(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MinSIOp::create(b, loc, x, y);
}

Value maxIndex(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MaxSIOp::create(b, loc, x, y);
}

/// The per-sequence attention of packed queries over a paged cache, with
/// the keys of each query row gathered through the block table. Every read
/// is in bounds whatever the index data (see the op's description):
///
///   rows: per token t, its sequence (-1: none), aligned row r' and the
///         number of keys it may see n_kv (0 for uncovered rows), from a
///         count of the offsets <= t;
///   s[t, h, j] = score of key j < maxPages * page (-inf where invisible or
///         its page is out of range), the dot product an scf.for over D
///         inside an scf.if, so masked keys cost nothing;
///   m, p = exp(s - m), l as in softmaxAttention (with sink logits: m
///         raised to sink_h, exp(sink_h - m) added to l);
///   o[t, h, e] = sum_{j < n_kv} p * v / l, an scf.for over the keys of the
///         row's sequence (a key with p = 0 is not read into the sum).
struct PagedAttentionLowering : OpRewritePattern<loom::PagedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::PagedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<WindowAndSink> ws = WindowAndSink::of(op, rewriter);
    if (failed(ws))
      return rewriter.notifyMatchFailure(op, "unverified window or sink");
    WindowAndSink w = *ws;
    bool causal = op.getCausal();
    Value q = op.getQ(), k = op.getK(), v = op.getV();
    Value offsets = op.getQOffsets(), lens = op.getKvLens(),
          table = op.getBlockTable();
    MLIRContext *ctx = rewriter.getContext();
    OpBuilder &b = rewriter;
    Type f32 = b.getF32Type(), i64 = b.getI64Type();
    Type elementType = op.getQ().getType().getElementType();
    auto size = [&](Value t, int64_t d) { return sizeValue(b, loc, t, d); };
    Value zero = indexConstant(b, loc, 0), one = indexConstant(b, loc, 1);

    // Sizes. Where two operands give one size (checked where static), the
    // smaller bounds every read, so that no dynamic mismatch reads past a
    // tensor.
    Value numPages = minIndex(b, loc, size(k, 0), size(v, 0));
    Value page = minIndex(b, loc, size(k, 1), size(v, 1));
    Value hkv = minIndex(b, loc, size(k, 2), size(v, 2));
    Value dqk = minIndex(b, loc, size(q, 2), size(k, 3));
    Value numSeqs = minIndex(
        b, loc, minIndex(b, loc, size(lens, 0), size(table, 0)),
        maxIndex(b, loc, arith::SubIOp::create(b, loc, size(offsets, 0), one),
                 zero));
    Value offsetsSize = size(offsets, 0);
    Value maxPages = size(table, 1);
    Value capacity = arith::MulIOp::create(b, loc, maxPages, page);
    Value usable = andi(
        b, loc,
        andi(b, loc, cmpi(b, loc, arith::CmpIPredicate::sgt, numPages, zero),
             cmpi(b, loc, arith::CmpIPredicate::sgt, page, zero)),
        cmpi(b, loc, arith::CmpIPredicate::sgt, hkv, zero));
    Value safePage = maxIndex(b, loc, page, one);
    Value lastPage = arith::SubIOp::create(b, loc, numPages, one);
    Value lastHead = arith::SubIOp::create(b, loc, hkv, one);
    Value group = maxIndex(
        b, loc,
        arith::DivSIOp::create(b, loc, size(q, 1), maxIndex(b, loc, hkv, one)),
        one);
    Value scale;
    if (std::optional<APFloat> sc = op.getScale()) {
      scale = f32Constant(b, loc, sc->convertToFloat());
    } else {
      Value d = maxIndex(b, loc, size(q, 2), one);
      scale = arith::DivFOp::create(
          b, loc, f32Constant(b, loc, 1.0),
          math::SqrtOp::create(b, loc, indexToF32(b, loc, d)));
    }
    std::optional<APFloat> softcap = op.getSoftcap();
    double inf = std::numeric_limits<double>::infinity();

    // Rows: seq, r' and n_kv per token, as i64.
    SmallVector<OpFoldResult> tSizes{getSize(b, loc, q, 0)};
    Value rowInit = emptyTensor(b, loc, tSizes, i64);
    auto rows = linalg::GenericOp::create(
        b, loc, TypeRange{rowInit.getType(), rowInit.getType(),
                          rowInit.getType()},
        ValueRange{}, ValueRange{rowInit, rowInit, rowInit},
        {identityMap(ctx, 1), identityMap(ctx, 1), identityMap(ctx, 1)},
        iterators(1), [&](OpBuilder &nb, Location nl, ValueRange) {
          Value t = linalg::IndexOp::create(nb, nl, 0);
          Value c0 = indexConstant(nb, nl, 0), c1 = indexConstant(nb, nl, 1);
          auto offsetAt = [&](OpBuilder &ob, Location ol, Value i) {
            return asIndex(ob, ol, tensor::ExtractOp::create(ob, ol, offsets,
                                                             ValueRange{i}));
          };
          // b = #{b' <= B : q_offsets[b'] <= t} - 1, the sequence whose
          // range holds t when the offsets are nondecreasing. (An empty
          // q_offsets is read nowhere.)
          Value upper = minIndex(nb, nl, arith::AddIOp::create(nb, nl, numSeqs, c1),
                                 offsetsSize);
          auto count = scf::ForOp::create(
              nb, nl, c0, upper, c1, ValueRange{c0},
              [&](OpBuilder &lb, Location ll, Value i, ValueRange acc) {
                Value le = cmpi(lb, ll, arith::CmpIPredicate::sle,
                                offsetAt(lb, ll, i), t);
                Value next = arith::AddIOp::create(
                    lb, ll, acc[0],
                    arith::SelectOp::create(lb, ll, le, indexConstant(lb, ll, 1),
                                            indexConstant(lb, ll, 0)));
                scf::YieldOp::create(lb, ll, ValueRange{next});
              });
          Value seq = arith::SubIOp::create(nb, nl, count.getResult(0), c1);
          Value inSeqs = andi(
              nb, nl, cmpi(nb, nl, arith::CmpIPredicate::sge, seq, c0),
              cmpi(nb, nl, arith::CmpIPredicate::slt, seq, numSeqs));
          auto info = scf::IfOp::create(
              nb, nl, inSeqs,
              [&](OpBuilder &ib, Location il) {
                Value start = offsetAt(ib, il, seq);
                Value end = offsetAt(
                    ib, il, arith::AddIOp::create(ib, il, seq,
                                                  indexConstant(ib, il, 1)));
                Value covered = andi(
                    ib, il, cmpi(ib, il, arith::CmpIPredicate::sle, start, t),
                    cmpi(ib, il, arith::CmpIPredicate::slt, t, end));
                Value nq = arith::SubIOp::create(ib, il, end, start);
                Value len = asIndex(
                    ib, il, tensor::ExtractOp::create(ib, il, lens, seq));
                Value nkv = minIndex(
                    ib, il, maxIndex(ib, il, len, indexConstant(ib, il, 0)),
                    capacity);
                nkv = arith::SelectOp::create(ib, il, usable, nkv,
                                              indexConstant(ib, il, 0));
                Value ip = arith::AddIOp::create(
                    ib, il, arith::SubIOp::create(ib, il, t, start),
                    arith::SubIOp::create(ib, il, nkv, nq));
                Value none = indexConstant(ib, il, -1);
                scf::YieldOp::create(
                    ib, il,
                    ValueRange{
                        asI64(ib, il, arith::SelectOp::create(ib, il, covered,
                                                              seq, none)),
                        asI64(ib, il, ip),
                        asI64(ib, il,
                              arith::SelectOp::create(
                                  ib, il, covered, nkv,
                                  indexConstant(ib, il, 0)))});
              },
              [&](OpBuilder &ib, Location il) {
                Value none = arith::ConstantIntOp::create(ib, il, i64, -1);
                Value z = arith::ConstantIntOp::create(ib, il, i64, 0);
                scf::YieldOp::create(ib, il, ValueRange{none, z, z});
              });
          linalg::YieldOp::create(nb, nl, info.getResults());
        });
    Value seqOf = rows.getResult(0), rowOf = rows.getResult(1),
          keysOf = rows.getResult(2);

    // The physical page of key j of sequence `seq` (both in range).
    auto pageOf = [&](OpBuilder &pb, Location pl, Value seq, Value j) {
      Value logical = arith::DivUIOp::create(pb, pl, j, safePage);
      return asIndex(pb, pl,
                     tensor::ExtractOp::create(pb, pl, table,
                                               ValueRange{seq, logical}));
    };
    auto kvHead = [&](OpBuilder &hb, Location hl, Value h) {
      return minIndex(hb, hl, arith::DivUIOp::create(hb, hl, h, group),
                      lastHead);
    };

    // s[t, h, j]: scaled, capped score, -inf where j is not visible.
    AffineMap tokens3 = projectionMap(ctx, 3, {0});
    SmallVector<OpFoldResult> sSizes{getSize(b, loc, q, 0),
                                     getSize(b, loc, q, 1), capacity};
    Value sInit = emptyTensor(b, loc, sSizes, f32);
    Value scores =
        linalg::GenericOp::create(
            b, loc, sInit.getType(), ValueRange{seqOf, rowOf, keysOf}, sInit,
            {tokens3, tokens3, tokens3, identityMap(ctx, 3)}, iterators(3),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value t = linalg::IndexOp::create(nb, nl, 0);
              Value h = linalg::IndexOp::create(nb, nl, 1);
              Value j = linalg::IndexOp::create(nb, nl, 2);
              Value seq = asIndex(nb, nl, args[0]);
              Value ip = asIndex(nb, nl, args[1]);
              Value nkv = asIndex(nb, nl, args[2]);
              Value vis = cmpi(nb, nl, arith::CmpIPredicate::slt, j, nkv);
              if (causal) {
                vis = andi(nb, nl, vis,
                           cmpi(nb, nl, arith::CmpIPredicate::sle, j, ip));
                if (w.any())
                  vis = andi(nb, nl, vis,
                             w.visible(nb, nl, ValueRange{t, h, t, j}, ip));
              }
              Value negInf = f32Constant(nb, nl, -inf);
              auto score = scf::IfOp::create(
                  nb, nl, vis,
                  [&](OpBuilder &ib, Location il) {
                    Value pg = pageOf(ib, il, seq, j);
                    Value pageOk = andi(
                        ib, il,
                        cmpi(ib, il, arith::CmpIPredicate::sge, pg,
                             indexConstant(ib, il, 0)),
                        cmpi(ib, il, arith::CmpIPredicate::slt, pg, numPages));
                    auto inPage = scf::IfOp::create(
                        ib, il, pageOk,
                        [&](OpBuilder &db, Location dl) {
                          Value off = arith::RemUIOp::create(db, dl, j, safePage);
                          Value kh = kvHead(db, dl, h);
                          auto dot = scf::ForOp::create(
                              db, dl, indexConstant(db, dl, 0), dqk,
                              indexConstant(db, dl, 1),
                              ValueRange{f32Constant(db, dl, 0.0)},
                              [&](OpBuilder &fb, Location fl, Value d,
                                  ValueRange acc) {
                                Value qe = toF32(
                                    fb, fl,
                                    tensor::ExtractOp::create(
                                        fb, fl, q, ValueRange{t, h, d}));
                                Value ke = toF32(
                                    fb, fl,
                                    tensor::ExtractOp::create(
                                        fb, fl, k, ValueRange{pg, off, kh, d}));
                                Value prod = arith::MulFOp::create(fb, fl, qe, ke);
                                scf::YieldOp::create(
                                    fb, fl,
                                    ValueRange{arith::AddFOp::create(
                                        fb, fl, acc[0], prod)});
                              });
                          Value x = arith::MulFOp::create(db, dl, scale,
                                                          dot.getResult(0));
                          if (softcap) {
                            Value c = f32Constant(db, dl,
                                                  softcap->convertToFloat());
                            Value th = math::TanhOp::create(
                                db, dl, arith::DivFOp::create(db, dl, x, c));
                            x = arith::MulFOp::create(db, dl, c, th);
                          }
                          scf::YieldOp::create(db, dl, x);
                        },
                        [&](OpBuilder &db, Location dl) {
                          scf::YieldOp::create(db, dl,
                                               f32Constant(db, dl, -inf));
                        });
                    scf::YieldOp::create(ib, il, inPage.getResult(0));
                  },
                  [&](OpBuilder &ib, Location il) {
                    scf::YieldOp::create(ib, il, negInf);
                  });
              linalg::YieldOp::create(nb, nl, score.getResult(0));
            })
            .getResult(0);

    // m, p = exp(s - m) and l, with the sink logits: a row without
    // visible key gets l = 0 (or 1 with a finite sink logit) and o = 0.
    SoftmaxRows softmax = softmaxRows(b, loc, scores, op.getSinkLogits());
    Value p = softmax.p, l = softmax.l;
    AffineMap id3 = identityMap(ctx, 3);
    AffineMap rows3 = projectionMap(ctx, 3, {0, 1});

    // o[t, h, e] = sum_{j < n_kv} p[t, h, j] v[page, off, h / G, e] / l; 0
    // where l = 0 (no visible key, or no sequence).
    SmallVector<OpFoldResult> oSizes{getSize(b, loc, q, 0),
                                     getSize(b, loc, q, 1),
                                     getSize(b, loc, v, 3)};
    Value oInit = emptyTensor(b, loc, oSizes, elementType);
    Value o =
        linalg::GenericOp::create(
            b, loc, oInit.getType(), ValueRange{seqOf, keysOf, l}, oInit,
            {tokens3, tokens3, rows3, id3}, iterators(3),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value t = linalg::IndexOp::create(nb, nl, 0);
              Value h = linalg::IndexOp::create(nb, nl, 1);
              Value e = linalg::IndexOp::create(nb, nl, 2);
              Value seq = asIndex(nb, nl, args[0]);
              Value nkv = asIndex(nb, nl, args[1]);
              Value kh = kvHead(nb, nl, h);
              auto sum = scf::ForOp::create(
                  nb, nl, indexConstant(nb, nl, 0), nkv,
                  indexConstant(nb, nl, 1),
                  ValueRange{f32Constant(nb, nl, 0.0)},
                  [&](OpBuilder &fb, Location fl, Value j, ValueRange acc) {
                    Value pj = tensor::ExtractOp::create(fb, fl, p,
                                                         ValueRange{t, h, j});
                    // n_kv > 0 only where a page exists: the clamped page
                    // is in range; p = 0 for a key whose page is not.
                    Value pg = maxIndex(
                        fb, fl, minIndex(fb, fl, pageOf(fb, fl, seq, j), lastPage),
                        indexConstant(fb, fl, 0));
                    Value off = arith::RemUIOp::create(fb, fl, j, safePage);
                    Value ve = toF32(fb, fl,
                                     tensor::ExtractOp::create(
                                         fb, fl, v, ValueRange{pg, off, kh, e}));
                    Value next = arith::AddFOp::create(
                        fb, fl, acc[0], arith::MulFOp::create(fb, fl, pj, ve));
                    Value used = arith::CmpFOp::create(
                        fb, fl, arith::CmpFPredicate::UNE, pj,
                        f32Constant(fb, fl, 0.0));
                    scf::YieldOp::create(
                        fb, fl,
                        ValueRange{arith::SelectOp::create(fb, fl, used, next,
                                                           acc[0])});
                  });
              Value none = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OEQ, args[2],
                  f32Constant(nb, nl, 0.0));
              Value div =
                  arith::DivFOp::create(nb, nl, sum.getResult(0), args[2]);
              Value y = arith::SelectOp::create(nb, nl, none,
                                                f32Constant(nb, nl, 0.0), div);
              linalg::YieldOp::create(nb, nl, fromF32(nb, nl, y, elementType));
            })
            .getResult(0);
    SmallVector<Value> results{castToType(b, loc, o, op.getType())};
    if (Value lse = op.getLse()) {
      // The rows' lse, and -inf for rows of no sequence (which the sink
      // logits would otherwise give sink_h).
      Value rowsLse = rowLogSumExp(b, loc, softmax);
      AffineMap tokens2 = projectionMap(ctx, 2, {0});
      AffineMap id2 = identityMap(ctx, 2);
      Value lInit = emptyTensor(b, loc, getSizes(b, loc, rowsLse), f32);
      Value covered =
          linalg::GenericOp::create(
              b, loc, lInit.getType(), ValueRange{rowsLse, seqOf}, lInit,
              {id2, tokens2, id2}, iterators(2),
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value none = arith::CmpIOp::create(
                    nb, nl, arith::CmpIPredicate::slt, args[1],
                    arith::ConstantIntOp::create(nb, nl, i64, 0));
                linalg::YieldOp::create(
                    nb, nl,
                    arith::SelectOp::create(nb, nl, none,
                                            f32Constant(nb, nl, -inf), args[0])
                        .getResult());
              })
              .getResult(0);
      results.push_back(castToType(b, loc, covered, lse.getType()));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// select_blocks
//===----------------------------------------------------------------------===//

/// Block means of `t` [B, H, S, D] over the sequence: out[b, h, I, d] is the
/// f32 mean of t[b, h, r, d] for the rows r of block I that exist.
Value poolBlocks(OpBuilder &b, Location loc, Value t, int64_t block) {
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, t);
  Value s = sizeValue(b, loc, t, 2);
  sizes[2] = numBlocksOf(b, loc, t, 2, block);
  Value init = emptyTensor(b, loc, sizes, b.getF32Type());
  MLIRContext *ctx = b.getContext();
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, init, {identityMap(ctx, 4)},
      iterators(4), [&](OpBuilder &nb, Location nl, ValueRange) {
        Value ib = linalg::IndexOp::create(nb, nl, 0);
        Value ih = linalg::IndexOp::create(nb, nl, 1);
        Value iblk = linalg::IndexOp::create(nb, nl, 2);
        Value id = linalg::IndexOp::create(nb, nl, 3);
        Value lo = arith::MulIOp::create(nb, nl, iblk, indexConstant(nb, nl, block));
        Value hi = arith::MinUIOp::create(
            nb, nl, arith::AddIOp::create(nb, nl, lo, indexConstant(nb, nl, block)),
            s);
        auto loop = scf::ForOp::create(
            nb, nl, lo, hi, indexConstant(nb, nl, 1),
            ValueRange{f32Constant(nb, nl, 0.0)},
            [&](OpBuilder &lb, Location ll, Value r, ValueRange acc) {
              Value x = toF32(lb, ll,
                              tensor::ExtractOp::create(
                                  lb, ll, t, ValueRange{ib, ih, r, id}));
              scf::YieldOp::create(
                  lb, ll, ValueRange{arith::AddFOp::create(lb, ll, acc[0], x)});
            });
        Value count = indexToF32(nb, nl, arith::SubIOp::create(nb, nl, hi, lo));
        linalg::YieldOp::create(
            nb, nl,
            arith::DivFOp::create(nb, nl, loop.getResult(0), count)
                .getResult());
      });
  return generic.getResult(0);
}

struct SelectBlocksLowering : OpRewritePattern<loom::SelectBlocksOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::SelectBlocksOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = op.getQ(), k = op.getK();
    int64_t blockQ = static_cast<int64_t>(op.getBlockQ());
    int64_t blockK = static_cast<int64_t>(op.getBlockK());
    int64_t topk = static_cast<int64_t>(op.getTopk());
    if (blockQ <= 0 || blockK <= 0 || topk < 0)
      return rewriter.notifyMatchFailure(op, "unverified attributes");
    bool causal = op.getCausal();
    MLIRContext *ctx = rewriter.getContext();

    // Block scores s[b, h, I, J] = scale * dot(qb[b, h, I], kb[b, h / G, J]).
    Value qb = poolBlocks(rewriter, loc, q, blockQ);
    Value kb = poolBlocks(rewriter, loc, k, blockK);
    KvHeads kv = kvHeads(rewriter, loc, q, {kb});
    Value dots = headDot(rewriter, loc, qb, kv.tensors[0], kv.head);
    Value scale = scaleValue(rewriter, loc, op.getScale(), q);

    Value sq = sizeValue(rewriter, loc, q, 2);
    Value skv = sizeValue(rewriter, loc, k, 2);
    Value nkb = numBlocks(rewriter, loc, skv, blockK);
    Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, dots),
                             rewriter.getI1Type());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), ValueRange{dots}, init,
        {identityMap(ctx, 4), identityMap(ctx, 4)}, iterators(4),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value ib = linalg::IndexOp::create(b, l, 0);
          Value ih = linalg::IndexOp::create(b, l, 1);
          Value iq = linalg::IndexOp::create(b, l, 2);
          Value jk = linalg::IndexOp::create(b, l, 3);
          Value zero = indexConstant(b, l, 0), one = indexConstant(b, l, 1);
          // Candidates are the key blocks J < numCand. With causal, key block J
          // holds a key visible to some query of block I iff J * block_k <=
          // i'_last, the aligned index of the block's last row; that row sees
          // the most keys. The diagonal block (holding j = i'_last) is then the
          // last candidate, and there is none when i'_last < 0.
          Value numCand = nkb, diag = indexConstant(b, l, -1);
          if (causal) {
            Value end = arith::MinUIOp::create(
                b, l,
                arith::MulIOp::create(b, l,
                                      arith::AddIOp::create(b, l, iq, one),
                                      indexConstant(b, l, blockQ)),
                sq);
            Value last = arith::SubIOp::create(b, l, end, one);
            Value ipLast = alignedRow(b, l, last, sq, skv);
            Value anyVisible =
                cmpi(b, l, arith::CmpIPredicate::sge, ipLast, zero);
            Value blocks = arith::AddIOp::create(
                b, l,
                arith::DivSIOp::create(b, l, ipLast, indexConstant(b, l, blockK)),
                one);
            numCand = arith::SelectOp::create(b, l, anyVisible, blocks, zero);
            diag = arith::SubIOp::create(b, l, numCand, one);
          }
          Value score = arith::MulFOp::create(b, l, scale, args[0]);
          // How many other non-diagonal candidates outrank J: a higher score,
          // or an equal score at a lower index.
          auto loop = scf::ForOp::create(
              b, l, zero, numCand, one, ValueRange{zero},
              [&](OpBuilder &lb, Location ll, Value j2, ValueRange acc) {
                Value other = tensor::ExtractOp::create(
                    lb, ll, dots, ValueRange{ib, ih, iq, j2});
                Value otherScore = arith::MulFOp::create(lb, ll, scale, other);
                Value higher = arith::CmpFOp::create(
                    lb, ll, arith::CmpFPredicate::OGT, otherScore, score);
                Value tie = andi(
                    lb, ll,
                    arith::CmpFOp::create(lb, ll, arith::CmpFPredicate::OEQ,
                                          otherScore, score),
                    cmpi(lb, ll, arith::CmpIPredicate::ult, j2, jk));
                Value beats = arith::OrIOp::create(lb, ll, higher, tie);
                Value counts =
                    andi(lb, ll, beats,
                         cmpi(lb, ll, arith::CmpIPredicate::ne, j2, diag));
                Value next = arith::AddIOp::create(
                    lb, ll, acc[0],
                    arith::SelectOp::create(lb, ll, counts, indexConstant(lb, ll, 1),
                                            indexConstant(lb, ll, 0)));
                scf::YieldOp::create(lb, ll, ValueRange{next});
              });
          Value isCand = cmpi(b, l, arith::CmpIPredicate::slt, jk, numCand);
          Value isDiag = cmpi(b, l, arith::CmpIPredicate::eq, jk, diag);
          Value inTopk = cmpi(b, l, arith::CmpIPredicate::slt,
                              loop.getResult(0), indexConstant(b, l, topk));
          Value selected =
              andi(b, l, isCand, arith::OrIOp::create(b, l, isDiag, inTopk));
          linalg::YieldOp::create(b, l, selected);
        });
    rewriter.replaceOp(
        op, castToType(rewriter, loc, generic.getResult(0), op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// merge_attention
//===----------------------------------------------------------------------===//

/// Per row, in f32: m = max_i lse_i, lse = m + log(sum_i exp(lse_i - m)),
/// o = sum_i exp(lse_i - lse) * o_i rounded once; a row whose lse_i are all
/// -inf gives lse = -inf and o = 0. One pair is the identity.
struct MergeAttentionLowering : OpRewritePattern<loom::MergeAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::MergeAttentionOp op,
                                PatternRewriter &rewriter) const override {
    unsigned n = op.getNumPairs();
    if (n == 0 || op.getInputs().size() != 2 * n)
      return rewriter.notifyMatchFailure(op, "unverified operands");
    Location loc = op.getLoc();
    Type oType = op.getResult().getType(), lseType = op.getLse().getType();
    if (n == 1) {
      rewriter.replaceOp(
          op, {castToType(rewriter, loc, op.getOutput(0), oType),
               castToType(rewriter, loc, op.getLogSumExp(0), lseType)});
      return success();
    }
    MLIRContext *ctx = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    double inf = std::numeric_limits<double>::infinity();
    SmallVector<Value> lses, outs;
    for (unsigned i = 0; i < n; ++i) {
      outs.push_back(op.getOutput(i));
      lses.push_back(op.getLogSumExp(i));
    }

    // lse, with the max subtracted so that no exp overflows.
    AffineMap id3 = identityMap(ctx, 3);
    Value lInit =
        emptyTensor(rewriter, loc, getSizes(rewriter, loc, lses[0]), f32);
    SmallVector<AffineMap> lMaps(n + 1, id3);
    Value lse =
        linalg::GenericOp::create(
            rewriter, loc, lInit.getType(), lses, lInit, lMaps, iterators(3),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value m = args[0];
              for (unsigned i = 1; i < n; ++i)
                m = arith::MaximumFOp::create(b, l, m, args[i]);
              Value negInf = f32Constant(b, l, -inf);
              // All -inf: subtract 0 so that exp(-inf - 0) = 0, not NaN.
              Value none =
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, m,
                                        negInf);
              Value mx = arith::SelectOp::create(b, l, none,
                                                 f32Constant(b, l, 0.0), m);
              Value sum = f32Constant(b, l, 0.0);
              for (unsigned i = 0; i < n; ++i)
                sum = arith::AddFOp::create(
                    b, l, sum,
                    math::ExpOp::create(
                        b, l, arith::SubFOp::create(b, l, args[i], mx)));
              Value y = arith::AddFOp::create(b, l, m,
                                              math::LogOp::create(b, l, sum));
              linalg::YieldOp::create(
                  b, l, arith::SelectOp::create(b, l, none, negInf, y)
                            .getResult());
            })
            .getResult(0);

    // o = sum_i exp(lse_i - lse) * o_i; 0 where lse = -inf.
    AffineMap id4 = identityMap(ctx, 4);
    AffineMap rows4 = projectionMap(ctx, 4, {0, 1, 2});
    Type element = cast<RankedTensorType>(outs[0].getType()).getElementType();
    SmallVector<Value> inputs(outs);
    inputs.append(lses);
    inputs.push_back(lse);
    SmallVector<AffineMap> oMaps(n, id4);
    oMaps.append(n + 1, rows4);
    oMaps.push_back(id4);
    Value oInit =
        emptyTensor(rewriter, loc, getSizes(rewriter, loc, outs[0]), element);
    Value o =
        linalg::GenericOp::create(
            rewriter, loc, oInit.getType(), inputs, oInit, oMaps, iterators(4),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value total = args[2 * n];
              Value zero = f32Constant(b, l, 0.0);
              Value none = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, total, f32Constant(b, l, -inf));
              Value acc = zero;
              for (unsigned i = 0; i < n; ++i) {
                Value w = math::ExpOp::create(
                    b, l, arith::SubFOp::create(b, l, args[n + i], total));
                // A pair with lse_i = -inf contributes nothing, even where
                // its o_i is not finite (0 * inf would be NaN).
                Value empty = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OEQ, args[n + i],
                    f32Constant(b, l, -inf));
                Value next =
                    math::FmaOp::create(b, l, w, toF32(b, l, args[i]), acc);
                acc = arith::SelectOp::create(b, l, empty, acc, next);
              }
              Value y = arith::SelectOp::create(b, l, none, zero, acc);
              linalg::YieldOp::create(b, l, fromF32(b, l, y, element));
            })
            .getResult(0);
    rewriter.replaceOp(op, {castToType(rewriter, loc, o, oType),
                            castToType(rewriter, loc, lse, lseType)});
    return success();
  }
};

} // namespace

void loom::populateAttentionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionLowering, BlockSparseAttentionLowering,
               PagedAttentionLowering, SelectBlocksLowering,
               MergeAttentionLowering>(
      patterns.getContext());
}
