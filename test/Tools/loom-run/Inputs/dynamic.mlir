// Entries whose argument sizes must fit together, for entry-checks.test.
func.func @norm(%x: tensor<?x?xf32>, %g: tensor<?xf32>) -> tensor<?x?xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-05 : f32} : (tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %n : tensor<?x?xf32>
}
// The signature says `?`; the body needs 4 (a static size known only inside).
func.func @fixed(%x: tensor<?xf32>) -> tensor<4xf32> {
  %c = tensor.cast %x : tensor<?xf32> to tensor<4xf32>
  %y = arith.addf %c, %c : tensor<4xf32>
  return %y : tensor<4xf32>
}
