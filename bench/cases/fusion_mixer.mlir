// Mixer fusion groups (loom-fuse) that the GPU runs as one launch of the
// fused mixer recipe (lib/GPU/Kernels/MixerKernel.cpp): a layer_norm or rms_norm
// prologue, loom.pool_mixer or loom.dwconv (K x K over [B, H, W, C], K over
// [B, S, C], causal or centred) and elementwise epilogues (the residual add,
// a layer-scale multiply).
// Ragged B, H, W, C throughout (not multiples of the 4 x 16 token tiles or
// of the 32 lanes that stride over C).

func.func @mixer_ln_pool3_f32_ragged(%x: tensor<2x13x17x40xf32>, %g: tensor<40xf32>, %b: tensor<40xf32>) -> tensor<2x13x17x40xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<2x13x17x40xf32>, tensor<40xf32>, tensor<40xf32>) -> tensor<2x13x17x40xf32>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<2x13x17x40xf32>) -> tensor<2x13x17x40xf32>
  %o = arith.addf %x, %m : tensor<2x13x17x40xf32>
  return %o : tensor<2x13x17x40xf32>
}

func.func @mixer_rms_pool5_bf16_ragged(%x: tensor<1x11x23x72xbf16>, %g: tensor<72xbf16>) -> tensor<1x11x23x72xbf16> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x11x23x72xbf16>, tensor<72xbf16>) -> tensor<1x11x23x72xbf16>
  %m = loom.pool_mixer %n {kernel = 5 : i64} : (tensor<1x11x23x72xbf16>) -> tensor<1x11x23x72xbf16>
  %o = arith.addf %m, %x : tensor<1x11x23x72xbf16>
  return %o : tensor<1x11x23x72xbf16>
}

func.func @mixer_ln_pool3_seq_bf16(%x: tensor<2x100x48xbf16>, %g: tensor<48xbf16>, %b: tensor<48xbf16>) -> tensor<2x100x48xbf16> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<2x100x48xbf16>, tensor<48xbf16>, tensor<48xbf16>) -> tensor<2x100x48xbf16>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<2x100x48xbf16>) -> tensor<2x100x48xbf16>
  %o = arith.addf %x, %m : tensor<2x100x48xbf16>
  return %o : tensor<2x100x48xbf16>
}

func.func @mixer_rms_pool5_seq_f32(%x: tensor<3x37x33xf32>, %g: tensor<33xf32>) -> tensor<3x37x33xf32> {
  %n = loom.rms_norm %x, %g : (tensor<3x37x33xf32>, tensor<33xf32>) -> tensor<3x37x33xf32>
  %m = loom.pool_mixer %n {kernel = 5 : i64} : (tensor<3x37x33xf32>) -> tensor<3x37x33xf32>
  %o = arith.addf %x, %m : tensor<3x37x33xf32>
  return %o : tensor<3x37x33xf32>
}

func.func @mixer_ln_pool3_scale_f16(%x: tensor<1x9x7x100xf16>, %g: tensor<100xf16>, %b: tensor<100xf16>, %s: tensor<1x9x7x100xf16>) -> tensor<1x9x7x100xf16> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<1x9x7x100xf16>, tensor<100xf16>, tensor<100xf16>) -> tensor<1x9x7x100xf16>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<1x9x7x100xf16>) -> tensor<1x9x7x100xf16>
  %l = arith.mulf %m, %s : tensor<1x9x7x100xf16>
  %o = arith.addf %x, %l : tensor<1x9x7x100xf16>
  return %o : tensor<1x9x7x100xf16>
}

func.func @mixer_ln_pool7_wide_bf16(%x: tensor<1x14x15x320xbf16>, %g: tensor<320xbf16>, %b: tensor<320xbf16>) -> tensor<1x14x15x320xbf16> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<1x14x15x320xbf16>, tensor<320xbf16>, tensor<320xbf16>) -> tensor<1x14x15x320xbf16>
  %m = loom.pool_mixer %n {kernel = 7 : i64} : (tensor<1x14x15x320xbf16>) -> tensor<1x14x15x320xbf16>
  %o = arith.addf %x, %m : tensor<1x14x15x320xbf16>
  return %o : tensor<1x14x15x320xbf16>
}

func.func @mixer_rms_pool3_longc_f32(%x: tensor<2x5x6x1100xf32>, %g: tensor<1100xf32>) -> tensor<2x5x6x1100xf32> {
  %n = loom.rms_norm %x, %g : (tensor<2x5x6x1100xf32>, tensor<1100xf32>) -> tensor<2x5x6x1100xf32>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<2x5x6x1100xf32>) -> tensor<2x5x6x1100xf32>
  %o = arith.addf %x, %m : tensor<2x5x6x1100xf32>
  return %o : tensor<2x5x6x1100xf32>
}

func.func @mixer_ln_pool3_nores_f32(%x: tensor<2x6x5x24xf32>, %g: tensor<24xf32>, %b: tensor<24xf32>) -> tensor<2x6x5x24xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<2x6x5x24xf32>, tensor<24xf32>, tensor<24xf32>) -> tensor<2x6x5x24xf32>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<2x6x5x24xf32>) -> tensor<2x6x5x24xf32>
  return %m : tensor<2x6x5x24xf32>
}

func.func @mixer_pool3_residual_bf16(%x: tensor<2x9x21x36xbf16>) -> tensor<2x9x21x36xbf16> {
  %m = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<2x9x21x36xbf16>) -> tensor<2x9x21x36xbf16>
  %o = arith.addf %x, %m : tensor<2x9x21x36xbf16>
  return %o : tensor<2x9x21x36xbf16>
}

func.func @mixer_rms_dw4_causal_seq_bf16(%x: tensor<2x150x40xbf16>, %g: tensor<40xbf16>, %w: tensor<4x40xbf16>) -> tensor<2x150x40xbf16> {
  %n = loom.rms_norm %x, %g : (tensor<2x150x40xbf16>, tensor<40xbf16>) -> tensor<2x150x40xbf16>
  %y = loom.dwconv %n, %w {causal} : (tensor<2x150x40xbf16>, tensor<4x40xbf16>) -> tensor<2x150x40xbf16>
  %o = arith.addf %x, %y : tensor<2x150x40xbf16>
  return %o : tensor<2x150x40xbf16>
}

func.func @mixer_ln_dw5_seq_f16(%x: tensor<3x45x20xf16>, %g: tensor<20xf16>, %b: tensor<20xf16>, %w: tensor<5x20xf16>) -> tensor<3x45x20xf16> {
  %n = loom.layer_norm %x, %g, %b : (tensor<3x45x20xf16>, tensor<20xf16>, tensor<20xf16>) -> tensor<3x45x20xf16>
  %y = loom.dwconv %n, %w : (tensor<3x45x20xf16>, tensor<5x20xf16>) -> tensor<3x45x20xf16>
  %o = arith.addf %y, %x : tensor<3x45x20xf16>
  return %o : tensor<3x45x20xf16>
}

func.func @mixer_ln_dw7x7_f32(%x: tensor<1x13x11x24xf32>, %g: tensor<24xf32>, %b: tensor<24xf32>, %w: tensor<7x7x24xf32>) -> tensor<1x13x11x24xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f32} : (tensor<1x13x11x24xf32>, tensor<24xf32>, tensor<24xf32>) -> tensor<1x13x11x24xf32>
  %y = loom.dwconv %n, %w : (tensor<1x13x11x24xf32>, tensor<7x7x24xf32>) -> tensor<1x13x11x24xf32>
  %o = arith.addf %x, %y : tensor<1x13x11x24xf32>
  return %o : tensor<1x13x11x24xf32>
}
