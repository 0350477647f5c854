// A .mlir file that does not parse (loom-run passes loom-compile's diagnostics on).
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32
  return %y : tensor<4xf32>
}
