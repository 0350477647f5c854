//===- ChunkedLinearAttentionKernelsTest.cpp - every tensor-core config ---===//
//
// The configs of the tensor-core linear-attention kernel that
// loom-gpu-kernels can ask for: bf16 or f16; Dk a multiple of 8 up to 128
// (tiles of 64 or 128 deep); every feature map; no gate, decay with one or
// more rates, a per-head or a per-key-dimension gate of f32, bf16 or f16; an
// initial and a final
// state; plain or strided operands (fusion groups); slices of 64 or 32
// columns of Dv.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/ChunkedLinearAttentionKernel.h"

#include "gtest/gtest.h"

#include <set>
#include <vector>

using namespace mlir;
using Config = loom::gpu::ChunkedLinearAttentionKernelConfig;
using FeatureMap = Config::FeatureMap;
using Gate = Config::Gate;

namespace {

const FeatureMap kFeatureMaps[] = {FeatureMap::Identity, FeatureMap::Relu,
                                   FeatureMap::EluPlusOne};

/// The gate variants: none, decay with one and with four rates, a per-head
/// and a per-key gate of each element type.
std::vector<Config> gateVariants() {
  std::vector<Config> out;
  Config c;
  out.push_back(c);
  c.gate = Gate::Decay;
  c.decay = {0.5f};
  out.push_back(c);
  c.decay = {0.001f, 0.01f, 0.1f, 1.0f};
  out.push_back(c);
  c.decay.clear();
  for (Gate gate : {Gate::PerHead, Gate::PerKey}) {
    c.gate = gate;
    for (const char *g : {"f32", "bf16", "f16"}) {
      c.gateType = g;
      out.push_back(c);
    }
  }
  return out;
}

/// The delta rule's variants: no gate, decay, a per-head and a per-key gate
/// of each element type, each with beta of an element type in turn.
std::vector<Config> deltaVariants() {
  std::vector<Config> out;
  const char *types[] = {"f32", "bf16", "f16"};
  Config c;
  c.delta = true;
  auto add = [&] {
    c.betaType = types[out.size() % 3];
    out.push_back(c);
  };
  add();
  c.gate = Gate::Decay;
  c.decay = {0.5f, 0.05f};
  add();
  c.decay.clear();
  for (Gate gate : {Gate::PerHead, Gate::PerKey}) {
    c.gate = gate;
    for (const char *g : types) {
      c.gateType = g;
      add();
    }
  }
  return out;
}

void expectBuilds(const Config &c) {
  std::string error = loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildChunkedLinearAttentionKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

/// Every combination of the options at Dk = 64 (the slice width with the
/// others in turn).
TEST(ChunkedLinearAttentionKernels, EveryOptionVerifies) {
  int built = 0;
  for (const char *t : {"bf16", "f16"})
    for (FeatureMap fm : kFeatureMaps)
      for (Config c : gateVariants())
        for (bool init : {false, true})
          for (bool fin : {false, true})
            for (bool strided : {false, true}) {
              c.elementType = t;
              c.dk = 64;
              c.featureMap = fm;
              c.initialState = init;
              c.finalState = fin;
              c.strided = strided;
              c.slice = (built % 2) ? 32 : 64;
              expectBuilds(c);
              ++built;
            }
  EXPECT_EQ(built, 2 * 3 * 9 * 2 * 2 * 2);
}

/// The delta rule with every gate it takes, feature map, state and layout
/// (both slice widths in turn).
TEST(ChunkedLinearAttentionKernels, EveryDeltaOptionVerifies) {
  int built = 0;
  for (const char *t : {"bf16", "f16"})
    for (FeatureMap fm : kFeatureMaps)
      for (Config c : deltaVariants())
        for (bool init : {false, true})
          for (bool fin : {false, true}) {
            c.elementType = t;
            c.dk = built % 3 == 0 ? 128 : 64;
            c.featureMap = fm;
            c.initialState = init;
            c.finalState = fin;
            c.strided = built % 2;
            c.slice = (built / 2) % 2 ? 32 : 64;
            expectBuilds(c);
            ++built;
          }
  EXPECT_EQ(built, 2 * 3 * 8 * 2 * 2);
}

/// Every Dk the conversion can ask for around the two tile depths, with the
/// fullest and the plainest options.
TEST(ChunkedLinearAttentionKernels, EveryHeadDimVerifies) {
  for (const char *t : {"bf16", "f16"})
    for (int64_t dk : {8, 16, 40, 56, 64, 72, 96, 120, 128})
      for (Gate gate : {Gate::None, Gate::PerHead, Gate::PerKey}) {
        Config c;
        c.elementType = t;
        c.dk = dk;
        c.slice = gate == Gate::PerHead ? 32 : 64;
        if (gate != Gate::None) {
          c.featureMap = FeatureMap::EluPlusOne;
          c.gate = gate;
          c.gateType = gate == Gate::PerKey ? "f32" : "bf16";
          c.initialState = c.finalState = true;
        }
        expectBuilds(c);
      }
}

TEST(ChunkedLinearAttentionKernels, SharedMemory) {
  // Q and K tiles 2 x 64 x (pdk + 8), V 2 x 64 x 72, V * w 64 x 72, the
  // state's copy pdk x 72 (2 bytes each), 64 f32 gates: it fits sm_80's
  // 163 KiB at the largest depth.
  Config c;
  c.elementType = "bf16";
  for (int64_t dk : {8, 64}) {
    c.dk = dk;
    EXPECT_EQ(c.paddedDk(), 64);
    EXPECT_EQ(c.sharedMemoryBytes(), 73984);
  }
  c.dk = 128;
  EXPECT_EQ(c.paddedDk(), 128);
  EXPECT_EQ(c.sharedMemoryBytes(), 115968);
  EXPECT_LE(c.sharedMemoryBytes(), 163 * 1024);
  c.slice = 32; // V, V * w and the state's copy 40 wide
  EXPECT_EQ(c.sharedMemoryBytes(), 95488);
  // Every array starts on a 16-byte boundary (cp.async, ldmatrix rows).
  for (int64_t off : c.sharedOffsets())
    EXPECT_EQ(off % 16, 0);

  // A gate per key dimension drops V * w and adds the cumulative gates
  // (64 x (pdk + 8) f32), the raw gates (64 x (pdk + 8) of the gate type)
  // and Kh, Kb (64 x (pdk + 8) each): within sm_90a's 227 KiB at Dk 128
  // with an f32 gate, past sm_80's 163 KiB there (its selection declines).
  c.slice = 64;
  c.gate = Gate::PerKey;
  c.gateType = "f32";
  EXPECT_EQ(c.sharedMemoryBytes(), 211200);
  EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024);
  EXPECT_GT(c.sharedMemoryBytes(), 163 * 1024);
  c.gateType = "bf16";
  EXPECT_EQ(c.sharedMemoryBytes(), 211200 - 64 * 136 * 2);
  c.dk = 64;
  c.slice = 32;
  EXPECT_EQ(c.sharedMemoryBytes(), 98560);
  for (int64_t off : c.sharedOffsets())
    EXPECT_EQ(off % 16, 0);

  // The delta rule adds U (64 x vPitch, the element type), the inverted
  // diagonal blocks (4 x 16 x 24, the element type), L's diagonal blocks
  // (4 x 16 x 20 f32) and beta (64 f32) to the additive kernel's arrays:
  // within sm_80's 163 KiB at Dk 128 with a gate per head, and within
  // sm_90a's 227 KiB with an f32 gate per key dimension (KDA).
  const int64_t deltaExtra = 3072 + 5120 + 256;
  c.gate = Gate::PerHead;
  c.gateType = "f32";
  c.delta = true;
  c.betaType = "bf16";
  EXPECT_EQ(c.sharedMemoryBytes(), 57600 + 64 * 40 * 2 + deltaExtra);
  c.dk = 128;
  c.slice = 64;
  EXPECT_EQ(c.sharedMemoryBytes(), 115968 + 64 * 72 * 2 + deltaExtra);
  EXPECT_LE(c.sharedMemoryBytes(), 163 * 1024);
  c.gate = Gate::PerKey;
  EXPECT_EQ(c.sharedMemoryBytes(), 211200 + 64 * 72 * 2 + deltaExtra);
  EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024);
  for (int64_t off : c.sharedOffsets())
    EXPECT_EQ(off % 16, 0);
}

TEST(ChunkedLinearAttentionKernels, NamesEncodeEveryChoice) {
  // Kernels are shared by name: two configs must never share one.
  std::vector<Config> gates = gateVariants();
  Config extra;
  extra.gate = Gate::Decay;
  extra.decay = {0.25f, 0.5f};
  gates.push_back(extra);
  extra.decay = {0.5f, 0.25f};
  gates.push_back(extra);
  for (const Config &d : deltaVariants())
    gates.push_back(d);
  // The same gates with beta of another element type.
  for (Config d : deltaVariants()) {
    d.betaType = d.betaType == "f32" ? "bf16" : "f32";
    gates.push_back(d);
  }
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : {"bf16", "f16"})
    for (int64_t dk : {8, 64, 72, 128})
      for (FeatureMap fm : kFeatureMaps)
        for (Config c : gates)
          for (bool init : {false, true})
            for (bool fin : {false, true})
              for (bool strided : {false, true})
                for (int64_t slice : {64, 32}) {
                  c.elementType = t;
                  c.dk = dk;
                  c.featureMap = fm;
                  c.initialState = init;
                  c.finalState = fin;
                  c.strided = strided;
                  c.slice = slice;
                  names.insert(c.kernelName());
                  ++configs;
                }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

} // namespace
