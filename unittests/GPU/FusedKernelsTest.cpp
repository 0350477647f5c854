//===- FusedKernelsTest.cpp - every fused-group kernel config builds ------===//
//
// The kernels of loom-gpu-kernels' fused groups (the mixer, select_blocks
// and the f32 SIMT GEMM) over the configs their conversions
// (lib/Conversion/LoomToGPU/Fused*.cpp) can ask for. The spaces are large,
// so each test crosses the choices that shape the kernel together (element
// type, norm, mixer kind, RoPE variants, ...) and rotates the others (tile
// shapes, step chains, block sizes) through them, then crosses those others
// fully for one setting.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/F32GemmKernel.h"
#include "loom/GPU/Kernels/MixerKernel.h"
#include "loom/GPU/Kernels/SelectBlocksKernel.h"

#include "gtest/gtest.h"

#include <set>
#include <vector>

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::F32GemmKernelConfig;
using loom::gpu::MixerKernelConfig;
using loom::gpu::SelectBlocksKernelConfig;
using loom::gpu::SelectBlocksRope;

namespace {

const char *const kTypes[] = {"bf16", "f16", "f32"};

//===----------------------------------------------------------------------===//
// Mixer
//===----------------------------------------------------------------------===//

/// A mixer and its window as FusedMixer.cpp derives them: pool_mixer K x K
/// ([B, H, W, C]) or 1 x K ([B, S, C]); dwconv with any static weights;
/// causal dwconv over a sequence only (1 x K, any K).
struct Window {
  bool dwconv, causal;
  int kh, kw;
};
const Window kWindows[] = {
    {false, false, 1, 1}, {false, false, 1, 3}, {false, false, 3, 3},
    {false, false, 5, 5}, {false, false, 7, 7}, {true, false, 3, 3},
    {true, false, 7, 7},  {true, false, 1, 4},  {true, false, 1, 7},
    {true, true, 1, 1},   {true, true, 1, 3},   {true, true, 1, 4}};

/// Tiles of 1 to 64 tokens: W at most 16 for an image, H = 1 for a
/// sequence, shrunk to small static sizes.
const std::pair<int, int> kMixerTiles[] = {{1, 1}, {1, 2}, {2, 16},
                                           {4, 16}, {1, 64}};
/// Epilogue chains (Step codes: add, mul, sub, sub-from).
const char *const kSteps[] = {"", "a", "m", "s", "r", "ar", "amsr"};

MixerKernelConfig mixerConfig(const char *type, MixerKernelConfig::Norm norm,
                              const Window &w, std::pair<int, int> tile,
                              const char *steps) {
  MixerKernelConfig c;
  c.elementType = type;
  c.norm = norm;
  c.dwconv = w.dwconv;
  c.causal = w.causal;
  c.kh = w.kh;
  c.kw = w.kw;
  c.tileH = tile.first;
  c.tileW = tile.second;
  c.steps = steps;
  return c;
}

void checkMixer(const MixerKernelConfig &c) {
  std::string error = loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildMixerKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

const MixerKernelConfig::Norm kNorms[] = {MixerKernelConfig::Norm::None,
                                          MixerKernelConfig::Norm::Layer,
                                          MixerKernelConfig::Norm::Rms};

TEST(FusedKernels, EveryMixerConfigVerifies) {
  int rotation = 0;
  for (const char *t : kTypes)
    for (MixerKernelConfig::Norm norm : kNorms)
      for (const Window &w : kWindows) {
        ++rotation;
        checkMixer(mixerConfig(t, norm, w, kMixerTiles[rotation % 5],
                               kSteps[rotation % 7]));
      }
  // Every tile with every chain, for a layer_norm pool and a causal dwconv.
  for (auto tile : kMixerTiles)
    for (const char *steps : kSteps) {
      checkMixer(mixerConfig("bf16", MixerKernelConfig::Norm::Layer,
                             kWindows[2], tile, steps));
      checkMixer(mixerConfig("f16", MixerKernelConfig::Norm::Rms,
                             kWindows[11], tile, steps));
    }
}

TEST(FusedKernels, MixerNamesEncodeEveryChoice) {
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : kTypes)
    for (MixerKernelConfig::Norm norm : kNorms)
      for (const Window &w : kWindows)
        for (auto tile : kMixerTiles)
          for (const char *steps : kSteps)
            for (int threads : {128, 256}) {
              MixerKernelConfig c = mixerConfig(t, norm, w, tile, steps);
              c.threads = threads;
              names.insert(c.kernelName());
              ++configs;
            }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

//===----------------------------------------------------------------------===//
// select_blocks
//===----------------------------------------------------------------------===//

/// The RoPEs FusedSelectBlocks.cpp describes: none, or either style with
/// f32, bf16 or f16 tables.
const SelectBlocksRope kRopes[] = {{false, false, "f32"}, {true, false, "f32"},
                                   {true, true, "bf16"},  {true, false, "f16"},
                                   {true, true, "f32"},   {true, false, "bf16"},
                                   {true, true, "f16"}};

/// Block sizes around the pooling loop's unrolling (64 rows without a RoPE,
/// 32 with): one row, fewer than a step, a multiple, a remainder.
struct Blocks {
  int64_t q, k;
};
const Blocks kBlocks[] = {{1, 1}, {7, 64}, {64, 32}, {128, 100}, {16, 33}};

SelectBlocksKernelConfig selectConfig(const char *type, int64_t headDim,
                                      Blocks blocks, bool causal,
                                      int64_t keyBlocks, int64_t chunk,
                                      SelectBlocksRope q, SelectBlocksRope k) {
  SelectBlocksKernelConfig c;
  c.elementType = type;
  c.headDim = headDim;
  c.blockQ = blocks.q;
  c.blockK = blocks.k;
  c.causal = causal;
  c.keyBlocks = keyBlocks;
  c.topk = std::min<int64_t>(4, keyBlocks);
  c.chunk = chunk;
  c.ropeQ = q;
  c.ropeK = k;
  return c;
}

void checkSelect(const SelectBlocksKernelConfig &c) {
  std::string error = loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildSelectBlocksKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

TEST(FusedKernels, EverySelectBlocksConfigVerifies) {
  int rotation = 0;
  // Every element type with every pair of q and k RoPEs.
  for (const char *t : kTypes)
    for (const SelectBlocksRope &q : kRopes)
      for (const SelectBlocksRope &k : kRopes) {
        ++rotation;
        checkSelect(selectConfig(t, rotation % 2 ? 64 : 128,
                                 kBlocks[rotation % 5], rotation % 3 == 0,
                                 1 + rotation % 17, 1 + rotation % 16, q, k));
      }
  // Every block shape, causal or not, with and without RoPEs, at a few head
  // dims, key block counts and chunks.
  for (const Blocks &blocks : kBlocks)
    for (bool causal : {false, true})
      for (int rope : {0, 1, 2}) {
        ++rotation;
        checkSelect(selectConfig(kTypes[rotation % 3],
                                 rope ? 32 + 16 * (rotation % 4) : 24, blocks,
                                 causal, rotation % 2 ? 1 : 64,
                                 rotation % 2 ? 1 : 16, kRopes[rope],
                                 kRopes[rope ? 7 - rope : 0]));
      }
}

TEST(FusedKernels, SelectBlocksNamesEncodeEveryChoice) {
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : kTypes)
    for (int64_t d : {32, 64})
      for (const Blocks &blocks : {Blocks{64, 64}, Blocks{64, 32}, Blocks{32, 64}})
        for (bool causal : {false, true})
          for (int64_t nkb : {4, 8})
            for (int64_t chunk : {1, 2})
              for (const SelectBlocksRope &q : kRopes)
                for (const SelectBlocksRope &k : kRopes) {
                  SelectBlocksKernelConfig c =
                      selectConfig(t, d, blocks, causal, nkb, chunk, q, k);
                  for (int64_t topk : {2, 3}) {
                    c.topk = topk;
                    names.insert(c.kernelName());
                    ++configs;
                  }
                }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

//===----------------------------------------------------------------------===//
// f32 SIMT GEMM
//===----------------------------------------------------------------------===//

/// The epilogue chains FusedF32Gemm.cpp builds: SiLU, GELU (erf or tanh), an
/// add or multiply with an f32 tensor, in any order.
std::vector<std::vector<EpilogueStep>> epilogues() {
  using K = EpilogueStep::Kind;
  EpilogueStep silu{K::Silu, ""}, gelu{K::Gelu, ""}, tanh{K::GeluTanh, ""},
      add{K::AddTensor, "f32"}, mul{K::MulTensor, "f32"};
  return {{},          {silu},      {gelu},           {tanh},
          {add},       {mul},       {gelu, add},      {mul, tanh, add},
          {add, silu}, {silu, mul}, {add, add, gelu}, {mul, mul}};
}

const F32GemmKernelConfig::Norm kGemmNorms[] = {
    F32GemmKernelConfig::Norm::None, F32GemmKernelConfig::Norm::Rms,
    F32GemmKernelConfig::Norm::Layer};

/// Builds the f32 GEMM kernel of `c` and verifies it: "" or the error.
std::string buildF32Gemm(const F32GemmKernelConfig &c) {
  return loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildF32GemmKernel(m, loc, c);
      });
}

TEST(FusedKernels, EveryF32GemmConfigVerifies) {
  int built = 0;
  for (F32GemmKernelConfig::Norm norm : kGemmNorms)
    for (bool bias : {false, true})
      for (int64_t tile : {1, 2, 4}) {
        auto check = [&](const F32GemmKernelConfig &c) {
          ASSERT_EQ(c.check(), "") << c.kernelName();
          std::string error = buildF32Gemm(c);
          EXPECT_EQ(error, "") << c.kernelName();
          ++built;
        };
        F32GemmKernelConfig c;
        c.norm = norm;
        c.bias = bias;
        c.tile = tile;
        for (const std::vector<EpilogueStep> &epilogue : epilogues()) {
          c.epilogue = epilogue;
          check(c);
        }
        // Horizontal siblings (no epilogue steps).
        c.epilogue.clear();
        for (int64_t parts : {2, 3, 4}) {
          c.parts = parts;
          check(c);
        }
      }
  EXPECT_EQ(built, 3 * 2 * 3 * (12 + 3));
}

TEST(FusedKernels, F32GemmCheckRejectsWhatItCannotBuild) {
  F32GemmKernelConfig c;
  c.tile = 3;
  EXPECT_NE(c.check(), "");
  c.tile = 2;
  c.parts = 0;
  EXPECT_NE(c.check(), "");
  c.parts = 2;
  c.epilogue = {{EpilogueStep::Kind::Silu, ""}};
  EXPECT_NE(c.check(), "");
  c.parts = 1;
  c.epilogue = {{EpilogueStep::Kind::AddTensor, "bf16"}};
  EXPECT_NE(c.check(), "");
  c.epilogue = {{EpilogueStep::Kind::AddTensor, "f32"}};
  EXPECT_EQ(c.check(), "");
}

TEST(FusedKernels, F32GemmNamesEncodeEveryChoice) {
  std::set<std::string> names;
  int configs = 0;
  for (F32GemmKernelConfig::Norm norm : kGemmNorms)
    for (bool bias : {false, true})
      for (int64_t tile : {1, 2, 4}) {
        F32GemmKernelConfig c;
        c.norm = norm;
        c.bias = bias;
        c.tile = tile;
        for (const std::vector<EpilogueStep> &epilogue : epilogues()) {
          c.epilogue = epilogue;
          names.insert(c.kernelName());
          ++configs;
        }
        c.epilogue.clear();
        for (int64_t parts : {2, 3, 4}) {
          c.parts = parts;
          names.insert(c.kernelName());
          ++configs;
        }
      }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

/// Quantized weights (f32 activations) and gated pairs: every weight type
/// and scale layout, with a norm or not, with a bias or not, single products
/// with epilogues, siblings, and gated pairs with each activation; every
/// kernel verifies and every name is distinct.
TEST(FusedKernels, EveryQuantizedAndGatedF32GemmConfigVerifies) {
  using K = EpilogueStep::Kind;
  struct Weights {
    const char *type;
    bool grouped;
  };
  const Weights kWeights[] = {
      {"f32", false}, {"i8", false}, {"i8", true}, {"i4", false}, {"i4", true}};
  std::set<std::string> names;
  int built = 0;
  for (Weights w : kWeights)
    for (F32GemmKernelConfig::Norm norm : kGemmNorms)
      for (bool bias : {false, true})
        for (int64_t tile : {1, 4}) {
          auto check = [&](const F32GemmKernelConfig &c) {
            ASSERT_EQ(c.check(), "") << c.kernelName();
            std::string error = buildF32Gemm(c);
            EXPECT_EQ(error, "") << c.kernelName();
            EXPECT_TRUE(names.insert(c.kernelName()).second) << c.kernelName();
            ++built;
          };
          F32GemmKernelConfig c;
          c.weights = w.type;
          c.grouped = w.grouped;
          c.norm = norm;
          c.bias = bias;
          c.tile = tile;
          c.epilogue = {{K::Silu, ""}, {K::AddTensor, "f32"}};
          check(c);
          c.epilogue.clear();
          c.parts = 3;
          check(c);
          c.parts = 2;
          c.gated = true;
          for (K act : {K::Silu, K::Gelu, K::GeluTanh}) {
            c.act = act;
            check(c);
          }
        }
  EXPECT_EQ(built, 5 * 3 * 2 * 2 * 5);
}

/// The op-by-op fallback's 16-bit operand types: X and Y bf16 or f16 (or an
/// f32 result), bias and scales of any float type; every kernel verifies.
TEST(FusedKernels, SixteenBitSimtGemmConfigsVerify) {
  std::set<std::string> names;
  int built = 0;
  for (const char *x : {"bf16", "f16"})
    for (const char *y : {"bf16", "f16", "f32"})
      for (const char *scale : {"f32", "bf16"})
        for (const char *weights : {"i8", "i4"})
          for (bool grouped : {false, true})
            for (bool bias : {false, true}) {
              F32GemmKernelConfig c;
              c.xType = x;
              c.yType = y;
              c.biasType = y;
              c.scaleType = scale;
              c.weights = weights;
              c.grouped = grouped;
              c.bias = bias;
              c.tile = 2;
              ASSERT_EQ(c.check(), "") << c.kernelName();
              std::string error = buildF32Gemm(c);
              EXPECT_EQ(error, "") << c.kernelName();
              EXPECT_TRUE(names.insert(c.kernelName()).second);
              ++built;
            }
  EXPECT_EQ(built, 2 * 3 * 2 * 2 * 2 * 2);
  // 16-bit X takes no norm prologue and no epilogue steps.
  F32GemmKernelConfig c;
  c.xType = "bf16";
  c.weights = "i8";
  c.norm = F32GemmKernelConfig::Norm::Rms;
  EXPECT_NE(c.check(), "");
  c.norm = F32GemmKernelConfig::Norm::None;
  c.epilogue = {{EpilogueStep::Kind::Silu, ""}};
  EXPECT_NE(c.check(), "");
  c.epilogue.clear();
  c.weights = "f32";
  EXPECT_NE(c.check(), ""); // unquantized weights need f32 X
  c.weights = "i8";
  c.yType = "f64";
  EXPECT_NE(c.check(), "");
}

TEST(FusedKernels, F32GemmCheckRejectsBadWeightsAndGating) {
  F32GemmKernelConfig c;
  c.weights = "i2";
  EXPECT_NE(c.check(), "");
  c.weights = "f32";
  c.grouped = true;
  EXPECT_NE(c.check(), ""); // group-wise scales need quantized weights
  c.weights = "i4";
  EXPECT_EQ(c.check(), "");
  c.gated = true;
  EXPECT_NE(c.check(), ""); // a gated pair has two parts
  c.parts = 2;
  EXPECT_EQ(c.check(), "");
  c.act = EpilogueStep::Kind::AddTensor;
  EXPECT_NE(c.check(), "");
}

} // namespace
