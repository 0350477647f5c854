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

struct Generator {
  const HopperGemmConfig &c;
  KernelBuilder &b;
  Type abType, yType, biasType;
  WgmmaType mmaType;
  // Kernel arguments.
  Value descA, descB, Y, K, bias;
  std::vector<int> epilogueArgs;
  // Values of the prologue.
  Value tid, wg, wgTid, warp, lane, smem, base, pad, barriers, M, N, tilesM,
      tiles, kIters;

  Generator(const HopperGemmConfig &c, KernelBuilder &b) : c(c), b(b) {}

  int64_t tileBytesA() const { return c.bm * HopperGemmConfig::kBlockK * 2; }
  int64_t tileBytesB() const { return c.bn * HopperGemmConfig::kBlockK * 2; }

  /// Byte offsets of stage `s`'s A and B tiles from the aligned base.
  Value offsetA(Value s) { return b.mul(s, b.idx(tileBytesA())); }
  Value offsetB(Value s) {
    Value inRing = b.mul(s, b.idx(tileBytesB()));
    return b.addConst(inRing, c.stages * tileBytesA());
  }
  Value viewOf(Value offset, int64_t rows) {
    Value at = b.add(pad, offset);
    return b.view(smem, at,
                  sharedMemRefType({rows, HopperGemmConfig::kBlockK}, abType));
  }

  void producer() {
    setMaxRegisters(b, c.producerRegisters, /*increase=*/false);
    b.ifThen(b.eq(wgTid, b.idx(0)), [&] {
      tmaPrefetch(b, descA);
      tmaPrefetch(b, descB);
      Value first = b.blockId();
      Value stride = b.gridDim();
      b.forLoop(first, tiles, stride, ValueRange{b.idx(0)},
                [&](Value tile, ValueRange outer) {
                  Value mt = b.remu(tile, tilesM);
                  Value nt = b.divu(tile, tilesM);
                  Value m0 = b.mul(mt, b.idx(c.bm));
                  Value n0 = b.mul(nt, b.idx(c.bn));
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
                        Value k0 = b.mul(k, b.idx(HopperGemmConfig::kBlockK));
                        Value dstA = viewOf(offsetA(s), c.bm);
                        tmaLoad(b, descA, {k0, m0}, dstA, barriers, s);
                        Value dstB = viewOf(offsetB(s), c.bn);
                        tmaLoad(b, descB, {k0, n0}, dstB, barriers, s);
                        return Values{b.addConst(it, 1)};
                      });
                });
    });
  }

  /// Releases the stage of step `it` to the producer (one thread of the
  /// warpgroup, once the products that read it have completed).
  void release(Value it) {
    b.ifThen(b.eq(wgTid, b.idx(0)), [&] {
      auto [s, parity] = stagePhase(b, it, c.stages);
      (void)parity;
      arriveBarrier(b, barriers, b.addConst(s, c.stages));
    });
  }

  void consumer() {
    setMaxRegisters(b, c.consumerRegisters, /*increase=*/true);
    Value consumerIdx = b.sub(wg, b.idx(1));
    Value rowInTile = b.mul(consumerIdx, b.idx(64));
    Type accType = wgmmaAccumulatorType(b, mmaType, c.bn);
    Value first = b.blockId();
    Value stride = b.gridDim();
    b.forLoop(
        first, tiles, stride, ValueRange{b.idx(0)},
        [&](Value tile, ValueRange outer) {
          Value mt = b.remu(tile, tilesM);
          Value nt = b.divu(tile, tilesM);
          Value zero = wgmmaZeroAccumulator(b, accType);
          Values result = b.forLoop(
              b.idx(0), kIters, b.idx(1), ValueRange{zero, outer[0]},
              [&](Value k, ValueRange inner) {
                Value acc = inner[0], it = inner[1];
                auto [s, parity] = stagePhase(b, it, c.stages);
                waitBarrier(b, barriers, s, parity);
                Value aStage = offsetA(s);
                Value aOffset = b.add(aStage, b.mul(rowInTile, b.idx(128)));
                Value aTile = b.add(base, b.add(pad, aOffset));
                Value bTile = b.add(base, b.add(pad, offsetB(s)));
                wgmmaFence(b);
                for (int64_t kk = 0; kk < HopperGemmConfig::kBlockK / 16; ++kk) {
                  // A 16-element K slice is 32 bytes into each 128-byte row.
                  Value dA = wgmmaDescriptor(b, b.addConst(aTile, 32 * kk));
                  Value dB = wgmmaDescriptor(b, b.addConst(bTile, 32 * kk));
                  acc = wgmmaMma(b, mmaType, c.bn, acc, dA, dB);
                }
                wgmmaCommit(b);
                // The previous step's products are done: its stage is free.
                wgmmaWait(b, 1);
                b.ifThen(b.ult(b.idx(0), k), [&] { release(b.sub(it, b.idx(1))); });
                return Values{acc, b.addConst(it, 1)};
              });
          Value acc = result[0], it = result[1];
          wgmmaWait(b, 0);
          b.ifThen(b.ult(b.idx(0), kIters), [&] { release(b.sub(it, b.idx(1))); });
          Value row0 = b.add(b.mul(mt, b.idx(c.bm)), rowInTile);
          Value col0 = b.mul(nt, b.idx(c.bn));
          epilogue(acc, row0, col0);
          return Values{it};
        });
  }

  /// The f32 value of accumulator element `i` at (row, col), with the bias
  /// and the epilogue steps applied.
  Value finish(Value acc, int64_t i, Value row, Value col) {
    Value v = wgmmaElement(b, acc, i);
    if (bias) {
      Value bv = b.toF32(b.load(bias, col));
      v = b.fadd(v, bv);
    }
    return applyEpilogue(b, c.epilogue, epilogueArgs, v, row, col);
  }

  void epilogue(Value acc, Value row0, Value col0) {
    // Whole tiles with an even N store column pairs unguarded; others store
    // element by element where inside Y.
    Value rowsIn = b.ule(b.addConst(row0, 64), M);
    Value colsIn = b.ule(b.addConst(col0, c.bn), N);
    Value evenN = b.eq(b.remu(N, b.idx(2)), b.idx(0));
    Value whole = b.andi(b.andi(rowsIn, colsIn), evenN);
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
            Value v0 = finish(acc, i, row, col);
            Value col1 = b.addConst(col, 1);
            Value v1 = finish(acc, i + 1, row, col1);
            Value pair = b.fromElements(VectorType::get({2}, b.getF32Type()),
                                        {v0, v1});
            Value rounded = b.roundTo(yType, pair);
            int64_t bytes = yType.getIntOrFloatBitWidth() / 8;
            b.vectorStore(rounded, Y, {row, col}, 2 * bytes);
          }
        },
        [&] {
          for (int64_t i = 0; i < c.bn / 2; ++i) {
            auto [row, col] = position(i);
            Value rowIn = b.ult(row, M);
            Value inside = b.andi(rowIn, b.ult(col, N));
            b.ifThen(inside, [&] {
              Value v = finish(acc, i, row, col);
              b.store(b.roundTo(yType, v), Y, {row, col});
            });
          }
        });
  }

  void run() {
    MLIRContext *ctx = b.getContext();
    abType = parseElementType(ctx, c.abType);
    yType = parseElementType(ctx, c.yType);
    mmaType = c.abType == "f16" ? WgmmaType::F16 : WgmmaType::BF16;
    unsigned arg = 0;
    // The maps arrive as pointers (global memory): the GPU-to-NVVM
    // conversion does not convert nvgpu types in kernel signatures.
    auto mapOf = [&](Value pointer, int64_t rows) -> Value {
      Type type = tmaDescriptorType(ctx, rows, HopperGemmConfig::kBlockK,
                                    abType, true);
      return UnrealizedConversionCastOp::create(b, type, pointer).getResult(0);
    };
    descA = mapOf(b.arg(arg++), c.bm);
    descB = mapOf(b.arg(arg++), c.bn);
    arg += 2; // A and B themselves (see the header)
    Y = b.arg(arg++);
    K = b.arg(arg++);
    if (!c.biasType.empty())
      bias = b.arg(arg++);
    for (const EpilogueStep &step : c.epilogue)
      epilogueArgs.push_back(step.takesTensor() ? static_cast<int>(arg++) : -1);

    tid = b.threadId();
    wg = b.divu(tid, b.idx(128));
    wgTid = b.remu(tid, b.idx(128));
    warp = b.divu(wgTid, b.idx(32));
    lane = b.remu(tid, b.idx(32));
    M = b.dim(Y, 0);
    N = b.dim(Y, 1);
    tilesM = b.ceilDivConst(M, c.bm);
    Value tilesN = b.ceilDivConst(N, c.bn);
    tiles = b.mul(tilesM, tilesN);
    kIters = b.ceilDivConst(K, HopperGemmConfig::kBlockK);

    // The stages start at the first 1024-byte boundary of the dynamic
    // shared memory (its base is only 16-byte aligned).
    smem = b.dynamicSharedMemory();
    base = b.alignedPointer(smem);
    Value misalignment = b.remu(base, b.idx(1024));
    pad = b.remu(b.sub(b.idx(1024), misalignment), b.idx(1024));

    barriers = createBarriers(b, 2 * c.stages);
    b.ifThen(b.eq(tid, b.idx(0)), [&] {
      for (int64_t s = 0; s < c.stages; ++s) {
        initBarrier(b, barriers, b.idx(s), 1);
        initBarrier(b, barriers, b.idx(c.stages + s), c.consumers());
      }
      fenceBarrierInit(b);
    });
    b.barrier();
    b.ifThenElse(b.eq(wg, b.idx(0)), [&] { producer(); }, [&] { consumer(); });
  }
};

} // namespace

std::string HopperGemmConfig::check() const {
  if (abType != "bf16" && abType != "f16")
    return "A and B must be bf16 or f16";
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
  if (consumerRegisters < bn / 2 + 24)
    return "the consumers' register budget does not hold BN/2 accumulators";
  return "";
}

std::string HopperGemmConfig::kernelName() const {
  return "loom_gemm_wgmma_" + abType + "_" +
         (biasType.empty() ? std::string("nobias") : biasType) + "_" + yType +
         "_" + std::to_string(bm) + "x" + std::to_string(bn) + "x" +
         std::to_string(kBlockK) + "_s" + std::to_string(stages) + "_r" +
         std::to_string(producerRegisters) + "x" +
         std::to_string(consumerRegisters) + epilogueSuffix(epilogue);
}

FailureOr<SymbolRefAttr> buildHopperGemmKernel(ModuleOp module, Location loc,
                                               const HopperGemmConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type ab = parseElementType(ctx, c.abType);
  KernelSignature sig;
  Type pointer = LLVM::LLVMPointerType::get(ctx);
  sig.arguments = {
      pointer, pointer,
      dynamicMemRefType(2, ab), dynamicMemRefType(2, ab),
      dynamicMemRefType(2, parseElementType(ctx, c.yType)),
      IndexType::get(ctx)};
  if (!c.biasType.empty())
    sig.arguments.push_back(
        dynamicMemRefType(1, parseElementType(ctx, c.biasType)));
  appendEpilogueArguments(ctx, c.epilogue, sig.arguments);
  sig.blockSize = {static_cast<int32_t>(c.threads()), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(c, b).run(); });
}

} // namespace gpu
} // namespace loom
