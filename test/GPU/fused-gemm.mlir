// Fusion groups on the GPU (lib/GPU/FusedGemm.cpp): a GEMM and its
// elementwise epilogue become one launch of the GEMM recipe with the
// epilogue in its store; horizontal siblings one launch whose grid covers
// every part; decode-sized products keep the GEMV recipe, so their group is
// inlined and the epilogue runs on its own.
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

// CHECK-LABEL: func.func @decode
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemv_linear
// CHECK:       arith.addf
func.func @decode(%x: tensor<8x256xbf16>, %w: tensor<100x256xbf16>, %r: tensor<8x100xbf16>) -> tensor<8x100xbf16> {
  %y = loom.linear %x, %w : (tensor<8x256xbf16>, tensor<100x256xbf16>) -> tensor<8x100xbf16>
  %o = arith.addf %y, %r : tensor<8x100xbf16>
  return %o : tensor<8x100xbf16>
}
