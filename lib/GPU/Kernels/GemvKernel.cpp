//===- GemvKernel.cpp - Loom's decode-sized (M <= 16) linear kernels ------===//
//
// Generates the gpu.func of one GemvRecipe (see GemvRecipe.h for the
// schedule). Fragment layout facts (PTX ISA, "Matrix fragments for
// mma.m16n8k16"), lane (g = lane / 4, q = lane % 4):
//
// - A (16 x 16, row): a0 = (row g, k 2q, 2q+1), a1 = (row g+8, k 2q, 2q+1),
//   a2 = (row g, k 2q+8, 2q+9), a3 = (row g+8, k 2q+8, 2q+9);
// - B (16 x 8, col): b0 = (k 2q, 2q+1; col g), b1 = (k 2q+8, 2q+9; col g);
// - C: c0, c1 = (row g, cols 2q, 2q+1), c2, c3 = (row g+8, cols 2q, 2q+1).
//
// The sum over k does not depend on which real k each of an mma's 16 k slots
// stands for, as long as A and B agree. Lane (g, q) of a K block holds the
// weights k = 32q + 0..31 (relative to the block) of column g, so mma j
// (0..7) gives its 4 k slots of lane q the real k = 32q + 8 * (j / 2) + s(t):
//
// - bf16/f16 and i8 weights, natural order: with h = j % 2, slots (2q, 2q+1)
//   = k 4h, 4h+1 and slots (2q+8, 2q+9) = k 4h+2, 4h+3 (of the 8 at
//   8 * (j / 2));
// - i4 weights: one 32-bit word holds k 0..7 in its nibbles; ((word >> 4s) &
//   0x000F000F) puts k s and k s+4 in the two 16-bit halves, so slots
//   (2q, 2q+1) = k 2h, 2h+4 and (2q+8, 2q+9) = k 2h+1, 2h+5. x is read in
//   the same order (a vector.shuffle of the 8 x values, i.e. byte permutes).
//
// Weights become exact bf16/f16 in registers: an i4 nibble n as the 16-bit
// pattern MAGIC | (n ^ 8) is (BASE + 8) + signed(n) (bf16: 0x4300 = 128,
// f16: 0x6400 = 1024), minus BASE + 8 in one packed subtraction; an i8 byte
// likewise for f16 (0x6400 | (b ^ 0x80) - 1152); i8 with bf16 x (bf16 has too
// few mantissa bits for that trick) through sitofp.

#include "loom/GPU/Kernels/GemvKernel.h"
#include "RecipeText.h"

#include <vector>

namespace loom {
namespace gpu {
namespace {

using recipe::str;
using recipe::toF32;

constexpr const char *kSmem = "#gpu.address_space<workgroup>";

/// The index emitter with i32 words: %ci<v> for the bit pattern v.
class Emitter : public recipe::IndexEmitter {
public:
  std::string i32(uint32_t v) {
    return constant("%ci" + str(v), str(int32_t(v)) + " : i32");
  }
  /// Bitwise ops on i32 words.
  std::string op32(const std::string &op, const std::string &a,
                   const std::string &b) {
    return let("arith." + op + " " + a + ", " + b + " : i32", "w");
  }
};

struct Generator {
  const GemvRecipe &r;
  Emitter e;
  bool i4, i8, grouped, f16;
  std::string X, W, S, Bias, Y, M, N, K, lastM, lastN, n0, g, q, lane, warp;
  /// The epilogue's tensor arguments, one entry per step ("" for the others).
  std::vector<std::string> E;
  std::vector<std::string> rowSafe, rowIn; // per row half
  std::vector<std::string> colSafe, colIn; // per tile

  explicit Generator(const GemvRecipe &recipe) : r(recipe) {
    i4 = r.wType == "i4";
    i8 = r.wType == "i8";
    grouped = r.qlinear && r.group > 0;
    f16 = r.xType == "f16";
  }

  std::string wMem() const { return i4 || i8 ? "i8" : r.wType; }
  std::string memX() const { return "memref<?x?x" + r.xType + ">"; }
  std::string memW() const { return "memref<?x?x" + wMem() + ">"; }
  std::string memS() const {
    return grouped ? "memref<?x?x" + r.scaleType + ">"
                   : "memref<?x" + r.scaleType + ">";
  }
  std::string redType() const {
    return "memref<" + str(r.warps) + "x" + str(r.tiles) + "x4x32xf32, " +
           kSmem + ">";
  }
  std::string pairType() const { return "vector<2x" + r.xType + ">"; }
  std::string opType() const { return f16 ? "vector<2xf16>" : "i32"; }

  /// An i32 holding a packed pair as the mma operand.
  std::string operand(const std::string &word) {
    if (!f16)
      return word;
    std::string v = e.let("vector.broadcast " + word + " : i32 to vector<1xi32>");
    return e.let("vector.bitcast " + v + " : vector<1xi32> to vector<2xf16>");
  }
  /// A packed pair as an i32.
  std::string wordOf(const std::string &pair) {
    std::string v =
        e.let("vector.bitcast " + pair + " : " + pairType() + " to vector<1xi32>");
    return e.let("vector.extract " + v + "[0] : i32 from vector<1xi32>", "w");
  }
  /// `magicWord` (two 16-bit patterns BASE + 8 + value) minus the bias, as
  /// an i32 pair.
  std::string unbias(const std::string &magicWord, double bias) {
    std::string v =
        e.let("vector.broadcast " + magicWord + " : i32 to vector<1xi32>");
    std::string p =
        e.let("vector.bitcast " + v + " : vector<1xi32> to " + pairType());
    std::string c =
        e.constant("%bias" + r.xType + str(int64_t(bias)),
                   "dense<" + str(int64_t(bias)) + ".0> : " + pairType());
    return wordOf(e.let("arith.subf " + p + ", " + c + " : " + pairType()));
  }

  std::string signature() {
    std::vector<std::string> args;
    X = "%x";
    args.push_back("%x: " + memX());
    W = "%w";
    args.push_back("%w: " + memW());
    if (r.qlinear) {
      S = "%scale";
      args.push_back("%scale: " + memS());
    }
    if (!r.biasType.empty()) {
      Bias = "%bias";
      args.push_back("%bias: memref<?x" + r.biasType + ">");
    }
    Y = "%y";
    args.push_back("%y: memref<?x?x" + r.yType + ">");
    E = epilogueArguments(r.epilogue, args);
    std::string s;
    for (size_t i = 0; i < args.size(); ++i)
      s += (i ? ", " : "") + args[i];
    return s;
  }

  /// The weight words of one K block and tile: 4 (i4), 8 (i8) or 16 (16-bit)
  /// i32, each 0 when out of range.
  std::vector<std::string> loadWeights(const std::string &kl,
                                       const std::string &ok, int64_t t) {
    int64_t loads = i4 ? 1 : i8 ? 2 : 4;
    int64_t perLoad = i4 ? 32 : i8 ? 16 : 8; // k per 16-byte load
    std::string vt = i4 || i8 ? "vector<16xi8>" : "vector<8x" + r.wType + ">";
    std::string zero = e.constant("%zw4", "dense<0> : vector<4xi32>");
    std::vector<std::string> words;
    if (r.streamLoads) {
      // ld.global.nc.L1::no_allocate: the weights are read once, so they
      // neither go through nor evict from L1 (which keeps x); L2::256B
      // prefetches the rest of the row's 256-byte run.
      int64_t eb = i4 || i8 ? 1 : 2;
      std::string rowStart = e.add(wBase, e.let("arith.muli " + colSafe[t] +
                                                ", " + wRowBytes + " : index"));
      std::string res = "!llvm.struct<(i32, i32, i32, i32)>";
      for (int64_t l = 0; l < loads; ++l) {
        std::string k = e.addConst(kl, l * perLoad);
        std::string byte = i4 ? e.div(k, 2) : e.mul(k, eb);
        std::string addr = e.let("arith.index_cast " + e.add(rowStart, byte) +
                                 " : index to i64");
        std::string v = e.let(
            "llvm.inline_asm \"ld.global.nc.L1::no_allocate.L2::256B.v4.u32 "
            "{$0, $1, $2, $3}, [$4];\", \"=r,=r,=r,=r,l\" " +
                addr + " : (i64) -> " + res,
            "wv");
        for (int64_t i = 0; i < 4; ++i) {
          std::string w = e.let("llvm.extractvalue " + v + "[" + str(i) +
                                "] : " + res, "w");
          words.push_back(e.let("arith.select " + ok + ", " + w + ", " +
                                e.i32(0) + " : i32", "w"));
        }
      }
      return words;
    }
    for (int64_t l = 0; l < loads; ++l) {
      std::string k = e.addConst(kl, l * perLoad);
      std::string col = i4 ? e.div(k, 2) : k;
      std::string v = e.let("vector.load " + W + "[" + colSafe[t] + ", " + col +
                                "] {alignment = 16 : i64} : " + memW() + ", " + vt,
                            "wv");
      std::string b = e.let("vector.bitcast " + v + " : " + vt + " to vector<4xi32>");
      std::string s = e.let("arith.select " + ok + ", " + b + ", " + zero +
                            " : vector<4xi32>");
      for (int64_t i = 0; i < 4; ++i)
        words.push_back(
            e.let("vector.extract " + s + "[" + str(i) + "] : i32 from vector<4xi32>", "w"));
    }
    return words;
  }

  /// x[row, kl + 8i .. + 7] for i = 0..3, zero when out of range.
  std::vector<std::string> loadX(const std::string &kl, const std::string &ok,
                                 int64_t h) {
    std::string vt = "vector<8x" + r.xType + ">";
    std::string zero = e.constant("%zx", "dense<0.0> : " + vt);
    std::string p = e.andi(ok, rowIn[h]);
    std::vector<std::string> out;
    for (int64_t i = 0; i < 4; ++i) {
      std::string v = e.let("vector.load " + X + "[" + rowSafe[h] + ", " +
                                e.addConst(kl, 8 * i) +
                                "] {alignment = 16 : i64} : " + memX() + ", " + vt,
                            "xv");
      out.push_back(e.let("arith.select " + p + ", " + v + ", " + zero + " : " + vt));
    }
    return out;
  }

  /// The A operand pair (slot pair `which` = 0: k 2q, 2q+1; 1: k 2q+8, 2q+9)
  /// of mma j from the x chunks of one row.
  std::string aPair(const std::vector<std::string> &xs, int64_t j, int which) {
    int64_t h = j % 2;
    int64_t lo, hi;
    if (i4) {
      lo = 2 * h + which;
      hi = lo + 4;
    } else {
      lo = 4 * h + 2 * which;
      hi = lo + 1;
    }
    std::string vt = "vector<8x" + r.xType + ">";
    std::string s = e.let("vector.shuffle " + xs[j / 2] + ", " + xs[j / 2] + " [" +
                          str(lo) + ", " + str(hi) + "] : " + vt + ", " + vt);
    return operand(wordOf(s));
  }

  /// The B operand pair (`which` as in aPair) of mma j from a tile's words.
  std::string bPair(const std::vector<std::string> &words, int64_t j,
                    int which, std::vector<std::string> &xored) {
    if (!i4 && !i8)
      return operand(words[2 * j + which]);
    if (i4) {
      // Word j / 2 holds k 8 * (j / 2) + 0..7; shift 4 * (2h + which).
      int64_t h = j % 2;
      std::string &w = xored[j / 2];
      if (w.empty())
        w = e.op32("xori", words[j / 2], e.i32(0x88888888u));
      int64_t shift = 4 * (2 * h + which);
      std::string s = shift ? e.op32("shrui", w, e.i32(shift)) : w;
      std::string m = e.op32("andi", s, e.i32(0x000F000Fu));
      std::string magic = e.op32("ori", m, e.i32(f16 ? 0x64006400u : 0x43004300u));
      return operand(unbias(magic, f16 ? 1032 : 136));
    }
    // i8: word j holds k 4j .. 4j+3; `which` takes bytes 2which, 2which+1.
    if (f16) {
      std::string &w = xored[j];
      if (w.empty())
        w = e.op32("xori", words[j], e.i32(0x80808080u));
      std::string lo, hi;
      if (which == 0) {
        lo = e.op32("andi", w, e.i32(0xFFu));
        hi = e.op32("andi", e.op32("shli", w, e.i32(8)), e.i32(0xFF0000u));
      } else {
        lo = e.op32("andi", e.op32("shrui", w, e.i32(16)), e.i32(0xFFu));
        hi = e.op32("andi", e.op32("shrui", w, e.i32(8)), e.i32(0xFF0000u));
      }
      std::string magic =
          e.op32("ori", e.op32("ori", lo, hi), e.i32(0x64006400u));
      return operand(unbias(magic, 1152));
    }
    std::string v = e.let("vector.broadcast " + words[j] + " : i32 to vector<1xi32>");
    std::string b = e.let("vector.bitcast " + v + " : vector<1xi32> to vector<4xi8>");
    std::string s = e.let("vector.shuffle " + b + ", " + b + " [" +
                          str(2 * which) + ", " + str(2 * which + 1) +
                          "] : vector<4xi8>, vector<4xi8>");
    std::string f = e.let("arith.sitofp " + s + " : vector<2xi8> to " + pairType());
    return wordOf(f);
  }

  void mma(const std::vector<std::string> &a, const std::vector<std::string> &b,
           std::vector<std::string> &acc) {
    std::string res = "!llvm.struct<(f32, f32, f32, f32)>";
    std::string d = e.let(
        "nvvm.mma.sync A[" + a[0] + ", " + a[1] + ", " + a[2] + ", " + a[3] +
            "] B[" + b[0] + ", " + b[1] + "] C[" + acc[0] + ", " + acc[1] +
            ", " + acc[2] + ", " + acc[3] +
            "] {layoutA = #nvvm.mma_layout<row>, layoutB = "
            "#nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<" +
            r.xType + ">, multiplicandBPtxType = #nvvm.mma_type<" + r.xType +
            ">, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (" + opType() +
            ", " + opType() + ", f32) -> " + res,
        "d");
    for (int i = 0; i < 4; ++i)
      acc[i] = e.let("llvm.extractvalue " + d + "[" + str(i) + "] : " + res, "acc");
  }

  /// One K block `kb` (index value) into acc[t][0..3].
  struct Block {
    std::string kb, kl, kIn;
    std::vector<std::vector<std::string>> words; // per tile
    std::vector<std::vector<std::string>> xs;    // per row half
  };

  Block loadBlock(const std::string &kb) {
    Block b;
    b.kb = kb;
    b.kl = e.add(e.mul(kb, GemvRecipe::kBlockK), e.mul(q, 32));
    b.kIn = e.ult(b.kl, K);
    std::string klSafe = e.let("arith.select " + b.kIn + ", " + b.kl + ", " +
                               e.idx(0) + " : index");
    for (int64_t t = 0; t < r.tiles; ++t)
      b.words.push_back(loadWeights(klSafe, e.andi(b.kIn, colIn[t]), t));
    for (int64_t h = 0; h < r.rowHalves; ++h)
      b.xs.push_back(loadX(klSafe, b.kIn, h));
    return b;
  }

  void computeBlock(Block &b, std::vector<std::vector<std::string>> &acc) {
    std::string zf = e.constant("%zf", "0.0 : f32");
    std::string zero = f16 ? e.constant("%zh2", "dense<0.0> : vector<2xf16>")
                           : e.i32(0);
    std::vector<std::vector<std::string>> xored(r.tiles,
                                                std::vector<std::string>(8));
    std::vector<std::vector<std::string>> part(r.tiles);
    for (int64_t t = 0; t < r.tiles; ++t)
      part[t] = grouped ? std::vector<std::string>(4, zf) : acc[t];
    for (int64_t j = 0; j < 8; ++j) {
      std::vector<std::string> a{aPair(b.xs[0], j, 0),
                                 r.rowHalves > 1 ? aPair(b.xs[1], j, 0) : zero,
                                 aPair(b.xs[0], j, 1),
                                 r.rowHalves > 1 ? aPair(b.xs[1], j, 1) : zero};
      for (int64_t t = 0; t < r.tiles; ++t) {
        std::vector<std::string> bb{bPair(b.words[t], j, 0, xored[t]),
                                    bPair(b.words[t], j, 1, xored[t])};
        mma(a, bb, part[t]);
      }
    }
    if (!grouped) {
      acc = part;
      return;
    }
    // acc += part * scale[n, kb * 128 / G] (a block past K has part = 0; its
    // group index is clamped).
    std::string grp = e.minu(e.div(e.mul(b.kb, GemvRecipe::kBlockK), r.group),
                             lastGroup);
    for (int64_t t = 0; t < r.tiles; ++t)
      for (int c = 0; c < 2; ++c) {
        std::string col = e.minu(
            e.add(n0, e.addConst(e.mul(q, 2), 8 * t + c)), lastN);
        std::string s = toF32(
            e, e.let("memref.load " + S + "[" + col + ", " + grp + "] : " + memS()),
            r.scaleType);
        for (int h = 0; h < 2; ++h) {
          int i = 2 * h + c;
          acc[t][i] = e.let("math.fma " + part[t][i] + ", " + s + ", " +
                            acc[t][i] + " : f32", "acc");
        }
      }
  }

  std::string lastGroup, wBase, wRowBytes;

  std::string text() {
    std::string sig = signature();
    e.indent = 4;
    M = e.let("memref.dim " + X + ", " + e.idx(0) + " : " + memX(), "m");
    K = e.let("memref.dim " + X + ", " + e.idx(1) + " : " + memX(), "k");
    N = e.let("memref.dim " + W + ", " + e.idx(0) + " : " + memW(), "n");
    lastM = e.let("arith.subi " + M + ", " + e.idx(1) + " : index");
    lastN = e.let("arith.subi " + N + ", " + e.idx(1) + " : index");
    if (r.streamLoads) {
      wBase = e.let("memref.extract_aligned_pointer_as_index " + W + " : " +
                    memW() + " -> index");
      std::string cols =
          e.let("memref.dim " + W + ", " + e.idx(1) + " : " + memW());
      wRowBytes = i4 || i8 ? cols : e.mul(cols, 2);
    }
    if (grouped) {
      std::string ng = e.let("memref.dim " + S + ", " + e.idx(1) + " : " + memS());
      lastGroup = e.let("arith.subi " + ng + ", " + e.idx(1) + " : index");
    }
    std::string tid = e.let("gpu.thread_id x", "tid");
    std::string bid = e.let("gpu.block_id x", "bid");
    warp = e.div(tid, 32);
    lane = e.rem(tid, 32);
    g = e.div(lane, 4);
    q = e.rem(lane, 4);
    n0 = e.mul(bid, r.columns());
    for (int64_t h = 0; h < r.rowHalves; ++h) {
      std::string row = e.addConst(g, 8 * h);
      rowSafe.push_back(e.minu(row, lastM));
      rowIn.push_back(e.ult(row, M));
    }
    for (int64_t t = 0; t < r.tiles; ++t) {
      std::string col = e.add(n0, e.addConst(g, 8 * t));
      colSafe.push_back(e.minu(col, lastN));
      colIn.push_back(e.ult(col, N));
    }
    std::string numKB = e.div(e.addConst(K, GemvRecipe::kBlockK - 1),
                              GemvRecipe::kBlockK);
    std::string start = e.mul(warp, r.unroll);
    std::string zf = e.constant("%zf", "0.0 : f32");

    // The K loop: acc[t][0..3] carried.
    std::vector<std::vector<std::string>> acc(r.tiles);
    std::string iters, types;
    for (int64_t t = 0; t < r.tiles; ++t)
      for (int i = 0; i < 4; ++i) {
        std::string name = "%a" + str(t) + "_" + str(i);
        iters += std::string(iters.empty() ? "" : ", ") + name + " = " + zf;
        types += std::string(types.empty() ? "" : ", ") + "f32";
        acc[t].push_back(name);
      }
    int64_t nres = r.tiles * 4;
    e.line("%res:" + str(nres) + " = scf.for %kb0 = " + start + " to " + numKB +
           " step " + e.idx(r.warps * r.unroll) + " iter_args(" + iters +
           ") -> (" + types + ") {");
    e.indent += 2;
    std::vector<Block> blocks;
    for (int64_t u = 0; u < r.unroll; ++u)
      blocks.push_back(loadBlock(e.addConst("%kb0", u)));
    for (Block &b : blocks)
      computeBlock(b, acc);
    std::string yield, ytypes;
    for (auto &tile : acc)
      for (auto &v : tile) {
        yield += std::string(yield.empty() ? "" : ", ") + v;
        ytypes += std::string(ytypes.empty() ? "" : ", ") + "f32";
      }
    e.line("scf.yield " + yield + " : " + ytypes);
    e.indent -= 2;
    e.line("}");

    // The warps' sums through shared memory, added in warp order.
    for (int64_t t = 0; t < r.tiles; ++t)
      for (int i = 0; i < 4; ++i)
        e.line("memref.store %res#" + str(t * 4 + i) + ", %red[" + warp + ", " +
               e.idx(t) + ", " + e.idx(i) + ", " + lane + "] : " + redType());
    e.line("gpu.barrier");
    int64_t entries = r.tiles * 4 * 32;
    for (int64_t base = 0; base < entries; base += r.threads()) {
      std::string ent = e.addConst(tid, base);
      bool guard = base + r.threads() > entries;
      if (guard) {
        e.line("scf.if " + e.ult(ent, e.idx(entries)) + " {");
        e.indent += 2;
      }
      std::string t = e.div(ent, 128), i = e.rem(e.div(ent, 32), 4),
                  l = e.rem(ent, 32);
      std::string sum;
      for (int64_t w = 0; w < r.warps; ++w) {
        std::string v = e.let("memref.load %red[" + e.idx(w) + ", " + t + ", " +
                              i + ", " + l + "] : " + redType());
        sum = sum.empty() ? v : e.let("arith.addf " + sum + ", " + v + " : f32");
      }
      std::string row = e.add(e.div(l, 4), e.mul(e.div(i, 2), 8));
      std::string col = e.add(
          n0, e.add(e.mul(t, 8), e.add(e.mul(e.rem(l, 4), 2), e.rem(i, 2))));
      std::string ok = e.andi(e.ult(row, M), e.ult(col, N));
      e.line("scf.if " + ok + " {");
      e.indent += 2;
      std::string v = sum;
      if (r.qlinear && !grouped) {
        std::string s = toF32(
            e, e.let("memref.load " + S + "[" + col + "] : " + memS()),
            r.scaleType);
        v = e.let("arith.mulf " + v + ", " + s + " : f32");
      }
      if (!Bias.empty()) {
        std::string bv = toF32(
            e, e.let("memref.load " + Bias + "[" + col + "] : memref<?x" +
                     r.biasType + ">"),
            r.biasType);
        v = e.let("arith.addf " + v + ", " + bv + " : f32");
      }
      v = applyEpilogue(e, r.epilogue, E, v, row, col);
      if (r.yType != "f32")
        v = e.let("arith.truncf " + v + " : f32 to " + r.yType);
      e.line("memref.store " + v + ", " + Y + "[" + row + ", " + col +
             "] : memref<?x?x" + r.yType + ">");
      e.indent -= 2;
      e.line("}");
      if (guard) {
        e.indent -= 2;
        e.line("}");
      }
    }
    e.line("gpu.return");

    return "gpu.module @recipe {\n  gpu.func @" + r.name() + "(" + sig +
           ") workgroup(%red : " + redType() +
           ") kernel attributes {known_block_size = array<i32: " +
           str(r.threads()) + ", 1, 1>} {\n" + e.header + e.body +
           "  }\n}\n";
  }
};

bool isFloat16(const std::string &t) { return t == "bf16" || t == "f16"; }
bool isFloat(const std::string &t) { return isFloat16(t) || t == "f32"; }

} // namespace

std::string GemvRecipe::name() const {
  std::string s = "loom_gemv_";
  s += qlinear ? "qlinear_" : "linear_";
  s += xType + "_" + wType;
  if (qlinear)
    s += "_" + scaleType + "_g" + str(group);
  s += "_" + (biasType.empty() ? std::string("nobias") : biasType) + "_" + yType;
  s += "_r" + str(rowHalves) + "_w" + str(warps) + "x" + str(tiles) + "_u" +
       str(unroll) + (streamLoads ? "_nc" : "");
  return s + epilogueSuffix(epilogue);
}

void GemvRecipe::chooseSchedule() {
  // Measured on an H100 (CUDA graphs, weights rotated past L2, N = K = 8192):
  // - i4, groups of 128: 4 warps x 2 tiles x 2 blocks with streaming loads,
  //   0.0229 ms at M = 1 and 0.0279 ms at M = 16 (8 x 2 x 2: 0.0237 /
  //   0.0289; 16 x 2 x 1: 0.0277 / 0.0333; 4 x 1 x 4: 0.0354 / 0.0629);
  // - i8 per channel: 8 x 2 x 1, 0.0344 ms at M = 1 (the same with or
  //   without streaming loads);
  // - bf16: 8 x 2 x 1 with plain loads, 0.0593 ms at M = 1 (streaming loads
  //   0.0604).
  if (wType == "i4") {
    warps = 4;
    tiles = 2;
    unroll = 2;
    streamLoads = true;
  } else if (wType == "i8") {
    warps = 8;
    tiles = 2;
    unroll = 1;
    streamLoads = true;
  } else {
    warps = 8;
    tiles = 2;
    unroll = 1;
    streamLoads = false;
  }
}

std::string GemvRecipe::check() const {
  if (!isFloat16(xType))
    return "x must be bf16 or f16";
  if (qlinear ? (wType != "i8" && wType != "i4") : wType != xType)
    return "unsupported weight type";
  if (qlinear && !isFloat(scaleType))
    return "unsupported scale type";
  if (!biasType.empty() && !isFloat(biasType))
    return "unsupported bias type";
  if (!isFloat(yType))
    return "unsupported result type";
  if (group < 0 || group % kBlockK || (!qlinear && group))
    return "group size must be 0 or a multiple of 128";
  if (rowHalves != 1 && rowHalves != 2)
    return "row halves must be 1 or 2";
  if (warps < 1 || warps > 32 || tiles < 1 || tiles > 8 || unroll < 1 ||
      unroll > 8)
    return "bad warps/tiles/unroll";
  return "";
}

std::string GemvRecipe::text() const {
  Generator gen(*this);
  return gen.text();
}

} // namespace gpu
} // namespace loom
