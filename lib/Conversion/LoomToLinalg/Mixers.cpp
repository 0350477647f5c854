//===- Mixers.cpp - linear_attention, pool_mixer, dwconv to linalg --------===//
//
// linear_attention is lowered in its direct quadratic form: the feature map
// applied to q and k, the weights w[b,h,i,j] materialized (scale, causal mask
// and decay applied elementwise), then w @ v and, with `normalize`, a division
// by the row sums of w. Its recurrent forms (a gate, beta, an initial or a
// final state) are lowered as the recurrence itself, token by token
// (lowerRecurrent). pool_mixer and dwconv share one windowed-sum
// linalg.generic over the output dims plus the tap dims (reductions), whose
// body computes the input position, bounds-checks it and reads x with
// tensor.extract at a clamped index, selecting 0 out of range.

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

using namespace mlir;
using namespace loom::lowering;

namespace {

/// `value` (f32 tensor) rounded once into `elementType`, then cast to `type`.
Value finishF32(OpBuilder &b, Location loc, Value value, Type elementType,
                Type type) {
  if (!elementType.isF32()) {
    Value init = emptyTensor(b, loc, getSizes(b, loc, value), elementType);
    value = elementwiseF32(
        b, loc, value, init,
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
  return castToType(b, loc, value, type);
}

//===----------------------------------------------------------------------===//
// Windowed sums (pool_mixer, dwconv)
//===----------------------------------------------------------------------===//

/// For x of shape [B, P_1..P_n, C] (n = 1 or 2), the f32 tensor
///   out[b, p_1..p_n, c] =
///       sum_{t_1..t_n} weight(t, c) * x[b, p_1 + t_1 - off_1, ..., c]
/// where x out of range reads as 0. `taps` gives the tap dims' sizes: with
/// `tapsHaveChannel` it is the filter [K_1..K_n, C] and weight(t, c) is its
/// element; otherwise it is a shape-only window [K_1..K_n] and weight is 1.
/// Loop dims: (b, p_1..p_n, c, t_1..t_n), the taps being reductions.
Value windowedSum(OpBuilder &b, Location loc, Value x, Value taps,
                  bool tapsHaveChannel, ArrayRef<Value> offsets) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  unsigned rank = xType.getRank(); // 2 + n
  unsigned n = rank - 2;
  unsigned numLoops = rank + n;
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  SmallVector<Value> spatial;
  for (unsigned i = 0; i < n; ++i)
    spatial.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[1 + i]));
  Value init = filledTensor(b, loc, sizes, b.getF32Type(), 0.0);

  SmallVector<unsigned> tapDims;
  for (unsigned i = 0; i < n; ++i)
    tapDims.push_back(rank + i);
  if (tapsHaveChannel)
    tapDims.push_back(rank - 1);
  SmallVector<unsigned> outDims;
  for (unsigned i = 0; i < rank; ++i)
    outDims.push_back(i);
  SmallVector<AffineMap> maps{projectionMap(ctx, numLoops, tapDims),
                              projectionMap(ctx, numLoops, outDims)};

  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{taps}, init, maps, iterators(rank, n),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value zeroIdx = indexConstant(nb, nl, 0);
        SmallVector<Value> index{linalg::IndexOp::create(nb, nl, 0)};
        Value inBounds;
        for (unsigned i = 0; i < n; ++i) {
          Value p = linalg::IndexOp::create(nb, nl, 1 + i);
          Value t = linalg::IndexOp::create(nb, nl, rank + i);
          Value pos = arith::SubIOp::create(
              nb, nl, arith::AddIOp::create(nb, nl, p, t), offsets[i]);
          Value geZero = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::sge, pos, zeroIdx);
          Value ltSize = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::slt, pos, spatial[i]);
          Value ok = arith::AndIOp::create(nb, nl, geZero, ltSize);
          inBounds =
              inBounds ? arith::AndIOp::create(nb, nl, inBounds, ok) : ok;
          // Position 0 exists on this axis (the output position p does).
          index.push_back(arith::SelectOp::create(nb, nl, ok, pos, zeroIdx));
        }
        index.push_back(linalg::IndexOp::create(nb, nl, rank - 1));
        Value v = toF32(nb, nl, tensor::ExtractOp::create(nb, nl, x, index));
        v = arith::SelectOp::create(nb, nl, inBounds, v, f32Constant(nb, nl, 0.0));
        if (tapsHaveChannel)
          v = arith::MulFOp::create(nb, nl, toF32(nb, nl, args[0]), v);
        linalg::YieldOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, args[1], v).getResult());
      });
  return generic.getResult(0);
}

struct PoolMixerLowering : OpRewritePattern<loom::PoolMixerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::PoolMixerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX();
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t rank = xType.getRank();
    int64_t kernel = static_cast<int64_t>(op.getKernel());
    if ((rank != 3 && rank != 4) || kernel <= 0 || kernel % 2 == 0)
      return rewriter.notifyMatchFailure(op, "unverified rank or kernel");
    unsigned n = rank - 2;
    int64_t radius = (kernel - 1) / 2;

    // A shape-only window tensor gives the tap loops their extent.
    SmallVector<OpFoldResult> windowSizes(n, rewriter.getIndexAttr(kernel));
    Value window =
        emptyTensor(rewriter, loc, windowSizes, rewriter.getF32Type());
    Value r = indexConstant(rewriter, loc, radius);
    SmallVector<Value> offsets(n, r);
    Value sum = windowedSum(rewriter, loc, x, window, /*tapsHaveChannel=*/false,
                            offsets);

    // y = sum / count - x; per axis the in-bounds taps of position p number
    // min(p + r, P - 1) - max(p - r, 0) + 1.
    SmallVector<Value> spatial;
    for (unsigned i = 0; i < n; ++i)
      spatial.push_back(getValueOrCreateConstantIndexOp(
          rewriter, loc, getSize(rewriter, loc, x, 1 + i)));
    Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, x),
                             xType.getElementType());
    Value y = elementwiseF32(
        rewriter, loc, ValueRange{x, sum}, init,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value one = indexConstant(b, l, 1), zero = indexConstant(b, l, 0);
          Value count;
          for (unsigned i = 0; i < n; ++i) {
            Value p = linalg::IndexOp::create(b, l, 1 + i);
            Value lo = arith::MaxSIOp::create(
                b, l, arith::SubIOp::create(b, l, p, r), zero);
            Value hi = arith::MinSIOp::create(
                b, l, arith::AddIOp::create(b, l, p, r),
                arith::SubIOp::create(b, l, spatial[i], one));
            Value c = arith::AddIOp::create(
                b, l, arith::SubIOp::create(b, l, hi, lo), one);
            count = count ? arith::MulIOp::create(b, l, count, c) : c;
          }
          Value avg =
              arith::DivFOp::create(b, l, a[1], indexToF32(b, l, count));
          return arith::SubFOp::create(b, l, avg, a[0]);
        });
    rewriter.replaceOp(op, castToType(rewriter, loc, y, op.getType()));
    return success();
  }
};

struct DwConvLowering : OpRewritePattern<loom::DwConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::DwConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getX(), w = op.getW();
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t rank = xType.getRank();
    if ((rank != 3 && rank != 4) ||
        cast<RankedTensorType>(w.getType()).getRank() != rank - 1 ||
        (rank == 4 && op.getCausal()))
      return rewriter.notifyMatchFailure(op, "unverified ranks or causal");
    unsigned n = rank - 2;
    // Input position s + t - off: off = K - 1 (causal) or (K - 1) / 2.
    Value one = indexConstant(rewriter, loc, 1);
    SmallVector<Value> offsets;
    for (unsigned i = 0; i < n; ++i) {
      Value k = getValueOrCreateConstantIndexOp(rewriter, loc,
                                                getSize(rewriter, loc, w, i));
      Value km1 = arith::SubIOp::create(rewriter, loc, k, one);
      offsets.push_back(op.getCausal()
                            ? km1
                            : arith::DivSIOp::create(rewriter, loc, km1,
                                                     indexConstant(rewriter, loc, 2))
                                  .getResult());
    }
    Value sum =
        windowedSum(rewriter, loc, x, w, /*tapsHaveChannel=*/true, offsets);
    rewriter.replaceOp(op, finishF32(rewriter, loc, sum, xType.getElementType(),
                                     op.getType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// linear_attention
//===----------------------------------------------------------------------===//

Value featureMapF32(OpBuilder &b, Location loc, loom::FeatureMap kind,
                    Value x) {
  switch (kind) {
  case loom::FeatureMap::Identity:
    return x;
  case loom::FeatureMap::Relu: {
    Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                      f32Constant(b, loc, 0.0));
    return arith::SelectOp::create(b, loc, pos, x, f32Constant(b, loc, 0.0));
  }
  case loom::FeatureMap::EluPlusOne: {
    // elu(x) + 1 = x + 1 for x > 0, exp(x) for x <= 0.
    Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                      f32Constant(b, loc, 0.0));
    Value xp1 = arith::AddFOp::create(b, loc, x, f32Constant(b, loc, 1.0));
    Value e = math::ExpOp::create(b, loc, x);
    return arith::SelectOp::create(b, loc, pos, xp1, e);
  }
  }
  return x;
}

/// Token `t` of a [B, H, S, ...] tensor as [B, H, ...] (a view, no copy):
/// the slice [B, H, 1, ...] at index t of dimension 2, then a
/// collapse_shape that merges that unit dimension into the next one (or
/// into H at rank 3). Not a rank-reducing extract_slice: MLIR 22's
/// canonicalization, folding a constant t into such a slice whose B is 1 as
/// well (a single-sequence decode step), drops the wrong unit dimension and
/// builds an invalid slice ("slice along dimension 2 runs out-of-bounds").
Value tokenSlice(OpBuilder &b, Location loc, Value x, Value t) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets[2] = t;
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, x);
  sizes[2] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  SmallVector<int64_t> shape(type.getShape());
  shape[2] = 1;
  auto sliceType = RankedTensorType::get(shape, type.getElementType());
  Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, x, offsets,
                                               sizes, strides);
  SmallVector<ReassociationIndices> groups;
  if (rank == 3) {
    groups = {{0}, {1, 2}};
  } else {
    groups = {{0}, {1}, {2, 3}};
    for (int64_t i = 4; i < rank; ++i)
      groups.push_back({i});
  }
  return tensor::CollapseShapeOp::create(b, loc, slice, groups);
}

/// The recurrent form of linear_attention (a gate, beta, an initial or a
/// final state): one scf.for over the tokens carrying the f32 state
/// S [B, H, Dk, Dv] (and, with `normalize`, z [B, H, Dk]); every step is a
/// few linalg.generics over all batches and heads:
///   g    = gate_t, -decay[h] or none          (log-gate, per head or key)
///   delta: u[b,h,j] = sum_i k_i * (a_i * S_ij)
///   S_ij = a_i * S_ij + k_i * v_j              (additive)
///   S_ij = a_i * S_ij + beta * k_i * (v_j - u_j)  (delta; the same as
///          (I - beta k k^T) Diag(a) S + beta k v^T)
///   o_j  = sum_i q_i * S_ij, then * scale (or, with normalize,
///          z_i = a_i * z_i + k_i and o_j = scale * o_j /
///          (scale * sum_i q_i z_i + 1e-6))
/// with a_i = exp(g_i), q and k after the feature map. Row t of the f32
/// output is written in place; the output is rounded once at the end.
/// Tokens are processed in order with the same operations whatever the
/// split, so a sequence run in two calls through the state gives bitwise
/// the result of one call.
LogicalResult lowerRecurrent(loom::LinearAttentionOp op, Value pq, Value pk,
                             std::optional<ArrayRef<float>> decayAttr,
                             PatternRewriter &rewriter) {
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type();
  Value q = op.getQ(), v = op.getV();
  auto qType = cast<RankedTensorType>(q.getType());
  Type elementType = qType.getElementType();
  bool delta = op.getRuleKind() == loom::UpdateRule::Delta;
  bool normalize = op.getNormalize();
  double scale = op.getScale() ? op.getScale()->convertToDouble() : 1.0;
  Value gate = op.getGate(), beta = op.getBeta();
  bool perKeyGate =
      gate && cast<RankedTensorType>(gate.getType()).getRank() == 4;

  OpFoldResult bSize = getSize(rewriter, loc, q, 0);
  OpFoldResult hSize = getSize(rewriter, loc, q, 1);
  OpFoldResult dkSize = getSize(rewriter, loc, q, 3);
  OpFoldResult dvSize = getSize(rewriter, loc, v, 3);
  Value sValue = sizeValue(rewriter, loc, q, 2);

  Value decayTensor, lastHead;
  if (decayAttr) {
    auto decayType =
        RankedTensorType::get({static_cast<int64_t>(decayAttr->size())}, f32);
    decayTensor = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(decayType, *decayAttr));
    lastHead = indexConstant(rewriter, loc,
                             static_cast<int64_t>(decayAttr->size()) - 1);
  }
  bool dynamicHeads = qType.isDynamicDim(1);

  Value state0 = op.getInitialState();
  if (!state0)
    state0 = filledTensor(rewriter, loc, {bSize, hSize, dkSize, dvSize}, f32,
                          0.0);
  // Loop-carried: the state S, with normalize z and den [B, H], with the
  // delta rule u [B, H, Dv], and the f32 output.
  SmallVector<Value> inits{state0};
  if (normalize) {
    inits.push_back(
        filledTensor(rewriter, loc, {bSize, hSize, dkSize}, f32, 0.0));
    inits.push_back(emptyTensor(rewriter, loc, {bSize, hSize}, f32));
  }
  if (delta)
    inits.push_back(emptyTensor(rewriter, loc, {bSize, hSize, dvSize}, f32));
  inits.push_back(emptyTensor(
      rewriter, loc, {bSize, hSize, getSize(rewriter, loc, q, 2), dvSize},
      f32));

  // Loops (b, h, i, j) over [B, H, Dk, Dv]; i is the key dimension.
  AffineMap bhij = identityMap(ctx, 4);
  AffineMap bhi = projectionMap(ctx, 4, {0, 1, 2});
  AffineMap bhj = projectionMap(ctx, 4, {0, 1, 3});
  AffineMap bh = projectionMap(ctx, 4, {0, 1});
  // Reductions over i with loops (b, h, j, i).
  AffineMap rS = projectionMap(ctx, 4, {0, 1, 3, 2});
  AffineMap rKey = projectionMap(ctx, 4, {0, 1, 3});
  AffineMap rOut = projectionMap(ctx, 4, {0, 1, 2});
  AffineMap rBh = projectionMap(ctx, 4, {0, 1});

  Value c0 = indexConstant(rewriter, loc, 0);
  Value c1 = indexConstant(rewriter, loc, 1);
  auto loop = scf::ForOp::create(
      rewriter, loc, c0, sValue, c1, inits,
      [&](OpBuilder &b, Location l, Value t, ValueRange iters) {
        unsigned next = 0;
        Value state = iters[next++];
        Value z = normalize ? iters[next++] : Value();
        Value den = normalize ? iters[next++] : Value();
        Value u = delta ? iters[next++] : Value();
        Value out = iters[next++];

        Value qt = tokenSlice(b, l, pq, t), kt = tokenSlice(b, l, pk, t),
              vt = tokenSlice(b, l, v, t);
        Value gt = gate ? tokenSlice(b, l, gate, t) : Value();
        Value bt = beta ? tokenSlice(b, l, beta, t) : Value();

        // The gate's inputs and maps for loops whose key dimension is
        // `keyDim` and head dimension 1, and the factor a = exp(g) computed
        // in a body from the gate's block argument (null without a gate).
        auto gateInputs = [&](SmallVectorImpl<Value> &ins,
                              SmallVectorImpl<AffineMap> &maps,
                              unsigned numDims, unsigned keyDim) {
          if (!gt)
            return;
          ins.push_back(gt);
          maps.push_back(perKeyGate
                             ? projectionMap(ctx, numDims, {0, 1, keyDim})
                             : projectionMap(ctx, numDims, {0, 1}));
        };
        // a * x, with a from the gate argument `g` (may be null) or decay.
        auto gated = [&](OpBuilder &nb, Location nl, Value g, Value x) -> Value {
          if (g)
            return arith::MulFOp::create(
                       nb, nl, math::ExpOp::create(nb, nl, toF32(nb, nl, g)),
                       x)
                .getResult();
          if (!decayTensor)
            return x;
          Value h = linalg::IndexOp::create(nb, nl, 1);
          // One value per head is checked only for a static H; keep the
          // read in bounds whatever H is at run time.
          if (dynamicHeads)
            h = arith::MinUIOp::create(nb, nl, h, lastHead);
          Value lambda =
              tensor::ExtractOp::create(nb, nl, decayTensor, ValueRange{h});
          Value a = math::ExpOp::create(
              nb, nl, arith::NegFOp::create(nb, nl, lambda));
          return arith::MulFOp::create(nb, nl, a, x).getResult();
        };

        // delta: u[b,h,j] = sum_i k_i * (a_i * S_ij); loops (b,h,j,i).
        if (delta) {
          Value zero = f32Constant(b, l, 0.0);
          u = linalg::FillOp::create(b, l, zero, u).getResult(0);
          SmallVector<Value> ins{kt, state};
          SmallVector<AffineMap> maps{rKey, rS};
          gateInputs(ins, maps, 4, 3);
          maps.push_back(rOut);
          u = linalg::GenericOp::create(
                  b, l, u.getType(), ins, u, maps, iterators(3, 1),
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    Value g = gt ? a[2] : Value();
                    Value decayed = gated(nb, nl, g, a[1]);
                    Value m = arith::MulFOp::create(
                        nb, nl, toF32(nb, nl, a[0]), decayed);
                    linalg::YieldOp::create(
                        nb, nl,
                        arith::AddFOp::create(nb, nl, a.back(), m)
                            .getResult());
                  })
                  .getResult(0);
        }

        // The state update, in place; loops (b,h,i,j).
        {
          SmallVector<Value> ins{kt, vt};
          SmallVector<AffineMap> maps{bhi, bhj};
          if (delta) {
            ins.append({bt, u});
            maps.append({bh, bhj});
          }
          gateInputs(ins, maps, 4, 2);
          maps.push_back(bhij);
          state =
              linalg::GenericOp::create(
                  b, l, state.getType(), ins, state, maps, iterators(4),
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    Value g = gt ? a[delta ? 4 : 2] : Value();
                    Value decayed = gated(nb, nl, g, a.back());
                    Value k = toF32(nb, nl, a[0]), vv = toF32(nb, nl, a[1]);
                    Value write;
                    if (delta) {
                      Value diff = arith::SubFOp::create(nb, nl, vv, a[3]);
                      Value bk = arith::MulFOp::create(
                          nb, nl, toF32(nb, nl, a[2]), k);
                      write = arith::MulFOp::create(nb, nl, bk, diff);
                    } else {
                      write = arith::MulFOp::create(nb, nl, k, vv);
                    }
                    linalg::YieldOp::create(
                        nb, nl,
                        arith::AddFOp::create(nb, nl, decayed, write)
                            .getResult());
                  })
                  .getResult(0);
        }

        // normalize: z_i = a_i * z_i + k_i; den = sum_i q_i z_i.
        if (normalize) {
          SmallVector<Value> ins{kt};
          SmallVector<AffineMap> maps{identityMap(ctx, 3)};
          gateInputs(ins, maps, 3, 2);
          maps.push_back(identityMap(ctx, 3));
          z = linalg::GenericOp::create(
                  b, l, z.getType(), ins, z, maps, iterators(3),
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    Value g = gt ? a[1] : Value();
                    Value decayed = gated(nb, nl, g, a.back());
                    linalg::YieldOp::create(
                        nb, nl,
                        arith::AddFOp::create(nb, nl, decayed,
                                              toF32(nb, nl, a[0]))
                            .getResult());
                  })
                  .getResult(0);
          den = linalg::FillOp::create(b, l, f32Constant(b, l, 0.0), den)
                    .getResult(0);
          den = linalg::GenericOp::create(
                    b, l, den.getType(), ValueRange{qt, z}, den,
                    {identityMap(ctx, 3), identityMap(ctx, 3),
                     projectionMap(ctx, 3, {0, 1})},
                    iterators(2, 1),
                    [](OpBuilder &nb, Location nl, ValueRange a) {
                      multiplyAccumulate(nb, nl, a);
                    })
                    .getResult(0);
        }

        // o[b,h,j] = sum_i q_i * S_ij into row t of the output; loops
        // (b,h,j,i).
        Value row = tokenSlice(b, l, out, t);
        row = linalg::FillOp::create(b, l, f32Constant(b, l, 0.0), row)
                  .getResult(0);
        row = linalg::GenericOp::create(
                  b, l, row.getType(), ValueRange{qt, state}, row,
                  {rKey, rS, rOut}, iterators(3, 1),
                  [](OpBuilder &nb, Location nl, ValueRange a) {
                    multiplyAccumulate(nb, nl, a);
                  })
                  .getResult(0);
        if (normalize) {
          row = linalg::GenericOp::create(
                    b, l, row.getType(), ValueRange{den}, row,
                    {projectionMap(ctx, 3, {0, 1}), identityMap(ctx, 3)},
                    iterators(3),
                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                      Value sc = f32Constant(nb, nl, scale);
                      Value num = arith::MulFOp::create(nb, nl, sc, a[1]);
                      Value d = arith::AddFOp::create(
                          nb, nl, arith::MulFOp::create(nb, nl, sc, a[0]),
                          f32Constant(nb, nl, 1e-6));
                      linalg::YieldOp::create(
                          nb, nl,
                          arith::DivFOp::create(nb, nl, num, d).getResult());
                    })
                    .getResult(0);
        } else if (scale != 1.0) {
          row = linalg::GenericOp::create(
                    b, l, row.getType(), ValueRange{}, row,
                    {identityMap(ctx, 3)}, iterators(3),
                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                      linalg::YieldOp::create(
                          nb, nl,
                          arith::MulFOp::create(nb, nl,
                                                f32Constant(nb, nl, scale),
                                                a[0])
                              .getResult());
                    })
                    .getResult(0);
        }
        SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
        offsets[2] = t;
        SmallVector<OpFoldResult> sizes = getSizes(b, l, out);
        sizes[2] = b.getIndexAttr(1);
        SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
        out = tensor::InsertSliceOp::create(b, l, row, out, offsets, sizes,
                                            strides);

        SmallVector<Value> yields{state};
        if (normalize)
          yields.append({z, den});
        if (delta)
          yields.push_back(u);
        yields.push_back(out);
        scf::YieldOp::create(b, l, yields);
      });

  Value out = loop.getResults().back();
  SmallVector<Value> results{
      finishF32(rewriter, loc, out, elementType, op.getResult().getType())};
  if (Value finalState = op.getFinalState())
    results.push_back(
        castToType(rewriter, loc, loop.getResult(0), finalState.getType()));
  rewriter.replaceOp(op, results);
  return success();
}

struct LinearAttentionLowering : OpRewritePattern<loom::LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(loom::LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<loom::FeatureMap> kind = op.getFeatureMapKind();
    if (!kind)
      return rewriter.notifyMatchFailure(op, "unverified feature_map");
    if (!op.getRuleKind())
      return rewriter.notifyMatchFailure(op, "unverified rule");
    std::optional<ArrayRef<float>> decayAttr = op.getDecay();
    if (decayAttr && !op.getCausal())
      return rewriter.notifyMatchFailure(op, "unverified decay");
    // An empty decay can only hold one value per head when there are no
    // heads (H dynamic and 0 at run time): nothing to multiply.
    if (decayAttr && decayAttr->empty())
      decayAttr = std::nullopt;
    bool causal = op.getCausal();
    bool normalize = op.getNormalize();
    double scale = op.getScale() ? op.getScale()->convertToDouble() : 1.0;

    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value q = op.getQ(), k = op.getK(), v = op.getV();
    Type f32 = rewriter.getF32Type();
    auto qType = cast<RankedTensorType>(q.getType());
    Type elementType = qType.getElementType();

    // phi(q), phi(k) in f32.
    auto phi = [&](Value t) {
      Value init = emptyTensor(rewriter, loc, getSizes(rewriter, loc, t), f32);
      return elementwiseF32(rewriter, loc, t, init,
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              return featureMapF32(b, l, *kind, a[0]);
                            });
    };
    // The identity map needs no pass of its own: the product reads q, k.
    bool identity = *kind == loom::FeatureMap::Identity;
    Value pq = identity ? q : phi(q), pk = identity ? k : phi(k);
    if (op.isRecurrentForm()) {
      if (!causal)
        return rewriter.notifyMatchFailure(op, "unverified recurrent form");
      return lowerRecurrent(op, pq, pk, decayAttr, rewriter);
    }

    OpFoldResult bSize = getSize(rewriter, loc, q, 0);
    OpFoldResult hSize = getSize(rewriter, loc, q, 1);
    OpFoldResult sSize = getSize(rewriter, loc, q, 2);
    OpFoldResult dvSize = getSize(rewriter, loc, v, 3);

    // dot[b,h,i,j] = sum_d pq[b,h,i,d] * pk[b,h,j,d]; loops (b,h,i,j,d).
    Value dotInit =
        filledTensor(rewriter, loc, {bSize, hSize, sSize, sSize}, f32, 0.0);
    Value dot =
        linalg::GenericOp::create(
            rewriter, loc, dotInit.getType(), ValueRange{pq, pk}, dotInit,
            {projectionMap(ctx, 5, {0, 1, 2, 4}),
             projectionMap(ctx, 5, {0, 1, 3, 4}),
             projectionMap(ctx, 5, {0, 1, 2, 3})},
            iterators(4, 1),
            [](OpBuilder &b, Location l, ValueRange a) {
              Value m = arith::MulFOp::create(b, l, toF32(b, l, a[0]),
                                              toF32(b, l, a[1]));
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, a[2], m).getResult());
            })
            .getResult(0);

    // w[b,h,i,j] = scale * dot * exp(-decay[h] * (i - j)), 0 where j > i
    // under causal.
    Value decayTensor;
    Value lastHead;
    if (decayAttr) {
      auto decayType =
          RankedTensorType::get({static_cast<int64_t>(decayAttr->size())}, f32);
      decayTensor = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(decayType, *decayAttr));
      lastHead =
          indexConstant(rewriter, loc, static_cast<int64_t>(decayAttr->size()) - 1);
    }
    bool dynamicHeads = qType.isDynamicDim(1);
    // Without causal and with scale 1 the weights are the dot products.
    Value w = dot;
    if (causal || scale != 1.0)
      w = elementwiseF32(
          rewriter, loc, dot,
          emptyTensor(rewriter, loc, {bSize, hSize, sSize, sSize}, f32),
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value r = a[0];
            if (scale != 1.0)
              r = arith::MulFOp::create(b, l, r, f32Constant(b, l, scale));
            if (!causal)
              return r;
            Value i = linalg::IndexOp::create(b, l, 2);
            Value j = linalg::IndexOp::create(b, l, 3);
            if (decayTensor) {
              Value h = linalg::IndexOp::create(b, l, 1);
              // The verifier checks one value per head only for a static H;
              // keep the read in bounds whatever H is at run time.
              if (dynamicHeads)
                h = arith::MinUIOp::create(b, l, h, lastHead);
              Value lambda =
                  tensor::ExtractOp::create(b, l, decayTensor, ValueRange{h});
              Value dist = indexToF32(b, l, arith::SubIOp::create(b, l, i, j));
              Value e = math::ExpOp::create(
                  b, l,
                  arith::NegFOp::create(
                      b, l, arith::MulFOp::create(b, l, lambda, dist)));
              r = arith::MulFOp::create(b, l, r, e);
            }
            Value visible =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::ule, j, i);
            return arith::SelectOp::create(b, l, visible, r, f32Constant(b, l, 0.0))
                .getResult();
          });

    // o[b,h,i,e] = sum_j w[b,h,i,j] * v[b,h,j,e]; loops (b,h,i,e,j).
    Value oInit =
        filledTensor(rewriter, loc, {bSize, hSize, sSize, dvSize}, f32, 0.0);
    Value o = linalg::GenericOp::create(
                  rewriter, loc, oInit.getType(), ValueRange{w, v}, oInit,
                  {projectionMap(ctx, 5, {0, 1, 2, 4}),
                   projectionMap(ctx, 5, {0, 1, 4, 3}),
                   projectionMap(ctx, 5, {0, 1, 2, 3})},
                  iterators(4, 1),
                  [](OpBuilder &b, Location l, ValueRange a) {
                    Value m =
                        arith::MulFOp::create(b, l, a[0], toF32(b, l, a[1]));
                    linalg::YieldOp::create(
                        b, l, arith::AddFOp::create(b, l, a[2], m).getResult());
                  })
                  .getResult(0);

    if (!normalize) {
      rewriter.replaceOp(
          op, finishF32(rewriter, loc, o, elementType, op.getResult().getType()));
      return success();
    }

    // den[b,h,i] = sum_j w[b,h,i,j]; result o / (den + 1e-6).
    Value denInit =
        filledTensor(rewriter, loc, {bSize, hSize, sSize}, f32, 0.0);
    Value den =
        linalg::GenericOp::create(
            rewriter, loc, denInit.getType(), ValueRange{w}, denInit,
            {identityMap(ctx, 4), projectionMap(ctx, 4, {0, 1, 2})},
            iterators(3, 1),
            [](OpBuilder &b, Location l, ValueRange a) {
              linalg::YieldOp::create(
                  b, l, arith::AddFOp::create(b, l, a[1], a[0]).getResult());
            })
            .getResult(0);
    Value resInit =
        emptyTensor(rewriter, loc, {bSize, hSize, sSize, dvSize}, elementType);
    auto resType = cast<RankedTensorType>(resInit.getType());
    Value res =
        linalg::GenericOp::create(
            rewriter, loc, resType, ValueRange{o, den}, resInit,
            {identityMap(ctx, 4), projectionMap(ctx, 4, {0, 1, 2}),
             identityMap(ctx, 4)},
            iterators(4),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value d = arith::AddFOp::create(b, l, a[1], f32Constant(b, l, 1e-6));
              Value r = arith::DivFOp::create(b, l, a[0], d);
              linalg::YieldOp::create(b, l, fromF32(b, l, r, elementType));
            })
            .getResult(0);
    rewriter.replaceOp(op, castToType(rewriter, loc, res, op.getResult().getType()));
    return success();
  }
};

} // namespace

void loom::populateMixerToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearAttentionLowering, PoolMixerLowering, DwConvLowering>(
      patterns.getContext());
}
