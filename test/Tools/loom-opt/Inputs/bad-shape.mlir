func.func @f(%q: tensor<1x8x16x64xbf16>, %k: tensor<1x3x16x64xbf16>, %v: tensor<1x3x16x64xbf16>) -> tensor<1x8x16x64xbf16> {
  %0 = loom.attention %q, %k, %v : (tensor<1x8x16x64xbf16>, tensor<1x3x16x64xbf16>, tensor<1x3x16x64xbf16>) -> tensor<1x8x16x64xbf16>
  return %0 : tensor<1x8x16x64xbf16>
}
