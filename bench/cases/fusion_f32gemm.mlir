// f32 GEMM fusion groups (loom-fuse) that the GPU runs as one launch of the
// f32 SIMT GEMM recipe (include/loom/GPU/Kernels/F32GemmKernel.h): an rms_norm/layer_norm
// prologue, loom.linear with or without bias, elementwise epilogues (GELU
// erf/tanh, SiLU, residual add, gating multiply), leading batch dims, and
// horizontal siblings. Ragged M, N, K throughout (not multiples of the
// 16/32/64 tiles or of the K tile of 16); all three register tiles occur.

// layer_norm + linear + bias + GELU on [1, 7, 11, 72] (M = 77): 16 x 16 tiles.
func.func @f32g_layer_bias_gelu_batch(%x: tensor<1x7x11x72xf32>, %g: tensor<72xf32>, %b: tensor<72xf32>,
    %w: tensor<200x72xf32>, %bias: tensor<200xf32>) -> tensor<1x7x11x200xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
      : (tensor<1x7x11x72xf32>, tensor<72xf32>, tensor<72xf32>) -> tensor<1x7x11x72xf32>
  %h = loom.linear %n, %w, %bias
      : (tensor<1x7x11x72xf32>, tensor<200x72xf32>, tensor<200xf32>) -> tensor<1x7x11x200xf32>
  %a = loom.gelu %h {approximate = "none"} : (tensor<1x7x11x200xf32>) -> tensor<1x7x11x200xf32>
  return %a : tensor<1x7x11x200xf32>
}

// rms_norm + linear (no bias) + SiLU, gated by an input.
func.func @f32g_rms_silu_gate(%x: tensor<130x100xf32>, %g: tensor<100xf32>, %w: tensor<150x100xf32>,
    %e: tensor<130x150xf32>) -> tensor<130x150xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32}
      : (tensor<130x100xf32>, tensor<100xf32>) -> tensor<130x100xf32>
  %h = loom.linear %n, %w : (tensor<130x100xf32>, tensor<150x100xf32>) -> tensor<130x150xf32>
  %s = loom.silu %h : (tensor<130x150xf32>) -> tensor<130x150xf32>
  %o = arith.mulf %s, %e : tensor<130x150xf32>
  return %o : tensor<130x150xf32>
}

// linear + bias + residual add (PoolFormer's fc2 shape, ragged).
func.func @f32g_bias_residual(%x: tensor<300x257xf32>, %w: tensor<65x257xf32>, %bias: tensor<65xf32>,
    %r: tensor<300x65xf32>) -> tensor<300x65xf32> {
  %h = loom.linear %x, %w, %bias : (tensor<300x257xf32>, tensor<65x257xf32>, tensor<65xf32>) -> tensor<300x65xf32>
  %o = arith.addf %r, %h : tensor<300x65xf32>
  return %o : tensor<300x65xf32>
}

// linear + GELU (tanh) + residual add, batch dims [2, 300]: 32 x 32 tiles.
func.func @f32g_gelu_tanh_residual_batch(%x: tensor<2x300x130xf32>, %w: tensor<333x130xf32>,
    %r: tensor<2x300x333xf32>) -> tensor<2x300x333xf32> {
  %h = loom.linear %x, %w : (tensor<2x300x130xf32>, tensor<333x130xf32>) -> tensor<2x300x333xf32>
  %a = loom.gelu %h {approximate = "tanh"} : (tensor<2x300x333xf32>) -> tensor<2x300x333xf32>
  %o = arith.addf %a, %r : tensor<2x300x333xf32>
  return %o : tensor<2x300x333xf32>
}

// layer_norm + linear + bias + GELU, large enough for the 64 x 64 tiles.
func.func @f32g_layer_bias_gelu_large(%x: tensor<1100x77xf32>, %g: tensor<77xf32>, %b: tensor<77xf32>,
    %w: tensor<700x77xf32>, %bias: tensor<700xf32>) -> tensor<1100x700xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
      : (tensor<1100x77xf32>, tensor<77xf32>, tensor<77xf32>) -> tensor<1100x77xf32>
  %h = loom.linear %n, %w, %bias : (tensor<1100x77xf32>, tensor<700x77xf32>, tensor<700xf32>) -> tensor<1100x700xf32>
  %a = loom.gelu %h : (tensor<1100x700xf32>) -> tensor<1100x700xf32>
  return %a : tensor<1100x700xf32>
}

// rms_norm + linear with K = 5 (less than one K tile), no epilogue.
func.func @f32g_rms_small_k(%x: tensor<40x5xf32>, %g: tensor<5xf32>, %w: tensor<33x5xf32>) -> tensor<40x33xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<40x5xf32>, tensor<5xf32>) -> tensor<40x5xf32>
  %h = loom.linear %n, %w : (tensor<40x5xf32>, tensor<33x5xf32>) -> tensor<40x33xf32>
  return %h : tensor<40x33xf32>
}

// layer_norm + three sibling linears with bias (the linear attention block's
// q/k/v projections, ragged N per part), batch dim: one launch.
func.func @f32g_layer_qkv(%x: tensor<1x90x100xf32>, %g: tensor<100xf32>, %b: tensor<100xf32>,
    %wq: tensor<64x100xf32>, %bq: tensor<64xf32>, %wk: tensor<40x100xf32>, %bk: tensor<40xf32>,
    %wv: tensor<70x100xf32>, %bv: tensor<70xf32>)
    -> (tensor<1x90x64xf32>, tensor<1x90x40xf32>, tensor<1x90x70xf32>) {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
      : (tensor<1x90x100xf32>, tensor<100xf32>, tensor<100xf32>) -> tensor<1x90x100xf32>
  %q = loom.linear %n, %wq, %bq : (tensor<1x90x100xf32>, tensor<64x100xf32>, tensor<64xf32>) -> tensor<1x90x64xf32>
  %k = loom.linear %n, %wk, %bk : (tensor<1x90x100xf32>, tensor<40x100xf32>, tensor<40xf32>) -> tensor<1x90x40xf32>
  %v = loom.linear %n, %wv, %bv : (tensor<1x90x100xf32>, tensor<70x100xf32>, tensor<70xf32>) -> tensor<1x90x70xf32>
  return %q, %k, %v : tensor<1x90x64xf32>, tensor<1x90x40xf32>, tensor<1x90x70xf32>
}

// rms_norm + two sibling linears without bias.
func.func @f32g_rms_siblings(%x: tensor<50x48xf32>, %g: tensor<48xf32>, %w1: tensor<30x48xf32>,
    %w2: tensor<17x48xf32>) -> (tensor<50x30xf32>, tensor<50x17xf32>) {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<50x48xf32>, tensor<48xf32>) -> tensor<50x48xf32>
  %a = loom.linear %n, %w1 : (tensor<50x48xf32>, tensor<30x48xf32>) -> tensor<50x30xf32>
  %c = loom.linear %n, %w2 : (tensor<50x48xf32>, tensor<17x48xf32>) -> tensor<50x17xf32>
  return %a, %c : tensor<50x30xf32>, tensor<50x17xf32>
}
