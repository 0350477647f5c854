// Numerics of the serving masks of attention and block_sparse_attention
// (issue 16: `sink`, per-head `window`, `sink_logits`) on the CPU path
// against the double-precision references (ref::servingAttention and
// ref::servingBlockSparseAttention), on random inputs whose sizes are
// multiples of no tile: every combination of sink {0, 4} x window {none,
// one value, one per head with 0 entries} x causal x sink logits x lse, for
// both ops, then StreamingLLM, DuoAttention and gpt-oss configurations (the
// last against an eager implementation written here the way the model's
// reference code computes it), edge rows, and loom-tile declining the ops.
#include "Harness.h"

#include "loom/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

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

/// The window forms of the op.
enum class Win { None, Scalar, PerHead };

/// What an op of the tests carries beside q, k, v (and the layout).
struct Masks {
  bool causal = false;
  int64_t sink = 0;           // 0: no `sink` attribute
  std::optional<int64_t> window;
  std::vector<int64_t> headWindows;
  bool sinkLogits = false;
  std::optional<double> scale;
};

std::string attrText(const Masks &m, const std::string &extra = "") {
  std::vector<std::string> parts;
  if (!extra.empty())
    parts.push_back(extra);
  if (m.causal)
    parts.push_back("causal");
  if (m.scale) {
    std::ostringstream s;
    s.precision(9);
    s << std::scientific << "scale = " << *m.scale << " : f32";
    parts.push_back(s.str());
  }
  if (m.sink)
    parts.push_back("sink = " + std::to_string(m.sink) + " : i64");
  if (m.window)
    parts.push_back("window = " + std::to_string(*m.window) + " : i64");
  if (!m.headWindows.empty()) {
    std::string w = "window = array<i64: ";
    for (size_t h = 0; h < m.headWindows.size(); ++h)
      w += (h ? ", " : "") + std::to_string(m.headWindows[h]);
    parts.push_back(w + ">");
  }
  std::string r = "{";
  for (size_t i = 0; i < parts.size(); ++i)
    r += (i ? ", " : "") + parts[i];
  return r + "}";
}

/// func @f(args) -> results around one op with one or two results.
std::string module(const std::string &op, const std::vector<std::string> &args,
                   const std::string &attrs,
                   const std::vector<std::string> &results) {
  std::string s = "func.func @f(";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", %a" : "%a") + std::to_string(i) + ": " + args[i];
  std::string types;
  for (size_t i = 0; i < results.size(); ++i)
    types += (i ? ", " : "") + results[i];
  std::string resultList = results.size() == 1 ? types : "(" + types + ")";
  s += ") -> " + resultList + " {\n  %r" +
       (results.size() == 1 ? "" : ":" + std::to_string(results.size())) +
       " = " + op + " ";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", %a" : "%a") + std::to_string(i);
  s += " " + attrs + " : (";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", " : "") + args[i];
  s += ") -> " + resultList + "\n  return ";
  if (results.size() == 1)
    s += "%r";
  else
    for (size_t i = 0; i < results.size(); ++i)
      s += (i ? ", %r#" : "%r#") + std::to_string(i);
  return s + " : " + types + "\n}\n";
}

ref::ServingMasks refMasks(const Masks &m, const Tensor *sinkLogits) {
  ref::ServingMasks r;
  r.sink = m.sink;
  r.headWindows = m.headWindows;
  if (sinkLogits)
    r.sinkLogits = sinkLogits->data;
  return r;
}

/// An lse against its reference: -inf exactly where the reference is -inf,
/// elsewhere within `tol` relative to max(1, |ref|).
void expectLse(const Tensor &got, const Tensor &want, double tol) {
  ASSERT_EQ(got.shape, want.shape);
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.data[i], w = want.data[i];
    if (std::isinf(w)) {
      EXPECT_EQ(g, w) << "lse element " << i;
      continue;
    }
    EXPECT_NEAR(g, w, tol * std::max(1.0, std::abs(w))) << "lse element " << i;
  }
}

/// Rows without a visible key are exactly zero, as in the reference; returns
/// how many zeros the reference has.
int64_t expectZerosWhereReference(const Tensor &got, const Tensor &want) {
  int64_t zeros = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    if (want.data[i] == 0.0) {
      EXPECT_EQ(got.data[i], 0.0) << "element " << i;
      ++zeros;
    }
  return zeros;
}

//===----------------------------------------------------------------------===//
// Every combination, both ops
//===----------------------------------------------------------------------===//

// GQA 4:2, lengths and blocks that divide nothing (37 = 4*8 + 5,
// 53 = 3*16 + 5), windows of 11 (one for all) or 0/7/0/20 (per head).
constexpr int64_t B = 2, Hq = 4, Hkv = 2, Sq = 37, Skv = 53, D = 16, Dv = 8;
constexpr int64_t BlockQ = 8, BlockK = 16;
const std::vector<int64_t> HeadWindows = {0, 7, 0, 20};

struct ComboCase {
  bool sparse = false;
  int64_t sink = 0;
  Win win = Win::None;
  bool causal = false;
  bool sinkLogits = false;
  bool lse = false;

  std::string name() const {
    std::string n = sparse ? "BlockSparse" : "Attention";
    n += sink ? "_Sink4" : "_Sink0";
    n += win == Win::None ? "_NoWindow"
                          : (win == Win::Scalar ? "_Window11" : "_HeadWindows");
    n += causal ? "_Causal" : "_NonCausal";
    n += sinkLogits ? "_SinkLogits" : "";
    n += lse ? "_Lse" : "";
    return n;
  }
  Masks masks() const {
    Masks m;
    m.causal = causal;
    m.sink = sink;
    if (win == Win::Scalar)
      m.window = 11;
    if (win == Win::PerHead)
      m.headWindows = HeadWindows;
    m.sinkLogits = sinkLogits;
    return m;
  }
};

void PrintTo(const ComboCase &c, std::ostream *os) { *os << c.name(); }

std::vector<ComboCase> comboCases() {
  std::vector<ComboCase> cs;
  for (bool sparse : {false, true})
    for (int64_t sink : {0, 4})
      for (Win win : {Win::None, Win::Scalar, Win::PerHead})
        for (bool causal : {false, true})
          for (bool logits : {false, true})
            for (bool lse : {false, true})
              cs.push_back({sparse, sink, win, causal, logits, lse});
  return cs;
}

/// The layout of the block-sparse cases: [1, Hq, 5, 4] random bits, with
/// query block 1 of head 0 all false (rows that see no key) and the sink
/// block 0 both on and off across the heads.
Tensor comboLayout() {
  int64_t nqb = ceilDiv(Sq, BlockQ), nkb = ceilDiv(Skv, BlockK);
  Tensor layout = randomInts({1, Hq, nqb, nkb}, 604, 0, 1);
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < nqb; ++i) {
      // The last key block on, so that most rows have a key.
      layout.at({0, h, i, nkb - 1}) = 1;
      layout.at({0, h, i, 0}) = (h + i) % 2; // the sinks' block on and off
    }
  for (int64_t j = 0; j < nkb; ++j)
    layout.at({0, 0, 1, j}) = 0;
  return layout;
}

class ServingCombo : public ::testing::TestWithParam<ComboCase> {};

TEST_P(ServingCombo, MatchesReference) {
  const ComboCase &c = GetParam();
  Masks m = c.masks();
  std::vector<int64_t> qs{B, Hq, Sq, D}, ks{B, Hkv, Skv, D},
      vs{B, Hkv, Skv, Dv}, rs{B, Hq, Sq, Dv}, ls{B, Hq, Sq};
  int64_t nqb = ceilDiv(Sq, BlockQ), nkb = ceilDiv(Skv, BlockK);
  std::vector<std::string> args{tensorType(qs, "f32"), tensorType(ks, "f32"),
                                tensorType(vs, "f32")};
  std::string extra;
  if (c.sparse) {
    args.push_back(tensorType({1, Hq, nqb, nkb}, "i1"));
    extra = "block_q = " + std::to_string(BlockQ) +
            " : i64, block_k = " + std::to_string(BlockK) + " : i64";
  }
  if (c.sinkLogits)
    args.push_back(tensorType({Hq}, "f32"));
  std::vector<std::string> results{tensorType(rs, "f32")};
  if (c.lse)
    results.push_back(tensorType(ls, "f32"));
  std::string src = module(c.sparse ? "loom.block_sparse_attention"
                                    : "loom.attention",
                           args, attrText(m, extra), results);

  Tensor q = randomTensor("f32", qs, 601, -2.0, 2.0);
  Tensor k = randomTensor("f32", ks, 602, -2.0, 2.0);
  Tensor v = randomTensor("f32", vs, 603);
  Tensor layout = comboLayout();
  Tensor logits = randomTensor("f32", {Hq}, 605, -1.0, 3.0);
  std::vector<Tensor> inputs{q, k, v};
  if (c.sparse)
    inputs.push_back(layout);
  if (c.sinkLogits)
    inputs.push_back(logits);
  auto out = runOnCPU(src, "f", inputs);

  // A window without causal breaks the contract: the verifier says so, and
  // nothing is compiled.
  if (c.win != Win::None && !c.causal) {
    ASSERT_FALSE(static_cast<bool>(out)) << "compiled a window without causal";
    std::string error = llvm::toString(out.takeError());
    EXPECT_NE(error.find("attribute 'window' requires 'causal'"),
              std::string::npos)
        << error;
    return;
  }
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), c.lse ? 2u : 1u);
  const Tensor &o = (*out)[0];
  EXPECT_EQ(o.shape, rs);
  EXPECT_FALSE(hasNaN(o));

  auto reference = [&](const ref::ServingMasks &rm, Tensor *lse) {
    return c.sparse ? ref::servingBlockSparseAttention(
                          q, k, v, layout, BlockQ, BlockK, m.causal, m.scale,
                          std::nullopt, m.window, rm, lse)
                    : ref::servingAttention(q, k, v, m.causal, m.scale,
                                            m.window, std::nullopt, rm, lse);
  };
  ref::ServingMasks rm = refMasks(m, c.sinkLogits ? &logits : nullptr);
  Tensor wantLse;
  Tensor want = reference(rm, &wantLse);
  EXPECT_LT(relativeError(o, want), tolerance("f32"));
  int64_t zeros = expectZerosWhereReference(o, want);
  if (c.sparse) {
    EXPECT_GE(zeros, B * BlockQ * Dv) << "head 0's query block 1 sees no key";
  }
  if (c.lse)
    expectLse((*out)[1], wantLse, 1e-5);

  // The case exercises what it names: each mask changes the reference (a
  // sink only with a window: without one it changes nothing).
  bool windowed = c.win != Win::None;
  if (c.sink) {
    ref::ServingMasks noSink = rm;
    noSink.sink = 0;
    double d = relativeError(reference(noSink, nullptr), want);
    if (windowed) {
      EXPECT_GT(d, 1e-3) << "the sinks do not matter in this case";
    } else {
      EXPECT_EQ(d, 0.0) << "a sink without a window changed the reference";
    }
  }
  if (c.sinkLogits) {
    ref::ServingMasks noLogits = rm;
    noLogits.sinkLogits.clear();
    EXPECT_GT(relativeError(reference(noLogits, nullptr), want), 1e-2)
        << "the sink logits do not matter in this case";
  }
  if (c.win == Win::PerHead) {
    // Heads 0 and 2 (W = 0) differ from a window of 7 or 20 on every head.
    ref::ServingMasks allWindowed = rm;
    allWindowed.headWindows = {7, 7, 20, 20};
    EXPECT_GT(relativeError(reference(allWindowed, nullptr), want), 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ServingCombo,
                         ::testing::ValuesIn(comboCases()),
                         [](const auto &info) { return info.param.name(); });

//===----------------------------------------------------------------------===//
// Serving configurations
//===----------------------------------------------------------------------===//

/// One loom.attention with `m` on random bf16 inputs, against the reference;
/// returns the output (and the inputs through the pointers).
struct AttentionRun {
  Tensor q, k, v, logits, out, want;
};

AttentionRun runAttention(const std::string &type, int64_t b, int64_t hq, int64_t hkv,
                 int64_t sq, int64_t skv, int64_t d, const Masks &m,
                 uint64_t seed, double logitLo = -1.0, double logitHi = 3.0) {
  AttentionRun r;
  std::vector<int64_t> qs{b, hq, sq, d}, ks{b, hkv, skv, d}, rs{b, hq, sq, d};
  std::vector<std::string> args{tensorType(qs, type), tensorType(ks, type),
                                tensorType(ks, type)};
  if (m.sinkLogits)
    args.push_back(tensorType({hq}, "f32"));
  std::string src =
      module("loom.attention", args, attrText(m), {tensorType(rs, type)});
  r.q = randomTensor(type, qs, seed, -2.0, 2.0);
  r.k = randomTensor(type, ks, seed + 1, -2.0, 2.0);
  r.v = randomTensor(type, ks, seed + 2);
  std::vector<Tensor> inputs{r.q, r.k, r.v};
  if (m.sinkLogits) {
    r.logits = randomTensor("f32", {hq}, seed + 3, logitLo, logitHi);
    inputs.push_back(r.logits);
  }
  auto out = runOnCPU(src, "f", inputs);
  EXPECT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  if (!out)
    return r;
  r.out = (*out)[0];
  r.want = ref::servingAttention(r.q, r.k, r.v, m.causal, m.scale, m.window,
                                 std::nullopt,
                                 refMasks(m, m.sinkLogits ? &r.logits : nullptr));
  EXPECT_EQ(r.out.shape, rs);
  EXPECT_TRUE(allFinite(r.out));
  EXPECT_LT(relativeError(r.out, r.want), tolerance(type));
  return r;
}

TEST(ServingConfigs, StreamingLLM) {
  // 4 sinks and a window of 1024 over S = 4096 (StreamingLLM's recipe; 32k
  // in the issue, 4096 here so that CI stays fast), GQA 2:1, bf16.
  Masks m;
  m.causal = true;
  m.sink = 4;
  m.window = 1024;
  AttentionRun r = runAttention("bf16", 1, 2, 1, 4096, 4096, 32, m, 700);
  if (HasFailure())
    return;
  // The sinks matter: the same window without them is another result, 5
  // times further from the output than the reference is (4 random sinks
  // among 1028 keys weigh little; trained models make them weigh more).
  Tensor noSinks = ref::attention(r.q, r.k, r.v, true, std::nullopt, 1024);
  EXPECT_GT(relativeError(r.want, noSinks), 1e-2);
  EXPECT_GT(relativeError(r.out, noSinks), 5 * relativeError(r.out, r.want));
}

TEST(ServingConfigs, StreamingLLMChunkedPrefillAndDecode) {
  // A chunk of 100 queries and one decode query at the end of 4096 keys.
  Masks m;
  m.causal = true;
  m.sink = 4;
  m.window = 1024;
  for (int64_t sq : {int64_t{100}, int64_t{1}}) {
    SCOPED_TRACE("Sq = " + std::to_string(sq));
    runAttention("bf16", 1, 4, 2, sq, 4096, 32, m, 710 + sq);
  }
}

TEST(ServingConfigs, DuoAttention) {
  // DuoAttention: 25% retrieval heads (0 and 4: full attention), the others
  // streaming heads (16 sinks + a window of 256), GQA 8:2, bf16, for the
  // prefill, a chunk and a decode step.
  Masks m;
  m.causal = true;
  m.sink = 16;
  m.headWindows = {0, 256, 256, 256, 0, 256, 256, 256};
  for (int64_t sq : {int64_t{1000}, int64_t{100}, int64_t{1}}) {
    SCOPED_TRACE("Sq = " + std::to_string(sq));
    AttentionRun r = runAttention("bf16", 1, 8, 2, sq, 1000, 32, m, 720 + sq);
    if (HasFailure())
      return;
    // The retrieval heads are plain causal attention, by the reference of
    // loom.attention itself; the streaming heads are not.
    Tensor full = ref::attention(r.q, r.k, r.v, true);
    int64_t rowSize = sq * 32;
    for (int64_t h = 0; h < 8; ++h) {
      double num = 0, den = 0;
      for (int64_t i = 0; i < rowSize; ++i) {
        double x = r.out.data[h * rowSize + i], y = full.data[h * rowSize + i];
        num += (x - y) * (x - y);
        den += y * y;
      }
      double rel = std::sqrt(num / den);
      if (h % 4 == 0) {
        EXPECT_LT(rel, tolerance("bf16")) << "retrieval head " << h;
      } else {
        EXPECT_GT(rel, 10 * tolerance("bf16")) << "streaming head " << h;
      }
    }
  }
}

/// gpt-oss's eager attention with learned sinks, as its reference code
/// writes it: scores q k^T * scale, the mask added as -inf, the sink logit
/// appended as one more column, the row max subtracted, softmax over the
/// columns, the sink column dropped, then weights @ v (kv heads repeated for
/// the query heads). Double precision, nothing shared with ref::.
Tensor gptOssEager(const Tensor &q, const Tensor &k, const Tensor &v,
                   const Tensor &sinks, std::optional<int64_t> slidingWindow) {
  int64_t b = q.shape[0], hq = q.shape[1], s = q.shape[2], d = q.shape[3];
  int64_t hkv = k.shape[1], groups = hq / hkv;
  double scale = 1.0 / std::sqrt(static_cast<double>(d));
  Tensor o({b, hq, s, v.shape[3]});
  std::vector<double> logits(static_cast<size_t>(s + 1));
  for (int64_t bb = 0; bb < b; ++bb)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < s; ++i) {
        for (int64_t j = 0; j < s; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e)
            dot += q.at({bb, h, i, e}) * k.at({bb, h / groups, j, e});
          double mask = j > i ? -kInf : 0.0;
          if (slidingWindow && j <= i - *slidingWindow)
            mask = -kInf;
          logits[static_cast<size_t>(j)] = dot * scale + mask;
        }
        logits[static_cast<size_t>(s)] = sinks.data[static_cast<size_t>(h)];
        double mx = -kInf;
        for (double x : logits)
          mx = std::max(mx, x);
        double sum = 0;
        for (double &x : logits) {
          x = std::exp(x - mx);
          sum += x;
        }
        for (int64_t e = 0; e < v.shape[3]; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < s; ++j) // the sink column is dropped
            acc += logits[static_cast<size_t>(j)] / sum *
                   v.at({bb, h / groups, j, e});
          o.at({bb, h, i, e}) = acc;
        }
      }
  return o;
}

TEST(ServingConfigs, GptOssSinkLogitsAgainstEager) {
  // gpt-oss: 8 query heads per kv head, head dim 64, learned sink logits on
  // every layer, a window of 128 on every other layer; bf16 activations,
  // sinks given as bf16 values in f32.
  for (bool sliding : {true, false}) {
    SCOPED_TRACE(sliding ? "sliding layer" : "full layer");
    Masks m;
    m.causal = true;
    if (sliding)
      m.window = 128;
    m.sinkLogits = true;
    int64_t hq = 16, hkv = 2, s = 300, d = 64;
    std::vector<int64_t> qs{1, hq, s, d}, ks{1, hkv, s, d};
    std::string src = module(
        "loom.attention",
        {tensorType(qs, "bf16"), tensorType(ks, "bf16"), tensorType(ks, "bf16"),
         tensorType({hq}, "f32")},
        attrText(m), {tensorType(qs, "bf16")});
    Tensor q = randomTensor("bf16", qs, 730, -2.0, 2.0);
    Tensor k = randomTensor("bf16", ks, 731, -2.0, 2.0);
    Tensor v = randomTensor("bf16", ks, 732);
    // Learned sinks of gpt-oss are O(1) and mostly positive; rounded to bf16.
    Tensor sinks = roundedTo("bf16", randomTensor("f32", {hq}, 733, -1.0, 4.0));
    auto out = runOnCPU(src, "f", {q, k, v, sinks});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    Tensor eager = gptOssEager(q, k, v, sinks,
                               sliding ? std::optional<int64_t>(128)
                                       : std::nullopt);
    EXPECT_LT(relativeError((*out)[0], eager), tolerance("bf16"));
    // The eager code and the reference agree to double precision.
    Tensor want = ref::servingAttention(q, k, v, true, std::nullopt, m.window,
                                        std::nullopt, refMasks(m, &sinks));
    EXPECT_LT(relativeError(want, eager), 1e-12);
    // Dropping the sinks is a visible error (FlashInfer's gpt-oss bug).
    Tensor noSinks = ref::attention(q, k, v, true, std::nullopt, m.window);
    EXPECT_GT(relativeError(noSinks, eager), 10 * tolerance("bf16"));
  }
}

//===----------------------------------------------------------------------===//
// Edges
//===----------------------------------------------------------------------===//

TEST(ServingEdges, RowsWithoutKeysAreZeroWithLseSink) {
  // Sq = 20 > Skv = 7 under causal: rows 0..12 see no key, not even a sink
  // (sinks never beat causal). Their output is 0 and their lse is sink_h;
  // head 1's sink logit is -inf: no sink, so its lse there is -inf and its
  // visible rows equal attention without sink logits.
  Masks m;
  m.causal = true;
  m.sink = 2;
  m.headWindows = {3, 0};
  m.sinkLogits = true;
  std::vector<int64_t> qs{1, 2, 20, 8}, ks{1, 1, 7, 8};
  std::string src = module(
      "loom.attention",
      {tensorType(qs, "f32"), tensorType(ks, "f32"), tensorType(ks, "f32"),
       tensorType({2}, "f32")},
      attrText(m), {tensorType(qs, "f32"), tensorType({1, 2, 20}, "f32")});
  Tensor q = randomTensor("f32", qs, 740, -2.0, 2.0);
  Tensor k = randomTensor("f32", ks, 741, -2.0, 2.0);
  Tensor v = randomTensor("f32", ks, 742);
  Tensor logits({2}, {0.75, -kInf});
  auto out = runOnCPU(src, "f", {q, k, v, logits});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  const Tensor &o = (*out)[0], &lse = (*out)[1];
  for (int64_t i = 0; i < 13; ++i) {
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t e = 0; e < 8; ++e)
        EXPECT_EQ(o.at({0, h, i, e}), 0.0) << "row " << i;
    EXPECT_EQ(lse.at({0, 0, i}), 0.75) << "row " << i;
    EXPECT_EQ(lse.at({0, 1, i}), -kInf) << "row " << i;
  }
  Tensor wantLse;
  Tensor want = ref::servingAttention(q, k, v, true, std::nullopt,
                                      std::nullopt, std::nullopt,
                                      refMasks(m, &logits), &wantLse);
  EXPECT_LT(relativeError(o, want), tolerance("f32"));
  expectLse(lse, wantLse, 1e-5);
  // Head 1 (sink logit -inf, no window) is plain causal attention.
  Tensor plain = ref::attention(q, k, v, true);
  for (int64_t i = 13; i < 20; ++i)
    for (int64_t e = 0; e < 8; ++e)
      EXPECT_NEAR(o.at({0, 1, i, e}), plain.at({0, 1, i, e}), 1e-5);
}

TEST(ServingEdges, DynamicShapes) {
  // Every dim dynamic but Hq (per-head windows need it), sink logits of a
  // dynamic size; GQA 4:1, ragged lengths, run at two sizes.
  Masks m;
  m.causal = true;
  m.sink = 3;
  m.headWindows = {5, 0, 9, 1};
  m.sinkLogits = true;
  std::string t = tensorType({-1, 4, -1, -1}, "f32"),
              kt = tensorType({-1, -1, -1, -1}, "f32");
  std::string src = module("loom.attention",
                           {t, kt, kt, tensorType({-1}, "f32")}, attrText(m),
                           {t, tensorType({-1, 4, -1}, "f32")});
  for (auto [sq, skv] : {std::pair<int64_t, int64_t>{29, 41}, {41, 29}}) {
    SCOPED_TRACE("Sq " + std::to_string(sq) + " Skv " + std::to_string(skv));
    Tensor q = randomTensor("f32", {2, 4, sq, 8}, 750, -2.0, 2.0);
    Tensor k = randomTensor("f32", {2, 1, skv, 8}, 751, -2.0, 2.0);
    Tensor v = randomTensor("f32", {2, 1, skv, 8}, 752);
    Tensor logits = randomTensor("f32", {4}, 753, -1.0, 3.0);
    auto out = runOnCPU(src, "f", {q, k, v, logits});
    ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    Tensor wantLse;
    Tensor want = ref::servingAttention(q, k, v, true, std::nullopt,
                                        std::nullopt, std::nullopt,
                                        refMasks(m, &logits), &wantLse);
    EXPECT_LT(relativeError((*out)[0], want), tolerance("f32"));
    expectZerosWhereReference((*out)[0], want);
    expectLse((*out)[1], wantLse, 1e-5);
  }
}

TEST(ServingEdges, SinksCoveringEveryKeyAreCausal) {
  // sink >= Skv: every key is a sink, the window hides nothing.
  Masks m;
  m.causal = true;
  m.sink = 64;
  m.window = 2;
  AttentionRun r = runAttention("f32", 1, 2, 2, 17, 23, 8, m, 760);
  if (HasFailure())
    return;
  EXPECT_LT(relativeError(r.out, ref::attention(r.q, r.k, r.v, true)), 1e-5);
}

//===----------------------------------------------------------------------===//
// loom-tile declines the serving masks
//===----------------------------------------------------------------------===//

/// `source` after func.func(loom-tile{tiles=<tiles>}), printed.
llvm::Expected<std::string> afterTile(const std::string &source,
                                      const std::string &tiles) {
  loom::registerAllPasses();
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  auto parsed = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!parsed)
    return llvm::createStringError("parse failed: " + diagnostics);
  mlir::PassManager pm(&context);
  std::string pipeline = "func.func(loom-tile{tiles=" + tiles + "})";
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm)) ||
      mlir::failed(pm.run(*parsed)))
    return llvm::createStringError(pipeline + " failed: " + diagnostics);
  std::string text;
  llvm::raw_string_ostream os(text);
  parsed->print(os);
  return text;
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size()))
    ++n;
  return n;
}

TEST(ServingTile, DeclinedOpsStayExactAfterTiling) {
  // One function with a serving attention, a windowed block-sparse attention
  // with sink logits, and a plain windowed attention: loom-tile (small
  // tiles) tiles only the last; the CPU then runs the two declined ops
  // through the reference lowering, and all three match their references.
  std::string qt = tensorType({1, 4, 37, 16}, "f32"),
              kt = tensorType({1, 2, 53, 16}, "f32"),
              lt = tensorType({1, 4, 5, 4}, "i1"), st = tensorType({4}, "f32");
  std::string src =
      "func.func @f(%q: " + qt + ", %k: " + kt + ", %v: " + kt + ", %s: " + st +
      ", %l: " + lt + ") -> (" + qt + ", " + qt + ", " + qt + ") {\n" +
      "  %0 = loom.attention %q, %k, %v, %s {causal, sink = 4 : i64, window = "
      "array<i64: 0, 7, 0, 20>} : (" +
      qt + ", " + kt + ", " + kt + ", " + st + ") -> " + qt + "\n" +
      "  %1 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 8 : "
      "i64, block_k = 16 : i64, causal, sink = 4 : i64, window = 11 : i64} : (" +
      qt + ", " + kt + ", " + kt + ", " + lt + ", " + st + ") -> " + qt + "\n" +
      "  %2 = loom.attention %q, %k, %v {causal, window = 11 : i64} : (" + qt +
      ", " + kt + ", " + kt + ") -> " + qt + "\n" + "  return %0, %1, %2 : " +
      qt + ", " + qt + ", " + qt + "\n}\n";
  auto tiledText = afterTile(src, "attention:16x16");
  ASSERT_TRUE(static_cast<bool>(tiledText))
      << llvm::toString(tiledText.takeError());
  // Declined as they are: attributes and the sink logits operand kept.
  EXPECT_EQ(count(*tiledText, "loom.attention"), 1u) << *tiledText;
  EXPECT_EQ(count(*tiledText, "loom.block_sparse_attention"), 1u);
  EXPECT_NE(tiledText->find("sink = 4 : i64, window = array<i64: 0, 7, 0, 20>"),
            std::string::npos)
      << *tiledText;
  EXPECT_EQ(count(*tiledText, "= scf.forall "), 1u) << "the plain op is tiled";

  Tensor q = randomTensor("f32", {1, 4, 37, 16}, 770, -2.0, 2.0);
  Tensor k = randomTensor("f32", {1, 2, 53, 16}, 771, -2.0, 2.0);
  Tensor v = randomTensor("f32", {1, 2, 53, 16}, 772);
  Tensor s = randomTensor("f32", {4}, 773, -1.0, 3.0);
  Tensor l = randomInts({1, 4, 5, 4}, 774, 0, 1);
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t i = 0; i < 5; ++i)
      l.at({0, h, i, 3}) = 1;
  auto out = runOnCPU(*tiledText, "f", {q, k, v, s, l});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  ASSERT_EQ(out->size(), 3u);
  ref::ServingMasks m0;
  m0.sink = 4;
  m0.headWindows = HeadWindows;
  m0.sinkLogits = s.data;
  ref::ServingMasks m1;
  m1.sink = 4;
  m1.sinkLogits = s.data;
  EXPECT_LT(relativeError((*out)[0],
                          ref::servingAttention(q, k, v, true, std::nullopt,
                                                std::nullopt, std::nullopt, m0)),
            1e-5);
  EXPECT_LT(relativeError((*out)[1], ref::servingBlockSparseAttention(
                                         q, k, v, l, 8, 16, true, std::nullopt,
                                         std::nullopt, 11, m1)),
            1e-5);
  EXPECT_LT(relativeError((*out)[2],
                          ref::attention(q, k, v, true, std::nullopt, 11)),
            1e-5);
}

} // namespace
