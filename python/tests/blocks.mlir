// Entries for the Python package's tests (python/tests): a static block, dynamic
// sizes with relations the module checks, i4 in and out with two results, and bf16.
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %a = loom.silu %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = arith.addf %a, %x : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

func.func @norm_linear(%x: tensor<?x?xf32>, %g: tensor<?xf32>, %w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  %y = loom.linear %n, %w : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

func.func @negate_i4(%w: tensor<2x4xi4>) -> (tensor<2x4xi4>, tensor<2x4xi8>) {
  %z = arith.constant dense<0> : tensor<2x4xi4>
  %n = arith.subi %z, %w : tensor<2x4xi4>
  %e = arith.extsi %w : tensor<2x4xi4> to tensor<2x4xi8>
  return %n, %e : tensor<2x4xi4>, tensor<2x4xi8>
}

func.func @double_bf16(%x: tensor<?x8xbf16>) -> tensor<?x8xbf16> {
  %y = arith.addf %x, %x : tensor<?x8xbf16>
  return %y : tensor<?x8xbf16>
}
