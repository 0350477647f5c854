// Numerics of linear, qlinear, quantize and qmatmul on the CPU path against
// the double-precision references, on random inputs (fixed seeds) and on
// hand-made rows for the special cases of the contract (all-zero rows,
// rounding ties, exact i32 accumulation).
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

/// `shape` with the listed dims made dynamic (-1).
std::vector<int64_t> dynamicIn(std::vector<int64_t> shape,
                               std::vector<int64_t> dims) {
  for (int64_t d : dims)
    shape[static_cast<size_t>(d)] = -1;
  return shape;
}

/// All dims dynamic.
std::vector<int64_t> allDynamic(const std::vector<int64_t> &shape) {
  return std::vector<int64_t>(shape.size(), -1);
}

/// A one-op module: `func.func @f(args) -> results` around `body`, which
/// defines %r0, %r1, ... from %a0, %a1, ....
std::string makeModule(const std::vector<std::string> &argTypes,
                       const std::vector<std::string> &resultTypes,
                       const std::string &body) {
  std::string s = "func.func @f(";
  for (size_t i = 0; i < argTypes.size(); ++i)
    s += (i ? ", %a" : "%a") + std::to_string(i) + ": " + argTypes[i];
  s += ") -> (";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    s += (i ? ", " : "") + resultTypes[i];
  s += ") {\n" + body + "  return ";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    s += (i ? ", %r" : "%r") + std::to_string(i);
  s += " : ";
  for (size_t i = 0; i < resultTypes.size(); ++i)
    s += (i ? ", " : "") + resultTypes[i];
  return s + "\n}\n";
}

/// "(t0, t1) -> (r0)" for an op's functional type.
std::string functionalType(const std::vector<std::string> &in,
                           const std::vector<std::string> &out) {
  std::string s = "(";
  for (size_t i = 0; i < in.size(); ++i)
    s += (i ? ", " : "") + in[i];
  s += ") -> ";
  if (out.size() == 1)
    return s + out[0];
  s += "(";
  for (size_t i = 0; i < out.size(); ++i)
    s += (i ? ", " : "") + out[i];
  return s + ")";
}

//===----------------------------------------------------------------------===//
// loom.linear
//===----------------------------------------------------------------------===//

struct LinearCase {
  std::string type;
  std::vector<int64_t> xShape; // runtime shape [..., K]
  int64_t n;
  bool bias;
  bool dynamic; // every dim of every operand dynamic, else static
};

void PrintTo(const LinearCase &c, std::ostream *os) {
  *os << c.type << " x[";
  for (int64_t d : c.xShape)
    *os << d << ",";
  *os << "] N=" << c.n << (c.bias ? " bias" : "")
      << (c.dynamic ? " dynamic" : " static");
}

class Linear : public ::testing::TestWithParam<LinearCase> {};

TEST_P(Linear, MatchesReference) {
  const LinearCase &c = GetParam();
  int64_t k = c.xShape.back();
  std::vector<int64_t> yShape = c.xShape;
  yShape.back() = c.n;
  auto decl = [&](const std::vector<int64_t> &s) {
    return tensorType(c.dynamic ? allDynamic(s) : s, c.type);
  };
  std::vector<std::string> in{decl(c.xShape), decl({c.n, k})};
  if (c.bias)
    in.push_back(decl({c.n}));
  std::string yt = decl(yShape);
  std::string src = makeModule(in, {yt},
                               std::string("  %r0 = loom.linear %a0, %a1") +
                                   (c.bias ? ", %a2" : "") + " : " +
                                   functionalType(in, {yt}) + "\n");
  Tensor x = randomTensor(c.type, c.xShape, 101);
  Tensor w = randomTensor(c.type, {c.n, k}, 102);
  Tensor b = randomTensor(c.type, {c.n}, 103);
  std::vector<Tensor> inputs{x, w};
  if (c.bias)
    inputs.push_back(b);
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, yShape);
  Tensor expected = ref::linear(x, w, c.bias ? &b : nullptr);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.type));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Linear,
    ::testing::Values(LinearCase{"f32", {2, 3, 64}, 32, true, false},
                      LinearCase{"f32", {2, 3, 64}, 32, false, true},
                      LinearCase{"f32", {7, 96}, 13, true, true},
                      LinearCase{
                          "f32", {17}, 9, true, false}, // no batch dim at all
                      LinearCase{"bf16", {2, 5, 100}, 13, true, false},
                      LinearCase{"bf16", {7, 96}, 13, false, true},
                      LinearCase{"f16", {4, 1, 7, 33}, 5, true, true},
                      LinearCase{"f16", {7, 96}, 13, false, false}));

TEST(Linear, DynamicBatchStaticResult) {
  // A result type more static than the operands'.
  std::string src = makeModule(
      {"tensor<?x?xf32>", "tensor<6x?xf32>"}, {"tensor<3x6xf32>"},
      "  %r0 = loom.linear %a0, %a1 : (tensor<?x?xf32>, tensor<6x?xf32>) -> "
      "tensor<3x6xf32>\n");
  Tensor x = randomTensor("f32", {3, 10}, 1);
  Tensor w = randomTensor("f32", {6, 10}, 2);
  auto out = runOnCPU(src, "f", {x, w});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_LT(relativeError((*out)[0], ref::linear(x, w)), 1e-6);
}

//===----------------------------------------------------------------------===//
// loom.qlinear
//===----------------------------------------------------------------------===//

struct QLinearCase {
  std::string xType, wType, scaleType, biasType,
      resultType; // biasType "" = none
  int64_t m, n, k, group;
  bool dynamic; // M, N and K dynamic in the signature (else only M)
};

void PrintTo(const QLinearCase &c, std::ostream *os) {
  *os << "x " << c.xType << ", w " << c.wType << ", scale " << c.scaleType
      << ", bias " << (c.biasType.empty() ? "none" : c.biasType) << ", y "
      << c.resultType << ", M=" << c.m << " N=" << c.n << " K=" << c.k
      << " group=" << c.group << (c.dynamic ? " dynamic" : "");
}

class QLinear : public ::testing::TestWithParam<QLinearCase> {};

TEST_P(QLinear, MatchesReference) {
  const QLinearCase &c = GetParam();
  bool bias = !c.biasType.empty();
  std::vector<int64_t> dyn =
      c.dynamic ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0};
  std::vector<int64_t> scaleShape =
      c.group == 0 ? std::vector<int64_t>{c.n}
                   : std::vector<int64_t>{c.n, c.k / c.group};
  std::vector<std::string> in{
      tensorType(dynamicIn({c.m, c.k}, dyn), c.xType),
      tensorType(c.dynamic ? allDynamic({c.n, c.k})
                           : std::vector<int64_t>{c.n, c.k},
                 c.wType),
      tensorType(c.dynamic ? allDynamic(scaleShape) : scaleShape, c.scaleType)};
  if (bias)
    in.push_back(tensorType(c.dynamic ? std::vector<int64_t>{-1}
                                      : std::vector<int64_t>{c.n},
                            c.biasType));
  std::string yt = tensorType(dynamicIn({c.m, c.n}, dyn), c.resultType);
  std::string attr =
      c.group ? " {group_size = " + std::to_string(c.group) + " : i64}" : "";
  std::string src =
      makeModule(in, {yt},
                 std::string("  %r0 = loom.qlinear %a0, %a1, %a2") +
                     (bias ? ", %a3" : "") + attr + " : " +
                     functionalType(in, {yt}) + "\n");
  int64_t qmax = c.wType == "i4" ? 7 : 127;
  Tensor x = randomTensor(c.xType, {c.m, c.k}, 201, -2.0, 2.0);
  Tensor w = randomInts({c.n, c.k}, 202, -qmax - 1, qmax);
  Tensor s = randomTensor(c.scaleType, scaleShape, 203, 0.01, 0.1);
  Tensor b = randomTensor(bias ? c.biasType : "f32", {c.n}, 204);
  std::vector<Tensor> inputs{x, w, s};
  if (bias)
    inputs.push_back(b);
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{c.m, c.n}));
  Tensor expected = ref::qlinear(x, w, s, bias ? &b : nullptr, c.group);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.resultType));
}

INSTANTIATE_TEST_SUITE_P(
    Weights, QLinear,
    ::testing::Values(
        // W8A16, per-channel.
        QLinearCase{"bf16", "i8", "f32", "bf16", "bf16", 7, 13, 96, 0, false},
        QLinearCase{"f16", "i8", "f16", "", "f16", 7, 13, 100, 0, true},
        QLinearCase{"f32", "i8", "f32", "f32", "f32", 16, 13, 96, 0, false},
        // W4A16, group-wise (ragged M and N, K = 3 groups of 32).
        QLinearCase{"bf16", "i4", "f32", "bf16", "bf16", 7, 13, 96, 32, false},
        QLinearCase{"f32", "i4", "f32", "", "f32", 7, 13, 96, 32, true},
        QLinearCase{"f16", "i4", "f32", "f16", "f16", 5, 11, 128, 64, true},
        QLinearCase{"bf16", "i4", "bf16", "", "bf16", 3, 13, 96, 96, false},
        // i4 per-channel; scales, bias and result of other float types.
        QLinearCase{"bf16", "i4", "f32", "f32", "f32", 7, 13, 96, 0, false},
        QLinearCase{"f32", "i8", "bf16", "f16", "bf16", 9, 7, 64, 16, true}));

TEST(QLinear, I4ExtremesAreSigned) {
  // w holds only -8 and 7: a zero-extension or a wrong sign would show.
  std::string src = makeModule(
      {"tensor<2x4xf32>", "tensor<3x4xi4>", "tensor<3xf32>"},
      {"tensor<2x3xf32>"},
      "  %r0 = loom.qlinear %a0, %a1, %a2 : (tensor<2x4xf32>, tensor<3x4xi4>, "
      "tensor<3xf32>) -> tensor<2x3xf32>\n");
  Tensor x({2, 4}, {1, 2, 3, 4, -1, 0.5, 0.25, 2});
  Tensor w({3, 4}, {-8, 7, -8, 7, 7, 7, 7, 7, -8, -8, -8, -8});
  Tensor s({3}, {1.0, 0.5, 0.25});
  auto out = runOnCPU(src, "f", {x, w, s});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor expected = ref::qlinear(x, w, s);
  for (size_t i = 0; i < expected.data.size(); ++i)
    EXPECT_EQ((*out)[0].data[i], expected.data[i]) << "element " << i;
}

//===----------------------------------------------------------------------===//
// loom.quantize
//===----------------------------------------------------------------------===//

/// xq as computed equals the reference's, or (a near tie, where the f32
/// quotient x / s and the double one fall on different sides of a midpoint)
/// is as close to the exact quotient as the reference's value is.
void expectQuantizedMatches(const Tensor &x, const Tensor &gotQ,
                            const Tensor &gotS, const ref::Quantized &want) {
  ASSERT_EQ(gotQ.shape, want.xq.shape);
  ASSERT_EQ(gotS.shape, want.xs.shape);
  int64_t k = x.shape.back();
  for (size_t m = 0; m < want.xs.data.size(); ++m) {
    double s = want.xs.data[m];
    if (s == 0)
      EXPECT_EQ(gotS.data[m], 0.0) << "row " << m;
    else
      EXPECT_NEAR(gotS.data[m], s, 1e-6 * s) << "row " << m;
  }
  int mismatches = 0;
  for (size_t i = 0; i < want.xq.data.size(); ++i) {
    double got = gotQ.data[i], exp = want.xq.data[i];
    ASSERT_FALSE(std::isnan(got)) << "element " << i;
    if (got == exp)
      continue;
    double s = want.xs.data[i / static_cast<size_t>(k)];
    double t = x.data[i] / s;
    EXPECT_LE(std::fabs(got - t), std::fabs(exp - t) * (1 + 1e-5) + 1e-6)
        << "element " << i << ": x/s = " << t << ", got " << got
        << ", expected " << exp;
    ++mismatches;
  }
  EXPECT_LE(mismatches, 2) << "more near-ties than chance explains";
}

struct QuantizeCase {
  std::string xType, qType;
  int64_t m, k;
  bool dynamic;
};

void PrintTo(const QuantizeCase &c, std::ostream *os) {
  *os << c.xType << " -> " << c.qType << ", M=" << c.m << " K=" << c.k
      << (c.dynamic ? " dynamic" : "");
}

class Quantize : public ::testing::TestWithParam<QuantizeCase> {};

TEST_P(Quantize, MatchesReferenceWithZeroRow) {
  const QuantizeCase &c = GetParam();
  std::vector<int64_t> shape{c.m, c.k};
  std::vector<int64_t> decl = c.dynamic ? allDynamic(shape) : shape;
  std::string xt = tensorType(decl, c.xType), qt = tensorType(decl, c.qType),
              st = tensorType({decl[0]}, "f32");
  std::string src = makeModule({xt}, {qt, st},
                               "  %r0, %r1 = loom.quantize %a0 : " +
                                   functionalType({xt}, {qt, st}) + "\n");
  Tensor x = randomTensor(c.xType, shape, 301, -3.0, 3.0);
  for (int64_t j = 0; j < c.k; ++j) // an all-zero row
    x.data[static_cast<size_t>(2 * c.k + j)] = 0.0;
  for (int64_t j = 0; j < c.k; ++j) // a row of tiny values
    x.data[static_cast<size_t>(c.k + j)] *= 1e-3;
  x = roundedTo(c.xType, x);
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 2u);
  ref::QuantKind kind =
      c.qType == "i8" ? ref::QuantKind::I8 : ref::QuantKind::F8E4M3FN;
  ref::Quantized want = ref::quantize(x, kind);
  expectQuantizedMatches(x, (*out)[0], (*out)[1], want);
  for (int64_t j = 0; j < c.k; ++j)
    EXPECT_EQ((*out)[0].data[static_cast<size_t>(2 * c.k + j)], 0.0);
  EXPECT_EQ((*out)[1].data[2], 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Types, Quantize,
    ::testing::Values(QuantizeCase{"f32", "i8", 7, 100, true},
                      QuantizeCase{"bf16", "i8", 5, 96, false},
                      QuantizeCase{"f16", "i8", 3, 13, true},
                      QuantizeCase{"f32", "f8E4M3FN", 7, 100, true},
                      QuantizeCase{"bf16", "f8E4M3FN", 5, 96, false},
                      QuantizeCase{"f16", "f8E4M3FN", 3, 13, true}));

/// Runs loom.quantize on one [rows, K] tensor and checks xq exactly.
void checkExactQuantize(const std::string &xType, const std::string &qType,
                        const Tensor &x, const std::vector<double> &wantQ,
                        const std::vector<double> &wantS) {
  std::string xt = tensorType({-1, -1}, xType),
              qt = tensorType({-1, -1}, qType), st = tensorType({-1}, "f32");
  std::string src = makeModule({xt}, {qt, st},
                               "  %r0, %r1 = loom.quantize %a0 : " +
                                   functionalType({xt}, {qt, st}) + "\n");
  auto out = runOnCPU(src, "f", {x});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ref::Quantized want = ref::quantize(
      x, qType == "i8" ? ref::QuantKind::I8 : ref::QuantKind::F8E4M3FN);
  for (size_t i = 0; i < wantQ.size(); ++i) {
    EXPECT_EQ(want.xq.data[i], wantQ[i]) << "reference, element " << i;
    EXPECT_EQ((*out)[0].data[i], wantQ[i]) << "element " << i;
    EXPECT_FALSE(std::signbit((*out)[0].data[i]) && wantQ[i] == 0 &&
                 !std::signbit(x.data[i]))
        << "element " << i;
  }
  for (size_t m = 0; m < wantS.size(); ++m)
    EXPECT_EQ((*out)[1].data[m], wantS[m]) << "row " << m;
}

TEST(Quantize, I8TiesRoundToEven) {
  // Row 0 has max |x| = 127, so s = 1 and x / s = x exactly.
  // Row 1 is all zeros: s = 0 and xq = 0.
  std::vector<double> row0{2.5, -2.5, 3.5, 0.5, -0.5, 1.5, 126.5, -127};
  std::vector<double> want0{2, -2, 4, 0, 0, 2, 126, -127};
  Tensor x({2, 8});
  for (size_t j = 0; j < 8; ++j)
    x.data[j] = row0[j];
  std::vector<double> want(want0);
  want.resize(16, 0.0);
  for (const char *t : {"f32", "bf16", "f16"}) {
    SCOPED_TRACE(t);
    checkExactQuantize(t, "i8", x, want, {1.0, 0.0});
  }
}

TEST(Quantize, F8TiesRoundToEvenAndSubnormals) {
  // max |x| = 448, so s = 1 and x / s = x exactly.
  const double u = std::ldexp(1.0, -9); // the smallest subnormal
  std::vector<double> row0{
      448,     -448,    17,      19,      -17,     15.5,     272, 304, 440,
      0.5 * u, 1.5 * u, 2.5 * u, 7.5 * u, 8.5 * u, -1.5 * u, 0.3, 0,   3 * u};
  std::vector<double> want0{448,   -448,  16,     20,     -16,   16,
                            256,   320,   448,    0,      2 * u, 2 * u,
                            8 * u, 8 * u, -2 * u, 0.3125, 0,     3 * u};
  int64_t k = static_cast<int64_t>(row0.size());
  Tensor x({3, k});
  for (int64_t j = 0; j < k; ++j) {
    x.data[static_cast<size_t>(j)] = row0[static_cast<size_t>(j)];
    // Row 2: -448 scales by 1 too; row 1 is zeros.
    x.data[static_cast<size_t>(2 * k + j)] = -row0[static_cast<size_t>(j)];
  }
  std::vector<double> want(static_cast<size_t>(3 * k), 0.0);
  for (int64_t j = 0; j < k; ++j) {
    want[static_cast<size_t>(j)] = want0[static_cast<size_t>(j)];
    want[static_cast<size_t>(2 * k + j)] = -want0[static_cast<size_t>(j)];
  }
  checkExactQuantize("f32", "f8E4M3FN", x, want, {1.0, 0.0, 1.0});
}

TEST(Quantize, F8AllCodesRoundTrip) {
  // Every finite e4m3fn value v (times 1, with 448 in the row) must encode to
  // itself; midpoints between neighbours must go to the even code.
  std::vector<double> values;
  for (int code = 0; code < 0x7F; ++code) {
    int e = code >> 3, m = code & 7;
    values.push_back(e == 0 ? m * std::ldexp(1.0, -9)
                            : (8 + m) * std::ldexp(1.0, e - 10));
  }
  std::vector<double> row, want;
  for (size_t i = 0; i < values.size(); ++i) {
    row.push_back(values[i]);
    want.push_back(values[i]);
    row.push_back(-values[i]);
    want.push_back(-values[i]);
    if (i + 1 < values.size()) {
      double mid = 0.5 * (values[i] + values[i + 1]);
      row.push_back(mid);
      want.push_back(i % 2 == 0 ? values[i] : values[i + 1]);
    }
  }
  Tensor x({1, static_cast<int64_t>(row.size())}, row);
  checkExactQuantize("f32", "f8E4M3FN", x, want, {1.0});
}

//===----------------------------------------------------------------------===//
// loom.qmatmul
//===----------------------------------------------------------------------===//

struct QMatmulCase {
  std::string qType, biasType, resultType; // biasType "" = none
  int64_t m, n, k;
  bool dynamic; // all dims dynamic (else only M)
};

void PrintTo(const QMatmulCase &c, std::ostream *os) {
  *os << c.qType << ", bias " << (c.biasType.empty() ? "none" : c.biasType)
      << ", y " << c.resultType << ", M=" << c.m << " N=" << c.n << " K=" << c.k
      << (c.dynamic ? " dynamic" : "");
}

class QMatmul : public ::testing::TestWithParam<QMatmulCase> {};

TEST_P(QMatmul, MatchesReference) {
  const QMatmulCase &c = GetParam();
  bool bias = !c.biasType.empty();
  auto d = [&](std::vector<int64_t> s, bool leadingIsM) {
    if (c.dynamic)
      return allDynamic(s);
    if (leadingIsM)
      s[0] = -1;
    return s;
  };
  std::vector<std::string> in{tensorType(d({c.m, c.k}, true), c.qType),
                              tensorType(d({c.m}, true), "f32"),
                              tensorType(d({c.n, c.k}, false), c.qType),
                              tensorType(d({c.n}, false), "f32")};
  if (bias)
    in.push_back(tensorType(d({c.n}, false), c.biasType));
  std::string yt = tensorType(d({c.m, c.n}, true), c.resultType);
  std::string src = makeModule(
      in, {yt},
      std::string("  %r0 = loom.qmatmul %a0, %a1, %a2, %a3") +
          (bias ? ", %a4" : "") + " : " + functionalType(in, {yt}) + "\n");
  Tensor xq, w;
  if (c.qType == "i8") {
    xq = randomInts({c.m, c.k}, 401, -127, 127);
    w = randomInts({c.n, c.k}, 402, -128, 127);
  } else {
    xq = randomTensor(c.qType, {c.m, c.k}, 401, -448.0, 448.0);
    w = randomTensor(c.qType, {c.n, c.k}, 402, -2.0, 2.0);
  }
  Tensor xs = randomTensor("f32", {c.m}, 403, 1e-3, 2e-2);
  Tensor ws = randomTensor("f32", {c.n}, 404, 1e-3, 2e-2);
  Tensor b = randomTensor(bias ? c.biasType : "f32", {c.n}, 405);
  std::vector<Tensor> inputs{xq, xs, w, ws};
  if (bias)
    inputs.push_back(b);
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{c.m, c.n}));
  Tensor expected = ref::qmatmul(xq, xs, w, ws, bias ? &b : nullptr);
  EXPECT_LT(relativeError((*out)[0], expected), tolerance(c.resultType));
}

INSTANTIATE_TEST_SUITE_P(
    Types, QMatmul,
    ::testing::Values(QMatmulCase{"i8", "bf16", "bf16", 7, 13, 96, false},
                      QMatmulCase{"i8", "", "f32", 7, 13, 100, true},
                      QMatmulCase{"i8", "f16", "f16", 16, 5, 64, true},
                      QMatmulCase{"f8E4M3FN", "bf16", "bf16", 7, 13, 96, false},
                      QMatmulCase{"f8E4M3FN", "", "f32", 7, 13, 100, true},
                      QMatmulCase{"f8E4M3FN", "f32", "f16", 3, 9, 33, true}));

TEST(QMatmul, I8AccumulationIsExact) {
  // Sums of up to 4099 * 127 * 127 = 66e6 > 2^24: accumulating in f32 would
  // round on the way; the i32 sum is exact and rounded once at the end.
  int64_t m = 3, n = 4, k = 4099;
  std::string src = makeModule(
      {"tensor<?x?xi8>", "tensor<?xf32>", "tensor<?x?xi8>", "tensor<?xf32>"},
      {"tensor<?x?xf32>"},
      "  %r0 = loom.qmatmul %a0, %a1, %a2, %a3 : (tensor<?x?xi8>, "
      "tensor<?xf32>, tensor<?x?xi8>, tensor<?xf32>) -> tensor<?x?xf32>\n");
  Tensor xq = randomInts({m, k}, 411, 90, 127);
  Tensor w = randomInts({n, k}, 412, 90, 127);
  for (int64_t j = 0; j < k; ++j) // one row of negative products
    w.data[static_cast<size_t>(n * k - 1 - j)] *= -1;
  Tensor xs({m}, std::vector<double>(static_cast<size_t>(m), 1.0));
  Tensor ws({n}, std::vector<double>(static_cast<size_t>(n), 1.0));
  auto out = runOnCPU(src, "f", {xq, xs, w, ws});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor expected = ref::qmatmul(xq, xs, w, ws);
  for (size_t i = 0; i < expected.data.size(); ++i)
    EXPECT_EQ((*out)[0].data[i],
              static_cast<double>(static_cast<float>(expected.data[i])))
        << "element " << i;
}

TEST(QMatmul, F8SpecialValuesDecode) {
  // Subnormals, the largest value and signs, with xs = w_scale = 1: every
  // product is exact in f32 and so is each of these short sums.
  const double u = std::ldexp(1.0, -9);
  Tensor xq({2, 4}, {u, 7 * u, 448, -0.0, -u, 8 * u, -448, 1.125});
  Tensor w({2, 4}, {1, 1, 1, 1, 1, -2, 0.5, 3});
  Tensor ones2({2}, {1.0, 1.0});
  std::string src = makeModule(
      {"tensor<2x4xf8E4M3FN>", "tensor<2xf32>", "tensor<2x4xf8E4M3FN>",
       "tensor<2xf32>"},
      {"tensor<2x2xf32>"},
      "  %r0 = loom.qmatmul %a0, %a1, %a2, %a3 : (tensor<2x4xf8E4M3FN>, "
      "tensor<2xf32>, tensor<2x4xf8E4M3FN>, tensor<2xf32>) -> "
      "tensor<2x2xf32>\n");
  auto out = runOnCPU(src, "f", {xq, ones2, w, ones2});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor expected = ref::qmatmul(xq, ones2, w, ones2);
  for (size_t i = 0; i < expected.data.size(); ++i)
    EXPECT_EQ((*out)[0].data[i], expected.data[i]) << "element " << i;
}

TEST(QMatmul, QuantizeThenQMatmul) {
  // The W8A8 / FP8 path of a block: per-row quantization of the activations
  // feeding the quantized product, against the references chained.
  for (const char *q : {"i8", "f8E4M3FN"}) {
    SCOPED_TRACE(q);
    int64_t m = 7, n = 13, k = 96;
    std::string qt = tensorType({-1, k}, q), wt = tensorType({n, k}, q);
    std::string src = makeModule(
        {"tensor<?x96xbf16>", wt, "tensor<13xf32>", "tensor<13xbf16>"},
        {"tensor<?x13xbf16>"},
        "  %q, %s = loom.quantize %a0 : (tensor<?x96xbf16>) -> (" + qt +
            ", tensor<?xf32>)\n"
            "  %r0 = loom.qmatmul %q, %s, %a1, %a2, %a3 : (" +
            qt + ", tensor<?xf32>, " + wt +
            ", tensor<13xf32>, tensor<13xbf16>) -> tensor<?x13xbf16>\n");
    Tensor x = randomTensor("bf16", {m, k}, 421);
    Tensor w = std::string(q) == "i8"
                   ? randomInts({n, k}, 422, -127, 127)
                   : randomTensor(q, {n, k}, 422, -448.0, 448.0);
    Tensor ws = randomTensor("f32", {n}, 423, 1e-3, 1e-2);
    Tensor b = randomTensor("bf16", {n}, 424);
    auto out = runOnCPU(src, "f", {x, w, ws, b});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    ref::Quantized xq =
        ref::quantize(x, std::string(q) == "i8" ? ref::QuantKind::I8
                                                : ref::QuantKind::F8E4M3FN);
    Tensor expected = ref::qmatmul(xq.xq, xq.xs, w, ws, &b);
    EXPECT_LT(relativeError((*out)[0], expected), tolerance("bf16"));
  }
}

} // namespace
