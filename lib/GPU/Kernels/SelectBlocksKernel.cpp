//===- SelectBlocksKernel.cpp - the fused select_blocks kernel
//-------------===//
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
//      (x0 c - x1 s, x1 c + x0 s) and rounded to T once, as loom.rope
//      computes it, before it is summed.
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
#include "RecipeText.h"

#include <algorithm>
#include <vector>

namespace loom {
namespace gpu {

namespace {

using recipe::cat;

/// The strings of `parts` separated by `sep`.
std::string join(const std::vector<std::string> &parts, const char *sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i)
    s += (i ? sep : "") + parts[i];
  return s;
}

/// Rows of a block loaded per loop iteration (about 32 to 64 independent
/// loads in flight per thread): without and with a RoPE (four loads per row).
constexpr int64_t kUnroll = 64, kUnrollRope = 32;

/// The kernel's emitter: index, f32 and memory helpers.
class Emitter : public recipe::IndexEmitter {
public:
  std::string bin(const char *opName, const std::string &a,
                  const std::string &b, const char *type = "index") {
    return op("x", cat("arith.", opName, " ", a, ", ", b, " : ", type));
  }
  std::string sub(const std::string &a, const std::string &b) {
    return bin("subi", a, b);
  }
  std::string divu(const std::string &a, const std::string &b) {
    return bin("divui", a, b);
  }
  std::string remu(const std::string &a, const std::string &b) {
    return bin("remui", a, b);
  }
  std::string divs(const std::string &a, const std::string &b) {
    return bin("divsi", a, b);
  }
  std::string mins(const std::string &a, const std::string &b) {
    return bin("minsi", a, b);
  }
  std::string maxs(const std::string &a, const std::string &b) {
    return bin("maxsi", a, b);
  }
  std::string cmp(const char *pred, const std::string &a,
                  const std::string &b) {
    return op("p", cat("arith.cmpi ", pred, ", ", a, ", ", b, " : index"));
  }
  std::string ori(const std::string &a, const std::string &b) {
    return bin("ori", a, b, "i1");
  }
  std::string fbin(const char *opName, const std::string &a,
                   const std::string &b) {
    return op("f", cat("arith.", opName, " ", a, ", ", b, " : f32"));
  }
  std::string fcmp(const char *pred, const std::string &a,
                   const std::string &b) {
    return op("p", cat("arith.cmpf ", pred, ", ", a, ", ", b, " : f32"));
  }
  std::string zeroF() { return constant("%cf_zero", "0.0 : f32"); }
  /// The f32 value of `v` of type `type`, and back (rounded to nearest even).
  std::string toF32(const std::string &v, const std::string &type) {
    return recipe::toF32(*this, v, type);
  }
  std::string fromF32(const std::string &v, const std::string &type) {
    return type == "f32" ? v
                         : op("x", cat("arith.truncf ", v, " : f32 to ", type));
  }
  std::string load(const std::string &mem, const std::string &at,
                   const std::string &type) {
    return op("x", cat("memref.load ", mem, "[", at, "] : ", type));
  }
  void store(const std::string &v, const std::string &mem,
             const std::string &at, const std::string &type) {
    line(cat("memref.store ", v, ", ", mem, "[", at, "] : ", type));
  }
  /// `scf.for %i = lo to hi step step {`, returning %i.
  std::string forLoop(const std::string &lo, const std::string &hi,
                      const std::string &step) {
    std::string i = fresh("i");
    line(cat("scf.for ", i, " = ", lo, " to ", hi, " step ", step, " {"));
    open();
    return i;
  }
  void end() {
    close();
    line("}");
  }
};

class Generator {
public:
  explicit Generator(const SelectBlocksKernelConfig &c) : c(c) {}
  std::string run();

private:
  const SelectBlocksKernelConfig &c;
  Emitter e;
  std::string tid, b, h, kvh, sq, skv;

  std::string globalType() const {
    return cat("memref<?x?x?x?x", c.elementType,
               ", strided<[?, ?, ?, 1], offset: ?>>");
  }
  std::string smemType(int64_t rows, int64_t cols) const {
    return cat("memref<", rows, "x", cols,
               "xf32, #gpu.address_space<workgroup>>");
  }

  /// The candidates of query block `I`: (numCand, diag), diag = -1 (none)
  /// without `causal`.
  std::pair<std::string, std::string> candidates(const std::string &I);
  /// Pools `count` blocks of `block` rows, blocks first .. first + count,
  /// of `x` [b, head, rows < limit, :] into `dst` [block - first][d]; the
  /// items go to the threads in the order of `lane` (a permutation of tid).
  void pool(const std::string &lane, const std::string &x,
            const std::string &head, const std::string &first,
            const std::string &count, int64_t block, const std::string &limit,
            const SelectBlocksRope &rope, const std::string &cosT,
            const std::string &sinT, const std::string &dst,
            const std::string &dstType);
};

std::pair<std::string, std::string>
Generator::candidates(const std::string &I) {
  if (!c.causal)
    return {e.idx(c.keyBlocks), e.idx(-1)};
  std::string end = e.mins(e.mul(e.add(I, e.idx(1)), c.blockQ), sq);
  std::string ipLast = e.add(e.sub(end, e.idx(1)), e.sub(skv, sq));
  std::string any = e.cmp("sge", ipLast, e.idx(0));
  std::string blocks = e.add(e.divs(ipLast, e.idx(c.blockK)), e.idx(1));
  std::string numCand = e.select(any, blocks, e.idx(0), "index");
  return {numCand, e.sub(numCand, e.idx(1))};
}

void Generator::pool(const std::string &lane, const std::string &x,
                     const std::string &head, const std::string &first,
                     const std::string &count, int64_t block,
                     const std::string &limit, const SelectBlocksRope &rope,
                     const std::string &cosT, const std::string &sinT,
                     const std::string &dst, const std::string &dstType) {
  const int64_t d = c.headDim, halfD = d / 2;
  // With a RoPE a thread takes both columns of a pair (they read the same
  // four values: the two elements, cos and sin), else one column.
  const int64_t width = rope.enabled ? halfD : d;
  std::string item =
      e.forLoop(lane, e.mul(count, e.idx(width)), e.idx(c.threads()));
  std::string blk = e.div(item, width), w = e.rem(item, width);
  std::string lo = e.mul(e.add(first, blk), block);
  std::string hi = e.minu(e.addConst(lo, block), limit);
  std::vector<std::string> cols = {w};
  if (rope.enabled) {
    std::string col = rope.interleaved ? e.mul(w, 2) : w;
    cols = {col, e.addConst(col, rope.interleaved ? 1 : halfD)};
  }
  const std::string table = cat("memref<?x?x", rope.tableType, ">");
  // The loads of row r: its columns, then cos and sin with a RoPE.
  auto loadRow = [&](const std::string &r) {
    std::vector<std::string> loaded;
    for (const std::string &col : cols)
      loaded.push_back(
          e.load(x, cat(b, ", ", head, ", ", r, ", ", col), globalType()));
    if (rope.enabled)
      for (const std::string &t : {cosT, sinT})
        loaded.push_back(e.load(t, cat(r, ", ", w), table));
    return loaded;
  };
  // The f32 values of the columns of a loaded row: with a RoPE rotated in
  // f32 (x0 c - x1 s, x1 c + x0 s) and rounded to T once, as loom.rope.
  auto values = [&](const std::vector<std::string> &loaded) {
    std::vector<std::string> v;
    for (size_t i = 0; i < cols.size(); ++i)
      v.push_back(e.toF32(loaded[i], c.elementType));
    if (!rope.enabled)
      return v;
    std::string co = e.toF32(loaded[2], rope.tableType);
    std::string si = e.toF32(loaded[3], rope.tableType);
    auto round = [&](const std::string &y) {
      return e.toF32(e.fromF32(y, c.elementType), c.elementType);
    };
    std::string y0 =
        e.fbin("subf", e.fbin("mulf", v[0], co), e.fbin("mulf", v[1], si));
    std::string y1 =
        e.fbin("addf", e.fbin("mulf", v[1], co), e.fbin("mulf", v[0], si));
    return std::vector<std::string>{round(y0), round(y1)};
  };
  // The rows in order, `unroll` at a time (all their loads issued before
  // the first use, the sums still taken row by row), then the rest one by
  // one.
  const int64_t unroll =
      std::min<int64_t>(rope.enabled ? kUnrollRope : kUnroll, block);
  std::string mainEnd =
      unroll > 1 ? e.add(lo, e.mul(e.div(e.sub(hi, lo), unroll), unroll)) : lo;
  const size_t n = cols.size();
  auto sumRows = [&](const std::string &from, const std::string &to,
                     int64_t step, const std::vector<std::string> &init) {
    std::string sum = e.fresh("sum"), r = e.fresh("r");
    std::vector<std::string> accs, inits, types;
    for (size_t k = 0; k < n; ++k) {
      accs.push_back(e.fresh("acc"));
      inits.push_back(cat(accs[k], " = ", init[k]));
      types.push_back("f32");
    }
    e.line(cat(sum, n > 1 ? cat(":", n) : "", " = scf.for ", r, " = ", from,
               " to ", to, " step ", e.idx(step), " iter_args(",
               join(inits, ", "), ") -> (", join(types, ", "), ") {"));
    e.open();
    std::vector<std::vector<std::string>> loaded;
    for (int64_t u = 0; u < step; ++u)
      loaded.push_back(loadRow(u == 0 ? r : e.addConst(r, u)));
    std::vector<std::string> next = accs;
    for (const std::vector<std::string> &row : loaded) {
      std::vector<std::string> v = values(row);
      for (size_t k = 0; k < n; ++k)
        next[k] = e.fbin("addf", next[k], v[k]);
    }
    e.line(cat("scf.yield ", join(next, ", "), " : ", join(types, ", ")));
    e.end();
    std::vector<std::string> results;
    for (size_t k = 0; k < n; ++k)
      results.push_back(n > 1 ? cat(sum, "#", k) : sum);
    return results;
  };
  std::vector<std::string> sums(n, e.zeroF());
  if (unroll > 1)
    sums = sumRows(lo, mainEnd, unroll, sums);
  sums = sumRows(mainEnd, hi, 1, sums);
  std::string rows =
      e.op("x", cat("arith.index_cast ", e.sub(hi, lo), " : index to i64"));
  std::string nf = e.op("f", cat("arith.sitofp ", rows, " : i64 to f32"));
  for (size_t k = 0; k < n; ++k)
    e.store(e.fbin("divf", sums[k], nf), dst, cat(blk, ", ", cols[k]), dstType);
  e.end();
}

std::string Generator::run() {
  const int64_t d = c.headDim, p = c.pitch(), nkb = c.keyBlocks;
  tid = e.op("tid", "gpu.thread_id x");
  std::string bh = e.op("bh", "gpu.block_id x");
  std::string by = e.op("by", "gpu.block_id y");
  auto dimOf = [&](const char *t, int64_t i) {
    return e.op("n",
                cat("memref.dim %", t, ", ", e.idx(i), " : ", globalType()));
  };
  std::string batch = dimOf("q", 0), hq = dimOf("q", 1), hkv = dimOf("k", 1);
  sq = dimOf("q", 2);
  skv = dimOf("k", 2);
  std::string nqb = e.div(e.addConst(sq, c.blockQ - 1), c.blockQ);

  // Block x runs over (b, h) pairs, block y over ranges of query blocks. The
  // grid is never empty: with B or Hq = 0 the only CTA is not `live` and
  // neither reads nor writes memory.
  std::string hq1 = e.maxs(hq, e.idx(1));
  h = e.remu(bh, hq1);
  b = e.divu(bh, hq1);
  std::string live = e.andi(e.ult(h, hq), e.ult(b, batch));
  std::string group = e.maxs(e.divu(hq, e.maxs(hkv, e.idx(1))), e.idx(1));
  kvh = e.divu(h, group);
  std::string i0 = e.mul(by, "%per_cta");
  std::string i1 =
      e.select(live, e.mins(e.add(i0, "%per_cta"), nqb), i0, "index");
  std::string any = e.ult(i0, i1);
  std::string kEnd =
      e.select(any, candidates(e.sub(i1, e.idx(1))).first, e.idx(0), "index");

  std::string smem = e.op("smem", "gpu.dynamic_shared_memory : memref<?xi8, "
                                  "#gpu.address_space<workgroup>>");
  auto view = [&](const char *name, int64_t at, const std::string &type) {
    e.line(cat("%", name, " = memref.view ", smem, "[", e.idx(at),
               "][] : memref<?xi8, #gpu.address_space<workgroup>> to ", type));
    return cat("%", name);
  };
  std::string kbT = smemType(nkb, p), qsT = smemType(c.chunk, p),
              scT = smemType(c.chunk, nkb);
  std::string kb = view("kb", 0, kbT);
  std::string qs = view("qs", 4 * nkb * p, qsT);
  std::string sc = view("sc", 4 * (nkb + c.chunk) * p, scT);

  // 1. The pooled key blocks of the kv head.
  pool(tid, "%k", kvh, e.idx(0), kEnd, c.blockK, skv, c.ropeK, "%cos_k",
       "%sin_k", kb, kbT);
  // The first chunk of query blocks, by the threads from the last one down
  // (those with the fewest key items).
  std::string lastLane = e.sub(e.idx(c.threads() - 1), tid);
  auto poolQueries = [&](const std::string &first) {
    std::string count =
        e.maxs(e.mins(e.sub(i1, first), e.idx(c.chunk)), e.idx(0));
    pool(lastLane, "%q", h, first, count, c.blockQ, sq, c.ropeQ, "%cos_q",
         "%sin_q", qs, qsT);
  };
  poolQueries(i0);
  e.line("gpu.barrier");

  // 2. Chunks of the CTA's query blocks [i0, i1), the chunk's pooled query
  // blocks in qs.
  std::string c0 = e.forLoop(i0, i1, e.idx(c.chunk));
  std::string nc = e.mins(e.sub(i1, c0), e.idx(c.chunk));

  // Scores of the chunk against the pooled key blocks.
  {
    std::string item = e.forLoop(tid, e.mul(nc, kEnd), e.idx(c.threads()));
    std::string i = e.divu(item, kEnd), j = e.remu(item, kEnd);
    std::string dot = e.fresh("dot"), dd = e.fresh("d"), acc = e.fresh("acc");
    e.line(cat(dot, " = scf.for ", dd, " = ", e.idx(0), " to ", e.idx(d),
               " step ", e.idx(1), " iter_args(", acc, " = ", e.zeroF(),
               ") -> (f32) {"));
    e.open();
    std::string prod = e.fbin("mulf", e.load(qs, cat(i, ", ", dd), qsT),
                              e.load(kb, cat(j, ", ", dd), kbT));
    e.line(cat("scf.yield ", e.fbin("addf", acc, prod), " : f32"));
    e.end();
    e.store(e.fbin("mulf", "%scale", dot), sc, cat(i, ", ", j), scT);
    e.end();
  }
  e.line("gpu.barrier");

  // The selection, one thread per entry of the chunk's result rows.
  {
    std::string item =
        e.forLoop(tid, e.mul(nc, e.idx(nkb)), e.idx(c.threads()));
    std::string i = e.div(item, nkb), j = e.rem(item, nkb);
    std::string I = e.add(c0, i);
    auto [numCand, diag] = candidates(I);
    std::string isCand = e.cmp("slt", j, numCand);
    std::string selected = e.fresh("sel");
    e.line(cat(selected, " = scf.if ", isCand, " -> (i1) {"));
    e.open();
    std::string score = e.load(sc, cat(i, ", ", j), scT);
    std::string rank = e.fresh("rank"), j2 = e.fresh("j"), cnt = e.fresh("cnt");
    e.line(cat(rank, " = scf.for ", j2, " = ", e.idx(0), " to ", numCand,
               " step ", e.idx(1), " iter_args(", cnt, " = ", e.idx(0),
               ") -> (index) {"));
    e.open();
    std::string other = e.load(sc, cat(i, ", ", j2), scT);
    std::string higher = e.fcmp("ogt", other, score);
    std::string tie = e.andi(e.fcmp("oeq", other, score), e.ult(j2, j));
    std::string counts = e.andi(e.ori(higher, tie), e.cmp("ne", j2, diag));
    std::string next =
        e.add(cnt, e.select(counts, e.idx(1), e.idx(0), "index"));
    e.line(cat("scf.yield ", next, " : index"));
    e.end();
    std::string chosen =
        e.ori(e.cmp("eq", j, diag), e.ult(rank, e.idx(c.topk)));
    e.line(cat("scf.yield ", chosen, " : i1"));
    e.close();
    e.line("} else {");
    e.open();
    e.line(cat("scf.yield ", e.constant("%false", "false"), " : i1"));
    e.end();
    e.store(selected, "%out", cat(b, ", ", h, ", ", I, ", ", j),
            "memref<?x?x?x?xi1>");
    e.end();
  }
  // The next chunk's query blocks, while the selection runs (the scores,
  // the only readers of qs, are done): qs and sc are ready for the next
  // iteration after the barrier.
  poolQueries(e.addConst(c0, c.chunk));
  e.line("gpu.barrier");
  e.end();
  e.line("gpu.return");

  std::string args =
      cat("%q: ", globalType(), ", %k: ", globalType(),
          ", %out: memref<?x?x?x?xi1>, %scale: f32, %per_cta: index");
  for (auto [rope, name] : {std::pair{&c.ropeQ, "q"}, std::pair{&c.ropeK, "k"}})
    if (rope->enabled)
      args += cat(", %cos_", name, ": memref<?x?x", rope->tableType, ">, %sin_",
                  name, ": memref<?x?x", rope->tableType, ">");
  return cat("gpu.module @recipe {\n  gpu.func @", c.kernelName(), "(", args,
             ") kernel attributes {known_block_size = array<i32: ", c.threads(),
             ", 1, 1>} {\n", e.text(), "  }\n}\n");
}

std::string ropeName(const char *operand, const SelectBlocksRope &rope) {
  if (!rope.enabled)
    return "";
  return cat("_rope", operand, rope.interleaved ? "_il_" : "_half_",
             rope.tableType);
}

} // namespace

std::string selectBlocksKernelText(const SelectBlocksKernelConfig &config) {
  return Generator(config).run();
}

std::string SelectBlocksKernelConfig::kernelName() const {
  return cat("loom_select_blocks_", elementType, "_d", headDim, "_q", blockQ,
             "_k", blockK, "_top", topk, "_nkb", keyBlocks, "_c", chunk,
             causal ? "_causal" : "", ropeName("q", ropeQ),
             ropeName("k", ropeK));
}

} // namespace gpu
} // namespace loom
