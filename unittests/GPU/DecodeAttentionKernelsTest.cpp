//===- DecodeAttentionKernelsTest.cpp - every decode config builds --------===//
//
// The configs the decode rewrite can ask for (lib/Conversion/LoomToGPU/
// DecodeAttention.cpp): bf16 or f16; D = 16, 32, 64, 128 or 256; a query
// tile of G x Sq rows, 1 to 16; causal; softcap; the combine kernel with
// and without the lse output. Every one is built, split and combine kernels,
// and verified (360 + 90 + 90 kernels); the configs outside the kernel's
// reach say why.

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/DecodeAttentionKernel.h"

#include "gtest/gtest.h"

#include <set>
#include <string>
#include <vector>

using namespace mlir;
using loom::gpu::DecodeAttentionKernelConfig;

namespace {

/// Query tiles G x Sq covering every row count 1..16 and the shapes a
/// GQA decode gives (G a power of two, Sq 1), and speculative ones.
const std::pair<int64_t, int64_t> kTiles[] = {
    {1, 1}, {2, 1}, {4, 1}, {8, 1}, {16, 1}, {1, 16}, {3, 5}, {4, 2}, {2, 3}};

/// "" when the split (or combine) kernel of `c` builds and verifies.
std::string buildSplit(const DecodeAttentionKernelConfig &c) {
  return loom::test::buildAndCheck(
      c.kernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildDecodeAttentionKernel(m, loc, c);
      });
}
std::string buildCombine(const DecodeAttentionKernelConfig &c) {
  return loom::test::buildAndCheck(
      c.combineKernelName(), [&](ModuleOp m, Location loc) {
        return loom::gpu::buildDecodeCombineKernel(m, loc, c);
      });
}

TEST(DecodeAttentionKernels, EveryConfigVerifies) {
  std::set<std::string> names, combineNames, lseNames;
  int built = 0;
  for (const char *t : {"bf16", "f16"})
    for (int64_t d : {16, 32, 64, 128, 256})
      for (auto [group, sq] : kTiles)
        for (bool causal : {false, true})
          for (bool softcap : {false, true}) {
            DecodeAttentionKernelConfig c;
            c.elementType = t;
            c.headDim = d;
            c.group = group;
            c.queryLen = sq;
            c.causal = causal;
            c.softcap = softcap;
            ASSERT_EQ(c.invalidReason(), "") << c.kernelName();
            EXPECT_EQ(buildSplit(c),
                      "")
                << c.kernelName();
            if (combineNames.insert(c.combineKernelName()).second)
              for (bool lse : {false, true}) {
                DecodeAttentionKernelConfig cc = c;
                cc.lse = lse;
                if (lse)
                  EXPECT_TRUE(
                      lseNames.insert(cc.combineKernelName()).second);
                EXPECT_EQ(buildCombine(cc),
                          "")
                    << cc.combineKernelName();
              }
            EXPECT_TRUE(names.insert(c.kernelName()).second)
                << "two configs named " << c.kernelName();
            ++built;
          }
  EXPECT_EQ(built, 2 * 5 * 9 * 4);
  // The combine kernel does not depend on the mask or the score.
  EXPECT_EQ(combineNames.size(), 2u * 5 * 9);
  // The lse variants have names of their own.
  EXPECT_EQ(lseNames.size(), 2u * 5 * 9);
  for (const std::string &n : lseNames)
    EXPECT_EQ(combineNames.count(n), 0u) << n;
}

TEST(DecodeAttentionKernels, ServingConfigsVerify) {
  // Windows (one, or one per query head, with and without a head of none)
  // and sinks on the split kernel, sink logits (with and without lse) on the
  // combine kernel: every one builds, verifies and has a name of its own.
  std::set<std::string> names, combineNames;
  const std::vector<std::vector<int64_t>> windowSets = {
      {}, {1024}, {16, 300, 64, 64, 200, 1, 2, 3}, {16, 0, 64, 64, 200, 1, 2, 3}};
  int built = 0;
  for (int64_t d : {64, 128, 256})
    for (auto [group, sq] : {std::pair<int64_t, int64_t>{4, 1}, {8, 2}})
      for (const std::vector<int64_t> &windows : windowSets)
        for (int64_t sink : {0, 4}) {
          if (windows.empty() && sink)
            continue;
          DecodeAttentionKernelConfig c;
          c.headDim = d;
          c.group = group;
          c.queryLen = sq;
          c.causal = true;
          c.softcap = built % 2;
          c.windows = windows;
          c.sink = sink;
          ASSERT_EQ(c.invalidReason(), "") << c.kernelName();
          EXPECT_EQ(buildSplit(c),
                    "")
              << c.kernelName();
          EXPECT_TRUE(names.insert(c.kernelName()).second) << c.kernelName();
          for (bool lse : {false, true}) {
            DecodeAttentionKernelConfig cc = c;
            cc.lse = lse;
            cc.sinkLogits = true;
            if (!combineNames.insert(cc.combineKernelName()).second)
              continue;
            EXPECT_NE(cc.combineKernelName().find("_sinklogits"),
                      std::string::npos);
            EXPECT_EQ(buildCombine(cc),
                      "")
                << cc.combineKernelName();
          }
          ++built;
        }
  EXPECT_EQ(built, 3 * 2 * (1 + 3 * 2));
  EXPECT_EQ(combineNames.size(), 3u * 2 * 2);
}

TEST(DecodeAttentionKernels, PagedConfigsVerify) {
  // The paged form (loom.paged_attention): a token's G query heads over its
  // sequence's pages, with every mask and score option, pages of 1, 16 and
  // 32 keys; the combine kernel writes [T, Hq, D] and [T, Hq]. Every one
  // builds, verifies and has a name of its own (not the contiguous one's).
  std::set<std::string> names, combineNames;
  int built = 0;
  for (const char *t : {"bf16", "f16"})
    for (int64_t d : {16, 64, 128, 256})
      for (int64_t group : {1, 4, 16})
        for (int64_t page : {1, 16, 32})
          for (int variant = 0; variant < 3; ++variant) {
            DecodeAttentionKernelConfig c;
            c.elementType = t;
            c.headDim = d;
            c.group = group;
            c.paged = true;
            c.pageSize = page;
            c.causal = variant > 0;
            c.softcap = variant == 1;
            if (variant == 2) {
              c.windows = {256};
              c.sink = 4;
              c.sinkLogits = true;
            }
            ASSERT_EQ(c.invalidReason(), "") << c.kernelName();
            EXPECT_NE(c.kernelName().find("_paged" + std::to_string(page)),
                      std::string::npos);
            EXPECT_EQ(buildSplit(c), "") << c.kernelName();
            EXPECT_TRUE(names.insert(c.kernelName()).second) << c.kernelName();
            for (bool lse : {false, true}) {
              DecodeAttentionKernelConfig cc = c;
              cc.lse = lse;
              if (combineNames.insert(cc.combineKernelName()).second)
                EXPECT_EQ(buildCombine(cc), "") << cc.combineKernelName();
            }
            ++built;
          }
  EXPECT_EQ(built, 2 * 4 * 3 * 3 * 3);
  // Combine kernels: no window or page size in them; lse and sink logits.
  EXPECT_EQ(combineNames.size(), 2u * 4 * 3 * 2 * 2);
  // A paged cache takes one query row a head.
  DecodeAttentionKernelConfig c;
  c.paged = true;
  c.queryLen = 2;
  EXPECT_NE(c.invalidReason().find("paged"), std::string::npos);
  c.queryLen = 1;
  c.pageSize = 0;
  EXPECT_NE(c.invalidReason().find("paged"), std::string::npos);
}

TEST(DecodeAttentionKernels, ChunkedConfigsVerify) {
  // The chunked form (any query length, 16 / G rows of each head a CTA) in
  // f32, which the rewrite uses for f32 attention, and in bf16/f16; f32 in
  // the decode form too. Every one builds, verifies and is named apart.
  std::set<std::string> names, combineNames;
  int built = 0;
  for (const char *t : {"f32", "bf16", "f16"})
    for (int64_t d : {32, 64, 128, 256})
      for (int64_t group : {1, 2, 4, 16})
        for (bool chunked : {false, true})
          for (int variant = 0; variant < 2; ++variant) {
            DecodeAttentionKernelConfig c;
            c.elementType = t;
            c.headDim = d;
            c.group = group;
            c.queryLen = chunked ? 16 / group : 1;
            c.chunked = chunked;
            c.causal = true;
            if (variant == 1) {
              c.windows = {64};
              c.sink = 4;
              c.softcap = true;
              c.sinkLogits = true;
              c.lse = true;
            }
            ASSERT_EQ(c.invalidReason(), "") << c.kernelName();
            EXPECT_EQ(chunked, c.kernelName().find("_chunked") !=
                                   std::string::npos);
            EXPECT_EQ(buildSplit(c), "") << c.kernelName();
            EXPECT_EQ(buildCombine(c), "") << c.combineKernelName();
            EXPECT_TRUE(names.insert(c.kernelName()).second) << c.kernelName();
            EXPECT_TRUE(combineNames.insert(c.combineKernelName()).second)
                << c.combineKernelName();
            ++built;
          }
  EXPECT_EQ(built, 3 * 4 * 4 * 2 * 2);
  DecodeAttentionKernelConfig c;
  c.paged = true;
  c.chunked = true;
  EXPECT_NE(c.invalidReason().find("not chunked"), std::string::npos);
}

TEST(DecodeAttentionKernels, InvalidServingConfigsSayWhy) {
  DecodeAttentionKernelConfig c;
  c.windows = {64}; // without causal
  EXPECT_NE(c.invalidReason().find("causal"), std::string::npos);
  c.causal = true;
  c.windows = {64, -1};
  EXPECT_NE(c.invalidReason().find(">= 0"), std::string::npos);
  c.windows = {64};
  c.sink = -1;
  EXPECT_NE(c.invalidReason().find("sink"), std::string::npos);
}

TEST(DecodeAttentionKernels, InvalidConfigsSayWhy) {
  DecodeAttentionKernelConfig c;
  c.elementType = "f64";
  EXPECT_NE(c.invalidReason().find("bf16, f16 or f32"), std::string::npos);
  c = {};
  for (int64_t d : {0, 8, 48, 80, 96, 512}) {
    c.headDim = d;
    EXPECT_NE(c.invalidReason().find("head dim"), std::string::npos) << d;
  }
  c = {};
  c.group = 4;
  c.queryLen = 5; // 20 rows
  EXPECT_NE(c.invalidReason().find("1 to 16 rows"), std::string::npos);
  c.queryLen = 0;
  EXPECT_NE(c.invalidReason().find("1 to 16 rows"), std::string::npos);
}

} // namespace
