func.func @dyn(%x: tensor<?x64xf32>, %nw: tensor<64xf32>, %w: tensor<32x64xf32>) -> tensor<?x32xf32> {
  %h = loom.rms_norm %x, %nw : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %l = loom.linear %h, %w : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %s = loom.silu %l : (tensor<?x32xf32>) -> tensor<?x32xf32>
  return %s : tensor<?x32xf32>
}
