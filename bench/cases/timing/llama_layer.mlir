// The transformers comparison (bench/llama_layer.py): one Llama decoder
// layer as Hugging Face's LlamaDecoderLayer computes it, at its bench shape:
// S = 2048 tokens (batch 1), hidden 2048, 16 query heads and 4 kv heads of
// 128, SwiGLU intermediate 5632, bf16 everywhere, RMSNorm eps 1e-5, RoPE
// "half" (NeoX, rotate_half) with the tables [S, 64] f32, causal attention.
// Weights are [out, in] as torch's Linear stores them.
func.func @llama_layer(
    %x: tensor<2048x2048xbf16>, %attn_norm_w: tensor<2048xbf16>,
    %wq: tensor<2048x2048xbf16>, %wk: tensor<512x2048xbf16>,
    %wv: tensor<512x2048xbf16>, %wo: tensor<2048x2048xbf16>,
    %mlp_norm_w: tensor<2048xbf16>,
    %w_gate: tensor<5632x2048xbf16>, %w_up: tensor<5632x2048xbf16>,
    %w_down: tensor<2048x5632xbf16>,
    %cos: tensor<2048x64xf32>, %sin: tensor<2048x64xf32>) -> tensor<2048x2048xbf16> {
  // ---- attention ----
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<2048x2048xbf16>, tensor<2048xbf16>) -> tensor<2048x2048xbf16>
  %q2 = loom.linear %h, %wq : (tensor<2048x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16>
  %k2 = loom.linear %h, %wk : (tensor<2048x2048xbf16>, tensor<512x2048xbf16>) -> tensor<2048x512xbf16>
  %v2 = loom.linear %h, %wv : (tensor<2048x2048xbf16>, tensor<512x2048xbf16>) -> tensor<2048x512xbf16>
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 2048, 16, 128]
      : tensor<2048x2048xbf16> into tensor<1x2048x16x128xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 2048, 4, 128]
      : tensor<2048x512xbf16> into tensor<1x2048x4x128xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 2048, 4, 128]
      : tensor<2048x512xbf16> into tensor<1x2048x4x128xbf16>
  %q_init = tensor.empty() : tensor<1x16x2048x128xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x2048x16x128xbf16>)
      outs(%q_init : tensor<1x16x2048x128xbf16>) permutation = [0, 2, 1, 3]
  %k_init = tensor.empty() : tensor<1x4x2048x128xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x2048x4x128xbf16>)
      outs(%k_init : tensor<1x4x2048x128xbf16>) permutation = [0, 2, 1, 3]
  %v_init = tensor.empty() : tensor<1x4x2048x128xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x2048x4x128xbf16>)
      outs(%v_init : tensor<1x4x2048x128xbf16>) permutation = [0, 2, 1, 3]
  %q_rot = loom.rope %q, %cos, %sin {style = "half"}
      : (tensor<1x16x2048x128xbf16>, tensor<2048x64xf32>, tensor<2048x64xf32>) -> tensor<1x16x2048x128xbf16>
  %k_rot = loom.rope %k, %cos, %sin {style = "half"}
      : (tensor<1x4x2048x128xbf16>, tensor<2048x64xf32>, tensor<2048x64xf32>) -> tensor<1x4x2048x128xbf16>
  %attn = loom.attention %q_rot, %k_rot, %v {causal}
      : (tensor<1x16x2048x128xbf16>, tensor<1x4x2048x128xbf16>, tensor<1x4x2048x128xbf16>) -> tensor<1x16x2048x128xbf16>
  %o_init = tensor.empty() : tensor<1x2048x16x128xbf16>
  %o4 = linalg.transpose ins(%attn : tensor<1x16x2048x128xbf16>)
      outs(%o_init : tensor<1x2048x16x128xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]]
      : tensor<1x2048x16x128xbf16> into tensor<2048x2048xbf16>
  %attn_out = loom.linear %o2, %wo : (tensor<2048x2048xbf16>, tensor<2048x2048xbf16>) -> tensor<2048x2048xbf16>
  %x1 = arith.addf %x, %attn_out : tensor<2048x2048xbf16>
  // ---- SwiGLU MLP ----
  %h2 = loom.rms_norm %x1, %mlp_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<2048x2048xbf16>, tensor<2048xbf16>) -> tensor<2048x2048xbf16>
  %gate = loom.linear %h2, %w_gate : (tensor<2048x2048xbf16>, tensor<5632x2048xbf16>) -> tensor<2048x5632xbf16>
  %up = loom.linear %h2, %w_up : (tensor<2048x2048xbf16>, tensor<5632x2048xbf16>) -> tensor<2048x5632xbf16>
  %act = loom.silu %gate : (tensor<2048x5632xbf16>) -> tensor<2048x5632xbf16>
  %gated = arith.mulf %act, %up : tensor<2048x5632xbf16>
  %down = loom.linear %gated, %w_down : (tensor<2048x5632xbf16>, tensor<2048x5632xbf16>) -> tensor<2048x2048xbf16>
  %out = arith.addf %x1, %down : tensor<2048x2048xbf16>
  return %out : tensor<2048x2048xbf16>
}
