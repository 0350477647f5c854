// Sanity tests of the reference implementations: hand-computed tiny cases and properties from DIALECT.md.
#include "Reference.h"

#include "loom/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

using namespace loom::ref;

namespace {

Tensor randomTensor(std::vector<int64_t> shape, unsigned seed,
                    double lo = -1.0, double hi = 1.0) {
  Tensor t(std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : t.data)
    v = dist(rng);
  return t;
}

Tensor filled(std::vector<int64_t> shape, double value) {
  Tensor t(std::move(shape));
  for (double &v : t.data)
    v = value;
  return t;
}

void expectNear(const Tensor &got, const Tensor &want, double tol = 1e-12) {
  ASSERT_EQ(got.shape, want.shape);
  for (size_t i = 0; i < got.data.size(); ++i)
    EXPECT_NEAR(got.data[i], want.data[i], tol) << "at flat index " << i;
}

void expectValues(const Tensor &got, const std::vector<double> &want,
                  double tol = 1e-12) {
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data[i], want[i], tol) << "at flat index " << i;
}

// t[:, :, lo:hi, :] of a rank-4 tensor.
Tensor sliceSeq(const Tensor &t, int64_t lo, int64_t hi) {
  Tensor out({t.shape[0], t.shape[1], hi - lo, t.shape[3]});
  for (int64_t a = 0; a < t.shape[0]; ++a)
    for (int64_t b = 0; b < t.shape[1]; ++b)
      for (int64_t s = lo; s < hi; ++s)
        for (int64_t d = 0; d < t.shape[3]; ++d)
          out.at({a, b, s - lo, d}) = t.at({a, b, s, d});
  return out;
}

// t[:, lo:hi] of a rank-4 tensor.
Tensor sliceHeads(const Tensor &t, int64_t lo, int64_t hi) {
  Tensor out({t.shape[0], hi - lo, t.shape[2], t.shape[3]});
  for (int64_t a = 0; a < t.shape[0]; ++a)
    for (int64_t h = lo; h < hi; ++h)
      for (int64_t s = 0; s < t.shape[2]; ++s)
        for (int64_t d = 0; d < t.shape[3]; ++d)
          out.at({a, h - lo, s, d}) = t.at({a, h, s, d});
  return out;
}

// Each kv head repeated `r` times, so GQA can be compared against MHA.
Tensor repeatHeads(const Tensor &t, int64_t r) {
  Tensor out({t.shape[0], t.shape[1] * r, t.shape[2], t.shape[3]});
  for (int64_t a = 0; a < out.shape[0]; ++a)
    for (int64_t h = 0; h < out.shape[1]; ++h)
      for (int64_t s = 0; s < out.shape[2]; ++s)
        for (int64_t d = 0; d < out.shape[3]; ++d)
          out.at({a, h, s, d}) = t.at({a, h / r, s, d});
  return out;
}

std::vector<double> row(const Tensor &t, std::vector<int64_t> prefix) {
  std::vector<double> out;
  prefix.push_back(0);
  for (int64_t i = 0; i < t.shape.back(); ++i) {
    prefix.back() = i;
    out.push_back(t.at(prefix));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// loom.attention
//===----------------------------------------------------------------------===//

TEST(Attention, OneKeyReturnsV) {
  Tensor q = randomTensor({2, 3, 4, 5}, 1);
  Tensor k = randomTensor({2, 3, 1, 5}, 2);
  Tensor v = randomTensor({2, 3, 1, 6}, 3);
  Tensor o = attention(q, k, v);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t e = 0; e < 6; ++e)
          EXPECT_NEAR(o.at({b, h, i, e}), v.at({b, h, 0, e}), 1e-15);
}

TEST(Attention, HandComputed) {
  Tensor q({1, 1, 1, 2}, {1, 0});
  Tensor k({1, 1, 2, 2}, {1, 0, 0, 1});
  Tensor v({1, 1, 2, 1}, {1, 2});
  double e = std::exp(1.0);
  expectValues(attention(q, k, v, false, 1.0), {(e + 2) / (e + 1)});
  // Default scale 1/sqrt(D).
  double w = std::exp(1 / std::sqrt(2.0));
  expectValues(attention(q, k, v), {(w + 2) / (w + 1)});
  expectNear(attention(q, k, v), attention(q, k, v, false, 1 / std::sqrt(2.0)));
}

TEST(Attention, UniformScoresAverageV) {
  Tensor q = filled({1, 1, 3, 4}, 0.0);
  Tensor k = randomTensor({1, 1, 5, 4}, 4);
  Tensor v({1, 1, 5, 1}, {1, 2, 3, 4, 5});
  expectValues(attention(q, k, v), {3, 3, 3});
}

TEST(Attention, CausalBottomRightWithMoreQueriesThanKeys) {
  // Sq = 3, Skv = 2: i' = i - 1, so row 0 sees nothing.
  Tensor q = randomTensor({1, 1, 3, 2}, 5);
  Tensor k = randomTensor({1, 1, 2, 2}, 6);
  Tensor v({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor o = attention(q, k, v, true);
  EXPECT_EQ(row(o, {0, 0, 0}), (std::vector<double>{0, 0}));
  EXPECT_NEAR(o.at({0, 0, 1, 0}), 1, 1e-15);
  EXPECT_NEAR(o.at({0, 0, 1, 1}), 2, 1e-15);
  Tensor full = attention(sliceSeq(q, 2, 3), k, v);
  EXPECT_EQ(row(o, {0, 0, 2}), row(full, {0, 0, 0}));

  // Many more queries than keys: all but the last Skv rows are zero.
  Tensor q2 = randomTensor({1, 2, 6, 2}, 7);
  Tensor o2 = attention(q2, k, v, true);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 4; ++i)
      EXPECT_EQ(row(o2, {0, h, i}), (std::vector<double>{0, 0}));
  EXPECT_NE(row(o2, {0, 0, 5}), (std::vector<double>{0, 0}));
}

TEST(Attention, CausalAlignment) {
  Tensor q = randomTensor({1, 2, 1, 4}, 8);
  Tensor k = randomTensor({1, 2, 5, 4}, 9);
  Tensor v = randomTensor({1, 2, 5, 3}, 10);
  // A decode step (Sq = 1) is the last row: it sees every key.
  expectNear(attention(q, k, v, true), attention(q, k, v, false));
  // Square causal: row 0 sees only key 0.
  Tensor qs = randomTensor({1, 2, 5, 4}, 11);
  Tensor o = attention(qs, k, v, true);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t e = 0; e < 3; ++e)
      EXPECT_NEAR(o.at({0, h, 0, e}), v.at({0, h, 0, e}), 1e-15);
  // Row i of square causal equals non-causal attention over keys 0..i.
  Tensor o3 = attention(sliceSeq(qs, 3, 4), sliceSeq(k, 0, 4),
                        sliceSeq(v, 0, 4));
  EXPECT_EQ(row(o, {0, 1, 3}), row(o3, {0, 1, 0}));
}

TEST(Attention, Window) {
  Tensor q = randomTensor({1, 1, 3, 2}, 12);
  Tensor k = randomTensor({1, 1, 5, 2}, 13);
  Tensor v = randomTensor({1, 1, 5, 2}, 14);
  // i' = i + 2. W = 1: only the diagonal key j = i'.
  Tensor o1 = attention(q, k, v, true, std::nullopt, 1);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(row(o1, {0, 0, i}), row(v, {0, 0, i + 2}));
  // W = 2: keys i'-1 and i'.
  Tensor o2 = attention(q, k, v, true, std::nullopt, 2);
  for (int64_t i = 0; i < 3; ++i) {
    Tensor ref = attention(sliceSeq(q, i, i + 1), sliceSeq(k, i + 1, i + 3),
                           sliceSeq(v, i + 1, i + 3));
    std::vector<double> got = row(o2, {0, 0, i}), want = row(ref, {0, 0, 0});
    for (size_t e = 0; e < got.size(); ++e)
      EXPECT_NEAR(got[e], want[e], 1e-15);
  }
  // W = 0 hides every key; a wide window is plain causal.
  Tensor o0 = attention(q, k, v, true, std::nullopt, 0);
  for (double x : o0.data)
    EXPECT_EQ(x, 0.0);
  expectNear(attention(q, k, v, true, std::nullopt, 100),
             attention(q, k, v, true));
}

TEST(Attention, GQAHeadMapping) {
  Tensor q = randomTensor({2, 6, 3, 4}, 15);
  Tensor k = randomTensor({2, 2, 5, 4}, 16);
  Tensor v = randomTensor({2, 2, 5, 3}, 17);
  // Query head h reads kv head h / 3.
  expectNear(attention(q, k, v, true),
             attention(q, repeatHeads(k, 3), repeatHeads(v, 3), true));
  // MQA.
  Tensor k1 = randomTensor({2, 1, 5, 4}, 18);
  Tensor v1 = randomTensor({2, 1, 5, 3}, 19);
  expectNear(attention(q, k1, v1),
             attention(q, repeatHeads(k1, 6), repeatHeads(v1, 6)));
  // Distinct single-key values make the mapping visible directly.
  Tensor kk = randomTensor({1, 2, 1, 4}, 20);
  Tensor vv({1, 2, 1, 1}, {10, 20});
  Tensor qq = randomTensor({1, 4, 1, 4}, 21);
  expectValues(attention(qq, kk, vv), {10, 10, 20, 20});
}

TEST(Attention, Softcap) {
  Tensor q({1, 1, 1, 1}, {2});
  Tensor k({1, 1, 2, 1}, {1, 0});
  Tensor v({1, 1, 2, 1}, {1, 0});
  // Scores (2, 0) become (tanh 2, 0) with c = 1.
  double w = std::exp(std::tanh(2.0));
  expectValues(attention(q, k, v, false, 1.0, std::nullopt, 1.0),
               {w / (w + 1)});
  double c = 3.0, wc = std::exp(c * std::tanh(2.0 / c));
  expectValues(attention(q, k, v, false, 1.0, std::nullopt, c),
               {wc / (wc + 1)});
  // The cap applies after the scale.
  double ws = std::exp(std::tanh(0.5 * 2.0));
  expectValues(attention(q, k, v, false, 0.5, std::nullopt, 1.0),
               {ws / (ws + 1)});
  expectNear(attention(q, k, v, false, 1.0, std::nullopt, 1e9),
             attention(q, k, v, false, 1.0), 1e-12);
}

TEST(Attention, RejectsContractViolations) {
  Tensor q = randomTensor({1, 3, 2, 4}, 22);
  Tensor k = randomTensor({1, 2, 2, 4}, 23);
  Tensor v = randomTensor({1, 2, 2, 4}, 24);
  EXPECT_THROW(attention(q, k, v), std::invalid_argument);
  Tensor k2 = randomTensor({1, 3, 2, 4}, 25);
  Tensor v2 = randomTensor({1, 3, 2, 4}, 26);
  EXPECT_THROW(attention(q, k2, v2, false, std::nullopt, 4),
               std::invalid_argument);
  EXPECT_THROW(attention(q, k2, v2, false, std::nullopt, std::nullopt, 0.0),
               std::invalid_argument);
  Tensor v3 = randomTensor({1, 3, 3, 4}, 27);
  EXPECT_THROW(attention(q, k2, v3), std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// Serving masks: sink, per-head windows, sink logits
//===----------------------------------------------------------------------===//

TEST(ServingAttention, SinkLogitHandComputed) {
  // One key of score 1 and value 2, sink logit 0.5: the sink joins the
  // denominator only, o = 2 e^1 / (e^1 + e^0.5), lse = log(e^1 + e^0.5).
  Tensor q({1, 1, 1, 1}, {1});
  Tensor k({1, 1, 1, 1}, {1});
  Tensor v({1, 1, 1, 1}, {2});
  ServingMasks m;
  m.sinkLogits = {0.5};
  Tensor lse;
  Tensor o = servingAttention(q, k, v, false, 1.0, std::nullopt, std::nullopt,
                              m, &lse);
  double e1 = std::exp(1.0), eh = std::exp(0.5);
  expectValues(o, {2 * e1 / (e1 + eh)});
  expectValues(lse, {std::log(e1 + eh)});
  // The sink logit takes no scale and no softcap (scores are).
  Tensor o2 = servingAttention(q, k, v, false, 0.5, std::nullopt, 0.25, m);
  double es = std::exp(0.25 * std::tanh(0.5 / 0.25));
  expectValues(o2, {2 * es / (es + eh)});
  // A sink logit of -inf is no sink logit.
  m.sinkLogits = {-std::numeric_limits<double>::infinity()};
  expectValues(servingAttention(q, k, v, false, 1.0, std::nullopt,
                                std::nullopt, m),
               {2});
}

TEST(ServingAttention, EmptyRowWithSinkLogitIsZeroWithLseSink) {
  // Sq = 3 > Skv = 1 under causal: rows 0 and 1 see no key.
  Tensor q = randomTensor({1, 2, 3, 2}, 70);
  Tensor k = randomTensor({1, 1, 1, 2}, 71);
  Tensor v = randomTensor({1, 1, 1, 2}, 72);
  ServingMasks m;
  m.sinkLogits = {0.25, -1.5};
  Tensor lse;
  Tensor o = servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                              std::nullopt, m, &lse);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t i = 0; i < 2; ++i) {
      EXPECT_EQ(row(o, {0, h, i}), std::vector<double>(2, 0.0));
      EXPECT_EQ(lse.at({0, h, i}), m.sinkLogits[static_cast<size_t>(h)]);
    }
    EXPECT_NE(o.at({0, h, 2, 0}), 0.0);
  }
}

TEST(ServingAttention, SinksAndPerHeadWindows) {
  Tensor q = randomTensor({1, 2, 6, 3}, 73);
  Tensor k = randomTensor({1, 1, 9, 3}, 74);
  Tensor v = randomTensor({1, 1, 9, 2}, 75);
  // i' = i + 3. Head 0: window 2 and sinks {0, 1}; head 1: no window.
  ServingMasks m;
  m.headWindows = {2, 0};
  m.sink = 2;
  Tensor o = servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                              std::nullopt, m);
  for (int64_t i = 0; i < 6; ++i) {
    int64_t ip = i + 3;
    // Head 0 sees the sinks 0, 1 and the keys ip - 1, ip (disjoint here, as
    // ip - 1 >= 2): attention over those four keys.
    Tensor kk({1, 1, 4, 3}), vv({1, 1, 4, 2});
    std::vector<int64_t> keys{0, 1, ip - 1, ip};
    for (int64_t n = 0; n < 4; ++n) {
      for (int64_t d = 0; d < 3; ++d)
        kk.at({0, 0, n, d}) = k.at({0, 0, keys[static_cast<size_t>(n)], d});
      for (int64_t e = 0; e < 2; ++e)
        vv.at({0, 0, n, e}) = v.at({0, 0, keys[static_cast<size_t>(n)], e});
    }
    Tensor want0 = attention(sliceSeq(sliceHeads(q, 0, 1), i, i + 1), kk, vv);
    std::vector<double> got = row(o, {0, 0, i}), want = row(want0, {0, 0, 0});
    for (size_t e = 0; e < got.size(); ++e)
      EXPECT_NEAR(got[e], want[e], 1e-14) << "head 0 row " << i;
  }
  // Head 1 is plain causal.
  Tensor causal = attention(q, k, v, true);
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(row(o, {0, 1, i}), row(causal, {0, 1, i}));
  // A sink is never visible beyond causal: with Sq > Skv, row 0 (i' = -2)
  // sees nothing even with sinks.
  Tensor q2 = randomTensor({1, 1, 4, 3}, 76);
  Tensor k2 = sliceSeq(k, 0, 2), v2 = sliceSeq(v, 0, 2);
  ServingMasks m2;
  m2.headWindows = {1};
  m2.sink = 2;
  Tensor o2 = servingAttention(q2, k2, v2, true, std::nullopt, std::nullopt,
                               std::nullopt, m2);
  EXPECT_EQ(row(o2, {0, 0, 0}), std::vector<double>(2, 0.0));
  EXPECT_EQ(row(o2, {0, 0, 1}), std::vector<double>(2, 0.0));
  // Row 2 (i' = 0) sees key 0 only: v[0].
  EXPECT_EQ(row(o2, {0, 0, 2}), row(v2, {0, 0, 0}));
  // Without a window a sink changes nothing; a scalar window equals the same
  // value for every head.
  ServingMasks onlySink;
  onlySink.sink = 3;
  expectNear(servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                              std::nullopt, onlySink),
             attention(q, k, v, true));
  ServingMasks same;
  same.headWindows = {3, 3};
  expectNear(servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                              std::nullopt, same),
             attention(q, k, v, true, std::nullopt, 3));
  // Contract violations.
  ServingMasks bad;
  bad.headWindows = {1};
  EXPECT_THROW(servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                                std::nullopt, bad),
               std::invalid_argument);
  bad.headWindows = {1, 1};
  EXPECT_THROW(servingAttention(q, k, v, false, std::nullopt, std::nullopt,
                                std::nullopt, bad),
               std::invalid_argument);
  ServingMasks badLogits;
  badLogits.sinkLogits = {0.0};
  EXPECT_THROW(servingAttention(q, k, v, true, std::nullopt, std::nullopt,
                                std::nullopt, badLogits),
               std::invalid_argument);
}

TEST(ServingAttention, BlockSparseSinkNeverBeatsTheLayout) {
  Tensor q = randomTensor({1, 1, 8, 2}, 77);
  Tensor k = randomTensor({1, 1, 8, 2}, 78);
  Tensor v = randomTensor({1, 1, 8, 2}, 79);
  // Blocks of 4: key block 0 (the sinks) off for query block 1.
  Tensor layout({1, 1, 2, 2}, {1, 0, 0, 1});
  ServingMasks m;
  m.sink = 2;
  Tensor o = servingBlockSparseAttention(q, k, v, layout, 4, 4, true,
                                         std::nullopt, std::nullopt, 1, m);
  // Query 5 sees key 5 only (window 1; sinks 0, 1 are in an off block).
  EXPECT_EQ(row(o, {0, 0, 5}), row(v, {0, 0, 5}));
  // Query 3 sees keys 0, 1 (sinks) and 3 (window): not 2.
  Tensor kk({1, 1, 3, 2}), vv({1, 1, 3, 2});
  std::vector<int64_t> keys{0, 1, 3};
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t d = 0; d < 2; ++d) {
      kk.at({0, 0, n, d}) = k.at({0, 0, keys[static_cast<size_t>(n)], d});
      vv.at({0, 0, n, d}) = v.at({0, 0, keys[static_cast<size_t>(n)], d});
    }
  Tensor want = attention(sliceSeq(q, 3, 4), kk, vv);
  std::vector<double> got = row(o, {0, 0, 3}), w = row(want, {0, 0, 0});
  for (size_t e = 0; e < got.size(); ++e)
    EXPECT_NEAR(got[e], w[e], 1e-14);
}

//===----------------------------------------------------------------------===//
// loom.block_sparse_attention
//===----------------------------------------------------------------------===//

TEST(BlockSparseAttention, AllTrueLayoutIsAttention) {
  // Ragged: Sq = 5, Skv = 7 are not multiples of the blocks.
  Tensor q = randomTensor({2, 4, 5, 3}, 30);
  Tensor k = randomTensor({2, 2, 7, 3}, 31);
  Tensor v = randomTensor({2, 2, 7, 2}, 32);
  Tensor layout = filled({1, 1, 3, 3}, 1.0);
  for (bool causal : {false, true}) {
    expectNear(blockSparseAttention(q, k, v, layout, 2, 3, causal),
               attention(q, k, v, causal));
    expectNear(blockSparseAttention(q, k, v, layout, 2, 3, causal, 0.3, 2.0),
               attention(q, k, v, causal, 0.3, std::nullopt, 2.0));
  }
}

TEST(BlockSparseAttention, AllFalseLayoutGivesZeros) {
  Tensor q = randomTensor({1, 1, 4, 3}, 33);
  Tensor k = randomTensor({1, 1, 4, 3}, 34);
  Tensor v = randomTensor({1, 1, 4, 2}, 35);
  Tensor o = blockSparseAttention(q, k, v, filled({1, 1, 2, 2}, 0.0), 2, 2);
  for (double x : o.data)
    EXPECT_EQ(x, 0.0);
}

TEST(BlockSparseAttention, MaskedKeyBlockIsLeftOut) {
  Tensor q = randomTensor({1, 1, 3, 3}, 36);
  Tensor k = randomTensor({1, 1, 4, 3}, 37);
  Tensor v = randomTensor({1, 1, 4, 2}, 38);
  // One query block; key block 1 (keys 2, 3) off.
  Tensor layout({1, 1, 1, 2}, {1, 0});
  expectNear(blockSparseAttention(q, k, v, layout, 4, 2),
             attention(q, sliceSeq(k, 0, 2), sliceSeq(v, 0, 2)));
  // Key block 0 off, causal: i' = i + 1, so row 0 (sees keys 0, 1) is empty.
  Tensor layout2({1, 1, 1, 2}, {0, 1});
  Tensor o = blockSparseAttention(q, k, v, layout2, 4, 2, true);
  EXPECT_EQ(row(o, {0, 0, 0}), (std::vector<double>{0, 0}));
  EXPECT_EQ(row(o, {0, 0, 1}), row(v, {0, 0, 2}));
}

TEST(BlockSparseAttention, QueryBlocksAndBroadcast) {
  Tensor q = randomTensor({2, 2, 4, 3}, 39);
  Tensor k = randomTensor({2, 1, 4, 3}, 40);
  Tensor v = randomTensor({2, 1, 4, 2}, 41);
  Tensor dense = attention(q, k, v);
  // Query block 0 off, block 1 on, broadcast over B and H.
  Tensor layout({1, 1, 2, 1}, {0, 1});
  Tensor o = blockSparseAttention(q, k, v, layout, 2, 4);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 4; ++i)
        EXPECT_EQ(row(o, {b, h, i}), (i < 2 ? std::vector<double>{0, 0}
                                            : row(dense, {b, h, i})));
  // The broadcast layout equals its full [B, Hq] replica.
  Tensor full = filled({2, 2, 2, 1}, 0.0);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 2; ++h)
      full.at({b, h, 1, 0}) = 1;
  expectNear(blockSparseAttention(q, k, v, full, 2, 4), o, 0.0);
  // Per-head layout (Lb = 1, Lh = Hq): head 0 off entirely.
  Tensor perHead({1, 2, 2, 1}, {0, 0, 1, 1});
  Tensor oh = blockSparseAttention(q, k, v, perHead, 2, 4);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(row(oh, {b, 0, i}), (std::vector<double>{0, 0}));
      EXPECT_EQ(row(oh, {b, 1, i}), row(dense, {b, 1, i}));
    }
  // Per-batch layout (Lb = B, Lh = 1).
  Tensor perBatch({2, 1, 2, 1}, {1, 1, 0, 0});
  Tensor ob = blockSparseAttention(q, k, v, perBatch, 2, 4);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(row(ob, {0, h, i}), row(dense, {0, h, i}));
      EXPECT_EQ(row(ob, {1, h, i}), (std::vector<double>{0, 0}));
    }
  EXPECT_THROW(blockSparseAttention(q, k, v, filled({1, 1, 3, 1}, 1), 2, 4),
               std::invalid_argument);
  EXPECT_THROW(blockSparseAttention(q, k, v, filled({1, 3, 2, 1}, 1), 2, 4),
               std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// loom.select_blocks
//===----------------------------------------------------------------------===//

// Layout rows of [1, 1, NQB, NKB] as vectors of 0/1.
std::vector<std::vector<double>> rows(const Tensor &layout) {
  std::vector<std::vector<double>> out;
  for (int64_t I = 0; I < layout.shape[2]; ++I)
    out.push_back(row(layout, {0, 0, I}));
  return out;
}

using Rows = std::vector<std::vector<double>>;

TEST(SelectBlocks, TiesGoToTheLowerBlock) {
  Tensor q = filled({1, 1, 2, 2}, 0.0); // every score is 0
  Tensor k = randomTensor({1, 1, 8, 2}, 50);
  EXPECT_EQ(rows(selectBlocks(q, k, 2, 2, 2)), (Rows{{1, 1, 0, 0}}));
  // Equal scores from equal key blocks, among others.
  Tensor q1 = filled({1, 1, 1, 1}, 1.0);
  Tensor k1({1, 1, 4, 1}, {1, 3, 3, 2});
  EXPECT_EQ(rows(selectBlocks(q1, k1, 1, 1, 1)), (Rows{{0, 1, 0, 0}}));
  EXPECT_EQ(rows(selectBlocks(q1, k1, 1, 1, 3)), (Rows{{0, 1, 1, 1}}));
}

TEST(SelectBlocks, HighestScoresWin) {
  Tensor q = filled({1, 1, 1, 1}, 1.0);
  Tensor k({1, 1, 4, 1}, {1, 3, 2, 0});
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 2)), (Rows{{0, 1, 1, 0}}));
  // A negative query reverses the order.
  Tensor qn = filled({1, 1, 1, 1}, -1.0);
  EXPECT_EQ(rows(selectBlocks(qn, k, 1, 1, 2)), (Rows{{1, 0, 0, 1}}));
  // topk beyond the candidates: all are selected.
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 9)), (Rows{{1, 1, 1, 1}}));
}

TEST(SelectBlocks, PoolsOnlyRowsThatExist) {
  // Key block 1 holds one key (Skv = 3, block_k = 2): its mean is 1.5, not
  // 1.5 / 2, so it beats block 0 (mean 1).
  Tensor q = filled({1, 1, 1, 1}, 1.0);
  Tensor k({1, 1, 3, 1}, {1, 1, 1.5});
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 2, 1)), (Rows{{0, 1}}));
  // Query pooling likewise: block 1 of q (one row, Sq = 3) is that row.
  Tensor q2({1, 1, 3, 1}, {1, 1, -1});
  Tensor k2({1, 1, 2, 1}, {1, -1});
  EXPECT_EQ(rows(selectBlocks(q2, k2, 2, 1, 1)), (Rows{{1, 0}, {0, 1}}));
}

TEST(SelectBlocks, CausalDiagonalIsAlwaysSelected) {
  Tensor q = filled({1, 1, 4, 1}, 1.0);
  Tensor k({1, 1, 4, 1}, {5, 4, 3, -10});
  // Candidates are the blocks at or before the diagonal; the diagonal is kept
  // even when it scores lowest, on top of topk others (Loom's reading).
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 2, true)),
            (Rows{{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 0, 1}}));
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 0, true)),
            (Rows{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}));
  // The other reading: the diagonal counts as one of the topk.
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 2, true, std::nullopt, true)),
            (Rows{{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}, {1, 0, 0, 1}}));
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 1, true, std::nullopt, true)),
            (Rows{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}));
  // Fewer candidates than topk: the causal lower triangle.
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 1, 10, true)),
            (Rows{{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 1, 1}}));
}

TEST(SelectBlocks, CausalBlocksUseTheLastQueryRow) {
  // block_q = 2, block_k = 1, Sq = Skv = 4: query block 0's last row is 1, so
  // keys 0 and 1 are candidates and key block 1 is its diagonal.
  Tensor q = filled({1, 1, 4, 1}, 1.0);
  Tensor k({1, 1, 4, 1}, {-5, -6, 9, 8});
  EXPECT_EQ(rows(selectBlocks(q, k, 2, 1, 0, true)),
            (Rows{{0, 1, 0, 0}, {0, 0, 0, 1}}));
  EXPECT_EQ(rows(selectBlocks(q, k, 2, 1, 1, true)),
            (Rows{{1, 1, 0, 0}, {0, 0, 1, 1}}));
  EXPECT_EQ(rows(selectBlocks(q, k, 2, 1, 2, true)),
            (Rows{{1, 1, 0, 0}, {1, 0, 1, 1}}));
}

TEST(SelectBlocks, CausalBottomRightAlignment) {
  // Sq = 2 < Skv = 6, block_k = 2: i' = i + 4, every key block is a
  // candidate and block 2 is the diagonal.
  Tensor q = filled({1, 1, 2, 1}, 1.0);
  Tensor k({1, 1, 6, 1}, {3, 3, 1, 1, 0, 0});
  EXPECT_EQ(rows(selectBlocks(q, k, 1, 2, 1, true)),
            (Rows{{1, 0, 1}, {1, 0, 1}}));
  // Sq = 4 > Skv = 2: i' = i - 2; rows 0 and 1 have no candidate.
  Tensor q2 = filled({1, 1, 4, 1}, 1.0);
  Tensor k2({1, 1, 2, 1}, {1, 2});
  EXPECT_EQ(rows(selectBlocks(q2, k2, 1, 1, 2, true)),
            (Rows{{0, 0}, {0, 0}, {1, 0}, {1, 1}}));
}

TEST(SelectBlocks, ShapesAndGQA) {
  Tensor q = randomTensor({2, 4, 5, 3}, 51);
  Tensor k = randomTensor({2, 2, 7, 3}, 52);
  Tensor layout = selectBlocks(q, k, 2, 3, 1, true);
  EXPECT_EQ(layout.shape, (std::vector<int64_t>{2, 4, 3, 3}));
  for (double x : layout.data)
    EXPECT_TRUE(x == 0.0 || x == 1.0);
  // GQA equals MHA with repeated kv heads.
  EXPECT_EQ(layout.data,
            selectBlocks(q, repeatHeads(k, 2), 2, 3, 1, true).data);
  // Each row selects min(topk + 1, candidates) blocks: here always 2.
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t I = 0; I < 3; ++I) {
        double n = 0;
        for (int64_t J = 0; J < 3; ++J)
          n += layout.at({b, h, I, J});
        EXPECT_EQ(n, 2.0);
      }
  // Feeding the layout to block-sparse attention with topk = all is dense.
  Tensor v = randomTensor({2, 2, 7, 2}, 53);
  Tensor all = selectBlocks(q, k, 2, 3, 3, true);
  expectNear(blockSparseAttention(q, k, v, all, 2, 3, true),
             attention(q, k, v, true));
}

//===----------------------------------------------------------------------===//
// loom.linear_attention
//===----------------------------------------------------------------------===//

TEST(LinearAttention, HandComputed) {
  Tensor q({1, 1, 2, 1}, {1, 2});
  Tensor k({1, 1, 2, 1}, {3, 4});
  Tensor v({1, 1, 2, 1}, {5, 6});
  // w = q_i k_j: o_0 = 3*5 + 4*6, o_1 = 2 * (3*5 + 4*6).
  expectValues(linearAttention(q, k, v), {39, 78});
  expectValues(linearAttention(q, k, v, true), {15, 78});
  expectValues(linearAttention(q, k, v, false, FeatureMap::Identity, {}, 0.5),
               {19.5, 39});
  // exp(-ln 2 * (1 - 0)) = 1/2 on the off-diagonal weight.
  expectValues(
      linearAttention(q, k, v, true, FeatureMap::Identity, {std::log(2.0)}),
      {15, 2 * 3 * 5 * 0.5 + 2 * 4 * 6});
  // normalize divides by the weight sum + 1e-6.
  expectValues(linearAttention(q, k, v, true, FeatureMap::Identity,
                               {std::log(2.0)}, 1.0, true),
               {15 / (3 + 1e-6), 63 / (3 + 8 + 1e-6)}, 1e-12);
}

TEST(LinearAttention, FeatureMaps) {
  Tensor q({1, 1, 1, 2}, {-1, 2});
  Tensor k({1, 1, 1, 2}, {1, -3});
  Tensor v({1, 1, 1, 1}, {1});
  expectValues(linearAttention(q, k, v), {-1 - 6});
  expectValues(linearAttention(q, k, v, false, FeatureMap::Relu), {0});
  // elu(x) + 1 is exp(x) below 0 and x + 1 above.
  expectValues(linearAttention(q, k, v, false, FeatureMap::EluPlusOne),
               {std::exp(-1.0) * 2 + 3 * std::exp(-3.0)});
}

TEST(LinearAttention, PerHeadDecay) {
  Tensor q = randomTensor({1, 2, 4, 3}, 60);
  Tensor k = randomTensor({1, 2, 4, 3}, 61);
  Tensor v = randomTensor({1, 2, 4, 2}, 62);
  Tensor plain = linearAttention(q, k, v, true);
  Tensor decayed =
      linearAttention(q, k, v, true, FeatureMap::Identity, {0.0, 0.7});
  // Head 0 has no decay; head 1 does, except at i = 0 (only j = i).
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_EQ(row(decayed, {0, 0, i}), row(plain, {0, 0, i}));
  EXPECT_EQ(row(decayed, {0, 1, 0}), row(plain, {0, 1, 0}));
  EXPECT_NE(row(decayed, {0, 1, 3}), row(plain, {0, 1, 3}));
  // Huge decay leaves only the diagonal term.
  Tensor diag =
      linearAttention(q, k, v, true, FeatureMap::Identity, {1e3, 1e3});
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 4; ++i) {
      double w = 0;
      for (int64_t d = 0; d < 3; ++d)
        w += q.at({0, h, i, d}) * k.at({0, h, i, d});
      for (int64_t e = 0; e < 2; ++e)
        EXPECT_NEAR(diag.at({0, h, i, e}), w * v.at({0, h, i, e}), 1e-12);
    }
  EXPECT_THROW(linearAttention(q, k, v, false, FeatureMap::Identity, {0, 1}),
               std::invalid_argument);
  EXPECT_THROW(linearAttention(q, k, v, true, FeatureMap::Identity, {0}),
               std::invalid_argument);
  EXPECT_THROW(linearAttention(q, k, v, true, FeatureMap::Identity, {0, -1}),
               std::invalid_argument);
}

// The recurrence without a gate, beta or state is the weighted sum of the
// quadratic form, for every feature map, decay, scale and normalize.
TEST(LinearAttentionRecurrent, MatchesQuadraticForm) {
  Tensor q = randomTensor({2, 2, 9, 3}, 70, 0.0, 1.0);
  Tensor k = randomTensor({2, 2, 9, 3}, 71, 0.0, 1.0);
  Tensor v = randomTensor({2, 2, 9, 4}, 72);
  for (FeatureMap fm :
       {FeatureMap::Identity, FeatureMap::Relu, FeatureMap::EluPlusOne})
    for (bool normalize : {false, true}) {
      RecurrentOptions o;
      o.featureMap = fm;
      o.decay = {0.3, 0.05};
      o.scale = 0.7;
      o.normalize = normalize;
      Tensor want =
          linearAttention(q, k, v, true, fm, o.decay, o.scale, normalize);
      expectValues(linearAttentionRecurrent(q, k, v, o).output, want.data,
                   1e-12);
      // A per-head gate of -decay and a per-key gate repeating it are the
      // same constant gate.
      RecurrentOptions g = o;
      g.decay = {};
      g.gate = Tensor({2, 2, 9});
      g.initialState = Tensor();
      RecurrentOptions gk = g;
      gk.gate = Tensor({2, 2, 9, 3});
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t h = 0; h < 2; ++h)
          for (int64_t t = 0; t < 9; ++t) {
            g.gate.at({b, h, t}) = -o.decay[static_cast<size_t>(h)];
            for (int64_t d = 0; d < 3; ++d)
              gk.gate.at({b, h, t, d}) = -o.decay[static_cast<size_t>(h)];
          }
      expectValues(linearAttentionRecurrent(q, k, v, g).output, want.data,
                   1e-12);
      expectValues(linearAttentionRecurrent(q, k, v, gk).output, want.data,
                   1e-12);
    }
}

// Dk = Dv = 1 by hand: S_t = (1 - b k^2) a S_{t-1} + b k v, o_t = S_t q_t.
TEST(LinearAttentionRecurrent, HandComputedDeltaRule) {
  Tensor q({1, 1, 2, 1}, {2.0, 3.0}), k({1, 1, 2, 1}, {0.5, 1.0}),
      v({1, 1, 2, 1}, {4.0, -1.0});
  RecurrentOptions o;
  o.rule = UpdateRule::Delta;
  o.beta = Tensor({1, 1, 2}, {0.5, 0.25});
  o.gate = Tensor({1, 1, 2}, {0.0, std::log(0.5)});
  o.initialState = Tensor({1, 1, 1, 1}, {8.0});
  // S_0 = (1 - 0.5 * 0.25) * 1 * 8 + 0.5 * 0.5 * 4 = 7 + 1 = 8.
  // S_1 = (1 - 0.25 * 1) * 0.5 * 8 + 0.25 * 1 * -1 = 3 - 0.25 = 2.75.
  RecurrentResult r = linearAttentionRecurrent(q, k, v, o);
  expectValues(r.output, {16.0, 8.25});
  expectValues(r.finalState, {2.75});
}

// A per-key gate decays each row of the state on its own.
TEST(LinearAttentionRecurrent, HandComputedPerKeyGate) {
  Tensor q({1, 1, 2, 2}, {1.0, 1.0, 1.0, 1.0}),
      k({1, 1, 2, 2}, {1.0, 2.0, 0.0, 0.0}), v({1, 1, 2, 1}, {3.0, 5.0});
  RecurrentOptions o;
  o.gate = Tensor({1, 1, 2, 2}, {0.0, 0.0, std::log(0.5), std::log(0.25)});
  // S_0 = [3, 6]; S_1 = [1.5, 1.5] (+ 0); o = sum of the rows.
  RecurrentResult r = linearAttentionRecurrent(q, k, v, o);
  expectValues(r.output, {9.0, 3.0});
  expectValues(r.finalState, {1.5, 1.5});
}

// run(x1 ++ x2) == run(x2, initial_state = run(x1).final_state).
TEST(LinearAttentionRecurrent, StateContinuity) {
  Tensor q = randomTensor({1, 2, 11, 3}, 80), k = randomTensor({1, 2, 11, 3}, 81),
         v = randomTensor({1, 2, 11, 2}, 82);
  RecurrentOptions o;
  o.rule = UpdateRule::Delta;
  o.gate = randomTensor({1, 2, 11, 3}, 83, -0.5, 0.0);
  o.beta = randomTensor({1, 2, 11}, 84, 0.0, 1.0);
  RecurrentResult whole = linearAttentionRecurrent(q, k, v, o);
  auto cut3 = [](const Tensor &t, int64_t lo, int64_t hi) {
    Tensor out({t.shape[0], t.shape[1], hi - lo});
    for (int64_t h = 0; h < t.shape[1]; ++h)
      for (int64_t s = lo; s < hi; ++s)
        out.at({0, h, s - lo}) = t.at({0, h, s});
    return out;
  };
  for (int64_t split : {0, 4, 10, 11}) {
    RecurrentOptions o1 = o, o2 = o;
    o1.gate = sliceSeq(o.gate, 0, split);
    o2.gate = sliceSeq(o.gate, split, 11);
    o1.beta = cut3(o.beta, 0, split);
    o2.beta = cut3(o.beta, split, 11);
    RecurrentResult first = linearAttentionRecurrent(
        sliceSeq(q, 0, split), sliceSeq(k, 0, split), sliceSeq(v, 0, split),
        o1);
    o2.initialState = first.finalState;
    RecurrentResult second = linearAttentionRecurrent(
        sliceSeq(q, split, 11), sliceSeq(k, split, 11), sliceSeq(v, split, 11),
        o2);
    expectValues(second.output, sliceSeq(whole.output, split, 11).data);
    expectValues(second.finalState, whole.finalState.data);
  }
}

//===----------------------------------------------------------------------===//
// loom.pool_mixer and loom.dwconv
//===----------------------------------------------------------------------===//

TEST(PoolMixer, ConstantIsZero) {
  for (int64_t kernel : {1, 3, 5}) {
    for (double x : poolMixer(filled({2, 7, 3}, 2.5), kernel).data)
      EXPECT_NEAR(x, 0.0, 1e-15);
    for (double x : poolMixer(filled({2, 4, 5, 3}, -1.25), kernel).data)
      EXPECT_NEAR(x, 0.0, 1e-15);
  }
}

TEST(PoolMixer, HandComputed) {
  // Edges average only the tokens in bounds.
  expectValues(poolMixer(Tensor({1, 3, 1}, {1, 2, 3})), {0.5, 0, -0.5});
  expectValues(poolMixer(Tensor({1, 5, 1}, {1, 2, 3, 4, 10}), 5),
               {2 - 1, 2.5 - 2, 4 - 3, 4.75 - 4, 17.0 / 3 - 10});
  // 2x2 image: every 3x3 window covers all four tokens.
  expectValues(poolMixer(Tensor({1, 2, 2, 1}, {1, 2, 3, 6})),
               {2, 1, 0, -3});
  // 3x3 image, channels kept apart.
  Tensor x({1, 3, 3, 2});
  for (int64_t i = 0; i < 9; ++i) {
    x.data[static_cast<size_t>(2 * i)] = static_cast<double>(i);
    x.data[static_cast<size_t>(2 * i + 1)] = 1.0;
  }
  Tensor y = poolMixer(x);
  EXPECT_NEAR(y.at({0, 0, 0, 0}), (0 + 1 + 3 + 4) / 4.0 - 0, 1e-15);
  EXPECT_NEAR(y.at({0, 1, 1, 0}), 4 - 4, 1e-15);
  EXPECT_NEAR(y.at({0, 0, 1, 0}), (0 + 1 + 2 + 3 + 4 + 5) / 6.0 - 1, 1e-15);
  EXPECT_NEAR(y.at({0, 2, 2, 1}), 0.0, 1e-15);
  EXPECT_THROW(poolMixer(x, 2), std::invalid_argument);
}

TEST(DWConv, OneDimensional) {
  Tensor x({1, 4, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  // A centred identity tap, then a tap reading x[s - 1].
  Tensor id({3, 2}, {0, 0, 1, 1, 0, 0});
  expectNear(dwconv(x, id), x, 0.0);
  Tensor shift({3, 2}, {1, 1, 0, 0, 0, 0});
  expectValues(dwconv(x, shift), {0, 0, 1, 10, 2, 20, 3, 30});
  // Causal: the last tap reads x[s], the first x[s - (K-1)].
  Tensor cid({3, 2}, {0, 0, 0, 0, 1, 1});
  expectNear(dwconv(x, cid, true), x, 0.0);
  Tensor cfirst({3, 2}, {1, 1, 0, 0, 0, 0});
  expectValues(dwconv(x, cfirst, true), {0, 0, 0, 0, 1, 10, 2, 20});
  // Channels use their own taps.
  Tensor mixed({1, 2}, {2, -1});
  expectValues(dwconv(x, mixed), {2, -10, 4, -20, 6, -30, 8, -40});
  EXPECT_THROW(dwconv(x, Tensor({2, 2})), std::invalid_argument);
}

TEST(DWConv, LongCausalKernel) {
  // K = S, as in Hyena: y[s] = sum_t w[t] x[s - (K-1) + t].
  Tensor x({1, 3, 1}, {1, 2, 3});
  Tensor w({3, 1}, {1, 10, 100});
  expectValues(dwconv(x, w, true), {100, 10 + 200, 1 + 20 + 300});
  // Even K is fine when causal.
  Tensor w2({2, 1}, {1, 10});
  expectValues(dwconv(x, w2, true), {10, 1 + 20, 2 + 30});
}

TEST(DWConv, TwoDimensional) {
  Tensor ones = filled({1, 3, 4, 1}, 1.0);
  Tensor box = filled({3, 3, 1}, 1.0);
  Tensor y = dwconv(ones, box);
  EXPECT_EQ(y.at({0, 0, 0, 0}), 4);
  EXPECT_EQ(y.at({0, 1, 1, 0}), 9);
  EXPECT_EQ(y.at({0, 1, 3, 0}), 6);
  EXPECT_EQ(y.at({0, 0, 1, 0}), 6);
  // A tap at (0, 2) of a 3x3 kernel reads x[h - 1, w + 1].
  Tensor x = randomTensor({2, 3, 4, 2}, 70);
  Tensor tap({3, 3, 2});
  tap.at({0, 2, 0}) = 1;
  tap.at({0, 2, 1}) = 1;
  Tensor z = dwconv(x, tap);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t w = 0; w < 4; ++w)
        for (int64_t c = 0; c < 2; ++c)
          EXPECT_EQ(z.at({b, h, w, c}), h >= 1 && w + 1 < 4
                                            ? x.at({b, h - 1, w + 1, c})
                                            : 0.0);
  // Rectangular kernels: 1x3 is the 1-D rule along W.
  Tensor row3({1, 3, 1}, {1, 2, 3});
  Tensor img({1, 1, 3, 1}, {1, 2, 3});
  expectValues(dwconv(img, row3), {2 + 6, 1 + 4 + 9, 2 + 6});
  EXPECT_THROW(dwconv(img, row3, true), std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// Linear layers and quantization
//===----------------------------------------------------------------------===//

TEST(Linear, HandComputed) {
  Tensor x({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor w({2, 3}, {1, 0, -1, 0.5, 0.5, 0.5});
  Tensor b({2}, {10, 20});
  expectValues(linear(x, w), {-2, 3, -2, 7.5});
  expectValues(linear(x, w, &b), {8, 23, 8, 27.5});
  // Leading dimensions are batch.
  Tensor x3({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y3 = linear(x3, w, &b);
  EXPECT_EQ(y3.shape, (std::vector<int64_t>{2, 1, 2}));
  expectValues(y3, {8, 23, 8, 27.5});
}

TEST(QLinear, EqualsLinearWithDequantizedWeights) {
  Tensor x = randomTensor({3, 4}, 80);
  Tensor w({2, 4}, {-8, 7, 1, 0, 3, -2, 5, -1});
  Tensor bias({2}, {0.5, -0.25});
  // Per channel.
  Tensor s({2}, {0.1, 0.2});
  Tensor deq = w;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 4; ++k)
      deq.at({n, k}) *= s.data[static_cast<size_t>(n)];
  expectNear(qlinear(x, w, s, &bias), linear(x, deq, &bias));
  // Groups of 2 along K.
  Tensor sg({2, 2}, {0.1, 0.3, 0.2, 0.05});
  Tensor deqg = w;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 4; ++k)
      deqg.at({n, k}) *= sg.at({n, k / 2});
  expectNear(qlinear(x, w, sg, nullptr, 2), linear(x, deqg));
  EXPECT_THROW(qlinear(x, w, sg, nullptr, 3), std::invalid_argument);
  EXPECT_THROW(qlinear(x, w, s, nullptr, 2), std::invalid_argument);
  EXPECT_THROW(qlinear(x, Tensor({2, 4}, {0.5, 0, 0, 0, 0, 0, 0, 0}), s),
               std::invalid_argument);
}

TEST(Quantize, RoundHalfEven) {
  EXPECT_EQ(roundHalfEven(0.5), 0);
  EXPECT_EQ(roundHalfEven(1.5), 2);
  EXPECT_EQ(roundHalfEven(2.5), 2);
  EXPECT_EQ(roundHalfEven(-0.5), 0);
  EXPECT_EQ(roundHalfEven(-1.5), -2);
  EXPECT_EQ(roundHalfEven(-2.5), -2);
  EXPECT_EQ(roundHalfEven(2.4999999999999996), 2);
  EXPECT_EQ(roundHalfEven(-0.49999999999999994), 0);
  EXPECT_EQ(roundHalfEven(4503599627370497.0), 4503599627370497.0);
}

TEST(Quantize, Int8) {
  // max |x| = 127 makes s = 1, so x / s is exact and ties are visible.
  Tensor x({2, 6}, {127, 2.5, -3.5, 0.5, 1.5, -0.4,  //
                    0, 0, 0, 0, 0, 0});
  Quantized q = quantize(x, QuantKind::I8);
  EXPECT_EQ(q.xs.shape, (std::vector<int64_t>{2}));
  expectValues(q.xs, {1, 0});
  expectValues(q.xq, {127, 2, -4, 0, 2, -0.0, 0, 0, 0, 0, 0, 0}, 0);
  // General scale: s = max / 127 and |xq| <= 127.
  Tensor r = randomTensor({3, 5, 8}, 81, -3, 3);
  Quantized qr = quantize(r, QuantKind::I8);
  EXPECT_EQ(qr.xs.shape, (std::vector<int64_t>{3, 5}));
  for (int64_t m = 0; m < 15; ++m) {
    double amax = 0;
    for (int64_t k = 0; k < 8; ++k)
      amax = std::max(amax, std::fabs(r.data[static_cast<size_t>(m * 8 + k)]));
    EXPECT_EQ(qr.xs.data[static_cast<size_t>(m)], amax / 127);
    for (int64_t k = 0; k < 8; ++k) {
      double v = qr.xq.data[static_cast<size_t>(m * 8 + k)];
      EXPECT_EQ(v, std::round(v));
      EXPECT_LE(std::fabs(v), 127);
      EXPECT_NEAR(v * amax / 127, r.data[static_cast<size_t>(m * 8 + k)],
                  amax / 127 / 2 + 1e-12);
    }
  }
}

TEST(Quantize, Fp8) {
  // max |x| = 448 makes s = 1.
  Tensor x({1, 6}, {448, 1.0625, 17, 19, -0.001, -300});
  Quantized q = quantize(x, QuantKind::F8E4M3FN);
  expectValues(q.xs, {1});
  // 17 ties between 16 and 18 (even mantissa wins: 16); 19 between 18 and 20
  // (20); 0.001 is about half a subnormal quantum 2^-9 (0.51 of it: rounds
  // up); 300 lies between 288 and 320 (nearer 288).
  expectValues(q.xq, {448, 1, 16, 20, -std::ldexp(1, -9), -288}, 0);
  Quantized z = quantize(Tensor({1, 2}, {0, -0.0}), QuantKind::F8E4M3FN);
  expectValues(z.xs, {0});
  expectValues(z.xq, {0, 0}, 0);
}

TEST(Quantize, Fp8RoundingAgreesWithTheRuntime) {
  // The table search here and the runtime's bit-level conversion are written
  // independently; they must agree everywhere, saturation included.
  std::mt19937_64 rng(82);
  std::uniform_real_distribution<double> mant(-2.0, 2.0);
  for (int i = 0; i < 200000; ++i) {
    double x = std::ldexp(mant(rng), static_cast<int>(rng() % 24) - 14);
    double want = loom::npy::f8E4M3FNToFloat(loom::npy::doubleToF8E4M3FN(x));
    ASSERT_EQ(roundToF8E4M3FN(x), want) << x;
  }
  for (int code = 0; code < 0x7e; ++code) {
    double a = loom::npy::f8E4M3FNToFloat(static_cast<uint8_t>(code));
    double b = loom::npy::f8E4M3FNToFloat(static_cast<uint8_t>(code + 1));
    for (double x : {a, (a + b) / 2, -(a + b) / 2, std::nextafter((a + b) / 2, b)})
      EXPECT_EQ(roundToF8E4M3FN(x),
                loom::npy::f8E4M3FNToFloat(loom::npy::doubleToF8E4M3FN(x)))
          << x;
  }
  EXPECT_EQ(roundToF8E4M3FN(1e9), 448);
  EXPECT_EQ(roundToF8E4M3FN(-INFINITY), -448);
  EXPECT_TRUE(std::isnan(roundToF8E4M3FN(NAN)));
}

TEST(QMatmul, HandComputed) {
  Tensor xq({1, 2}, {1, 2});
  Tensor xs({1}, {0.5});
  Tensor w({2, 2}, {3, 4, 1, -1});
  Tensor ws({2}, {2, 3});
  Tensor bias({2}, {1, 0});
  // Sums 11 and -1, scaled by xs * w_scale.
  expectValues(qmatmul(xq, xs, w, ws), {11, -1.5});
  expectValues(qmatmul(xq, xs, w, ws, &bias), {12, -1.5});
}

TEST(QMatmul, QuantizeThenMatmulApproximatesLinear) {
  Tensor x = randomTensor({4, 16}, 83);
  Tensor wf = randomTensor({3, 16}, 84);
  // Per-channel int8 weights from the same quantizer.
  Quantized wq = quantize(wf, QuantKind::I8);
  for (QuantKind kind : {QuantKind::I8, QuantKind::F8E4M3FN}) {
    Quantized xq = quantize(x, kind);
    Tensor y = qmatmul(xq.xq, xq.xs, wq.xq, wq.xs);
    expectNear(y, linear(x, wf), kind == QuantKind::I8 ? 0.05 : 0.3);
  }
}

//===----------------------------------------------------------------------===//
// Norms, RoPE, activations
//===----------------------------------------------------------------------===//

TEST(Norms, RmsNorm) {
  Tensor x({2, 2}, {3, 4, 1, -1});
  Tensor g({2}, {1, 2});
  double r = std::sqrt(12.5);
  expectValues(rmsNorm(x, g, 0.0), {3 / r, 8 / r, 1, -2});
  double re = std::sqrt(12.5 + 1e-6), r1 = std::sqrt(1 + 1e-6);
  expectValues(rmsNorm(x, g), {3 / re, 8 / re, 1 / r1, -2 / r1});
  // epsilon keeps an all-zero row finite.
  expectValues(rmsNorm(Tensor({1, 2}), g), {0, 0});
}

TEST(Norms, LayerNorm) {
  Tensor x({1, 3}, {1, 2, 3});
  double s = std::sqrt(2.0 / 3.0); // biased variance 2/3
  expectValues(layerNorm(x, filled({3}, 1), filled({3}, 0), 0.0),
               {-1 / s, 0, 1 / s});
  Tensor g({3}, {2, 3, 4}), b({3}, {1, 1, 1});
  double se = std::sqrt(2.0 / 3.0 + 1e-5);
  expectValues(layerNorm(x, g, b), {1 - 2 / se, 1, 1 + 4 / se});
  // A constant row normalizes to the bias.
  expectValues(layerNorm(filled({1, 3}, 7), g, b), {1, 1, 1});
}

TEST(Rope, IdentityAndQuarterTurn) {
  Tensor x = randomTensor({2, 2, 3, 4}, 90);
  Tensor one = filled({3, 2}, 1), zero = filled({3, 2}, 0);
  for (RopeStyle style : {RopeStyle::Half, RopeStyle::Interleaved})
    expectNear(rope(x, one, zero, style), x, 0.0);
  // cos = 0, sin = 1 rotates each pair by 90 degrees: (a, b) -> (-b, a).
  Tensor v({1, 1, 1, 4}, {1, 2, 3, 4});
  Tensor c0 = filled({1, 2}, 0), s1 = filled({1, 2}, 1);
  expectValues(rope(v, c0, s1, RopeStyle::Half), {-3, -4, 1, 2});
  expectValues(rope(v, c0, s1, RopeStyle::Interleaved), {-2, 1, -4, 3});
}

TEST(Rope, PerPositionAngles) {
  Tensor x({1, 1, 2, 2}, {1, 0, 1, 0});
  double a = 0.3;
  Tensor c({2, 1}, {1, std::cos(a)}), s({2, 1}, {0, std::sin(a)});
  expectValues(rope(x, c, s), {1, 0, std::cos(a), std::sin(a)});
  // Norms of each pair are preserved.
  Tensor r = randomTensor({1, 2, 5, 6}, 91);
  Tensor ang = randomTensor({5, 3}, 92, -3, 3);
  Tensor cs(ang.shape), sn(ang.shape);
  for (size_t i = 0; i < ang.data.size(); ++i) {
    cs.data[i] = std::cos(ang.data[i]);
    sn.data[i] = std::sin(ang.data[i]);
  }
  Tensor y = rope(r, cs, sn, RopeStyle::Interleaved);
  for (size_t p = 0; p < r.data.size(); p += 2)
    EXPECT_NEAR(std::hypot(y.data[p], y.data[p + 1]),
                std::hypot(r.data[p], r.data[p + 1]), 1e-12);
  EXPECT_THROW(rope(Tensor({1, 1, 1, 3}), Tensor({1, 1}), Tensor({1, 1})),
               std::invalid_argument);
}

TEST(Activations, GeluAndSilu) {
  Tensor x({4}, {0, 1, -1, 10});
  expectValues(gelu(x), {0, 0.8413447460685429, -0.15865525393145707,
                         10.0},
               1e-14);
  expectValues(gelu(x, GeluApproximation::Tanh),
               {0, 0.8411919906082768, -0.15880800939172324, 10.0}, 1e-14);
  expectValues(silu(x), {0, 0.7310585786300049, -0.2689414213699951,
                         9.999546021312976},
               1e-14);
  for (double v : silu(Tensor({1}, {-1000})).data)
    EXPECT_EQ(v, 0.0);
}

} // namespace
