// Head dims other than 64 and 128 (issue 14): any multiple of 16 up to 256
// takes a kernel. On sm_90a D 80 and 96 the wgmma kernel in zero-filled
// 64-column panels, D 192 and 256 the wgmma kernel with 64-key tiles; D 48,
// and every D on sm_80 or where the TMA cannot read the operands, the
// mma.sync flash kernel (rows of 10, 12 and 6 16-byte chunks for D 80, 96
// and 48, copied chunk by chunk; one m-tile a warp above 128, 32-key tiles
// where the shared memory is short); short queries (Sq <= 64) the flash
// kernel's 64-row CTAs. Ragged lengths, GQA, causal
// (bottom-right, Sq != Skv), window with softcap, the lse result, a
// block-sparse layout, dynamic sizes, and a fusion group with RoPE of q and
// k and the layout changes read in place.

func.func @hd_d80_causal_gqa(%q: tensor<2x8x333x80xbf16>, %k: tensor<2x2x333x80xbf16>, %v: tensor<2x2x333x80xbf16>) -> tensor<2x8x333x80xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x333x80xbf16>, tensor<2x2x333x80xbf16>, tensor<2x2x333x80xbf16>) -> tensor<2x8x333x80xbf16>
  return %o : tensor<2x8x333x80xbf16>
}

func.func @hd_d96_cross_window_softcap(%q: tensor<1x4x200x96xf16>, %k: tensor<1x4x450x96xf16>, %v: tensor<1x4x450x96xf16>) -> tensor<1x4x200x96xf16> {
  %o = loom.attention %q, %k, %v {causal, window = 100 : i64, softcap = 5.0 : f32, scale = 0.15 : f32} : (tensor<1x4x200x96xf16>, tensor<1x4x450x96xf16>, tensor<1x4x450x96xf16>) -> tensor<1x4x200x96xf16>
  return %o : tensor<1x4x200x96xf16>
}

func.func @hd_d96_lse(%q: tensor<1x4x130x96xbf16>, %k: tensor<1x2x77x96xbf16>, %v: tensor<1x2x77x96xbf16>) -> (tensor<1x4x130x96xbf16>, tensor<1x4x130xf32>) {
  %o, %lse = loom.attention %q, %k, %v {causal} : (tensor<1x4x130x96xbf16>, tensor<1x2x77x96xbf16>, tensor<1x2x77x96xbf16>) -> (tensor<1x4x130x96xbf16>, tensor<1x4x130xf32>)
  return %o, %lse : tensor<1x4x130x96xbf16>, tensor<1x4x130xf32>
}

func.func @hd_d256_causal(%q: tensor<1x4x300x256xbf16>, %k: tensor<1x4x300x256xbf16>, %v: tensor<1x4x300x256xbf16>) -> tensor<1x4x300x256xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x4x300x256xbf16>, tensor<1x4x300x256xbf16>, tensor<1x4x300x256xbf16>) -> tensor<1x4x300x256xbf16>
  return %o : tensor<1x4x300x256xbf16>
}

func.func @hd_d256_short_gqa(%q: tensor<2x4x40x256xf16>, %k: tensor<2x2x257x256xf16>, %v: tensor<2x2x257x256xf16>) -> tensor<2x4x40x256xf16> {
  %o = loom.attention %q, %k, %v : (tensor<2x4x40x256xf16>, tensor<2x2x257x256xf16>, tensor<2x2x257x256xf16>) -> tensor<2x4x40x256xf16>
  return %o : tensor<2x4x40x256xf16>
}

func.func @hd_d192(%q: tensor<1x2x257x192xbf16>, %k: tensor<1x2x257x192xbf16>, %v: tensor<1x2x257x192xbf16>) -> tensor<1x2x257x192xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x2x257x192xbf16>, tensor<1x2x257x192xbf16>, tensor<1x2x257x192xbf16>) -> tensor<1x2x257x192xbf16>
  return %o : tensor<1x2x257x192xbf16>
}

func.func @hd_d48_dyn(%q: tensor<?x4x?x48xf16>, %k: tensor<?x2x?x48xf16>, %v: tensor<?x2x?x48xf16>) -> tensor<?x4x?x48xf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<?x4x?x48xf16>, tensor<?x2x?x48xf16>, tensor<?x2x?x48xf16>) -> tensor<?x4x?x48xf16>
  return %o : tensor<?x4x?x48xf16>
}

func.func @hd_d80_sparse(%q: tensor<1x2x300x80xbf16>, %k: tensor<1x2x300x80xbf16>, %v: tensor<1x2x300x80xbf16>, %l: tensor<1x2x5x5xi1>) -> tensor<1x2x300x80xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x2x300x80xbf16>, tensor<1x2x300x80xbf16>, tensor<1x2x300x80xbf16>, tensor<1x2x5x5xi1>) -> tensor<1x2x300x80xbf16>
  return %o : tensor<1x2x300x80xbf16>
}

func.func @hd_d80_fused_rope(%q2: tensor<150x320xbf16>, %k2: tensor<150x160xbf16>, %v2: tensor<150x160xbf16>,
                             %cos: tensor<150x40xf32>, %sin: tensor<150x40xf32>) -> tensor<150x320xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 150, 4, 80] : tensor<150x320xbf16> into tensor<1x150x4x80xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 150, 2, 80] : tensor<150x160xbf16> into tensor<1x150x2x80xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 150, 2, 80] : tensor<150x160xbf16> into tensor<1x150x2x80xbf16>
  %e0 = tensor.empty() : tensor<1x4x150x80xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x150x4x80xbf16>) outs(%e0 : tensor<1x4x150x80xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x150x80xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x150x2x80xbf16>) outs(%e1 : tensor<1x2x150x80xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x150x80xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x150x2x80xbf16>) outs(%e2 : tensor<1x2x150x80xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x4x150x80xbf16>, tensor<150x40xf32>, tensor<150x40xf32>) -> tensor<1x4x150x80xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x150x80xbf16>, tensor<150x40xf32>, tensor<150x40xf32>) -> tensor<1x2x150x80xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x4x150x80xbf16>, tensor<1x2x150x80xbf16>, tensor<1x2x150x80xbf16>) -> tensor<1x4x150x80xbf16>
  %e3 = tensor.empty() : tensor<1x150x4x80xbf16>
  %ot = linalg.transpose ins(%o : tensor<1x4x150x80xbf16>) outs(%e3 : tensor<1x150x4x80xbf16>) permutation = [0, 2, 1, 3]
  %r = tensor.collapse_shape %ot [[0, 1], [2, 3]] : tensor<1x150x4x80xbf16> into tensor<150x320xbf16>
  return %r : tensor<150x320xbf16>
}

// Dv != D on the wgmma kernel (sm_90a; the generic path elsewhere):
// DeepSeek's 192 / 128 causal with GQA on ragged lengths, and 80 / 144
// with the lse and more keys than queries.
func.func @dv_192_128_causal_gqa(%q: tensor<2x8x300x192xbf16>, %k: tensor<2x2x300x192xbf16>, %v: tensor<2x2x300x128xbf16>) -> tensor<2x8x300x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x300x192xbf16>, tensor<2x2x300x192xbf16>, tensor<2x2x300x128xbf16>) -> tensor<2x8x300x128xbf16>
  return %o : tensor<2x8x300x128xbf16>
}

func.func @dv_80_144_lse(%q: tensor<1x4x200x80xf16>, %k: tensor<1x4x250x80xf16>, %v: tensor<1x4x250x144xf16>) -> (tensor<1x4x200x144xf16>, tensor<1x4x200xf32>) {
  %o, %lse = loom.attention %q, %k, %v {scale = 0.2 : f32} : (tensor<1x4x200x80xf16>, tensor<1x4x250x80xf16>, tensor<1x4x250x144xf16>) -> (tensor<1x4x200x144xf16>, tensor<1x4x200xf32>)
  return %o, %lse : tensor<1x4x200x144xf16>, tensor<1x4x200xf32>
}
