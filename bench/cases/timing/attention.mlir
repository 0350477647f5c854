// Timing: dense attention at the peers' shape, B4 H16 S4096 D128 bf16, causal and not.
func.func @t_attn(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}

func.func @t_attn_causal(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}

// Other head dims at the same shape (issue 14: D 64 and 256 within 1.1x
// cuDNN): D 64 and 256 on the wgmma kernel, D 96 on the flash kernel.
func.func @t_attn_d64(%q: tensor<4x16x4096x64xbf16>, %k: tensor<4x16x4096x64xbf16>, %v: tensor<4x16x4096x64xbf16>) -> tensor<4x16x4096x64xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<4x16x4096x64xbf16>, tensor<4x16x4096x64xbf16>, tensor<4x16x4096x64xbf16>) -> tensor<4x16x4096x64xbf16>
  return %o : tensor<4x16x4096x64xbf16>
}

func.func @t_attn_d96(%q: tensor<4x16x4096x96xbf16>, %k: tensor<4x16x4096x96xbf16>, %v: tensor<4x16x4096x96xbf16>) -> tensor<4x16x4096x96xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<4x16x4096x96xbf16>, tensor<4x16x4096x96xbf16>, tensor<4x16x4096x96xbf16>) -> tensor<4x16x4096x96xbf16>
  return %o : tensor<4x16x4096x96xbf16>
}

func.func @t_attn_d256(%q: tensor<4x16x4096x256xbf16>, %k: tensor<4x16x4096x256xbf16>, %v: tensor<4x16x4096x256xbf16>) -> tensor<4x16x4096x256xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<4x16x4096x256xbf16>, tensor<4x16x4096x256xbf16>, tensor<4x16x4096x256xbf16>) -> tensor<4x16x4096x256xbf16>
  return %o : tensor<4x16x4096x256xbf16>
}

// Serving (issue 16): StreamingLLM's 4 sinks and a window of 1024 against
// dense causal on the same shape, B1 H32 S32768 D128 bf16.
func.func @t_attn_causal_32k(%q: tensor<1x32x32768x128xbf16>, %k: tensor<1x32x32768x128xbf16>, %v: tensor<1x32x32768x128xbf16>) -> tensor<1x32x32768x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x32x32768x128xbf16>, tensor<1x32x32768x128xbf16>, tensor<1x32x32768x128xbf16>) -> tensor<1x32x32768x128xbf16>
  return %o : tensor<1x32x32768x128xbf16>
}

func.func @t_attn_sink_window_32k(%q: tensor<1x32x32768x128xbf16>, %k: tensor<1x32x32768x128xbf16>, %v: tensor<1x32x32768x128xbf16>) -> tensor<1x32x32768x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<1x32x32768x128xbf16>, tensor<1x32x32768x128xbf16>, tensor<1x32x32768x128xbf16>) -> tensor<1x32x32768x128xbf16>
  return %o : tensor<1x32x32768x128xbf16>
}
