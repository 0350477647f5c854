// The serving masks of issue 16 (sink, per-head window, sink_logits; and a
// window on the block-sparse op) on the GPU path. On sm_90a the wgmma
// attention kernel implements sink, per-head windows and sink logits on
// loom.attention (it visits only the sink tiles and each head's window
// tiles); where the TMA cannot read q, k and v at run time, a copy of the op
// in the scf.if's else branch takes the generic path and writes the same
// buffers. With few query rows (decode) the split-KV decode kernels take
// them on both chips, visiting only the sink's and the window's key tiles.
// On sm_80 (prefill), for the block-sparse op and in the fused attention
// groups the op is declined and takes the generic path (its reference
// lowering, linalg generics mapped to threads).
// Beside each, the same op without the masks gets its kernel, so that a
// kernel that stopped declining would show. The pipeline RUNs show that no
// loom op is left, that the declined ops become generic kernels (named after
// their function, @loom_kernels::@<func>_kernel_N; the specialized ones are
// @loom_kernels::@loom_*) and that the sink logits reach them; the last RUNs
// compile everything with ptxas for both chips.
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_90a" | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_80" | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=FUSED
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_90a" -canonicalize | FileCheck %s --check-prefix=DECODE
// RUN: loom-opt %s -split-input-file --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a to-llvm=false' | FileCheck %s --check-prefixes=GENERIC,G90
// RUN: loom-opt %s -split-input-file --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_80 to-llvm=false' | FileCheck %s --check-prefixes=GENERIC,G80
// RUN: %if ptxas %{ loom-compile %s --target=sm_90a --emit=cubin -o %t.sm90a.cubin %}
// RUN: %if ptxas %{ loom-compile %s --target=sm_80 --emit=cubin -o %t.sm80.cubin %}

// Prefill (bf16, D = 128, GQA 8:2, 256 queries): a single window has the
// wgmma kernel on sm_90a (the flash kernel its fallback) and the flash
// kernel on sm_80; a sink, per-head windows and sink logits have the wgmma
// kernel on sm_90a (the op itself its fallback) and keep the op on sm_80.
// CHECK-LABEL: func.func @prefill
// CHECK-SAME: %[[SL:[^:]*]]: tensor<8xf32>)
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_pscale_pp blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_window_pscale blocks
// SM80-NOT: gpu.launch_func
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_sink4_pscale_pp blocks
// SM90: } else {
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 4 : i64, window = 64 : i64}
// SM80-NOT: gpu.launch_func
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_wh8x{{[0-9a-f]+}}_pscale_pp blocks
// SM90: } else {
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 0, 64, 64, 64, 0, 64, 64, 64>}
// SM80-NOT: gpu.launch_func
// SM90: %[[SLB:.*]] = bufferization.to_buffer %[[SL]]
// SM90: %[[SLD:.*]] = memref.cast %[[SLB]] : memref<8xf32> to memref<?xf32>
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_sinklogits_pp blocks {{.*}}, %{{.*}} : f32, %[[SLD]] : memref<?xf32>)
// SM90: } else {
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}}, %[[SL]] {causal}
// SM90: bufferization.materialize_in_destination
// CHECK-NOT: gpu.launch_func
// CHECK: return
// The kernels' own builds: the per-head windows select head h's window; the
// sink logits are read per head (a load of an f32 per CTA).
// SM90: gpu.func @loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_wh8x
// SM90: gpu.func @loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_sinklogits_pp({{.*}}: f32, %{{.*}}: memref<?xf32>)
// SM90: memref.load %{{.*}}[%{{.*}}] : memref<?xf32>
// GENERIC-LABEL: func.func @prefill
// GENERIC-SAME: %[[PSL:[^:]*]]: memref<8xf32>)
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_pscale_strided_pp
// GENERIC: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_window_pscale
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_sink4_pscale_pp
// G80-NOT: @loom_kernels::@loom_
// GENERIC: gpu.launch_func @loom_kernels::@prefill_kernel
// G90: gpu.memcpy
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_wh8x
// G80-NOT: @loom_kernels::@loom_
// G90: gpu.memcpy
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_sinklogits_pp {{.*}} : f32, %{{.*}} : memref<?xf32>)
// GENERIC: gpu.launch_func @loom_kernels::@prefill_kernel_{{[0-9]+}} {{.*}}%[[PSL]] : memref<8xf32>
// G80-NOT: @loom_kernels::@loom_
// GENERIC-NOT: loom.
// GENERIC: return
func.func @prefill(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>, %s: tensor<8xf32>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>) {
  %0 = loom.attention %q, %k, %v {causal, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %1 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %2 = loom.attention %q, %k, %v {causal, window = array<i64: 0, 64, 64, 64, 0, 64, 64, 64>} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %3 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<8xf32>) -> tensor<1x8x256x128xbf16>
  return %0, %1, %2, %3 : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>
}

// -----

// Plain causal attention of the same shape: on sm_90a the wgmma kernel
// (with the flash kernel as its fallback), on sm_80 the flash kernel; with
// sink logits and an lse, the wgmma kernel writing both results on sm_90a
// (the op its fallback, materialized into the same two buffers), the op on
// sm_80.
// CHECK-LABEL: func.func @plain_and_sink_logits_lse
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128
// SM80-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_pscale blocks
// SM80-NOT: gpu.launch_func
// SM90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_sinklogits_lse_pp blocks {{.*}} : memref<?xf32>, %{{.*}} : memref<?x?x?xf32>)
// SM90: } else {
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal} : {{.*}} -> (tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>)
// SM90-COUNT-2: bufferization.materialize_in_destination
// CHECK-NOT: gpu.launch_func
// CHECK: return
// GENERIC-LABEL: func.func @plain_and_sink_logits_lse
// GENERIC: gpu.launch_func @loom_kernels::@loom_attention_
// GENERIC-NOT: loom.
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_sinklogits_lse_pp
// GENERIC: gpu.launch_func @loom_kernels::@plain_and_sink_logits_lse_kernel
// G80-NOT: @loom_kernels::@loom_
// G90-COUNT-2: gpu.memcpy
// GENERIC-NOT: loom.
// GENERIC: return
func.func @plain_and_sink_logits_lse(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>, %s: tensor<8xf32>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>) {
  %0 = loom.attention %q, %k, %v {causal} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %1:2 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<8xf32>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>)
  return %0, %1#0, %1#1 : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>
}

// -----

// Decode (one query per sequence, 4096 keys): plain causal, sink logits,
// and 4 sinks with a window of 1024 (StreamingLLM) all take the split-KV
// kernels, on both chips. With the window the split kernel visits the sink's
// tile and the window's 8 tiles (keys [0, 128) and [3072, 4096): sink end
// 128, window start 3072), so 9 splits of 128 keys instead of 32; the sink
// logits reach the combine kernel.
// CHECK-LABEL: func.func @decode
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1_sinklogits blocks {{.*}} : memref<?xf32>)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w1024_sink4 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1 blocks
// CHECK-NOT: loom.attention
// CHECK: return
// DECODE-LABEL: func.func @decode
// DECODE: @loom_decode_attention_bf16_d128_g4_sq1_causal blocks in (%c2, %c32, %c1)
// DECODE: @loom_decode_attention_bf16_d128_g4_sq1_causal_w1024_sink4 blocks in (%c2, %c9, %c1) {{.*}} %c128 : index, %c128 : index, %c3072 : index)
// GENERIC-LABEL: func.func @decode
// GENERIC-NOT: @loom_kernels::@decode_kernel
// GENERIC: return
func.func @decode(%q: tensor<1x8x1x128xbf16>, %k: tensor<1x2x4096x128xbf16>, %v: tensor<1x2x4096x128xbf16>, %s: tensor<8xf32>) -> (tensor<1x8x1x128xbf16>, tensor<1x8x1x128xbf16>, tensor<1x8x1x128xbf16>) {
  %0 = loom.attention %q, %k, %v {causal} : (tensor<1x8x1x128xbf16>, tensor<1x2x4096x128xbf16>, tensor<1x2x4096x128xbf16>) -> tensor<1x8x1x128xbf16>
  %1 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x8x1x128xbf16>, tensor<1x2x4096x128xbf16>, tensor<1x2x4096x128xbf16>, tensor<8xf32>) -> tensor<1x8x1x128xbf16>
  %2 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<1x8x1x128xbf16>, tensor<1x2x4096x128xbf16>, tensor<1x2x4096x128xbf16>) -> tensor<1x8x1x128xbf16>
  return %0, %1, %2 : tensor<1x8x1x128xbf16>, tensor<1x8x1x128xbf16>, tensor<1x8x1x128xbf16>
}

// -----

// Block-sparse with 64 x 64 blocks: the sparse flash kernel without masks;
// with sink logits, a window, or sinks and per-head windows, none.
// CHECK-LABEL: func.func @sparse
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m64_n64_w4_causal_pscale_sparse blocks
// CHECK-NOT: gpu.launch_func
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal}
// CHECK-NOT: gpu.launch_func
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal, window = 64 : i64}
// CHECK-NOT: gpu.launch_func
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 64 : i64, block_q = 64 : i64, causal, sink = 4 : i64, window = array<i64: 0, 64, 64, 64, 0, 64, 64, 64>}
// CHECK-NOT: gpu.launch_func
// CHECK: return
// GENERIC-LABEL: func.func @sparse
// GENERIC: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m64_n64_w4_causal_pscale_sparse
// GENERIC-NOT: loom.
// GENERIC: gpu.launch_func @loom_kernels::@sparse_kernel
// GENERIC-NOT: @loom_kernels::@loom_
// GENERIC-NOT: loom.
// GENERIC: return
func.func @sparse(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>, %l: tensor<1x8x4x4xi1>, %s: tensor<8xf32>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>) {
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x8x4x4xi1>) -> tensor<1x8x256x128xbf16>
  %1 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 64 : i64, block_k = 64 : i64, causal} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x8x4x4xi1>, tensor<8xf32>) -> tensor<1x8x256x128xbf16>
  %2 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x8x4x4xi1>) -> tensor<1x8x256x128xbf16>
  %3 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal, sink = 4 : i64, window = array<i64: 0, 64, 64, 64, 0, 64, 64, 64>} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x8x4x4xi1>) -> tensor<1x8x256x128xbf16>
  return %0, %1, %2, %3 : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>
}

// -----

// Fusion groups: RoPE on q and k before a windowed attention fuse into the
// flash kernel; before the same attention with 4 sinks and sink logits the
// group is declined and its ops run on their own (the RoPEs generic, the
// attention on the wgmma kernel on sm_90a).
// FUSED-LABEL: func.func @rope_groups
// FUSED: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_window_pscale_strided_ropeq_ropek_half_bf16 blocks
// FUSED-NOT: gpu.launch_func
// FUSED: %[[QR:.*]] = loom.rope
// FUSED: %[[KR:.*]] = loom.rope
// FUSED: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_sink4_sinklogits_pp
// FUSED: } else {
// FUSED: loom.attention %[[QR]], %[[KR]], %{{.*}}, %{{.*}} {causal, sink = 4 : i64, window = 64 : i64}
// FUSED-NOT: gpu.launch_func
// FUSED: return
// GENERIC-LABEL: func.func @rope_groups
// GENERIC: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_window_pscale_strided_ropeq_ropek_half_bf16
// GENERIC-NOT: @loom_kernels::@loom_
// GENERIC: gpu.launch_func @loom_kernels::@rope_groups_kernel
// G80-NOT: @loom_kernels::@loom_
// G90: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_sink4_sinklogits_pp
// GENERIC-NOT: loom.
// GENERIC: return
func.func @rope_groups(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>, %cos: tensor<256x64xbf16>, %sin: tensor<256x64xbf16>, %s: tensor<8xf32>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>) {
  %qr = loom.rope %q, %cos, %sin : (tensor<1x8x256x128xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>) -> tensor<1x8x256x128xbf16>
  %kr = loom.rope %k, %cos, %sin : (tensor<1x2x256x128xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>) -> tensor<1x2x256x128xbf16>
  %0 = loom.attention %qr, %kr, %v {causal, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %qr2 = loom.rope %q, %cos, %sin : (tensor<1x8x256x128xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>) -> tensor<1x8x256x128xbf16>
  %kr2 = loom.rope %k, %cos, %sin : (tensor<1x2x256x128xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>) -> tensor<1x2x256x128xbf16>
  %1 = loom.attention %qr2, %kr2, %v, %s {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<8xf32>) -> tensor<1x8x256x128xbf16>
  return %0, %1 : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>
}
