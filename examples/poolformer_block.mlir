// MetaFormer / PoolFormer block, channels-last x: [B, H, W, C] = [1, 16, 16, 64] f32.
// x + pool_mixer(layer_norm(x)), then x + fc2(gelu(fc1(layer_norm(x)))) with an MLP
// ratio of 4 (fc1: [256, 64] + bias [256], fc2: [64, 256] + bias [64]).
func.func @poolformer_block(
    %x: tensor<1x16x16x64xf32>,
    %norm1_w: tensor<64xf32>, %norm1_b: tensor<64xf32>,
    %norm2_w: tensor<64xf32>, %norm2_b: tensor<64xf32>,
    %fc1_w: tensor<256x64xf32>, %fc1_b: tensor<256xf32>,
    %fc2_w: tensor<64x256xf32>, %fc2_b: tensor<64xf32>) -> tensor<1x16x16x64xf32> {
  // ---- token mixer: 3x3 average pooling minus identity ----
  %n1 = loom.layer_norm %x, %norm1_w, %norm1_b {epsilon = 1.0e-05 : f32}
      : (tensor<1x16x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
  %mix = loom.pool_mixer %n1 {kernel = 3 : i64}
      : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
  %x1 = arith.addf %x, %mix : tensor<1x16x16x64xf32>

  // ---- channel MLP (leading [1, 16, 16] dims are batch for loom.linear) ----
  %n2 = loom.layer_norm %x1, %norm2_w, %norm2_b {epsilon = 1.0e-05 : f32}
      : (tensor<1x16x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
  %h = loom.linear %n2, %fc1_w, %fc1_b
      : (tensor<1x16x16x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x16x16x256xf32>
  %a = loom.gelu %h {approximate = "none"}
      : (tensor<1x16x16x256xf32>) -> tensor<1x16x16x256xf32>
  %y = loom.linear %a, %fc2_w, %fc2_b
      : (tensor<1x16x16x256xf32>, tensor<64x256xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
  %out = arith.addf %x1, %y : tensor<1x16x16x64xf32>
  return %out : tensor<1x16x16x64xf32>
}
