// The example blocks of examples/ run end to end on the CPU and match a
// composition of the double-precision references, with each op's result
// rounded to its element type as the contract specifies.
#include "Harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
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

/// Elements [begin, end) of dimension `dim` of `x`.
Tensor sliceDim(const Tensor &x, int64_t dim, int64_t begin, int64_t end) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i)
    outer *= x.shape[i];
  for (int64_t i = dim + 1; i < x.rank(); ++i)
    inner *= x.shape[i];
  std::vector<int64_t> shape = x.shape;
  shape[dim] = end - begin;
  Tensor y(shape);
  int64_t n = x.shape[dim], m = end - begin;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t i = 0; i < inner; ++i)
        y.data[(o * m + j) * inner + i] =
            x.data[(o * n + begin + j) * inner + i];
  return y;
}

/// The tensors of `parts` one after the other along dimension `dim`.
Tensor concatDim(const std::vector<Tensor> &parts, int64_t dim) {
  int64_t outer = 1, inner = 1, total = 0;
  for (int64_t i = 0; i < dim; ++i)
    outer *= parts[0].shape[i];
  for (int64_t i = dim + 1; i < parts[0].rank(); ++i)
    inner *= parts[0].shape[i];
  for (const Tensor &p : parts)
    total += p.shape[dim];
  std::vector<int64_t> shape = parts[0].shape;
  shape[dim] = total;
  Tensor y(shape);
  int64_t at = 0;
  for (const Tensor &p : parts) {
    int64_t m = p.shape[dim];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < m; ++j)
        for (int64_t i = 0; i < inner; ++i)
          y.data[(o * total + at + j) * inner + i] =
              p.data[(o * m + j) * inner + i];
    at += m;
  }
  return y;
}

/// `f` applied to every element.
Tensor map(Tensor x, const std::function<double(double)> &f) {
  for (double &v : x.data)
    v = f(v);
  return x;
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

/// examples/hybrid_block.mlir: chunked prefill feeding a decode step through
/// the two linear-attention layers' states. prefill(x1, zero states),
/// prefill(x2, the states it returned), decode(x3, the states of that), each a
/// separate call (and, on the Compiled path, a separate module load), against
/// one double-precision composition over x1 ++ x2 ++ x3 (401 tokens): each
/// call's y is a slice of the whole sequence's y, and each call's final
/// states are the recurrences' states after its last token, computed over the
/// whole prefix in one go.
TEST_P(Examples, HybridBlock) {
  const int64_t S1 = 200, S2 = 200, S3 = 1, C = 256, H = 4, D = 64, I = 512;
  auto bf = [](Tensor t) { return roundedTo("bf16", std::move(t)); };
  auto f32 = [](double v) { return roundTo("f32", v); };
  uint64_t seed = 500;
  double ws = 1.0 / std::sqrt(double(C)), wsd = 1.0 / std::sqrt(double(I));
  Tensor x1 = randomTensor("bf16", {S1, C}, seed++);
  Tensor x2 = randomTensor("bf16", {S2, C}, seed++);
  Tensor x3 = randomTensor("bf16", {S3, C}, seed++);
  auto norm = [&](int64_t n) {
    return randomTensor("bf16", {n}, seed++, 0.5, 1.5);
  };
  auto weight = [&](int64_t n, int64_t k, double s) {
    return randomTensor("bf16", {n, k}, seed++, -s, s);
  };
  Tensor glaNorm = norm(C), glaWq = weight(C, C, ws), glaWk = weight(C, C, ws),
         glaWv = weight(C, C, ws), glaWg = weight(C, C, ws);
  // Gate logits z = h Wg^T + bg of about 1 .. 4: gk = logsigmoid(z) / 16 in
  // about [-0.02, -0.001], so a key dimension remembers 50 to 1000 tokens and
  // the state that crosses each call boundary still counts at the next.
  Tensor glaBg = randomTensor("bf16", {C}, seed++, 1.0, 4.0);
  Tensor glaWo = weight(C, C, ws);
  Tensor gdnNorm = norm(C), gdnWq = weight(C, C, ws), gdnWk = weight(C, C, ws),
         gdnWv = weight(C, C, ws), gdnWa = weight(H, C, ws);
  // dt_bias as Qwen3-Next initializes it: softplus(dt_bias) in about
  // [0.002, 0.05], a per-head decay over tens to hundreds of tokens.
  Tensor gdnDtBias = randomTensor("bf16", {H}, seed++, -6.0, -3.0);
  Tensor gdnWb = weight(H, C, ws), gdnWz = weight(C, C, ws),
         gdnOutNorm = norm(D), gdnWo = weight(C, C, ws);
  Tensor mlpNorm = norm(C), wGate = weight(I, C, ws), wUp = weight(I, C, ws),
         wDown = weight(C, I, wsd);
  // In the order of the entries' arguments, between x and the states.
  std::vector<Tensor> weights = {
      glaNorm, glaWq,      glaWk, glaWv,   glaWg, glaBg,     glaWo,
      gdnNorm, gdnWq,      gdnWk, gdnWv,   gdnWa, gdnDtBias, gdnWb,
      gdnWz,   gdnOutNorm, gdnWo, mlpNorm, wGate, wUp,       wDown};

  std::string source = readExample("hybrid_block");
  auto call = [&](const char *entry, const Tensor &x, const Tensor &glaState,
                  const Tensor &gdnState) {
    std::vector<Tensor> inputs = {x};
    inputs.insert(inputs.end(), weights.begin(), weights.end());
    inputs.push_back(glaState);
    inputs.push_back(gdnState);
    return runPath(GetParam(), source, entry, inputs);
  };
  Tensor zeros({1, H, D, D});
  auto r1 = call("hybrid_prefill", x1, zeros, zeros);
  ASSERT_TRUE(static_cast<bool>(r1)) << llvm::toString(r1.takeError());
  ASSERT_EQ(r1->size(), 3u);
  auto r2 = call("hybrid_prefill", x2, (*r1)[1], (*r1)[2]);
  ASSERT_TRUE(static_cast<bool>(r2)) << llvm::toString(r2.takeError());
  ASSERT_EQ(r2->size(), 3u);
  auto r3 = call("hybrid_decode", x3, (*r2)[1], (*r2)[2]);
  ASSERT_TRUE(static_cast<bool>(r3)) << llvm::toString(r3.takeError());
  ASSERT_EQ(r3->size(), 3u);

  // The block over a whole sequence X [S, C] from zero states: y, and
  // both layers' states after each token count in `ends` (the recurrence
  // over the prefix, in one go).
  struct Whole {
    Tensor y;
    std::vector<Tensor> gla, gdn;
  };
  auto reference = [&](const Tensor &X, const std::vector<int64_t> &ends) {
    int64_t S = X.shape[0];
    auto split = [&](const Tensor &t) { return reshaped(t, {1, S, H, D}); };
    auto heads = [&](const Tensor &t) { return swapSH(split(t)); };
    // [S, H] -> [1, H, S]
    auto perHead = [&](const Tensor &t) {
      return reshaped(swapSH(reshaped(t, {1, S, H, 1})), {1, H, S});
    };
    auto prefixStates = [&](const Tensor &q, const Tensor &k, const Tensor &v,
                            ref::RecurrentOptions o) {
      std::vector<Tensor> states;
      Tensor gate = o.gate, beta = o.beta;
      for (int64_t e : ends) {
        o.gate = sliceDim(gate, 2, 0, e);
        if (beta.rank() > 0)
          o.beta = sliceDim(beta, 2, 0, e);
        states.push_back(ref::linearAttentionRecurrent(sliceDim(q, 2, 0, e),
                                                       sliceDim(k, 2, 0, e),
                                                       sliceDim(v, 2, 0, e), o)
                             .finalState);
      }
      return states;
    };
    Whole w;
    // GLA: gk = -log1p(exp(-z)) / 16, each f32 op rounded to f32 (the
    // negation and the division by 16 are exact).
    Tensor h = bf(ref::rmsNorm(X, glaNorm, 1e-6));
    Tensor q = heads(bf(ref::linear(h, glaWq)));
    Tensor k = heads(bf(ref::linear(h, glaWk)));
    Tensor v = heads(bf(ref::linear(h, glaWv)));
    Tensor gk = heads(map(bf(ref::linear(h, glaWg, &glaBg)), [&](double z) {
      return f32(std::log1p(f32(std::exp(-z)))) * -0.0625;
    }));
    ref::RecurrentOptions gla;
    gla.gate = gk;
    gla.scale = 0.125;
    Tensor glaO = bf(ref::linearAttentionRecurrent(q, k, v, gla).output);
    w.gla = prefixStates(q, k, v, gla);
    Tensor xa =
        bf(add(X, bf(ref::linear(reshaped(swapSH(glaO), {S, C}), glaWo))));
    // Gated DeltaNet: g = -log1p(exp(a)), beta = 1 / (1 + exp(-b)) in f32;
    // q, k L2-normalized as rms_norm with gain 1/8 over D = 64.
    Tensor h2 = bf(ref::rmsNorm(xa, gdnNorm, 1e-6));
    Tensor l2Gain({D}, std::vector<double>(D, 0.125));
    Tensor gq = swapSH(
        bf(ref::rmsNorm(split(bf(ref::linear(h2, gdnWq))), l2Gain, 1e-6)));
    Tensor gkey = swapSH(
        bf(ref::rmsNorm(split(bf(ref::linear(h2, gdnWk))), l2Gain, 1e-6)));
    Tensor gv = heads(bf(ref::linear(h2, gdnWv)));
    ref::RecurrentOptions gdn;
    gdn.gate =
        perHead(map(bf(ref::linear(h2, gdnWa, &gdnDtBias)), [&](double a) {
          return -f32(std::log1p(f32(std::exp(a))));
        }));
    gdn.beta = perHead(map(bf(ref::linear(h2, gdnWb)), [&](double b) {
      return f32(1.0 / f32(f32(std::exp(-b)) + 1.0));
    }));
    gdn.rule = ref::UpdateRule::Delta;
    gdn.scale = 0.125;
    Tensor gdnO = bf(ref::linearAttentionRecurrent(gq, gkey, gv, gdn).output);
    w.gdn = prefixStates(gq, gkey, gv, gdn);
    Tensor on = bf(ref::rmsNorm(swapSH(gdnO), gdnOutNorm, 1e-6));
    Tensor zs = bf(ref::silu(split(bf(ref::linear(h2, gdnWz)))));
    Tensor og = reshaped(bf(mul(on, zs)), {S, C});
    Tensor xb = bf(add(xa, bf(ref::linear(og, gdnWo))));
    // SwiGLU MLP.
    Tensor h3 = bf(ref::rmsNorm(xb, mlpNorm, 1e-6));
    Tensor gated = bf(mul(bf(ref::silu(bf(ref::linear(h3, wGate)))),
                          bf(ref::linear(h3, wUp))));
    w.y = bf(add(xb, bf(ref::linear(gated, wDown))));
    return w;
  };
  const int64_t E1 = S1, E2 = S1 + S2, E3 = S1 + S2 + S3;
  Whole whole = reference(concatDim({x1, x2, x3}, 0), {E1, E2, E3});

  // Measured (the JIT and the compiled library give the same numbers):
  // relative errors of y 2.4e-3, 2.5e-3, 2.7e-3 for the three calls (largest
  // |difference| 0.0625 on an rms of 1.6); the GLA states 1.6e-4, 9e-5,
  // 9e-5; the Gated DeltaNet states 3.4e-3, 3.1e-3, 3.2e-3. They are bf16
  // rounding flips (f32 sums in another order than the double reference's)
  // carried through the block: the GLA layer reads x directly, the Gated
  // DeltaNet layer reads the residual stream after the GLA layer, whose
  // flips reach all of its inputs. None of them grows from 200 to 401
  // tokens. The bounds are 3 to 4 times the measured errors; a dropped or
  // misplaced state is off by 0.4 to 1 (checked below).
  const double yTol = 1e-2, glaTol = 5e-4, gdnTol = 1e-2;
  expectClose((*r1)[0], sliceDim(whole.y, 0, 0, E1), yTol);
  expectClose((*r2)[0], sliceDim(whole.y, 0, E1, E2), yTol);
  expectClose((*r3)[0], sliceDim(whole.y, 0, E2, E3), yTol);
  expectClose((*r1)[1], whole.gla[0], glaTol);
  expectClose((*r1)[2], whole.gdn[0], gdnTol);
  expectClose((*r2)[1], whole.gla[1], glaTol);
  expectClose((*r2)[2], whole.gdn[1], gdnTol);
  expectClose((*r3)[1], whole.gla[2], glaTol);
  expectClose((*r3)[2], whole.gdn[2], gdnTol);

  // The checks above can tell a carried state from a dropped one: x2 run
  // from zero states is far from its slice of the whole sequence, in y and in
  // both states (measured 0.58, 0.38, 0.50), and so is the decode step from
  // zero states (0.95).
  Whole fresh2 = reference(x2, {S2});
  EXPECT_GT(relativeError(fresh2.y, sliceDim(whole.y, 0, E1, E2)), 10 * yTol);
  const double stateTol = std::max(glaTol, gdnTol);
  EXPECT_GT(relativeError(fresh2.gla[0], whole.gla[1]), 10 * stateTol);
  EXPECT_GT(relativeError(fresh2.gdn[0], whole.gdn[1]), 10 * stateTol);
  Whole fresh3 = reference(x3, {S3});
  EXPECT_GT(relativeError(fresh3.y, sliceDim(whole.y, 0, E2, E3)), 10 * yTol);
}

INSTANTIATE_TEST_SUITE_P(Paths, Examples,
                         ::testing::Values(Path::JIT, Path::Compiled), pathName);

} // namespace
