//===- HopperAttentionKernel.cpp - flash attention on wgmma ---------------===//
//
// FlashAttention forward for sm_90a, one CTA of 384 threads per (query tile
// of 128 rows, head, batch):
//
//   shared memory (from a 1024-byte aligned base): the Q tile and a ring of
//   `stages` K tiles and V tiles, each stored as ceil(D / 64) panels of
//   [rows][64] elements (128-byte rows, 128-byte swizzle), as the TMA writes
//   them (columns past D zero-filled: D 80 and 96 fill two panels);
//   mbarriers: Q full, per stage K full and V full (armed with the bytes by
//   the producer, completed by the TMA) and empty (one arrival per consumer
//   warpgroup once it has read the stage).
//
//   warpgroup 0, the producer, gives its registers away; one thread loads
//   Q, then walks the CTA's key tiles: wait until the stage is empty, arm
//   and issue K's panels, arm and issue V's (V on its own barrier, so that
//   the consumers start S = Q K^T while V is still in flight).
//
//   warpgroups 1 and 2, the consumers, own rows 64c .. 64c + 63 of the tile
//   and, for each key tile:
//     S = Q K^T        D / 16 wgmma.m64n(blockN)k16, both operands K-major
//                      in shared memory
//     x = S * scale * log2(e) (or raw scores with a positive scale), -inf
//                      where masked (only tiles that cross the end of the
//                      keys or the causal diagonal are masked per element)
//     m' = max(m, rowmax x); p = exp2(x - m'); l = l * exp2(m - m') + rowsum p
//     O = O * exp2(m - m') + P V
//                      blockN / 16 wgmma.m64n(paddedDim)k16 with A = P in
//                      registers (the accumulator layout of S is the A
//                      fragment's) and B = V N-major (transposed) in shared
//                      memory
//     release the stage (one arrival per warpgroup)
//   O / l (0 where l = 0), rounded once, stored in column pairs; with `lse`,
//   ln(2) * (m + lg2(l)) per row.
//
// The accumulator layout (Wgmma.h): thread (warp w, lane l) of a consumer
// holds rows 16w + l/4 and 16w + l/4 + 8 of its 64 rows and, of every n8
// block j, columns 8j + 2(l%4) + {0, 1}; a row's values lie in the 4 lanes
// of a quad, so row reductions are two xor shuffles.
//
// Block-sparse (`sparse`): before the pipeline starts, warp 0 reads the
// layout row of the CTA's query block for each key tile below the causal
// end and compacts the visible ones (ballot + popc) into a list in shared
// memory after the rings; the producer and the consumers walk that list
// instead of every tile, so the cost follows the true blocks.
//
// Rows of Q past Sq and keys past Skv are zero-filled by the TMA (the maps
// are 4-D, [B, H, S, D], so a box never reads the next head's rows); such
// keys are masked, such rows are not stored.

#include "loom/GPU/Kernels/HopperAttentionKernel.h"

#include "loom/GPU/Builder/AttentionMask.h"
#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/Reduce.h"
#include "loom/GPU/Builder/Tma.h"
#include "loom/GPU/Builder/Wgmma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

constexpr double kLog2e = 1.44269504088896340736;

using Values = KernelBuilder::Values;

struct Generator {
  const HopperAttentionConfig &c;
  KernelBuilder &b;
  Type t;
  WgmmaType mmaType;

  // Arguments.
  Value qMapPtr, kMapPtr, vMapPtr, q, k, v, o, scale, softcapArg, sinkArg,
      lseArg, layoutArg, blockQArg, blockKArg;
  // Prologue values.
  Value tid, wg, wgTid, warp, lane, smem, base, pad, barriers;
  Value bIdx, h, kvh, sq, skv, q0, offset, ne, sl2;
  // With softcap: scale / c and c * log2(e).
  Value sOverC, capL2;
  // With a window: head h's window (0: none), the sink tiles and the first
  // window tile after them (tileOf).
  Value win, sinkTiles, start;
  // Block-sparse: the list of visible key tiles in shared memory (slot 0
  // the count, slot 1 + i the i-th visible tile).
  Value tileList;
  // A consumer thread's two query rows and its lane in the quad.
  Value rows[2], t4;

  Generator(const HopperAttentionConfig &c, KernelBuilder &b) : c(c), b(b) {}

  Value negInf() { return b.f32Bits(0xFF800000u); }
  Value zeroF() { return b.f32(0.0); }

  // Barrier indices.
  Value qFull() { return b.idx(0); }
  Value kFull(Value s) { return b.addConst(s, 1); }
  Value vFull(Value s) { return b.addConst(s, 1 + c.stages); }
  Value empty(Value s) { return b.addConst(s, 1 + 2 * c.stages); }

  // Byte offsets from the aligned base.
  int64_t panelBytes(int64_t rows) const { return rows * 128; }
  Value qPanel(int64_t p) { return b.idx(p * panelBytes(c.blockM())); }
  Value kPanel(Value s, int64_t p) {
    Value stage = b.mul(s, b.idx(c.kTileBytes()));
    return b.addConst(stage, c.qBytes() + p * panelBytes(c.blockN));
  }
  Value vPanel(Value s, int64_t p) {
    Value stage = b.mul(s, b.idx(c.vTileBytes()));
    return b.addConst(stage, c.qBytes() + c.stages * c.kTileBytes() +
                                 p * panelBytes(c.blockN));
  }
  /// The [1, 1, rows, 64] shared view at `offset` (a TMA destination).
  Value viewAt(Value offset, int64_t rows) {
    return b.view(smem, b.add(pad, offset),
                  sharedMemRefType({1, 1, rows, 64}, t));
  }
  /// The shared-window address of `offset`.
  Value addressOf(Value offset) { return b.add(base, b.add(pad, offset)); }
  /// The key tile of iteration `it`: every tile without a window, else the
  /// sink tiles and then the window's.
  Value tileOf(Value it) {
    if (c.sparse)
      return b.indexCast(b.getIndexType(),
                         b.load(tileList, {b.addConst(it, 1)}));
    if (c.windows.empty())
      return it;
    return b.select(b.slt(it, sinkTiles), it,
                    b.add(b.sub(it, sinkTiles), start));
  }
  /// The tensor map at `pointer` with boxes of `rows` x 64.
  Value mapOf(Value pointer, int64_t rows) {
    Type type =
        tmaDescriptorType(b.getContext(), {1, 1, rows, 64}, t, true);
    return UnrealizedConversionCastOp::create(b, type, pointer).getResult(0);
  }

  void producer() {
    setMaxRegisters(b, c.producerRegisters, /*increase=*/false);
    b.ifThen(b.andi(b.eq(wgTid, b.idx(0)), b.slt(b.idx(0), ne)), [&] {
      Value qMap = mapOf(qMapPtr, c.blockM());
      Value kMap = mapOf(kMapPtr, c.blockN);
      Value vMap = mapOf(vMapPtr, c.blockN);
      for (Value map : {qMap, kMap, vMap})
        tmaPrefetch(b, map);
      arriveExpectBytes(b, barriers, qFull(), c.qBytes());
      for (int64_t p = 0; p < c.panels(); ++p)
        tmaLoad(b, qMap, {b.idx(64 * p), q0, h, bIdx},
                viewAt(qPanel(p), c.blockM()), barriers, qFull());
      b.forLoop(b.idx(0), ne, b.idx(1), [&](Value it) {
        auto [s, parity] = stagePhase(b, it, c.stages);
        // The round before this one must have been consumed (a fresh
        // barrier counts its previous phase done).
        waitBarrier(b, barriers, empty(s), b.xori(parity, b.i1(true)));
        Value row = b.mul(tileOf(it), b.idx(c.blockN));
        arriveExpectBytes(b, barriers, kFull(s), c.kTileBytes());
        for (int64_t p = 0; p < c.panels(); ++p)
          tmaLoad(b, kMap, {b.idx(64 * p), row, kvh, bIdx},
                  viewAt(kPanel(s, p), c.blockN), barriers, kFull(s));
        arriveExpectBytes(b, barriers, vFull(s), c.vTileBytes());
        for (int64_t p = 0; p < c.valuePanels(); ++p)
          tmaLoad(b, vMap, {b.idx(64 * p), row, kvh, bIdx},
                  viewAt(vPanel(s, p), c.blockN), barriers, vFull(s));
      });
    });
  }

  /// What the consumer computes for one key tile besides O.
  struct Softmax {
    Value m[2], l[2], alpha[2];
    Values p; // exp2 of the masked scores, f32, accumulator order
  };

  void consumer() {
    setMaxRegisters(b, c.consumerRegisters, /*increase=*/true);
    const int64_t nS = c.blockN / 2, nO = c.paddedValueDim() / 2;
    const bool folded = c.folded();
    Value rowInTile = b.mul(b.sub(wg, b.idx(1)), b.idx(64));
    Value g = b.divu(lane, b.idx(4));
    t4 = b.remu(lane, b.idx(4));
    Value row0 = b.add(b.add(q0, rowInTile), b.add(b.mul(warp, b.idx(16)), g));
    rows[0] = row0;
    rows[1] = b.addConst(row0, 8);
    Value aligned[2] = {b.add(rows[0], offset), b.add(rows[1], offset)};
    Value keyLane = b.indexCast(b.getI32Type(), b.mul(t4, b.idx(2)));
    Type sType = wgmmaAccumulatorType(b, mmaType, c.blockN);
    Type oType = wgmmaAccumulatorType(b, mmaType, c.paddedValueDim());
    Value ipMin = b.add(b.add(q0, rowInTile), offset);

    // S = Q K^T of key tile `it` (issued and committed, not waited for).
    auto issueS = [&](Value it) {
      auto [s, parity] = stagePhase(b, it, c.stages);
      waitBarrier(b, barriers, kFull(s), parity);
      Value acc = wgmmaZeroAccumulator(b, sType);
      wgmmaFence(b);
      for (int64_t kk = 0; kk < c.headDim / 16; ++kk) {
        int64_t p = kk / 4, within = 32 * (kk % 4);
        Value aAt = b.addConst(
            addressOf(b.add(qPanel(p), b.mul(rowInTile, b.idx(128)))),
            within);
        Value bAt = b.addConst(addressOf(kPanel(s, p)), within);
        acc = wgmmaMma(b, mmaType, c.blockN, acc, wgmmaDescriptor(b, aAt),
                       wgmmaDescriptor(b, bAt));
      }
      wgmmaCommit(b);
      return acc;
    };
    // O += P V of key tile `it` (issued and committed, not waited for).
    auto issuePV = [&](Value it, Value out, ValueRange pa) {
      auto [s, parity] = stagePhase(b, it, c.stages);
      waitBarrier(b, barriers, vFull(s), parity);
      wgmmaFence(b);
      for (int64_t j = 0; j < c.blockN / 16; ++j) {
        // 16 keys = two 8-row groups of 128-byte rows.
        Value at = b.addConst(addressOf(vPanel(s, 0)), j * 16 * 128);
        Value desc = wgmmaDescriptorNMajor(
            b, at, /*leadingBytes=*/panelBytes(c.blockN), /*strideBytes=*/1024);
        out = wgmmaMmaRegisterA(b, mmaType, c.paddedValueDim(), out,
                                pa.slice(4 * j, 4), desc, /*transposeB=*/true);
      }
      wgmmaCommit(b);
      return out;
    };
    // The stage of key tile `it` is read: one arrival per warpgroup.
    auto release = [&](Value it) {
      auto [s, parity] = stagePhase(b, it, c.stages);
      (void)parity;
      b.ifThen(b.eq(wgTid, b.idx(0)),
               [&] { arriveBarrier(b, barriers, empty(s)); });
    };
    // The online softmax of the scores `acc` of key tile `it`, given the
    // running max and sum of the thread's two rows.
    auto softmax = [&](Value acc, Value it, ValueRange m, ValueRange l) {
      Values x(nS);
      for (int64_t i = 0; i < nS; ++i) {
        Value e = wgmmaElement(b, acc, i);
        if (c.softcap)
          x[i] = b.fmul(b.tanh(b.fmul(e, sOverC)), capL2);
        else
          x[i] = folded ? e : b.fmul(e, sl2);
      }
      // Masks, per element only where the tile crosses the end of the
      // keys, (causal) the diagonal of the warpgroup's first row or (window)
      // the window's start for its last row, outside the sinks.
      Value tileStart = b.mul(tileOf(it), b.idx(c.blockN));
      Value tileEnd = b.addConst(tileStart, c.blockN);
      Value needMask = b.sgt(tileEnd, skv);
      if (c.causal)
        needMask = b.ori(needMask, b.sgt(b.sub(tileEnd, b.idx(1)), ipMin));
      if (!c.windows.empty()) {
        Value firstFull = b.addConst(b.sub(ipMin, win), 63 + 1);
        Value cut = b.andi(b.ne(win, b.idx(0)), b.slt(tileStart, firstFull));
        cut = b.andi(cut, b.sgt(tileEnd, b.idx(c.sink)));
        needMask = b.ori(needMask, cut);
      }
      Values masked = b.ifThenElse(
          needMask, SmallVector<Type>(nS, b.getF32Type()),
          [&] {
            Value lastKey = b.sub(skv, b.idx(1));
            Value hiRel[2];
            for (int r = 0; r < 2; ++r) {
              Value hi = c.causal ? b.mins(aligned[r], lastKey) : lastKey;
              Value rel = b.sub(hi, tileStart);
              Value clamped = b.maxs(b.mins(rel, b.idx(c.blockN)), b.idx(-1));
              hiRel[r] = b.indexCast(b.getI32Type(), clamped);
            }
            // The window: keys from i' - W + 1 on, or below the sink.
            auto relative = [&](Value key) {
              Value rel = b.sub(key, tileStart);
              Value clamped =
                  b.maxs(b.mins(rel, b.idx(c.blockN + 1)), b.idx(-1));
              return b.indexCast(b.getI32Type(), clamped);
            };
            Value loRel[2], sinkRel;
            if (!c.windows.empty()) {
              for (int r = 0; r < 2; ++r)
                loRel[r] = b.select(
                    b.eq(win, b.idx(0)), b.i32(-1),
                    relative(b.addConst(b.sub(aligned[r], win), 1)));
              sinkRel = relative(b.idx(c.sink));
            }
            Values ys;
            for (int64_t i = 0; i < nS; ++i) {
              int64_t r = (i % 4) / 2;
              Value jl = b.add(keyLane, b.i32(8 * (i / 4) + i % 2));
              Value visible = b.sle(jl, hiRel[r]);
              if (!c.windows.empty())
                visible = b.andi(visible, b.ori(b.sge(jl, loRel[r]),
                                                b.slt(jl, sinkRel)));
              ys.push_back(b.select(visible, x[i], negInf()));
            }
            return ys;
          },
          [&] { return x; });
      Softmax out;
      Value mAdd[2];
      for (int r = 0; r < 2; ++r) {
        Value mx;
        for (int64_t i = 0; i < nS; ++i)
          if ((i % 4) / 2 == r)
            mx = mx ? b.fmax(mx, masked[i]) : masked[i];
        mx = warpAllReduce(b, mx, ReduceKind::Max, /*lanes=*/4,
                           /*descending=*/false);
        out.m[r] = b.fmax(m[r], mx);
        Value none = b.cmpf(arith::CmpFPredicate::OEQ, out.m[r], negInf());
        Value mSafe = b.select(none, zeroF(), out.m[r]);
        Value delta = b.fsub(m[r], mSafe);
        out.alpha[r] = b.exp2Approx(folded ? b.fmul(delta, sl2) : delta);
        mAdd[r] = folded ? b.fneg(b.fmul(mSafe, sl2)) : b.fneg(mSafe);
      }
      Value rowSum[2];
      for (int64_t i = 0; i < nS; ++i) {
        int64_t r = (i % 4) / 2;
        Value arg = folded ? b.fma(masked[i], sl2, mAdd[r])
                           : b.fadd(masked[i], mAdd[r]);
        out.p.push_back(b.exp2Approx(arg));
        rowSum[r] = rowSum[r] ? b.fadd(rowSum[r], out.p[i]) : out.p[i];
      }
      for (int r = 0; r < 2; ++r)
        out.l[r] = b.fadd(b.fmul(l[r], out.alpha[r]), rowSum[r]);
      return out;
    };
    // P's A fragments: k16 step j is n8 blocks 2j and 2j + 1.
    auto pack = [&](ArrayRef<Value> p) {
      Values pa;
      for (int64_t j = 0; j < c.blockN / 16; ++j)
        for (int64_t e = 0; e < 8; e += 2)
          pa.push_back(wgmmaPackA(b, mmaType, p[8 * j + e], p[8 * j + e + 1]));
      return pa;
    };
    auto rescale = [&](Value out, Value alpha[2]) {
      for (int64_t i = 0; i < nO; ++i) {
        Value e = wgmmaElement(b, out, i);
        Value scaled = b.fmul(e, alpha[(i % 4) / 2]);
        out = LLVM::InsertValueOp::create(b, out, scaled, ArrayRef<int64_t>{i});
      }
      return out;
    };

    // The two consumer warpgroups take turns on the tensor cores
    // (FlashAttention-3's ping-pong): warpgroup w waits on named barrier
    // 1 + w for its turn, issues its products (P V of tile j, then S of tile
    // j + 1), and hands the turn to the other (arrive on 2 - w); its softmax
    // then runs while the other warpgroup's products do. Warpgroup 1 hands
    // warpgroup 0 the first turn. Without `pingPong` each warpgroup goes on
    // its own (S, wait, softmax, P V, wait per tile).
    const int64_t consumerThreads = 128 * HopperAttentionConfig::kConsumers;
    Value w = b.sub(wg, b.idx(1));
    auto myTurn = [&] {
      if (c.pingPong)
        namedBarrierSync(b, b.addConst(w, 1), consumerThreads);
    };
    auto handOver = [&] {
      if (c.pingPong)
        namedBarrierArrive(b, b.sub(b.idx(2), w), consumerThreads);
    };
    // The running max and sum before the first key: -inf and 0, or with
    // sink logits the sink as a key of score sink_h (in log2 units) and
    // weight 1, counted by one lane of each quad (the sums are reduced
    // over the quad at the end).
    Values mInit{negInf(), negInf()}, lInit{zeroF(), zeroF()};
    if (c.sinkLogits) {
      Value logit = b.ifThenElse(
          b.slt(h, b.dim(q, 1)), b.getF32Type(),
          [&] { return b.load(sinkArg, {h}); }, [&] { return negInf(); });
      Value m0 = b.fmul(logit, b.f32(kLog2e));
      Value counted = b.andi(
          b.eq(t4, b.idx(0)),
          b.cmpf(arith::CmpFPredicate::ONE, logit, negInf()));
      Value l0 = b.select(counted, b.f32(1.0), zeroF());
      mInit = {m0, m0};
      lInit = {l0, l0};
    }
    SmallVector<Type> resultTypes(4, b.getF32Type());
    resultTypes.push_back(oType);
    Values loop = b.ifThenElse(
        b.slt(b.idx(0), ne), resultTypes,
        [&] {
          waitBarrier(b, barriers, qFull(), b.i1(false));
          if (c.pingPong)
            b.ifThen(b.eq(w, b.idx(1)), [&] {
              namedBarrierArrive(b, b.idx(1), consumerThreads);
            });
          Value first = b.idx(0);
          myTurn();
          Value acc0 = issueS(first);
          handOver();
          wgmmaWait(b, 0);
          Softmax s0 = softmax(acc0, first, mInit, lInit);
          Values init{s0.m[0], s0.m[1], s0.l[0], s0.l[1],
                      wgmmaZeroAccumulator(b, oType)};
          Values pa0 = pack(s0.p);
          init.append(pa0.begin(), pa0.end());
          Value last = b.sub(ne, b.idx(1));
          Values steady = b.forLoop(
              b.idx(0), last, b.idx(1), init,
              [&](Value it, ValueRange carried) {
                Value next = b.addConst(it, 1);
                myTurn();
                Value out = issuePV(it, carried[4], carried.drop_front(5));
                if (!c.pingPong) {
                  wgmmaWait(b, 0);
                  release(it);
                }
                Value accNext = issueS(next);
                handOver();
                wgmmaWait(b, 0);
                if (c.pingPong)
                  release(it);
                Softmax sm = softmax(accNext, next, carried.take_front(2),
                                     carried.slice(2, 2));
                out = rescale(out, sm.alpha);
                Values result{sm.m[0], sm.m[1], sm.l[0], sm.l[1], out};
                Values pa = pack(sm.p);
                result.append(pa.begin(), pa.end());
                return result;
              });
          myTurn();
          Value out =
              issuePV(last, steady[4], ValueRange(steady).drop_front(5));
          // Warpgroup 1's last turn is followed by no turn of warpgroup 0.
          if (c.pingPong)
            b.ifThen(b.eq(w, b.idx(0)), [&] { handOver(); });
          wgmmaWait(b, 0);
          release(last);
          return Values{steady[0], steady[1], steady[2], steady[3], out};
        },
        [&] {
          return Values{mInit[0], mInit[1], lInit[0], lInit[1],
                        wgmmaZeroAccumulator(b, oType)};
        });

    // O / l, rounded to T; 0 for a row without visible key.
    Value inv[2], lse[2];
    for (int r = 0; r < 2; ++r) {
      Value l = warpAllReduce(b, loop[2 + r], ReduceKind::Add, /*lanes=*/4,
                              /*descending=*/false);
      Value none = b.cmpf(arith::CmpFPredicate::OEQ, l, zeroF());
      inv[r] = b.select(none, zeroF(), b.fdiv(b.f32(1.0), l));
      if (c.lse) {
        Value m = loop[r];
        if (folded)
          m = b.fmul(m, sl2);
        lse[r] = rowLogSumExp(b, m, l);
      }
    }
    // A CTA without key tiles (Skv = 0, or causal rows above every key)
    // still writes its rows of a live (b, h): zeros, and -inf lse.
    Value bhLive = b.andi(b.slt(h, b.dim(q, 1)), b.slt(bIdx, b.dim(q, 0)));
    if (c.lse) {
      Value quadLead = b.eq(t4, b.idx(0));
      for (int r = 0; r < 2; ++r)
        b.ifThen(b.andi(quadLead, b.andi(b.slt(rows[r], sq), bhLive)),
                 [&] { b.store(lse[r], lseArg, {bIdx, h, rows[r]}); });
    }
    auto pairType = VectorType::get({2}, b.getF32Type());
    Value colT = b.mul(t4, b.idx(2));
    for (int r = 0; r < 2; ++r) {
      b.ifThen(b.andi(b.slt(rows[r], sq), bhLive), [&] {
        for (int64_t blk = 0; blk < c.vDim() / 8; ++blk) {
          int64_t i = 4 * blk + 2 * r;
          Value lo = b.fmul(wgmmaElement(b, loop[4], i), inv[r]);
          Value hi = b.fmul(wgmmaElement(b, loop[4], i + 1), inv[r]);
          Value pair = b.fromElements(pairType, {lo, hi});
          Value rounded = b.roundTo(t, pair);
          Value col = b.addConst(colT, 8 * blk);
          b.vectorStore(rounded, o, {bIdx, h, rows[r], col}, 4);
        }
      });
    }
  }

  void run() {
    MLIRContext *ctx = b.getContext();
    t = parseElementType(ctx, c.elementType);
    mmaType = c.elementType == "f16" ? WgmmaType::F16 : WgmmaType::BF16;
    unsigned arg = 0;
    qMapPtr = b.arg(arg++);
    kMapPtr = b.arg(arg++);
    vMapPtr = b.arg(arg++);
    q = b.arg(arg++);
    k = b.arg(arg++);
    v = b.arg(arg++);
    o = b.arg(arg++);
    scale = b.arg(arg++);
    if (c.softcap)
      softcapArg = b.arg(arg++);
    if (c.sinkLogits)
      sinkArg = b.arg(arg++);
    if (c.lse)
      lseArg = b.arg(arg++);
    if (c.sparse) {
      layoutArg = b.arg(arg++);
      blockQArg = b.arg(arg++);
      blockKArg = b.arg(arg++);
    }

    tid = b.threadId();
    wg = b.divu(tid, b.idx(128));
    wgTid = b.remu(tid, b.idx(128));
    warp = b.divu(wgTid, b.idx(32));
    lane = b.remu(tid, b.idx(32));

    // One linear block index, query tiles fastest: the CTAs that run at
    // once share a few heads' keys and values in L2 (with (b, h) fastest,
    // every resident CTA streamed another head's K and V: ncu showed the L2
    // at 95% of its throughput and DRAM re-reading K and V). Within a head,
    // the last query tile (the heaviest under a causal mask) first.
    sq = b.dim(q, 2);
    Value tilesQ = b.maxs(b.ceilDivConst(sq, c.blockM()), b.idx(1));
    Value linear = b.blockId(mlir::gpu::Dimension::x);
    Value by = b.remu(linear, tilesQ);
    Value bh = b.divu(linear, tilesQ);
    Value nby = tilesQ;
    Value hq = b.dim(q, 1);
    skv = b.dim(k, 2);
    Value hkv = b.dim(k, 1);
    Value batch = b.dim(q, 0);
    Value hq1 = b.maxs(hq, b.idx(1));
    h = b.remu(bh, hq1);
    bIdx = b.divu(bh, hq1);
    Value live = b.andi(b.slt(h, hq), b.slt(bIdx, batch));
    Value group = b.maxs(b.divu(hq, b.maxs(hkv, b.idx(1))), b.idx(1));
    kvh = b.divu(h, group);
    q0 = b.mul(b.sub(b.sub(nby, b.idx(1)), by), b.idx(c.blockM()));
    offset = b.sub(skv, sq);
    sl2 = b.fmul(scale, b.f32(kLog2e));
    if (c.softcap) {
      sOverC = b.fdiv(scale, softcapArg);
      capL2 = b.fmul(softcapArg, b.f32(kLog2e));
    }

    // Key tiles [0, ne) hold every key visible to some row of the CTA.
    Value keyEnd = skv;
    if (c.causal) {
      Value lastRow =
          b.sub(b.mins(b.addConst(q0, c.blockM()), sq), b.idx(1));
      keyEnd = b.maxs(b.mins(skv, b.add(b.add(lastRow, offset), b.idx(1))),
                      b.idx(0));
    }
    Value hiTiles = b.ceilDivConst(keyEnd, c.blockN);
    if (!c.windows.empty()) {
      // Head h's window (per head: a chain of selects over the heads).
      win = headWindow(b, c.windows, h);
      // Tiles [0, sinkTiles) hold the sinks, [start, hiTiles) the window of
      // the CTA's rows (the first row's window starts lowest).
      sinkTiles = b.ceilDivConst(b.mins(b.idx(c.sink), keyEnd), c.blockN);
      Value lowKey = b.maxs(b.addConst(b.sub(b.add(q0, offset), win), 1),
                            b.idx(0));
      Value loTile = b.select(b.eq(win, b.idx(0)), b.idx(0),
                              b.divu(lowKey, b.idx(c.blockN)));
      start = b.mins(b.maxs(loTile, sinkTiles), hiTiles);
      hiTiles = b.add(sinkTiles, b.sub(hiTiles, start));
    }
    ne = b.select(live, hiTiles, b.idx(0));

    SwizzleAlignedShared shared = swizzleAlignedSharedMemory(b);
    smem = shared.memref;
    base = shared.base;
    pad = shared.pad;

    barriers = createBarriers(b, 1 + 3 * c.stages);
    b.ifThen(b.eq(tid, b.idx(0)), [&] {
      initBarrier(b, barriers, qFull(), 1);
      for (int64_t s = 0; s < c.stages; ++s) {
        initBarrier(b, barriers, kFull(b.idx(s)), 1);
        initBarrier(b, barriers, vFull(b.idx(s)), 1);
        initBarrier(b, barriers, empty(b.idx(s)),
                    HopperAttentionConfig::kConsumers);
      }
      fenceBarrierInit(b);
    });
    if (c.sparse)
      compactVisibleTiles(b.select(live, hiTiles, b.idx(0)));
    b.barrier();
    if (c.sparse)
      ne = b.indexCast(b.getIndexType(), b.load(tileList, {b.idx(0)}));
    b.ifThenElse(b.eq(wg, b.idx(0)), [&] { producer(); }, [&] { consumer(); });
  }

  /// Block-sparse: warp 0 writes the key tiles below `tiles` whose layout
  /// bit is set, in order, to the list (32 tiles a step: one layout read a
  /// lane, a ballot), and their count to slot 0. The caller's barrier
  /// publishes the list.
  void compactVisibleTiles(Value tiles) {
    int64_t listAt = c.qBytes() + c.stages * (c.kTileBytes() + c.vTileBytes());
    // Any static length: the launch allocates listBytes(ceil(Skv / blockN)).
    tileList = b.view(smem, b.addConst(pad, listAt),
                      sharedMemRefType({1 << 16}, b.getI32Type()));
    Value lb = b.select(b.eq(b.dim(layoutArg, 0), b.idx(1)), b.idx(0), bIdx);
    Value lh = b.select(b.eq(b.dim(layoutArg, 1), b.idx(1)), b.idx(0), h);
    Value qBlock = b.divu(q0, blockQArg);
    b.ifThen(b.ult(tid, b.idx(32)), [&] {
      Value count = b.forLoop(
          b.idx(0), tiles, b.idx(32), ValueRange{b.i32(0)},
          [&](Value first, ValueRange carried) {
            Value m = b.add(first, lane);
            Value in = b.ult(m, tiles);
            Value keep = layoutTileSet(b, in, layoutArg, lb, lh, qBlock, m,
                                       c.blockN, blockKArg);
            WarpCount vote = warpCount(b, keep, lane);
            b.ifThen(keep, [&] {
              Value slot = b.add(b.add(carried[0], vote.below), b.i32(1));
              b.store(b.indexCast(b.getI32Type(), m), tileList,
                      {b.indexCast(b.getIndexType(), slot)});
            });
            return Values{b.add(carried[0], vote.total)};
          })[0];
      b.ifThen(b.eq(lane, b.idx(0)),
               [&] { b.store(count, tileList, {b.idx(0)}); });
    });
  }
};

} // namespace

std::string HopperAttentionConfig::check() const {
  if (elementType != "bf16" && elementType != "f16")
    return "q, k and v must be bf16 or f16";
  if (headDim < 64 || headDim > 256 || headDim % 16)
    return "the head dim must be a multiple of 16 from 64 to 256";
  if (valueDim && (valueDim < 64 || valueDim > 256 || valueDim % 16))
    return "the value head dim must be a multiple of 16 from 64 to 256";
  if (blockN < 16 || blockN > 256 || blockN % 16)
    return "blockN must be a multiple of 16 up to 256";
  if (stages < 2)
    return "at least two stages";
  if (std::string why = checkWindows(windows, sink, causal); !why.empty())
    return why;
  if (sparse && (!windows.empty() || sinkLogits))
    return "the block-sparse form takes no window, sink or sink logits";
  if (producerRegisters % 8 || consumerRegisters % 8 ||
      producerRegisters < 24 || consumerRegisters > 256)
    return "register budgets must be multiples of 8 in [24, 256]";
  // S (blockN / 2), O (D / 2) and P (blockN / 4) per thread, plus about 40
  // for addresses, row statistics and masks.
  if (blockN / 2 + paddedValueDim() / 2 + blockN / 4 + 40 > consumerRegisters)
    return "S, O and P do not fit the consumers' register budget";
  return "";
}

std::string HopperAttentionConfig::kernelName() const {
  std::string name = "loom_attention_wgmma_" + elementType + "_d" +
                     std::to_string(headDim) +
                     (valueDim && valueDim != headDim
                          ? "_dv" + std::to_string(valueDim)
                          : std::string()) +
                     "_m" + std::to_string(blockM()) +
                     "_n" + std::to_string(blockN) + "_s" +
                     std::to_string(stages) + "_r" +
                     std::to_string(producerRegisters) + "x" +
                     std::to_string(consumerRegisters);
  if (causal)
    name += "_causal";
  name += windowsNameSuffix(windows, sink);
  if (softcap)
    name += "_softcap";
  if (sinkLogits)
    name += "_sinklogits";
  if (folded())
    name += "_pscale";
  if (lse)
    name += "_lse";
  if (strided)
    name += "_strided";
  if (sparse)
    name += "_sparse";
  if (pingPong)
    name += "_pp";
  return name;
}

FailureOr<SymbolRefAttr>
buildHopperAttentionKernel(ModuleOp module, Location loc,
                           const HopperAttentionConfig &c) {
  if (std::string why = c.check(); !why.empty())
    return emitError(loc) << "wgmma attention kernel: " << why;
  MLIRContext *ctx = module.getContext();
  Type element = parseElementType(ctx, c.elementType);
  KernelSignature sig;
  Type pointer = LLVM::LLVMPointerType::get(ctx);
  sig.arguments.assign(3, pointer);
  MemRefType tensor = dynamicMemRefType(4, element);
  if (c.strided) {
    int64_t dyn = ShapedType::kDynamic;
    tensor = MemRefType::get(
        tensor.getShape(), element,
        StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1}));
  }
  sig.arguments.append(4, tensor);
  sig.arguments.push_back(Float32Type::get(ctx));
  if (c.softcap)
    sig.arguments.push_back(Float32Type::get(ctx));
  if (c.sinkLogits)
    sig.arguments.push_back(dynamicMemRefType(1, Float32Type::get(ctx)));
  if (c.lse)
    sig.arguments.push_back(dynamicMemRefType(3, Float32Type::get(ctx)));
  if (c.sparse) {
    sig.arguments.push_back(
        dynamicMemRefType(4, IntegerType::get(ctx, 1)));
    sig.arguments.append(2, IndexType::get(ctx));
  }
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  sig.minBlocksPerSM = 1; // setmaxnreg (KernelSignature)
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).run(); });
}

} // namespace gpu
} // namespace loom
