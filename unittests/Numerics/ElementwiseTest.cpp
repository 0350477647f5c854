// Numerics of rms_norm, layer_norm, rope, gelu and silu on the CPU path
// against the double-precision references, on random inputs.
#include "Harness.h"

#include <gtest/gtest.h>

#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

struct Case {
  std::string type;
  std::vector<int64_t> shape;   // runtime shape
  std::vector<int64_t> declared; // signature shape (-1 dynamic)
};

/// A readable test name: element type, then the shape (D for dynamic).
std::string caseName(const std::string &type, const std::vector<int64_t> &shape,
                     const std::vector<int64_t> &declared) {
  std::string name = type;
  for (size_t i = 0; i < shape.size(); ++i)
    name += "_" + std::to_string(shape[i]) + (declared[i] < 0 ? "D" : "");
  return name;
}

void PrintTo(const Case &c, std::ostream *os) {
  *os << caseName(c.type, c.shape, c.declared);
}

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return caseName(info.param.type, info.param.shape, info.param.declared);
}

class Activations : public ::testing::TestWithParam<Case> {};

TEST_P(Activations, SiluAndBothGelus) {
  const Case &c = GetParam();
  std::string t = tensorType(c.declared, c.type);
  std::string src = "func.func @f(%x: " + t + ") -> (" + t + ", " + t + ", " +
                    t + ") {\n"
                    "  %a = loom.silu %x : (" + t + ") -> " + t + "\n"
                    "  %b = loom.gelu %x : (" + t + ") -> " + t + "\n"
                    "  %c = loom.gelu %x {approximate = \"tanh\"} : (" + t +
                    ") -> " + t + "\n"
                    "  return %a, %b, %c : " + t + ", " + t + ", " + t + "\n}\n";
  Tensor x = randomTensor(c.type, c.shape, 11, -6.0, 6.0);
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 3u);
  EXPECT_LT(relativeError((*out)[0], ref::silu(x)), tolerance(c.type));
  EXPECT_LT(relativeError((*out)[1], ref::gelu(x, ref::GeluApproximation::None)),
            tolerance(c.type));
  EXPECT_LT(relativeError((*out)[2], ref::gelu(x, ref::GeluApproximation::Tanh)),
            tolerance(c.type));
  EXPECT_EQ((*out)[0].shape, c.shape);
}

INSTANTIATE_TEST_SUITE_P(
    Types, Activations,
    ::testing::Values(Case{"f32", {3, 7}, {3, 7}}, Case{"bf16", {5, 13}, {5, 13}},
                      Case{"f16", {2, 3, 9}, {2, 3, 9}},
                      Case{"f32", {6, 11}, {-1, 11}},
                      Case{"bf16", {4, 5}, {-1, -1}}),
    [](const auto &info) { return caseName(info); });

class Norms : public ::testing::TestWithParam<Case> {};

TEST_P(Norms, RmsAndLayerNorm) {
  const Case &c = GetParam();
  std::string t = tensorType(c.declared, c.type);
  std::string pt = tensorType({c.declared.back()}, c.type);
  std::string src =
      "func.func @f(%x: " + t + ", %g: " + pt + ", %b: " + pt + ") -> (" + t +
      ", " + t + ") {\n"
      "  %r = loom.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : (" + t + ", " +
      pt + ") -> " + t + "\n"
      "  %l = loom.layer_norm %x, %g, %b : (" + t + ", " + pt + ", " + pt +
      ") -> " + t + "\n"
      "  return %r, %l : " + t + ", " + t + "\n}\n";
  int64_t channels = c.shape.back();
  // An offset mean stresses the layer norm's variance computation.
  Tensor x = randomTensor(c.type, c.shape, 3, 2.0, 6.0);
  Tensor g = randomTensor(c.type, {channels}, 4, 0.5, 1.5);
  Tensor b = randomTensor(c.type, {channels}, 5);
  auto out = runOnCPU(src, "f", {x, g, b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_LT(relativeError((*out)[0], ref::rmsNorm(x, g, 1e-5)),
            tolerance(c.type));
  EXPECT_LT(relativeError((*out)[1], ref::layerNorm(x, g, b, 1e-5)),
            tolerance(c.type) * 4);
}

INSTANTIATE_TEST_SUITE_P(
    Types, Norms,
    ::testing::Values(Case{"f32", {3, 7}, {3, 7}}, Case{"bf16", {2, 5, 64}, {2, 5, 64}},
                      Case{"f16", {9, 33}, {-1, 33}},
                      Case{"f32", {4, 100}, {-1, -1}}, Case{"f32", {13}, {13}}),
    [](const auto &info) { return caseName(info); });

TEST(Norms, ConstantRowHasZeroVarianceNotNaN) {
  std::string src = "func.func @f(%x: tensor<2x8xf32>, %g: tensor<8xf32>, "
                    "%b: tensor<8xf32>) -> tensor<2x8xf32> {\n"
                    "  %l = loom.layer_norm %x, %g, %b : (tensor<2x8xf32>, "
                    "tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>\n"
                    "  return %l : tensor<2x8xf32>\n}\n";
  Tensor x({2, 8}, std::vector<double>(16, 3.0));
  Tensor g = randomTensor("f32", {8}, 1);
  Tensor b = randomTensor("f32", {8}, 2);
  auto out = runOnCPU(src, "f", {x, g, b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  for (int64_t i = 0; i < 16; ++i)
    EXPECT_NEAR((*out)[0].data[i], b.data[i % 8], 1e-6);
}

struct RopeCase {
  std::string type, style;
  std::vector<int64_t> shape, declared;
};

void PrintTo(const RopeCase &c, std::ostream *os) {
  *os << c.style << "_" << caseName(c.type, c.shape, c.declared);
}

class Rope : public ::testing::TestWithParam<RopeCase> {};

TEST_P(Rope, MatchesReference) {
  const RopeCase &c = GetParam();
  std::string t = tensorType(c.declared, c.type);
  int64_t s = c.shape[2], d = c.shape[3];
  std::vector<int64_t> tableDecl{c.declared[2],
                                 c.declared[3] < 0 ? -1 : c.declared[3] / 2};
  std::string tt = tensorType(tableDecl, "f32");
  std::string src = "func.func @f(%x: " + t + ", %c: " + tt + ", %s: " + tt +
                    ") -> " + t + " {\n  %y = loom.rope %x, %c, %s {style = \"" +
                    c.style + "\"} : (" + t + ", " + tt + ", " + tt + ") -> " +
                    t + "\n  return %y : " + t + "\n}\n";
  Tensor x = randomTensor(c.type, c.shape, 21);
  Tensor cosT = randomTensor("f32", {s, d / 2}, 22);
  Tensor sinT = randomTensor("f32", {s, d / 2}, 23);
  auto out = runOnCPU(src, "f", {x, cosT, sinT});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ref::RopeStyle style =
      c.style == "half" ? ref::RopeStyle::Half : ref::RopeStyle::Interleaved;
  EXPECT_LT(relativeError((*out)[0], ref::rope(x, cosT, sinT, style)),
            tolerance(c.type));
}

INSTANTIATE_TEST_SUITE_P(
    Styles, Rope,
    ::testing::Values(RopeCase{"f32", "half", {2, 3, 5, 8}, {2, 3, 5, 8}},
                      RopeCase{"f32", "interleaved", {1, 2, 7, 6}, {1, 2, 7, 6}},
                      RopeCase{"bf16", "half", {1, 4, 9, 64}, {1, 4, 9, 64}},
                      RopeCase{"bf16", "interleaved", {2, 1, 3, 16}, {-1, -1, -1, -1}},
                      RopeCase{"f16", "half", {1, 2, 13, 10}, {1, 2, -1, 10}}),
    [](const ::testing::TestParamInfo<RopeCase> &info) {
      return info.param.style + "_" +
             caseName(info.param.type, info.param.shape, info.param.declared);
    });

} // namespace
