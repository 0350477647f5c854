// The recurrent forms of loom.linear_attention on the GPU path. The
// tensor-core kernel takes the causal forms in bf16 and f16: the additive
// and the delta rule with a gate per head or per key dimension or decay, an
// initial and a final state (linear-attention-mma.mlir); the CUDA-core
// kernel (LinearAttention.cpp) and its fused group cover the quadratic form
// only. What neither takes over 16 tokens (here f32 data) takes the
// token-by-token kernel
// (RecurrentLinearAttentionKernel.cpp) at any length, in one launch. What that one declines too (normalize with a gate, a Dv that is
// not a multiple of 4) is left to the generic path, which maps the CPU
// path's recurrence onto the GPU: a host loop over the tokens launching a
// few element-per-thread kernels per token, the f32 state in device memory.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=FUSED
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=to-llvm=false' | FileCheck %s --check-prefix=GENERIC

// The quadratic form (control) takes the CUDA-core kernel.
// CHECK-LABEL: func.func @quadratic
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_f32_dk64_causal
// CHECK-NOT: loom.linear_attention
// CHECK: return
func.func @quadratic(%q: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x32xf32>) -> tensor<1x2x100x32xf32> {
  %o = loom.linear_attention %q, %q, %v {causal, decay = array<f32: 0.5, 0.25>} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>) -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

// Each recurrent form in f32 is declined by the CUDA-core kernel, whatever
// else would fit it, and by the tensor-core kernel, which takes 16-bit
// types: over 100 tokens they take the token-by-token kernel, one launch
// each, with no op left.
// CHECK-LABEL: func.func @declined
// CHECK-NOT: loom.linear_attention
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_gate_f32 
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_keygate_bf16 
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_delta_bf16 
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_decay_{{[0-9a-f_]+}}_init 
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_decay_{{[0-9a-f_]+}}_final 
// CHECK-NOT: loom.linear_attention
// CHECK: return
func.func @declined(%q: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x32xf32>, %g: tensor<1x2x100xf32>, %gk: tensor<1x2x100x64xbf16>,
                    %b: tensor<1x2x100xbf16>, %s: tensor<1x2x64x32xf32>)
    -> (tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x64x32xf32>) {
  %0 = loom.linear_attention %q, %q, %v gate(%g) {causal} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100xf32>) -> tensor<1x2x100x32xf32>
  %1 = loom.linear_attention %q, %q, %v gate(%gk) {causal} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x64xbf16>) -> tensor<1x2x100x32xf32>
  %2 = loom.linear_attention %q, %q, %v beta(%b) {causal, rule = "delta"} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100xbf16>) -> tensor<1x2x100x32xf32>
  %3 = loom.linear_attention %q, %q, %v initial_state(%s) {causal, decay = array<f32: 0.5, 0.25>} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>, tensor<1x2x64x32xf32>) -> tensor<1x2x100x32xf32>
  %4, %5 = loom.linear_attention %q, %q, %v {causal, decay = array<f32: 0.5, 0.25>} : (tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x32xf32>) -> (tensor<1x2x100x32xf32>, tensor<1x2x64x32xf32>)
  return %0, %1, %2, %3, %4, %5 : tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x64x32xf32>
}

// A fusion group around an op with the delta rule and a gate per head
// (Gated DeltaNet) takes the tensor-core kernel with strided views, beta
// read as it is: the layouts of v and the result are views (q, which is k
// too, is transposed once into a buffer both read).
// FUSED-LABEL: func.func @fused_layout_gated
// FUSED: linalg.transpose
// FUSED-NOT: linalg.transpose
// FUSED: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_delta_bf16_n32_strided {{.*}} args(%{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?xf32>, %{{.*}} : memref<?x?x?xbf16>, %{{.*}} : f32)
// FUSED-NOT: linalg.transpose
// FUSED-NOT: loom.linear_attention
// FUSED: return
func.func @fused_layout_gated(%q2: tensor<77x128xbf16>, %v2: tensor<77x96xbf16>, %g: tensor<1x2x77xf32>, %b: tensor<1x2x77xbf16>) -> tensor<77x96xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xbf16> into tensor<1x77x2x48xbf16>
  %e0 = tensor.empty() : tensor<1x2x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xbf16>) outs(%e0 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xbf16>) outs(%e2 : tensor<1x2x77x48xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %q, %v gate(%g) beta(%b) {causal, rule = "delta"} : (tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x48xbf16>, tensor<1x2x77xf32>, tensor<1x2x77xbf16>) -> tensor<1x2x77x48xbf16>
  %e3 = tensor.empty() : tensor<1x77x2x48xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xbf16>) outs(%e3 : tensor<1x77x2x48xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xbf16> into tensor<77x96xbf16>
  return %o2 : tensor<77x96xbf16>
}

// In f32 (a gate per key dimension and the delta rule: KDA) no fused
// kernel takes the group: it is inlined, the layout changes are computed as
// they are written and the op takes the token-by-token kernel on plain
// tensors.
// FUSED-LABEL: func.func @fused_layout_kda
// FUSED-NOT: loom.kernel
// FUSED-NOT: gpu.launch_func
// FUSED: linalg.transpose
// FUSED: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_keygate_f32_delta_f32 
// FUSED-NOT: loom.linear_attention
// FUSED: linalg.transpose
// FUSED: return
func.func @fused_layout_kda(%q2: tensor<77x128xf32>, %v2: tensor<77x96xf32>, %g: tensor<1x2x77x64xf32>, %b: tensor<1x2x77xf32>) -> tensor<77x96xf32> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xf32> into tensor<1x77x2x64xf32>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xf32> into tensor<1x77x2x48xf32>
  %e0 = tensor.empty() : tensor<1x2x77x64xf32>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xf32>) outs(%e0 : tensor<1x2x77x64xf32>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xf32>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xf32>) outs(%e2 : tensor<1x2x77x48xf32>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %q, %v gate(%g) beta(%b) {causal, rule = "delta"} : (tensor<1x2x77x64xf32>, tensor<1x2x77x64xf32>, tensor<1x2x77x48xf32>, tensor<1x2x77x64xf32>, tensor<1x2x77xf32>) -> tensor<1x2x77x48xf32>
  %e3 = tensor.empty() : tensor<1x77x2x48xf32>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xf32>) outs(%e3 : tensor<1x77x2x48xf32>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xf32> into tensor<77x96xf32>
  return %o2 : tensor<77x96xf32>
}

// The generic path (a Dv of 30, not a multiple of 4, which the token-by-
// token kernel declines): the initial state is copied into the f32 state buffer,
// a host loop over the 100 tokens launches the kernels of one step (the
// delta rule's u = k^T Diag(a) S, the state update in place, the output row,
// its scale), and the buffer is returned as the final state; no loom op and
// no allocation is left inside the loop.
// GENERIC-LABEL: func.func @gated_delta
// GENERIC-SAME: %[[S0:[^:]*]]: memref<1x2x64x30xf32>)
// GENERIC: %[[STATE:.*]] = gpu.alloc () : memref<1x2x64x30xf32>
// GENERIC: gpu.memcpy %[[STATE]], %[[S0]]
// GENERIC: scf.for %{{.*}} = %c0 to %c100 step %c1 {
// GENERIC-NOT: alloc
// GENERIC-COUNT-6: gpu.launch_func
// GENERIC-NOT: alloc
// GENERIC: }
// GENERIC: gpu.launch_func
// GENERIC: return %{{.*}}, %[[STATE]] : memref<1x2x100x30xbf16>, memref<1x2x64x30xf32>
// GENERIC-NOT: loom.
func.func @gated_delta(%q: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x30xbf16>, %g: tensor<1x2x100x64xf32>, %b: tensor<1x2x100xbf16>, %s: tensor<1x2x64x30xf32>)
    -> (tensor<1x2x100x30xbf16>, tensor<1x2x64x30xf32>) {
  %o, %fs = loom.linear_attention %q, %q, %v gate(%g) beta(%b) initial_state(%s) {causal, rule = "delta", scale = 0.125 : f32}
      : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x30xbf16>, tensor<1x2x100x64xf32>, tensor<1x2x100xbf16>, tensor<1x2x64x30xf32>)
      -> (tensor<1x2x100x30xbf16>, tensor<1x2x64x30xf32>)
  return %o, %fs : tensor<1x2x100x30xbf16>, tensor<1x2x64x30xf32>
}
