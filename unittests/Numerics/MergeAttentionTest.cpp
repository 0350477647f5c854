// Numerics of the lse result of attention and block_sparse_attention and of
// merge_attention on the CPU path, against the double-precision references:
// each op alone, and the split property
// attention(q, K1 ++ K2, V1 ++ V2) == merge(attention(q, K1, V1),
// attention(q, K2, V2)) computed inside one compiled function.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string f32Attr(const char *name, double value) {
  std::ostringstream s;
  s.precision(9);
  s << std::scientific << name << " = " << value << " : f32";
  return s.str();
}

/// `{a, b, ...}` of the non-empty parts, or "" when there are none.
std::string attrDict(const std::vector<std::string> &parts) {
  std::string r;
  for (const std::string &p : parts)
    if (!p.empty())
      r += (r.empty() ? "" : ", ") + p;
  return r.empty() ? "" : " {" + r + "}";
}

/// Keys [s0, s1) of a [B, H, S, D] tensor.
ref::Tensor keySlice(const ref::Tensor &t, int64_t s0, int64_t s1) {
  ref::Tensor r({t.shape[0], t.shape[1], s1 - s0, t.shape[3]});
  for (int64_t b = 0; b < t.shape[0]; ++b)
    for (int64_t h = 0; h < t.shape[1]; ++h)
      for (int64_t s = s0; s < s1; ++s)
        for (int64_t d = 0; d < t.shape[3]; ++d)
          r.at({b, h, s - s0, d}) = t.at({b, h, s, d});
  return r;
}

/// Key blocks [j0, j1) of a [Lb, Lh, NQB, NKB] layout.
ref::Tensor blockSlice(const ref::Tensor &t, int64_t j0, int64_t j1) {
  ref::Tensor r({t.shape[0], t.shape[1], t.shape[2], j1 - j0});
  for (int64_t b = 0; b < t.shape[0]; ++b)
    for (int64_t h = 0; h < t.shape[1]; ++h)
      for (int64_t i = 0; i < t.shape[2]; ++i)
        for (int64_t j = j0; j < j1; ++j)
          r.at({b, h, i, j - j0}) = t.at({b, h, i, j});
  return r;
}

/// The lse `got` matches `want`: -inf exactly where `want` is -inf, else
/// within `tol` absolutely (lse is a log: its absolute error is the relative
/// error of the row's sum).
void expectLse(const ref::Tensor &got, const ref::Tensor &want, double tol,
               const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    if (want.data[i] == -kInf) {
      EXPECT_EQ(got.data[i], -kInf) << what << ": row " << i;
    } else {
      EXPECT_NEAR(got.data[i], want.data[i], tol) << what << ": row " << i;
    }
  }
}

int64_t countInf(const ref::Tensor &t) {
  int64_t n = 0;
  for (double x : t.data)
    n += x == -kInf;
  return n;
}

/// Rows of `o` whose lse is -inf are exactly 0.
void expectEmptyRowsZero(const ref::Tensor &o, const ref::Tensor &lse) {
  int64_t dv = o.shape[3];
  for (int64_t r = 0; r < lse.numel(); ++r)
    if (lse.data[r] == -kInf)
      for (int64_t e = 0; e < dv; ++e)
        EXPECT_EQ(o.data[r * dv + e], 0.0) << "row " << r;
}

/// Absolute tolerance of an lse computed in f32 from inputs of `type`.
double lseTolerance(const std::string &type) {
  return type == "f32" ? 2e-5 : 1e-4;
}

//===----------------------------------------------------------------------===//
// The lse result of loom.attention
//===----------------------------------------------------------------------===//

struct LseCase {
  std::string name, type;
  int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
  bool causal = false;
  std::optional<double> scale;
  std::optional<int64_t> window;
  std::optional<double> softcap;
  bool dynamic = false; // every dim of every operand and result dynamic
};

void PrintTo(const LseCase &c, std::ostream *os) { *os << c.name; }

class AttentionLse : public ::testing::TestWithParam<LseCase> {};

TEST_P(AttentionLse, MatchesReference) {
  const LseCase &c = GetParam();
  std::vector<int64_t> qs{c.B, c.Hq, c.Sq, c.D}, ks{c.B, c.Hkv, c.Skv, c.D},
      vs{c.B, c.Hkv, c.Skv, c.Dv}, rs{c.B, c.Hq, c.Sq, c.Dv},
      ls{c.B, c.Hq, c.Sq};
  auto d = [&](std::vector<int64_t> s) {
    if (c.dynamic)
      for (int64_t &x : s)
        x = -1;
    return s;
  };
  std::string q = tensorType(d(qs), c.type), k = tensorType(d(ks), c.type),
              v = tensorType(d(vs), c.type), r = tensorType(d(rs), c.type),
              l = tensorType(d(ls), "f32");
  std::string src =
      "func.func @f(%q: " + q + ", %k: " + k + ", %v: " + v + ") -> (" + r +
      ", " + l + ") {\n  %o:2 = loom.attention %q, %k, %v" +
      attrDict({c.causal ? "causal" : "",
                c.scale ? f32Attr("scale", *c.scale) : "",
                c.window ? "window = " + std::to_string(*c.window) + " : i64"
                         : "",
                c.softcap ? f32Attr("softcap", *c.softcap) : ""}) +
      " : (" + q + ", " + k + ", " + v + ") -> (" + r + ", " + l +
      ")\n  return %o#0, %o#1 : " + r + ", " + l + "\n}\n";
  ref::Tensor tq = randomTensor(c.type, qs, 301, -2.0, 2.0);
  ref::Tensor tk = randomTensor(c.type, ks, 302, -2.0, 2.0);
  ref::Tensor tv = randomTensor(c.type, vs, 303);
  auto out = runOnCPU(src, "f", {tq, tk, tv});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 2u);
  const ref::Tensor &o = (*out)[0], &lse = (*out)[1];
  EXPECT_EQ(o.shape, rs);
  EXPECT_FALSE(hasNaN(o));
  EXPECT_FALSE(hasNaN(lse));
  ref::Tensor wantO =
      ref::attention(tq, tk, tv, c.causal, c.scale, c.window, c.softcap);
  ref::Tensor wantL =
      ref::attentionLse(tq, tk, tv, c.causal, c.scale, c.window, c.softcap);
  EXPECT_LT(relativeError(o, wantO), tolerance(c.type));
  expectLse(lse, wantL, lseTolerance(c.type), c.name);
  expectEmptyRowsZero(o, lse);
}

LseCase lseCase(std::string name, std::string type, int64_t B, int64_t Hq,
                int64_t Hkv, int64_t Sq, int64_t Skv, int64_t D, int64_t Dv) {
  LseCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.Skv = Skv, c.D = D, c.Dv = Dv;
  return c;
}

std::vector<LseCase> lseCases() {
  std::vector<LseCase> cases;
  cases.push_back(lseCase("f32_mha", "f32", 1, 2, 2, 13, 29, 16, 16));
  LseCase gqa = lseCase("bf16_gqa_causal", "bf16", 2, 4, 2, 37, 53, 32, 24);
  gqa.causal = true;
  cases.push_back(gqa);
  // Sq > Skv under causal: the first Sq - Skv rows see no key (-inf).
  LseCase empty = lseCase("f32_causal_empty_rows", "f32", 1, 2, 1, 21, 9, 8, 8);
  empty.causal = true;
  cases.push_back(empty);
  LseCase window = lseCase("f16_window_softcap", "f16", 1, 3, 1, 19, 41, 16, 16);
  window.causal = true;
  window.window = 7;
  window.softcap = 2.5;
  window.scale = 0.7;
  cases.push_back(window);
  LseCase dyn = lseCase("f32_dynamic_causal", "f32", 2, 2, 1, 17, 11, 8, 4);
  dyn.causal = true;
  dyn.dynamic = true;
  cases.push_back(dyn);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionLse, ::testing::ValuesIn(lseCases()),
                         [](const auto &info) { return info.param.name; });

TEST(AttentionLse, BlockSparseMatchesReference) {
  // A query block without any true block: its rows have lse -inf and o 0.
  int64_t B = 1, Hq = 2, Hkv = 1, Sq = 45, Skv = 38, D = 8, bq = 16, bk = 8;
  int64_t nqb = ceilDiv(Sq, bq), nkb = ceilDiv(Skv, bk);
  std::string q = tensorType({B, Hq, Sq, D}, "f32"),
              k = tensorType({B, Hkv, Skv, D}, "f32"),
              lt = tensorType({1, Hq, nqb, nkb}, "i1"),
              l = tensorType({B, Hq, Sq}, "f32");
  std::string src =
      "func.func @f(%q: " + q + ", %k: " + k + ", %v: " + k + ", %l: " + lt +
      ") -> (" + q + ", " + l +
      ") {\n  %o:2 = loom.block_sparse_attention %q, %k, %v, %l {block_q = " +
      std::to_string(bq) + " : i64, block_k = " + std::to_string(bk) +
      " : i64, causal} : (" + q + ", " + k + ", " + k + ", " + lt + ") -> (" +
      q + ", " + l + ")\n  return %o#0, %o#1 : " + q + ", " + l + "\n}\n";
  ref::Tensor tq = randomTensor("f32", {B, Hq, Sq, D}, 311);
  ref::Tensor tk = randomTensor("f32", {B, Hkv, Skv, D}, 312);
  ref::Tensor tv = randomTensor("f32", {B, Hkv, Skv, D}, 313);
  ref::Tensor layout = randomInts({1, Hq, nqb, nkb}, 314, 0, 1);
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t j = 0; j < nkb; ++j)
      layout.at({0, h, 1, j}) = 0;
  auto out = runOnCPU(src, "f", {tq, tk, tv, layout});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ref::Tensor wantL =
      ref::blockSparseAttentionLse(tq, tk, tv, layout, bq, bk, true);
  EXPECT_LT(relativeError((*out)[0], ref::blockSparseAttention(
                                         tq, tk, tv, layout, bq, bk, true)),
            tolerance("f32"));
  expectLse((*out)[1], wantL, lseTolerance("f32"), "block-sparse");
  EXPECT_GE(countInf(wantL), Hq * bq); // query block 1 of every head
  expectEmptyRowsZero((*out)[0], (*out)[1]);
}

//===----------------------------------------------------------------------===//
// loom.merge_attention alone
//===----------------------------------------------------------------------===//

/// `n` pairs of random (o_i, lse_i), lse_i in [-3, 3): row r of pair i is
/// -inf when (r + i) % 5 == 0, and in every pair when r % 7 == 3; pair 0 has
/// lse 95 on every 11th row (exp(95) overflows f32: the merge must not).
struct MergeInputs {
  std::vector<ref::Tensor> o, lse;
};

MergeInputs mergeInputs(const std::string &type, std::vector<int64_t> shape,
                        unsigned n, uint64_t seed) {
  MergeInputs in;
  std::vector<int64_t> rows(shape.begin(), shape.begin() + 3);
  for (unsigned i = 0; i < n; ++i) {
    in.o.push_back(randomTensor(type, shape, seed + 2 * i));
    ref::Tensor l = randomTensor("f32", rows, seed + 2 * i + 1, -3.0, 3.0);
    for (int64_t r = 0; r < l.numel(); ++r)
      if ((r + i) % 5 == 0 || r % 7 == 3) // r % 7 == 3: -inf in every pair
        l.data[r] = -kInf;
    // A large lse in pair 0 on some rows: the merge must not overflow.
    if (i == 0)
      for (int64_t r = 1; r < l.numel(); r += 11)
        l.data[r] = 95.0;
    in.lse.push_back(l);
  }
  return in;
}

std::string mergeSource(const std::string &type, std::vector<int64_t> shape,
                        unsigned n, bool dynamic) {
  std::vector<int64_t> os = shape, ls(shape.begin(), shape.begin() + 3);
  if (dynamic) {
    os = {-1, os[1], -1, os[3]};
    ls = {-1, ls[1], -1};
  }
  std::string o = tensorType(os, type), l = tensorType(ls, "f32");
  std::string args, operands, types;
  for (unsigned i = 0; i < n; ++i) {
    std::string s = std::to_string(i);
    args += (i ? ", " : "") + ("%o" + s + ": " + o + ", %l" + s + ": " + l);
    operands += (i ? ", " : "") + ("%o" + s + ", %l" + s);
    types += (i ? ", " : "") + o + ", " + l;
  }
  return "func.func @f(" + args + ") -> (" + o + ", " + l +
         ") {\n  %m:2 = loom.merge_attention " + operands + " : (" + types +
         ") -> (" + o + ", " + l + ")\n  return %m#0, %m#1 : " + o + ", " + l +
         "\n}\n";
}

struct MergeCase {
  std::string name, type;
  unsigned pairs;
  bool dynamic;
};

void PrintTo(const MergeCase &c, std::ostream *os) { *os << c.name; }

class MergeAttention : public ::testing::TestWithParam<MergeCase> {};

TEST_P(MergeAttention, MatchesReference) {
  const MergeCase &c = GetParam();
  std::vector<int64_t> shape{2, 3, 19, 12};
  MergeInputs in = mergeInputs(c.type, shape, c.pairs, 400);
  std::vector<ref::Tensor> args;
  for (unsigned i = 0; i < c.pairs; ++i) {
    args.push_back(in.o[i]);
    args.push_back(in.lse[i]);
  }
  auto out = runOnCPU(mergeSource(c.type, shape, c.pairs, c.dynamic), "f",
                      args);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 2u);
  std::vector<ref::Tensor> want = ref::mergeAttention(in.o, in.lse);
  EXPECT_FALSE(hasNaN((*out)[0]));
  EXPECT_FALSE(hasNaN((*out)[1]));
  EXPECT_TRUE(allFinite((*out)[0]));
  EXPECT_LT(relativeError((*out)[0], want[0]), tolerance(c.type));
  expectLse((*out)[1], want[1], 2e-5, c.name);
  if (c.pairs > 1) {
    EXPECT_GT(countInf(want[1]), 0); // rows -inf in every pair
    expectEmptyRowsZero((*out)[0], (*out)[1]);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MergeAttention,
    ::testing::Values(MergeCase{"f32_one_pair", "f32", 1, false},
                      MergeCase{"f32_two", "f32", 2, false},
                      MergeCase{"bf16_three", "bf16", 3, false},
                      MergeCase{"f16_four_dynamic", "f16", 4, true}),
    [](const auto &info) { return info.param.name; });

TEST(MergeAttention, EmptyPairIgnoresItsOutput) {
  // A pair with lse -inf contributes nothing even where its o is huge.
  std::vector<int64_t> shape{1, 1, 3, 2};
  ref::Tensor o0 = randomTensor("f32", shape, 1), o1(shape);
  for (double &x : o1.data)
    x = 3.0e38;
  ref::Tensor l0({1, 1, 3}, {0.5, -1.0, -kInf}), l1({1, 1, 3}, {-kInf, -kInf, -kInf});
  auto out = runOnCPU(mergeSource("f32", shape, 2, false), "f",
                      {o0, l0, o1, l1});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  for (int64_t e = 0; e < 2; ++e) {
    EXPECT_FLOAT_EQ((*out)[0].at({0, 0, 0, e}), o0.at({0, 0, 0, e}));
    EXPECT_FLOAT_EQ((*out)[0].at({0, 0, 1, e}), o0.at({0, 0, 1, e}));
    EXPECT_EQ((*out)[0].at({0, 0, 2, e}), 0.0);
  }
  EXPECT_FLOAT_EQ((*out)[1].at({0, 0, 0}), 0.5);
  EXPECT_FLOAT_EQ((*out)[1].at({0, 0, 1}), -1.0);
  EXPECT_EQ((*out)[1].at({0, 0, 2}), -kInf);
}

//===----------------------------------------------------------------------===//
// The split property: attention over K1 ++ K2 is the merge of the halves.
//
// With bottom-right alignment (i' = i + Skv - Sq), the key j = s1 + j' of the
// second half (s2 keys) is causally visible iff j' <= i + (s2 - Sq): exactly
// `causal` on the second half alone, window included (j' > i + s2 - Sq - W).
// The first half (s1 keys) would need the diagonal shifted by s2, which the
// ops cannot express; it is entirely visible (no mask) when
// s1 - 1 <= Skv - Sq, i.e. s2 >= Sq - 1: the KV-cache case (cached prefix,
// causal chunk of new keys). The causal splits below are of that kind; with
// s2 = Sq - 1 the first query row sees no key of the second half. A window
// reaching into the prefix is not expressible (a "j > i + c" mask on the
// prefix); the window split below keeps the window inside the second half
// and merges with an empty first half.
//===----------------------------------------------------------------------===//

struct SplitCase {
  std::string name, type;
  int64_t B, Hq, Hkv, Sq, s1, s2, D, Dv;
  bool causal = false; // full: causal; first half: none; second: causal
  std::optional<int64_t> window; // with causal; first half: all masked
  std::optional<double> scale, softcap;
  /// Block-sparse (non-causal unless `causal`): the full layout's key
  /// blocks split at s1 / blockK.
  int64_t blockQ = 0, blockK = 0;
  /// Whether some row has no visible key in the first half, the second
  /// half, the whole (checked on the reference, so that the case tests
  /// what it says).
  bool empty1 = false, empty2 = false, emptyWhole = false;
};

void PrintTo(const SplitCase &c, std::ostream *os) { *os << c.name; }

class SplitKeys : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitKeys, MergeOfHalvesIsWhole) {
  const SplitCase &c = GetParam();
  int64_t skv = c.s1 + c.s2;
  bool sparse = c.blockK > 0;
  std::string T = c.type;
  auto tt = [&](std::vector<int64_t> s) { return tensorType(s, T); };
  std::string q = tt({c.B, c.Hq, c.Sq, c.D}), k = tt({c.B, c.Hkv, skv, c.D}),
              v = tt({c.B, c.Hkv, skv, c.Dv}),
              k1 = tt({c.B, c.Hkv, c.s1, c.D}),
              v1 = tt({c.B, c.Hkv, c.s1, c.Dv}),
              k2 = tt({c.B, c.Hkv, c.s2, c.D}),
              v2 = tt({c.B, c.Hkv, c.s2, c.Dv}), o = tt({c.B, c.Hq, c.Sq, c.Dv}),
              l = tensorType({c.B, c.Hq, c.Sq}, "f32");
  std::string common = c.scale ? f32Attr("scale", *c.scale) : "";
  std::string cap = c.softcap ? f32Attr("softcap", *c.softcap) : "";
  std::string win =
      c.window ? "window = " + std::to_string(*c.window) + " : i64" : "";
  std::string res = " -> (" + o + ", " + l + ")";
  int64_t nqb = 0, nkb = 0, nkb1 = 0;
  std::string lt, lt1, lt2, blocks;
  if (sparse) {
    nqb = ceilDiv(c.Sq, c.blockQ);
    nkb = ceilDiv(skv, c.blockK);
    nkb1 = c.s1 / c.blockK;
    lt = tensorType({1, c.Hq, nqb, nkb}, "i1");
    lt1 = tensorType({1, c.Hq, nqb, nkb1}, "i1");
    lt2 = tensorType({1, c.Hq, nqb, nkb - nkb1}, "i1");
    blocks = "block_q = " + std::to_string(c.blockQ) +
             " : i64, block_k = " + std::to_string(c.blockK) + " : i64";
  }
  std::string src = "func.func @f(%q: " + q + ", %k: " + k + ", %v: " + v +
                    ", %k1: " + k1 + ", %v1: " + v1 + ", %k2: " + k2 +
                    ", %v2: " + v2;
  if (sparse)
    src += ", %l: " + lt + ", %l1: " + lt1 + ", %l2: " + lt2;
  src += ") -> (" + o + ", " + l + ", " + o + ", " + l + ", " + l + ", " + l +
         ") {\n";
  std::string causal = c.causal ? "causal" : "";
  if (sparse) {
    auto bsa = [&](const std::string &name, const std::string &kk,
                   const std::string &vv, const std::string &ll,
                   const std::string &kt, const std::string &vt,
                   const std::string &layoutType, const std::string &cz) {
      return "  %" + name + ":2 = loom.block_sparse_attention %q, %" + kk +
             ", %" + vv + ", %" + ll + attrDict({blocks, cz, common, cap}) +
             " : (" + q + ", " + kt + ", " + vt + ", " + layoutType + ")" +
             res + "\n";
    };
    src += bsa("a", "k", "v", "l", k, v, lt, causal);
    src += bsa("a1", "k1", "v1", "l1", k1, v1, lt1, "");
    src += bsa("a2", "k2", "v2", "l2", k2, v2, lt2, causal);
  } else {
    auto att = [&](const std::string &name, const std::string &kk,
                   const std::string &vv, const std::string &kt,
                   const std::string &vt, const std::string &cz,
                   const std::string &w) {
      return "  %" + name + ":2 = loom.attention %q, %" + kk + ", %" + vv +
             attrDict({cz, w, common, cap}) + " : (" + q + ", " + kt + ", " +
             vt + ")" + res + "\n";
    };
    src += att("a", "k", "v", k, v, causal, win);
    if (c.window) {
      // Every key the window shows lies in the second half: the first half
      // contributes an empty pair (a block-sparse attention whose layout is
      // all false).
      std::string el = tensorType({1, 1, 1, 1}, "i1");
      src += "  %none = arith.constant dense<false> : " + el + "\n";
      src += "  %a1:2 = loom.block_sparse_attention %q, %k1, %v1, %none {block_q = " +
             std::to_string(c.Sq) + " : i64, block_k = " +
             std::to_string(c.s1) + " : i64" +
             (common.empty() ? "" : ", " + common) + "} : (" + q + ", " + k1 +
             ", " + v1 + ", " + el + ")" + res + "\n";
    } else {
      src += att("a1", "k1", "v1", k1, v1, "", "");
    }
    src += att("a2", "k2", "v2", k2, v2, causal, win);
  }
  src += "  %m:2 = loom.merge_attention %a1#0, %a1#1, %a2#0, %a2#1 : (" + o +
         ", " + l + ", " + o + ", " + l + ")" + res + "\n";
  src += "  return %a#0, %a#1, %m#0, %m#1, %a1#1, %a2#1 : " + o + ", " + l +
         ", " + o + ", " + l + ", " + l + ", " + l + "\n}\n";

  ref::Tensor tq = randomTensor(T, {c.B, c.Hq, c.Sq, c.D}, 501, -2.0, 2.0);
  ref::Tensor tk = randomTensor(T, {c.B, c.Hkv, skv, c.D}, 502, -2.0, 2.0);
  ref::Tensor tv = randomTensor(T, {c.B, c.Hkv, skv, c.Dv}, 503);
  std::vector<ref::Tensor> inputs{tq,
                                  tk,
                                  tv,
                                  keySlice(tk, 0, c.s1),
                                  keySlice(tv, 0, c.s1),
                                  keySlice(tk, c.s1, skv),
                                  keySlice(tv, c.s1, skv)};
  ref::Tensor layout;
  if (sparse) {
    layout = randomInts({1, c.Hq, nqb, nkb}, 504, 0, 1);
    // Query block 0 sees nothing of the first half, query block 1 nothing
    // of the second, query block 2 (if any) nothing at all.
    for (int64_t h = 0; h < c.Hq; ++h)
      for (int64_t j = 0; j < nkb; ++j) {
        if (j < nkb1)
          layout.at({0, h, 0, j}) = 0;
        else if (nqb > 1)
          layout.at({0, h, 1, j}) = 0;
        if (nqb > 2)
          layout.at({0, h, 2, j}) = 0;
      }
    inputs.push_back(layout);
    inputs.push_back(blockSlice(layout, 0, nkb1));
    inputs.push_back(blockSlice(layout, nkb1, nkb));
  }
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 6u);
  const ref::Tensor &whole = (*out)[0], &wholeL = (*out)[1],
                    &merged = (*out)[2], &mergedL = (*out)[3];

  // The whole against the reference.
  ref::Tensor wantO, wantL;
  if (sparse) {
    wantO = ref::blockSparseAttention(tq, tk, tv, layout, c.blockQ, c.blockK,
                                      c.causal, c.scale, c.softcap);
    wantL = ref::blockSparseAttentionLse(tq, tk, tv, layout, c.blockQ,
                                         c.blockK, c.causal, c.scale,
                                         c.softcap);
  } else {
    wantO = ref::attention(tq, tk, tv, c.causal, c.scale, c.window, c.softcap);
    wantL = ref::attentionLse(tq, tk, tv, c.causal, c.scale, c.window,
                              c.softcap);
  }
  EXPECT_LT(relativeError(whole, wantO), tolerance(T));
  expectLse(wholeL, wantL, lseTolerance(T), "whole");
  EXPECT_EQ(countInf(wantL) > 0, c.emptyWhole);
  // The halves' lse: rows without a visible key in a half are -inf there.
  EXPECT_EQ(countInf((*out)[4]) > 0, c.empty1);
  EXPECT_EQ(countInf((*out)[5]) > 0, c.empty2);
  EXPECT_FALSE(hasNaN((*out)[4]));
  EXPECT_FALSE(hasNaN((*out)[5]));
  // The merge of the halves against the same reference and the whole: the
  // halves are rounded to T before the merge, so allow two roundings.
  EXPECT_FALSE(hasNaN(merged));
  EXPECT_FALSE(hasNaN(mergedL));
  EXPECT_LT(relativeError(merged, wantO), 2 * tolerance(T));
  EXPECT_LT(relativeError(merged, whole), 2 * tolerance(T));
  expectLse(mergedL, wantL, lseTolerance(T), "merged");
  expectLse(mergedL, wholeL, lseTolerance(T), "merged vs whole");
  expectEmptyRowsZero(merged, mergedL);
  // Rows without a visible key anywhere are exactly 0 in both.
  for (int64_t i = 0; i < whole.numel(); ++i)
    if (wantO.data[i] == 0.0) {
      EXPECT_EQ(whole.data[i], 0.0) << i;
      EXPECT_EQ(merged.data[i], 0.0) << i;
    }
}

SplitCase split(std::string name, std::string type, int64_t B, int64_t Hq,
                int64_t Hkv, int64_t Sq, int64_t s1, int64_t s2, int64_t D,
                int64_t Dv) {
  SplitCase c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.B = B, c.Hq = Hq, c.Hkv = Hkv, c.Sq = Sq, c.s1 = s1, c.s2 = s2, c.D = D,
  c.Dv = Dv;
  return c;
}

std::vector<SplitCase> splitCases() {
  std::vector<SplitCase> cases;
  // No mask: any split; GQA, softcap and scale, ragged sizes.
  SplitCase plain = split("f32_plain_gqa", "f32", 2, 4, 2, 23, 37, 26, 16, 12);
  plain.softcap = 3.0;
  plain.scale = 0.4;
  cases.push_back(plain);
  cases.push_back(split("bf16_plain", "bf16", 1, 2, 1, 5, 3, 70, 32, 32));
  // Causal, the second half the chunk of Sq new keys (chunked prefill).
  SplitCase chunk = split("f32_causal_chunk", "f32", 1, 3, 1, 19, 45, 19, 8, 8);
  chunk.causal = true;
  cases.push_back(chunk);
  // Causal, s2 = Sq - 1: query row 0 sees no key of the second half.
  SplitCase edge = split("f32_causal_row_empty_in_half", "f32", 1, 2, 2, 17,
                         30, 16, 16, 8);
  edge.causal = true;
  edge.empty2 = true;
  cases.push_back(edge);
  // Causal, decode-like: a few queries, long prefix.
  SplitCase decode = split("bf16_causal_decode", "bf16", 2, 8, 2, 3, 131, 2,
                           64, 64);
  decode.causal = true;
  decode.empty2 = true;
  cases.push_back(decode);
  // A window inside the second half (W <= s2 - Sq + 1): the first half is
  // invisible to every row; rows see W keys or fewer.
  SplitCase window = split("f32_window_in_half", "f32", 1, 2, 1, 13, 21, 33,
                           8, 8);
  window.causal = true;
  window.window = 9;
  window.empty1 = true;
  cases.push_back(window);
  // Block-sparse: rows empty in the first half, in the second, in both.
  SplitCase bsa = split("f32_block_sparse", "f32", 1, 2, 1, 41, 24, 35, 8, 8);
  bsa.blockQ = 16;
  bsa.blockK = 8;
  bsa.softcap = 5.0;
  bsa.empty1 = bsa.empty2 = bsa.emptyWhole = true;
  cases.push_back(bsa);
  SplitCase bsaCausal =
      split("bf16_block_sparse_causal", "bf16", 1, 2, 2, 37, 32, 37, 16, 16);
  bsaCausal.causal = true;
  bsaCausal.blockQ = 16;
  bsaCausal.blockK = 16;
  bsaCausal.empty1 = bsaCausal.empty2 = bsaCausal.emptyWhole = true;
  cases.push_back(bsaCausal);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, SplitKeys, ::testing::ValuesIn(splitCases()),
                         [](const auto &info) { return info.param.name; });

TEST(SplitKeys, ThreeWayMergeIsWhole) {
  // Three parts, no mask, merged by one merge_attention of three pairs.
  int64_t B = 1, H = 2, Sq = 11, D = 8, parts[3] = {7, 1, 20};
  int64_t skv = parts[0] + parts[1] + parts[2];
  std::string q = tensorType({B, H, Sq, D}, "f32"),
              l = tensorType({B, H, Sq}, "f32");
  std::string src = "func.func @f(%q: " + q;
  std::vector<std::string> kt;
  for (int p = 0; p < 3; ++p) {
    kt.push_back(tensorType({B, H, parts[p], D}, "f32"));
    src += ", %k" + std::to_string(p) + ": " + kt[p] + ", %v" +
           std::to_string(p) + ": " + kt[p];
  }
  src += ") -> (" + q + ", " + l + ") {\n";
  for (int p = 0; p < 3; ++p) {
    std::string s = std::to_string(p);
    src += "  %a" + s + ":2 = loom.attention %q, %k" + s + ", %v" + s +
           " : (" + q + ", " + kt[p] + ", " + kt[p] + ") -> (" + q + ", " + l +
           ")\n";
  }
  src += "  %m:2 = loom.merge_attention %a0#0, %a0#1, %a1#0, %a1#1, %a2#0, "
         "%a2#1 : (" +
         q + ", " + l + ", " + q + ", " + l + ", " + q + ", " + l + ") -> (" +
         q + ", " + l + ")\n  return %m#0, %m#1 : " + q + ", " + l + "\n}\n";
  ref::Tensor tq = randomTensor("f32", {B, H, Sq, D}, 601);
  ref::Tensor tk = randomTensor("f32", {B, H, skv, D}, 602);
  ref::Tensor tv = randomTensor("f32", {B, H, skv, D}, 603);
  std::vector<ref::Tensor> inputs{tq};
  int64_t at = 0;
  for (int p = 0; p < 3; ++p) {
    inputs.push_back(keySlice(tk, at, at + parts[p]));
    inputs.push_back(keySlice(tv, at, at + parts[p]));
    at += parts[p];
  }
  auto out = runOnCPU(src, "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_LT(relativeError((*out)[0], ref::attention(tq, tk, tv)),
            2 * tolerance("f32"));
  expectLse((*out)[1], ref::attentionLse(tq, tk, tv), 2e-5, "three-way");
}

} // namespace
