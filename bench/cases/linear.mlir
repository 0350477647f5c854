// Dense linear layers: f32 with bias and batch dims, ragged M/N/K
// (77 x 333 x 200), f16, bf16 tile-multiple and decode (M = 1), dynamic M.

func.func @lin_f32_bias_3d(%x: tensor<2x7x64xf32>, %w: tensor<48x64xf32>, %b: tensor<48xf32>) -> tensor<2x7x48xf32> {
  %y = loom.linear %x, %w, %b : (tensor<2x7x64xf32>, tensor<48x64xf32>, tensor<48xf32>) -> tensor<2x7x48xf32>
  return %y : tensor<2x7x48xf32>
}

func.func @lin_bf16_ragged_bias(%x: tensor<77x200xbf16>, %w: tensor<333x200xbf16>, %b: tensor<333xbf16>) -> tensor<77x333xbf16> {
  %y = loom.linear %x, %w, %b : (tensor<77x200xbf16>, tensor<333x200xbf16>, tensor<333xbf16>) -> tensor<77x333xbf16>
  return %y : tensor<77x333xbf16>
}

func.func @lin_f16(%x: tensor<64x128xf16>, %w: tensor<96x128xf16>) -> tensor<64x96xf16> {
  %y = loom.linear %x, %w : (tensor<64x128xf16>, tensor<96x128xf16>) -> tensor<64x96xf16>
  return %y : tensor<64x96xf16>
}

func.func @lin_bf16_tiles(%x: tensor<256x512xbf16>, %w: tensor<512x512xbf16>) -> tensor<256x512xbf16> {
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<512x512xbf16>) -> tensor<256x512xbf16>
  return %y : tensor<256x512xbf16>
}

func.func @lin_bf16_decode(%x: tensor<1x1024xbf16>, %w: tensor<1000x1024xbf16>) -> tensor<1x1000xbf16> {
  %y = loom.linear %x, %w : (tensor<1x1024xbf16>, tensor<1000x1024xbf16>) -> tensor<1x1000xbf16>
  return %y : tensor<1x1000xbf16>
}

func.func @lin_f32_dyn(%x: tensor<?x64xf32>, %w: tensor<48x64xf32>, %b: tensor<48xf32>) -> tensor<?x48xf32> {
  %y = loom.linear %x, %w, %b : (tensor<?x64xf32>, tensor<48x64xf32>, tensor<48xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

func.func @lin_bf16_dyn_batch(%x: tensor<?x?x256xbf16>, %w: tensor<320x256xbf16>) -> tensor<?x?x320xbf16> {
  %y = loom.linear %x, %w : (tensor<?x?x256xbf16>, tensor<320x256xbf16>) -> tensor<?x?x320xbf16>
  return %y : tensor<?x?x320xbf16>
}

// The wgmma GEMM on sm_90a: more tiles than SMs (persistent CTAs walk
// 16 x 12 tiles), K not a multiple of the 64-wide K step, a bias.
func.func @lin_bf16_persistent(%x: tensor<2000x1000xbf16>, %w: tensor<3000x1000xbf16>, %b: tensor<3000xbf16>) -> tensor<2000x3000xbf16> {
  %y = loom.linear %x, %w, %b : (tensor<2000x1000xbf16>, tensor<3000x1000xbf16>, tensor<3000xbf16>) -> tensor<2000x3000xbf16>
  return %y : tensor<2000x3000xbf16>
}

// An odd N (element-by-element stores on every edge tile), f16.
func.func @lin_f16_odd_n(%x: tensor<300x264xf16>, %w: tensor<517x264xf16>) -> tensor<300x517xf16> {
  %y = loom.linear %x, %w : (tensor<300x264xf16>, tensor<517x264xf16>) -> tensor<300x517xf16>
  return %y : tensor<300x517xf16>
}

// K not a multiple of 8: the tensor maps cannot describe the rows, so the
// mma.sync kernel runs.
func.func @lin_bf16_k_unaligned(%x: tensor<130x100xbf16>, %w: tensor<70x100xbf16>) -> tensor<130x70xbf16> {
  %y = loom.linear %x, %w : (tensor<130x100xbf16>, tensor<70x100xbf16>) -> tensor<130x70xbf16>
  return %y : tensor<130x70xbf16>
}
