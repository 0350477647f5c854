//===- TargetDescriptionTest.cpp - chips and tile lists --------------------===//
//
// TargetDescription::get/getGPU/tilesString: the chips' figures, every tile
// kind, the round trip of random tile lists through tilesString(), and one
// clear error for each malformed chip or list.

#include "loom/Target/TargetDescription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using loom::TargetDescription;

namespace {

TEST(TargetDescription, Chips) {
  std::string error;
  auto cpu = TargetDescription::get("cpu", "", error);
  ASSERT_TRUE(cpu) << error;
  EXPECT_FALSE(cpu->isGPU());
  EXPECT_EQ(cpu->sharedMemoryBytes, 0);

  auto hopper = TargetDescription::get("sm_90a", "", error);
  ASSERT_TRUE(hopper) << error;
  EXPECT_TRUE(hopper->isGPU());
  EXPECT_EQ(hopper->sm, 90);
  EXPECT_EQ(hopper->sharedMemoryBytes, 227 * 1024);
  EXPECT_FALSE(hopper->attention || hopper->gemm || hopper->rowThreads);
  EXPECT_EQ(hopper->tilesString(), "");

  auto ampere = TargetDescription::getGPU("sm_80", "", error);
  ASSERT_TRUE(ampere) << error;
  EXPECT_EQ(ampere->sm, 80);
  EXPECT_EQ(ampere->sharedMemoryBytes, 163 * 1024);
  auto ada = TargetDescription::getGPU("sm_89", "", error);
  ASSERT_TRUE(ada) << error;
  EXPECT_EQ(ada->sm, 89);
  // GA10x/AD10x parts let a block opt into 99 KiB, not the A100's 163.
  EXPECT_EQ(ada->sharedMemoryBytes, 99 * 1024);
}

TEST(TargetDescription, UnknownChips) {
  for (const char *chip : {"sm_70", "sm_", "sm_a", "gfx90a", "sm_90b", "90",
                           "sm_9000", ""}) {
    std::string error;
    EXPECT_FALSE(TargetDescription::get(chip, "", error)) << chip;
    EXPECT_EQ(error, "unknown chip '" + std::string(chip) +
                         "' (expected cpu, or sm_NN or sm_NNa with NN >= 80, "
                         "e.g. sm_90a or sm_80)");
    error.clear();
    EXPECT_FALSE(TargetDescription::getGPU(chip, "", error)) << chip;
    EXPECT_EQ(error, "unknown chip '" + std::string(chip) +
                         "' (expected sm_NN or sm_NNa with NN >= 80, e.g. "
                         "sm_90a or sm_80)");
  }
  std::string error;
  EXPECT_FALSE(TargetDescription::getGPU("cpu", "", error));
  EXPECT_EQ(error, "unknown chip 'cpu' (expected sm_NN or sm_NNa with NN >= "
                   "80, e.g. sm_90a or sm_80)");
}

TEST(TargetDescription, Tiles) {
  std::string error;
  auto t = TargetDescription::get(
      "sm_90a", " attention:64x32 , gemm:128x64x32x3,rows:128", error);
  ASSERT_TRUE(t) << error;
  ASSERT_TRUE(t->attention);
  EXPECT_EQ(t->attention->blockQ, 64);
  EXPECT_EQ(t->attention->blockKV, 32);
  ASSERT_TRUE(t->gemm);
  EXPECT_EQ(t->gemm->m, 128);
  EXPECT_EQ(t->gemm->n, 64);
  EXPECT_EQ(t->gemm->k, 32);
  EXPECT_EQ(t->gemm->stages, 3);
  ASSERT_TRUE(t->rowThreads);
  EXPECT_EQ(*t->rowThreads, 128);
  EXPECT_EQ(t->tilesString(), "attention:64x32,gemm:128x64x32x3,rows:128");

  // Three GEMM sizes leave the stages to the recipe.
  auto g = TargetDescription::get("sm_80", "gemm:64x64x64", error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->gemm->stages, 0);
  EXPECT_FALSE(g->attention || g->rowThreads);
  EXPECT_EQ(g->tilesString(), "gemm:64x64x64");

  // The W4A16 kernel choice: unset by default, either way when named.
  EXPECT_FALSE(g->w4a16Registers);
  for (bool registers : {true, false}) {
    std::string list = registers ? "w4a16:registers" : "w4a16:shared";
    auto w = TargetDescription::get("sm_90a", "rows:64, " + list, error);
    ASSERT_TRUE(w) << error;
    ASSERT_TRUE(w->w4a16Registers);
    EXPECT_EQ(*w->w4a16Registers, registers);
    EXPECT_EQ(w->tilesString(), "rows:64," + list);
    EXPECT_FALSE(w->w4a16Shape);
  }
  // A tile for the register kernel implies it.
  auto ws = TargetDescription::get("sm_90a", "w4a16:2x256", error);
  ASSERT_TRUE(ws) << error;
  EXPECT_EQ(ws->w4a16Registers, std::optional<bool>(true));
  ASSERT_TRUE(ws->w4a16Shape);
  EXPECT_EQ(ws->w4a16Shape->first, 2);
  EXPECT_EQ(ws->w4a16Shape->second, 256);
  EXPECT_EQ(ws->tilesString(), "w4a16:2x256");

  // The GEMV schedule: three counts leave the depth to the recipe.
  EXPECT_FALSE(g->gemv);
  auto v = TargetDescription::get("sm_90a", "gemv:4x2x2", error);
  ASSERT_TRUE(v) << error;
  ASSERT_TRUE(v->gemv);
  EXPECT_EQ(v->gemv->warps, 4);
  EXPECT_EQ(v->gemv->tiles, 2);
  EXPECT_EQ(v->gemv->unroll, 2);
  EXPECT_EQ(v->gemv->depth, 0);
  EXPECT_EQ(v->tilesString(), "gemv:4x2x2");
  v = TargetDescription::get("sm_80", "gemv:8x1x4x2,gemm:64x64x32", error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(v->gemv->depth, 2);
  EXPECT_EQ(v->tilesString(), "gemm:64x64x32,gemv:8x1x4x2");
}

// Random lists of any subset of the kinds, in any order: get() reads each
// tile back and tilesString() reproduces it in canonical order.
TEST(TargetDescription, RandomRoundTrip) {
  std::mt19937 rng(7);
  auto size = [&] {
    return std::uniform_int_distribution<int64_t>(1, 1 << 20)(rng);
  };
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<std::string> items;
    std::optional<loom::AttentionTile> attention;
    std::optional<loom::GemmTile> gemm;
    std::optional<int64_t> rows;
    std::optional<loom::GemvTile> gemv;
    if (rng() % 2) {
      attention = loom::AttentionTile{size(), size()};
      items.push_back(loom::toString(*attention));
    }
    if (rng() % 2) {
      gemm = loom::GemmTile{size(), size(), size(),
                            rng() % 2 ? size() : int64_t(0)};
      items.push_back(loom::toString(*gemm));
    }
    if (rng() % 2) {
      rows = size();
      items.push_back(loom::rowsToString(*rows));
    }
    if (rng() % 2) {
      gemv = loom::GemvTile{size(), size(), size(),
                            rng() % 2 ? size() : int64_t(0)};
      items.push_back(loom::toString(*gemv));
    }
    std::shuffle(items.begin(), items.end(), rng);
    std::string list;
    for (const std::string &item : items)
      list += (list.empty() ? "" : ",") + item;

    std::string error;
    auto t = TargetDescription::get("sm_90a", list, error);
    ASSERT_TRUE(t) << list << ": " << error;
    ASSERT_EQ(t->attention.has_value(), attention.has_value()) << list;
    if (attention) {
      EXPECT_EQ(t->attention->blockQ, attention->blockQ);
      EXPECT_EQ(t->attention->blockKV, attention->blockKV);
    }
    ASSERT_EQ(t->gemm.has_value(), gemm.has_value()) << list;
    if (gemm) {
      EXPECT_EQ(t->gemm->m, gemm->m);
      EXPECT_EQ(t->gemm->n, gemm->n);
      EXPECT_EQ(t->gemm->k, gemm->k);
      EXPECT_EQ(t->gemm->stages, gemm->stages);
    }
    EXPECT_EQ(t->rowThreads, rows) << list;
    ASSERT_EQ(t->gemv.has_value(), gemv.has_value()) << list;
    if (gemv) {
      EXPECT_EQ(t->gemv->warps, gemv->warps);
      EXPECT_EQ(t->gemv->tiles, gemv->tiles);
      EXPECT_EQ(t->gemv->unroll, gemv->unroll);
      EXPECT_EQ(t->gemv->depth, gemv->depth);
    }

    std::string canonical;
    if (attention)
      canonical += loom::toString(*attention);
    if (gemm)
      canonical += (canonical.empty() ? "" : ",") + loom::toString(*gemm);
    if (rows)
      canonical += (canonical.empty() ? "" : ",") + loom::rowsToString(*rows);
    if (gemv)
      canonical += (canonical.empty() ? "" : ",") + loom::toString(*gemv);
    EXPECT_EQ(t->tilesString(), canonical);
    auto again = TargetDescription::get("sm_90a", t->tilesString(), error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(again->tilesString(), canonical);
  }
}

TEST(TargetDescription, MalformedTiles) {
  struct Case {
    const char *tiles, *error;
  } cases[] = {
      {"attention:64", "malformed tile 'attention:64' (expected attention:QxKV "
                       "with positive sizes)"},
      {"attention:64x0", "malformed tile 'attention:64x0' (expected "
                         "attention:QxKV with positive sizes)"},
      {"attention:64x-16", "malformed tile 'attention:64x-16' (expected "
                           "attention:QxKV with positive sizes)"},
      {"gemm:128x128", "malformed tile 'gemm:128x128' (expected gemm:MxNxK or "
                       "gemm:MxNxKxSTAGES with positive sizes)"},
      {"gemm:1x2x3x4x5", "malformed tile 'gemm:1x2x3x4x5' (expected gemm:MxNxK "
                         "or gemm:MxNxKxSTAGES with positive sizes)"},
      {"gemm:64xx64x32", "malformed tile 'gemm:64xx64x32' (expected gemm:MxNxK "
                         "or gemm:MxNxKxSTAGES with positive sizes)"},
      {"rows:", "malformed tile 'rows:' (expected rows:THREADS with positive "
                "sizes)"},
      {"rows:abc", "malformed tile 'rows:abc' (expected rows:THREADS with "
                   "positive sizes)"},
      {"rows:2097152", "malformed tile 'rows:2097152' (expected rows:THREADS "
                       "with positive sizes)"},
      {"conv:3x3", "unknown tile kind 'conv' in 'conv:3x3' (expected "
                   "attention, gemm, gemv, rows or w4a16)"},
      {"w4a16:smem", "malformed tile 'w4a16:smem' (expected w4a16:registers, "
                     "w4a16:shared or w4a16:CONSUMERSxROWS)"},
      {"w4a16:2x128x4", "malformed tile 'w4a16:2x128x4' (expected "
                        "w4a16:registers, w4a16:shared or "
                        "w4a16:CONSUMERSxROWS)"},
      {"w4a16:2x128,w4a16:registers",
       "tile kind 'w4a16' given twice in 'w4a16:2x128,w4a16:registers'"},
      {"w4a16:shared,w4a16:registers",
       "tile kind 'w4a16' given twice in 'w4a16:shared,w4a16:registers'"},
      {"attention", "malformed tile 'attention' (expected attention:QxKV "
                    "with positive sizes)"},
      {"rows:32,", "empty tile in 'rows:32,' (expected a comma-separated list "
                   "of attention:QxKV, gemm:MxNxK[xSTAGES], rows:THREADS, "
                   "gemv:WARPSxTILESxUNROLL[xDEPTH] and "
                   "w4a16:registers|shared|CONSUMERSxROWS)"},
      {"rows:32,rows:64", "tile kind 'rows' given twice in 'rows:32,rows:64'"},
      {"gemv:4x2", "malformed tile 'gemv:4x2' (expected "
                   "gemv:WARPSxTILESxUNROLL or gemv:WARPSxTILESxUNROLLxDEPTH "
                   "with positive sizes)"},
      {"gemv:4x2x2x0", "malformed tile 'gemv:4x2x2x0' (expected "
                       "gemv:WARPSxTILESxUNROLL or "
                       "gemv:WARPSxTILESxUNROLLxDEPTH with positive sizes)"},
      {"gemv:4x2x2,gemv:8x2x1",
       "tile kind 'gemv' given twice in 'gemv:4x2x2,gemv:8x2x1'"},
      {"gemm:64x64x32,attention:64x64,gemm:64x64x64",
       "tile kind 'gemm' given twice in "
       "'gemm:64x64x32,attention:64x64,gemm:64x64x64'"},
  };
  for (const Case &c : cases) {
    std::string error;
    EXPECT_FALSE(TargetDescription::get("sm_90a", c.tiles, error)) << c.tiles;
    EXPECT_EQ(error, c.error);
  }
}

TEST(TargetDescription, CapabilitiesFollowTheChip) {
  struct Case {
    const char *chip;
    bool cpAsync, fp8Mma, tma, wgmma;
    int64_t sharedKiB, sms;
    const char *ptx;
  };
  const Case cases[] = {
      {"sm_80", true, false, false, false, 163, 108, "+ptx80"},
      {"sm_86", true, false, false, false, 99, 84, "+ptx80"},
      {"sm_87", true, false, false, false, 99, 84, "+ptx80"},
      {"sm_89", true, true, false, false, 99, 142, "+ptx80"},
      {"sm_90", true, true, true, false, 227, 132, "+ptx80"},
      {"sm_90a", true, true, true, true, 227, 132, "+ptx80"},
      {"sm_100a", true, true, true, false, 227, 148, ""},
      {"sm_120", true, true, true, false, 99, 188, ""},
  };
  for (const Case &c : cases) {
    std::string error;
    std::optional<TargetDescription> t = TargetDescription::get(c.chip, "", error);
    ASSERT_TRUE(t) << c.chip << ": " << error;
    EXPECT_EQ(t->hasCpAsync(), c.cpAsync) << c.chip;
    EXPECT_EQ(t->hasFp8Mma(), c.fp8Mma) << c.chip;
    EXPECT_EQ(t->hasTma(), c.tma) << c.chip;
    EXPECT_EQ(t->hasWgmma(), c.wgmma) << c.chip;
    EXPECT_EQ(t->sharedMemoryBytes, c.sharedKiB * 1024) << c.chip;
    EXPECT_EQ(t->smCount, c.sms) << c.chip;
    EXPECT_EQ(t->ptxFeatures(), c.ptx) << c.chip;
    EXPECT_EQ(t->maxThreadsPerBlock, 1024) << c.chip;
  }
  std::string error;
  std::optional<TargetDescription> cpu = TargetDescription::get("cpu", "", error);
  ASSERT_TRUE(cpu);
  EXPECT_FALSE(cpu->isGPU());
  EXPECT_FALSE(cpu->hasCpAsync() || cpu->hasTma() || cpu->hasWgmma());
  EXPECT_EQ(cpu->ptxFeatures(), "");
}

} // namespace
