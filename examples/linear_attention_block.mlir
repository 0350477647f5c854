// Linear-attention block with per-head exponential decay (RetNet/Lightning-style):
// x [B, S, C] = [1, 256, 256] f32, 4 heads of dim 64; q/k/v/o projections are loom.linear
// with bias, phi = elu(x) + 1, causal, normalized, decay = 2^-8 .. 2^-5 per head.
func.func @linear_attention_block(
    %x: tensor<1x256x256xf32>,
    %norm_w: tensor<256xf32>, %norm_b: tensor<256xf32>,
    %wq: tensor<256x256xf32>, %bq: tensor<256xf32>,
    %wk: tensor<256x256xf32>, %bk: tensor<256xf32>,
    %wv: tensor<256x256xf32>, %bv: tensor<256xf32>,
    %wo: tensor<256x256xf32>, %bo: tensor<256xf32>) -> tensor<1x256x256xf32> {
  %h = loom.layer_norm %x, %norm_w, %norm_b {epsilon = 1.0e-05 : f32}
      : (tensor<1x256x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<1x256x256xf32>
  %q3 = loom.linear %h, %wq, %bq
      : (tensor<1x256x256xf32>, tensor<256x256xf32>, tensor<256xf32>) -> tensor<1x256x256xf32>
  %k3 = loom.linear %h, %wk, %bk
      : (tensor<1x256x256xf32>, tensor<256x256xf32>, tensor<256xf32>) -> tensor<1x256x256xf32>
  %v3 = loom.linear %h, %wv, %bv
      : (tensor<1x256x256xf32>, tensor<256x256xf32>, tensor<256xf32>) -> tensor<1x256x256xf32>

  // [B, S, H*D] -> [B, S, H, D] -> [B, H, S, D]
  %q4 = tensor.expand_shape %q3 [[0], [1], [2, 3]] output_shape [1, 256, 4, 64]
      : tensor<1x256x256xf32> into tensor<1x256x4x64xf32>
  %k4 = tensor.expand_shape %k3 [[0], [1], [2, 3]] output_shape [1, 256, 4, 64]
      : tensor<1x256x256xf32> into tensor<1x256x4x64xf32>
  %v4 = tensor.expand_shape %v3 [[0], [1], [2, 3]] output_shape [1, 256, 4, 64]
      : tensor<1x256x256xf32> into tensor<1x256x4x64xf32>
  %q_init = tensor.empty() : tensor<1x4x256x64xf32>
  %q = linalg.transpose ins(%q4 : tensor<1x256x4x64xf32>)
      outs(%q_init : tensor<1x4x256x64xf32>) permutation = [0, 2, 1, 3]
  %k_init = tensor.empty() : tensor<1x4x256x64xf32>
  %k = linalg.transpose ins(%k4 : tensor<1x256x4x64xf32>)
      outs(%k_init : tensor<1x4x256x64xf32>) permutation = [0, 2, 1, 3]
  %v_init = tensor.empty() : tensor<1x4x256x64xf32>
  %v = linalg.transpose ins(%v4 : tensor<1x256x4x64xf32>)
      outs(%v_init : tensor<1x4x256x64xf32>) permutation = [0, 2, 1, 3]

  %attn = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.00390625, 0.0078125, 0.015625, 0.03125>, normalize}
      : (tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>) -> tensor<1x4x256x64xf32>

  // [B, H, S, D] -> [B, S, H, D] -> [B, S, H*D]
  %o_init = tensor.empty() : tensor<1x256x4x64xf32>
  %o4 = linalg.transpose ins(%attn : tensor<1x4x256x64xf32>)
      outs(%o_init : tensor<1x256x4x64xf32>) permutation = [0, 2, 1, 3]
  %o3 = tensor.collapse_shape %o4 [[0], [1], [2, 3]]
      : tensor<1x256x4x64xf32> into tensor<1x256x256xf32>
  %y = loom.linear %o3, %wo, %bo
      : (tensor<1x256x256xf32>, tensor<256x256xf32>, tensor<256xf32>) -> tensor<1x256x256xf32>
  %out = arith.addf %x, %y : tensor<1x256x256xf32>
  return %out : tensor<1x256x256xf32>
}
