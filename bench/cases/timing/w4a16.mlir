// Timing: W4A16 linear (i4 weights, groups of 128), N = K = 8192, at M = 1, 16, 128, 256 and 1024.
func.func @t_w4a16_m1(%x: tensor<1x8192xbf16>, %w: tensor<8192x8192xi4>, %s: tensor<8192x64xf32>) -> tensor<1x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1x8192xbf16>, tensor<8192x8192xi4>, tensor<8192x64xf32>) -> tensor<1x8192xbf16>
  return %y : tensor<1x8192xbf16>
}

func.func @t_w4a16_m16(%x: tensor<16x8192xbf16>, %w: tensor<8192x8192xi4>, %s: tensor<8192x64xf32>) -> tensor<16x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<16x8192xbf16>, tensor<8192x8192xi4>, tensor<8192x64xf32>) -> tensor<16x8192xbf16>
  return %y : tensor<16x8192xbf16>
}

func.func @t_w4a16_m128(%x: tensor<128x8192xbf16>, %w: tensor<8192x8192xi4>, %s: tensor<8192x64xf32>) -> tensor<128x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<128x8192xbf16>, tensor<8192x8192xi4>, tensor<8192x64xf32>) -> tensor<128x8192xbf16>
  return %y : tensor<128x8192xbf16>
}


func.func @t_w4a16_m256(%x: tensor<256x8192xbf16>, %w: tensor<8192x8192xi4>, %s: tensor<8192x64xf32>) -> tensor<256x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<256x8192xbf16>, tensor<8192x8192xi4>, tensor<8192x64xf32>) -> tensor<256x8192xbf16>
  return %y : tensor<256x8192xbf16>
}

func.func @t_w4a16_m1024(%x: tensor<1024x8192xbf16>, %w: tensor<8192x8192xi4>, %s: tensor<8192x64xf32>) -> tensor<1024x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1024x8192xbf16>, tensor<8192x8192xi4>, tensor<8192x64xf32>) -> tensor<1024x8192xbf16>
  return %y : tensor<1024x8192xbf16>
}
