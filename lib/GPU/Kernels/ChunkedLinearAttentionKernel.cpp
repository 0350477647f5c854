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

class Generator {
public:
  Generator(KernelBuilder &b, const Config &c)
      : b(b), c(c), t(parseElementType(b.getContext(), c.elementType)),
        mma(c.elementType == "bf16" ? MmaType::BF16 : MmaType::F16),
        pdk(c.paddedDk()), kN(c.slice), kVPitch(c.vPitch()),
        kNTiles(c.slice / 8), gated(c.gate != Gate::None) {}

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
  const bool gated;

  // Arguments.
  Value q, k, v, o, gateArg, initArg, finalArg, scale;
  // Shared memory, and the views of it in the numeric address space 3 that
  // vector.load / vector.store use (they lower before convert-gpu-to-nvvm,
  // which maps the workgroup space).
  Value qs, ks, vs, vw, ss, gs;
  Value qsN, ksN, vsN, vwN, ssN;
  // Prologue values.
  Value tid, lane, warp, g4, keyLane, bi, h, S, Dv, e0, lastRow;
  Value kRow, kCol, vRow, vCol, ktRow, ktCol, qRow, qCol;
  Value headRate; // Gate::Decay: -decay[min(h, last)]
  Value log2e;

  /// cp.async of chunk `chunk`'s Q and K rows and V slice into `stage`
  /// (zero-filled past S, past Dk, past Dv, and everywhere unless `valid`).
  void copyChunk(Value chunk, Value stage, Value valid);
  /// The natural log-gates of tokens 64 chunk + 2 lane and + 1 (0 past S).
  Values gatePair(Value chunk);
  /// The feature map on `tile` at `stage` in place, zero outside S and Dk.
  void featureMapPass(Value tile, Value stage, Value row0);
  /// Vw = Vs[stage] * exp(G_63 - G_j) per row j.
  void weightPass(Value stage);
  /// One ldmatrix.x4 of `tile` at `indices` as four mma operands.
  Fragment load4(Value tile, ValueRange indices, bool transpose);
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

void Generator::copyChunk(Value chunk, Value stage, Value valid) {
  Value row0 = b.mul(chunk, b.idx(kC));
  // Q and K: paddedDk / 8 16-byte pieces per row; the count is a multiple
  // of the CTA's threads.
  const int64_t perRow = pdk / 8;
  for (int64_t pass = 0; pass < kC * perRow / kT; ++pass) {
    Value id = b.add(tid, b.idx(pass * kT));
    Value r = b.divu(id, b.idx(perRow));
    Value piece = b.remu(id, b.idx(perRow));
    Value col = b.mul(piece, b.idx(8));
    Value row = b.add(row0, r);
    Value rowIn = b.slt(row, S);
    Value colIn = b.slt(col, b.idx(c.dk));
    Value both = b.andi(rowIn, colIn);
    Value in = b.andi(both, valid);
    Value count = b.select(in, b.idx(8), b.idx(0));
    Value srcRow = b.mins(row, lastRow);
    Value srcCol = b.select(in, col, b.idx(0));
    asyncCopy(b, qs, {stage, r, col}, q, {bi, h, srcRow, srcCol}, 8, count);
    asyncCopy(b, ks, {stage, r, col}, k, {bi, h, srcRow, srcCol}, 8, count);
  }
  // V: 8 pieces per row of the slice.
  for (int64_t pass = 0; pass < kC * (kN / 8) / kT; ++pass) {
    Value id = b.add(tid, b.idx(pass * kT));
    Value r = b.divu(id, b.idx(kN / 8));
    Value piece = b.remu(id, b.idx(kN / 8));
    Value col = b.mul(piece, b.idx(8));
    Value row = b.add(row0, r);
    Value gcol = b.add(e0, col);
    Value rowIn = b.slt(row, S);
    Value colIn = b.slt(gcol, Dv);
    Value both = b.andi(rowIn, colIn);
    Value in = b.andi(both, valid);
    Value count = b.select(in, b.idx(8), b.idx(0));
    Value srcRow = b.mins(row, lastRow);
    Value srcCol = b.select(in, gcol, b.idx(0));
    asyncCopy(b, vs, {stage, r, col}, v, {bi, h, srcRow, srcCol}, 8, count);
  }
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

void Generator::weightPass(Value stage) {
  auto vec8 = VectorType::get({8}, t);
  auto vec8f = VectorType::get({8}, b.getF32Type());
  Value last = b.load(gs, b.idx(kC - 1));
  b.forLoop(tid, b.idx(kC * (kN / 8)), b.idx(kT), [&](Value id) {
    Value r = b.divu(id, b.idx(kN / 8));
    Value piece = b.remu(id, b.idx(kN / 8));
    Value col = b.mul(piece, b.idx(8));
    Value gr = b.load(gs, r);
    Value w = b.exp2Approx(b.fsub(last, gr));
    Value raw = b.vectorLoad(vec8, vsN, {stage, r, col}, 16);
    Value x = b.extf(vec8f, raw);
    Value splat = b.broadcast(vec8f, w);
    Value scaled = b.fmul(x, splat);
    Value rounded = b.roundTo(t, scaled);
    b.vectorStore(rounded, vwN, {r, col}, 16);
  });
}

Values Generator::chunkBody(Value chunk, ValueRange carried, Value nchunks) {
  const int64_t dSteps = pdk / 16, mS = pdk / 64;
  Value stage = b.remu(chunk, b.idx(2));
  Value other = b.sub(b.idx(1), stage);
  Value next = b.add(chunk, b.idx(1));
  Value hasNext = b.slt(next, nchunks);
  copyChunk(next, other, hasNext);
  commitAsyncCopies(b);
  Values gateNext;
  if (gated)
    gateNext = gatePair(next);
  waitAsyncCopies(b, 1);
  b.barrier();

  // The gates' prefix sum (log2 units) into Gs, the feature map.
  Value row0 = b.mul(chunk, b.idx(kC));
  if (gated) {
    Value x0 = b.fmul(carried[0], log2e);
    Value x1 = b.fmul(carried[1], log2e);
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
  if (gated || c.featureMap != FeatureMap::Identity)
    b.barrier();
  if (gated)
    weightPass(stage);

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

  // Q fragments, O = (Q S) * rowF.
  SmallVector<Fragment> qa;
  for (int64_t kk = 0; kk < dSteps; ++kk) {
    Value col = b.add(qCol, b.idx(kk * 16));
    qa.push_back(load4(qs, {stage, qRow, col}, /*transpose=*/false));
  }
  std::vector<Fragment> acc(kNTiles, Fragment{zf, zf, zf, zf});
  for (int64_t kk = 0; kk < dSteps; ++kk)
    for (int64_t nt = 0; nt < kNTiles; nt += 2) {
      Value row = b.add(vRow, b.idx(kk * 16));
      Value col = b.add(vCol, b.idx(nt * 8));
      Fragment f = load4(ss, {row, col}, /*transpose=*/true);
      acc[nt] = mmaSync(b, mma, qa[kk], {f[0], f[1]}, acc[nt]);
      acc[nt + 1] = mmaSync(b, mma, qa[kk], {f[2], f[3]}, acc[nt + 1]);
    }
  for (int64_t nt = 0; nt < kNTiles; ++nt)
    for (int el = 0; el < 4; ++el)
      acc[nt][el] = b.fmul(acc[nt][el], rowF[el / 2]);

  // A = Q K^T (the chunk's 64 keys: 8 n-tiles), weighted and masked
  // (j <= i).
  std::vector<Fragment> s(kKeyTiles, Fragment{zf, zf, zf, zf});
  for (int64_t kk = 0; kk < dSteps; ++kk)
    for (int64_t nt = 0; nt < kKeyTiles; nt += 2) {
      Value row = b.add(kRow, b.idx(nt * 8));
      Value col = b.add(kCol, b.idx(kk * 16));
      Fragment f = load4(ks, {stage, row, col}, /*transpose=*/false);
      s[nt] = mmaSync(b, mma, qa[kk], {f[0], f[1]}, s[nt]);
      s[nt + 1] = mmaSync(b, mma, qa[kk], {f[2], f[3]}, s[nt + 1]);
    }
  for (int64_t nt = 0; nt < kKeyTiles; ++nt)
    for (int el = 0; el < 4; ++el) {
      int64_t ri = el / 2;
      Value j = b.add(keyLane, b.idx(nt * 8 + el % 2));
      Value x = b.fmul(s[nt][el], scale);
      if (gated) {
        Value gj = b.load(gs, j);
        Value w = b.exp2Approx(b.fsub(gi[ri], gj));
        x = b.fmul(x, w);
      }
      Value keep = b.ule(j, iLoc[ri]);
      s[nt][el] = b.select(keep, x, zf);
    }

  // O += A V.
  for (int64_t kk = 0; kk < kKeySteps; ++kk) {
    Fragment a;
    for (auto [nt, el] : {std::pair{2 * kk, 0}, std::pair{2 * kk, 2},
                          std::pair{2 * kk + 1, 0}, std::pair{2 * kk + 1, 2}})
      a.push_back(packPair(b, s[nt][el], s[nt][el + 1], mma));
    for (int64_t nt = 0; nt < kNTiles; nt += 2) {
      Value row = b.add(vRow, b.idx(kk * 16));
      Value col = b.add(vCol, b.idx(nt * 8));
      Fragment f = load4(vs, {stage, row, col}, /*transpose=*/true);
      acc[nt] = mmaSync(b, mma, a, {f[0], f[1]}, acc[nt]);
      acc[nt + 1] = mmaSync(b, mma, a, {f[2], f[3]}, acc[nt + 1]);
    }
  }

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
  // of m-tile m, n-tile nt, register el is at 2 + (m * kNTiles + nt) * 4 + el.
  const int64_t base = 2;
  Values state(carried.begin() + base, carried.end());
  if (gated) {
    Value decayAll = b.exp2Approx(b.load(gs, b.idx(kC - 1)));
    for (Value &x : state)
      x = b.fmul(x, decayAll);
  }
  Value warpState = b.mul(warp, b.idx(pdk / 4));
  for (int64_t kk = 0; kk < kKeySteps; ++kk) {
    SmallVector<Fragment> a;
    for (int64_t m = 0; m < mS; ++m) {
      Value row = b.add(ktRow, b.idx(kk * 16));
      Value col = b.add(b.add(warpState, ktCol), b.idx(16 * m));
      a.push_back(load4(ks, {stage, row, col}, /*transpose=*/true));
    }
    for (int64_t nt = 0; nt < kNTiles; nt += 2) {
      Value row = b.add(vRow, b.idx(kk * 16));
      Value col = b.add(vCol, b.idx(nt * 8));
      Fragment f = gated ? load4(vw, {row, col}, /*transpose=*/true)
                         : load4(vs, {stage, row, col}, /*transpose=*/true);
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
  out.append(state.begin(), state.end());
  return out;
}

void Generator::run() {
  unsigned argNo = 0;
  q = b.arg(argNo++);
  k = b.arg(argNo++);
  v = b.arg(argNo++);
  o = b.arg(argNo++);
  if (c.gate == Gate::PerHead)
    gateArg = b.arg(argNo++);
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
  auto numeric = [&](Value view) {
    auto type = cast<MemRefType>(view.getType());
    auto space3 =
        MemRefType::get(type.getShape(), type.getElementType(),
                        MemRefLayoutAttrInterface(), b.getI64IntegerAttr(3));
    return memref::MemorySpaceCastOp::create(b, space3, view).getResult();
  };
  qsN = numeric(qs);
  ksN = numeric(ks);
  vsN = numeric(vs);
  vwN = numeric(vw);
  ssN = numeric(ss);

  tid = b.threadId();
  lane = b.remu(tid, b.idx(32));
  warp = b.divu(tid, b.idx(32));
  g4 = b.divu(lane, b.idx(4));
  keyLane = b.mul(b.remu(lane, b.idx(4)), b.idx(2));
  Value lane8 = b.remu(lane, b.idx(8));
  Value half = b.mul(b.divu(lane, b.idx(16)), b.idx(8));
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
  Value lane16 = b.remu(lane, b.idx(16));
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
    commitAsyncCopies(b);
    Values init;
    if (gated)
      init = gatePair(b.idx(0));
    else
      init = {zf, zf};
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
            int64_t at = 2 + (m * kNTiles + nt) * 4 + 2 * r;
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
  int64_t sizes[] = {2 * kChunk * pitch() * e, 2 * kChunk * pitch() * e,
                     2 * kChunk * vPitch() * e, kChunk * vPitch() * e,
                     paddedDk() * vPitch() * e, kChunk * 4};
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
  if (gate == Gate::Decay)
    name += decayNameSuffix(decay);
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
