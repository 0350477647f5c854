//===- HopperAttentionKernelsTest.cpp - every wgmma attention config ------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/HopperAttentionKernel.h"

#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

#include <set>

using namespace mlir;
using loom::gpu::HopperAttentionConfig;

namespace {

TEST(HopperAttentionKernels, EveryConfigVerifies) {
  std::set<std::string> names;
  int built = 0;
  for (const char *t : {"bf16", "f16"})
    for (int64_t d : {64, 128})
      for (int64_t bn : {64, 128})
        for (bool causal : {false, true})
          for (bool positive : {false, true})
            for (bool lse : {false, true})
              for (bool strided : {false, true}) {
                HopperAttentionConfig c;
                c.elementType = t;
                c.headDim = d;
                c.blockN = bn;
                c.causal = causal;
                c.positiveScale = positive;
                c.lse = lse;
                c.strided = strided;
                ASSERT_EQ(c.check(), "") << c.kernelName();
                std::string error = loom::test::buildAndCheck(
                    c.kernelName(), [&](ModuleOp m, Location loc) {
                      return loom::gpu::buildHopperAttentionKernel(m, loc, c);
                    });
                EXPECT_EQ(error, "") << c.kernelName();
                names.insert(c.kernelName());
                ++built;
              }
  EXPECT_EQ(built, 2 * 2 * 2 * 2 * 2 * 2 * 2);
  // Every choice shows in the name: no two configs share a kernel.
  EXPECT_EQ(names.size(), static_cast<size_t>(built));
}

TEST(HopperAttentionKernels, WideHeadsWithSmallerKeyTiles) {
  // D 192 and 256 fit the consumers' registers with 64-key tiles.
  for (int64_t d : {192, 256}) {
    HopperAttentionConfig c;
    c.headDim = d;
    c.blockN = 64;
    ASSERT_EQ(c.check(), "") << c.kernelName();
    std::string error = loom::test::buildAndCheck(
        c.kernelName(), [&](ModuleOp m, Location loc) {
          return loom::gpu::buildHopperAttentionKernel(m, loc, c);
        });
    EXPECT_EQ(error, "") << c.kernelName();
  }
}

TEST(HopperAttentionKernels, HeadDimsInPaddedPanels) {
  // A D that is not a multiple of 64 sits in whole 64-column panels: D 80
  // and 96 take D 128's shared memory and registers (128-key tiles), D 144
  // and 240 D 192's and 256's (64-key tiles); every one builds.
  struct Case {
    int64_t d, padded, blockN;
  };
  for (Case k : {Case{80, 128, 128}, Case{96, 128, 128}, Case{112, 128, 128},
                 Case{144, 192, 64}, Case{240, 256, 64}}) {
    for (bool causal : {false, true}) {
      HopperAttentionConfig c;
      c.headDim = k.d;
      c.blockN = k.blockN;
      c.causal = causal;
      c.lse = causal;
      ASSERT_EQ(c.check(), "") << c.kernelName();
      EXPECT_EQ(c.paddedDim(), k.padded);
      EXPECT_EQ(c.panels(), k.padded / 64);
      EXPECT_EQ(c.kTileBytes(), k.blockN * k.padded * 2);
      EXPECT_EQ(c.vTileBytes(), c.kTileBytes());
      EXPECT_NE(c.kernelName().find("_d" + std::to_string(k.d) + "_"),
                std::string::npos);
      std::string error = loom::test::buildAndCheck(
          c.kernelName(), [&](ModuleOp m, Location loc) {
            return loom::gpu::buildHopperAttentionKernel(m, loc, c);
          });
      EXPECT_EQ(error, "") << c.kernelName();
    }
  }
  // Below a panel, past 256, or not a multiple of 16: refused, saying why;
  // a padded 256 with 128-key tiles does not fit the registers.
  for (int64_t d : {48, 72, 100, 272}) {
    HopperAttentionConfig c;
    c.headDim = d;
    EXPECT_NE(c.check().find("head dim"), std::string::npos) << d;
  }
  HopperAttentionConfig wide;
  wide.headDim = 208;
  wide.blockN = 128;
  EXPECT_NE(wide.check().find("register"), std::string::npos);
}

TEST(HopperAttentionKernels, ValueDimOfItsOwn) {
  // Dv != D: V's tiles and O in Dv's panels, Q's and K's in D's; the name
  // tells them apart from D = Dv.
  struct Case {
    int64_t d, dv, blockN;
  };
  for (Case k : {Case{192, 128, 128}, Case{80, 144, 128}, Case{128, 64, 128},
                 Case{64, 256, 64}}) {
    HopperAttentionConfig c;
    c.headDim = k.d;
    c.valueDim = k.dv;
    c.blockN = k.blockN;
    c.causal = true;
    ASSERT_EQ(c.check(), "") << c.kernelName();
    EXPECT_EQ(c.vDim(), k.dv);
    EXPECT_EQ(c.kTileBytes(), k.blockN * c.paddedDim() * 2);
    EXPECT_EQ(c.vTileBytes(), k.blockN * c.paddedValueDim() * 2);
    EXPECT_EQ(c.sharedMemoryBytes(),
              1024 + c.qBytes() + 2 * (c.kTileBytes() + c.vTileBytes()));
    EXPECT_NE(c.kernelName().find("_dv" + std::to_string(k.dv) + "_"),
              std::string::npos);
    std::string error = loom::test::buildAndCheck(
        c.kernelName(), [&](ModuleOp m, Location loc) {
          return loom::gpu::buildHopperAttentionKernel(m, loc, c);
        });
    EXPECT_EQ(error, "") << c.kernelName();
  }
  HopperAttentionConfig same;
  same.valueDim = 128; // = D: the same kernel as without it
  EXPECT_EQ(same.kernelName(), HopperAttentionConfig().kernelName());
  HopperAttentionConfig bad;
  bad.valueDim = 40;
  EXPECT_NE(bad.check().find("value head dim"), std::string::npos);
  bad.valueDim = 256; // O of 256 with 128-key tiles: over the registers
  EXPECT_NE(bad.check().find("register"), std::string::npos);
}

TEST(HopperAttentionKernels, WithoutPingPong) {
  // Each consumer warpgroup on its own (no named-barrier turns).
  for (bool causal : {false, true}) {
    HopperAttentionConfig c;
    c.pingPong = false;
    c.causal = causal;
    ASSERT_EQ(c.check(), "") << c.kernelName();
    EXPECT_EQ(c.kernelName().find("_pp"), std::string::npos);
    std::string error = loom::test::buildAndCheck(
        c.kernelName(), [&](ModuleOp m, Location loc) {
          return loom::gpu::buildHopperAttentionKernel(m, loc, c);
        });
    EXPECT_EQ(error, "") << c.kernelName();
  }
}

TEST(HopperAttentionKernels, ServingConfigsVerify) {
  // Windows (one, or one per head), sinks, softcap and sink logits, alone
  // and together, with and without lse and strided views: every one
  // builds, verifies, and has a name of its own.
  std::set<std::string> names;
  int built = 0;
  std::vector<std::vector<int64_t>> windowSets = {
      {}, {1024}, {0, 37, 200, 129}, {64, 64, 0, 0}};
  for (const std::vector<int64_t> &windows : windowSets)
    for (int64_t sink : {0, 4, 130})
      for (bool softcap : {false, true})
        for (bool sinkLogits : {false, true})
          for (bool lse : {false, true}) {
            if (windows.empty() && sink != 0)
              continue; // a sink means nothing without a window
            HopperAttentionConfig c;
            c.elementType = built % 2 ? "f16" : "bf16";
            c.headDim = built % 3 ? 128 : 64;
            c.causal = true;
            c.positiveScale = true;
            c.windows = windows;
            c.sink = sink;
            c.softcap = softcap;
            c.sinkLogits = sinkLogits;
            c.lse = lse;
            c.strided = built % 5 == 0;
            ASSERT_EQ(c.check(), "") << c.kernelName();
            EXPECT_EQ(c.folded(), !softcap && !sinkLogits);
            std::string error = loom::test::buildAndCheck(
                c.kernelName(), [&](ModuleOp m, Location loc) {
                  return loom::gpu::buildHopperAttentionKernel(m, loc, c);
                });
            EXPECT_EQ(error, "") << c.kernelName();
            EXPECT_TRUE(names.insert(c.kernelName()).second) << c.kernelName();
            ++built;
          }
  EXPECT_EQ(built, 2 * 2 * 2 + 3 * 3 * 2 * 2 * 2);
  // Two per-head window lists that differ give two kernels.
  HopperAttentionConfig a, b;
  a.causal = b.causal = true;
  a.windows = {0, 37, 200, 129};
  b.windows = {0, 37, 200, 128};
  EXPECT_NE(a.kernelName(), b.kernelName());
  // Softcap without a window needs no causal mask.
  HopperAttentionConfig c;
  c.softcap = true;
  EXPECT_EQ(c.check(), "");
}

TEST(HopperAttentionKernels, InvalidServingConfigsSayWhy) {
  HopperAttentionConfig c;
  c.windows = {128}; // a window without causal
  EXPECT_NE(c.check().find("causal"), std::string::npos);
  c = HopperAttentionConfig();
  c.causal = true;
  c.windows = {16, -1};
  EXPECT_NE(c.check(), "");
  c = HopperAttentionConfig();
  c.causal = true;
  c.windows = {16};
  c.sink = -2;
  EXPECT_NE(c.check().find("sink"), std::string::npos);
}

TEST(HopperAttentionKernels, SharedMemory) {
  // D 128, 128-key tiles, 2 stages: Q (32 KiB), K and V rings (4 x 32 KiB)
  // and the 1 KiB of alignment slack fit sm_90a's 227 KiB.
  HopperAttentionConfig c;
  EXPECT_EQ(c.qBytes(), 128 * 128 * 2);
  EXPECT_EQ(c.kTileBytes(), 128 * 128 * 2);
  EXPECT_EQ(c.vTileBytes(), 128 * 128 * 2);
  EXPECT_EQ(c.sharedMemoryBytes(), 1024 + 5 * 128 * 128 * 2);
  EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024);
  EXPECT_EQ(c.threads(), 384);
  EXPECT_EQ(c.blockM(), 128);
}

TEST(HopperAttentionKernels, InvalidConfigsSayWhy) {
  HopperAttentionConfig c;
  c.elementType = "f32";
  EXPECT_NE(c.check(), "");
  c = HopperAttentionConfig();
  c.headDim = 88; // not a multiple of 16
  EXPECT_NE(c.check().find("head dim"), std::string::npos);
  c = HopperAttentionConfig();
  c.blockN = 136;
  EXPECT_NE(c.check().find("blockN"), std::string::npos);
  c = HopperAttentionConfig();
  c.stages = 1;
  EXPECT_NE(c.check(), "");
  c = HopperAttentionConfig();
  c.headDim = 256; // S, O and P of 256 x 128 do not fit 240 registers
  EXPECT_NE(c.check().find("register"), std::string::npos);
  c = HopperAttentionConfig();
  c.consumerRegisters = 250;
  EXPECT_NE(c.check(), "");
  // And the builder refuses what check() refuses, with a diagnostic.
  c = HopperAttentionConfig();
  c.headDim = 40;
  loom::test::KernelModule km;
  std::string messages;
  ScopedDiagnosticHandler handler(&km.context, [&](Diagnostic &d) {
    messages += d.str();
    return success();
  });
  FailureOr<SymbolRefAttr> kernel = loom::gpu::buildHopperAttentionKernel(
      *km.module, UnknownLoc::get(&km.context), c);
  EXPECT_TRUE(failed(kernel));
  EXPECT_NE(messages.find("head dim"), std::string::npos);
}

} // namespace
