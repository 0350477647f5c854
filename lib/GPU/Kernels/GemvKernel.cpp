//===- GemvKernel.cpp - Loom's decode-sized (M <= 16) linear kernels ------===//
//
// Builds the gpu.func of one GemvKernelConfig (see GemvKernel.h for the
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
//
// Where two values do not depend on each other the builder creates them in
// the order the kernel's earlier text generator emitted them (GCC evaluated
// its nested calls right to left), so that the PTX stayed the same.

#include "loom/GPU/Kernels/GemvKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Mma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <cassert>
#include <vector>

using namespace mlir;

namespace loom {
namespace gpu {
namespace {

using Values = KernelBuilder::Values;

bool isFloat16(const std::string &t) { return t == "bf16" || t == "f16"; }
bool isFloat(const std::string &t) { return isFloat16(t) || t == "f32"; }

/// An i32 constant given by its bits.
Value word(KernelBuilder &b, uint32_t bits) {
  return b.i32(static_cast<int32_t>(bits));
}

/// The 16 bytes at the global address `address` (an i64), as the four i32
/// of an !llvm.struct, through ld.global.nc.L1::no_allocate: the weights are
/// read once, so they neither go through nor evict from L1 (which keeps x);
/// L2::256B prefetches the rest of the row's 256-byte run.
Value streamLoad(KernelBuilder &b, Value address) {
  Type i32 = b.getI32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {i32, i32, i32, i32});
  return b.inlinePtx(result, ValueRange{address},
                     "ld.global.nc.L1::no_allocate.L2::256B.v4.u32 "
                     "{$0, $1, $2, $3}, [$4];",
                     "=r,=r,=r,=r,l");
}

/// The kernel's arguments (GemvKernel.h), with the position of each (-1
/// when absent).
struct Arguments {
  SmallVector<Type> types;
  int posX = -1, posW = -1, posScale = -1, posBias = -1, posY = -1;
  std::vector<int> epilogue;

  Arguments(MLIRContext *ctx, const GemvKernelConfig &c) {
    auto type = [&](const std::string &name) {
      return parseElementType(ctx, name);
    };
    auto add = [&](Type t) {
      types.push_back(t);
      return static_cast<int>(types.size()) - 1;
    };
    bool quantized = c.wType == "i4" || c.wType == "i8";
    posX = add(dynamicMemRefType(2, type(c.xType)));
    posW = add(dynamicMemRefType(2, type(quantized ? "i8" : c.wType)));
    if (c.qlinear)
      posScale =
          add(dynamicMemRefType(c.group > 0 ? 2 : 1, type(c.scaleType)));
    if (!c.biasType.empty())
      posBias = add(dynamicMemRefType(1, type(c.biasType)));
    posY = add(dynamicMemRefType(2, type(c.yType)));
    epilogue = appendEpilogueArguments(ctx, c.epilogue, types);
  }
};

/// The shared buffer of the warps' partial sums: [warp][tile][register]
/// [lane].
MemRefType reductionType(MLIRContext *ctx, const GemvKernelConfig &c) {
  return sharedMemRefType({c.warps, c.tiles, 4, 32}, Float32Type::get(ctx));
}

struct Generator {
  const GemvKernelConfig &r;
  KernelBuilder &b;
  Arguments args;
  bool i4, i8, grouped, f16;
  /// x's element type, a pair of it (one 32-bit register) and the mma's
  /// operand type.
  Type xType;
  VectorType pairType;
  MmaType mmaType;
  Value X, W, S, Bias, Y, M, N, K, lastM, lastN, n0, g, q, lane, warp,
      lastGroup, wBase, wRowBytes;
  Values rowSafe, rowIn; // per row half
  Values colSafe, colIn; // per tile

  Generator(const GemvKernelConfig &c, KernelBuilder &builder)
      : r(c), b(builder), args(builder.getContext(), c) {
    i4 = r.wType == "i4";
    i8 = r.wType == "i8";
    grouped = r.qlinear && r.group > 0;
    f16 = r.xType == "f16";
    xType = parseElementType(b.getContext(), r.xType);
    pairType = VectorType::get({2}, xType);
    mmaType = f16 ? MmaType::F16 : MmaType::BF16;
    X = b.arg(args.posX);
    W = b.arg(args.posW);
    if (args.posScale >= 0)
      S = b.arg(args.posScale);
    if (args.posBias >= 0)
      Bias = b.arg(args.posBias);
    Y = b.arg(args.posY);
  }

  /// The i32 `w` as a pair of x's type (the same bits).
  Value pairOf(Value w) {
    Value v = b.broadcast(VectorType::get({1}, b.getI32Type()), w);
    return b.vbitcast(pairType, v);
  }
  /// `magicWord` (two 16-bit patterns BASE + 8 + value) minus the bias, as
  /// an mma operand.
  Value unbias(Value magicWord, double bias) {
    Value p = pairOf(magicWord);
    Value d = b.fsub(p, b.splatF(pairType, bias));
    return mmaOperand(b, d, mmaType);
  }

  /// The weight words of one K block and tile: 4 (i4), 8 (i8) or 16 (16-bit)
  /// i32, each 0 when out of range.
  Values loadWeights(Value kl, Value ok, int64_t t) {
    int64_t loads = i4 ? 1 : i8 ? 2 : 4;
    int64_t perLoad = i4 ? 32 : i8 ? 16 : 8; // k per 16-byte load
    Type vt = i4 || i8 ? VectorType::get({16}, b.getI8Type())
                       : VectorType::get({8}, xType);
    auto words4 = VectorType::get({4}, b.getI32Type());
    Value zero = b.zero(words4);
    Values words;
    if (r.streamLoads) {
      int64_t eb = i4 || i8 ? 1 : 2;
      Value rowStart = b.add(wBase, b.mul(colSafe[t], wRowBytes));
      for (int64_t l = 0; l < loads; ++l) {
        Value k = b.addConst(kl, l * perLoad);
        Value byte = i4 ? b.divuConst(k, 2) : b.mulConst(k, eb);
        Value address = b.indexCast(b.getI64Type(), b.add(rowStart, byte));
        Value v = streamLoad(b, address);
        for (int64_t i = 0; i < 4; ++i) {
          Value w = LLVM::ExtractValueOp::create(b, v, ArrayRef<int64_t>{i});
          words.push_back(b.select(ok, w, b.i32(0)));
        }
      }
      return words;
    }
    for (int64_t l = 0; l < loads; ++l) {
      Value k = b.addConst(kl, l * perLoad);
      Value col = i4 ? b.divuConst(k, 2) : k;
      Value v = b.vectorLoad(vt, W, {colSafe[t], col}, 16);
      Value s = b.select(ok, b.vbitcast(words4, v), zero);
      for (int64_t i = 0; i < 4; ++i)
        words.push_back(b.extract(s, i));
    }
    return words;
  }

  /// x[row, kl + 8i .. + 7] for i = 0..3, zero when out of range.
  Values loadX(Value kl, Value ok, int64_t h) {
    auto vt = VectorType::get({8}, xType);
    Value zero = b.zero(vt);
    Value p = b.andi(ok, rowIn[h]);
    Values out;
    for (int64_t i = 0; i < 4; ++i) {
      Value k = b.addConst(kl, 8 * i);
      Value v = b.vectorLoad(vt, X, {rowSafe[h], k}, 16);
      out.push_back(b.select(p, v, zero));
    }
    return out;
  }

  /// The A operand pair (slot pair `which` = 0: k 2q, 2q+1; 1: k 2q+8, 2q+9)
  /// of mma j from the x chunks of one row.
  Value aPair(const Values &xs, int64_t j, int which) {
    int64_t h = j % 2;
    int64_t lo, hi;
    if (i4) {
      lo = 2 * h + which;
      hi = lo + 4;
    } else {
      lo = 4 * h + 2 * which;
      hi = lo + 1;
    }
    Value s = b.vshuffle(xs[j / 2], xs[j / 2], {lo, hi});
    return mmaOperand(b, s, mmaType);
  }

  /// The B operand pair (`which` as in aPair) of mma j from a tile's words;
  /// `xored` caches the words with their sign bits flipped.
  Value bPair(const Values &words, int64_t j, int which, Values &xored) {
    if (!i4 && !i8)
      return registerOperand(b, words[2 * j + which], mmaType);
    if (i4) {
      // Word j / 2 holds k 8 * (j / 2) + 0..7; shift 4 * (2h + which).
      int64_t h = j % 2;
      Value &w = xored[j / 2];
      if (!w)
        w = b.xori(words[j / 2], word(b, 0x88888888u));
      int64_t shift = 4 * (2 * h + which);
      Value s = shift ? b.shru(w, b.i32(shift)) : w;
      Value m = b.andi(s, word(b, 0x000F000Fu));
      Value magic = b.ori(m, word(b, f16 ? 0x64006400u : 0x43004300u));
      return unbias(magic, f16 ? 1032 : 136);
    }
    // i8: word j holds k 4j .. 4j+3; `which` takes bytes 2which, 2which+1.
    if (f16) {
      Value &w = xored[j];
      if (!w)
        w = b.xori(words[j], word(b, 0x80808080u));
      Value lo, hi;
      if (which == 0) {
        lo = b.andi(w, word(b, 0xFFu));
        hi = b.andi(b.shl(w, b.i32(8)), word(b, 0xFF0000u));
      } else {
        lo = b.andi(b.shru(w, b.i32(16)), word(b, 0xFFu));
        hi = b.andi(b.shru(w, b.i32(8)), word(b, 0xFF0000u));
      }
      Value magic = b.ori(b.ori(lo, hi), word(b, 0x64006400u));
      return unbias(magic, 1152);
    }
    Value v = b.broadcast(VectorType::get({1}, b.getI32Type()), words[j]);
    Value bytes = b.vbitcast(VectorType::get({4}, b.getI8Type()), v);
    Value s = b.vshuffle(bytes, bytes, {2 * which, 2 * which + 1});
    Value f = b.sitofp(pairType, s);
    return mmaOperand(b, f, mmaType);
  }

  /// One K block: its first k, whether it lies in K, and its operands.
  struct Block {
    Value kb, kl, kIn;
    std::vector<Values> words; // per tile
    std::vector<Values> xs;    // per row half
    /// depth 2 with group-wise scales: scale[col, group of kb] per tile and
    /// column parity (tile-major), loaded with the weights.
    Values scales;

    /// The operands as one list (words, x chunks, scales), for a loop's
    /// iter_args.
    Values flat() const {
      Values out;
      for (const Values &v : words)
        out.append(v.begin(), v.end());
      for (const Values &v : xs)
        out.append(v.begin(), v.end());
      out.append(scales.begin(), scales.end());
      return out;
    }
  };

  Block loadBlock(Value kb) {
    Block blk;
    blk.kb = kb;
    Value lanePart = b.mulConst(q, 32);
    Value blockPart = b.mulConst(kb, GemvKernelConfig::kBlockK);
    blk.kl = b.add(blockPart, lanePart);
    blk.kIn = b.ult(blk.kl, K);
    Value klSafe = b.select(blk.kIn, blk.kl, b.idx(0));
    for (int64_t t = 0; t < r.tiles; ++t) {
      Value ok = b.andi(blk.kIn, colIn[t]);
      blk.words.push_back(loadWeights(klSafe, ok, t));
    }
    for (int64_t h = 0; h < r.rowHalves; ++h)
      blk.xs.push_back(loadX(klSafe, blk.kIn, h));
    if (grouped && r.depth == 2) {
      Value grp = groupOf(kb);
      for (int64_t t = 0; t < r.tiles; ++t)
        for (int c = 0; c < 2; ++c)
          blk.scales.push_back(loadScale(grp, t, c));
    }
    return blk;
  }

  /// The scale group kb * 128 / G of K block `kb` (clamped: a block past K
  /// has a partial sum of 0).
  Value groupOf(Value kb) {
    Value k = b.mulConst(kb, GemvKernelConfig::kBlockK);
    return b.minu(b.divuConst(k, r.group), lastGroup);
  }

  /// scale[n, grp] of column 2q + c of tile t, as f32.
  Value loadScale(Value grp, int64_t t, int c) {
    Value col = b.add(n0, b.addConst(b.mulConst(q, 2), 8 * t + c));
    Value safe = b.minu(col, lastN);
    return b.toF32(b.load(S, {safe, grp}));
  }

  /// The K blocks kb0 .. kb0 + unroll - 1 of one loop iteration.
  std::vector<Block> loadBlocks(Value kb0) {
    std::vector<Block> blocks;
    for (int64_t u = 0; u < r.unroll; ++u)
      blocks.push_back(loadBlock(b.addConst(kb0, u)));
    return blocks;
  }

  /// Blocks kb0 + u rebuilt from operands that flat() listed (carried
  /// through a loop).
  std::vector<Block> unflatten(Value kb0, ValueRange values) {
    std::vector<Block> blocks;
    size_t at = 0;
    auto take = [&](int64_t n) {
      Values v(values.begin() + at, values.begin() + at + n);
      at += n;
      return v;
    };
    for (int64_t u = 0; u < r.unroll; ++u) {
      Block blk;
      blk.kb = b.addConst(kb0, u);
      for (int64_t t = 0; t < r.tiles; ++t)
        blk.words.push_back(take(wordsPerTile()));
      for (int64_t h = 0; h < r.rowHalves; ++h)
        blk.xs.push_back(take(4));
      if (grouped)
        blk.scales = take(2 * r.tiles);
      blocks.push_back(std::move(blk));
    }
    return blocks;
  }

  /// i32 weight words one lane loads per K block and tile.
  int64_t wordsPerTile() const { return i4 ? 4 : i8 ? 8 : 16; }

  /// Multiplies K block `blk` into acc[t][0..3].
  void computeBlock(Block &blk, std::vector<Values> &acc) {
    Value zf = b.f32(0.0);
    // The operand of rows 8..15 when they are known empty.
    Value zero = f16 ? b.zero(pairType) : b.i32(0);
    std::vector<Values> xored(r.tiles, Values(8));
    std::vector<Values> part(r.tiles);
    for (int64_t t = 0; t < r.tiles; ++t)
      part[t] = grouped ? Values(4, zf) : acc[t];
    for (int64_t j = 0; j < 8; ++j) {
      Values a;
      a.push_back(aPair(blk.xs[0], j, 0));
      a.push_back(r.rowHalves > 1 ? aPair(blk.xs[1], j, 0) : zero);
      a.push_back(aPair(blk.xs[0], j, 1));
      a.push_back(r.rowHalves > 1 ? aPair(blk.xs[1], j, 1) : zero);
      for (int64_t t = 0; t < r.tiles; ++t) {
        Value b0 = bPair(blk.words[t], j, 0, xored[t]);
        Value b1 = bPair(blk.words[t], j, 1, xored[t]);
        SmallVector<Value, 4> d = mmaSync(b, mmaType, a, {b0, b1}, part[t]);
        part[t].assign(d.begin(), d.end());
      }
    }
    if (!grouped) {
      acc = part;
      return;
    }
    // acc += part * scale[n, group of kb] (loaded with the block at depth
    // 2, here otherwise).
    bool loaded = !blk.scales.empty();
    Value grp = loaded ? Value() : groupOf(blk.kb);
    for (int64_t t = 0; t < r.tiles; ++t)
      for (int c = 0; c < 2; ++c) {
        Value s = loaded ? blk.scales[2 * t + c] : loadScale(grp, t, c);
        for (int h = 0; h < 2; ++h) {
          int i = 2 * h + c;
          acc[t][i] = b.fma(part[t][i], s, acc[t][i]);
        }
      }
  }

  void build() {
    M = b.dim(X, 0);
    K = b.dim(X, 1);
    N = b.dim(W, 0);
    lastM = b.sub(M, b.idx(1));
    lastN = b.sub(N, b.idx(1));
    if (r.streamLoads) {
      wBase = b.alignedPointer(W);
      Value cols = b.dim(W, 1);
      wRowBytes = i4 || i8 ? cols : b.mulConst(cols, 2);
    }
    if (grouped)
      lastGroup = b.sub(b.dim(S, 1), b.idx(1));
    Value tid = b.threadId(mlir::gpu::Dimension::x);
    Value bid = b.blockId(mlir::gpu::Dimension::x);
    warp = b.divuConst(tid, 32);
    lane = b.remuConst(tid, 32);
    g = b.divuConst(lane, 4);
    q = b.remuConst(lane, 4);
    n0 = b.mulConst(bid, r.columns());
    for (int64_t h = 0; h < r.rowHalves; ++h) {
      Value row = b.addConst(g, 8 * h);
      rowSafe.push_back(b.minu(row, lastM));
      rowIn.push_back(b.ult(row, M));
    }
    for (int64_t t = 0; t < r.tiles; ++t) {
      Value col = b.add(n0, b.addConst(g, 8 * t));
      colSafe.push_back(b.minu(col, lastN));
      colIn.push_back(b.ult(col, N));
    }
    Value numKB = b.divuConst(b.addConst(K, GemvKernelConfig::kBlockK - 1),
                              GemvKernelConfig::kBlockK);
    Value start = b.mulConst(warp, r.unroll);

    // The K loop: acc[t][0..3] carried (depth 2: and the operands of this
    // iteration's blocks, loaded by the previous one).
    Value step = b.idx(r.warps * r.unroll);
    Values inits(r.tiles * 4, b.f32(0.0));
    int64_t accCount = r.tiles * 4;
    if (r.depth == 2) {
      // The first iteration's operands. Loaded only when the warp has an
      // iteration: with K = 0 there is nothing in x or w to read at all.
      // Their types, in flat()'s order: weight words i32, x chunks
      // vector<8 x X>, scales f32.
      SmallVector<Type> types;
      for (int64_t u = 0; u < r.unroll; ++u) {
        types.append(r.tiles * wordsPerTile(), b.getI32Type());
        types.append(r.rowHalves * 4, VectorType::get({8}, xType));
        if (grouped)
          types.append(2 * r.tiles, b.getF32Type());
      }
      Values first = b.ifThenElse(
          b.ult(start, numKB), types,
          [&] {
            Values out;
            for (const Block &blk : loadBlocks(start)) {
              Values f = blk.flat();
              out.append(f.begin(), f.end());
            }
            return out;
          },
          [&] {
            Values out;
            for (Type t : types)
              out.push_back(b.zero(t));
            return out;
          });
      inits.append(first.begin(), first.end());
    }
    Values sums = b.forLoop(
        start, numKB, step, inits, [&](Value kb0, ValueRange carried) {
          std::vector<Values> acc(r.tiles);
          for (int64_t t = 0; t < r.tiles; ++t)
            acc[t].assign(carried.begin() + 4 * t, carried.begin() + 4 * t + 4);
          std::vector<Block> blocks, ahead;
          if (r.depth == 2) {
            blocks = unflatten(kb0, carried.drop_front(accCount));
            // The next iteration's operands, issued before this one's
            // products. Past the last block they are read at k = 0 (in
            // bounds, as K > 0 here) and zeroed.
            ahead = loadBlocks(b.add(kb0, step));
          } else {
            blocks = loadBlocks(kb0);
          }
          for (Block &blk : blocks)
            computeBlock(blk, acc);
          Values next;
          for (Values &tile : acc)
            next.append(tile.begin(), tile.end());
          for (const Block &blk : ahead) {
            Values f = blk.flat();
            next.append(f.begin(), f.end());
          }
          return next;
        });
    sums.resize(accCount);

    // The warps' sums through shared memory, added in warp order.
    Value red = b.workgroup(0);
    for (int64_t t = 0; t < r.tiles; ++t)
      for (int i = 0; i < 4; ++i)
        b.store(sums[t * 4 + i], red, {warp, b.idx(t), b.idx(i), lane});
    b.barrier();
    int64_t entries = r.tiles * 4 * 32;
    for (int64_t base = 0; base < entries; base += r.threads()) {
      Value ent = b.addConst(tid, base);
      auto store = [&] {
        Value t = b.divuConst(ent, 128);
        Value i = b.remuConst(b.divuConst(ent, 32), 4);
        Value l = b.remuConst(ent, 32);
        Value sum;
        for (int64_t w = 0; w < r.warps; ++w) {
          Value v = b.load(red, {b.idx(w), t, i, l});
          sum = sum ? b.fadd(sum, v) : v;
        }
        // (row, col) of register i of lane l in tile t.
        Value rowHalf = b.mulConst(b.divuConst(i, 2), 8);
        Value row = b.add(b.divuConst(l, 4), rowHalf);
        Value colOdd = b.remuConst(i, 2);
        Value colPair = b.mulConst(b.remuConst(l, 4), 2);
        Value colInTile = b.add(colPair, colOdd);
        Value col = b.add(n0, b.add(b.mulConst(t, 8), colInTile));
        Value colOk = b.ult(col, N);
        Value rowOk = b.ult(row, M);
        b.ifThen(b.andi(rowOk, colOk), [&] {
          Value v = sum;
          if (r.qlinear && !grouped)
            v = b.fmul(v, b.toF32(b.load(S, {col})));
          if (Bias)
            v = b.fadd(v, b.toF32(b.load(Bias, {col})));
          v = applyEpilogue(b, r.epilogue, args.epilogue, v, row, col);
          b.store(b.roundTo(parseElementType(b.getContext(), r.yType), v), Y,
                  {row, col});
        });
      };
      if (base + r.threads() > entries)
        b.ifThen(b.ult(ent, b.idx(entries)), store);
      else
        store();
    }
  }
};

} // namespace

std::string GemvKernelConfig::kernelName() const {
  auto str = [](int64_t v) { return std::to_string(v); };
  std::string s = "loom_gemv_";
  s += qlinear ? "qlinear_" : "linear_";
  s += xType + "_" + wType;
  if (qlinear)
    s += "_" + scaleType + "_g" + str(group);
  s += "_" + (biasType.empty() ? std::string("nobias") : biasType) + "_" + yType;
  s += "_r" + str(rowHalves) + "_w" + str(warps) + "x" + str(tiles) + "_u" +
       str(unroll) + (depth == 2 ? "_d2" : "") + (streamLoads ? "_nc" : "");
  return s + epilogueSuffix(epilogue);
}

void GemvKernelConfig::chooseSchedule() {
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

std::string GemvKernelConfig::check() const {
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
    return "warps must be 1 to 32, tiles 1 to 8 and unroll 1 to 8";
  if (depth != 1 && depth != 2)
    return "depth must be 1 or 2";
  return "";
}

FailureOr<SymbolRefAttr> buildGemvKernel(ModuleOp module, Location loc,
                                         const GemvKernelConfig &c) {
  assert(c.check().empty() && "invalid GEMV kernel config");
  MLIRContext *ctx = module.getContext();
  KernelSignature sig;
  sig.arguments = Arguments(ctx, c).types;
  sig.workgroup.push_back({reductionType(ctx, c), 0});
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).build(); });
}

} // namespace gpu
} // namespace loom
