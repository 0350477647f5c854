//===- AttentionKernel.cpp - the flash-attention kernel -------------------===//
//
// FlashAttention-2 forward, one CTA per (query tile, head, batch):
//
//   load the CTA's Q tile (cp.async) and tile 0 of K and V (2 stages)
//   each warp owns 16 * warpTiles query rows; their ldmatrix A fragments stay
//   in registers where they fit (else they are read again per tile)
//   for each key/value tile n that the masks leave visible:
//     prefetch tile n+1 (cp.async into the other stage; plain copies when
//     the tile is wholly inside the keys), wait for tile n
//     S = Q K^T             mma.sync m16n8k16, K fragments by ldmatrix, each
//                           feeding the warp's warpTiles m-tiles
//     x = S * scale*log2(e) (or the softcap), -inf where masked (only tiles
//                           that cross a mask boundary are masked per element)
//     m' = max(m, rowmax x); p = exp2(x - m'); l = l*exp2(m - m') + rowsum p
//     (with a positive scale, x = S and p = exp2(fma(S, scale*log2(e),
//     -m' * scale*log2(e))): one fma per score instead of a mul and a sub)
//     O = O*exp2(m - m') + P V   (P rounded to T in registers, V fragments
//                                 by ldmatrix.trans)
//   O / l (0 where l = 0: a row without visible key), rounded once to T;
//   with `lse`, lane 4g of each quad writes its rows' ln(2) * (m + lg2(l))
//   (m in log2 units), -inf where l = 0.
//
// Thread (lane) ownership follows the mma.sync m16n8k16 fragment layouts: with
// g = lane / 4 and t = lane % 4, a thread holds accumulator rows g and g + 8
// and, of every 8-column n-tile, columns 2t and 2t + 1. A row's values are
// spread over the 4 threads of a quad, so row reductions are two xor
// shuffles. The accumulator of S is already in the A-operand layout of the
// P V product (two adjacent n-tiles form one k16 step), so P never leaves the
// registers.
//
// Fusion groups add a prologue (RoPE of the Q and K tiles in shared memory,
// as loom.rope rounds it) and read and write q, k, v and o as strided views
// (AttentionKernelConfig::strided).

#include "loom/GPU/Kernels/AttentionKernel.h"

#include "loom/GPU/Builder/AttentionMask.h"

#include "loom/GPU/Builder/AsyncCopy.h"
#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Mma.h"
#include "loom/GPU/Builder/Reduce.h"
#include "loom/GPU/Builder/Rope.h"

#include <cassert>

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;
/// A fragment: the four registers of an mma.sync accumulator or A operand.
using Fragment = SmallVector<Value, 4>;

/// The kernel body builder.
class Generator {
public:
  Generator(KernelBuilder &b, const AttentionKernelConfig &c)
      : b(b), c(c), t(parseElementType(b.getContext(), c.elementType)),
        ropeT(parseElementType(b.getContext(), c.ropeType)),
        mma(c.elementType == "bf16" ? MmaType::BF16 : MmaType::F16) {}

  void run();

private:
  KernelBuilder &b;
  const AttentionKernelConfig &c;
  /// The element type, the RoPE tables' element type and the mma.sync
  /// operand type.
  Type t, ropeT;
  MmaType mma;

  // The kernel's arguments.
  Value q, k, v, o, layout, blockQArg, blockKArg, scale, softcapArg, window;
  Value lseArg; // with c.lse: [B, Hq, Sq] f32
  Value cosQ, sinQ, cosK, sinK;
  // Shared memory: the Q tile, the two stages of K and V, K's table rows.
  Value qs, ks, vs, kcos, ksin;

  // Values of the prologue.
  Value tid, lane, warp, bIdx, h, kvh, sq, skv, q0;
  Value live;             // i1: the CTA's (b, h) exists
  Value copyRow, copyCol; // a thread's first row and its column (cp.async)
  Value kRow, kCol;       // a lane's ldmatrix address in a K tile
  Value vRow, vCol;       // a lane's ldmatrix.trans address in a V tile
  Value keyLane;          // 2 * (lane % 4), i32: a thread's first key column
  Value qRow;             // a lane's ldmatrix row in the Q tile
  Value tablesAligned;    // K's RoPE tables are 16-byte aligned (staged)
  /// A fragments of Q per m-tile and k16 step (when kept in registers).
  std::vector<std::vector<Fragment>> qFrag;
  /// The query rows a thread owns: row 2 * mt + r is g + 8 r of m-tile mt.
  Values rows;
  Values alignedRows;   // i' = i + Skv - Sq of those rows
  Value sl2;            // scale * log2(e), or scale / c with softcap
  Value capL2;          // c * log2(e) with softcap
  Value windowEff;      // min(W, Skv)
  Value ipMin, ipMax;   // i' of the CTA's first and last rows
  Value ne;             // key tiles [.., ne) may be visible
  Value qBlock, lb, lh; // sparse: the layout row of the CTA

  Value negInf() { return b.f32Bits(0xFF800000u); }
  Value zeroF() { return b.f32(0.0); }

  /// The Q tile [blockM, pitch] or a two-stage K/V buffer [2, blockN,
  /// pitch] in shared memory.
  MemRefType smemType(int64_t rowsPerStage, bool staged) const {
    if (staged)
      return sharedMemRefType({2, rowsPerStage, c.rowPitch()}, t);
    return sharedMemRefType({rowsPerStage, c.rowPitch()}, t);
  }
  /// A K tile's rows of a RoPE table in shared memory (one stage: the next
  /// tile's rows are copied once this tile's rotation is done).
  MemRefType tableTileType(int64_t rowsPerTile) const {
    return sharedMemRefType({rowsPerTile, c.headDim / 2}, ropeT);
  }
  /// Indices into a tile, with the stage first when it has one.
  static Values at(Value stage, Value row, Value col) {
    if (stage)
      return {stage, row, col};
    return {row, col};
  }

  /// RoPE in shared memory: rotates the `rowCount` rows of `tile` (at
  /// `stage` when staged) with the tables `cosT` and `sinT` [S, D/2], row r
  /// at sequence position base + r. Rows at or past `limit` hold zeros (the
  /// copies zero-fill them) and stay zero: their table row is clamped to
  /// limit - 1. Every thread takes pairs tid, tid + threads, ...: unrolled,
  /// every load of a thread issued before its first use, so that the table
  /// reads (L2 latency) overlap; the caller puts barriers around it.
  /// With `staged`, cosT and sinT are the tables' rows of this tile in
  /// shared memory ([rowCount, D/2], row r for position base + r).
  void rotateTile(Value tile, Value stage, int64_t rowCount, Value base,
                  Value limit, Value cosT, Value sinT, bool staged = false) {
    int64_t pairs = rowCount * (c.headDim / 2), threads = c.threads();
    Value lastPos = b.sub(limit, b.idx(1));
    // Batches of 8 pairs a thread: their loads in flight together, without
    // the registers of a whole D = 128 tile.
    int64_t steps = (pairs + threads - 1) / threads;
    for (int64_t k0 = 0; k0 < steps; k0 += 8)
      rotatePairs(tile, stage, base, lastPos, cosT, sinT, pairs, k0,
                  std::min<int64_t>(k0 + 8, steps), staged);
  }

  /// Steps [k0, k1) of rotateTile: pair tid + k * threads (of `pairs`) for
  /// each k.
  void rotatePairs(Value tile, Value stage, Value base, Value lastPos,
                   Value cosT, Value sinT, int64_t pairs, int64_t k0,
                   int64_t k1, bool staged) {
    int64_t halfD = c.headDim / 2;
    int64_t threads = c.threads();
    struct Pair {
      Value row, c0, c1, x1, x2, co, si, in;
    };
    SmallVector<Pair> work;
    for (int64_t kk = k0; kk < k1; ++kk) {
      Pair w;
      Value i = b.add(tid, b.idx(kk * threads));
      if ((kk + 1) * threads > pairs) {
        // Out-of-range pairs of a partial last step read pair 0.
        w.in = b.ult(i, b.idx(pairs));
        i = b.select(w.in, i, b.idx(0));
      }
      Value r = b.divu(i, b.idx(halfD));
      Value p = b.remu(i, b.idx(halfD));
      // The table row of a global table: the position, clamped.
      Value pos;
      if (!staged) {
        Value unclamped = b.add(base, r);
        pos = b.mins(unclamped, lastPos);
      }
      w.c0 = c.ropeInterleaved ? b.mul(p, b.idx(2)) : p;
      w.c1 = c.ropeInterleaved ? b.add(w.c0, b.idx(1)) : b.add(p, b.idx(halfD));
      w.row = r;
      w.co = b.load(cosT, {staged ? r : pos, p});
      w.si = b.load(sinT, {staged ? r : pos, p});
      w.x1 = b.load(tile, at(stage, r, w.c0));
      w.x2 = b.load(tile, at(stage, r, w.c1));
      work.push_back(w);
    }
    for (Pair &w : work) {
      Value x1 = b.toF32(w.x1);
      Value x2 = b.toF32(w.x2);
      Value co = b.toF32(w.co);
      Value si = b.toF32(w.si);
      // (a pair, not structured bindings: the lambda captures both)
      std::pair<Value, Value> rotated = rotatePair(b, x1, x2, co, si);
      auto store = [&] {
        for (auto [y, col] : {std::pair{rotated.first, w.c0},
                              std::pair{rotated.second, w.c1}}) {
          Value rounded = b.roundTo(t, y);
          b.store(rounded, tile, at(stage, w.row, col));
        }
      };
      if (w.in)
        b.ifThen(w.in, store);
      else
        store();
    }
  }

  /// cp.async of the rows rowBase .. rowBase + blockN of K's cos and sin
  /// tables into their shared tiles (16-byte chunks; rows past `limit`,
  /// every row when `valid` is false and everything when the tables are not
  /// 16-byte aligned are zero-filled without reading).
  void copyTables(Value rowBase, Value limit, Value valid) {
    int64_t perChunk = 16 / c.tableBytes();
    int64_t chunksPerRow = (c.headDim / 2) / perChunk;
    int64_t chunks = c.blockN * chunksPerRow;
    Value lastRow = b.maxs(b.sub(limit, b.idx(1)), b.idx(0));
    for (int64_t i = 0; i * c.threads() < chunks; ++i) {
      Value chunk = b.add(tid, b.idx(i * c.threads()));
      Value r = b.divu(chunk, b.idx(chunksPerRow));
      Value col = b.mul(b.remu(chunk, b.idx(chunksPerRow)), b.idx(perChunk));
      Value row = b.add(rowBase, r);
      Value in = b.andi(b.andi(b.slt(row, limit), valid), tablesAligned);
      Value count = b.select(in, b.idx(perChunk), b.idx(0));
      Value src = b.maxs(b.mins(row, lastRow), b.idx(0));
      for (auto [from, to] : {std::pair{cosK, kcos}, std::pair{sinK, ksin}})
        asyncCopy(b, to, {r, col}, from, {src, col}, perChunk, count);
    }
  }

  /// cp.async of `tileRows` rows of `src` [b, head, rowBase + r, :] into
  /// `dst` (at `stage` when staged), zero-filling rows >= `limit` and every
  /// row when `valid` is false; with `full`, every row is known to be in
  /// bounds.
  void copyTile(Value src, Value head, Value rowBase, Value limit,
                int64_t tileRows, Value dst, Value stage, Value valid,
                bool full = false);
  /// The A fragments of Q for m-tile `mt` and head-dim step `kk` (one
  /// ldmatrix.x4 from the Q tile).
  Fragment loadQ(int64_t mt, int64_t kk);
  /// One ldmatrix.x4 (transposed or not) of ks or vs at [stage, row, col]
  /// feeding, for every m-tile mt, two mma.sync: acc[mt][j] += a[mt] *
  /// (registers 0, 1) and acc[mt][j + 1] += a[mt] * (registers 2, 3).
  void ldmatrixMma(Value stage, Value row, Value col, bool transpose,
                   ArrayRef<Fragment> a,
                   std::vector<std::vector<Fragment>> &acc, int64_t j);
  /// The first key tile at or after `from` whose layout bit is set (or `ne`).
  Value nextVisible(Value from);
  /// The body of one key/value tile; returns the values to carry on.
  Values tileBody(Value n, Value stage, ValueRange carried);
};

void Generator::copyTile(Value src, Value head, Value rowBase, Value limit,
                         int64_t tileRows, Value dst, Value stage, Value valid,
                         bool full) {
  int64_t chunksPerRow = c.headDim / 8;
  int64_t threads = c.threads();
  if (threads % chunksPerRow != 0 ||
      tileRows % (threads / chunksPerRow) != 0) {
    // Head dims whose rows the CTA's threads do not cover in whole passes
    // (80, 96, ...): thread tid copies chunks tid, tid + threads, ...; the
    // chunks past the tile of a partial last pass copy nothing.
    int64_t chunks = tileRows * chunksPerRow;
    Value lastRow = b.maxs(b.sub(limit, b.idx(1)), b.idx(0));
    for (int64_t pass = 0; pass * threads < chunks; ++pass) {
      Value id = b.add(tid, b.idx(pass * threads));
      Value local = b.divu(id, b.idx(chunksPerRow));
      Value col = b.mul(b.remu(id, b.idx(chunksPerRow)), b.idx(8));
      auto copy = [&] {
        Value row = b.add(rowBase, local);
        if (full) {
          asyncCopy(b, dst, at(stage, local, col), src,
                    {bIdx, head, row, col}, 8);
          return;
        }
        Value in = b.andi(b.slt(row, limit), valid);
        Value count = b.select(in, b.idx(8), b.idx(0));
        Value srcRow = b.maxs(b.mins(row, lastRow), b.idx(0));
        asyncCopy(b, dst, at(stage, local, col), src,
                  {bIdx, head, srcRow, col}, 8, count);
      };
      if ((pass + 1) * threads > chunks)
        b.ifThen(b.ult(id, b.idx(chunks)), copy);
      else
        copy();
    }
    return;
  }
  int64_t rowsPerPass = threads / chunksPerRow;
  if (full) {
    // Every row is in bounds: plain 16-byte copies.
    Value base = b.add(rowBase, copyRow);
    for (int64_t pass = 0; pass < tileRows / rowsPerPass; ++pass) {
      Value local = b.add(copyRow, b.idx(pass * rowsPerPass));
      Value row = b.add(base, b.idx(pass * rowsPerPass));
      asyncCopy(b, dst, at(stage, local, copyCol), src,
                {bIdx, head, row, copyCol}, 8);
    }
    return;
  }
  Value lastRow = b.maxs(b.sub(limit, b.idx(1)), b.idx(0));
  for (int64_t pass = 0; pass < tileRows / rowsPerPass; ++pass) {
    Value local = b.add(copyRow, b.idx(pass * rowsPerPass));
    Value row = b.add(rowBase, local);
    Value in = b.andi(b.slt(row, limit), valid);
    Value count = b.select(in, b.idx(8), b.idx(0));
    Value srcRow = b.maxs(b.mins(row, lastRow), b.idx(0));
    asyncCopy(b, dst, at(stage, local, copyCol), src,
              {bIdx, head, srcRow, copyCol}, 8, count);
  }
}

void Generator::ldmatrixMma(Value stage, Value row, Value col, bool transpose,
                            ArrayRef<Fragment> a,
                            std::vector<std::vector<Fragment>> &acc,
                            int64_t j) {
  Value ld = ldmatrix(b, transpose ? vs : ks, {stage, row, col}, 4, transpose,
                      VectorType::get({4, 2}, t));
  Fragment f;
  for (int r = 0; r < 4; ++r)
    f.push_back(ldmatrixRegister(b, ld, r, mma));
  for (size_t mt = 0; mt < a.size(); ++mt) {
    acc[mt][j] = mmaSync(b, mma, a[mt], {f[0], f[1]}, acc[mt][j]);
    acc[mt][j + 1] = mmaSync(b, mma, a[mt], {f[2], f[3]}, acc[mt][j + 1]);
  }
}

Fragment Generator::loadQ(int64_t mt, int64_t kk) {
  Value half = b.mul(b.divu(lane, b.idx(16)), b.idx(8));
  Value col = b.add(half, b.idx(kk * 16));
  Value row = b.add(qRow, b.idx(mt * 16));
  Value ld = ldmatrix(b, qs, {row, col}, 4, /*transpose=*/false,
                      VectorType::get({4, 2}, t));
  Fragment f;
  for (int r = 0; r < 4; ++r)
    f.push_back(ldmatrixRegister(b, ld, r, mma));
  return f;
}

Value Generator::nextVisible(Value from) {
  return b.whileLoop(
      from,
      [&](ValueRange args) {
        Value m = args[0];
        Value lt = b.slt(m, ne);
        Value bit = layoutTileSet(b, lt, layout, lb, lh, qBlock, m, c.blockN,
                                  blockKArg);
        Value unset = b.eq(bit, b.i1(false));
        Value more = b.andi(lt, unset);
        return Values{more, m};
      },
      [&](ValueRange args) { return Values{b.add(args[0], b.idx(1))}; })[0];
}

Values Generator::tileBody(Value n, Value stage, ValueRange carried) {
  const int64_t dTiles = c.headDim / 8, nTiles = c.blockN / 8;
  const int64_t dSteps = c.headDim / 16, nSteps = c.blockN / 16;
  const int64_t mT = c.warpTiles;

  // Prefetch the next visible tile into the other stage (zero-filled, without
  // reading memory, when there is none), then wait for this one.
  Value next = b.add(n, b.idx(1));
  if (c.sparse)
    next = nextVisible(next);
  Value hasNext = b.slt(next, ne);
  Value other = b.sub(b.idx(1), stage);
  // A next tile wholly inside the keys (all but the last) takes plain copies
  // without the clamping and zero-fill of the general case.
  Value nextRow = b.mul(next, b.idx(c.blockN));
  Value fits = b.sle(b.add(nextRow, b.idx(c.blockN)), skv);
  Value full = b.andi(hasNext, fits);
  auto prefetch = [&](bool isFull) {
    return [&, isFull] {
      copyTile(k, kvh, nextRow, skv, c.blockN, ks, other, hasNext, isFull);
      copyTile(v, kvh, nextRow, skv, c.blockN, vs, other, hasNext, isFull);
      commitAsyncCopies(b);
    };
  };
  b.ifThenElse(full, prefetch(true), prefetch(false));
  waitAsyncCopies(b, 1);
  b.barrier();
  if (c.stagedKTables()) {
    // The table rows came with the tile; tables that are not 16-byte
    // aligned are read from global memory instead.
    b.ifThenElse(
        tablesAligned,
        [&] {
          Value base = b.mul(n, b.idx(c.blockN));
          rotateTile(ks, stage, c.blockN, base, skv, kcos, ksin, true);
        },
        [&] {
          Value base = b.mul(n, b.idx(c.blockN));
          rotateTile(ks, stage, c.blockN, base, skv, cosK, sinK);
        });
    b.barrier();
    // The next tile's table rows, into the tiles just read: a group of its
    // own after the next K/V tile's, complete when the next iteration waits
    // for that one.
    copyTables(nextRow, skv, hasNext);
    commitAsyncCopies(b);
  } else if (c.ropeK) {
    Value base = b.mul(n, b.idx(c.blockN));
    rotateTile(ks, stage, c.blockN, base, skv, cosK, sinK);
    b.barrier();
  }

  // S = Q K^T: per 16-wide head-dim step, the warp's Q fragments (from
  // registers, or one ldmatrix.x4 per m-tile) and, per pair of 8-key n-tiles,
  // one ldmatrix.x4 of K (b0, b1 of both n-tiles) feeding 2 * mT mma.sync.
  // s[mt][nt] holds the accumulator of m-tile mt and n-tile nt.
  Value z = zeroF();
  std::vector<std::vector<Fragment>> s(
      mT, std::vector<Fragment>(nTiles, Fragment{z, z, z, z}));
  for (int64_t kk = 0; kk < dSteps; ++kk) {
    SmallVector<Fragment> qa;
    for (int64_t mt = 0; mt < mT; ++mt)
      qa.push_back(c.qInRegisters() ? qFrag[mt][kk] : loadQ(mt, kk));
    for (int64_t nt = 0; nt < nTiles; nt += 2) {
      Value row = b.add(kRow, b.idx(nt * 8));
      Value col = b.add(kCol, b.idx(kk * 16));
      ldmatrixMma(stage, row, col, /*transpose=*/false, qa, s, nt);
    }
  }

  // x = scaled (soft-capped) scores in log2 units; x[mt][nt][el]. With a
  // positive scale, x are the raw scores (the scale is applied in the exp2).
  const bool folded = c.positiveScale && !c.softcap;
  std::vector<std::vector<Fragment>> x(mT, std::vector<Fragment>(nTiles));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el) {
        Value xv = folded ? s[mt][nt][el] : b.fmul(s[mt][nt][el], sl2);
        if (c.softcap)
          xv = b.fmul(b.tanh(xv), capL2);
        x[mt][nt].push_back(xv);
      }

  // Masks, element-wise only on tiles that cross a boundary: the end of the
  // keys, the causal diagonal, the window's far edge.
  Value tileStart = b.mul(n, b.idx(c.blockN));
  Value tileEnd = b.add(tileStart, b.idx(c.blockN));
  Value needMask = b.sgt(tileEnd, skv);
  if (c.causal) {
    Value last = b.sub(tileEnd, b.idx(1));
    needMask = b.ori(needMask, b.sgt(last, ipMin));
  }
  if (c.window) {
    Value farEdge = b.add(tileStart, windowEff);
    needMask = b.ori(needMask, b.sle(farEdge, ipMax));
  }
  const int64_t numX = mT * nTiles * 4;
  Values all;
  for (auto &m : x)
    for (auto &tile : m)
      all.append(tile.begin(), tile.end());
  Values masked = b.ifThenElse(
      needMask, SmallVector<Type>(numX, b.getF32Type()),
      [&] {
        // Key j (tile-relative jl) is visible to row ri iff loRel < jl <=
        // hiRel.
        Values hiRel(2 * mT), loRel(2 * mT);
        Value lastKey = b.sub(skv, b.idx(1));
        // The tile-relative index of key `key`, clamped to [-1, blockN], as
        // an i32.
        auto relative = [&](Value key) {
          Value rel = b.sub(key, tileStart);
          Value clamped = b.maxs(b.mins(rel, b.idx(c.blockN)), b.idx(-1));
          return b.indexCast(b.getI32Type(), clamped);
        };
        for (int64_t ri = 0; ri < 2 * mT; ++ri) {
          Value hi = c.causal ? b.mins(alignedRows[ri], lastKey) : lastKey;
          hiRel[ri] = relative(hi);
          if (c.window)
            loRel[ri] = relative(b.sub(alignedRows[ri], windowEff));
          else
            loRel[ri] = b.i32(-1);
        }
        Values ys;
        for (int64_t mt = 0; mt < mT; ++mt)
          for (int64_t nt = 0; nt < nTiles; ++nt)
            for (int el = 0; el < 4; ++el) {
              int64_t ri = mt * 2 + el / 2;
              Value jl = b.add(keyLane, b.i32(nt * 8 + el % 2));
              Value afterLo = b.sgt(jl, loRel[ri]);
              Value upToHi = b.sle(jl, hiRel[ri]);
              Value ok = b.andi(upToHi, afterLo);
              ys.push_back(b.select(ok, x[mt][nt][el], negInf()));
            }
        return ys;
      },
      [&] { return all; });
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el)
        x[mt][nt][el] = masked[(mt * nTiles + nt) * 4 + el];

  // Online softmax. carried = [m (2 mT rows), l (2 mT rows), O...], row
  // ri = 2 * mt + r; O of (mt, dt, el) at 4 * (mt * dTiles + dt) + el.
  const int64_t nRows = 2 * mT;
  Values out(carried.size());
  Values alpha(nRows), mSafe(nRows);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    int64_t mt = ri / 2, r = ri % 2;
    Value mx = x[mt][0][2 * r];
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t el = 2 * r; el < 2 * r + 2; ++el)
        if (nt || el != 2 * r)
          mx = b.fmax(mx, x[mt][nt][el]);
    mx = warpAllReduce(b, mx, ReduceKind::Max, /*lanes=*/4,
                       /*descending=*/false);
    Value mNew = b.fmax(carried[ri], mx);
    Value empty = b.cmpf(arith::CmpFPredicate::OEQ, mNew, negInf());
    mSafe[ri] = b.select(empty, zeroF(), mNew);
    Value delta = b.fsub(carried[ri], mSafe[ri]);
    alpha[ri] = b.exp2Approx(folded ? b.fmul(delta, sl2) : delta);
    if (folded) // -m * scale * log2(e), the addend of the fma below
      mSafe[ri] = b.fneg(b.fmul(mSafe[ri], sl2));
    out[ri] = mNew;
  }
  std::vector<std::vector<Fragment>> p(mT, std::vector<Fragment>(nTiles));
  Values rowSum(nRows);
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el) {
        int64_t ri = mt * 2 + el / 2;
        Value arg = folded ? b.fma(x[mt][nt][el], sl2, mSafe[ri])
                           : b.fsub(x[mt][nt][el], mSafe[ri]);
        p[mt][nt].push_back(b.exp2Approx(arg));
        rowSum[ri] =
            rowSum[ri] ? b.fadd(rowSum[ri], p[mt][nt][el]) : p[mt][nt][el];
      }
  for (int64_t ri = 0; ri < nRows; ++ri)
    out[nRows + ri] =
        b.fadd(b.fmul(carried[nRows + ri], alpha[ri]), rowSum[ri]);

  // O = O * alpha + P V: per 16-key step and pair of 8-wide head-dim tiles,
  // one ldmatrix.x4.trans of V feeding 2 * mT mma.sync.
  const int64_t oBase = 2 * nRows;
  std::vector<std::vector<Fragment>> acc(mT, std::vector<Fragment>(dTiles));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t dt = 0; dt < dTiles; ++dt)
      for (int el = 0; el < 4; ++el)
        acc[mt][dt].push_back(
            b.fmul(carried[oBase + (mt * dTiles + dt) * 4 + el],
                   alpha[mt * 2 + el / 2]));
  // pa[kk][mt]: the A operand of k16 step kk and m-tile mt.
  std::vector<SmallVector<Fragment>> pa(nSteps, SmallVector<Fragment>(mT));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t kk = 0; kk < nSteps; ++kk) {
      auto &pm = p[mt];
      for (auto [nt, el] : {std::pair{2 * kk, 0}, std::pair{2 * kk, 2},
                            std::pair{2 * kk + 1, 0}, std::pair{2 * kk + 1, 2}})
        pa[kk][mt].push_back(packPair(b, pm[nt][el], pm[nt][el + 1], mma));
    }
  for (int64_t kk = 0; kk < nSteps; ++kk) {
    for (int64_t dt = 0; dt < dTiles; dt += 2) {
      Value row = b.add(vRow, b.idx(kk * 16));
      Value col = b.add(vCol, b.idx(dt * 8));
      ldmatrixMma(stage, row, col, /*transpose=*/true, pa[kk], acc, dt);
    }
  }
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t dt = 0; dt < dTiles; ++dt)
      for (int el = 0; el < 4; ++el)
        out[oBase + (mt * dTiles + dt) * 4 + el] = acc[mt][dt][el];
  // Every warp is done with this stage before the next prefetch overwrites it.
  b.barrier();
  out.insert(out.begin(), {next, other});
  return out;
}

void Generator::run() {
  const int64_t dTiles = c.headDim / 8, dSteps = c.headDim / 16;
  const int64_t bm = c.blockM(), bn = c.blockN;
  assert(c.headDim % 16 == 0 && bn % 16 == 0 && (bn / 8) % 2 == 0);

  // The arguments, in the order of buildAttentionKernel's signature.
  unsigned argNo = 0;
  q = b.arg(argNo++);
  k = b.arg(argNo++);
  v = b.arg(argNo++);
  o = b.arg(argNo++);
  if (c.sparse) {
    layout = b.arg(argNo++);
    blockQArg = b.arg(argNo++);
    blockKArg = b.arg(argNo++);
  }
  scale = b.arg(argNo++);
  if (c.softcap)
    softcapArg = b.arg(argNo++);
  if (c.window)
    window = b.arg(argNo++);
  if (c.ropeQ) {
    cosQ = b.arg(argNo++);
    sinQ = b.arg(argNo++);
  }
  if (c.ropeK) {
    cosK = b.arg(argNo++);
    sinK = b.arg(argNo++);
  }
  if (c.lse)
    lseArg = b.arg(argNo++);

  tid = b.threadId();
  Value bh = b.blockId(mlir::gpu::Dimension::x);
  Value by = b.blockId(mlir::gpu::Dimension::y);
  Value nby = b.gridDim(mlir::gpu::Dimension::y);
  lane = b.remu(tid, b.idx(32));
  warp = b.divu(tid, b.idx(32));
  Value g = b.divu(lane, b.idx(4));
  Value t4 = b.remu(lane, b.idx(4));
  Value lane8 = b.remu(lane, b.idx(8));
  Value half = b.mul(b.divu(lane, b.idx(16)), b.idx(8)); // (lane/16)*8
  Value quarter = b.mul(b.remu(b.divu(lane, b.idx(8)), b.idx(2)),
                        b.idx(8)); // ((lane/8)%2)*8
  copyRow = b.divu(tid, b.idx(c.headDim / 8)); // whole passes (copyTile)
  copyCol = b.mul(b.remu(tid, b.idx(c.headDim / 8)), b.idx(8));
  kRow = b.add(half, lane8);
  kCol = quarter;
  vRow = b.add(lane8, quarter);
  vCol = half;
  Value colT = b.mul(t4, b.idx(2));
  keyLane = b.indexCast(b.getI32Type(), colT);

  // Sizes, the kv head (GQA) and the CTA's query rows.
  sq = b.dim(q, 2);
  Value hq = b.dim(q, 1);
  skv = b.dim(k, 2);
  Value hkv = b.dim(k, 1);
  Value batch = b.dim(q, 0);
  // Block x runs over (b, h) pairs, block y over query tiles, the last (the
  // heaviest under a causal mask) first. The grid is never empty: with B or
  // Hq = 0 the only CTA is not `live` and neither reads nor writes memory.
  Value hq1 = b.maxs(hq, b.idx(1));
  h = b.remu(bh, hq1);
  bIdx = b.divu(bh, hq1);
  Value batchOk = b.slt(bIdx, batch);
  Value headOk = b.slt(h, hq);
  live = b.andi(headOk, batchOk);
  Value group = b.maxs(b.divu(hq, b.maxs(hkv, b.idx(1))), b.idx(1));
  kvh = b.divu(h, group);
  q0 = b.mul(b.sub(b.sub(nby, b.idx(1)), by), b.idx(bm));
  Value offset = b.sub(skv, sq);
  const int64_t mT = c.warpTiles, nRows = 2 * mT;
  Value warpRow = b.add(b.add(q0, b.mul(warp, b.idx(16 * mT))), g);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    rows.push_back(b.add(warpRow, b.idx(16 * (ri / 2) + 8 * (ri % 2))));
    alignedRows.push_back(b.add(rows[ri], offset));
  }
  ipMin = b.add(q0, offset);
  ipMax = b.add(ipMin, b.idx(bm - 1));

  Value log2e = b.f32(1.44269504088896340736);
  if (c.softcap) {
    sl2 = b.fdiv(scale, softcapArg);
    capL2 = b.fmul(softcapArg, log2e);
  } else {
    sl2 = b.fmul(scale, log2e);
  }
  if (c.window)
    windowEff = b.mins(window, skv);

  // Key tiles [nb, ne) hold every key visible to some row of the CTA.
  Value keyEnd = skv;
  if (c.causal) {
    Value lastRow = b.sub(b.mins(b.add(q0, b.idx(bm)), sq), b.idx(1));
    keyEnd =
        b.maxs(b.mins(skv, b.add(b.add(lastRow, offset), b.idx(1))), b.idx(0));
  }
  ne =
      b.select(live, b.divu(b.add(keyEnd, b.idx(bn - 1)), b.idx(bn)), b.idx(0));
  Value nb = b.idx(0);
  if (c.window)
    nb = b.divu(b.maxs(b.add(b.sub(ipMin, windowEff), b.idx(1)), b.idx(0)),
                b.idx(bn));
  Value first = nb;
  if (c.sparse) {
    Value lbDim = b.dim(layout, 0);
    Value lhDim = b.dim(layout, 1);
    lb = b.select(b.eq(lbDim, b.idx(1)), b.idx(0), bIdx);
    lh = b.select(b.eq(lhDim, b.idx(1)), b.idx(0), h);
    qBlock = b.divu(q0, blockQArg);
    first = nextVisible(nb);
  }

  // Shared memory: Q [bm, pitch], K and V [2, bn, pitch], K's table rows.
  Value smem = b.dynamicSharedMemory();
  int64_t qBytes = 2 * bm * c.rowPitch(), kvBytes = 2 * 2 * bn * c.rowPitch();
  qs = b.view(smem, 0, smemType(bm, false));
  ks = b.view(smem, qBytes, smemType(bn, true));
  vs = b.view(smem, qBytes + kvBytes, smemType(bn, true));
  if (c.stagedKTables()) {
    int64_t tableTile = bn * (c.headDim / 2) * c.tableBytes();
    kcos = b.view(smem, qBytes + 2 * kvBytes, tableTileType(bn));
    ksin = b.view(smem, qBytes + 2 * kvBytes + tableTile, tableTileType(bn));
    // Rows of D/2 table elements are whole 16-byte chunks; the bases must be
    // 16-byte aligned too.
    auto aligned = [&](Value table) {
      Value p = b.alignedPointer(table);
      return b.eq(b.remu(p, b.idx(16)), b.idx(0));
    };
    Value sinAligned = aligned(sinK);
    Value cosAligned = aligned(cosK);
    tablesAligned = b.andi(cosAligned, sinAligned);
  }

  // Q and the first key/value tile, one group.
  copyTile(q, h, q0, sq, bm, qs, Value(), live);
  Value hasFirst = b.slt(first, ne);
  Value firstRow = b.mul(first, b.idx(bn));
  copyTile(k, kvh, firstRow, skv, bn, ks, b.idx(0), hasFirst);
  copyTile(v, kvh, firstRow, skv, bn, vs, b.idx(0), hasFirst);
  if (c.stagedKTables())
    copyTables(firstRow, skv, hasFirst);
  commitAsyncCopies(b);
  waitAsyncCopies(b, 0);
  b.barrier();
  if (c.ropeQ) {
    rotateTile(qs, Value(), bm, q0, sq, cosQ, sinQ);
    b.barrier();
  }
  Value laneRow = b.remu(lane, b.idx(16));
  qRow = b.add(b.mul(warp, b.idx(16 * mT)), laneRow);
  if (c.qInRegisters()) {
    qFrag.resize(mT);
    for (int64_t mt = 0; mt < mT; ++mt)
      for (int64_t kk = 0; kk < dSteps; ++kk)
        qFrag[mt].push_back(loadQ(mt, kk));
  }

  // The loop over visible key/value tiles: carries the tile, its stage, the
  // running max and sum of the thread's rows and the O accumulators.
  Values init = {first, b.idx(0)};
  for (int64_t i = 0; i < nRows; ++i)
    init.push_back(negInf());
  for (int64_t i = 0; i < nRows + 4 * mT * dTiles; ++i)
    init.push_back(zeroF());
  Values loop = b.whileLoop(
      init,
      [&](ValueRange args) {
        Values values = {b.slt(args[0], ne)};
        values.append(args.begin(), args.end());
        return values;
      },
      [&](ValueRange args) {
        return tileBody(args[0], args[1], args.drop_front(2));
      });

  // O / l, rounded to T; 0 for a row without visible key.
  Values inv(nRows), lse(nRows);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    Value l = warpAllReduce(b, loop[2 + nRows + ri], ReduceKind::Add,
                            /*lanes=*/4, /*descending=*/false);
    Value empty = b.cmpf(arith::CmpFPredicate::OEQ, l, zeroF());
    inv[ri] = b.select(empty, zeroF(), b.fdiv(b.f32(1.0), l));
    if (c.lse) {
      // The row's max m is in log2 units, or a raw score when the scale is
      // folded into the exp2 (then m * scale * log2(e)); the quad of lanes
      // that shares the row holds the same m. lse = ln(2) * (m + lg2(l)).
      Value m = loop[2 + ri];
      if (c.positiveScale && !c.softcap)
        m = b.fmul(m, sl2);
      lse[ri] = rowLogSumExp(b, m, l);
    }
  }
  if (c.lse) {
    // Lane 4g of each quad writes the quad's rows.
    Value quadLead = b.eq(b.remu(lane, b.idx(4)), b.idx(0));
    for (int64_t ri = 0; ri < nRows; ++ri)
      b.ifThen(b.andi(quadLead, b.andi(b.slt(rows[ri], sq), live)), [&] {
        b.store(lse[ri], lseArg, {bIdx, h, rows[ri]});
      });
  }
  auto pairType = VectorType::get({2}, b.getF32Type());
  for (int64_t ri = 0; ri < nRows; ++ri) {
    int64_t mt = ri / 2, r = ri % 2;
    Value inside = b.andi(b.slt(rows[ri], sq), live);
    b.ifThen(inside, [&] {
      for (int64_t dt = 0; dt < dTiles; ++dt) {
        int64_t i = 2 + 2 * nRows + (mt * dTiles + dt) * 4 + 2 * r;
        Value lo = b.fmul(loop[i], inv[ri]);
        Value hi = b.fmul(loop[i + 1], inv[ri]);
        Value pair = b.fromElements(pairType, {lo, hi});
        Value rounded = b.roundTo(t, pair);
        Value col = b.add(colT, b.idx(dt * 8));
        b.vectorStore(rounded, o, {bIdx, h, rows[ri], col}, 4);
      }
    });
  }
}

} // namespace

std::string AttentionKernelConfig::kernelName() const {
  std::string name = "loom_attention_" + elementType + "_d" +
                     std::to_string(headDim) + "_m" + std::to_string(blockM()) +
                     "_n" + std::to_string(blockN) + "_w" +
                     std::to_string(warps);
  if (causal)
    name += "_causal";
  if (window)
    name += "_window";
  if (softcap)
    name += "_softcap";
  if (positiveScale && !softcap)
    name += "_pscale";
  if (sparse)
    name += "_sparse";
  if (strided)
    name += "_strided";
  if (ropeQ)
    name += "_ropeq";
  if (ropeK)
    name += "_ropek";
  if (ropeQ || ropeK)
    name += (ropeInterleaved ? "_il_" : "_half_") + ropeType;
  if (lse)
    name += "_lse";
  return name;
}

FailureOr<SymbolRefAttr> buildAttentionKernel(ModuleOp module, Location loc,
                                              const AttentionKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Builder builder(ctx);
  Type t = parseElementType(ctx, c.elementType);
  Type index = builder.getIndexType();
  Type f32 = builder.getF32Type();
  MemRefType tensor = dynamicMemRefType(4, t);
  if (c.strided) {
    int64_t dyn = ShapedType::kDynamic;
    tensor =
        MemRefType::get(tensor.getShape(), t,
                        StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1}));
  }
  KernelSignature sig;
  sig.arguments = {tensor, tensor, tensor, tensor};
  if (c.sparse)
    sig.arguments.append(
        {dynamicMemRefType(4, builder.getI1Type()), index, index});
  sig.arguments.push_back(f32);
  if (c.softcap)
    sig.arguments.push_back(f32);
  if (c.window)
    sig.arguments.push_back(index);
  Type table = dynamicMemRefType(2, parseElementType(ctx, c.ropeType));
  for (bool rope : {c.ropeQ, c.ropeK})
    if (rope)
      sig.arguments.append({table, table});
  if (c.lse)
    sig.arguments.push_back(dynamicMemRefType(3, f32));
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(b, c).run(); });
}

} // namespace gpu
} // namespace loom
