// A Llama-style decoder layer on a paged KV cache (issue 16, "Done when"):
// pre-norm, bf16 projections, GQA 8:2, D 64, RoPE at each token's position,
// the new keys and values written into the caches at their slots, causal
// paged attention, SwiGLU MLP (hidden 512, intermediate 1408), residuals.
// The same layer for a prefill of a ragged batch and for a decode step;
// gpu_check.py fills the index arguments (CHECK_SPECIAL: positions and
// slots of the new tokens, the last n_q[b] keys of each sequence, padding
// tokens at slot -1) and checks the output and both updated caches against
// reference.py.
//
// - paged_llama_prefill: 3 prompts of 20, 17 and 9 tokens packed into 48
//   rows (2 padding), caches of 16 pages of 16.
// - paged_llama_decode: one new token for each of 3 sequences that hold
//   21, 40 and 100 keys (the new one included), 1 padding row, pages of
//   16 (12 pages, maxPages 8).

func.func @paged_llama_prefill(%x: tensor<48x512xbf16>, %attn_norm_w: tensor<512xbf16>, %wq: tensor<512x512xbf16>, %wk: tensor<128x512xbf16>, %wv: tensor<128x512xbf16>,
    %wo: tensor<512x512xbf16>, %mlp_norm_w: tensor<512xbf16>, %w_gate: tensor<1408x512xbf16>, %w_up: tensor<1408x512xbf16>, %w_down: tensor<512x1408xbf16>,
    %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>, %positions: tensor<48xi32>, %slots: tensor<48xi32>, %k_cache: tensor<16x16x2x64xbf16>, %v_cache: tensor<16x16x2x64xbf16>,
    %q_offsets: tensor<4xi32>, %kv_lens: tensor<3xi32>, %block_table: tensor<3x4xi32>) -> (tensor<48x512xbf16>, tensor<16x16x2x64xbf16>, tensor<16x16x2x64xbf16>) {
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-05 : f32} : (tensor<48x512xbf16>, tensor<512xbf16>) -> tensor<48x512xbf16>
  %q2 = loom.linear %h, %wq : (tensor<48x512xbf16>, tensor<512x512xbf16>) -> tensor<48x512xbf16>
  %k2 = loom.linear %h, %wk : (tensor<48x512xbf16>, tensor<128x512xbf16>) -> tensor<48x128xbf16>
  %v2 = loom.linear %h, %wv : (tensor<48x512xbf16>, tensor<128x512xbf16>) -> tensor<48x128xbf16>
  %q3 = tensor.expand_shape %q2 [[0], [1, 2]] output_shape [48, 8, 64] : tensor<48x512xbf16> into tensor<48x8x64xbf16>
  %k3 = tensor.expand_shape %k2 [[0], [1, 2]] output_shape [48, 2, 64] : tensor<48x128xbf16> into tensor<48x2x64xbf16>
  %v3 = tensor.expand_shape %v2 [[0], [1, 2]] output_shape [48, 2, 64] : tensor<48x128xbf16> into tensor<48x2x64xbf16>
  %qr = loom.rope %q3, %cos, %sin, %positions : (tensor<48x8x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>, tensor<48xi32>) -> tensor<48x8x64xbf16>
  %kr = loom.rope %k3, %cos, %sin, %positions : (tensor<48x2x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>, tensor<48xi32>) -> tensor<48x2x64xbf16>
  %kc = loom.kv_cache_write %k_cache, %kr, %slots : (tensor<16x16x2x64xbf16>, tensor<48x2x64xbf16>, tensor<48xi32>) -> tensor<16x16x2x64xbf16>
  %vc = loom.kv_cache_write %v_cache, %v3, %slots : (tensor<16x16x2x64xbf16>, tensor<48x2x64xbf16>, tensor<48xi32>) -> tensor<16x16x2x64xbf16>
  %a = loom.paged_attention %qr, %kc, %vc, %q_offsets, %kv_lens, %block_table {causal}
      : (tensor<48x8x64xbf16>, tensor<16x16x2x64xbf16>, tensor<16x16x2x64xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x4xi32>) -> tensor<48x8x64xbf16>
  %a2 = tensor.collapse_shape %a [[0], [1, 2]] : tensor<48x8x64xbf16> into tensor<48x512xbf16>
  %o = loom.linear %a2, %wo : (tensor<48x512xbf16>, tensor<512x512xbf16>) -> tensor<48x512xbf16>
  %r = arith.addf %x, %o : tensor<48x512xbf16>
  %m = loom.rms_norm %r, %mlp_norm_w {epsilon = 1.0e-05 : f32} : (tensor<48x512xbf16>, tensor<512xbf16>) -> tensor<48x512xbf16>
  %g = loom.linear %m, %w_gate : (tensor<48x512xbf16>, tensor<1408x512xbf16>) -> tensor<48x1408xbf16>
  %u = loom.linear %m, %w_up : (tensor<48x512xbf16>, tensor<1408x512xbf16>) -> tensor<48x1408xbf16>
  %s = loom.silu %g : (tensor<48x1408xbf16>) -> tensor<48x1408xbf16>
  %gu = arith.mulf %s, %u : tensor<48x1408xbf16>
  %d = loom.linear %gu, %w_down : (tensor<48x1408xbf16>, tensor<512x1408xbf16>) -> tensor<48x512xbf16>
  %y = arith.addf %r, %d : tensor<48x512xbf16>
  return %y, %kc, %vc : tensor<48x512xbf16>, tensor<16x16x2x64xbf16>, tensor<16x16x2x64xbf16>
}

func.func @paged_llama_decode(%x: tensor<4x512xbf16>, %attn_norm_w: tensor<512xbf16>, %wq: tensor<512x512xbf16>, %wk: tensor<128x512xbf16>, %wv: tensor<128x512xbf16>,
    %wo: tensor<512x512xbf16>, %mlp_norm_w: tensor<512xbf16>, %w_gate: tensor<1408x512xbf16>, %w_up: tensor<1408x512xbf16>, %w_down: tensor<512x1408xbf16>,
    %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>, %positions: tensor<4xi32>, %slots: tensor<4xi32>, %k_cache: tensor<12x16x2x64xbf16>, %v_cache: tensor<12x16x2x64xbf16>,
    %q_offsets: tensor<4xi32>, %kv_lens: tensor<3xi32>, %block_table: tensor<3x8xi32>) -> (tensor<4x512xbf16>, tensor<12x16x2x64xbf16>, tensor<12x16x2x64xbf16>) {
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-05 : f32} : (tensor<4x512xbf16>, tensor<512xbf16>) -> tensor<4x512xbf16>
  %q2 = loom.linear %h, %wq : (tensor<4x512xbf16>, tensor<512x512xbf16>) -> tensor<4x512xbf16>
  %k2 = loom.linear %h, %wk : (tensor<4x512xbf16>, tensor<128x512xbf16>) -> tensor<4x128xbf16>
  %v2 = loom.linear %h, %wv : (tensor<4x512xbf16>, tensor<128x512xbf16>) -> tensor<4x128xbf16>
  %q3 = tensor.expand_shape %q2 [[0], [1, 2]] output_shape [4, 8, 64] : tensor<4x512xbf16> into tensor<4x8x64xbf16>
  %k3 = tensor.expand_shape %k2 [[0], [1, 2]] output_shape [4, 2, 64] : tensor<4x128xbf16> into tensor<4x2x64xbf16>
  %v3 = tensor.expand_shape %v2 [[0], [1, 2]] output_shape [4, 2, 64] : tensor<4x128xbf16> into tensor<4x2x64xbf16>
  %qr = loom.rope %q3, %cos, %sin, %positions : (tensor<4x8x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>, tensor<4xi32>) -> tensor<4x8x64xbf16>
  %kr = loom.rope %k3, %cos, %sin, %positions : (tensor<4x2x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>, tensor<4xi32>) -> tensor<4x2x64xbf16>
  %kc = loom.kv_cache_write %k_cache, %kr, %slots : (tensor<12x16x2x64xbf16>, tensor<4x2x64xbf16>, tensor<4xi32>) -> tensor<12x16x2x64xbf16>
  %vc = loom.kv_cache_write %v_cache, %v3, %slots : (tensor<12x16x2x64xbf16>, tensor<4x2x64xbf16>, tensor<4xi32>) -> tensor<12x16x2x64xbf16>
  %a = loom.paged_attention %qr, %kc, %vc, %q_offsets, %kv_lens, %block_table {causal}
      : (tensor<4x8x64xbf16>, tensor<12x16x2x64xbf16>, tensor<12x16x2x64xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<4x8x64xbf16>
  %a2 = tensor.collapse_shape %a [[0], [1, 2]] : tensor<4x8x64xbf16> into tensor<4x512xbf16>
  %o = loom.linear %a2, %wo : (tensor<4x512xbf16>, tensor<512x512xbf16>) -> tensor<4x512xbf16>
  %r = arith.addf %x, %o : tensor<4x512xbf16>
  %m = loom.rms_norm %r, %mlp_norm_w {epsilon = 1.0e-05 : f32} : (tensor<4x512xbf16>, tensor<512xbf16>) -> tensor<4x512xbf16>
  %g = loom.linear %m, %w_gate : (tensor<4x512xbf16>, tensor<1408x512xbf16>) -> tensor<4x1408xbf16>
  %u = loom.linear %m, %w_up : (tensor<4x512xbf16>, tensor<1408x512xbf16>) -> tensor<4x1408xbf16>
  %s = loom.silu %g : (tensor<4x1408xbf16>) -> tensor<4x1408xbf16>
  %gu = arith.mulf %s, %u : tensor<4x1408xbf16>
  %d = loom.linear %gu, %w_down : (tensor<4x1408xbf16>, tensor<512x1408xbf16>) -> tensor<4x512xbf16>
  %y = arith.addf %r, %d : tensor<4x512xbf16>
  return %y, %kc, %vc : tensor<4x512xbf16>, tensor<12x16x2x64xbf16>, tensor<12x16x2x64xbf16>
}
