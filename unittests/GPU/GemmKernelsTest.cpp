//===- GemmKernelsTest.cpp - every GEMM and GEMV kernel config builds ------===//
//
// The configs loom-gpu-kernels can ask for (lib/Conversion/LoomToGPU/
// Gemm.cpp): every kind with every element-type combination it accepts, with
// and without bias, every result type, horizontal parts, gated pairs and
// fused epilogues, on the default tiles and on `tiles=gemm:...` requests the
// kernel accepts; the GEMV kernel's configs likewise. Each is built and
// verified (no GPU, no ptxas).

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/GemmKernel.h"
#include "loom/GPU/Kernels/GemvKernel.h"

#include "gtest/gtest.h"

#include <map>
#include <set>
#include <sstream>

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::GemmKernelConfig;
using loom::gpu::GemmKind;
using loom::gpu::GemvKernelConfig;
using Step = EpilogueStep::Kind;

namespace {

const char *const kFloats[] = {"f32", "bf16", "f16"};
const char *const kBiases[] = {"", "f32", "bf16", "f16"};

/// Bytes of an element of A.
int64_t bytesOf(const std::string &t) {
  return t == "bf16" || t == "f16" ? 2 : 1;
}

/// The two tile shapes the conversion gives every product (Gemm.cpp's
/// setTiles and planQLinear): 128 x 128 x 64 bytes of A with 2 x 4 warps,
/// and the decode-sized 16 x 64 x 128 bytes with 1 x 4; group-wise scales
/// halve the large tile's columns and keep a small K tile inside a group.
std::pair<GemmKernelConfig, GemmKernelConfig>
defaultTiles(const GemmKernelConfig &c) {
  GemmKernelConfig large = c, small = c;
  int64_t bytes = bytesOf(c.aType);
  large.bm = 128, large.bn = 128, large.bk = 64 / bytes;
  large.warpsM = 2, large.warpsN = 4, large.stages = 4;
  small.bm = 16, small.bn = 64, small.bk = 128 / bytes;
  small.warpsM = 1, small.warpsN = 4, small.stages = 4;
  if (c.kind == GemmKind::QLinear && c.group) {
    large.bn = 64;
    if (c.group % small.bk)
      small.bk = 32;
  }
  return {large, small};
}

/// A `tiles=gemm:MxNxKxS` request as the conversion applies it
/// (applyRequestedTile): 2 x 4 warps, fewer where the tile is narrow.
GemmKernelConfig withTile(GemmKernelConfig c, int64_t m, int64_t n, int64_t k,
                          int64_t stages) {
  c.bm = m, c.bn = n, c.bk = k, c.stages = stages;
  c.warpsM = m % 32 == 0 ? 2 : 1;
  c.warpsN = n % 64 == 0 ? 4 : n % 32 == 0 ? 2 : 1;
  return c;
}

/// Whether the conversion takes a requested tile for `c` (the kernel's
/// check(), at most 128 accumulators a thread, the H100's shared memory).
bool accepted(const GemmKernelConfig &c) {
  int64_t accumulators = (c.bm / c.warpsM / 16) * (c.bn / c.warpsN / 8) * 4 *
                         (c.group ? 2 : 1);
  return c.bm % 16 == 0 && c.bn % 16 == 0 && accumulators <= 128 &&
         c.check().empty() && c.sharedBytes() <= 227 * 1024;
}

GemmKernelConfig gemm(GemmKind kind, std::string a, std::string b,
                      std::string y, std::string bias = "",
                      std::string scale = "f32", int64_t group = 0) {
  GemmKernelConfig c;
  c.kind = kind;
  c.aType = a;
  c.bType = b;
  c.yType = y;
  c.biasType = bias;
  c.scaleType = scale;
  c.group = group;
  return c;
}

/// Every element-type combination the conversion hands to the GEMM kernel,
/// with and without bias and with every result type (bias and result types
/// that do not change the kernel's structure rotate through the
/// quantized combinations instead of multiplying them).
std::vector<GemmKernelConfig> typeCombinations() {
  std::vector<GemmKernelConfig> out;
  // loom.linear: bf16/f16, the bias and result of x's type.
  for (const char *t : {"bf16", "f16"})
    for (std::string bias : {std::string(), std::string(t)})
      out.push_back(gemm(GemmKind::Linear, t, t, t, bias));
  // loom.qlinear: i8/i4 weights, any float scales, per channel or in groups
  // of a multiple of 32.
  int n = 0;
  for (const char *x : {"bf16", "f16"})
    for (const char *w : {"i8", "i4"})
      for (const char *s : kFloats)
        for (int64_t group : {0, 32, 64, 128, 256}) {
          out.push_back(gemm(GemmKind::QLinear, x, w, kFloats[n % 3],
                             kBiases[n % 4], s, group));
          ++n;
        }
  for (const char *bias : kBiases)
    for (const char *y : kFloats)
      out.push_back(gemm(GemmKind::QLinear, "bf16", "i4", y, bias, "bf16", 128));
  // loom.qmatmul: i8 x i8 and fp8 x fp8.
  for (const char *q : {"i8", "f8E4M3FN"})
    for (const char *bias : kBiases)
      for (const char *y : kFloats)
        out.push_back(gemm(GemmKind::QMatmul, q, q, y, bias));
  return out;
}

/// Representatives of every operand path (16-bit, i8 and i4 weights, s8,
/// fp8; grouped scales) for the configs multiplied by other choices.
std::vector<GemmKernelConfig> representatives() {
  return {gemm(GemmKind::Linear, "bf16", "bf16", "bf16", "bf16"),
          gemm(GemmKind::Linear, "f16", "f16", "f16"),
          gemm(GemmKind::QLinear, "bf16", "i8", "bf16", "f32", "f32"),
          gemm(GemmKind::QLinear, "f16", "i8", "f16", "", "f16", 64),
          gemm(GemmKind::QLinear, "bf16", "i4", "f32", "bf16", "bf16", 128),
          gemm(GemmKind::QLinear, "f16", "i4", "f16", "", "f32"),
          gemm(GemmKind::QMatmul, "i8", "i8", "bf16", "f32"),
          gemm(GemmKind::QMatmul, "f8E4M3FN", "f8E4M3FN", "f16")};
}

/// The epilogues a fusion group can ask for (Gemm.cpp's epilogueStep).
std::vector<std::vector<EpilogueStep>> epilogues() {
  return {{{Step::Silu, ""}},
          {{Step::Gelu, ""}},
          {{Step::GeluTanh, ""}},
          {{Step::AddTensor, "bf16"}},
          {{Step::AddTensor, "f32"}},
          {{Step::MulTensor, "f16"}},
          {{Step::Silu, ""}, {Step::MulTensor, "bf16"}, {Step::AddTensor, "f32"}}};
}

/// Representatives on `tiles=gemm:MxNxKxS` requests, among them the two of
/// scripts/ptx-snapshot.sh; the ones the conversion refuses for a config
/// (too many accumulators, K tiles of the wrong width) are left out.
std::vector<GemmKernelConfig> requestedTileConfigs() {
  const int64_t tiles[][4] = {{64, 64, 32, 3},  {64, 256, 32, 2},
                              {128, 128, 64, 4}, {256, 128, 32, 3},
                              {32, 32, 32, 2},  {16, 16, 32, 2},
                              {16, 64, 64, 4},  {48, 80, 32, 2},
                              {128, 64, 32, 5}, {64, 32, 128, 3}};
  std::vector<GemmKernelConfig> out;
  for (const GemmKernelConfig &c : representatives())
    for (auto &t : tiles) {
      GemmKernelConfig r = withTile(c, t[0], t[1], t[2], t[3]);
      if (accepted(r))
        out.push_back(r);
    }
  return out;
}

/// Horizontal fusion (QKV-like) of 2 and 3 parts, default and requested
/// tiles.
std::vector<GemmKernelConfig> partConfigs() {
  std::vector<GemmKernelConfig> out;
  for (GemmKernelConfig c : representatives())
    for (int64_t parts : {2, 3}) {
      c.parts = parts;
      out.push_back(defaultTiles(c).first);
      out.push_back(withTile(c, 64, 64, 32, 3));
    }
  return out;
}

/// Gated pairs (SwiGLU, GeGLU) on the conversion's gated tiles (half the
/// columns, and half the rows for M <= 512), also with an epilogue after
/// the gating (a residual add).
std::vector<GemmKernelConfig> gatedConfigs() {
  std::vector<GemmKernelConfig> out;
  for (GemmKernelConfig c : representatives())
    for (Step gate : {Step::Silu, Step::Gelu, Step::GeluTanh}) {
      c.parts = 2;
      c.gate = gate;
      GemmKernelConfig large = defaultTiles(c).first;
      large.bn = 64;
      out.push_back(large);
      large.bm = 64;
      out.push_back(large);
      large.epilogue = {{Step::AddTensor, "bf16"}};
      out.push_back(large);
    }
  return out;
}

/// Every fused epilogue on both default tiles of `configs`.
std::vector<GemmKernelConfig>
epilogueConfigs(const std::vector<GemmKernelConfig> &configs) {
  std::vector<GemmKernelConfig> out;
  for (const GemmKernelConfig &c : configs)
    for (const std::vector<EpilogueStep> &epilogue : epilogues()) {
      auto [large, small] = defaultTiles(c);
      large.epilogue = small.epilogue = epilogue;
      out.push_back(large);
      out.push_back(small);
    }
  return out;
}

void expectBuilds(const GemmKernelConfig &c) {
  ASSERT_EQ(c.check(), "") << c.kernelName();
  EXPECT_EQ(loom::test::buildAndCheck(c.kernelName(),
                                      [&](ModuleOp m, Location loc) {
                                        return loom::gpu::buildGemmKernel(
                                            m, loc, c);
                                      }),
            "")
      << c.kernelName();
}

void expectBuilds(const GemvKernelConfig &c) {
  ASSERT_EQ(c.check(), "") << c.kernelName();
  EXPECT_EQ(loom::test::buildAndCheck(c.kernelName(),
                                      [&](ModuleOp m, Location loc) {
                                        return loom::gpu::buildGemvKernel(
                                            m, loc, c);
                                      }),
            "")
      << c.kernelName();
}

TEST(GemmKernels, EveryTypeCombinationOnTheDefaultTiles) {
  std::vector<GemmKernelConfig> combos = typeCombinations();
  EXPECT_EQ(combos.size(), 4u + 60u + 12u + 24u);
  for (const GemmKernelConfig &c : combos) {
    auto [large, small] = defaultTiles(c);
    expectBuilds(large);
    expectBuilds(small);
  }
}

TEST(GemmKernels, RequestedTiles) {
  std::vector<GemmKernelConfig> configs = requestedTileConfigs();
  EXPECT_GE(configs.size(), 60u);
  for (const GemmKernelConfig &c : configs)
    expectBuilds(c);
  // Every operand path takes the snapshot's first tile set.
  for (const GemmKernelConfig &c : representatives())
    EXPECT_TRUE(accepted(withTile(c, 64, 64, 32, 3))) << c.kernelName();
}

TEST(GemmKernels, HorizontalParts) {
  for (const GemmKernelConfig &c : partConfigs())
    expectBuilds(c);
}

TEST(GemmKernels, GatedPairs) {
  for (const GemmKernelConfig &c : gatedConfigs())
    expectBuilds(c);
}

TEST(GemmKernels, FusedEpilogues) {
  for (const GemmKernelConfig &c : epilogueConfigs(representatives()))
    expectBuilds(c);
}

TEST(GemmKernels, CheckRefusesWhatTheKernelCannotBuild) {
  GemmKernelConfig c = gemm(GemmKind::Linear, "bf16", "bf16", "bf16");
  EXPECT_EQ(c.check(), "");
  GemmKernelConfig rows = c;
  rows.bm = 48; // 2 warps of 24 rows
  EXPECT_NE(rows.check(), "");
  EXPECT_NE(withTile(c, 64, 64, 8, 4).check(), "");  // 16 bytes of K
  EXPECT_NE(withTile(c, 64, 64, 32, 1).check(), ""); // one stage
  GemmKernelConfig q = gemm(GemmKind::QLinear, "bf16", "i4", "bf16", "", "f32",
                            48);
  EXPECT_NE(q.check(), ""); // groups of 48 with K tiles of 32
  GemmKernelConfig parts = c;
  parts.parts = 2;
  parts.epilogue = {{Step::Silu, ""}};
  EXPECT_NE(parts.check(), ""); // a horizontal product takes no epilogue
  GemmKernelConfig mixed = gemm(GemmKind::QMatmul, "i8", "f8E4M3FN", "f32");
  EXPECT_NE(mixed.check(), "");
}

//===----------------------------------------------------------------------===//
// GEMV
//===----------------------------------------------------------------------===//

/// The GEMV configs of every element-type combination the conversion hands
/// to it (loom.linear bf16/f16; loom.qlinear with i8/i4 weights, float
/// scales per channel or in groups of a multiple of 128), on the measured
/// schedule, with both row-half counts.
std::vector<GemvKernelConfig> gemvCombinations() {
  std::vector<GemvKernelConfig> out;
  auto add = [&](GemvKernelConfig c) {
    c.chooseSchedule();
    for (int64_t halves : {1, 2}) {
      c.rowHalves = halves;
      out.push_back(c);
    }
  };
  for (const char *t : {"bf16", "f16"})
    for (std::string bias : {std::string(), std::string(t)}) {
      GemvKernelConfig c;
      c.xType = c.wType = c.yType = t;
      c.biasType = bias;
      add(c);
    }
  int n = 0;
  for (const char *x : {"bf16", "f16"})
    for (const char *w : {"i8", "i4"})
      for (const char *s : kFloats)
        for (int64_t group : {0, 128, 256}) {
          GemvKernelConfig c;
          c.qlinear = true;
          c.xType = x;
          c.wType = w;
          c.scaleType = s;
          c.group = group;
          c.biasType = kBiases[n % 4];
          c.yType = kFloats[n % 3];
          add(c);
          ++n;
        }
  return out;
}

/// Other warp / tile / unroll counts, both weight-load forms and both
/// register pipeline depths, for each weight type (grouped and per-channel
/// scales for the quantized ones: depth 2 carries the group scales).
std::vector<GemvKernelConfig> gemvSchedules() {
  std::vector<GemvKernelConfig> out;
  const int64_t schedules[][3] = {{4, 1, 1}, {8, 2, 2}, {16, 4, 1}, {2, 8, 4}};
  for (const char *w : {"bf16", "f16", "i8", "i4"}) {
    GemvKernelConfig c;
    bool quantized = std::string(w) == "i8" || std::string(w) == "i4";
    c.qlinear = quantized;
    c.xType = quantized ? "f16" : w;
    c.wType = w;
    c.yType = "bf16";
    for (int64_t group : {0, 128}) {
      if (group && !quantized)
        continue;
      c.group = group;
      for (auto &s : schedules)
        for (bool stream : {false, true})
          for (int64_t depth : {1, 2}) {
            c.warps = s[0];
            c.tiles = s[1];
            c.unroll = s[2];
            c.streamLoads = stream;
            c.depth = depth;
            out.push_back(c);
          }
    }
  }
  return out;
}

/// Every fused epilogue on the combinations with f32 (or no) scales.
std::vector<GemvKernelConfig> gemvEpilogues() {
  std::vector<GemvKernelConfig> out;
  for (const GemvKernelConfig &base : gemvCombinations()) {
    if (base.rowHalves != 2 || (base.qlinear && base.scaleType != "f32"))
      continue;
    for (const std::vector<EpilogueStep> &epilogue : epilogues()) {
      GemvKernelConfig c = base;
      c.epilogue = epilogue;
      out.push_back(c);
    }
  }
  return out;
}

TEST(GemvKernels, EveryTypeCombination) {
  std::vector<GemvKernelConfig> combos = gemvCombinations();
  EXPECT_EQ(combos.size(), 2u * (4 + 36));
  for (const GemvKernelConfig &c : combos)
    expectBuilds(c);
}

TEST(GemvKernels, Schedules) {
  for (const GemvKernelConfig &c : gemvSchedules())
    expectBuilds(c);
}

TEST(GemvKernels, FusedEpilogues) {
  for (const GemvKernelConfig &c : gemvEpilogues())
    expectBuilds(c);
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

std::string stepsKey(const std::vector<EpilogueStep> &steps) {
  std::ostringstream os;
  for (const EpilogueStep &s : steps)
    os << static_cast<int>(s.kind) << ":" << s.tensorType << ",";
  return os.str();
}

/// Every field of a config (what makes two configs different kernels).
std::string key(const GemmKernelConfig &c) {
  std::ostringstream os;
  os << static_cast<int>(c.kind) << "|" << c.aType << "|" << c.bType << "|"
     << (c.kind == GemmKind::QLinear ? c.scaleType : "") << "|" << c.biasType
     << "|" << c.yType << "|" << c.group << "|" << c.parts << "|"
     << (c.gate ? static_cast<int>(*c.gate) : -1) << "|" << stepsKey(c.epilogue)
     << "|" << c.bm << "x" << c.bn << "x" << c.bk << "|" << c.warpsM << "x"
     << c.warpsN << "|" << c.stages;
  return os.str();
}

std::string key(const GemvKernelConfig &c) {
  std::ostringstream os;
  os << c.qlinear << "|" << c.xType << "|" << c.wType << "|"
     << (c.qlinear ? c.scaleType : "") << "|" << c.biasType << "|" << c.yType
     << "|" << c.group << "|" << c.rowHalves << "|" << c.warps << "x"
     << c.tiles << "x" << c.unroll << "x" << c.depth << "|" << c.streamLoads
     << "|" << stepsKey(c.epilogue);
  return os.str();
}

/// Kernels are shared by name: two configs that differ in any field must
/// never share one.
template <typename Config>
void expectNamesEncodeEveryChoice(const std::vector<Config> &configs) {
  std::map<std::string, std::string> keyOfName;
  std::set<std::string> keys;
  for (const Config &c : configs) {
    keys.insert(key(c));
    auto [it, inserted] = keyOfName.emplace(c.kernelName(), key(c));
    EXPECT_EQ(it->second, key(c)) << "two configs named " << c.kernelName();
  }
  EXPECT_EQ(keyOfName.size(), keys.size());
}

TEST(GemmKernels, NamesEncodeEveryChoice) {
  // Every config the tests above build, and every type combination on both
  // default tiles with every epilogue.
  std::vector<GemmKernelConfig> configs;
  for (const GemmKernelConfig &c : typeCombinations()) {
    auto [large, small] = defaultTiles(c);
    configs.push_back(large);
    configs.push_back(small);
  }
  for (auto more : {requestedTileConfigs(), partConfigs(), gatedConfigs(),
                    epilogueConfigs(typeCombinations())})
    configs.insert(configs.end(), more.begin(), more.end());
  EXPECT_GT(configs.size(), 1000u);
  expectNamesEncodeEveryChoice(configs);
}

TEST(GemvKernels, NamesEncodeEveryChoice) {
  std::vector<GemvKernelConfig> configs;
  for (auto more : {gemvCombinations(), gemvSchedules(), gemvEpilogues()})
    configs.insert(configs.end(), more.begin(), more.end());
  for (GemvKernelConfig c : gemvCombinations())
    for (bool stream : {false, true})
      for (const std::vector<EpilogueStep> &epilogue : epilogues()) {
        c.streamLoads = stream;
        c.epilogue = epilogue;
        configs.push_back(c);
      }
  EXPECT_GT(configs.size(), 1000u);
  expectNamesEncodeEveryChoice(configs);
}

} // namespace
