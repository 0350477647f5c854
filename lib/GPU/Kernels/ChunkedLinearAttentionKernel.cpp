//===- ChunkedLinearAttentionKernel.cpp - linear attention on mma.sync ----===//
//
// Causal loom.linear_attention, additive rule, on the tensor cores: one CTA
// of 4 warps per (batch, head, 64-column slice of Dv) walks the sequence in
// chunks of C = 64 tokens, with the chunk's state S (paddedDk x 64, f32) in
// the warps' registers. With G_i the cumulative log-gate of the chunk's token
// i (G_i = g_0 + ... + g_i; g = 0 without a gate, -decay[h] with decay, 0
// for the tokens past S, which leaves the state as it is):
//
//   A_ij = scale exp(G_i - G_j) phi(q_i).phi(k_j) for j <= i, else 0
//   o_i  = A V + scale exp(G_i) (phi(q_i) S)            (rows i of the chunk)
//   S    = exp(G_63) S + phi(K)^T (V * w),  w_j = exp(G_63 - G_j)
//
// which is the recurrence S_t = exp(g_t) S_{t-1} + phi(k_t) v_t^T,
// o_t = scale S_t^T phi(q_t) over the chunk's tokens. All of it runs on
// mma.sync m16n8k16 with f32 accumulators:
//
//   prefetch chunk c+1 (cp.async into the other stage of Q, K, V) and the
//   log-gates of its tokens (registers; two per lane), wait for chunk c
//   the gates' prefix sum (a warp scan of pairs), in log2 units, into Gs;
//   the feature map applied to the Q and K tiles in place (zero outside S
//   and Dk); Vw = V * w (gated forms only)
//   each warp, query rows 16 w .. 16 w + 15:
//     O = (Q S) * scale exp(G_i)      Q fragments by ldmatrix, S (the bf16 /
//                                     f16 copy in Ss) by ldmatrix.trans
//     A = masked, weighted Q K^T      K fragments by ldmatrix
//     O += A V                        A rounded in registers (as flash
//                                     attention's P), V by ldmatrix.trans
//     o rows < S, columns < Dv written as pairs
//   each warp, state rows (paddedDk / 4) w ..:
//     S = exp(G_63) S + K^T Vw        K^T fragments by ldmatrix.trans of the
//                                     K tile, Vw by ldmatrix.trans
//     S rounded into Ss for the next chunk's Q S
//
// A gate per key dimension (GLA; Gate::PerKey) makes G_i a vector over the
// key dimensions d, G_id the cumulative log-gate (log2 units) of chunk row i,
// and the weights move from the scores onto the operands:
//
//   O   = (Q~ S) * scale,             Q~_id = phi(q)_id 2^G_id
//   A_ij = scale sum_d Qh(J)_id Kh_jd for the key block J = j / 16 (rows
//          16 J .. 16 J + 15) with E_J = G_{16 J + 15}:
//          Qh(J)_id = phi(q)_id 2^(G_id - E_Jd), Kh_jd = phi(k)_jd 2^(E_Jd - G_jd)
//   S   = Diag(2^G_63) S + Kb^T V,    Kb_jd = phi(k)_jd 2^(G_63d - G_jd)
//
// Every exponent is <= 0 except Qh(J) on the diagonal block (J = i / 16,
// where G_id - E_Jd >= 0, at most the block's decay G_{16 J} - E_J): while
// that stays under kDiagonalBound in every d the factored form is exact to
// rounding (no factor overflows or flushes); a warp whose block decays
// further recomputes its 16 x 16 diagonal scores term by term,
// sum_d phi(q)_id phi(k)_jd 2^(G_id - G_jd) (the rare case of a gate near
// 0 in some dimension). The cumulative gates are a column scan (one thread
// per key dimension) of the raw gates, which cp.async brings into Gr one
// chunk ahead (a single stage: the copy of chunk c + 1 starts once chunk c's
// scan has read Gr); Kh and Kb are written once per chunk by the CTA, the
// Q~ and Qh(J) fragments scaled in registers (ldmatrix of the plain Q tile).
//
// The delta rule (DeltaNet, Gated DeltaNet, KDA) keeps the additive
// schedule with V replaced by U, the chunk's new values. With
// gamma_i = exp(G_i) and S0 the state at the chunk's start, unrolling
// S_i = a_i S_{i-1} + k_i u_i^T, u_i = beta_i (v_i - a_i S_{i-1}^T k_i) gives
//
//   (I + L) U = R,   R_i = beta_i (v_i - gamma_i S0^T k_i),
//                    L_ij = beta_i (gamma_i / gamma_j) k_i.k_j for j < i
//
// (phi(k) for k throughout), after which o and the state are the additive
// rule's with U for V. Each warp computes its 16 rows of R (K S0 like Q S)
// and of L (K K^T like Q K^T) on mma.sync, and inverts its 16 x 16 diagonal
// block of I + L by forward substitution (a lane per column, f32) into Ti.
// The block rows are then solved in turn: warp I rounds R_I into Us and
// writes U_I = Ti_I R_I over it; every warp subtracts L_JI U_I from its R_J
// (L_JI from its registers as flash attention's P). Four CTA barriers per
// chunk; U is rounded to the element type where the additive rule reads V.
// With a gate per key dimension (KDA), R_i = beta_i (v_i - S0^T (k_i
// 2^G_i)) and L_ij = beta_i sum_d k_id k_jd 2^(G_id - G_jd): perKeyScores
// with the K tile for the Q tile gives both (K~ S0 and the factored,
// diagonal-checked scores), and o and the state are the per-key forms.
//
// The initial state (if any) is read into the registers before the loop,
// the final state written from them after it. The products' operands are
// rounded to the element type as flash attention rounds P: A, S's copy and
// V * w; the state itself stays f32.
//
// Shared memory (ChunkedLinearAttentionKernelConfig::sharedOffsets): Qs, Ks
// [2][64][paddedDk + 8], Vs [2][64][72], Vw [64][72], Ss [paddedDk][72] of
// the element type, Gs [64] f32. The 8 elements of padding per row put the
// eight rows of an ldmatrix, and the pairs a warp writes into Ss, in
// distinct banks.

#include "loom/GPU/Kernels/ChunkedLinearAttentionKernel.h"

#include "loom/GPU/Builder/AsyncCopy.h"
#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Mma.h"
#include "loom/GPU/Builder/Reduce.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"


using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;
using Fragment = SmallVector<Value, 4>;
using Config = ChunkedLinearAttentionKernelConfig;
using FeatureMap = Config::FeatureMap;
using Gate = Config::Gate;

constexpr int64_t kC = Config::kChunk;     // rows of a chunk
constexpr int64_t kT = Config::kThreads;   // threads per CTA
constexpr int64_t kKeySteps = kC / 16;     // k16 steps over a chunk's rows
constexpr int64_t kKeyTiles = kC / 8;      // 8-key n-tiles of a chunk
static_assert(kC == 16 * Config::kWarps, "a warp owns 16 rows of a chunk");
/// The largest decay (log2 units) of one 16-row block in any key dimension
/// for which the factored diagonal scores are used: their factors stay
/// within 2^+-64 (no overflow or flush in f32 or the 16-bit types).
constexpr double kDiagonalBound = 64.0;
/// The smallest log-gate (log2 units) the kernel uses: gates below it (down
/// to -inf, "forget at once") are clamped, which changes no weight that f32
/// can hold (2^-128 flushes to 0 as 2^-inf does) and keeps the cumulative
/// sums finite, so that their differences are never inf - inf.
constexpr double kMinLog2Gate = -128.0;

class Generator {
public:
  Generator(KernelBuilder &b, const Config &c)
      : b(b), c(c), t(parseElementType(b.getContext(), c.elementType)),
        mma(c.elementType == "bf16" ? MmaType::BF16 : MmaType::F16),
        pdk(c.paddedDk()), kN(c.slice), kVPitch(c.vPitch()),
        kNTiles(c.slice / 8),
        gated(c.gate == Gate::Decay || c.gate == Gate::PerHead),
        perKey(c.gate == Gate::PerKey), delta(c.delta),
        base(c.delta ? 3 : 2) {}

  void run();

private:
  KernelBuilder &b;
  const Config &c;
  Type t;
  MmaType mma;
  const int64_t pdk;
  /// Columns of Dv per CTA, the row pitch of Vs, Vw and Ss, the slice's
  /// 8-column n-tiles.
  const int64_t kN, kVPitch, kNTiles;
  /// A scalar log-gate per token (decay or per head); a vector per token;
  /// the delta rule.
  const bool gated, perKey, delta;
  /// The loop carries the next chunk's two log-gates per lane (0 without a
  /// scalar gate), the delta rule's beta per thread, then the state.
  const int64_t base;

  // Arguments.
  Value q, k, v, o, gateArg, betaArg, initArg, finalArg, scale;
  // Shared memory, and the views of it in the numeric address space 3 that
  // vector.load / vector.store use (they lower before convert-gpu-to-nvvm,
  // which maps the workgroup space).
  Value qs, ks, vs, vw, ss, gs;
  Value qsN, ksN, vsN, vwN, ssN;
  // Gate::PerKey: the cumulative gates, the raw gates, Kh and Kb.
  Value gk, gr, kh, kb, gkN, khN, kbN;
  // The delta rule: U, the inverses of the diagonal blocks, L's diagonal
  // blocks, beta.
  Value us, ti, lf, bs, usN, lfN;
  // Prologue values.
  Value tid, lane, warp, g4, keyLane, bi, h, S, Dv, e0, lastRow;
  Value kRow, kCol, vRow, vCol, ktRow, ktCol, qRow, qCol, lane16, half;
  Value headRate; // Gate::Decay: -decay[min(h, last)]
  Value log2e;

  /// cp.async of chunk `chunk`'s Q and K rows and V slice into `stage`
  /// (zero-filled past S, past Dk, past Dv, and everywhere unless `valid`).
  void copyChunk(Value chunk, Value stage, Value valid);
  /// The natural log-gates of tokens 64 chunk + 2 lane and + 1 (0 past S).
  Values gatePair(Value chunk);
  /// The feature map on `tile` at `stage` in place, zero outside S and Dk.
  void featureMapPass(Value tile, Value stage, Value row0);
  /// Vw = `tile` (at `lead` ++ (row, column): V or U) * exp(G_63 - G_j) per
  /// row j.
  void weightPass(Value tile, ValueRange lead);
  /// The delta rule: beta of token 64 chunk + tid (0 past S and for tid >=
  /// 64).
  Value betaFor(Value chunk);
  /// The delta rule: U into Us for the chunk at `stage` (rows iLoc of this
  /// lane, their cumulative log2 gates gi when gated).
  void deltaSolve(Value stage, ArrayRef<Value> iLoc, ArrayRef<Value> gi);
  /// One ldmatrix.x4 of `tile` at `indices` as four mma operands.
  Fragment load4(Value tile, ValueRange indices, bool transpose);
  /// acc[nt] += a B over the slice's n-tiles, B the 16 rows from `row0` of a
  /// k-major tile read by `operand(row, column)` (ldmatrix.trans of Ss, Vs,
  /// Us).
  void accumulateSlice(const Fragment &a, int64_t row0,
                       function_ref<Fragment(Value, Value)> operand,
                       std::vector<Fragment> &acc);
  /// The scores `s` of this lane's rows `iLoc` against the chunk's keys j,
  /// times factor[ri] (and exp2(G_i - G_j) with a scalar gate: `gi`), kept
  /// where j <= i (j < i when `strict`), 0 elsewhere.
  void weightScores(std::vector<Fragment> &s, ArrayRef<Value> iLoc,
                    ArrayRef<Value> factor, ArrayRef<Value> gi, bool strict);
  /// The A operand of key step `kk` (n-tiles 2 kk and 2 kk + 1 of the
  /// scores `s`, rounded as flash attention's P), negated when `negate`.
  Fragment scoreOperand(ArrayRef<Fragment> s, int64_t kk, bool negate);
  /// This warp's accumulator rows `iLoc` of the slice, rounded to the
  /// element type, into Us.
  void storeSlice(ArrayRef<Fragment> acc, ArrayRef<Value> iLoc);
  /// The B operands of products with the state: ldmatrix.trans of Ss.
  std::function<Fragment(Value, Value)> stateOperand() {
    return [this](Value row, Value col) {
      return load4(ss, {row, col}, /*transpose=*/true);
    };
  }
  /// Gate::PerKey: cp.async of chunk `chunk`'s raw gates into Gr (zero past
  /// S and Dk, and everywhere unless `valid`).
  void copyGate(Value chunk, Value valid);
  /// cp.async of the chunk's 64 rows from `row0` of each source [B, H, S,
  /// cols] (columns col0 .. col0 + width) into its tile at `lead` ++ (row,
  /// column), in pieces of `per` elements (16 bytes); zero past S, past
  /// `colLimit`, and everywhere unless `valid`.
  void copyRows(ArrayRef<std::pair<Value, Value>> srcAndTile,
                ValueRange lead, Value row0, int64_t width, int64_t per,
                Value col0, Value colLimit, Value valid);
  /// Gate::PerKey: Gk = the column-wise inclusive sum of Gr, in log2 units.
  void scanPass();
  /// Gate::PerKey: Kh and Kb from the K tile at `stage` and Gk.
  void keyPass(Value stage);
  /// Gate::PerKey: the A operand of this warp's rows at k-step `kk` from the
  /// ldmatrix result `raw` of the Q tile, each element times 2^(G_id - e_d)
  /// (`gi`: this lane's eight G_id, `e`: its four e_d, or none for 0).
  Fragment scaledQ(Value raw, ArrayRef<Value> gi, ArrayRef<Value> e);
  /// Gate::PerKey: this warp's diagonal scores term by term (n-tiles 2 J,
  /// 2 J + 1 of `s`) when its block decays past kDiagonalBound, with its
  /// rows from `rows` (the Q tile, or the K tile for the delta rule's L).
  void exactDiagonal(std::vector<Fragment> &s, Value stage, Value rows);
  /// Gate::PerKey: for this warp's rows of `rows` (the Q tile; the K tile
  /// for the delta rule), acc += X~ S and s = the weighted scores X K^T.
  void perKeyScores(Value rows, Value stage, std::vector<Fragment> &acc,
                    std::vector<Fragment> &s);
  /// For this warp's 16 rows X of `rows` (the Q tile; the K tile for the
  /// delta rule): acc += X S (Ss) and s = X K^T, the scores against the
  /// chunk's keys (weighted by the gates with a gate per key dimension,
  /// unweighted otherwise).
  void rowProducts(Value rows, Value stage, std::vector<Fragment> &acc,
                   std::vector<Fragment> &s);
  /// The chunk's body; returns the values to carry on.
  Values chunkBody(Value chunk, ValueRange carried, Value nchunks);
};

Fragment Generator::load4(Value tile, ValueRange indices, bool transpose) {
  Value ld =
      ldmatrix(b, tile, indices, 4, transpose, VectorType::get({4, 2}, t));
  Fragment f;
  for (int r = 0; r < 4; ++r)
    f.push_back(ldmatrixRegister(b, ld, r, mma));
  return f;
}

void Generator::accumulateSlice(const Fragment &a, int64_t row0,
                                function_ref<Fragment(Value, Value)> operand,
                                std::vector<Fragment> &acc) {
  for (int64_t nt = 0; nt < kNTiles; nt += 2) {
    Value row = b.add(vRow, b.idx(row0));
    Value col = b.add(vCol, b.idx(nt * 8));
    Fragment f = operand(row, col);
    acc[nt] = mmaSync(b, mma, a, {f[0], f[1]}, acc[nt]);
    acc[nt + 1] = mmaSync(b, mma, a, {f[2], f[3]}, acc[nt + 1]);
  }
}

void Generator::weightScores(std::vector<Fragment> &s, ArrayRef<Value> iLoc,
                             ArrayRef<Value> factor, ArrayRef<Value> gi,
                             bool strict) {
  for (int64_t nt = 0; nt < kKeyTiles; ++nt)
    for (int el = 0; el < 4; ++el) {
      int64_t ri = el / 2;
      Value j = b.add(keyLane, b.idx(nt * 8 + el % 2));
      Value x = b.fmul(s[nt][el], factor[ri]);
      if (gated) {
        Value gj = b.load(gs, j);
        Value w = b.exp2Approx(b.fsub(gi[ri], gj));
        x = b.fmul(x, w);
      }
      Value keep = strict ? b.ult(j, iLoc[ri]) : b.ule(j, iLoc[ri]);
      s[nt][el] = b.select(keep, x, b.f32(0.0));
    }
}

Fragment Generator::scoreOperand(ArrayRef<Fragment> s, int64_t kk,
                                 bool negate) {
  Fragment a;
  for (auto [nt, el] : {std::pair{2 * kk, 0}, std::pair{2 * kk, 2},
                        std::pair{2 * kk + 1, 0}, std::pair{2 * kk + 1, 2}}) {
    Value lo = s[nt][el], hi = s[nt][el + 1];
    if (negate) {
      lo = b.fneg(lo);
      hi = b.fneg(hi);
    }
    a.push_back(packPair(b, lo, hi, mma));
  }
  return a;
}

void Generator::storeSlice(ArrayRef<Fragment> acc, ArrayRef<Value> iLoc) {
  auto pairF = VectorType::get({2}, b.getF32Type());
  for (int64_t nt = 0; nt < kNTiles; ++nt)
    for (int64_t ri = 0; ri < 2; ++ri) {
      Value col = b.add(keyLane, b.idx(nt * 8));
      Value pair =
          b.fromElements(pairF, {acc[nt][2 * ri], acc[nt][2 * ri + 1]});
      b.vectorStore(b.roundTo(t, pair), usN, {iLoc[ri], col}, 4);
    }
}

void Generator::copyRows(ArrayRef<std::pair<Value, Value>> srcAndTile,
                         ValueRange lead, Value row0, int64_t width,
                         int64_t per, Value col0, Value colLimit,
                         Value valid) {
  // The piece count is a multiple of the CTA's threads.
  const int64_t perRow = width / per;
  for (int64_t pass = 0; pass < kC * perRow / kT; ++pass) {
    Value id = b.add(tid, b.idx(pass * kT));
    Value r = b.divu(id, b.idx(perRow));
    Value col = b.mul(b.remu(id, b.idx(perRow)), b.idx(per));
    Value row = b.add(row0, r);
    Value gcol = b.add(col0, col);
    Value both = b.andi(b.slt(row, S), b.slt(gcol, colLimit));
    Value in = b.andi(both, valid);
    Value count = b.select(in, b.idx(per), b.idx(0));
    Value srcRow = b.mins(row, lastRow);
    Value srcCol = b.select(in, gcol, b.idx(0));
    SmallVector<Value> dst(lead.begin(), lead.end());
    dst.append({r, col});
    for (auto [src, tile] : srcAndTile)
      asyncCopy(b, tile, dst, src, {bi, h, srcRow, srcCol}, per, count);
  }
}

void Generator::copyGate(Value chunk, Value valid) {
  const int64_t per = c.gateType == "f32" ? 4 : 8; // elements per 16 bytes
  copyRows({{gateArg, gr}}, {}, b.mul(chunk, b.idx(kC)), pdk, per, b.idx(0),
           b.idx(c.dk), valid);
}

void Generator::scanPass() {
  // One thread per key dimension; the 64 loads first, then the sums.
  b.ifThen(b.ult(tid, b.idx(pdk)), [&] {
    Values raw;
    for (int64_t r = 0; r < kC; ++r)
      raw.push_back(b.load(gr, {b.idx(r), tid}));
    Value sum = b.f32(0.0);
    for (int64_t r = 0; r < kC; ++r) {
      Value g = b.fmul(b.toF32(raw[r]), log2e);
      sum = b.fadd(b.fmax(g, b.f32(kMinLog2Gate)), sum);
      b.store(sum, gk, {b.idx(r), tid});
    }
  });
}

void Generator::keyPass(Value stage) {
  const int64_t perRow = pdk / 8;
  auto vec8 = VectorType::get({8}, t);
  auto vec8f = VectorType::get({8}, b.getF32Type());
  b.forLoop(tid, b.idx(kC * perRow), b.idx(kT), [&](Value id) {
    Value r = b.divu(id, b.idx(perRow));
    Value col = b.mul(b.remu(id, b.idx(perRow)), b.idx(8));
    Value blockEnd = b.add(b.mul(b.divu(r, b.idx(16)), b.idx(16)), b.idx(15));
    Value x = b.extf(vec8f, b.vectorLoad(vec8, ksN, {stage, r, col}, 16));
    Value g = b.vectorLoad(vec8f, gkN, {r, col}, 16);
    Value e = b.vectorLoad(vec8f, gkN, {blockEnd, col}, 16);
    Value last = b.vectorLoad(vec8f, gkN, {b.idx(kC - 1), col}, 16);
    Values hs, bs;
    for (int64_t i = 0; i < 8; ++i) {
      Value gi = b.extract(g, i), xi = b.extract(x, i);
      hs.push_back(b.fmul(xi, b.exp2Approx(b.fsub(b.extract(e, i), gi))));
      bs.push_back(b.fmul(xi, b.exp2Approx(b.fsub(b.extract(last, i), gi))));
    }
    b.vectorStore(b.roundTo(t, b.fromElements(vec8f, hs)), khN, {r, col}, 16);
    b.vectorStore(b.roundTo(t, b.fromElements(vec8f, bs)), kbN, {r, col}, 16);
  });
}

Fragment Generator::scaledQ(Value raw, ArrayRef<Value> gi, ArrayRef<Value> e) {
  auto pairF = VectorType::get({2}, b.getF32Type());
  Fragment f;
  for (int64_t r = 0; r < 4; ++r) {
    Value x = b.extf(pairF, b.extract(raw, r));
    Values y;
    for (int64_t el = 0; el < 2; ++el) {
      Value exponent = gi[2 * r + el];
      if (!e.empty())
        exponent = b.fsub(exponent, e[2 * (r / 2) + el]);
      y.push_back(b.fmul(b.extract(x, el), b.exp2Approx(exponent)));
    }
    f.push_back(packPair(b, y[0], y[1], mma));
  }
  return f;
}

void Generator::exactDiagonal(std::vector<Fragment> &s, Value stage,
                              Value rows) {
  // The block's largest decay over the key dimensions (0 past Dk).
  Value warpRow = b.mul(warp, b.idx(16));
  Value blockEnd = b.add(warpRow, b.idx(15));
  Value worst = b.f32(0.0);
  for (int64_t d0 = 0; d0 < pdk; d0 += 32) {
    Value d = b.add(lane, b.idx(d0));
    Value drop = b.fsub(b.load(gk, {warpRow, d}), b.load(gk, {blockEnd, d}));
    worst = b.fmax(worst, drop);
  }
  worst = warpAllReduce(b, worst, ReduceKind::Max);
  Value far = b.cmpf(arith::CmpFPredicate::OGT, worst, b.f32(kDiagonalBound));
  SmallVector<Type> types(8, b.getF32Type());
  for (int64_t J = 0; J < Config::kWarps; ++J) {
    Value mine = b.andi(b.eq(warp, b.idx(J)), far);
    Values old;
    for (int64_t nt = 2 * J; nt < 2 * J + 2; ++nt)
      old.append(s[nt].begin(), s[nt].end());
    Values fresh = b.ifThenElse(
        mine, types,
        [&] {
          // Entry e = 4 (nt - 2 J) + el: row i = 16 J + g4 + 8 (el / 2),
          // key j = 8 nt + keyLane + el % 2.
          Values is, js;
          for (int64_t e = 0; e < 8; ++e) {
            int64_t nt = 2 * J + e / 4, el = e % 4;
            is.push_back(b.add(b.add(warpRow, g4), b.idx(8 * (el / 2))));
            js.push_back(b.add(keyLane, b.idx(8 * nt + el % 2)));
          }
          Values zeros(8, b.f32(0.0));
          return b.forLoop(
              b.idx(0), b.idx(pdk), b.idx(1), zeros,
              [&](Value d, ValueRange sums) {
                Values out;
                for (int64_t e = 0; e < 8; ++e) {
                  Value qd = b.toF32(b.load(rows, {stage, is[e], d}));
                  Value kd = b.toF32(b.load(ks, {stage, js[e], d}));
                  Value w = b.exp2Approx(b.fsub(b.load(gk, {is[e], d}),
                                                b.load(gk, {js[e], d})));
                  out.push_back(b.fma(b.fmul(qd, kd), w, sums[e]));
                }
                return out;
              });
        },
        [&] { return old; });
    for (int64_t e = 0; e < 8; ++e)
      s[2 * J + e / 4][e % 4] = fresh[e];
  }
}

void Generator::perKeyScores(Value rows, Value stage,
                             std::vector<Fragment> &acc,
                             std::vector<Fragment> &s) {
  const int64_t dSteps = pdk / 16;
  Value warpRow = b.mul(warp, b.idx(16));
  auto pairF = VectorType::get({2}, b.getF32Type());
  for (int64_t kk = 0; kk < dSteps; ++kk) {
    Value qCol0 = b.add(qCol, b.idx(kk * 16));
    Value raw = ldmatrix(b, rows, {stage, qRow, qCol0}, 4,
                         /*transpose=*/false, VectorType::get({4, 2}, t));
    // This lane's G_id: register r holds row g4 + 8 (r % 2), columns
    // 16 kk + keyLane + 8 (r / 2) + {0, 1}.
    Values gi;
    for (int64_t r = 0; r < 4; ++r) {
      Value row = b.add(b.add(warpRow, g4), b.idx(8 * (r % 2)));
      Value col = b.add(keyLane, b.idx(16 * kk + 8 * (r / 2)));
      Value pair = b.vectorLoad(pairF, gkN, {row, col}, 8);
      gi.push_back(b.extract(pair, 0));
      gi.push_back(b.extract(pair, 1));
    }
    // O += Q~ S.
    Fragment qt = scaledQ(raw, gi, {});
    accumulateSlice(qt, kk * 16, stateOperand(), acc);
    // Scores of key block J: Qh(J) Kh^T.
    for (int64_t J = 0; J < kC / 16; ++J) {
      Values e;
      for (int64_t half = 0; half < 2; ++half) {
        Value col = b.add(keyLane, b.idx(16 * kk + 8 * half));
        Value pair = b.vectorLoad(pairF, gkN, {b.idx(16 * J + 15), col}, 8);
        e.push_back(b.extract(pair, 0));
        e.push_back(b.extract(pair, 1));
      }
      Fragment qh = scaledQ(raw, gi, e);
      Value row = b.add(kRow, b.idx(16 * J));
      Value col = b.add(kCol, b.idx(kk * 16));
      Fragment f = load4(kh, {row, col}, /*transpose=*/false);
      s[2 * J] = mmaSync(b, mma, qh, {f[0], f[1]}, s[2 * J]);
      s[2 * J + 1] = mmaSync(b, mma, qh, {f[2], f[3]}, s[2 * J + 1]);
    }
  }
  exactDiagonal(s, stage, rows);
}

void Generator::rowProducts(Value rows, Value stage,
                            std::vector<Fragment> &acc,
                            std::vector<Fragment> &s) {
  if (perKey) {
    perKeyScores(rows, stage, acc, s);
    return;
  }
  const int64_t dSteps = pdk / 16;
  SmallVector<Fragment> xa;
  for (int64_t kk = 0; kk < dSteps; ++kk) {
    Value col = b.add(qCol, b.idx(kk * 16));
    xa.push_back(load4(rows, {stage, qRow, col}, /*transpose=*/false));
  }
  for (int64_t kk = 0; kk < dSteps; ++kk)
    accumulateSlice(xa[kk], kk * 16, stateOperand(), acc);
  // Every key block, the masked ones right of the warp's rows too: skipping
  // them by a branch uniform across the warp made the kernels slower on an
  // H100 (per head 0.271 against 0.252 ms at B1 H32 S8192 D128, KDA 1.467
  // against 1.271; only GLA at B4 H16 S4096 gained, 0.480 against 0.504):
  // the branches break up the ldmatrix and mma stream.
  for (int64_t kk = 0; kk < dSteps; ++kk)
    for (int64_t nt = 0; nt < kKeyTiles; nt += 2) {
      Value row = b.add(kRow, b.idx(nt * 8));
      Value col = b.add(kCol, b.idx(kk * 16));
      Fragment f = load4(ks, {stage, row, col}, /*transpose=*/false);
      s[nt] = mmaSync(b, mma, xa[kk], {f[0], f[1]}, s[nt]);
      s[nt + 1] = mmaSync(b, mma, xa[kk], {f[2], f[3]}, s[nt + 1]);
    }
}

void Generator::copyChunk(Value chunk, Value stage, Value valid) {
  Value row0 = b.mul(chunk, b.idx(kC));
  // Q and K: paddedDk columns (zero past Dk); V: the slice's kN columns.
  copyRows({{q, qs}, {k, ks}}, {stage}, row0, pdk, 8, b.idx(0), b.idx(c.dk),
           valid);
  copyRows({{v, vs}}, {stage}, row0, kN, 8, e0, Dv, valid);
}

Values Generator::gatePair(Value chunk) {
  Value chunkRow = b.mul(chunk, b.idx(kC));
  Value laneRow = b.mul(lane, b.idx(2));
  Value base = b.add(chunkRow, laneRow);
  Values out;
  for (int64_t i = 0; i < 2; ++i) {
    Value token = b.addConst(base, i);
    Value in = b.slt(token, S);
    if (c.gate == Gate::Decay) {
      out.push_back(b.select(in, headRate, b.f32(0.0)));
      continue;
    }
    out.push_back(b.ifThenElse(
        in, b.getF32Type(),
        [&] {
          Value raw = b.load(gateArg, {bi, h, token});
          return b.toF32(raw);
        },
        [&] { return b.f32(0.0); }));
  }
  return out;
}

void Generator::featureMapPass(Value tile, Value stage, Value row0) {
  const int64_t perRow = pdk / 8;
  auto vec8 = VectorType::get({8}, t);
  auto vec8f = VectorType::get({8}, b.getF32Type());
  Value zero = b.f32(0.0), one = b.f32(1.0);
  b.forLoop(tid, b.idx(kC * perRow), b.idx(kT), [&](Value id) {
    Value r = b.divu(id, b.idx(perRow));
    Value piece = b.remu(id, b.idx(perRow));
    Value col = b.mul(piece, b.idx(8));
    Value row = b.add(row0, r);
    Value rowIn = b.slt(row, S);
    Value colIn = b.slt(col, b.idx(c.dk));
    Value in = b.andi(rowIn, colIn);
    Value raw = b.vectorLoad(vec8, tile, {stage, r, col}, 16);
    Value x = b.extf(vec8f, raw);
    Values ys;
    for (int64_t e = 0; e < 8; ++e) {
      Value xe = b.extract(x, e);
      Value pos = b.cmpf(arith::CmpFPredicate::OGT, xe, zero);
      Value y;
      if (c.featureMap == FeatureMap::Relu) {
        y = b.select(pos, xe, zero);
      } else {
        Value plus1 = b.fadd(xe, one);
        Value ex = b.exp(xe);
        y = b.select(pos, plus1, ex);
      }
      ys.push_back(b.select(in, y, zero));
    }
    Value packed = b.fromElements(vec8f, ys);
    Value rounded = b.roundTo(t, packed);
    b.vectorStore(rounded, tile, {stage, r, col}, 16);
  });
}

void Generator::weightPass(Value tile, ValueRange lead) {
  auto vec8 = VectorType::get({8}, t);
  auto vec8f = VectorType::get({8}, b.getF32Type());
  Value last = b.load(gs, b.idx(kC - 1));
  b.forLoop(tid, b.idx(kC * (kN / 8)), b.idx(kT), [&](Value id) {
    Value r = b.divu(id, b.idx(kN / 8));
    Value piece = b.remu(id, b.idx(kN / 8));
    Value col = b.mul(piece, b.idx(8));
    Value gr = b.load(gs, r);
    Value w = b.exp2Approx(b.fsub(last, gr));
    SmallVector<Value> at(lead.begin(), lead.end());
    at.append({r, col});
    Value raw = b.vectorLoad(vec8, tile, at, 16);
    Value x = b.extf(vec8f, raw);
    Value splat = b.broadcast(vec8f, w);
    Value scaled = b.fmul(x, splat);
    Value rounded = b.roundTo(t, scaled);
    b.vectorStore(rounded, vwN, {r, col}, 16);
  });
}

Value Generator::betaFor(Value chunk) {
  Value token = b.add(b.mul(chunk, b.idx(kC)), tid);
  Value in = b.andi(b.ult(tid, b.idx(kC)), b.slt(token, S));
  return b.ifThenElse(
      in, b.getF32Type(),
      [&] { return b.toF32(b.load(betaArg, {bi, h, token})); },
      [&] { return b.f32(0.0); });
}

void Generator::deltaSolve(Value stage, ArrayRef<Value> iLoc,
                           ArrayRef<Value> gi) {
  Value zf = b.f32(0.0);
  auto pairF = VectorType::get({2}, b.getF32Type());
  auto pairT = VectorType::get({2}, t);
  // This warp's rows of K as A operands: R = K S0 and L = K K^T (with a
  // gate per key dimension, K~ S0 and the weighted scores of perKeyScores).
  std::vector<Fragment> r(kNTiles, Fragment{zf, zf, zf, zf});
  std::vector<Fragment> l(kKeyTiles, Fragment{zf, zf, zf, zf});
  rowProducts(ks, stage, r, l);

  // R_i = beta_i (v_i - gamma_i (K S0)_i); L_ij = beta_i gamma_i / gamma_j
  // (K K^T)_ij below the diagonal, 0 elsewhere.
  Values beta(2), gamma(2);
  for (int64_t ri = 0; ri < 2; ++ri) {
    beta[ri] = b.load(bs, iLoc[ri]);
    if (gated)
      gamma[ri] = b.exp2Approx(gi[ri]);
  }
  for (int64_t nt = 0; nt < kNTiles; ++nt)
    for (int64_t ri = 0; ri < 2; ++ri) {
      Value col = b.add(keyLane, b.idx(nt * 8));
      Value vPair = b.extf(
          pairF, b.vectorLoad(pairT, vsN, {stage, iLoc[ri], col}, 4));
      for (int64_t el = 0; el < 2; ++el) {
        Value &x = r[nt][2 * ri + el];
        Value ks0 = gated ? b.fmul(x, gamma[ri]) : x;
        x = b.fmul(beta[ri], b.fsub(b.extract(vPair, el), ks0));
      }
    }
  weightScores(l, iLoc, beta, gi, /*strict=*/true);

  // This warp's diagonal block of L (n-tiles 2 w and 2 w + 1) into Lf[w];
  // inverted, (I + L_ww)^-1 into Ti[w], by forward substitution: lane
  // c < 16 solves column c.
  for (int64_t J = 0; J < Config::kWarps; ++J)
    b.ifThen(b.eq(warp, b.idx(J)), [&] {
      for (int64_t half8 = 0; half8 < 2; ++half8)
        for (int64_t ri = 0; ri < 2; ++ri) {
          const Fragment &x = l[2 * J + half8];
          Value col = b.add(keyLane, b.idx(half8 * 8));
          Value row = b.add(g4, b.idx(8 * ri));
          Value pair = b.fromElements(pairF, {x[2 * ri], x[2 * ri + 1]});
          b.vectorStore(pair, lfN, {b.idx(J), row, col}, 8);
        }
    });
  b.warpBarrier();
  b.ifThen(b.ult(lane, b.idx(16)), [&] {
    Values x;
    for (int64_t i = 0; i < 16; ++i) {
      Value acc = b.select(b.eq(lane, b.idx(i)), b.f32(1.0), zf);
      for (int64_t j = 0; j < i; ++j) {
        Value lij = b.load(lf, {warp, b.idx(i), b.idx(j)});
        acc = b.fma(b.fneg(lij), x[j], acc);
      }
      x.push_back(acc);
      b.store(b.roundTo(t, acc), ti, {warp, b.idx(i), lane});
    }
  });
  b.warpBarrier();
  Fragment inv = load4(ti, {warp, lane16, half}, /*transpose=*/false);
  auto uOperand = [&](Value row, Value col) {
    return load4(us, {row, col}, /*transpose=*/true);
  };

  // The block rows in turn: U_I = Ti_I R_I (warp I), then R_J -= L_JI U_I
  // in every warp (for J <= I the product is unused: L_JI is 0 for J < I,
  // and warp I is done with R_I).
  for (int64_t blockI = 0; blockI < Config::kWarps; ++blockI) {
    b.ifThen(b.eq(warp, b.idx(blockI)), [&] {
      storeSlice(r, iLoc);
      b.warpBarrier();
      std::vector<Fragment> u(kNTiles, Fragment{zf, zf, zf, zf});
      accumulateSlice(inv, blockI * 16, uOperand, u);
      b.warpBarrier();
      storeSlice(u, iLoc);
    });
    b.barrier();
    if (blockI + 1 == Config::kWarps)
      break;
    accumulateSlice(scoreOperand(l, blockI, /*negate=*/true), blockI * 16,
                    uOperand, r);
  }
}

Values Generator::chunkBody(Value chunk, ValueRange carried, Value nchunks) {
  const int64_t mS = pdk / 64;
  Value stage = b.remu(chunk, b.idx(2));
  Value other = b.sub(b.idx(1), stage);
  Value next = b.add(chunk, b.idx(1));
  Value hasNext = b.slt(next, nchunks);
  if (delta) // Bs is free (the previous chunk ended with a barrier).
    b.ifThen(b.ult(tid, b.idx(kC)),
             [&] { b.store(carried[2], bs, tid); });
  copyChunk(next, other, hasNext);
  commitAsyncCopies(b);
  Values gateNext;
  if (gated)
    gateNext = gatePair(next);
  Value betaNext;
  if (delta)
    betaNext = betaFor(next);
  waitAsyncCopies(b, 1);
  b.barrier();

  // The gates' prefix sum (log2 units) into Gs, the feature map.
  Value row0 = b.mul(chunk, b.idx(kC));
  if (gated) {
    Value x0 = b.fmax(b.fmul(carried[0], log2e), b.f32(kMinLog2Gate));
    Value x1 = b.fmax(b.fmul(carried[1], log2e), b.f32(kMinLog2Gate));
    Value pairSum = b.fadd(x0, x1);
    Value incl = warpInclusiveAdd(b, pairSum, lane);
    Value first = b.fsub(incl, x1);
    b.ifThen(b.eq(warp, b.idx(0)), [&] {
      Value at = b.mul(lane, b.idx(2));
      b.store(first, gs, at);
      Value at1 = b.add(at, b.idx(1));
      b.store(incl, gs, at1);
    });
  }
  if (c.featureMap != FeatureMap::Identity) {
    featureMapPass(qsN, stage, row0);
    featureMapPass(ksN, stage, row0);
  }
  if (perKey)
    scanPass();
  if (gated || perKey || c.featureMap != FeatureMap::Identity)
    b.barrier();
  if (gated && !delta)
    weightPass(vsN, {stage});
  if (perKey) {
    // Gr is free: the next chunk's gates come while this one runs.
    copyGate(next, hasNext);
    commitAsyncCopies(b);
    keyPass(stage);
    b.barrier();
  }

  // This warp's rows of the chunk: i = 16 w + g + 8 ri.
  Value zf = b.f32(0.0);
  Value warpRow = b.mul(warp, b.idx(16));
  Values iLoc(2), rowF(2), gi(2);
  for (int64_t ri = 0; ri < 2; ++ri) {
    iLoc[ri] = b.add(b.add(warpRow, g4), b.idx(8 * ri));
    if (gated) {
      gi[ri] = b.load(gs, iLoc[ri]);
      rowF[ri] = b.fmul(scale, b.exp2Approx(gi[ri]));
    } else {
      rowF[ri] = scale;
    }
  }
  // The delta rule: U (in Us) takes V's place from here on.
  if (delta) {
    deltaSolve(stage, iLoc, gi);
    if (gated)
      weightPass(usN, {});
  }
  auto vOperand = [&](Value row, Value col) {
    return delta ? load4(us, {row, col}, /*transpose=*/true)
                 : load4(vs, {stage, row, col}, /*transpose=*/true);
  };

  // O = (Q S) * rowF and A = Q K^T (the chunk's 64 keys: 8 n-tiles); with
  // a gate per key dimension both from the scaled operands.
  std::vector<Fragment> acc(kNTiles, Fragment{zf, zf, zf, zf});
  std::vector<Fragment> s(kKeyTiles, Fragment{zf, zf, zf, zf});
  rowProducts(qs, stage, acc, s);
  for (int64_t nt = 0; nt < kNTiles; ++nt)
    for (int el = 0; el < 4; ++el)
      acc[nt][el] = b.fmul(acc[nt][el], rowF[el / 2]);

  // A weighted and masked (j <= i).
  weightScores(s, iLoc, {scale, scale}, gi, /*strict=*/false);

  // O += A V.
  for (int64_t kk = 0; kk < kKeySteps; ++kk)
    accumulateSlice(scoreOperand(s, kk, /*negate=*/false), kk * 16, vOperand,
                    acc);

  // The rows < S and columns < Dv of O, as pairs.
  auto pairType = VectorType::get({2}, b.getF32Type());
  for (int64_t ri = 0; ri < 2; ++ri) {
    Value row = b.add(row0, iLoc[ri]);
    b.ifThen(b.slt(row, S), [&] {
      for (int64_t nt = 0; nt < kNTiles; ++nt) {
        Value tileCol = b.add(e0, b.idx(nt * 8));
        b.ifThen(b.slt(tileCol, Dv), [&] {
          Value pair = b.fromElements(
              pairType, {acc[nt][2 * ri], acc[nt][2 * ri + 1]});
          Value rounded = b.roundTo(t, pair);
          Value col = b.add(tileCol, keyLane);
          b.vectorStore(rounded, o, {bi, h, row, col}, 4);
        });
      }
    });
  }
  // Every warp has read Ss (and Vw is written) before the state moves on.
  b.barrier();

  // S = exp(G_63) S + K^T Vw for this warp's state rows; the carried state
  // of m-tile m, n-tile nt, register el is at base + (m * kNTiles + nt) * 4
  // + el.
  Values state(carried.begin() + base, carried.end());
  if (gated) {
    Value decayAll = b.exp2Approx(b.load(gs, b.idx(kC - 1)));
    for (Value &x : state)
      x = b.fmul(x, decayAll);
  }
  Value warpState = b.mul(warp, b.idx(pdk / 4));
  if (perKey) {
    // Row d of the state times 2^G_63d.
    for (int64_t m = 0; m < mS; ++m)
      for (int64_t r = 0; r < 2; ++r) {
        Value d = b.add(b.add(warpState, g4), b.idx(16 * m + 8 * r));
        Value decayRow = b.exp2Approx(b.load(gk, {b.idx(kC - 1), d}));
        for (int64_t nt = 0; nt < kNTiles; ++nt)
          for (int64_t el = 2 * r; el < 2 * r + 2; ++el) {
            Value &x = state[(m * kNTiles + nt) * 4 + el];
            x = b.fmul(x, decayRow);
          }
      }
  }
  for (int64_t kk = 0; kk < kKeySteps; ++kk) {
    SmallVector<Fragment> a;
    for (int64_t m = 0; m < mS; ++m) {
      Value row = b.add(ktRow, b.idx(kk * 16));
      Value col = b.add(b.add(warpState, ktCol), b.idx(16 * m));
      a.push_back(perKey ? load4(kb, {row, col}, /*transpose=*/true)
                         : load4(ks, {stage, row, col}, /*transpose=*/true));
    }
    for (int64_t nt = 0; nt < kNTiles; nt += 2) {
      Value row = b.add(vRow, b.idx(kk * 16));
      Value col = b.add(vCol, b.idx(nt * 8));
      Fragment f = gated ? load4(vw, {row, col}, /*transpose=*/true)
                         : vOperand(row, col);
      for (int64_t m = 0; m < mS; ++m)
        for (int64_t half = 0; half < 2; ++half) {
          int64_t at = (m * kNTiles + nt + half) * 4;
          Fragment cIn(state.begin() + at, state.begin() + at + 4);
          Fragment d = mmaSync(b, mma, a[m], {f[2 * half], f[2 * half + 1]},
                               cIn);
          for (int el = 0; el < 4; ++el)
            state[at + el] = d[el];
        }
    }
  }
  // The rounded copy for the next chunk's Q S.
  for (int64_t m = 0; m < mS; ++m)
    for (int64_t nt = 0; nt < kNTiles; ++nt)
      for (int64_t r = 0; r < 2; ++r) {
        int64_t at = (m * kNTiles + nt) * 4 + 2 * r;
        Value d = b.add(b.add(warpState, g4), b.idx(16 * m + 8 * r));
        Value col = b.add(keyLane, b.idx(nt * 8));
        Value pair = b.fromElements(pairType, {state[at], state[at + 1]});
        Value rounded = b.roundTo(t, pair);
        b.vectorStore(rounded, ssN, {d, col}, 4);
      }
  // Every warp is done with this stage, Vw and Gs before the next chunk.
  b.barrier();

  Values out;
  if (gated)
    out = gateNext;
  else
    out = {zf, zf};
  if (delta)
    out.push_back(betaNext);
  out.append(state.begin(), state.end());
  return out;
}

void Generator::run() {
  unsigned argNo = 0;
  q = b.arg(argNo++);
  k = b.arg(argNo++);
  v = b.arg(argNo++);
  o = b.arg(argNo++);
  if (c.gate == Gate::PerHead || c.gate == Gate::PerKey)
    gateArg = b.arg(argNo++);
  if (delta)
    betaArg = b.arg(argNo++);
  if (c.initialState)
    initArg = b.arg(argNo++);
  if (c.finalState)
    finalArg = b.arg(argNo++);
  scale = b.arg(argNo++);

  Value smem = b.dynamicSharedMemory();
  SmallVector<int64_t> off = c.sharedOffsets();
  qs = b.view(smem, off[0], sharedMemRefType({2, kC, c.pitch()}, t));
  ks = b.view(smem, off[1], sharedMemRefType({2, kC, c.pitch()}, t));
  vs = b.view(smem, off[2], sharedMemRefType({2, kC, kVPitch}, t));
  vw = b.view(smem, off[3], sharedMemRefType({kC, kVPitch}, t));
  ss = b.view(smem, off[4], sharedMemRefType({pdk, kVPitch}, t));
  gs = b.view(smem, off[5], sharedMemRefType({kC}, b.getF32Type()));
  auto numeric = [&](Value view) { return b.numericShared(view); };
  qsN = numeric(qs);
  ksN = numeric(ks);
  vsN = numeric(vs);
  vwN = numeric(vw);
  ssN = numeric(ss);
  if (perKey) {
    Type g = parseElementType(b.getContext(), c.gateType);
    gk = b.view(smem, off[6], sharedMemRefType({kC, c.gatePitch()},
                                               b.getF32Type()));
    gr = b.view(smem, off[7], sharedMemRefType({kC, c.gatePitch()}, g));
    kh = b.view(smem, off[8], sharedMemRefType({kC, c.pitch()}, t));
    kb = b.view(smem, off[9], sharedMemRefType({kC, c.pitch()}, t));
    gkN = numeric(gk);
    khN = numeric(kh);
    kbN = numeric(kb);
  }
  if (delta) {
    const size_t d0 = perKey ? 10 : 6;
    us = b.view(smem, off[d0], sharedMemRefType({kC, kVPitch}, t));
    ti = b.view(smem, off[d0 + 1],
                sharedMemRefType(
                    {Config::kWarps, 16, Config::kInversePitch}, t));
    lf = b.view(smem, off[d0 + 2],
                sharedMemRefType({Config::kWarps, 16, Config::kLPitch},
                                 b.getF32Type()));
    bs = b.view(smem, off[d0 + 3], sharedMemRefType({kC}, b.getF32Type()));
    usN = numeric(us);
    lfN = numeric(lf);
  }

  tid = b.threadId();
  lane = b.remu(tid, b.idx(32));
  warp = b.divu(tid, b.idx(32));
  g4 = b.divu(lane, b.idx(4));
  keyLane = b.mul(b.remu(lane, b.idx(4)), b.idx(2));
  Value lane8 = b.remu(lane, b.idx(8));
  half = b.mul(b.divu(lane, b.idx(16)), b.idx(8));
  Value quarter = b.mul(b.remu(b.divu(lane, b.idx(8)), b.idx(2)), b.idx(8));
  // ldmatrix addresses (see Mma.h): K as the B operand of Q K^T; V, Vw and
  // Ss (k-major) as B operands through .trans; the K tile as the A operand
  // of K^T Vw through .trans; Q as the A operand.
  kRow = b.add(half, lane8);
  kCol = quarter;
  vRow = b.add(lane8, quarter);
  vCol = half;
  ktRow = b.add(lane8, half);
  ktCol = quarter;
  Value warpRow = b.mul(warp, b.idx(16));
  lane16 = b.remu(lane, b.idx(16));
  qRow = b.add(warpRow, lane16);
  qCol = half;
  log2e = b.f32(1.44269504088896340736);

  Value B = b.dim(q, 0);
  Value H = b.dim(q, 1);
  S = b.dim(q, 2);
  Dv = b.dim(v, 3);
  Value bh = b.blockId(mlir::gpu::Dimension::x);
  Value slice = b.blockId(mlir::gpu::Dimension::y);
  e0 = b.mul(slice, b.idx(kN));
  Value BH = b.mul(B, H);
  Value bhIn = b.ult(bh, BH);
  Value sliceIn = b.ult(e0, Dv);
  Value live = b.andi(bhIn, sliceIn);
  b.ifThen(live, [&] {
    bi = b.divu(bh, H);
    h = b.remu(bh, H);
    lastRow = b.maxs(b.sub(S, b.idx(1)), b.idx(0));
    if (c.gate == Gate::Decay) {
      Value chosen = headDecayRate(b, c.decay, h);
      headRate = b.fneg(chosen);
    }

    // The state: this warp's rows of the initial state (or zeros), and its
    // rounded copy in Ss.
    const int64_t mS = pdk / 64;
    Value warpState = b.mul(warp, b.idx(pdk / 4));
    auto pairType = VectorType::get({2}, b.getF32Type());
    Value zf = b.f32(0.0);
    Values state(mS * kNTiles * 4, zf);
    for (int64_t m = 0; m < mS; ++m)
      for (int64_t nt = 0; nt < kNTiles; ++nt)
        for (int64_t r = 0; r < 2; ++r) {
          int64_t at = (m * kNTiles + nt) * 4 + 2 * r;
          Value d = b.add(b.add(warpState, g4), b.idx(16 * m + 8 * r));
          Value col = b.add(keyLane, b.idx(nt * 8));
          if (c.initialState) {
            Value tileCol = b.add(e0, b.idx(nt * 8));
            Value dIn = b.slt(d, b.idx(c.dk));
            Value colIn = b.slt(tileCol, Dv);
            Value in = b.andi(dIn, colIn);
            Value pair = b.ifThenElse(
                in, pairType,
                [&] {
                  Value gcol = b.add(e0, col);
                  return b.vectorLoad(pairType, initArg, {bi, h, d, gcol}, 8);
                },
                [&] { return b.zero(pairType); });
            state[at] = b.extract(pair, 0);
            state[at + 1] = b.extract(pair, 1);
          }
          Value pair = b.fromElements(pairType, {state[at], state[at + 1]});
          Value rounded = b.roundTo(t, pair);
          b.vectorStore(rounded, ssN, {d, col}, 4);
        }

    // Chunk 0, then the loop (each step prefetches the next chunk).
    Value nchunks = b.ceilDivConst(S, kC);
    Value hasFirst = b.slt(b.idx(0), nchunks);
    copyChunk(b.idx(0), b.idx(0), hasFirst);
    if (perKey)
      copyGate(b.idx(0), hasFirst);
    commitAsyncCopies(b);
    Values init;
    if (gated)
      init = gatePair(b.idx(0));
    else
      init = {zf, zf};
    if (delta)
      init.push_back(betaFor(b.idx(0)));
    init.append(state.begin(), state.end());
    Values loop = b.forLoop(b.idx(0), nchunks, b.idx(1), init,
                            [&](Value chunk, ValueRange carried) {
                              return chunkBody(chunk, carried, nchunks);
                            });
    waitAsyncCopies(b, 0);

    if (c.finalState) {
      for (int64_t m = 0; m < mS; ++m)
        for (int64_t nt = 0; nt < kNTiles; ++nt) {
          Value tileCol = b.add(e0, b.idx(nt * 8));
          for (int64_t r = 0; r < 2; ++r) {
            int64_t at = base + (m * kNTiles + nt) * 4 + 2 * r;
            Value d = b.add(b.add(warpState, g4), b.idx(16 * m + 8 * r));
            Value dIn = b.slt(d, b.idx(c.dk));
            Value colIn = b.slt(tileCol, Dv);
            Value in = b.andi(dIn, colIn);
            b.ifThen(in, [&] {
              Value pair = b.fromElements(pairType, {loop[at], loop[at + 1]});
              Value gcol = b.add(tileCol, keyLane);
              b.vectorStore(pair, finalArg, {bi, h, d, gcol}, 8);
            });
          }
        }
    }
  });
}

} // namespace

SmallVector<int64_t> ChunkedLinearAttentionKernelConfig::sharedOffsets() const {
  int64_t e = 2; // bytes of the 16-bit element type
  bool perKey = gate == Gate::PerKey;
  SmallVector<int64_t> sizes = {
      2 * kChunk * pitch() * e, 2 * kChunk * pitch() * e,
      2 * kChunk * vPitch() * e, perKey ? 0 : kChunk * vPitch() * e,
      paddedDk() * vPitch() * e, kChunk * 4};
  if (perKey) {
    int64_t g = gateType == "f32" ? 4 : 2;
    sizes.append({kChunk * gatePitch() * 4, kChunk * gatePitch() * g,
                  kChunk * pitch() * e, kChunk * pitch() * e});
  }
  if (delta)
    sizes.append({kChunk * vPitch() * e, kWarps * 16 * kInversePitch * e,
                  kWarps * 16 * kLPitch * 4, kChunk * 4});
  SmallVector<int64_t> offsets = {0};
  for (int64_t s : sizes)
    offsets.push_back(offsets.back() + s);
  return offsets;
}

std::string ChunkedLinearAttentionKernelConfig::kernelName() const {
  std::string name = "loom_linear_attention_mma_" + elementType + "_dk" +
                     std::to_string(dk) + "_" +
                     LinearAttentionKernelConfig::featureMapName(featureMap);
  if (gate == Gate::PerHead)
    name += "_gate_" + gateType;
  if (gate == Gate::PerKey)
    name += "_gatek_" + gateType;
  if (gate == Gate::Decay)
    name += decayNameSuffix(decay);
  if (delta)
    name += "_delta_" + betaType;
  if (slice != 64)
    name += "_n" + std::to_string(slice);
  if (initialState)
    name += "_init";
  if (finalState)
    name += "_final";
  if (strided)
    name += "_strided";
  return name;
}

FailureOr<SymbolRefAttr>
buildChunkedLinearAttentionKernel(ModuleOp module, Location loc,
                                  const ChunkedLinearAttentionKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type f32 = Float32Type::get(ctx);
  int64_t dyn = ShapedType::kDynamic;
  MemRefLayoutAttrInterface layout;
  if (c.strided)
    layout = StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1});
  auto global = MemRefType::get({dyn, dyn, dyn, dyn}, t, layout);
  KernelSignature sig;
  sig.arguments = {global, global, global, global};
  if (c.gate == ChunkedLinearAttentionKernelConfig::Gate::PerHead)
    sig.arguments.push_back(
        dynamicMemRefType(3, parseElementType(ctx, c.gateType)));
  if (c.gate == ChunkedLinearAttentionKernelConfig::Gate::PerKey)
    sig.arguments.push_back(
        dynamicMemRefType(4, parseElementType(ctx, c.gateType)));
  if (c.delta)
    sig.arguments.push_back(
        dynamicMemRefType(3, parseElementType(ctx, c.betaType)));
  if (c.initialState)
    sig.arguments.push_back(dynamicMemRefType(4, f32));
  if (c.finalState)
    sig.arguments.push_back(dynamicMemRefType(4, f32));
  sig.arguments.push_back(f32);
  sig.blockSize = {ChunkedLinearAttentionKernelConfig::kThreads, 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(b, c).run(); });
}

} // namespace gpu
} // namespace loom
