//===- LoomOps.td - the ops of the loom dialect ----------------*- tablegen -*-===//
//
// Operand order, attribute names and types, syntax and semantics follow
// DIALECT.md, the public contract. The verifiers (LoomOps.cpp) enforce every
// rule stated there; canonicalizations live in LoomFolds.cpp.

#ifndef LOOM_DIALECT_LOOM_IR_LOOMOPS_TD
#define LOOM_DIALECT_LOOM_IR_LOOMOPS_TD

include "loom/Dialect/Loom/IR/LoomDialect.td"
include "loom/Dialect/Loom/IR/LoomEnums.td"
include "loom/Dialect/Loom/IR/LoomAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Every shaped type of the op has a size that fits in 64 bits
// (loom/Dialect/Loom/IR/ShapeSizes.h), checked before the op's verifier.
def Loom_ShapesFit : NativeOpTrait<"ShapesFit"> {
  let cppNamespace = "::loom::traits";
}

// Every loom op: value semantics (Pure), the one contract syntax, sizes that
// fit in 64 bits, a verifier.
class Loom_Op<string mnemonic, list<Trait> traits = []>
    : Op<Loom_Dialect, mnemonic, !listconcat(traits, [Pure, Loom_ShapesFit])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Token mixers
//===----------------------------------------------------------------------===//


// The window, sink and sink-logit accessors shared by both softmax attention
// ops (implemented in LoomOps.cpp).
defvar Loom_ServingAttentionDecls = [{
    /// The single `window = W` value, or nothing (absent or per head).
    std::optional<int64_t> getUniformWindow();
    /// The per-head `window = array<i64: ...>` values, or nothing.
    std::optional<::llvm::ArrayRef<int64_t>> getHeadWindows();
    /// Whether `sink`, a per-head window or `sink_logits` is present: the
    /// serving masks only the reference lowerings implement.
    bool hasServingMasks();
}];

// `window`: one i64 for every head, or an array of one i64 per query head.
def Loom_WindowAttr : AnyAttrOf<[I64Attr, DenseI64ArrayAttr]>;

def Loom_AttentionOp : Loom_Op<"attention"> {
  let summary = "softmax attention (MHA, GQA, MQA) with causal, window and softcap options";
  let description = [{
    Scaled dot-product attention on `[B, H, S, D]` tensors:
    `q : [B, Hq, Sq, D]`, `k : [B, Hkv, Skv, D]`, `v : [B, Hkv, Skv, Dv]`,
    result `[B, Hq, Sq, Dv]`, all of one float element type. `Hq % Hkv == 0`;
    query head `h` reads kv head `h / (Hq / Hkv)` (GQA; `Hkv = 1` is MQA).

    - `scale` defaults to `1/sqrt(D)`. The score is
      `s_ij = scale * dot(q_i, k_j)`; with `softcap = c` (`c > 0`),
      `s_ij = c * tanh(s_ij / c)`.
    - Let `i' = i + (Skv - Sq)` (bottom-right alignment, as in
      FlashAttention). With `causal`, key `j` is visible to query `i` iff
      `j <= i'`. `window = W` (`W > 0`) requires `causal` and further
      requires `j > i' - W`. `window` may instead be an array of `Hq` values
      `array<i64: W_0, ..., W_{Hq-1}>` (each `>= 0`, `Hq` static, `causal`
      required): query head `h` uses `W_h`, and `W_h = 0` means no window
      (full causal attention) for that head.
    - `sink = N` (`N >= 0`): keys `j < N` are exempt from the window. With
      both, key `j` is visible to query `i` of head `h` iff
      `j <= i'` and (`W_h = 0` or `j > i' - W_h` or `j < N`). Sinks never
      unmask a key that `causal` hides (`j > i'`), so a query whose aligned
      position is before a sink does not see it. Without a window `sink`
      has no effect.
    - `o_i = sum_j softmax_j(s_ij over visible j) * v_j`. A query row with no
      visible key yields zeros.
    - Optional operand `sink_logits : [Hq] x f32` (after `v`): a learned
      logit per query head that joins every row's softmax denominator only,
      as a virtual key of score `sink_h` (taken as is: no `scale`, no
      `softcap`) and value 0:
      `o_i = sum_j exp(s_ij - m_i) v_j / (sum_j exp(s_ij - m_i) + exp(sink_h - m_i))`
      with `m_i = max(max_j s_ij, sink_h)` over visible `j`. A row with no
      visible key yields zeros. `sink_h = -inf` is the same as no sink logit.
    - Optional second result `lse : [B, Hq, Sq] x f32`, the log-sum-exp of
      the row: `lse_i = log(sum_j exp(s_ij) over visible j)`, over the same
      scores the softmax sees (after `scale`, `softcap` and the masks),
      computed in f32 as `m_i + log(sum_j exp(s_ij - m_i))` with
      `m_i = max_j s_ij`; `-inf` for a row with no visible key. With it, the
      attention of a query over a split of the keys can be merged exactly
      (`loom.merge_attention`). Without it the op has one result, as before.
      With `sink_logits` the sink joins the sum as its virtual key:
      `lse_i = log(sum_j exp(s_ij) + exp(sink_h))`, which is `sink_h` for a
      row with no visible key. The merge stays exact when exactly one of the
      merged parts carries `sink_logits`.

    Canonicalization drops a `window` that covers every key (`W >= Skv`,
    static `Skv`; per head, such a `W_h` becomes 0), turns a per-head window
    whose values are all equal into the single `window` (all 0: no window),
    and drops `sink = 0` and a `sink` without a window.

    Example:

    ```mlir
    %o = loom.attention %q, %k, %v {causal, scale = 0.125 : f32, window = 256 : i64, softcap = 30.0 : f32}
        : (tensor<2x8x512x64xbf16>, tensor<2x2x512x64xbf16>, tensor<2x2x512x64xbf16>)
        -> tensor<2x8x512x64xbf16>
    %o2, %lse = loom.attention %q, %k, %v {causal}
        : (tensor<2x8x512x64xbf16>, tensor<2x2x512x64xbf16>, tensor<2x2x512x64xbf16>)
        -> (tensor<2x8x512x64xbf16>, tensor<2x8x512xf32>)
    // StreamingLLM heads (4 sinks, window 256) beside full heads, with
    // gpt-oss sink logits.
    %o3 = loom.attention %q, %k, %v, %sinks {causal, sink = 4 : i64,
                                             window = array<i64: 256, 0, 256, 0, 256, 0, 256, 0>}
        : (tensor<2x8x512x64xbf16>, tensor<2x2x512x64xbf16>, tensor<2x2x512x64xbf16>, tensor<8xf32>)
        -> tensor<2x8x512x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k, AnyRankedTensor:$v,
                       Optional<AnyRankedTensor>:$sink_logits,
                       UnitAttr:$causal,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<Loom_WindowAttr>:$window,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<I64Attr>:$sink);
  let results = (outs AnyRankedTensor:$result,
                      Optional<AnyRankedTensor>:$lse);
  let builders = [
    // The one-result form (no lse).
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$q,
                   "::mlir::Value":$k, "::mlir::Value":$v, "bool":$causal,
                   "::mlir::FloatAttr":$scale, "::mlir::IntegerAttr":$window,
                   "::mlir::FloatAttr":$softcap), [{
      build($_builder, $_state, result, /*lse=*/::mlir::Type(), q, k, v,
            /*sink_logits=*/::mlir::Value(), causal, scale, window, softcap,
            /*sink=*/::mlir::IntegerAttr());
    }]>,
    // The form with an optional lse type and no serving masks.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Type":$lse,
                   "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v,
                   "bool":$causal, "::mlir::FloatAttr":$scale,
                   "::mlir::IntegerAttr":$window,
                   "::mlir::FloatAttr":$softcap), [{
      build($_builder, $_state, result, lse, q, k, v,
            /*sink_logits=*/::mlir::Value(), causal, scale, window, softcap,
            /*sink=*/::mlir::IntegerAttr());
    }]>
  ];
  let extraClassDeclaration = Loom_ServingAttentionDecls # [{
    /// The type of the attention output (result 0).
    ::mlir::RankedTensorType getType() { return getResult().getType(); }
    /// The attention output (result 0), as for the one-result ops.
    operator ::mlir::Value() { return getResult(); }
  }];
  let hasCanonicalizer = 1;
}

def Loom_BlockSparseAttentionOp : Loom_Op<"block_sparse_attention"> {
  let summary = "attention restricted to the true blocks of a block layout";
  let description = [{
    `loom.attention` (same `scale`, `softcap` and `causal` rules) in which key
    `j` is visible to query `i` only if also
    `layout[b, h, i / block_q, j / block_k]` is true.

    `layout : [Lb, Lh, NQB, NKB] x i1` with `NQB = ceil(Sq / block_q)` and
    `NKB = ceil(Skv / block_k)`; `Lb` is 1 or `B` and `Lh` is 1 or `Hq`, and a
    size of 1 broadcasts. Rows with no visible key yield zeros. The cost of
    the compiled kernel scales with the number of true blocks.

    The optional second result `lse : [B, Hq, Sq] x f32` is as in
    `loom.attention`: the log-sum-exp of each row's visible scores, `-inf`
    for a row with no visible key.

    `window` (one value or one per query head), `sink` and the optional
    operand `sink_logits : [Hq] x f32` are as in `loom.attention`; the key
    must then pass the layout, `causal` and the window-or-sink test: a sink
    is exempt from the window only, never from the layout or `causal`.

    Canonicalization turns a constant all-true layout into `loom.attention`
    and a constant all-false layout into zeros (and an lse of `-inf`; not
    with both `sink_logits` and lse, whose rows are then `sink_h`), and
    simplifies `window` and `sink` as `loom.attention` does.

    Example:

    ```mlir
    %o = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64, causal}
        : (tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x8x16x16xi1>)
        -> tensor<1x8x1024x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k, AnyRankedTensor:$v,
                       AnyRankedTensor:$layout,
                       Optional<AnyRankedTensor>:$sink_logits,
                       I64Attr:$block_q, I64Attr:$block_k,
                       UnitAttr:$causal,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<Loom_WindowAttr>:$window,
                       OptionalAttr<I64Attr>:$sink);
  let results = (outs AnyRankedTensor:$result,
                      Optional<AnyRankedTensor>:$lse);
  let builders = [
    // The one-result form (no lse).
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$q,
                   "::mlir::Value":$k, "::mlir::Value":$v,
                   "::mlir::Value":$layout, "uint64_t":$block_q,
                   "uint64_t":$block_k, "bool":$causal,
                   "::mlir::FloatAttr":$scale, "::mlir::FloatAttr":$softcap), [{
      build($_builder, $_state, result, /*lse=*/::mlir::Type(), q, k, v,
            layout, /*sink_logits=*/::mlir::Value(), block_q, block_k, causal,
            scale, softcap, /*window=*/nullptr, /*sink=*/nullptr);
    }]>,
    // The form with an optional lse type and no serving masks.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Type":$lse,
                   "::mlir::Value":$q, "::mlir::Value":$k, "::mlir::Value":$v,
                   "::mlir::Value":$layout, "uint64_t":$block_q,
                   "uint64_t":$block_k, "bool":$causal,
                   "::mlir::FloatAttr":$scale, "::mlir::FloatAttr":$softcap), [{
      build($_builder, $_state, result, lse, q, k, v, layout,
            /*sink_logits=*/::mlir::Value(), block_q, block_k, causal, scale,
            softcap, /*window=*/nullptr, /*sink=*/nullptr);
    }]>
  ];
  let extraClassDeclaration = Loom_ServingAttentionDecls # [{
    /// The type of the attention output (result 0).
    ::mlir::RankedTensorType getType() { return getResult().getType(); }
    /// The attention output (result 0), as for the one-result ops.
    operator ::mlir::Value() { return getResult(); }
  }];
  let hasCanonicalizer = 1;
}

def Loom_PagedAttentionOp : Loom_Op<"paged_attention"> {
  let summary = "softmax attention of packed (varlen) queries over a paged KV cache";
  let description = [{
    Attention for serving: a batch of `B` sequences of different lengths,
    their queries packed along one token dimension and their keys and values
    in pages of a shared cache (as vLLM and FlashInfer lay them out).

    - `q : [T, Hq, D]`: the queries of every sequence, packed; sequence `b`
      owns the query rows `q_offsets[b] .. q_offsets[b+1] - 1`
      (`n_q(b) = q_offsets[b+1] - q_offsets[b]` of them).
    - `k : [P, page, Hkv, D]`, `v : [P, page, Hkv, Dv]`: `P` pages of
      `page` tokens each.
    - `q_offsets : [B + 1] x i32`, `kv_lens : [B] x i32`,
      `block_table : [B, maxPages] x i32`: sequence `b` has
      `n_kv(b) = kv_lens[b]` keys; its key `j` lives in physical page
      `block_table[b, j / page]` at offset `j % page`.
    - Result `[T, Hq, Dv]` of `q`'s element type (`f32`, `f16` or `bf16`,
      shared by `q`, `k`, `v` and the result). `Hq % Hkv == 0`; query head
      `h` reads kv head `h / (Hq / Hkv)`.

    Semantics: for every sequence `b`, the rows of sequence `b` are
    `loom.attention` (same `scale`, `softcap`, `causal`, `window`, `sink`
    and optional `sink_logits : [Hq] x f32` operand, after `block_table`,
    with the same definitions) of its `n_q(b)` queries over its `n_kv(b)`
    gathered keys and values, i.e. of `q[q_offsets[b] : q_offsets[b+1]]`
    against `K_b[j] = k[block_table[b, j / page], j % page]` and
    `V_b[j] = v[block_table[b, j / page], j % page]`, `0 <= j < n_kv(b)`.
    `causal` is bottom-right aligned per sequence: row `r` of sequence `b`
    has `r' = r + n_kv(b) - n_q(b)` and sees key `j` iff `j <= r'`
    (so a decode step, one query per sequence, sees every key). A row with
    no visible key is 0 (with `sink_logits` too). Query rows that no
    sequence covers (rows `q_offsets[B]` and after, padding) are 0.

    Optional second result `lse : [T, Hq] x f32`: each row's log-sum-exp
    over its visible keys, `lse = log(sum_j exp(s_j))` with the scores `s_j`
    of `loom.attention` (scaled, softcapped), and with `sink_logits`
    `log(sum_j exp(s_j) + exp(sink_h))`; `-inf` for a row with no visible
    key and no sink logit, and for rows that no sequence covers. As for
    `loom.attention`, two paged attentions over disjoint key sets of one
    sequence (a shared prefix's pages and the sequence's own) combine
    exactly through `loom.merge_attention` of their results and lse.

    Requirements on the index data:
    `q_offsets[0] = 0`, `q_offsets` nondecreasing, `q_offsets[B] <= T`,
    `0 <= kv_lens[b] <= maxPages * page`, and every page index read,
    `block_table[b, i]` for `i < ceil(n_kv(b) / page)`, in `[0, P)`.
    Serving has `n_q(b) <= n_kv(b)` (the new tokens' keys are already in
    the cache); `n_q(b) > n_kv(b)` is not an error but, under `causal`,
    gives the first `n_q(b) - n_kv(b)` rows of the sequence no visible key
    (zeros), exactly as `loom.attention` with `Sq > Skv` does. Whatever the index values, the
    op never reads or writes outside its tensors: a row is assigned to the
    sequence whose range holds it (none where the ranges break the
    requirements), `kv_lens` is clamped to `[0, maxPages * page]`, and a key
    whose page index is outside `[0, P)` is not visible. The op gives
    unspecified values for such inputs. A compiled CPU module checks the
    requirements when the index tensors are arguments of the entry: the
    call is refused before it runs, with a message naming the op, its
    location, the index and its value (docs/abi.md, "Index checks"). GPU
    modules do not check them yet.

    The verifier checks everything static: ranks, element types (`i32`
    indices), `D`, `Dv`, `P`, `page`, `Hkv`, `T`, `Hq` and `B` agreeing
    where known, `Hq % Hkv == 0`, `page > 0`, and the attributes as on
    `loom.attention`. Canonicalization drops a `window` covering every key a
    sequence can have (`W >= maxPages * page`, static; per head such a `W_h`
    becomes 0), and simplifies `sink` as `loom.attention` does.

    Example: a ragged batch of 3 sequences in pages of 16, GQA 8/2.

    ```mlir
    %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table
             {causal, window = 256 : i64, sink = 4 : i64}
        : (tensor<?x8x64xbf16>, tensor<512x16x2x64xbf16>, tensor<512x16x2x64xbf16>,
           tensor<4xi32>, tensor<3xi32>, tensor<3x64xi32>) -> tensor<?x8x64xbf16>
    // With the rows' log-sum-exp, for merging with another key set.
    %o3, %lse = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal}
        : (tensor<?x8x64xbf16>, tensor<512x16x2x64xbf16>, tensor<512x16x2x64xbf16>,
           tensor<4xi32>, tensor<3xi32>, tensor<3x64xi32>) -> (tensor<?x8x64xbf16>, tensor<?x8xf32>)
    // gpt-oss: learned sink logits, one per query head.
    %o2 = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table, %sinks
             {causal, window = 128 : i64}
        : (tensor<?x8x64xbf16>, tensor<512x16x2x64xbf16>, tensor<512x16x2x64xbf16>,
           tensor<4xi32>, tensor<3xi32>, tensor<3x64xi32>, tensor<8xf32>) -> tensor<?x8x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k, AnyRankedTensor:$v,
                       AnyRankedTensor:$q_offsets, AnyRankedTensor:$kv_lens,
                       AnyRankedTensor:$block_table,
                       Optional<AnyRankedTensor>:$sink_logits,
                       UnitAttr:$causal,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<Loom_WindowAttr>:$window,
                       OptionalAttr<F32Attr>:$softcap,
                       OptionalAttr<I64Attr>:$sink);
  let results = (outs AnyRankedTensor:$result,
                      Optional<AnyRankedTensor>:$lse);
  let extraClassDeclaration = [{
    /// The type of the attention output (result 0).
    ::mlir::RankedTensorType getType() { return getResult().getType(); }
    /// The single `window = W` value, or nothing (absent or per head).
    std::optional<int64_t> getUniformWindow();
    /// The per-head `window = array<i64: ...>` values, or nothing.
    std::optional<::llvm::ArrayRef<int64_t>> getHeadWindows();
  }];
  let hasCanonicalizer = 1;
}

def Loom_KvCacheWriteOp : Loom_Op<"kv_cache_write"> {
  let summary = "writes new tokens' keys or values into a paged KV cache at their slots";
  let description = [{
    `cache : [P, page, Hkv, D]`, `new : [T, Hkv, D]` of the cache's element
    type (`f32`, `f16` or `bf16`), `slots : [T] x i32`; the result is the
    cache with token `t`'s row `new[t]` written at page `slots[t] / page`,
    offset `slots[t] % page`, for every `t` with `slots[t] >= 0`. A negative
    slot skips its token (vLLM's padding convention). Every other element
    of the result is the cache's.

    A slot at or past `P * page` is skipped too, never written out of
    bounds. A compiled CPU module refuses such a slot when `slots` is an
    argument of the entry (docs/abi.md, "Index checks"); GPU modules do
    not check it yet.
    Two tokens with the same slot: one of them is written (which one is
    unspecified).

    The op is in destination style: it lowers to an `scf.forall` whose
    shared output is `cache` (one `tensor.parallel_insert_slice` per token),
    so one-shot bufferization writes the cache's buffer in place when `cache`
    is not used after the op (else into a copy, as value semantics demand).

    Example: the keys of a decode step of 8 sequences.

    ```mlir
    %k2 = loom.kv_cache_write %k, %k_new, %slots
        : (tensor<512x16x2x64xbf16>, tensor<8x2x64xbf16>, tensor<8xi32>) -> tensor<512x16x2x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$cache, AnyRankedTensor:$new_tokens,
                       AnyRankedTensor:$slots);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_MergeAttentionOp : Loom_Op<"merge_attention"> {
  let summary = "merges the outputs of attention over disjoint key sets by their log-sum-exp";
  let description = [{
    Takes `n >= 1` pairs `(o_i, lse_i)` as operands, in the order
    `o_0, lse_0, o_1, lse_1, ...`: each `o_i : [B, Hq, Sq, Dv]` (all of one
    type, element type `f32`, `f16` or `bf16`) and each
    `lse_i : [B, Hq, Sq] x f32` (all of one type), typically the two results
    of `loom.attention` or `loom.block_sparse_attention` over disjoint sets
    of keys of the same queries. Returns `(o, lse)` of the types of `o_0`
    and `lse_0`, per row (computed in f32, `o` rounded once to its element
    type):

    - `m = max_i lse_i`; `lse = m + log(sum_i exp(lse_i - m))`;
    - `o = sum_i exp(lse_i - lse) * o_i`;
    - where every `lse_i` is `-inf` (no pair saw a visible key):
      `lse = -inf` and `o = 0` (never NaN). A pair whose `lse_i` is `-inf`
      contributes nothing (`exp(-inf) = 0`), whatever its `o_i`; `+inf` or
      NaN in an `lse_i` propagates as IEEE arithmetic does.
    - One pair is the identity: `(o, lse) = (o_0, lse_0)`, on every row
      (where `lse_0 = -inf`, `o_0` is returned as it is; attention yields 0
      there). This is what the fold does.

    So attention over the union of the key sets is the merge of the
    attentions over each set: with `K = K1 ++ K2` and `V = V1 ++ V2`,
    `attention(q, K, V)` equals `merge_attention(attention(q, K1, V1),
    attention(q, K2, V2))` (both results, up to rounding), when each part
    applies the mask the whole applies to its keys.

    Example:

    ```mlir
    %o, %lse = loom.merge_attention %o0, %lse0, %o1, %lse1
        : (tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>, tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>)
        -> (tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>)
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs);
  let results = (outs AnyRankedTensor:$result, AnyRankedTensor:$lse);
  let extraClassDeclaration = [{
    /// The number of (o, lse) pairs.
    unsigned getNumPairs() { return getInputs().size() / 2; }
    ::mlir::Value getOutput(unsigned i) { return getInputs()[2 * i]; }
    ::mlir::Value getLogSumExp(unsigned i) { return getInputs()[2 * i + 1]; }
  }];
  let hasFolder = 1;
}

def Loom_SelectBlocksOp : Loom_Op<"select_blocks"> {
  let summary = "dynamic block selection: top-k key blocks per query block from pooled scores";
  let description = [{
    Computes a block layout `[B, Hq, NQB, NKB] x i1` for
    `loom.block_sparse_attention` from `q : [B, Hq, Sq, D]` and
    `k : [B, Hkv, Skv, D]` (`Hq % Hkv == 0`, GQA head mapping as in
    `loom.attention`), with `NQB = ceil(Sq / block_q)` and
    `NKB = ceil(Skv / block_k)`.

    - Pooled query `qb_I` is the mean of `q` over query block `I` (the rows
      that exist); pooled key `kb_J` likewise over key block `J`. The block
      score is `s_IJ = scale * dot(qb_I, kb_J)`, `scale` defaulting to
      `1/sqrt(D)`.
    - Candidates: every `J`; with `causal`, only key blocks holding at least
      one key visible to some query of block `I` under the causal rule of
      `loom.attention`.
    - Always selected (with `causal`): the candidate block holding the
      diagonal `j = i'` of the block's last query row. The remaining `topk`
      selections are the highest-scoring other candidates, ties going to the
      lower `J`: with `causal` a row selects the diagonal block plus `topk`
      others (at most `topk + 1` blocks), without it `topk` blocks. With fewer
      candidates than that, all are selected.

    Example:

    ```mlir
    %layout = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 8 : i64, causal}
        : (tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>) -> tensor<1x8x16x16xi1>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k,
                       I64Attr:$block_q, I64Attr:$block_k, I64Attr:$topk,
                       UnitAttr:$causal,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs AnyRankedTensor:$layout);
  let hasFolder = 1;
}

def Loom_LinearAttentionOp : Loom_Op<"linear_attention", [AttrSizedOperandSegments]> {
  let summary = "linear attention: feature map, constant or data-dependent gates, delta rule, recurrent state";
  let description = [{
    `q, k : [B, H, S, Dk]`, `v : [B, H, S, Dv]`, result `[B, H, S, Dv]`,
    all of one float element type.

    - `phi` is `feature_map`: `"identity"` (default), `"relu"`, or
      `"elu_plus_one"` (`elu(x) + 1`). It applies to every use of `q` and
      `k` below; write `qt = phi(q_t)`, `kt = phi(k_t)` (vectors of `Dk`).
    - Weight `w_ij = scale * dot(phi(q_i), phi(k_j)) * exp(-decay[h] * (i - j))`
      with `scale` defaulting to 1. `decay` holds one non-negative value per
      head (default all 0) and requires `causal`.
    - `o_i = sum_{j in J(i)} w_ij v_j` with `J(i) = {j <= i}` under `causal`,
      all `j` otherwise. With `normalize`, `o_i` is divided by
      `sum_{j in J(i)} w_ij + 1e-6`.

    **Recurrent form.** Under `causal` the op is a recurrence over a state
    `S_t : [Dk, Dv]` per batch and head, which the optional operands and
    result below extend. They follow `q, k, v` in this order, each written
    with its keyword, and all of them require `causal`:

    - `gate(%g)`: a log-gate, `[B, H, S]` (one per head and token: Mamba2,
      Gated DeltaNet) or `[B, H, S, Dk]` (one per key dimension: GLA, KDA),
      element type `f32`, `f16` or `bf16`. It excludes `decay`, which is the
      constant gate `-decay[h]`.
    - `beta(%b)`: the write strength of the delta rule, `[B, H, S]`, element
      type `f32`, `f16` or `bf16`. `rule = "delta"` requires it, and it
      requires `rule = "delta"`.
    - `initial_state(%s)`: `S_{-1}`, `[B, H, Dk, Dv] x f32` (zeros if absent).
    - A second result, `final_state : [B, H, Dk, Dv] x f32`: `S_{S-1}` (the
      initial state when `S = 0`).

    With `g_t` the log-gate of token `t` (a vector of `Dk`: `gate[b,h,t]`
    repeated, `gate[b,h,t,:]`, `-decay[h]` repeated, or 0) and
    `a_t = exp(g_t)`, for `t = 0 .. S-1`:

    - `rule = "additive"` (the default):
      `S_t = Diag(a_t) S_{t-1} + kt v_t^T`;
    - `rule = "delta"`:
      `S_t = (I - beta_t kt kt^T) Diag(a_t) S_{t-1} + beta_t kt v_t^T`;
    - `o_t = scale * S_t^T qt`.

    Without a gate, `beta` or a state this is the weighted sum above:
    `o_t = scale * sum_{j <= t} (prod_{j < s <= t} a_s) * dot(qt, kt_j) v_j`,
    the product taken elementwise over `Dk` with a per-key gate. `scale`
    scales the output only, never the state, so a state carries over
    between calls with different scales.

    With `normalize`, `o_t` is divided by `scale * dot(qt, z_t) + 1e-6` with
    `z_t = Diag(a_t) z_{t-1} + kt`, `z_{-1} = 0`: the sum of the weights as
    above, gated the same way. `normalize` is rejected with
    `rule = "delta"` (whose weights can be negative, so the denominator
    can vanish) and with `initial_state` or `final_state` (the
    state does not carry `z`, so a sequence could not be split).

    State continuity: for `x = x1 ++ x2` split along `S`, running `x2` with
    `initial_state` the `final_state` of `x1` gives the last rows of the
    output and the final state of running `x`. The CPU lowering evaluates
    every form with a gate, `beta` or a state token by token in `f32`,
    where this holds exactly.

    Canonicalization drops an all-zero `decay`, a constant all-zero `gate`
    or `initial_state`, and an unused `final_state`; a constant splat
    `gate` of value `g <= 0` becomes `decay = -g` for every head (static
    `H`).

    Examples:

    ```mlir
    %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, normalize}
        : (tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>) -> tensor<1x2x256x64xf32>

    // Gated DeltaNet: a log-gate per head, the delta rule, chunked prefill
    // carrying the state in and out.
    %o2, %s2 = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s1) {causal, rule = "delta", scale = 0.125 : f32}
        : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>,
           tensor<1x4x100xf32>, tensor<1x4x100xbf16>, tensor<1x4x64x128xf32>)
        -> (tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>)

    // GLA: a log-gate per key dimension.
    %o3 = loom.linear_attention %q, %k, %v gate(%gk) {causal}
        : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100x64xf32>)
        -> tensor<1x4x100x128xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k, AnyRankedTensor:$v,
                       Optional<AnyRankedTensor>:$gate,
                       Optional<AnyRankedTensor>:$beta,
                       Optional<AnyRankedTensor>:$initial_state,
                       UnitAttr:$causal,
                       DefaultValuedStrAttr<StrAttr, "identity">:$feature_map,
                       OptionalAttr<DenseF32ArrayAttr>:$decay,
                       OptionalAttr<F32Attr>:$scale,
                       UnitAttr:$normalize,
                       DefaultValuedStrAttr<StrAttr, "additive">:$rule);
  let results = (outs AnyRankedTensor:$result,
                      Optional<AnyRankedTensor>:$final_state);
  // The optional operands are introduced by keywords: several of them may
  // have the same type, so their position could not tell them apart.
  let assemblyFormat = [{
    $q `,` $k `,` $v (`gate` `(` $gate^ `)`)? (`beta` `(` $beta^ `)`)?
    (`initial_state` `(` $initial_state^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The feature map as an enum; std::nullopt when the string is not one
    /// of the allowed values (which the verifier rejects).
    std::optional<::loom::FeatureMap> getFeatureMapKind() {
      return ::loom::symbolizeFeatureMap(getFeatureMap());
    }
    /// The update rule as an enum; std::nullopt when the string is not one
    /// of the allowed values (which the verifier rejects).
    std::optional<::loom::UpdateRule> getRuleKind() {
      return ::loom::symbolizeUpdateRule(getRule());
    }
    /// True for the forms only the recurrent definition covers: a gate,
    /// beta, an initial state or a final state. The others are the
    /// quadratic form (with at most a constant `decay`).
    bool isRecurrentForm() {
      return getGate() || getBeta() || getInitialState() || getFinalState();
    }
    /// The part of the verifier that checks the recurrent form.
    ::mlir::LogicalResult verifyRecurrentForm();
  }];
}

def Loom_PoolMixerOp : Loom_Op<"pool_mixer"> {
  let summary = "PoolFormer's token mixer: average pooling minus identity";
  let description = [{
    `y = avgpool(x) - x`, the average taken over the `kernel x kernel` window
    centred on each token (stride 1), counting only in-bounds tokens.
    `kernel` is odd and positive, default 3. The input is channels-last
    `[B, H, W, C]`; a rank-3 input `[B, S, C]` pools over the sequence with a
    window of `kernel`. The result has the input's type.

    Example:

    ```mlir
    %y = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x,
                       DefaultValuedAttr<I64Attr, "3">:$kernel);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_DwConvOp : Loom_Op<"dwconv"> {
  let summary = "depthwise convolution over tokens: short, large or long kernels, 1-D or 2-D";
  let description = [{
    Channels-last depthwise convolution, one filter per channel; out-of-range
    `x` reads as 0. The result has the input's type.

    - 1-D (`x : [B, S, C]`, `w : [K, C]`), not causal (K odd):
      `y[s,c] = sum_t w[t,c] * x[s + t - (K-1)/2, c]`.
    - 1-D, `causal`: `y[s,c] = sum_t w[t,c] * x[s - (K-1) + t, c]`. `K` may
      equal `S` (a long convolution, as in H3, Hyena and FlashFFTConv).
    - 2-D (`x : [B, H, W, C]`, `w : [Kh, Kw, C]`): the same centred rule on
      both axes, `Kh` and `Kw` odd; `causal` is 1-D only.

    Example:

    ```mlir
    %y = loom.dwconv %x, %w {causal} : (tensor<1x1024x256xbf16>, tensor<1024x256xbf16>) -> tensor<1x1024x256xbf16>
    %z = loom.dwconv %a, %b : (tensor<1x14x14x96xf32>, tensor<7x7x96xf32>) -> tensor<1x14x14x96xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$w, UnitAttr:$causal);
  let results = (outs AnyRankedTensor:$result);
}

//===----------------------------------------------------------------------===//
// Dense and quantized linear layers
//===----------------------------------------------------------------------===//

def Loom_LinearOp : Loom_Op<"linear"> {
  let summary = "dense linear layer: y = x @ w^T + bias";
  let description = [{
    `x : [..., K]`, `w : [N, K]` (out-features first), optional `bias : [N]`,
    result `[..., N]`; every leading dimension of `x` is a batch dimension.
    All operands and the result share one float element type.

    Example:

    ```mlir
    %y = loom.linear %x, %w, %bias : (tensor<1x16x16x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x16x16x256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$w,
                       Optional<AnyRankedTensor>:$bias);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_QLinearOp : Loom_Op<"qlinear"> {
  let summary = "weight-only quantized linear layer (W8A16, W4A16), per-channel or group-wise scales";
  let description = [{
    `x : [M, K]` float, `w : [N, K]` of `i8` or `i4` (signed, in [-8, 7];
    packed two per byte along K in memory, so `K` is even), `w_scale` float,
    optional `bias : [N]` float, float result `[M, N]`:

    `y[m,n] = sum_k x[m,k] * w[n,k] * w_scale[n, k / group_size] + bias[n]`.

    `group_size = 0` (the default) is per-channel and `w_scale` is `[N]`.
    Otherwise `K % group_size == 0` and `w_scale` is `[N, K / group_size]`.

    Example, W4A16 with groups of 128:

    ```mlir
    %y = loom.qlinear %x, %w, %w_scale, %bias {group_size = 128 : i64}
        : (tensor<16x4096xbf16>, tensor<11008x4096xi4>, tensor<11008x32xf32>, tensor<11008xbf16>) -> tensor<16x11008xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$w, AnyRankedTensor:$w_scale,
                       Optional<AnyRankedTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "0">:$group_size);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_QuantizeOp : Loom_Op<"quantize"> {
  let summary = "dynamic per-row activation quantization to i8 or f8E4M3FN";
  let description = [{
    Per row `m` of `x : [M, K]` (float): `s = max_k |x[m,k]| / Q` with
    `Q = 127` for an `i8` result and `448` for `f8E4M3FN`;
    `xq = x / s` rounded to nearest even (for `i8` clamped to [-127, 127]).
    An all-zero row gives `s = 0` and `xq = 0`. Results: `xq : [M, K]` and
    `xs : [M] x f32`.

    Example:

    ```mlir
    %xq, %xs = loom.quantize %x : (tensor<16x4096xbf16>) -> (tensor<16x4096xi8>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x);
  let results = (outs AnyRankedTensor:$xq, AnyRankedTensor:$xs);
}

def Loom_QMatmulOp : Loom_Op<"qmatmul"> {
  let summary = "W8A8 and FP8 matrix product with per-row and per-channel scales";
  let description = [{
    `xq : [M, K]` and `w : [N, K]`, both `i8` (exact `i32` accumulation) or
    both `f8E4M3FN`; `xs : [M] x f32`, `w_scale : [N] x f32`, optional float
    `bias : [N]`; float result `[M, N]`:

    `y[m,n] = (sum_k xq[m,k] * w[n,k]) * xs[m] * w_scale[n] + bias[n]`.

    Example:

    ```mlir
    %y = loom.qmatmul %xq, %xs, %w, %w_scale, %bias
        : (tensor<16x4096xi8>, tensor<16xf32>, tensor<4096x4096xi8>, tensor<4096xf32>, tensor<4096xbf16>) -> tensor<16x4096xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$xq, AnyRankedTensor:$xs, AnyRankedTensor:$w,
                       AnyRankedTensor:$w_scale, Optional<AnyRankedTensor>:$bias);
  let results = (outs AnyRankedTensor:$result);
}

//===----------------------------------------------------------------------===//
// Block pieces
//===----------------------------------------------------------------------===//

def Loom_RmsNormOp : Loom_Op<"rms_norm"> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * g` over the last dimension of
    `x : [..., C]`, with `g : [C]`; `epsilon >= 0`, default `1e-6`.

    Example:

    ```mlir
    %y = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$g,
                       DefaultValuedAttr<F32Attr, "1.0e-6f">:$epsilon);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_LayerNormOp : Loom_Op<"layer_norm"> {
  let summary = "LayerNorm over the last dimension (biased variance)";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * g + b` over the last dimension of
    `x : [..., C]`, with the biased variance and `g, b : [C]`;
    `epsilon >= 0`, default `1e-5`.

    Example:

    ```mlir
    %y = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
        : (tensor<1x16x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$g, AnyRankedTensor:$b,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$epsilon);
  let results = (outs AnyRankedTensor:$result);
}

def Loom_RopeOp : Loom_Op<"rope"> {
  let summary = "rotary position embedding, half (NeoX) or interleaved (GPT-J)";
  let description = [{
    `x : [B, H, S, D]` (D even), `cos, sin : [S, D/2]` float, result of the
    type of `x`. With `style = "half"` (the default):
    `x1 = x[:D/2]`, `x2 = x[D/2:]`, `y = [x1 c - x2 s, x2 c + x1 s]`;
    with `"interleaved"` the same on the pairs `(2i, 2i+1)`. Token `s` uses
    table row `s`.

    Per-token positions (packed serving batches): with the optional operand
    `positions : [T] x i32` (after `sin`), `x` is `[T, H, D]` (packed
    tokens) and the tables are `[N, D/2]` for any number `N` of positions;
    token `t` uses table row `positions[t]` (`c = cos[positions[t]]`,
    `s = sin[positions[t]]`), the same rotation otherwise. A rank-3 `x`
    requires `positions` and `positions` requires a rank-3 `x`. The op
    clamps a position outside `[0, N)` into `[0, N - 1]` (with `N = 0`,
    `y = x`), never reading out of bounds; a compiled CPU module refuses
    such a position when `positions` is an argument of the entry
    (docs/abi.md, "Index checks"); GPU modules do not check it yet.

    Example:

    ```mlir
    %y = loom.rope %x, %cos, %sin {style = "half"}
        : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
    // Packed tokens of several sequences, each at its own position.
    %z = loom.rope %xt, %cos_table, %sin_table, %positions
        : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x, AnyRankedTensor:$cos, AnyRankedTensor:$sin,
                       Optional<AnyRankedTensor>:$positions,
                       DefaultValuedStrAttr<StrAttr, "half">:$style);
  let results = (outs AnyRankedTensor:$result);
  let builders = [
    // The form without positions.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$x,
                   "::mlir::Value":$cos, "::mlir::Value":$sin,
                   CArg<"::llvm::StringRef", "\"half\"">:$style), [{
      build($_builder, $_state, result, x, cos, sin,
            /*positions=*/::mlir::Value(), style);
    }]>,
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$x,
                   "::mlir::Value":$cos, "::mlir::Value":$sin,
                   "::mlir::StringAttr":$style), [{
      build($_builder, $_state, result, x, cos, sin,
            /*positions=*/::mlir::Value(), style);
    }]>
  ];
  let extraClassDeclaration = [{
    /// The style as an enum; std::nullopt for a string the verifier rejects.
    std::optional<::loom::RopeStyle> getStyleKind() {
      return ::loom::symbolizeRopeStyle(getStyle());
    }
  }];
}

def Loom_GeluOp : Loom_Op<"gelu"> {
  let summary = "GELU activation, exact (erf) or tanh-approximated";
  let description = [{
    Elementwise on a float tensor; the result has the input's type.
    `approximate = "none"` (the default) computes `x * (1 + erf(x / sqrt(2))) / 2`,
    `"tanh"` computes `x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2`.

    Example:

    ```mlir
    %y = loom.gelu %x {approximate = "tanh"} : (tensor<128x2048xbf16>) -> tensor<128x2048xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs AnyRankedTensor:$result);
  let extraClassDeclaration = [{
    /// The formula as an enum; std::nullopt for a string the verifier rejects.
    std::optional<::loom::GeluApproximation> getApproximateKind() {
      return ::loom::symbolizeGeluApproximation(getApproximate());
    }
  }];
}

def Loom_SiluOp : Loom_Op<"silu"> {
  let summary = "SiLU (swish) activation: x * sigmoid(x)";
  let description = [{
    Elementwise on a float tensor; the result has the input's type.

    Example:

    ```mlir
    %y = loom.silu %x : (tensor<128x1408xbf16>) -> tensor<128x1408xbf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$x);
  let results = (outs AnyRankedTensor:$result);
}

//===----------------------------------------------------------------------===//
// Fusion groups
//===----------------------------------------------------------------------===//

def Loom_KernelOp : Op<Loom_Dialect, "kernel",
    [IsolatedFromAbove, RecursiveMemoryEffects, RecursivelySpeculatable,
     Loom_ShapesFit]> {
  let summary = "a fusion group: the ops that run as one kernel";
  let description = [{
    `loom-fuse` (docs/fusion.md) wraps each group of ops that is to run as
    one kernel in a `loom.kernel`. The region is isolated from above: its
    block arguments are the group's inputs, bound in order to the operands,
    and `loom.yield` names the values the group produces. Only the operands
    and results cross memory; every value defined inside stays on chip.

    `label` says what the group is (the anchor op and what was fused into
    it); reports and kernel names use it. The semantics is exactly that of
    the body with the block arguments replaced by the operands:
    `loom-inline-kernels` does that, so a program means the same with and
    without its fusion groups.

    Example (an RMSNorm prologue and a SiLU epilogue fused into a `linear`):

    ```mlir
    %y = loom.kernel "rms_norm+linear+silu" (%x, %nw, %w)
        : (tensor<64x512xbf16>, tensor<512xbf16>, tensor<1024x512xbf16>) -> tensor<64x1024xbf16> {
    ^bb0(%a: tensor<64x512xbf16>, %b: tensor<512xbf16>, %c: tensor<1024x512xbf16>):
      %n = loom.rms_norm %a, %b : (tensor<64x512xbf16>, tensor<512xbf16>) -> tensor<64x512xbf16>
      %l = loom.linear %n, %c : (tensor<64x512xbf16>, tensor<1024x512xbf16>) -> tensor<64x1024xbf16>
      %s = loom.silu %l : (tensor<64x1024xbf16>) -> tensor<64x1024xbf16>
      loom.yield %s : tensor<64x1024xbf16>
    }
    ```
  }];
  let arguments = (ins StrAttr:$label, Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $label ` ` `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    // An empty body block with one argument per input; the caller fills it
    // and adds the loom.yield.
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::llvm::StringRef":$label,
                   "::mlir::ValueRange":$inputs)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    /// The loom.yield that ends the body.
    ::loom::YieldOp getYield();
    /// Clones the body in place of this op (block arguments replaced by the
    /// operands), replaces the results with the yielded values and erases
    /// this op. `mapping`, if given, receives the body's values and ops
    /// mapped to their clones.
    void inlineBody(::mlir::IRMapping *mapping = nullptr);
  }];
}

def Loom_YieldOp : Op<Loom_Dialect, "yield",
    [Pure, Terminator, HasParent<"::loom::KernelOp">]> {
  let summary = "the values a loom.kernel produces";
  let description = [{
    Ends the body of a `loom.kernel`; its operands become the kernel's
    results, in order and of the same types.

    Example: `loom.yield %s, %t : tensor<64x1024xbf16>, tensor<64xf32>`
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // LOOM_DIALECT_LOOM_IR_LOOMOPS_TD
