// Pooling and depthwise-convolution token mixers: 2-D and 1-D pooling with
// kernels 3 and 5, centred 1-D and 2-D convolutions, causal short and long
// (K = S) convolutions, ragged spatial sizes and dynamic dims.

func.func @pool2d_f32(%x: tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32> {
  %y = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
  return %y : tensor<1x16x16x64xf32>
}

func.func @pool2d_bf16_ragged(%x: tensor<2x13x17x40xbf16>) -> tensor<2x13x17x40xbf16> {
  %y = loom.pool_mixer %x {kernel = 5 : i64} : (tensor<2x13x17x40xbf16>) -> tensor<2x13x17x40xbf16>
  return %y : tensor<2x13x17x40xbf16>
}

func.func @pool1d_bf16(%x: tensor<2x100x8xbf16>) -> tensor<2x100x8xbf16> {
  %y = loom.pool_mixer %x {kernel = 5 : i64} : (tensor<2x100x8xbf16>) -> tensor<2x100x8xbf16>
  return %y : tensor<2x100x8xbf16>
}

func.func @pool2d_f16_dyn(%x: tensor<?x?x?x32xf16>) -> tensor<?x?x?x32xf16> {
  %y = loom.pool_mixer %x : (tensor<?x?x?x32xf16>) -> tensor<?x?x?x32xf16>
  return %y : tensor<?x?x?x32xf16>
}

func.func @dw1d_bf16(%x: tensor<2x100x8xbf16>, %w: tensor<7x8xbf16>) -> tensor<2x100x8xbf16> {
  %y = loom.dwconv %x, %w : (tensor<2x100x8xbf16>, tensor<7x8xbf16>) -> tensor<2x100x8xbf16>
  return %y : tensor<2x100x8xbf16>
}

func.func @dw1d_causal_f32(%x: tensor<1x333x24xf32>, %w: tensor<4x24xf32>) -> tensor<1x333x24xf32> {
  %y = loom.dwconv %x, %w {causal} : (tensor<1x333x24xf32>, tensor<4x24xf32>) -> tensor<1x333x24xf32>
  return %y : tensor<1x333x24xf32>
}

func.func @dw1d_long_causal_f16(%x: tensor<1x256x16xf16>, %w: tensor<256x16xf16>) -> tensor<1x256x16xf16> {
  %y = loom.dwconv %x, %w {causal} : (tensor<1x256x16xf16>, tensor<256x16xf16>) -> tensor<1x256x16xf16>
  return %y : tensor<1x256x16xf16>
}

func.func @dw1d_long_causal_bf16(%x: tensor<2x1000x8xbf16>, %w: tensor<1000x8xbf16>) -> tensor<2x1000x8xbf16> {
  %y = loom.dwconv %x, %w {causal} : (tensor<2x1000x8xbf16>, tensor<1000x8xbf16>) -> tensor<2x1000x8xbf16>
  return %y : tensor<2x1000x8xbf16>
}

func.func @dw2d_f32(%x: tensor<1x16x16x64xf32>, %w: tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32> {
  %y = loom.dwconv %x, %w : (tensor<1x16x16x64xf32>, tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32>
  return %y : tensor<1x16x16x64xf32>
}

func.func @dw2d_bf16_ragged(%x: tensor<2x15x9x20xbf16>, %w: tensor<3x5x20xbf16>) -> tensor<2x15x9x20xbf16> {
  %y = loom.dwconv %x, %w : (tensor<2x15x9x20xbf16>, tensor<3x5x20xbf16>) -> tensor<2x15x9x20xbf16>
  return %y : tensor<2x15x9x20xbf16>
}

func.func @dw1d_f32_dyn(%x: tensor<?x?x32xf32>, %w: tensor<5x32xf32>) -> tensor<?x?x32xf32> {
  %y = loom.dwconv %x, %w : (tensor<?x?x32xf32>, tensor<5x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}
