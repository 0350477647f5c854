//===- LinearAttentionKernelsTest.cpp - every linear-attention config -----===//
//
// The configs loom-gpu-kernels can ask for: bf16, f16 or f32; any static Dk
// whose shared memory fits (up to 192: the shapes change with Dk rounded up
// to 64, the bounds with Dk itself); every feature map; causal or not,
// normalized or not; decay (causal only) with one or more rates; plain or
// strided operands (fusion groups). Chunk, slice and block size are fixed.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/LinearAttentionKernel.h"

#include "gtest/gtest.h"

#include <set>
#include <vector>

using namespace mlir;
using Config = loom::gpu::LinearAttentionKernelConfig;
using FeatureMap = Config::FeatureMap;

namespace {

const FeatureMap kFeatureMaps[] = {FeatureMap::Identity, FeatureMap::Relu,
                                   FeatureMap::EluPlusOne};

/// Decay variants: none, one rate (H = 1), two, and one per head of four.
const std::vector<llvm::SmallVector<float>> kDecays = {
    {}, {0.5f}, {0.5f, 0.25f}, {0.001f, 0.01f, 0.1f, 1.0f}};

void expectBuilds(const Config &c) {
  std::string error = loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildLinearAttentionKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

/// Every combination of the options at one Dk.
TEST(LinearAttentionKernels, EveryOptionVerifies) {
  int built = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (FeatureMap fm : kFeatureMaps)
      for (bool causal : {false, true})
        for (bool normalize : {false, true})
          for (const auto &decay : kDecays)
            for (bool strided : {false, true}) {
              if (!causal && !decay.empty())
                continue; // decay needs causal
              Config c;
              c.elementType = t;
              c.dk = 64;
              c.causal = causal;
              c.normalize = normalize;
              c.featureMap = fm;
              c.decay = decay;
              c.strided = strided;
              expectBuilds(c);
              ++built;
            }
  EXPECT_EQ(built, 3 * 3 * (2 + 2 * 4) * 2);
}

/// Head dims around every padded depth the conversion can ask for (64, 128,
/// 192), with the fullest and the plainest options.
TEST(LinearAttentionKernels, EveryHeadDimVerifies) {
  for (const char *t : {"bf16", "f16", "f32"})
    for (int64_t dk : {1, 16, 40, 63, 64, 65, 100, 127, 128, 129, 160, 191,
                       192})
      for (bool full : {false, true}) {
        Config c;
        c.elementType = t;
        c.dk = dk;
        if (full) {
          c.causal = c.normalize = true;
          c.featureMap = FeatureMap::EluPlusOne;
          c.decay = {0.5f, 0.25f};
        }
        expectBuilds(c);
      }
}

TEST(LinearAttentionKernels, SharedMemory) {
  // 804 * roundup(Dk, 64) + 34560 bytes: what bounds Dk (sm_90a's 227 KiB
  // take Dk <= 192, sm_80's 163 KiB Dk <= 128).
  Config c;
  c.elementType = "bf16";
  for (int64_t dk : {1, 64}) {
    c.dk = dk;
    EXPECT_EQ(c.sharedMemoryBytes(), 86016);
  }
  c.dk = 128;
  EXPECT_EQ(c.sharedMemoryBytes(), 137472);
  EXPECT_LE(c.sharedMemoryBytes(), 163 * 1024);
  c.dk = 129;
  EXPECT_GT(c.sharedMemoryBytes(), 163 * 1024);
  c.dk = 192;
  EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024);
  c.dk = 193;
  EXPECT_GT(c.sharedMemoryBytes(), 227 * 1024);
}

TEST(LinearAttentionKernels, NamesEncodeEveryChoice) {
  // Kernels are shared by name: two configs must never share one.
  std::vector<llvm::SmallVector<float>> decays = kDecays;
  decays.push_back({0.25f});
  decays.push_back({0.25f, 0.5f});
  decays.push_back({0.5f, 0.25f, 0.25f});
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (int64_t dk : {1, 63, 64, 65, 128, 192})
      for (FeatureMap fm : kFeatureMaps)
        for (bool causal : {false, true})
          for (bool normalize : {false, true})
            for (const auto &decay : decays)
              for (bool strided : {false, true}) {
                Config c;
                c.elementType = t;
                c.dk = dk;
                c.causal = causal;
                c.normalize = normalize;
                c.featureMap = fm;
                c.decay = decay;
                c.strided = strided;
                names.insert(c.kernelName());
                ++configs;
              }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

} // namespace
