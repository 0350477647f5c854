// Double-precision reference implementations of every loom op, written straight from DIALECT.md.
//
// These are the oracle for the numerics tests, so they are deliberately plain:
// direct loops over the formulas, double accumulation, no tiling, no online
// softmax, nothing shared with any lowering. Shapes follow DIALECT.md; a shape
// or attribute that breaks the contract throws std::invalid_argument naming
// the op and the problem (a bug in the calling test, not a numeric result).
#ifndef LOOM_UNITTESTS_REFERENCE_REFERENCE_H
#define LOOM_UNITTESTS_REFERENCE_REFERENCE_H

#include <cstdint>
#include <optional>
#include <vector>

namespace loom {
namespace ref {

/// A dense row-major tensor of doubles. Integer and i1 tensors hold their
/// values as doubles (i1 as 0 or 1).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Tensor() = default;
  /// Zeros of `shape`.
  explicit Tensor(std::vector<int64_t> shape);
  /// `data.size()` must equal the product of `shape`.
  Tensor(std::vector<int64_t> shape, std::vector<double> data);

  int64_t numel() const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Dimension `i`; negative counts from the back.
  int64_t dim(int64_t i) const;
  /// Element at a full multi-index.
  double &at(const std::vector<int64_t> &index);
  double at(const std::vector<int64_t> &index) const;
};

//===----------------------------------------------------------------------===//
// Token mixers
//===----------------------------------------------------------------------===//

/// loom.attention. q [B,Hq,Sq,D], k [B,Hkv,Skv,D], v [B,Hkv,Skv,Dv] ->
/// [B,Hq,Sq,Dv]. `scale` defaults to 1/sqrt(D); `window` requires `causal`.
Tensor attention(const Tensor &q, const Tensor &k, const Tensor &v,
                 bool causal = false,
                 std::optional<double> scale = std::nullopt,
                 std::optional<int64_t> window = std::nullopt,
                 std::optional<double> softcap = std::nullopt);

/// loom.block_sparse_attention. `layout` is [Lb,Lh,NQB,NKB] of 0/1 with Lb in
/// {1,B} and Lh in {1,Hq} (size 1 broadcasts); nonzero means true.
Tensor blockSparseAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                            const Tensor &layout, int64_t blockQ,
                            int64_t blockK, bool causal = false,
                            std::optional<double> scale = std::nullopt,
                            std::optional<double> softcap = std::nullopt);

/// The optional second result of loom.attention and
/// loom.block_sparse_attention (same arguments as above): [B,Hq,Sq], the
/// natural log of the sum of exp over each row's visible scores (after scale,
/// softcap and masks), -inf for a row with no visible key.
Tensor attentionLse(const Tensor &q, const Tensor &k, const Tensor &v,
                    bool causal = false,
                    std::optional<double> scale = std::nullopt,
                    std::optional<int64_t> window = std::nullopt,
                    std::optional<double> softcap = std::nullopt);
Tensor blockSparseAttentionLse(const Tensor &q, const Tensor &k,
                               const Tensor &v, const Tensor &layout,
                               int64_t blockQ, int64_t blockK,
                               bool causal = false,
                               std::optional<double> scale = std::nullopt,
                               std::optional<double> softcap = std::nullopt);

/// The serving masks of loom.attention and loom.block_sparse_attention
/// (issue 16), on top of `causal`, `scale`, `softcap` and the scalar
/// `window`:
/// - `headWindows`: `window = array<i64: W_0, ...>`, one W_h >= 0 per query
///   head (0: no window for that head); replaces the scalar window; requires
///   `causal`;
/// - `sink = N`: keys j < N are exempt from the window (not from `causal` or
///   the layout); without a window it changes nothing;
/// - `sinkLogits`: empty, or one logit per query head, a virtual key of score
///   sink_h (no scale, no softcap) and value 0 in every row's softmax:
///   o_i = sum_j exp(s_ij) v_j / (sum_j exp(s_ij) + exp(sink_h)), 0 for a row
///   without a visible key; lse_i = log(sum_j exp(s_ij) + exp(sink_h)).
struct ServingMasks {
  std::vector<int64_t> headWindows;
  int64_t sink = 0;
  std::vector<double> sinkLogits;
};

/// loom.attention with the serving masks; `lse`, if given, receives the
/// op's second result [B,Hq,Sq].
Tensor servingAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                        bool causal, std::optional<double> scale,
                        std::optional<int64_t> window,
                        std::optional<double> softcap,
                        const ServingMasks &masks, Tensor *lse = nullptr);

/// loom.block_sparse_attention with `window` and the serving masks.
Tensor servingBlockSparseAttention(const Tensor &q, const Tensor &k,
                                   const Tensor &v, const Tensor &layout,
                                   int64_t blockQ, int64_t blockK, bool causal,
                                   std::optional<double> scale,
                                   std::optional<double> softcap,
                                   std::optional<int64_t> window,
                                   const ServingMasks &masks,
                                   Tensor *lse = nullptr);

/// The options of loom.paged_attention: those of loom.attention (the
/// scalar `window`, or `headWindows` with one W_h >= 0 per query head, 0 for
/// no window), `sink`, and `sinkLogits` (empty, or one logit per query
/// head: a virtual key of score sink_h and value 0 in every row's softmax).
struct PagedOptions {
  bool causal = false;
  std::optional<double> scale;
  std::optional<int64_t> window;
  std::vector<int64_t> headWindows;
  int64_t sink = 0;
  std::optional<double> softcap;
  std::vector<double> sinkLogits;
};

/// loom.paged_attention: q [T,Hq,D], k [P,page,Hkv,D], v [P,page,Hkv,Dv],
/// qOffsets [B+1], kvLens [B], blockTable [B,maxPages] (indices held as
/// doubles) -> [T,Hq,Dv]. Per sequence b, rows qOffsets[b]..qOffsets[b+1]-1
/// attend to the kvLens[b] keys gathered through the block table, causal
/// bottom-right per sequence; rows of no sequence are 0. Indices that break
/// the op's requirements throw (the reference defines valid inputs only).
/// With `lse`, also each row's log-sum-exp [T,Hq] (-inf for a row with no
/// visible key, or its head's sink logit; -inf for rows of no sequence).
Tensor pagedAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                      const Tensor &qOffsets, const Tensor &kvLens,
                      const Tensor &blockTable, const PagedOptions &options,
                      Tensor *lse = nullptr);

/// loom.kv_cache_write: cache [P,page,Hkv,D], rows [T,Hkv,D], slots [T];
/// the cache with rows[t] at page slots[t] / page, offset slots[t] % page,
/// for every slots[t] >= 0 (negative: skipped). A slot past the cache or a
/// slot given twice throws.
Tensor kvCacheWrite(const Tensor &cache, const Tensor &rows,
                    const Tensor &slots);

/// loom.merge_attention of the pairs (o[i] [B,Hq,Sq,Dv], lse[i] [B,Hq,Sq]):
/// {o, lse} with lse = log(sum_i exp(lse_i)) and
/// o = sum_i exp(lse_i - lse) * o_i; rows whose lse_i are all -inf give
/// lse = -inf and o = 0; one pair is returned as it is.
std::vector<Tensor> mergeAttention(const std::vector<Tensor> &o,
                                   const std::vector<Tensor> &lse);

/// loom.select_blocks: a [B,Hq,NQB,NKB] tensor of 0/1. Query head h pools
/// keys of kv head h / (Hq / Hkv), as loom.attention reads them.
///
/// Loom reads DIALECT.md's "the remaining topk selections are the highest-
/// scoring other candidates" as: with `causal`, the diagonal block comes on
/// top of `topk` others (a row selects at most topk + 1 blocks). That is the
/// default here and what the compiler implements (and what its canonicalizer
/// assumes); `diagonalCountsTowardTopk = true` gives the other reading.
Tensor selectBlocks(const Tensor &q, const Tensor &k, int64_t blockQ,
                    int64_t blockK, int64_t topk, bool causal = false,
                    std::optional<double> scale = std::nullopt,
                    bool diagonalCountsTowardTopk = false);

enum class FeatureMap { Identity, Relu, EluPlusOne };

/// loom.linear_attention. q, k [B,H,S,Dk], v [B,H,S,Dv]. `decay` is empty
/// (all 0) or one non-negative value per head, and needs `causal`.
Tensor linearAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                       bool causal = false,
                       FeatureMap featureMap = FeatureMap::Identity,
                       const std::vector<double> &decay = {},
                       double scale = 1.0, bool normalize = false);

enum class UpdateRule { Additive, Delta };

/// The recurrent form of loom.linear_attention (always causal).
struct RecurrentOptions {
  /// Log-gate: none (empty shape), [B,H,S] (per head) or [B,H,S,Dk].
  Tensor gate;
  /// Delta rule only: [B,H,S].
  Tensor beta;
  /// S_{-1}: none (zeros) or [B,H,Dk,Dv].
  Tensor initialState;
  UpdateRule rule = UpdateRule::Additive;
  FeatureMap featureMap = FeatureMap::Identity;
  /// The constant gate -decay[h]: empty or one value per head.
  std::vector<double> decay;
  double scale = 1.0;
  bool normalize = false;
};

struct RecurrentResult {
  Tensor output;     // [B,H,S,Dv]
  Tensor finalState; // [B,H,Dk,Dv]
};

/// loom.linear_attention with a gate, beta or state, as the recurrence of
/// its definition, token by token: a_t = exp(g_t) (g_t a vector of Dk),
/// additive S_t = Diag(a_t) S_{t-1} + k_t v_t^T, delta
/// S_t = (I - beta_t k_t k_t^T) Diag(a_t) S_{t-1} + beta_t k_t v_t^T (the
/// matrix I - beta k k^T formed explicitly), o_t = scale S_t^T q_t, with
/// q, k after the feature map; normalize divides by
/// scale q_t . z_t + 1e-6, z_t = Diag(a_t) z_{t-1} + k_t.
RecurrentResult linearAttentionRecurrent(const Tensor &q, const Tensor &k,
                                         const Tensor &v,
                                         const RecurrentOptions &options);

/// loom.pool_mixer on [B,S,C] (window `kernel`) or [B,H,W,C] (kernel x kernel).
Tensor poolMixer(const Tensor &x, int64_t kernel = 3);

/// loom.dwconv: x [B,S,C] with w [K,C], or x [B,H,W,C] with w [Kh,Kw,C]
/// (`causal` is 1-D only).
Tensor dwconv(const Tensor &x, const Tensor &w, bool causal = false);

//===----------------------------------------------------------------------===//
// Linear layers and quantization
//===----------------------------------------------------------------------===//

/// loom.linear: x [...,K], w [N,K], optional bias [N] -> [...,N].
Tensor linear(const Tensor &x, const Tensor &w, const Tensor *bias = nullptr);

/// loom.qlinear: x [...,K], w [N,K] holding integer values, wScale [N]
/// (groupSize 0) or [N, K/groupSize], optional bias [N] -> [...,N].
Tensor qlinear(const Tensor &x, const Tensor &w, const Tensor &wScale,
               const Tensor *bias = nullptr, int64_t groupSize = 0);

enum class QuantKind { I8, F8E4M3FN };

struct Quantized {
  Tensor xq; // [...,K]: integers, or values exactly representable in e4m3fn
  Tensor xs; // [...]: one scale per row
};

/// loom.quantize, per row of the last dimension.
Quantized quantize(const Tensor &x, QuantKind kind);

/// loom.qmatmul: xq [...,K], xs [...], w [N,K], wScale [N], optional bias [N].
Tensor qmatmul(const Tensor &xq, const Tensor &xs, const Tensor &w,
               const Tensor &wScale, const Tensor *bias = nullptr);

/// Rounds to the nearest integer, ties to even, whatever the FP rounding mode.
double roundHalfEven(double x);

/// Rounds to the nearest float8 e4m3fn value, ties to the even code; beyond
/// +-448 (and +-Inf) saturates to +-448, NaN stays NaN. Written as a search
/// over the table of all 254 finite values, independently of the runtime's
/// bit-level conversion.
double roundToF8E4M3FN(double x);

//===----------------------------------------------------------------------===//
// Block pieces
//===----------------------------------------------------------------------===//

/// loom.rms_norm over the last dimension; g [C].
Tensor rmsNorm(const Tensor &x, const Tensor &g, double epsilon = 1e-6);

/// loom.layer_norm over the last dimension (biased variance); g, b [C].
Tensor layerNorm(const Tensor &x, const Tensor &g, const Tensor &b,
                 double epsilon = 1e-5);

enum class RopeStyle { Half, Interleaved };

/// loom.rope: x [B,H,S,D], cos and sin [S, D/2].
Tensor rope(const Tensor &x, const Tensor &cos, const Tensor &sin,
            RopeStyle style = RopeStyle::Half);

/// loom.rope with per-token positions: x [T,H,D], cos and sin [N, D/2],
/// positions [T]; token t is rotated by table row positions[t] (which must
/// be in [0, N): the reference throws otherwise).
Tensor ropeAtPositions(const Tensor &x, const Tensor &cos, const Tensor &sin,
                       const Tensor &positions,
                       RopeStyle style = RopeStyle::Half);

enum class GeluApproximation { None, Tanh };

/// loom.gelu, elementwise.
Tensor gelu(const Tensor &x,
            GeluApproximation approximate = GeluApproximation::None);

/// loom.silu, elementwise.
Tensor silu(const Tensor &x);

} // namespace ref
} // namespace loom

#endif // LOOM_UNITTESTS_REFERENCE_REFERENCE_H
