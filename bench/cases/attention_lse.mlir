// The lse result of the attention ops and loom.merge_attention (issue 14,
// deliverable 3). Decode-sized attention with lse takes the split-KV kernels
// (the combine kernel writes lse), bf16/f16 D 64/128 prefill the flash kernel
// (_lse), the rest (f32, block-sparse with 32-blocks) and merge_attention
// the generic path. Rows without a visible key have lse = -inf (checked
// exactly by gpu_check.compare) and o = 0.

func.func @lse_decode_bf16_gqa(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x333x64xbf16>, %v: tensor<2x2x333x64xbf16>) -> (tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>) {
  %o, %l = loom.attention %q, %k, %v {causal} : (tensor<2x8x1x64xbf16>, tensor<2x2x333x64xbf16>, tensor<2x2x333x64xbf16>) -> (tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>)
  return %o, %l : tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>
}

func.func @lse_decode_f16_d128_softcap(%q: tensor<1x32x1x128xf16>, %k: tensor<1x8x2100x128xf16>, %v: tensor<1x8x2100x128xf16>) -> (tensor<1x32x1x128xf16>, tensor<1x32x1xf32>) {
  %o, %l = loom.attention %q, %k, %v {softcap = 20.0 : f32, scale = 0.3 : f32} : (tensor<1x32x1x128xf16>, tensor<1x8x2100x128xf16>, tensor<1x8x2100x128xf16>) -> (tensor<1x32x1x128xf16>, tensor<1x32x1xf32>)
  return %o, %l : tensor<1x32x1x128xf16>, tensor<1x32x1xf32>
}

// Sq = 3 > Skv = 2 under causal: query row 0 sees no key (lse -inf, o 0).
func.func @lse_decode_empty_row(%q: tensor<1x4x3x64xbf16>, %k: tensor<1x1x2x64xbf16>, %v: tensor<1x1x2x64xbf16>) -> (tensor<1x4x3x64xbf16>, tensor<1x4x3xf32>) {
  %o, %l = loom.attention %q, %k, %v {causal} : (tensor<1x4x3x64xbf16>, tensor<1x1x2x64xbf16>, tensor<1x1x2x64xbf16>) -> (tensor<1x4x3x64xbf16>, tensor<1x4x3xf32>)
  return %o, %l : tensor<1x4x3x64xbf16>, tensor<1x4x3xf32>
}

func.func @lse_prefill_bf16_causal(%q: tensor<1x4x77x64xbf16>, %k: tensor<1x2x93x64xbf16>, %v: tensor<1x2x93x64xbf16>) -> (tensor<1x4x77x64xbf16>, tensor<1x4x77xf32>) {
  %o, %l = loom.attention %q, %k, %v {causal, window = 40 : i64} : (tensor<1x4x77x64xbf16>, tensor<1x2x93x64xbf16>, tensor<1x2x93x64xbf16>) -> (tensor<1x4x77x64xbf16>, tensor<1x4x77xf32>)
  return %o, %l : tensor<1x4x77x64xbf16>, tensor<1x4x77xf32>
}

func.func @lse_block_sparse_f32(%q: tensor<1x2x100x32xf32>, %k: tensor<1x1x130x32xf32>, %v: tensor<1x1x130x32xf32>, %layout: tensor<1x2x4x5xi1>) -> (tensor<1x2x100x32xf32>, tensor<1x2x100xf32>) {
  %o, %l = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 32 : i64, block_k = 32 : i64, causal} : (tensor<1x2x100x32xf32>, tensor<1x1x130x32xf32>, tensor<1x1x130x32xf32>, tensor<1x2x4x5xi1>) -> (tensor<1x2x100x32xf32>, tensor<1x2x100xf32>)
  return %o, %l : tensor<1x2x100x32xf32>, tensor<1x2x100xf32>
}

// A cached prefix (no mask) and a causal chunk of Sq new keys, merged: the
// same as causal attention over both (bottom-right alignment).
func.func @lse_merge_prefix_chunk(%q: tensor<1x8x37x64xbf16>, %k1: tensor<1x2x300x64xbf16>, %v1: tensor<1x2x300x64xbf16>, %k2: tensor<1x2x37x64xbf16>, %v2: tensor<1x2x37x64xbf16>) -> (tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>) {
  %o1, %l1 = loom.attention %q, %k1, %v1 : (tensor<1x8x37x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>) -> (tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>)
  %o2, %l2 = loom.attention %q, %k2, %v2 {causal} : (tensor<1x8x37x64xbf16>, tensor<1x2x37x64xbf16>, tensor<1x2x37x64xbf16>) -> (tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>)
  %o, %l = loom.merge_attention %o1, %l1, %o2, %l2 : (tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>, tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>) -> (tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>)
  return %o, %l : tensor<1x8x37x64xbf16>, tensor<1x8x37xf32>
}

// Decode split over two caches (both decode kernels with lse), merged.
func.func @lse_merge_decode(%q: tensor<2x8x1x128xbf16>, %k1: tensor<2x2x500x128xbf16>, %v1: tensor<2x2x500x128xbf16>, %k2: tensor<2x2x77x128xbf16>, %v2: tensor<2x2x77x128xbf16>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o1, %l1 = loom.attention %q, %k1, %v1 : (tensor<2x8x1x128xbf16>, tensor<2x2x500x128xbf16>, tensor<2x2x500x128xbf16>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>)
  %o2, %l2 = loom.attention %q, %k2, %v2 {causal} : (tensor<2x8x1x128xbf16>, tensor<2x2x77x128xbf16>, tensor<2x2x77x128xbf16>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>)
  %o, %l = loom.merge_attention %o1, %l1, %o2, %l2 : (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>, tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>)
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

func.func @lse_merge_three_f16(%o0: tensor<2x4x33x48xf16>, %l0: tensor<2x4x33xf32>, %o1: tensor<2x4x33x48xf16>, %l1: tensor<2x4x33xf32>, %o2: tensor<2x4x33x48xf16>, %l2: tensor<2x4x33xf32>) -> (tensor<2x4x33x48xf16>, tensor<2x4x33xf32>) {
  %o, %l = loom.merge_attention %o0, %l0, %o1, %l1, %o2, %l2 : (tensor<2x4x33x48xf16>, tensor<2x4x33xf32>, tensor<2x4x33x48xf16>, tensor<2x4x33xf32>, tensor<2x4x33x48xf16>, tensor<2x4x33xf32>) -> (tensor<2x4x33x48xf16>, tensor<2x4x33xf32>)
  return %o, %l : tensor<2x4x33x48xf16>, tensor<2x4x33xf32>
}

// The flash kernel with lse: block-sparse bf16 (64-blocks) with a query
// block whose layout row is all false in some heads (lse -inf there).
func.func @lse_flash_block_sparse_bf16(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>, %layout: tensor<1x4x4x5xi1>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>) {
  %o, %l = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64, causal, softcap = 30.0 : f32} : (tensor<1x4x200x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x4x4x5xi1>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>)
  return %o, %l : tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>
}

// The flash kernel with lse, D 128, causal Sq > Skv (first rows empty).
func.func @lse_flash_d128_sq_gt_skv(%q: tensor<2x8x300x128xf16>, %k: tensor<2x8x200x128xf16>, %v: tensor<2x8x200x128xf16>) -> (tensor<2x8x300x128xf16>, tensor<2x8x300xf32>) {
  %o, %l = loom.attention %q, %k, %v {causal, scale = -0.05 : f32} : (tensor<2x8x300x128xf16>, tensor<2x8x200x128xf16>, tensor<2x8x200x128xf16>) -> (tensor<2x8x300x128xf16>, tensor<2x8x300xf32>)
  return %o, %l : tensor<2x8x300x128xf16>, tensor<2x8x300xf32>
}
