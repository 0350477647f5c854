//===- HopperGemmKernelsTest.cpp - every wgmma GEMM config builds ---------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/HopperGemmKernel.h"

#include "gtest/gtest.h"

#include <set>

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::HopperGemmConfig;

namespace {

std::vector<std::vector<EpilogueStep>> epilogues() {
  using K = EpilogueStep::Kind;
  return {{},
          {{K::Silu, ""}},
          {{K::Gelu, ""}, {K::AddTensor, "bf16"}},
          {{K::GeluTanh, ""}, {K::MulTensor, "f32"}, {K::AddTensor, "f16"}}};
}

TEST(HopperGemmKernels, EveryConfigVerifies) {
  int built = 0;
  for (const char *ab : {"bf16", "f16"})
    for (const char *y : {"bf16", "f16", "f32"})
      for (const char *bias : {"", "bf16", "f32"})
        for (const auto &epilogue : epilogues())
          for (auto [bm, bn, stages] :
               {std::tuple{128, 256, 4}, std::tuple{64, 128, 3},
                std::tuple{192, 128, 3}, std::tuple{128, 16, 2}}) {
            HopperGemmConfig c;
            c.abType = ab;
            c.yType = y;
            c.biasType = bias;
            c.epilogue = epilogue;
            c.bm = bm;
            c.bn = bn;
            c.stages = stages;
            ASSERT_EQ(c.check(), "") << c.kernelName();
            std::string error = loom::test::buildAndCheck(
                c.kernelName(), [&](ModuleOp m, Location loc) {
                  return loom::gpu::buildHopperGemmKernel(m, loc, c);
                });
            EXPECT_EQ(error, "") << c.kernelName();
            ++built;
          }
  EXPECT_EQ(built, 2 * 3 * 3 * 4 * 4);
}

TEST(HopperGemmKernels, EightBitConfigsVerify) {
  // W8A8 and FP8 (qmatmul): 128-element K steps of bytes, scaled products.
  for (const char *ab : {"i8", "f8E4M3FN"})
    for (const char *y : {"bf16", "f32"})
      for (const char *bias : {"", "bf16"})
        for (int bn : {128, 256}) {
          HopperGemmConfig c;
          c.abType = ab;
          c.scaled = true;
          c.yType = y;
          c.biasType = bias;
          c.bn = bn;
          ASSERT_EQ(c.check(), "") << c.kernelName();
          EXPECT_EQ(c.blockK(), 128);
          EXPECT_EQ(c.tileType(), "ui8");
          std::string error = loom::test::buildAndCheck(
              c.kernelName(), [&](ModuleOp m, Location loc) {
                return loom::gpu::buildHopperGemmKernel(m, loc, c);
              });
          EXPECT_EQ(error, "") << c.kernelName();
        }
}

TEST(HopperGemmKernels, PackedI4ConfigsVerify) {
  // W4A16: packed i4 B dequantized into shared memory, scales per column
  // (in the epilogue) or per group of 64 or more (in the weights); every
  // tile height, scale type, result type and epilogue verifies, and the
  // names differ.
  std::set<std::string> names;
  int built = 0;
  for (const char *scale : {"f32", "bf16", "f16"})
    for (int group : {0, 64, 128})
      for (const char *y : {"bf16", "f32"})
        for (const char *bias : {"", "f16"})
          for (int bm : {64, 128})
            for (const auto &epilogue : epilogues()) {
              HopperGemmConfig c;
              c.bType = "i4";
              c.scaleType = scale;
              c.group = group;
              c.yType = y;
              c.biasType = bias;
              c.bm = bm;
              c.bn = 128;
              c.stages = bm == 64 ? 8 : 6;
              c.epilogue = epilogue;
              ASSERT_EQ(c.check(), "") << c.kernelName();
              EXPECT_EQ(c.convertedTiles(), c.consumers() + 1);
              EXPECT_EQ(c.stageBytes(), bm * 128 + 128 * 32);
              EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024) << c.kernelName();
              names.insert(c.kernelName());
              if (epilogue.size() > 1 && std::string(bias).empty())
                continue; // the epilogues are the unquantized kernel's
              std::string error = loom::test::buildAndCheck(
                  c.kernelName(), [&](ModuleOp m, Location loc) {
                    return loom::gpu::buildHopperGemmKernel(m, loc, c);
                  });
              EXPECT_EQ(error, "") << c.kernelName();
              ++built;
            }
  EXPECT_EQ(names.size(), static_cast<size_t>(3 * 3 * 2 * 2 * 2 * 4));
  EXPECT_GT(built, 0);
}

TEST(HopperGemmKernels, PackedI4InvalidConfigsSayWhy) {
  HopperGemmConfig c;
  c.bType = "i4";
  c.group = 32;
  EXPECT_NE(c.check().find("multiple of 64"), std::string::npos);
  c.group = 128;
  c.abType = "f16";
  EXPECT_NE(c.check().find("bf16 A"), std::string::npos);
  c.abType = "bf16";
  c.parts = 2;
  EXPECT_NE(c.check().find("one part"), std::string::npos);
  c.parts = 1;
  c.scaleType = "i8";
  EXPECT_NE(c.check().find("scales"), std::string::npos);
  c.scaleType = "f32";
  c.bType = "i8";
  EXPECT_NE(c.check().find("packed i4"), std::string::npos);
  c.bType = "i4";
  EXPECT_EQ(c.check(), "");
  c.bm = 192; // 384 consumer threads, 256 halves of rows
  EXPECT_NE(c.check().find("evenly"), std::string::npos);
}

TEST(HopperGemmKernels, InvalidConfigsSayWhy) {
  HopperGemmConfig c;
  c.abType = "f32";
  EXPECT_NE(c.check(), "");
  c = HopperGemmConfig();
  c.bm = 96;
  EXPECT_NE(c.check().find("BM must be 64, 128 or 192"), std::string::npos);
  c = HopperGemmConfig();
  c.bn = 264;
  EXPECT_NE(c.check(), "");
  c = HopperGemmConfig();
  c.consumerRegisters = 120; // cannot hold 128 accumulators
  EXPECT_NE(c.check(), "");
  c = HopperGemmConfig();
  c.stages = 1;
  EXPECT_NE(c.check(), "");
}

TEST(HopperGemmKernels, SharedMemoryFitsHopper) {
  // The default config must fit sm_90a's 227 KiB with its 1 KiB of
  // alignment slack.
  HopperGemmConfig c;
  EXPECT_EQ(c.stageBytes(), (128 + 256) * 64 * 2);
  EXPECT_EQ(c.sharedMemoryBytes(), 4 * (128 + 256) * 64 * 2 + 1024);
  EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024);
  EXPECT_EQ(c.threads(), 384);
}

TEST(HopperGemmKernels, NamesEncodeEveryChoice) {
  std::set<std::string> names;
  int configs = 0;
  for (const char *ab : {"bf16", "f16"})
    for (const char *y : {"bf16", "f32"})
      for (const char *bias : {"", "bf16"})
        for (const auto &epilogue : epilogues())
          for (int bn : {128, 256})
            for (int stages : {3, 4})
              for (int group : {8, 16})
                for (int regs : {224, 232}) {
                  HopperGemmConfig c;
                  c.abType = ab;
                  c.yType = y;
                  c.biasType = bias;
                  c.epilogue = epilogue;
                  c.bn = bn;
                  c.stages = stages;
                  c.groupM = group;
                  c.consumerRegisters = regs;
                  names.insert(c.kernelName());
                  ++configs;
                }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

} // namespace
