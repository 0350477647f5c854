// Decode steps of causal linear attention on the token-by-token kernel
// (lib/GPU/Kernels/RecurrentLinearAttentionKernel.cpp, static S <= 16):
// every gate (per head, per key dimension, decay, none), both rules, the
// feature maps, the states; bf16, f16 and f32; Dk 16 to 256 (40: rows past
// Dk in the last warp), Dv from 4 to 200 (two 128-column slices, a partial
// one). gpu_check.py draws gates in [-0.5, 0], beta in [0, 1], states from
// N(0, 0.5^2) and, for the delta rule, keys of norm about 0.5.

func.func @lad_gate_states_bf16(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.0884 : f32} : (tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1xf32>, tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
}

// KDA: a gate per key dimension, the delta rule, three tokens, Dv over two
// slices (identity keys of norm about 0.5: the delta rule with elu + 1 keys
// of norm about 10 diverges, and its f16 output overflows, by definition).
func.func @lad_keygate_delta_f16(%q: tensor<2x4x3x96xf16>, %k: tensor<2x4x3x96xf16>, %v: tensor<2x4x3x200xf16>, %g: tensor<2x4x3x96xf32>, %b: tensor<2x4x3xbf16>, %s0: tensor<2x4x96x200xf32>) -> (tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.1 : f32} : (tensor<2x4x3x96xf16>, tensor<2x4x3x96xf16>, tensor<2x4x3x200xf16>, tensor<2x4x3x96xf32>, tensor<2x4x3xbf16>, tensor<2x4x96x200xf32>) -> (tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>)
  return %o, %s : tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>
}

// Gated DeltaNet with a gate per head, bf16.
func.func @lad_gated_delta_bf16(%q: tensor<1x4x2x64xbf16>, %k: tensor<1x4x2x64xbf16>, %v: tensor<1x4x2x64xbf16>, %g: tensor<1x4x2xf32>, %b: tensor<1x4x2xbf16>, %s0: tensor<1x4x64x64xf32>) -> (tensor<1x4x2x64xbf16>, tensor<1x4x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<1x4x2x64xbf16>, tensor<1x4x2x64xbf16>, tensor<1x4x2x64xbf16>, tensor<1x4x2xf32>, tensor<1x4x2xbf16>, tensor<1x4x64x64xf32>) -> (tensor<1x4x2x64xbf16>, tensor<1x4x64x64xf32>)
  return %o, %s : tensor<1x4x2x64xbf16>, tensor<1x4x64x64xf32>
}

func.func @lad_delta_nogate_f32(%q: tensor<1x3x5x16xf32>, %k: tensor<1x3x5x16xf32>, %v: tensor<1x3x5x8xf32>, %b: tensor<1x3x5xf32>) -> (tensor<1x3x5x8xf32>, tensor<1x3x16x8xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x3x5x16xf32>, tensor<1x3x5x16xf32>, tensor<1x3x5x8xf32>, tensor<1x3x5xf32>) -> (tensor<1x3x5x8xf32>, tensor<1x3x16x8xf32>)
  return %o, %s : tensor<1x3x5x8xf32>, tensor<1x3x16x8xf32>
}

// Sixteen tokens (the most), Dk 256 (32 rows a warp), Dv 4, relu, a bf16
// gate per key dimension, no state.
func.func @lad_keygate_relu_dk256(%q: tensor<1x2x16x256xbf16>, %k: tensor<1x2x16x256xbf16>, %v: tensor<1x2x16x4xbf16>, %g: tensor<1x2x16x256xbf16>) -> tensor<1x2x16x4xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, feature_map = "relu", scale = 0.0625 : f32} : (tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16x4xbf16>, tensor<1x2x16x256xbf16>) -> tensor<1x2x16x4xbf16>
  return %o : tensor<1x2x16x4xbf16>
}

// Decay per head, elu + 1, Dk 40, Dv 132, an initial state only.
func.func @lad_decay_dk40_init(%q: tensor<3x2x2x40xbf16>, %k: tensor<3x2x2x40xbf16>, %v: tensor<3x2x2x132xbf16>, %s0: tensor<3x2x40x132xf32>) -> tensor<3x2x2x132xbf16> {
  %o = loom.linear_attention %q, %k, %v initial_state(%s0) {causal, feature_map = "elu_plus_one", decay = array<f32: 0.3, 0.02>, scale = 0.15 : f32} : (tensor<3x2x2x40xbf16>, tensor<3x2x2x40xbf16>, tensor<3x2x2x132xbf16>, tensor<3x2x40x132xf32>) -> tensor<3x2x2x132xbf16>
  return %o : tensor<3x2x2x132xbf16>
}
