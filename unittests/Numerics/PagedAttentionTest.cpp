// Numerics of the serving ops of issue 16's deliverables 2 and 3 on the CPU
// path against the double-precision references (unittests/Reference):
// loom.paged_attention on mixed batches (lengths 1 to 300, not multiples of
// the page, pages of 16 and of 5, shuffled block tables, GQA, Dv != D,
// causal / window / per-head window / sink / softcap, bf16 and f32, padding
// rows), its equality with loom.attention per sequence, loom.kv_cache_write
// (skipped and out-of-range slots), loom.rope at per-token positions, a
// Llama-style prefill then decode step through the three ops, inputs whose
// indices break the requirements (no fault, finite output), and the same
// module with dynamic T compiled ahead of time by loom-compile.
#include "Harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// A ragged batch in a paged cache: the index tensors and where each
/// sequence's keys live.
struct Batch {
  std::vector<int64_t> nq, nkv;
  int64_t page = 16, numPages = 0, maxPages = 0, tokens = 0;
  Tensor qOffsets, kvLens, blockTable;

  /// The slot (page * page_size + offset) of key j of sequence b.
  int64_t slot(int64_t b, int64_t j) const {
    int64_t p = static_cast<int64_t>(
        blockTable.data[static_cast<size_t>(b * maxPages + j / page)]);
    return p * page + j % page;
  }
};

/// Sequences of nq[b] queries and nkv[b] keys in pages of `page`, pages
/// handed out in a shuffled order (so a sequence's pages are not
/// contiguous), `spare` pages never used, `padding` query rows after the
/// last sequence. Block table entries past a sequence's pages hold indices
/// far out of range: they must never be read.
Batch makeBatch(std::vector<int64_t> nq, std::vector<int64_t> nkv,
                int64_t page, int64_t spare, int64_t padding, uint64_t seed) {
  Batch bt;
  bt.nq = std::move(nq);
  bt.nkv = std::move(nkv);
  bt.page = page;
  int64_t b = static_cast<int64_t>(bt.nq.size());
  int64_t used = 0;
  for (int64_t n : bt.nkv) {
    used += ceilDiv(n, page);
    bt.maxPages = std::max(bt.maxPages, ceilDiv(n, page));
  }
  bt.maxPages += 1; // room to spare in every row
  bt.numPages = used + spare;
  std::vector<int64_t> order(static_cast<size_t>(bt.numPages));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  bt.qOffsets = Tensor({b + 1});
  bt.kvLens = Tensor({b});
  bt.blockTable = Tensor({b, bt.maxPages});
  int64_t next = 0, offset = 0;
  for (int64_t s = 0; s < b; ++s) {
    bt.qOffsets.data[static_cast<size_t>(s)] = static_cast<double>(offset);
    offset += bt.nq[static_cast<size_t>(s)];
    bt.kvLens.data[static_cast<size_t>(s)] =
        static_cast<double>(bt.nkv[static_cast<size_t>(s)]);
    int64_t pages = ceilDiv(bt.nkv[static_cast<size_t>(s)], page);
    for (int64_t i = 0; i < bt.maxPages; ++i)
      bt.blockTable.data[static_cast<size_t>(s * bt.maxPages + i)] =
          i < pages ? static_cast<double>(order[static_cast<size_t>(next++)])
                    : (i % 2 ? -7.0 : 1.0e6);
  }
  bt.qOffsets.data[static_cast<size_t>(b)] = static_cast<double>(offset);
  bt.tokens = offset + padding;
  return bt;
}

/// A random page cache [P, page, H, X] of `type` whose slots that hold no
/// key of any sequence are NaN, so that a read past a sequence's keys shows.
Tensor makeCache(const Batch &bt, int64_t heads, int64_t x,
                 const std::string &type, uint64_t seed) {
  Tensor c = randomTensor(type, {bt.numPages, bt.page, heads, x}, seed);
  std::vector<bool> live(static_cast<size_t>(bt.numPages * bt.page), false);
  for (size_t b = 0; b < bt.nkv.size(); ++b)
    for (int64_t j = 0; j < bt.nkv[b]; ++j)
      live[static_cast<size_t>(bt.slot(static_cast<int64_t>(b), j))] = true;
  for (int64_t s = 0; s < bt.numPages * bt.page; ++s)
    if (!live[static_cast<size_t>(s)])
      for (int64_t i = 0; i < heads * x; ++i)
        c.data[static_cast<size_t>(s * heads * x + i)] = kNaN;
  return c;
}

/// The attribute dictionary of a paged_attention op.
std::string attrText(const ref::PagedOptions &o) {
  std::vector<std::string> parts;
  if (o.causal)
    parts.push_back("causal");
  if (o.scale) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << "scale = " << *o.scale << " : f32";
    parts.push_back(s.str());
  }
  if (o.softcap) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << "softcap = " << *o.softcap << " : f32";
    parts.push_back(s.str());
  }
  if (o.sink)
    parts.push_back("sink = " + std::to_string(o.sink) + " : i64");
  if (o.window)
    parts.push_back("window = " + std::to_string(*o.window) + " : i64");
  if (!o.headWindows.empty()) {
    std::string w = "window = array<i64: ";
    for (size_t h = 0; h < o.headWindows.size(); ++h)
      w += (h ? ", " : "") + std::to_string(o.headWindows[h]);
    parts.push_back(w + ">");
  }
  std::string r = "{";
  for (size_t i = 0; i < parts.size(); ++i)
    r += (i ? ", " : "") + parts[i];
  return r + "}";
}

/// func @f(q, k, v, q_offsets, kv_lens, block_table[, sink_logits]) -> o,
/// with a dynamic T when `dynamicT`, and the lse result [T, Hq] too when
/// `withLse`.
std::string pagedModule(const Batch &bt, int64_t hq, int64_t hkv, int64_t d,
                        int64_t dv, const std::string &type,
                        const ref::PagedOptions &o, bool dynamicT = false,
                        bool withLse = false) {
  int64_t t = dynamicT ? -1 : bt.tokens;
  int64_t b = static_cast<int64_t>(bt.nq.size());
  std::vector<std::string> args{
      tensorType({t, hq, d}, type),
      tensorType({bt.numPages, bt.page, hkv, d}, type),
      tensorType({bt.numPages, bt.page, hkv, dv}, type),
      tensorType({b + 1}, "i32"), tensorType({b}, "i32"),
      tensorType({b, bt.maxPages}, "i32")};
  if (!o.sinkLogits.empty())
    args.push_back(tensorType({hq}, "f32"));
  std::vector<std::string> results{tensorType({t, hq, dv}, type)};
  if (withLse)
    results.push_back(tensorType({t, hq}, "f32"));
  return oneOp("loom.paged_attention", args, attrText(o), results);
}

/// Rows of `o` [T, H, X] that no sequence covers are exactly 0.
void expectPaddingZero(const Tensor &o, int64_t from) {
  int64_t row = o.shape[1] * o.shape[2];
  for (int64_t i = from * row; i < o.numel(); ++i)
    ASSERT_EQ(o.data[static_cast<size_t>(i)], 0.0) << "padding element " << i;
}

//===----------------------------------------------------------------------===//
// Mixed batches against the reference
//===----------------------------------------------------------------------===//

struct MixedCase {
  std::string type;
  int64_t page;
  bool causal;
  int window; // 0 none, 1 scalar, 2 per head
  int64_t sink;
  bool softcap;
  bool sinkLogits = false;

  std::string name() const {
    std::string n = type + "_Page" + std::to_string(page);
    n += causal ? "_Causal" : "_Full";
    n += window == 0 ? "" : (window == 1 ? "_Window" : "_HeadWindows");
    n += sink ? "_Sink" + std::to_string(sink) : "";
    n += softcap ? "_Softcap" : "";
    n += sinkLogits ? "_SinkLogits" : "";
    return n;
  }
};

void PrintTo(const MixedCase &c, std::ostream *os) { *os << c.name(); }

class PagedMixed : public testing::TestWithParam<MixedCase> {};

// GQA 4:2, D 16, Dv 8; ten sequences: prefills (n_q = n_kv), chunked
// prefills (n_q < n_kv), decode steps (n_q = 1), one with more queries
// than keys (under causal its first 2 rows see no key: zeros), lengths 1
// to 300 of which most are multiples of neither page size; 3 padding rows.
constexpr int64_t Hq = 4, Hkv = 2, D = 16, Dv = 8;

TEST_P(PagedMixed, MatchesReference) {
  const MixedCase &c = GetParam();
  Batch bt = makeBatch({1, 17, 40, 1, 64, 3, 1, 100, 9, 5},
                       {1, 17, 300, 33, 64, 37, 129, 100, 16, 3}, c.page,
                       /*spare=*/3, /*padding=*/3, 900 + c.page);
  ref::PagedOptions o;
  o.causal = c.causal;
  if (c.window == 1)
    o.window = 24;
  if (c.window == 2)
    o.headWindows = {0, 5, 130, 24};
  o.sink = c.sink;
  if (c.softcap)
    o.softcap = 2.0;
  Tensor logits = randomTensor("f32", {Hq}, 904, -1.0, 3.0);
  if (c.sinkLogits)
    o.sinkLogits = logits.data;
  Tensor q = randomTensor(c.type, {bt.tokens, Hq, D}, 901, -2.0, 2.0);
  Tensor k = makeCache(bt, Hkv, D, c.type, 902);
  Tensor v = makeCache(bt, Hkv, Dv, c.type, 903);
  std::vector<Tensor> inputs{q, k, v, bt.qOffsets, bt.kvLens, bt.blockTable};
  if (c.sinkLogits)
    inputs.push_back(logits);
  auto out =
      runOnCPU(pagedModule(bt, Hq, Hkv, D, Dv, c.type, o), "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  Tensor want = ref::pagedAttention(q, k, v, bt.qOffsets, bt.kvLens,
                                    bt.blockTable, o);
  const Tensor &got = (*out)[0];
  ASSERT_TRUE(allFinite(got));
  EXPECT_LT(relativeError(got, want), tolerance(c.type));
  expectPaddingZero(got, bt.tokens - 3);
  // Rows without a visible key (the sequence with more queries than keys,
  // under causal) are exactly 0, as in the reference.
  int64_t zeros = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    if (want.data[static_cast<size_t>(i)] == 0.0) {
      ASSERT_EQ(got.data[static_cast<size_t>(i)], 0.0) << "element " << i;
      ++zeros;
    }
  EXPECT_EQ(zeros, (3 + (c.causal ? 2 : 0)) * Hq * Dv);
}

std::vector<MixedCase> mixedCases() {
  std::vector<MixedCase> cs;
  // Every mask combination on f32 with pages of 16, the main ones on bf16
  // and on pages of 5.
  for (bool causal : {false, true})
    for (int window : {0, 1, 2})
      for (int64_t sink : {0, 4}) {
        if (!causal && (window || sink))
          continue;
        for (bool softcap : {false, true})
          if (softcap == (window == 1))
            cs.push_back({"f32", 16, causal, window, sink, softcap});
      }
  cs.push_back({"bf16", 16, true, 0, 0, false});
  cs.push_back({"bf16", 16, true, 2, 4, true});
  cs.push_back({"bf16", 5, false, 0, 0, false});
  cs.push_back({"f32", 5, true, 1, 2, false});
  // gpt-oss: sink logits, alone and with a window (a row whose window holds
  // no key still has the sink in its denominator).
  cs.push_back({"f32", 16, false, 0, 0, false, true});
  cs.push_back({"f32", 16, true, 1, 0, false, true});
  cs.push_back({"bf16", 5, true, 2, 4, true, true});
  return cs;
}

INSTANTIATE_TEST_SUITE_P(
    Serving, PagedMixed, testing::ValuesIn(mixedCases()),
    [](const testing::TestParamInfo<MixedCase> &info) {
      return info.param.name();
    });

TEST(PagedAttention, LengthsOneTo8192InPagesOf16) {
  // The mixed batch: KV lengths from 1 to 8192 in pages of 16
  // (around page boundaries, and a long context whose last 16 tokens are a
  // prefill chunk), against the float64 reference, without and with a
  // StreamingLLM mask (4 sinks, window 1024).
  Batch bt = makeBatch({1, 15, 1, 5, 1, 16}, {1, 15, 16, 17, 1000, 8192}, 16,
                       /*spare=*/2, /*padding=*/2, 980);
  ASSERT_EQ(bt.maxPages, 513);
  for (std::string ty : {"f32", "bf16"})
    for (bool streaming : {false, true}) {
      SCOPED_TRACE(ty + (streaming ? " sink 4, window 1024" : " causal"));
      ref::PagedOptions o;
      o.causal = true;
      if (streaming) {
        o.sink = 4;
        o.window = 1024;
      }
      Tensor q = randomTensor(ty, {bt.tokens, Hq, D}, 981, -2.0, 2.0);
      Tensor k = makeCache(bt, Hkv, D, ty, 982);
      Tensor v = makeCache(bt, Hkv, Dv, ty, 983);
      auto out = runOnCPU(pagedModule(bt, Hq, Hkv, D, Dv, ty, o), "f",
                          {q, k, v, bt.qOffsets, bt.kvLens, bt.blockTable});
      ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
      const Tensor &got = (*out)[0];
      ASSERT_TRUE(allFinite(got));
      EXPECT_LT(relativeError(got, ref::pagedAttention(q, k, v, bt.qOffsets,
                                                       bt.kvLens,
                                                       bt.blockTable, o)),
                tolerance(ty));
      expectPaddingZero(got, bt.tokens - 2);
    }
}

/// The row-wise comparison of two log-sum-exp tensors: -inf exactly where
/// the reference has it, else the largest absolute difference.
double lseError(const Tensor &got, const Tensor &want) {
  double worst = 0.0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    bool gotInf = std::isinf(got.data[i]) && got.data[i] < 0;
    bool wantInf = std::isinf(want.data[i]) && want.data[i] < 0;
    if (gotInf != wantInf)
      return std::numeric_limits<double>::infinity();
    if (!wantInf)
      worst = std::max(worst, std::abs(got.data[i] - want.data[i]));
  }
  return worst;
}

TEST(PagedAttention, LogSumExpMatchesReference) {
  // The optional lse result [T, Hq]: a mixed batch with padding rows (-inf),
  // a sequence with more queries than keys (rows without a visible key:
  // -inf, or the sink logit), per-head windows, sinks and sink logits.
  Batch bt = makeBatch({3, 1, 6, 2}, {20, 33, 4, 64}, 16, 1, 2, 990);
  for (bool logits : {false, true}) {
    SCOPED_TRACE(logits ? "sink logits" : "no sink logits");
    ref::PagedOptions o;
    o.causal = true;
    o.headWindows = {0, 5, 0, 9};
    o.sink = 2;
    Tensor sinks = randomTensor("f32", {Hq}, 991, -1.0, 3.0);
    if (logits)
      o.sinkLogits = sinks.data;
    Tensor q = randomTensor("f32", {bt.tokens, Hq, D}, 992, -2.0, 2.0);
    Tensor k = makeCache(bt, Hkv, D, "f32", 993);
    Tensor v = makeCache(bt, Hkv, Dv, "f32", 994);
    std::string src = pagedModule(bt, Hq, Hkv, D, Dv, "f32", o,
                                  /*dynamicT=*/false, /*withLse=*/true);
    std::vector<Tensor> in{q, k, v, bt.qOffsets, bt.kvLens, bt.blockTable};
    if (logits)
      in.push_back(sinks);
    auto out = runOnCPU(src, "f", in);
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    Tensor wantLse;
    Tensor want = ref::pagedAttention(q, k, v, bt.qOffsets, bt.kvLens,
                                      bt.blockTable, o, &wantLse);
    EXPECT_LT(relativeError((*out)[0], want), tolerance("f32"));
    EXPECT_LT(lseError((*out)[1], wantLse), 1e-4);
    // The padding rows' lse is -inf; with sink logits the rows without a
    // visible key hold their sink logit (checked by lseError against the
    // reference), so some rows of each kind exist.
    int64_t negInf = 0;
    for (double x : wantLse.data)
      negInf += std::isinf(x) ? 1 : 0;
    EXPECT_GE(negInf, 2 * Hq);
  }
}

TEST(PagedAttention, TwoKeySetsMergeIntoTheWhole) {
  // Cascade attention: a decode step over each sequence's first page and,
  // separately, over its other pages, merged by loom.merge_attention with
  // the two lse results, equals the paged attention over all its keys (one
  // sequence has no key past its first page: that part's lse is -inf).
  int64_t page = 16;
  Batch whole = makeBatch({1, 1, 1}, {40, 16, 70}, page, 1, 1, 995);
  int64_t nb = 3, mp = whole.maxPages;
  Batch first = whole, rest = whole;
  for (int64_t b = 0; b < nb; ++b) {
    int64_t n = whole.nkv[static_cast<size_t>(b)];
    first.kvLens.data[static_cast<size_t>(b)] =
        static_cast<double>(std::min<int64_t>(n, page));
    rest.kvLens.data[static_cast<size_t>(b)] =
        static_cast<double>(std::max<int64_t>(n - page, 0));
    for (int64_t i = 0; i < mp; ++i)
      rest.blockTable.data[static_cast<size_t>(b * mp + i)] =
          i + 1 < mp ? whole.blockTable.data[static_cast<size_t>(b * mp + i + 1)]
                     : -1.0;
  }
  Tensor q = randomTensor("f32", {whole.tokens, Hq, D}, 996, -2.0, 2.0);
  Tensor k = makeCache(whole, Hkv, D, "f32", 997);
  Tensor v = makeCache(whole, Hkv, Dv, "f32", 998);
  int64_t t = whole.tokens;
  std::string qT = tensorType({t, Hq, D}, "f32"),
              kT = tensorType({whole.numPages, page, Hkv, D}, "f32"),
              vT = tensorType({whole.numPages, page, Hkv, Dv}, "f32"),
              offT = tensorType({nb + 1}, "i32"), lenT = tensorType({nb}, "i32"),
              tabT = tensorType({nb, mp}, "i32"),
              oT = tensorType({t, Hq, Dv}, "f32"), lT = tensorType({t, Hq}, "f32"),
              o4 = tensorType({1, t, Hq, Dv}, "f32"),
              l3 = tensorType({1, t, Hq}, "f32");
  std::string sig = "(" + qT + ", " + kT + ", " + vT + ", " + offT + ", " +
                    lenT + ", " + tabT + ") -> (" + oT + ", " + lT + ")";
  std::string T = std::to_string(t), H = std::to_string(Hq),
              E = std::to_string(Dv);
  std::string src =
      "func.func @f(%q: " + qT + ", %k: " + kT + ", %v: " + vT + ", %off: " +
      offT + ", %len: " + lenT + ", %tab: " + tabT + ", %lenA: " + lenT +
      ", %tabA: " + tabT + ", %lenB: " + lenT + ", %tabB: " + tabT +
      ") -> (" + oT + ", " + lT + ", " + o4 + ", " + l3 + ") {\n"
      "  %o, %l = loom.paged_attention %q, %k, %v, %off, %len, %tab {causal} : " +
      sig + "\n  %oa, %la = loom.paged_attention %q, %k, %v, %off, %lenA, %tabA "
      "{causal} : " + sig + "\n  %ob, %lb = loom.paged_attention %q, %k, %v, "
      "%off, %lenB, %tabB {causal} : " + sig + "\n"
      "  %oa4 = tensor.expand_shape %oa [[0, 1], [2], [3]] output_shape [1, " +
      T + ", " + H + ", " + E + "] : " + oT + " into " + o4 + "\n"
      "  %ob4 = tensor.expand_shape %ob [[0, 1], [2], [3]] output_shape [1, " +
      T + ", " + H + ", " + E + "] : " + oT + " into " + o4 + "\n"
      "  %la3 = tensor.expand_shape %la [[0, 1], [2]] output_shape [1, " + T +
      ", " + H + "] : " + lT + " into " + l3 + "\n"
      "  %lb3 = tensor.expand_shape %lb [[0, 1], [2]] output_shape [1, " + T +
      ", " + H + "] : " + lT + " into " + l3 + "\n"
      "  %m, %ml = loom.merge_attention %oa4, %la3, %ob4, %lb3 : (" + o4 +
      ", " + l3 + ", " + o4 + ", " + l3 + ") -> (" + o4 + ", " + l3 + ")\n"
      "  return %o, %l, %m, %ml : " + oT + ", " + lT + ", " + o4 + ", " + l3 +
      "\n}\n";
  auto out = runOnCPU(src, "f",
                      {q, k, v, whole.qOffsets, whole.kvLens, whole.blockTable,
                       first.kvLens, first.blockTable, rest.kvLens,
                       rest.blockTable});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const std::vector<Tensor> &r = *out;
  Tensor merged = r[2], mergedLse = r[3];
  merged.shape = r[0].shape;
  mergedLse.shape = r[1].shape;
  EXPECT_LT(maxAbsError(merged, r[0]), 1e-5);
  EXPECT_LT(lseError(mergedLse, r[1]), 1e-5);
  ref::PagedOptions o;
  o.causal = true;
  Tensor wantLse;
  Tensor want = ref::pagedAttention(q, k, v, whole.qOffsets, whole.kvLens,
                                    whole.blockTable, o, &wantLse);
  EXPECT_LT(relativeError(r[0], want), tolerance("f32"));
  EXPECT_LT(lseError(r[1], wantLse), 1e-4);
}

//===----------------------------------------------------------------------===//
// Equal to loom.attention on each sequence
//===----------------------------------------------------------------------===//

TEST(PagedAttention, EqualsAttentionPerSequence) {
  // One module: the paged op over the batch, and loom.attention over each
  // sequence's contiguous keys (gathered here), same attributes.
  Batch bt = makeBatch({5, 1, 23, 2}, {5, 40, 23, 77}, 16, 2, 0, 910);
  ref::PagedOptions o;
  o.causal = true;
  o.headWindows = {0, 7, 0, 20};
  o.sink = 3;
  o.softcap = 3.0;
  o.sinkLogits = {0.5, -1.0, 2.0, 0.0};
  std::string attrs = attrText(o);
  std::string ty = "f32";
  std::string qT = tensorType({bt.tokens, Hq, D}, ty);
  std::string kT = tensorType({bt.numPages, bt.page, Hkv, D}, ty);
  std::string vT = tensorType({bt.numPages, bt.page, Hkv, Dv}, ty);
  int64_t nb = static_cast<int64_t>(bt.nq.size());
  std::string offT = tensorType({nb + 1}, "i32"), lenT = tensorType({nb}, "i32"),
              tabT = tensorType({nb, bt.maxPages}, "i32");
  std::string oT = tensorType({bt.tokens, Hq, Dv}, ty);
  std::ostringstream s;
  s << "func.func @f(%q: " << qT << ", %k: " << kT << ", %v: " << vT
    << ", %off: " << offT << ", %len: " << lenT << ", %tab: " << tabT
    << ", %sl: " << tensorType({Hq}, "f32");
  for (int64_t b = 0; b < nb; ++b)
    s << ", %q" << b << ": "
      << tensorType({1, Hq, bt.nq[static_cast<size_t>(b)], D}, ty) << ", %k"
      << b << ": " << tensorType({1, Hkv, bt.nkv[static_cast<size_t>(b)], D}, ty)
      << ", %v" << b << ": "
      << tensorType({1, Hkv, bt.nkv[static_cast<size_t>(b)], Dv}, ty);
  s << ") -> (" << oT;
  for (int64_t b = 0; b < nb; ++b)
    s << ", " << tensorType({1, Hq, bt.nq[static_cast<size_t>(b)], Dv}, ty);
  std::string slT = tensorType({Hq}, "f32");
  s << ") {\n  %p = loom.paged_attention %q, %k, %v, %off, %len, %tab, %sl "
    << attrs << " : (" << qT << ", " << kT << ", " << vT << ", " << offT
    << ", " << lenT << ", " << tabT << ", " << slT << ") -> " << oT << "\n";
  for (int64_t b = 0; b < nb; ++b) {
    std::string qb = tensorType({1, Hq, bt.nq[static_cast<size_t>(b)], D}, ty);
    std::string kb =
        tensorType({1, Hkv, bt.nkv[static_cast<size_t>(b)], D}, ty);
    std::string vb =
        tensorType({1, Hkv, bt.nkv[static_cast<size_t>(b)], Dv}, ty);
    std::string ob =
        tensorType({1, Hq, bt.nq[static_cast<size_t>(b)], Dv}, ty);
    s << "  %a" << b << " = loom.attention %q" << b << ", %k" << b << ", %v"
      << b << ", %sl " << attrs << " : (" << qb << ", " << kb << ", " << vb
      << ", " << slT << ") -> " << ob << "\n";
  }
  s << "  return %p";
  for (int64_t b = 0; b < nb; ++b)
    s << ", %a" << b;
  s << " : " << oT;
  for (int64_t b = 0; b < nb; ++b)
    s << ", " << tensorType({1, Hq, bt.nq[static_cast<size_t>(b)], Dv}, ty);
  s << "\n}\n";

  Tensor q = randomTensor(ty, {bt.tokens, Hq, D}, 911, -2.0, 2.0);
  Tensor k = makeCache(bt, Hkv, D, ty, 912);
  Tensor v = makeCache(bt, Hkv, Dv, ty, 913);
  Tensor logits({Hq}, o.sinkLogits);
  std::vector<Tensor> inputs{q,          k,         v,
                             bt.qOffsets, bt.kvLens, bt.blockTable,
                             logits};
  int64_t start = 0;
  for (int64_t b = 0; b < nb; ++b) {
    int64_t nq = bt.nq[static_cast<size_t>(b)],
            nkv = bt.nkv[static_cast<size_t>(b)];
    Tensor qb({1, Hq, nq, D}), kb({1, Hkv, nkv, D}), vb({1, Hkv, nkv, Dv});
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t r = 0; r < nq; ++r)
        for (int64_t d = 0; d < D; ++d)
          qb.at({0, h, r, d}) = q.at({start + r, h, d});
    for (int64_t j = 0; j < nkv; ++j) {
      int64_t slot = bt.slot(b, j);
      for (int64_t h = 0; h < Hkv; ++h) {
        for (int64_t d = 0; d < D; ++d)
          kb.at({0, h, j, d}) = k.at({slot / bt.page, slot % bt.page, h, d});
        for (int64_t e = 0; e < Dv; ++e)
          vb.at({0, h, j, e}) = v.at({slot / bt.page, slot % bt.page, h, e});
      }
    }
    inputs.push_back(qb);
    inputs.push_back(kb);
    inputs.push_back(vb);
    start += nq;
  }
  auto out = runOnCPU(s.str(), "f", inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &paged = (*out)[0];
  start = 0;
  double worst = 0.0;
  for (int64_t b = 0; b < nb; ++b) {
    const Tensor &att = (*out)[static_cast<size_t>(b + 1)];
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t r = 0; r < bt.nq[static_cast<size_t>(b)]; ++r)
        for (int64_t e = 0; e < Dv; ++e)
          worst = std::max(worst, std::abs(paged.at({start + r, h, e}) -
                                           att.at({0, h, r, e})));
    start += bt.nq[static_cast<size_t>(b)];
  }
  // The same f32 arithmetic up to the order of the softmax's sums.
  EXPECT_LT(worst, 1e-5);
}

//===----------------------------------------------------------------------===//
// kv_cache_write and rope at positions
//===----------------------------------------------------------------------===//

TEST(KvCacheWrite, MatchesReferenceSkippingNegativeAndOutOfRangeSlots) {
  for (std::string ty : {"bf16", "f32"}) {
    SCOPED_TRACE(ty);
    int64_t p = 6, page = 5, h = 2, d = 8, t = 9;
    Tensor cache = randomTensor(ty, {p, page, h, d}, 920);
    Tensor rows = randomTensor(ty, {t, h, d}, 921);
    // Slots in a shuffled order, two padding tokens (-1), one past the
    // cache (30 = 6 * 5) and one far past it: those four write nothing.
    Tensor slots({t}, {17, -1, 0, 29, 30, 4, 1000000, -5, 12});
    std::string src =
        oneOp("loom.kv_cache_write",
              {tensorType({p, page, h, d}, ty), tensorType({-1, h, d}, ty),
               tensorType({-1}, "i32")},
              "", tensorType({p, page, h, d}, ty));
    auto out = runOnCPU(src, "f", {cache, rows, slots});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    Tensor valid = slots;
    for (double &s : valid.data)
      if (s >= static_cast<double>(p * page))
        s = -1;
    Tensor want = ref::kvCacheWrite(cache, rows, valid);
    EXPECT_EQ(maxAbsError((*out)[0], want), 0.0);
  }
}

TEST(RopePositions, MatchesReferenceAndClampsOutOfRange) {
  for (std::string ty : {"bf16", "f32"})
    for (ref::RopeStyle style :
         {ref::RopeStyle::Half, ref::RopeStyle::Interleaved}) {
      SCOPED_TRACE(ty + (style == ref::RopeStyle::Half ? " half"
                                                       : " interleaved"));
      int64_t t = 11, h = 3, d = 16, n = 64;
      Tensor x = randomTensor(ty, {t, h, d}, 930, -2.0, 2.0);
      Tensor angles = randomTensor("f32", {n, d / 2}, 931, 0.0, 6.3);
      Tensor cs({n, d / 2}), sn({n, d / 2});
      for (int64_t i = 0; i < angles.numel(); ++i) {
        cs.data[static_cast<size_t>(i)] =
            roundTo("f32", std::cos(angles.data[static_cast<size_t>(i)]));
        sn.data[static_cast<size_t>(i)] =
            roundTo("f32", std::sin(angles.data[static_cast<size_t>(i)]));
      }
      // Positions in any order, repeated, and two out of range (clamped to
      // rows 0 and n - 1).
      Tensor pos({t}, {5, 0, 63, 17, 17, 2, -3, 40, 1, 64000, 9});
      std::string style_ =
          style == ref::RopeStyle::Half ? "" : "{style = \"interleaved\"}";
      std::string src = oneOp(
          "loom.rope",
          {tensorType({-1, h, d}, ty), tensorType({n, d / 2}, "f32"),
           tensorType({n, d / 2}, "f32"), tensorType({-1}, "i32")},
          style_, tensorType({-1, h, d}, ty));
      auto out = runOnCPU(src, "f", {x, cs, sn, pos});
      ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
      Tensor clamped = pos;
      for (double &p : clamped.data)
        p = std::clamp(p, 0.0, static_cast<double>(n - 1));
      Tensor want = ref::ropeAtPositions(x, cs, sn, clamped, style);
      EXPECT_LT(relativeError((*out)[0], want), tolerance(ty));
    }
}

//===----------------------------------------------------------------------===//
// A Llama-style step: rope, cache writes, paged attention
//===----------------------------------------------------------------------===//

/// func @f(q_in [T,Hq,D], k_in [T,Hkv,D], v_in [T,Hkv,D], positions [T],
/// slots [T], cos, sin, k_cache, v_cache, q_offsets, kv_lens, block_table)
/// -> (o [T,Hq,D], k_cache, v_cache): RoPE on q and k at their positions,
/// the new keys and values written into the caches, causal paged attention
/// over the updated caches. T is dynamic.
std::string llamaModule(const Batch &bt, int64_t n, const std::string &ty) {
  int64_t b = static_cast<int64_t>(bt.nq.size());
  std::string qT = tensorType({-1, Hq, D}, ty), kT = tensorType({-1, Hkv, D}, ty);
  std::string iT = tensorType({-1}, "i32");
  std::string tabT = tensorType({n, D / 2}, "f32");
  std::string cT = tensorType({bt.numPages, bt.page, Hkv, D}, ty);
  std::string offT = tensorType({b + 1}, "i32"), lenT = tensorType({b}, "i32"),
              btT = tensorType({b, bt.maxPages}, "i32");
  std::ostringstream s;
  s << "func.func @f(%q: " << qT << ", %k: " << kT << ", %v: " << kT
    << ", %pos: " << iT << ", %slots: " << iT << ", %cos: " << tabT
    << ", %sin: " << tabT << ", %kc: " << cT << ", %vc: " << cT
    << ", %off: " << offT << ", %len: " << lenT << ", %bt: " << btT
    << ") -> (" << qT << ", " << cT << ", " << cT << ") {\n"
    << "  %qr = loom.rope %q, %cos, %sin, %pos : (" << qT << ", " << tabT
    << ", " << tabT << ", " << iT << ") -> " << qT << "\n"
    << "  %kr = loom.rope %k, %cos, %sin, %pos : (" << kT << ", " << tabT
    << ", " << tabT << ", " << iT << ") -> " << kT << "\n"
    << "  %kc2 = loom.kv_cache_write %kc, %kr, %slots : (" << cT << ", " << kT
    << ", " << iT << ") -> " << cT << "\n"
    << "  %vc2 = loom.kv_cache_write %vc, %v, %slots : (" << cT << ", " << kT
    << ", " << iT << ") -> " << cT << "\n"
    << "  %o = loom.paged_attention %qr, %kc2, %vc2, %off, %len, %bt {causal} : ("
    << qT << ", " << cT << ", " << cT << ", " << offT << ", " << lenT << ", "
    << btT << ") -> " << qT << "\n"
    << "  return %o, %kc2, %vc2 : " << qT << ", " << cT << ", " << cT
    << "\n}\n";
  return s.str();
}

/// The reference of llamaModule's function.
std::vector<Tensor> llamaReference(const std::vector<Tensor> &in,
                                   const Batch &bt) {
  Tensor qr = ref::ropeAtPositions(in[0], in[5], in[6], in[3]);
  Tensor kr = ref::ropeAtPositions(in[1], in[5], in[6], in[3]);
  Tensor kc = ref::kvCacheWrite(in[7], kr, in[4]);
  Tensor vc = ref::kvCacheWrite(in[8], in[2], in[4]);
  ref::PagedOptions o;
  o.causal = true;
  return {ref::pagedAttention(qr, kc, vc, in[9], in[10], in[11], o), kc, vc};
}

/// The inputs of a step that appends nq[b] tokens to sequences that held
/// nkv[b] - nq[b] tokens: their positions, slots and the q, k, v rows; one
/// padding token with slot -1.
std::vector<Tensor> llamaStep(const Batch &bt, const Tensor &cos,
                              const Tensor &sin, const Tensor &kc,
                              const Tensor &vc, const std::string &ty,
                              uint64_t seed) {
  int64_t t = bt.tokens;
  Tensor pos({t}), slots({t});
  for (int64_t i = 0; i < t; ++i)
    slots.data[static_cast<size_t>(i)] = -1; // padding
  int64_t row = 0;
  for (size_t b = 0; b < bt.nq.size(); ++b)
    for (int64_t r = 0; r < bt.nq[b]; ++r, ++row) {
      int64_t j = bt.nkv[b] - bt.nq[b] + r;
      pos.data[static_cast<size_t>(row)] = static_cast<double>(j);
      slots.data[static_cast<size_t>(row)] =
          static_cast<double>(bt.slot(static_cast<int64_t>(b), j));
    }
  return {randomTensor(ty, {t, Hq, D}, seed, -2.0, 2.0),
          randomTensor(ty, {t, Hkv, D}, seed + 1, -2.0, 2.0),
          randomTensor(ty, {t, Hkv, D}, seed + 2),
          pos, slots, cos, sin, kc, vc,
          bt.qOffsets, bt.kvLens, bt.blockTable};
}

TEST(PagedLlama, PrefillRaggedBatchThenDecodeStep) {
  for (std::string ty : {"bf16", "f32"}) {
    SCOPED_TRACE(ty);
    // Prefill lengths 7, 16, 50, 1, 33 (pages of 16), then one decode token
    // per sequence; the block table has room for the decode tokens.
    std::vector<int64_t> prefill{7, 16, 50, 1, 33};
    std::vector<int64_t> decoded;
    for (int64_t n : prefill)
      decoded.push_back(n + 1);
    Batch full = makeBatch(std::vector<int64_t>(prefill.size(), 1), decoded,
                           16, 2, 1, 940);
    // The prefill batch: same pages and table, n_q = n_kv = prefill length.
    Batch pre = full;
    pre.nq = prefill;
    pre.nkv = prefill;
    int64_t offset = 0;
    for (size_t b = 0; b < prefill.size(); ++b) {
      pre.qOffsets.data[b] = static_cast<double>(offset);
      offset += prefill[b];
      pre.kvLens.data[b] = static_cast<double>(prefill[b]);
    }
    pre.qOffsets.data[prefill.size()] = static_cast<double>(offset);
    pre.tokens = offset + 1;

    int64_t n = 128;
    Tensor angles = randomTensor("f32", {n, D / 2}, 941, 0.0, 6.3);
    Tensor cs({n, D / 2}), sn({n, D / 2});
    for (int64_t i = 0; i < angles.numel(); ++i) {
      cs.data[static_cast<size_t>(i)] =
          roundTo("f32", std::cos(angles.data[static_cast<size_t>(i)]));
      sn.data[static_cast<size_t>(i)] =
          roundTo("f32", std::sin(angles.data[static_cast<size_t>(i)]));
    }
    // Caches of garbage (NaN) where no key was written yet.
    Tensor kc({full.numPages, 16, Hkv, D}), vc({full.numPages, 16, Hkv, D});
    std::fill(kc.data.begin(), kc.data.end(), kNaN);
    std::fill(vc.data.begin(), vc.data.end(), kNaN);

    std::string src = llamaModule(full, n, ty);
    std::vector<Tensor> in = llamaStep(pre, cs, sn, kc, vc, ty, 942);
    auto out = runOnCPU(src, "f", in);
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    std::vector<Tensor> want = llamaReference(in, pre);
    // The caches' new rows are the rotated keys rounded once to `ty`; the
    // reference keeps them in double: compare the attention loosely and
    // the caches to the rounded reference.
    EXPECT_LT(relativeError((*out)[0], want[0]), 2 * tolerance(ty));
    Tensor kWant = roundedTo(ty, want[1]);
    for (int64_t i = 0; i < kWant.numel(); ++i) {
      double g = (*out)[1].data[static_cast<size_t>(i)],
             w = kWant.data[static_cast<size_t>(i)];
      if (std::isnan(w))
        ASSERT_TRUE(std::isnan(g)) << "k cache element " << i;
      else
        ASSERT_NEAR(g, w, 4 * tolerance(ty) * std::max(1.0, std::abs(w)))
            << "k cache element " << i;
    }
    expectPaddingZero((*out)[0], pre.tokens - 1);

    // Decode: one new token per sequence, on the caches the prefill left.
    std::vector<Tensor> step =
        llamaStep(full, cs, sn, (*out)[1], (*out)[2], ty, 943);
    auto dec = runOnCPU(src, "f", step);
    ASSERT_TRUE(static_cast<bool>(dec)) << llvm::toString(dec.takeError());
    std::vector<Tensor> decWant = llamaReference(step, full);
    EXPECT_LT(relativeError((*dec)[0], decWant[0]), 2 * tolerance(ty));
    expectPaddingZero((*dec)[0], full.tokens - 1);
  }
}

TEST(PagedLlama, DynamicTokensThroughLoomCompile) {
  // The same module ahead of time (loom-compile --target=cpu, the entry
  // checks and the runtime), at two token counts.
  std::string ty = "f32";
  Batch full = makeBatch({1, 1, 1}, {5, 20, 17}, 16, 1, 2, 950);
  Batch chunk = makeBatch({4, 20, 2}, {5, 20, 17}, 16, 1, 0, 950);
  int64_t n = 32;
  Tensor cs = randomTensor("f32", {n, D / 2}, 951);
  Tensor sn = randomTensor("f32", {n, D / 2}, 952);
  Tensor kc = randomTensor(ty, {full.numPages, 16, Hkv, D}, 953);
  Tensor vc = randomTensor(ty, {full.numPages, 16, Hkv, D}, 954);
  std::string src = llamaModule(full, n, ty);
  for (const Batch *bt : {&chunk, &full}) {
    SCOPED_TRACE("T = " + std::to_string(bt->tokens));
    std::vector<Tensor> in = llamaStep(*bt, cs, sn, kc, vc, ty, 955);
    auto out = runCompiled(src, "f", in);
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    std::vector<Tensor> want = llamaReference(in, *bt);
    EXPECT_LT(relativeError((*out)[0], want[0]), 2 * tolerance(ty));
    EXPECT_LT(relativeError((*out)[1], want[1]), 2 * tolerance(ty));
    EXPECT_LT(relativeError((*out)[2], want[2]), tolerance(ty));
  }
}

//===----------------------------------------------------------------------===//
// Indices that break the requirements: never a fault
//===----------------------------------------------------------------------===//

/// A small causal f32 batch (3 sequences, pages of 8, maxPages 5, T 9)
/// whose index data the tests below corrupt.
struct CorruptionCase {
  Batch bt = makeBatch({3, 4, 2}, {3, 30, 9}, 8, 1, 0, 960);
  Tensor q = randomTensor("f32", {bt.tokens, Hq, D}, 961);
  Tensor k = randomTensor("f32", {bt.numPages, 8, Hkv, D}, 962);
  Tensor v = randomTensor("f32", {bt.numPages, 8, Hkv, Dv}, 963);
  ref::PagedOptions o = causal();
  std::string src = pagedModule(bt, Hq, Hkv, D, Dv, "f32", o);

  static ref::PagedOptions causal() {
    ref::PagedOptions o;
    o.causal = true;
    return o;
  }
};

TEST(PagedAttention, BadIndicesStayInBounds) {
  // Not checked yet (issue 16, deliverable 4): pages out of range, kv_lens
  // past the table and negative, offsets that decrease or pass T. The op
  // must not read out of bounds: the output is finite (the cache has no
  // NaN here) and rows of no sequence are 0.
  CorruptionCase c0;
  const Batch &bt = c0.bt;
  const Tensor &q = c0.q, &k = c0.k, &v = c0.v;
  const std::string &src = c0.src;
  struct Corruption {
    const char *what;
    std::function<void(Batch &)> apply;
  };
  std::vector<Corruption> cases{
      {"pages out of range",
       [](Batch &b) {
         for (double &p : b.blockTable.data)
           p = p > 2 ? 1.0e9 : -2147483648.0;
       }},
      {"kv_lens past the table and negative",
       [](Batch &b) {
         b.kvLens.data = {2147483647.0, -5.0, 1.0e6};
       }},
      {"offsets decreasing and past T",
       [](Batch &b) { b.qOffsets.data = {5, 2, 2147483647.0, -1}; }},
      {"offsets not starting at 0",
       [](Batch &b) { b.qOffsets.data = {-100, 3, 7, 9}; }},
  };
  for (const Corruption &c : cases) {
    SCOPED_TRACE(c.what);
    Batch bad = bt;
    c.apply(bad);
    auto out = runOnCPU(src, "f",
                        {q, k, v, bad.qOffsets, bad.kvLens, bad.blockTable});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    EXPECT_TRUE(allFinite((*out)[0]));
  }
}

TEST(PagedAttention, BadIndicesAreRefusedByTheCompiledEntry) {
  // The same module ahead of time (loom-compile --target=cpu): the entry
  // reads the index arguments before the body runs and refuses the first
  // bad index with a message naming the op, the index and its value
  // (docs/abi.md, "Index checks"). Table entries past a sequence's pages
  // (-7 and 1e6 in makeBatch) are not read and not refused.
  CorruptionCase c0;
  const Batch &bt = c0.bt;
  const Tensor &q = c0.q, &k = c0.k, &v = c0.v;
  const std::string &src = c0.src;
  ASSERT_EQ(bt.maxPages, 5);
  ASSERT_EQ(bt.tokens, 9);
  auto good = runCompiled(src, "f", {q, k, v, bt.qOffsets, bt.kvLens,
                                     bt.blockTable});
  ASSERT_TRUE(static_cast<bool>(good)) << llvm::toString(good.takeError());
  EXPECT_LT(relativeError((*good)[0], ref::pagedAttention(q, k, v, bt.qOffsets,
                                                          bt.kvLens,
                                                          bt.blockTable, c0.o)),
            tolerance("f32"));

  std::string numPages = std::to_string(bt.numPages);
  struct Corruption {
    const char *what;
    std::function<void(Batch &)> apply;
    std::string message;
  };
  std::vector<Corruption> cases{
      {"a page index past the cache",
       [&](Batch &b) { b.blockTable.data[1 * 5 + 2] = double(b.numPages); },
       "block_table[1, 2] = " + numPages + " is outside [0, " + numPages +
           ") (the cache's pages)"},
      {"a negative page index",
       [](Batch &b) { b.blockTable.data[2 * 5 + 1] = -2147483648.0; },
       "block_table[2, 1] = -2147483648 is outside [0, " + numPages + ")"},
      {"a length past the table",
       [](Batch &b) { b.kvLens.data = {3, 30, 2147483647.0}; },
       "kv_lens[2] = 2147483647 is outside [0, 40] (block_table holds 5 "
       "pages of 8 tokens per sequence)"},
      {"a negative length", [](Batch &b) { b.kvLens.data[1] = -5; },
       "kv_lens[1] = -5 is outside [0, 40]"},
      {"offsets decreasing",
       [](Batch &b) { b.qOffsets.data = {0, 3, 2, 9}; },
       "q_offsets[2] = 2 is less than q_offsets[1] = 3 (offsets must not "
       "decrease)"},
      {"offsets past T", [](Batch &b) { b.qOffsets.data = {0, 3, 7, 10}; },
       "q_offsets[3] = 10 passes the 9 query rows of q"},
      {"offsets not starting at 0",
       [](Batch &b) { b.qOffsets.data = {-100, 3, 7, 9}; },
       "q_offsets[0] = -100 must be 0"},
  };
  for (const Corruption &c : cases) {
    SCOPED_TRACE(c.what);
    Batch bad = bt;
    c.apply(bad);
    auto out = runCompiled(src, "f", {q, k, v, bad.qOffsets, bad.kvLens,
                                      bad.blockTable});
    ASSERT_FALSE(static_cast<bool>(out));
    std::string error = llvm::toString(out.takeError());
    EXPECT_NE(error.find("f: loom.paged_attention"), std::string::npos)
        << error;
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

TEST(KvCacheWrite, SlotsPastTheCacheAreRefusedByTheCompiledEntry) {
  int64_t p = 6, page = 5, h = 2, d = 8, t = 4;
  Tensor cache = randomTensor("f32", {p, page, h, d}, 970);
  Tensor rows = randomTensor("f32", {t, h, d}, 971);
  std::string src =
      oneOp("loom.kv_cache_write",
            {tensorType({p, page, h, d}, "f32"), tensorType({-1, h, d}, "f32"),
             tensorType({-1}, "i32")},
            "", tensorType({p, page, h, d}, "f32"));
  // Padding (negative) and the last slot are fine.
  Tensor slots({t}, {29, -1, 0, -2147483648.0});
  auto out = runCompiled(src, "f", {cache, rows, slots});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_EQ(maxAbsError((*out)[0], ref::kvCacheWrite(cache, rows, slots)),
            0.0);
  Tensor bad({t}, {29, -1, 30, 1000000});
  out = runCompiled(src, "f", {cache, rows, bad});
  ASSERT_FALSE(static_cast<bool>(out));
  std::string error = llvm::toString(out.takeError());
  EXPECT_NE(error.find("f: loom.kv_cache_write"), std::string::npos) << error;
  EXPECT_NE(error.find("slots[2] = 30 is outside the cache's slots [0, 30) "
                       "(6 pages of 5 tokens; a negative slot is skipped)"),
            std::string::npos)
      << error;
}

} // namespace
