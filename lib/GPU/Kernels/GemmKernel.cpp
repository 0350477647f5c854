//===- GemmKernel.cpp - Loom's tensor-core GEMM kernels --------------------===//
//
// Builds the gpu.func of one GemmKernelConfig (see GemmKernel.h for the
// schedule). Layout facts the builder relies on, per warp of 32 lanes with
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
//
// Where two values do not depend on each other the builder creates them in
// the order the kernel's earlier text generator emitted them (GCC evaluated
// its nested calls right to left), so that the PTX stayed the same.

#include "loom/GPU/Kernels/GemmKernel.h"

#include "loom/GPU/Builder/AsyncCopy.h"
#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Mma.h"

// Only for the text epilogue at the end of this file (F32GemmKernel.cpp's).

#include <cassert>

using namespace mlir;

namespace loom {
namespace gpu {
namespace {

using Values = KernelBuilder::Values;
/// Accumulators: [m16 tile i][n8 tile j][register 0..3].
using Acc = std::vector<std::vector<Values>>;

bool isFloat16(const std::string &t) { return t == "bf16" || t == "f16"; }
bool isFp8(const std::string &t) { return t == "f8E4M3FN"; }

/// Bytes of one element in memory (i4 counts as the i8 holding two).
int64_t memBytes(const std::string &t) { return isFloat16(t) ? 2 : 1; }
/// The element type of the operand's buffer.
std::string memType(const std::string &t) { return t == "i4" ? "i8" : t; }

/// The kernel's arguments (GemmKernel.h), with the position of the first
/// of each kind (-1 when absent; B, the scales, the bias and Y have one per
/// part in turn, a gated product one Y).
struct Arguments {
  SmallVector<Type> types;
  int posA = -1, posXs = -1, posB = -1, posScale = -1, posBias = -1, posY = -1;
  std::vector<int> epilogue;

  Arguments(MLIRContext *ctx, const GemmKernelConfig &c) {
    auto type = [&](const std::string &name) {
      return parseElementType(ctx, name);
    };
    bool grouped = c.kind == GemmKind::QLinear && c.group > 0;
    auto add = [&](int64_t count, Type t) {
      int first = static_cast<int>(types.size());
      types.append(count, t);
      return first;
    };
    posA = add(1, dynamicMemRefType(2, type(memType(c.aType))));
    if (c.kind == GemmKind::QMatmul)
      posXs = add(1, dynamicMemRefType(1, type("f32")));
    posB = add(c.parts, dynamicMemRefType(2, type(memType(c.bType))));
    if (c.kind == GemmKind::QLinear)
      posScale =
          add(c.parts, dynamicMemRefType(grouped ? 2 : 1, type(c.scaleType)));
    else if (c.kind == GemmKind::QMatmul)
      posScale = add(c.parts, dynamicMemRefType(1, type("f32")));
    if (!c.biasType.empty())
      posBias = add(c.parts, dynamicMemRefType(1, type(c.biasType)));
    posY = add(c.gate ? 1 : c.parts, dynamicMemRefType(2, type(c.yType)));
    epilogue = appendEpilogueArguments(ctx, c.epilogue, types);
  }
};

struct Generator {
  const GemmKernelConfig &r;
  KernelBuilder &b;
  Arguments args;

  // Derived shape facts.
  bool fp8, int8, qlinear, grouped, i4;
  int64_t wtm, wtn, wm, wn, rowBytesA, rowBytesB, strideA, strideB, epcA,
      epcB, unitsB, steps;
  Type accType, yType;
  /// The operand type of the mma (fp8 is multiplied as f16).
  MmaType mmaType;
  /// The shared tiles, and the same as ldmatrix reads them (fp8 as i8).
  MemRefType smemA, smemB, ldTypeA, ldTypeB;

  // Values of the kernel.
  Value A, Xs, B, S, Bias, Y, M, N, K, KB, tid, lane, g, q, m0, n0, wRow, wCol,
      As, Bs, ldA, ldB, aligned, numTiles;
  /// The parts' arguments (horizontal fusion; one each without it).
  Values partB, partS, partBias, partY;

  Generator(const GemmKernelConfig &c, KernelBuilder &builder)
      : r(c), b(builder), args(builder.getContext(), c) {
    MLIRContext *ctx = b.getContext();
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
    Type aMem = parseElementType(ctx, memType(r.aType));
    Type bMem = parseElementType(ctx, memType(r.bType));
    smemA = sharedMemRefType({r.stages, r.bm, strideA}, aMem);
    smemB = sharedMemRefType({r.stages, r.bn, strideB}, bMem);
    ldTypeA = fp8 ? sharedMemRefType({r.stages, r.bm, strideA}, b.getI8Type())
                  : smemA;
    ldTypeB = fp8 ? sharedMemRefType({r.stages, r.bn, strideB}, b.getI8Type())
                  : smemB;
    accType = int8 ? Type(b.getI32Type()) : Type(b.getF32Type());
    yType = parseElementType(ctx, r.yType);
    mmaType = fp8 || r.aType == "f16" ? MmaType::F16
              : int8                  ? MmaType::S8
                                      : MmaType::BF16;

    A = b.arg(args.posA);
    if (args.posXs >= 0)
      Xs = b.arg(args.posXs);
    auto perPart = [&](int first, int64_t count, Values &values) {
      for (int64_t i = 0; i < count; ++i)
        values.push_back(b.arg(first + i));
      return values.front();
    };
    B = perPart(args.posB, r.parts, partB);
    if (args.posScale >= 0)
      S = perPart(args.posScale, r.parts, partS);
    if (args.posBias >= 0)
      Bias = perPart(args.posBias, r.parts, partBias);
    Y = perPart(args.posY, r.gate ? 1 : r.parts, partY);
  }

  /// With several parts: the block's part decides B, the scales, the bias
  /// and Y, and `bx` becomes the block's column tile within its part.
  void pickPart(Value &bx) {
    if (r.parts == 1 || r.gate)
      return;
    Value start = b.idx(0), offset = b.idx(0);
    Values starts;
    for (int64_t i = 0; i < r.parts; ++i) {
      starts.push_back(start);
      Value n = b.dim(partB[i], 0);
      Value tiles = b.divuConst(b.addConst(n, r.bn - 1), r.bn);
      start = b.add(start, tiles);
    }
    for (int64_t i = 1; i < r.parts; ++i) {
      Value in = b.ule(starts[i], bx);
      B = b.select(in, partB[i], B);
      if (S)
        S = b.select(in, partS[i], S);
      if (Bias)
        Bias = b.select(in, partBias[i], Bias);
      Y = b.select(in, partY[i], Y);
      offset = b.select(in, starts[i], offset);
    }
    bx = b.sub(bx, offset);
  }

  //===--------------------------------------------------------------------===//
  // Loading a K tile into a pipeline stage
  //===--------------------------------------------------------------------===//

  /// Copies the `rows` x `units` tile of `src` (rows from `row0`, columns from
  /// `col0`, `epc` elements a 16-byte chunk) into `dst[stage]`; what lies
  /// outside `numRows` x `numCols` reads as zero. `fast`: by 16-byte cp.async
  /// copies (rows 16-byte aligned), else element by element.
  void loadOperand(Value src, Value dst, int64_t rows, int64_t units,
                   int64_t epc, Value stage, Value row0, Value col0,
                   Value numRows, Value numCols, bool fast) {
    int64_t chunksPerRow = units / epc;
    int64_t chunks = rows * chunksPerRow;
    int64_t threads = r.threads();
    for (int64_t c = 0; c * threads < chunks; ++c) {
      Value chunk = b.addConst(tid, c * threads);
      auto copy = [&] {
        Value row = b.divuConst(chunk, chunksPerRow);
        Value col = b.mul(b.remuConst(chunk, chunksPerRow), b.idx(epc));
        Value gRow = b.add(row0, row);
        Value gCol = b.add(col0, col);
        Value rowIn = b.ult(gRow, numRows);
        if (fast) {
          // Whole chunks: the row length is a multiple of 16 bytes.
          Value in = b.andi(rowIn, b.ult(gCol, numCols));
          Value r0 = b.select(in, gRow, b.idx(0));
          Value c0 = b.select(in, gCol, b.idx(0));
          Value n = b.select(in, b.idx(epc), b.idx(0));
          asyncCopy(b, dst, {stage, row, col}, src, {r0, c0}, epc, n,
                    /*bypassL1=*/true);
          return;
        }
        Type elem = cast<MemRefType>(dst.getType()).getElementType();
        for (int64_t i = 0; i < epc; ++i) {
          Value k = b.addConst(gCol, i);
          Value in = b.andi(rowIn, b.ult(k, numCols));
          Value v = b.ifThenElse(
              in, elem, [&] { return b.load(src, {gRow, k}); },
              [&] { return b.zero(elem); });
          Value at = b.addConst(col, i);
          b.store(v, dst, {stage, row, at});
        }
      };
      if ((c + 1) * threads > chunks)
        b.ifThen(b.ult(chunk, b.idx(chunks)), copy);
      else
        copy();
    }
  }

  /// Starts loading K tile `tile` (if it exists) into pipeline stage `stage`.
  void loadTile(Value tile, Value stage) {
    Value exists = b.ult(tile, numTiles);
    b.ifThen(exists, [&] {
      Value colA = b.mul(tile, b.idx(r.bk));
      Value colB = b.mul(tile, b.idx(unitsB));
      auto load = [&](bool fast) {
        loadOperand(A, As, r.bm, r.bk, epcA, stage, m0, colA, M, K, fast);
        loadOperand(B, Bs, r.bn, unitsB, epcB, stage, n0, colB, N, KB, fast);
      };
      b.ifThenElse(aligned, [&] { load(true); }, [&] { load(false); });
    });
  }

  //===--------------------------------------------------------------------===//
  // Fragments and mma
  //===--------------------------------------------------------------------===//

  /// The qlinear B operand (a bf16/f16 pair) of n8 tile row `n`, K slice
  /// `k0` (elements) of stage `stage`.
  Value weightPair(Value stage, Value n, Value k0) {
    auto bytePair = VectorType::get({2}, b.getI8Type());
    Value pair;
    if (!i4) {
      // (Two scalar loads: vector.load of workgroup memory is lowered
      // before its address space is known and reports an error.)
      Value lo = b.load(Bs, {stage, n, k0});
      Value k1 = b.addConst(k0, 1);
      Value hi = b.load(Bs, {stage, n, k1});
      pair = b.fromElements(bytePair, {lo, hi});
    } else {
      Value byte = b.load(Bs, {stage, n, b.divuConst(k0, 2)});
      Value four = b.i8(4);
      Value up = b.shl(byte, four);
      Value lo = b.shrs(up, four);
      Value hi = b.shrs(byte, four);
      pair = b.fromElements(bytePair, {lo, hi});
    }
    Type ft = parseElementType(b.getContext(), r.aType);
    Value f = b.sitofp(VectorType::get({2}, ft), pair);
    return mmaOperand(b, f, mmaType);
  }

  /// Multiplies the tile in `stage` into the accumulators acc[i][j][0..3].
  void compute(Value stage, Acc &acc) {
    bool bytes = fp8 || int8;
    auto aVec = VectorType::get(
        {4, bytes ? 4 : 2},
        bytes ? b.getI8Type() : parseElementType(b.getContext(), r.aType));
    // The registers as ldmatrix returns them (fp8: four e4m3 values an i32).
    MmaType regType = fp8 ? MmaType::S8 : mmaType;
    int64_t esA = memBytes(r.aType);
    Value laneRowA = b.remuConst(lane, 16);
    Value laneColA = b.mul(b.divuConst(lane, 16), b.idx(16 / esA));
    Value lane8 = b.remuConst(lane, 8);
    Value laneRowB = b.add(b.mul(b.divuConst(lane, 16), b.idx(8)), lane8);
    Value laneColB = b.mul(b.remuConst(b.divuConst(lane, 8), 2),
                           b.idx(16 / memBytes(r.bType)));
    for (int64_t s = 0; s < steps; ++s) {
      // A fragments of this 32-byte slice, per m16 tile.
      std::vector<Values> aRegs(wm);
      Value colA = b.addConst(laneColA, s * 32 / esA);
      for (int64_t i = 0; i < wm; ++i) {
        Value row = b.add(wRow, b.addConst(laneRowA, i * 16));
        Value v = ldmatrix(b, ldA, {stage, row, colA}, 4, false, aVec);
        for (int64_t x = 0; x < 4; ++x)
          aRegs[i].push_back(ldmatrixRegister(b, v, x, regType));
      }
      // B fragments, per n8 tile: bRegs[j] = (b0, b1) of the slice (for fp8
      // the raw registers of the two 16-byte halves).
      std::vector<Values> bRegs(wn);
      if (qlinear) {
        Value kq = b.addConst(b.mul(q, b.idx(2)), s * 16);
        Value kq8 = b.addConst(kq, 8);
        for (int64_t j = 0; j < wn; ++j) {
          Value n = b.add(wCol, b.addConst(g, j * 8));
          Value lo = weightPair(stage, n, kq);
          Value hi = weightPair(stage, n, kq8);
          bRegs[j] = {lo, hi};
        }
      } else {
        Value colB = b.addConst(laneColB, s * 32 / memBytes(r.bType));
        for (int64_t j = 0; j < wn; j += 2) {
          Value row = b.add(wCol, b.addConst(laneRowB, j * 8));
          Value v = ldmatrix(b, ldB, {stage, row, colB}, 4, false, aVec);
          for (int64_t x = 0; x < 4; ++x)
            bRegs[j + x / 2].push_back(ldmatrixRegister(b, v, x, regType));
        }
      }
      auto mma = [&](ValueRange a, ValueRange bb, Values &c) {
        SmallVector<Value, 4> d = mmaSync(b, mmaType, a, bb, c);
        c.assign(d.begin(), d.end());
      };
      if (!fp8) {
        for (int64_t i = 0; i < wm; ++i)
          for (int64_t j = 0; j < wn; ++j)
            mma(aRegs[i], bRegs[j], acc[i][j]);
        continue;
      }
      // fp8: two k16 f16 mmas per slice, on the converted pairs.
      for (int half = 0; half < 2; ++half) {
        std::vector<Values> bh(wn);
        for (int64_t j = 0; j < wn; ++j) {
          Value lo = fp8PairToF16x2(b, bRegs[j][half], 0);
          Value hi = fp8PairToF16x2(b, bRegs[j][half], 1);
          bh[j] = {lo, hi};
        }
        for (int64_t i = 0; i < wm; ++i) {
          Value lo = aRegs[i][2 * half], hi = aRegs[i][2 * half + 1];
          Values a;
          a.push_back(fp8PairToF16x2(b, lo, 0));
          a.push_back(fp8PairToF16x2(b, hi, 0));
          a.push_back(fp8PairToF16x2(b, lo, 1));
          a.push_back(fp8PairToF16x2(b, hi, 1));
          for (int64_t j = 0; j < wn; ++j)
            mma(a, bh[j], acc[i][j]);
        }
      }
    }
  }

  //===--------------------------------------------------------------------===//
  // The K loop
  //===--------------------------------------------------------------------===//

  Values flat(const Acc &acc) {
    Values out;
    for (auto &i : acc)
      for (auto &j : i)
        out.append(j.begin(), j.end());
    return out;
  }

  /// The accumulators carried as `values` (in the order of flat()).
  Acc unflat(ValueRange values) {
    Acc acc(wm, std::vector<Values>(wn));
    size_t n = 0;
    for (auto &i : acc)
      for (auto &j : i)
        for (int x = 0; x < 4; ++x)
          j.push_back(values[n++]);
    return acc;
  }

  Acc zeros() {
    Value z = b.zero(accType);
    return Acc(wm, std::vector<Values>(wn, Values(4, z)));
  }

  /// One iteration of the pipeline: wait for tile `kt`, start loading tile
  /// kt + STAGES - 1, multiply tile kt.
  void pipelineStep(Value kt, Acc &acc) {
    waitAsyncCopies(b, r.stages - 2);
    // Tile kt is visible to every thread, and every thread is done with the
    // stage the next load overwrites (it held tile kt - 1).
    b.barrier();
    Value next = b.addConst(kt, r.stages - 1);
    Value nextStage = b.remuConst(next, r.stages);
    loadTile(next, nextStage);
    commitAsyncCopies(b);
    compute(b.remuConst(kt, r.stages), acc);
  }

  /// The K loop over the current B (and its scales) into fresh
  /// accumulators: the pipeline's first STAGES - 1 tiles, then one step per
  /// tile (with grouped scales applied per group).
  Acc mainLoop() {
    Acc acc = zeros();
    int64_t tilesPerGroup = grouped ? r.group / r.bk : 0;
    Value numGroups;
    if (grouped) {
      // ceil(K / G) groups of G / BK tiles; a K that G does not divide (only
      // possible when K is dynamic, against the op's contract) reads zeros
      // past K and the last group's scale.
      numGroups = b.divuConst(b.addConst(K, r.group - 1), r.group);
      numTiles = b.mul(numGroups, b.idx(tilesPerGroup));
    } else {
      numTiles = b.divuConst(b.addConst(K, r.bk - 1), r.bk);
    }

    // Prologue: the first STAGES - 1 tiles in flight.
    for (int64_t s = 0; s + 1 < r.stages; ++s) {
      loadTile(b.idx(s), b.idx(s));
      commitAsyncCopies(b);
    }

    if (!grouped)
      return unflat(b.forLoop(b.idx(0), numTiles, b.idx(1), flat(acc),
                              [&](Value kt, ValueRange carried) {
                                Acc a = unflat(carried);
                                pipelineStep(kt, a);
                                return flat(a);
                              }));
    Values total = b.forLoop(
        b.idx(0), numGroups, b.idx(1), flat(acc),
        [&](Value grp, ValueRange carried) {
          Acc a = unflat(carried);
          Values sums = b.forLoop(
              b.idx(0), b.idx(tilesPerGroup), b.idx(1), flat(zeros()),
              [&](Value t, ValueRange partial) {
                Acc p = unflat(partial);
                Value kt = b.add(b.mul(grp, b.idx(tilesPerGroup)), t);
                pipelineStep(kt, p);
                return flat(p);
              });
          Acc part = unflat(sums);
          // acc += part * scale[n, group].
          Value lastN = b.sub(N, b.idx(1));
          Value lastG = b.sub(b.dim(S, 1), b.idx(1));
          Value sg = b.minu(grp, lastG);
          for (int64_t j = 0; j < wn; ++j)
            for (int c = 0; c < 2; ++c) {
              Value col = b.add(
                  n0, b.add(wCol, b.addConst(b.mul(q, b.idx(2)), j * 8 + c)));
              Value safe = b.minu(col, lastN);
              Value s = b.toF32(b.load(S, {safe, sg}));
              for (int64_t i = 0; i < wm; ++i)
                for (int h = 0; h < 2; ++h) {
                  Value p = b.fmul(part[i][j][2 * h + c], s);
                  a[i][j][2 * h + c] = b.fadd(a[i][j][2 * h + c], p);
                }
            }
          return flat(a);
        });
    return unflat(total);
  }

  //===--------------------------------------------------------------------===//
  // Epilogue
  //===--------------------------------------------------------------------===//

  /// Stores the tile: per element the f32 product of each part in `accs`
  /// (one, or the gate and up parts of a gated product) with its scales and
  /// bias, gated, through the epilogue, rounded once and stored in range.
  void epilogue(std::vector<Acc> &accs) {
    Value one = b.idx(1);
    Value lastN = b.sub(N, one);
    Value lastM = b.sub(M, one);
    size_t np = accs.size();
    // Per column (j, c): index and in-range bit; per part, the column's
    // factors.
    std::vector<Values> colIdx(wn), colIn(wn);
    std::vector<std::vector<Values>> colScale(np, std::vector<Values>(wn)),
        colBias(np, std::vector<Values>(wn));
    for (int64_t j = 0; j < wn; ++j)
      for (int c = 0; c < 2; ++c) {
        Value col =
            b.add(n0, b.add(wCol, b.addConst(b.mul(q, b.idx(2)), j * 8 + c)));
        Value safe = b.minu(col, lastN);
        colIdx[j].push_back(col);
        colIn[j].push_back(b.ult(col, N));
        for (size_t p = 0; p < np; ++p) {
          // The block's factors, or the gated product's per part.
          Value scale = r.gate && !partS.empty() ? partS[p] : S;
          Value bias = r.gate && !partBias.empty() ? partBias[p] : Bias;
          if (scale && !grouped)
            colScale[p][j].push_back(b.toF32(b.load(scale, {safe})));
          if (bias)
            colBias[p][j].push_back(b.toF32(b.load(bias, {safe})));
        }
      }
    for (int64_t i = 0; i < wm; ++i)
      for (int h = 0; h < 2; ++h) {
        Value row = b.add(m0, b.add(wRow, b.addConst(g, i * 16 + h * 8)));
        Value rowIn = b.ult(row, M);
        Value xs;
        if (Xs)
          xs = b.load(Xs, {b.minu(row, lastM)});
        for (int64_t j = 0; j < wn; ++j)
          for (int c = 0; c < 2; ++c) {
            Values products;
            for (size_t p = 0; p < np; ++p) {
              Value v = accs[p][i][j][2 * h + c];
              if (int8)
                v = b.sitofp(b.getF32Type(), v);
              if (xs)
                v = b.fmul(v, xs);
              if (!colScale[p][j].empty())
                v = b.fmul(v, colScale[p][j][c]);
              if (!colBias[p][j].empty())
                v = b.fadd(v, colBias[p][j][c]);
              products.push_back(v);
            }
            Value v = products[0];
            if (r.gate) {
              v = applyEpilogueStep(b, EpilogueStep{*r.gate, ""}, v);
              v = applyEpilogueStep(
                  b, EpilogueStep{EpilogueStep::Kind::MulTensor, "f32"}, v,
                  products[1]);
            }
            // Tensor operands read at the clamped position (the store is
            // guarded instead).
            Value colSafe = b.minu(colIdx[j][c], lastN);
            Value rowSafe = b.minu(row, lastM);
            v = applyEpilogue(b, r.epilogue, args.epilogue, v, rowSafe,
                              colSafe);
            v = b.roundTo(yType, v);
            Value in = b.andi(rowIn, colIn[j][c]);
            b.ifThen(in, [&] { b.store(v, Y, {row, colIdx[j][c]}); });
          }
      }
  }

  //===--------------------------------------------------------------------===//
  // The kernel
  //===--------------------------------------------------------------------===//

  void build() {
    tid = b.threadId(mlir::gpu::Dimension::x);
    Value bx = b.blockId(mlir::gpu::Dimension::x);
    Value by = b.blockId(mlir::gpu::Dimension::y);
    pickPart(bx);
    M = b.dim(A, 0);
    K = b.dim(A, 1);
    N = b.dim(B, 0);
    KB = b.dim(B, 1);
    n0 = b.mul(bx, b.idx(r.bn));
    m0 = b.mul(by, b.idx(r.bm));
    Value warp = b.divuConst(tid, 32);
    lane = b.remuConst(tid, 32);
    g = b.divuConst(lane, 4);
    q = b.remuConst(lane, 4);
    wRow = b.mul(b.divuConst(warp, r.warpsN), b.idx(wtm));
    wCol = b.mul(b.remuConst(warp, r.warpsN), b.idx(wtn));

    Value smem = b.dynamicSharedMemory();
    int64_t bytesA = r.stages * r.bm * strideA * memBytes(r.aType);
    As = b.view(smem, 0, smemA);
    Bs = b.view(smem, bytesA, smemB);
    ldA = As;
    ldB = Bs;
    if (fp8) {
      ldA = b.view(smem, 0, ldTypeA);
      ldB = b.view(smem, bytesA, ldTypeB);
    }

    // The cp.async path needs 16-byte aligned rows of both operands.
    auto alignedRows = [&](Value v, Value cols, int64_t bytes) {
      Value p = b.alignedPointer(v);
      Value rowBytes = b.mul(cols, b.idx(bytes));
      Value bits = b.ori(p, rowBytes);
      Value low = b.remuConst(bits, 16);
      return b.eq(low, b.idx(0));
    };
    auto bothAligned = [&] {
      Value alignedB = alignedRows(B, KB, memBytes(r.bType));
      Value alignedA = alignedRows(A, K, memBytes(r.aType));
      return b.andi(alignedA, alignedB);
    };
    aligned = bothAligned();

    std::vector<Acc> accs{mainLoop()};
    if (r.gate) {
      // The up projection's pass: every load of the gate's pass has landed
      // and every thread is done with the stages before they are reused.
      waitAsyncCopies(b, 0);
      b.barrier();
      B = partB[1];
      if (S)
        S = partS[1];
      aligned = bothAligned();
      accs.push_back(mainLoop());
    }
    waitAsyncCopies(b, 0);
    epilogue(accs);
  }
};

} // namespace

std::string GemmKernelConfig::kernelName() const {
  auto str = [](int64_t v) { return std::to_string(v); };
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

int64_t GemmKernelConfig::sharedBytes() const {
  int64_t rowA = bk * memBytes(aType) + 16;
  int64_t rowB = (bType == "i4" ? bk / 2 : bk) * memBytes(bType) + 16;
  return stages * (bm * rowA + bn * rowB);
}

std::string GemmKernelConfig::check() const {
  auto str = [](int64_t v) { return std::to_string(v); };
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

FailureOr<SymbolRefAttr> buildGemmKernel(ModuleOp module, Location loc,
                                         const GemmKernelConfig &c) {
  assert(c.check().empty() && "invalid GEMM kernel config");
  KernelSignature sig;
  sig.arguments = Arguments(module.getContext(), c).types;
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).build(); });
}

} // namespace gpu
} // namespace loom
