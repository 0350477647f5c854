//===- DecodeAttentionKernel.h - split-KV decode attention -----*- C++ -*-===//
//
// Attention for a few query rows per kv head (decode: one token, or a few
// speculative ones) against a long key/value cache, in two kernels:
//
// - the split kernel: one CTA per (batch, kv head, split of the keys). Its
//   query tile is every query row that reads that kv head (the GQA group's
//   heads times Sq), so each key and value is read once for the whole
//   group, and the keys are split across CTAs so that even batch 1 fills
//   the GPU. It writes its unnormalized output rows and their running max
//   and sum (f32) to a workspace;
// - the combine kernel: one CTA per query row, merging the splits
//   (o = sum_s exp2(m_s - m) o_s / sum_s exp2(m_s - m) l_s) and rounding
//   once to the element type.
//
// The split kernel is SIMT (CUDA cores, f32 FMA): decode is bound by the
// bytes of the cache, and at <= 16 rows per kv head a tensor-core tile would
// be mostly padding.

#ifndef LOOM_GPU_KERNELS_DECODEATTENTIONKERNEL_H
#define LOOM_GPU_KERNELS_DECODEATTENTIONKERNEL_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

/// One instantiation of the split kernel and its combine kernel.
struct DecodeAttentionKernelConfig {
  /// "bf16", "f16" or "f32": q, k, v and the result.
  std::string elementType = "bf16";
  /// D = Dv: 16, 32, 64, 128 or 256.
  int64_t headDim = 128;
  /// Query heads per kv head (G = Hq / Hkv) and query length Sq (static):
  /// the CTA's query tile has rows() = G * Sq rows, row r being query head
  /// kvh * G + r / Sq at position r % Sq.
  int64_t group = 4, queryLen = 1;
  /// Bottom-right aligned causal mask (query s sees keys j <= s + Skv - Sq).
  bool causal = false;
  /// Scores are soft-capped, c * tanh(s / c); c is a kernel argument.
  bool softcap = false;
  /// The combine kernel also writes each row's log-sum-exp (natural log,
  /// -inf for a row without visible key) to a [B, Hq, Sq] f32 argument.
  bool lse = false;
  /// Sliding window (requires `causal`): empty for none, one value for
  /// every query head, or one per query head (0: none for that head); keys
  /// j < sink are exempt from it (AttentionMask.h). The split kernel then
  /// visits only the sink's tiles and the window's (see the launch below).
  std::vector<int64_t> windows;
  int64_t sink = 0;
  /// The combine kernel takes a [Hq] f32 argument, its last: head h's sink
  /// logit joins every row's softmax denominator (loom.attention's
  /// sink_logits).
  bool sinkLogits = false;
  /// A paged cache (loom.paged_attention): the CTA's rows are one token's
  /// G query heads (queryLen 1) and its keys those of the token's sequence,
  /// in pages of `pageSize` keys (see the arguments below).
  bool paged = false;
  int64_t pageSize = 16;
  /// Queries of any length Sq (static or not) in chunks of queryLen rows a
  /// head: CTA x of the split kernel is (b * Hkv + kvh) * chunks + chunk,
  /// chunks = ceil(Sq / queryLen), its rows the chunk's positions chunk *
  /// queryLen + i of the group's heads (rows past Sq are zeros and not
  /// written); the combine kernel's grid has B * Hkv * chunks * rows() CTAs.
  /// For f32 attention, which the tensor-core kernels do not take: a fused
  /// SIMT kernel instead of the generic path.
  bool chunked = false;

  static constexpr int64_t kThreads = 128;
  /// Keys per tile: one per thread for the scores.
  static constexpr int64_t kTileKeys = kThreads;
  /// The largest query tile.
  static constexpr int64_t kMaxRows = 16;

  int64_t rows() const { return group * queryLen; }
  /// Columns of V a thread owns in P.V: 8 (one 16-byte load a key) for up
  /// to 8 rows, else 2 (R x 8 accumulators would not fit in registers).
  int64_t colsPerThread() const { return rows() <= 8 ? 8 : 2; }
  /// Threads that share one key for P.V, and the keys a tile's P.V takes at
  /// once (kThreads / that).
  int64_t dimThreads() const { return headDim / colsPerThread(); }
  int64_t keyGroups() const { return kThreads / dimThreads(); }
  /// Empty when the kernel can be built, else why not.
  std::string invalidReason() const;
  /// A name that encodes every choice above.
  std::string kernelName() const;
  std::string combineKernelName() const;
};

/// The split kernel of `config` in `module`'s gpu.module @loom_kernels
/// (built on first use). Its arguments, in order:
///
///   q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, D]
///                                            memref<?x?x?x?xT>
///   o [B * Hkv, splits, rows, D] (written)   memref<?x?x?x?xf32>
///   ml [B * Hkv, splits, rows, 2] (written)  memref<?x?x?x?xf32>
///   scale                                    f32
///   softcap c                                f32    (softcap only)
///   split_keys (a multiple of kTileKeys)     index
///   sink_end, window_start                   index  (windows only)
///
/// Launch: grid (B * Hkv, splits, 1), block (kThreads, 1, 1), no dynamic
/// shared memory. CTA (x, y) covers keys [y * split_keys, min((y + 1) *
/// split_keys, Skv)) of batch x / Hkv, kv head x % Hkv, and writes o (the
/// sum of exp2(s - m) v over its keys, s the scores in log2 units), m (the
/// max of s; -inf when it saw no visible key) and l (the sum of exp2(s - m)).
/// With windows the keys are virtual: [0, sink_end) are keys [0, sink_end)
/// (the sink's tiles) and [sink_end, sink_end + Skv - window_start) are keys
/// [window_start, Skv) (the window's tiles); sink_end <= window_start, both
/// multiples of kTileKeys, so that every key tile lies in one part.
///
/// Paged, the arguments are instead
///
///   q [T, Hq, D]                             memref<?x?x?xT>
///   k [P, page, Hkv, D], v [P, page, Hkv, D] memref<?x?x?x?xT>
///   o [T * Hkv, splits, G, D], ml [T * Hkv, splits, G, 2] (written)
///   scale, softcap c (softcap only), split_keys
///   block_table [B, maxPages], kv_lens [B], q_offsets [B + 1]
///                                            memref<?x?xi32>, memref<?xi32>
///
/// with grid (T * Hkv, splits, 1): CTA (x, y) takes token x / Hkv, finds its
/// sequence b (binary search of q_offsets), its row i of n_q(b) and its keys
/// n_kv(b) = kv_lens[b] clamped to [0, maxPages * page], and covers keys
/// [y * split_keys, ..) of them; key j is row j % page of page
/// block_table[b, j / page] (invisible when that index is outside [0, P)).
/// split_keys * splits must cover maxPages * page keys. The window's and
/// sink's tiles are computed per CTA from n_kv(b), n_q(b) and i. A token of
/// no sequence writes m = -inf and l = 0 (its row is then 0).
mlir::FailureOr<mlir::SymbolRefAttr>
buildDecodeAttentionKernel(mlir::ModuleOp module, mlir::Location loc,
                           const DecodeAttentionKernelConfig &config);

/// The combine kernel of `config`. Its arguments:
///
///   o [B * Hkv, splits, rows, D], ml [B * Hkv, splits, rows, 2]
///                                            memref<?x?x?x?xf32>
///   result [B, Hq, Sq, D] (written)          memref<?x?x?x?xT>
///   lse [B, Hq, Sq] (written)                memref<?x?x?xf32> (lse only)
///   sink_logits [Hq]                         memref<?xf32> (sinkLogits only)
///
/// Launch: grid (B * Hkv * rows, 1, 1), block (D, 1, 1). A row that no
/// split saw a visible key for is zeros. Paged: result [T, Hq, D]
/// (memref<?x?x?xT>), lse [T, Hq] (memref<?x?xf32>), grid (T * Hq, 1, 1).
mlir::FailureOr<mlir::SymbolRefAttr>
buildDecodeCombineKernel(mlir::ModuleOp module, mlir::Location loc,
                         const DecodeAttentionKernelConfig &config);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_DECODEATTENTIONKERNEL_H
