// The attention forms with an lse result and merge_attention on the GPU
// path. Decode-sized attention keeps the split-KV kernels: the combine
// kernel (named _lse) also writes each row's log-sum-exp, ln(2) * (m +
// lg2(l)) from the merged max and sum (log2 units), -inf for a row without
// a visible key. The flash kernel (block-sparse included) writes it too,
// from its running max and sum; merge_attention takes the generic path
// (linalg generics mapped to threads). The third RUN lowers the kernels to
// PTX; the last compiles everything with ptxas (cubin) for sm_90a.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ loom-compile %s --target=sm_90a --emit=cubin -o %t.cubin %}

// CHECK-LABEL: func.func @decode_lse
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x8x1x64xbf16>
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x8x1x64xbf16>
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d64_g4_sq1_causal blocks in
// CHECK: %[[LSE:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x8x1xf32>
// CHECK: %[[LSEARG:.*]] = memref.cast %[[LSE]] : memref<?x8x1xf32> to memref<?x?x?xf32>
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d64_g4_sq1_lse blocks in {{.*}} args({{.*}} : memref<?x?x?x?xf32>, {{.*}} : memref<?x?x?x?xf32>, {{.*}} : memref<?x?x?x?xbf16>, %[[LSEARG]] : memref<?x?x?xf32>)
// CHECK-DAG: %[[O:.*]] = bufferization.to_tensor %[[OUT]]
// CHECK-DAG: %[[L:.*]] = bufferization.to_tensor %[[LSE]]
// CHECK: return %[[O]], %[[L]]
func.func @decode_lse(%q: tensor<?x8x1x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x64xbf16>) -> (tensor<?x8x1x64xbf16>, tensor<?x8x1xf32>) {
  %o, %l = loom.attention %q, %k, %v {causal} : (tensor<?x8x1x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>) -> (tensor<?x8x1x64xbf16>, tensor<?x8x1xf32>)
  return %o, %l : tensor<?x8x1x64xbf16>, tensor<?x8x1xf32>
}

// The one-result form keeps the combine kernel without the lse output.
// CHECK-LABEL: func.func @decode_plain
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d64_g4_sq1 blocks in
func.func @decode_plain(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x300x64xbf16>, %v: tensor<2x2x300x64xbf16>) -> tensor<2x8x1x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x1x64xbf16>, tensor<2x2x300x64xbf16>, tensor<2x2x300x64xbf16>) -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// Prefill-sized attention and block-sparse attention with lse take the
// flash kernel (name suffix _lse, the lse buffer its last argument);
// merge_attention stays for the generic path.
// CHECK-LABEL: func.func @generic_forms
// CHECK: %[[LA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x200xf32>
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n32_w4_causal_pscale_lse blocks in {{.*}} args({{.*}}, %{{.*}} : f32, %{{.*}} : memref<?x?x?xf32>)
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m64_n64_w4_pscale_sparse_lse blocks in
// CHECK: loom.merge_attention
// CHECK: return
func.func @generic_forms(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x200x64xbf16>, %l: tensor<1x1x4x4xi1>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>) {
  %a, %la = loom.attention %q, %k, %k {causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>)
  %b, %lb = loom.block_sparse_attention %q, %k, %k, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x1x4x4xi1>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>)
  %m, %lm = loom.merge_attention %a, %la, %b, %lb : (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>, tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>) -> (tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>)
  return %m, %lm : tensor<1x4x200x64xbf16>, tensor<1x4x200xf32>
}

// The combine kernel with lse, lowered: thread 0 of each row takes lg2 of
// the merged sum.
// PTX-LABEL: .entry loom_decode_combine_bf16_d64_g4_sq1_lse(
// PTX: ex2.approx.ftz.f32
// PTX: cvt.rn.bf16.f32
// PTX: lg2.approx.ftz.f32
// PTX: st.global.b32

// The flash kernel with lse: lane 4g of each quad takes lg2 of its rows' sum.
// PTX-LABEL: .entry loom_attention_bf16_d64_m128_n32_w4_causal_pscale_lse(
// PTX: mma.sync.aligned.m16n8k16
// PTX: lg2.approx.ftz.f32
// PTX: st.global.b32
