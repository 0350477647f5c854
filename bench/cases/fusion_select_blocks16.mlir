// The long-context block with select_blocks and block-sparse attention on
// blocks of 16 (issue 14's small blocks): top-16 of the 64 key blocks a
// head; select_blocks as its fused kernel with both RoPEs, the block-sparse
// attention on the flash kernel's 16-row CTAs and 16-key tiles with Q's
// RoPE fused (K's RoPE stays a kernel of its own: 64 query tiles per kv
// head would each rotate K again). Checked against float64 like the
// examples.
func.func @long_context_block_blocks16(
    %x: tensor<1024x512xbf16>,
    %attn_norm_w: tensor<512xbf16>,
    %wq: tensor<512x512xbf16>, %wk: tensor<128x512xbf16>, %wv: tensor<128x512xbf16>,
    %wo: tensor<512x512xbf16>,
    %mlp_norm_w: tensor<512xbf16>,
    %w_gate: tensor<1408x512xbf16>, %w_up: tensor<1408x512xbf16>, %w_down: tensor<512x1408xbf16>,
    %cos: tensor<1024x32xf32>, %sin: tensor<1024x32xf32>) -> tensor<1024x512xbf16> {
  // ---- attention ----
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1024x512xbf16>, tensor<512xbf16>) -> tensor<1024x512xbf16>
  %q2 = loom.linear %h, %wq
      : (tensor<1024x512xbf16>, tensor<512x512xbf16>) -> tensor<1024x512xbf16>
  %k2 = loom.linear %h, %wk
      : (tensor<1024x512xbf16>, tensor<128x512xbf16>) -> tensor<1024x128xbf16>
  %v2 = loom.linear %h, %wv
      : (tensor<1024x512xbf16>, tensor<128x512xbf16>) -> tensor<1024x128xbf16>

  // [S, H*D] -> [1, S, H, D] -> [1, H, S, D]
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 1024, 8, 64]
      : tensor<1024x512xbf16> into tensor<1x1024x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 1024, 2, 64]
      : tensor<1024x128xbf16> into tensor<1x1024x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 1024, 2, 64]
      : tensor<1024x128xbf16> into tensor<1x1024x2x64xbf16>
  %q_init = tensor.empty() : tensor<1x8x1024x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x1024x8x64xbf16>)
      outs(%q_init : tensor<1x8x1024x64xbf16>) permutation = [0, 2, 1, 3]
  %k_init = tensor.empty() : tensor<1x2x1024x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x1024x2x64xbf16>)
      outs(%k_init : tensor<1x2x1024x64xbf16>) permutation = [0, 2, 1, 3]
  %v_init = tensor.empty() : tensor<1x2x1024x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x1024x2x64xbf16>)
      outs(%v_init : tensor<1x2x1024x64xbf16>) permutation = [0, 2, 1, 3]

  %q_rot = loom.rope %q, %cos, %sin {style = "half"}
      : (tensor<1x8x1024x64xbf16>, tensor<1024x32xf32>, tensor<1024x32xf32>) -> tensor<1x8x1024x64xbf16>
  %k_rot = loom.rope %k, %cos, %sin {style = "half"}
      : (tensor<1x2x1024x64xbf16>, tensor<1024x32xf32>, tensor<1024x32xf32>) -> tensor<1x2x1024x64xbf16>

  // 1024 / 16 = 64 query blocks x 64 key blocks per head; at most 1 + 16 key blocks per query block.
  %layout = loom.select_blocks %q_rot, %k_rot {block_q = 16 : i64, block_k = 16 : i64, topk = 16 : i64, causal}
      : (tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>) -> tensor<1x8x64x64xi1>
  %attn = loom.block_sparse_attention %q_rot, %k_rot, %v, %layout {block_q = 16 : i64, block_k = 16 : i64, causal}
      : (tensor<1x8x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<1x8x64x64xi1>) -> tensor<1x8x1024x64xbf16>

  // [1, H, S, D] -> [1, S, H, D] -> [S, H*D]
  %o_init = tensor.empty() : tensor<1x1024x8x64xbf16>
  %o4 = linalg.transpose ins(%attn : tensor<1x8x1024x64xbf16>)
      outs(%o_init : tensor<1x1024x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]]
      : tensor<1x1024x8x64xbf16> into tensor<1024x512xbf16>
  %attn_out = loom.linear %o2, %wo
      : (tensor<1024x512xbf16>, tensor<512x512xbf16>) -> tensor<1024x512xbf16>
  %x1 = arith.addf %x, %attn_out : tensor<1024x512xbf16>

  // ---- SwiGLU MLP ----
  %h2 = loom.rms_norm %x1, %mlp_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1024x512xbf16>, tensor<512xbf16>) -> tensor<1024x512xbf16>
  %gate = loom.linear %h2, %w_gate
      : (tensor<1024x512xbf16>, tensor<1408x512xbf16>) -> tensor<1024x1408xbf16>
  %up = loom.linear %h2, %w_up
      : (tensor<1024x512xbf16>, tensor<1408x512xbf16>) -> tensor<1024x1408xbf16>
  %act = loom.silu %gate : (tensor<1024x1408xbf16>) -> tensor<1024x1408xbf16>
  %gated = arith.mulf %act, %up : tensor<1024x1408xbf16>
  %down = loom.linear %gated, %w_down
      : (tensor<1024x1408xbf16>, tensor<512x1408xbf16>) -> tensor<1024x512xbf16>
  %out = arith.addf %x1, %down : tensor<1024x512xbf16>
  return %out : tensor<1024x512xbf16>
}
