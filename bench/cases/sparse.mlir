// Block-sparse attention on random layouts (per head, broadcast over heads,
// per batch; causal or not; blocks that do not divide S) and dynamic block
// selection (causal with Skv > Sq, not causal, dynamic dims).

func.func @bsa_bf16_causal_gqa(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>, %l: tensor<1x4x5x5xi1>) -> tensor<1x4x300x64xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x4x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x4x5x5xi1>) -> tensor<1x4x300x64xbf16>
  return %o : tensor<1x4x300x64xbf16>
}

func.func @bsa_f32_bcast_softcap(%q: tensor<1x2x333x64xf32>, %k: tensor<1x2x333x64xf32>, %v: tensor<1x2x333x64xf32>, %l: tensor<1x1x11x3xi1>) -> tensor<1x2x333x64xf32> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 128 : i64, scale = 0.125 : f32, softcap = 20.0 : f32} : (tensor<1x2x333x64xf32>, tensor<1x2x333x64xf32>, tensor<1x2x333x64xf32>, tensor<1x1x11x3xi1>) -> tensor<1x2x333x64xf32>
  return %o : tensor<1x2x333x64xf32>
}

func.func @bsa_bf16_batch_layout(%q: tensor<2x2x256x128xbf16>, %k: tensor<2x2x256x128xbf16>, %v: tensor<2x2x256x128xbf16>, %l: tensor<2x1x2x2xi1>) -> tensor<2x2x256x128xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 128 : i64, block_k = 128 : i64} : (tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>, tensor<2x1x2x2xi1>) -> tensor<2x2x256x128xbf16>
  return %o : tensor<2x2x256x128xbf16>
}

func.func @bsa_f16_dyn(%q: tensor<1x2x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x64xf16>, %l: tensor<1x2x?x?xi1>) -> tensor<1x2x?x64xf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x?xi1>) -> tensor<1x2x?x64xf16>
  return %o : tensor<1x2x?x64xf16>
}

func.func @sel_bf16_causal_gqa(%q: tensor<1x8x1000x64xbf16>, %k: tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1> {
  %l = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 4 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1>
  return %l : tensor<1x8x16x16xi1>
}

func.func @sel_f32_cross_causal(%q: tensor<1x2x50x32xf32>, %k: tensor<1x2x130x32xf32>) -> tensor<1x2x4x5xi1> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 32 : i64, topk = 1 : i64, causal} : (tensor<1x2x50x32xf32>, tensor<1x2x130x32xf32>) -> tensor<1x2x4x5xi1>
  return %l : tensor<1x2x4x5xi1>
}

func.func @sel_f32_dyn(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x64xf32>) -> tensor<?x?x?x?xi1> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>) -> tensor<?x?x?x?xi1>
  return %l : tensor<?x?x?x?xi1>
}

// Selection feeding the sparse attention, as the long-context block does.
func.func @sel_then_bsa_f16(%q: tensor<1x4x200x64xf16>, %k: tensor<1x2x200x64xf16>, %v: tensor<1x2x200x64xf16>) -> tensor<1x4x200x64xf16> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 2 : i64, causal} : (tensor<1x4x200x64xf16>, tensor<1x2x200x64xf16>) -> tensor<1x4x7x7xi1>
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64, causal} : (tensor<1x4x200x64xf16>, tensor<1x2x200x64xf16>, tensor<1x2x200x64xf16>, tensor<1x4x7x7xi1>) -> tensor<1x4x200x64xf16>
  return %o : tensor<1x4x200x64xf16>
}

// Blocks of 16 and 32 (issue 14): the flash kernel's block-sparse path with
// CTAs of 1 or 2 warps (16 or 32 rows) and key tiles of 16 or 32; ragged S,
// GQA, causal, a block_q different from block_k, D 128 with 16-row CTAs.
func.func @bsa_bf16_blocks16_causal_gqa(%q: tensor<1x4x150x64xbf16>, %k: tensor<1x2x150x64xbf16>, %v: tensor<1x2x150x64xbf16>, %l: tensor<1x4x10x10xi1>) -> tensor<1x4x150x64xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x4x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x4x10x10xi1>) -> tensor<1x4x150x64xbf16>
  return %o : tensor<1x4x150x64xbf16>
}

func.func @bsa_f16_q32_k16_d128(%q: tensor<2x2x100x128xf16>, %k: tensor<2x2x100x128xf16>, %v: tensor<2x2x100x128xf16>, %l: tensor<2x2x4x7xi1>) -> tensor<2x2x100x128xf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 16 : i64} : (tensor<2x2x100x128xf16>, tensor<2x2x100x128xf16>, tensor<2x2x100x128xf16>, tensor<2x2x4x7xi1>) -> tensor<2x2x100x128xf16>
  return %o : tensor<2x2x100x128xf16>
}

func.func @sel_then_bsa_blocks16(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x200x64xbf16>, %v: tensor<1x2x200x64xbf16>) -> tensor<1x4x200x64xbf16> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 3 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>) -> tensor<1x4x13x13xi1>
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x4x13x13xi1>) -> tensor<1x4x200x64xbf16>
  return %o : tensor<1x4x200x64xbf16>
}

// Block-sparse on the wgmma kernel (sm_90a; issue 14): block_q a multiple of
// 128 and key tiles that divide block_k. Ragged S, GQA, causal, Skv != Sq,
// a broadcast layout, softcap, f16, D 96 (two panels) with the lse, D 256
// with 64-key tiles, block_q 256.
func.func @bsa_wgmma_causal_gqa_ragged(%q: tensor<1x4x333x64xbf16>, %k: tensor<1x2x333x64xbf16>, %v: tensor<1x2x333x64xbf16>, %l: tensor<1x4x3x6xi1>) -> tensor<1x4x333x64xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 128 : i64, block_k = 64 : i64, causal} : (tensor<1x4x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x4x3x6xi1>) -> tensor<1x4x333x64xbf16>
  return %o : tensor<1x4x333x64xbf16>
}

func.func @bsa_wgmma_f16_softcap_cross(%q: tensor<2x2x300x128xf16>, %k: tensor<2x2x500x128xf16>, %v: tensor<2x2x500x128xf16>, %l: tensor<1x1x3x4xi1>) -> tensor<2x2x300x128xf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 128 : i64, block_k = 128 : i64, softcap = 30.0 : f32} : (tensor<2x2x300x128xf16>, tensor<2x2x500x128xf16>, tensor<2x2x500x128xf16>, tensor<1x1x3x4xi1>) -> tensor<2x2x300x128xf16>
  return %o : tensor<2x2x300x128xf16>
}

func.func @bsa_wgmma_d96_causal_lse(%q: tensor<1x2x256x96xbf16>, %k: tensor<1x1x384x96xbf16>, %v: tensor<1x1x384x96xbf16>, %l: tensor<1x2x1x3xi1>) -> (tensor<1x2x256x96xbf16>, tensor<1x2x256xf32>) {
  %o, %lse = loom.block_sparse_attention %q, %k, %v, %l {block_q = 256 : i64, block_k = 128 : i64, causal} : (tensor<1x2x256x96xbf16>, tensor<1x1x384x96xbf16>, tensor<1x1x384x96xbf16>, tensor<1x2x1x3xi1>) -> (tensor<1x2x256x96xbf16>, tensor<1x2x256xf32>)
  return %o, %lse : tensor<1x2x256x96xbf16>, tensor<1x2x256xf32>
}

func.func @bsa_wgmma_d256(%q: tensor<1x2x200x256xbf16>, %k: tensor<1x2x200x256xbf16>, %v: tensor<1x2x200x256xbf16>, %l: tensor<1x2x2x4xi1>) -> tensor<1x2x200x256xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 128 : i64, block_k = 64 : i64} : (tensor<1x2x200x256xbf16>, tensor<1x2x200x256xbf16>, tensor<1x2x200x256xbf16>, tensor<1x2x2x4xi1>) -> tensor<1x2x200x256xbf16>
  return %o : tensor<1x2x200x256xbf16>
}
