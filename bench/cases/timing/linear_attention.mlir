// Timing: causal linear attention with per-head decay (RetNet-style), B4 H16 S4096 D128 bf16.
func.func @t_linear_attention(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.linear_attention %q, %k, %v {causal, decay = array<f32: 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.011, 0.012, 0.013, 0.014, 0.015, 0.016>} : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}

// Timing: the same with a log-gate per head and token (Mamba2, simple GLA;
// flash-linear-attention's chunk_simple_gla is the peer), B4 H16 S4096 D128
// bf16, and at the issue's peer shape B1 H32 S8192 D128.
func.func @t_linear_attention_gate(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>, %g: tensor<4x16x4096xf32>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.08838834764831845 : f32} : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096xf32>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}

func.func @t_linear_attention_gate_h32(%q: tensor<1x32x8192x128xbf16>, %k: tensor<1x32x8192x128xbf16>, %v: tensor<1x32x8192x128xbf16>, %g: tensor<1x32x8192xf32>) -> tensor<1x32x8192x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.08838834764831845 : f32} : (tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192xf32>) -> tensor<1x32x8192x128xbf16>
  return %o : tensor<1x32x8192x128xbf16>
}

// Timing: a log-gate per key dimension and token (GLA; flash-linear-
// attention's chunk_gla is the peer), f32 gate, B4 H16 S4096 D128 bf16 and
// B1 H32 S8192 D128.
func.func @t_linear_attention_gatek(%q: tensor<4x16x4096x128xbf16>, %k: tensor<4x16x4096x128xbf16>, %v: tensor<4x16x4096x128xbf16>, %g: tensor<4x16x4096x128xf32>) -> tensor<4x16x4096x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.08838834764831845 : f32} : (tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xbf16>, tensor<4x16x4096x128xf32>) -> tensor<4x16x4096x128xbf16>
  return %o : tensor<4x16x4096x128xbf16>
}

func.func @t_linear_attention_gatek_h32(%q: tensor<1x32x8192x128xbf16>, %k: tensor<1x32x8192x128xbf16>, %v: tensor<1x32x8192x128xbf16>, %g: tensor<1x32x8192x128xf32>) -> tensor<1x32x8192x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.08838834764831845 : f32} : (tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xf32>) -> tensor<1x32x8192x128xbf16>
  return %o : tensor<1x32x8192x128xbf16>
}

// Timing: the delta rule with a log-gate per head (Gated DeltaNet; fla's
// chunk_gated_delta_rule is the peer), B1 H32 S8192 D128 bf16: no chunked
// kernel takes it yet, so it runs token by token (RecurrentLinearAttention-
// Kernel.cpp) in one launch.
func.func @t_linear_attention_delta_h32(%q: tensor<1x32x8192x128xbf16>, %k: tensor<1x32x8192x128xbf16>, %v: tensor<1x32x8192x128xbf16>, %g: tensor<1x32x8192xf32>, %b: tensor<1x32x8192xbf16>) -> tensor<1x32x8192x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.08838834764831845 : f32} : (tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192xf32>, tensor<1x32x8192xbf16>) -> tensor<1x32x8192x128xbf16>
  return %o : tensor<1x32x8192x128xbf16>
}

// Timing: the delta rule with a log-gate per key dimension (KDA, Kimi
// Linear; flash-linear-attention's chunk_kda is the peer), B1 H32 S8192 D128.
func.func @t_linear_attention_kda_h32(%q: tensor<1x32x8192x128xbf16>, %k: tensor<1x32x8192x128xbf16>, %v: tensor<1x32x8192x128xbf16>, %g: tensor<1x32x8192x128xf32>, %b: tensor<1x32x8192xbf16>) -> tensor<1x32x8192x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.08838834764831845 : f32} : (tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xf32>, tensor<1x32x8192xbf16>) -> tensor<1x32x8192x128xbf16>
  return %o : tensor<1x32x8192x128xbf16>
}

// Timing: one decode step through the state (Sq 1, gate, initial and final
// state), B8 H32 D128, on the token-by-token kernel: the floor is reading
// and writing the f32 state.
func.func @t_linear_attention_decode(%q: tensor<8x32x1x128xbf16>, %k: tensor<8x32x1x128xbf16>, %v: tensor<8x32x1x128xbf16>, %g: tensor<8x32x1xf32>, %s0: tensor<8x32x128x128xf32>) -> (tensor<8x32x1x128xbf16>, tensor<8x32x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.08838834764831845 : f32} : (tensor<8x32x1x128xbf16>, tensor<8x32x1x128xbf16>, tensor<8x32x1x128xbf16>, tensor<8x32x1xf32>, tensor<8x32x128x128xf32>) -> (tensor<8x32x1x128xbf16>, tensor<8x32x128x128xf32>)
  return %o, %s : tensor<8x32x1x128xbf16>, tensor<8x32x128x128xf32>
}
