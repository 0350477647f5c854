// Numerics of loom-tile's online-softmax attention against the
// double-precision reference: small tiles (so that sizes are ragged against
// them, whole tiles are skipped and diagonal tiles masked), GQA, causal,
// window, softcap, dynamic dims, bf16/f16/f32. The default tiles run through
// AttentionTest.cpp, since the CPU pipeline tiles every attention.
#include "Harness.h"

#include "loom/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

/// `source` after `func.func(loom-tile{tiles=<tiles>})`, printed; the CPU
/// pipeline then finds no attention left to tile with its defaults.
llvm::Expected<std::string> tiled(const std::string &source,
                                  const std::string &tiles) {
  loom::registerAllPasses();
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return llvm::createStringError("parse failed: " + diagnostics);
  mlir::PassManager pm(&context);
  std::string pipeline = "func.func(loom-tile{tiles=" + tiles + "})";
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm)) ||
      mlir::failed(pm.run(*module)))
    return llvm::createStringError(pipeline + " failed: " + diagnostics);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  if (text.find("loom.attention") != std::string::npos)
    return llvm::createStringError("loom.attention left after " + pipeline);
  return text;
}

struct TiledCase {
  std::string name, type, tiles;
  int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
  bool causal = false;
  std::optional<int64_t> window;
  std::optional<double> scale, softcap;
  bool dynamic = false; // every dim of every operand dynamic
  double range = 1.0;   // q and k uniform in [-range, range)
};

void PrintTo(const TiledCase &c, std::ostream *os) { *os << c.name; }

std::string attrs(const TiledCase &c) {
  std::vector<std::string> parts;
  auto number = [](const char *name, double x) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << name << " = " << x << " : f32";
    return s.str();
  };
  if (c.causal)
    parts.push_back("causal");
  if (c.scale)
    parts.push_back(number("scale", *c.scale));
  if (c.window)
    parts.push_back("window = " + std::to_string(*c.window) + " : i64");
  if (c.softcap)
    parts.push_back(number("softcap", *c.softcap));
  std::string r = "{";
  for (size_t i = 0; i < parts.size(); ++i)
    r += (i ? ", " : "") + parts[i];
  return r + "}";
}

class TiledAttention : public ::testing::TestWithParam<TiledCase> {};

TEST_P(TiledAttention, MatchesReference) {
  const TiledCase &c = GetParam();
  std::vector<int64_t> qs{c.B, c.Hq, c.Sq, c.D}, ks{c.B, c.Hkv, c.Skv, c.D},
      vs{c.B, c.Hkv, c.Skv, c.Dv}, rs{c.B, c.Hq, c.Sq, c.Dv};
  auto decl = [&](const std::vector<int64_t> &s) {
    return tensorType(c.dynamic ? std::vector<int64_t>(4, -1) : s, c.type);
  };
  auto src = tiled(oneOp("loom.attention", {decl(qs), decl(ks), decl(vs)},
                         attrs(c), decl(rs)),
                   c.tiles);
  ASSERT_TRUE(static_cast<bool>(src)) << llvm::toString(src.takeError());
  Tensor q = randomTensor(c.type, qs, 501, -c.range, c.range);
  Tensor k = randomTensor(c.type, ks, 502, -c.range, c.range);
  Tensor v = randomTensor(c.type, vs, 503);
  auto out = runOnCPU(*src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 1u);
  const Tensor &o = (*out)[0];
  EXPECT_EQ(o.shape, rs);
  EXPECT_TRUE(allFinite(o));
  Tensor want = ref::attention(q, k, v, c.causal, c.scale, c.window, c.softcap);
  EXPECT_LT(relativeError(o, want), tolerance(c.type));
  // Rows without a visible key are exactly zero, as in the reference.
  int64_t zeros = 0;
  for (int64_t i = 0; i < o.numel(); ++i)
    if (want.data[i] == 0.0) {
      EXPECT_EQ(o.data[i], 0.0) << "element " << i;
      ++zeros;
    }
  if (c.causal && c.Sq > c.Skv)
    EXPECT_GT(zeros, 0) << "the case should have rows without keys";
}

TiledCase tc(std::string name, std::string type, std::string tiles, int64_t B,
             int64_t Hq, int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D,
             int64_t Dv) {
  TiledCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.tiles = std::move(tiles);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = D, c.Dv = Dv;
  return c;
}

std::vector<TiledCase> tiledCases() {
  std::vector<TiledCase> cs;
  // Neither size a multiple of its tile (77 = 2*32 + 13, 93 = 5*16 + 13).
  cs.push_back(tc("RaggedGQA", "f32", "attention:32x16", 2, 4, 2, 77, 93, 16, 8));
  auto causal = tc("RaggedCausal", "f32", "attention:32x16", 1, 4, 2, 77, 93,
                   16, 12);
  causal.causal = true;
  cs.push_back(causal);
  // Sq > Skv: query tiles 0 and 1 (i' < 0) run no key tile at all, tile 2
  // straddles i' = 0.
  auto longQ = tc("CausalSqGreaterSkvSkipsTiles", "f32", "attention:8x16", 2, 2,
                  1, 93, 77, 8, 8);
  longQ.causal = true;
  cs.push_back(longQ);
  // Sq < Skv: every query tile sees Skv - Sq keys beyond its diagonal.
  auto shortQ = tc("CausalSqLessSkv", "f32", "attention:16x16", 1, 3, 3, 21,
                   90, 16, 16);
  shortQ.causal = true;
  cs.push_back(shortQ);
  // A window of 20 with 16-key tiles: each query tile skips the tiles before
  // its window and after its diagonal; rows of one tile have disjoint first
  // keys, so a row's running max stays -inf through tiles it cannot see.
  auto win = tc("WindowSoftcap", "f32", "attention:32x16", 1, 4, 1, 100, 100,
                32, 16);
  win.causal = true;
  win.window = 20;
  win.softcap = 2.0;
  win.range = 2.0;
  cs.push_back(win);
  auto winShort = tc("WindowSqLessSkv", "f32", "attention:8x8", 1, 2, 1, 13,
                     60, 8, 8);
  winShort.causal = true;
  winShort.window = 5;
  cs.push_back(winShort);
  auto winLong = tc("WindowSqGreaterSkv", "f32", "attention:4x4", 1, 2, 2, 30,
                    11, 8, 8);
  winLong.causal = true;
  winLong.window = 3;
  cs.push_back(winLong);
  // A window wider than the keys behaves as causal alone.
  auto winHuge = tc("WindowHuge", "f32", "attention:16x8", 1, 2, 1, 20, 33, 8,
                    8);
  winHuge.causal = true;
  winHuge.window = int64_t{1} << 62;
  cs.push_back(winHuge);
  auto scale = tc("ScaleSoftcapMQA", "f32", "attention:16x32", 2, 3, 1, 40,
                  50, 24, 8);
  scale.scale = -0.4;
  scale.softcap = 1.5;
  scale.range = 3.0;
  cs.push_back(scale);
  // One-row and one-key tiles; tiles larger than the sizes.
  auto unit = tc("UnitTiles", "f32", "attention:1x1", 1, 2, 1, 5, 7, 4, 4);
  unit.causal = true;
  unit.window = 3;
  cs.push_back(unit);
  auto big = tc("TilesLargerThanSizes", "f32", "attention:128x128", 1, 2, 2,
                5, 9, 8, 8);
  big.causal = true;
  cs.push_back(big);
  // Dynamic dims everywhere, including the group size.
  auto dyn = tc("DynamicCausalWindowGQA", "f32", "attention:32x16", 2, 6, 2,
                77, 93, 16, 8);
  dyn.causal = true;
  dyn.window = 40;
  dyn.dynamic = true;
  cs.push_back(dyn);
  auto dynLong = tc("DynamicCausalSqGreaterSkv", "f32", "attention:8x8", 1, 4,
                    4, 37, 12, 8, 8);
  dynLong.causal = true;
  dynLong.dynamic = true;
  cs.push_back(dynLong);
  // Half precision.
  auto bf = tc("BF16RaggedCausalGQA", "bf16", "attention:32x16", 1, 8, 2, 77,
               93, 64, 32);
  bf.causal = true;
  cs.push_back(bf);
  auto bfWin = tc("BF16WindowSoftcap", "bf16", "attention:16x16", 1, 2, 1, 70,
                  70, 16, 16);
  bfWin.causal = true;
  bfWin.window = 13;
  bfWin.softcap = 3.0;
  bfWin.range = 3.0;
  cs.push_back(bfWin);
  auto f16 = tc("F16DynamicCausal", "f16", "attention:16x8", 1, 4, 2, 33, 29,
                16, 8);
  f16.causal = true;
  f16.dynamic = true;
  cs.push_back(f16);
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, TiledAttention,
                         ::testing::ValuesIn(tiledCases()),
                         [](const auto &info) { return info.param.name; });

TEST(TiledAttention, LargeScoresDoNotOverflow) {
  // Scores far beyond exp's f32 range (|s| up to ~2000) and a running max
  // that grows from tile to tile: the rescaling must keep every term finite.
  std::string t = "tensor<1x1x40x8xf32>";
  auto src = tiled(oneOp("loom.attention", {t, t, t}, "{causal, scale = 1.0 : f32}",
                         t),
                   "attention:8x4");
  ASSERT_TRUE(static_cast<bool>(src)) << llvm::toString(src.takeError());
  Tensor q = randomTensor("f32", {1, 1, 40, 8}, 601, -16.0, 16.0);
  Tensor k = randomTensor("f32", {1, 1, 40, 8}, 602, -16.0, 16.0);
  // Keys grow along the sequence, so later tiles raise the running max.
  for (int64_t j = 0; j < 40; ++j)
    for (int64_t d = 0; d < 8; ++d)
      k.at({0, 0, j, d}) += 0.5 * static_cast<double>(j) *
                            (q.at({0, 0, 39, d}) > 0 ? 1.0 : -1.0);
  k = roundedTo("f32", k);
  Tensor v = randomTensor("f32", {1, 1, 40, 8}, 603);
  auto out = runOnCPU(*src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_TRUE(allFinite((*out)[0]));
  Tensor want = ref::attention(q, k, v, true, 1.0);
  EXPECT_LT(relativeError((*out)[0], want), 1e-5);
}

TEST(TiledAttention, StaticZeroHeadDimAveragesVisibleValues) {
  // D = 0 statically: every score is 0, each row is the mean of its visible
  // values (i' = i + 4 under causal), computed without reading q or k.
  std::string qt = "tensor<1x2x5x0xf32>", kt = "tensor<1x1x9x0xf32>",
              vt = "tensor<1x1x9x3xf32>", rt = "tensor<1x2x5x3xf32>";
  auto src = tiled(oneOp("loom.attention", {qt, kt, vt}, "{causal}", rt),
                   "attention:2x4");
  ASSERT_TRUE(static_cast<bool>(src)) << llvm::toString(src.takeError());
  Tensor q({1, 2, 5, 0}), k({1, 1, 9, 0});
  Tensor v = randomTensor("f32", {1, 1, 9, 3}, 604);
  auto out = runOnCPU(*src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t e = 0; e < 3; ++e) {
        double mean = 0;
        for (int64_t j = 0; j <= i + 4; ++j)
          mean += v.at({0, 0, j, e});
        mean /= static_cast<double>(i + 5);
        EXPECT_NEAR((*out)[0].at({0, h, i, e}), mean, 1e-6)
            << h << "," << i << "," << e;
      }
}

TEST(TiledAttention, BadTilesAreReported) {
  std::string t = "tensor<1x1x4x4xf32>";
  auto src = tiled(oneOp("loom.attention", {t, t, t}, "{}", t), "attention:0x8");
  ASSERT_FALSE(static_cast<bool>(src));
  std::string message = llvm::toString(src.takeError());
  EXPECT_NE(message.find("malformed tile 'attention:0x8'"), std::string::npos)
      << message;
}

} // namespace
