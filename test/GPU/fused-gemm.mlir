// Fusion groups on the GPU (lib/Conversion/LoomToGPU/FusedGemm.cpp): a GEMM and its
// elementwise epilogue become one launch of the GEMM recipe with the
// epilogue in its store; horizontal siblings one launch whose grid covers
// every part; decode-sized products take the GEMV recipe with the same
// epilogue.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s

// CHECK-LABEL: func.func @residual
// CHECK-NOT:   arith.addf
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_ep_addbf16
// CHECK-SAME:    args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>)
// CHECK-NOT:   arith.addf
// CHECK:       return
// The residual is the kernel's fourth argument, read in the store loop.
// CHECK:       gpu.func @loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_ep_addbf16(%{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?x?xbf16>, %[[E:.*]]: memref<?x?xbf16>)
// CHECK:       memref.load %[[E]]
func.func @residual(%x: tensor<77x200xbf16>, %w: tensor<333x200xbf16>, %r: tensor<77x333xbf16>) -> tensor<77x333xbf16> {
  %y = loom.linear %x, %w : (tensor<77x200xbf16>, tensor<333x200xbf16>) -> tensor<77x333xbf16>
  %o = arith.addf %r, %y : tensor<77x333xbf16>
  return %o : tensor<77x333xbf16>
}

// -----

// CHECK-LABEL: func.func @qkv
// The grid's x dimension is the sum of the parts' column tiles.
// CHECK:       %[[T0:.*]] = arith.divui %{{.*}}, %c128
// CHECK:       %[[S0:.*]] = arith.addi %c0{{.*}}, %[[T0]]
// CHECK:       %[[T1:.*]] = arith.divui %{{.*}}, %c128
// CHECK:       %[[S1:.*]] = arith.addi %[[S0]], %[[T1]]
// CHECK:       %[[T2:.*]] = arith.divui %{{.*}}, %c128
// CHECK:       %[[S2:.*]] = arith.addi %[[S1]], %[[T2]]
// CHECK:       scf.if
// CHECK:         gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x3 blocks in (%[[S2]],
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
// A block picks B and Y of its part (two selects each for three parts).
// CHECK:       gpu.func @loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x3(%[[A:.*]]: memref<?x?xbf16>, %[[B0:.*]]: memref<?x?xbf16>, %[[B1:.*]]: memref<?x?xbf16>, %[[B2:.*]]: memref<?x?xbf16>, %[[Y0:.*]]: memref<?x?xbf16>, %[[Y1:.*]]: memref<?x?xbf16>, %[[Y2:.*]]: memref<?x?xbf16>)
// CHECK:       %[[SB1:.*]] = arith.select %{{.*}}, %[[B1]], %[[B0]]
// CHECK:       arith.select %{{.*}}, %[[Y1]], %[[Y0]]
// CHECK:       arith.select %{{.*}}, %[[B2]], %[[SB1]]
func.func @qkv(%x: tensor<70x128xbf16>, %wq: tensor<96x128xbf16>, %wk: tensor<40x128xbf16>, %wv: tensor<200x128xbf16>)
    -> (tensor<70x96xbf16>, tensor<70x40xbf16>, tensor<70x200xbf16>) {
  %q = loom.linear %x, %wq : (tensor<70x128xbf16>, tensor<96x128xbf16>) -> tensor<70x96xbf16>
  %k = loom.linear %x, %wk : (tensor<70x128xbf16>, tensor<40x128xbf16>) -> tensor<70x40xbf16>
  %v = loom.linear %x, %wv : (tensor<70x128xbf16>, tensor<200x128xbf16>) -> tensor<70x200xbf16>
  return %q, %k, %v : tensor<70x96xbf16>, tensor<70x40xbf16>, tensor<70x200xbf16>
}

// -----

// Decode-sized (M <= 16): the GEMV recipe with the epilogue in its store.
// CHECK-LABEL: func.func @decode
// CHECK-NOT:   arith.addf
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemv_linear_bf16_bf16_nobias_bf16_r1_w8x2_u1_ep_addbf16 blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   arith.addf
// CHECK:       return
// CHECK:       gpu.func @loom_gemv_linear_bf16_bf16_nobias_bf16_r1_w8x2_u1_ep_addbf16({{.*}}, %[[E:.*]]: memref<?x?xbf16>)
// CHECK:       memref.load %[[E]]
// CHECK:       arith.addf
// CHECK:       arith.truncf
func.func @decode(%x: tensor<8x256xbf16>, %w: tensor<100x256xbf16>, %r: tensor<8x100xbf16>) -> tensor<8x100xbf16> {
  %y = loom.linear %x, %w : (tensor<8x256xbf16>, tensor<100x256xbf16>) -> tensor<8x100xbf16>
  %o = arith.addf %y, %r : tensor<8x100xbf16>
  return %o : tensor<8x100xbf16>
}

// -----

// A gate/up pair with its SwiGLU gating: one launch over the column tiles of
// one part (64 x 64 tiles: two sets of accumulators live at once); the
// blocks run the K loop for the gate, then for the up projection, and store
// silu(gate) * up once. The silu and the multiply are gone.
// CHECK-LABEL: func.func @swiglu
// CHECK-NOT:   loom.silu
// CHECK:       %[[T:.*]] = arith.divui %{{.*}}, %c64
// CHECK:       %[[X:.*]] = arith.addi %c0{{.*}}, %[[T]]
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i8_f32_g128_nobias_bf16_64x64x32_w2x4_s4_x2_gate_silu blocks in (%[[X]],
// CHECK-SAME:    args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xbf16>)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   arith.mulf
// CHECK:       return
// The second pass waits for the first one's copies and a barrier, then
// reads the up projection's weights and scales.
// CHECK:       gpu.func @loom_gemm_qlinear_bf16_i8_f32_g128_nobias_bf16_64x64x32_w2x4_s4_x2_gate_silu(%{{.*}}: memref<?x?xbf16>, %[[B0:.*]]: memref<?x?xi8>, %[[B1:.*]]: memref<?x?xi8>, %[[S0:.*]]: memref<?x?xf32>, %[[S1:.*]]: memref<?x?xf32>, %[[Y:.*]]: memref<?x?xbf16>)
// CHECK:       memref.load %[[S0]]
// CHECK:       nvvm.cp.async.wait.group 0
// CHECK-NEXT:  gpu.barrier
// CHECK:       memref.extract_aligned_pointer_as_index %[[B1]]
// CHECK:       memref.load %[[S1]]
// SiLU as v * rcp(1 + ex2(-v log2 e)) on the SFU.
// CHECK:       llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:       llvm.call_intrinsic "llvm.nvvm.rcp.approx.ftz.f"
// CHECK:       arith.mulf
// CHECK:       memref.store %{{.*}}, %[[Y]]
func.func @swiglu(%x: tensor<33x256xbf16>, %wg: tensor<150x256xi8>, %sg: tensor<150x2xf32>, %wu: tensor<150x256xi8>, %su: tensor<150x2xf32>) -> tensor<33x150xbf16> {
  %g = loom.qlinear %x, %wg, %sg {group_size = 128 : i64} : (tensor<33x256xbf16>, tensor<150x256xi8>, tensor<150x2xf32>) -> tensor<33x150xbf16>
  %u = loom.qlinear %x, %wu, %su {group_size = 128 : i64} : (tensor<33x256xbf16>, tensor<150x256xi8>, tensor<150x2xf32>) -> tensor<33x150xbf16>
  %a = loom.silu %g : (tensor<33x150xbf16>) -> tensor<33x150xbf16>
  %o = arith.mulf %a, %u : tensor<33x150xbf16>
  return %o : tensor<33x150xbf16>
}

// -----

// GeGLU with biases, the up projection written first and the product
// spelled up * gelu(gate): the gate is still the first part. Per part, its
// bias.
// CHECK-LABEL: func.func @geglu_bias
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_f16_f16_64x64x32_w2x4_s4_x2_gate_gelutanh
// CHECK-SAME:    args(%{{.*}} : memref<?x?xf16>, %[[WG:.*]] : memref<?x?xf16>, %[[WU:.*]] : memref<?x?xf16>, %[[BG:.*]] : memref<?xf16>, %[[BU:.*]] : memref<?xf16>, %{{.*}} : memref<?x?xf16>)
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
// CHECK:       gpu.func @loom_gemm_linear_f16_f16_f16_f16_64x64x32_w2x4_s4_x2_gate_gelutanh
// CHECK:       math.tanh
func.func @geglu_bias(%x: tensor<40x64xf16>, %wu: tensor<72x64xf16>, %bu: tensor<72xf16>, %wg: tensor<72x64xf16>, %bg: tensor<72xf16>) -> tensor<40x72xf16> {
  %u = loom.linear %x, %wu, %bu : (tensor<40x64xf16>, tensor<72x64xf16>, tensor<72xf16>) -> tensor<40x72xf16>
  %g = loom.linear %x, %wg, %bg : (tensor<40x64xf16>, tensor<72x64xf16>, tensor<72xf16>) -> tensor<40x72xf16>
  %a = loom.gelu %g {approximate = "tanh"} : (tensor<40x72xf16>) -> tensor<40x72xf16>
  %o = arith.mulf %u, %a : tensor<40x72xf16>
  return %o : tensor<40x72xf16>
}

// -----

// The gate is read by something else too: no gated launch; the siblings
// run as one launch and the gating op by op.
// CHECK-LABEL: func.func @gate_escapes
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x2 blocks
// CHECK-NOT:   _gate_
// CHECK:       return
func.func @gate_escapes(%x: tensor<48x64xbf16>, %wg: tensor<96x64xbf16>, %wu: tensor<96x64xbf16>) -> (tensor<48x96xbf16>, tensor<48x96xbf16>) {
  %g = loom.linear %x, %wg : (tensor<48x64xbf16>, tensor<96x64xbf16>) -> tensor<48x96xbf16>
  %u = loom.linear %x, %wu : (tensor<48x64xbf16>, tensor<96x64xbf16>) -> tensor<48x96xbf16>
  %a = loom.silu %g : (tensor<48x96xbf16>) -> tensor<48x96xbf16>
  %o = arith.mulf %a, %u : tensor<48x96xbf16>
  return %o, %g : tensor<48x96xbf16>, tensor<48x96xbf16>
}

// -----

// A norm before the GEMM runs as its row kernel; the GEMM and its epilogue
// are still one launch.
// CHECK-LABEL: func.func @ln_linear_gelu
// CHECK:       gpu.launch_func @loom_kernels::@loom_layer_norm_f16
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_f16_f16_128x128x32_w2x4_s4_ep_gelu blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @ln_linear_gelu(%x: tensor<90x72xf16>, %nw: tensor<72xf16>, %nb: tensor<72xf16>, %w: tensor<100x72xf16>, %b: tensor<100xf16>) -> tensor<90x100xf16> {
  %h = loom.layer_norm %x, %nw, %nb {epsilon = 1.0e-05 : f32} : (tensor<90x72xf16>, tensor<72xf16>, tensor<72xf16>) -> tensor<90x72xf16>
  %y = loom.linear %h, %w, %b : (tensor<90x72xf16>, tensor<100x72xf16>, tensor<100xf16>) -> tensor<90x100xf16>
  %o = loom.gelu %y : (tensor<90x100xf16>) -> tensor<90x100xf16>
  return %o : tensor<90x100xf16>
}

// -----

// Siblings reading one normalized input, one of them with a bias: the two
// without a bias are one launch (_x2, the wgmma kernel or its mma.sync
// fallback), the biased one a GEMM of its own, the norm its row kernel: 5
// launch sites. (With the biased one in the group, the parts had no one
// kernel, the group was declined and each product ran alone: 7.)
// CHECK-LABEL: func.func @siblings_one_bias
// CHECK:       gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_{{[a-z0-9_]+}} blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_{{[a-z0-9]+}}_s4_{{[a-z0-9]+}}_g16_x2 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x2 blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>)
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_bf16_bf16_{{[a-z0-9]+}}_s4_{{[a-z0-9]+}}_g16 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_bf16_bf16_128x128x32_w2x4_s4 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @siblings_one_bias(%x: tensor<200x256xbf16>, %g: tensor<256xbf16>, %w1: tensor<256x256xbf16>, %w2: tensor<256x256xbf16>, %w3: tensor<256x256xbf16>, %b3: tensor<256xbf16>) -> (tensor<200x256xbf16>, tensor<200x256xbf16>, tensor<200x256xbf16>) {
  %h = loom.rms_norm %x, %g : (tensor<200x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  %a = loom.linear %h, %w1 : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %b = loom.linear %h, %w2 : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %c = loom.linear %h, %w3, %b3 : (tensor<200x256xbf16>, tensor<256x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  return %a, %b, %c : tensor<200x256xbf16>, tensor<200x256xbf16>, tensor<200x256xbf16>
}

// -----

// Leading batch dims of linear's x ([1, S, C], [B, S, C]) are collapsed into
// M, as op by op: the epilogue's tensors alike, and the results expanded
// back. A GEMM and its residual add: one launch (wgmma or its fallback).
// CHECK-LABEL: func.func @residual_batch
// CHECK:       %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<1x77x200xbf16> into tensor<77x200xbf16>
// CHECK:       %[[R:.*]] = tensor.collapse_shape %arg2 {{\[\[}}0, 1], [2]] : tensor<1x77x333xbf16> into tensor<77x333xbf16>
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_{{[a-z0-9_]+}}_ep_addbf16 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_ep_addbf16 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   arith.addf
// CHECK:       %[[Y:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [1, 77, 333] : tensor<77x333xbf16> into tensor<1x77x333xbf16>
// CHECK-NEXT:  return %[[Y]]
func.func @residual_batch(%x: tensor<1x77x200xbf16>, %w: tensor<333x200xbf16>, %r: tensor<1x77x333xbf16>) -> tensor<1x77x333xbf16> {
  %y = loom.linear %x, %w : (tensor<1x77x200xbf16>, tensor<333x200xbf16>) -> tensor<1x77x333xbf16>
  %o = arith.addf %r, %y : tensor<1x77x333xbf16>
  return %o : tensor<1x77x333xbf16>
}

// -----

// Siblings over [2, 35, C] (M = 70): one launch, each result expanded back.
// CHECK-LABEL: func.func @qkv_batch
// CHECK:       tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x35x128xbf16> into tensor<70x128xbf16>
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_{{[a-z0-9]+}}_s4_{{[a-z0-9]+}}_g16_x2 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x2 blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       %[[Q:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 35, 96] : tensor<70x96xbf16> into tensor<2x35x96xbf16>
// CHECK:       %[[K:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 35, 40] : tensor<70x40xbf16> into tensor<2x35x40xbf16>
// CHECK-NEXT:  return %[[Q]], %[[K]]
func.func @qkv_batch(%x: tensor<2x35x128xbf16>, %wq: tensor<96x128xbf16>, %wk: tensor<40x128xbf16>)
    -> (tensor<2x35x96xbf16>, tensor<2x35x40xbf16>) {
  %q = loom.linear %x, %wq : (tensor<2x35x128xbf16>, tensor<96x128xbf16>) -> tensor<2x35x96xbf16>
  %k = loom.linear %x, %wk : (tensor<2x35x128xbf16>, tensor<40x128xbf16>) -> tensor<2x35x40xbf16>
  return %q, %k : tensor<2x35x96xbf16>, tensor<2x35x40xbf16>
}

// -----

// A gate/up pair over [1, S, C] and its gating: one launch.
// CHECK-LABEL: func.func @swiglu_batch
// CHECK-NOT:   loom.silu
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_{{[a-z0-9_]+}}_x2_gate_silu blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_64x64x32_w2x4_s4_x2_gate_silu blocks
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   arith.mulf
// CHECK:       %[[Y:.*]] = tensor.expand_shape %{{.*}} output_shape [1, 48, 96] : tensor<48x96xbf16> into tensor<1x48x96xbf16>
// CHECK-NEXT:  return %[[Y]]
func.func @swiglu_batch(%x: tensor<1x48x64xbf16>, %wg: tensor<96x64xbf16>, %wu: tensor<96x64xbf16>) -> tensor<1x48x96xbf16> {
  %g = loom.linear %x, %wg : (tensor<1x48x64xbf16>, tensor<96x64xbf16>) -> tensor<1x48x96xbf16>
  %u = loom.linear %x, %wu : (tensor<1x48x64xbf16>, tensor<96x64xbf16>) -> tensor<1x48x96xbf16>
  %a = loom.silu %g : (tensor<1x48x96xbf16>) -> tensor<1x48x96xbf16>
  %o = arith.mulf %a, %u : tensor<1x48x96xbf16>
  return %o : tensor<1x48x96xbf16>
}

// -----

// A dynamic batch dim makes M dynamic: siblings need a static M > 16 (the
// GEMV recipe has no parts), so each product is a GEMM of its own.
// CHECK-LABEL: func.func @qkv_dynamic_batch
// CHECK-NOT:   _x2
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4 blocks
// CHECK-NOT:   _x2
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4 blocks
// CHECK-NOT:   _x2
// CHECK:       return
func.func @qkv_dynamic_batch(%x: tensor<?x70x128xbf16>, %wq: tensor<96x128xbf16>, %wk: tensor<40x128xbf16>)
    -> (tensor<?x70x96xbf16>, tensor<?x70x40xbf16>) {
  %q = loom.linear %x, %wq : (tensor<?x70x128xbf16>, tensor<96x128xbf16>) -> tensor<?x70x96xbf16>
  %k = loom.linear %x, %wk : (tensor<?x70x128xbf16>, tensor<40x128xbf16>) -> tensor<?x70x40xbf16>
  return %q, %k : tensor<?x70x96xbf16>, tensor<?x70x40xbf16>
}
