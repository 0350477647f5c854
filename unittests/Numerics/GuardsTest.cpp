// Numerical guards on the CPU path: inputs at the edges of what the ops
// accept (rows that see no key, zero scales, scores far beyond a softcap,
// +-1e4 activations, rows of 65536 elements with a large mean), each
// compared with the double-precision references and checked to be finite.
// docs/reliability.md ("Numerical guards") lists each guard and its test.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

std::string f32Attr(const char *name, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s = %.9e : f32", name, value);
  return buffer;
}

/// Expects `got` finite, within `tolerance` of `want` (relative 2-norm), and
/// exactly 0 wherever `want` is (rows without a visible key, zero scales).
void expectGuarded(const Tensor &got, const Tensor &want, double tolerance) {
  ASSERT_EQ(got.shape, want.shape);
  EXPECT_TRUE(allFinite(got));
  EXPECT_LT(relativeError(got, want), tolerance);
  int64_t wrongZeros = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    wrongZeros += want.data[i] == 0.0 && got.data[i] != 0.0;
  EXPECT_EQ(wrongZeros, 0) << "elements that must be exactly 0";
}

/// `x` (already rounded to `type`) times `factor`, rounded to `type`.
Tensor scaled(const std::string &type, Tensor x, double factor) {
  for (double &v : x.data)
    v *= factor;
  return roundedTo(type, std::move(x));
}

//===----------------------------------------------------------------------===//
// Rows that see no key
//===----------------------------------------------------------------------===//

// select_blocks under causal with Sq > Skv: the leading query blocks have no
// candidate, so their layout rows are all false, and block_sparse_attention
// (not causal: only the layout masks) gives those rows zeros, not NaN. topk
// covers every candidate, so the layout does not hinge on near-ties.
TEST(Guards, SelectBlocksEmptyLayoutRowsGiveZeros) {
  const int64_t B = 1, Hq = 4, Hkv = 2, Sq = 50, Skv = 21, D = 16, bq = 8,
                bk = 4;
  const int64_t nqb = 7, nkb = 6;
  std::string qt = tensorType({B, Hq, Sq, D}, "f32"),
              kt = tensorType({B, Hkv, Skv, D}, "f32"),
              lt = tensorType({B, Hq, nqb, nkb}, "i1");
  std::string src =
      "func.func @f(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ") -> (" +
      lt + ", " + qt + ") {\n"
      "  %l = loom.select_blocks %q, %k {block_q = 8 : i64, block_k = 4 : i64,"
      " topk = 6 : i64, causal} : (" + qt + ", " + kt + ") -> " + lt + "\n"
      "  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 8 : i64,"
      " block_k = 4 : i64} : (" + qt + ", " + kt + ", " + kt + ", " + lt +
      ") -> " + qt + "\n"
      "  return %l, %o : " + lt + ", " + qt + "\n}\n";
  Tensor q = randomTensor("f32", {B, Hq, Sq, D}, 1);
  Tensor k = randomTensor("f32", {B, Hkv, Skv, D}, 2);
  Tensor v = randomTensor("f32", {B, Hkv, Skv, D}, 3);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor layout = ref::selectBlocks(q, k, bq, bk, 6, /*causal=*/true);
  EXPECT_EQ(relativeError((*out)[0], layout), 0.0);
  // Blocks 0..3 end at rows 7, 15, 23, 31, aligned to -22, -14, -6, 2: the
  // first three see nothing.
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t j = 0; j < nkb; ++j)
      for (int64_t i = 0; i < 3; ++i)
        EXPECT_EQ((*out)[0].at({0, h, i, j}), 0.0);
  Tensor want = ref::blockSparseAttention(q, k, v, layout, bq, bk);
  expectGuarded((*out)[1], want, tolerance("f32"));
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < 3 * bq; ++i)
      EXPECT_EQ((*out)[1].at({0, h, i, 0}), 0.0) << "row " << i;
}

//===----------------------------------------------------------------------===//
// Large scores, softcap, masked rows together
//===----------------------------------------------------------------------===//

struct ScoreCase {
  std::string name, type;
  int64_t Hq, Hkv, Sq, Skv, D;
  double range; // q and k uniform in [-range, range)
  bool causal = false;
  std::optional<int64_t> window;
  std::optional<double> softcap;
  bool blockSparse = false;
};

void PrintTo(const ScoreCase &c, std::ostream *os) { *os << c.name; }

class LargeScores : public ::testing::TestWithParam<ScoreCase> {};

// q, k of +-1e4 in bf16 give scores of about 1e8 * D before scaling: the
// softmax must subtract the row maximum (else exp overflows to inf and
// inf / inf = NaN), a softcap must saturate to +-c, and rows without a
// visible key (causal with Sq > Skv, window, an empty layout row) stay zeros.
TEST_P(LargeScores, FiniteAndMatchReference) {
  const ScoreCase &c = GetParam();
  std::vector<int64_t> qs{1, c.Hq, c.Sq, c.D}, ks{1, c.Hkv, c.Skv, c.D},
      rs{1, c.Hq, c.Sq, c.D};
  std::vector<std::string> attrs;
  if (c.blockSparse)
    attrs.push_back("block_q = 16 : i64, block_k = 16 : i64");
  if (c.causal)
    attrs.push_back("causal");
  if (c.window)
    attrs.push_back("window = " + std::to_string(*c.window) + " : i64");
  if (c.softcap)
    attrs.push_back(f32Attr("softcap", *c.softcap));
  std::string attrText = "{";
  for (size_t i = 0; i < attrs.size(); ++i)
    attrText += (i ? ", " : "") + attrs[i];
  attrText += "}";
  std::vector<std::string> args{tensorType(qs, c.type), tensorType(ks, c.type),
                                tensorType(ks, c.type)};
  Tensor q = scaled(c.type, randomTensor(c.type, qs, 11), c.range);
  Tensor k = scaled(c.type, randomTensor(c.type, ks, 12), c.range);
  Tensor v = randomTensor(c.type, ks, 13);
  std::vector<Tensor> inputs{q, k, v};
  Tensor layout;
  if (c.blockSparse) {
    int64_t nqb = (c.Sq + 15) / 16, nkb = (c.Skv + 15) / 16;
    layout = randomInts({1, 1, nqb, nkb}, 14, 0, 1);
    for (int64_t j = 0; j < nkb; ++j) {
      layout.at({0, 0, 1, j}) = 0; // query block 1 sees nothing
      layout.at({0, 0, 0, j}) = j == 0;
    }
    args.push_back(tensorType(layout.shape, "i1"));
    inputs.push_back(layout);
  }
  std::string src =
      oneOp(c.blockSparse ? "loom.block_sparse_attention" : "loom.attention",
            args, attrText, tensorType(rs, c.type));
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor want =
      c.blockSparse
          ? ref::blockSparseAttention(q, k, v, layout, 16, 16, c.causal,
                                      std::nullopt, c.softcap)
          : ref::attention(q, k, v, c.causal, std::nullopt, c.window,
                           c.softcap);
  expectGuarded((*out)[0], want, tolerance(c.type));
}

ScoreCase scoreCase(std::string name, std::string type, int64_t Hq,
                    int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D,
                    double range) {
  ScoreCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = D, c.range = range;
  return c;
}

std::vector<ScoreCase> scoreCases() {
  std::vector<ScoreCase> cs;
  cs.push_back(scoreCase("BF16Plain", "bf16", 2, 1, 33, 47, 64, 1e4));
  auto causal = scoreCase("BF16CausalSqGreaterSkv", "bf16", 4, 2, 40, 23, 32, 1e4);
  causal.causal = true;
  cs.push_back(causal);
  auto window = scoreCase("BF16WindowSqGreaterSkv", "bf16", 2, 2, 37, 30, 16, 1e4);
  window.causal = true;
  window.window = 5;
  cs.push_back(window);
  auto cap = scoreCase("BF16Softcap30", "bf16", 2, 1, 33, 47, 64, 1e4);
  cap.softcap = 30.0;
  cs.push_back(cap);
  auto capCausal = scoreCase("F32SoftcapCausal", "f32", 2, 2, 29, 29, 16, 1e4);
  capCausal.causal = true;
  capCausal.softcap = 5.0;
  cs.push_back(capCausal);
  auto f16 = scoreCase("F16Window", "f16", 2, 1, 25, 25, 16, 100.0);
  f16.causal = true;
  f16.window = 3;
  cs.push_back(f16);
  auto sparse = scoreCase("BF16BlockSparseSoftcap", "bf16", 2, 1, 45, 40, 32, 1e4);
  sparse.blockSparse = true;
  sparse.softcap = 30.0;
  cs.push_back(sparse);
  auto sparseCausal =
      scoreCase("BF16BlockSparseCausal", "bf16", 2, 2, 50, 35, 32, 1e4);
  sparseCausal.blockSparse = true;
  sparseCausal.causal = true;
  cs.push_back(sparseCausal);
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, LargeScores, ::testing::ValuesIn(scoreCases()),
                         [](const auto &info) { return info.param.name; });

//===----------------------------------------------------------------------===//
// Zero scales
//===----------------------------------------------------------------------===//

// All-zero rows through quantize (s = 0 must not divide 0 by 0) and on into
// qmatmul: those rows are exactly the bias.
TEST(Guards, ZeroRowsQuantizeThenQMatmulGiveBias) {
  for (std::string q : {"i8", "f8E4M3FN"}) {
    SCOPED_TRACE(q);
    std::string xt = "tensor<6x40xbf16>", qt = "tensor<6x40x" + q + ">",
                wt = "tensor<9x40x" + q + ">";
    std::string src =
        "func.func @f(%x: " + xt + ", %w: " + wt +
        ", %ws: tensor<9xf32>, %b: tensor<9xbf16>) -> (" + qt +
        ", tensor<6xf32>, tensor<6x9xbf16>) {\n"
        "  %xq, %xs = loom.quantize %x : (" + xt + ") -> (" + qt +
        ", tensor<6xf32>)\n"
        "  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (" + qt +
        ", tensor<6xf32>, " + wt +
        ", tensor<9xf32>, tensor<9xbf16>) -> tensor<6x9xbf16>\n"
        "  return %xq, %xs, %y : " + qt + ", tensor<6xf32>, tensor<6x9xbf16>\n}\n";
    Tensor x = randomTensor("bf16", {6, 40}, 21, -3.0, 3.0);
    for (int64_t r : {0, 3, 5})
      for (int64_t c = 0; c < 40; ++c)
        x.at({r, c}) = 0.0;
    Tensor w = q == "i8" ? randomInts({9, 40}, 22, -127, 127)
                         : randomTensor(q, {9, 40}, 22, -2.0, 2.0);
    Tensor ws = randomTensor("f32", {9}, 23, 1e-3, 1e-2);
    Tensor b = randomTensor("bf16", {9}, 24);
    auto out = runOnCPU(src, "f", {x, w, ws, b});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    ref::Quantized want = ref::quantize(
        x, q == "i8" ? ref::QuantKind::I8 : ref::QuantKind::F8E4M3FN);
    EXPECT_TRUE(allFinite((*out)[0]));
    EXPECT_TRUE(allFinite((*out)[1]));
    for (int64_t r : {0, 3, 5}) {
      EXPECT_EQ((*out)[1].at({r}), 0.0);
      for (int64_t c = 0; c < 40; ++c)
        EXPECT_EQ((*out)[0].at({r, c}), 0.0);
      for (int64_t n = 0; n < 9; ++n)
        EXPECT_EQ((*out)[2].at({r, n}), b.at({n})) << "row " << r;
    }
    EXPECT_LT(relativeError((*out)[1], want.xs), 1e-6);
    Tensor y = ref::qmatmul((*out)[0], (*out)[1], w, ws, &b);
    expectGuarded((*out)[2], roundedTo("bf16", y), tolerance("bf16"));
  }
}

// qlinear with zero scales (whole channels, single groups) and qmatmul with
// zero activation and weight scales: those outputs are exactly the bias.
TEST(Guards, ZeroScalesGiveBias) {
  const int64_t M = 5, N = 7, K = 64, G = 16;
  Tensor x = randomTensor("bf16", {M, K}, 31, -2.0, 2.0);
  Tensor w = randomInts({N, K}, 32, -8, 7);
  Tensor b = randomTensor("bf16", {N}, 33);
  Tensor perChannel = randomTensor("f32", {N}, 34, 0.01, 0.1);
  perChannel.at({2}) = perChannel.at({6}) = 0.0;
  Tensor grouped = randomTensor("f32", {N, K / G}, 35, 0.01, 0.1);
  for (int64_t g = 0; g < K / G; ++g)
    grouped.at({4, g}) = 0.0; // channel 4: every group
  grouped.at({1, 2}) = 0.0;   // channel 1: one group
  std::string xt = tensorType({M, K}, "bf16"), wt = tensorType({N, K}, "i4"),
              bt = tensorType({N}, "bf16"), yt = tensorType({M, N}, "bf16");
  for (bool group : {false, true}) {
    SCOPED_TRACE(group ? "group-wise" : "per-channel");
    const Tensor &s = group ? grouped : perChannel;
    std::string st = tensorType(s.shape, "f32");
    std::string src = oneOp("loom.qlinear", {xt, wt, st, bt},
                            group ? "{group_size = 16 : i64}" : "", yt);
    auto out = runOnCPU(src, "f", {x, w, s, b});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    Tensor want = roundedTo("bf16", ref::qlinear(x, w, s, &b, group ? G : 0));
    expectGuarded((*out)[0], want, tolerance("bf16"));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n : group ? std::vector<int64_t>{4}
                             : std::vector<int64_t>{2, 6})
        EXPECT_EQ((*out)[0].at({m, n}), b.at({n}));
  }

  Tensor xq = randomInts({M, K}, 36, -127, 127);
  Tensor wq = randomInts({N, K}, 37, -127, 127);
  Tensor xs = randomTensor("f32", {M}, 38, 1e-3, 1e-2);
  Tensor ws = randomTensor("f32", {N}, 39, 1e-3, 1e-2);
  xs.at({1}) = 0.0;
  ws.at({3}) = 0.0;
  std::string src = oneOp(
      "loom.qmatmul",
      {tensorType({M, K}, "i8"), tensorType({M}, "f32"),
       tensorType({N, K}, "i8"), tensorType({N}, "f32"), bt},
      "", yt);
  auto out = runOnCPU(src, "f", {xq, xs, wq, ws, b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  expectGuarded((*out)[0], roundedTo("bf16", ref::qmatmul(xq, xs, wq, ws, &b)),
                tolerance("bf16"));
  for (int64_t n = 0; n < N; ++n)
    EXPECT_EQ((*out)[0].at({1, n}), b.at({n}));
  for (int64_t m = 0; m < M; ++m)
    EXPECT_EQ((*out)[0].at({m, 3}), b.at({3}));
}

//===----------------------------------------------------------------------===//
// Norms: large values, long rows, large mean with small variance
//===----------------------------------------------------------------------===//

struct NormCase {
  std::string type;
  int64_t rows, channels;
  double mean, spread; // x = mean + spread * u, u uniform in [-1, 1)
  bool gaussian = false; // u standard normal instead
};

std::string normName(const ::testing::TestParamInfo<NormCase> &info) {
  const NormCase &c = info.param;
  return c.type + "_" + std::to_string(c.rows) + "x" +
         std::to_string(c.channels) + "_mean" +
         std::to_string(static_cast<int64_t>(c.mean)) + "_spread" +
         std::to_string(static_cast<int64_t>(c.spread)) +
         (c.gaussian ? "_normal" : "");
}

class NormGuards : public ::testing::TestWithParam<NormCase> {};

// rms_norm and layer_norm over long rows (65536 and a ragged 65537) and rows
// of a large mean with unit variance (1e4 + N(0, 1)), where E[x^2] - E[x]^2
// cancels catastrophically and even the f32 mean itself is off by half an
// ulp of 1e4 (5e-4, i.e. 5e-4 of the unit deviation).
TEST_P(NormGuards, MatchReference) {
  const NormCase &c = GetParam();
  std::vector<int64_t> shape{c.rows, c.channels};
  std::string t = tensorType({-1, c.channels}, c.type),
              pt = tensorType({c.channels}, c.type);
  std::string src =
      "func.func @f(%x: " + t + ", %g: " + pt + ", %b: " + pt + ") -> (" + t +
      ", " + t + ") {\n"
      "  %r = loom.rms_norm %x, %g : (" + t + ", " + pt + ") -> " + t + "\n"
      "  %l = loom.layer_norm %x, %g, %b : (" + t + ", " + pt + ", " + pt +
      ") -> " + t + "\n"
      "  return %r, %l : " + t + ", " + t + "\n}\n";
  Tensor x(shape);
  std::mt19937_64 rng(41);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (double &v : x.data)
    v = roundTo(c.type, c.mean + c.spread * (c.gaussian ? normal(rng)
                                                        : uniform(rng)));
  Tensor g = randomTensor(c.type, {c.channels}, 42, 0.5, 1.5);
  Tensor b = randomTensor(c.type, {c.channels}, 43);
  auto out = runOnCPU(src, "f", {x, g, b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_TRUE(allFinite((*out)[0]));
  EXPECT_TRUE(allFinite((*out)[1]));
  EXPECT_LT(relativeError((*out)[0], ref::rmsNorm(x, g)), tolerance(c.type));
  EXPECT_LT(relativeError((*out)[1], ref::layerNorm(x, g, b)),
            tolerance(c.type));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, NormGuards,
    ::testing::Values(
        NormCase{"bf16", 2, 65536, 0.0, 1e4}, NormCase{"bf16", 2, 65537, 0.0, 1e4},
        NormCase{"f32", 2, 65536, 0.0, 1e4}, NormCase{"f32", 2, 65537, 0.0, 1.0},
        NormCase{"f16", 3, 4097, 0.0, 1e4},
        NormCase{"f32", 2, 65536, 1e4, 1.0, true},
        NormCase{"f32", 2, 65537, 1e4, 1.0, true},
        NormCase{"f32", 5, 7, 1e4, 1.0, true},
        NormCase{"bf16", 3, 4096, 1e4, 1e2, true}),
    normName);

//===----------------------------------------------------------------------===//
// Activations at large magnitudes
//===----------------------------------------------------------------------===//

class ActivationGuards : public ::testing::TestWithParam<std::string> {};

// silu = x / (1 + exp(-x)) with exp(1e4) = inf must give -0, not NaN; gelu's
// tanh form cubes x (1e12; beyond f32 for |x| > 7e12) and must saturate.
TEST_P(ActivationGuards, LargeMagnitudes) {
  const std::string &type = GetParam();
  Tensor x = scaled(type, randomTensor(type, {3, 301}, 51), 1e4);
  // Hand-picked extremes in the last row: the type's limits and around them.
  double limit = type == "f16" ? 65504.0 : type == "bf16" ? 3.38e38 : 3.4e38;
  std::vector<double> extremes{limit, -limit, 1e4, -1e4, 88.0, -88.0,
                               100.0, -100.0, 1e-30, -1e-30, 0.0};
  for (size_t i = 0; i < extremes.size(); ++i)
    x.at({2, static_cast<int64_t>(i)}) = roundTo(type, extremes[i]);
  std::string t = tensorType({3, 301}, type);
  std::string src = "func.func @f(%x: " + t + ") -> (" + t + ", " + t + ", " +
                    t + ") {\n"
                    "  %a = loom.silu %x : (" + t + ") -> " + t + "\n"
                    "  %b = loom.gelu %x : (" + t + ") -> " + t + "\n"
                    "  %c = loom.gelu %x {approximate = \"tanh\"} : (" + t +
                    ") -> " + t + "\n"
                    "  return %a, %b, %c : " + t + ", " + t + ", " + t + "\n}\n";
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  std::vector<Tensor> want{ref::silu(x),
                           ref::gelu(x, ref::GeluApproximation::None),
                           ref::gelu(x, ref::GeluApproximation::Tanh)};
  for (size_t r = 0; r < want.size(); ++r) {
    SCOPED_TRACE(r == 0 ? "silu" : r == 1 ? "gelu" : "gelu tanh");
    Tensor expected = roundedTo(type, want[r]);
    EXPECT_TRUE(allFinite((*out)[r]));
    EXPECT_LT(relativeError((*out)[r], expected), tolerance(type));
    // Element by element: the extremes would vanish in the 2-norm.
    for (int64_t i = 0; i < x.numel(); ++i)
      EXPECT_LE(std::fabs((*out)[r].data[i] - expected.data[i]),
                tolerance(type) * std::fabs(expected.data[i]) + 1e-6)
          << "x = " << x.data[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ActivationGuards,
                         ::testing::Values("f32", "bf16", "f16"));

} // namespace
