//===- HopperW4A16KernelsTest.cpp - every W4A16 wgmma config builds -------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/HopperW4A16Kernel.h"

#include "gtest/gtest.h"

#include <set>

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::HopperW4A16Config;

namespace {

TEST(HopperW4A16Kernels, EveryConfigVerifies) {
  // Scales per row (in the epilogue) or per group of 64 or more (in the
  // weights as they are dequantized), every tile shape, scale type, result
  // type, bias and epilogue: each built gpu.func verifies, and the names
  // differ.
  using K = EpilogueStep::Kind;
  std::vector<std::vector<EpilogueStep>> epilogues = {
      {}, {{K::Silu, ""}}, {{K::Gelu, ""}, {K::AddTensor, "bf16"}}};
  std::set<std::string> names;
  int built = 0;
  for (const char *scale : {"f32", "bf16", "f16"})
    for (int group : {0, 64, 128})
      for (const char *y : {"bf16", "f16", "f32"})
        for (const char *bias : {"", "f16"})
          for (auto [consumers, xRows] :
               {std::pair{2, 128}, std::pair{1, 128}, std::pair{1, 64},
                std::pair{2, 64}, std::pair{1, 256}})
            for (const auto &epilogue : epilogues) {
              HopperW4A16Config c;
              c.scaleType = scale;
              c.group = group;
              c.yType = y;
              c.biasType = bias;
              c.consumers = consumers;
              c.xRows = xRows;
              c.stages = xRows == 256 ? 6 : 8;
              c.epilogue = epilogue;
              ASSERT_EQ(c.check(), "") << c.kernelName();
              EXPECT_EQ(c.stageBytes(), xRows * 128 + 64 * consumers * 32);
              EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024) << c.kernelName();
              names.insert(c.kernelName());
              // The epilogue and bias code is the same for every tile:
              // build those variants on one tile shape.
              if ((!epilogue.empty() || *bias) && consumers != 2)
                continue;
              std::string error = loom::test::buildAndCheck(
                  c.kernelName(), [&](ModuleOp m, Location loc) {
                    return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
                  });
              EXPECT_EQ(error, "") << c.kernelName();
              ++built;
            }
  EXPECT_EQ(names.size(), static_cast<size_t>(3 * 3 * 3 * 2 * 5 * 3));
  EXPECT_GT(built, 3 * 3 * 3 * 5);
}

TEST(HopperW4A16Kernels, SiblingsVerify) {
  // QKV with i4 weights: two to four parts, each its own weights, scales,
  // bias and output.
  std::set<std::string> names;
  for (int parts : {2, 3, 4})
    for (int group : {0, 128})
      for (const char *bias : {"", "bf16"}) {
        HopperW4A16Config c;
        c.parts = parts;
        c.group = group;
        c.biasType = bias;
        c.consumers = 1;
        c.xRows = 64;
        ASSERT_EQ(c.check(), "") << c.kernelName();
        names.insert(c.kernelName());
        std::string error = loom::test::buildAndCheck(
            c.kernelName(), [&](ModuleOp m, Location loc) {
              return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
            });
        EXPECT_EQ(error, "") << c.kernelName();
      }
  EXPECT_EQ(names.size(), 12u);
}

TEST(HopperW4A16Kernels, GatedPairsVerify) {
  // SwiGLU / GeGLU with i4 weights: gate and up of 32 output columns per
  // consumer, with or without biases, group scales and an epilogue.
  using K = EpilogueStep::Kind;
  for (K gate : {K::Silu, K::Gelu, K::GeluTanh})
    for (int group : {0, 64})
      for (auto [consumers, xRows] : {std::pair{2, 128}, std::pair{1, 64}}) {
        HopperW4A16Config c;
        c.parts = 2;
        c.gate = gate;
        c.group = group;
        c.biasType = group ? "f32" : "";
        c.epilogue = {{K::AddTensor, "bf16"}};
        c.consumers = consumers;
        c.xRows = xRows;
        ASSERT_EQ(c.check(), "") << c.kernelName();
        EXPECT_EQ(c.outputs(), 1);
        EXPECT_EQ(c.tileColumns(), 32 * consumers);
        std::string error = loom::test::buildAndCheck(
            c.kernelName(), [&](ModuleOp m, Location loc) {
              return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
            });
        EXPECT_EQ(error, "") << c.kernelName();
      }
}

TEST(HopperW4A16Kernels, InvalidConfigsSayWhy) {
  auto why = [](auto change) {
    HopperW4A16Config c;
    change(c);
    return c.check();
  };
  EXPECT_EQ(why([](HopperW4A16Config &) {}), "");
  EXPECT_NE(why([](HopperW4A16Config &c) { c.group = 32; }).find("multiple of 64"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.scaleType = "i8"; }).find("scales"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.yType = "i8"; }).find("Y must"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.consumers = 3; }).find("consumer"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.xRows = 96; }).find("rows"),
            std::string::npos);
  // Two consumers' 128 accumulators would spill under ptxas's 168-register
  // cap for 384 threads.
  EXPECT_NE(why([](HopperW4A16Config &c) { c.xRows = 256; }).find("at most 128"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.stages = 1; }).find("stages"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.parts = 5; }).find("parts"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 2;
              c.epilogue = {{EpilogueStep::Kind::Silu, ""}};
            }).find("no epilogue"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 3;
              c.gate = EpilogueStep::Kind::Silu;
            }).find("gated"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 2;
              c.gate = EpilogueStep::Kind::AddTensor;
            }).find("gated"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.consumerRegisters = 248; })
                .find("64K"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.consumers = 1;
              c.xRows = 256;
              c.consumerRegisters = 160;
            }).find("accumulators"),
            std::string::npos);
}

} // namespace
