//===- GemmKernel.cpp - the text of Loom's tensor-core GEMM kernels ------===//
//
// Generates the gpu.func of one GemmRecipe (see GemmRecipes.h for the
// schedule). Layout facts the generator relies on, per warp of 32 lanes with
// g = lane / 4 and q = lane % 4 (PTX ISA, "Matrix fragments for mma.m16n8k*"):
//
// - a 32-byte slice of K is one mma.m16n8k16 for 16-bit operands and one
//   mma.m16n8k32 for 8-bit operands. For both, the A fragment of an m16 tile
//   is the four 8x8(x16 bytes) matrices (rows 0-7, bytes 0-15), (rows 8-15,
//   bytes 0-15), (rows 0-7, bytes 16-31), (rows 8-15, bytes 16-31) that one
//   ldmatrix.x4 returns when lane l addresses row l % 16, byte (l / 16) * 16;
//   and the B fragments of two n8 tiles are the matrices (n 0-7, bytes 0-15),
//   (n 0-7, bytes 16-31), (n 8-15, bytes 0-15), (n 8-15, bytes 16-31), lane l
//   addressing n (l / 16) * 8 + l % 8, byte ((l / 8) % 2) * 16.
// - fp8 (e4m3) is multiplied as f16 (every e4m3 value is exact in f16 and
//   every product exact in f32): a 32-byte slice is two m16n8k16 f16 mmas. In
//   an ldmatrix register, lane (g, q) holds the four fp8 values k = 4q..4q+3
//   of its row; its low pair goes to the mma slots k = 2q, 2q+1 and its high
//   pair to k = 2q+8, 2q+9. A and B are permuted alike, so the sum over k is
//   the same.
// - qlinear weights: lane (g, q) of an n8 tile needs w[n = g][k = 2q, 2q+1]
//   and w[g][2q+8, 2q+9] of each 16-wide slice of K; it reads those bytes (i8)
//   or nibbles (i4: byte k / 2, even k in the low nibble) from shared memory
//   and converts them to bf16/f16 (exact for |w| <= 128).
// - an accumulator fragment holds (row g, cols 2q, 2q+1) and (row g + 8,
//   cols 2q, 2q+1) of the m16 x n8 tile.

#include "loom/GPU/Kernels/GemmKernel.h"
#include "RecipeText.h"

#include <cassert>
#include <sstream>
#include <vector>

namespace loom {
namespace gpu {
namespace {

using recipe::str;
using recipe::toF32;

bool isFloat16(const std::string &t) { return t == "bf16" || t == "f16"; }
bool isFp8(const std::string &t) { return t == "f8E4M3FN"; }

/// Bytes of one element in memory (i4 counts as the i8 holding two).
int64_t memBytes(const std::string &t) { return isFloat16(t) ? 2 : 1; }
/// The element type of the operand's buffer.
std::string memType(const std::string &t) { return t == "i4" ? "i8" : t; }

constexpr const char *kSmemSpace = "#gpu.address_space<workgroup>";

using Emitter = recipe::IndexEmitter;

struct Generator {
  const GemmRecipe &r;
  Emitter e;

  // Derived shape facts.
  bool fp8, int8, qlinear, grouped, i4;
  int64_t wtm, wtn, wm, wn, rowBytesA, rowBytesB, strideA, strideB, epcA,
      epcB, unitsB, steps;
  std::string smemA, smemB, accType;
  /// The shared tiles as ldmatrix reads them (fp8 as i8).
  std::string ldA, ldB, ldTypeA, ldTypeB;

  // Values of the kernel.
  std::string A, Xs, B, S, Bias, Y, M, N, K, KB, tid, lane, g, q, m0, n0, wRow,
      wCol, As, Bs, aligned, numTiles;
  /// The epilogue's tensor arguments, one entry per step ("" for the others).
  std::vector<std::string> E;
  /// The parts' arguments (horizontal fusion; one each without it).
  std::vector<std::string> partB, partS, partBias, partY;

  /// With several parts: the block's part decides B, the scales, the bias
  /// and Y, and `bx` becomes the block's column tile within its part.
  void pickPart(std::string &bx) {
    if (r.parts == 1 || r.gate)
      return;
    std::string start = e.idx(0), offset = e.idx(0);
    std::vector<std::string> starts;
    for (int64_t i = 0; i < r.parts; ++i) {
      starts.push_back(start);
      std::string n = e.let("memref.dim " + partB[i] + ", " + e.idx(0) +
                            " : " + memrefB());
      start = e.add(start, e.div(e.addConst(n, r.bn - 1), r.bn));
    }
    for (int64_t i = 1; i < r.parts; ++i) {
      std::string in = e.let("arith.cmpi ule, " + starts[i] + ", " + bx +
                             " : index", "p");
      B = e.select(in, partB[i], B, memrefB());
      if (!S.empty())
        S = e.select(in, partS[i], S,
                     r.kind == GemmKind::QMatmul ? "memref<?xf32>" : memrefS());
      if (!Bias.empty())
        Bias = e.select(in, partBias[i], Bias, "memref<?x" + r.biasType + ">");
      Y = e.select(in, partY[i], Y, "memref<?x?x" + r.yType + ">");
      offset = e.select(in, starts[i], offset, "index");
    }
    bx = e.let("arith.subi " + bx + ", " + offset + " : index");
  }

  explicit Generator(const GemmRecipe &recipe) : r(recipe) {
    fp8 = isFp8(r.aType);
    int8 = r.kind == GemmKind::QMatmul && r.aType == "i8";
    qlinear = r.kind == GemmKind::QLinear;
    grouped = qlinear && r.group > 0;
    i4 = r.bType == "i4";
    wtm = r.bm / r.warpsM;
    wtn = r.bn / r.warpsN;
    wm = wtm / 16;
    wn = wtn / 8;
    rowBytesA = r.bk * memBytes(r.aType);
    unitsB = i4 ? r.bk / 2 : r.bk; // B's columns of one K tile, in memory
    rowBytesB = unitsB * memBytes(r.bType);
    // 16 bytes of padding per row: 8 consecutive rows of an ldmatrix then hit
    // distinct banks.
    strideA = (rowBytesA + 16) / memBytes(r.aType);
    strideB = (rowBytesB + 16) / memBytes(r.bType);
    epcA = 16 / memBytes(r.aType);
    epcB = 16 / memBytes(r.bType);
    steps = rowBytesA / 32;
    smemA = "memref<" + str(r.stages) + "x" + str(r.bm) + "x" + str(strideA) +
            "x" + memType(r.aType) + ", " + kSmemSpace + ">";
    smemB = "memref<" + str(r.stages) + "x" + str(r.bn) + "x" + str(strideB) +
            "x" + memType(r.bType) + ", " + kSmemSpace + ">";
    accType = int8 ? "i32" : "f32";
    ldTypeA = fp8 ? "memref<" + str(r.stages) + "x" + str(r.bm) + "x" +
                        str(strideA) + "xi8, " + kSmemSpace + ">"
                  : smemA;
    ldTypeB = fp8 ? "memref<" + str(r.stages) + "x" + str(r.bn) + "x" +
                        str(strideB) + "xi8, " + kSmemSpace + ">"
                  : smemB;
  }

  std::string memrefA() const { return "memref<?x?x" + memType(r.aType) + ">"; }
  std::string memrefB() const { return "memref<?x?x" + memType(r.bType) + ">"; }
  std::string memrefS() const {
    return grouped ? "memref<?x?x" + r.scaleType + ">"
                   : "memref<?x" + r.scaleType + ">";
  }

  std::string signature() {
    std::vector<std::string> args;
    A = "%A";
    args.push_back("%A: " + memrefA());
    if (r.kind == GemmKind::QMatmul) {
      Xs = "%xs";
      args.push_back("%xs: memref<?xf32>");
    }
    // One argument per part (run() picks the block's part), or one named
    // like the value the kernel uses.
    auto perPart = [&](const std::string &name, const std::string &type,
                       std::vector<std::string> &names) {
      for (int64_t i = 0; i < r.parts; ++i) {
        names.push_back(r.parts == 1 ? name : name + "_" + str(i));
        args.push_back(names.back() + ": " + type);
      }
      return names.front();
    };
    B = perPart("%B", memrefB(), partB);
    if (qlinear)
      S = perPart("%scale", memrefS(), partS);
    else if (r.kind == GemmKind::QMatmul)
      S = perPart("%w_scale", "memref<?xf32>", partS);
    if (!r.biasType.empty())
      Bias = perPart("%bias", "memref<?x" + r.biasType + ">", partBias);
    if (r.gate) {
      Y = "%Y";
      args.push_back("%Y: memref<?x?x" + r.yType + ">");
    } else {
      Y = perPart("%Y", "memref<?x?x" + r.yType + ">", partY);
    }
    E = epilogueArguments(r.epilogue, args);
    std::string s;
    for (size_t i = 0; i < args.size(); ++i)
      s += (i ? ", " : "") + args[i];
    return s;
  }

  //===--------------------------------------------------------------------===//
  // Loading a K tile into a pipeline stage
  //===--------------------------------------------------------------------===//

  /// Copies the `rows` x `units` tile of `src` (rows from `row0`, columns from
  /// `col0`, `epc` elements a 16-byte chunk) into `dst[stage]`; what lies
  /// outside `numRows` x `numCols` reads as zero.
  void loadOperand(const std::string &src, const std::string &srcType,
                   const std::string &dst, const std::string &dstType,
                   const std::string &elemType, int64_t rows, int64_t units,
                   int64_t epc, const std::string &stage,
                   const std::string &row0, const std::string &col0,
                   const std::string &numRows, const std::string &numCols,
                   bool fast) {
    int64_t chunksPerRow = units / epc;
    int64_t chunks = rows * chunksPerRow;
    int64_t threads = r.threads();
    for (int64_t c = 0; c * threads < chunks; ++c) {
      std::string chunk = e.addConst(tid, c * threads);
      bool partial = (c + 1) * threads > chunks;
      if (partial) {
        std::string in = e.ult(chunk, e.idx(chunks));
        e.line("scf.if " + in + " {");
        e.indent += 2;
      }
      std::string row = e.div(chunk, chunksPerRow);
      std::string col = e.mul(e.rem(chunk, chunksPerRow), e.idx(epc));
      std::string gRow = e.add(row0, row);
      std::string gCol = e.add(col0, col);
      std::string rowIn = e.ult(gRow, numRows);
      if (fast) {
        // Whole chunks: the row length is a multiple of 16 bytes.
        std::string in = e.andi(rowIn, e.ult(gCol, numCols));
        std::string r0 = e.select(in, gRow, e.idx(0), "index");
        std::string c0 = e.select(in, gCol, e.idx(0), "index");
        std::string n = e.select(in, e.idx(epc), e.idx(0), "index");
        e.let("nvgpu.device_async_copy " + src + "[" + r0 + ", " + c0 + "], " +
                  dst + "[" + stage + ", " + row + ", " + col + "], " +
                  str(epc) + ", " + n + " {bypassL1} : " + srcType + " to " +
                  dstType,
              "tok");
      } else {
        std::string zero = e.let("arith.constant " +
                                 std::string(elemType == "i8" ? "0" : "0.0") +
                                 " : " + elemType);
        for (int64_t i = 0; i < epc; ++i) {
          std::string k = e.addConst(gCol, i);
          std::string in = e.andi(rowIn, e.ult(k, numCols));
          std::string v = e.fresh();
          e.line(v + " = scf.if " + in + " -> (" + elemType + ") {");
          e.indent += 2;
          std::string x = e.let("memref.load " + src + "[" + gRow + ", " + k +
                                "] : " + srcType);
          e.line("scf.yield " + x + " : " + elemType);
          e.indent -= 2;
          e.line("} else {");
          e.line("  scf.yield " + zero + " : " + elemType);
          e.line("}");
          e.line("memref.store " + v + ", " + dst + "[" + stage + ", " + row +
                 ", " + e.addConst(col, i) + "] : " + dstType);
        }
      }
      if (partial) {
        e.indent -= 2;
        e.line("}");
      }
    }
  }

  /// Starts loading K tile `tile` (if it exists) into pipeline stage `stage`.
  void loadTile(const std::string &tile, const std::string &stage) {
    std::string exists = e.ult(tile, numTiles);
    e.line("scf.if " + exists + " {");
    e.indent += 2;
    std::string colA = e.mul(tile, e.idx(r.bk));
    std::string colB = e.mul(tile, e.idx(unitsB));
    e.line("scf.if " + aligned + " {");
    e.indent += 2;
    loadOperand(A, memrefA(), As, smemA, memType(r.aType), r.bm, r.bk, epcA,
                stage, m0, colA, M, K, true);
    loadOperand(B, memrefB(), Bs, smemB, memType(r.bType), r.bn, unitsB, epcB,
                stage, n0, colB, N, KB, true);
    e.indent -= 2;
    e.line("} else {");
    e.indent += 2;
    loadOperand(A, memrefA(), As, smemA, memType(r.aType), r.bm, r.bk, epcA,
                stage, m0, colA, M, K, false);
    loadOperand(B, memrefB(), Bs, smemB, memType(r.bType), r.bn, unitsB, epcB,
                stage, n0, colB, N, KB, false);
    e.indent -= 2;
    e.line("}");
    e.indent -= 2;
    e.line("}");
  }

  //===--------------------------------------------------------------------===//
  // Fragments and mma
  //===--------------------------------------------------------------------===//

  /// The i32 (packed pair) at `i` of an ldmatrix result.
  std::string regOf(const std::string &v, int64_t i, const std::string &vecType,
                    const std::string &rowType) {
    std::string row = e.let("vector.extract " + v + "[" + str(i) + "] : " +
                            rowType + " from " + vecType);
    std::string cast =
        e.let("vector.bitcast " + row + " : " + rowType + " to vector<1xi32>");
    return e.let("vector.extract " + cast + "[0] : i32 from vector<1xi32>");
  }

  /// An i32 as the mma operand of the 16-bit type `t`.
  std::string asOperand(const std::string &v, const std::string &t) {
    if (t != "f16")
      return v;
    std::string vec = e.let("vector.broadcast " + v + " : i32 to vector<1xi32>");
    return e.let("vector.bitcast " + vec + " : vector<1xi32> to vector<2xf16>");
  }

  /// The two e4m3 values in bits [16*half, 16*half + 16) of `v`, as f16x2.
  std::string fp8Pair(const std::string &v, int half) {
    std::string w = v;
    if (half)
      w = e.let("arith.shrui " + v + ", " + e.let("arith.constant 16 : i32") +
                " : i32");
    std::string h = e.let("arith.trunci " + w + " : i32 to i16");
    std::string f = e.let("llvm.inline_asm \"cvt.rn.f16x2.e4m3x2 $0, $1;\", "
                          "\"=r,h\" " +
                          h + " : (i16) -> i32");
    return asOperand(f, "f16");
  }

  std::string mmaAttrs(const std::string &type, int64_t k) {
    std::string s = "{";
    if (type == "s8")
      s += "intOverflowBehavior = #nvvm.mma_int_overflow<wrapped>, ";
    s += "layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, "
         "multiplicandAPtxType = #nvvm.mma_type<" +
         type + ">, multiplicandBPtxType = #nvvm.mma_type<" + type +
         ">, shape = #nvvm.shape<m = 16, n = 8, k = " + str(k) + ">}";
    return s;
  }

  /// acc = mma(a, b, acc) for one m16n8 fragment.
  void mma(const std::vector<std::string> &a, const std::vector<std::string> &b,
           std::vector<std::string> &acc, const std::string &type, int64_t k) {
    std::string opType = type == "f16" ? "vector<2xf16>" : "i32";
    std::string res = "!llvm.struct<(" + accType + ", " + accType + ", " +
                      accType + ", " + accType + ")>";
    std::string d = e.let("nvvm.mma.sync A[" + a[0] + ", " + a[1] + ", " +
                          a[2] + ", " + a[3] + "] B[" + b[0] + ", " + b[1] +
                          "] C[" + acc[0] + ", " + acc[1] + ", " + acc[2] +
                          ", " + acc[3] + "] " + mmaAttrs(type, k) + " : (" +
                          opType + ", " + opType + ", " + accType + ") -> " +
                          res);
    for (int i = 0; i < 4; ++i)
      acc[i] = e.let("llvm.extractvalue " + d + "[" + str(i) + "] : " + res,
                     "acc");
  }

  /// The qlinear B operand (bf16x2/f16x2 as i32) of n8 tile row `n`,
  /// K slice `k0` (elements) of stage `stage`.
  std::string weightPair(const std::string &stage, const std::string &n,
                         const std::string &k0) {
    const std::string &ft = r.aType;
    std::string pair;
    if (!i4) {
      // (Two scalar loads: vector.load of workgroup memory is lowered
      // before its address space is known and reports an error.)
      std::string lo = e.let("memref.load " + Bs + "[" + stage + ", " + n +
                             ", " + k0 + "] : " + smemB);
      std::string hi = e.let("memref.load " + Bs + "[" + stage + ", " + n +
                             ", " + e.addConst(k0, 1) + "] : " + smemB);
      pair = e.let("vector.from_elements " + lo + ", " + hi + " : vector<2xi8>");
    } else {
      std::string byte = e.let("memref.load " + Bs + "[" + stage + ", " + n +
                               ", " + e.div(k0, 2) + "] : " + smemB);
      std::string four = e.let("arith.constant 4 : i8");
      std::string up = e.let("arith.shli " + byte + ", " + four + " : i8");
      std::string lo = e.let("arith.shrsi " + up + ", " + four + " : i8");
      std::string hi = e.let("arith.shrsi " + byte + ", " + four + " : i8");
      pair = e.let("vector.from_elements " + lo + ", " + hi + " : vector<2xi8>");
    }
    std::string f = e.let("arith.sitofp " + pair + " : vector<2xi8> to vector<2x" +
                          ft + ">");
    std::string c =
        e.let("vector.bitcast " + f + " : vector<2x" + ft + "> to vector<1xi32>");
    return e.let("vector.extract " + c + "[0] : i32 from vector<1xi32>");
  }

  /// Multiplies the tile in `stage` into the accumulators acc[i][j][0..3].
  void compute(const std::string &stage,
               std::vector<std::vector<std::vector<std::string>>> &acc) {
    std::string aVec = "vector<4x" + std::string(fp8 || int8 ? "4xi8" : "2x" + r.aType) + ">";
    std::string aRow = fp8 || int8 ? "vector<4xi8>" : "vector<2x" + r.aType + ">";
    std::string mmaType = fp8 ? "f16" : int8 ? "s8" : r.aType;
    int64_t esA = memBytes(r.aType);
    std::string laneRowA = e.rem(lane, 16);
    std::string laneColA = e.mul(e.div(lane, 16), e.idx(16 / esA));
    std::string laneRowB =
        e.add(e.mul(e.div(lane, 16), e.idx(8)), e.rem(lane, 8));
    std::string laneColB =
        e.mul(e.rem(e.div(lane, 8), 2), e.idx(16 / memBytes(r.bType)));
    for (int64_t s = 0; s < steps; ++s) {
      // A fragments of this 32-byte slice, per m16 tile.
      std::vector<std::vector<std::string>> aRegs(wm);
      std::string colA = e.addConst(laneColA, s * 32 / esA);
      for (int64_t i = 0; i < wm; ++i) {
        std::string row = e.add(wRow, e.addConst(laneRowA, i * 16));
        std::string v = e.let("nvgpu.ldmatrix " + ldA + "[" + stage + ", " +
                                  row + ", " + colA +
                                  "] {numTiles = 4 : i32, transpose = false} : " +
                                  ldTypeA + " -> " + aVec,
                              "frag");
        for (int64_t x = 0; x < 4; ++x)
          aRegs[i].push_back(regOf(v, x, aVec, aRow));
      }
      // B fragments, per n8 tile: bRegs[j] = (b0, b1) of the slice (for fp8
      // the raw registers of the two 16-byte halves).
      std::vector<std::vector<std::string>> bRegs(wn);
      if (qlinear) {
        std::string kq = e.addConst(e.mul(q, e.idx(2)), s * 16);
        std::string kq8 = e.addConst(kq, 8);
        for (int64_t j = 0; j < wn; ++j) {
          std::string n = e.add(wCol, e.addConst(g, j * 8));
          bRegs[j] = {weightPair(stage, n, kq), weightPair(stage, n, kq8)};
        }
      } else {
        std::string bVec = aVec, bRow = aRow;
        std::string colB = e.addConst(laneColB, s * 32 / memBytes(r.bType));
        for (int64_t j = 0; j < wn; j += 2) {
          std::string row = e.add(wCol, e.addConst(laneRowB, j * 8));
          std::string v = e.let("nvgpu.ldmatrix " + ldB + "[" + stage + ", " +
                                    row + ", " + colB +
                                    "] {numTiles = 4 : i32, transpose = false} : " +
                                    ldTypeB + " -> " + bVec,
                                "frag");
          for (int64_t x = 0; x < 4; ++x)
            bRegs[j + x / 2].push_back(regOf(v, x, bVec, bRow));
        }
      }
      if (!fp8) {
        for (int64_t i = 0; i < wm; ++i) {
          std::vector<std::string> a;
          for (auto &v : aRegs[i])
            a.push_back(asOperand(v, mmaType));
          for (int64_t j = 0; j < wn; ++j) {
            std::vector<std::string> b{asOperand(bRegs[j][0], mmaType),
                                       asOperand(bRegs[j][1], mmaType)};
            mma(a, b, acc[i][j], mmaType, int8 ? 32 : 16);
          }
        }
        continue;
      }
      // fp8: two k16 f16 mmas per slice, on the converted pairs.
      for (int half = 0; half < 2; ++half) {
        std::vector<std::vector<std::string>> bh(wn);
        for (int64_t j = 0; j < wn; ++j)
          bh[j] = {fp8Pair(bRegs[j][half], 0), fp8Pair(bRegs[j][half], 1)};
        for (int64_t i = 0; i < wm; ++i) {
          const std::string &lo = aRegs[i][2 * half], &hi = aRegs[i][2 * half + 1];
          std::vector<std::string> a{fp8Pair(lo, 0), fp8Pair(hi, 0),
                                     fp8Pair(lo, 1), fp8Pair(hi, 1)};
          for (int64_t j = 0; j < wn; ++j)
            mma(a, bh[j], acc[i][j], "f16", 16);
        }
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // The K loop
  //===--------------------------------------------------------------------===//

  using Acc = std::vector<std::vector<std::vector<std::string>>>;

  std::vector<std::string> flat(const Acc &acc) {
    std::vector<std::string> out;
    for (auto &i : acc)
      for (auto &j : i)
        for (auto &v : j)
          out.push_back(v);
    return out;
  }

  std::string typeList(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
      s += (i ? ", " : "") + accType;
    return s;
  }

  /// Opens `scf.for %iv = lb to ub` carrying `acc`; renames acc to the
  /// iteration arguments. Returns the names of the loop's results.
  std::vector<std::string> openLoop(const std::string &iv,
                                    const std::string &lb,
                                    const std::string &ub, Acc &acc) {
    std::vector<std::string> init = flat(acc), results;
    std::string res = e.fresh("loop");
    std::string iters;
    size_t n = 0;
    for (auto &i : acc)
      for (auto &j : i)
        for (auto &v : j) {
          std::string arg = e.fresh("it");
          iters += (n ? ", " : "") + arg + " = " + init[n];
          v = arg;
          results.push_back(res + "#" + str(n));
          ++n;
        }
    e.line(res + ":" + str(n) + " = scf.for " + iv + " = " + lb + " to " + ub +
           " step " + e.idx(1) + " iter_args(" + iters + ") -> (" +
           typeList(n) + ") {");
    e.indent += 2;
    return results;
  }

  void closeLoop(Acc &acc, const std::vector<std::string> &results) {
    std::vector<std::string> vals = flat(acc);
    std::string s;
    for (size_t i = 0; i < vals.size(); ++i)
      s += (i ? ", " : "") + vals[i];
    e.line("scf.yield " + s + " : " + typeList(vals.size()));
    e.indent -= 2;
    e.line("}");
    size_t n = 0;
    for (auto &i : acc)
      for (auto &j : i)
        for (auto &v : j)
          v = results[n++];
  }

  /// One iteration of the pipeline: wait for tile `kt`, start loading tile
  /// kt + STAGES - 1, multiply tile kt.
  void pipelineStep(const std::string &kt, Acc &acc) {
    e.line("nvvm.cp.async.wait.group " + str(r.stages - 2));
    // Tile kt is visible to every thread, and every thread is done with the
    // stage the next load overwrites (it held tile kt - 1).
    e.line("gpu.barrier");
    std::string next = e.addConst(kt, r.stages - 1);
    loadTile(next, e.rem(next, r.stages));
    e.line("nvvm.cp.async.commit.group");
    compute(e.rem(kt, r.stages), acc);
  }

  Acc zeros() {
    std::string z = e.let(std::string("arith.constant ") +
                              (int8 ? "0" : "0.0") + " : " + accType,
                          "zero");
    return Acc(wm, std::vector<std::vector<std::string>>(
                       wn, std::vector<std::string>(4, z)));
  }

  //===--------------------------------------------------------------------===//
  // Epilogue
  //===--------------------------------------------------------------------===//

  /// Stores the tile: per element the f32 product of each part in `accs`
  /// (one, or the gate and up parts of a gated product) with its scales and
  /// bias, gated, through the epilogue, rounded once and stored in range.
  void epilogue(std::vector<Acc> &accs) {
    std::string one = e.idx(1);
    std::string lastN = e.let("arith.subi " + N + ", " + one + " : index");
    std::string lastM = e.let("arith.subi " + M + ", " + one + " : index");
    size_t np = accs.size();
    // Per column (j, c): index and in-range bit; per part, the column's
    // factors.
    std::vector<std::vector<std::string>> colIdx(wn), colIn(wn);
    std::vector<std::vector<std::vector<std::string>>> colScale(
        np, std::vector<std::vector<std::string>>(wn)),
        colBias(np, std::vector<std::vector<std::string>>(wn));
    for (int64_t j = 0; j < wn; ++j)
      for (int c = 0; c < 2; ++c) {
        std::string col = e.add(n0, e.add(wCol, e.addConst(e.mul(q, e.idx(2)),
                                                           j * 8 + c)));
        std::string safe = e.minu(col, lastN);
        colIdx[j].push_back(col);
        colIn[j].push_back(e.ult(col, N));
        for (size_t p = 0; p < np; ++p) {
          // The block's factors, or the gated product's per part.
          std::string scale = r.gate && !partS.empty() ? partS[p] : S;
          std::string bias = r.gate && !partBias.empty() ? partBias[p] : Bias;
          if (!scale.empty() && !grouped)
            colScale[p][j].push_back(toF32(
                e, e.let("memref.load " + scale + "[" + safe + "] : " + memrefS()),
                r.kind == GemmKind::QMatmul ? "f32" : r.scaleType));
          if (!bias.empty())
            colBias[p][j].push_back(
                toF32(e,
                      e.let("memref.load " + bias + "[" + safe + "] : memref<?x" +
                            r.biasType + ">"),
                      r.biasType));
        }
      }
    for (int64_t i = 0; i < wm; ++i)
      for (int h = 0; h < 2; ++h) {
        std::string row =
            e.add(m0, e.add(wRow, e.addConst(g, i * 16 + h * 8)));
        std::string rowIn = e.ult(row, M);
        std::string xs;
        if (r.kind == GemmKind::QMatmul)
          xs = e.let("memref.load " + Xs + "[" + e.minu(row, lastM) +
                     "] : memref<?xf32>");
        for (int64_t j = 0; j < wn; ++j)
          for (int c = 0; c < 2; ++c) {
            std::vector<std::string> products;
            for (size_t p = 0; p < np; ++p) {
              std::string v = accs[p][i][j][2 * h + c];
              if (int8)
                v = e.let("arith.sitofp " + v + " : i32 to f32");
              if (!xs.empty())
                v = e.let("arith.mulf " + v + ", " + xs + " : f32");
              if (!colScale[p][j].empty())
                v = e.let("arith.mulf " + v + ", " + colScale[p][j][c] + " : f32");
              if (!colBias[p][j].empty())
                v = e.let("arith.addf " + v + ", " + colBias[p][j][c] + " : f32");
              products.push_back(v);
            }
            std::string v = products[0];
            if (r.gate) {
              v = applyEpilogueStep(e, EpilogueStep{*r.gate, ""}, v, "");
              v = applyEpilogueStep(
                  e, EpilogueStep{EpilogueStep::Kind::MulTensor, "f32"}, v,
                  products[1]);
            }
            // Tensor operands read at the clamped position (the store is
            // guarded instead).
            v = applyEpilogue(e, r.epilogue, E, v, e.minu(row, lastM),
                              e.minu(colIdx[j][c], lastN));
            if (r.yType != "f32")
              v = e.let("arith.truncf " + v + " : f32 to " + r.yType);
            std::string in = e.andi(rowIn, colIn[j][c]);
            e.line("scf.if " + in + " {");
            e.line("  memref.store " + v + ", " + Y + "[" + row + ", " +
                   colIdx[j][c] + "] : memref<?x?x" + r.yType + ">");
            e.line("}");
          }
      }
  }

  /// The K loop over the current B (and its scales) into fresh
  /// accumulators: the pipeline's first STAGES - 1 tiles, then one step per
  /// tile (with grouped scales applied per group).
  Acc mainLoop() {
    Acc acc = zeros();
    int64_t tilesPerGroup = grouped ? r.group / r.bk : 0;
    std::string numGroups;
    if (grouped) {
      // ceil(K / G) groups of G / BK tiles; a K that G does not divide (only
      // possible when K is dynamic, against the op's contract) reads zeros
      // past K and the last group's scale.
      numGroups = e.div(e.addConst(K, r.group - 1), r.group);
      numTiles = e.mul(numGroups, e.idx(tilesPerGroup));
    } else {
      numTiles = e.div(e.addConst(K, r.bk - 1), r.bk);
    }

    // Prologue: the first STAGES - 1 tiles in flight.
    for (int64_t s = 0; s + 1 < r.stages; ++s) {
      loadTile(e.idx(s), e.idx(s));
      e.line("nvvm.cp.async.commit.group");
    }

    if (!grouped) {
      std::string kt = e.fresh("kt");
      auto results = openLoop(kt, e.idx(0), numTiles, acc);
      pipelineStep(kt, acc);
      closeLoop(acc, results);
    } else {
      std::string grp = e.fresh("grp");
      auto outer = openLoop(grp, e.idx(0), numGroups, acc);
      Acc part = zeros();
      std::string t = e.fresh("t");
      auto inner = openLoop(t, e.idx(0), e.idx(tilesPerGroup), part);
      std::string kt = e.add(e.mul(grp, e.idx(tilesPerGroup)), t);
      pipelineStep(kt, part);
      closeLoop(part, inner);
      // acc += part * scale[n, group].
      std::string lastN = e.let("arith.subi " + N + ", " + e.idx(1) + " : index");
      std::string lastG =
          e.let("arith.subi " + e.let("memref.dim " + S + ", " + e.idx(1) +
                                      " : " + memrefS()) +
                ", " + e.idx(1) + " : index");
      std::string sg = e.minu(grp, lastG);
      for (int64_t j = 0; j < wn; ++j)
        for (int c = 0; c < 2; ++c) {
          std::string col = e.minu(
              e.add(n0, e.add(wCol, e.addConst(e.mul(q, e.idx(2)), j * 8 + c))),
              lastN);
          std::string s = toF32(e,
                                e.let("memref.load " + S + "[" + col + ", " +
                                      sg + "] : " + memrefS()),
                                r.scaleType);
          for (int64_t i = 0; i < wm; ++i)
            for (int h = 0; h < 2; ++h) {
              std::string &a = acc[i][j][2 * h + c];
              std::string p = e.let("arith.mulf " + part[i][j][2 * h + c] +
                                    ", " + s + " : f32");
              a = e.let("arith.addf " + a + ", " + p + " : f32", "acc");
            }
        }
      closeLoop(acc, outer);
    }
    return acc;
  }

  //===--------------------------------------------------------------------===//
  // The kernel
  //===--------------------------------------------------------------------===//

  std::string run() {
    std::string sig = signature();
    tid = e.let("gpu.thread_id x", "tid");
    std::string bx = e.let("gpu.block_id x", "bid");
    std::string by = e.let("gpu.block_id y", "bid");
    pickPart(bx);
    M = e.let("memref.dim " + A + ", " + e.idx(0) + " : " + memrefA(), "M");
    K = e.let("memref.dim " + A + ", " + e.idx(1) + " : " + memrefA(), "K");
    N = e.let("memref.dim " + B + ", " + e.idx(0) + " : " + memrefB(), "N");
    KB = e.let("memref.dim " + B + ", " + e.idx(1) + " : " + memrefB(), "KB");
    n0 = e.mul(bx, e.idx(r.bn));
    m0 = e.mul(by, e.idx(r.bm));
    std::string warp = e.div(tid, 32);
    lane = e.rem(tid, 32);
    g = e.div(lane, 4);
    q = e.rem(lane, 4);
    wRow = e.mul(e.div(warp, r.warpsN), e.idx(wtm));
    wCol = e.mul(e.rem(warp, r.warpsN), e.idx(wtn));

    std::string smem = e.let(std::string("gpu.dynamic_shared_memory : memref<?xi8, ") +
                             kSmemSpace + ">",
                             "smem");
    int64_t bytesA = r.stages * r.bm * strideA * memBytes(r.aType);
    // A view of the dynamic shared memory from byte `offset` as `type`.
    auto view = [&](int64_t offset, const std::string &type,
                    const std::string &name) {
      return e.let("memref.view " + smem + "[" + e.idx(offset) +
                       "][] : memref<?xi8, " + kSmemSpace + "> to " + type,
                   name);
    };
    As = view(0, smemA, "As");
    Bs = view(bytesA, smemB, "Bs");
    ldA = As;
    ldB = Bs;
    if (fp8) {
      ldA = view(0, ldTypeA, "As");
      ldB = view(bytesA, ldTypeB, "Bs");
    }

    // The cp.async path needs 16-byte aligned rows of both operands.
    auto alignedRows = [&](const std::string &v, const std::string &type,
                           const std::string &cols, int64_t bytes) {
      std::string p = e.let("memref.extract_aligned_pointer_as_index " + v +
                            " : " + type + " -> index");
      std::string rowBytes = e.mul(cols, e.idx(bytes));
      std::string bits = e.let("arith.ori " + p + ", " + rowBytes + " : index");
      std::string low = e.rem(bits, 16);
      return e.let("arith.cmpi eq, " + low + ", " + e.idx(0) + " : index", "p");
    };
    aligned = e.andi(alignedRows(A, memrefA(), K, memBytes(r.aType)),
                     alignedRows(B, memrefB(), KB, memBytes(r.bType)));

    std::vector<Acc> accs{mainLoop()};
    if (r.gate) {
      // The up projection's pass: every load of the gate's pass has landed
      // and every thread is done with the stages before they are reused.
      e.line("nvvm.cp.async.wait.group 0");
      e.line("gpu.barrier");
      B = partB[1];
      if (!S.empty())
        S = partS[1];
      aligned = e.andi(alignedRows(A, memrefA(), K, memBytes(r.aType)),
                       alignedRows(B, memrefB(), KB, memBytes(r.bType)));
      accs.push_back(mainLoop());
    }
    e.line("nvvm.cp.async.wait.group 0");
    epilogue(accs);

    std::ostringstream os;
    os << "gpu.module @recipe {\n"
       << "  gpu.func @" << r.name() << "(" << sig
       << ") kernel attributes {known_block_size = array<i32: " << r.threads()
       << ", 1, 1>} {\n"
       << e.header << e.body << "    gpu.return\n  }\n}\n";
    return os.str();
  }
};

} // namespace

std::string applyEpilogueStep(recipe::TextEmitter &e, const EpilogueStep &step,
                              const std::string &v, const std::string &operand) {
  using Kind = EpilogueStep::Kind;
  auto f32 = [&](const std::string &value) {
    return e.let("arith.constant " + value + " : f32");
  };
  auto binary = [&](const char *op, const std::string &a, const std::string &b) {
    return e.let(std::string(op) + " " + a + ", " + b + " : f32");
  };
  switch (step.kind) {
  case Kind::AddTensor:
    return binary("arith.addf", v, operand);
  case Kind::MulTensor:
    return binary("arith.mulf", v, operand);
  case Kind::Silu: {
    std::string neg = e.let("arith.negf " + v + " : f32");
    std::string ex = e.let("math.exp " + neg + " : f32");
    return binary("arith.divf", v, binary("arith.addf", ex, f32("1.0")));
  }
  case Kind::Gelu: {
    std::string t = binary("arith.mulf", v, f32("0.70710678118654752"));
    std::string erf = e.let("math.erf " + t + " : f32");
    std::string one = binary("arith.addf", erf, f32("1.0"));
    return binary("arith.mulf", binary("arith.mulf", v, f32("0.5")), one);
  }
  case Kind::GeluTanh: {
    std::string x2 = binary("arith.mulf", v, v);
    std::string x3 = binary("arith.mulf", x2, v);
    std::string c = binary("arith.mulf", x3, f32("0.044715"));
    std::string inner = binary("arith.addf", v, c);
    std::string scaled = binary("arith.mulf", inner, f32("0.79788456080286536"));
    std::string th = e.let("math.tanh " + scaled + " : f32");
    std::string one = binary("arith.addf", th, f32("1.0"));
    return binary("arith.mulf", binary("arith.mulf", v, f32("0.5")), one);
  }
  }
  return v;
}

std::string GemmRecipe::name() const {
  std::string kindName = kind == GemmKind::Linear    ? "linear"
                         : kind == GemmKind::QLinear ? "qlinear"
                                                     : "qmatmul";
  std::string s = "loom_gemm_" + kindName + "_" + aType + "_" + bType;
  if (kind == GemmKind::QLinear)
    s += "_" + scaleType + "_g" + str(group);
  s += "_" + (biasType.empty() ? std::string("nobias") : biasType) + "_" + yType;
  s += "_" + str(bm) + "x" + str(bn) + "x" + str(bk) + "_w" + str(warpsM) +
       "x" + str(warpsN) + "_s" + str(stages);
  if (parts > 1)
    s += "_x" + str(parts);
  if (gate)
    s += std::string("_gate_") + (*gate == EpilogueStep::Kind::Silu   ? "silu"
                                  : *gate == EpilogueStep::Kind::Gelu ? "gelu"
                                                                      : "gelutanh");
  return s + epilogueSuffix(epilogue);
}

std::vector<std::string>
epilogueArguments(const std::vector<EpilogueStep> &epilogue,
                  std::vector<std::string> &args) {
  std::vector<std::string> names;
  for (size_t i = 0; i < epilogue.size(); ++i) {
    if (!epilogue[i].takesTensor()) {
      names.push_back("");
      continue;
    }
    names.push_back("%E" + str(static_cast<int64_t>(i)));
    args.push_back(names.back() + ": memref<?x?x" + epilogue[i].tensorType +
                   ">");
  }
  return names;
}

std::string applyEpilogue(recipe::TextEmitter &e,
                          const std::vector<EpilogueStep> &epilogue,
                          const std::vector<std::string> &tensors,
                          std::string v, const std::string &row,
                          const std::string &col) {
  for (size_t i = 0; i < epilogue.size(); ++i) {
    const EpilogueStep &step = epilogue[i];
    std::string operand;
    if (step.takesTensor())
      operand = toF32(e,
                      e.let("memref.load " + tensors[i] + "[" + row + ", " +
                            col + "] : memref<?x?x" + step.tensorType + ">"),
                      step.tensorType);
    v = applyEpilogueStep(e, step, v, operand);
  }
  return v;
}

int64_t GemmRecipe::sharedBytes() const {
  int64_t rowA = bk * memBytes(aType) + 16;
  int64_t rowB = (bType == "i4" ? bk / 2 : bk) * memBytes(bType) + 16;
  return stages * (bm * rowA + bn * rowB);
}

std::string GemmRecipe::check() const {
  if (bm % (16 * warpsM) || bn % (16 * warpsN))
    return "tile " + str(bm) + "x" + str(bn) +
           " is not a multiple of the warp grid's m16 x n16";
  if ((bk * memBytes(aType)) % 32)
    return "BK must span a multiple of 32 bytes of A";
  if (bType == "i4" && (bk / 2) % 16)
    return "BK of i4 weights must span a multiple of 16 bytes";
  if (stages < 2)
    return "at least two pipeline stages";
  if (parts < 1)
    return "at least one part";
  if (gate && (parts != 2 || (*gate != EpilogueStep::Kind::Silu &&
                                *gate != EpilogueStep::Kind::Gelu &&
                                *gate != EpilogueStep::Kind::GeluTanh)))
    return "a gated product has two parts and a SiLU or GELU gate";
  if (parts > 1 && !gate && !epilogue.empty())
    return "a horizontal product (parts > 1) takes no epilogue";
  if (kind == GemmKind::QLinear) {
    if (!isFloat16(aType) || (bType != "i8" && bType != "i4"))
      return "qlinear takes bf16/f16 activations and i8/i4 weights";
    if (group < 0 || (group > 0 && group % bk))
      return "group size must be 0 or a multiple of BK";
  } else if (kind == GemmKind::QMatmul) {
    if ((aType != "i8" && !isFp8(aType)) || bType != aType)
      return "qmatmul takes i8 x i8 or f8E4M3FN x f8E4M3FN";
  } else if (!isFloat16(aType) || bType != aType) {
    return "linear takes bf16 or f16 operands";
  }
  return "";
}

std::string GemmRecipe::text() const {
  assert(check().empty() && "invalid GEMM recipe");
  return Generator(*this).run();
}

} // namespace gpu
} // namespace loom
