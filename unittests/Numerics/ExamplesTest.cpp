// The four example blocks of examples/ run end to end on the CPU and match a
// composition of the double-precision references, with each op's result
// rounded to its element type as the contract specifies.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

std::string readExample(const std::string &name) {
  std::ifstream in(std::string(LOOM_SOURCE_DIR) + "/examples/" + name +
                   ".mlir");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// [B, S, H, D] <-> [B, H, S, D] (its own inverse).
Tensor swapSH(const Tensor &x) {
  int64_t b = x.shape[0], s = x.shape[1], h = x.shape[2], d = x.shape[3];
  Tensor y({b, h, s, d});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < s; ++j)
      for (int64_t k = 0; k < h; ++k)
        for (int64_t l = 0; l < d; ++l)
          y.data[((i * h + k) * s + j) * d + l] =
              x.data[((i * s + j) * h + k) * d + l];
  return y;
}

Tensor reshaped(Tensor x, std::vector<int64_t> shape) {
  x.shape = std::move(shape);
  return x;
}

Tensor add(const Tensor &a, const Tensor &b) {
  Tensor r = a;
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] += b.data[i];
  return r;
}

Tensor mul(const Tensor &a, const Tensor &b) {
  Tensor r = a;
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] *= b.data[i];
  return r;
}

/// Attention heads [S, H*D] -> [1, H, S, D].
Tensor toHeads(const Tensor &x, int64_t heads) {
  int64_t s = x.shape[0], hd = x.shape[1];
  return swapSH(reshaped(x, {1, s, heads, hd / heads}));
}

/// [1, H, S, D] -> [S, H*D].
Tensor fromHeads(const Tensor &x) {
  Tensor t = swapSH(x);
  return reshaped(t, {t.shape[1], t.shape[2] * t.shape[3]});
}

Tensor ropeTable(int64_t s, int64_t half, bool isCos) {
  Tensor t({s, half});
  for (int64_t i = 0; i < s; ++i)
    for (int64_t j = 0; j < half; ++j) {
      double angle = i * std::pow(10000.0, -2.0 * j / (2 * half));
      t.data[i * half + j] = isCos ? std::cos(angle) : std::sin(angle);
    }
  return roundedTo("f32", t);
}

/// Each example runs twice: through the JIT and through loom-compile's shared
/// library and the runtime (the ABI: packed i4 weights, fresh results).
enum class Path { JIT, Compiled };

std::string pathName(const ::testing::TestParamInfo<Path> &info) {
  return info.param == Path::JIT ? "JIT" : "Compiled";
}

llvm::Expected<std::vector<Tensor>> runPath(Path path, llvm::StringRef source,
                                            llvm::StringRef function,
                                            const std::vector<Tensor> &inputs) {
  return path == Path::JIT ? runOnCPU(source, function, inputs)
                           : runCompiled(source, function, inputs);
}

class Examples : public ::testing::TestWithParam<Path> {};

void expectClose(const Tensor &out, const Tensor &expected, double tol) {
  ASSERT_EQ(out.shape, expected.shape);
  double err = relativeError(out, expected);
  EXPECT_LT(err, tol) << "relative error " << err;
}

TEST_P(Examples, LlamaBlock) {
  const int64_t S = 128, C = 512, I = 1408, HQ = 8, HKV = 2, D = 64;
  auto bf = [](Tensor t) { return roundedTo("bf16", std::move(t)); };
  uint64_t seed = 100;
  Tensor x = randomTensor("bf16", {S, C}, seed++);
  Tensor attnNorm = randomTensor("bf16", {C}, seed++, 0.5, 1.5);
  auto weight = [&](int64_t n, int64_t k) {
    return std::make_pair(randomInts({n, k}, seed++, -8, 7),
                          randomTensor("f32", {n, k / 128}, seed++, 0.002, 0.02));
  };
  auto [wq, sq] = weight(HQ * D, C);
  auto [wk, sk] = weight(HKV * D, C);
  auto [wv, sv] = weight(HKV * D, C);
  auto [wo, so] = weight(C, HQ * D);
  Tensor mlpNorm = randomTensor("bf16", {C}, seed++, 0.5, 1.5);
  auto [wg, sg] = weight(I, C);
  auto [wu, su] = weight(I, C);
  auto [wd, sd] = weight(C, I);
  Tensor cosT = ropeTable(S, D / 2, true), sinT = ropeTable(S, D / 2, false);

  auto out = runPath(GetParam(), readExample("llama_block"), "llama_block",
                      {x, attnNorm, wq, sq, wk, sk, wv, sv, wo, so, mlpNorm, wg,
                       sg, wu, su, wd, sd, cosT, sinT});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());

  Tensor h = bf(ref::rmsNorm(x, attnNorm, 1e-5));
  Tensor q = bf(ref::qlinear(h, wq, sq, nullptr, 128));
  Tensor k = bf(ref::qlinear(h, wk, sk, nullptr, 128));
  Tensor v = bf(ref::qlinear(h, wv, sv, nullptr, 128));
  Tensor qr = bf(ref::rope(toHeads(q, HQ), cosT, sinT));
  Tensor kr = bf(ref::rope(toHeads(k, HKV), cosT, sinT));
  Tensor a = bf(ref::attention(qr, kr, toHeads(v, HKV), /*causal=*/true));
  Tensor o = bf(ref::qlinear(fromHeads(a), wo, so, nullptr, 128));
  Tensor x1 = bf(add(x, o));
  Tensor h2 = bf(ref::rmsNorm(x1, mlpNorm, 1e-5));
  Tensor gate = bf(ref::qlinear(h2, wg, sg, nullptr, 128));
  Tensor up = bf(ref::qlinear(h2, wu, su, nullptr, 128));
  Tensor gated = bf(mul(bf(ref::silu(gate)), up));
  Tensor down = bf(ref::qlinear(gated, wd, sd, nullptr, 128));
  expectClose((*out)[0], bf(add(x1, down)), 1e-2);
}

TEST_P(Examples, PoolFormerBlock) {
  uint64_t seed = 200;
  Tensor x = randomTensor("f32", {1, 16, 16, 64}, seed++);
  Tensor n1w = randomTensor("f32", {64}, seed++, 0.5, 1.5);
  Tensor n1b = randomTensor("f32", {64}, seed++);
  Tensor n2w = randomTensor("f32", {64}, seed++, 0.5, 1.5);
  Tensor n2b = randomTensor("f32", {64}, seed++);
  Tensor fc1w = randomTensor("f32", {256, 64}, seed++, -0.1, 0.1);
  Tensor fc1b = randomTensor("f32", {256}, seed++);
  Tensor fc2w = randomTensor("f32", {64, 256}, seed++, -0.1, 0.1);
  Tensor fc2b = randomTensor("f32", {64}, seed++);
  auto out = runPath(GetParam(), readExample("poolformer_block"), "poolformer_block",
                      {x, n1w, n1b, n2w, n2b, fc1w, fc1b, fc2w, fc2b});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor x1 = add(x, ref::poolMixer(ref::layerNorm(x, n1w, n1b, 1e-5), 3));
  Tensor hdn = ref::gelu(ref::linear(ref::layerNorm(x1, n2w, n2b, 1e-5), fc1w,
                                     &fc1b));
  expectClose((*out)[0], add(x1, ref::linear(hdn, fc2w, &fc2b)), 1e-5);
}

TEST_P(Examples, LongContextBlock) {
  const int64_t S = 1024, C = 512, I = 1408, HQ = 8, HKV = 2, D = 64;
  auto bf = [](Tensor t) { return roundedTo("bf16", std::move(t)); };
  uint64_t seed = 300;
  Tensor x = randomTensor("bf16", {S, C}, seed++);
  Tensor attnNorm = randomTensor("bf16", {C}, seed++, 0.5, 1.5);
  double ws = 1.0 / std::sqrt(double(C));
  Tensor wq = randomTensor("bf16", {HQ * D, C}, seed++, -ws, ws);
  Tensor wk = randomTensor("bf16", {HKV * D, C}, seed++, -ws, ws);
  Tensor wv = randomTensor("bf16", {HKV * D, C}, seed++, -ws, ws);
  Tensor wo = randomTensor("bf16", {C, HQ * D}, seed++, -ws, ws);
  Tensor mlpNorm = randomTensor("bf16", {C}, seed++, 0.5, 1.5);
  Tensor wg = randomTensor("bf16", {I, C}, seed++, -ws, ws);
  Tensor wu = randomTensor("bf16", {I, C}, seed++, -ws, ws);
  double wsd = 1.0 / std::sqrt(double(I));
  Tensor wd = randomTensor("bf16", {C, I}, seed++, -wsd, wsd);
  Tensor cosT = ropeTable(S, D / 2, true), sinT = ropeTable(S, D / 2, false);
  auto out = runPath(GetParam(), readExample("long_context_block"), "long_context_block",
                      {x, attnNorm, wq, wk, wv, wo, mlpNorm, wg, wu, wd, cosT,
                       sinT});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());

  Tensor h = bf(ref::rmsNorm(x, attnNorm, 1e-6));
  Tensor q = bf(ref::linear(h, wq)), k = bf(ref::linear(h, wk)),
         v = bf(ref::linear(h, wv));
  Tensor qr = bf(ref::rope(toHeads(q, HQ), cosT, sinT));
  Tensor kr = bf(ref::rope(toHeads(k, HKV), cosT, sinT));
  Tensor layout = ref::selectBlocks(qr, kr, 64, 64, 4, /*causal=*/true);
  Tensor a = bf(ref::blockSparseAttention(qr, kr, toHeads(v, HKV), layout, 64,
                                          64, /*causal=*/true));
  Tensor x1 = bf(add(x, bf(ref::linear(fromHeads(a), wo))));
  Tensor h2 = bf(ref::rmsNorm(x1, mlpNorm, 1e-6));
  Tensor gated = bf(mul(bf(ref::silu(bf(ref::linear(h2, wg)))),
                        bf(ref::linear(h2, wu))));
  // A near-tie in select_blocks may pick another block in a few rows after
  // bf16 rounding; the residual stream keeps the block's relative error small.
  expectClose((*out)[0], bf(add(x1, bf(ref::linear(gated, wd)))), 1e-2);
}

TEST_P(Examples, LinearAttentionBlock) {
  const int64_t S = 256, C = 256, H = 4;
  uint64_t seed = 400;
  double ws = 1.0 / std::sqrt(double(C));
  Tensor x = randomTensor("f32", {1, S, C}, seed++);
  Tensor nw = randomTensor("f32", {C}, seed++, 0.5, 1.5);
  Tensor nb = randomTensor("f32", {C}, seed++);
  std::vector<Tensor> w, b;
  for (int i = 0; i < 4; ++i) {
    w.push_back(randomTensor("f32", {C, C}, seed++, -ws, ws));
    b.push_back(randomTensor("f32", {C}, seed++, -0.1, 0.1));
  }
  auto out = runPath(GetParam(), readExample("linear_attention_block"),
                      "linear_attention_block",
                      {x, nw, nb, w[0], b[0], w[1], b[1], w[2], b[2], w[3], b[3]});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor h = ref::layerNorm(x, nw, nb, 1e-5);
  auto heads = [&](const Tensor &t) {
    return swapSH(reshaped(t, {1, S, H, C / H}));
  };
  Tensor q = heads(ref::linear(h, w[0], &b[0]));
  Tensor k = heads(ref::linear(h, w[1], &b[1]));
  Tensor v = heads(ref::linear(h, w[2], &b[2]));
  Tensor a = ref::linearAttention(q, k, v, /*causal=*/true,
                                  ref::FeatureMap::EluPlusOne,
                                  {0.00390625, 0.0078125, 0.015625, 0.03125},
                                  1.0, /*normalize=*/true);
  Tensor o = reshaped(swapSH(a), {1, S, C});
  expectClose((*out)[0], add(x, ref::linear(o, w[3], &b[3])), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Paths, Examples,
                         ::testing::Values(Path::JIT, Path::Compiled), pathName);

} // namespace
