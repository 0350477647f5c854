// loom-gpu-kernels on causal loom.linear_attention with a static S of at
// most 16 tokens (a decode step), no normalize, q, k, v and the result of
// one element type (bf16, f16 or f32), Dk static (at most 256) and Dv a
// static multiple of 4: the token-by-token kernel
// (RecurrentLinearAttentionKernel.cpp), one CTA of 256 threads per batch,
// head and 128 columns of Dv, with every gate (per head, per key dimension,
// decay), the additive and the delta rule and the states. Longer or dynamic
// S take the chunked kernels. The third RUN lowers the kernels to PTX.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=FUSED
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,expand-strided-metadata,lower-affine,convert-scf-to-cf,arith-emulate-unsupported-floats{source-types=bf16 target-type=f32},convert-vector-to-llvm,convert-gpu-to-nvvm,canonicalize,cse,reconcile-unrealized-casts),gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// KDA / Gated DeltaNet decode: a gate per key dimension, beta, the states,
// three tokens, Dv = 200 over two slices. Arguments q, k, v, out, gate,
// beta, initial state, final state (fresh, returned), scale; grid
// (max(B * H, 1), max(ceil(Dv / 128), 1), 1), 256 threads, no dynamic
// shared memory.
// CHECK-LABEL: func.func @keygate_delta
// CHECK-DAG: %[[FS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x96x200xf32>
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[C127:.*]] = arith.constant 127 : index
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 0 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f16_dk96_elu_plus_one_keygate_f32_delta_bf16_init_final blocks in ({{.*}}) threads in (%c256, {{.*}}) dynamic_shared_memory_size %[[SMEM]] args(%{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// CHECK: %[[RS:.*]] = bufferization.to_tensor %[[FS]] restrict writable
// CHECK: return %{{.*}}, %[[RS]]
func.func @keygate_delta(%q: tensor<2x4x3x96xf16>, %k: tensor<2x4x3x96xf16>, %v: tensor<2x4x3x200xf16>, %g: tensor<2x4x3x96xf32>, %b: tensor<2x4x3xbf16>, %s0: tensor<2x4x96x200xf32>) -> (tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s0) {causal, rule = "delta", feature_map = "elu_plus_one", scale = 0.1 : f32} : (tensor<2x4x3x96xf16>, tensor<2x4x3x96xf16>, tensor<2x4x3x200xf16>, tensor<2x4x3x96xf32>, tensor<2x4x3xbf16>, tensor<2x4x96x200xf32>) -> (tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>)
  return %o, %s : tensor<2x4x3x200xf16>, tensor<2x4x96x200xf32>
}

// One token with decay (the rates in the name), f32, no state.
// CHECK-LABEL: func.func @decay_f32
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_f32_dk64_identity_decay_3dcccccd_3f000000 blocks
func.func @decay_f32(%q: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x32xf32>) -> tensor<1x2x1x32xf32> {
  %o = loom.linear_attention %q, %q, %v {causal, decay = array<f32: 0.1, 0.5>} : (tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x32xf32>) -> tensor<1x2x1x32xf32>
  return %o : tensor<1x2x1x32xf32>
}

// Not for this kernel: 17 tokens and a dynamic S (the chunked kernel),
// normalize (the CUDA-core kernel), Dv not a multiple of 4 (the generic
// path for this delta-rule op).
// CHECK-LABEL: func.func @declined
// CHECK-NOT: linear_attention_rec
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_n32 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_mma_bf16_dk64_identity_gate_f32_n32 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk64_causal_norm_identity blocks
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} beta(%{{.*}}) {causal, rule = "delta"}
// CHECK-NOT: linear_attention_rec
// CHECK: return
func.func @declined(%q: tensor<1x2x17x64xbf16>, %v: tensor<1x2x17x64xbf16>, %g: tensor<1x2x17xf32>,
                    %qd: tensor<1x2x?x64xbf16>, %vd: tensor<1x2x?x64xbf16>, %gd: tensor<1x2x?xf32>,
                    %q1: tensor<1x2x1x64xbf16>, %v1: tensor<1x2x1x64xbf16>, %v6: tensor<1x2x1x6xbf16>, %b1: tensor<1x2x1xbf16>)
    -> (tensor<1x2x17x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x6xbf16>) {
  %0 = loom.linear_attention %q, %q, %v gate(%g) {causal} : (tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17x64xbf16>, tensor<1x2x17xf32>) -> tensor<1x2x17x64xbf16>
  %1 = loom.linear_attention %qd, %qd, %vd gate(%gd) {causal} : (tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?xf32>) -> tensor<1x2x?x64xbf16>
  %2 = loom.linear_attention %q1, %q1, %v1 {causal, normalize} : (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>) -> tensor<1x2x1x64xbf16>
  %3 = loom.linear_attention %q1, %q1, %v6 beta(%b1) {causal, rule = "delta"} : (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x6xbf16>, tensor<1x2x1xbf16>) -> tensor<1x2x1x6xbf16>
  return %0, %1, %2, %3 : tensor<1x2x17x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x6xbf16>
}

// A decode step in a fusion group is inlined and takes the kernel op by op
// (the layout changes run as their own kernels).
// FUSED-LABEL: func.func @fused_decode
// FUSED-NOT: loom.kernel
// FUSED: linalg.transpose
// FUSED: gpu.launch_func @loom_kernels::@loom_linear_attention_rec_bf16_dk64_identity_gate_f32 blocks
func.func @fused_decode(%q2: tensor<1x128xbf16>, %v2: tensor<1x128xbf16>, %g: tensor<1x2x1xf32>) -> tensor<1x2x1x64xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 1, 2, 64] : tensor<1x128xbf16> into tensor<1x1x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 1, 2, 64] : tensor<1x128xbf16> into tensor<1x1x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x2x1x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x1x2x64xbf16>) outs(%e0 : tensor<1x2x1x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x1x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x1x2x64xbf16>) outs(%e1 : tensor<1x2x1x64xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %q, %v gate(%g) {causal} : (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1x2x1xf32>) -> tensor<1x2x1x64xbf16>
  return %o : tensor<1x2x1x64xbf16>
}

// The kernel: 256 threads, two shared [2, 8, 128] f32 buffers (the sums
// over the warps, per token parity), a loop over the tokens.
// CHECK: gpu.func @loom_linear_attention_rec_f16_dk96_elu_plus_one_keygate_f32_delta_bf16_init_final({{.*}}) workgroup(%{{.*}} : memref<2x8x128xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<2x8x128xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// PTX-DAG: .entry loom_linear_attention_rec_f16_dk96_elu_plus_one_keygate_f32_delta_bf16_init_final(
// PTX-DAG: .entry loom_linear_attention_rec_f32_dk64_identity_decay_3dcccccd_3f000000(
// PTX-DAG: bar.sync
// PTX-DAG: fma.rn.f32
