// Timing: W8A8 (i8) and FP8 (f8E4M3FN) matrix products, 8192^3, bf16 result.
func.func @t_int8_gemm(%xq: tensor<8192x8192xi8>, %xs: tensor<8192xf32>, %w: tensor<8192x8192xi8>, %ws: tensor<8192xf32>) -> tensor<8192x8192xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<8192x8192xi8>, tensor<8192xf32>, tensor<8192x8192xi8>, tensor<8192xf32>) -> tensor<8192x8192xbf16>
  return %y : tensor<8192x8192xbf16>
}

func.func @t_fp8_gemm(%xq: tensor<8192x8192xf8E4M3FN>, %xs: tensor<8192xf32>, %w: tensor<8192x8192xf8E4M3FN>, %ws: tensor<8192xf32>) -> tensor<8192x8192xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<8192x8192xf8E4M3FN>, tensor<8192xf32>, tensor<8192x8192xf8E4M3FN>, tensor<8192xf32>) -> tensor<8192x8192xbf16>
  return %y : tensor<8192x8192xbf16>
}
