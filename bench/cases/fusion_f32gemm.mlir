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

// f32 activations with quantized weights (loom.qlinear): the weights are
// dequantized as the kernel stages them (i4 from the entry's packed bytes).
// Llama's SwiGLU MLP at f32 with i4 weights in groups of 32: rms_norm, the
// gate/up pair and its gating in one launch, the down projection and the
// residual add in another (two launches; eleven before).
func.func @f32g_q4_swiglu_mlp(%x: tensor<37x96xf32>, %nw: tensor<96xf32>,
    %wg: tensor<200x96xi4>, %sg: tensor<200x3xf32>, %wu: tensor<200x96xi4>, %su: tensor<200x3xf32>,
    %wd: tensor<96x200xi4>, %sd: tensor<96x5xf32>) -> tensor<37x96xf32> {
  %h = loom.rms_norm %x, %nw {epsilon = 1.0e-05 : f32} : (tensor<37x96xf32>, tensor<96xf32>) -> tensor<37x96xf32>
  %g = loom.qlinear %h, %wg, %sg {group_size = 32 : i64} : (tensor<37x96xf32>, tensor<200x96xi4>, tensor<200x3xf32>) -> tensor<37x200xf32>
  %u = loom.qlinear %h, %wu, %su {group_size = 32 : i64} : (tensor<37x96xf32>, tensor<200x96xi4>, tensor<200x3xf32>) -> tensor<37x200xf32>
  %a = loom.silu %g : (tensor<37x200xf32>) -> tensor<37x200xf32>
  %m = arith.mulf %a, %u : tensor<37x200xf32>
  %d = loom.qlinear %m, %wd, %sd {group_size = 40 : i64} : (tensor<37x200xf32>, tensor<96x200xi4>, tensor<96x5xf32>) -> tensor<37x96xf32>
  %o = arith.addf %x, %d : tensor<37x96xf32>
  return %o : tensor<37x96xf32>
}

// i8 weights, per-channel scales, bias and a residual add (odd K).
func.func @f32g_q8_channel_bias_residual(%x: tensor<130x101xf32>, %w: tensor<65x101xi8>, %s: tensor<65xf32>,
    %bias: tensor<65xf32>, %r: tensor<130x65xf32>) -> tensor<130x65xf32> {
  %h = loom.qlinear %x, %w, %s, %bias : (tensor<130x101xf32>, tensor<65x101xi8>, tensor<65xf32>, tensor<65xf32>) -> tensor<130x65xf32>
  %o = arith.addf %h, %r : tensor<130x65xf32>
  return %o : tensor<130x65xf32>
}

// layer_norm, then three i4 siblings with per-channel scales (QKV-like, N
// of each part ragged).
func.func @f32g_q4_siblings_layer(%x: tensor<33x70xf32>, %g: tensor<70xf32>, %b: tensor<70xf32>,
    %wq: tensor<90x70xi4>, %sq: tensor<90xf32>, %wk: tensor<30x70xi4>, %sk: tensor<30xf32>,
    %wv: tensor<30x70xi4>, %sv: tensor<30xf32>) -> (tensor<33x90xf32>, tensor<33x30xf32>, tensor<33x30xf32>) {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
      : (tensor<33x70xf32>, tensor<70xf32>, tensor<70xf32>) -> tensor<33x70xf32>
  %q = loom.qlinear %n, %wq, %sq : (tensor<33x70xf32>, tensor<90x70xi4>, tensor<90xf32>) -> tensor<33x90xf32>
  %k = loom.qlinear %n, %wk, %sk : (tensor<33x70xf32>, tensor<30x70xi4>, tensor<30xf32>) -> tensor<33x30xf32>
  %v = loom.qlinear %n, %wv, %sv : (tensor<33x70xf32>, tensor<30x70xi4>, tensor<30xf32>) -> tensor<33x30xf32>
  return %q, %k, %v : tensor<33x90xf32>, tensor<33x30xf32>, tensor<33x30xf32>
}

// An f32 GeGLU pair (GELU tanh, with biases; up written first), batch dims
// [2, 45]: one launch, both tiles in a block.
func.func @f32g_linear_geglu_bias(%x: tensor<2x45x64xf32>, %wg: tensor<90x64xf32>, %bg: tensor<90xf32>,
    %wu: tensor<90x64xf32>, %bu: tensor<90xf32>) -> tensor<2x45x90xf32> {
  %u = loom.linear %x, %wu, %bu : (tensor<2x45x64xf32>, tensor<90x64xf32>, tensor<90xf32>) -> tensor<2x45x90xf32>
  %g = loom.linear %x, %wg, %bg : (tensor<2x45x64xf32>, tensor<90x64xf32>, tensor<90xf32>) -> tensor<2x45x90xf32>
  %a = loom.gelu %g {approximate = "tanh"} : (tensor<2x45x90xf32>) -> tensor<2x45x90xf32>
  %m = arith.mulf %u, %a : tensor<2x45x90xf32>
  return %m : tensor<2x45x90xf32>
}

// i8 weights in groups of 24 (not a power of two) and GELU.
func.func @f32g_q8_grouped_gelu(%x: tensor<66x72xf32>, %w: tensor<77x72xi8>, %s: tensor<77x3xf32>) -> tensor<66x77xf32> {
  %h = loom.qlinear %x, %w, %s {group_size = 24 : i64} : (tensor<66x72xf32>, tensor<77x72xi8>, tensor<77x3xf32>) -> tensor<66x77xf32>
  %a = loom.gelu %h {approximate = "none"} : (tensor<66x77xf32>) -> tensor<66x77xf32>
  return %a : tensor<66x77xf32>
}
