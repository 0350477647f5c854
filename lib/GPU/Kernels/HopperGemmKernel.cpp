//===- HopperGemmKernel.cpp - the warp-specialized wgmma GEMM -------------===//
//
// One CTA of 128 * (1 + C) threads, C = BM / 64 consumer warpgroups:
//
//   shared memory: a ring of STAGES stages, each an A tile [BM][64] and a B
//   tile [BN][64] as the TMA writes them (128-byte rows, 128-byte swizzle,
//   1024-byte aligned), and two mbarriers per stage: `full` (armed with the
//   stage's bytes by the producer, completed by the TMA) and `empty` (C
//   arrivals, one per consumer warpgroup, once its products have read it).
//
//   warpgroup 0, the producer, gives its registers away (setmaxnreg.dec) and
//   one of its threads walks the CTA's tiles t = blockIdx.x, +gridDim.x, ...
//   and their K steps; step `it` (counted over all the CTA's tiles) uses
//   stage it % STAGES: wait until `empty` completed the phase before this
//   round, arm `full` with the bytes, issue the two TMA loads.
//
//   warpgroups 1..C, the consumers (setmaxnreg.inc), walk the same steps:
//   wait for `full`, issue 4 wgmma.m64nBNk16 (one per 16-wide K slice, both
//   operands straight from shared memory through descriptors), commit, wait
//   until only this step's group is in flight, so the previous step's stage
//   is free: one thread of the warpgroup arrives on its `empty` barrier.
//   Consumer c owns rows 64c .. 64c + 63 of the tile, BN / 2 f32
//   accumulators a thread.
//
//   epilogue, per consumer, while the producer already loads the next
//   tile's stages: bias, the fused elementwise steps in f32, one rounding,
//   stores of column pairs (guarded element by element on ragged edges).
//
// Out-of-bounds rows and columns of A and B (M, N, K not multiples of the
// tile) are zero-filled by the TMA, so they add nothing; stores are bounded.
// The tensor maps need 16-byte aligned rows: K a multiple of 8 (the
// conversion checks it).
//
// W4A16 (packed B, `bType` i4): a stage holds the A tile and B's packed
// bytes [BN][32] (one K step of nibbles, not swizzled). Before its products
// of a step, every consumer thread dequantizes its share of the packed tile
// (BN rows x 2 halves of 32 nibbles over the 128 C consumer threads) into a
// bf16 tile [BN][64] laid out as the TMA would have written it (128-byte
// swizzle: the 16-byte chunk c of row r at chunk c ^ (r % 8)): a nibble n
// becomes the bf16 pattern 0x4300 | (n ^ 8) = 136 + signed(n), minus 136 in
// one packed subtraction (exact), times the row's group scale (bf16, one
// packed multiply: the weight is round(w * s)); then fence.proxy.async (the
// wgmma reads through the async proxy) and a named barrier of the consumer
// threads. The dequantized tiles form a ring of C + 1: a consumer rewrites
// tile `it % (C + 1)` at step `it` once every consumer has passed the
// barrier of step it - 1, by which each has waited for its products of step
// it - 3 and older (wgmma.wait_group 1 at step it - 2), and its own of it -
// 2. The conversion of step it runs while the products of step it - 1 are
// still in flight. Zero-filled packed bytes past K or N decode as -8, but
// A's columns past K are zero and columns past N are not stored.

#include "loom/GPU/Kernels/HopperGemmKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Tma.h"
#include "loom/GPU/Builder/Wgmma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;

/// What one output tile is: its row and column tile, and the part's
/// operands (horizontal siblings pick theirs by the tile's index).
struct Tile {
  Value mt, nt;
  /// B's tensor maps (two for a gated pair: gate, up).
  SmallVector<Value, 2> descB;
  Value y, n;
  /// The bias and (scaled) the weight scales of each product.
  SmallVector<Value, 2> bias, wScale;
};

struct Generator {
  const HopperGemmConfig &c;
  KernelBuilder &b;
  Type abType, tileType, yType;
  WgmmaType mmaType;
  // Kernel arguments (one B map, Y and bias per part; see the header). The
  // B maps are kept as pointers (a part's is picked by select) and viewed as
  // tensor maps where used: the NVVM conversion cannot select tensor maps.
  Value descA, K;
  SmallVector<Value> descBPointers, ys, biases, wScales;
  Value xScale;
  /// Packed B: the scales ([N] or [N, groups]) and the last group.
  Value qScale, lastGroup;
  std::vector<int> epilogueArgs;
  // Values of the prologue.
  Value tid, wg, wgTid, warp, lane, smem, base, pad, barriers, M, tilesM,
      tiles, kIters;
  /// Per output (part), its N, column tiles and first linear tile index.
  SmallVector<Value> ns, tilesN, firstTile;

  Generator(const HopperGemmConfig &c, KernelBuilder &b) : c(c), b(b) {}

  /// B tiles per stage: both of a gated pair, else the part's one.
  int64_t bTiles() const { return c.gate ? 2 : 1; }
  /// The wgmma's N: a gated pair's gate and up tiles lie one after the
  /// other in shared memory as one [2 BN][64] K-major tile, multiplied by
  /// one m64n(2 BN) wgmma into one accumulator (columns [0, BN) the gate's,
  /// [BN, 2 BN) the up projection's): two separate accumulators would make
  /// ptxas serialize the products around their register copies.
  int64_t mmaN() const { return bTiles() * c.bn; }
  int64_t tileBytesA() const { return c.bm * HopperGemmConfig::kRowBytes; }
  int64_t tileBytesB() const { return c.bn * HopperGemmConfig::kRowBytes; }

  /// Byte offsets of stage `s`'s A tile and its `j`-th B tile from the
  /// aligned base. Packed B: the A tiles, the dequantized tiles, then the
  /// packed tiles.
  Value offsetA(Value s) { return b.mul(s, b.idx(tileBytesA())); }
  int64_t packedTileBytes() const { return c.bn * c.packedRowBytes(); }
  Value offsetB(Value s, int64_t j) {
    if (c.packedB()) {
      Value inRing = b.mul(s, b.idx(packedTileBytes()));
      return b.addConst(inRing, c.stages * tileBytesA() +
                                    c.convertedTiles() * tileBytesB());
    }
    Value inRing = b.mul(s, b.idx(bTiles() * tileBytesB()));
    return b.addConst(inRing, c.stages * tileBytesA() + j * tileBytesB());
  }
  /// Packed B: the byte offset of dequantized tile `j` (an index).
  Value offsetConverted(Value j) {
    return b.addConst(b.mul(j, b.idx(tileBytesB())),
                      c.stages * tileBytesA());
  }
  Value viewOf(Value offset, int64_t rows) {
    return viewOf(offset, rows, c.blockK(), tileType);
  }
  Value viewOf(Value offset, int64_t rows, int64_t columns, Type type) {
    Value at = b.add(pad, offset);
    return b.view(smem, at, sharedMemRefType({rows, columns}, type));
  }

  /// The tensor map at `pointer` (global memory) of `rows` x 64 boxes. The
  /// maps arrive as pointers: the GPU-to-NVVM conversion does not convert
  /// nvgpu types in kernel signatures.
  Value mapOf(Value pointer, int64_t rows) {
    Type type =
        tmaDescriptorType(b.getContext(), rows, c.blockK(), tileType, true);
    return UnrealizedConversionCastOp::create(b, type, pointer).getResult(0);
  }
  /// B's map: packed bytes [BN][32] without swizzle, or as A's.
  Value mapOfB(Value pointer) {
    if (!c.packedB())
      return mapOf(pointer, c.bn);
    Type type = tmaDescriptorType(b.getContext(), c.bn, c.packedRowBytes(),
                                  b.getIntegerType(8, false), false);
    return UnrealizedConversionCastOp::create(b, type, pointer).getResult(0);
  }

  /// The tile of linear index `t`: the part that holds it, then its (row,
  /// column) tile in groups of `c.groupM` tile rows walked column by column,
  /// so that the CTAs running at once share a band of A and a few columns
  /// of B in L2 instead of streaming all of A for every column of tiles.
  Tile tileAt(Value t) {
    Tile tile;
    Value part = b.idx(0);
    for (size_t p = 1; p < firstTile.size(); ++p) {
      Value past = b.ule(firstTile[p], t);
      part = b.select(past, b.idx(static_cast<int64_t>(p)), part);
    }
    Value local = b.sub(t, b.pick(part, firstTile));
    Value columns = b.pick(part, tilesN);
    Value perGroup = b.mul(b.idx(c.groupM), columns);
    Value group = b.divu(local, perGroup);
    Value firstM = b.mul(group, b.idx(c.groupM));
    Value left = b.sub(tilesM, firstM);
    Value groupSize = b.minu(left, b.idx(c.groupM));
    Value within = b.remu(local, perGroup);
    tile.mt = b.add(firstM, b.remu(within, groupSize));
    tile.nt = b.divu(within, groupSize);
    if (c.gate) {
      for (Value pointer : descBPointers)
        tile.descB.push_back(mapOfB(pointer));
      tile.bias.assign(biases.begin(), biases.end());
      tile.wScale.assign(wScales.begin(), wScales.end());
    } else {
      tile.descB.push_back(mapOfB(b.pick(part, descBPointers)));
      if (!biases.empty())
        tile.bias.push_back(b.pick(part, biases));
      if (!wScales.empty())
        tile.wScale.push_back(b.pick(part, wScales));
    }
    tile.y = b.pick(part, ys);
    tile.n = b.pick(part, ns);
    return tile;
  }

  void producer() {
    setMaxRegisters(b, c.producerRegisters, /*increase=*/false);
    b.ifThen(b.eq(wgTid, b.idx(0)), [&] {
      tmaPrefetch(b, descA);
      for (Value pointer : descBPointers)
        tmaPrefetch(b, mapOfB(pointer));
      Value first = b.blockId();
      Value stride = b.gridDim();
      b.forLoop(first, tiles, stride, ValueRange{b.idx(0)},
                [&](Value t, ValueRange outer) {
                  Tile tile = tileAt(t);
                  Value m0 = b.mul(tile.mt, b.idx(c.bm));
                  Value n0 = b.mul(tile.nt, b.idx(c.bn));
                  return b.forLoop(
                      b.idx(0), kIters, b.idx(1), outer,
                      [&](Value k, ValueRange inner) {
                        Value it = inner[0];
                        auto [s, parity] = stagePhase(b, it, c.stages);
                        // The round before this one must have been consumed
                        // (a fresh barrier counts its previous phase done).
                        Value before = b.xori(parity, b.i1(true));
                        waitBarrier(b, barriers, b.addConst(s, c.stages),
                                    before);
                        arriveExpectBytes(b, barriers, s, c.stageBytes());
                        Value k0 = b.mul(k, b.idx(c.blockK()));
                        Value dstA = viewOf(offsetA(s), c.bm);
                        tmaLoad(b, descA, {k0, m0}, dstA, barriers, s);
                        if (c.packedB()) {
                          Value dstB =
                              viewOf(offsetB(s, 0), c.bn, c.packedRowBytes(),
                                     b.getIntegerType(8, false));
                          tmaLoad(b, tile.descB[0], {b.divuConst(k0, 2), n0},
                                  dstB, barriers, s);
                        } else {
                          for (int64_t j = 0; j < bTiles(); ++j) {
                            Value dstB = viewOf(offsetB(s, j), c.bn);
                            tmaLoad(b, tile.descB[j], {k0, n0}, dstB,
                                    barriers, s);
                          }
                        }
                        return Values{b.addConst(it, 1)};
                      });
                });
    });
  }

  /// The items (row, half) of the packed tile that this consumer thread
  /// dequantizes: 2 BN of them over the 128 C consumer threads.
  int64_t dequantizationItems() const {
    return 2 * c.bn / (128 * c.consumers());
  }
  Value itemIndex(int64_t item) {
    return b.addConst(b.sub(tid, b.idx(128)), item * 128 * c.consumers());
  }

  /// Packed B with groups: the scale of each of this thread's items at K
  /// step `k` of `tile`, as a bf16 pair in an i32 (one rounding from f32 or
  /// f16); empty with scales per column.
  Values dequantizationScales(const Tile &tile, Value k) {
    Values scales;
    if (c.group == 0)
      return scales;
    Type i32 = b.getI32Type(), i16 = b.getI16Type();
    Value n0 = b.mul(tile.nt, b.idx(c.bn));
    Value lastN = b.sub(tile.n, b.idx(1));
    Value k0 = b.mulConst(k, c.blockK());
    Value grp = b.minu(b.divuConst(k0, c.group), lastGroup);
    for (int64_t item = 0; item < dequantizationItems(); ++item) {
      Value row = b.remuConst(itemIndex(item), c.bn);
      Value n = b.minu(b.add(n0, row), lastN);
      Value s = b.toF32(b.load(qScale, {n, grp}));
      Value bits = b.extui(
          i32, b.bitcast(i16, b.truncf(BFloat16Type::get(b.getContext()), s)));
      scales.push_back(b.ori(bits, b.shl(bits, b.i32(16))));
    }
    return scales;
  }

  /// Packed B: the consumers dequantize the packed tile at byte offset
  /// `packed` into the bf16 tile at `converted` (see the file comment) with
  /// `scales` (dequantizationScales), then make it visible to the wgmma.
  void dequantize(ArrayRef<Value> scales, Value packed, Value converted) {
    Type i32 = b.getI32Type(), i16 = b.getI16Type();
    auto halves = VectorType::get({2}, i16);
    auto words4 = VectorType::get({4}, i32);
    int64_t threads = 128 * c.consumers();
    Value packedView = b.numericShared(
        viewOf(packed, c.bn, c.packedRowBytes(), b.getIntegerType(8)));
    Value convertedView =
        b.numericShared(viewOf(converted, c.bn, c.blockK() / 2, i32));
    auto word = [&](uint32_t bits) { return b.i32(static_cast<int32_t>(bits)); };
    // 136 in both bf16 halves.
    Value bias = word(0x43084308u);
    for (int64_t item = 0; item < dequantizationItems(); ++item) {
      Value i = itemIndex(item);
      Value row = b.remuConst(i, c.bn);
      Value half = b.divuConst(i, c.bn);
      Value scale = scales.empty() ? Value() : scales[item];
      Value bytes = b.vbitcast(
          words4, b.vectorLoad(VectorType::get({16}, b.getIntegerType(8)),
                               packedView, {row, b.mulConst(half, 16)}, 16));
      Value swizzle = b.remuConst(row, 8);
      for (int64_t w = 0; w < 4; ++w) {
        // Nibbles s and s + 4 of the word (k s and s + 4 of its chunk of
        // 8) as one bf16 pair each: (136 + v) - 136, times the scale.
        Value x = b.xori(b.extract(bytes, w), word(0x88888888u));
        Values values;
        for (int64_t sh = 0; sh < 4; ++sh) {
          Value part = sh ? b.shru(x, b.i32(4 * sh)) : x;
          Value magic = b.ori(b.andi(part, word(0x000F000Fu)),
                              word(0x43004300u));
          values.push_back(b.vbitcast(
              halves, b.broadcast(VectorType::get({1}, i32),
                                  bf16x2SubMul(magic, bias, scale))));
        }
        // k 0..7 in order: the low halves of the four pairs (k 0..3), then
        // the high ones (k 4..7).
        Value v01 = b.vshuffle(values[0], values[1], {0, 1, 2, 3});
        Value v23 = b.vshuffle(values[2], values[3], {0, 1, 2, 3});
        Value chunk = b.vbitcast(
            words4, b.vshuffle(v01, v23, {0, 2, 4, 6, 1, 3, 5, 7}));
        Value c8 = b.addConst(b.mulConst(half, 4), w);
        Value at = b.mulConst(b.xori(c8, swizzle), 4);
        b.vectorStore(chunk, convertedView, {row, at}, 16);
      }
    }
    fenceProxyAsyncShared(b);
    namedBarrierSync(b, b.idx(1), threads);
  }

  /// (a - b) * scale (or a - b without a scale) on bf16 pairs held in i32,
  /// each op rounded once (sub.rn / mul.rn.bf16x2, sm_90): inline PTX, as
  /// the kernels' bf16 arithmetic is otherwise emulated in f32.
  Value bf16x2SubMul(Value a, Value bv, Value scale) {
    Type i32 = b.getI32Type();
    if (!scale)
      return b.inlinePtx(i32, {a, bv}, "sub.rn.bf16x2 $0, $1, $2;", "=r,r,r");
    return b.inlinePtx(i32, {a, bv, scale},
                       "{\n.reg .b32 t;\nsub.rn.bf16x2 t, $1, $2;\n"
                       "mul.rn.bf16x2 $0, t, $3;\n}",
                       "=r,r,r,r");
  }

  /// Releases the stage of step `it` to the producer (releaseRingStage).
  void release(Value it) {
    releaseRingStage(b, barriers, it, c.stages, wgTid);
  }

  void consumer() {
    setMaxRegisters(b, c.consumerRegisters, /*increase=*/true);
    Value consumerIdx = b.sub(wg, b.idx(1));
    Value rowInTile = b.mul(consumerIdx, b.idx(64));
    Type accType = wgmmaAccumulatorType(b, mmaType, mmaN());
    Value first = b.blockId();
    Value stride = b.gridDim();
    b.forLoop(
        first, tiles, stride, ValueRange{b.idx(0)},
        [&](Value t, ValueRange outer) {
          Tile tile = tileAt(t);
          Values inits{wgmmaZeroAccumulator(b, accType), outer[0]};
          Values result = b.forLoop(
              b.idx(0), kIters, b.idx(1), inits,
              [&](Value k, ValueRange inner) {
                Value acc = inner[0], it = inner[1];
                auto [s, parity] = stagePhase(b, it, c.stages);
                // Packed B: the rows' scales, loaded before the wait.
                Values scales;
                if (c.packedB())
                  scales = dequantizationScales(tile, k);
                waitBarrier(b, barriers, s, parity);
                Value aStage = offsetA(s);
                Value aOffset = b.add(aStage, b.mul(rowInTile, b.idx(128)));
                Value aTile = b.add(base, b.add(pad, aOffset));
                Value bOffset = offsetB(s, 0);
                if (c.packedB()) {
                  Value j = b.remu(it, b.idx(c.convertedTiles()));
                  bOffset = offsetConverted(j);
                  dequantize(scales, offsetB(s, 0), bOffset);
                }
                Value bTile = b.add(base, b.add(pad, bOffset));
                wgmmaFence(b);
                for (int64_t kk = 0; kk < HopperGemmConfig::kRowBytes / 32; ++kk) {
                  // A wgmma takes 32 bytes of K of each 128-byte row.
                  Value dA = wgmmaDescriptor(b, b.addConst(aTile, 32 * kk));
                  Value dB = wgmmaDescriptor(b, b.addConst(bTile, 32 * kk));
                  acc = wgmmaMma(b, mmaType, mmaN(), acc, dA, dB);
                }
                wgmmaCommit(b);
                // The previous step's products are done: its stage is free.
                wgmmaWait(b, 1);
                b.ifThen(b.ult(b.idx(0), k), [&] { release(b.sub(it, b.idx(1))); });
                return Values{acc, b.addConst(it, 1)};
              });
          Value it = result[1];
          wgmmaWait(b, 0);
          b.ifThen(b.ult(b.idx(0), kIters), [&] { release(b.sub(it, b.idx(1))); });
          Value row0 = b.add(b.mul(tile.mt, b.idx(c.bm)), rowInTile);
          Value col0 = b.mul(tile.nt, b.idx(c.bn));
          epilogue(tile, result[0], row0, col0);
          return Values{it};
        });
  }

  /// The f32 value of element `i` at (row, col) of product `j` (the up
  /// projection's elements of a gated pair are BN/2 further), with its
  /// bias.
  Value product(const Tile &tile, Value acc, int64_t j, int64_t i, Value row,
                Value col) {
    Value v = wgmmaElement(b, acc, i + j * (c.bn / 2));
    if (mmaType == WgmmaType::S8)
      v = b.sitofp(b.getF32Type(), v); // exact up to 2^24, as mma.sync's
    if (c.scaled) {
      Value xs = b.load(xScale, row);
      Value ws = b.load(tile.wScale[j], col);
      v = b.fmul(b.fmul(v, xs), ws);
    }
    if (c.packedB() && c.group == 0)
      v = b.fmul(v, b.toF32(b.load(qScale, col)));
    if (!tile.bias.empty()) {
      Value bv = b.toF32(b.load(tile.bias[j], col));
      v = b.fadd(v, bv);
    }
    return v;
  }

  /// The result's f32 value at element `i`: the product (or the gated pair's
  /// act(gate) * up), then the epilogue steps.
  /// The product at element `i`, or the gated pair's act(gate) * up: the
  /// value the epilogue steps start from.
  Value gated(const Tile &tile, Value acc, int64_t i, Value row, Value col) {
    Value v = product(tile, acc, 0, i, row, col);
    if (c.gate) {
      Value act = applyEpilogueStep(b, EpilogueStep{*c.gate, ""}, v);
      Value up = product(tile, acc, 1, i, row, col);
      v = b.fmul(act, up);
    }
    return v;
  }

  Value finish(const Tile &tile, Value acc, int64_t i, Value row,
               Value col) {
    return applyEpilogue(b, c.epilogue, epilogueArgs,
                         gated(tile, acc, i, row, col), row, col);
  }

  /// finish() of the column pair (col, col + 1) at elements i, i + 1, the
  /// epilogue's tensor operands read as pairs.
  std::array<Value, 2> finishPair(const Tile &tile, Value acc, int64_t i,
                                  Value row, Value col) {
    std::array<Value, 2> v;
    for (int j = 0; j < 2; ++j)
      v[j] = gated(tile, acc, i + j, row, b.addConst(col, j));
    return applyEpiloguePair(b, c.epilogue, epilogueArgs, v, row, col);
  }

  void epilogue(const Tile &tile, Value acc, Value row0, Value col0) {
    // Whole tiles with an even N, Y and the epilogue's tensors aligned to
    // column pairs, store (and read) column pairs unguarded; others go
    // element by element where inside Y.
    Value N = tile.n;
    Value rowsIn = b.ule(b.addConst(row0, 64), M);
    Value colsIn = b.ule(b.addConst(col0, c.bn), N);
    Value evenN = b.eq(b.remu(N, b.idx(2)), b.idx(0));
    int64_t yBytes = yType.getIntOrFloatBitWidth() / 8;
    Value yAligned =
        b.eq(b.remu(b.alignedPointer(tile.y), b.idx(2 * yBytes)), b.idx(0));
    Value aligned = b.andi(
        yAligned, epilogueTensorsAligned(b, c.epilogue, epilogueArgs));
    Value whole =
        b.andi(b.andi(b.andi(rowsIn, colsIn), evenN), aligned);
    auto position = [&](int64_t i) {
      auto [r, cc] = wgmmaElementPosition(b, lane, warp, i);
      Value row = b.add(row0, r);
      Value col = b.add(col0, cc);
      return std::pair{row, col};
    };
    b.ifThenElse(
        whole,
        [&] {
          for (int64_t i = 0; i < c.bn / 2; i += 2) {
            auto [row, col] = position(i);
            auto [v0, v1] = finishPair(tile, acc, i, row, col);
            Value pair = b.fromElements(VectorType::get({2}, b.getF32Type()),
                                        {v0, v1});
            Value rounded = b.roundTo(yType, pair);
            int64_t bytes = yType.getIntOrFloatBitWidth() / 8;
            b.vectorStore(rounded, tile.y, {row, col}, 2 * bytes);
          }
        },
        [&] {
          for (int64_t i = 0; i < c.bn / 2; ++i) {
            auto [row, col] = position(i);
            Value rowIn = b.ult(row, M);
            Value inside = b.andi(rowIn, b.ult(col, N));
            b.ifThen(inside, [&] {
              Value v = finish(tile, acc, i, row, col);
              b.store(b.roundTo(yType, v), tile.y, {row, col});
            });
          }
        });
  }

  void run() {
    MLIRContext *ctx = b.getContext();
    abType = parseElementType(ctx, c.abType);
    tileType = parseElementType(ctx, c.tileType());
    yType = parseElementType(ctx, c.yType);
    mmaType = c.abType == "f16"        ? WgmmaType::F16
              : c.abType == "bf16"     ? WgmmaType::BF16
              : c.abType == "i8"       ? WgmmaType::S8
                                       : WgmmaType::E4M3;
    unsigned arg = 0;
    descA = mapOf(b.arg(arg++), c.bm);
    for (int64_t p = 0; p < c.parts; ++p)
      descBPointers.push_back(b.arg(arg++));
    arg += 1 + c.parts; // A and each B themselves (see the header)
    for (int64_t p = 0; p < c.outputs(); ++p)
      ys.push_back(b.arg(arg++));
    K = b.arg(arg++);
    if (c.packedB())
      qScale = b.arg(arg++);
    if (c.scaled) {
      xScale = b.arg(arg++);
      for (int64_t p = 0; p < c.parts; ++p)
        wScales.push_back(b.arg(arg++));
    }
    if (!c.biasType.empty())
      for (int64_t p = 0; p < c.parts; ++p)
        biases.push_back(b.arg(arg++));
    for (const EpilogueStep &step : c.epilogue)
      epilogueArgs.push_back(step.takesTensor() ? static_cast<int>(arg++) : -1);

    tid = b.threadId();
    wg = b.divu(tid, b.idx(128));
    wgTid = b.remu(tid, b.idx(128));
    warp = b.divu(wgTid, b.idx(32));
    lane = b.remu(tid, b.idx(32));
    M = b.dim(ys[0], 0);
    tilesM = b.ceilDivConst(M, c.bm);
    Value count = b.idx(0);
    for (Value y : ys) {
      firstTile.push_back(count);
      ns.push_back(b.dim(y, 1));
      tilesN.push_back(b.ceilDivConst(ns.back(), c.bn));
      count = b.add(count, b.mul(tilesM, tilesN.back()));
    }
    tiles = count;
    kIters = b.ceilDivConst(K, c.blockK());
    if (c.packedB() && c.group > 0)
      lastGroup = b.sub(b.dim(qScale, 1), b.idx(1));

    // The stages start at the first 1024-byte boundary of the dynamic
    // shared memory (its base is only 16-byte aligned).
    SwizzleAlignedShared shared = swizzleAlignedSharedMemory(b);
    smem = shared.memref;
    base = shared.base;
    pad = shared.pad;

    barriers = createRingBarriers(b, tid, c.stages, c.consumers());
    b.ifThenElse(b.eq(wg, b.idx(0)), [&] { producer(); }, [&] { consumer(); });
  }
};

} // namespace

std::string HopperGemmConfig::check() const {
  if (abType != "bf16" && abType != "f16" && abType != "i8" &&
      abType != "f8E4M3FN")
    return "A and B must be bf16, f16, i8 or f8E4M3FN";
  if (yType != "bf16" && yType != "f16" && yType != "f32")
    return "Y must be bf16, f16 or f32";
  if (bm != 64 && bm != 128 && bm != 192)
    return "BM must be 64, 128 or 192 (one consumer warpgroup per 64 rows)";
  if (bn < 16 || bn > 256 || bn % 16)
    return "BN must be a multiple of 16 up to 256";
  if (stages < 2)
    return "at least two stages";
  if (producerRegisters % 8 || consumerRegisters % 8 ||
      producerRegisters < 24 || consumerRegisters > 256)
    return "register budgets must be multiples of 8 in [24, 256]";
  if (groupM < 1)
    return "the tile groups need at least one row of tiles";
  if (parts < 1 || parts > 4)
    return "one to four parts";
  if (gate && (parts != 2 || (*gate != EpilogueStep::Kind::Silu &&
                              *gate != EpilogueStep::Kind::Gelu &&
                              *gate != EpilogueStep::Kind::GeluTanh)))
    return "a gated product has two parts and a SiLU or GELU gate";
  if (parts > 1 && !gate && !epilogue.empty())
    return "siblings (parts > 1) take no epilogue";
  if (gate && (2 * bn > 256 || consumerRegisters < bn + 24))
    return "a gated pair multiplies [2 BN] columns at once: BN is at most 128";
  if (consumerRegisters < bn / 2 + 24)
    return "the consumers' register budget does not hold BN/2 accumulators";
  if (!bType.empty() && bType != abType) {
    if (bType != "i4")
      return "B must have A's type or be packed i4";
    if (abType != "bf16")
      return "packed i4 B needs bf16 A";
    if (parts != 1 || gate || scaled)
      return "packed i4 B takes one part, no gate and no qmatmul scales";
    if (scaleType != "f32" && scaleType != "bf16" && scaleType != "f16")
      return "the scales must be f32, bf16 or f16";
    if (group < 0 || group % blockK())
      return "the group size must be 0 or a multiple of 64";
    if ((2 * bn) % (128 * consumers()))
      return "the consumer threads must split the packed tile's 2 BN halves "
             "evenly";
  }
  return "";
}

std::string HopperGemmConfig::kernelName() const {
  std::string packed =
      packedB() ? "_w" + bType + "_" + scaleType + "_g" + std::to_string(group)
                : std::string();
  return "loom_gemm_wgmma_" + abType + packed + (scaled ? "_scaled" : "") +
         "_" +
         (biasType.empty() ? std::string("nobias") : biasType) + "_" + yType +
         "_" + std::to_string(bm) + "x" + std::to_string(bn) + "x" +
         std::to_string(blockK()) + "_s" + std::to_string(stages) + "_r" +
         std::to_string(producerRegisters) + "x" +
         std::to_string(consumerRegisters) + "_g" + std::to_string(groupM) +
         (parts > 1 ? "_x" + std::to_string(parts) : std::string()) +
         (gate ? std::string("_gate") + epilogueSuffix({{*gate, ""}}).substr(3)
               : std::string()) +
         epilogueSuffix(epilogue);
}

FailureOr<SymbolRefAttr> buildHopperGemmKernel(ModuleOp module, Location loc,
                                               const HopperGemmConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type ab = parseElementType(ctx, c.abType);
  KernelSignature sig;
  Type pointer = LLVM::LLVMPointerType::get(ctx);
  // Maps of A and of each part's B; A and the Bs themselves; the outputs;
  // K; each part's bias; the epilogue's tensors.
  sig.arguments.assign(1 + c.parts, pointer);
  sig.arguments.push_back(dynamicMemRefType(2, ab));
  sig.arguments.append(
      c.parts, dynamicMemRefType(
                   2, c.packedB() ? IntegerType::get(ctx, 8) : ab));
  sig.arguments.append(c.outputs(),
                       dynamicMemRefType(2, parseElementType(ctx, c.yType)));
  sig.arguments.push_back(IndexType::get(ctx));
  if (c.packedB())
    sig.arguments.push_back(dynamicMemRefType(
        c.group > 0 ? 2 : 1, parseElementType(ctx, c.scaleType)));
  if (c.scaled)
    sig.arguments.append(1 + c.parts, dynamicMemRefType(1, Float32Type::get(ctx)));
  if (!c.biasType.empty())
    sig.arguments.append(c.parts,
                         dynamicMemRefType(1, parseElementType(ctx, c.biasType)));
  appendEpilogueArguments(ctx, c.epilogue, sig.arguments);
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  sig.minBlocksPerSM = 1; // setmaxnreg (KernelSignature)
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).run(); });
}

} // namespace gpu
} // namespace loom
