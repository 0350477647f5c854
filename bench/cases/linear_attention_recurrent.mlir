// The recurrent forms of linear attention: a log-gate per head or per key
// dimension, the delta rule with beta, an initial and a final state, with
// decay and normalize; ragged S, Dk != Dv, bf16, f16 and f32, and one case
// whose q, k, v and result are layout changes of [S, H*D] tensors (a fusion
// group). On the GPU the bf16 ones with a gate per head take the
// tensor-core kernel (more of its cases: linear_attention_chunked.mlir) and
// the others the generic path (docs/Design.md, "Linear attention: gates,
// the delta rule and recurrent state"). gpu_check.py draws gates in
// [-0.5, 0], beta in [0, 1] and, for the delta rule, keys of norm about 0.5.

func.func @lar_head_gate_bf16(%q: tensor<1x2x100x32xbf16>, %k: tensor<1x2x100x32xbf16>, %v: tensor<1x2x100x48xbf16>, %g: tensor<1x2x100xf32>) -> tensor<1x2x100x48xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x2x100x32xbf16>, tensor<1x2x100x32xbf16>, tensor<1x2x100x48xbf16>, tensor<1x2x100xf32>) -> tensor<1x2x100x48xbf16>
  return %o : tensor<1x2x100x48xbf16>
}

func.func @lar_key_gate_final_f32(%q: tensor<2x2x77x16xf32>, %k: tensor<2x2x77x16xf32>, %v: tensor<2x2x77x24xf32>, %g: tensor<2x2x77x16xf32>) -> (tensor<2x2x77x24xf32>, tensor<2x2x16x24xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<2x2x77x16xf32>, tensor<2x2x77x16xf32>, tensor<2x2x77x24xf32>, tensor<2x2x77x16xf32>) -> (tensor<2x2x77x24xf32>, tensor<2x2x16x24xf32>)
  return %o, %s : tensor<2x2x77x24xf32>, tensor<2x2x16x24xf32>
}

func.func @lar_gated_delta_bf16(%q: tensor<1x4x130x64xbf16>, %k: tensor<1x4x130x64xbf16>, %v: tensor<1x4x130x32xbf16>, %g: tensor<1x4x130xf32>, %b: tensor<1x4x130xbf16>, %s0: tensor<1x4x64x32xf32>) -> (tensor<1x4x130x32xbf16>, tensor<1x4x64x32xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<1x4x130x64xbf16>, tensor<1x4x130x64xbf16>, tensor<1x4x130x32xbf16>, tensor<1x4x130xf32>, tensor<1x4x130xbf16>, tensor<1x4x64x32xf32>) -> (tensor<1x4x130x32xbf16>, tensor<1x4x64x32xf32>)
  return %o, %s : tensor<1x4x130x32xbf16>, tensor<1x4x64x32xf32>
}

func.func @lar_kda_f16(%q: tensor<1x2x65x32xf16>, %k: tensor<1x2x65x32xf16>, %v: tensor<1x2x65x40xf16>, %g: tensor<1x2x65x32xf16>, %b: tensor<1x2x65xf16>, %s0: tensor<1x2x32x40xf32>) -> (tensor<1x2x65x40xf16>, tensor<1x2x32x40xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta"} : (tensor<1x2x65x32xf16>, tensor<1x2x65x32xf16>, tensor<1x2x65x40xf16>, tensor<1x2x65x32xf16>, tensor<1x2x65xf16>, tensor<1x2x32x40xf32>) -> (tensor<1x2x65x40xf16>, tensor<1x2x32x40xf32>)
  return %o, %s : tensor<1x2x65x40xf16>, tensor<1x2x32x40xf32>
}

func.func @lar_delta_nogate_f32(%q: tensor<1x3x50x16xf32>, %k: tensor<1x3x50x16xf32>, %v: tensor<1x3x50x8xf32>, %b: tensor<1x3x50xf32>) -> (tensor<1x3x50x8xf32>, tensor<1x3x16x8xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x3x50x16xf32>, tensor<1x3x50x16xf32>, tensor<1x3x50x8xf32>, tensor<1x3x50xf32>) -> (tensor<1x3x50x8xf32>, tensor<1x3x16x8xf32>)
  return %o, %s : tensor<1x3x50x8xf32>, tensor<1x3x16x8xf32>
}

func.func @lar_decay_states_f32(%q: tensor<1x2x90x32xf32>, %k: tensor<1x2x90x32xf32>, %v: tensor<1x2x90x16xf32>, %s0: tensor<1x2x32x16xf32>) -> (tensor<1x2x90x16xf32>, tensor<1x2x32x16xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v initial_state(%s0) {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.05>, scale = 0.0625 : f32} : (tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>, tensor<1x2x90x16xf32>, tensor<1x2x32x16xf32>) -> (tensor<1x2x90x16xf32>, tensor<1x2x32x16xf32>)
  return %o, %s : tensor<1x2x90x16xf32>, tensor<1x2x32x16xf32>
}

func.func @lar_norm_key_gate_bf16(%q: tensor<1x2x70x32xbf16>, %k: tensor<1x2x70x32xbf16>, %v: tensor<1x2x70x48xbf16>, %g: tensor<1x2x70x32xbf16>) -> tensor<1x2x70x48xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, feature_map = "elu_plus_one", normalize} : (tensor<1x2x70x32xbf16>, tensor<1x2x70x32xbf16>, tensor<1x2x70x48xbf16>, tensor<1x2x70x32xbf16>) -> tensor<1x2x70x48xbf16>
  return %o : tensor<1x2x70x48xbf16>
}

func.func @lar_layout_head_gate_bf16(%q2: tensor<77x128xbf16>, %k2: tensor<77x128xbf16>, %v2: tensor<77x96xbf16>, %g: tensor<1x2x77xf32>) -> tensor<77x96xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xbf16> into tensor<1x77x2x48xbf16>
  %e0 = tensor.empty() : tensor<1x2x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xbf16>) outs(%e0 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x77x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x77x2x64xbf16>) outs(%e1 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xbf16>) outs(%e2 : tensor<1x2x77x48xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x48xbf16>, tensor<1x2x77xf32>) -> tensor<1x2x77x48xbf16>
  %e3 = tensor.empty() : tensor<1x77x2x48xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xbf16>) outs(%e3 : tensor<1x77x2x48xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xbf16> into tensor<77x96xbf16>
  return %o2 : tensor<77x96xbf16>
}
