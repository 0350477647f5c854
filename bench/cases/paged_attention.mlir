// Serving on a paged KV cache (issue 16): loom.paged_attention over packed
// (varlen) queries, loom.kv_cache_write and loom.rope at per-token
// positions, checked against reference.py. The index operands (q_offsets,
// kv_lens, block_table, slots, positions) are arguments: gpu_check.py fills
// them per entry with valid batches (CHECK_SPECIAL: each sequence on its
// own pages, a seeded permutation of the cache's pages, so no two
// sequences share one and no sequence's pages are contiguous), not random
// integers. Small enough for the generic path (T * Hq * maxPages * page
// scores).
//
// - vLLM decode: 4 sequences, one query each (kv_lens 37, 200, 1, 129),
//   GQA 8:2, D 128, pages of 16, bf16; the block table's unused entries
//   are -1 (never read).
// - Chunked prefill: a batch mixing a chunk of 5 queries over 70 keys, a
//   sequence with no query this step, a decode token and a whole 12-token
//   prompt, 2 padding rows (zeros); causal, per-head windows (one head
//   full), 4 sinks and sink logits; f16, GQA 4:2, D 64.
// - Softcap with Dv != D: MHA, D 64, Dv 32, an explicit scale, softcap 5
//   and one window; speculative decode (3 queries over 100 keys) beside a
//   full 7-token prompt; pages of 32.
// - The decode step in one function: RoPE on q and the new keys at their
//   positions, the new keys and values written at their slots (two padding
//   tokens at negative slots, skipped; a slot past the cache is refused by
//   a CPU module's index checks), then paged
//   attention over the updated caches; the updated key cache is a result
//   too. MQA 4:1, D 64, pages of 8, bf16.
// - The vLLM decode batch with sink logits and the rows' log-sum-exp
//   (the lse result, for merging with attention over other keys).
// - Lengths 1 to 8192 in pages of 16 (issue 16's mixed batch): KV lengths
//   1, 15, 16, 17, 1000 and 8192 with 1, 15, 1, 5, 1 and 16 queries (the
//   last a prefill chunk at the end of a long context), 2 padding rows;
//   GQA 8:2, D 128, bf16; causal, and StreamingLLM's 4 sinks and window
//   1024.
// - Hostile indices (the op's semantics for index data outside its
//   requirements): kv_lens past maxPages * page (clamped) and negative (no
//   keys), page indices -7, P + 5 and 2^30 among the pages a sequence reads
//   (those keys are not visible), a sequence of 2 queries and no keys, with
//   sink logits and the lse. A CPU module refuses the call (its index
//   checks); a GPU module, which does not check, must give exactly what
//   the op defines and never read outside the cache (compute-sanitizer).

func.func @paged_decode_vllm(%q: tensor<4x8x128xbf16>, %k: tensor<32x16x2x128xbf16>, %v: tensor<32x16x2x128xbf16>, %q_offsets: tensor<5xi32>, %kv_lens: tensor<4xi32>, %block_table: tensor<4x13xi32>) -> tensor<4x8x128xbf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal} : (tensor<4x8x128xbf16>, tensor<32x16x2x128xbf16>, tensor<32x16x2x128xbf16>, tensor<5xi32>, tensor<4xi32>, tensor<4x13xi32>) -> tensor<4x8x128xbf16>
  return %o : tensor<4x8x128xbf16>
}

func.func @paged_chunked_prefill(%q: tensor<20x4x64xf16>, %k: tensor<16x16x2x64xf16>, %v: tensor<16x16x2x64xf16>, %q_offsets: tensor<5xi32>, %kv_lens: tensor<4xi32>, %block_table: tensor<4x5xi32>, %sinks: tensor<4xf32>) -> tensor<20x4x64xf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table, %sinks {causal, sink = 4 : i64, window = array<i64: 0, 24, 8, 40>} : (tensor<20x4x64xf16>, tensor<16x16x2x64xf16>, tensor<16x16x2x64xf16>, tensor<5xi32>, tensor<4xi32>, tensor<4x5xi32>, tensor<4xf32>) -> tensor<20x4x64xf16>
  return %o : tensor<20x4x64xf16>
}

func.func @paged_softcap_dv(%q: tensor<10x4x64xbf16>, %k: tensor<8x32x4x64xbf16>, %v: tensor<8x32x4x32xbf16>, %q_offsets: tensor<3xi32>, %kv_lens: tensor<2xi32>, %block_table: tensor<2x4xi32>) -> tensor<10x4x32xbf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal, scale = 0.1 : f32, softcap = 5.0 : f32, window = 48 : i64} : (tensor<10x4x64xbf16>, tensor<8x32x4x64xbf16>, tensor<8x32x4x32xbf16>, tensor<3xi32>, tensor<2xi32>, tensor<2x4xi32>) -> tensor<10x4x32xbf16>
  return %o : tensor<10x4x32xbf16>
}

func.func @paged_decode_step(%q: tensor<5x4x64xbf16>, %k_new: tensor<5x1x64xbf16>, %v_new: tensor<5x1x64xbf16>, %slots: tensor<5xi32>, %positions: tensor<5xi32>, %cos: tensor<64x32xf32>, %sin: tensor<64x32xf32>, %k_cache: tensor<24x8x1x64xbf16>, %v_cache: tensor<24x8x1x64xbf16>, %q_offsets: tensor<4xi32>, %kv_lens: tensor<3xi32>, %block_table: tensor<3x8xi32>) -> (tensor<5x4x64xbf16>, tensor<24x8x1x64xbf16>) {
  %qr = loom.rope %q, %cos, %sin, %positions : (tensor<5x4x64xbf16>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<5xi32>) -> tensor<5x4x64xbf16>
  %kr = loom.rope %k_new, %cos, %sin, %positions : (tensor<5x1x64xbf16>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<5xi32>) -> tensor<5x1x64xbf16>
  %k2 = loom.kv_cache_write %k_cache, %kr, %slots : (tensor<24x8x1x64xbf16>, tensor<5x1x64xbf16>, tensor<5xi32>) -> tensor<24x8x1x64xbf16>
  %v2 = loom.kv_cache_write %v_cache, %v_new, %slots : (tensor<24x8x1x64xbf16>, tensor<5x1x64xbf16>, tensor<5xi32>) -> tensor<24x8x1x64xbf16>
  %o = loom.paged_attention %qr, %k2, %v2, %q_offsets, %kv_lens, %block_table {causal} : (tensor<5x4x64xbf16>, tensor<24x8x1x64xbf16>, tensor<24x8x1x64xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<5x4x64xbf16>
  return %o, %k2 : tensor<5x4x64xbf16>, tensor<24x8x1x64xbf16>
}

func.func @paged_lengths_8192(%q: tensor<41x8x128xbf16>, %k: tensor<584x16x2x128xbf16>, %v: tensor<584x16x2x128xbf16>, %q_offsets: tensor<7xi32>, %kv_lens: tensor<6xi32>, %block_table: tensor<6x513xi32>) -> tensor<41x8x128xbf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal} : (tensor<41x8x128xbf16>, tensor<584x16x2x128xbf16>, tensor<584x16x2x128xbf16>, tensor<7xi32>, tensor<6xi32>, tensor<6x513xi32>) -> tensor<41x8x128xbf16>
  return %o : tensor<41x8x128xbf16>
}

func.func @paged_lengths_8192_streaming(%q: tensor<41x8x128xbf16>, %k: tensor<584x16x2x128xbf16>, %v: tensor<584x16x2x128xbf16>, %q_offsets: tensor<7xi32>, %kv_lens: tensor<6xi32>, %block_table: tensor<6x513xi32>) -> tensor<41x8x128xbf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<41x8x128xbf16>, tensor<584x16x2x128xbf16>, tensor<584x16x2x128xbf16>, tensor<7xi32>, tensor<6xi32>, tensor<6x513xi32>) -> tensor<41x8x128xbf16>
  return %o : tensor<41x8x128xbf16>
}

func.func @paged_decode_lse(%q: tensor<4x8x128xbf16>, %k: tensor<32x16x2x128xbf16>, %v: tensor<32x16x2x128xbf16>, %q_offsets: tensor<5xi32>, %kv_lens: tensor<4xi32>, %block_table: tensor<4x13xi32>, %sinks: tensor<8xf32>) -> (tensor<4x8x128xbf16>, tensor<4x8xf32>) {
  %o, %lse = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table, %sinks {causal} : (tensor<4x8x128xbf16>, tensor<32x16x2x128xbf16>, tensor<32x16x2x128xbf16>, tensor<5xi32>, tensor<4xi32>, tensor<4x13xi32>, tensor<8xf32>) -> (tensor<4x8x128xbf16>, tensor<4x8xf32>)
  return %o, %lse : tensor<4x8x128xbf16>, tensor<4x8xf32>
}

func.func @paged_decode_hostile(%q: tensor<6x8x128xbf16>, %k: tensor<32x16x2x128xbf16>, %v: tensor<32x16x2x128xbf16>, %q_offsets: tensor<5xi32>, %kv_lens: tensor<4xi32>, %block_table: tensor<4x13xi32>, %sinks: tensor<8xf32>) -> (tensor<6x8x128xbf16>, tensor<6x8xf32>) {
  %o, %lse = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table, %sinks {causal} : (tensor<6x8x128xbf16>, tensor<32x16x2x128xbf16>, tensor<32x16x2x128xbf16>, tensor<5xi32>, tensor<4xi32>, tensor<4x13xi32>, tensor<8xf32>) -> (tensor<6x8x128xbf16>, tensor<6x8xf32>)
  return %o, %lse : tensor<6x8x128xbf16>, tensor<6x8xf32>
}
