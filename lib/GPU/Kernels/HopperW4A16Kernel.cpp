//===- HopperW4A16Kernel.cpp - W4A16 with the weights in registers --------===//
//
// Y^T = W x^T, one CTA of 128 * (1 + C) threads, C consumer warpgroups:
//
//   shared memory: a ring of STAGES stages, each x's tile [XR][64] bf16 as
//   the TMA writes it (128-byte rows, 128-byte swizzle, 1024-byte aligned)
//   and the packed weights [64 C][32] bytes (one K step of nibbles, not
//   swizzled), with a `full` and an `empty` mbarrier per stage
//   (createRingBarriers).
//
//   warpgroup 0, the producer, gives its registers away (setmaxnreg.dec);
//   one of its threads walks the CTA's tiles and their K steps, waits for a
//   stage's `empty` phase, arms `full` with the stage's bytes and issues the
//   two TMA loads.
//
//   warpgroups 1..C, the consumers (setmaxnreg.inc): consumer c owns the
//   weight rows 64c .. 64c + 63 of the tile. Per K step a thread loads the
//   32 packed bytes of each of its two fragment rows (16w + g and + 8; w its
//   warp, g = lane / 4) and builds the 16 registers of its A fragments of
//   the step's four k16 slices: register (slice s, row, half h) is byte
//   8s + 4h + t of the row (t = lane % 4), i.e. k = 16s + 8h + 2t and + 1,
//   the low nibble in the low bf16 half as the fragment wants. A byte
//   becomes a bf16 pair with one prmt (the byte in bytes 0 and 2), a shift
//   that moves the high nibble to bits 16..19, the masks, and the sign flip
//   of each nibble (xor 8) under the pattern 0x4300: each half is
//   0x4300 | u = 128 + u (u = n + 8; bf16 has 7 mantissa bits, so the
//   nibble must sit in bits 0..3 of its half, never 4..7, where bit 7 is the
//   exponent's). Then sub.rn.bf16x2 (136, 136) gives the signed nibbles
//   exactly (per-row scales apply to the f32 product); group scales: then
//   mul.rn.bf16x2 by (s, s), s rounded once to bf16, so the weight is
//   round_bf16(w * s). Four wgmma.m64nXRk16 with A in registers and x
//   by descriptor, commit, wait until one group is in flight, release the
//   previous step's stage (each warp for itself after its own wait: one
//   `empty` arrival per consumer warp).
//
//   A wgmma reads its A registers asynchronously: PTX leaves rewriting them
//   before a wait covers the product undefined, and a loop of single steps
//   would rewrite the same registers at the next step while its products
//   are in flight. So the K loop runs steps in pairs whose fragments are
//   distinct values: step A's registers are rewritten one pair later, after
//   step B's wait(1) has seen step A done. An odd step count runs the first
//   step alone, followed by wait(0). The dequantization of each step runs
//   while the other step's products are in flight.
//
//   epilogue, per consumer: accumulator element (r, col) is Y[m0 + col][n0 +
//   r]; the per-row scale (group 0), the bias, the fused elementwise steps in
//   f32, one rounding, guarded scalar stores (adjacent output columns are
//   other threads').
//
// Rows and columns past M, N or K are zero-filled by the TMA: x's columns
// past K are zero, so the weights there (zero bytes, decoding as -8 times a
// finite scale) add nothing; rows past M or N are not stored. The tensor
// maps need 16-byte aligned rows: K a multiple of 32 (checked on the host).

#include "loom/GPU/Kernels/HopperW4A16Kernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Tma.h"
#include "loom/GPU/Builder/Wgmma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;

/// What one output tile is: its first output column and x row, and its
/// part's operands (siblings pick theirs by the tile's index).
struct Tile {
  Value n0, m0;
  /// The packed weights' tensor maps (as pointers; a gated pair's gate and
  /// up), Y and N.
  SmallVector<Value, 2> descW;
  Value y, n;
  /// Per fragment row slot (rows g and g + 8 of each warp's 16: both of the
  /// part, or a gated pair's gate and up): the scales, the bias (null when
  /// absent) and the last scale group (group scales).
  Value scale[2], bias[2], lastGroup[2];
};

struct Generator {
  const HopperW4A16Config &c;
  KernelBuilder &b;
  Type yType;
  // Kernel arguments, one per part where the header says so.
  SmallVector<Value> descWs, ys, scales, biases;
  Value descX, K;
  std::vector<int> epilogueArgs;
  // Values of the prologue.
  Value tid, wg, wgTid, warp, lane, smem, base, pad, barriers, M, tilesX,
      tiles, kIters;
  /// Per part: N, its first linear tile index and (group scales) its last
  /// scale group.
  SmallVector<Value> ns, firstTile, lastGroups;

  Generator(const HopperW4A16Config &c, KernelBuilder &b) : c(c), b(b) {}

  /// Byte offsets (from the aligned base) of stage `s`'s x tile and packed
  /// weight tile: every x tile first (1024-byte multiples), then the packed
  /// tiles.
  Value offsetX(Value s) { return b.mulConst(s, c.xTileBytes()); }
  Value offsetW(Value s) {
    return b.addConst(b.mulConst(s, c.packedTileBytes()),
                      c.stages * c.xTileBytes());
  }
  Value viewOf(Value offset, int64_t rows, int64_t columns, Type type) {
    return b.view(smem, b.add(pad, offset),
                  sharedMemRefType({rows, columns}, type));
  }
  /// The tensor maps (they arrive as pointers, and a part's is picked by
  /// select before it is viewed as a map: the GPU-to-NVVM conversion
  /// neither converts nvgpu types in kernel signatures nor selects them).
  Value mapW(Value pointer) {
    Type type = tmaDescriptorType(b.getContext(), c.tileColumns(),
                                  HopperW4A16Config::kStepK / 2,
                                  b.getIntegerType(8, false), false);
    return UnrealizedConversionCastOp::create(b, type, pointer).getResult(0);
  }
  Value mapX() {
    Type type = tmaDescriptorType(b.getContext(), c.xRows,
                                  HopperW4A16Config::kStepK,
                                  b.getBF16Type(), true);
    return UnrealizedConversionCastOp::create(b, type, descX).getResult(0);
  }

  /// The tile of linear index `t`: its part (parts' tiles one after the
  /// other), then within the part x tiles fastest, so that the CTAs running
  /// at once share a few weight tiles in L2.
  Tile tileAt(Value t) {
    Value part = b.idx(0);
    for (size_t p = 1; p < firstTile.size(); ++p)
      part = b.select(b.ule(firstTile[p], t), b.idx(static_cast<int64_t>(p)),
                      part);
    Value local = b.sub(t, b.pick(part, firstTile));
    Tile tile;
    tile.n0 = b.mulConst(b.divu(local, tilesX), c.tileColumns());
    tile.m0 = b.mulConst(b.remu(local, tilesX), c.xRows);
    tile.y = b.pick(part, ys);
    tile.n = b.pick(part, ns);
    for (int slot = 0; slot < 2; ++slot) {
      // A gated pair: slot 0 the gate's operands, slot 1 the up's.
      Value p = c.gate ? b.idx(slot) : part;
      if (c.gate)
        tile.descW.push_back(descWs[slot]);
      tile.scale[slot] = b.pick(p, scales);
      if (!biases.empty())
        tile.bias[slot] = b.pick(p, biases);
      if (c.group > 0)
        tile.lastGroup[slot] = b.pick(p, lastGroups);
    }
    if (!c.gate)
      tile.descW.push_back(b.pick(part, descWs));
    return tile;
  }

  void producer() {
    setMaxRegisters(b, c.producerRegisters, /*increase=*/false);
    b.ifThen(b.eq(wgTid, b.idx(0)), [&] {
      Value x = mapX();
      for (Value pointer : descWs)
        tmaPrefetch(b, mapW(pointer));
      tmaPrefetch(b, x);
      b.forLoop(
          b.blockId(), tiles, b.gridDim(), ValueRange{b.idx(0)},
          [&](Value t, ValueRange outer) {
            Tile tile = tileAt(t);
            Value n0 = tile.n0, m0 = tile.m0;
            return b.forLoop(
                b.idx(0), kIters, b.idx(1), outer,
                [&](Value k, ValueRange inner) {
                  Value it = inner[0];
                  auto [s, parity] = stagePhase(b, it, c.stages);
                  // The round before this one must have been consumed (a
                  // fresh barrier counts its previous phase done).
                  waitBarrier(b, barriers, b.addConst(s, c.stages),
                              b.xori(parity, b.i1(true)));
                  arriveExpectBytes(b, barriers, s, c.stageBytes());
                  Value k0 = b.mulConst(k, HopperW4A16Config::kStepK);
                  tmaLoad(b, x, {k0, m0},
                          viewOf(offsetX(s), c.xRows,
                                 HopperW4A16Config::kStepK, b.getBF16Type()),
                          barriers, s);
                  // The packed boxes (a gated pair's gate, then up).
                  for (auto [j, pointer] : llvm::enumerate(tile.descW)) {
                    Value at = b.addConst(offsetW(s),
                                          static_cast<int64_t>(j) *
                                              c.tileColumns() *
                                              HopperW4A16Config::kStepK / 2);
                    tmaLoad(b, mapW(pointer), {b.divuConst(k0, 2), n0},
                            viewOf(at, c.tileColumns(),
                                   HopperW4A16Config::kStepK / 2,
                                   b.getIntegerType(8, false)),
                            barriers, s);
                  }
                  return Values{b.addConst(it, 1)};
                });
          });
    });
  }

  /// The consumer thread's view of its two fragment rows (slots).
  struct Rows {
    /// Per slot: the row of the packed tile and the output column within
    /// the tile (16w + g and + 8 in consumer c's 64 rows; a gated pair: row
    /// 8w + g of the gate's box and of the up's, both for column 8w + g of
    /// the consumer's 32).
    Value packedRow[2], column[2];
    /// The byte selector of prmt (byte t of a word into bytes 0 and 2).
    Value selector;
  };

  /// Group scales: the bf16 pairs (s, s) of the thread's two rows for
  /// K step `k` of `tile`; empty with per-row scales.
  Values stepScales(const Rows &rows, const Tile &tile, Value k) {
    Values pairs;
    if (c.group == 0)
      return pairs;
    Type i32 = b.getI32Type(), i16 = b.getI16Type(), bf16 = b.getBF16Type();
    Value lastN = b.sub(tile.n, b.idx(1));
    Value k0 = b.mulConst(k, HopperW4A16Config::kStepK);
    Value group = b.divuConst(k0, c.group);
    for (int slot = 0; slot < 2; ++slot) {
      Value grp = b.minu(group, tile.lastGroup[slot]);
      Value n = b.minu(b.add(tile.n0, rows.column[slot]), lastN);
      Value s = b.truncf(bf16, b.toF32(b.load(tile.scale[slot], {n, grp})));
      Value bits = b.extui(i32, b.bitcast(i16, s));
      pairs.push_back(b.ori(bits, b.shl(bits, b.i32(16))));
    }
    return pairs;
  }

  /// The bf16 pair of the byte `selector` picks from `word`, times
  /// `scalePair` (group scales) or unscaled (see the file comment).
  Value dequantizePair(Value word, Value selector, Value scalePair) {
    Type i32 = b.getI32Type();
    Value bias = b.i32(static_cast<int32_t>(0x43084308u));
    if (!scalePair)
      return b.inlinePtx(i32, {word, selector, bias},
                         w4a16DequantizePtx(false), "=r,r,r,r");
    return b.inlinePtx(i32, {word, selector, bias, scalePair},
                       w4a16DequantizePtx(true), "=r,r,r,r,r");
  }

  /// One K step at stage ring position `it`: waits for the stage, builds
  /// the A fragments, issues and commits the four products into `acc`.
  Value step(const Rows &rows, ArrayRef<Value> scalePairs, Value acc,
             Value it) {
    auto [s, parity] = stagePhase(b, it, c.stages);
    waitBarrier(b, barriers, s, parity);
    Type i32 = b.getI32Type();
    auto words4 = VectorType::get({4}, i32);
    Value packed = b.numericShared(viewOf(offsetW(s), c.weightRows(),
                                          HopperW4A16Config::kStepK / 8, i32));
    // words[row][j]: word j (bytes 4j .. 4j + 3) of row r0 / r1.
    Values words[2];
    for (int r = 0; r < 2; ++r)
      for (int64_t half = 0; half < 2; ++half) {
        Value v = b.vectorLoad(words4, packed,
                               {rows.packedRow[r], b.idx(4 * half)}, 16);
        for (int64_t j = 0; j < 4; ++j)
          words[r].push_back(b.extract(v, j));
      }
    SmallVector<Value> fragments;
    for (int64_t slice = 0; slice < 4; ++slice)
      for (int64_t h = 0; h < 2; ++h)
        for (int r = 0; r < 2; ++r)
          fragments.push_back(dequantizePair(words[r][2 * slice + h],
                                             rows.selector,
                                             scalePairs.empty()
                                                 ? Value()
                                                 : scalePairs[r]));
    Value xTile = b.add(base, b.add(pad, offsetX(s)));
    wgmmaFence(b);
    for (int64_t slice = 0; slice < 4; ++slice) {
      // Each k16 slice is 32 bytes of x's 128-byte rows.
      Value dX = wgmmaDescriptor(b, b.addConst(xTile, 32 * slice));
      acc = wgmmaMmaRegisterA(b, WgmmaType::BF16, c.xRows, acc,
                              ArrayRef<Value>(fragments).slice(4 * slice, 4),
                              dX, /*transposeB=*/false);
    }
    wgmmaCommit(b);
    return acc;
  }

  /// Every warp releases the stage itself, after its own wait: a warp
  /// reads the stage's weights with its own loads, and the warps of a
  /// warpgroup can drift apart (their group-scale loads from global memory
  /// take different times), so one warp's finished products do not show
  /// that the others are done with the stage. (This was first suspected of
  /// the wrong rows seen on the H100 on 2026-12-07; their cause was the
  /// epilogue's reads above the last wait, see the pair loop.)
  void release(Value it) { releaseRingStage(b, barriers, it, c.stages, lane); }

  void consumer() {
    setMaxRegisters(b, c.consumerRegisters, /*increase=*/true);
    Value consumerIdx = b.sub(wg, b.idx(1));
    Rows rows;
    Value g = b.divuConst(lane, 4), t4 = b.remuConst(lane, 4);
    if (c.gate) {
      Value column = b.add(b.mulConst(consumerIdx, 32),
                           b.add(b.mulConst(warp, 8), g));
      rows.packedRow[0] = column;
      rows.packedRow[1] = b.addConst(column, c.tileColumns());
      rows.column[0] = rows.column[1] = column;
    } else {
      Value r0 = b.add(b.mulConst(consumerIdx, 64),
                       b.add(b.mulConst(warp, 16), g));
      rows.packedRow[0] = rows.column[0] = r0;
      rows.packedRow[1] = rows.column[1] = b.addConst(r0, 8);
    }
    Value t32 = b.indexCast(b.getI32Type(), t4);
    rows.selector = b.ori(t32, b.shl(t32, b.i32(8)));
    Type accType = wgmmaAccumulatorType(b, WgmmaType::BF16, c.xRows);
    b.forLoop(
        b.blockId(), tiles, b.gridDim(), ValueRange{b.idx(0)},
        [&](Value t, ValueRange outer) {
          Tile tile = tileAt(t);
          Value it0 = outer[0];
          // An odd step count: the first step alone, then wait(0) (its
          // accumulator leaves the branch as an ordinary value).
          Value odd = b.remuConst(kIters, 2);
          Value first = b.ne(odd, b.idx(0));
          Value acc0 = b.ifThenElse(
              first, accType,
              [&]() -> Value {
                Value acc = step(rows, stepScales(rows, tile, b.idx(0)),
                                 wgmmaZeroAccumulator(b, accType), it0);
                wgmmaWait(b, 0);
                release(it0);
                return acc;
              },
              [&]() -> Value { return wgmmaZeroAccumulator(b, accType); });
          Value itPairs = b.add(it0, odd);
          Values result = b.forLoop(
              odd, kIters, b.idx(2), ValueRange{acc0, itPairs},
              [&](Value k, ValueRange inner) {
                Value acc = inner[0], it = inner[1];
                Values scalesA = stepScales(rows, tile, k);
                Values scalesB = stepScales(rows, tile, b.addConst(k, 1));
                acc = step(rows, scalesA, acc, it);
                // The previous pair's second step is done: its stage is
                // free (none before the tile's first pair).
                wgmmaWait(b, 1);
                b.ifThen(b.ult(odd, k), [&] { release(b.sub(it, b.idx(1))); });
                Value it1 = b.addConst(it, 1);
                acc = step(rows, scalesB, acc, it1);
                // The tile's last pair waits for both its steps here, in the
                // loop, rather than after it: ptxas (CUDA 13) schedules the
                // epilogue's conversions of the accumulator above a
                // wait_group 0 that follows the loop (it takes the loop's
                // wait_group 1 for the accumulator's last write), so they
                // read it before the last products land: rows of x past 32
                // or 40 came out wrong in three configurations on the H100
                // (docs/perf.md, 2026-12-08). With the wait in the loop the
                // accumulator is complete on every path out of it.
                wgmmaWaitOrDrain(b, b.ule(kIters, b.addConst(k, 2)), 1);
                release(it);
                return Values{acc, b.addConst(it, 2)};
              });
          Value itEnd = result[1];
          // Nothing is pending here (the single step waited for itself, the
          // last pair above); kept for the reader and for ptxas.
          wgmmaWait(b, 0);
          b.ifThen(b.ult(odd, kIters),
                   [&] { release(b.sub(itEnd, b.idx(1))); });
          epilogue(result[0], rows, tile);
          return Values{itEnd};
        });
  }

  void epilogue(Value acc, const Rows &rows, const Tile &tile) {
    Value n0 = tile.n0, m0 = tile.m0, N = tile.n, y = tile.y;
    // Per slot (elements i % 4 < 2 are slot 0's, the others slot 1's): the
    // output column, its scale (group 0) and bias, read at a clamped column.
    Value lastN = b.sub(N, b.idx(1));
    Value nOf[2], rowScale[2], rowBias[2], colIn[2];
    for (int r = 0; r < 2; ++r) {
      nOf[r] = b.add(n0, rows.column[r]);
      colIn[r] = b.ult(nOf[r], N);
      Value nIn = b.minu(nOf[r], lastN);
      if (c.group == 0)
        rowScale[r] = b.toF32(b.load(tile.scale[r], {nIn}));
      if (tile.bias[r])
        rowBias[r] = b.toF32(b.load(tile.bias[r], {nIn}));
    }
    auto product = [&](int64_t i) {
      int r = (i % 4) / 2;
      Value v = wgmmaElement(b, acc, i);
      if (c.group == 0)
        v = b.fmul(v, rowScale[r]);
      if (tile.bias[r])
        v = b.fadd(v, rowBias[r]);
      return v;
    };
    // The rounded result of element i (a gated pair: act(gate i) * up i + 2).
    auto value = [&](int64_t i, Value m) {
      Value v = product(i);
      if (c.gate)
        v = b.fmul(applyEpilogueStep(b, EpilogueStep{*c.gate, ""}, v),
                   product(i + 2));
      return b.roundTo(yType, applyEpilogue(b, c.epilogue, epilogueArgs, v, m,
                                            nOf[(i % 4) / 2]));
    };
    // Element i is at x row 8 (i / 4) + 2t + i % 2 of the tile.
    Value t2 = b.mulConst(b.remuConst(lane, 4), 2);
    auto rowM = [&](int64_t i) {
      return b.add(m0, b.addConst(t2, 8 * (i / 4) + i % 2));
    };
    // The stored elements: all, or a gated pair's slot-0 ones.
    SmallVector<int64_t> stored;
    for (int64_t i = 0; i < c.xRows / 2; ++i)
      if (!c.gate || i % 4 < 2)
        stored.push_back(i);
    Value whole = b.andi(b.ule(b.addConst(m0, c.xRows), M),
                         b.ule(b.addConst(n0, c.tileColumns()), N));
    b.ifThenElse(
        whole,
        [&] {
          for (int64_t i : stored) {
            Value m = rowM(i);
            b.store(value(i, m), y, {m, nOf[(i % 4) / 2]});
          }
        },
        [&] {
          for (int64_t i : stored) {
            Value m = rowM(i);
            b.ifThen(b.andi(b.ult(m, M), colIn[(i % 4) / 2]), [&] {
              b.store(value(i, m), y, {m, nOf[(i % 4) / 2]});
            });
          }
        });
  }

  void run() {
    yType = parseElementType(b.getContext(), c.yType);
    unsigned arg = 0;
    for (int64_t p = 0; p < c.parts; ++p)
      descWs.push_back(b.arg(arg++));
    descX = b.arg(arg++);
    arg += 1 + c.parts; // x and each w themselves (see the header)
    for (int64_t p = 0; p < c.outputs(); ++p)
      ys.push_back(b.arg(arg++));
    K = b.arg(arg++);
    for (int64_t p = 0; p < c.parts; ++p)
      scales.push_back(b.arg(arg++));
    if (!c.biasType.empty())
      for (int64_t p = 0; p < c.parts; ++p)
        biases.push_back(b.arg(arg++));
    for (const EpilogueStep &s : c.epilogue)
      epilogueArgs.push_back(s.takesTensor() ? static_cast<int>(arg++) : -1);

    tid = b.threadId();
    wg = b.divuConst(tid, 128);
    wgTid = b.remuConst(tid, 128);
    warp = b.divuConst(wgTid, 32);
    lane = b.remuConst(tid, 32);
    M = b.dim(ys[0], 0);
    tilesX = b.ceilDivConst(M, c.xRows);
    tiles = b.idx(0);
    for (int64_t p = 0; p < c.outputs(); ++p) {
      firstTile.push_back(tiles);
      ns.push_back(b.dim(ys[p], 1));
      tiles = b.add(tiles, b.mul(b.ceilDivConst(ns[p], c.tileColumns()),
                                 tilesX));
    }
    if (c.group > 0)
      for (Value scale : scales)
        lastGroups.push_back(b.sub(b.dim(scale, 1), b.idx(1)));
    kIters = b.ceilDivConst(K, HopperW4A16Config::kStepK);

    SwizzleAlignedShared shared = swizzleAlignedSharedMemory(b);
    smem = shared.memref;
    base = shared.base;
    pad = shared.pad;
    // One `empty` arrival per consumer warp (release()).
    barriers = createRingBarriers(b, tid, c.stages, 4 * c.consumers);
    b.ifThenElse(b.eq(wg, b.idx(0)), [&] { producer(); }, [&] { consumer(); });
  }
};

} // namespace

std::string HopperW4A16Config::check() const {
  if (scaleType != "f32" && scaleType != "bf16" && scaleType != "f16")
    return "the scales must be f32, bf16 or f16";
  if (group < 0 || group % kStepK)
    return "the group size must be 0 or a multiple of 64";
  if (yType != "bf16" && yType != "f16" && yType != "f32")
    return "Y must be bf16, f16 or f32";
  if (consumers != 1 && consumers != 2)
    return "one or two consumer warpgroups";
  if (xRows != 64 && xRows != 128 && xRows != 256)
    return "x's tile must have 64, 128 or 256 rows";
  if (stages < 2)
    return "at least two stages";
  if (producerRegisters % 8 || consumerRegisters % 8 ||
      producerRegisters < 24 || consumerRegisters > 256)
    return "register budgets must be multiples of 8 in [24, 256]";
  if (producerRegisters * 128 + consumerRegisters * 128 * consumers > 65536)
    return "the register budgets exceed the 64K registers of an SM";
  if (parts < 1 || parts > 4)
    return "one to four parts";
  if (gate && (parts != 2 || (*gate != EpilogueStep::Kind::Silu &&
                              *gate != EpilogueStep::Kind::Gelu &&
                              *gate != EpilogueStep::Kind::GeluTanh)))
    return "a gated product has two parts and a SiLU or GELU gate";
  if (parts > 1 && !gate && !epilogue.empty())
    return "siblings (parts > 1) take no epilogue";
  if (consumerRegisters < xRows / 2 + 56)
    return "the consumers' register budget does not hold XR/2 accumulators "
           "and two steps of fragments";
  return "";
}

std::string HopperW4A16Config::kernelName() const {
  return "loom_w4a16_wgmma_" + scaleType + "_g" + std::to_string(group) +
         "_" + (biasType.empty() ? std::string("nobias") : biasType) + "_" +
         yType + "_" + std::to_string(weightRows()) + "x" +
         std::to_string(xRows) + "_s" + std::to_string(stages) + "_r" +
         std::to_string(producerRegisters) + "x" +
         std::to_string(consumerRegisters) +
         (parts > 1 ? "_x" + std::to_string(parts) : std::string()) +
         (gate ? std::string("_gate") + epilogueSuffix({{*gate, ""}}).substr(3)
               : std::string()) +
         epilogueSuffix(epilogue);
}

std::string w4a16DequantizePtx(bool groupScales) {
  // The byte in bytes 0 and 2; its high nibble moved down to bits 16..19
  // (bf16 has 7 mantissa bits: a nibble at bits 4..7 would reach the
  // exponent); each nibble's sign flipped (u = n + 8) under 0x4300, the
  // pattern of 128 + u.
  std::string spread = "{\n.reg .b32 d, e;\nprmt.b32 d, $1, $1, $2;\n"
                       "shr.b32 e, d, 4;\n"
                       "and.b32 d, d, 0x0000000F;\n"
                       "and.b32 e, e, 0x000F0000;\n"
                       "or.b32 d, d, e;\n"
                       "xor.b32 d, d, 0x43084308;\n";
  if (!groupScales)
    // d - (136, 136): the signed nibbles, exactly.
    return spread + "sub.rn.bf16x2 $0, d, $3;\n}";
  // (d - (136, 136)) * (s, s): one rounding.
  return spread + "sub.rn.bf16x2 d, d, $3;\nmul.rn.bf16x2 $0, d, $4;\n}";
}

FailureOr<SymbolRefAttr> buildHopperW4A16Kernel(ModuleOp module, Location loc,
                                                const HopperW4A16Config &c) {
  MLIRContext *ctx = module.getContext();
  KernelSignature sig;
  Type pointer = LLVM::LLVMPointerType::get(ctx);
  Type scaleType = dynamicMemRefType(c.group > 0 ? 2 : 1,
                                     parseElementType(ctx, c.scaleType));
  sig.arguments.assign(c.parts + 1, pointer);
  sig.arguments.push_back(dynamicMemRefType(2, BFloat16Type::get(ctx)));
  sig.arguments.append(c.parts, dynamicMemRefType(2, IntegerType::get(ctx, 8)));
  sig.arguments.append(c.outputs(),
                       dynamicMemRefType(2, parseElementType(ctx, c.yType)));
  sig.arguments.push_back(IndexType::get(ctx));
  sig.arguments.append(c.parts, scaleType);
  if (!c.biasType.empty())
    sig.arguments.append(
        c.parts, dynamicMemRefType(1, parseElementType(ctx, c.biasType)));
  appendEpilogueArguments(ctx, c.epilogue, sig.arguments);
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  sig.minBlocksPerSM = 1; // setmaxnreg (KernelSignature)
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).run(); });
}

} // namespace gpu
} // namespace loom
