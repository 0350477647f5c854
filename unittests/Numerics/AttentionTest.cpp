// Numerics of attention, block_sparse_attention and select_blocks on the CPU
// path against the double-precision references, on random inputs.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <sstream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// `declared` where given, else `shape` (all static).
std::vector<int64_t> decl(const std::vector<int64_t> &shape,
                          const std::vector<int64_t> &declared) {
  return declared.empty() ? shape : declared;
}

//===----------------------------------------------------------------------===//
// loom.attention
//===----------------------------------------------------------------------===//

struct AttnCase {
  std::string name, type;
  int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
  bool causal = false;
  std::optional<double> scale;
  std::optional<int64_t> window;
  std::optional<double> softcap;
  /// Signature shapes of q, k, v (-1 dynamic); empty: static.
  std::vector<int64_t> qDecl = {}, kDecl = {}, vDecl = {}, rDecl = {};
  double range = 1.0; // inputs uniform in [-range, range)
};

std::string attnAttrs(bool causal, std::optional<double> scale,
                      std::optional<int64_t> window,
                      std::optional<double> softcap,
                      const std::string &extra = "") {
  std::vector<std::string> parts;
  if (!extra.empty())
    parts.push_back(extra);
  if (causal)
    parts.push_back("causal");
  if (scale) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << "scale = " << *scale << " : f32";
    parts.push_back(s.str());
  }
  if (window)
    parts.push_back("window = " + std::to_string(*window) + " : i64");
  if (softcap) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << "softcap = " << *softcap << " : f32";
    parts.push_back(s.str());
  }
  std::string r = "{";
  for (size_t i = 0; i < parts.size(); ++i)
    r += (i ? ", " : "") + parts[i];
  return r + "}";
}

void PrintTo(const AttnCase &c, std::ostream *os) { *os << c.name; }

class Attention : public ::testing::TestWithParam<AttnCase> {};

TEST_P(Attention, MatchesReference) {
  const AttnCase &c = GetParam();
  std::vector<int64_t> qs{c.B, c.Hq, c.Sq, c.D}, ks{c.B, c.Hkv, c.Skv, c.D},
      vs{c.B, c.Hkv, c.Skv, c.Dv}, rs{c.B, c.Hq, c.Sq, c.Dv};
  std::string src = oneOp("loom.attention",
                          {tensorType(decl(qs, c.qDecl), c.type),
                           tensorType(decl(ks, c.kDecl), c.type),
                           tensorType(decl(vs, c.vDecl), c.type)},
                          attnAttrs(c.causal, c.scale, c.window, c.softcap),
                          tensorType(decl(rs, c.rDecl), c.type));
  Tensor q = randomTensor(c.type, qs, 101, -c.range, c.range);
  Tensor k = randomTensor(c.type, ks, 102, -c.range, c.range);
  Tensor v = randomTensor(c.type, vs, 103);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 1u);
  const Tensor &o = (*out)[0];
  EXPECT_EQ(o.shape, rs);
  EXPECT_FALSE(hasNaN(o));
  Tensor want = ref::attention(q, k, v, c.causal, c.scale, c.window, c.softcap);
  EXPECT_LT(relativeError(o, want), tolerance(c.type));
  // Rows without a visible key are exactly zero, as in the reference.
  for (int64_t i = 0; i < o.numel(); ++i)
    if (want.data[i] == 0.0)
      EXPECT_EQ(o.data[i], 0.0) << "element " << i;
}

AttnCase attn(std::string name, std::string type, int64_t B, int64_t Hq,
              int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D, int64_t Dv) {
  AttnCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = D, c.Dv = Dv;
  return c;
}

std::vector<AttnCase> attentionCases() {
  std::vector<AttnCase> cs;
  cs.push_back(attn("MHA", "f32", 2, 3, 3, 7, 13, 16, 8));
  auto gqa = attn("GQACausal", "f32", 2, 6, 2, 13, 13, 16, 12);
  gqa.causal = true;
  cs.push_back(gqa);
  auto mqa = attn("MQAScale", "f32", 1, 4, 1, 9, 11, 8, 8);
  mqa.scale = 0.3;
  mqa.range = 3.0;
  cs.push_back(mqa);
  // Bottom-right alignment: every query sees Skv - Sq keys beyond its index.
  auto shortQ = attn("CausalSqLessSkv", "f32", 1, 2, 1, 7, 20, 16, 16);
  shortQ.causal = true;
  cs.push_back(shortQ);
  // Rows i < Sq - Skv see no key: zeros.
  auto longQ = attn("CausalSqGreaterSkv", "f32", 2, 4, 2, 20, 7, 16, 8);
  longQ.causal = true;
  cs.push_back(longQ);
  auto win = attn("WindowSoftcap", "f32", 1, 4, 2, 100, 100, 32, 16);
  win.causal = true;
  win.window = 9;
  win.softcap = 2.0;
  win.range = 2.0; // scores well beyond the cap
  cs.push_back(win);
  auto winLong = attn("WindowSqGreaterSkv", "f32", 1, 2, 2, 13, 7, 8, 8);
  winLong.causal = true;
  winLong.window = 3;
  cs.push_back(winLong);
  auto winShort = attn("WindowSqLessSkv", "f32", 1, 2, 1, 5, 30, 8, 8);
  winShort.causal = true;
  winShort.window = 7;
  winShort.softcap = 0.5;
  cs.push_back(winShort);
  // Dynamic dims: every dim, the heads only (dynamic group size), D only
  // (default scale computed at run time), MQA with dynamic Hq.
  auto dyn = attn("DynamicAll", "f32", 2, 6, 3, 13, 17, 16, 8);
  dyn.causal = true;
  dyn.qDecl = dyn.kDecl = dyn.vDecl = dyn.rDecl = {-1, -1, -1, -1};
  cs.push_back(dyn);
  auto dynHeads = attn("DynamicHeads", "f32", 1, 8, 2, 7, 7, 8, 8);
  dynHeads.qDecl = {1, -1, 7, 8};
  dynHeads.kDecl = {1, -1, 7, 8};
  dynHeads.vDecl = {1, 2, 7, 8};
  dynHeads.rDecl = {1, 8, 7, 8};
  cs.push_back(dynHeads);
  auto dynD = attn("DynamicHeadDim", "f32", 1, 2, 2, 5, 9, 24, 4);
  dynD.qDecl = {1, 2, 5, -1};
  dynD.kDecl = {1, 2, 9, -1};
  dynD.softcap = 1.5;
  cs.push_back(dynD);
  auto dynMqa = attn("DynamicMQA", "f32", 2, 5, 1, 6, 10, 8, 8);
  dynMqa.causal = true;
  dynMqa.qDecl = {-1, -1, -1, 8};
  dynMqa.kDecl = {-1, 1, -1, 8};
  dynMqa.vDecl = {-1, 1, -1, 8};
  dynMqa.rDecl = {-1, -1, -1, 8};
  cs.push_back(dynMqa);
  auto dynLong = attn("DynamicCausalSqGreaterSkv", "f32", 1, 2, 1, 11, 4, 8, 8);
  dynLong.causal = true;
  dynLong.window = 2;
  dynLong.qDecl = dynLong.kDecl = dynLong.vDecl =
      dynLong.rDecl = {-1, -1, -1, -1};
  cs.push_back(dynLong);
  // Half-precision types.
  auto bf = attn("BF16GQACausal", "bf16", 2, 4, 2, 33, 40, 64, 32);
  bf.causal = true;
  cs.push_back(bf);
  auto bfWin = attn("BF16WindowSoftcap", "bf16", 1, 2, 1, 100, 100, 16, 16);
  bfWin.causal = true;
  bfWin.window = 13;
  bfWin.softcap = 3.0;
  bfWin.range = 3.0;
  cs.push_back(bfWin);
  auto f16 = attn("F16MQA", "f16", 1, 3, 1, 21, 21, 32, 16);
  f16.causal = true;
  cs.push_back(f16);
  auto f16Dyn = attn("F16Dynamic", "f16", 1, 4, 2, 9, 5, 8, 8);
  f16Dyn.causal = true;
  f16Dyn.qDecl = f16Dyn.kDecl = f16Dyn.vDecl = f16Dyn.rDecl = {-1, -1, -1, -1};
  cs.push_back(f16Dyn);
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, Attention,
                         ::testing::ValuesIn(attentionCases()),
                         [](const auto &info) { return info.param.name; });

TEST(Attention, EmptyRowsAreZerosNotNaN) {
  // Sq = 6 > Skv = 2: rows 0..3 see no key under causal.
  std::string t = "tensor<1x1x6x4xf32>", kt = "tensor<1x1x2x4xf32>";
  std::string src = oneOp("loom.attention", {t, kt, kt}, "{causal}", t);
  Tensor q = randomTensor("f32", {1, 1, 6, 4}, 7);
  Tensor k = randomTensor("f32", {1, 1, 2, 4}, 8);
  Tensor v = randomTensor("f32", {1, 1, 2, 4}, 9, 1.0, 2.0);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &o = (*out)[0];
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t e = 0; e < 4; ++e) {
      double x = o.at({0, 0, i, e});
      if (i < 4)
        EXPECT_EQ(x, 0.0) << "row " << i;
      else
        EXPECT_GE(x, 1.0) << "row " << i; // a convex mix of values in [1, 2)
    }
  // Row 4 (i' = 0) sees key 0 only: its output is v[0] exactly.
  for (int64_t e = 0; e < 4; ++e)
    EXPECT_FLOAT_EQ(o.at({0, 0, 4, e}), v.at({0, 0, 0, e}));
}

TEST(Attention, ZeroHeadDimAveragesVisibleValues) {
  // D = 0: every score is 0 (the default scale 1/sqrt(0) must not turn that
  // into NaN), so each row is the mean of its visible values. D is dynamic so
  // that the scale is computed at run time.
  std::string qt = "tensor<1x1x3x?xf32>", kt = "tensor<1x1x4x?xf32>",
              vt = "tensor<1x1x4x2xf32>", rt = "tensor<1x1x3x2xf32>";
  std::string src = oneOp("loom.attention", {qt, kt, vt}, "{causal}", rt);
  Tensor q({1, 1, 3, 0}), k({1, 1, 4, 0});
  Tensor v = randomTensor("f32", {1, 1, 4, 2}, 12);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t e = 0; e < 2; ++e) {
      double mean = 0;
      for (int64_t j = 0; j <= i + 1; ++j)
        mean += v.at({0, 0, j, e});
      mean /= static_cast<double>(i + 2);
      EXPECT_NEAR((*out)[0].at({0, 0, i, e}), mean, 1e-6) << i << "," << e;
    }
}

//===----------------------------------------------------------------------===//
// loom.block_sparse_attention
//===----------------------------------------------------------------------===//

struct BlockSparseCase {
  std::string name, type;
  int64_t B, Hq, Hkv, Sq, Skv, D, Dv, Lb, Lh, blockQ, blockK;
  bool causal = false;
  std::optional<double> scale, softcap;
  bool dynamic = false; // every dim of every operand dynamic
};

void PrintTo(const BlockSparseCase &c, std::ostream *os) { *os << c.name; }

class BlockSparse : public ::testing::TestWithParam<BlockSparseCase> {};

TEST_P(BlockSparse, MatchesReference) {
  const BlockSparseCase &c = GetParam();
  int64_t nqb = ceilDiv(c.Sq, c.blockQ), nkb = ceilDiv(c.Skv, c.blockK);
  std::vector<int64_t> qs{c.B, c.Hq, c.Sq, c.D}, ks{c.B, c.Hkv, c.Skv, c.D},
      vs{c.B, c.Hkv, c.Skv, c.Dv}, ls{c.Lb, c.Lh, nqb, nkb},
      rs{c.B, c.Hq, c.Sq, c.Dv};
  std::vector<int64_t> dyn{-1, -1, -1, -1};
  auto d = [&](const std::vector<int64_t> &s) { return c.dynamic ? dyn : s; };
  std::string src = oneOp(
      "loom.block_sparse_attention",
      {tensorType(d(qs), c.type), tensorType(d(ks), c.type),
       tensorType(d(vs), c.type), tensorType(d(ls), "i1")},
      attnAttrs(c.causal, c.scale, std::nullopt, c.softcap,
                "block_q = " + std::to_string(c.blockQ) +
                    " : i64, block_k = " + std::to_string(c.blockK) + " : i64"),
      tensorType(d(rs), c.type));
  Tensor q = randomTensor(c.type, qs, 201);
  Tensor k = randomTensor(c.type, ks, 202);
  Tensor v = randomTensor(c.type, vs, 203);
  Tensor layout = randomInts(ls, 204, 0, 1);
  // Query block 1 has no true block in any (b, h): its rows are zeros.
  for (int64_t b = 0; b < c.Lb; ++b)
    for (int64_t h = 0; h < c.Lh; ++h)
      for (int64_t j = 0; j < nkb; ++j)
        layout.at({b, h, 1, j}) = 0;
  // Query block 0 keeps key block 0 so that some causal row has a key.
  for (int64_t b = 0; b < c.Lb; ++b)
    for (int64_t h = 0; h < c.Lh; ++h)
      layout.at({b, h, 0, 0}) = 1;
  auto out = runOnCPU(src, "f", {q, k, v, layout});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &o = (*out)[0];
  EXPECT_EQ(o.shape, rs);
  EXPECT_FALSE(hasNaN(o));
  Tensor want = ref::blockSparseAttention(q, k, v, layout, c.blockQ, c.blockK,
                                          c.causal, c.scale, c.softcap);
  EXPECT_LT(relativeError(o, want), tolerance(c.type));
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.Hq; ++h)
      for (int64_t i = c.blockQ; i < std::min(2 * c.blockQ, c.Sq); ++i)
        for (int64_t e = 0; e < c.Dv; ++e)
          EXPECT_EQ(o.at({b, h, i, e}), 0.0);
  for (int64_t i = 0; i < o.numel(); ++i)
    if (want.data[i] == 0.0)
      EXPECT_EQ(o.data[i], 0.0) << "element " << i;
}

BlockSparseCase bsc(std::string name, std::string type, int64_t B, int64_t Hq,
                    int64_t Hkv, int64_t Sq, int64_t Skv, int64_t Lb,
                    int64_t Lh, int64_t blockQ, int64_t blockK) {
  BlockSparseCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = 16, c.Dv = 8;
  c.Lb = Lb, c.Lh = Lh, c.blockQ = blockQ, c.blockK = blockK;
  return c;
}

std::vector<BlockSparseCase> blockSparseCases() {
  std::vector<BlockSparseCase> cs;
  cs.push_back(bsc("BroadcastBoth", "f32", 2, 4, 2, 13, 17, 1, 1, 4, 5));
  auto causal = bsc("BroadcastBothCausal", "f32", 2, 4, 2, 13, 17, 1, 1, 4, 5);
  causal.causal = true;
  cs.push_back(causal);
  auto perBatch = bsc("PerBatchCausal", "f32", 3, 2, 1, 13, 13, 3, 1, 3, 4);
  perBatch.causal = true;
  cs.push_back(perBatch);
  auto perHead = bsc("PerHeadSoftcap", "f32", 2, 6, 3, 10, 23, 1, 6, 4, 6);
  perHead.softcap = 0.7;
  perHead.scale = 1.5;
  cs.push_back(perHead);
  auto full = bsc("PerBatchAndHead", "f32", 2, 4, 4, 9, 14, 2, 4, 3, 7);
  cs.push_back(full);
  // Sq > Skv under causal: the leading rows see no key whatever the layout.
  auto longQ = bsc("CausalSqGreaterSkv", "f32", 1, 2, 1, 22, 9, 1, 2, 5, 4);
  longQ.causal = true;
  cs.push_back(longQ);
  auto dyn = bsc("DynamicAll", "f32", 2, 4, 2, 13, 17, 1, 4, 4, 5);
  dyn.causal = true;
  dyn.dynamic = true;
  cs.push_back(dyn);
  auto dynB = bsc("DynamicBroadcastBatch", "f32", 3, 3, 1, 11, 8, 1, 3, 3, 3);
  dynB.dynamic = true;
  cs.push_back(dynB);
  auto bf = bsc("BF16Causal", "bf16", 1, 4, 2, 37, 37, 1, 1, 8, 8);
  bf.causal = true;
  cs.push_back(bf);
  auto f16 = bsc("F16PerHead", "f16", 2, 2, 1, 12, 19, 2, 2, 4, 4);
  f16.causal = true;
  cs.push_back(f16);
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, BlockSparse,
                         ::testing::ValuesIn(blockSparseCases()),
                         [](const auto &info) { return info.param.name; });

TEST(BlockSparse, AllTrueLayoutIsAttention) {
  // A layout that is true everywhere (passed at run time, so no
  // canonicalization sees it) gives plain causal attention.
  std::string t = "tensor<1x2x11x8xf32>", lt = "tensor<1x1x3x3xi1>";
  std::string src = oneOp("loom.block_sparse_attention", {t, t, t, lt},
                          "{block_q = 4 : i64, block_k = 4 : i64, causal}", t);
  Tensor q = randomTensor("f32", {1, 2, 11, 8}, 1);
  Tensor k = randomTensor("f32", {1, 2, 11, 8}, 2);
  Tensor v = randomTensor("f32", {1, 2, 11, 8}, 3);
  Tensor layout({1, 1, 3, 3}, std::vector<double>(9, 1.0));
  auto out = runOnCPU(src, "f", {q, k, v, layout});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_LT(relativeError((*out)[0], ref::attention(q, k, v, true)), 2e-5);
}

//===----------------------------------------------------------------------===//
// loom.select_blocks
//===----------------------------------------------------------------------===//

struct SelectCase {
  std::string name, type;
  int64_t B, Hq, Hkv, Sq, Skv, D, blockQ, blockK, topk;
  bool causal = false;
  std::optional<double> scale;
  bool dynamic = false;
};

/// The reference's reading of the contract that Loom implements: the causal
/// diagonal block comes on top of the topk other candidates (the example block
/// and the select-all canonicalization, topk + 1 >= NKB, read it so).
Tensor refSelect(const Tensor &q, const Tensor &k, const SelectCase &c) {
  return ref::selectBlocks(q, k, c.blockQ, c.blockK, c.topk, c.causal, c.scale,
                           /*diagonalCountsTowardTopk=*/false);
}

std::string selectSource(const SelectCase &c) {
  int64_t nqb = ceilDiv(c.Sq, c.blockQ), nkb = ceilDiv(c.Skv, c.blockK);
  std::vector<int64_t> qs{c.B, c.Hq, c.Sq, c.D}, ks{c.B, c.Hkv, c.Skv, c.D},
      ls{c.B, c.Hq, nqb, nkb};
  std::vector<int64_t> dyn{-1, -1, -1, -1};
  auto d = [&](const std::vector<int64_t> &s) { return c.dynamic ? dyn : s; };
  return oneOp(
      "loom.select_blocks", {tensorType(d(qs), c.type), tensorType(d(ks), c.type)},
      attnAttrs(c.causal, c.scale, std::nullopt, std::nullopt,
                "block_q = " + std::to_string(c.blockQ) +
                    " : i64, block_k = " + std::to_string(c.blockK) +
                    " : i64, topk = " + std::to_string(c.topk) + " : i64"),
      tensorType(d(ls), "i1"));
}

void PrintTo(const SelectCase &c, std::ostream *os) { *os << c.name; }

class SelectBlocks : public ::testing::TestWithParam<SelectCase> {};

TEST_P(SelectBlocks, MatchesReference) {
  const SelectCase &c = GetParam();
  Tensor q = randomTensor(c.type, {c.B, c.Hq, c.Sq, c.D}, 301);
  Tensor k = randomTensor(c.type, {c.B, c.Hkv, c.Skv, c.D}, 302);
  auto out = runOnCPU(selectSource(c), "f", {q, k});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &got = (*out)[0];
  Tensor want = refSelect(q, k, c);
  ASSERT_EQ(got.shape, want.shape);
  int64_t selected = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    EXPECT_EQ(got.data[i], want.data[i]) << "element " << i;
    selected += want.data[i] != 0;
  }
  // Every case selects something (a vacuous all-false check would pass).
  EXPECT_GT(selected, 0);
}

SelectCase sel(std::string name, std::string type, int64_t B, int64_t Hq,
               int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D, int64_t blockQ,
               int64_t blockK, int64_t topk, bool causal) {
  SelectCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = D;
  c.blockQ = blockQ, c.blockK = blockK, c.topk = topk, c.causal = causal;
  return c;
}

std::vector<SelectCase> selectCases() {
  std::vector<SelectCase> cs;
  // Ragged last blocks on both sides (13 = 3*4 + 1, 47 = 9*5 + 2).
  cs.push_back(
      sel("CausalGQARagged", "f32", 2, 4, 2, 13, 47, 8, 4, 5, 2, true));
  cs.push_back(sel("CausalTopk0", "f32", 1, 2, 1, 30, 30, 8, 4, 4, 0, true));
  cs.push_back(
      sel("CausalTopkCoversAll", "f32", 1, 2, 2, 19, 23, 8, 4, 3, 100, true));
  cs.push_back(sel("NonCausal", "f32", 2, 3, 1, 17, 29, 16, 5, 4, 3, false));
  // Sq > Skv: the leading query blocks have no candidate at all; block 1's
  // last row has i' < 0 while block 2's straddles 0.
  cs.push_back(
      sel("CausalSqGreaterSkv", "f32", 1, 2, 1, 40, 11, 8, 6, 3, 1, true));
  cs.push_back(sel("CausalSqLessSkv", "f32", 1, 4, 4, 9, 61, 8, 4, 7, 3, true));
  auto neg = sel("NegativeScale", "f32", 1, 2, 1, 16, 40, 8, 4, 4, 3, true);
  neg.scale = -0.5;
  cs.push_back(neg);
  auto dyn = sel("DynamicAll", "f32", 2, 6, 3, 25, 31, 8, 4, 6, 2, true);
  dyn.dynamic = true;
  cs.push_back(dyn);
  auto dynMqa =
      sel("DynamicMQANonCausal", "f32", 1, 3, 1, 10, 20, 4, 3, 3, 2, false);
  dynMqa.dynamic = true;
  cs.push_back(dynMqa);
  cs.push_back(
      sel("BF16CausalGQA", "bf16", 1, 4, 2, 64, 70, 32, 8, 8, 3, true));
  cs.push_back(sel("F16Causal", "f16", 1, 2, 1, 33, 33, 16, 8, 4, 2, true));
  return cs;
}

INSTANTIATE_TEST_SUITE_P(Cases, SelectBlocks,
                         ::testing::ValuesIn(selectCases()),
                         [](const auto &info) { return info.param.name; });

TEST(SelectBlocks, CausalStructure) {
  // Independently of the reference: per query block, the diagonal is
  // selected, nothing beyond it, and exactly min(topk, candidates - 1) others.
  SelectCase c = sel("", "f32", 1, 2, 1, 21, 27, 8, 4, 5, 2, true);
  Tensor q = randomTensor(c.type, {1, 2, 21, 8}, 5);
  Tensor k = randomTensor(c.type, {1, 1, 27, 8}, 6);
  auto out = runOnCPU(selectSource(c), "f", {q, k});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &l = (*out)[0];
  ASSERT_EQ(l.shape, (std::vector<int64_t>{1, 2, 6, 6}));
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t I = 0; I < 6; ++I) {
      int64_t last = std::min((I + 1) * 4, int64_t{21}) - 1;
      int64_t diag = (last + 27 - 21) / 5;
      int64_t count = 0;
      for (int64_t J = 0; J < 6; ++J) {
        bool s = l.at({0, h, I, J}) != 0;
        if (J == diag)
          EXPECT_TRUE(s) << "I " << I;
        if (J > diag)
          EXPECT_FALSE(s) << "I " << I << " J " << J;
        count += s;
      }
      EXPECT_EQ(count, 1 + std::min<int64_t>(2, diag));
    }
}

TEST(SelectBlocks, TiesGoToLowerBlocks) {
  // k is constant: every key block has the same pooled key, so all scores tie
  // and the topk lowest non-diagonal candidates win.
  SelectCase c = sel("", "f32", 1, 1, 1, 16, 24, 4, 4, 4, 2, true);
  Tensor q = randomTensor("f32", {1, 1, 16, 4}, 9);
  Tensor k({1, 1, 24, 4}, std::vector<double>(96, 0.5));
  auto out = runOnCPU(selectSource(c), "f", {q, k});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &l = (*out)[0];
  // Query block I's last row i = 4I + 3 aligns to i' = 4I + 11: diagonal
  // block (4I + 11) / 4 = I + 2; blocks 0 and 1 win the ties.
  for (int64_t I = 0; I < 4; ++I)
    for (int64_t J = 0; J < 6; ++J) {
      bool want = J == I + 2 || J < 2;
      EXPECT_EQ(l.at({0, 0, I, J}) != 0, want) << "I " << I << " J " << J;
    }
  Tensor want = refSelect(q, k, c);
  for (int64_t i = 0; i < l.numel(); ++i)
    EXPECT_EQ(l.data[i], want.data[i]);
}

TEST(SelectBlocks, FeedsBlockSparseAttention) {
  // The long-context pattern: select_blocks' layout drives the block-sparse
  // attention within one compiled function.
  std::string qt = "tensor<1x4x37x16xbf16>", kt = "tensor<1x2x37x16xbf16>",
              lt = "tensor<1x4x5x5xi1>";
  std::string src =
      "func.func @f(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ") -> " + qt +
      " {\n  %l = loom.select_blocks %q, %k {block_q = 8 : i64, block_k = 8 : "
      "i64, topk = 1 : i64, causal} : (" +
      qt + ", " + kt + ") -> " + lt +
      "\n  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 8 : i64, "
      "block_k = 8 : i64, causal} : (" +
      qt + ", " + kt + ", " + kt + ", " + lt + ") -> " + qt +
      "\n  return %o : " + qt + "\n}\n";
  Tensor q = randomTensor("bf16", {1, 4, 37, 16}, 41);
  Tensor k = randomTensor("bf16", {1, 2, 37, 16}, 42);
  Tensor v = randomTensor("bf16", {1, 2, 37, 16}, 43);
  auto out = runOnCPU(src, "f", {q, k, v});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor layout = ref::selectBlocks(q, k, 8, 8, 1, true, std::nullopt, false);
  Tensor want = ref::blockSparseAttention(q, k, v, layout, 8, 8, true);
  EXPECT_LT(relativeError((*out)[0], want), tolerance("bf16"));
}

} // namespace
