//===- Tile.cpp - loom-tile: attention as online softmax over KV tiles -----===//
//
// Rewrites loom.attention into tensor-level loops that never materialize the
// score matrix (FlashAttention's online softmax):
//
//   scf.forall (b, kv head h, query tile i0) with blockQ rows each:
//     Q = q[b, h*G : G, i0 : qs]             the G query heads of kv head h
//     m = -inf, l = 0, acc = 0               [G, qs], [G, qs], [G, qs, Dv] f32
//     scf.for j0 in [lo, hi) step blockKV:   only tiles with a visible key
//       K = k[b, h, j0 : ks], V = v[...]      one load for the G heads
//       s = softcap(scale * Q K^T)            masked only where the tile
//                                             straddles the causal/window edge
//       m' = max(m, rowmax(s)),  a = exp(m - m'),  p = exp(s - m')
//       l = a * l + rowsum(p),   acc = a * acc + p V
//     o[b, h*G : G, i0 : qs] = acc / l       (rows with l = 0: zeros)
//
// A row that has seen no visible key yet has m = -inf; the exponentials then
// subtract 0 instead of m (exp(-inf - 0) = 0), so exp(-inf - -inf) never
// happens. Ragged edges use dynamic tile sizes (affine.min), never padding.
//
// loom.block_sparse_attention takes the same loops with the layout's blocks
// as tiles, one query head per tile (layouts may differ per head) and the
// work of a kv tile under an scf.if on its layout bit.

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Transforms/Passes.h"
#include "loom/Target/TargetDescription.h"

// The f32 conventions and small builders shared with the op-by-op lowering.
#include "../Conversion/LoomToLinalg/Utils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <limits>

namespace loom {
#define GEN_PASS_DEF_LOOMTILEPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;
using namespace loom::lowering;

namespace {

/// The tile sizes when the target description leaves them to the chip.
constexpr AttentionTile kDefaultAttentionTile{64, 64};

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Value cmpi(OpBuilder &b, Location loc, arith::CmpIPredicate pred, Value x,
           Value y) {
  return arith::CmpIOp::create(b, loc, pred, x, y);
}

/// `expr` over `operands` (dims first, then symbols), folded where constant.
OpFoldResult apply(OpBuilder &b, Location loc, AffineExpr expr,
                   ArrayRef<OpFoldResult> operands) {
  return affine::makeComposedFoldedAffineApply(b, loc, expr, operands);
}

Value toValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

/// G = Hq / Hkv, the query heads per kv head (Hkv = 0 only with empty
/// operands; it is taken as 1 so that the division is defined).
OpFoldResult groupSize(OpBuilder &b, Location loc, Value q, Value k) {
  auto qType = cast<RankedTensorType>(q.getType());
  auto kType = cast<RankedTensorType>(k.getType());
  int64_t hq = qType.getDimSize(1), hkv = kType.getDimSize(1);
  if (hkv == 1)
    return getSize(b, loc, q, 1);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv))
    return b.getIndexAttr(hkv == 0 ? 0 : hq / hkv);
  Value safeHkv = arith::MaxUIOp::create(b, loc, sizeValue(b, loc, k, 1),
                                         indexConstant(b, loc, 1));
  return arith::DivUIOp::create(b, loc, sizeValue(b, loc, q, 1), safeHkv)
      .getResult();
}

/// tensor<sizes x elementType>, static where the size is a constant.
/// The size of the tile that starts at `start`: min(block, bound - start).
OpFoldResult tileSize(OpBuilder &b, Location loc, int64_t block, Value start,
                      OpFoldResult bound) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, s0;
  bindDims(ctx, d0);
  bindSymbols(ctx, s0);
  return affine::makeComposedFoldedAffineMin(
      b, loc, AffineMap::get(1, 1, {b.getAffineConstantExpr(block), s0 - d0}, ctx),
      {start, bound});
}

RankedTensorType tileType(ArrayRef<OpFoldResult> sizes, Type elementType) {
  SmallVector<int64_t> shape;
  for (OpFoldResult size : sizes)
    shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return RankedTensorType::get(shape, elementType);
}

/// The slice of the 4-D `source` at `offsets` with `sizes` whose leading
/// `drop` sizes are 1: the result has those dims dropped.
Value extractTile(OpBuilder &b, Location loc, Value source,
                  ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
                  unsigned drop) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, tileType(sizes.drop_front(drop), type.getElementType()), source,
      offsets, sizes, strides);
}

/// Which keys a query sees, in absolute indices: with `causal`, j <= i' with
/// i' = i + (Skv - Sq); with a window W also i' - j < W.
struct Visibility {
  bool causal = false;
  Value offset; // Skv - Sq
  Value window; // min(W, Skv), or null

  Value visible(OpBuilder &b, Location loc, Value i, Value j) const {
    Value ip = arith::AddIOp::create(b, loc, i, offset);
    Value vis = cmpi(b, loc, arith::CmpIPredicate::sle, j, ip);
    if (!window)
      return vis;
    Value dist = arith::SubIOp::create(b, loc, ip, j);
    return arith::AndIOp::create(
        b, loc, vis, cmpi(b, loc, arith::CmpIPredicate::slt, dist, window));
  }
};

/// What the scores of one tile need besides Q and K.
struct ScoreSpec {
  Value scale;
  std::optional<APFloat> softcap;
};

/// Q K^T of one tile: [G, qs, ks] in f32.
Value tileDots(OpBuilder &b, Location loc, Value qTile, Value kTile) {
  MLIRContext *ctx = b.getContext();
  AffineExpr g, i, j, d;
  bindDims(ctx, g, i, j, d);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, qTile);
  sizes[2] = getSize(b, loc, kTile, 0);
  Value zeros = filledTensor(b, loc, sizes, b.getF32Type(), 0.0);
  return linalg::GenericOp::create(
             b, loc, zeros.getType(), ValueRange{qTile, kTile}, zeros,
             {AffineMap::get(4, 0, {g, i, d}, ctx),
              AffineMap::get(4, 0, {j, d}, ctx),
              AffineMap::get(4, 0, {g, i, j}, ctx)},
             iterators(3, 1),
             multiplyAccumulate)
      .getResult(0);
}

/// The scores from the dot products, in place: softcap(scale * dots); with
/// `mask`, keys invisible to a row (query i0 + r, key j0 + c) are -inf.
Value tileScores(OpBuilder &b, Location loc, Value dots, const ScoreSpec &spec,
                 const Visibility *mask, Value i0, Value j0) {
  return linalg::GenericOp::create(
             b, loc, dots.getType(), ValueRange{}, dots,
             {identityMap(b.getContext(), 3)}, iterators(3),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value x = arith::MulFOp::create(nb, nl, spec.scale, args[0]);
               if (spec.softcap) {
                 Value c =
                     f32Constant(nb, nl, spec.softcap->convertToFloat());
                 Value t = math::TanhOp::create(
                     nb, nl, arith::DivFOp::create(nb, nl, x, c));
                 x = arith::MulFOp::create(nb, nl, c, t);
               }
               if (mask) {
                 Value row = arith::AddIOp::create(
                     nb, nl, i0, linalg::IndexOp::create(nb, nl, 1));
                 Value col = arith::AddIOp::create(
                     nb, nl, j0, linalg::IndexOp::create(nb, nl, 2));
                 x = arith::SelectOp::create(nb, nl,
                                             mask->visible(nb, nl, row, col),
                                             x, f32Constant(nb, nl, kNegInf));
               }
               linalg::YieldOp::create(nb, nl, x);
             })
      .getResult(0);
}

/// m where it is finite, 0 where it is -inf (a row without a visible key
/// so far): what exponentials subtract.
Value safeMax(OpBuilder &b, Location loc, Value m) {
  Value none = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m,
                                     f32Constant(b, loc, kNegInf));
  return arith::SelectOp::create(b, loc, none, f32Constant(b, loc, 0.0), m);
}

/// Reduces the last dim of the [G, qs, ks] tensor `x` into `init` [G, qs].
Value reduceRows(OpBuilder &b, Location loc, Value x, Value init,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> f) {
  MLIRContext *ctx = b.getContext();
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{x}, init,
             {identityMap(ctx, 3), projectionMap(ctx, 3, {0, 1})},
             iterators(2, 1),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, f(nb, nl, args[1], args[0]));
             })
      .getResult(0);
}

/// `x` [G, qs, ...] with every row multiplied by `alpha` [G, qs], in place.
Value scaleRows(OpBuilder &b, Location loc, Value x, Value alpha) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = cast<RankedTensorType>(x.getType()).getRank();
  return linalg::GenericOp::create(
             b, loc, x.getType(), ValueRange{alpha}, x,
             {projectionMap(ctx, rank, {0, 1}), identityMap(ctx, rank)},
             iterators(rank),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   arith::MulFOp::create(nb, nl, args[1], args[0])
                       .getResult());
             })
      .getResult(0);
}

/// The online-softmax state of one query tile.
struct Running {
  Value m, l, acc;
};

/// Folds the scores `s` [G, qs, ks] and values `vTile` [ks, Dv] of one kv
/// tile into `state`.
Running foldTile(OpBuilder &b, Location loc, Running state, Value s,
                 Value vTile) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  SmallVector<OpFoldResult> rows = getSizes(b, loc, state.m);

  // m' = max(m, rowmax(s)) in place, and a = exp(m - safe(m')).
  Value tileMax = reduceRows(
      b, loc, s, filledTensor(b, loc, rows, f32, kNegInf),
      [](OpBuilder &nb, Location nl, Value acc, Value x) {
        return arith::MaximumFOp::create(nb, nl, acc, x);
      });
  AffineMap id2 = identityMap(ctx, 2);
  auto update = linalg::GenericOp::create(
      b, loc, TypeRange{state.m.getType(), state.m.getType()},
      ValueRange{tileMax}, ValueRange{state.m, emptyTensor(b, loc, rows, f32)},
      {id2, id2, id2}, iterators(2),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value mNew = arith::MaximumFOp::create(nb, nl, args[1], args[0]);
        Value alpha = math::ExpOp::create(
            nb, nl,
            arith::SubFOp::create(nb, nl, args[1], safeMax(nb, nl, mNew)));
        linalg::YieldOp::create(nb, nl, ValueRange{mNew, alpha});
      });
  Value m = update.getResult(0), alpha = update.getResult(1);

  // p = exp(s - safe(m')) in place of s.
  Value p = linalg::GenericOp::create(
                b, loc, s.getType(), ValueRange{m}, s,
                {projectionMap(ctx, 3, {0, 1}), identityMap(ctx, 3)},
                iterators(3),
                [&](OpBuilder &nb, Location nl, ValueRange args) {
                  Value e = math::ExpOp::create(
                      nb, nl,
                      arith::SubFOp::create(nb, nl, args[1],
                                            safeMax(nb, nl, args[0])));
                  linalg::YieldOp::create(nb, nl, e);
                })
                .getResult(0);

  // l = a * l + rowsum(p).
  Value l = reduceRows(b, loc, p, scaleRows(b, loc, state.l, alpha),
                       [](OpBuilder &nb, Location nl, Value acc, Value x) {
                         return arith::AddFOp::create(nb, nl, acc, x);
                       });

  // acc = a * acc + p V.
  AffineExpr g, i, e, j;
  bindDims(ctx, g, i, e, j);
  Value scaled = scaleRows(b, loc, state.acc, alpha);
  Value acc =
      linalg::GenericOp::create(
          b, loc, scaled.getType(), ValueRange{p, vTile}, scaled,
          {AffineMap::get(4, 0, {g, i, j}, ctx),
           AffineMap::get(4, 0, {j, e}, ctx),
           AffineMap::get(4, 0, {g, i, e}, ctx)},
          iterators(3, 1),
          multiplyAccumulate)
          .getResult(0);
  return {m, l, acc};
}

/// acc / l rounded into `elementType`; rows with l = 0 (no visible key; a
/// row with one has l >= exp(0) = 1) are exactly 0.
Value normalize(OpBuilder &b, Location loc, const Running &state,
                Type elementType) {
  MLIRContext *ctx = b.getContext();
  Value init =
      emptyTensor(b, loc, getSizes(b, loc, state.acc), elementType);
  AffineMap id = identityMap(ctx, 3);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{state.acc, state.l}, init,
             {id, projectionMap(ctx, 3, {0, 1}), id}, iterators(3),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value zero = f32Constant(nb, nl, 0.0);
               Value none = arith::CmpFOp::create(
                   nb, nl, arith::CmpFPredicate::OEQ, args[1], zero);
               Value div = arith::DivFOp::create(nb, nl, args[0], args[1]);
               Value y = arith::SelectOp::create(nb, nl, none, zero, div);
               linalg::YieldOp::create(nb, nl,
                                       fromF32(nb, nl, y, elementType));
             })
      .getResult(0);
}

/// What the tiling of either attention op reads.
struct AttentionParts {
  Value q, k, v;
  std::optional<APFloat> scale, softcap;
  bool causal = false;
  std::optional<uint64_t> window;
  /// block_sparse_attention's [Lb, Lh, NQB, NKB] layout, whose blocks are
  /// then the tiles; null for attention.
  Value layout;
  AttentionTile tile;
  Type resultType;

  static AttentionParts of(AttentionOp op, AttentionTile tile) {
    std::optional<uint64_t> window;
    if (std::optional<int64_t> w = op.getUniformWindow())
      window = static_cast<uint64_t>(*w);
    return {op.getQ(),      op.getK(),      op.getV(), op.getScale(),
            op.getSoftcap(), op.getCausal(), window,    Value(),
            tile,           op.getType()};
  }
  static AttentionParts of(BlockSparseAttentionOp op) {
    AttentionTile blocks{static_cast<int64_t>(op.getBlockQ()),
                         static_cast<int64_t>(op.getBlockK())};
    return {op.getQ(),       op.getK(),      op.getV(),    op.getScale(),
            op.getSoftcap(), op.getCausal(), std::nullopt, op.getLayout(),
            blocks,          op.getType()};
  }
};

/// Attention as online softmax over kv tiles (the file comment). With a
/// block-sparse layout a tile holds one query head (layouts may differ per
/// head) and a kv tile whose layout bit is false is passed over.
class AttentionTiler {
public:
  AttentionTiler(OpBuilder &b, Location loc, const AttentionParts &parts)
      : b(b), loc(loc), a(parts), tile(parts.tile) {}

  Value build() {
    SmallVector<OpFoldResult> outSizes = getSizes(b, loc, a.q);
    outSizes[3] = getSize(b, loc, a.v, 3);
    Value out = emptyTensor(b, loc, outSizes, elementType());
    // A result without elements (a static 0 among B, Hq, Sq, Dv) needs no
    // loops, whose slices at offset 0 of a dim of size 0 would not verify.
    if (llvm::any_of(outSizes, isZeroInteger))
      return castToType(b, loc, out, a.resultType);

    spec.scale = scaleValue(b, loc, a.scale, a.q);
    spec.softcap = a.softcap;
    sq = getSize(b, loc, a.q, 2);
    skv = getSize(b, loc, a.k, 2);
    group = groupSize(b, loc, a.q, a.k);
    if (a.causal) {
      vis.causal = true;
      AffineExpr s0, s1;
      bindSymbols(b.getContext(), s0, s1);
      vis.offset = toValue(b, loc, apply(b, loc, s0 - s1, {skv, sq}));
      if (a.window) {
        // W and min(W, Skv) select the same keys (i' - j < Skv always), and
        // the bounds below stay within the sizes even for a huge W.
        window = affine::makeComposedFoldedAffineMin(
            b, loc,
            AffineMap::get(0, 1,
                           {s0, b.getAffineConstantExpr(
                                    static_cast<int64_t>(*a.window))},
                           b.getContext()),
            {skv});
        vis.window = toValue(b, loc, window);
      }
    }

    // Heads: kv heads (a tile holds their G query heads) or query heads.
    SmallVector<OpFoldResult> lbs(3, b.getIndexAttr(0));
    SmallVector<OpFoldResult> ubs{getSize(b, loc, a.q, 0),
                                  getSize(b, loc, a.layout ? a.q : a.k, 1), sq};
    SmallVector<OpFoldResult> steps{b.getIndexAttr(1), b.getIndexAttr(1),
                                    b.getIndexAttr(tile.blockQ)};
    auto forall = scf::ForallOp::create(b, loc, lbs, ubs, steps, out,
                                        /*mapping=*/std::nullopt);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forall.getBody());
      SmallVector<Value> ivs = forall.getInductionVars();
      queryTile(ivs[0], ivs[1], ivs[2], forall.getRegionIterArgs()[0],
                forall.getTerminator());
    }
    return castToType(b, loc, forall.getResult(0), a.resultType);
  }

private:
  Type elementType() const {
    return cast<RankedTensorType>(a.q.getType()).getElementType();
  }

  /// The body of the forall: query tile rows [i0, i0 + qs) of the query
  /// heads of forall head `h`, written into `out` by the `terminator`.
  void queryTile(Value batch, Value h, Value i0, Value out,
                 scf::InParallelOp terminator) {
    MLIRContext *ctx = b.getContext();
    AffineExpr d0, s0;
    bindDims(ctx, d0);
    bindSymbols(ctx, s0);
    OpFoldResult qs = tileSize(b, loc, tile.blockQ, i0, sq);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    OpFoldResult head0 = h, heads = one;
    Value kvHead = h;
    if (a.layout) {
      // h / G, with G >= 1 (G = 0 only without query heads: no iteration).
      Value safeGroup = arith::MaxUIOp::create(
          b, loc, toValue(b, loc, group), indexConstant(b, loc, 1));
      kvHead = arith::DivUIOp::create(b, loc, h, safeGroup);
    } else {
      head0 = apply(b, loc, d0 * s0, {h, group});
      heads = group;
    }
    // With a static D = 0 every dot product is 0 and q and k are not read
    // (a slice at offset 0 of their empty last dim would not verify).
    OpFoldResult d = getSize(b, loc, a.q, 3);
    Value qTile = isZeroInteger(d)
                      ? Value()
                      : extractTile(b, loc, a.q, {batch, head0, i0, zero},
                                    {one, heads, qs, d}, 1);

    Type f32 = b.getF32Type();
    SmallVector<OpFoldResult> rows{heads, qs};
    OpFoldResult dv = getSize(b, loc, a.v, 3);
    Running init{filledTensor(b, loc, rows, f32, kNegInf),
                 filledTensor(b, loc, rows, f32, 0.0),
                 filledTensor(b, loc, {heads, qs, dv}, f32, 0.0)};

    // Key tiles holding no key visible to any row of the query tile are not
    // visited: causal ends at the last row's i', a window starts after the
    // first row's i' - W. (Block-sparse tiles stay aligned to the layout's
    // blocks: they start at 0.)
    OpFoldResult lo = zero, hi = skv;
    if (vis.causal) {
      // min(Skv, max(0, i0 + qs + Skv - Sq)) with i0 + qs = min(i0 + blockQ, Sq).
      AffineExpr s1, s2;
      bindSymbols(ctx, s0, s1, s2);
      OpFoldResult end = affine::makeComposedFoldedAffineMax(
          b, loc,
          AffineMap::get(1, 3, {b.getAffineConstantExpr(0), d0 + s0 + s1 - s2},
                         ctx),
          {i0, qs, skv, sq});
      hi = affine::makeComposedFoldedAffineMin(
          b, loc, AffineMap::get(0, 2, {s0, s1}, ctx), {skv, end});
      if (window) {
        // max(0, i0 + Skv - Sq - W + 1).
        lo = affine::makeComposedFoldedAffineMax(
            b, loc,
            AffineMap::get(1, 3, {b.getAffineConstantExpr(0),
                                  d0 + s0 - s1 - s2 + 1},
                           ctx),
            {i0, skv, sq, window});
      }
    }

    QueryTile qt{batch, h, kvHead, i0, heads, qs, hi, qTile};
    auto loop = scf::ForOp::create(
        b, loc, toValue(b, loc, lo), toValue(b, loc, hi),
        indexConstant(b, loc, tile.blockKV),
        ValueRange{init.m, init.l, init.acc},
        [&](OpBuilder &lb, Location ll, Value j0, ValueRange iterArgs) {
          Running state{iterArgs[0], iterArgs[1], iterArgs[2]};
          Running next = a.layout ? sparseKvTile(lb, ll, qt, j0, state)
                                  : kvTile(lb, ll, qt, j0, state);
          scf::YieldOp::create(lb, ll, ValueRange{next.m, next.l, next.acc});
        });

    Running final{loop.getResult(0), loop.getResult(1), loop.getResult(2)};
    Value result = normalize(b, loc, final, elementType());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(terminator.getBody());
    SmallVector<OpFoldResult> strides(4, one);
    tensor::ParallelInsertSliceOp::create(b, loc, result, out,
                                          {batch, head0, i0, zero},
                                          {one, heads, qs, dv}, strides);
  }

  /// What the kv loop of one query tile reads.
  struct QueryTile {
    Value batch, head, kvHead, i0;
    OpFoldResult heads, qs, hi; // query heads and rows; end of the kv loop
    Value q;                    // [heads, qs, D]; null if D = 0
  };

  /// Key tile [j0, j0 + ks) with ks = min(blockKV, hi - j0) folded into
  /// `state`.
  Running kvTile(OpBuilder &lb, Location ll, const QueryTile &qt, Value j0,
                 Running state) {
    MLIRContext *ctx = lb.getContext();
    AffineExpr d0, s0;
    bindDims(ctx, d0);
    bindSymbols(ctx, s0);
    OpFoldResult ks = tileSize(lb, ll, tile.blockKV, j0, qt.hi);
    OpFoldResult zero = lb.getIndexAttr(0), one = lb.getIndexAttr(1);
    Value vTile = extractTile(lb, ll, a.v, {qt.batch, qt.kvHead, j0, zero},
                              {one, one, ks, getSize(lb, ll, a.v, 3)}, 2);
    Value dots;
    if (qt.q) {
      Value kTile = extractTile(lb, ll, a.k, {qt.batch, qt.kvHead, j0, zero},
                                {one, one, ks, getSize(lb, ll, a.k, 3)}, 2);
      dots = tileDots(lb, ll, qt.q, kTile);
    } else {
      dots = filledTensor(lb, ll, {qt.heads, qt.qs, ks}, lb.getF32Type(), 0.0);
    }
    Value s;
    if (!vis.causal) {
      s = tileScores(lb, ll, dots, spec, nullptr, qt.i0, j0);
    } else {
      // The tile needs a mask unless every (row, key) is visible: the first
      // row must see the last key (causal) and, with a window, the last row
      // the first key.
      Value last = toValue(lb, ll, apply(lb, ll, d0 + s0 - 1, {j0, ks}));
      Value full = vis.visible(lb, ll, qt.i0, last);
      if (vis.window) {
        Value lastRow =
            toValue(lb, ll, apply(lb, ll, d0 + s0 - 1, {qt.i0, qt.qs}));
        full = arith::AndIOp::create(lb, ll, full,
                                     vis.visible(lb, ll, lastRow, j0));
      }
      auto ifOp = scf::IfOp::create(
          lb, ll, full,
          [&](OpBuilder &tb, Location tl) {
            scf::YieldOp::create(
                tb, tl, tileScores(tb, tl, dots, spec, nullptr, qt.i0, j0));
          },
          [&](OpBuilder &eb, Location el) {
            scf::YieldOp::create(
                eb, el, tileScores(eb, el, dots, spec, &vis, qt.i0, j0));
          });
      s = ifOp.getResult(0);
    }
    return foldTile(lb, ll, state, s, vTile);
  }

  /// kvTile where the layout bit of (query block i0 / blockQ, key block j0 /
  /// blockKV) is true; `state` unchanged where it is false.
  Running sparseKvTile(OpBuilder &lb, Location ll, const QueryTile &qt,
                       Value j0, Running state) {
    auto layoutType = cast<RankedTensorType>(a.layout.getType());
    Value zero = indexConstant(lb, ll, 0);
    // A layout dim of size 1 broadcasts.
    auto broadcastIndex = [&](int64_t dim, Value index) -> Value {
      if (!layoutType.isDynamicDim(dim))
        return layoutType.getDimSize(dim) == 1 ? zero : index;
      Value isOne = cmpi(lb, ll, arith::CmpIPredicate::eq,
                         sizeValue(lb, ll, a.layout, dim),
                         indexConstant(lb, ll, 1));
      return arith::SelectOp::create(lb, ll, isOne, zero, index);
    };
    Value qBlock = arith::DivUIOp::create(lb, ll, qt.i0,
                                          indexConstant(lb, ll, tile.blockQ));
    Value kBlock = arith::DivUIOp::create(lb, ll, j0,
                                          indexConstant(lb, ll, tile.blockKV));
    Value bit = tensor::ExtractOp::create(
        lb, ll, a.layout,
        ValueRange{broadcastIndex(0, qt.batch), broadcastIndex(1, qt.head),
                   qBlock, kBlock});
    auto ifOp = scf::IfOp::create(
        lb, ll, bit,
        [&](OpBuilder &tb, Location tl) {
          Running next = kvTile(tb, tl, qt, j0, state);
          scf::YieldOp::create(tb, tl, ValueRange{next.m, next.l, next.acc});
        },
        [&](OpBuilder &eb, Location el) {
          scf::YieldOp::create(eb, el,
                               ValueRange{state.m, state.l, state.acc});
        });
    return {ifOp.getResult(0), ifOp.getResult(1), ifOp.getResult(2)};
  }

  OpBuilder &b;
  Location loc;
  AttentionParts a;
  AttentionTile tile;
  ScoreSpec spec;
  Visibility vis;
  OpFoldResult sq, skv, group, window;
};

struct LoomTilePass : public loom::impl::LoomTilePassBase<LoomTilePass> {
  using LoomTilePassBase::LoomTilePassBase;

  void runOnOperation() override {
    std::string error;
    std::optional<TargetDescription> target = resolveTarget(
        getOperation()->getParentOfType<ModuleOp>(), chip, tiles, "cpu", error);
    if (!target) {
      // At the function's location, without a dump of the function.
      emitError(getOperation().getLoc()) << "loom-tile: " << error;
      return signalPassFailure();
    }
    AttentionTile tile = target->attention.value_or(kDefaultAttentionTile);

    // Ops in loom.kernel bodies too.
    SmallVector<Operation *> ops;
    // The form with an lse result is left to the op-by-op lowering
    // (LoomToLinalg/Attention.cpp), which computes it.
    getOperation().walk([&](Operation *op) {
      // So is an op with serving masks (sink, per-head windows, sink
      // logits) or a block-sparse op with a window: the online softmax
      // here implements none of them.
      if (auto attention = dyn_cast<AttentionOp>(op)) {
        if (attention->getNumResults() == 1 && !attention.hasServingMasks())
          ops.push_back(op);
      } else if (auto sparse = dyn_cast<BlockSparseAttentionOp>(op)) {
        if (sparse->getNumResults() == 1 && !sparse.hasServingMasks() &&
            !sparse.getWindowAttr())
          ops.push_back(op);
      }
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      AttentionParts parts;
      if (auto attention = dyn_cast<AttentionOp>(op)) {
        // The verifier guarantees both; the bounds rely on them.
        if (attention.getUniformWindow() &&
            (!attention.getCausal() || *attention.getUniformWindow() <= 0)) {
          op->emitOpError("window requires causal and a positive size");
          return signalPassFailure();
        }
        parts = AttentionParts::of(attention, tile);
      } else {
        auto sparse = cast<BlockSparseAttentionOp>(op);
        if (sparse.getBlockQ() == 0 || sparse.getBlockK() == 0) {
          op->emitOpError("block sizes must be positive");
          return signalPassFailure();
        }
        parts = AttentionParts::of(sparse);
      }
      rewriter.replaceOp(op,
                         AttentionTiler(rewriter, op->getLoc(), parts).build());
    }
  }
};

} // namespace
