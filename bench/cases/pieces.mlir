// Block pieces: RMSNorm and LayerNorm (bf16/f16/f32, batch dims, ragged C,
// dynamic rows), RoPE half and interleaved, GELU erf and tanh, SiLU.

func.func @rms_bf16(%x: tensor<128x512xbf16>, %g: tensor<512xbf16>) -> tensor<128x512xbf16> {
  %y = loom.rms_norm %x, %g {epsilon = 1.0e-6 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

func.func @rms_f32_3d_ragged(%x: tensor<2x7x333xf32>, %g: tensor<333xf32>) -> tensor<2x7x333xf32> {
  %y = loom.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : (tensor<2x7x333xf32>, tensor<333xf32>) -> tensor<2x7x333xf32>
  return %y : tensor<2x7x333xf32>
}

func.func @rms_f16_dyn(%x: tensor<?x200xf16>, %g: tensor<200xf16>) -> tensor<?x200xf16> {
  %y = loom.rms_norm %x, %g : (tensor<?x200xf16>, tensor<200xf16>) -> tensor<?x200xf16>
  return %y : tensor<?x200xf16>
}

func.func @ln_f32_dyn(%x: tensor<?x512xf32>, %g: tensor<512xf32>, %b: tensor<512xf32>) -> tensor<?x512xf32> {
  %y = loom.layer_norm %x, %g, %b : (tensor<?x512xf32>, tensor<512xf32>, tensor<512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @ln_bf16_3d(%x: tensor<4x77x96xbf16>, %g: tensor<96xbf16>, %b: tensor<96xbf16>) -> tensor<4x77x96xbf16> {
  %y = loom.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : (tensor<4x77x96xbf16>, tensor<96xbf16>, tensor<96xbf16>) -> tensor<4x77x96xbf16>
  return %y : tensor<4x77x96xbf16>
}

func.func @rope_half_bf16(%x: tensor<1x8x128x64xbf16>, %c: tensor<128x32xf32>, %s: tensor<128x32xf32>) -> tensor<1x8x128x64xbf16> {
  %y = loom.rope %x, %c, %s {style = "half"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  return %y : tensor<1x8x128x64xbf16>
}

func.func @rope_interleaved_f32(%x: tensor<2x3x77x32xf32>, %c: tensor<77x16xf32>, %s: tensor<77x16xf32>) -> tensor<2x3x77x32xf32> {
  %y = loom.rope %x, %c, %s {style = "interleaved"} : (tensor<2x3x77x32xf32>, tensor<77x16xf32>, tensor<77x16xf32>) -> tensor<2x3x77x32xf32>
  return %y : tensor<2x3x77x32xf32>
}

func.func @rope_half_f16_dyn(%x: tensor<?x?x?x64xf16>, %c: tensor<?x32xf32>, %s: tensor<?x32xf32>) -> tensor<?x?x?x64xf16> {
  %y = loom.rope %x, %c, %s : (tensor<?x?x?x64xf16>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x?x?x64xf16>
  return %y : tensor<?x?x?x64xf16>
}

func.func @gelu_erf_bf16(%x: tensor<128x512xbf16>) -> tensor<128x512xbf16> {
  %y = loom.gelu %x : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

func.func @gelu_tanh_f32(%x: tensor<77x333xf32>) -> tensor<77x333xf32> {
  %y = loom.gelu %x {approximate = "tanh"} : (tensor<77x333xf32>) -> tensor<77x333xf32>
  return %y : tensor<77x333xf32>
}

func.func @gelu_erf_f16_dyn(%x: tensor<?x?xf16>) -> tensor<?x?xf16> {
  %y = loom.gelu %x {approximate = "none"} : (tensor<?x?xf16>) -> tensor<?x?xf16>
  return %y : tensor<?x?xf16>
}

func.func @silu_f32_dyn(%x: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = loom.silu %x : (tensor<?x512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

func.func @silu_bf16_3d(%x: tensor<3x5x77xbf16>) -> tensor<3x5x77xbf16> {
  %y = loom.silu %x : (tensor<3x5x77xbf16>) -> tensor<3x5x77xbf16>
  return %y : tensor<3x5x77xbf16>
}

// SwiGLU gate and residual: loom ops mixed with upstream arith on tensors.
func.func @swiglu_residual_bf16(%x: tensor<33x200xbf16>, %gate: tensor<33x200xbf16>, %up: tensor<33x200xbf16>) -> tensor<33x200xbf16> {
  %a = loom.silu %gate : (tensor<33x200xbf16>) -> tensor<33x200xbf16>
  %m = arith.mulf %a, %up : tensor<33x200xbf16>
  %y = arith.addf %x, %m : tensor<33x200xbf16>
  return %y : tensor<33x200xbf16>
}
