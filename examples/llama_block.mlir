// Llama-style decoder block (pre-norm, GQA, RoPE, SwiGLU MLP) with W4A16 projections.
// x: [S, hidden] = [128, 512] bf16; Hq = 8, Hkv = 2, head dim D = 64, intermediate = 1408.
// Every projection is a loom.qlinear with i4 weights [N, K] and group-wise scales
// [N, K/128] f32 (group_size = 128); cos/sin are the RoPE tables [S, D/2] f32.
func.func @llama_block(
    %x: tensor<128x512xbf16>,
    %attn_norm_w: tensor<512xbf16>,
    %wq: tensor<512x512xi4>, %wq_scale: tensor<512x4xf32>,
    %wk: tensor<128x512xi4>, %wk_scale: tensor<128x4xf32>,
    %wv: tensor<128x512xi4>, %wv_scale: tensor<128x4xf32>,
    %wo: tensor<512x512xi4>, %wo_scale: tensor<512x4xf32>,
    %mlp_norm_w: tensor<512xbf16>,
    %w_gate: tensor<1408x512xi4>, %w_gate_scale: tensor<1408x4xf32>,
    %w_up: tensor<1408x512xi4>, %w_up_scale: tensor<1408x4xf32>,
    %w_down: tensor<512x1408xi4>, %w_down_scale: tensor<512x11xf32>,
    %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>) -> tensor<128x512xbf16> {
  // ---- attention ----
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  %q2 = loom.qlinear %h, %wq, %wq_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<512x512xi4>, tensor<512x4xf32>) -> tensor<128x512xbf16>
  %k2 = loom.qlinear %h, %wk, %wk_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<128x128xbf16>
  %v2 = loom.qlinear %h, %wv, %wv_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<128x128xbf16>

  // [S, H*D] -> [1, S, H, D] -> [1, H, S, D]
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 128, 8, 64]
      : tensor<128x512xbf16> into tensor<1x128x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 64]
      : tensor<128x128xbf16> into tensor<1x128x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 64]
      : tensor<128x128xbf16> into tensor<1x128x2x64xbf16>
  %q_init = tensor.empty() : tensor<1x8x128x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x128x8x64xbf16>)
      outs(%q_init : tensor<1x8x128x64xbf16>) permutation = [0, 2, 1, 3]
  %k_init = tensor.empty() : tensor<1x2x128x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x128x2x64xbf16>)
      outs(%k_init : tensor<1x2x128x64xbf16>) permutation = [0, 2, 1, 3]
  %v_init = tensor.empty() : tensor<1x2x128x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x128x2x64xbf16>)
      outs(%v_init : tensor<1x2x128x64xbf16>) permutation = [0, 2, 1, 3]

  %q_rot = loom.rope %q, %cos, %sin {style = "half"}
      : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  %k_rot = loom.rope %k, %cos, %sin {style = "half"}
      : (tensor<1x2x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x2x128x64xbf16>

  // GQA: 8 query heads share 2 kv heads; scale defaults to 1/sqrt(64).
  %attn = loom.attention %q_rot, %k_rot, %v {causal}
      : (tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>) -> tensor<1x8x128x64xbf16>

  // [1, H, S, D] -> [1, S, H, D] -> [S, H*D]
  %o_init = tensor.empty() : tensor<1x128x8x64xbf16>
  %o4 = linalg.transpose ins(%attn : tensor<1x8x128x64xbf16>)
      outs(%o_init : tensor<1x128x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]]
      : tensor<1x128x8x64xbf16> into tensor<128x512xbf16>
  %attn_out = loom.qlinear %o2, %wo, %wo_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<512x512xi4>, tensor<512x4xf32>) -> tensor<128x512xbf16>
  %x1 = arith.addf %x, %attn_out : tensor<128x512xbf16>

  // ---- SwiGLU MLP ----
  %h2 = loom.rms_norm %x1, %mlp_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  %gate = loom.qlinear %h2, %w_gate, %w_gate_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<1408x512xi4>, tensor<1408x4xf32>) -> tensor<128x1408xbf16>
  %up = loom.qlinear %h2, %w_up, %w_up_scale {group_size = 128 : i64}
      : (tensor<128x512xbf16>, tensor<1408x512xi4>, tensor<1408x4xf32>) -> tensor<128x1408xbf16>
  %act = loom.silu %gate : (tensor<128x1408xbf16>) -> tensor<128x1408xbf16>
  %gated = arith.mulf %act, %up : tensor<128x1408xbf16>
  %down = loom.qlinear %gated, %w_down, %w_down_scale {group_size = 128 : i64}
      : (tensor<128x1408xbf16>, tensor<512x1408xi4>, tensor<512x11xf32>) -> tensor<128x512xbf16>
  %out = arith.addf %x1, %down : tensor<128x512xbf16>
  return %out : tensor<128x512xbf16>
}
