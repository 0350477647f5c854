// The ops that the example blocks do not use (dwconv, quantize, qmatmul, i8
// qlinear), run through loom-compile's shared library and the runtime, so
// that every op is checked on the path loom-run takes.
#include "Harness.h"

#include <gtest/gtest.h>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

TEST(Compiled, DepthwiseConvolutions) {
  std::string src = R"(
func.func @f(%x: tensor<2x37x8xbf16>, %wl: tensor<37x8xbf16>, %ws: tensor<5x8xbf16>,
             %x2: tensor<1x9x7x4xf32>, %w2: tensor<3x5x4xf32>)
    -> (tensor<2x37x8xbf16>, tensor<2x37x8xbf16>, tensor<1x9x7x4xf32>) {
  %0 = loom.dwconv %x, %wl {causal} : (tensor<2x37x8xbf16>, tensor<37x8xbf16>) -> tensor<2x37x8xbf16>
  %1 = loom.dwconv %x, %ws : (tensor<2x37x8xbf16>, tensor<5x8xbf16>) -> tensor<2x37x8xbf16>
  %2 = loom.dwconv %x2, %w2 : (tensor<1x9x7x4xf32>, tensor<3x5x4xf32>) -> tensor<1x9x7x4xf32>
  return %0, %1, %2 : tensor<2x37x8xbf16>, tensor<2x37x8xbf16>, tensor<1x9x7x4xf32>
})";
  Tensor x = randomTensor("bf16", {2, 37, 8}, 1);
  Tensor wl = randomTensor("bf16", {37, 8}, 2, -0.2, 0.2);
  Tensor ws = randomTensor("bf16", {5, 8}, 3);
  Tensor x2 = randomTensor("f32", {1, 9, 7, 4}, 4);
  Tensor w2 = randomTensor("f32", {3, 5, 4}, 5);
  auto out = runCompiled(src, "f", {x, wl, ws, x2, w2});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_LT(relativeError((*out)[0], ref::dwconv(x, wl, true)), tolerance("bf16"));
  EXPECT_LT(relativeError((*out)[1], ref::dwconv(x, ws)), tolerance("bf16"));
  EXPECT_LT(relativeError((*out)[2], ref::dwconv(x2, w2)), tolerance("f32"));
}

TEST(Compiled, QuantizeThenQMatmulAndI8QLinear) {
  std::string src = R"(
func.func @f(%x: tensor<7x96xbf16>, %w8: tensor<13x96xi8>, %s8: tensor<13xf32>,
             %wf: tensor<13x96xf8E4M3FN>, %b: tensor<13xbf16>)
    -> (tensor<7x13xbf16>, tensor<7x13xf32>, tensor<7x13xbf16>, tensor<7xf32>) {
  %xq, %xs = loom.quantize %x : (tensor<7x96xbf16>) -> (tensor<7x96xi8>, tensor<7xf32>)
  %0 = loom.qmatmul %xq, %xs, %w8, %s8, %b : (tensor<7x96xi8>, tensor<7xf32>, tensor<13x96xi8>, tensor<13xf32>, tensor<13xbf16>) -> tensor<7x13xbf16>
  %fq, %fs = loom.quantize %x : (tensor<7x96xbf16>) -> (tensor<7x96xf8E4M3FN>, tensor<7xf32>)
  %1 = loom.qmatmul %fq, %fs, %wf, %s8 : (tensor<7x96xf8E4M3FN>, tensor<7xf32>, tensor<13x96xf8E4M3FN>, tensor<13xf32>) -> tensor<7x13xf32>
  %2 = loom.qlinear %x, %w8, %s8, %b : (tensor<7x96xbf16>, tensor<13x96xi8>, tensor<13xf32>, tensor<13xbf16>) -> tensor<7x13xbf16>
  return %0, %1, %2, %xs : tensor<7x13xbf16>, tensor<7x13xf32>, tensor<7x13xbf16>, tensor<7xf32>
})";
  Tensor x = randomTensor("bf16", {7, 96}, 11);
  for (int64_t k = 0; k < 96; ++k) // an all-zero row: scale 0, xq 0
    x.data[3 * 96 + k] = 0.0;
  Tensor w8 = randomInts({13, 96}, 12, -127, 127);
  Tensor s8 = randomTensor("f32", {13}, 13, 0.001, 0.01);
  Tensor wf = randomTensor("f8E4M3FN", {13, 96}, 14, -2.0, 2.0);
  Tensor b = randomTensor("bf16", {13}, 15);
  auto out = runCompiled(src, "f", {x, w8, s8, wf, b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());

  ref::Quantized qi = ref::quantize(x, ref::QuantKind::I8);
  ref::Quantized qf = ref::quantize(x, ref::QuantKind::F8E4M3FN);
  EXPECT_LT(relativeError((*out)[3], qi.xs), 1e-6);
  EXPECT_EQ((*out)[3].data[3], 0.0);
  // An f32 x/s may land on the other side of a rounding tie than the double
  // reference; one quantization step in a few elements stays far inside this.
  EXPECT_LT(relativeError((*out)[0], ref::qmatmul(qi.xq, qi.xs, w8, s8, &b)),
            2e-2);
  EXPECT_LT(relativeError((*out)[1], ref::qmatmul(qf.xq, qf.xs, wf, s8)), 2e-2);
  EXPECT_LT(relativeError((*out)[2], ref::qlinear(x, w8, s8, &b)),
            tolerance("bf16"));
  for (int64_t n = 0; n < 13; ++n) // the zero row gives just the bias
    EXPECT_NEAR((*out)[0].data[3 * 13 + n], b.data[n], 1e-2);
}

} // namespace
