// Parses but does not verify (a loom op verifier error).
func.func @f(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %o = loom.attention %q, %k, %k : (tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32>) -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
