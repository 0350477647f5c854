//===- Linear.cpp - lowering of linear, qlinear, quantize, qmatmul to linalg ===//
//
// Every product is one reduction linalg.generic over (parallel dims..., k)
// into a zero-filled accumulator (f32, or i32 for the exact i8 x i8 product),
// followed by one parallel "epilogue" generic that applies the scales and the
// bias in f32 and rounds once into the result type.
//
// - linear:   loops (batch..., n, k); x reads (batch..., k), w reads (n, k).
// - qlinear:  loops (m, n, k); the weight is dequantized inside the reduction
//             body (extsi to i32, sitofp, times its scale), never as a float
//             copy of w. Group-wise scales are read through (n, k floordiv G).
// - quantize: a max-|x| reduction per row, s = amax / Q, then one generic
//             computing x / s, rounded to nearest even into i8 (clamped to
//             [-127, 127]) or f8E4M3FN; a row with s = 0 gives 0.
// - qmatmul:  i8 x i8 accumulates in i32 (extsi, muli, addi); f8E4M3FN x
//             f8E4M3FN decodes both to f32 and accumulates in f32.
//
// f8E4M3FN is produced and consumed by integer arithmetic on the bit pattern
// (arith.bitcast to and from i8): the LLVM CPU backend has no fp8 type, and
// arith.truncf / arith.extf on f8E4M3FN do not lower through the CPU pipeline.

#include "Utils.h"
#include "loom/Conversion/LoomToLinalg/LoomToLinalg.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

using namespace mlir;
using namespace loom::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers (used inside linalg.generic bodies)
//===----------------------------------------------------------------------===//

Value i32Cst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}

/// A signed integer scalar (i4, i8, i32) as an exact i32.
Value toI32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isInteger(32))
    return v;
  return arith::ExtSIOp::create(b, loc, b.getI32Type(), v);
}

/// An f8E4M3FN scalar decoded to f32 from its bit pattern: sign bit 7,
/// exponent bits 6..3 (bias 7), mantissa bits 2..0; exponent 0 is subnormal
/// (m * 2^-9); 0x7F and 0xFF are NaN; there are no infinities.
/// (Each step is its own statement so that the IR's order does not depend on
/// the C++ compiler's order of evaluating arguments.)
Value decodeF8E4M3FN(OpBuilder &b, Location loc, Value v) {
  Type f32 = b.getF32Type();
  Value c7 = i32Cst(b, loc, 0x7), c8 = i32Cst(b, loc, 0x08),
        c20 = i32Cst(b, loc, 20), c127 = i32Cst(b, loc, 0x7F),
        c128 = i32Cst(b, loc, 0x80), zero = i32Cst(b, loc, 0),
        rebias = i32Cst(b, loc, 120 << 23),
        subnormalUnit = f32Constant(b, loc, 1.0 / 512.0),
        nan = f32Constant(b, loc, std::numeric_limits<double>::quiet_NaN());
  Value byte = arith::BitcastOp::create(b, loc, b.getI8Type(), v);
  Value bits = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
  Value mag = arith::AndIOp::create(b, loc, bits, c127);
  Value mant = arith::AndIOp::create(b, loc, bits, c7);
  // Normal: f32 exponent = e - 7 + 127 and mantissa bits 22..20 = m, i.e.
  // the 7 magnitude bits shifted to bit 20 plus 120 in the exponent field.
  Value shifted = arith::ShLIOp::create(b, loc, mag, c20);
  Value normBits = arith::AddIOp::create(b, loc, shifted, rebias);
  Value normal = arith::BitcastOp::create(b, loc, f32, normBits);
  Value mantF = arith::UIToFPOp::create(b, loc, f32, mant);
  Value subnormal = arith::MulFOp::create(b, loc, mantF, subnormalUnit);
  Value isSubnormal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, mag, c8);
  Value value = arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal);
  Value isNaN =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mag, c127);
  value = arith::SelectOp::create(b, loc, isNaN, nan, value);
  Value signBit = arith::AndIOp::create(b, loc, bits, c128);
  Value isNeg =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, signBit, zero);
  Value negated = arith::NegFOp::create(b, loc, value);
  return arith::SelectOp::create(b, loc, isNeg, negated, value);
}

/// An f32 scalar rounded to nearest even onto the f8E4M3FN grid, as an
/// f8E4M3FN value built from its bit pattern. Magnitudes beyond 448 (the
/// largest finite value) saturate to 448; NaN gives 0x7F (with its sign).
Value encodeF8E4M3FN(OpBuilder &b, Location loc, Value x, Type f8Type) {
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  Value c1 = i32Cst(b, loc, 1), c20 = i32Cst(b, loc, 20),
        c24 = i32Cst(b, loc, 24), c127 = i32Cst(b, loc, 0x7F),
        c128 = i32Cst(b, loc, 0x80);
  Value absMask = i32Cst(b, loc, 0x7FFFFFFF);
  Value infBits = i32Cst(b, loc, 0x7F800000);
  Value maxBits = i32Cst(b, loc, 0x43E00000);       // 448
  Value minNormalBits = i32Cst(b, loc, 0x3C800000); // 2^-6
  Value halfMinus1 = i32Cst(b, loc, 0x7FFFF);
  Value rebias = i32Cst(b, loc, 120 << 3);
  Value scale = f32Constant(b, loc, 512.0);
  Value bits = arith::BitcastOp::create(b, loc, i32, x);
  // The sign moves from bit 31 to bit 7.
  Value high = arith::ShRUIOp::create(b, loc, bits, c24);
  Value sign = arith::AndIOp::create(b, loc, high, c128);
  Value abs = arith::AndIOp::create(b, loc, bits, absMask);
  Value isNaN =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, abs, infBits);
  // For non-negative floats the bit order is the value order, so an unsigned
  // min saturates at 448 (+Inf included).
  Value sat = arith::MinUIOp::create(b, loc, abs, maxBits);
  // Normal range (>= 2^-6): round the f32 mantissa to its top 3 bits, ties to
  // even (a carry into the exponent gives the right result), then rebias the
  // exponent: code = (E - 120) << 3 | m3 = (rounded >> 20) - 960.
  Value top = arith::ShRUIOp::create(b, loc, sat, c20);
  Value lsb = arith::AndIOp::create(b, loc, top, c1);
  Value bias = arith::AddIOp::create(b, loc, halfMinus1, lsb);
  Value rounded = arith::AddIOp::create(b, loc, sat, bias);
  Value roundedTop = arith::ShRUIOp::create(b, loc, rounded, c20);
  Value normal = arith::SubIOp::create(b, loc, roundedTop, rebias);
  // Subnormal range: the code is |x| / 2^-9 rounded to nearest even (exact
  // in f32); 8 is the code of 2^-6, the smallest normal.
  Value satF = arith::BitcastOp::create(b, loc, f32, sat);
  Value scaled = arith::MulFOp::create(b, loc, satF, scale);
  Value scaledRounded = math::RoundEvenOp::create(b, loc, scaled);
  Value subnormal = arith::FPToSIOp::create(b, loc, i32, scaledRounded);
  Value isSubnormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            sat, minNormalBits);
  Value code = arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal);
  code = arith::SelectOp::create(b, loc, isNaN, c127, code);
  code = arith::OrIOp::create(b, loc, code, sign);
  Value byte = arith::TruncIOp::create(b, loc, b.getI8Type(), code);
  return arith::BitcastOp::create(b, loc, f8Type, byte);
}

//===----------------------------------------------------------------------===//
// Tensor helpers
//===----------------------------------------------------------------------===//

/// A reduction linalg.generic: loops are `numParallel` parallel dims then one
/// reduction dim (the last); the accumulator has the parallel dims' sizes
/// `accSizes`, element type `accType`, starts at `init`, and is updated by
/// `body(inputs' elements, acc)`.
Value reduce(
    OpBuilder &b, Location loc, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps, ArrayRef<OpFoldResult> accSizes,
    Type accType, double init,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  unsigned numParallel = accSizes.size();
  MLIRContext *ctx = b.getContext();
  SmallVector<unsigned> parallelDims;
  for (unsigned i = 0; i < numParallel; ++i)
    parallelDims.push_back(i);
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(projectionMap(ctx, numParallel + 1, parallelDims));
  Value acc = filledTensor(b, loc, accSizes, accType, init);
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), inputs, acc, maps, iterators(numParallel, 1),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl,
                                body(nb, nl, args.drop_back(), args.back()));
      });
  return generic.getResult(0);
}

/// The epilogue of a linear layer: y[..., n] = acc[..., n] (+ bias[n]) as
/// `elementType`. With neither a bias nor a change of type it is `acc`.
Value addBias(OpBuilder &b, Location loc, Value acc, Value bias,
              Type elementType) {
  auto accType = cast<RankedTensorType>(acc.getType());
  if (!bias && accType.getElementType() == elementType)
    return acc;
  unsigned rank = accType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inputs{acc};
  SmallVector<AffineMap> maps{identityMap(ctx, rank)};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(projectionMap(ctx, rank, {rank - 1}));
  }
  return mapF32(
      b, loc, inputs, maps, getSizes(b, loc, acc), elementType,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        return bias ? arith::AddFOp::create(nb, nl, a[0], a[1]).getResult()
                    : a[0];
      });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// y[b..., n] = sum_k x[b..., k] * w[n, k] + bias[n].
struct LinearLowering : OpRewritePattern<loom::LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX(), w = op.getW(), bias = op.getBias();
    auto xType = cast<RankedTensorType>(x.getType());
    if (xType.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "x must have rank >= 1");
    unsigned batch = xType.getRank() - 1;
    unsigned nDim = batch, kDim = batch + 1, numLoops = batch + 2;
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<unsigned> xDims, outDims;
    for (unsigned i = 0; i < batch; ++i)
      xDims.push_back(i);
    xDims.push_back(kDim);
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, x);
    sizes.back() = getSize(rewriter, loc, w, 0);
    Value acc = reduce(rewriter, loc, {x, w},
                       {projectionMap(ctx, numLoops, xDims),
                        projectionMap(ctx, numLoops, {nDim, kDim})},
                       sizes, rewriter.getF32Type(), 0.0,
                       [](OpBuilder &b, Location l, ValueRange in, Value acc) {
                         Value xv = toF32(b, l, in[0]);
                         Value wv = toF32(b, l, in[1]);
                         Value p = arith::MulFOp::create(b, l, xv, wv);
                         return arith::AddFOp::create(b, l, acc, p).getResult();
                       });
    Value y = addBias(rewriter, loc, acc, bias, xType.getElementType());
    rewriter.replaceOp(op, castToType(rewriter, loc, y, op.getType()));
    return success();
  }
};

/// y[m, n] = sum_k x[m, k] * (w[n, k] * w_scale[n(, k / G)]) + bias[n].
struct QLinearLowering : OpRewritePattern<loom::QLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::QLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX(), w = op.getW(), scale = op.getWScale(),
          bias = op.getBias();
    auto wType = cast<RankedTensorType>(w.getType());
    auto scaleType = cast<RankedTensorType>(scale.getType());
    if (!wType.getElementType().isSignlessInteger(8) &&
        !wType.getElementType().isSignlessInteger(4))
      return rewriter.notifyMatchFailure(op, "w must be i8 or i4");
    int64_t group = static_cast<int64_t>(op.getGroupSize());
    if (group < 0 || scaleType.getRank() != (group == 0 ? 1 : 2))
      return rewriter.notifyMatchFailure(op, "unverified group_size/w_scale");
    MLIRContext *ctx = rewriter.getContext();
    // Loops (m, n, k).
    AffineExpr n = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
    AffineMap scaleMap =
        group == 0 ? AffineMap::get(3, 0, {n}, ctx)
                   : AffineMap::get(3, 0, {n, k.floorDiv(group)}, ctx);
    SmallVector<OpFoldResult> sizes{getSize(rewriter, loc, x, 0),
                                    getSize(rewriter, loc, w, 0)};
    Value acc = reduce(rewriter, loc, {x, w, scale},
                       {projectionMap(ctx, 3, {0, 2}),
                        projectionMap(ctx, 3, {1, 2}), scaleMap},
                       sizes, rewriter.getF32Type(), 0.0,
                       [](OpBuilder &b, Location l, ValueRange in, Value acc) {
                         // Dequantize this weight element: sitofp(extsi(w)) *
                         // scale.
                         Value xv = toF32(b, l, in[0]);
                         Value wi = toI32(b, l, in[1]);
                         Value wf =
                             arith::SIToFPOp::create(b, l, b.getF32Type(), wi);
                         Value sv = toF32(b, l, in[2]);
                         Value dq = arith::MulFOp::create(b, l, wf, sv);
                         Value p = arith::MulFOp::create(b, l, xv, dq);
                         return arith::AddFOp::create(b, l, acc, p).getResult();
                       });
    Value y = addBias(rewriter, loc, acc, bias, op.getType().getElementType());
    rewriter.replaceOp(op, castToType(rewriter, loc, y, op.getType()));
    return success();
  }
};

/// Per row: s = max_k |x| / Q; xq = round_to_nearest_even(x / s) (i8:
/// clamped to [-127, 127]); s = 0 gives xq = 0.
struct QuantizeLowering : OpRewritePattern<loom::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    Type qType = op.getXq().getType().getElementType();
    bool isI8 = qType.isSignlessInteger(8);
    if (!isI8 && !isa<Float8E4M3FNType>(qType))
      return rewriter.notifyMatchFailure(op, "xq must be i8 or f8E4M3FN");
    double q = isI8 ? 127.0 : 448.0;
    MLIRContext *ctx = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    SmallVector<OpFoldResult> rows{getSize(rewriter, loc, x, 0)};
    // amax[m] = max_k |x[m, k]| (0 for an empty row).
    Value amax =
        reduce(rewriter, loc, {x}, {identityMap(ctx, 2)}, rows, f32, 0.0,
               [](OpBuilder &b, Location l, ValueRange in, Value acc) {
                 Value a = math::AbsFOp::create(b, l, toF32(b, l, in[0]));
                 return arith::MaximumFOp::create(b, l, acc, a).getResult();
               });
    // xs[m] = amax[m] / Q.
    Value xs =
        mapF32(rewriter, loc, {amax}, {identityMap(ctx, 1)}, rows, f32,
               [&](OpBuilder &b, Location l, ValueRange a) {
                 Value qc = f32Constant(b, l, q);
                 return arith::DivFOp::create(b, l, a[0], qc).getResult();
               });
    // xq[m, k] from x[m, k] and xs[m].
    Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, x), qType);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), ValueRange{x, xs}, init,
        {identityMap(ctx, 2), projectionMap(ctx, 2, {0}), identityMap(ctx, 2)},
        iterators(2), [&](OpBuilder &b, Location l, ValueRange args) {
          Value s = args[1];
          Value zero = f32Constant(b, l, 0.0);
          Value xv = toF32(b, l, args[0]);
          Value t = arith::DivFOp::create(b, l, xv, s);
          // An all-zero row: s = 0, and 0 / 0 must give 0, not NaN.
          Value zeroRow =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, s, zero);
          t = arith::SelectOp::create(b, l, zeroRow, zero, t);
          Value r;
          if (isI8) {
            Value lo = f32Constant(b, l, -127.0), hi = f32Constant(b, l, 127.0);
            Value rt = math::RoundEvenOp::create(b, l, t);
            rt = arith::MaxNumFOp::create(b, l, rt, lo);
            rt = arith::MinNumFOp::create(b, l, rt, hi);
            r = arith::FPToSIOp::create(b, l, qType, rt);
          } else {
            r = encodeF8E4M3FN(b, l, t, qType);
          }
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(
        op,
        {castToType(rewriter, loc, generic.getResult(0), op.getXq().getType()),
         castToType(rewriter, loc, xs, op.getXs().getType())});
    return success();
  }
};

/// y[m, n] = (sum_k xq[m, k] * w[n, k]) * xs[m] * w_scale[n] + bias[n]; the
/// sum is exact in i32 for i8 and in f32 for f8E4M3FN.
struct QMatmulLowering : OpRewritePattern<loom::QMatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::QMatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value xq = op.getXq(), xs = op.getXs(), w = op.getW(),
          scale = op.getWScale(), bias = op.getBias();
    Type qType = cast<RankedTensorType>(xq.getType()).getElementType();
    bool isI8 = qType.isSignlessInteger(8);
    if (!isI8 && !isa<Float8E4M3FNType>(qType))
      return rewriter.notifyMatchFailure(op, "xq must be i8 or f8E4M3FN");
    if (cast<RankedTensorType>(w.getType()).getElementType() != qType)
      return rewriter.notifyMatchFailure(op, "xq and w differ in type");
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<OpFoldResult> sizes{getSize(rewriter, loc, xq, 0),
                                    getSize(rewriter, loc, w, 0)};
    // Loops (m, n, k).
    Type accType = isI8 ? Type(rewriter.getI32Type()) : rewriter.getF32Type();
    Value acc = reduce(
        rewriter, loc, {xq, w},
        {projectionMap(ctx, 3, {0, 2}), projectionMap(ctx, 3, {1, 2})}, sizes,
        accType, 0.0,
        [&](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
          if (isI8) {
            Value xi = toI32(b, l, in[0]);
            Value wi = toI32(b, l, in[1]);
            Value p = arith::MulIOp::create(b, l, xi, wi);
            return arith::AddIOp::create(b, l, acc, p);
          }
          Value xv = decodeF8E4M3FN(b, l, in[0]);
          Value wv = decodeF8E4M3FN(b, l, in[1]);
          Value p = arith::MulFOp::create(b, l, xv, wv);
          return arith::AddFOp::create(b, l, acc, p);
        });
    // Epilogue over (m, n): acc * xs[m] * w_scale[n] (+ bias[n]).
    SmallVector<Value> inputs{acc, xs, scale};
    SmallVector<AffineMap> maps{identityMap(ctx, 2), projectionMap(ctx, 2, {0}),
                                projectionMap(ctx, 2, {1})};
    if (bias) {
      inputs.push_back(bias);
      maps.push_back(projectionMap(ctx, 2, {1}));
    }
    Value y = mapF32(rewriter, loc, inputs, maps, sizes,
                     op.getType().getElementType(),
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       Value v = arith::MulFOp::create(b, l, a[0], a[1]);
                       v = arith::MulFOp::create(b, l, v, a[2]);
                       if (bias)
                         v = arith::AddFOp::create(b, l, v, a[3]);
                       return v;
                     });
    rewriter.replaceOp(op, castToType(rewriter, loc, y, op.getType()));
    return success();
  }
};

} // namespace

void loom::populateLinearToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<LinearLowering, QLinearLowering, QuantizeLowering, QMatmulLowering>(
          patterns.getContext());
}
