// Timing: paged decode attention (issue 16's bench), at the decode peers'
// B8 shape (peers.decode_attention_peers: GQA 32/8, D 128, bf16, 4096 keys a
// sequence), the keys and values in pages of 16 of a shared cache
// (gpu_check.py's PagedBatch: each sequence on its own shuffled pages). The
// peers read the same keys from contiguous [B, Hkv, S, D] caches. Loom runs
// the paged op on the GPU's generic path (no paged kernel yet).
func.func @t_paged_decode_b8(%q: tensor<8x32x128xbf16>, %k: tensor<2048x16x8x128xbf16>, %v: tensor<2048x16x8x128xbf16>, %q_offsets: tensor<9xi32>, %kv_lens: tensor<8xi32>, %block_table: tensor<8x256xi32>) -> tensor<8x32x128xbf16> {
  %o = loom.paged_attention %q, %k, %v, %q_offsets, %kv_lens, %block_table {causal} : (tensor<8x32x128xbf16>, tensor<2048x16x8x128xbf16>, tensor<2048x16x8x128xbf16>, tensor<9xi32>, tensor<8xi32>, tensor<8x256xi32>) -> tensor<8x32x128xbf16>
  return %o : tensor<8x32x128xbf16>
}
