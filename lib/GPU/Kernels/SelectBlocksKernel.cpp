//===- SelectBlocksKernel.cpp - the fused select_blocks kernel ------------===//
//
// One CTA of 512 threads per (b, query head h, range of `per_cta` query
// blocks); the arithmetic follows the CPU lowering (lib/Conversion/
// LoomToLinalg/Attention.cpp, SelectBlocksLowering) operation for operation:
//
//   1. Pool the key blocks J < kEnd of kv head h / (Hq / Hkv) into shared
//      memory, kb[J][d] = (sum of the f32 rows of block J that exist) /
//      their count. kEnd is NKB, or with `causal` the candidates of the
//      CTA's last query block (no later query block of the CTA sees more).
//      One thread per (J, d), or with a RoPE per (J, RoPE pair): the pair's
//      two columns (d, d + D/2, or 2i, 2i + 1) read the same four values (the
//      two elements, cos and sin), so one thread rotates and sums both. The
//      rows are summed in order (the same association as the CPU), 32 rows
//      at a time with a RoPE (64 without): all their loads are issued before
//      the first use, so a thread has 128 (64) independent loads in flight
//      rather than waiting on each; a block's last rows that do not fill a
//      step go one by one. A RoPE'd row element is rotated in f32
//      (x0 c - x1 s, x1 c + x0 s: Rope.h's rotatePair) and rounded to T
//      once, as loom.rope computes it, before it is summed.
//   2. For each chunk of `chunk` query blocks of the range: pool them the
//      same way into qs; the scores sc[i][J] = scale * (sum_d qs[i][d] *
//      kb[J][d]) for J < kEnd (one thread per (i, J), d in order); then one
//      thread per (i, J) of the result row: J is selected iff it is a
//      candidate (J < numCand) and either the diagonal block (causal:
//      numCand - 1) or fewer than topk other non-diagonal candidates outrank
//      it (a higher score, or an equal one at a lower J). Every entry of the
//      row [b, h, I, 0 .. NKB) is written, false past the candidates.
//
// Candidates: every J without `causal`; with it, J * block_k <= i'_last
// (i'_last = the block's last row + Skv - Sq), none when i'_last < 0.
// Shared memory: kb [NKB][D + 1], qs [chunk][D + 1], sc [chunk][NKB] f32
// (the pitch D + 1 keeps the score loop free of bank conflicts).

#include "loom/GPU/Kernels/SelectBlocksKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Rope.h"

#include <algorithm>

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;

/// Rows of a block loaded per loop iteration (about 32 to 64 independent
/// loads in flight per thread): without and with a RoPE (four loads per row).
constexpr int64_t kUnroll = 64, kUnrollRope = 32;

/// memref<?x?x?x?xT, strided<[?, ?, ?, 1], offset: ?>>: q and k, views of
/// a fusion group's buffers.
MemRefType stridedOperandType(Type elementType) {
  int64_t dyn = ShapedType::kDynamic;
  auto layout = StridedLayoutAttr::get(elementType.getContext(), dyn,
                                       {dyn, dyn, dyn, 1});
  return MemRefType::get({dyn, dyn, dyn, dyn}, elementType, layout);
}

class Generator {
public:
  Generator(KernelBuilder &b, const SelectBlocksKernelConfig &c)
      : b(b), c(c),
        t(parseElementType(b.getContext(), c.elementType)) {}
  void run();

private:
  KernelBuilder &b;
  const SelectBlocksKernelConfig &c;
  Type t;
  Value tid, batchIndex, h, sq, skv;

  /// The candidates of query block `I`: (numCand, diag), diag = -1 (none)
  /// without `causal`.
  std::pair<Value, Value> candidates(Value I);
  /// Pools `count` blocks of `block` rows, blocks first .. first + count,
  /// of `x` [b, head, rows < limit, :] into `dst` [block - first][d]; the
  /// items go to the threads in the order of `lane` (a permutation of tid).
  void pool(Value lane, Value x, Value head, Value first, Value count,
            int64_t block, Value limit, const SelectBlocksRope &rope,
            Value cosT, Value sinT, Value dst);
};

std::pair<Value, Value> Generator::candidates(Value I) {
  if (!c.causal)
    return {b.idx(c.keyBlocks), b.idx(-1)};
  Value end = b.mins(b.mulConst(b.add(I, b.idx(1)), c.blockQ), sq);
  Value shift = b.sub(skv, sq);
  Value ipLast = b.add(b.sub(end, b.idx(1)), shift);
  Value any = b.sge(ipLast, b.idx(0));
  Value blocks = b.add(b.divs(ipLast, b.idx(c.blockK)), b.idx(1));
  Value numCand = b.select(any, blocks, b.idx(0));
  return {numCand, b.sub(numCand, b.idx(1))};
}

void Generator::pool(Value lane, Value x, Value head, Value first, Value count,
                     int64_t block, Value limit, const SelectBlocksRope &rope,
                     Value cosT, Value sinT, Value dst) {
  const int64_t d = c.headDim, halfD = d / 2;
  // With a RoPE a thread takes both columns of a pair (they read the same
  // four values: the two elements, cos and sin), else one column.
  const int64_t width = rope.enabled ? halfD : d;
  Value items = b.mul(count, b.idx(width));
  b.forLoop(lane, items, b.idx(c.threads()), [&](Value item) {
    Value blk = b.divuConst(item, width), w = b.remuConst(item, width);
    Value lo = b.mulConst(b.add(first, blk), block);
    Value hi = b.minu(b.addConst(lo, block), limit);
    Values cols = {w};
    if (rope.enabled) {
      Value col = rope.interleaved ? b.mulConst(w, 2) : w;
      cols = {col, b.addConst(col, rope.interleaved ? 1 : halfD)};
    }
    // The loads of row r: its columns, then cos and sin with a RoPE.
    auto loadRow = [&](Value r) {
      Values loaded;
      for (Value col : cols)
        loaded.push_back(b.load(x, {batchIndex, head, r, col}));
      if (rope.enabled)
        for (Value table : {cosT, sinT})
          loaded.push_back(b.load(table, {r, w}));
      return loaded;
    };
    // The f32 values of the columns of a loaded row: with a RoPE rotated in
    // f32 and rounded to T once, as loom.rope.
    auto values = [&](const Values &loaded) {
      Values v;
      for (size_t i = 0; i < cols.size(); ++i)
        v.push_back(b.toF32(loaded[i]));
      if (!rope.enabled)
        return v;
      Value co = b.toF32(loaded[2]);
      Value si = b.toF32(loaded[3]);
      auto [y0, y1] = rotatePair(b, v[0], v[1], co, si);
      Value r0 = b.toF32(b.roundTo(t, y0));
      Value r1 = b.toF32(b.roundTo(t, y1));
      return Values{r0, r1};
    };
    // The rows in order, `unroll` at a time (all their loads issued before
    // the first use, the sums still taken row by row), then the rest one by
    // one.
    const int64_t unroll =
        std::min<int64_t>(rope.enabled ? kUnrollRope : kUnroll, block);
    Value mainEnd = lo;
    if (unroll > 1) {
      Value whole = b.mulConst(b.divuConst(b.sub(hi, lo), unroll), unroll);
      mainEnd = b.add(lo, whole);
    }
    const size_t n = cols.size();
    auto sumRows = [&](Value from, Value to, int64_t step, ValueRange init) {
      return b.forLoop(from, to, b.idx(step), init,
                       [&](Value r, ValueRange accs) {
                         std::vector<Values> loaded;
                         for (int64_t u = 0; u < step; ++u)
                           loaded.push_back(
                               loadRow(u == 0 ? r : b.addConst(r, u)));
                         Values next(accs);
                         for (const Values &row : loaded) {
                           Values v = values(row);
                           for (size_t k = 0; k < n; ++k)
                             next[k] = b.fadd(next[k], v[k]);
                         }
                         return next;
                       });
    };
    Values sums(n, b.f32(0.0));
    if (unroll > 1)
      sums = sumRows(lo, mainEnd, unroll, sums);
    sums = sumRows(mainEnd, hi, 1, sums);
    Value rows = b.indexCast(b.getI64Type(), b.sub(hi, lo));
    Value nf = b.sitofp(b.getF32Type(), rows);
    for (size_t k = 0; k < n; ++k)
      b.store(b.fdiv(sums[k], nf), dst, {blk, cols[k]});
  });
}

void Generator::run() {
  const int64_t p = c.pitch(), nkb = c.keyBlocks;
  Value q = b.arg(0), k = b.arg(1), out = b.arg(2), scale = b.arg(3),
        perCta = b.arg(4);
  unsigned next = 5;
  Value cosQ, sinQ, cosK, sinK;
  if (c.ropeQ.enabled) {
    cosQ = b.arg(next++);
    sinQ = b.arg(next++);
  }
  if (c.ropeK.enabled) {
    cosK = b.arg(next++);
    sinK = b.arg(next++);
  }
  tid = b.threadId();
  Value bh = b.blockId(mlir::gpu::Dimension::x);
  Value by = b.blockId(mlir::gpu::Dimension::y);
  Value batch = b.dim(q, 0);
  Value hq = b.dim(q, 1);
  Value hkv = b.dim(k, 1);
  sq = b.dim(q, 2);
  skv = b.dim(k, 2);
  Value nqb = b.divuConst(b.addConst(sq, c.blockQ - 1), c.blockQ);

  // Block x runs over (b, h) pairs, block y over ranges of query blocks. The
  // grid is never empty: with B or Hq = 0 the only CTA is not `live` and
  // neither reads nor writes memory.
  Value hq1 = b.maxs(hq, b.idx(1));
  h = b.remu(bh, hq1);
  batchIndex = b.divu(bh, hq1);
  Value batchIn = b.ult(batchIndex, batch);
  Value live = b.andi(b.ult(h, hq), batchIn);
  Value group = b.maxs(b.divu(hq, b.maxs(hkv, b.idx(1))), b.idx(1));
  Value kvh = b.divu(h, group);
  Value i0 = b.mul(by, perCta);
  Value i1 = b.select(live, b.mins(b.add(i0, perCta), nqb), i0);
  Value any = b.ult(i0, i1);
  Value lastCand = candidates(b.sub(i1, b.idx(1))).first;
  Value kEnd = b.select(any, lastCand, b.idx(0));

  Value smem = b.dynamicSharedMemory();
  Type f32 = b.getF32Type();
  Value kb = b.view(smem, 0, sharedMemRefType({nkb, p}, f32));
  Value qs = b.view(smem, 4 * nkb * p, sharedMemRefType({c.chunk, p}, f32));
  Value sc = b.view(smem, 4 * (nkb + c.chunk) * p,
                    sharedMemRefType({c.chunk, nkb}, f32));

  // 1. The pooled key blocks of the kv head.
  pool(tid, k, kvh, b.idx(0), kEnd, c.blockK, skv, c.ropeK, cosK, sinK, kb);
  // The first chunk of query blocks, by the threads from the last one down
  // (those with the fewest key items).
  Value lastLane = b.sub(b.idx(c.threads() - 1), tid);
  auto poolQueries = [&](Value first) {
    Value count = b.maxs(b.mins(b.sub(i1, first), b.idx(c.chunk)), b.idx(0));
    pool(lastLane, q, h, first, count, c.blockQ, sq, c.ropeQ, cosQ, sinQ, qs);
  };
  poolQueries(i0);
  b.barrier();

  // 2. Chunks of the CTA's query blocks [i0, i1), the chunk's pooled query
  // blocks in qs.
  b.forLoop(i0, i1, b.idx(c.chunk), [&](Value c0) {
    Value nc = b.mins(b.sub(i1, c0), b.idx(c.chunk));

    // Scores of the chunk against the pooled key blocks.
    b.forLoop(tid, b.mul(nc, kEnd), b.idx(c.threads()), [&](Value item) {
      Value i = b.divu(item, kEnd), j = b.remu(item, kEnd);
      Value dot = b.forLoop(b.idx(0), b.idx(c.headDim), b.idx(1),
                            ValueRange{b.f32(0.0)},
                            [&](Value dd, ValueRange acc) {
                              Value kv = b.load(kb, {j, dd});
                              Value qv = b.load(qs, {i, dd});
                              Value prod = b.fmul(qv, kv);
                              return Values{b.fadd(acc[0], prod)};
                            })[0];
      b.store(b.fmul(scale, dot), sc, {i, j});
    });
    b.barrier();

    // The selection, one thread per entry of the chunk's result rows.
    b.forLoop(tid, b.mul(nc, b.idx(nkb)), b.idx(c.threads()), [&](Value item) {
      Value i = b.divuConst(item, nkb), j = b.remuConst(item, nkb);
      Value I = b.add(c0, i);
      auto [numCand, diag] = candidates(I);
      Value isCand = b.slt(j, numCand);
      Value selected = b.ifThenElse(
          isCand, b.getI1Type(),
          [&] {
            Value score = b.load(sc, {i, j});
            Value rank =
                b.forLoop(b.idx(0), numCand, b.idx(1), ValueRange{b.idx(0)},
                          [&](Value j2, ValueRange cnt) {
                            Value other = b.load(sc, {i, j2});
                            Value higher = b.cmpf(arith::CmpFPredicate::OGT,
                                                  other, score);
                            Value before = b.ult(j2, j);
                            Value tie = b.andi(
                                b.cmpf(arith::CmpFPredicate::OEQ, other,
                                       score),
                                before);
                            Value notDiag = b.ne(j2, diag);
                            Value counts = b.andi(b.ori(higher, tie), notDiag);
                            Value one =
                                b.select(counts, b.idx(1), b.idx(0));
                            return Values{b.add(cnt[0], one)};
                          })[0];
            Value inTop = b.ult(rank, b.idx(c.topk));
            return b.ori(b.eq(j, diag), inTop);
          },
          [&] { return b.i1(false); });
      b.store(selected, out, {batchIndex, h, I, j});
    });
    // The next chunk's query blocks, while the selection runs (the scores,
    // the only readers of qs, are done): qs and sc are ready for the next
    // iteration after the barrier.
    poolQueries(b.addConst(c0, c.chunk));
    b.barrier();
  });
}

std::string ropeName(const char *operand, const SelectBlocksRope &rope) {
  if (!rope.enabled)
    return "";
  return std::string("_rope") + operand +
         (rope.interleaved ? "_il_" : "_half_") + rope.tableType;
}

} // namespace

std::string SelectBlocksKernelConfig::kernelName() const {
  auto s = [](int64_t v) { return std::to_string(v); };
  return "loom_select_blocks_" + elementType + "_d" + s(headDim) + "_q" +
         s(blockQ) + "_k" + s(blockK) + "_top" + s(topk) + "_nkb" +
         s(keyBlocks) + "_c" + s(chunk) + (causal ? "_causal" : "") +
         ropeName("q", ropeQ) + ropeName("k", ropeK);
}

FailureOr<SymbolRefAttr>
buildSelectBlocksKernel(ModuleOp module, Location loc,
                        const SelectBlocksKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  KernelSignature sig;
  sig.arguments = {stridedOperandType(t), stridedOperandType(t),
                   dynamicMemRefType(4, IntegerType::get(ctx, 1)),
                   Float32Type::get(ctx), IndexType::get(ctx)};
  for (const SelectBlocksRope *rope : {&c.ropeQ, &c.ropeK})
    if (rope->enabled) {
      Type table = dynamicMemRefType(2, parseElementType(ctx, rope->tableType));
      sig.arguments.append({table, table});
    }
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(b, c).run(); });
}

} // namespace gpu
} // namespace loom
