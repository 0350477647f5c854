// RoPE read through layout changes (Rows.cpp, the strided RoPE kernel): the
// [S, H * D] projection expanded to [1, S, H, D] and transposed to
// [1, H, S, D] is rotated in place, as beside the wgmma attention. Half and
// interleaved styles, bf16 and f16, S not a multiple of any block, a
// head dim whose rows the 16-byte vectors do not cover (D 36: the element
// path), and a transpose that is read twice (the plain kernel then).
func.func @rope_t_half_bf16(%x: tensor<77x512xbf16>, %cos: tensor<77x64xf32>, %sin: tensor<77x64xf32>) -> tensor<1x4x77x128xbf16> {
  %e = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 77, 4, 128] : tensor<77x512xbf16> into tensor<1x77x4x128xbf16>
  %init = tensor.empty() : tensor<1x4x77x128xbf16>
  %t = linalg.transpose ins(%e : tensor<1x77x4x128xbf16>) outs(%init : tensor<1x4x77x128xbf16>) permutation = [0, 2, 1, 3]
  %r = loom.rope %t, %cos, %sin {style = "half"} : (tensor<1x4x77x128xbf16>, tensor<77x64xf32>, tensor<77x64xf32>) -> tensor<1x4x77x128xbf16>
  return %r : tensor<1x4x77x128xbf16>
}

func.func @rope_t_interleaved_f16(%x: tensor<50x192xf16>, %cos: tensor<50x32xf32>, %sin: tensor<50x32xf32>) -> tensor<1x3x50x64xf16> {
  %e = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 50, 3, 64] : tensor<50x192xf16> into tensor<1x50x3x64xf16>
  %init = tensor.empty() : tensor<1x3x50x64xf16>
  %t = linalg.transpose ins(%e : tensor<1x50x3x64xf16>) outs(%init : tensor<1x3x50x64xf16>) permutation = [0, 2, 1, 3]
  %r = loom.rope %t, %cos, %sin {style = "interleaved"} : (tensor<1x3x50x64xf16>, tensor<50x32xf32>, tensor<50x32xf32>) -> tensor<1x3x50x64xf16>
  return %r : tensor<1x3x50x64xf16>
}

func.func @rope_t_half_d36(%x: tensor<33x72xbf16>, %cos: tensor<33x18xf32>, %sin: tensor<33x18xf32>) -> tensor<1x2x33x36xbf16> {
  %e = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 33, 2, 36] : tensor<33x72xbf16> into tensor<1x33x2x36xbf16>
  %init = tensor.empty() : tensor<1x2x33x36xbf16>
  %t = linalg.transpose ins(%e : tensor<1x33x2x36xbf16>) outs(%init : tensor<1x2x33x36xbf16>) permutation = [0, 2, 1, 3]
  %r = loom.rope %t, %cos, %sin {style = "half"} : (tensor<1x2x33x36xbf16>, tensor<33x18xf32>, tensor<33x18xf32>) -> tensor<1x2x33x36xbf16>
  return %r : tensor<1x2x33x36xbf16>
}

func.func @rope_t_shared(%x: tensor<40x256xbf16>, %cos: tensor<40x32xf32>, %sin: tensor<40x32xf32>) -> (tensor<1x4x40x64xbf16>, tensor<1x4x40x64xbf16>) {
  %e = tensor.expand_shape %x [[0, 1], [2, 3]] output_shape [1, 40, 4, 64] : tensor<40x256xbf16> into tensor<1x40x4x64xbf16>
  %init = tensor.empty() : tensor<1x4x40x64xbf16>
  %t = linalg.transpose ins(%e : tensor<1x40x4x64xbf16>) outs(%init : tensor<1x4x40x64xbf16>) permutation = [0, 2, 1, 3]
  %r = loom.rope %t, %cos, %sin {style = "half"} : (tensor<1x4x40x64xbf16>, tensor<40x32xf32>, tensor<40x32xf32>) -> tensor<1x4x40x64xbf16>
  return %r, %t : tensor<1x4x40x64xbf16>, tensor<1x4x40x64xbf16>
}
