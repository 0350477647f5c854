// Timing: memory-bound block pieces on a 16384 x 8192 bf16 tensor (256 MiB in,
// 256 MiB out): RMSNorm, and RoPE on [4, 32, 4096, 128].
func.func @t_rms_norm(%x: tensor<16384x8192xbf16>, %g: tensor<8192xbf16>) -> tensor<16384x8192xbf16> {
  %y = loom.rms_norm %x, %g : (tensor<16384x8192xbf16>, tensor<8192xbf16>) -> tensor<16384x8192xbf16>
  return %y : tensor<16384x8192xbf16>
}

func.func @t_rope_half(%x: tensor<4x32x4096x128xbf16>, %c: tensor<4096x64xf32>, %s: tensor<4096x64xf32>) -> tensor<4x32x4096x128xbf16> {
  %y = loom.rope %x, %c, %s : (tensor<4x32x4096x128xbf16>, tensor<4096x64xf32>, tensor<4096x64xf32>) -> tensor<4x32x4096x128xbf16>
  return %y : tensor<4x32x4096x128xbf16>
}
