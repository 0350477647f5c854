// Mixer fusion groups on the GPU (lib/Conversion/LoomToGPU/FusedMixer.cpp): a norm prologue,
// loom.pool_mixer and elementwise epilogues (the residual add) become one
// launch of the fused mixer recipe (lib/GPU/Kernels/MixerKernel.cpp); groups outside
// its reach are inlined and their ops lowered one by one.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s

// PoolFormer's token mixer x + pool_mixer(layer_norm(x)): one launch on a
// grid of B * ceil(H / 1) * ceil(W / 2) CTAs (a small image: tiles of 1 x 2
// tokens, so that the grid has about a CTA per SM); x is read twice (the
// norm's input and the residual).
// CHECK-LABEL: func.func @poolformer
// CHECK-NOT:   loom.layer_norm
// CHECK-NOT:   loom.pool_mixer
// CHECK-NOT:   arith.addf
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_layer_norm_pool3x3_f32_t1x2_b256_ea blocks in
// CHECK-SAME:    threads in (%c256,
// CHECK-SAME:    args(%{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : memref<?x?x?x?xf32>, %{{.*}} : f32)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   loom.pool_mixer
// CHECK:       return
// The statistics (mean, r, inv) of the 3 x 4 halo tokens in shared memory.
// CHECK:       gpu.func @loom_mixer_layer_norm_pool3x3_f32_t1x2_b256_ea(%[[X:.*]]: memref<?x?x?x?xf32>, %[[G:.*]]: memref<?xf32>, %[[B:.*]]: memref<?xf32>, %[[R:.*]]: memref<?x?x?x?xf32>, %[[Y:.*]]: memref<?x?x?x?xf32>, %[[EPS:.*]]: f32) workgroup(%[[S:.*]] : memref<36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:       scf.for %[[T:.*]] = %{{.*}} to %c12 step %c8
// CHECK:         gpu.shuffle  xor
// CHECK:         arith.maximumf
// CHECK:         math.rsqrt
// CHECK:         memref.store %{{.*}}, %[[S]][%[[T]]]
// CHECK:       gpu.barrier
// Outputs: the window sum over the in-bounds neighbours, normalized again
// from x and the statistics, the count, minus the centre, plus the residual.
// CHECK:       scf.for
// CHECK:         scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args
// CHECK:           scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args
// CHECK:             memref.load %[[X]]
// CHECK:             memref.load %[[S]]
// CHECK:         arith.sitofp
// CHECK:         %[[AVG:.*]] = arith.divf
// CHECK:         %[[MIX:.*]] = arith.subf %[[AVG]]
// CHECK:         %[[RES:.*]] = memref.load %[[R]]
// CHECK:         %[[OUT:.*]] = arith.addf %[[MIX]], %[[RES]] : f32
// CHECK:         memref.store %[[OUT]], %[[Y]]
func.func @poolformer(%x: tensor<1x16x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<1x16x16x64xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<1x16x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
  %o = arith.addf %x, %m : tensor<1x16x16x64xf32>
  return %o : tensor<1x16x16x64xf32>
}

// -----

// Dynamic sizes, rms_norm, x - mix (the mixer's result second), bf16 rounded
// once at the store.
// CHECK-LABEL: func.func @dynamic_rms
// CHECK:       memref.alloc(%{{.*}}, %{{.*}}, %{{.*}}) {{.*}} : memref<?x?x?x48xbf16>
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_rms_norm_pool3x3_bf16_t4x16_b256_er
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.func @loom_mixer_rms_norm_pool3x3_bf16_t4x16_b256_er({{.*}}) workgroup(%{{.*}} : memref<108xf32,
// CHECK:       %[[MIX:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:  %[[RES:.*]] = memref.load
// CHECK-NEXT:  %[[RESF:.*]] = arith.extf %[[RES]] : bf16 to f32
// CHECK-NEXT:  %[[OUT:.*]] = arith.subf %[[RESF]], %[[MIX]] : f32
// CHECK-NEXT:  %[[T:.*]] = arith.truncf %[[OUT]] : f32 to bf16
// CHECK-NEXT:  memref.store %[[T]]
func.func @dynamic_rms(%x: tensor<?x?x?x48xbf16>, %g: tensor<48xbf16>) -> tensor<?x?x?x48xbf16> {
  %n = loom.rms_norm %x, %g : (tensor<?x?x?x48xbf16>, tensor<48xbf16>) -> tensor<?x?x?x48xbf16>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<?x?x?x48xbf16>) -> tensor<?x?x?x48xbf16>
  %o = arith.subf %x, %m : tensor<?x?x?x48xbf16>
  return %o : tensor<?x?x?x48xbf16>
}

// -----

// Rank 3 [B, S, C]: the kernel sees [B, 1, S, C] and a 1 x 5 window.
// CHECK-LABEL: func.func @sequence
// CHECK:       tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] output_shape [2, 1, %{{.*}}, 48]
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_layer_norm_pool1x5_f16_t1x64_b256_ea
// CHECK:       tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3]] : tensor<2x1x?x48xf16> into tensor<2x?x48xf16>
// CHECK:       gpu.func @loom_mixer_layer_norm_pool1x5_f16_t1x64_b256_ea
// CHECK:       scf.for %{{.*}} = %c0 to %c1 step %c1 iter_args
// CHECK:         scf.for %{{.*}} = %c0 to %c5 step %c1 iter_args
func.func @sequence(%x: tensor<2x?x48xf16>, %g: tensor<48xf16>, %b: tensor<48xf16>) -> tensor<2x?x48xf16> {
  %n = loom.layer_norm %x, %g, %b : (tensor<2x?x48xf16>, tensor<48xf16>, tensor<48xf16>) -> tensor<2x?x48xf16>
  %m = loom.pool_mixer %n {kernel = 5 : i64} : (tensor<2x?x48xf16>) -> tensor<2x?x48xf16>
  %o = arith.addf %m, %x : tensor<2x?x48xf16>
  return %o : tensor<2x?x48xf16>
}

// -----

// No norm, a layer-scale multiply then the residual add; no shared memory.
// CHECK-LABEL: func.func @scaled
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_pool3x3_f16_t1x10_b256_ema
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.func @loom_mixer_pool3x3_f16_t1x10_b256_ema
// CHECK-NOT:   workgroup
// CHECK-NOT:   gpu.barrier
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:       arith.truncf
func.func @scaled(%x: tensor<2x20x30x40xf16>, %s: tensor<2x20x30x40xf16>) -> tensor<2x20x30x40xf16> {
  %m = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<2x20x30x40xf16>) -> tensor<2x20x30x40xf16>
  %l = arith.mulf %m, %s : tensor<2x20x30x40xf16>
  %o = arith.addf %x, %l : tensor<2x20x30x40xf16>
  return %o : tensor<2x20x30x40xf16>
}

// -----

// dwconv, causal over a sequence: the window w - 3 .. w (offset K - 1), each
// position weighted by w[0, t, c] (the [K, C] weights as [1, K, C]); no
// average, no centre.
// CHECK-LABEL: func.func @causal_dwconv
// CHECK:       tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 4, 40] : tensor<4x40xbf16> into tensor<1x4x40xbf16>
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_rms_norm_dwcausal1x4_bf16_t1x3_b256_ea
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.func @loom_mixer_rms_norm_dwcausal1x4_bf16_t1x3_b256_ea(%{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?xbf16>, %[[W:.*]]: memref<?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: f32) workgroup(%{{.*}} : memref<6xf32,
// CHECK:       scf.for %[[DW:.*]] = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:         %[[P:.*]] = arith.addi %{{.*}}, %[[DW]] : index
// CHECK-NEXT:    arith.addi %[[P]], %c-3 : index
// CHECK:         %[[WV:.*]] = memref.load %[[W]][%{{.*}}, %[[DW]], %{{.*}}]
// CHECK-NEXT:    %[[WF:.*]] = arith.extf %[[WV]] : bf16 to f32
// CHECK-NEXT:    %[[PROD:.*]] = arith.mulf %[[WF]], %{{.*}} : f32
// CHECK-NEXT:    arith.addf %[[ACC]], %[[PROD]] : f32
// CHECK-NOT:   arith.divf
// CHECK:       memref.store
func.func @causal_dwconv(%x: tensor<2x150x40xbf16>, %g: tensor<40xbf16>, %w: tensor<4x40xbf16>) -> tensor<2x150x40xbf16> {
  %n = loom.rms_norm %x, %g : (tensor<2x150x40xbf16>, tensor<40xbf16>) -> tensor<2x150x40xbf16>
  %y = loom.dwconv %n, %w {causal} : (tensor<2x150x40xbf16>, tensor<4x40xbf16>) -> tensor<2x150x40xbf16>
  %o = arith.addf %x, %y : tensor<2x150x40xbf16>
  return %o : tensor<2x150x40xbf16>
}

// -----

// dwconv 2-D (7 x 3 window, centred) without a norm or an epilogue.
// CHECK-LABEL: func.func @dwconv_2d
// CHECK:       gpu.launch_func @loom_kernels::@loom_mixer_dw7x3_f32_t1x2_b256
// CHECK:       gpu.func @loom_mixer_dw7x3_f32_t1x2_b256(%{{.*}}: memref<?x?x?x?xf32>, %{{.*}}: memref<?x?x?xf32>, %{{.*}}: memref<?x?x?x?xf32>, %{{.*}}: f32) kernel
func.func @dwconv_2d(%x: tensor<1x16x16x64xf32>, %w: tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32> {
  %y = loom.dwconv %x, %w : (tensor<1x16x16x64xf32>, tensor<7x3x64xf32>) -> tensor<1x16x16x64xf32>
  return %y : tensor<1x16x16x64xf32>
}

// -----

// Declined: an epilogue the recipe does not apply (SiLU), a window whose
// halo statistics exceed the shared memory bound, dynamic dwconv window
// sizes: op by op.
// CHECK-LABEL: func.func @silu_epilogue
// CHECK-NOT:   loom_mixer
// CHECK:       loom.pool_mixer
// CHECK:       loom.silu
func.func @silu_epilogue(%x: tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32> {
  %m = loom.pool_mixer %x {kernel = 3 : i64} : (tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %o = loom.silu %m : (tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %o : tensor<1x8x8x32xf32>
}

// CHECK-LABEL: func.func @huge_window
// CHECK-NOT:   loom_mixer
// CHECK:       loom.pool_mixer
// CHECK:       arith.addf
func.func @huge_window(%x: tensor<1x64x64x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<1x64x64x64xf32> {
  %n = loom.layer_norm %x, %g, %b : (tensor<1x64x64x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x64x64xf32>
  %m = loom.pool_mixer %n {kernel = 63 : i64} : (tensor<1x64x64x64xf32>) -> tensor<1x64x64x64xf32>
  %o = arith.addf %x, %m : tensor<1x64x64x64xf32>
  return %o : tensor<1x64x64x64xf32>
}

// CHECK-LABEL: func.func @dynamic_window
// CHECK-NOT:   loom_mixer
// CHECK:       loom.dwconv
func.func @dynamic_window(%x: tensor<1x?x8xf32>, %w: tensor<?x8xf32>) -> tensor<1x?x8xf32> {
  %y = loom.dwconv %x, %w {causal} : (tensor<1x?x8xf32>, tensor<?x8xf32>) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}
