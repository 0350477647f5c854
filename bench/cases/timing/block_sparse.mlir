// Timing: block-sparse attention, B4 H16 S4096 D128 bf16 with blocks of 128 and a
// layout [1, 1, 32, 32] that gpu_check.py fills with the local band |I - J| <= 4
// (keys within 512 of the query, 26% of the blocks), as FlexAttention is given.
func.func @t_bsa_local512(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>, %l: tensor<1x1x32x32xi1>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 128 : i64, block_k = 128 : i64} : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<1x1x32x32xi1>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}
