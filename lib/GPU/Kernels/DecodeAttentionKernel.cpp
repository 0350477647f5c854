//===- DecodeAttentionKernel.cpp - split-KV decode attention --------------===//
//
// Builds the split and combine kernels of one DecodeAttentionKernelConfig
// (see DecodeAttentionKernel.h for what each computes). The split kernel's
// schedule, per tile of kTileKeys keys (128 threads, R = rows() query rows):
//
//   1. scores: thread t takes key j = tile + t and computes its R dot
//      products with the query tile, which sits in shared memory in f32,
//      already scaled (and in log2 units without softcap), and is read as
//      broadcasts; the key row is read with 16-byte loads. Masked scores
//      (past the split's end, causal) are -inf. They go to shared memory,
//      S[R][128];
//   2. online softmax: warp w updates the rows r = w (mod 4): the tile's
//      row max over 4 scores a lane (an xor-shuffle reduction), the new
//      running max m, alpha = exp2(m_old - m), P = exp2(S - m) written back
//      over S, the running sum l = l * alpha + sum P;
//   3. P.V: the 128 threads are keyGroups() groups of D / colsPerThread()
//      threads; each thread owns colsPerThread() adjacent columns of V (8:
//      16-byte loads; 2 for more than 8 rows, whose accumulators would not
//      fit) and takes every keyGroups()-th key of the tile, scaling its
//      R x colsPerThread() accumulators by alpha first.
//
// The loops within a tile are unrolled as the kernel is built, so that the
// loads of a key row are all issued before their FMAs. Up to D 128 the next
// tile's key row is loaded before this tile's softmax and P.V (carried by
// the tile loop), and, with 16-bit elements, every V row that a thread
// takes in P.V is loaded at the top of the tile (paged: once the scores
// step has put the tile's pages in shared memory), so that the latencies of
// both overlap the scores and the softmax. Otherwise (f32, D 256) P.V loads
// its V rows 8 at a time.
//
// After the last tile the key groups' accumulators are summed through
// shared memory and written with m and l. Scores are f32 throughout; exp2
// is ex2.approx (as in the flash kernel), and a running max of -inf (no
// visible key yet) is replaced by 0 before it is subtracted, so that no
// -inf - -inf makes a NaN.
//
// With windows (one, or one per query head) and sinks the split kernel's
// keys are virtual: the sink's tiles, then the window's tiles (the host picks
// the first tile that the widest window of the group can see), so that a
// StreamingLLM decode step reads sink + window keys and not the whole cache;
// the element mask (AttentionMask.h) is applied per row with its head's
// window.
//
// Paged (loom.paged_attention), a CTA's rows are one token's G query heads:
// the CTA finds the token's sequence (a binary search of q_offsets), its
// row and its key count, and reads key j from page block_table[b, j / page]
// at row j % page. The scores step looks the page up for its own key and
// keeps it in shared memory for P.V (-1 where the index is outside the
// cache: the key is invisible and its V row taken as 0); the window's and
// sink's tiles are computed per CTA from the sequence's lengths.
//
// The combine kernel (a CTA per query row, a thread per column) merges the
// splits by their max and sum (with sink logits, the head's logit is a
// split of sum 1 and value 0); with `lse` its thread 0 also writes the row's
// natural log-sum-exp, ln(2) * (m + lg2(l)) from the merged max m and sum l
// (log2 units), or -inf when l = 0.

#include "loom/GPU/Kernels/DecodeAttentionKernel.h"

#include "loom/GPU/Builder/AttentionMask.h"
#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Reduce.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cassert>

using namespace mlir;

namespace loom {
namespace gpu {
namespace {

using Values = KernelBuilder::Values;
using C = DecodeAttentionKernelConfig;

constexpr double kLog2e = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
constexpr uint32_t kNegInf = 0xFF800000u;

/// The split kernel's shared buffers (workgroup attributions, in order;
/// Partials only with several key groups, then Pages only when paged).
enum Shared { QTile, Scores, RowMax, RowSum, RowAlpha, Partials };

void buildSplitBody(KernelBuilder &b, const C &c);

/// The kv head dimension of the cache: [B, Hkv, Skv, D] or, paged,
/// [P, page, Hkv, D].
int64_t kvHeadDim(const C &c) { return c.paged ? 2 : 1; }

/// Chunked: the query chunks of queryLen rows a head, ceil(Sq / queryLen)
/// (at least 1), of a [B, H, Sq, D] tensor.
Value queryChunks(KernelBuilder &b, const C &c, Value x) {
  Value sq = b.dim(x, 2);
  return b.maxs(b.divuConst(b.addConst(sq, c.queryLen - 1), c.queryLen),
                b.idx(1));
}

/// The (batch, kv head) index of CTA x: x itself, or x / chunks when
/// chunked (x = (b * Hkv + kvh) * chunks + chunk).
Value headBlock(KernelBuilder &b, const C &c, Value x) {
  if (!c.chunked)
    return b.blockId();
  return b.divu(b.blockId(), queryChunks(b, c, x));
}

/// A CTA past the batch (the grid is never empty; B or T may be 0) does
/// nothing.
void buildSplit(KernelBuilder &b, const C &c) {
  Value hkv = b.dim(b.arg(1), kvHeadDim(c));
  Value batch = b.divu(headBlock(b, c, b.arg(0)), hkv);
  b.ifThen(b.ult(batch, b.dim(b.arg(0), 0)), [&] { buildSplitBody(b, c); });
}

/// Paged: the sequence that owns token `t`, by binary search over the
/// nondecreasing q_offsets [B + 1]: the first b with q_offsets[b + 1] > t.
/// `assigned` is false for a token that no sequence's range holds (padding
/// past q_offsets[B], or offsets that break their requirements); then
/// `seq` is 0 and nothing else of the sequence may be read.
struct Sequence {
  Value seq, assigned;
};
Sequence sequenceOf(KernelBuilder &b, Value qOffsets, Value t) {
  Value count = b.addConst(b.dim(qOffsets, 0), -1); // B
  auto offset = [&](Value i) {
    return b.indexCast(b.getIndexType(), b.load(qOffsets, {i}));
  };
  Values found = b.whileLoop(
      {b.idx(0), count},
      [&](ValueRange a) {
        Values out = {b.ult(a[0], a[1])};
        out.append(a.begin(), a.end());
        return out;
      },
      [&](ValueRange a) -> Values {
        Value mid = b.divuConst(b.add(a[0], a[1]), 2);
        Value past = b.sle(offset(b.addConst(mid, 1)), t);
        return {b.select(past, b.addConst(mid, 1), a[0]),
                b.select(past, a[1], mid)};
      });
  Value lo = found[0];
  Value inRange = b.ult(lo, count);
  Value seq = b.select(inRange, lo, b.idx(0));
  Value assigned = b.ifThenElse(
      inRange, b.getI1Type(),
      [&] {
        Value first = offset(seq);
        Value last = offset(b.addConst(seq, 1));
        return b.andi(b.sle(first, t), b.slt(t, last));
      },
      [&] { return b.i1(false); });
  return {seq, assigned};
}

void buildSplitBody(KernelBuilder &b, const C &c) {
  Type t = parseElementType(b.getContext(), c.elementType);
  const int64_t R = c.rows(), D = c.headDim, G = c.group, Sq = c.queryLen;
  const int64_t KG = c.keyGroups(), DT = c.dimThreads(), CW = c.colsPerThread();
  Value q = b.arg(0), k = b.arg(1), v = b.arg(2), po = b.arg(3), pml = b.arg(4),
        scale = b.arg(5);
  Value cap = c.softcap ? b.arg(6) : Value();
  Value splitKeys = b.arg(c.softcap ? 7 : 6);
  const bool windowed = !c.windows.empty();
  unsigned next = c.softcap ? 8 : 7;
  Value sinkEnd = windowed && !c.paged ? b.arg(next++) : Value();
  Value winStart = windowed && !c.paged ? b.arg(next++) : Value();
  Value blockTable = c.paged ? b.arg(next++) : Value();
  Value kvLens = c.paged ? b.arg(next++) : Value();
  Value qOffsets = c.paged ? b.arg(next++) : Value();
  Value qs = b.workgroup(QTile), sc = b.workgroup(Scores),
        rowMax = b.workgroup(RowMax), rowSum = b.workgroup(RowSum),
        rowAlpha = b.workgroup(RowAlpha);
  Value partials = KG > 1 ? b.workgroup(Partials) : Value();
  // Paged: the physical page of each key of the tile (-1 for a page index
  // outside the cache), written by the scores step for P.V, so that a V
  // row's address waits on shared memory rather than on the block table.
  Value tilePages = c.paged ? b.workgroup(KG > 1 ? Partials + 1 : Partials)
                            : Value();
  Value negInf = b.f32Bits(kNegInf);

  Value tid = b.threadId();
  Value bk = b.blockId();
  Value split = b.blockId(mlir::gpu::Dimension::y);
  Value hkv = b.dim(k, kvHeadDim(c));
  // batch: the batch index, or (paged) the token. Chunked, bk also holds
  // the query chunk, whose first row is qBase.
  Value hb = bk, sqRows, qBase;
  if (c.chunked) {
    Value chunks = queryChunks(b, c, q);
    hb = b.divu(bk, chunks);
    sqRows = b.dim(q, 2);
    qBase = b.mulConst(b.remu(bk, chunks), Sq);
  }
  Value batch = b.divu(hb, hkv);
  Value kvh = b.remu(hb, hkv);
  Value skv, seq, causalBase, assigned;
  if (!c.paged) {
    skv = b.dim(k, 2);
    // Causal: query s sees keys j <= s + Skv - Sq, i.e. j < s + 1 + Skv -
    // Sq (as a signed bound: Sq > Skv leaves early rows without keys).
    // Chunked, s = qBase + (row's position in the chunk).
    if (c.chunked)
      causalBase = b.add(b.sub(b.addConst(skv, 1), sqRows), qBase);
    else
      causalBase = b.addConst(skv, 1 - Sq);
  } else {
    // The token's sequence, its keys (kv_lens clamped to [0, maxPages *
    // page]) and its row i of n: causal sees keys j < i + 1 + n_kv - n.
    // A token of no sequence has no keys.
    Sequence s = sequenceOf(b, qOffsets, batch);
    seq = s.seq;
    assigned = s.assigned;
    Value maxKeys = b.mulConst(b.dim(blockTable, 1), c.pageSize);
    Values lens = b.ifThenElse(
        s.assigned, {b.getIndexType(), b.getIndexType()},
        [&]() -> Values {
          auto offset = [&](Value i) {
            return b.indexCast(b.getIndexType(), b.load(qOffsets, {i}));
          };
          Value first = offset(seq);
          Value n = b.sub(offset(b.addConst(seq, 1)), first);
          Value i = b.sub(batch, first);
          Value raw = b.indexCast(b.getIndexType(), b.load(kvLens, {seq}));
          Value len = b.mins(b.maxs(raw, b.idx(0)), maxKeys);
          return {len, b.sub(b.addConst(len, 1), b.sub(n, i))};
        },
        [&]() -> Values { return {b.idx(0), b.idx(0)}; });
    skv = lens[0];
    causalBase = lens[1];
  }
  if (c.paged && windowed) {
    // The window's first tile and the sink's tiles of this token's row
    // (as the host computes them for the contiguous cache).
    const int64_t tile = C::kTileKeys;
    int64_t widest = widestWindow(c.windows);
    winStart = b.idx(0);
    if (widest != 0) {
      Value lowKey = b.maxs(b.addConst(causalBase, -widest), b.idx(0));
      winStart = b.mulConst(b.divuConst(lowKey, tile), tile);
    }
    int64_t sinkKeys = (c.sink + tile - 1) / tile * tile;
    sinkEnd = b.minu(b.idx(sinkKeys), winStart);
  }
  // Paged: key j of the sequence is row j % page of page block_table[seq,
  // j / page]; a page index outside [0, P) makes the key invisible and is
  // read as page 0.
  Value pages = c.paged ? b.dim(k, 0) : Value();
  auto pageOf = [&](Value j) -> std::pair<Value, Value> {
    Value slot = b.mins(b.divuConst(j, c.pageSize),
                        b.addConst(b.dim(blockTable, 1), -1));
    Value raw =
        b.indexCast(b.getIndexType(), b.load(blockTable, {seq, slot}));
    Value ok = b.andi(b.sge(raw, b.idx(0)), b.slt(raw, pages));
    return {b.select(ok, raw, b.idx(0)), ok};
  };
  // The indices of columns `col` of key j's row in k or v.
  auto keyIndex = [&](Value j, Value col) -> Values {
    if (!c.paged)
      return {batch, kvh, j, col};
    return {pageOf(j).first, b.remuConst(j, c.pageSize), kvh, col};
  };
  // The split's keys, virtual with windows: the sink's tiles, then the
  // window's (DecodeAttentionKernel.h); every tile lies in one part.
  Value keyCount = windowed ? b.add(sinkEnd, b.sub(skv, winStart)) : skv;
  Value start = b.mul(split, splitKeys);
  Value stop = b.add(start, splitKeys);
  Value end = b.minu(stop, keyCount);
  auto realKey = [&](Value u) -> Value {
    if (!windowed)
      return u;
    return b.select(b.ult(u, sinkEnd), u, b.add(b.sub(u, sinkEnd), winStart));
  };

  // The query tile, scaled: scale * log2(e) folds into the scores unless a
  // softcap comes between (then log2(e) is applied after the cap).
  Value qScale = c.softcap ? scale : b.fmul(scale, b.f32(kLog2e));
  b.forLoop(tid, b.idx(R * D), b.idx(C::kThreads), [&](Value i) {
    Value r = b.divuConst(i, D);
    Value d = b.remuConst(i, D);
    Value g = b.divuConst(r, Sq);
    Value s = b.remuConst(r, Sq);
    Value h = b.addMul(g, kvh, G);
    Value xf;
    if (c.chunked) {
      // Rows past Sq (the last chunk's) are zeros; they are not written.
      Value row = b.add(qBase, s);
      xf = b.ifThenElse(
          b.ult(row, sqRows), b.getF32Type(),
          [&] { return b.toF32(b.load(q, {batch, h, row, d})); },
          [&] { return b.f32(0); });
    } else {
      Value x =
          c.paged ? b.load(q, {batch, h, d}) : b.load(q, {batch, h, s, d});
      xf = b.toF32(x);
    }
    b.store(b.fmul(xf, qScale), qs, {r, d});
  });
  // Each row's window (its query head's; 0: none).
  Values rowWindows;
  if (windowed)
    for (int64_t r = 0; r < R; ++r)
      rowWindows.push_back(
          headWindow(b, c.windows, b.addMul(b.idx(r / Sq), kvh, G)));
  const bool someFull = llvm::is_contained(c.windows, 0);
  // Paged: a token of no sequence starts (and ends) with l = -1, which
  // tells the combine kernel that its row is 0 with an lse of -inf, sink
  // logits or not.
  Value lInit = b.f32(0);
  if (c.paged)
    lInit = b.select(assigned, lInit, b.f32(-1));
  b.ifThen(b.ult(tid, b.idx(R)), [&] {
    b.store(negInf, rowMax, {tid});
    b.store(lInit, rowSum, {tid});
  });
  b.barrier();

  Value warp = b.divuConst(tid, 32);
  Value lane = b.remuConst(tid, 32);
  Value dimSlot = b.remuConst(tid, DT);
  Value col = b.mulConst(dimSlot, CW);
  Value keyGroup = b.divuConst(tid, DT);
  VectorType v8 = VectorType::get({8}, t), vcols = VectorType::get({CW}, t);
  const int64_t elementBytes = t.getIntOrFloatBitWidth() / 8;

  Values accInit(CW * R, b.f32(0));
  // Key row j (D / 8 16-byte loads, all in flight together; zeros past
  // the split's end, which the mask then turns into -inf scores).
  // Columns [8 * first, 8 * (first + count)) of it, as `count` vectors.
  const int64_t kVectors = D / 8;
  auto loadKeyRow = [&](Value j, Value valid, int64_t first,
                        int64_t count) -> Values {
    SmallVector<Type> types(count, v8);
    return b.ifThenElse(
        valid, types,
        [&]() -> Values {
          Values row;
          for (int64_t w = first; w < first + count; ++w)
            row.push_back(b.vectorLoad(v8, k, keyIndex(j, b.idx(8 * w)), 16));
          return row;
        },
        [&]() -> Values { return Values(count, b.zero(v8)); });
  };
  // Up to D 128 the next tile's key row is loaded while this tile's
  // softmax and P.V run (a loop-carried row of 64 registers); a 256-wide
  // row would not fit twice, so D 256 loads its row at the top of each tile,
  // in halves (16 loads in flight, then their products: a whole row
  // spills).
  const bool prefetch = D <= 128;
  // P.V's keys a thread takes in each tile. With 16-bit elements and the
  // key row prefetched (D <= 128), all of their V rows are loaded at once,
  // early in the tile (tileValues below: 64 registers at most), so that
  // their latency overlaps the scores and the softmax instead of following
  // them; otherwise in groups of 8 during P.V.
  const int64_t perThread = C::kTileKeys / KG;
  const bool hoistValues = prefetch && elementBytes == 2;
  Values inits = accInit;
  if (prefetch) {
    Value j0 = b.add(realKey(start), tid);
    Value valid0 = b.ult(b.add(start, tid), end);
    Values first = loadKeyRow(j0, valid0, 0, kVectors);
    inits.append(first.begin(), first.end());
  }
  Values loopOut = b.forLoop(
      start, end, b.idx(C::kTileKeys), inits,
      [&](Value tile, ValueRange carried) -> Values {
        ValueRange accIn = carried.take_front(CW * R);
        // 1. Scores of key j = tile + tid (of the tile's real keys).
        Value realTile = realKey(tile);
        Value j = b.add(realTile, tid);
        Value valid = b.ult(b.add(tile, tid), end);
        // Keys past the tile's end read the last key's row (in bounds)
        // and weigh it with their P, which is 0.
        Value keys = b.sub(end, tile);
        Value count = b.minu(keys, b.idx(C::kTileKeys));
        Value lastKey = b.addConst(count, -1);
        // The V row of the tile's key `jj` (< kTileKeys), this thread's
        // columns, in the element type: the last key's for jj past the
        // tile's end.
        auto loadValues = [&](Value jj) -> Value {
          Value clamped = b.minu(jj, lastKey);
          Value key = b.add(realTile, clamped);
          if (!c.paged)
            return b.vectorLoad(vcols, v, {batch, kvh, key, col},
                                elementBytes * CW);
          // A key on a page outside the cache (-1) reads page 0, whose
          // row may hold anything (NaN): its value is taken as 0.
          Value stored =
              b.indexCast(b.getIndexType(), b.load(tilePages, {clamped}));
          Value ok = b.sge(stored, b.idx(0));
          Value page = b.maxs(stored, b.idx(0));
          Value vv = b.vectorLoad(
              vcols, v, {page, b.remuConst(key, c.pageSize), kvh, col},
              elementBytes * CW);
          return b.select(ok, vv, b.zero(vcols));
        };
        // Hoisted, every V row of this thread's keys in the tile: issued
        // before the scores (contiguous) or after the scores' barrier
        // (paged: the pages come from the scores step).
        Values tileValues;
        auto loadTileValues = [&] {
          for (int64_t u = 0; u < perThread; ++u)
            tileValues.push_back(loadValues(b.addConst(keyGroup, KG * u)));
        };
        if (hoistValues && !c.paged)
          loadTileValues();
        Values kraw;
        if (prefetch)
          kraw.assign(carried.begin() + CW * R, carried.end());
        // Paged: a key whose page index is outside [0, P) is not visible;
        // its page (or -1) goes to shared memory for P.V.
        Value pageValid;
        if (c.paged) {
          auto [page, ok] = pageOf(j);
          pageValid = ok;
          Value stored = b.select(ok, page, b.idx(-1));
          b.store(b.indexCast(b.getI32Type(), stored), tilePages, {tid});
        }
        // The query tile is read with scalar loads (every thread reads the
        // same word: a broadcast); vector loads of workgroup memory do not
        // lower before convert-gpu-to-nvvm, and the backend merges these
        // into ld.shared.v4.
        Values scores(R, b.f32(0));
        for (int64_t w = 0; w < kVectors; ++w) {
          if (!prefetch && w % 16 == 0) {
            Values half = loadKeyRow(j, valid, w, 16);
            kraw.resize(w);
            kraw.append(half.begin(), half.end());
          }
          Value kf = b.toF32(kraw[w]);
          for (int64_t e = 0; e < 8; ++e) {
            Value ke = b.extract(kf, e);
            for (int64_t r = 0; r < R; ++r) {
              Value qe = b.load(qs, {b.idx(r), b.idx(8 * w + e)});
              scores[r] = b.fma(qe, ke, scores[r]);
            }
          }
        }
        Values nextRow;
        if (prefetch) {
          Value tileN = b.addConst(tile, C::kTileKeys);
          Value jn = b.add(realKey(tileN), tid);
          Value validN = b.ult(b.add(tileN, tid), end);
          nextRow = loadKeyRow(jn, validN, 0, kVectors);
        }
        for (int64_t r = 0; r < R; ++r) {
          Value s = scores[r];
          if (c.softcap) {
            Value inner = b.fdiv(s, cap);
            Value capped = b.fmul(cap, b.tanh(inner));
            s = b.fmul(capped, b.f32(kLog2e));
          }
          Value visible = valid;
          if (pageValid)
            visible = b.andi(visible, pageValid);
          if (c.causal) {
            Value bound = b.addConst(causalBase, r % Sq);
            visible = b.andi(visible, b.slt(j, bound));
            // The window: j > i' - W, i.e. j + W >= i' + 1 = bound, or a
            // sink key.
            if (windowed) {
              Value inWindow = b.sge(b.add(j, rowWindows[r]), bound);
              if (c.sink)
                inWindow = b.ori(inWindow, b.slt(j, b.idx(c.sink)));
              if (someFull)
                inWindow =
                    b.ori(inWindow, b.eq(rowWindows[r], b.idx(0)));
              visible = b.andi(visible, inWindow);
            }
          }
          s = b.select(visible, s, negInf);
          b.store(s, sc, {b.idx(r), tid});
        }
        b.barrier();
        if (hoistValues && c.paged)
          loadTileValues();

        // 2. Online softmax, warp w owning rows r = w (mod 4).
        for (int64_t r = 0; r < R; ++r) {
          Value mine = b.eq(warp, b.idx(r % (C::kThreads / 32)));
          b.ifThen(mine, [&] {
            Value row = b.idx(r);
            Value x[4];
            for (int64_t e = 0; e < 4; ++e) {
              Value at = b.addConst(lane, 32 * e);
              x[e] = b.load(sc, {row, at});
            }
            Value m01 = b.fmax(x[0], x[1]);
            Value m23 = b.fmax(x[2], x[3]);
            Value local = b.fmax(m01, m23);
            Value tileMax = warpAllReduce(b, local, ReduceKind::Max);
            Value mOld = b.load(rowMax, {row});
            Value mNew = b.fmax(mOld, tileMax);
            Value noKey = b.cmpf(arith::CmpFPredicate::OEQ, mNew, negInf);
            Value mSafe = b.select(noKey, b.f32(0), mNew);
            Value alpha = b.exp2Approx(b.fsub(mOld, mSafe));
            Value sum = b.f32(0);
            for (int64_t e = 0; e < 4; ++e) {
              Value p = b.exp2Approx(b.fsub(x[e], mSafe));
              Value at = b.addConst(lane, 32 * e);
              b.store(p, sc, {row, at});
              sum = b.fadd(sum, p);
            }
            Value tileSum = warpAllReduce(b, sum, ReduceKind::Add);
            b.ifThen(b.eq(lane, b.idx(0)), [&] {
              Value lOld = b.load(rowSum, {row});
              b.store(b.fma(lOld, alpha, tileSum), rowSum, {row});
              b.store(mNew, rowMax, {row});
              b.store(alpha, rowAlpha, {row});
            });
          });
        }
        b.barrier();

        // 3. P.V: this thread's two columns over every KG-th key.
        Values scaled;
        for (int64_t r = 0; r < R; ++r) {
          Value alpha = b.load(rowAlpha, {b.idx(r)});
          for (int64_t w = 0; w < CW; ++w)
            scaled.push_back(b.fmul(accIn[CW * r + w], alpha));
        }
        // The products of keys jj[u] (their V rows vs[u], in the element
        // type) with P, into `acc`.
        auto accumulate = [&](ArrayRef<Value> jjs, ArrayRef<Value> vs,
                              Values &acc) {
          for (size_t u = 0; u < jjs.size(); ++u) {
            Value vf = b.toF32(vs[u]);
            Values vw;
            for (int64_t w = 0; w < CW; ++w)
              vw.push_back(b.extract(vf, w));
            for (int64_t r = 0; r < R; ++r) {
              Value p = b.load(sc, {b.idx(r), jjs[u]});
              for (int64_t w = 0; w < CW; ++w)
                acc[CW * r + w] = b.fma(p, vw[w], acc[CW * r + w]);
            }
          }
        };
        Values out;
        if (hoistValues) {
          Values jjs;
          for (int64_t u = 0; u < perThread; ++u)
            jjs.push_back(b.addConst(keyGroup, KG * u));
          out = scaled;
          accumulate(jjs, tileValues, out);
        } else {
          // A loop over groups of 8 keys, unrolled within: the group's
          // loads first, then its products (unrolling the whole tile lets
          // the scheduler hoist every load and spill at D 256).
          const int64_t n = std::min<int64_t>(8, perThread);
          Value keyStep = b.idx(KG);
          out = b.forLoop(
              b.idx(0), b.idx(perThread), b.idx(n), scaled,
              [&](Value i0, ValueRange a) -> Values {
                Value base = b.add(keyGroup, b.mul(i0, keyStep));
                Values jjs, vs;
                for (int64_t u = 0; u < n; ++u) {
                  jjs.push_back(b.addConst(base, KG * u));
                  vs.push_back(loadValues(jjs.back()));
                }
                Values next(a.begin(), a.end());
                accumulate(jjs, vs, next);
                return next;
              });
        }
        // The next tile's scores overwrite P.
        b.barrier();
        out.append(nextRow.begin(), nextRow.end());
        return out;
      });
  Values acc(loopOut.begin(), loopOut.begin() + CW * R);

  // The key groups' sums, then this split's rows.
  Values cols;
  for (int64_t w = 0; w < CW; ++w)
    cols.push_back(b.addConst(col, w));
  if (KG > 1) {
    b.ifThen(b.ne(keyGroup, b.idx(0)), [&] {
      Value slot = b.addConst(keyGroup, -1);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t w = 0; w < CW; ++w)
          b.store(acc[CW * r + w], partials, {slot, b.idx(r), cols[w]});
    });
    b.barrier();
  }
  b.ifThen(b.eq(keyGroup, b.idx(0)), [&] {
    for (int64_t r = 0; r < R; ++r)
      for (int64_t w = 0; w < CW; ++w) {
        Value sum = acc[CW * r + w];
        for (int64_t g = 0; g + 1 < KG; ++g) {
          Value part = b.load(partials, {b.idx(g), b.idx(r), cols[w]});
          sum = b.fadd(sum, part);
        }
        b.store(sum, po, {bk, split, b.idx(r), cols[w]});
      }
  });
  b.ifThen(b.ult(tid, b.idx(R)), [&] {
    Value m = b.load(rowMax, {tid});
    b.store(m, pml, {bk, split, tid, b.idx(0)});
    Value l = b.load(rowSum, {tid});
    b.store(l, pml, {bk, split, tid, b.idx(1)});
  });
}

void buildCombine(KernelBuilder &b, const C &c) {
  Type f32 = b.getF32Type();
  Type t = parseElementType(b.getContext(), c.elementType);
  const int64_t R = c.rows(), G = c.group, Sq = c.queryLen;
  Value po = b.arg(0), pml = b.arg(1), o = b.arg(2);
  Value negInf = b.f32Bits(kNegInf);
  Value d = b.threadId();
  Value row = b.blockId();
  Value bk = b.divuConst(row, R);
  Value hq0 = b.dim(o, 1);
  Value hkv0 = b.divuConst(hq0, G);
  Value hb = bk;
  Value r = b.remuConst(row, R);
  Value s = b.remuConst(r, Sq);
  if (c.chunked) {
    // bk = (b * Hkv + kvh) * chunks + chunk; s is the row's position.
    Value chunks = queryChunks(b, c, o);
    hb = b.divu(bk, chunks);
    s = b.add(b.mulConst(b.remu(bk, chunks), Sq), s);
  }
  Value batch = b.divu(hb, hkv0);
  // A CTA past the batch (the grid is never empty; B may be 0) does
  // nothing, nor does a row of the last chunk past Sq.
  Value live = b.ult(batch, b.dim(o, 0));
  if (c.chunked)
    live = b.andi(live, b.ult(s, b.dim(o, 2)));
  b.ifThen(live, [&] {
    Value splits = b.dim(po, 1);
    Value hkv = hkv0;
    Value kvh = b.remu(hb, hkv);
    Value g = b.divuConst(r, Sq);
    Value h = b.addMul(g, kvh, G);

    // Sink logits: a key of score sink_h (log2 units here) and value 0.
    Value sinkScore;
    if (c.sinkLogits) {
      sinkScore = b.fmul(b.load(b.arg(c.lse ? 4 : 3), {h}), b.f32(kLog2e));
      // Paged: a token of no sequence (l = -1) has no sink logit either.
      if (c.paged) {
        Value l = b.load(pml, {bk, b.idx(0), r, b.idx(1)});
        Value none = b.cmpf(arith::CmpFPredicate::OLT, l, b.f32(0));
        sinkScore = b.select(none, negInf, sinkScore);
      }
    }
    Value m = b.forLoop(b.idx(0), splits, b.idx(1),
                        ValueRange{sinkScore ? sinkScore : negInf},
                        [&](Value i, ValueRange mIn) -> Values {
                          Value mi = b.load(pml, {bk, i, r, b.idx(0)});
                          return {b.fmax(mIn[0], mi)};
                        })[0];
    Value noKey = b.cmpf(arith::CmpFPredicate::OEQ, m, negInf);
    Value mSafe = b.select(noKey, b.f32(0), m);
    Value l0 = sinkScore ? b.exp2Approx(b.fsub(sinkScore, mSafe)) : b.f32(0);
    Values sums =
        b.forLoop(b.idx(0), splits, b.idx(1), ValueRange{l0, b.f32(0)},
                  [&](Value i, ValueRange in) -> Values {
                    Value mi = b.load(pml, {bk, i, r, b.idx(0)});
                    Value li = b.load(pml, {bk, i, r, b.idx(1)});
                    Value w = b.exp2Approx(b.fsub(mi, mSafe));
                    Value oi = b.load(po, {bk, i, r, d});
                    Value l = b.fma(w, li, in[0]);
                    Value acc = b.fma(w, oi, in[1]);
                    return {l, acc};
                  });
    // Rows without a visible key (l = 0) are zeros.
    Value empty = b.cmpf(arith::CmpFPredicate::OEQ, sums[0], b.f32(0));
    Value denom = b.select(empty, b.f32(1), sums[0]);
    Value y = b.fdiv(sums[1], denom);
    Value result = b.select(empty, b.zero(f32), y);
    Value rounded = b.roundTo(t, result);
    if (c.paged)
      b.store(rounded, o, {batch, h, d});
    else
      b.store(rounded, o, {batch, h, s, d});
    // The row's log-sum-exp: m and l are in log2 units (scores carry
    // log2(e)), so lse = ln(2) * (m + log2(l)); -inf without a visible key.
    if (c.lse)
      b.ifThen(b.eq(d, b.idx(0)), [&] {
        Value lse = b.fmul(b.f32(kLn2), b.fadd(m, b.log2Approx(denom)));
        Value value = b.select(empty, negInf, lse);
        if (c.paged)
          b.store(value, b.arg(3), {batch, h});
        else
          b.store(value, b.arg(3), {batch, h, s});
      });
  });
}

} // namespace

std::string DecodeAttentionKernelConfig::invalidReason() const {
  if (elementType != "bf16" && elementType != "f16" && elementType != "f32")
    return "the element type must be bf16, f16 or f32";
  if (headDim < 16 || headDim > 256 || headDim % 8 != 0 ||
      kThreads % (headDim / 2) != 0 || kThreads % (headDim / 8) != 0)
    return "the head dim must be 16, 32, 64, 128 or 256";
  if (group < 1 || queryLen < 1 || rows() > kMaxRows)
    return "the query tile (group x Sq) must have 1 to 16 rows";
  if (std::string why = checkWindows(windows, sink, causal); !why.empty())
    return why;
  if (paged && (queryLen != 1 || pageSize < 1))
    return "a paged cache takes one query row a head (Sq 1) and pages of at "
           "least one key";
  if (paged && chunked)
    return "a paged cache is not chunked";
  return "";
}

std::string DecodeAttentionKernelConfig::kernelName() const {
  return "loom_decode_attention_" + elementType + "_d" +
         std::to_string(headDim) + "_g" + std::to_string(group) + "_sq" +
         std::to_string(queryLen) + (causal ? "_causal" : "") +
         windowsNameSuffix(windows, sink) + (softcap ? "_softcap" : "") +
         (paged ? "_paged" + std::to_string(pageSize) : "") +
         (chunked ? "_chunked" : "");
}

std::string DecodeAttentionKernelConfig::combineKernelName() const {
  return "loom_decode_combine_" + elementType + "_d" + std::to_string(headDim) +
         "_g" + std::to_string(group) + "_sq" + std::to_string(queryLen) +
         (lse ? "_lse" : "") + (sinkLogits ? "_sinklogits" : "") +
         (paged ? "_paged" : "") + (chunked ? "_chunked" : "");
}

FailureOr<SymbolRefAttr>
buildDecodeAttentionKernel(ModuleOp module, Location loc,
                           const DecodeAttentionKernelConfig &c) {
  assert(c.invalidReason().empty() && "invalid decode attention config");
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type f32 = Float32Type::get(ctx);
  Type index = IndexType::get(ctx);
  KernelSignature sig;
  sig.arguments = {dynamicMemRefType(c.paged ? 3 : 4, t),
                   dynamicMemRefType(4, t),
                   dynamicMemRefType(4, t),
                   dynamicMemRefType(4, f32),
                   dynamicMemRefType(4, f32),
                   f32};
  if (c.softcap)
    sig.arguments.push_back(f32);
  sig.arguments.push_back(index);
  if (!c.windows.empty() && !c.paged)
    sig.arguments.append({index, index});
  if (c.paged) {
    Type i32 = IntegerType::get(ctx, 32);
    sig.arguments.append({dynamicMemRefType(2, i32), dynamicMemRefType(1, i32),
                          dynamicMemRefType(1, i32)});
  }
  const int64_t R = c.rows();
  sig.workgroup = {{sharedMemRefType({R, c.headDim}, f32), 16},
                   {sharedMemRefType({R, C::kTileKeys}, f32), 16},
                   {sharedMemRefType({R}, f32), 16},
                   {sharedMemRefType({R}, f32), 16},
                   {sharedMemRefType({R}, f32), 16}};
  if (c.keyGroups() > 1)
    sig.workgroup.push_back(
        {sharedMemRefType({c.keyGroups() - 1, R, c.headDim}, f32), 16});
  if (c.paged)
    sig.workgroup.push_back(
        {sharedMemRefType({C::kTileKeys}, IntegerType::get(ctx, 32)), 16});
  sig.blockSize = {static_cast<int32_t>(C::kThreads), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { buildSplit(b, c); });
}

FailureOr<SymbolRefAttr>
buildDecodeCombineKernel(ModuleOp module, Location loc,
                         const DecodeAttentionKernelConfig &c) {
  assert(c.invalidReason().empty() && "invalid decode attention config");
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type f32 = Float32Type::get(ctx);
  KernelSignature sig;
  sig.arguments = {dynamicMemRefType(4, f32), dynamicMemRefType(4, f32),
                   dynamicMemRefType(c.paged ? 3 : 4, t)};
  if (c.lse)
    sig.arguments.push_back(dynamicMemRefType(c.paged ? 2 : 3, f32));
  if (c.sinkLogits)
    sig.arguments.push_back(dynamicMemRefType(1, f32));
  sig.blockSize = {static_cast<int32_t>(c.headDim), 1, 1};
  return getOrBuildKernel(module, loc, c.combineKernelName(), sig,
                          [&](KernelBuilder &b) { buildCombine(b, c); });
}

} // namespace gpu
} // namespace loom
