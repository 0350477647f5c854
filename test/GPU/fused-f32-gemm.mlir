// f32 GEMM fusion groups on the GPU (lib/Conversion/LoomToGPU/FusedF32Gemm.cpp): a norm
// prologue, an f32 loom.linear and its elementwise epilogue become one launch
// of the f32 SIMT GEMM kernel (F32GemmKernel.h); horizontal siblings one
// launch whose grid covers every part. Groups outside the recipe are inlined
// and go op by op; groups of other element types go to the other recipes.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s

// PoolFormer's fc1 group: batch dims collapsed into M = 256, one launch of
// 16 x 16 tiles (enough blocks for a small product; the grid's y dimension
// capped at 65535 row tiles), the result expanded back.
// CHECK-LABEL: func.func @layer_norm_linear_gelu
// CHECK-NOT:   loom.
// CHECK:       tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x16x16x64xf32> into tensor<256x64xf32>
// CHECK:       %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK:       %[[GY:.*]] = arith.minui %{{.*}}, %c65535
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_layer_bias_16x16x16_ep_gelu blocks in (%{{.*}}, %[[GY]], %c1{{.*}}) threads in (%c256
// CHECK-SAME:    args(%{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xf32>, %[[EPS]] : f32)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   loom.
// CHECK:       tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [1, 16, 16, 256]
// CHECK:       return
// The kernel: per-row statistics by warp shuffles (sum, then the centred
// sums), the normalized A staged through shared memory, FMAs, + bias, GELU.
// CHECK:       gpu.func @loom_f32gemm_layer_bias_16x16x16_ep_gelu(%[[X:.*]]: memref<?x?xf32>, %[[G:.*]]: memref<?xf32>, %[[B:.*]]: memref<?xf32>, %[[W:.*]]: memref<?x?xf32>, %[[BIAS:.*]]: memref<?xf32>, %[[Y:.*]]: memref<?x?xf32>, %[[E:.*]]: f32) workgroup(%[[AS:.*]] : memref<16x17xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[BS:.*]] : memref<16x17xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[MEAN:.*]] : memref<16xf32, {{.*}}, %[[RR:.*]] : memref<16xf32, {{.*}}, %[[INV:.*]] : memref<16xf32, {{.*}})
// CHECK-SAME:    known_block_size = array<i32: 256, 1, 1>
// A block walks its row tiles with the grid's y dimension as the stride.
// CHECK:         %[[BY:.*]] = gpu.block_id  y
// CHECK:         %[[GDY:.*]] = gpu.grid_dim  y
// CHECK:         scf.for %{{.*}} = %[[BY]] to %{{.*}} step %[[GDY]]
// CHECK:         gpu.shuffle  xor
// CHECK:         arith.maximumf
// CHECK:         math.rsqrt
// CHECK:         memref.store %{{.*}}, %[[INV]]
// CHECK:         gpu.barrier
// CHECK:         scf.for
// CHECK:           memref.load %[[X]]
// CHECK:           memref.load %[[MEAN]]
// CHECK:           memref.load %[[RR]]
// CHECK:           memref.load %[[INV]]
// CHECK:           memref.load %[[G]]
// CHECK:           memref.load %[[B]]
// CHECK:           memref.store %{{.*}}, %[[AS]]
// CHECK:           memref.load %[[W]]
// CHECK:           memref.store %{{.*}}, %[[BS]]
// CHECK:           gpu.barrier
// CHECK:           llvm.intr.fma
// CHECK:           gpu.barrier
// CHECK:         memref.load %[[BIAS]]
// CHECK:         math.erf
// CHECK:         memref.store %{{.*}}, %[[Y]]
// CHECK:         gpu.return
func.func @layer_norm_linear_gelu(%x: tensor<1x16x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>,
    %w: tensor<256x64xf32>, %bias: tensor<256xf32>) -> tensor<1x16x16x256xf32> {
  %n = loom.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32}
      : (tensor<1x16x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x16x64xf32>
  %h = loom.linear %n, %w, %bias
      : (tensor<1x16x16x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x16x16x256xf32>
  %a = loom.gelu %h {approximate = "none"} : (tensor<1x16x16x256xf32>) -> tensor<1x16x16x256xf32>
  return %a : tensor<1x16x16x256xf32>
}

// -----

// The residual add: the residual is an argument after Y, read in the store.
// A larger product gets 64 x 64 tiles (4 x 4 registers a thread).
// CHECK-LABEL: func.func @residual
// CHECK-NOT:   arith.addf %{{.*}} : tensor
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_64x64x16_ep_add
// CHECK-NOT:   arith.addf %{{.*}} : tensor
// CHECK:       return
// CHECK:       gpu.func @loom_f32gemm_nonorm_nobias_64x64x16_ep_add(%{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %[[Y:.*]]: memref<?x?xf32>, %[[R:.*]]: memref<?x?xf32>) workgroup(%{{.*}} : memref<16x65xf32, {{.*}}, %{{.*}} : memref<16x65xf32, {{.*}})
// CHECK-COUNT-16: llvm.intr.fma
// CHECK:       %[[RV:.*]] = memref.load %[[R]]
// CHECK:       %[[S:.*]] = arith.addf %{{.*}}, %[[RV]] : f32
// CHECK:       memref.store %[[S]], %[[Y]]
func.func @residual(%x: tensor<1000x200xf32>, %w: tensor<700x200xf32>, %r: tensor<1000x700xf32>) -> tensor<1000x700xf32> {
  %y = loom.linear %x, %w : (tensor<1000x200xf32>, tensor<700x200xf32>) -> tensor<1000x700xf32>
  %o = arith.addf %r, %y : tensor<1000x700xf32>
  return %o : tensor<1000x700xf32>
}

// -----

// rms_norm, SiLU and a gating multiply: 32 x 32 tiles for a mid-sized product.
// CHECK-LABEL: func.func @rms_silu_gate
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_rms_nobias_32x32x16_ep_silu_mul
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.func @loom_f32gemm_rms_nobias_32x32x16_ep_silu_mul(%{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?xf32>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %{{.*}}: f32)
// CHECK:         math.rsqrt
// CHECK:         llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK:         llvm.call_intrinsic "llvm.nvvm.rcp.approx.ftz.f"
// CHECK:         arith.mulf
func.func @rms_silu_gate(%x: tensor<600x100xf32>, %g: tensor<100xf32>, %w: tensor<300x100xf32>,
    %e: tensor<600x300xf32>) -> tensor<600x300xf32> {
  %n = loom.rms_norm %x, %g : (tensor<600x100xf32>, tensor<100xf32>) -> tensor<600x100xf32>
  %h = loom.linear %n, %w : (tensor<600x100xf32>, tensor<300x100xf32>) -> tensor<600x300xf32>
  %s = loom.silu %h : (tensor<600x300xf32>) -> tensor<600x300xf32>
  %o = arith.mulf %s, %e : tensor<600x300xf32>
  return %o : tensor<600x300xf32>
}

// -----

// Horizontal siblings after a layer_norm: one launch; the grid's x dimension
// is the sum of the parts' column tiles; a block picks W, bias and Y of its
// part.
// CHECK-LABEL: func.func @siblings
// CHECK:       %[[T0:.*]] = arith.divui %{{.*}}, %c16
// CHECK:       %[[S0:.*]] = arith.addi %c0{{.*}}, %[[T0]]
// CHECK:       %[[T1:.*]] = arith.divui %{{.*}}, %c16
// CHECK:       %[[S1:.*]] = arith.addi %[[S0]], %[[T1]]
// CHECK:       %[[T2:.*]] = arith.divui %{{.*}}, %c16
// CHECK:       %[[S2:.*]] = arith.addi %[[S1]], %[[T2]]
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_layer_bias_16x16x16_x3 blocks in (%[[S2]],
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   loom.
// CHECK:       return
// CHECK:       gpu.func @loom_f32gemm_layer_bias_16x16x16_x3(%{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?xf32>, %{{.*}}: memref<?xf32>, %[[W0:.*]]: memref<?x?xf32>, %[[W1:.*]]: memref<?x?xf32>, %[[W2:.*]]: memref<?x?xf32>, %[[B0:.*]]: memref<?xf32>, %[[B1:.*]]: memref<?xf32>, %[[B2:.*]]: memref<?xf32>, %[[Y0:.*]]: memref<?x?xf32>, %[[Y1:.*]]: memref<?x?xf32>, %[[Y2:.*]]: memref<?x?xf32>, %{{.*}}: f32)
// CHECK:       %[[SW1:.*]] = arith.select %{{.*}}, %[[W1]], %[[W0]]
// CHECK:       arith.select %{{.*}}, %[[B1]], %[[B0]]
// CHECK:       arith.select %{{.*}}, %[[Y1]], %[[Y0]]
// CHECK:       arith.select %{{.*}}, %[[W2]], %[[SW1]]
func.func @siblings(%x: tensor<1x90x100xf32>, %g: tensor<100xf32>, %b: tensor<100xf32>,
    %wq: tensor<64x100xf32>, %bq: tensor<64xf32>, %wk: tensor<40x100xf32>, %bk: tensor<40xf32>,
    %wv: tensor<70x100xf32>, %bv: tensor<70xf32>)
    -> (tensor<1x90x64xf32>, tensor<1x90x40xf32>, tensor<1x90x70xf32>) {
  %n = loom.layer_norm %x, %g, %b : (tensor<1x90x100xf32>, tensor<100xf32>, tensor<100xf32>) -> tensor<1x90x100xf32>
  %q = loom.linear %n, %wq, %bq : (tensor<1x90x100xf32>, tensor<64x100xf32>, tensor<64xf32>) -> tensor<1x90x64xf32>
  %k = loom.linear %n, %wk, %bk : (tensor<1x90x100xf32>, tensor<40x100xf32>, tensor<40xf32>) -> tensor<1x90x40xf32>
  %v = loom.linear %n, %wv, %bv : (tensor<1x90x100xf32>, tensor<70x100xf32>, tensor<70xf32>) -> tensor<1x90x70xf32>
  return %q, %k, %v : tensor<1x90x64xf32>, tensor<1x90x40xf32>, tensor<1x90x70xf32>
}

// -----

// A dynamic M: the tile cannot be sized to the grid (64 x 64), and the
// launch is skipped when M is 0.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK:       %[[M:.*]] = tensor.dim %{{.*}}, %c0
// CHECK:       %[[NE:.*]] = arith.cmpi ugt, %[[M]], %c0
// CHECK:       scf.if
// CHECK:         gpu.launch_func @loom_kernels::@loom_f32gemm_rms_nobias_64x64x16
func.func @dynamic_rows(%x: tensor<?x64xf32>, %g: tensor<64xf32>, %w: tensor<48x64xf32>) -> tensor<?x48xf32> {
  %n = loom.rms_norm %x, %g : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = loom.linear %n, %w : (tensor<?x64xf32>, tensor<48x64xf32>) -> tensor<?x48xf32>
  return %y : tensor<?x48xf32>
}

// -----

// Declined: an epilogue op the recipe has no step for (subtraction); the
// group is inlined and its ops go op by op (the linear a SIMT GEMM launch of
// its own, without epilogue).
// CHECK-LABEL: func.func @subtract
// CHECK-NOT:   loom.linear
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_16x16x16 blocks
// CHECK:       arith.subf
// CHECK-NOT:   gpu.launch_func
func.func @subtract(%x: tensor<40x64xf32>, %w: tensor<48x64xf32>, %r: tensor<40x48xf32>) -> tensor<40x48xf32> {
  %y = loom.linear %x, %w : (tensor<40x64xf32>, tensor<48x64xf32>) -> tensor<40x48xf32>
  %o = arith.subf %y, %r : tensor<40x48xf32>
  return %o : tensor<40x48xf32>
}

// -----

// Declined as a group: x of rank 1. Op by op, the linear takes the SIMT
// GEMM as a [1, K] product.
// CHECK-LABEL: func.func @vector_input
// CHECK-NOT:   loom.linear
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_16x16x16 blocks
// CHECK:       arith.addf
// CHECK-NOT:   gpu.launch_func
func.func @vector_input(%x: tensor<64xf32>, %w: tensor<48x64xf32>, %r: tensor<48xf32>) -> tensor<48xf32> {
  %y = loom.linear %x, %w : (tensor<64xf32>, tensor<48x64xf32>) -> tensor<48xf32>
  %o = arith.addf %y, %r : tensor<48xf32>
  return %o : tensor<48xf32>
}

// -----

// Not f32: the tensor-core GEMM takes it.
// CHECK-LABEL: func.func @bf16
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16
// CHECK-NOT:   loom_f32gemm
func.func @bf16(%x: tensor<77x200xbf16>, %w: tensor<333x200xbf16>, %r: tensor<77x333xbf16>) -> tensor<77x333xbf16> {
  %y = loom.linear %x, %w : (tensor<77x200xbf16>, tensor<333x200xbf16>) -> tensor<77x333xbf16>
  %o = arith.addf %r, %y : tensor<77x333xbf16>
  return %o : tensor<77x333xbf16>
}
