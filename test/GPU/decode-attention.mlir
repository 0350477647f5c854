// loom-gpu-kernels on loom.attention with Sq <= 4 and at most 16 query rows
// per kv head (decode): the split-KV kernels. One launch of the split kernel on a grid
// (B * Hkv, splits), its query tile the GQA group's rows, writing each
// split's rows, max and sum to an f32 workspace; one launch of the combine
// kernel, a CTA per query row. The splits give at most one wave of two CTAs
// per SM of the target (132 on sm_90a), in whole 128-key tiles. The second RUN folds the
// host's split arithmetic for static shapes; the third lowers the kernels
// to PTX.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels --canonicalize | FileCheck %s --check-prefix=FOLD
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// CHECK: module attributes {gpu.container_module}

// Llama-style GQA 32/8, D 128, one token against 8192 keys, batch 1: 8 kv
// heads want floor(264 / 8) = 33 splits, of ceil(8192 / 33) = 249 keys, which
// is 2 tiles = 256 keys, so 32 splits of 256 keys. The workspace is
// [8, 32, 4, 128] and [8, 32, 4, 2] f32; the combine grid is 8 * 4 rows of
// 128 threads.
// CHECK-LABEL: func.func @gqa_b1
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x32x1x128xbf16>, %[[K:[^:]*]]: tensor<1x8x8192x128xbf16>, %[[V:[^:]*]]: tensor<1x8x8192x128xbf16>)
// CHECK-DAG: %[[PO:.*]] = memref.alloc(%{{.*}}, %[[SPLITS:[^)]*]]) {alignment = 64 : i64} : memref<?x?x4x128xf32>
// CHECK-DAG: %[[PML:.*]] = memref.alloc(%{{.*}}, %[[SPLITS]]) {alignment = 64 : i64} : memref<?x?x4x2xf32>
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x32x1x128xbf16>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.0883883461 : f32
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1 blocks in (%{{.*}}, %[[SPLITS]], %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(%{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %[[SCALE]] : f32, %{{.*}} : index)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1 blocks in
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
// FOLD-LABEL: func.func @gqa_b1
// FOLD-DAG: %[[C8:.*]] = arith.constant 8 : index
// FOLD-DAG: %[[C32:.*]] = arith.constant 32 : index
// FOLD-DAG: %[[C256:.*]] = arith.constant 256 : index
// FOLD-DAG: %[[C128:.*]] = arith.constant 128 : index
// FOLD: memref.alloc() {alignment = 64 : i64} : memref<8x32x4x128xf32>
// FOLD: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1 blocks in (%[[C8]], %[[C32]], %{{.*}}) threads in (%[[C128]], {{.*}} args({{.*}}, %[[C256]] : index)
// FOLD: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d128_g4_sq1 blocks in (%[[C32]], {{.*}}) threads in (%[[C128]],
func.func @gqa_b1(%q: tensor<1x32x1x128xbf16>, %k: tensor<1x8x8192x128xbf16>, %v: tensor<1x8x8192x128xbf16>) -> tensor<1x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x32x1x128xbf16>, tensor<1x8x8192x128xbf16>, tensor<1x8x8192x128xbf16>) -> tensor<1x32x1x128xbf16>
  return %o : tensor<1x32x1x128xbf16>
}

// Many kv heads nearly fill the GPU: B 32 x Hkv 8 = 256 CTAs want
// floor(264 / 256) = 1 split of all 2048 keys: 256 CTAs, one wave.
// FOLD-LABEL: func.func @gqa_b32
// FOLD-DAG: %[[C1:.*]] = arith.constant 1 : index
// FOLD-DAG: %[[C256:.*]] = arith.constant 256 : index
// FOLD-DAG: %[[C2048:.*]] = arith.constant 2048 : index
// FOLD: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1 blocks in (%[[C256]], %[[C1]], %{{.*}}) {{.*}} args({{.*}}, %[[C2048]] : index)
func.func @gqa_b32(%q: tensor<32x32x1x128xbf16>, %k: tensor<32x8x2048x128xbf16>, %v: tensor<32x8x2048x128xbf16>) -> tensor<32x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<32x32x1x128xbf16>, tensor<32x8x2048x128xbf16>, tensor<32x8x2048x128xbf16>) -> tensor<32x32x1x128xbf16>
  return %o : tensor<32x32x1x128xbf16>
}

// Dynamic batch and cache length, f16, D 64, two speculative tokens of 4
// heads per kv head (8 rows), causal, softcap and scale: the split count is
// computed at run time from B * Hkv and Skv; the cap is an argument.
// CHECK-LABEL: func.func @dynamic_causal_softcap
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x8x2x64xf16>, %[[K:[^:]*]]: tensor<?x2x?x64xf16>
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: tensor.dim %[[K]], %c2
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x8x2x64xf16>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[CAP:.*]] = arith.constant 5.000000e+01 : f32
// CHECK-DAG: arith.divui %c264
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_f16_d64_g4_sq2_causal_softcap blocks in {{.*}} args({{.*}}, %[[SCALE]] : f32, %[[CAP]] : f32, %{{.*}} : index)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_f16_d64_g4_sq2 blocks in
func.func @dynamic_causal_softcap(%q: tensor<?x8x2x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x8x2x64xf16> {
  %o = loom.attention %q, %k, %v {causal, softcap = 50.0 : f32, scale = 0.5 : f32} : (tensor<?x8x2x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>) -> tensor<?x8x2x64xf16>
  return %o : tensor<?x8x2x64xf16>
}

// Windows take the decode kernels too: one window (the split kernel gets
// the sink end and the window start, keys [0, 0) and [384, 500): Skv - Sq
// - W + 1 = 400 rounded down to the tile), per-head windows with sinks,
// sink logits and lse (the heads' widest window, 300: keys [0, 128) and
// [128, 500)), and per-head windows where a head has none (every key).
// CHECK-LABEL: func.func @window_decode
// CHECK-SAME: %[[SL:[^:]*]]: tensor<8xf32>)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d64_g4_sq1_causal_w100 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d64_g4_sq1 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d64_g4_sq1_causal_wh8x{{[0-9a-f]+}}_sink5 blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_bf16_d64_g4_sq1_lse_sinklogits blocks {{.*}} : memref<?x?x?xf32>, %{{.*}} : memref<?xf32>)
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d64_g4_sq1_causal_wh8x{{[0-9a-f]+}} blocks
// CHECK-NOT: loom.attention
// CHECK: return
// FOLD-LABEL: func.func @window_decode
// FOLD: @loom_decode_attention_bf16_d64_g4_sq1_causal_w100 blocks in (%c2, %c1, %c1) {{.*}} %c128 : index, %c0 : index, %c384 : index)
// FOLD: @loom_decode_attention_bf16_d64_g4_sq1_causal_wh8x{{[0-9a-f]+}}_sink5 blocks in (%c2, %c4, %c1) {{.*}} %c128 : index, %c128 : index, %c128 : index)
// FOLD: @loom_decode_attention_bf16_d64_g4_sq1_causal_wh8x{{[0-9a-f]+}} blocks in (%c2, %c4, %c1) {{.*}} %c128 : index, %c0 : index, %c0 : index)
func.func @window_decode(%q: tensor<1x8x1x64xbf16>, %k: tensor<1x2x500x64xbf16>, %s: tensor<8xf32>) -> (tensor<1x8x1x64xbf16>, tensor<1x8x1x64xbf16>, tensor<1x8x1xf32>, tensor<1x8x1x64xbf16>) {
  %w = loom.attention %q, %k, %k {causal, window = 100 : i64} : (tensor<1x8x1x64xbf16>, tensor<1x2x500x64xbf16>, tensor<1x2x500x64xbf16>) -> tensor<1x8x1x64xbf16>
  %h:2 = loom.attention %q, %k, %k, %s {causal, sink = 5 : i64, window = array<i64: 16, 300, 64, 64, 200, 1, 2, 3>} : (tensor<1x8x1x64xbf16>, tensor<1x2x500x64xbf16>, tensor<1x2x500x64xbf16>, tensor<8xf32>) -> (tensor<1x8x1x64xbf16>, tensor<1x8x1xf32>)
  %f = loom.attention %q, %k, %k {causal, window = array<i64: 16, 0, 64, 64, 200, 1, 2, 3>} : (tensor<1x8x1x64xbf16>, tensor<1x2x500x64xbf16>, tensor<1x2x500x64xbf16>) -> tensor<1x8x1x64xbf16>
  return %w, %h#0, %h#1, %f : tensor<1x8x1x64xbf16>, tensor<1x8x1x64xbf16>, tensor<1x8x1xf32>, tensor<1x8x1x64xbf16>
}

// Left to the flash kernel: more than 4 query positions or 16 rows per kv
// head (4 heads x Sq 5); a dynamic query length; D 96 (the decode kernels
// take D 16, 32, 64, 128 and 256).
// CHECK-LABEL: func.func @not_decode
// CHECK-NOT: loom_decode
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m64_n64_w4_pscale
// CHECK-NOT: loom_decode
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n64_w4_pscale
// CHECK-NOT: loom_decode
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d96_m64_n64_w4_pscale
// CHECK-NOT: loom.attention
// CHECK: return
func.func @not_decode(%q: tensor<1x8x1x64xbf16>, %k: tensor<1x2x500x64xbf16>, %q4: tensor<1x8x5x64xbf16>, %qd: tensor<1x8x?x64xbf16>, %q96: tensor<1x8x1x96xbf16>, %k96: tensor<1x2x500x96xbf16>) -> (tensor<1x8x5x64xbf16>, tensor<1x8x?x64xbf16>, tensor<1x8x1x96xbf16>) {
  %r = loom.attention %q4, %k, %k : (tensor<1x8x5x64xbf16>, tensor<1x2x500x64xbf16>, tensor<1x2x500x64xbf16>) -> tensor<1x8x5x64xbf16>
  %d = loom.attention %qd, %k, %k : (tensor<1x8x?x64xbf16>, tensor<1x2x500x64xbf16>, tensor<1x2x500x64xbf16>) -> tensor<1x8x?x64xbf16>
  %e = loom.attention %q96, %k96, %k96 : (tensor<1x8x1x96xbf16>, tensor<1x2x500x96xbf16>, tensor<1x2x500x96xbf16>) -> tensor<1x8x1x96xbf16>
  return %r, %d, %e : tensor<1x8x5x64xbf16>, tensor<1x8x?x64xbf16>, tensor<1x8x1x96xbf16>
}

// The split kernel, lowered: 16-byte loads of the keys, the row max and sum by
// xor shuffles, ex2.approx; the combine kernel rounds once to bf16.
// PTX-LABEL: .entry loom_decode_attention_bf16_d128_g4_sq1(
// PTX: ld.global.v4.b32
// PTX: shfl.sync.bfly.b32
// PTX: ex2.approx.ftz.f32
// PTX-LABEL: .entry loom_decode_combine_bf16_d128_g4_sq1(
// PTX: ex2.approx.ftz.f32
// PTX: cvt.rn.bf16.f32
