// Timing: decode attention at the peers' shapes (peers.decode_attention_peers):
// one query token per sequence, GQA 32/8, D 128, bf16, against a cache of
// B1 x 8192, B8 x 4096 and B32 x 2048 keys.
func.func @t_decode_b1(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x8192x128xbf16>, %v: tensor<1x8x8192x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x32x1x128xbf16>, tensor<1x8x8192x128xbf16>, tensor<1x8x8192x128xbf16>) -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}

func.func @t_decode_b8(%q: tensor<8x32x1x128xbf16>, %k: tensor<8x8x4096x128xbf16>, %v: tensor<8x8x4096x128xbf16>) -> tensor<8x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<8x32x1x128xbf16>, tensor<8x8x4096x128xbf16>, tensor<8x8x4096x128xbf16>) -> tensor<8x32x1x128xbf16>
  return %o : tensor<8x32x1x128xbf16>
}

func.func @t_decode_b32(%q: tensor<32x32x1x128xbf16>, %k: tensor<32x8x2048x128xbf16>, %v: tensor<32x8x2048x128xbf16>) -> tensor<32x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<32x32x1x128xbf16>, tensor<32x8x2048x128xbf16>, tensor<32x8x2048x128xbf16>) -> tensor<32x32x1x128xbf16>
  return %o : tensor<32x32x1x128xbf16>
}

// StreamingLLM decode (issue 16): one token against 32768 cached keys, GQA
// 32/8, D 128, bf16, causal, beside the same with 4 sinks and a window of
// 1024, which reads 1028 keys of the 32768 (the split kernel visits the
// sink's tile and the window's 8 or 9 tiles).
func.func @t_decode_causal_32k(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x32768x128xbf16>, %v: tensor<1x8x32768x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x32x1x128xbf16>, tensor<1x8x32768x128xbf16>, tensor<1x8x32768x128xbf16>) -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}

func.func @t_decode_sink_window_32k(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x32768x128xbf16>, %v: tensor<1x8x32768x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<1x32x1x128xbf16>, tensor<1x8x32768x128xbf16>, tensor<1x8x32768x128xbf16>) -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}
