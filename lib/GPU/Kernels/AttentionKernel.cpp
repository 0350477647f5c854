//===- AttentionKernel.cpp - the flash-attention kernel recipe ------------===//
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
//   O / l (0 where l = 0: a row without visible key), rounded once to T.
//
// Thread (lane) ownership follows the mma.sync m16n8k16 fragment layouts: with
// g = lane / 4 and t = lane % 4, a thread holds accumulator rows g and g + 8
// and, of every 8-column n-tile, columns 2t and 2t + 1. A row's values are
// spread over the 4 threads of a quad, so row reductions are two xor
// shuffles. The accumulator of S is already in the A-operand layout of the
// P V product (two adjacent n-tiles form one k16 step), so P never leaves the
// registers.

#include "loom/GPU/Kernels/AttentionKernel.h"
#include "RecipeText.h"

#include <cassert>
#include <vector>

namespace loom {
namespace gpu {

namespace {

using recipe::cat;

/// The kernel's text emitter (constants hoisted in the order of their
/// names) with the f32, mma.sync and shuffle helpers of the recipe.
class Emitter : public recipe::TextEmitter {
public:
  explicit Emitter(std::string elementType)
      : TextEmitter(ConstantOrder::ByName), t(std::move(elementType)) {
    bf16 = t == "bf16";
    frag = bf16 ? "i32" : "vector<2x" + t + ">";
  }

  /// The element type and the type of an mma.sync operand register.
  std::string t, frag;
  bool bf16;

  // Constants, defined once at the top of the kernel.
  std::string f32(const std::string &name, const std::string &literal) {
    return constant("%cf_" + name, literal + " : f32");
  }
  std::string negInf() { return f32("ninf", "0xFF800000"); }
  std::string zeroF() { return f32("zero", "0.0"); }

  // index arithmetic
  std::string bin(const char *opName, const std::string &a,
                  const std::string &b, const char *type = "index") {
    return op("x", cat("arith.", opName, " ", a, ", ", b, " : ", type));
  }
  std::string add(const std::string &a, const std::string &b) { return bin("addi", a, b); }
  std::string sub(const std::string &a, const std::string &b) { return bin("subi", a, b); }
  std::string mul(const std::string &a, const std::string &b) { return bin("muli", a, b); }
  std::string divu(const std::string &a, const std::string &b) { return bin("divui", a, b); }
  std::string remu(const std::string &a, const std::string &b) { return bin("remui", a, b); }
  std::string mins(const std::string &a, const std::string &b) { return bin("minsi", a, b); }
  std::string maxs(const std::string &a, const std::string &b) { return bin("maxsi", a, b); }
  std::string cmp(const char *pred, const std::string &a, const std::string &b,
                  const char *type = "index") {
    return op("p", cat("arith.cmpi ", pred, ", ", a, ", ", b, " : ", type));
  }
  std::string andi(const std::string &a, const std::string &b) { return bin("andi", a, b, "i1"); }
  std::string ori(const std::string &a, const std::string &b) { return bin("ori", a, b, "i1"); }
  std::string select(const std::string &c, const std::string &a,
                     const std::string &b, const std::string &type) {
    return op("s", cat("arith.select ", c, ", ", a, ", ", b, " : ", type));
  }
  std::string toI32(const std::string &a) {
    return op("x", cat("arith.index_cast ", a, " : index to i32"));
  }

  // f32 arithmetic
  std::string fbin(const char *opName, const std::string &a, const std::string &b) {
    return op("f", cat("arith.", opName, " ", a, ", ", b, " : f32"));
  }
  std::string fadd(const std::string &a, const std::string &b) { return fbin("addf", a, b); }
  std::string fmul(const std::string &a, const std::string &b) { return fbin("mulf", a, b); }
  std::string fsub(const std::string &a, const std::string &b) { return fbin("subf", a, b); }
  std::string fmax(const std::string &a, const std::string &b) { return fbin("maximumf", a, b); }
  /// 2^a with the SFU's ex2.approx.ftz (2^-inf = 0; relative error about
  /// 2^-22, far below the rounding of P to T).
  std::string exp2(const std::string &a) {
    return op("f", cat("llvm.call_intrinsic \"llvm.nvvm.ex2.approx.ftz.f\"(", a,
                       ") : (f32) -> f32"));
  }

  /// The xor shuffle of `v` with the lane `mask` away (full warp).
  std::string shuffleXor(const std::string &v, int mask) {
    std::string n = fresh("sh");
    line(cat(n, ", ", n, "ok = gpu.shuffle xor ", v, ", ", i32(mask), ", ",
             i32(32), " : f32"));
    return n;
  }

  /// Register `r` (0..3) of an ldmatrix result as an mma.sync operand.
  std::string fragment(const std::string &ld, int r) {
    std::string v = op("v", cat("vector.extract ", ld, "[", r, "] : vector<2x",
                                t, "> from vector<4x2x", t, ">"));
    if (!bf16)
      return v;
    std::string w = op("v", cat("vector.bitcast ", v, " : vector<2x", t,
                                "> to vector<1xi32>"));
    return op("a", cat("vector.extract ", w, "[0] : i32 from vector<1xi32>"));
  }

  /// Two f32 values rounded to T and packed as one mma.sync operand.
  std::string pack(const std::string &lo, const std::string &hi) {
    std::string v = op("v", cat("vector.from_elements ", lo, ", ", hi,
                                " : vector<2xf32>"));
    std::string r = op("v", cat("arith.truncf ", v, " : vector<2xf32> to vector<2x", t, ">"));
    if (!bf16)
      return r;
    std::string w = op("v", cat("vector.bitcast ", r, " : vector<2x", t,
                                "> to vector<1xi32>"));
    return op("a", cat("vector.extract ", w, "[0] : i32 from vector<1xi32>"));
  }

  /// d = a * b + c, one m16n8k16 mma.sync; returns d's four registers.
  std::vector<std::string> mma(const std::vector<std::string> &a,
                               const std::string &b0, const std::string &b1,
                               const std::vector<std::string> &c) {
    std::string d = op("mma", cat("nvvm.mma.sync A[", a[0], ", ", a[1], ", ", a[2], ", ", a[3],
                                  "] B[", b0, ", ", b1, "] C[", c[0], ", ", c[1], ", ", c[2], ", ", c[3],
                                  "] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, "
                                  "shape = #nvvm.shape<m = 16, n = 8, k = 16>, "
                                  "multiplicandAPtxType = #nvvm.mma_type<", t,
                                  ">, multiplicandBPtxType = #nvvm.mma_type<", t,
                                  ">} : (", frag, ", ", frag,
                                  ", f32) -> !llvm.struct<(f32, f32, f32, f32)>"));
    std::vector<std::string> r;
    for (int e = 0; e < 4; ++e)
      r.push_back(op("acc", cat("llvm.extractvalue ", d, "[", e,
                                "] : !llvm.struct<(f32, f32, f32, f32)>")));
    return r;
  }
};

/// `n` copies of `s`, joined by ", ".
std::string repeatList(const std::string &s, size_t n) {
  std::string r;
  for (size_t i = 0; i < n; ++i)
    r += (i ? ", " : "") + s;
  return r;
}

std::string join(const std::vector<std::string> &v) {
  std::string r;
  for (size_t i = 0; i < v.size(); ++i)
    r += (i ? ", " : "") + v[i];
  return r;
}

/// The kernel body generator.
class Generator {
public:
  explicit Generator(const AttentionKernelConfig &c) : c(c), e(c.elementType) {}

  std::string run();

private:
  const AttentionKernelConfig &c;
  Emitter e;

  // Values of the prologue.
  std::string tid, lane, warp, b, h, kvh, sq, skv, q0;
  std::string live; // i1: the CTA's (b, h) exists
  std::string copyRow, copyCol; // a thread's first row and its column (cp.async)
  std::string kRow, kCol;       // a lane's ldmatrix address in a K tile
  std::string vRow, vCol;       // a lane's ldmatrix.trans address in a V tile
  std::string keyLane;          // 2 * (lane % 4), i32: a thread's first key column
  std::string qs, qRow;         // the Q tile and a lane's ldmatrix row in it
  std::string tablesAligned;    // K's RoPE tables are 16-byte aligned (staged)
  /// A fragments of Q per m-tile and k16 step (when kept in registers).
  std::vector<std::vector<std::vector<std::string>>> qFrag;
  /// The query rows a thread owns: row 2 * mt + r is g + 8 r of m-tile mt.
  std::vector<std::string> rows;
  std::vector<std::string> alignedRows; // i' = i + Skv - Sq of those rows
  std::string sl2;              // scale * log2(e), or scale / c with softcap
  std::string capL2;            // c * log2(e) with softcap
  std::string windowEff;        // min(W, Skv)
  std::string ipMin, ipMax;     // i' of the CTA's first and last rows
  std::string ne;               // key tiles [.., ne) may be visible
  std::string qBlock, lb, lh;   // sparse: the layout row of the CTA

  std::string smemType(int64_t rowsPerStage, bool staged) const {
    return cat("memref<", staged ? "2x" : "", rowsPerStage, "x", c.rowPitch(),
               "x", c.elementType, ", #gpu.address_space<workgroup>>");
  }
  std::string globalType() const {
    return cat("memref<?x?x?x?x", c.elementType,
               c.strided ? ", strided<[?, ?, ?, 1], offset: ?>>" : ">");
  }

  /// RoPE in shared memory: rotates the `rows` rows of `tile` (at `stage`
  /// when staged) with the tables `cos` and `sin` [S, D/2], row r at
  /// sequence position base + r. Rows at or past `limit` hold zeros (the
  /// copies zero-fill them) and stay zero: their table row is clamped to
  /// limit - 1. Every thread takes pairs tid, tid + threads, ...: unrolled,
  /// every load of a thread issued before its first use, so that the table
  /// reads (L2 latency) overlap; the caller puts barriers around it.
  /// With `staged`, cosT and sinT are the tables' rows of this tile in
  /// shared memory ([2, rows, D/2] at `stage`, row r for position base + r).
  void rotateTile(const std::string &tile, const std::string &tileType,
                  const std::string &stage, int64_t rows,
                  const std::string &base, const std::string &limit,
                  const std::string &cosT, const std::string &sinT,
                  bool staged = false) {
    int64_t pairs = rows * (c.headDim / 2), threads = c.threads();
    std::string lastPos = e.sub(limit, e.idx(1));
    // Batches of 8 pairs a thread: their loads in flight together, without
    // the registers of a whole D = 128 tile.
    int64_t steps = (pairs + threads - 1) / threads;
    for (int64_t k0 = 0; k0 < steps; k0 += 8)
      rotatePairs(tile, tileType, stage, base, lastPos, cosT, sinT, pairs, k0,
                  std::min<int64_t>(k0 + 8, steps), staged ? rows : 0);
  }

  /// Steps [k0, k1) of rotateTile: pair tid + k * threads (of `pairs`) for
  /// each k.
  void rotatePairs(const std::string &tile, const std::string &tileType,
                   const std::string &stage, const std::string &base,
                   const std::string &lastPos, const std::string &cosT,
                   const std::string &sinT, int64_t pairs, int64_t k0,
                   int64_t k1, int64_t stagedRows) {
    int64_t halfD = c.headDim / 2;
    int64_t threads = c.threads();
    std::string table = cat("memref<?x?x", c.ropeType, ">");
    struct Pair {
      std::string at, c0, c1, x1, x2, co, si, in;
    };
    std::vector<Pair> work;
    for (int64_t k = k0; k < k1; ++k) {
      Pair w;
      std::string i = e.add(tid, e.idx(k * threads));
      if ((k + 1) * threads > pairs)
        w.in = e.cmp("ult", i, e.idx(pairs));
      // Out-of-range pairs of a partial last step read pair 0.
      if (!w.in.empty())
        i = e.op("i", cat("arith.select ", w.in, ", ", i, ", ", e.idx(0), " : index"));
      std::string r = e.divu(i, e.idx(halfD)), p = e.remu(i, e.idx(halfD));
      std::string pos = e.mins(e.add(base, r), lastPos);
      w.c0 = c.ropeInterleaved ? e.mul(p, e.idx(2)) : p;
      w.c1 = c.ropeInterleaved ? e.add(w.c0, e.idx(1)) : e.add(p, e.idx(halfD));
      w.at = stage.empty() ? r : cat(stage, ", ", r);
      auto load = [&](const std::string &col) {
        return e.op("x", cat("memref.load ", tile, "[", w.at, ", ", col, "] : ",
                             tileType));
      };
      auto loadTable = [&](const std::string &t) {
        if (stagedRows)
          return e.op("x", cat("memref.load ", t, "[", r, ", ", p, "] : ",
                               tableTileType(stagedRows)));
        return e.op("x", cat("memref.load ", t, "[", pos, ", ", p, "] : ", table));
      };
      w.co = loadTable(cosT);
      w.si = loadTable(sinT);
      w.x1 = load(w.c0);
      w.x2 = load(w.c1);
      work.push_back(w);
    }
    auto f32 = [&](const std::string &v, const std::string &type) {
      return type == "f32" ? v
                           : e.op("f", cat("arith.extf ", v, " : ", type, " to f32"));
    };
    for (Pair &w : work) {
      std::string x1 = f32(w.x1, c.elementType), x2 = f32(w.x2, c.elementType);
      std::string co = f32(w.co, c.ropeType), si = f32(w.si, c.ropeType);
      std::string y1 = e.fsub(e.fmul(x1, co), e.fmul(x2, si));
      std::string y2 = e.fadd(e.fmul(x2, co), e.fmul(x1, si));
      if (!w.in.empty()) {
        e.line(cat("scf.if ", w.in, " {"));
        e.open();
      }
      for (auto [y, col] : {std::pair{y1, w.c0}, std::pair{y2, w.c1}}) {
        std::string t = e.op("x", cat("arith.truncf ", y, " : f32 to ", c.elementType));
        e.line(cat("memref.store ", t, ", ", tile, "[", w.at, ", ", col, "] : ", tileType));
      }
      if (!w.in.empty()) {
        e.close();
        e.line("}");
      }
    }
  }

  /// A K tile's rows of a RoPE table in shared memory (one stage: the next
  /// tile's rows are copied once this tile's rotation is done).
  std::string tableTileType(int64_t rows) const {
    return cat("memref<", rows, "x", c.headDim / 2, "x", c.ropeType,
               ", #gpu.address_space<workgroup>>");
  }

  /// cp.async of the rows rowBase .. rowBase + blockN of K's cos and sin
  /// tables into their shared tiles (16-byte chunks; rows past `limit`,
  /// every row when `valid` is false and everything when the tables are not
  /// 16-byte aligned are zero-filled without reading).
  std::vector<std::string> copyTables(const std::string &rowBase,
                                      const std::string &limit,
                                      const std::string &valid) {
    int64_t perChunk = 16 / c.tableBytes();
    int64_t chunksPerRow = (c.headDim / 2) / perChunk;
    int64_t chunks = c.blockN * chunksPerRow;
    std::string table = cat("memref<?x?x", c.ropeType, ">");
    std::string lastRow = e.maxs(e.sub(limit, e.idx(1)), e.idx(0));
    std::vector<std::string> tokens;
    for (int64_t i = 0; i * c.threads() < chunks; ++i) {
      std::string chunk = e.add(tid, e.idx(i * c.threads()));
      std::string r = e.divu(chunk, e.idx(chunksPerRow));
      std::string col = e.mul(e.remu(chunk, e.idx(chunksPerRow)), e.idx(perChunk));
      std::string row = e.add(rowBase, r);
      std::string in = e.andi(e.andi(e.cmp("slt", row, limit), valid), tablesAligned);
      std::string count = e.select(in, e.idx(perChunk), e.idx(0), "index");
      std::string src = e.maxs(e.mins(row, lastRow), e.idx(0));
      for (auto [from, to] : {std::pair{"%cos_k", "%kcos"}, std::pair{"%sin_k", "%ksin"}})
        tokens.push_back(e.op(
            "tok", cat("nvgpu.device_async_copy ", from, "[", src, ", ", col, "], ",
                       to, "[", r, ", ", col, "], ", perChunk, ", ",
                       count, " {bypassL1} : ", table, " to ",
                       tableTileType(c.blockN))));
    }
    return tokens;
  }

  /// cp.async of `tileRows` rows of `src` [b, head, rowBase + r, :] into
  /// `dst` (at `stage` when staged), zero-filling rows >= `limit` and every
  /// row when `valid` is false. Returns the tokens.
  std::vector<std::string> copyTile(const std::string &src,
                                    const std::string &head,
                                    const std::string &rowBase,
                                    const std::string &limit,
                                    int64_t tileRows, const std::string &dst,
                                    const std::string &dstType,
                                    const std::string &stage,
                                    const std::string &valid,
                                    bool full = false);
  /// The A fragments of Q for m-tile `mt` and head-dim step `kk` (one
  /// ldmatrix.x4 from the Q tile).
  std::vector<std::string> loadQ(int64_t mt, int64_t kk);
  /// One ldmatrix.x4 (`name`, transposed or not) of %ks or %vs at [stage,
  /// row, col] feeding, for every m-tile mt, two mma.sync: acc[mt][j] +=
  /// a[mt] * (registers 0, 1) and acc[mt][j + 1] += a[mt] * (registers 2, 3).
  void ldmatrixMma(const char *name, const std::string &stage,
                   const std::string &row, const std::string &col,
                   bool transpose,
                   const std::vector<std::vector<std::string>> &a,
                   std::vector<std::vector<std::vector<std::string>>> &acc,
                   int64_t j);
  /// The first key tile at or after `from` whose layout bit is set (or `ne`).
  std::string nextVisible(const std::string &from);
  /// The body of one key/value tile; returns the new carried values.
  std::vector<std::string> tileBody(const std::string &n,
                                    const std::string &stage,
                                    const std::vector<std::string> &carried);
};

std::vector<std::string> Generator::copyTile(
    const std::string &src, const std::string &head, const std::string &rowBase,
    const std::string &limit, int64_t tileRows, const std::string &dst,
    const std::string &dstType, const std::string &stage,
    const std::string &valid, bool full) {
  int64_t chunksPerRow = c.headDim / 8;
  int64_t rowsPerPass = c.threads() / chunksPerRow;
  assert(tileRows % rowsPerPass == 0 && "tile not covered by whole passes");
  std::vector<std::string> tokens;
  if (full) {
    // Every row is in bounds: plain 16-byte copies.
    std::string base = e.add(rowBase, copyRow);
    for (int64_t pass = 0; pass < tileRows / rowsPerPass; ++pass) {
      std::string local = e.add(copyRow, e.idx(pass * rowsPerPass));
      std::string row = e.add(base, e.idx(pass * rowsPerPass));
      std::string dstIdx = stage.empty() ? cat(local, ", ", copyCol)
                                         : cat(stage, ", ", local, ", ", copyCol);
      tokens.push_back(e.op(
          "tok", cat("nvgpu.device_async_copy ", src, "[", b, ", ", head, ", ",
                     row, ", ", copyCol, "], ", dst, "[", dstIdx,
                     "], 8 {bypassL1} : ", globalType(), " to ", dstType)));
    }
    return tokens;
  }
  std::string lastRow = e.maxs(e.sub(limit, e.idx(1)), e.idx(0));
  for (int64_t pass = 0; pass < tileRows / rowsPerPass; ++pass) {
    std::string local = e.add(copyRow, e.idx(pass * rowsPerPass));
    std::string row = e.add(rowBase, local);
    std::string in = e.cmp("slt", row, limit);
    if (!valid.empty())
      in = e.andi(in, valid);
    std::string count = e.select(in, e.idx(8), e.idx(0), "index");
    std::string srcRow = e.maxs(e.mins(row, lastRow), e.idx(0));
    std::string dstIdx = stage.empty() ? cat(local, ", ", copyCol)
                                       : cat(stage, ", ", local, ", ", copyCol);
    tokens.push_back(e.op(
        "tok", cat("nvgpu.device_async_copy ", src, "[", b, ", ", head, ", ",
                   srcRow, ", ", copyCol, "], ", dst, "[", dstIdx, "], 8, ",
                   count, " {bypassL1} : ", globalType(), " to ", dstType)));
  }
  return tokens;
}

void Generator::ldmatrixMma(
    const char *name, const std::string &stage, const std::string &row,
    const std::string &col, bool transpose,
    const std::vector<std::vector<std::string>> &a,
    std::vector<std::vector<std::vector<std::string>>> &acc, int64_t j) {
  std::string ld = e.op(name, cat("nvgpu.ldmatrix ", transpose ? "%vs[" : "%ks[",
                                  stage, ", ", row, ", ", col,
                                  "] {numTiles = 4 : i32, transpose = ",
                                  transpose ? "true" : "false", "} : ",
                                  smemType(c.blockN, true), " -> vector<4x2x",
                                  c.elementType, ">"));
  std::vector<std::string> f;
  for (int r = 0; r < 4; ++r)
    f.push_back(e.fragment(ld, r));
  for (size_t mt = 0; mt < a.size(); ++mt) {
    acc[mt][j] = e.mma(a[mt], f[0], f[1], acc[mt][j]);
    acc[mt][j + 1] = e.mma(a[mt], f[2], f[3], acc[mt][j + 1]);
  }
}

std::vector<std::string> Generator::loadQ(int64_t mt, int64_t kk) {
  std::string half = e.mul(e.divu(lane, e.idx(16)), e.idx(8));
  std::string ld = e.op("ldq", cat("nvgpu.ldmatrix ", qs, "[",
                                   e.add(qRow, e.idx(mt * 16)), ", ",
                                   e.add(half, e.idx(kk * 16)),
                                   "] {numTiles = 4 : i32, transpose = false} : ",
                                   smemType(c.blockM(), false), " -> vector<4x2x",
                                   c.elementType, ">"));
  std::vector<std::string> f;
  for (int r = 0; r < 4; ++r)
    f.push_back(e.fragment(ld, r));
  return f;
}

std::string Generator::nextVisible(const std::string &from) {
  std::string m = e.fresh("scan");
  std::string r = e.fresh("vis");
  e.line(cat(r, " = scf.while (", m, " = ", from, ") : (index) -> index {"));
  e.open();
  std::string lt = e.cmp("slt", m, ne);
  std::string bit = e.fresh("bit");
  e.line(cat(bit, " = scf.if ", lt, " -> (i1) {"));
  e.open();
  std::string kBlock = e.divu(e.mul(m, e.idx(c.blockN)), "%block_k");
  std::string v = e.op("ld", cat("memref.load %layout[", lb, ", ", lh, ", ",
                                 qBlock, ", ", kBlock,
                                 "] : memref<?x?x?x?xi1>"));
  e.line(cat("scf.yield ", v, " : i1"));
  e.close();
  e.line("} else {");
  e.open();
  std::string f = e.op("false", "arith.constant false");
  e.line(cat("scf.yield ", f, " : i1"));
  e.close();
  e.line("}");
  std::string unset = e.cmp("eq", bit, e.op("false", "arith.constant false"), "i1");
  std::string more = e.andi(lt, unset);
  e.line(cat("scf.condition(", more, ") ", m, " : index"));
  e.close();
  e.line("} do {");
  std::string arg = e.fresh("scanarg");
  e.line(cat("^bb0(", arg, ": index):"));
  e.open();
  e.line(cat("scf.yield ", e.add(arg, e.idx(1)), " : index"));
  e.close();
  e.line("}");
  return r;
}

std::vector<std::string>
Generator::tileBody(const std::string &n, const std::string &stage,
                    const std::vector<std::string> &carried) {
  const int64_t dTiles = c.headDim / 8, nTiles = c.blockN / 8;
  const int64_t dSteps = c.headDim / 16, nSteps = c.blockN / 16;
  const int64_t mT = c.warpTiles;

  // Prefetch the next visible tile into the other stage (zero-filled, without
  // reading memory, when there is none), then wait for this one.
  std::string next = c.sparse ? nextVisible(e.add(n, e.idx(1))) : e.add(n, e.idx(1));
  std::string hasNext = e.cmp("slt", next, ne);
  std::string other = e.sub(e.idx(1), stage);
  // A next tile wholly inside the keys (all but the last) takes plain copies
  // without the clamping and zero-fill of the general case.
  std::string nextRow = e.mul(next, e.idx(c.blockN));
  std::string full = e.andi(
      hasNext, e.cmp("sle", e.add(nextRow, e.idx(c.blockN)), skv));
  std::string group = e.fresh("grp");
  e.line(cat(group, " = scf.if ", full, " -> (!nvgpu.device.async.token) {"));
  for (bool isFull : {true, false}) {
    e.open();
    std::vector<std::string> tokens =
        copyTile("%k", kvh, nextRow, skv, c.blockN, "%ks", smemType(c.blockN, true),
                 other, hasNext, isFull);
    std::vector<std::string> vTokens =
        copyTile("%v", kvh, nextRow, skv, c.blockN, "%vs", smemType(c.blockN, true),
                 other, hasNext, isFull);
    tokens.insert(tokens.end(), vTokens.begin(), vTokens.end());
    std::string g = e.op("grp", "nvgpu.device_async_create_group " + join(tokens));
    e.line(cat("scf.yield ", g, " : !nvgpu.device.async.token"));
    e.close();
    e.line(isFull ? "} else {" : "}");
  }
  e.line(cat("nvgpu.device_async_wait ", group, " {numGroups = 1 : i32}"));
  e.line("gpu.barrier");
  if (c.stagedKTables()) {
    // The table rows came with the tile; tables that are not 16-byte
    // aligned are read from global memory instead.
    e.line(cat("scf.if ", tablesAligned, " {"));
    e.open();
    rotateTile("%ks", smemType(c.blockN, true), stage, c.blockN,
               e.mul(n, e.idx(c.blockN)), skv, "%kcos", "%ksin", true);
    e.close();
    e.line("} else {");
    e.open();
    rotateTile("%ks", smemType(c.blockN, true), stage, c.blockN,
               e.mul(n, e.idx(c.blockN)), skv, "%cos_k", "%sin_k");
    e.close();
    e.line("}");
    e.line("gpu.barrier");
    // The next tile's table rows, into the tiles just read: a group of its
    // own after the next K/V tile's, complete when the next iteration waits
    // for that one.
    std::vector<std::string> tTokens = copyTables(nextRow, skv, hasNext);
    e.op("grp", "nvgpu.device_async_create_group " + join(tTokens));
  } else if (c.ropeK) {
    rotateTile("%ks", smemType(c.blockN, true), stage, c.blockN,
               e.mul(n, e.idx(c.blockN)), skv, "%cos_k", "%sin_k");
    e.line("gpu.barrier");
  }

  // S = Q K^T: per 16-wide head-dim step, the warp's Q fragments (from
  // registers, or one ldmatrix.x4 per m-tile) and, per pair of 8-key n-tiles,
  // one ldmatrix.x4 of K (b0, b1 of both n-tiles) feeding 2 * mT mma.sync.
  // s[mt][nt] holds the accumulator of m-tile mt and n-tile nt.
  std::vector<std::vector<std::vector<std::string>>> s(
      mT, std::vector<std::vector<std::string>>(nTiles));
  std::string z = e.zeroF();
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      s[mt][nt] = {z, z, z, z};
  for (int64_t kk = 0; kk < dSteps; ++kk) {
    std::vector<std::vector<std::string>> qa(mT);
    for (int64_t mt = 0; mt < mT; ++mt)
      qa[mt] = c.qInRegisters() ? qFrag[mt][kk] : loadQ(mt, kk);
    for (int64_t nt = 0; nt < nTiles; nt += 2) {
      std::string row = e.add(kRow, e.idx(nt * 8));
      std::string col = e.add(kCol, e.idx(kk * 16));
      ldmatrixMma("ldk", stage, row, col, /*transpose=*/false, qa, s, nt);
    }
  }

  // x = scaled (soft-capped) scores in log2 units; x[mt][nt][el]. With a
  // positive scale, x are the raw scores (the scale is applied in the exp2).
  const bool folded = c.positiveScale && !c.softcap;
  std::vector<std::vector<std::vector<std::string>>> x(
      mT, std::vector<std::vector<std::string>>(nTiles));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el) {
        std::string v = folded ? s[mt][nt][el] : e.fmul(s[mt][nt][el], sl2);
        if (c.softcap)
          v = e.fmul(e.op("f", cat("math.tanh ", v, " : f32")), capL2);
        x[mt][nt].push_back(v);
      }

  // Masks, element-wise only on tiles that cross a boundary: the end of the
  // keys, the causal diagonal, the window's far edge.
  std::string tileStart = e.mul(n, e.idx(c.blockN));
  std::string tileEnd = e.add(tileStart, e.idx(c.blockN));
  std::string needMask = e.cmp("sgt", tileEnd, skv);
  if (c.causal)
    needMask = e.ori(needMask, e.cmp("sgt", e.sub(tileEnd, e.idx(1)), ipMin));
  if (c.window)
    needMask = e.ori(needMask, e.cmp("sle", e.add(tileStart, windowEff), ipMax));
  const int64_t perTile = nTiles * 4, numX = mT * perTile;
  std::string masked = e.fresh("masked");
  e.line(cat(masked, ":", numX, " = scf.if ", needMask, " -> (",
             repeatList("f32", numX), ") {"));
  e.open();
  {
    // Key j (tile-relative jl) is visible to row ri iff loRel < jl <= hiRel.
    std::vector<std::string> hiRel(2 * mT), loRel(2 * mT);
    std::string lastKey = e.sub(skv, e.idx(1));
    for (int64_t ri = 0; ri < 2 * mT; ++ri) {
      std::string hi = c.causal ? e.mins(alignedRows[ri], lastKey) : lastKey;
      hiRel[ri] = e.toI32(e.maxs(e.mins(e.sub(hi, tileStart), e.idx(c.blockN)), e.idx(-1)));
      if (c.window) {
        std::string lo = e.sub(alignedRows[ri], windowEff);
        loRel[ri] = e.toI32(e.maxs(e.mins(e.sub(lo, tileStart), e.idx(c.blockN)), e.idx(-1)));
      } else {
        loRel[ri] = e.i32(-1);
      }
    }
    std::vector<std::string> ys;
    for (int64_t mt = 0; mt < mT; ++mt)
      for (int64_t nt = 0; nt < nTiles; ++nt)
        for (int el = 0; el < 4; ++el) {
          int64_t ri = mt * 2 + el / 2;
          std::string jl = e.bin("addi", keyLane, e.i32(nt * 8 + el % 2), "i32");
          std::string ok = e.andi(e.cmp("sle", jl, hiRel[ri], "i32"),
                                  e.cmp("sgt", jl, loRel[ri], "i32"));
          ys.push_back(e.select(ok, x[mt][nt][el], e.negInf(), "f32"));
        }
    e.line(cat("scf.yield ", join(ys), " : ", repeatList("f32", ys.size())));
  }
  e.close();
  e.line("} else {");
  e.open();
  {
    std::vector<std::string> ys;
    for (auto &m : x)
      for (auto &t : m)
        ys.insert(ys.end(), t.begin(), t.end());
    e.line(cat("scf.yield ", join(ys), " : ", repeatList("f32", ys.size())));
  }
  e.close();
  e.line("}");
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el)
        x[mt][nt][el] = cat(masked, "#", mt * perTile + nt * 4 + el);

  // Online softmax. carried = [m (2 mT rows), l (2 mT rows), O...], row
  // ri = 2 * mt + r; O of (mt, dt, el) at 4 * (mt * dTiles + dt) + el.
  const int64_t nRows = 2 * mT;
  std::vector<std::string> out(carried.size());
  std::vector<std::string> alpha(nRows), mSafe(nRows);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    int64_t mt = ri / 2, r = ri % 2;
    std::string mx = x[mt][0][2 * r];
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t el = 2 * r; el < 2 * r + 2; ++el)
        if (nt || el != 2 * r)
          mx = e.fmax(mx, x[mt][nt][el]);
    mx = e.fmax(mx, e.shuffleXor(mx, 1));
    mx = e.fmax(mx, e.shuffleXor(mx, 2));
    std::string mNew = e.fmax(carried[ri], mx);
    std::string empty = e.op("p", cat("arith.cmpf oeq, ", mNew, ", ", e.negInf(), " : f32"));
    mSafe[ri] = e.select(empty, e.zeroF(), mNew, "f32");
    std::string delta = e.fsub(carried[ri], mSafe[ri]);
    alpha[ri] = e.exp2(folded ? e.fmul(delta, sl2) : delta);
    if (folded) // -m * scale * log2(e), the addend of the fma below
      mSafe[ri] = e.op("f", cat("arith.negf ", e.fmul(mSafe[ri], sl2), " : f32"));
    out[ri] = mNew;
  }
  std::vector<std::vector<std::vector<std::string>>> p(
      mT, std::vector<std::vector<std::string>>(nTiles));
  std::vector<std::string> rowSum(nRows);
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int el = 0; el < 4; ++el) {
        int64_t ri = mt * 2 + el / 2;
        std::string arg =
            folded ? e.op("f", cat("llvm.intr.fma(", x[mt][nt][el], ", ", sl2, ", ",
                                   mSafe[ri], ") : (f32, f32, f32) -> f32"))
                   : e.fsub(x[mt][nt][el], mSafe[ri]);
        p[mt][nt].push_back(e.exp2(arg));
        rowSum[ri] = rowSum[ri].empty() ? p[mt][nt][el] : e.fadd(rowSum[ri], p[mt][nt][el]);
      }
  for (int64_t ri = 0; ri < nRows; ++ri)
    out[nRows + ri] = e.fadd(e.fmul(carried[nRows + ri], alpha[ri]), rowSum[ri]);

  // O = O * alpha + P V: per 16-key step and pair of 8-wide head-dim tiles,
  // one ldmatrix.x4.trans of V feeding 2 * mT mma.sync.
  const int64_t oBase = 2 * nRows;
  std::vector<std::vector<std::vector<std::string>>> o(
      mT, std::vector<std::vector<std::string>>(dTiles));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t dt = 0; dt < dTiles; ++dt)
      for (int el = 0; el < 4; ++el)
        o[mt][dt].push_back(e.fmul(carried[oBase + (mt * dTiles + dt) * 4 + el],
                                   alpha[mt * 2 + el / 2]));
  // pa[kk][mt]: the A operand of k16 step kk and m-tile mt.
  std::vector<std::vector<std::vector<std::string>>> pa(
      nSteps, std::vector<std::vector<std::string>>(mT));
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t kk = 0; kk < nSteps; ++kk) {
      auto &q = p[mt];
      pa[kk][mt] = {e.pack(q[2 * kk][0], q[2 * kk][1]), e.pack(q[2 * kk][2], q[2 * kk][3]),
                    e.pack(q[2 * kk + 1][0], q[2 * kk + 1][1]),
                    e.pack(q[2 * kk + 1][2], q[2 * kk + 1][3])};
    }
  for (int64_t kk = 0; kk < nSteps; ++kk) {
    for (int64_t dt = 0; dt < dTiles; dt += 2) {
      std::string row = e.add(vRow, e.idx(kk * 16));
      std::string col = e.add(vCol, e.idx(dt * 8));
      ldmatrixMma("ldv", stage, row, col, /*transpose=*/true, pa[kk], o, dt);
    }
  }
  for (int64_t mt = 0; mt < mT; ++mt)
    for (int64_t dt = 0; dt < dTiles; ++dt)
      for (int el = 0; el < 4; ++el)
        out[oBase + (mt * dTiles + dt) * 4 + el] = o[mt][dt][el];
  // Every warp is done with this stage before the next prefetch overwrites it.
  e.line("gpu.barrier");
  out.insert(out.begin(), {next, other});
  return out;
}

std::string Generator::run() {
  const int64_t dTiles = c.headDim / 8, dSteps = c.headDim / 16;
  const int64_t bm = c.blockM(), bn = c.blockN;
  assert(c.headDim % 16 == 0 && bn % 16 == 0 && (bn / 8) % 2 == 0);
  assert(c.threads() % (c.headDim / 8) == 0);

  tid = e.op("tid", "gpu.thread_id x");
  std::string bh = e.op("bh", "gpu.block_id x");
  std::string by = e.op("by", "gpu.block_id y");
  std::string nby = e.op("nby", "gpu.grid_dim y");
  lane = e.remu(tid, e.idx(32));
  warp = e.divu(tid, e.idx(32));
  std::string g = e.divu(lane, e.idx(4)), t4 = e.remu(lane, e.idx(4));
  std::string lane8 = e.remu(lane, e.idx(8));
  std::string half = e.mul(e.divu(lane, e.idx(16)), e.idx(8));    // (lane/16)*8
  std::string quarter = e.mul(e.remu(e.divu(lane, e.idx(8)), e.idx(2)), e.idx(8)); // ((lane/8)%2)*8
  copyRow = e.divu(tid, e.idx(c.headDim / 8));
  copyCol = e.mul(e.remu(tid, e.idx(c.headDim / 8)), e.idx(8));
  kRow = e.add(half, lane8);
  kCol = quarter;
  vRow = e.add(lane8, quarter);
  vCol = half;
  std::string colT = e.mul(t4, e.idx(2));
  keyLane = e.toI32(colT);

  // Sizes, the kv head (GQA) and the CTA's query rows; the heaviest (last)
  // query tiles of a causal mask are scheduled first.
  sq = e.op("sq", cat("memref.dim %q, ", e.idx(2), " : ", globalType()));
  std::string hq = e.op("hq", cat("memref.dim %q, ", e.idx(1), " : ", globalType()));
  skv = e.op("skv", cat("memref.dim %k, ", e.idx(2), " : ", globalType()));
  std::string hkv = e.op("hkv", cat("memref.dim %k, ", e.idx(1), " : ", globalType()));
  std::string batch = e.op("bsz", cat("memref.dim %q, ", e.idx(0), " : ", globalType()));
  // Block x runs over (b, h) pairs, block y over query tiles, the last (the
  // heaviest under a causal mask) first. The grid is never empty: with B or
  // Hq = 0 the only CTA is not `live` and neither reads nor writes memory.
  std::string hq1 = e.maxs(hq, e.idx(1));
  h = e.remu(bh, hq1);
  b = e.divu(bh, hq1);
  live = e.andi(e.cmp("slt", h, hq), e.cmp("slt", b, batch));
  std::string group = e.maxs(e.divu(hq, e.maxs(hkv, e.idx(1))), e.idx(1));
  kvh = e.divu(h, group);
  q0 = e.mul(e.sub(e.sub(nby, e.idx(1)), by), e.idx(bm));
  std::string offset = e.sub(skv, sq);
  const int64_t mT = c.warpTiles, nRows = 2 * mT;
  std::string warpRow = e.add(e.add(q0, e.mul(warp, e.idx(16 * mT))), g);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    rows.push_back(e.add(warpRow, e.idx(16 * (ri / 2) + 8 * (ri % 2))));
    alignedRows.push_back(e.add(rows[ri], offset));
  }
  ipMin = e.add(q0, offset);
  ipMax = e.add(ipMin, e.idx(bm - 1));

  std::string log2e = e.f32("log2e", "1.44269504088896340736");
  if (c.softcap) {
    sl2 = e.fbin("divf", "%scale", "%softcap");
    capL2 = e.fmul("%softcap", log2e);
  } else {
    sl2 = e.fmul("%scale", log2e);
  }
  if (c.window)
    windowEff = e.mins("%window", skv);

  // Key tiles [nb, ne) hold every key visible to some row of the CTA.
  std::string keyEnd = skv;
  if (c.causal) {
    std::string lastRow = e.sub(e.mins(e.add(q0, e.idx(bm)), sq), e.idx(1));
    keyEnd = e.maxs(e.mins(skv, e.add(e.add(lastRow, offset), e.idx(1))), e.idx(0));
  }
  ne = e.select(live, e.divu(e.add(keyEnd, e.idx(bn - 1)), e.idx(bn)), e.idx(0),
                "index");
  std::string nb = e.idx(0);
  if (c.window)
    nb = e.divu(e.maxs(e.add(e.sub(ipMin, windowEff), e.idx(1)), e.idx(0)), e.idx(bn));
  std::string first = nb;
  if (c.sparse) {
    std::string lbDim = e.op("lb", cat("memref.dim %layout, ", e.idx(0), " : memref<?x?x?x?xi1>"));
    std::string lhDim = e.op("lh", cat("memref.dim %layout, ", e.idx(1), " : memref<?x?x?x?xi1>"));
    lb = e.select(e.cmp("eq", lbDim, e.idx(1)), e.idx(0), b, "index");
    lh = e.select(e.cmp("eq", lhDim, e.idx(1)), e.idx(0), h, "index");
    qBlock = e.divu(q0, "%block_q");
    first = nextVisible(nb);
  }

  // Shared memory: Q [bm, pitch], K and V [2, bn, pitch].
  std::string smem = e.op("smem", "gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>");
  int64_t qBytes = 2 * bm * c.rowPitch(), kvBytes = 2 * 2 * bn * c.rowPitch();
  auto view = [&](const char *name, int64_t at, const std::string &type) {
    e.line(cat("%", name, " = memref.view ", smem, "[", e.idx(at),
               "][] : memref<?xi8, #gpu.address_space<workgroup>> to ", type));
    return cat("%", name);
  };
  qs = view("qs", 0, smemType(bm, false));
  view("ks", qBytes, smemType(bn, true));
  view("vs", qBytes + kvBytes, smemType(bn, true));
  if (c.stagedKTables()) {
    int64_t tableTile = bn * (c.headDim / 2) * c.tableBytes();
    view("kcos", qBytes + 2 * kvBytes, tableTileType(bn));
    view("ksin", qBytes + 2 * kvBytes + tableTile, tableTileType(bn));
    // Rows of D/2 table elements are whole 16-byte chunks; the bases must be
    // 16-byte aligned too.
    std::string table = cat("memref<?x?x", c.ropeType, ">");
    auto aligned = [&](const char *t) {
      std::string p = e.op("p", cat("memref.extract_aligned_pointer_as_index ",
                                    t, " : ", table, " -> index"));
      return e.cmp("eq", e.remu(p, e.idx(16)), e.idx(0));
    };
    tablesAligned = e.andi(aligned("%cos_k"), aligned("%sin_k"));
  }

  // Q and the first key/value tile.
  std::vector<std::string> tokens =
      copyTile("%q", h, q0, sq, bm, qs, smemType(bm, false), "", live);
  std::string hasFirst = e.cmp("slt", first, ne);
  std::string firstRow = e.mul(first, e.idx(bn));
  for (const char *kv : {"k", "v"}) {
    std::vector<std::string> more =
        copyTile(cat("%", kv), kvh, firstRow, skv, bn, cat("%", kv, "s"),
                 smemType(bn, true), e.idx(0), hasFirst);
    tokens.insert(tokens.end(), more.begin(), more.end());
  }
  if (c.stagedKTables()) {
    std::vector<std::string> more = copyTables(firstRow, skv, hasFirst);
    tokens.insert(tokens.end(), more.begin(), more.end());
  }
  std::string grp = e.op("grp", "nvgpu.device_async_create_group " + join(tokens));
  e.line(cat("nvgpu.device_async_wait ", grp, " {numGroups = 0 : i32}"));
  e.line("gpu.barrier");
  if (c.ropeQ) {
    rotateTile(qs, smemType(bm, false), "", bm, q0, sq, "%cos_q", "%sin_q");
    e.line("gpu.barrier");
  }
  qRow = e.add(e.mul(warp, e.idx(16 * mT)), e.remu(lane, e.idx(16)));
  if (c.qInRegisters()) {
    qFrag.resize(mT);
    for (int64_t mt = 0; mt < mT; ++mt)
      for (int64_t kk = 0; kk < dSteps; ++kk)
        qFrag[mt].push_back(loadQ(mt, kk));
  }

  // The loop over visible key/value tiles: carries the tile, its stage, the
  // running max and sum of both rows and the O accumulators.
  size_t numCarried = 2 + 2 * nRows + 4 * mT * dTiles;
  std::string types = "index, index, " + repeatList("f32", numCarried - 2);
  std::vector<std::string> init = {first, e.idx(0)};
  for (int64_t i = 0; i < nRows; ++i)
    init.push_back(e.negInf());
  for (int64_t i = 0; i < nRows + 4 * mT * dTiles; ++i)
    init.push_back(e.zeroF());
  std::vector<std::string> before;
  for (size_t i = 0; i < numCarried; ++i)
    before.push_back(e.fresh("w"));
  std::string loop = e.fresh("loop");
  std::string header;
  for (size_t i = 0; i < numCarried; ++i)
    header += cat(i ? ", " : "", before[i], " = ", init[i]);
  e.line(cat(loop, ":", numCarried, " = scf.while (", header, ") : (", types,
             ") -> (", types, ") {"));
  e.open();
  std::string more = e.cmp("slt", before[0], ne);
  e.line(cat("scf.condition(", more, ") ", join(before), " : ", types));
  e.close();
  e.line("} do {");
  std::vector<std::string> args;
  std::string argList;
  for (size_t i = 0; i < numCarried; ++i) {
    args.push_back(e.fresh("arg"));
    argList += cat(i ? ", " : "", args.back(), ": ", i < 2 ? "index" : "f32");
  }
  e.line(cat("^bb0(", argList, "):"));
  e.open();
  std::vector<std::string> carried(args.begin() + 2, args.end());
  std::vector<std::string> out = tileBody(args[0], args[1], carried);
  e.line(cat("scf.yield ", join(out), " : ", types));
  e.close();
  e.line("}");

  // O / l, rounded to T; 0 for a row without visible key.
  std::vector<std::string> inv(nRows);
  for (int64_t ri = 0; ri < nRows; ++ri) {
    std::string l = cat(loop, "#", 2 + nRows + ri);
    l = e.fadd(l, e.shuffleXor(l, 1));
    l = e.fadd(l, e.shuffleXor(l, 2));
    std::string empty = e.op("p", cat("arith.cmpf oeq, ", l, ", ", e.zeroF(), " : f32"));
    std::string one = e.f32("one", "1.0");
    inv[ri] = e.select(empty, e.zeroF(), e.fbin("divf", one, l), "f32");
  }
  for (int64_t ri = 0; ri < nRows; ++ri) {
    int64_t mt = ri / 2, r = ri % 2;
    std::string inside = e.andi(e.cmp("slt", rows[ri], sq), live);
    e.line(cat("scf.if ", inside, " {"));
    e.open();
    for (int64_t dt = 0; dt < dTiles; ++dt) {
      int64_t at = 2 + 2 * nRows + (mt * dTiles + dt) * 4 + 2 * r;
      std::string a = e.fmul(cat(loop, "#", at), inv[ri]);
      std::string bb = e.fmul(cat(loop, "#", at + 1), inv[ri]);
      std::string v = e.op("v", cat("vector.from_elements ", a, ", ", bb, " : vector<2xf32>"));
      std::string w = e.op("v", cat("arith.truncf ", v, " : vector<2xf32> to vector<2x",
                                    c.elementType, ">"));
      e.line(cat("vector.store ", w, ", %o[", b, ", ", h, ", ", rows[ri], ", ",
                 e.add(colT, e.idx(dt * 8)), "] {alignment = 4 : i64} : ", globalType(), ", vector<2x",
                 c.elementType, ">"));
    }
    e.close();
    e.line("}");
  }
  e.line("gpu.return");

  std::string args2 = cat("%q: ", globalType(), ", %k: ", globalType(), ", %v: ",
                          globalType(), ", %o: ", globalType());
  if (c.sparse)
    args2 += ", %layout: memref<?x?x?x?xi1>, %block_q: index, %block_k: index";
  args2 += ", %scale: f32";
  if (c.softcap)
    args2 += ", %softcap: f32";
  if (c.window)
    args2 += ", %window: index";
  std::string table = cat("memref<?x?x", c.ropeType, ">");
  if (c.ropeQ)
    args2 += cat(", %cos_q: ", table, ", %sin_q: ", table);
  if (c.ropeK)
    args2 += cat(", %cos_k: ", table, ", %sin_k: ", table);
  return cat("gpu.module @recipe {\n  gpu.func @", c.kernelName(), "(", args2,
             ") kernel attributes {known_block_size = array<i32: ", c.threads(),
             ", 1, 1>} {\n", e.text(), "  }\n}\n");
}

} // namespace

std::string attentionKernelText(const AttentionKernelConfig &config) {
  return Generator(config).run();
}

std::string AttentionKernelConfig::kernelName() const {
  return cat("loom_attention_", elementType, "_d", headDim, "_m", blockM(),
             "_n", blockN, "_w", warps, causal ? "_causal" : "", window ? "_window" : "",
             softcap ? "_softcap" : "", positiveScale && !softcap ? "_pscale" : "", sparse ? "_sparse" : "",
             strided ? "_strided" : "", ropeQ ? "_ropeq" : "", ropeK ? "_ropek" : "",
             (ropeQ || ropeK) ? cat(ropeInterleaved ? "_il_" : "_half_", ropeType) : "");
}

} // namespace gpu
} // namespace loom
