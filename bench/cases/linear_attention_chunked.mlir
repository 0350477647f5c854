// Causal linear attention on the tensor-core kernel
// (lib/GPU/Kernels/ChunkedLinearAttentionKernel.cpp): no gate, a constant
// decay, a log-gate per head or per key dimension (GLA; f32, bf16), every
// feature map, an initial
// and a final state, bf16 and f16; S ragged (not a multiple of the 64-token
// chunk, and a single decode token), Dk != Dv, Dk padded (40), Dv over
// several 64-column slices with a partial last one (136), and a fusion
// group whose q, k, v and result are layout changes of [S, H*D] tensors;
// the delta rule (no gate, decay, a gate per head or per key dimension) at
// the end.
// gpu_check.py draws gates in [-0.5, 0] and states from N(0, 0.5^2); the
// final states (f32) are compared at the bound of F32_FROM_16BIT_TOL_SCALE.

func.func @lac_decay_states_elu_bf16(%q: tensor<1x2x200x64xbf16>, %k: tensor<1x2x200x64xbf16>, %v: tensor<1x2x200x64xbf16>, %s0: tensor<1x2x64x64xf32>) -> (tensor<1x2x200x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v initial_state(%s0) {causal, feature_map = "elu_plus_one", decay = array<f32: 0.05, 0.01>, scale = 0.125 : f32} : (tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x64x64xf32>) -> (tensor<1x2x200x64xbf16>, tensor<1x2x64x64xf32>)
  return %o, %s : tensor<1x2x200x64xbf16>, tensor<1x2x64x64xf32>
}

func.func @lac_gate_bf16_relu_f16(%q: tensor<2x3x130x128xf16>, %k: tensor<2x3x130x128xf16>, %v: tensor<2x3x130x136xf16>, %g: tensor<2x3x130xbf16>) -> (tensor<2x3x130x136xf16>, tensor<2x3x128x136xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, feature_map = "relu", scale = 0.0884 : f32} : (tensor<2x3x130x128xf16>, tensor<2x3x130x128xf16>, tensor<2x3x130x136xf16>, tensor<2x3x130xbf16>) -> (tensor<2x3x130x136xf16>, tensor<2x3x128x136xf32>)
  return %o, %s : tensor<2x3x130x136xf16>, tensor<2x3x128x136xf32>
}

func.func @lac_dk40_dv24_gate_init(%q: tensor<1x2x65x40xbf16>, %k: tensor<1x2x65x40xbf16>, %v: tensor<1x2x65x24xbf16>, %g: tensor<1x2x65xf32>, %s0: tensor<1x2x40x24xf32>) -> tensor<1x2x65x24xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.15 : f32} : (tensor<1x2x65x40xbf16>, tensor<1x2x65x40xbf16>, tensor<1x2x65x24xbf16>, tensor<1x2x65xf32>, tensor<1x2x40x24xf32>) -> tensor<1x2x65x24xbf16>
  return %o : tensor<1x2x65x24xbf16>
}

func.func @lac_nogate_final_bf16(%q: tensor<1x2x129x64xbf16>, %k: tensor<1x2x129x64xbf16>, %v: tensor<1x2x129x64xbf16>) -> (tensor<1x2x129x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v {causal, scale = 0.125 : f32} : (tensor<1x2x129x64xbf16>, tensor<1x2x129x64xbf16>, tensor<1x2x129x64xbf16>) -> (tensor<1x2x129x64xbf16>, tensor<1x2x64x64xf32>)
  return %o, %s : tensor<1x2x129x64xbf16>, tensor<1x2x64x64xf32>
}

// One decode step: a single token updates the state (a static S this small
// takes the token-by-token kernel, RecurrentLinearAttentionKernel.cpp).
func.func @lac_decode_step_bf16(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %g: tensor<2x4x1xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.0884 : f32} : (tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1xf32>, tensor<2x4x128x128xf32>) -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
}

// Chunked prefill then a decode step: the state goes from one op to the next
// (the step on the token-by-token kernel).
func.func @lac_prefill_then_decode_bf16(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x4x100x64xbf16>, %v: tensor<1x4x100x64xbf16>, %g: tensor<1x4x100xf32>, %q1: tensor<1x4x1x64xbf16>, %k1: tensor<1x4x1x64xbf16>, %v1: tensor<1x4x1x64xbf16>, %g1: tensor<1x4x1xf32>) -> (tensor<1x4x100x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100xf32>) -> (tensor<1x4x100x64xbf16>, tensor<1x4x64x64xf32>)
  %o1, %s1 = loom.linear_attention %q1, %k1, %v1 gate(%g1) initial_state(%s) {causal, scale = 0.125 : f32} : (tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1xf32>, tensor<1x4x64x64xf32>) -> (tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>)
  return %o, %o1, %s1 : tensor<1x4x100x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>
}

// A fusion group: q, k, v and the result are layout changes of [S, H*D]
// tensors, read and written in place; the final state leaves the group.
func.func @lac_layout_gate_final_bf16(%q2: tensor<150x128xbf16>, %k2: tensor<150x128xbf16>, %v2: tensor<150x192xbf16>, %g: tensor<1x2x150xf32>) -> (tensor<150x192xbf16>, tensor<1x2x64x96xf32>) {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 150, 2, 64] : tensor<150x128xbf16> into tensor<1x150x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 150, 2, 64] : tensor<150x128xbf16> into tensor<1x150x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 150, 2, 96] : tensor<150x192xbf16> into tensor<1x150x2x96xbf16>
  %e0 = tensor.empty() : tensor<1x2x150x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x150x2x64xbf16>) outs(%e0 : tensor<1x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x150x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x150x2x64xbf16>) outs(%e1 : tensor<1x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x150x96xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x150x2x96xbf16>) outs(%e2 : tensor<1x2x150x96xbf16>) permutation = [0, 2, 1, 3]
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x96xbf16>, tensor<1x2x150xf32>) -> (tensor<1x2x150x96xbf16>, tensor<1x2x64x96xf32>)
  %e3 = tensor.empty() : tensor<1x150x2x96xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x150x96xbf16>) outs(%e3 : tensor<1x150x2x96xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x150x2x96xbf16> into tensor<150x192xbf16>
  return %o2, %s : tensor<150x192xbf16>, tensor<1x2x64x96xf32>
}

// Dynamic B, H and S (bench/cases/dims.json): 64-column slices (static B and
// H as small as the cases above take 32-column ones), op by op.
func.func @lac_dyn_gate_states_bf16(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x96xbf16>, %g: tensor<?x?x?xf32>, %s0: tensor<?x?x64x96xf32>) -> (tensor<?x?x?x96xbf16>, tensor<?x?x64x96xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.125 : f32} : (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x96xbf16>, tensor<?x?x?xf32>, tensor<?x?x64x96xf32>) -> (tensor<?x?x?x96xbf16>, tensor<?x?x64x96xf32>)
  return %o, %s : tensor<?x?x?x96xbf16>, tensor<?x?x64x96xf32>
}

func.func @lac_dyn_decay_elu_f16(%q: tensor<?x?x?x128xf16>, %k: tensor<?x?x?x128xf16>, %v: tensor<?x?x?x128xf16>) -> tensor<?x?x?x128xf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.2, 0.05, 0.01, 0.001>, scale = 0.0625 : f32} : (tensor<?x?x?x128xf16>, tensor<?x?x?x128xf16>, tensor<?x?x?x128xf16>) -> tensor<?x?x?x128xf16>
  return %o : tensor<?x?x?x128xf16>
}

// A log-gate per key dimension [B, H, S, Dk] (GLA): f32 gate with both
// states, Dk = Dv = 64, S ragged over several chunks.
func.func @lac_gatek_states_bf16(%q: tensor<2x3x200x64xbf16>, %k: tensor<2x3x200x64xbf16>, %v: tensor<2x3x200x64xbf16>, %g: tensor<2x3x200x64xf32>, %s0: tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) initial_state(%s0) {causal, scale = 0.125 : f32} : (tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200x64xf32>, tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>)
  return %o, %s : tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>
}

// f16 with a bf16 gate per key dimension, relu, Dk 40 (padded to 64) and
// Dv 136 (a partial last slice), a final state.
func.func @lac_gatek_f16_dk40_dv136(%q: tensor<1x2x130x40xf16>, %k: tensor<1x2x130x40xf16>, %v: tensor<1x2x130x136xf16>, %g: tensor<1x2x130x40xbf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, feature_map = "relu", scale = 0.15 : f32} : (tensor<1x2x130x40xf16>, tensor<1x2x130x40xf16>, tensor<1x2x130x136xf16>, tensor<1x2x130x40xbf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>)
  return %o, %s : tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>
}

// Steep gates (gpu_check.py's CHECK_SPECIAL: about 3% of the log-gates are
// -100, a key dimension forgotten at once): the 16-row blocks that hold one
// decay past the factored form's bound and take the term-by-term diagonal;
// Dk = Dv = 128, elu+1.
func.func @lac_gatek_steep_bf16(%q: tensor<1x2x150x128xbf16>, %k: tensor<1x2x150x128xbf16>, %v: tensor<1x2x150x128xbf16>, %g: tensor<1x2x150x128xf32>) -> (tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, feature_map = "elu_plus_one", scale = 0.0884 : f32} : (tensor<1x2x150x128xbf16>, tensor<1x2x150x128xbf16>, tensor<1x2x150x128xbf16>, tensor<1x2x150x128xf32>) -> (tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>)
  return %o, %s : tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>
}

// Chunked prefill with a gate per key dimension, then a decode step through
// the state (the token-by-token kernel).
func.func @lac_gatek_prefill_then_decode_bf16(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x4x100x64xbf16>, %v: tensor<1x4x100x64xbf16>, %g: tensor<1x4x100x64xbf16>, %q1: tensor<1x4x1x64xbf16>, %k1: tensor<1x4x1x64xbf16>, %v1: tensor<1x4x1x64xbf16>, %g1: tensor<1x4x1x64xbf16>) -> (tensor<1x4x100x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>) -> (tensor<1x4x100x64xbf16>, tensor<1x4x64x64xf32>)
  %o1, %s1 = loom.linear_attention %q1, %k1, %v1 gate(%g1) initial_state(%s) {causal, scale = 0.125 : f32} : (tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>) -> (tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>)
  return %o, %o1, %s1 : tensor<1x4x100x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>
}

// A fusion group with a gate per key dimension: q, k, v and the result are
// layout changes of [S, H*D] tensors.
func.func @lac_layout_gatek_bf16(%q2: tensor<90x128xbf16>, %k2: tensor<90x128xbf16>, %v2: tensor<90x128xbf16>, %g: tensor<1x2x90x64xf32>) -> tensor<90x128xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 90, 2, 64] : tensor<90x128xbf16> into tensor<1x90x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 90, 2, 64] : tensor<90x128xbf16> into tensor<1x90x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 90, 2, 64] : tensor<90x128xbf16> into tensor<1x90x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x2x90x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x90x2x64xbf16>) outs(%e0 : tensor<1x2x90x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x90x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x90x2x64xbf16>) outs(%e1 : tensor<1x2x90x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x90x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x90x2x64xbf16>) outs(%e2 : tensor<1x2x90x64xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<1x2x90x64xbf16>, tensor<1x2x90x64xbf16>, tensor<1x2x90x64xbf16>, tensor<1x2x90x64xf32>) -> tensor<1x2x90x64xbf16>
  %e3 = tensor.empty() : tensor<1x90x2x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x90x64xbf16>) outs(%e3 : tensor<1x90x2x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x90x2x64xbf16> into tensor<90x128xbf16>
  return %o2 : tensor<90x128xbf16>
}

// Dynamic B, H and S with a gate per key dimension (bench/cases/dims.json).
func.func @lac_dyn_gatek_bf16(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %g: tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) {causal, scale = 0.125 : f32} : (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x64x64xf32>)
  return %o, %s : tensor<?x?x?x64xbf16>, tensor<?x?x64x64xf32>
}

// The delta rule on the tensor cores (U solved per chunk; Gated DeltaNet,
// DeltaNet): a gate per head, a decay, none; beta f32, bf16, f16.
func.func @lac_delta_gate_states_bf16(%q: tensor<2x3x200x64xbf16>, %k: tensor<2x3x200x64xbf16>, %v: tensor<2x3x200x64xbf16>, %g: tensor<2x3x200xf32>, %b: tensor<2x3x200xbf16>, %s0: tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200xf32>, tensor<2x3x200xbf16>, tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>)
  return %o, %s : tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>
}

// No gate, relu keys, Dk padded (40), Dv over three slices (136).
func.func @lac_delta_relu_f16_dk40_dv136(%q: tensor<1x2x130x40xf16>, %k: tensor<1x2x130x40xf16>, %v: tensor<1x2x130x136xf16>, %b: tensor<1x2x130xf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta", feature_map = "relu", scale = 0.15 : f32} : (tensor<1x2x130x40xf16>, tensor<1x2x130x40xf16>, tensor<1x2x130x136xf16>, tensor<1x2x130xf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>)
  return %o, %s : tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>
}

func.func @lac_delta_decay_dk128_bf16(%q: tensor<1x2x129x128xbf16>, %k: tensor<1x2x129x128xbf16>, %v: tensor<1x2x129x128xbf16>, %b: tensor<1x2x129xf32>) -> tensor<1x2x129x128xbf16> {
  %o = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta", decay = array<f32: 0.05, 0.01>, scale = 0.0884 : f32} : (tensor<1x2x129x128xbf16>, tensor<1x2x129x128xbf16>, tensor<1x2x129x128xbf16>, tensor<1x2x129xf32>) -> tensor<1x2x129x128xbf16>
  return %o : tensor<1x2x129x128xbf16>
}

// 72 CTAs of 64-column slices (B H ceil(Dv / 64) fills over half the SMs).
func.func @lac_delta_slice64_bf16(%q: tensor<3x12x70x128xbf16>, %k: tensor<3x12x70x128xbf16>, %v: tensor<3x12x70x128xbf16>, %g: tensor<3x12x70xbf16>, %b: tensor<3x12x70xbf16>) -> (tensor<3x12x70x128xbf16>, tensor<3x12x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.0884 : f32} : (tensor<3x12x70x128xbf16>, tensor<3x12x70x128xbf16>, tensor<3x12x70x128xbf16>, tensor<3x12x70xbf16>, tensor<3x12x70xbf16>) -> (tensor<3x12x70x128xbf16>, tensor<3x12x128x128xf32>)
  return %o, %s : tensor<3x12x70x128xbf16>, tensor<3x12x128x128xf32>
}

// Dynamic B, H and S with the delta rule (bench/cases/dims.json).
func.func @lac_dyn_delta_bf16(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x32xbf16>, %g: tensor<?x?x?xf32>, %b: tensor<?x?x?xf32>, %s0: tensor<?x?x64x32xf32>) -> (tensor<?x?x?x32xbf16>, tensor<?x?x64x32xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x32xbf16>, tensor<?x?x?xf32>, tensor<?x?x?xf32>, tensor<?x?x64x32xf32>) -> (tensor<?x?x?x32xbf16>, tensor<?x?x64x32xf32>)
  return %o, %s : tensor<?x?x?x32xbf16>, tensor<?x?x64x32xf32>
}

// The delta rule with a gate per key dimension (KDA).
func.func @lac_kda_states_bf16(%q: tensor<2x3x200x64xbf16>, %k: tensor<2x3x200x64xbf16>, %v: tensor<2x3x200x64xbf16>, %g: tensor<2x3x200x64xf32>, %b: tensor<2x3x200xbf16>, %s0: tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", scale = 0.125 : f32} : (tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200x64xbf16>, tensor<2x3x200x64xf32>, tensor<2x3x200xbf16>, tensor<2x3x64x64xf32>) -> (tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>)
  return %o, %s : tensor<2x3x200x64xbf16>, tensor<2x3x64x64xf32>
}

func.func @lac_kda_f16_dk40_dv136(%q: tensor<1x2x130x40xf16>, %k: tensor<1x2x130x40xf16>, %v: tensor<1x2x130x136xf16>, %g: tensor<1x2x130x40xbf16>, %b: tensor<1x2x130xf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", feature_map = "relu", scale = 0.15 : f32} : (tensor<1x2x130x40xf16>, tensor<1x2x130x40xf16>, tensor<1x2x130x136xf16>, tensor<1x2x130x40xbf16>, tensor<1x2x130xf16>) -> (tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>)
  return %o, %s : tensor<1x2x130x136xf16>, tensor<1x2x40x136xf32>
}

// Dk 128 with an f32 gate: 32-column slices.
func.func @lac_kda_dk128_bf16(%q: tensor<1x2x150x128xbf16>, %k: tensor<1x2x150x128xbf16>, %v: tensor<1x2x150x128xbf16>, %g: tensor<1x2x150x128xf32>, %b: tensor<1x2x150xf32>) -> (tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.0884 : f32} : (tensor<1x2x150x128xbf16>, tensor<1x2x150x128xbf16>, tensor<1x2x150x128xbf16>, tensor<1x2x150x128xf32>, tensor<1x2x150xf32>) -> (tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>)
  return %o, %s : tensor<1x2x150x128xbf16>, tensor<1x2x128x128xf32>
}

// 64-column slices at Dk 128 with an f32 gate: 228864 bytes of shared memory.
func.func @lac_kda_slice64_bf16(%q: tensor<3x12x70x128xbf16>, %k: tensor<3x12x70x128xbf16>, %v: tensor<3x12x70x128xbf16>, %g: tensor<3x12x70x128xf32>, %b: tensor<3x12x70xbf16>) -> tensor<3x12x70x128xbf16> {
  %o = loom.linear_attention %q, %k, %v gate(%g) beta(%b) {causal, rule = "delta", scale = 0.0884 : f32} : (tensor<3x12x70x128xbf16>, tensor<3x12x70x128xbf16>, tensor<3x12x70x128xbf16>, tensor<3x12x70x128xf32>, tensor<3x12x70xbf16>) -> tensor<3x12x70x128xbf16>
  return %o : tensor<3x12x70x128xbf16>
}
