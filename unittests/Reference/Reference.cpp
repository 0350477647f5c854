// Double-precision reference implementations of the loom ops (see Reference.h).
#include "Reference.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace loom {
namespace ref {

// A misuse of the reference is a bug in the calling test; it must stop that
// test loudly. Exceptions let GoogleTest report it and carry on; a build
// without them has only abort.
[[noreturn]] static void fail(const char *op, const std::string &message) {
  std::string text = std::string(op) + ": " + message;
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  throw std::invalid_argument(text);
#else
  std::fprintf(stderr, "loom::ref error: %s\n", text.c_str());
  std::abort();
#endif
}

static std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      fail("Tensor", "negative dimension in " + shapeString(shape));
    n *= d;
  }
  return n;
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

Tensor::Tensor(std::vector<int64_t> s) : shape(std::move(s)) {
  data.assign(static_cast<size_t>(product(shape)), 0.0);
}

Tensor::Tensor(std::vector<int64_t> s, std::vector<double> d)
    : shape(std::move(s)), data(std::move(d)) {
  if (static_cast<int64_t>(data.size()) != product(shape))
    fail("Tensor", std::to_string(data.size()) +
                       " values do not fill shape " + shapeString(shape));
}

int64_t Tensor::numel() const { return product(shape); }

int64_t Tensor::dim(int64_t i) const {
  int64_t r = rank();
  if (i < 0)
    i += r;
  if (i < 0 || i >= r)
    fail("Tensor::dim", "index out of range for shape " + shapeString(shape));
  return shape[static_cast<size_t>(i)];
}

static size_t flatIndex(const std::vector<int64_t> &shape,
                        const std::vector<int64_t> &index) {
  if (index.size() != shape.size())
    fail("Tensor::at", "index rank does not match shape " + shapeString(shape));
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (index[i] < 0 || index[i] >= shape[i])
      fail("Tensor::at", "index out of range for shape " + shapeString(shape));
    flat = flat * shape[i] + index[i];
  }
  return static_cast<size_t>(flat);
}

double &Tensor::at(const std::vector<int64_t> &index) {
  return data[flatIndex(shape, index)];
}
double Tensor::at(const std::vector<int64_t> &index) const {
  return data[flatIndex(shape, index)];
}

static void requireRank(const char *op, const char *name, const Tensor &t,
                        int64_t rank) {
  if (t.rank() != rank)
    fail(op, std::string(name) + " must have rank " + std::to_string(rank) +
                 ", got shape " + shapeString(t.shape));
}

static void requireDim(const char *op, const std::string &what, int64_t got,
                       int64_t want) {
  if (got != want)
    fail(op, what + " must be " + std::to_string(want) + ", got " +
                 std::to_string(got));
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

//===----------------------------------------------------------------------===//
// Softmax attention
//===----------------------------------------------------------------------===//

namespace {

// Shapes shared by the three attention ops, checked once.
struct AttentionShape {
  int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
};

AttentionShape checkAttention(const char *op, const Tensor &q, const Tensor &k,
                              const Tensor *v) {
  requireRank(op, "q", q, 4);
  requireRank(op, "k", k, 4);
  AttentionShape s;
  s.B = q.shape[0];
  s.Hq = q.shape[1];
  s.Sq = q.shape[2];
  s.D = q.shape[3];
  s.Hkv = k.shape[1];
  s.Skv = k.shape[2];
  requireDim(op, "k batch", k.shape[0], s.B);
  requireDim(op, "k head dim", k.shape[3], s.D);
  if (s.Hkv <= 0 || s.Hq % s.Hkv != 0)
    fail(op, "Hq (" + std::to_string(s.Hq) + ") must be a multiple of Hkv (" +
                 std::to_string(s.Hkv) + ")");
  s.Dv = 0;
  if (v) {
    requireRank(op, "v", *v, 4);
    requireDim(op, "v batch", v->shape[0], s.B);
    requireDim(op, "v heads", v->shape[1], s.Hkv);
    requireDim(op, "v sequence", v->shape[2], s.Skv);
    s.Dv = v->shape[3];
  }
  return s;
}

double defaultScale(const char *op, std::optional<double> scale, int64_t D) {
  if (scale)
    return *scale;
  if (D <= 0)
    fail(op, "the default scale 1/sqrt(D) needs D > 0");
  return 1.0 / std::sqrt(static_cast<double>(D));
}

double at4(const Tensor &t, int64_t a, int64_t b, int64_t c, int64_t d) {
  const auto &s = t.shape;
  return t.data[static_cast<size_t>(((a * s[1] + b) * s[2] + c) * s[3] + d)];
}

// o_i = softmax over the visible keys, zeros when none is visible. The
// visibility predicate is the only thing that differs between the ops.
// `lse`, if given, receives log(sum_j exp(s_ij)) over the visible keys
// (-inf for a row with none). `sinkLogits`, if given (one per query head),
// joins each row's denominator as exp(sink_h) and its lse, never the
// numerator; a row with no visible key stays zero (lse = sink_h).
Tensor softmaxAttention(
    const Tensor &q, const Tensor &k, const Tensor &v, const AttentionShape &s,
    double scale, std::optional<double> softcap,
    const std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>
        &visible,
    Tensor *lse = nullptr,
    const std::vector<double> *sinkLogits = nullptr) {
  Tensor o({s.B, s.Hq, s.Sq, s.Dv});
  if (lse)
    *lse = Tensor({s.B, s.Hq, s.Sq},
                  std::vector<double>(static_cast<size_t>(s.B * s.Hq * s.Sq),
                                      -std::numeric_limits<double>::infinity()));
  int64_t group = s.Hq / s.Hkv;
  std::vector<double> scores(static_cast<size_t>(s.Skv));
  std::vector<int64_t> keys;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.Hq; ++h) {
      int64_t hk = h / group;
      for (int64_t i = 0; i < s.Sq; ++i) {
        keys.clear();
        for (int64_t j = 0; j < s.Skv; ++j) {
          if (!visible(b, h, i, j))
            continue;
          double dot = 0;
          for (int64_t d = 0; d < s.D; ++d)
            dot += at4(q, b, h, i, d) * at4(k, b, hk, j, d);
          double score = scale * dot;
          if (softcap)
            score = *softcap * std::tanh(score / *softcap);
          scores[keys.size()] = score;
          keys.push_back(j);
        }
        double sink = sinkLogits ? (*sinkLogits)[static_cast<size_t>(h)]
                                 : -std::numeric_limits<double>::infinity();
        if (keys.empty()) {
          // No visible key: the row stays zero; its lse is the sink's alone.
          if (lse)
            lse->data[static_cast<size_t>((b * s.Hq + h) * s.Sq + i)] = sink;
          continue;
        }
        double mx = sink;
        for (size_t n = 0; n < keys.size(); ++n)
          mx = std::max(mx, scores[n]);
        double denom = sinkLogits ? std::exp(sink - mx) : 0.0;
        for (size_t n = 0; n < keys.size(); ++n) {
          scores[n] = std::exp(scores[n] - mx);
          denom += scores[n];
        }
        if (lse)
          lse->data[static_cast<size_t>((b * s.Hq + h) * s.Sq + i)] =
              mx + std::log(denom);
        for (int64_t e = 0; e < s.Dv; ++e) {
          double acc = 0;
          for (size_t n = 0; n < keys.size(); ++n)
            acc += scores[n] * at4(v, b, hk, keys[n], e);
          o.data[static_cast<size_t>(((b * s.Hq + h) * s.Sq + i) * s.Dv + e)] =
              acc / denom;
        }
      }
    }
  return o;
}

void checkSoftcap(const char *op, std::optional<double> softcap) {
  if (softcap && !(*softcap > 0))
    fail(op, "softcap must be positive");
}

} // namespace

static Tensor attentionImpl(const Tensor &q, const Tensor &k, const Tensor &v,
                            bool causal, std::optional<double> scale,
                            std::optional<int64_t> window,
                            std::optional<double> softcap, Tensor *lse) {
  const char *op = "loom.attention";
  AttentionShape s = checkAttention(op, q, k, &v);
  double sc = defaultScale(op, scale, s.D);
  checkSoftcap(op, softcap);
  if (window && !causal)
    fail(op, "window requires causal");
  if (window && *window < 0)
    fail(op, "window must be non-negative");
  int64_t offset = s.Skv - s.Sq; // bottom-right alignment
  return softmaxAttention(
      q, k, v, s, sc, softcap, [&](int64_t, int64_t, int64_t i, int64_t j) {
        int64_t ip = i + offset;
        if (causal && j > ip)
          return false;
        if (window && j <= ip - *window)
          return false;
        return true;
      },
      lse);
}

Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v,
                 bool causal, std::optional<double> scale,
                 std::optional<int64_t> window,
                 std::optional<double> softcap) {
  return attentionImpl(q, k, v, causal, scale, window, softcap, nullptr);
}

Tensor attentionLse(const Tensor &q, const Tensor &k, const Tensor &v,
                    bool causal, std::optional<double> scale,
                    std::optional<int64_t> window,
                    std::optional<double> softcap) {
  Tensor lse;
  attentionImpl(q, k, v, causal, scale, window, softcap, &lse);
  return lse;
}

static void checkBlocks(const char *op, int64_t blockQ, int64_t blockK) {
  if (blockQ <= 0 || blockK <= 0)
    fail(op, "block_q and block_k must be positive");
}

static Tensor blockSparseImpl(const Tensor &q, const Tensor &k,
                              const Tensor &v, const Tensor &layout,
                              int64_t blockQ, int64_t blockK, bool causal,
                              std::optional<double> scale,
                              std::optional<double> softcap, Tensor *lse) {
  const char *op = "loom.block_sparse_attention";
  AttentionShape s = checkAttention(op, q, k, &v);
  double sc = defaultScale(op, scale, s.D);
  checkSoftcap(op, softcap);
  checkBlocks(op, blockQ, blockK);
  requireRank(op, "layout", layout, 4);
  int64_t Lb = layout.shape[0], Lh = layout.shape[1];
  if (Lb != 1 && Lb != s.B)
    fail(op, "layout batch must be 1 or B");
  if (Lh != 1 && Lh != s.Hq)
    fail(op, "layout heads must be 1 or Hq");
  requireDim(op, "layout NQB", layout.shape[2], ceilDiv(s.Sq, blockQ));
  requireDim(op, "layout NKB", layout.shape[3], ceilDiv(s.Skv, blockK));
  int64_t offset = s.Skv - s.Sq;
  return softmaxAttention(
      q, k, v, s, sc, softcap, [&](int64_t b, int64_t h, int64_t i, int64_t j) {
        if (causal && j > i + offset)
          return false;
        return at4(layout, Lb == 1 ? 0 : b, Lh == 1 ? 0 : h, i / blockQ,
                   j / blockK) != 0;
      },
      lse);
}

Tensor blockSparseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                            const Tensor &layout, int64_t blockQ,
                            int64_t blockK, bool causal,
                            std::optional<double> scale,
                            std::optional<double> softcap) {
  return blockSparseImpl(q, k, v, layout, blockQ, blockK, causal, scale,
                         softcap, nullptr);
}

Tensor blockSparseAttentionLse(const Tensor &q, const Tensor &k,
                               const Tensor &v, const Tensor &layout,
                               int64_t blockQ, int64_t blockK, bool causal,
                               std::optional<double> scale,
                               std::optional<double> softcap) {
  Tensor lse;
  blockSparseImpl(q, k, v, layout, blockQ, blockK, causal, scale, softcap,
                  &lse);
  return lse;
}

// The serving masks, checked against the shapes; returns the window of each
// query head (0: none) from the scalar `window` or `headWindows`.
static std::vector<int64_t> servingWindows(const char *op,
                                           const AttentionShape &s,
                                           bool causal,
                                           std::optional<int64_t> window,
                                           const ServingMasks &masks) {
  if (window && !masks.headWindows.empty())
    fail(op, "a scalar window and per-head windows are exclusive");
  if ((window || !masks.headWindows.empty()) && !causal)
    fail(op, "window requires causal");
  if (window && *window <= 0)
    fail(op, "window must be positive");
  if (masks.sink < 0)
    fail(op, "sink must be non-negative");
  if (!masks.sinkLogits.empty())
    requireDim(op, "sink_logits size",
               static_cast<int64_t>(masks.sinkLogits.size()), s.Hq);
  std::vector<int64_t> windows(static_cast<size_t>(s.Hq), window.value_or(0));
  if (!masks.headWindows.empty()) {
    requireDim(op, "per-head window count",
               static_cast<int64_t>(masks.headWindows.size()), s.Hq);
    for (int64_t w : masks.headWindows)
      if (w < 0)
        fail(op, "per-head windows must be non-negative");
    windows = masks.headWindows;
  }
  return windows;
}

// Key j and aligned query row i' of head h with window W_h (0: none):
// j <= i' (causal), and W_h = 0 or j > i' - W_h or j < sink.
static bool servingVisible(bool causal, int64_t ip, int64_t j, int64_t w,
                           int64_t sink) {
  if (causal && j > ip)
    return false;
  return w == 0 || j > ip - w || j < sink;
}

Tensor servingAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                        bool causal, std::optional<double> scale,
                        std::optional<int64_t> window,
                        std::optional<double> softcap,
                        const ServingMasks &masks, Tensor *lse) {
  const char *op = "loom.attention";
  AttentionShape s = checkAttention(op, q, k, &v);
  double sc = defaultScale(op, scale, s.D);
  checkSoftcap(op, softcap);
  std::vector<int64_t> windows = servingWindows(op, s, causal, window, masks);
  int64_t offset = s.Skv - s.Sq;
  return softmaxAttention(
      q, k, v, s, sc, softcap,
      [&](int64_t, int64_t h, int64_t i, int64_t j) {
        return servingVisible(causal, i + offset, j,
                              windows[static_cast<size_t>(h)], masks.sink);
      },
      lse, masks.sinkLogits.empty() ? nullptr : &masks.sinkLogits);
}

Tensor servingBlockSparseAttention(const Tensor &q, const Tensor &k,
                                   const Tensor &v, const Tensor &layout,
                                   int64_t blockQ, int64_t blockK, bool causal,
                                   std::optional<double> scale,
                                   std::optional<double> softcap,
                                   std::optional<int64_t> window,
                                   const ServingMasks &masks, Tensor *lse) {
  const char *op = "loom.block_sparse_attention";
  AttentionShape s = checkAttention(op, q, k, &v);
  double sc = defaultScale(op, scale, s.D);
  checkSoftcap(op, softcap);
  checkBlocks(op, blockQ, blockK);
  std::vector<int64_t> windows = servingWindows(op, s, causal, window, masks);
  requireRank(op, "layout", layout, 4);
  int64_t Lb = layout.shape[0], Lh = layout.shape[1];
  if (Lb != 1 && Lb != s.B)
    fail(op, "layout batch must be 1 or B");
  if (Lh != 1 && Lh != s.Hq)
    fail(op, "layout heads must be 1 or Hq");
  requireDim(op, "layout NQB", layout.shape[2], ceilDiv(s.Sq, blockQ));
  requireDim(op, "layout NKB", layout.shape[3], ceilDiv(s.Skv, blockK));
  int64_t offset = s.Skv - s.Sq;
  return softmaxAttention(
      q, k, v, s, sc, softcap,
      [&](int64_t b, int64_t h, int64_t i, int64_t j) {
        if (at4(layout, Lb == 1 ? 0 : b, Lh == 1 ? 0 : h, i / blockQ,
                j / blockK) == 0)
          return false;
        return servingVisible(causal, i + offset, j,
                              windows[static_cast<size_t>(h)], masks.sink);
      },
      lse, masks.sinkLogits.empty() ? nullptr : &masks.sinkLogits);
}

std::vector<Tensor> mergeAttention(const std::vector<Tensor> &o,
                                   const std::vector<Tensor> &lse) {
  const char *op = "loom.merge_attention";
  if (o.empty() || o.size() != lse.size())
    fail(op, "needs as many outputs as lse tensors, at least one");
  for (size_t n = 0; n < o.size(); ++n) {
    requireRank(op, "o", o[n], 4);
    requireRank(op, "lse", lse[n], 3);
    if (o[n].shape != o[0].shape)
      fail(op, "every o must have the shape of o_0");
    for (int d = 0; d < 3; ++d)
      requireDim(op, "lse", lse[n].shape[d], o[0].shape[d]);
  }
  if (o.size() == 1)
    return {o[0], lse[0]};
  const double inf = std::numeric_limits<double>::infinity();
  Tensor out(o[0].shape), outLse(lse[0].shape);
  int64_t rows = outLse.numel(), dv = o[0].shape[3];
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -inf;
    for (const Tensor &l : lse)
      mx = std::max(mx, l.data[r]);
    if (mx == -inf) {
      outLse.data[r] = -inf; // o stays 0
      continue;
    }
    double sum = 0;
    for (const Tensor &l : lse)
      sum += std::exp(l.data[r] - mx);
    double total = mx + std::log(sum);
    outLse.data[r] = total;
    for (size_t n = 0; n < o.size(); ++n) {
      if (lse[n].data[r] == -inf)
        continue;
      double w = std::exp(lse[n].data[r] - total);
      for (int64_t e = 0; e < dv; ++e)
        out.data[r * dv + e] += w * o[n].data[r * dv + e];
    }
  }
  return {out, outLse};
}

Tensor selectBlocks(const Tensor &q, const Tensor &k, int64_t blockQ,
                    int64_t blockK, int64_t topk, bool causal,
                    std::optional<double> scale,
                    bool diagonalCountsTowardTopk) {
  const char *op = "loom.select_blocks";
  AttentionShape s = checkAttention(op, q, k, nullptr);
  double sc = defaultScale(op, scale, s.D);
  checkBlocks(op, blockQ, blockK);
  if (topk < 0)
    fail(op, "topk must be non-negative");
  int64_t NQB = ceilDiv(s.Sq, blockQ), NKB = ceilDiv(s.Skv, blockK);
  int64_t group = s.Hq / s.Hkv;
  Tensor layout({s.B, s.Hq, NQB, NKB});

  // Mean of rows [lo, hi) of t[b, h] (the rows that exist).
  auto pool = [&](const Tensor &t, int64_t b, int64_t h, int64_t lo,
                  int64_t hi) {
    std::vector<double> mean(static_cast<size_t>(s.D), 0.0);
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t d = 0; d < s.D; ++d)
        mean[static_cast<size_t>(d)] += at4(t, b, h, r, d);
    for (double &m : mean)
      m /= static_cast<double>(hi - lo);
    return mean;
  };

  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.Hq; ++h) {
      int64_t hk = h / group;
      std::vector<std::vector<double>> kb;
      for (int64_t J = 0; J < NKB; ++J)
        kb.push_back(pool(k, b, hk, J * blockK,
                          std::min((J + 1) * blockK, s.Skv)));
      for (int64_t I = 0; I < NQB; ++I) {
        int64_t lastRow = std::min((I + 1) * blockQ, s.Sq) - 1;
        std::vector<double> qb = pool(q, b, h, I * blockQ, lastRow + 1);
        // The last row's i' bounds every key visible to the block.
        int64_t lastVisible = lastRow + (s.Skv - s.Sq);

        std::vector<int64_t> candidates;
        for (int64_t J = 0; J < NKB; ++J)
          if (!causal || J * blockK <= lastVisible)
            candidates.push_back(J);

        int64_t budget = topk;
        int64_t diagonal = -1;
        if (causal && lastVisible >= 0) {
          diagonal = lastVisible / blockK;
          layout.at({b, h, I, diagonal}) = 1;
          if (diagonalCountsTowardTopk)
            budget = std::max<int64_t>(0, topk - 1);
        }

        std::vector<std::pair<double, int64_t>> ranked;
        for (int64_t J : candidates) {
          if (J == diagonal)
            continue;
          double dot = 0;
          for (int64_t d = 0; d < s.D; ++d)
            dot += qb[static_cast<size_t>(d)] * kb[static_cast<size_t>(J)]
                                                  [static_cast<size_t>(d)];
          ranked.push_back({sc * dot, J});
        }
        // Highest score first; equal scores go to the lower J.
        std::sort(ranked.begin(), ranked.end(),
                  [](const auto &a, const auto &c) {
                    if (a.first != c.first)
                      return a.first > c.first;
                    return a.second < c.second;
                  });
        for (size_t n = 0; n < ranked.size() &&
                           static_cast<int64_t>(n) < budget;
             ++n)
          layout.at({b, h, I, ranked[n].second}) = 1;
      }
    }
  return layout;
}

//===----------------------------------------------------------------------===//
// Linear attention and convolution-like mixers
//===----------------------------------------------------------------------===//

static double featureMapValue(FeatureMap map, double x) {
  switch (map) {
  case FeatureMap::Identity:
    return x;
  case FeatureMap::Relu:
    return x > 0 ? x : 0.0;
  case FeatureMap::EluPlusOne:
    return x > 0 ? x + 1.0 : std::exp(x); // elu(x) + 1 = exp(x) for x <= 0
  }
  return x;
}

/// The sizes [B, H, S, Dk] of q and k and Dv of v of a linear attention,
/// checked.
static std::array<int64_t, 5> linearAttentionSizes(const char *op, const Tensor &q,
                                            const Tensor &k, const Tensor &v) {
  requireRank(op, "q", q, 4);
  requireRank(op, "k", k, 4);
  requireRank(op, "v", v, 4);
  if (q.shape != k.shape)
    fail(op, "q and k must have the same shape");
  int64_t B = q.shape[0], H = q.shape[1], S = q.shape[2], Dk = q.shape[3];
  requireDim(op, "v batch", v.shape[0], B);
  requireDim(op, "v heads", v.shape[1], H);
  requireDim(op, "v sequence", v.shape[2], S);
  int64_t Dv = v.shape[3];
  return {B, H, S, Dk, Dv};
}

RecurrentResult linearAttentionRecurrent(const Tensor &q, const Tensor &k,
                                         const Tensor &v,
                                         const RecurrentOptions &opt) {
  const char *op = "loom.linear_attention (recurrent)";
  std::array<int64_t, 5> sizes = linearAttentionSizes(op, q, k, v);
  int64_t B = sizes[0], H = sizes[1], S = sizes[2], Dk = sizes[3],
          Dv = sizes[4];
  bool hasGate = !opt.gate.shape.empty();
  bool perKey = hasGate && opt.gate.rank() == 4;
  if (hasGate) {
    if (opt.gate.rank() != 3 && opt.gate.rank() != 4)
      fail(op, "gate must be [B,H,S] or [B,H,S,Dk]");
    for (int64_t i = 0; i < 3; ++i)
      requireDim(op, "gate dim", opt.gate.shape[static_cast<size_t>(i)],
                 q.shape[static_cast<size_t>(i)]);
    if (perKey)
      requireDim(op, "gate Dk", opt.gate.shape[3], Dk);
    if (!opt.decay.empty())
      fail(op, "gate and decay are exclusive");
  }
  if (!opt.decay.empty())
    requireDim(op, "decay size", static_cast<int64_t>(opt.decay.size()), H);
  bool delta = opt.rule == UpdateRule::Delta;
  if (delta != !opt.beta.shape.empty())
    fail(op, "beta is given exactly with the delta rule");
  if (delta) {
    requireRank(op, "beta", opt.beta, 3);
    for (int64_t i = 0; i < 3; ++i)
      requireDim(op, "beta dim", opt.beta.shape[static_cast<size_t>(i)],
                 q.shape[static_cast<size_t>(i)]);
  }
  bool hasState = !opt.initialState.shape.empty();
  if (hasState && opt.initialState.shape != std::vector<int64_t>{B, H, Dk, Dv})
    fail(op, "initial state must be [B,H,Dk,Dv]");
  if (opt.normalize && (delta || hasState))
    fail(op, "normalize excludes the delta rule and an initial state");

  RecurrentResult r{Tensor({B, H, S, Dv}), Tensor({B, H, Dk, Dv})};
  using Matrix = std::vector<std::vector<double>>;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      Matrix st(static_cast<size_t>(Dk), std::vector<double>(Dv, 0.0));
      if (hasState)
        for (int64_t i = 0; i < Dk; ++i)
          for (int64_t j = 0; j < Dv; ++j)
            st[i][j] = opt.initialState.at({b, h, i, j});
      std::vector<double> z(static_cast<size_t>(Dk), 0.0);
      for (int64_t t = 0; t < S; ++t) {
        std::vector<double> a(static_cast<size_t>(Dk)), kt(Dk), qt(Dk);
        for (int64_t i = 0; i < Dk; ++i) {
          double g = 0.0;
          if (perKey)
            g = opt.gate.at({b, h, t, i});
          else if (hasGate)
            g = opt.gate.at({b, h, t});
          else if (!opt.decay.empty())
            g = -opt.decay[static_cast<size_t>(h)];
          a[i] = std::exp(g);
          kt[i] = featureMapValue(opt.featureMap, at4(k, b, h, t, i));
          qt[i] = featureMapValue(opt.featureMap, at4(q, b, h, t, i));
        }
        // D = Diag(a) S.
        Matrix d = st;
        for (int64_t i = 0; i < Dk; ++i)
          for (int64_t j = 0; j < Dv; ++j)
            d[i][j] = a[i] * st[i][j];
        if (delta) {
          double beta = opt.beta.at({b, h, t});
          // M = I - beta k k^T, S = M D + beta k v^T.
          Matrix m(static_cast<size_t>(Dk), std::vector<double>(Dk, 0.0));
          for (int64_t i = 0; i < Dk; ++i)
            for (int64_t l = 0; l < Dk; ++l)
              m[i][l] = (i == l ? 1.0 : 0.0) - beta * kt[i] * kt[l];
          for (int64_t i = 0; i < Dk; ++i)
            for (int64_t j = 0; j < Dv; ++j) {
              double sum = 0;
              for (int64_t l = 0; l < Dk; ++l)
                sum += m[i][l] * d[l][j];
              st[i][j] = sum + beta * kt[i] * at4(v, b, h, t, j);
            }
        } else {
          for (int64_t i = 0; i < Dk; ++i)
            for (int64_t j = 0; j < Dv; ++j)
              st[i][j] = d[i][j] + kt[i] * at4(v, b, h, t, j);
        }
        double den = 0;
        if (opt.normalize) {
          for (int64_t i = 0; i < Dk; ++i) {
            z[i] = a[i] * z[i] + kt[i];
            den += qt[i] * z[i];
          }
          den = opt.scale * den + 1e-6;
        }
        for (int64_t j = 0; j < Dv; ++j) {
          double o = 0;
          for (int64_t i = 0; i < Dk; ++i)
            o += st[i][j] * qt[i];
          o *= opt.scale;
          if (opt.normalize)
            o /= den;
          r.output.at({b, h, t, j}) = o;
        }
      }
      for (int64_t i = 0; i < Dk; ++i)
        for (int64_t j = 0; j < Dv; ++j)
          r.finalState.at({b, h, i, j}) = st[i][j];
    }
  return r;
}

Tensor linearAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       bool causal, FeatureMap featureMap,
                       const std::vector<double> &decay, double scale,
                       bool normalize) {
  const char *op = "loom.linear_attention";
  std::array<int64_t, 5> sizes = linearAttentionSizes(op, q, k, v);
  int64_t B = sizes[0], H = sizes[1], S = sizes[2], Dk = sizes[3],
          Dv = sizes[4];
  if (!decay.empty()) {
    if (!causal)
      fail(op, "decay requires causal");
    requireDim(op, "decay size", static_cast<int64_t>(decay.size()), H);
    for (double d : decay)
      if (!(d >= 0))
        fail(op, "decay values must be non-negative");
  }

  Tensor o({B, H, S, Dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      double lambda = decay.empty() ? 0.0 : decay[static_cast<size_t>(h)];
      for (int64_t i = 0; i < S; ++i) {
        std::vector<double> acc(static_cast<size_t>(Dv), 0.0);
        double wsum = 0;
        int64_t jEnd = causal ? i + 1 : S;
        for (int64_t j = 0; j < jEnd; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < Dk; ++d)
            dot += featureMapValue(featureMap, at4(q, b, h, i, d)) *
                   featureMapValue(featureMap, at4(k, b, h, j, d));
          double w = scale * dot *
                     std::exp(-lambda * static_cast<double>(i - j));
          wsum += w;
          for (int64_t e = 0; e < Dv; ++e)
            acc[static_cast<size_t>(e)] += w * at4(v, b, h, j, e);
        }
        for (int64_t e = 0; e < Dv; ++e) {
          double value = acc[static_cast<size_t>(e)];
          if (normalize)
            value /= wsum + 1e-6;
          o.data[static_cast<size_t>(((b * H + h) * S + i) * Dv + e)] = value;
        }
      }
    }
  return o;
}

Tensor poolMixer(const Tensor &x, int64_t kernel) {
  const char *op = "loom.pool_mixer";
  if (kernel <= 0 || kernel % 2 == 0)
    fail(op, "kernel must be odd and positive");
  int64_t r = (kernel - 1) / 2;
  // A rank-3 [B,S,C] input is a rank-4 one with H = 1 pooled along W only.
  bool rank3 = x.rank() == 3;
  if (!rank3 && x.rank() != 4)
    fail(op, "x must have rank 3 or 4, got shape " + shapeString(x.shape));
  int64_t B = x.shape[0], H = rank3 ? 1 : x.shape[1];
  int64_t W = x.shape[rank3 ? 1 : 2], C = x.shape[rank3 ? 2 : 3];
  int64_t rh = rank3 ? 0 : r;
  Tensor y(x.shape);
  auto idx = [&](int64_t b, int64_t h, int64_t w, int64_t c) {
    return static_cast<size_t>(((b * H + h) * W + w) * C + c);
  };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) {
          double sum = 0;
          int64_t count = 0;
          for (int64_t dh = -rh; dh <= rh; ++dh)
            for (int64_t dw = -r; dw <= r; ++dw) {
              int64_t hh = h + dh, ww = w + dw;
              if (hh < 0 || hh >= H || ww < 0 || ww >= W)
                continue;
              sum += x.data[idx(b, hh, ww, c)];
              ++count;
            }
          y.data[idx(b, h, w, c)] =
              sum / static_cast<double>(count) - x.data[idx(b, h, w, c)];
        }
  return y;
}

Tensor dwconv(const Tensor &x, const Tensor &w, bool causal) {
  const char *op = "loom.dwconv";
  if (x.rank() == 3) {
    requireRank(op, "w", w, 2);
    int64_t B = x.shape[0], S = x.shape[1], C = x.shape[2], K = w.shape[0];
    requireDim(op, "w channels", w.shape[1], C);
    if (K <= 0)
      fail(op, "K must be positive");
    if (!causal && K % 2 == 0)
      fail(op, "a non-causal kernel must have odd K");
    // Input position s + t - start for tap t.
    int64_t start = causal ? K - 1 : (K - 1) / 2;
    Tensor y(x.shape);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t c = 0; c < C; ++c) {
          double acc = 0;
          for (int64_t t = 0; t < K; ++t) {
            int64_t p = s + t - start;
            if (p < 0 || p >= S)
              continue;
            acc += w.data[static_cast<size_t>(t * C + c)] *
                   x.data[static_cast<size_t>((b * S + p) * C + c)];
          }
          y.data[static_cast<size_t>((b * S + s) * C + c)] = acc;
        }
    return y;
  }
  if (x.rank() != 4)
    fail(op, "x must have rank 3 or 4, got shape " + shapeString(x.shape));
  if (causal)
    fail(op, "causal is defined for 1-D convolutions only");
  requireRank(op, "w", w, 3);
  int64_t B = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  int64_t Kh = w.shape[0], Kw = w.shape[1];
  requireDim(op, "w channels", w.shape[2], C);
  if (Kh <= 0 || Kw <= 0 || Kh % 2 == 0 || Kw % 2 == 0)
    fail(op, "Kh and Kw must be odd and positive");
  Tensor y(x.shape);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t ww = 0; ww < W; ++ww)
        for (int64_t c = 0; c < C; ++c) {
          double acc = 0;
          for (int64_t th = 0; th < Kh; ++th)
            for (int64_t tw = 0; tw < Kw; ++tw) {
              int64_t ph = h + th - (Kh - 1) / 2, pw = ww + tw - (Kw - 1) / 2;
              if (ph < 0 || ph >= H || pw < 0 || pw >= W)
                continue;
              acc += w.data[static_cast<size_t>((th * Kw + tw) * C + c)] *
                     x.data[static_cast<size_t>(((b * H + ph) * W + pw) * C +
                                                c)];
            }
          y.data[static_cast<size_t>(((b * H + h) * W + ww) * C + c)] = acc;
        }
  return y;
}

//===----------------------------------------------------------------------===//
// Linear layers and quantization
//===----------------------------------------------------------------------===//

// Rows of x: every leading dimension is batch.
static int64_t rowsOf(const char *op, const Tensor &x) {
  if (x.rank() < 1)
    fail(op, "x must have rank >= 1");
  return product(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
}

static std::vector<int64_t> withLast(const std::vector<int64_t> &shape,
                                     int64_t last) {
  std::vector<int64_t> out = shape;
  out.back() = last;
  return out;
}

static void checkBias(const char *op, const Tensor *bias, int64_t N) {
  if (!bias)
    return;
  requireRank(op, "bias", *bias, 1);
  requireDim(op, "bias size", bias->shape[0], N);
}

Tensor linear(const Tensor &x, const Tensor &w, const Tensor *bias) {
  const char *op = "loom.linear";
  int64_t M = rowsOf(op, x), K = x.dim(-1);
  requireRank(op, "w", w, 2);
  int64_t N = w.shape[0];
  requireDim(op, "w in-features", w.shape[1], K);
  checkBias(op, bias, N);
  Tensor y(withLast(x.shape, N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t kk = 0; kk < K; ++kk)
        acc += x.data[static_cast<size_t>(m * K + kk)] *
               w.data[static_cast<size_t>(n * K + kk)];
      if (bias)
        acc += bias->data[static_cast<size_t>(n)];
      y.data[static_cast<size_t>(m * N + n)] = acc;
    }
  return y;
}

Tensor qlinear(const Tensor &x, const Tensor &w, const Tensor &wScale,
               const Tensor *bias, int64_t groupSize) {
  const char *op = "loom.qlinear";
  int64_t M = rowsOf(op, x), K = x.dim(-1);
  requireRank(op, "w", w, 2);
  int64_t N = w.shape[0];
  requireDim(op, "w in-features", w.shape[1], K);
  for (double v : w.data)
    if (v != std::floor(v))
      fail(op, "w must hold integer values");
  if (groupSize < 0)
    fail(op, "group_size must be non-negative");
  if (groupSize == 0) {
    requireRank(op, "w_scale", wScale, 1);
    requireDim(op, "w_scale size", wScale.shape[0], N);
  } else {
    if (K % groupSize != 0)
      fail(op, "K must be a multiple of group_size");
    requireRank(op, "w_scale", wScale, 2);
    requireDim(op, "w_scale rows", wScale.shape[0], N);
    requireDim(op, "w_scale groups", wScale.shape[1], K / groupSize);
  }
  checkBias(op, bias, N);
  int64_t G = groupSize == 0 ? 1 : K / groupSize;
  Tensor y(withLast(x.shape, N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t kk = 0; kk < K; ++kk) {
        int64_t g = groupSize == 0 ? 0 : kk / groupSize;
        acc += x.data[static_cast<size_t>(m * K + kk)] *
               w.data[static_cast<size_t>(n * K + kk)] *
               wScale.data[static_cast<size_t>(n * G + g)];
      }
      if (bias)
        acc += bias->data[static_cast<size_t>(n)];
      y.data[static_cast<size_t>(m * N + n)] = acc;
    }
  return y;
}

double roundHalfEven(double x) {
  if (!std::isfinite(x))
    return x;
  // On the magnitude a - floor(a) is exact (Sterbenz), so a tie is a tie.
  double a = std::fabs(x);
  double f = std::floor(a);
  double diff = a - f;
  double r = diff > 0.5 || (diff == 0.5 && std::fmod(f, 2.0) != 0) ? f + 1 : f;
  return std::copysign(r, x);
}

// All non-negative finite e4m3fn values in code order (0x00 .. 0x7e), which
// is also increasing order: exponent field E, mantissa M, bias 7.
static const std::vector<double> &f8Values() {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (int code = 0; code < 0x7f; ++code) {
      int E = code >> 3, M = code & 7;
      v.push_back(E == 0 ? std::ldexp(M, -9) : std::ldexp(8 + M, E - 10));
    }
    return v;
  }();
  return values;
}

double roundToF8E4M3FN(double x) {
  if (std::isnan(x))
    return x;
  const std::vector<double> &values = f8Values();
  double a = std::fabs(x);
  double r;
  if (a >= values.back()) {
    r = values.back();
  } else {
    size_t hi = 1;
    while (values[hi] <= a)
      ++hi;
    size_t lo = hi - 1;
    double dlo = a - values[lo], dhi = values[hi] - a;
    if (dlo < dhi)
      r = values[lo];
    else if (dhi < dlo)
      r = values[hi];
    else
      r = values[lo % 2 == 0 ? lo : hi]; // tie: the even code
  }
  return std::signbit(x) ? -r : r;
}

Quantized quantize(const Tensor &x, QuantKind kind) {
  const char *op = "loom.quantize";
  int64_t M = rowsOf(op, x), K = x.dim(-1);
  double Q = kind == QuantKind::I8 ? 127.0 : 448.0;
  Quantized out;
  out.xq = Tensor(x.shape);
  out.xs = Tensor(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
  for (int64_t m = 0; m < M; ++m) {
    double amax = 0;
    for (int64_t kk = 0; kk < K; ++kk)
      amax = std::max(amax, std::fabs(x.data[static_cast<size_t>(m * K + kk)]));
    double s = amax / Q;
    out.xs.data[static_cast<size_t>(m)] = s;
    if (s == 0)
      continue; // all-zero row: s = 0 and xq = 0
    for (int64_t kk = 0; kk < K; ++kk) {
      double t = x.data[static_cast<size_t>(m * K + kk)] / s;
      double q = kind == QuantKind::I8
                     ? std::min(127.0, std::max(-127.0, roundHalfEven(t)))
                     : roundToF8E4M3FN(t);
      out.xq.data[static_cast<size_t>(m * K + kk)] = q;
    }
  }
  return out;
}

Tensor qmatmul(const Tensor &xq, const Tensor &xs, const Tensor &w,
               const Tensor &wScale, const Tensor *bias) {
  const char *op = "loom.qmatmul";
  int64_t M = rowsOf(op, xq), K = xq.dim(-1);
  if (xs.shape != std::vector<int64_t>(xq.shape.begin(), xq.shape.end() - 1))
    fail(op, "xs must have the leading shape of xq");
  requireRank(op, "w", w, 2);
  int64_t N = w.shape[0];
  requireDim(op, "w in-features", w.shape[1], K);
  requireRank(op, "w_scale", wScale, 1);
  requireDim(op, "w_scale size", wScale.shape[0], N);
  checkBias(op, bias, N);
  Tensor y(withLast(xq.shape, N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t kk = 0; kk < K; ++kk)
        acc += xq.data[static_cast<size_t>(m * K + kk)] *
               w.data[static_cast<size_t>(n * K + kk)];
      double value = acc * xs.data[static_cast<size_t>(m)] *
                     wScale.data[static_cast<size_t>(n)];
      if (bias)
        value += bias->data[static_cast<size_t>(n)];
      y.data[static_cast<size_t>(m * N + n)] = value;
    }
  return y;
}

//===----------------------------------------------------------------------===//
// Block pieces
//===----------------------------------------------------------------------===//

Tensor rmsNorm(const Tensor &x, const Tensor &g, double epsilon) {
  const char *op = "loom.rms_norm";
  int64_t M = rowsOf(op, x), C = x.dim(-1);
  requireRank(op, "g", g, 1);
  requireDim(op, "g size", g.shape[0], C);
  Tensor y(x.shape);
  for (int64_t m = 0; m < M; ++m) {
    double sq = 0;
    for (int64_t c = 0; c < C; ++c) {
      double v = x.data[static_cast<size_t>(m * C + c)];
      sq += v * v;
    }
    double inv = 1.0 / std::sqrt(sq / static_cast<double>(C) + epsilon);
    for (int64_t c = 0; c < C; ++c)
      y.data[static_cast<size_t>(m * C + c)] =
          x.data[static_cast<size_t>(m * C + c)] * inv *
          g.data[static_cast<size_t>(c)];
  }
  return y;
}

Tensor layerNorm(const Tensor &x, const Tensor &g, const Tensor &b,
                 double epsilon) {
  const char *op = "loom.layer_norm";
  int64_t M = rowsOf(op, x), C = x.dim(-1);
  requireRank(op, "g", g, 1);
  requireDim(op, "g size", g.shape[0], C);
  requireRank(op, "b", b, 1);
  requireDim(op, "b size", b.shape[0], C);
  Tensor y(x.shape);
  for (int64_t m = 0; m < M; ++m) {
    double mean = 0;
    for (int64_t c = 0; c < C; ++c)
      mean += x.data[static_cast<size_t>(m * C + c)];
    mean /= static_cast<double>(C);
    double var = 0;
    for (int64_t c = 0; c < C; ++c) {
      double d = x.data[static_cast<size_t>(m * C + c)] - mean;
      var += d * d;
    }
    var /= static_cast<double>(C); // biased
    double inv = 1.0 / std::sqrt(var + epsilon);
    for (int64_t c = 0; c < C; ++c)
      y.data[static_cast<size_t>(m * C + c)] =
          (x.data[static_cast<size_t>(m * C + c)] - mean) * inv *
              g.data[static_cast<size_t>(c)] +
          b.data[static_cast<size_t>(c)];
  }
  return y;
}

Tensor rope(const Tensor &x, const Tensor &cos, const Tensor &sin,
            RopeStyle style) {
  const char *op = "loom.rope";
  requireRank(op, "x", x, 4);
  int64_t B = x.shape[0], H = x.shape[1], S = x.shape[2], D = x.shape[3];
  if (D % 2 != 0)
    fail(op, "D must be even");
  int64_t half = D / 2;
  requireRank(op, "cos", cos, 2);
  requireRank(op, "sin", sin, 2);
  if (cos.shape != std::vector<int64_t>{S, half} || sin.shape != cos.shape)
    fail(op, "cos and sin must be [S, D/2]");
  Tensor y(x.shape);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t s = 0; s < S; ++s) {
        size_t base = static_cast<size_t>(((b * H + h) * S + s) * D);
        for (int64_t i = 0; i < half; ++i) {
          double c = cos.data[static_cast<size_t>(s * half + i)];
          double sn = sin.data[static_cast<size_t>(s * half + i)];
          // The pair rotated by (c, sn): (i, i + D/2) or (2i, 2i + 1).
          size_t first = base + static_cast<size_t>(
                                    style == RopeStyle::Half ? i : 2 * i);
          size_t second = base + static_cast<size_t>(
                                     style == RopeStyle::Half ? i + half
                                                              : 2 * i + 1);
          double x1 = x.data[first], x2 = x.data[second];
          y.data[first] = x1 * c - x2 * sn;
          y.data[second] = x2 * c + x1 * sn;
        }
      }
  return y;
}

Tensor ropeAtPositions(const Tensor &x, const Tensor &cos, const Tensor &sin,
                       const Tensor &positions, RopeStyle style) {
  const char *op = "loom.rope (positions)";
  requireRank(op, "x", x, 3);
  requireRank(op, "cos", cos, 2);
  requireRank(op, "sin", sin, 2);
  requireRank(op, "positions", positions, 1);
  int64_t T = x.shape[0], H = x.shape[1], D = x.shape[2];
  if (D % 2 != 0)
    fail(op, "D must be even");
  int64_t half = D / 2, N = cos.shape[0];
  if (cos.shape[1] != half || sin.shape != cos.shape)
    fail(op, "cos and sin must be [N, D/2]");
  if (positions.shape[0] != T)
    fail(op, "positions must be [T]");
  Tensor y(x.shape);
  for (int64_t t = 0; t < T; ++t) {
    double pos = positions.data[static_cast<size_t>(t)];
    if (pos < 0 || pos >= static_cast<double>(N) || pos != std::floor(pos))
      fail(op, "position " + std::to_string(pos) + " of token " +
                   std::to_string(t) + " is not a row of the tables");
    int64_t row = static_cast<int64_t>(pos);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < half; ++i) {
        double c = cos.data[static_cast<size_t>(row * half + i)];
        double sn = sin.data[static_cast<size_t>(row * half + i)];
        int64_t a = style == RopeStyle::Half ? i : 2 * i;
        int64_t b = style == RopeStyle::Half ? i + half : 2 * i + 1;
        size_t first = static_cast<size_t>((t * H + h) * D + a);
        size_t second = static_cast<size_t>((t * H + h) * D + b);
        double x1 = x.data[first], x2 = x.data[second];
        y.data[first] = x1 * c - x2 * sn;
        y.data[second] = x2 * c + x1 * sn;
      }
  }
  return y;
}

Tensor pagedAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                      const Tensor &qOffsets, const Tensor &kvLens,
                      const Tensor &blockTable, const PagedOptions &options,
                      Tensor *lse) {
  const char *op = "loom.paged_attention";
  requireRank(op, "q", q, 3);
  requireRank(op, "k", k, 4);
  requireRank(op, "v", v, 4);
  requireRank(op, "q_offsets", qOffsets, 1);
  requireRank(op, "kv_lens", kvLens, 1);
  requireRank(op, "block_table", blockTable, 2);
  int64_t T = q.shape[0], Hq = q.shape[1], D = q.shape[2];
  int64_t P = k.shape[0], page = k.shape[1], Hkv = k.shape[2];
  int64_t Dv = v.shape[3];
  int64_t B = kvLens.shape[0], maxPages = blockTable.shape[1];
  if (k.shape[3] != D || v.shape[0] != P || v.shape[1] != page ||
      v.shape[2] != Hkv || qOffsets.shape[0] != B + 1 ||
      blockTable.shape[0] != B || page <= 0 || Hkv <= 0 || Hq % Hkv != 0)
    fail(op, "shapes do not agree");
  if ((options.window || !options.headWindows.empty()) && !options.causal)
    fail(op, "a window requires causal");
  if (!options.headWindows.empty() &&
      static_cast<int64_t>(options.headWindows.size()) != Hq)
    fail(op, "headWindows must have Hq values");
  if (!options.sinkLogits.empty() &&
      static_cast<int64_t>(options.sinkLogits.size()) != Hq)
    fail(op, "sinkLogits must have Hq values");
  int64_t G = Hq / Hkv;
  double scale =
      options.scale ? *options.scale : 1.0 / std::sqrt(static_cast<double>(D));
  auto idx = [](const Tensor &t, int64_t i) {
    return static_cast<int64_t>(t.data[static_cast<size_t>(i)]);
  };
  if (idx(qOffsets, 0) != 0 || idx(qOffsets, B) > T)
    fail(op, "q_offsets must start at 0 and end at most at T");
  Tensor o({T, Hq, Dv});
  if (lse) {
    *lse = Tensor({T, Hq});
    std::fill(lse->data.begin(), lse->data.end(),
              -std::numeric_limits<double>::infinity());
  }
  for (int64_t b = 0; b < B; ++b) {
    int64_t start = idx(qOffsets, b), end = idx(qOffsets, b + 1);
    int64_t nq = end - start, nkv = idx(kvLens, b);
    if (nq < 0 || nkv < 0 || nkv > maxPages * page)
      fail(op, "sequence " + std::to_string(b) + " breaks the requirements");
    // The sequence's keys and values, gathered through the block table.
    std::vector<int64_t> pageOf(static_cast<size_t>(nkv));
    for (int64_t j = 0; j < nkv; ++j) {
      int64_t p = idx(blockTable, b * maxPages + j / page);
      if (p < 0 || p >= P)
        fail(op, "page index out of range");
      pageOf[static_cast<size_t>(j)] = p;
    }
    auto kAt = [&](int64_t j, int64_t h, int64_t d) {
      return k.data[static_cast<size_t>(
          ((pageOf[static_cast<size_t>(j)] * page + j % page) * Hkv + h) * D +
          d)];
    };
    auto vAt = [&](int64_t j, int64_t h, int64_t e) {
      return v.data[static_cast<size_t>(
          ((pageOf[static_cast<size_t>(j)] * page + j % page) * Hkv + h) * Dv +
          e)];
    };
    for (int64_t r = 0; r < nq; ++r) {
      int64_t t = start + r;
      int64_t aligned = r + nkv - nq;
      for (int64_t h = 0; h < Hq; ++h) {
        int64_t w = options.headWindows.empty()
                        ? (options.window ? *options.window : 0)
                        : options.headWindows[static_cast<size_t>(h)];
        std::vector<double> s(static_cast<size_t>(nkv));
        std::vector<bool> visible(static_cast<size_t>(nkv), false);
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < nkv; ++j) {
          bool vis = true;
          if (options.causal) {
            vis = j <= aligned;
            if (w > 0)
              vis = vis && (aligned - j < w || j < options.sink);
          }
          if (!vis)
            continue;
          double dot = 0.0;
          for (int64_t d = 0; d < D; ++d)
            dot += q.data[static_cast<size_t>((t * Hq + h) * D + d)] *
                   kAt(j, h / G, d);
          double x = scale * dot;
          if (options.softcap)
            x = *options.softcap * std::tanh(x / *options.softcap);
          s[static_cast<size_t>(j)] = x;
          visible[static_cast<size_t>(j)] = true;
          m = std::max(m, x);
        }
        if (m == -std::numeric_limits<double>::infinity()) {
          // No visible key: zeros (a sink logit adds no value); the lse is
          // the sink logit's, or -inf.
          if (lse && !options.sinkLogits.empty())
            lse->data[static_cast<size_t>(t * Hq + h)] =
                options.sinkLogits[static_cast<size_t>(h)];
          continue;
        }
        double l = 0.0;
        if (!options.sinkLogits.empty()) {
          // The virtual key: in the denominator only. Taken relative to
          // the max of both so that no exp overflows.
          double sink = options.sinkLogits[static_cast<size_t>(h)];
          double m2 = std::max(m, sink);
          l = std::exp(sink - m2) / std::exp(m - m2);
        }
        std::vector<double> acc(static_cast<size_t>(Dv), 0.0);
        for (int64_t j = 0; j < nkv; ++j) {
          if (!visible[static_cast<size_t>(j)])
            continue;
          double p = std::exp(s[static_cast<size_t>(j)] - m);
          l += p;
          for (int64_t e = 0; e < Dv; ++e)
            acc[static_cast<size_t>(e)] += p * vAt(j, h / G, e);
        }
        for (int64_t e = 0; e < Dv; ++e)
          o.data[static_cast<size_t>((t * Hq + h) * Dv + e)] =
              acc[static_cast<size_t>(e)] / l;
        if (lse)
          lse->data[static_cast<size_t>(t * Hq + h)] = m + std::log(l);
      }
    }
  }
  return o;
}

Tensor kvCacheWrite(const Tensor &cache, const Tensor &rows,
                    const Tensor &slots) {
  const char *op = "loom.kv_cache_write";
  requireRank(op, "cache", cache, 4);
  requireRank(op, "rows", rows, 3);
  requireRank(op, "slots", slots, 1);
  int64_t P = cache.shape[0], page = cache.shape[1], Hkv = cache.shape[2],
          D = cache.shape[3], T = rows.shape[0];
  if (rows.shape[1] != Hkv || rows.shape[2] != D || slots.shape[0] != T)
    fail(op, "shapes do not agree");
  Tensor out = cache;
  std::vector<bool> written(static_cast<size_t>(P * page), false);
  for (int64_t t = 0; t < T; ++t) {
    int64_t slot = static_cast<int64_t>(slots.data[static_cast<size_t>(t)]);
    if (slot < 0)
      continue;
    if (slot >= P * page)
      fail(op, "slot past the cache");
    if (written[static_cast<size_t>(slot)])
      fail(op, "slot written twice");
    written[static_cast<size_t>(slot)] = true;
    int64_t p = slot / page, off = slot % page;
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t d = 0; d < D; ++d)
        out.data[static_cast<size_t>(((p * page + off) * Hkv + h) * D + d)] =
            rows.data[static_cast<size_t>((t * Hkv + h) * D + d)];
  }
  return out;
}

Tensor gelu(const Tensor &x, GeluApproximation approximate) {
  Tensor y(x.shape);
  for (size_t i = 0; i < x.data.size(); ++i) {
    double v = x.data[i];
    if (approximate == GeluApproximation::None)
      y.data[i] = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    else
      y.data[i] = 0.5 * v *
                  (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) *
                                   (v + 0.044715 * v * v * v)));
  }
  return y;
}

Tensor silu(const Tensor &x) {
  Tensor y(x.shape);
  for (size_t i = 0; i < x.data.size(); ++i)
    y.data[i] = x.data[i] / (1.0 + std::exp(-x.data[i]));
  return y;
}

} // namespace ref
} // namespace loom
