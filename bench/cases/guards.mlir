// Numerical guards (docs/reliability.md, "Numerical guards"): rows that see
// no key, scores far beyond a softcap, +-1e4 activations, rows of 65536 with
// a mean of 1e4 and unit variance, zero quantization scales. Inputs are the
// random ones of gpu_check.py, scaled or offset by splat constants inside
// the function, so that the reference evaluates the same composition.

// select_blocks (causal, Sq > Skv): query blocks 0 and 1 have no candidate,
// their layout rows are all false, and block_sparse_attention (not causal)
// gives those rows zeros. topk covers every candidate (no near-ties).
func.func @guard_sel_empty_rows_bsa_bf16(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x72x64xbf16>, %v: tensor<1x2x72x64xbf16>) -> tensor<1x4x200x64xbf16> {
  %l = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 8 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x72x64xbf16>) -> tensor<1x4x4x2xi1>
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x4x200x64xbf16>, tensor<1x2x72x64xbf16>, tensor<1x2x72x64xbf16>, tensor<1x4x4x2xi1>) -> tensor<1x4x200x64xbf16>
  return %o : tensor<1x4x200x64xbf16>
}

// block_sparse_attention, causal with Sq > Skv: rows 0..63 see no key (the
// layout, every block selected, masks nothing).
func.func @guard_bsa_causal_sq_gt_skv_f16(%q: tensor<1x2x160x64xf16>, %k: tensor<1x2x96x64xf16>, %v: tensor<1x2x96x64xf16>) -> tensor<1x2x160x64xf16> {
  %l = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 8 : i64} : (tensor<1x2x160x64xf16>, tensor<1x2x96x64xf16>) -> tensor<1x2x3x2xi1>
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x2x160x64xf16>, tensor<1x2x96x64xf16>, tensor<1x2x96x64xf16>, tensor<1x2x3x2xi1>) -> tensor<1x2x160x64xf16>
  return %o : tensor<1x2x160x64xf16>
}

// A window with Sq > Skv: rows 0..49 see no key, the others at most 16.
func.func @guard_attn_window_sq_gt_skv_bf16(%q: tensor<1x2x150x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>) -> tensor<1x2x150x64xbf16> {
  %o = loom.attention %q, %k, %v {causal, window = 16 : i64} : (tensor<1x2x150x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) -> tensor<1x2x150x64xbf16>
  return %o : tensor<1x2x150x64xbf16>
}

// q, k of about +-1e4: scores of about 1e9 before the scale. The online
// softmax must not overflow (each row is about one value row of v).
func.func @guard_attn_large_bf16(%q: tensor<1x4x130x64xbf16>, %k: tensor<1x2x130x64xbf16>, %v: tensor<1x2x130x64xbf16>) -> tensor<1x4x130x64xbf16> {
  %cq = arith.constant dense<1.0e4> : tensor<1x4x130x64xbf16>
  %ck = arith.constant dense<1.0e4> : tensor<1x2x130x64xbf16>
  %qb = arith.mulf %q, %cq : tensor<1x4x130x64xbf16>
  %kb = arith.mulf %k, %ck : tensor<1x2x130x64xbf16>
  %o = loom.attention %qb, %kb, %v {causal} : (tensor<1x4x130x64xbf16>, tensor<1x2x130x64xbf16>, tensor<1x2x130x64xbf16>) -> tensor<1x4x130x64xbf16>
  return %o : tensor<1x4x130x64xbf16>
}

// The same scores through a softcap of 30: they saturate at +-30.
func.func @guard_attn_large_softcap_bf16(%q: tensor<1x2x77x64xbf16>, %k: tensor<1x2x200x64xbf16>, %v: tensor<1x2x200x64xbf16>) -> tensor<1x2x77x64xbf16> {
  %cq = arith.constant dense<1.0e4> : tensor<1x2x77x64xbf16>
  %ck = arith.constant dense<1.0e4> : tensor<1x2x200x64xbf16>
  %qb = arith.mulf %q, %cq : tensor<1x2x77x64xbf16>
  %kb = arith.mulf %k, %ck : tensor<1x2x200x64xbf16>
  %o = loom.attention %qb, %kb, %v {softcap = 30.0 : f32} : (tensor<1x2x77x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>) -> tensor<1x2x77x64xbf16>
  return %o : tensor<1x2x77x64xbf16>
}

// Rows of 65536 and 65537 with mean 1e4 and unit variance: the variance
// must not cancel, and the f32 mean's rounding (5e-4) must not show.
func.func @guard_ln_f32_offset_65536(%x: tensor<4x65536xf32>, %g: tensor<65536xf32>, %b: tensor<65536xf32>) -> tensor<4x65536xf32> {
  %c = arith.constant dense<1.0e4> : tensor<4x65536xf32>
  %xo = arith.addf %x, %c : tensor<4x65536xf32>
  %y = loom.layer_norm %xo, %g, %b : (tensor<4x65536xf32>, tensor<65536xf32>, tensor<65536xf32>) -> tensor<4x65536xf32>
  return %y : tensor<4x65536xf32>
}

func.func @guard_norms_f32_offset_65537(%x: tensor<3x65537xf32>, %g: tensor<65537xf32>, %b: tensor<65537xf32>) -> (tensor<3x65537xf32>, tensor<3x65537xf32>) {
  %c = arith.constant dense<1.0e4> : tensor<3x65537xf32>
  %xo = arith.addf %x, %c : tensor<3x65537xf32>
  %r = loom.rms_norm %xo, %g : (tensor<3x65537xf32>, tensor<65537xf32>) -> tensor<3x65537xf32>
  %y = loom.layer_norm %xo, %g, %b : (tensor<3x65537xf32>, tensor<65537xf32>, tensor<65537xf32>) -> tensor<3x65537xf32>
  return %r, %y : tensor<3x65537xf32>, tensor<3x65537xf32>
}

// Values of about +-1e4 in bf16 through both norms, long rows.
func.func @guard_norms_bf16_large_65536(%x: tensor<2x65536xbf16>, %g: tensor<65536xbf16>, %b: tensor<65536xbf16>) -> (tensor<2x65536xbf16>, tensor<2x65536xbf16>) {
  %c = arith.constant dense<1.0e4> : tensor<2x65536xbf16>
  %xl = arith.mulf %x, %c : tensor<2x65536xbf16>
  %r = loom.rms_norm %xl, %g : (tensor<2x65536xbf16>, tensor<65536xbf16>) -> tensor<2x65536xbf16>
  %y = loom.layer_norm %xl, %g, %b : (tensor<2x65536xbf16>, tensor<65536xbf16>, tensor<65536xbf16>) -> tensor<2x65536xbf16>
  return %r, %y : tensor<2x65536xbf16>, tensor<2x65536xbf16>
}

// Activations at about +-1e4: silu's exp(-x) overflows, gelu's x^3 is 1e12.
func.func @guard_act_large_bf16(%x: tensor<33x333xbf16>) -> (tensor<33x333xbf16>, tensor<33x333xbf16>, tensor<33x333xbf16>) {
  %c = arith.constant dense<1.0e4> : tensor<33x333xbf16>
  %xl = arith.mulf %x, %c : tensor<33x333xbf16>
  %a = loom.silu %xl : (tensor<33x333xbf16>) -> tensor<33x333xbf16>
  %b = loom.gelu %xl : (tensor<33x333xbf16>) -> tensor<33x333xbf16>
  %t = loom.gelu %xl {approximate = "tanh"} : (tensor<33x333xbf16>) -> tensor<33x333xbf16>
  return %a, %b, %t : tensor<33x333xbf16>, tensor<33x333xbf16>, tensor<33x333xbf16>
}

// All-zero rows: quantize gives scale 0 and xq 0 (not 0 / 0), and qmatmul
// then gives exactly the bias.
func.func @guard_zero_rows_w8a8_bf16(%x: tensor<16x256xbf16>, %w: tensor<48x256xi8>, %ws: tensor<48xf32>, %b: tensor<48xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>, tensor<16x48xbf16>) {
  %zero = arith.constant dense<0.0> : tensor<16x256xbf16>
  %xz = arith.mulf %x, %zero : tensor<16x256xbf16>
  %xq, %xs = loom.quantize %xz : (tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>)
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<16x256xi8>, tensor<16xf32>, tensor<48x256xi8>, tensor<48xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  return %xq, %xs, %y : tensor<16x256xi8>, tensor<16xf32>, tensor<16x48xbf16>
}

// qlinear (W4A16 GEMV and group-wise GEMM) with all scales zero: the bias.
func.func @guard_zero_scales_w4a16_bf16(%x: tensor<3x512xbf16>, %w: tensor<300x512xi4>, %s: tensor<300x4xf32>, %b: tensor<300xbf16>) -> tensor<3x300xbf16> {
  %zero = arith.constant dense<0.0> : tensor<300x4xf32>
  %sz = arith.mulf %s, %zero : tensor<300x4xf32>
  %y = loom.qlinear %x, %w, %sz, %b {group_size = 128 : i64} : (tensor<3x512xbf16>, tensor<300x512xi4>, tensor<300x4xf32>, tensor<300xbf16>) -> tensor<3x300xbf16>
  return %y : tensor<3x300xbf16>
}
