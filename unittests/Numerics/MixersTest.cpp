// Numerics of linear_attention, pool_mixer and dwconv on the CPU path against
// the double-precision references, on random inputs with fixed seeds: every
// feature map, decay, normalize, causal and not; pooling borders in 1-D and
// 2-D; centred, causal, long (K = S) and 2-D convolutions; dynamic dims,
// ragged sizes, f32, f16 and bf16.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

/// `shape` with the dims flagged in `dynamic` (a string of 'd' and 's', one
/// per dim; empty means all static) made dynamic.
std::vector<int64_t> declare(std::vector<int64_t> shape,
                             const std::string &dynamic) {
  for (size_t i = 0; i < dynamic.size() && i < shape.size(); ++i)
    if (dynamic[i] == 'd')
      shape[i] = -1;
  return shape;
}

std::string fmtFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9e", v);
  return buf;
}

/// `v` as the f32 the attribute holds.
double asF32(double v) { return static_cast<double>(static_cast<float>(v)); }

//===----------------------------------------------------------------------===//
// linear_attention
//===----------------------------------------------------------------------===//

struct LinearCase {
  std::string name;
  std::string type;
  std::string featureMap; // "identity", "relu", "elu_plus_one"
  bool causal;
  std::vector<double> decay; // empty: none
  double scale;              // 0: attribute absent (default 1)
  bool normalize;
  std::vector<int64_t> qShape; // [B, H, S, Dk]
  int64_t dv;
  std::string dynamic; // per dim of all three operands, e.g. "sdds"
  double lo = -1.0, hi = 1.0;
};

void PrintTo(const LinearCase &c, std::ostream *os) { *os << c.name; }

class LinearAttention : public ::testing::TestWithParam<LinearCase> {};

TEST_P(LinearAttention, MatchesReference) {
  const LinearCase &c = GetParam();
  std::vector<int64_t> vShape = c.qShape;
  vShape[3] = c.dv;
  std::string qt = tensorType(declare(c.qShape, c.dynamic), c.type);
  std::string vt = tensorType(declare(vShape, c.dynamic), c.type);

  std::string attrs;
  auto add = [&](const std::string &a) {
    attrs += (attrs.empty() ? "" : ", ") + a;
  };
  if (c.causal)
    add("causal");
  if (c.featureMap != "identity")
    add("feature_map = \"" + c.featureMap + "\"");
  if (!c.decay.empty()) {
    std::string d = "decay = array<f32: ";
    for (size_t i = 0; i < c.decay.size(); ++i)
      d += (i ? ", " : "") + fmtFloat(c.decay[i]);
    add(d + ">");
  }
  if (c.scale != 0.0)
    add("scale = " + fmtFloat(c.scale) + " : f32");
  if (c.normalize)
    add("normalize");
  std::string src =
      "func.func @f(%q: " + qt + ", %k: " + qt + ", %v: " + vt + ") -> " + vt +
      " {\n  %o = loom.linear_attention %q, %k, %v {" + attrs + "} : (" + qt +
      ", " + qt + ", " + vt + ") -> " + vt + "\n  return %o : " + vt + "\n}\n";

  Tensor q = randomTensor(c.type, c.qShape, 31, c.lo, c.hi);
  Tensor k = randomTensor(c.type, c.qShape, 32, c.lo, c.hi);
  Tensor v = randomTensor(c.type, vShape, 33);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError()) << "\n"
                                      << src;
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, vShape);

  ref::FeatureMap fm = c.featureMap == "relu" ? ref::FeatureMap::Relu
                       : c.featureMap == "elu_plus_one"
                           ? ref::FeatureMap::EluPlusOne
                           : ref::FeatureMap::Identity;
  std::vector<double> decay;
  for (double d : c.decay)
    decay.push_back(asF32(d));
  double scale = c.scale != 0.0 ? asF32(c.scale) : 1.0;
  Tensor expected =
      ref::linearAttention(q, k, v, c.causal, fm, decay, scale, c.normalize);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.type)) << src;
}

INSTANTIATE_TEST_SUITE_P(
    Mixers, LinearAttention,
    ::testing::Values(
        LinearCase{"IdentityFull",
                   "f32",
                   "identity",
                   false,
                   {},
                   0.0,
                   false,
                   {2, 3, 7, 5},
                   6,
                   ""},
        LinearCase{"IdentityCausalScaled",
                   "f32",
                   "identity",
                   true,
                   {},
                   0.37,
                   false,
                   {1, 2, 13, 4},
                   3,
                   ""},
        // Positive q and k keep the identity map's row sums away from 0.
        LinearCase{"IdentityNormalize",
                   "f32",
                   "identity",
                   true,
                   {},
                   0.0,
                   true,
                   {1, 2, 11, 6},
                   5,
                   "",
                   0.0,
                   1.0},
        LinearCase{"ReluCausalNormalize",
                   "f32",
                   "relu",
                   true,
                   {},
                   0.3,
                   true,
                   {1, 2, 13, 8},
                   4,
                   ""},
        LinearCase{"ReluFull",
                   "f32",
                   "relu",
                   false,
                   {},
                   0.0,
                   false,
                   {2, 1, 9, 3},
                   7,
                   ""},
        LinearCase{"EluCausalDecayNormalize",
                   "f32",
                   "elu_plus_one",
                   true,
                   {0.5, 0.1},
                   0.0,
                   true,
                   {2, 2, 9, 4},
                   3,
                   ""},
        LinearCase{"EluFullNormalizeDynamic",
                   "f32",
                   "elu_plus_one",
                   false,
                   {},
                   0.0,
                   true,
                   {1, 3, 100, 16},
                   7,
                   "dddd"},
        LinearCase{"IdentityDecayDynamicHeads",
                   "f32",
                   "identity",
                   true,
                   {0.75, 0.0, 2.0},
                   0.0,
                   false,
                   {2, 3, 11, 4},
                   4,
                   "dds"},
        LinearCase{"ReluDecayNoNormalize",
                   "f32",
                   "relu",
                   true,
                   {0.05, 0.3},
                   0.5,
                   false,
                   {1, 2, 37, 8},
                   5,
                   "ssds"},
        LinearCase{"EluDecayNormalizeBF16",
                   "bf16",
                   "elu_plus_one",
                   true,
                   {0.5, 0.25, 0.125, 0.0},
                   0.0,
                   true,
                   {1, 4, 17, 8},
                   8,
                   "ssds"},
        LinearCase{"IdentityCausalBF16",
                   "bf16",
                   "identity",
                   true,
                   {},
                   0.0,
                   false,
                   {1, 2, 7, 5},
                   5,
                   ""},
        LinearCase{"ReluFullScaledF16",
                   "f16",
                   "relu",
                   false,
                   {},
                   0.125,
                   false,
                   {2, 1, 33, 16},
                   5,
                   "dsds"},
        LinearCase{"EluCausalNormalizeF16",
                   "f16",
                   "elu_plus_one",
                   true,
                   {0.2},
                   0.0,
                   true,
                   {1, 1, 13, 4},
                   3,
                   ""}),
    [](const ::testing::TestParamInfo<LinearCase> &info) {
      return info.param.name;
    });

/// A hand-computed case, independent of the reference: S = 2, Dk = Dv = 1,
/// elu_plus_one, causal, decay 1, normalize.
TEST(LinearAttention, HandComputedDecayAndNormalize) {
  std::string t = "tensor<1x1x2x1xf32>";
  std::string src =
      "func.func @f(%q: " + t + ", %k: " + t + ", %v: " + t + ") -> " + t +
      " {\n  %o = loom.linear_attention %q, %k, %v {causal, "
      "feature_map = \"elu_plus_one\", decay = array<f32: 1.0>, "
      "normalize} : (" +
      t + ", " + t + ", " + t + ") -> " + t + "\n  return %o : " + t + "\n}\n";
  // phi(q) = [2, exp(-1)], phi(k) = [1, 3].
  Tensor q({1, 1, 2, 1}, {1.0, -1.0}), k({1, 1, 2, 1}, {0.0, 2.0}),
      v({1, 1, 2, 1}, {10.0, 20.0});
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  double e = std::exp(-1.0);
  // o_0 = w00 v0 / (w00 + eps), w00 = 2 * 1.
  double o0 = 2.0 * 10.0 / (2.0 + 1e-6);
  // w10 = e * 1 * exp(-1), w11 = e * 3.
  double w10 = e * e, w11 = 3.0 * e;
  double o1 = (w10 * 10.0 + w11 * 20.0) / (w10 + w11 + 1e-6);
  EXPECT_NEAR((*out)[0].data[0], o0, 1e-4);
  EXPECT_NEAR((*out)[0].data[1], o1, 1e-4);
}

/// The 1e-6 of `normalize` matters where the weights are tiny: q = k = -8
/// under elu_plus_one gives w = exp(-16) ~ 1.1e-7 and o = v w / (w + 1e-6).
TEST(LinearAttention, NormalizeEpsilonWithTinyWeights) {
  std::string t = "tensor<1x1x1x1xf32>";
  std::string src =
      "func.func @f(%q: " + t + ", %k: " + t + ", %v: " + t + ") -> " + t +
      " {\n  %o = loom.linear_attention %q, %k, %v {causal, "
      "feature_map = \"elu_plus_one\", normalize} : (" +
      t + ", " + t + ", " + t + ") -> " + t + "\n  return %o : " + t + "\n}\n";
  Tensor q({1, 1, 1, 1}, {-8.0}), k({1, 1, 1, 1}, {-8.0}),
      v({1, 1, 1, 1}, {5.0});
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  double w = std::exp(-16.0);
  EXPECT_NEAR((*out)[0].data[0], 5.0 * w / (w + 1e-6), 1e-5);
}

//===----------------------------------------------------------------------===//
// pool_mixer
//===----------------------------------------------------------------------===//

struct PoolCase {
  std::string name;
  std::string type;
  std::vector<int64_t> shape;
  int64_t kernel; // 0: attribute absent (default 3)
  std::string dynamic;
};

void PrintTo(const PoolCase &c, std::ostream *os) { *os << c.name; }

class PoolMixer : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolMixer, MatchesReference) {
  const PoolCase &c = GetParam();
  std::string t = tensorType(declare(c.shape, c.dynamic), c.type);
  std::string attrs =
      c.kernel ? " {kernel = " + std::to_string(c.kernel) + " : i64}" : "";
  std::string src = "func.func @f(%x: " + t + ") -> " + t +
                    " {\n  %y = loom.pool_mixer %x" + attrs + " : (" + t +
                    ") -> " + t + "\n  return %y : " + t + "\n}\n";
  Tensor x = randomTensor(c.type, c.shape, 41);
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError()) << "\n"
                                      << src;
  EXPECT_EQ((*out)[0].shape, c.shape);
  Tensor expected = ref::poolMixer(x, c.kernel ? c.kernel : 3);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.type)) << src;
}

INSTANTIATE_TEST_SUITE_P(
    Mixers, PoolMixer,
    ::testing::Values(
        PoolCase{"Seq3", "f32", {2, 7, 5}, 3, ""},
        PoolCase{"SeqDefaultKernel", "f32", {1, 13, 4}, 0, ""},
        PoolCase{"Seq5", "f32", {1, 13, 4}, 5, ""},
        // A window wider than the sequence: every token averages all.
        PoolCase{"SeqKernelWiderThanS", "f32", {2, 3, 6}, 5, ""},
        PoolCase{"SeqLongDynamic", "f32", {1, 100, 7}, 5, "ddd"},
        PoolCase{"Grid3", "f32", {1, 6, 7, 3}, 3, ""},
        PoolCase{"Grid5", "f32", {2, 5, 9, 4}, 5, ""},
        PoolCase{"GridKernelWiderThanHW", "f32", {1, 2, 3, 2}, 5, ""},
        PoolCase{"GridSingleRow", "f32", {1, 1, 13, 3}, 3, ""},
        PoolCase{"Grid3BF16", "bf16", {1, 8, 8, 16}, 3, ""},
        PoolCase{"Grid5DynamicF16", "f16", {2, 13, 7, 5}, 5, "dddd"},
        PoolCase{"Seq3DynamicBF16", "bf16", {3, 13, 9}, 3, "sds"},
        PoolCase{"Seq5F16", "f16", {2, 13, 3}, 5, ""}),
    [](const ::testing::TestParamInfo<PoolCase> &info) {
      return info.param.name;
    });

/// Borders by hand: x = [1, 2, 4, 8, 16] over the sequence, kernel 3.
TEST(PoolMixer, HandComputedBorders) {
  std::string t = "tensor<1x5x1xf32>";
  std::string src = "func.func @f(%x: " + t + ") -> " + t +
                    " {\n  %y = loom.pool_mixer %x : (" + t + ") -> " + t +
                    "\n  return %y : " + t + "\n}\n";
  Tensor x({1, 5, 1}, {1, 2, 4, 8, 16});
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  std::vector<double> expected{3.0 / 2 - 1, 7.0 / 3 - 2, 14.0 / 3 - 4,
                               28.0 / 3 - 8, 24.0 / 2 - 16};
  for (int i = 0; i < 5; ++i)
    EXPECT_NEAR((*out)[0].data[i], expected[i], 1e-6) << "token " << i;
}

/// 2-D corner by hand: a 2x2 grid with kernel 3 averages all four tokens.
TEST(PoolMixer, HandComputedCorner2D) {
  std::string t = "tensor<1x2x2x1xf32>";
  std::string src = "func.func @f(%x: " + t + ") -> " + t +
                    " {\n  %y = loom.pool_mixer %x {kernel = 3 : i64} : (" + t +
                    ") -> " + t + "\n  return %y : " + t + "\n}\n";
  Tensor x({1, 2, 2, 1}, {1, 2, 3, 6});
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR((*out)[0].data[i], 3.0 - x.data[i], 1e-6) << "token " << i;
}

//===----------------------------------------------------------------------===//
// dwconv
//===----------------------------------------------------------------------===//

struct ConvCase {
  std::string name;
  std::string type;
  std::vector<int64_t> xShape, wShape;
  bool causal;
  std::string xDynamic, wDynamic;
};

void PrintTo(const ConvCase &c, std::ostream *os) { *os << c.name; }

class DwConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(DwConv, MatchesReference) {
  const ConvCase &c = GetParam();
  std::string xt = tensorType(declare(c.xShape, c.xDynamic), c.type);
  std::string wt = tensorType(declare(c.wShape, c.wDynamic), c.type);
  std::string src = "func.func @f(%x: " + xt + ", %w: " + wt + ") -> " + xt +
                    " {\n  %y = loom.dwconv %x, %w" +
                    (c.causal ? " {causal}" : "") + " : (" + xt + ", " + wt +
                    ") -> " + xt + "\n  return %y : " + xt + "\n}\n";
  Tensor x = randomTensor(c.type, c.xShape, 51);
  Tensor w = randomTensor(c.type, c.wShape, 52);
  auto out = runOnCPU(src, "f", {x, w});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError()) << "\n"
                                      << src;
  EXPECT_EQ((*out)[0].shape, c.xShape);
  Tensor expected = ref::dwconv(x, w, c.causal);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.type)) << src;
}

INSTANTIATE_TEST_SUITE_P(
    Mixers, DwConv,
    ::testing::Values(
        ConvCase{"Same3", "f32", {2, 16, 8}, {3, 8}, false, "", ""},
        ConvCase{"Same7Ragged", "f32", {1, 13, 5}, {7, 5}, false, "", ""},
        ConvCase{
            "SameKernelWiderThanS", "f32", {1, 3, 4}, {7, 4}, false, "", ""},
        ConvCase{"SameDynamic", "f32", {3, 100, 7}, {9, 7}, false, "ddd", "dd"},
        ConvCase{"CausalEvenK", "f32", {1, 13, 6}, {4, 6}, true, "", ""},
        ConvCase{"CausalK1", "f32", {2, 7, 3}, {1, 3}, true, "", ""},
        ConvCase{
            "CausalLongKEqualsS", "f32", {1, 100, 3}, {100, 3}, true, "", ""},
        ConvCase{"CausalKWiderThanS", "f32", {2, 5, 2}, {9, 2}, true, "", ""},
        ConvCase{"CausalLongDynamicBF16",
                 "bf16",
                 {1, 64, 16},
                 {64, 16},
                 true,
                 "ddd",
                 "dd"},
        ConvCase{"Same5F16", "f16", {2, 13, 9}, {5, 9}, false, "sds", "ss"},
        ConvCase{"Grid7x7", "f32", {1, 14, 14, 4}, {7, 7, 4}, false, "", ""},
        ConvCase{
            "Grid3x5Ragged", "f32", {2, 5, 9, 3}, {3, 5, 3}, false, "", ""},
        ConvCase{"GridKernelWiderThanHW",
                 "f32",
                 {1, 2, 3, 2},
                 {5, 5, 2},
                 false,
                 "",
                 ""},
        ConvCase{"GridDynamicF16",
                 "f16",
                 {1, 7, 13, 5},
                 {3, 3, 5},
                 false,
                 "dddd",
                 "ddd"},
        ConvCase{"GridBF16", "bf16", {2, 6, 5, 8}, {5, 3, 8}, false, "", ""}),
    [](const ::testing::TestParamInfo<ConvCase> &info) {
      return info.param.name;
    });

/// Causal taps by hand: y[s] = w0 x[s-2] + w1 x[s-1] + w2 x[s].
TEST(DwConv, HandComputedCausal) {
  std::string xt = "tensor<1x4x1xf32>", wt = "tensor<3x1xf32>";
  std::string src = "func.func @f(%x: " + xt + ", %w: " + wt + ") -> " + xt +
                    " {\n  %y = loom.dwconv %x, %w {causal} : (" + xt + ", " +
                    wt + ") -> " + xt + "\n  return %y : " + xt + "\n}\n";
  Tensor x({1, 4, 1}, {1, 10, 100, 1000}), w({3, 1}, {1, 2, 3});
  auto out = runOnCPU(src, "f", {x, w});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  std::vector<double> expected{3, 32, 321, 3210};
  for (int i = 0; i < 4; ++i)
    EXPECT_DOUBLE_EQ((*out)[0].data[i], expected[i]) << "token " << i;
}

/// Centred taps by hand: y[s] = w0 x[s-1] + w1 x[s] + w2 x[s+1].
TEST(DwConv, HandComputedCentred) {
  std::string xt = "tensor<1x4x1xf32>", wt = "tensor<3x1xf32>";
  std::string src = "func.func @f(%x: " + xt + ", %w: " + wt + ") -> " + xt +
                    " {\n  %y = loom.dwconv %x, %w : (" + xt + ", " + wt +
                    ") -> " + xt + "\n  return %y : " + xt + "\n}\n";
  Tensor x({1, 4, 1}, {1, 10, 100, 1000}), w({3, 1}, {1, 2, 3});
  auto out = runOnCPU(src, "f", {x, w});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  std::vector<double> expected{32, 321, 3210, 2100};
  for (int i = 0; i < 4; ++i)
    EXPECT_DOUBLE_EQ((*out)[0].data[i], expected[i]) << "token " << i;
}

} // namespace
