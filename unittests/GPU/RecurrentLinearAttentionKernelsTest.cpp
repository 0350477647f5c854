//===- RecurrentLinearAttentionKernelsTest.cpp - every decode config ------===//
//
// The configs of the token-by-token linear-attention kernel that
// loom-gpu-kernels can ask for: bf16, f16 or f32; Dk from 1 to 256 (rows
// per warp 1 to 32, the last warp's rows partly past Dk); every feature
// map; no gate, decay, a gate per head or per key dimension of each float
// type; the additive and the delta rule; an initial and a final state.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/RecurrentLinearAttentionKernel.h"

#include "gtest/gtest.h"

#include <set>
#include <vector>

using namespace mlir;
using Config = loom::gpu::RecurrentLinearAttentionKernelConfig;
using FeatureMap = Config::FeatureMap;
using Gate = Config::Gate;

namespace {

/// The gate variants: none, decay (two rates), per head and per key of
/// f32 and bf16.
std::vector<Config> gateVariants() {
  std::vector<Config> out;
  Config c;
  out.push_back(c);
  c.gate = Gate::Decay;
  c.decay = {0.5f, 0.25f};
  out.push_back(c);
  c.decay.clear();
  for (Gate g : {Gate::PerHead, Gate::PerKey})
    for (const char *type : {"f32", "bf16"}) {
      c.gate = g;
      c.gateType = type;
      out.push_back(c);
    }
  return out;
}

void expectBuilds(const Config &c) {
  std::string error = loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildRecurrentLinearAttentionKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

TEST(RecurrentLinearAttentionKernels, EveryOptionVerifies) {
  int built = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (FeatureMap fm : {FeatureMap::Identity, FeatureMap::Relu,
                          FeatureMap::EluPlusOne})
      for (Config c : gateVariants())
        for (bool delta : {false, true})
          for (bool states : {false, true}) {
            c.elementType = t;
            c.dk = 64;
            c.featureMap = fm;
            c.delta = delta;
            c.betaType = delta ? "bf16" : "";
            c.initialState = states;
            c.finalState = !states || built % 2;
            expectBuilds(c);
            ++built;
          }
  EXPECT_EQ(built, 3 * 3 * 6 * 2 * 2);
}

TEST(RecurrentLinearAttentionKernels, EveryHeadDimVerifies) {
  for (int64_t dk : {1, 7, 8, 9, 40, 96, 128, 200, 255, 256}) {
    Config c;
    c.elementType = "bf16";
    c.dk = dk;
    c.gate = Gate::PerKey;
    c.gateType = "f32";
    c.delta = true;
    c.betaType = "f32";
    c.initialState = c.finalState = true;
    EXPECT_EQ(c.rowsPerWarp(), (dk + 7) / 8);
    expectBuilds(c);
  }
}

TEST(RecurrentLinearAttentionKernels, NamesEncodeEveryChoice) {
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (int64_t dk : {16, 64, 256})
      for (FeatureMap fm : {FeatureMap::Identity, FeatureMap::Relu,
                            FeatureMap::EluPlusOne})
        for (Config c : gateVariants())
          for (const char *beta : {"", "f32", "bf16"})
            for (bool init : {false, true})
              for (bool fin : {false, true}) {
                c.elementType = t;
                c.dk = dk;
                c.featureMap = fm;
                c.delta = *beta != 0;
                c.betaType = beta;
                c.initialState = init;
                c.finalState = fin;
                names.insert(c.kernelName());
                ++configs;
              }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

} // namespace
