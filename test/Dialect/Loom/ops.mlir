// Every loom op round-trips: custom form parsed and printed twice, and the
// generic form parsed back to the custom form.
// RUN: loom-opt %s | loom-opt | FileCheck %s
// RUN: loom-opt %s -mlir-print-op-generic | loom-opt | FileCheck %s

// CHECK-LABEL: func.func @attention
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> tensor<2x8x128x64xbf16>
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 1.250000e-01 : f32, softcap = 3.000000e+01 : f32, window = 256 : i64} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> tensor<2x8x128x64xbf16>
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<?x4x?x64xf16>, tensor<?x1x?x64xf16>, tensor<?x1x?x32xf16>) -> tensor<?x4x?x32xf16>
func.func @attention(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x2x128x64xbf16>, %v: tensor<2x2x128x64xbf16>,
                     %dq: tensor<?x4x?x64xf16>, %dk: tensor<?x1x?x64xf16>, %dv: tensor<?x1x?x32xf16>)
    -> (tensor<2x8x128x64xbf16>, tensor<2x8x128x64xbf16>, tensor<?x4x?x32xf16>) {
  %0 = loom.attention %q, %k, %v : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> tensor<2x8x128x64xbf16>
  %1 = loom.attention %q, %k, %v {causal, scale = 0.125 : f32, window = 256 : i64, softcap = 30.0 : f32} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> tensor<2x8x128x64xbf16>
  %2 = loom.attention %dq, %dk, %dv {causal} : (tensor<?x4x?x64xf16>, tensor<?x1x?x64xf16>, tensor<?x1x?x32xf16>) -> tensor<?x4x?x32xf16>
  return %0, %1, %2 : tensor<2x8x128x64xbf16>, tensor<2x8x128x64xbf16>, tensor<?x4x?x32xf16>
}

// CHECK-LABEL: func.func @block_sparse
// CHECK: loom.select_blocks %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal, topk = 8 : i64} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1>
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x8x16x16xi1>) -> tensor<1x8x1000x64xbf16>
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 128 : i64, block_q = 32 : i64, scale = 5.000000e-01 : f32, softcap = 2.000000e+01 : f32} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x1x32x8xi1>) -> tensor<1x8x1000x64xbf16>
// CHECK: loom.select_blocks %{{.*}}, %{{.*}} {block_k = 16 : i64, block_q = 16 : i64, scale = 2.500000e-01 : f32, topk = 2 : i64} : (tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>) -> tensor<?x?x?x?xi1>
func.func @block_sparse(%q: tensor<1x8x1000x64xbf16>, %k: tensor<1x2x1000x64xbf16>, %v: tensor<1x2x1000x64xbf16>,
                        %l: tensor<1x1x32x8xi1>, %dq: tensor<?x?x?x64xf32>, %dk: tensor<?x?x?x64xf32>)
    -> (tensor<1x8x1000x64xbf16>, tensor<1x8x1000x64xbf16>, tensor<?x?x?x?xi1>) {
  %layout = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 8 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x8x16x16xi1>) -> tensor<1x8x1000x64xbf16>
  %1 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 128 : i64, scale = 0.5 : f32, softcap = 20.0 : f32} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x2x1000x64xbf16>, tensor<1x1x32x8xi1>) -> tensor<1x8x1000x64xbf16>
  %2 = loom.select_blocks %dq, %dk {block_q = 16 : i64, block_k = 16 : i64, topk = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>) -> tensor<?x?x?x?xi1>
  return %0, %1, %2 : tensor<1x8x1000x64xbf16>, tensor<1x8x1000x64xbf16>, tensor<?x?x?x?xi1>
}

// CHECK-LABEL: func.func @linear_attention
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal, decay = array<f32: 5.000000e-01, 2.500000e-01>, feature_map = "elu_plus_one", normalize, scale = 1.000000e+00 : f32} : (tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x32xf32>) -> tensor<1x2x256x32xf32>
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x32xf32>) -> tensor<1x2x256x32xf32>
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {feature_map = "relu"} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16>
func.func @linear_attention(%q: tensor<1x2x256x64xf32>, %k: tensor<1x2x256x64xf32>, %v: tensor<1x2x256x32xf32>,
                            %d: tensor<?x?x?x?xbf16>) -> (tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>, tensor<?x?x?x?xbf16>) {
  %0 = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, scale = 1.0 : f32, normalize} : (tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x32xf32>) -> tensor<1x2x256x32xf32>
  %1 = loom.linear_attention %q, %k, %v : (tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x32xf32>) -> tensor<1x2x256x32xf32>
  %2 = loom.linear_attention %d, %d, %d {feature_map = "relu"} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16>
  return %0, %1, %2 : tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>, tensor<?x?x?x?xbf16>
}

// The recurrent forms: every optional operand with its keyword (in the
// fixed order gate, beta, initial_state), the optional final state, a gate
// per head and per key dimension, dynamic sizes.
// CHECK-LABEL: func.func @linear_attention_recurrent
// CHECK: loom.linear_attention %[[Q:.*]], %[[K:.*]], %[[V:.*]] gate(%[[G:.*]]) {causal} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xf32>) -> tensor<1x4x100x128xbf16>
// CHECK: loom.linear_attention %[[Q]], %[[K]], %[[V]] gate(%[[GK:.*]]) {causal, feature_map = "relu", normalize} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100x64xbf16>) -> tensor<1x4x100x128xbf16>
// CHECK: %{{.*}}, %{{.*}} = loom.linear_attention %[[Q]], %[[K]], %[[V]] gate(%[[G]]) beta(%[[B:.*]]) initial_state(%[[S:.*]]) {causal, rule = "delta", scale = 1.250000e-01 : f32} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xf32>, tensor<1x4x100xbf16>, tensor<1x4x64x128xf32>) -> (tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>)
// CHECK: loom.linear_attention %[[Q]], %[[K]], %[[V]] beta(%[[B]]) {causal, rule = "delta"} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xbf16>) -> tensor<1x4x100x128xbf16>
// CHECK: loom.linear_attention %[[Q]], %[[K]], %[[V]] initial_state(%[[S]]) {causal, decay = array<f32: 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00>} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>) -> tensor<1x4x100x128xbf16>
// CHECK: %{{.*}}, %{{.*}} = loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>)
func.func @linear_attention_recurrent(%q: tensor<1x4x100x64xbf16>, %k: tensor<1x4x100x64xbf16>, %v: tensor<1x4x100x128xbf16>,
    %g: tensor<1x4x100xf32>, %gk: tensor<1x4x100x64xbf16>, %b: tensor<1x4x100xbf16>, %s: tensor<1x4x64x128xf32>,
    %d: tensor<?x?x?x?xf32>) -> (tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>,
                                 tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) {
  %0 = loom.linear_attention %q, %k, %v gate(%g) {causal} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xf32>) -> tensor<1x4x100x128xbf16>
  %1 = loom.linear_attention %q, %k, %v gate(%gk) {causal, feature_map = "relu", normalize, rule = "additive"} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100x64xbf16>) -> tensor<1x4x100x128xbf16>
  %2, %3 = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s) {causal, rule = "delta", scale = 0.125 : f32}
      : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xf32>, tensor<1x4x100xbf16>, tensor<1x4x64x128xf32>)
      -> (tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>)
  %4 = loom.linear_attention %q, %k, %v beta(%b) {causal, rule = "delta"} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100xbf16>) -> tensor<1x4x100x128xbf16>
  %5 = loom.linear_attention %q, %k, %v initial_state(%s) {causal, decay = array<f32: 1.0, 2.0, 3.0, 4.0>} : (tensor<1x4x100x64xbf16>, tensor<1x4x100x64xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>) -> tensor<1x4x100x128xbf16>
  %6, %7 = loom.linear_attention %d, %d, %d {causal} : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>)
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<1x4x64x128xf32>,
                                          tensor<1x4x100x128xbf16>, tensor<1x4x100x128xbf16>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
}

// CHECK-LABEL: func.func @mixers
// CHECK: loom.pool_mixer %{{.*}} : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
// CHECK: loom.pool_mixer %{{.*}} {kernel = 5 : i64} : (tensor<2x100x8xbf16>) -> tensor<2x100x8xbf16>
// CHECK: loom.dwconv %{{.*}}, %{{.*}} {causal} : (tensor<2x100x8xbf16>, tensor<100x8xbf16>) -> tensor<2x100x8xbf16>
// CHECK: loom.dwconv %{{.*}}, %{{.*}} : (tensor<2x100x8xbf16>, tensor<7x8xbf16>) -> tensor<2x100x8xbf16>
// CHECK: loom.dwconv %{{.*}}, %{{.*}} : (tensor<1x16x16x64xf32>, tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32>
func.func @mixers(%x: tensor<1x16x16x64xf32>, %s: tensor<2x100x8xbf16>, %wl: tensor<100x8xbf16>, %ws: tensor<7x8xbf16>, %w2: tensor<7x3x64xf32>)
    -> (tensor<1x16x16x64xf32>, tensor<2x100x8xbf16>, tensor<2x100x8xbf16>, tensor<2x100x8xbf16>, tensor<1x16x16x64xf32>) {
  %0 = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
  %1 = loom.pool_mixer %s {kernel = 5 : i64} : (tensor<2x100x8xbf16>) -> tensor<2x100x8xbf16>
  %2 = loom.dwconv %s, %wl {causal} : (tensor<2x100x8xbf16>, tensor<100x8xbf16>) -> tensor<2x100x8xbf16>
  %3 = loom.dwconv %s, %ws : (tensor<2x100x8xbf16>, tensor<7x8xbf16>) -> tensor<2x100x8xbf16>
  %4 = loom.dwconv %x, %w2 : (tensor<1x16x16x64xf32>, tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32>
  return %0, %1, %2, %3, %4 : tensor<1x16x16x64xf32>, tensor<2x100x8xbf16>, tensor<2x100x8xbf16>, tensor<2x100x8xbf16>, tensor<1x16x16x64xf32>
}

// CHECK-LABEL: func.func @linear_layers
// CHECK: loom.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x7x64xf32>, tensor<48x64xf32>, tensor<48xf32>) -> tensor<2x7x48xf32>
// CHECK: loom.linear %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<48x64xf32>) -> tensor<?x48xf32>
// CHECK: loom.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {group_size = 32 : i64} : (tensor<16x256xbf16>, tensor<48x256xi4>, tensor<48x8xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
// CHECK: loom.qlinear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<16x256xbf16>, tensor<48x256xi8>, tensor<48xf32>) -> tensor<16x48xbf16>
// CHECK: loom.quantize %{{.*}} : (tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>)
// CHECK: loom.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<16x256xi8>, tensor<16xf32>, tensor<48x256xi8>, tensor<48xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
// CHECK: loom.quantize %{{.*}} : (tensor<16x256xbf16>) -> (tensor<16x256xf8E4M3FN>, tensor<16xf32>)
// CHECK: loom.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<16x256xf8E4M3FN>, tensor<16xf32>, tensor<48x256xf8E4M3FN>, tensor<48xf32>) -> tensor<16x48xf32>
func.func @linear_layers(%x3: tensor<2x7x64xf32>, %w: tensor<48x64xf32>, %b: tensor<48xf32>, %xd: tensor<?x64xf32>,
                         %x: tensor<16x256xbf16>, %w4: tensor<48x256xi4>, %s4: tensor<48x8xf32>, %bb: tensor<48xbf16>,
                         %w8: tensor<48x256xi8>, %s8: tensor<48xf32>, %wf8: tensor<48x256xf8E4M3FN>)
    -> (tensor<2x7x48xf32>, tensor<?x48xf32>, tensor<16x48xbf16>, tensor<16x48xbf16>, tensor<16x48xbf16>, tensor<16x48xf32>) {
  %0 = loom.linear %x3, %w, %b : (tensor<2x7x64xf32>, tensor<48x64xf32>, tensor<48xf32>) -> tensor<2x7x48xf32>
  %1 = loom.linear %xd, %w : (tensor<?x64xf32>, tensor<48x64xf32>) -> tensor<?x48xf32>
  %2 = loom.qlinear %x, %w4, %s4, %bb {group_size = 32 : i64} : (tensor<16x256xbf16>, tensor<48x256xi4>, tensor<48x8xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  %3 = loom.qlinear %x, %w8, %s8 : (tensor<16x256xbf16>, tensor<48x256xi8>, tensor<48xf32>) -> tensor<16x48xbf16>
  %xq, %xs = loom.quantize %x : (tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>)
  %4 = loom.qmatmul %xq, %xs, %w8, %s8, %bb : (tensor<16x256xi8>, tensor<16xf32>, tensor<48x256xi8>, tensor<48xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  %fq, %fs = loom.quantize %x : (tensor<16x256xbf16>) -> (tensor<16x256xf8E4M3FN>, tensor<16xf32>)
  %5 = loom.qmatmul %fq, %fs, %wf8, %s8 : (tensor<16x256xf8E4M3FN>, tensor<16xf32>, tensor<48x256xf8E4M3FN>, tensor<48xf32>) -> tensor<16x48xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x7x48xf32>, tensor<?x48xf32>, tensor<16x48xbf16>, tensor<16x48xbf16>, tensor<16x48xbf16>, tensor<16x48xf32>
}

// CHECK-LABEL: func.func @block_pieces
// CHECK: loom.rms_norm %{{.*}}, %{{.*}} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
// CHECK: loom.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
// CHECK: loom.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x512xf32>, tensor<512xf32>, tensor<512xf32>) -> tensor<?x512xf32>
// CHECK: loom.rope %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
// CHECK: loom.rope %{{.*}}, %{{.*}}, %{{.*}} {style = "interleaved"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
// CHECK: loom.gelu %{{.*}} : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
// CHECK: loom.gelu %{{.*}} {approximate = "tanh"} : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
// CHECK: loom.silu %{{.*}} : (tensor<?x512xf32>) -> tensor<?x512xf32>
func.func @block_pieces(%x: tensor<128x512xbf16>, %g: tensor<512xbf16>, %xd: tensor<?x512xf32>, %gf: tensor<512xf32>,
                        %r: tensor<1x8x128x64xbf16>, %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>)
    -> (tensor<128x512xbf16>, tensor<128x512xbf16>, tensor<?x512xf32>, tensor<1x8x128x64xbf16>, tensor<1x8x128x64xbf16>, tensor<128x512xbf16>, tensor<128x512xbf16>, tensor<?x512xf32>) {
  %0 = loom.rms_norm %x, %g {epsilon = 1.0e-6 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  %1 = loom.rms_norm %x, %g {epsilon = 1.0e-5 : f32} : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  %2 = loom.layer_norm %xd, %gf, %gf : (tensor<?x512xf32>, tensor<512xf32>, tensor<512xf32>) -> tensor<?x512xf32>
  %3 = loom.rope %r, %cos, %sin {style = "half"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  %4 = loom.rope %r, %cos, %sin {style = "interleaved"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  %5 = loom.gelu %x : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
  %6 = loom.gelu %x {approximate = "tanh"} : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
  %7 = loom.silu %xd : (tensor<?x512xf32>) -> tensor<?x512xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<128x512xbf16>, tensor<128x512xbf16>, tensor<?x512xf32>, tensor<1x8x128x64xbf16>, tensor<1x8x128x64xbf16>, tensor<128x512xbf16>, tensor<128x512xbf16>, tensor<?x512xf32>
}

// A fusion group: inputs bound to block arguments, several results.
// CHECK-LABEL: func.func @kernel
// CHECK: %[[K:.*]]:2 = loom.kernel "rms_norm+linear x2" (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<64x512xbf16>, tensor<512xbf16>, tensor<256x512xbf16>, tensor<128x512xbf16>) -> (tensor<64x256xbf16>, tensor<64x128xbf16>) {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<64x512xbf16>, %[[B:.*]]: tensor<512xbf16>, %[[C:.*]]: tensor<256x512xbf16>, %[[D:.*]]: tensor<128x512xbf16>):
// CHECK-NEXT:   %[[N:.*]] = loom.rms_norm %[[A]], %[[B]]
// CHECK-NEXT:   %[[L:.*]] = loom.linear %[[N]], %[[C]]
// CHECK-NEXT:   %[[M:.*]] = loom.linear %[[N]], %[[D]]
// CHECK-NEXT:   loom.yield %[[L]], %[[M]] : tensor<64x256xbf16>, tensor<64x128xbf16>
// CHECK-NEXT: }
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @kernel(%x: tensor<64x512xbf16>, %nw: tensor<512xbf16>, %w1: tensor<256x512xbf16>, %w2: tensor<128x512xbf16>)
    -> (tensor<64x256xbf16>, tensor<64x128xbf16>) {
  %0:2 = loom.kernel "rms_norm+linear x2" (%x, %nw, %w1, %w2)
      : (tensor<64x512xbf16>, tensor<512xbf16>, tensor<256x512xbf16>, tensor<128x512xbf16>) -> (tensor<64x256xbf16>, tensor<64x128xbf16>) {
  ^bb0(%a: tensor<64x512xbf16>, %b: tensor<512xbf16>, %c: tensor<256x512xbf16>, %d: tensor<128x512xbf16>):
    %n = loom.rms_norm %a, %b : (tensor<64x512xbf16>, tensor<512xbf16>) -> tensor<64x512xbf16>
    %l = loom.linear %n, %c : (tensor<64x512xbf16>, tensor<256x512xbf16>) -> tensor<64x256xbf16>
    %m = loom.linear %n, %d : (tensor<64x512xbf16>, tensor<128x512xbf16>) -> tensor<64x128xbf16>
    loom.yield %l, %m : tensor<64x256xbf16>, tensor<64x128xbf16>
  }
  return %0#0, %0#1 : tensor<64x256xbf16>, tensor<64x128xbf16>
}

// The target description attribute round-trips, its tiles elided when empty.
// CHECK: module attributes {loom.target = #loom.target<chip = "sm_80", tiles = "attention:64x32">}
module attributes {loom.target = #loom.target<chip = "sm_80", tiles = "attention:64x32">} {}
// CHECK: module attributes {loom.target = #loom.target<chip = "cpu">}
module attributes {loom.target = #loom.target<chip = "cpu", tiles = "">} {}

// The log-sum-exp result of both attention ops, and merge_attention.
// CHECK-LABEL: func.func @attention_lse
// CHECK: %{{.*}}, %{{.*}} = loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = 16 : i64} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
// CHECK: %{{.*}}, %{{.*}} = loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<1x1x2x2xi1>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
// CHECK: %{{.*}}, %{{.*}} = loom.merge_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
// CHECK: loom.merge_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>) -> (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>)
func.func @attention_lse(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x2x128x64xbf16>, %v: tensor<2x2x128x64xbf16>,
                         %layout: tensor<1x1x2x2xi1>, %o: tensor<?x4x?x32xf32>, %l: tensor<?x4x?xf32>)
    -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>) {
  %0:2 = loom.attention %q, %k, %v {causal, window = 16 : i64} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
  %1:2 = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64} : (tensor<2x8x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<1x1x2x2xi1>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
  %2:2 = loom.merge_attention %0#0, %0#1, %1#0, %1#1 : (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>) -> (tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>)
  %3:2 = loom.merge_attention %o, %l, %o, %l, %o, %l : (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>) -> (tensor<?x4x?x32xf32>, tensor<?x4x?xf32>)
  return %2#0, %2#1, %3#0, %3#1 : tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>, tensor<?x4x?x32xf32>, tensor<?x4x?xf32>
}

// Sinks, per-head windows and sink logits on both softmax attention ops.
// CHECK-LABEL: func.func @serving_masks
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 4 : i64, window = array<i64: 8, 0, 8, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4xf32>) -> tensor<1x4x16x8xf32>
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 2 : i64, window = 4 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>)
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {sink = 0 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 8 : i64, block_q = 8 : i64, causal, sink = 1 : i64, window = array<i64: 0, 3, 5, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x2x2xi1>, tensor<4xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>)
func.func @serving_masks(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<4xf32>, %l: tensor<1x1x2x2xi1>) {
  %0 = loom.attention %q, %k, %v, %s {causal, sink = 4 : i64, window = array<i64: 8, 0, 8, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4xf32>) -> tensor<1x4x16x8xf32>
  %1:2 = loom.attention %q, %k, %v, %s {causal, sink = 2 : i64, window = 4 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<4xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>)
  %2 = loom.attention %q, %k, %v {sink = 0 : i64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32>
  %3:2 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 8 : i64, block_k = 8 : i64, causal, sink = 1 : i64, window = array<i64: 0, 3, 5, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x2x2xi1>, tensor<4xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>)
  return
}

// Paged attention over packed queries, the KV cache write and RoPE at
// per-token positions (issue 16); dynamic token counts.
// CHECK-LABEL: func.func @paged_serving
// CHECK: loom.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 1.250000e-01 : f32, sink = 4 : i64, softcap = 3.000000e+01 : f32, window = 32 : i64} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
// CHECK: loom.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 0, 8, 0, 8, 0, 8, 0, 8>} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
// CHECK: loom.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x?xi32>) -> tensor<?x4x16xf32>
// CHECK: loom.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, window = 16 : i64} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8xf32>) -> tensor<?x8x32xbf16>
// CHECK: %{{.*}}, %{{.*}} = loom.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8xf32>) -> (tensor<?x8x32xbf16>, tensor<?x8xf32>)
// CHECK: loom.kv_cache_write %{{.*}}, %{{.*}}, %{{.*}} : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
// CHECK: loom.rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {style = "interleaved"} : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
func.func @paged_serving(%q: tensor<?x8x64xbf16>, %k: tensor<64x16x2x64xbf16>, %v: tensor<64x16x2x32xbf16>,
                         %off: tensor<4xi32>, %lens: tensor<3xi32>, %table: tensor<3x8xi32>,
                         %qf: tensor<?x4x16xf32>, %kf: tensor<?x?x1x16xf32>, %offd: tensor<?xi32>,
                         %lensd: tensor<?xi32>, %tabled: tensor<?x?xi32>,
                         %knew: tensor<?x2x64xbf16>, %slots: tensor<?xi32>,
                         %cos: tensor<4096x32xf32>, %sin: tensor<4096x32xf32>, %sinks: tensor<8xf32>) {
  %0 = loom.paged_attention %q, %k, %v, %off, %lens, %table {causal, scale = 0.125 : f32, window = 32 : i64, sink = 4 : i64, softcap = 30.0 : f32}
      : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  %1 = loom.paged_attention %q, %k, %v, %off, %lens, %table {causal, window = array<i64: 0, 8, 0, 8, 0, 8, 0, 8>}
      : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x8x32xbf16>
  %2 = loom.paged_attention %qf, %kf, %kf, %offd, %lensd, %tabled
      : (tensor<?x4x16xf32>, tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x?xi32>) -> tensor<?x4x16xf32>
  %5 = loom.paged_attention %q, %k, %v, %off, %lens, %table, %sinks {causal, window = 16 : i64}
      : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8xf32>) -> tensor<?x8x32xbf16>
  %6:2 = loom.paged_attention %q, %k, %v, %off, %lens, %table, %sinks {causal}
      : (tensor<?x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x32xbf16>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>, tensor<8xf32>) -> (tensor<?x8x32xbf16>, tensor<?x8xf32>)
  %3 = loom.kv_cache_write %k, %knew, %slots : (tensor<64x16x2x64xbf16>, tensor<?x2x64xbf16>, tensor<?xi32>) -> tensor<64x16x2x64xbf16>
  %4 = loom.rope %q, %cos, %sin, %slots {style = "interleaved"} : (tensor<?x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<?xi32>) -> tensor<?x8x64xbf16>
  return
}
