// Fusion groups (loom-fuse) that the GPU runs as one launch: GEMMs with an
// elementwise epilogue (residual add, SiLU, gating by an input, GELU) and
// horizontal siblings (QKV with ragged N per part, gate/up then SwiGLU).
// Ragged M, N, K throughout (not multiples of the 128 x 64/128 tiles).

func.func @fuse_lin_residual(%x: tensor<77x200xbf16>, %w: tensor<333x200xbf16>, %r: tensor<77x333xbf16>) -> tensor<77x333xbf16> {
  %y = loom.linear %x, %w : (tensor<77x200xbf16>, tensor<333x200xbf16>) -> tensor<77x333xbf16>
  %o = arith.addf %r, %y : tensor<77x333xbf16>
  return %o : tensor<77x333xbf16>
}

func.func @fuse_qlin_silu_gate(%x: tensor<48x256xbf16>, %w: tensor<200x256xi4>, %s: tensor<200x2xf32>, %e: tensor<48x200xbf16>) -> tensor<48x200xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<48x256xbf16>, tensor<200x256xi4>, tensor<200x2xf32>) -> tensor<48x200xbf16>
  %a = loom.silu %y : (tensor<48x200xbf16>) -> tensor<48x200xbf16>
  %o = arith.mulf %a, %e : tensor<48x200xbf16>
  return %o : tensor<48x200xbf16>
}

func.func @fuse_lin_bias_gelu_tanh(%x: tensor<40x64xf16>, %w: tensor<72x64xf16>, %b: tensor<72xf16>) -> tensor<40x72xf16> {
  %y = loom.linear %x, %w, %b : (tensor<40x64xf16>, tensor<72x64xf16>, tensor<72xf16>) -> tensor<40x72xf16>
  %o = loom.gelu %y {approximate = "tanh"} : (tensor<40x72xf16>) -> tensor<40x72xf16>
  return %o : tensor<40x72xf16>
}

func.func @fuse_lin_gelu_residual(%x: tensor<130x96xbf16>, %w: tensor<160x96xbf16>, %r: tensor<130x160xbf16>) -> tensor<130x160xbf16> {
  %y = loom.linear %x, %w : (tensor<130x96xbf16>, tensor<160x96xbf16>) -> tensor<130x160xbf16>
  %a = loom.gelu %y : (tensor<130x160xbf16>) -> tensor<130x160xbf16>
  %o = arith.addf %a, %r : tensor<130x160xbf16>
  return %o : tensor<130x160xbf16>
}

func.func @fuse_qkv_ragged(%x: tensor<70x128xbf16>, %nw: tensor<128xbf16>, %wq: tensor<96x128xbf16>, %wk: tensor<40x128xbf16>, %wv: tensor<200x128xbf16>)
    -> (tensor<70x96xbf16>, tensor<70x40xbf16>, tensor<70x200xbf16>) {
  %h = loom.rms_norm %x, %nw : (tensor<70x128xbf16>, tensor<128xbf16>) -> tensor<70x128xbf16>
  %q = loom.linear %h, %wq : (tensor<70x128xbf16>, tensor<96x128xbf16>) -> tensor<70x96xbf16>
  %k = loom.linear %h, %wk : (tensor<70x128xbf16>, tensor<40x128xbf16>) -> tensor<70x40xbf16>
  %v = loom.linear %h, %wv : (tensor<70x128xbf16>, tensor<200x128xbf16>) -> tensor<70x200xbf16>
  return %q, %k, %v : tensor<70x96xbf16>, tensor<70x40xbf16>, tensor<70x200xbf16>
}

func.func @fuse_swiglu_i4(%x: tensor<33x256xbf16>, %wg: tensor<150x256xi4>, %sg: tensor<150x2xf32>, %wu: tensor<150x256xi4>, %su: tensor<150x2xf32>) -> tensor<33x150xbf16> {
  %g = loom.qlinear %x, %wg, %sg {group_size = 128 : i64} : (tensor<33x256xbf16>, tensor<150x256xi4>, tensor<150x2xf32>) -> tensor<33x150xbf16>
  %u = loom.qlinear %x, %wu, %su {group_size = 128 : i64} : (tensor<33x256xbf16>, tensor<150x256xi4>, tensor<150x2xf32>) -> tensor<33x150xbf16>
  %a = loom.silu %g : (tensor<33x150xbf16>) -> tensor<33x150xbf16>
  %o = arith.mulf %a, %u : tensor<33x150xbf16>
  return %o : tensor<33x150xbf16>
}

// Gated pairs: one launch computes both products per tile and stores
// act(gate) * up (64 x 64 tiles up to M = 512, 128 x 64 above). GeGLU with
// biases written up-first; a bf16 SwiGLU with M > 512 and ragged N, K.
func.func @fuse_geglu_bias(%x: tensor<40x64xf16>, %wu: tensor<72x64xf16>, %bu: tensor<72xf16>, %wg: tensor<72x64xf16>, %bg: tensor<72xf16>) -> tensor<40x72xf16> {
  %u = loom.linear %x, %wu, %bu : (tensor<40x64xf16>, tensor<72x64xf16>, tensor<72xf16>) -> tensor<40x72xf16>
  %g = loom.linear %x, %wg, %bg : (tensor<40x64xf16>, tensor<72x64xf16>, tensor<72xf16>) -> tensor<40x72xf16>
  %a = loom.gelu %g {approximate = "tanh"} : (tensor<40x72xf16>) -> tensor<40x72xf16>
  %o = arith.mulf %u, %a : tensor<40x72xf16>
  return %o : tensor<40x72xf16>
}

func.func @fuse_swiglu_large_m(%x: tensor<600x200xbf16>, %wg: tensor<333x200xbf16>, %wu: tensor<333x200xbf16>) -> tensor<600x333xbf16> {
  %g = loom.linear %x, %wg : (tensor<600x200xbf16>, tensor<333x200xbf16>) -> tensor<600x333xbf16>
  %u = loom.linear %x, %wu : (tensor<600x200xbf16>, tensor<333x200xbf16>) -> tensor<600x333xbf16>
  %a = loom.silu %g : (tensor<600x333xbf16>) -> tensor<600x333xbf16>
  %o = arith.mulf %a, %u : tensor<600x333xbf16>
  return %o : tensor<600x333xbf16>
}

func.func @fuse_swiglu_i8_grouped(%x: tensor<130x256xf16>, %wg: tensor<100x256xi8>, %sg: tensor<100x2xf16>, %wu: tensor<100x256xi8>, %su: tensor<100x2xf16>) -> tensor<130x100xf16> {
  %g = loom.qlinear %x, %wg, %sg {group_size = 128 : i64} : (tensor<130x256xf16>, tensor<100x256xi8>, tensor<100x2xf16>) -> tensor<130x100xf16>
  %u = loom.qlinear %x, %wu, %su {group_size = 128 : i64} : (tensor<130x256xf16>, tensor<100x256xi8>, tensor<100x2xf16>) -> tensor<130x100xf16>
  %a = loom.silu %g : (tensor<130x100xf16>) -> tensor<130x100xf16>
  %o = arith.mulf %a, %u : tensor<130x100xf16>
  return %o : tensor<130x100xf16>
}

// Norm -> GEMM groups: the norm runs as its row kernel, the rest as one
// launch (gated, or with its epilogue). Ragged K = 200, 72 (partial K
// tiles); layer_norm in f16 and bf16; a norm whose result is also returned.
func.func @fuse_rms_swiglu_ragged(%x: tensor<150x200xbf16>, %nw: tensor<200xbf16>, %wg: tensor<260x200xbf16>, %wu: tensor<260x200xbf16>) -> tensor<150x260xbf16> {
  %h = loom.rms_norm %x, %nw {epsilon = 1.0e-06 : f32} : (tensor<150x200xbf16>, tensor<200xbf16>) -> tensor<150x200xbf16>
  %g = loom.linear %h, %wg : (tensor<150x200xbf16>, tensor<260x200xbf16>) -> tensor<150x260xbf16>
  %u = loom.linear %h, %wu : (tensor<150x200xbf16>, tensor<260x200xbf16>) -> tensor<150x260xbf16>
  %a = loom.silu %g : (tensor<150x260xbf16>) -> tensor<150x260xbf16>
  %o = arith.mulf %a, %u : tensor<150x260xbf16>
  return %o : tensor<150x260xbf16>
}

func.func @fuse_ln_linear_gelu(%x: tensor<90x72xf16>, %nw: tensor<72xf16>, %nb: tensor<72xf16>, %w: tensor<100x72xf16>, %b: tensor<100xf16>) -> tensor<90x100xf16> {
  %h = loom.layer_norm %x, %nw, %nb {epsilon = 1.0e-05 : f32} : (tensor<90x72xf16>, tensor<72xf16>, tensor<72xf16>) -> tensor<90x72xf16>
  %y = loom.linear %h, %w, %b : (tensor<90x72xf16>, tensor<100x72xf16>, tensor<100xf16>) -> tensor<90x100xf16>
  %o = loom.gelu %y : (tensor<90x100xf16>) -> tensor<90x100xf16>
  return %o : tensor<90x100xf16>
}

func.func @fuse_ln_qlinear_offset(%x: tensor<70x256xbf16>, %nw: tensor<256xbf16>, %nb: tensor<256xbf16>, %w: tensor<130x256xi8>, %s: tensor<130xf32>) -> tensor<70x130xbf16> {
  %h = loom.layer_norm %x, %nw, %nb {epsilon = 1.0e-05 : f32} : (tensor<70x256xbf16>, tensor<256xbf16>, tensor<256xbf16>) -> tensor<70x256xbf16>
  %y = loom.qlinear %h, %w, %s : (tensor<70x256xbf16>, tensor<130x256xi8>, tensor<130xf32>) -> tensor<70x130xbf16>
  return %y : tensor<70x130xbf16>
}

func.func @fuse_rms_escapes(%x: tensor<40x64xbf16>, %nw: tensor<64xbf16>, %w: tensor<48x64xbf16>) -> (tensor<40x48xbf16>, tensor<40x64xbf16>) {
  %h = loom.rms_norm %x, %nw : (tensor<40x64xbf16>, tensor<64xbf16>) -> tensor<40x64xbf16>
  %y = loom.linear %h, %w : (tensor<40x64xbf16>, tensor<48x64xbf16>) -> tensor<40x48xbf16>
  return %y, %h : tensor<40x48xbf16>, tensor<40x64xbf16>
}

// Decode-sized (M <= 16): the GEMV recipe with the epilogue in its store
// (K a multiple of 32), else the GEMM recipe's decode tiles with it (K =
// 200); an i4 qlinear with SiLU and a gating multiply at M = 1.
func.func @fuse_decode_residual(%x: tensor<8x256xbf16>, %w: tensor<100x256xbf16>, %r: tensor<8x100xbf16>) -> tensor<8x100xbf16> {
  %y = loom.linear %x, %w : (tensor<8x256xbf16>, tensor<100x256xbf16>) -> tensor<8x100xbf16>
  %o = arith.addf %y, %r : tensor<8x100xbf16>
  return %o : tensor<8x100xbf16>
}

func.func @fuse_decode_qlin_i4_silu_gate(%x: tensor<1x512xbf16>, %w: tensor<300x512xi4>, %s: tensor<300x4xf32>, %e: tensor<1x300xbf16>) -> tensor<1x300xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1x512xbf16>, tensor<300x512xi4>, tensor<300x4xf32>) -> tensor<1x300xbf16>
  %a = loom.silu %y : (tensor<1x300xbf16>) -> tensor<1x300xbf16>
  %o = arith.mulf %a, %e : tensor<1x300xbf16>
  return %o : tensor<1x300xbf16>
}

func.func @fuse_decode_ragged_k_gelu_residual(%x: tensor<5x200xf16>, %w: tensor<70x200xf16>, %b: tensor<70xf16>, %r: tensor<5x70xf16>) -> tensor<5x70xf16> {
  %y = loom.linear %x, %w, %b : (tensor<5x200xf16>, tensor<70x200xf16>, tensor<70xf16>) -> tensor<5x70xf16>
  %a = loom.gelu %y : (tensor<5x70xf16>) -> tensor<5x70xf16>
  %o = arith.addf %r, %a : tensor<5x70xf16>
  return %o : tensor<5x70xf16>
}

// Attention groups: q, k, v read in place from [S, H*D] (strided views), RoPE
// of q and k applied to the tiles in shared memory, the result written in
// place as [S, H*D]. Ragged S (77 rows: a partial Q tile and a partial K tile).
func.func @fuse_attn_rope_ragged(%q2: tensor<77x256xbf16>, %k2: tensor<77x128xbf16>, %v2: tensor<77x128xbf16>,
                                 %cos: tensor<77x32xf32>, %sin: tensor<77x32xf32>) -> tensor<77x256xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 4, 64] : tensor<77x256xbf16> into tensor<1x77x4x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x4x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x4x64xbf16>) outs(%e0 : tensor<1x4x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x77x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x77x2x64xbf16>) outs(%e1 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x64xbf16>) outs(%e2 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x4x77x64xbf16>, tensor<77x32xf32>, tensor<77x32xf32>) -> tensor<1x4x77x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x77x64xbf16>, tensor<77x32xf32>, tensor<77x32xf32>) -> tensor<1x2x77x64xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x4x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>) -> tensor<1x4x77x64xbf16>
  %e3 = tensor.empty() : tensor<1x77x4x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x4x77x64xbf16>) outs(%e3 : tensor<1x77x4x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x4x64xbf16> into tensor<77x256xbf16>
  return %o2 : tensor<77x256xbf16>
}

// K's RoPE with its table rows staged beside each K tile: many query tiles
// per kv head (5 x GQA 4), bf16 tables, a partial last K tile.
func.func @fuse_attn_rope_many_tiles_bf16tab(%q2: tensor<300x512xbf16>, %k2: tensor<300x128xbf16>, %v2: tensor<300x128xbf16>,
                                 %cos: tensor<300x32xbf16>, %sin: tensor<300x32xbf16>) -> tensor<300x512xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 300, 8, 64] : tensor<300x512xbf16> into tensor<1x300x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 300, 2, 64] : tensor<300x128xbf16> into tensor<1x300x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 300, 2, 64] : tensor<300x128xbf16> into tensor<1x300x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x8x300x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x300x8x64xbf16>) outs(%e0 : tensor<1x8x300x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x300x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x300x2x64xbf16>) outs(%e1 : tensor<1x2x300x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x300x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x300x2x64xbf16>) outs(%e2 : tensor<1x2x300x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x300x64xbf16>, tensor<300x32xbf16>, tensor<300x32xbf16>) -> tensor<1x8x300x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x300x64xbf16>, tensor<300x32xbf16>, tensor<300x32xbf16>) -> tensor<1x2x300x64xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x8x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>) -> tensor<1x8x300x64xbf16>
  %e3 = tensor.empty() : tensor<1x300x8x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x8x300x64xbf16>) outs(%e3 : tensor<1x300x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x300x8x64xbf16> into tensor<300x512xbf16>
  return %o2 : tensor<300x512xbf16>
}

// Interleaved RoPE, f16, D = 128, Sq != Skv (bottom-right aligned), no causal mask.
func.func @fuse_attn_rope_il_f16(%q2: tensor<100x256xf16>, %k2: tensor<140x128xf16>, %v2: tensor<140x128xf16>,
                                 %cq: tensor<100x64xf32>, %sq: tensor<100x64xf32>, %ck: tensor<140x64xf32>, %sk: tensor<140x64xf32>) -> tensor<100x256xf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 100, 2, 128] : tensor<100x256xf16> into tensor<1x100x2x128xf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 140, 1, 128] : tensor<140x128xf16> into tensor<1x140x1x128xf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 140, 1, 128] : tensor<140x128xf16> into tensor<1x140x1x128xf16>
  %e0 = tensor.empty() : tensor<1x2x100x128xf16>
  %q = linalg.transpose ins(%q4 : tensor<1x100x2x128xf16>) outs(%e0 : tensor<1x2x100x128xf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x1x140x128xf16>
  %k = linalg.transpose ins(%k4 : tensor<1x140x1x128xf16>) outs(%e1 : tensor<1x1x140x128xf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x1x140x128xf16>
  %v = linalg.transpose ins(%v4 : tensor<1x140x1x128xf16>) outs(%e2 : tensor<1x1x140x128xf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cq, %sq {style = "interleaved"} : (tensor<1x2x100x128xf16>, tensor<100x64xf32>, tensor<100x64xf32>) -> tensor<1x2x100x128xf16>
  %kr = loom.rope %k, %ck, %sk {style = "interleaved"} : (tensor<1x1x140x128xf16>, tensor<140x64xf32>, tensor<140x64xf32>) -> tensor<1x1x140x128xf16>
  %o = loom.attention %qr, %kr, %v : (tensor<1x2x100x128xf16>, tensor<1x1x140x128xf16>, tensor<1x1x140x128xf16>) -> tensor<1x2x100x128xf16>
  %e3 = tensor.empty() : tensor<1x100x2x128xf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x100x128xf16>) outs(%e3 : tensor<1x100x2x128xf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x100x2x128xf16> into tensor<100x256xf16>
  return %o2 : tensor<100x256xf16>
}

// Layout changes only (no RoPE), a sliding window, batch 2 in the [B, S, H*D] form.
func.func @fuse_attn_layout_window(%q3: tensor<2x150x128xbf16>, %k3: tensor<2x150x128xbf16>, %v3: tensor<2x150x128xbf16>) -> tensor<2x150x128xbf16> {
  %q4 = tensor.expand_shape %q3 [[0], [1], [2, 3]] output_shape [2, 150, 2, 64] : tensor<2x150x128xbf16> into tensor<2x150x2x64xbf16>
  %k4 = tensor.expand_shape %k3 [[0], [1], [2, 3]] output_shape [2, 150, 2, 64] : tensor<2x150x128xbf16> into tensor<2x150x2x64xbf16>
  %v4 = tensor.expand_shape %v3 [[0], [1], [2, 3]] output_shape [2, 150, 2, 64] : tensor<2x150x128xbf16> into tensor<2x150x2x64xbf16>
  %e0 = tensor.empty() : tensor<2x2x150x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<2x150x2x64xbf16>) outs(%e0 : tensor<2x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<2x2x150x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<2x150x2x64xbf16>) outs(%e1 : tensor<2x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<2x2x150x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<2x150x2x64xbf16>) outs(%e2 : tensor<2x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.attention %q, %k, %v {causal, window = 40 : i64} : (tensor<2x2x150x64xbf16>, tensor<2x2x150x64xbf16>, tensor<2x2x150x64xbf16>) -> tensor<2x2x150x64xbf16>
  %e3 = tensor.empty() : tensor<2x150x2x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<2x2x150x64xbf16>) outs(%e3 : tensor<2x150x2x64xbf16>) permutation = [0, 2, 1, 3]
  %o3 = tensor.collapse_shape %o4 [[0], [1], [2, 3]] : tensor<2x150x2x64xbf16> into tensor<2x150x128xbf16>
  return %o3 : tensor<2x150x128xbf16>
}

// Linear attention groups: q, k, v read in place from [S, H*D] (strided
// views) and the result written in place; ragged S (77, 130: partial
// 64-row chunks), Dk != Dv, bf16 and f32, causal with decay and not.
func.func @fuse_linattn_layout_bf16(%q2: tensor<77x128xbf16>, %k2: tensor<77x128xbf16>, %v2: tensor<77x96xbf16>) -> tensor<77x96xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xbf16> into tensor<1x77x2x48xbf16>
  %e0 = tensor.empty() : tensor<1x2x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xbf16>) outs(%e0 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x77x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x77x2x64xbf16>) outs(%e1 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xbf16>) outs(%e2 : tensor<1x2x77x48xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %k, %v {feature_map = "relu", normalize} : (tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x48xbf16>) -> tensor<1x2x77x48xbf16>
  %e3 = tensor.empty() : tensor<1x77x2x48xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xbf16>) outs(%e3 : tensor<1x77x2x48xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xbf16> into tensor<77x96xbf16>
  return %o2 : tensor<77x96xbf16>
}

func.func @fuse_linattn_layout_causal_f32(%q3: tensor<2x130x96xf32>, %k3: tensor<2x130x96xf32>, %v3: tensor<2x130x96xf32>) -> tensor<2x130x96xf32> {
  %q4 = tensor.expand_shape %q3 [[0], [1], [2, 3]] output_shape [2, 130, 3, 32] : tensor<2x130x96xf32> into tensor<2x130x3x32xf32>
  %k4 = tensor.expand_shape %k3 [[0], [1], [2, 3]] output_shape [2, 130, 3, 32] : tensor<2x130x96xf32> into tensor<2x130x3x32xf32>
  %v4 = tensor.expand_shape %v3 [[0], [1], [2, 3]] output_shape [2, 130, 3, 32] : tensor<2x130x96xf32> into tensor<2x130x3x32xf32>
  %e0 = tensor.empty() : tensor<2x3x130x32xf32>
  %q = linalg.transpose ins(%q4 : tensor<2x130x3x32xf32>) outs(%e0 : tensor<2x3x130x32xf32>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<2x3x130x32xf32>
  %k = linalg.transpose ins(%k4 : tensor<2x130x3x32xf32>) outs(%e1 : tensor<2x3x130x32xf32>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<2x3x130x32xf32>
  %v = linalg.transpose ins(%v4 : tensor<2x130x3x32xf32>) outs(%e2 : tensor<2x3x130x32xf32>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.05, 0.1, 0.2>} : (tensor<2x3x130x32xf32>, tensor<2x3x130x32xf32>, tensor<2x3x130x32xf32>) -> tensor<2x3x130x32xf32>
  %e3 = tensor.empty() : tensor<2x130x3x32xf32>
  %o4 = linalg.transpose ins(%o : tensor<2x3x130x32xf32>) outs(%e3 : tensor<2x130x3x32xf32>) permutation = [0, 2, 1, 3]
  %o3 = tensor.collapse_shape %o4 [[0], [1], [2, 3]] : tensor<2x130x3x32xf32> into tensor<2x130x96xf32>
  return %o3 : tensor<2x130x96xf32>
}
