// A small block with an i4 boundary for the loom-compile tests.
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %a = loom.silu %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = arith.addf %a, %x : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}
func.func @widen(%w: tensor<2x?xi4>) -> tensor<2x?xi8> {
  %e = arith.extsi %w : tensor<2x?xi4> to tensor<2x?xi8>
  return %e : tensor<2x?xi8>
}
func.func private @helper(%x: f32) -> f32 {
  return %x : f32
}
