// Attention fusion groups on the GPU (lib/Conversion/LoomToGPU/FusedAttention.cpp): q, k and
// v read in place from [S, H*D] through strided views, both RoPEs applied to
// the tiles in shared memory, the result written in place as [S, H*D]; the
// same for linear attention (last case). Every CTA rotates each K tile it
// visits, so K's RoPE is fused only where at most 8 CTAs share a kv head
// (query tiles x query heads per kv head); its table rows then travel with
// its tiles: a K tile's cos and sin rows are copied into shared memory
// (16-byte cp.async) ahead of the tile, so that rotating it waits on no
// global load (here 2 query tiles x GQA 4).
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s

// CHECK-LABEL: func.func @fuse_attn_rope_staged_tables_bf16tab
// CHECK-NOT:   loom.rope
// CHECK-NOT:   linalg.transpose
// CHECK:       gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n32_w4_causal_pscale_strided_ropeq_ropek_half_bf16 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   loom.rope
// CHECK:       return
// CHECK:       gpu.func @loom_attention_bf16_d64_m128_n32_w4_causal_pscale_strided_ropeq_ropek_half_bf16({{.*}}, %[[COSK:.*]]: memref<?x?xbf16>, %[[SINK:.*]]: memref<?x?xbf16>)
// One shared tile of 32 table rows each for cos and sin, after Q, K and V.
// CHECK:       %[[KCOS:.*]] = memref.view %{{.*}}[%c36864][] : {{.*}} to memref<32x32xbf16, #gpu.address_space<workgroup>>
// CHECK:       %[[KSIN:.*]] = memref.view %{{.*}}[%c38912][] : {{.*}} to memref<32x32xbf16, #gpu.address_space<workgroup>>
// CHECK:       memref.extract_aligned_pointer_as_index %[[COSK]]
// The first tile's rows come with Q and the first K/V tiles.
// CHECK:       nvgpu.device_async_copy %[[COSK]][%{{.*}}], %[[KCOS]][
// CHECK:       nvgpu.device_async_copy %[[SINK]][%{{.*}}], %[[KSIN]][
// CHECK:       nvvm.cp.async.commit.group
// CHECK:       nvvm.cp.async.wait.group 0
// In the loop: wait for the tile, rotate it with the shared rows (global
// table loads only where the tables are not 16-byte aligned), then copy the
// next tile's rows into the tiles just read, as a group of their own.
// CHECK:       scf.while
// CHECK:         nvvm.cp.async.wait.group 1
// CHECK:         scf.if
// CHECK:           memref.load %[[KCOS]]
// CHECK:           memref.load %[[KSIN]]
// CHECK:         } else {
// CHECK:           memref.load %[[COSK]]
// CHECK:         gpu.barrier
// CHECK:         nvgpu.device_async_copy %[[COSK]][%{{.*}}], %[[KCOS]][
// CHECK:         nvgpu.device_async_copy %[[SINK]][%{{.*}}], %[[KSIN]][
// CHECK:         nvvm.cp.async.commit.group
// CHECK:         nvgpu.ldmatrix
func.func @fuse_attn_rope_staged_tables_bf16tab(%q2: tensor<256x512xbf16>, %k2: tensor<256x128xbf16>, %v2: tensor<256x128xbf16>,
                                 %cos: tensor<256x32xbf16>, %sin: tensor<256x32xbf16>) -> tensor<256x512xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 256, 8, 64] : tensor<256x512xbf16> into tensor<1x256x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 256, 2, 64] : tensor<256x128xbf16> into tensor<1x256x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 256, 2, 64] : tensor<256x128xbf16> into tensor<1x256x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x8x256x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x256x8x64xbf16>) outs(%e0 : tensor<1x8x256x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x256x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x256x2x64xbf16>) outs(%e1 : tensor<1x2x256x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x256x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x256x2x64xbf16>) outs(%e2 : tensor<1x2x256x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x256x64xbf16>, tensor<256x32xbf16>, tensor<256x32xbf16>) -> tensor<1x8x256x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x256x64xbf16>, tensor<256x32xbf16>, tensor<256x32xbf16>) -> tensor<1x2x256x64xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16>) -> tensor<1x8x256x64xbf16>
  %e3 = tensor.empty() : tensor<1x256x8x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x8x256x64xbf16>) outs(%e3 : tensor<1x256x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x256x8x64xbf16> into tensor<256x512xbf16>
  return %o2 : tensor<256x512xbf16>
}

// -----

// More CTAs than that share a kv head (3 query tiles x GQA 4 = 12): K's
// RoPE runs once, apart (here on the generic path: its tables are bf16),
// and the attention rotates only its Q tiles.
// CHECK-LABEL: func.func @fuse_attn_rope_many_tiles_bf16tab
// CHECK:       loom.rope
// CHECK:       gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n32_w4_causal_pscale_strided_ropeq_half_bf16 blocks
func.func @fuse_attn_rope_many_tiles_bf16tab(%q2: tensor<300x512xbf16>, %k2: tensor<300x128xbf16>, %v2: tensor<300x128xbf16>,
                                 %cos: tensor<300x32xbf16>, %sin: tensor<300x32xbf16>) -> tensor<300x512xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 300, 8, 64] : tensor<300x512xbf16> into tensor<1x300x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 300, 2, 64] : tensor<300x128xbf16> into tensor<1x300x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 300, 2, 64] : tensor<300x128xbf16> into tensor<1x300x2x64xbf16>
  %e0 = tensor.empty() : tensor<1x8x300x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x300x8x64xbf16>) outs(%e0 : tensor<1x8x300x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x300x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x300x2x64xbf16>) outs(%e1 : tensor<1x2x300x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x300x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x300x2x64xbf16>) outs(%e2 : tensor<1x2x300x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x300x64xbf16>, tensor<300x32xbf16>, tensor<300x32xbf16>) -> tensor<1x8x300x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x300x64xbf16>, tensor<300x32xbf16>, tensor<300x32xbf16>) -> tensor<1x2x300x64xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x8x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>) -> tensor<1x8x300x64xbf16>
  %e3 = tensor.empty() : tensor<1x300x8x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x8x300x64xbf16>) outs(%e3 : tensor<1x300x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x300x8x64xbf16> into tensor<300x512xbf16>
  return %o2 : tensor<300x512xbf16>
}

// -----

// Linear attention with its layout changes: one launch of the chunked
// recipe reading q, k, v and writing the result through strided views.
// CHECK-LABEL: func.func @linattn_layout
// CHECK-NOT:   linalg.transpose
// CHECK:       memref.expand_shape %{{.*}} : memref<77x128xbf16> into memref<1x77x2x64xbf16>
// CHECK:       memref.transpose %{{.*}} (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:       gpu.launch_func @loom_kernels::@loom_linear_attention_bf16_dk64_norm_relu_strided blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : f32)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   linalg.transpose
// CHECK:       return
// CHECK:       gpu.func @loom_linear_attention_bf16_dk64_norm_relu_strided(%{{.*}}: memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK:       vector.maskedstore %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>
func.func @linattn_layout(%q2: tensor<77x128xbf16>, %k2: tensor<77x128xbf16>, %v2: tensor<77x96xbf16>) -> tensor<77x96xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 64] : tensor<77x128xbf16> into tensor<1x77x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 77, 2, 48] : tensor<77x96xbf16> into tensor<1x77x2x48xbf16>
  %e0 = tensor.empty() : tensor<1x2x77x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x77x2x64xbf16>) outs(%e0 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x77x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x77x2x64xbf16>) outs(%e1 : tensor<1x2x77x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x77x48xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x77x2x48xbf16>) outs(%e2 : tensor<1x2x77x48xbf16>) permutation = [0, 2, 1, 3]
  %o = loom.linear_attention %q, %k, %v {feature_map = "relu", normalize} : (tensor<1x2x77x64xbf16>, tensor<1x2x77x64xbf16>, tensor<1x2x77x48xbf16>) -> tensor<1x2x77x48xbf16>
  %e3 = tensor.empty() : tensor<1x77x2x48xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x77x48xbf16>) outs(%e3 : tensor<1x77x2x48xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x77x2x48xbf16> into tensor<77x96xbf16>
  return %o2 : tensor<77x96xbf16>
}
