// The paged serving ops of issue 16 (paged_attention, kv_cache_write, rope
// at per-token positions) on the GPU path. loom.paged_attention (bf16/f16,
// D = Dv of 16..256, static page size and heads) takes the split-KV decode
// kernels in their paged form: a CTA per (token, kv head, split) whose rows
// are the token's GQA group and whose keys its sequence's, through the block
// table; the splits cover maxPages * page keys (2 CTAs per SM on sm_90a's
// 132 SMs, in whole 128-key tiles); a combine kernel per (token, query
// head). kv_cache_write and rope at positions have no kernel recipe, so
// loom-gpu-kernels leaves them (on sm_90a and sm_80) while the plain RoPE
// beside them gets its row kernel, loom-fuse groups none of them, and the
// pipeline takes the generic path for them and for the paged attention the
// kernels do not cover (f32, Dv != D): linalg generics and kv_cache_write's
// scf.forall become thread-per-element launches, no loom op is left. The
// last RUNs compile everything to cubin with ptxas for both chips.
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_90a" | FileCheck %s
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_80" | FileCheck %s
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=FUSED
// RUN: loom-opt %s -split-input-file --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a to-llvm=false' | FileCheck %s --check-prefix=GENERIC
// RUN: loom-opt %s -split-input-file --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_80 to-llvm=false' | FileCheck %s --check-prefix=GENERIC
// RUN: %if ptxas %{ loom-compile %s --target=sm_90a --emit=cubin -o %t.sm90a.cubin %}
// RUN: %if ptxas %{ loom-compile %s --target=sm_80 --emit=cubin -o %t.sm80.cubin %}

// A Llama-style step on a ragged batch (dynamic T): RoPE at positions on q
// and k, the new keys and values written into the caches, paged attention
// with sinks, a window and a softcap; a plain RoPE as the control.
// CHECK-LABEL: func.func @llama_step
// CHECK: gpu.launch_func @loom_kernels::@loom_rope_half_bf16
// CHECK-NOT: gpu.launch_func
// CHECK: loom.rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NOT: gpu.launch_func
// CHECK: loom.rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NOT: gpu.launch_func
// CHECK: %[[KC:.*]] = loom.kv_cache_write
// CHECK-NOT: gpu.launch_func
// CHECK: %[[VC:.*]] = loom.kv_cache_write
// CHECK: %[[T:.*]] = tensor.dim %[[QR:.*]], %c0
// CHECK: %[[CTAS:.*]] = arith.muli %[[T]], %c2
// CHECK: %[[KEYS:.*]] = arith.muli %c32, %c16
// CHECK: %[[PO:.*]] = memref.alloc(%[[CTAS]], %[[SPLITS:[0-9a-z_]+]]) {{.*}} : memref<?x?x4x128xf32>
// CHECK: %[[PML:.*]] = memref.alloc(%[[CTAS]], %[[SPLITS]]) {{.*}} : memref<?x?x4x2xf32>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<?x8x128xbf16>
// CHECK: bufferization.to_buffer %[[KC]] read_only
// CHECK: bufferization.to_buffer %[[VC]] read_only
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w1024_sink4_softcap_paged16 blocks in (%{{.*}}, %[[SPLITS]], %{{.*}}) threads in (%c128{{.*}}) {{.*}} args(%{{.*}} : memref<?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32, %{{.*}} : f32, %{{.*}} : index, %{{.*}} : memref<?x?xi32>, %{{.*}} : memref<?xi32>, %{{.*}} : memref<?xi32>)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1_paged
// CHECK-NOT: loom.paged_attention
// CHECK: return
// FUSED-LABEL: func.func @llama_step
// FUSED-NOT: loom.kernel
// FUSED: loom_decode_attention_{{.*}}_paged16
// FUSED-NOT: loom.kernel
// FUSED: return
// The generic path: the caches are entry arguments (read-only by the ABI),
// so each write first copies its cache, then scatters the rows in a
// launch; no loom op is left.
// GENERIC-LABEL: func.func @llama_step
// GENERIC: gpu.launch_func @loom_kernels::@loom_rope_half_bf16
// GENERIC: gpu.launch_func @loom_kernels::@llama_step_kernel
// GENERIC: gpu.memcpy
// GENERIC: gpu.launch_func @loom_kernels::@llama_step_kernel
// GENERIC: gpu.launch_func @loom_kernels::@loom_decode_attention_{{.*}}_paged16
// GENERIC: gpu.launch_func @loom_kernels::@loom_decode_combine_{{.*}}_paged
// GENERIC-NOT: loom.
// GENERIC: return
func.func @llama_step(%q: tensor<?x8x128xbf16>, %k: tensor<?x2x128xbf16>, %v: tensor<?x2x128xbf16>, %pos: tensor<?xi32>, %slots: tensor<?xi32>,
                      %cos: tensor<4096x64xf32>, %sin: tensor<4096x64xf32>, %kc: tensor<256x16x2x128xbf16>, %vc: tensor<256x16x2x128xbf16>,
                      %off: tensor<9xi32>, %len: tensor<8xi32>, %bt: tensor<8x32xi32>, %xb: tensor<1x8x64x128xbf16>)
    -> (tensor<?x8x128xbf16>, tensor<256x16x2x128xbf16>, tensor<256x16x2x128xbf16>, tensor<1x8x64x128xbf16>) {
  %c = tensor.extract_slice %cos[0, 0] [64, 64] [1, 1] : tensor<4096x64xf32> to tensor<64x64xf32>
  %s = tensor.extract_slice %sin[0, 0] [64, 64] [1, 1] : tensor<4096x64xf32> to tensor<64x64xf32>
  %xr = loom.rope %xb, %c, %s : (tensor<1x8x64x128xbf16>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64x128xbf16>
  %qr = loom.rope %q, %cos, %sin, %pos : (tensor<?x8x128xbf16>, tensor<4096x64xf32>, tensor<4096x64xf32>, tensor<?xi32>) -> tensor<?x8x128xbf16>
  %kr = loom.rope %k, %cos, %sin, %pos : (tensor<?x2x128xbf16>, tensor<4096x64xf32>, tensor<4096x64xf32>, tensor<?xi32>) -> tensor<?x2x128xbf16>
  %kc2 = loom.kv_cache_write %kc, %kr, %slots : (tensor<256x16x2x128xbf16>, tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<256x16x2x128xbf16>
  %vc2 = loom.kv_cache_write %vc, %v, %slots : (tensor<256x16x2x128xbf16>, tensor<?x2x128xbf16>, tensor<?xi32>) -> tensor<256x16x2x128xbf16>
  %o = loom.paged_attention %qr, %kc2, %vc2, %off, %len, %bt {causal, window = 1024 : i64, sink = 4 : i64, softcap = 30.0 : f32}
      : (tensor<?x8x128xbf16>, tensor<256x16x2x128xbf16>, tensor<256x16x2x128xbf16>, tensor<9xi32>, tensor<8xi32>, tensor<8x32xi32>) -> tensor<?x8x128xbf16>
  return %o, %kc2, %vc2, %xr : tensor<?x8x128xbf16>, tensor<256x16x2x128xbf16>, tensor<256x16x2x128xbf16>, tensor<1x8x64x128xbf16>
}

// -----

// A decode step in f32 with every size dynamic but Hq (GQA 8:1, Dv != D).
// CHECK-LABEL: func.func @decode_dynamic
// CHECK-NOT: gpu.launch_func
// CHECK: loom.paged_attention
// The row lookup (a loop over the sequences per token) is a kernel of its
// own writing three i64 rows, which the score kernel reads: not merged into
// it, where it would run once per score (loom-fuse-elementwise-chains).
// GENERIC-LABEL: func.func @decode_dynamic
// GENERIC: gpu.launch_func @decode_dynamic_kernel::@decode_dynamic_kernel blocks {{.*}} args({{.*}} : memref<?xi64>, {{.*}} : memref<?xi64>, {{.*}} : memref<?xi64>
// GENERIC: gpu.launch_func @decode_dynamic_kernel::@decode_dynamic_kernel_0 blocks {{.*}} args({{.*}} : memref<?xi64>, {{.*}} : memref<?xi64>, {{.*}} : memref<?xi64>,
// GENERIC-NOT: loom.
// GENERIC: return
func.func @decode_dynamic(%q: tensor<?x8x64xf32>, %k: tensor<?x?x1x64xf32>, %v: tensor<?x?x1x32xf32>, %off: tensor<?xi32>, %len: tensor<?xi32>, %bt: tensor<?x?xi32>) -> tensor<?x8x32xf32> {
  %o = loom.paged_attention %q, %k, %v, %off, %len, %bt {causal}
      : (tensor<?x8x64xf32>, tensor<?x?x1x64xf32>, tensor<?x?x1x32xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x?xi32>) -> tensor<?x8x32xf32>
  return %o : tensor<?x8x32xf32>
}
