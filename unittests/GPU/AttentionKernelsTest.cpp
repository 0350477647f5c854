//===- AttentionKernelsTest.cpp - every flash-attention config builds -----===//
//
// The configs loom-gpu-kernels can ask for (lib/Conversion/LoomToGPU/
// Attention.cpp): bf16 or f16; D = 64 or 128; 4 warps of 1 or 2 m-tiles;
// key tiles of 32 or 64 by default and, through `tiles=attention:QxKV`, any
// multiple of 16 up to 128; causal (window only with causal, not
// block-sparse), softcap, a positive scale (not with softcap), block-sparse;
// and in fusion groups strided views with RoPE of q and/or k (half or
// interleaved, f32/bf16/f16 tables). The whole product is 19,200 kernels
// (a few minutes to build), so every tile shape is built with three option
// sets, and every combination of options with small tile shapes in turn.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/AttentionKernel.h"

#include "gtest/gtest.h"

#include <functional>
#include <set>
#include <vector>

using namespace mlir;
using loom::gpu::AttentionKernelConfig;

namespace {

/// A tile shape and element type.
struct Shape {
  const char *elementType;
  int64_t headDim, warpTiles, blockN;
};

std::vector<Shape> allShapes() {
  std::vector<Shape> shapes;
  for (const char *t : {"bf16", "f16"})
    for (int64_t d : {64, 128})
      for (int64_t warpTiles : {1, 2})
        for (int64_t blockN = 16; blockN <= 128; blockN += 16)
          shapes.push_back({t, d, warpTiles, blockN});
  return shapes;
}

/// The options of the mask and score (what loom.attention and
/// loom.block_sparse_attention can ask for).
struct Masks {
  bool causal, window, softcap, positiveScale, sparse;
};

std::vector<Masks> allMasks() {
  std::vector<Masks> masks;
  for (bool sparse : {false, true})
    for (bool causal : {false, true})
      for (bool window : {false, true})
        for (int score = 0; score < 3; ++score) {
          // window needs causal; block-sparse attention has no window.
          if (window && (!causal || sparse))
            continue;
          masks.push_back({causal, window, /*softcap=*/score == 1,
                           /*positiveScale=*/score == 2, sparse});
        }
  return masks;
}

/// What a fusion group adds: strided views and the RoPE prologues.
struct Fusion {
  bool strided, ropeQ, ropeK, ropeInterleaved;
  const char *ropeType;
};

std::vector<Fusion> allFusions() {
  std::vector<Fusion> fusions = {{false, false, false, false, "f32"},
                                 {true, false, false, false, "f32"}};
  for (auto [ropeQ, ropeK] : {std::pair{true, false}, std::pair{false, true},
                              std::pair{true, true}})
    for (bool interleaved : {false, true})
      for (const char *type : {"f32", "bf16", "f16"})
        fusions.push_back({true, ropeQ, ropeK, interleaved, type});
  return fusions;
}

AttentionKernelConfig configOf(const Shape &s, const Masks &m,
                               const Fusion &f) {
  AttentionKernelConfig c;
  c.elementType = s.elementType;
  c.headDim = s.headDim;
  c.warps = 4;
  c.warpTiles = s.warpTiles;
  c.blockN = s.blockN;
  c.causal = m.causal;
  c.window = m.window;
  c.softcap = m.softcap;
  c.positiveScale = m.positiveScale;
  c.sparse = m.sparse;
  c.strided = f.strided;
  c.ropeQ = f.ropeQ;
  c.ropeK = f.ropeK;
  c.ropeInterleaved = f.ropeInterleaved;
  c.ropeType = f.ropeType;
  return c;
}

void expectBuilds(const AttentionKernelConfig &c) {
  std::string error =
      loom::test::buildAndCheck(c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildAttentionKernel(m, loc, c);
      });
  EXPECT_EQ(error, "") << c.kernelName();
}

TEST(AttentionKernels, EveryTileShapeVerifies) {
  // Each shape with the default path's dense kernel, a block-sparse one, and
  // the most involved one: a causal window, softcap, RoPE of q and k (half
  // with f32 tables and interleaved with bf16 tables in turn, so that K's
  // table rows are staged in shared memory or, for 16-bit tables of D = 64
  // with key tiles of an odd number of 16 keys, read from global memory).
  Masks dense = {false, false, false, true, false};
  Masks sparse = {true, false, false, true, true};
  Masks involved = {true, true, true, false, false};
  Fusion plain = {false, false, false, false, "f32"};
  Fusion strided = {true, false, false, false, "f32"};
  int built = 0;
  for (const Shape &s : allShapes()) {
    bool odd = (s.blockN / 16) % 2;
    Fusion rope = {true, true, true, odd, odd ? "bf16" : "f32"};
    expectBuilds(configOf(s, dense, plain));
    expectBuilds(configOf(s, sparse, strided));
    expectBuilds(configOf(s, involved, rope));
    built += 3;
  }
  EXPECT_EQ(built, 64 * 3);
}

TEST(AttentionKernels, OtherHeadDimsVerify) {
  // Head dims other than 64 and 128 (any multiple of 16 up to 256): rows
  // of D / 8 chunks that 128 threads do not cover in whole passes (80, 96,
  // 112, ...) copy chunk by chunk, the last pass guarded where the tile's
  // chunks are not a multiple of the threads (16-key tiles of 80 or 96).
  // Each with the dense kernel, a block-sparse one and the involved one.
  Masks dense = {false, false, false, true, false};
  Masks sparse = {true, false, false, true, true};
  Masks involved = {true, true, true, false, false};
  Fusion strided = {true, false, false, false, "f32"};
  int built = 0;
  for (int64_t d : {16, 32, 48, 80, 96, 112, 160, 192, 256})
    for (int64_t warpTiles : {1, 2})
      for (int64_t blockN : {16, 64}) {
        if (warpTiles == 2 && d > 128)
          continue; // the conversion gives wide heads one m-tile a warp
        Shape s = {d % 32 ? "f16" : "bf16", d, warpTiles, blockN};
        Fusion rope = {true, true, true, blockN == 16, "f32"};
        expectBuilds(configOf(s, dense, {false, false, false, false, "f32"}));
        expectBuilds(configOf(s, sparse, strided));
        expectBuilds(configOf(s, involved, rope));
        built += 3;
      }
  EXPECT_EQ(built, (6 * 4 + 3 * 2) * 3);
}

TEST(AttentionKernels, SmallCtasVerify) {
  // Block-sparse layouts with blocks of 16 or 32 rows take CTAs of 1 or 2
  // warps (one 16-row m-tile each) and key tiles of 16 or 32: every head
  // dim class, with the involved options and K's RoPE staged or not.
  Masks sparse = {true, false, false, true, true};
  Masks sparseCausalCapped = {true, false, true, false, true};
  int built = 0;
  for (int64_t warps : {1, 2})
    for (int64_t d : {64, 80, 128})
      for (int64_t blockN : {16, 32}) {
        Shape s = {"bf16", d, 1, blockN};
        for (const Masks &m : {sparse, sparseCausalCapped}) {
          AttentionKernelConfig c =
              configOf(s, m, {true, true, true, false, "f32"});
          c.warps = warps;
          EXPECT_EQ(c.blockM(), 16 * warps);
          expectBuilds(c);
          ++built;
        }
      }
  EXPECT_EQ(built, 2 * 3 * 2 * 2);
}

TEST(AttentionKernels, EveryOptionCombinationVerifies) {
  // Every mask option set with every fusion, each on the next of the
  // smaller tile shapes (key tiles of 16 or 32) in turn: the options'
  // code does not depend on the tile's size, only on its divisibility,
  // which both cover.
  std::vector<Shape> shapes;
  for (const Shape &s : allShapes())
    if (s.blockN <= 32)
      shapes.push_back(s);
  ASSERT_EQ(shapes.size(), 16u);
  size_t i = 0;
  for (const Masks &m : allMasks())
    for (const Fusion &f : allFusions())
      expectBuilds(configOf(shapes[(i++ * 7) % shapes.size()], m, f));
  EXPECT_EQ(i, 15u * 20u);
}

TEST(AttentionKernels, KTablesStagedOrNot) {
  // K's RoPE reads its table rows from shared memory exactly where the rows
  // are whole 16-byte chunks that the CTA's threads cover evenly; the other
  // configs (D = 64 with 16-bit tables and key tiles of an odd number of 16
  // keys) read them from global memory.
  for (const Shape &s : allShapes())
    for (const char *ropeType : {"f32", "bf16", "f16"}) {
      AttentionKernelConfig c = configOf(s, {false, false, false, true, false},
                                         {true, false, true, false, ropeType});
      bool global = s.headDim == 64 && std::string(ropeType) != "f32" &&
                    s.blockN % 32 != 0;
      EXPECT_EQ(c.stagedKTables(), !global) << c.kernelName();
    }
}

TEST(AttentionKernels, NamesEncodeEveryChoice) {
  // Kernels are shared by name: two reachable configs must never share one.
  std::set<std::string> names;
  size_t configs = 0;
  for (const Shape &s : allShapes())
    for (const Masks &m : allMasks())
      for (const Fusion &f : allFusions()) {
        names.insert(configOf(s, m, f).kernelName());
        ++configs;
      }
  EXPECT_EQ(configs, 64u * 15u * 20u);
  EXPECT_EQ(names.size(), configs);
}

} // namespace
