// A small pre-norm block for the loom-run integration test: RMSNorm, a
// projection (linalg.matmul), tanh-GELU and a residual add; and RoPE with
// layer norm on a [B, H, S, D] tensor.
func.func @mlp_block(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-05 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x8xf32>) -> tensor<4x8xf32>
  %h = linalg.matmul ins(%n, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = loom.gelu %h {approximate = "tanh"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = arith.addf %a, %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

func.func @rope_norm(%q: tensor<1x2x4x8xf32>, %cos: tensor<4x4xf32>, %sin: tensor<4x4xf32>,
                     %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %r = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x2x4x8xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<1x2x4x8xf32>
  %n = loom.layer_norm %r, %g, %b : (tensor<1x2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x2x4x8xf32>
  return %r, %n : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}
