//===- Elementwise.cpp - lowering of norms, RoPE and activations -----------===//
//
// rms_norm and layer_norm reduce over the last dimension into f32 statistics
// (compensated sums; layer_norm's variance by the corrected two-pass
// formula), then normalize in one elementwise pass; rope reads each
// element's rotation partner with tensor.extract; gelu and silu are one
// linalg.generic each.

#include "Utils.h"
#include "loom/Conversion/LoomToLinalg/LoomToLinalg.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace loom::lowering;

namespace {

/// silu(x) = x * sigmoid(x) = x / (1 + exp(-x)).
Value siluF32(OpBuilder &b, Location loc, Value x) {
  Value negX = arith::NegFOp::create(b, loc, x);
  Value e = math::ExpOp::create(b, loc, negX);
  Value den = arith::AddFOp::create(b, loc, f32Constant(b, loc, 1.0), e);
  return arith::DivFOp::create(b, loc, x, den);
}

Value geluF32(OpBuilder &b, Location loc, Value x, bool tanhApprox) {
  Value half = f32Constant(b, loc, 0.5), one = f32Constant(b, loc, 1.0);
  Value inner;
  if (tanhApprox) {
    // sqrt(2/pi) * (x + 0.044715 x^3)
    Value x3 = arith::MulFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, f32Constant(b, loc, 0.044715), x3));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, f32Constant(b, loc, std::sqrt(2.0 / M_PI)),
                              poly));
  } else {
    inner = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, f32Constant(b, loc, M_SQRT1_2)));
  }
  Value t = arith::AddFOp::create(b, loc, one, inner);
  return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, half, x),
                               t);
}

struct SiluLowering : OpRewritePattern<loom::SiluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::SiluOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getX().getType();
    Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, op.getX()),
                             type.getElementType());
    Value r = elementwiseF32(rewriter, loc, op.getX(), init,
                             [](OpBuilder &b, Location l, ValueRange a) {
                               return siluF32(b, l, a[0]);
                             });
    rewriter.replaceOp(op, castToType(rewriter, loc, r, op.getType()));
    return success();
  }
};

struct GeluLowering : OpRewritePattern<loom::GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::GeluOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<loom::GeluApproximation> kind = op.getApproximateKind();
    if (!kind)
      return rewriter.notifyMatchFailure(op, "unverified approximate");
    bool tanhApprox = *kind == loom::GeluApproximation::Tanh;
    Location loc = op.getLoc();
    Value init =
        emptyTensor(rewriter, loc, getSizes(rewriter, loc, op.getX()),
                    op.getX().getType().getElementType());
    Value r = elementwiseF32(rewriter, loc, op.getX(), init,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return geluF32(b, l, a[0], tanhApprox);
                             });
    rewriter.replaceOp(op, castToType(rewriter, loc, r, op.getType()));
    return success();
  }
};

/// The map from a rank-`rank` iteration space to its leading dims (a row).
AffineMap rowMap(MLIRContext *ctx, unsigned rank) {
  SmallVector<unsigned> lead;
  for (unsigned i = 0; i + 1 < rank; ++i)
    lead.push_back(i);
  return projectionMap(ctx, rank, lead);
}

/// v - shifts[0] - shifts[1] - ..., in that order (not v - (s0 + s1): the
/// second shift is a small correction that s0 + s1 would round away).
Value centred(OpBuilder &b, Location loc, Value v, ValueRange shifts) {
  for (Value s : shifts)
    v = arith::SubFOp::create(b, loc, v, s);
  return v;
}

/// Per row, the f32 sum over the last dim of `term(centred(x, shifts))`;
/// `shifts` are f32 tensors of the leading dims. Kahan-compensated: a plain
/// running f32 sum loses about three digits over 65536 terms of one sign
/// (its rounding errors share that sign too; a row of 1e4 + N(0, 1) got a
/// mean off by 1 and a layer_norm 100% wrong), the compensated sum stays
/// within a few roundings of the exact one at any row length.
Value sumRows(OpBuilder &b, Location loc, Value x, ValueRange shifts,
              function_ref<Value(OpBuilder &, Location, Value)> term) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  sizes.pop_back();
  Type f32 = b.getF32Type();
  Value sum = filledTensor(b, loc, sizes, f32, 0.0);
  Value compensation = filledTensor(b, loc, sizes, f32, 0.0);
  SmallVector<Value> inputs{x};
  llvm::append_range(inputs, shifts);
  SmallVector<AffineMap> maps{identityMap(ctx, rank)};
  maps.append(shifts.size() + 2, rowMap(ctx, rank));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{sum.getType(), sum.getType()}, inputs,
      ValueRange{sum, compensation}, maps, iterators(rank - 1, 1),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = centred(nb, nl, toF32(nb, nl, args[0]),
                          args.slice(1, shifts.size()));
        Value acc = args[args.size() - 2], comp = args.back();
        Value y = arith::SubFOp::create(nb, nl, term(nb, nl, v), comp);
        Value t = arith::AddFOp::create(nb, nl, acc, y);
        Value lost = arith::SubFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, t, acc), y);
        linalg::YieldOp::create(nb, nl, ValueRange{t, lost});
      });
  return generic.getResult(0);
}

Value identityTerm(OpBuilder &, Location, Value v) { return v; }
Value squareTerm(OpBuilder &b, Location loc, Value v) {
  return arith::MulFOp::create(b, loc, v, v);
}

/// The last dim of x as an f32 scalar.
Value lastDimF32(OpBuilder &b, Location loc, Value x) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  return indexToF32(b, loc, sizeValue(b, loc, x, rank - 1));
}

/// An f32 tensor of the leading dims computed per row from `rows` (f32
/// tensors of the leading dims).
Value perRow(OpBuilder &b, Location loc, ValueRange rows,
             function_ref<Value(OpBuilder &, Location, ValueRange)> f) {
  Value init =
      emptyTensor(b, loc, getSizes(b, loc, rows.front()), b.getF32Type());
  return elementwiseF32(b, loc, rows, init, f);
}

/// out = centred(x, shifts) * rsqrt(variance + eps) * g (+ bias), per element;
/// `variance` is per row.
Value normalize(OpBuilder &b, Location loc, Value x, ValueRange shifts,
                Value variance, Value g, Value bias, float eps,
                Type resultType) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  AffineMap leadMap = rowMap(ctx, rank);
  AffineMap lastMap = projectionMap(ctx, rank, {rank - 1});
  SmallVector<Value> inputs{x, variance, g};
  SmallVector<AffineMap> maps{identityMap(ctx, rank), leadMap, lastMap};
  llvm::append_range(inputs, shifts);
  maps.append(shifts.size(), leadMap);
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(lastMap);
  }
  maps.push_back(identityMap(ctx, rank));
  Type elementType = type.getElementType();
  Value init = emptyTensor(b, loc, getSizes(b, loc, x), elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, init, maps, iterators(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = centred(nb, nl, toF32(nb, nl, args[0]),
                          args.slice(3, shifts.size()));
        Value denom = arith::AddFOp::create(
            nb, nl, args[1], floatConstant(nb, nl, nb.getF32Type(), eps));
        Value inv = math::RsqrtOp::create(nb, nl, denom);
        Value y = arith::MulFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, v, inv),
            toF32(nb, nl, args[2]));
        if (bias)
          y = arith::AddFOp::create(nb, nl, y,
                                    toF32(nb, nl, args[3 + shifts.size()]));
        linalg::YieldOp::create(nb, nl, fromF32(nb, nl, y, elementType));
      });
  return castToType(b, loc, generic.getResult(0), resultType);
}

struct RmsNormLowering : OpRewritePattern<loom::RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    Value c = lastDimF32(rewriter, loc, x);
    Value ss = sumRows(rewriter, loc, x, {}, squareTerm);
    Value meanSquare = perRow(rewriter, loc, ss,
                              [&](OpBuilder &b, Location l, ValueRange a) {
                                return arith::DivFOp::create(b, l, a[0], c);
                              });
    rewriter.replaceOp(op, normalize(rewriter, loc, x, {}, meanSquare,
                                     op.getG(), Value(),
                                     op.getEpsilon().convertToFloat(),
                                     op.getType()));
    return success();
  }
};

struct LayerNormLowering : OpRewritePattern<loom::LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    Value c = lastDimF32(rewriter, loc, x);
    auto divideByC = [&](OpBuilder &b, Location l, ValueRange a) -> Value {
      return arith::DivFOp::create(b, l, a[0], c);
    };
    // Corrected two-pass (Chan, Golub and LeVeque): m = mean(x) in f32 is off
    // by up to half an ulp of the mean (5e-4 for a mean of 1e4), which is a
    // large error for a row of unit variance. d = x - m is exact for the
    // elements near m, so its mean r = mean(d) recovers that error, and
    // var = mean(d^2) - r^2 loses nothing as |r| << the deviation. The
    // output centres in the same two steps: (x - m) - r.
    Value m = perRow(rewriter, loc, sumRows(rewriter, loc, x, {}, identityTerm),
                     divideByC);
    Value r = perRow(rewriter, loc, sumRows(rewriter, loc, x, m, identityTerm),
                     divideByC);
    Value dd = sumRows(rewriter, loc, x, m, squareTerm);
    Value var = perRow(rewriter, loc, {dd, r},
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         Value msq = arith::DivFOp::create(b, l, a[0], c);
                         Value rr = arith::MulFOp::create(b, l, a[1], a[1]);
                         Value v = arith::SubFOp::create(b, l, msq, rr);
                         // Rounding could leave -tiny for a constant row.
                         return arith::MaximumFOp::create(
                             b, l, v, f32Constant(b, l, 0.0));
                       });
    rewriter.replaceOp(op, normalize(rewriter, loc, x, {m, r}, var, op.getG(),
                                     op.getB(),
                                     op.getEpsilon().convertToFloat(),
                                     op.getType()));
    return success();
  }
};

struct RopeLowering : OpRewritePattern<loom::RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::RopeOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<loom::RopeStyle> style = op.getStyleKind();
    if (!style)
      return rewriter.notifyMatchFailure(op, "unverified style");
    bool interleaved = *style == loom::RopeStyle::Interleaved;
    Location loc = op.getLoc();
    Value x = op.getX(), cosT = op.getCos(), sinT = op.getSin();
    Value positions = op.getPositions();
    Type elementType = op.getX().getType().getElementType();
    // [B, H, S, D] reads table row s; packed [T, H, D] with positions reads
    // row positions[t], clamped into [0, N - 1] (no table rows: no rotation).
    unsigned rank = op.getX().getType().getRank();
    if (positions ? rank != 3 : rank != 4)
      return rewriter.notifyMatchFailure(op, "unverified rank");
    Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, x),
                             elementType);
    Value d = sizeValue(rewriter, loc, x, rank - 1);
    int64_t staticRows = op.getCos().getType().getDimSize(0);
    Value rows, lastRow, haveRows;
    if (positions) {
      // Both tables are read at one row: the smaller of their heights
      // bounds it (the verifier makes them equal where static).
      rows = arith::MinUIOp::create(rewriter, loc,
                                    sizeValue(rewriter, loc, cosT, 0),
                                    sizeValue(rewriter, loc, sinT, 0));
      Value oneIdx = arith::ConstantIndexOp::create(rewriter, loc, 1);
      lastRow = arith::SubIOp::create(rewriter, loc, rows, oneIdx);
      if (ShapedType::isDynamic(staticRows) || staticRows == 0)
        haveRows = arith::CmpIOp::create(
            rewriter, loc, arith::CmpIPredicate::ugt, rows,
            arith::ConstantIndexOp::create(rewriter, loc, 0));
    }
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value two = arith::ConstantIndexOp::create(rewriter, loc, 2);
    Value halfD = arith::DivUIOp::create(rewriter, loc, d, two);
    MLIRContext *ctx = rewriter.getContext();
    // positions[t] is an operand of the generic (map t): its size is tied
    // to x's T like any operand's, so that the entry checks see it.
    SmallVector<Value> inputs{x};
    SmallVector<AffineMap> maps{identityMap(ctx, rank)};
    if (positions) {
      inputs.push_back(positions);
      maps.push_back(projectionMap(ctx, rank, {0}));
    }
    maps.push_back(identityMap(ctx, rank));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), inputs, init, maps, iterators(rank),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> idx;
          for (unsigned i = 0; i < rank; ++i)
            idx.push_back(linalg::IndexOp::create(b, l, i));
          Value id = idx.back();
          // The table row of this token.
          Value is = idx[rank == 4 ? 2 : 0];
          if (positions) {
            Value pos =
                arith::IndexCastOp::create(b, l, b.getIndexType(), args[1]);
            Value zeroIdx = arith::ConstantIndexOp::create(b, l, 0);
            is = arith::MaxSIOp::create(
                b, l, arith::MinSIOp::create(b, l, pos, lastRow), zeroIdx);
          }
          // pair: the cos/sin column; partner: the element rotated with this
          // one; first: whether this is the first member of its pair.
          Value pair, partner, first;
          if (interleaved) {
            pair = arith::DivUIOp::create(b, l, id, two);
            Value rem = arith::RemUIOp::create(b, l, id, two);
            first = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq, rem,
                arith::ConstantIndexOp::create(b, l, 0));
            partner = arith::SelectOp::create(
                b, l, first, arith::AddIOp::create(b, l, id, one),
                arith::SubIOp::create(b, l, id, one));
          } else {
            first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, id,
                                          halfD);
            Value lo = arith::SubIOp::create(b, l, id, halfD);
            pair = arith::SelectOp::create(b, l, first, id, lo);
            partner = arith::SelectOp::create(
                b, l, first, arith::AddIOp::create(b, l, id, halfD), lo);
          }
          Value self = toF32(b, l, args[0]);
          SmallVector<Value> partnerIdx(idx);
          partnerIdx.back() = partner;
          Value other =
              toF32(b, l, tensor::ExtractOp::create(b, l, x, partnerIdx));
          auto readTables = [&](OpBuilder &tb, Location tl) {
            return SmallVector<Value>{
                toF32(tb, tl,
                      tensor::ExtractOp::create(tb, tl, cosT,
                                                ValueRange{is, pair})),
                toF32(tb, tl,
                      tensor::ExtractOp::create(tb, tl, sinT,
                                                ValueRange{is, pair}))};
          };
          Value c, s;
          if (haveRows) {
            // Empty tables: cos 1, sin 0, never a read.
            auto ifOp = scf::IfOp::create(
                b, l, haveRows,
                [&](OpBuilder &tb, Location tl) {
                  scf::YieldOp::create(tb, tl, readTables(tb, tl));
                },
                [&](OpBuilder &tb, Location tl) {
                  scf::YieldOp::create(
                      tb, tl,
                      ValueRange{f32Constant(tb, tl, 1.0),
                                 f32Constant(tb, tl, 0.0)});
                });
            c = ifOp.getResult(0);
            s = ifOp.getResult(1);
          } else {
            SmallVector<Value> cs = readTables(b, l);
            c = cs[0];
            s = cs[1];
          }
          // first: x1 c - x2 s; second: x2 c + x1 s.
          Value sc = arith::MulFOp::create(b, l, self, c);
          Value os = arith::MulFOp::create(b, l, other, s);
          Value y = arith::SelectOp::create(
              b, l, first, arith::SubFOp::create(b, l, sc, os),
              arith::AddFOp::create(b, l, sc, os));
          linalg::YieldOp::create(b, l, fromF32(b, l, y, elementType));
        });
    rewriter.replaceOp(
        op, castToType(rewriter, loc, generic.getResult(0), op.getType()));
    return success();
  }
};

} // namespace

void loom::populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<SiluLowering, GeluLowering, RmsNormLowering, LayerNormLowering,
               RopeLowering>(patterns.getContext());
}
