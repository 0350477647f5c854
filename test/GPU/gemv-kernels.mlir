// For decode-sized products (M <= 16), loom-gpu-kernels launches the GEMV
// recipe (GemvRecipe.h) for loom.linear (bf16/f16) and loom.qlinear (i8, and
// i4 from the module ABI; per-channel scales or groups of a multiple of 128)
// when K is a multiple of 32: a ceil(N / 16) x 1 x 1 grid, no dynamic shared
// memory. The GEMM recipe's 16 x 64 tiles keep the rest of M <= 16; M > 16
// keeps the 128-row tiles. The PTX RUN line lowers the kernels and checks the
// tensor-core instructions and the streaming weight loads.
//
// RUN: loom-opt %s --loom-pack-i4-abi --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-pack-i4-abi --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// W4A16, M = 1, groups of 128: the packed bytes go to the kernel, M <= 8
// skips the mma's rows 8..15 (r1); grid = ceil(512 / 16).
// CHECK-LABEL: func.func @qlinear_i4_m1(
// CHECK-SAME: %[[X:.*]]: tensor<1x256xbf16>, %[[W:.*]]: tensor<512x128xi8>, %[[S:.*]]: tensor<512x2xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[WB:.*]] = bufferization.to_buffer %[[W]] read_only : tensor<512x128xi8>
// CHECK: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x512xbf16>
// CHECK-NOT: scf.if
// CHECK: %[[NB:.*]] = arith.addi %c512, %c15
// CHECK: %[[GX:.*]] = arith.divui %[[NB]], %c16
// CHECK: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w4x2_u2_nc blocks in (%[[GX]], %c1{{.*}}, %c1{{.*}}) threads in (%c128{{.*}}, %c1{{.*}}, %c1{{.*}}) args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xbf16>)
// CHECK: bufferization.to_tensor %[[Y]] restrict writable
// CHECK-NOT: loom.qlinear
func.func @qlinear_i4_m1(%x: tensor<1x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x2xf32>) -> tensor<1x512xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1x256xbf16>, tensor<512x256xi4>, tensor<512x2xf32>) -> tensor<1x512xbf16>
  return %y : tensor<1x512xbf16>
}

// W8A16, M = 16, per-channel scales, a bias, ragged N = 200: all 16 rows.
// CHECK-LABEL: func.func @qlinear_i8_m16
// CHECK: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_f16_i8_bf16_g0_f16_f32_r2_w8x2_u1_nc blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}}) args(%{{.*}} : memref<?x?xf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?xf16>, %{{.*}} : memref<?x?xf32>)
func.func @qlinear_i8_m16(%x: tensor<16x992xf16>, %w: tensor<200x992xi8>, %s: tensor<200xbf16>, %b: tensor<200xf16>) -> tensor<16x200xf32> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<16x992xf16>, tensor<200x992xi8>, tensor<200xbf16>, tensor<200xf16>) -> tensor<16x200xf32>
  return %y : tensor<16x200xf32>
}

// A rank-1 x is M = 1; the result collapses back.
// CHECK-LABEL: func.func @linear_vector
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 64] : tensor<64xbf16> into tensor<1x64xbf16>
// CHECK: gpu.launch_func @loom_kernels::@loom_gemv_linear_bf16_bf16_bf16_bf16_r1_w8x2_u1 blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c256
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<1x96xbf16> into tensor<96xbf16>
func.func @linear_vector(%x: tensor<64xbf16>, %w: tensor<96x64xbf16>, %b: tensor<96xbf16>) -> tensor<96xbf16> {
  %y = loom.linear %x, %w, %b : (tensor<64xbf16>, tensor<96x64xbf16>, tensor<96xbf16>) -> tensor<96xbf16>
  return %y : tensor<96xbf16>
}

// Dynamic M and K: M <= 16 and K % 32 == 0 at run time take the GEMV
// recipe (all 16 rows), M <= 16 otherwise the GEMM's decode tiles, larger M
// the 128-row tiles.
// CHECK-LABEL: func.func @linear_dynamic
// CHECK-DAG: %[[M:.*]] = tensor.dim %[[XA:.*]], %c0{{.*}} : tensor<?x?xf16>
// CHECK-DAG: %[[N:.*]] = tensor.dim %{{.*}}, %c0{{.*}} : tensor<?x?xf16>
// CHECK: scf.if %{{.*}} {
// CHECK:   %[[DEC:.*]] = arith.cmpi ule, %[[M]], %c16
// CHECK:   scf.if %[[DEC]] {
// CHECK:     %[[K:.*]] = tensor.dim %[[XA]], %c1{{.*}} : tensor<?x?xf16>
// CHECK:     %[[R:.*]] = arith.remui %[[K]], %c32
// CHECK:     %[[AL:.*]] = arith.cmpi eq, %[[R]], %c0
// CHECK:     scf.if %[[AL]] {
// CHECK:       %[[NB:.*]] = arith.addi %[[N]], %c15
// CHECK:       %[[GX:.*]] = arith.divui %[[NB]], %c16
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemv_linear_f16_f16_nobias_f16_r2_w8x2_u1 blocks in (%[[GX]], %c1{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}}) args(
// CHECK:     } else {
// CHECK:       gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_16x64x64_w1x4_s4
// CHECK:     }
// CHECK:   } else {
// CHECK:     gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_128x128x32_w2x4_s4
func.func @linear_dynamic(%x: tensor<?x?xf16>, %w: tensor<?x?xf16>) -> tensor<?x?xf16> {
  %y = loom.linear %x, %w : (tensor<?x?xf16>, tensor<?x?xf16>) -> tensor<?x?xf16>
  return %y : tensor<?x?xf16>
}

// Not for the GEMV recipe: K = 72 is not a multiple of 32, groups of 64 are
// not a multiple of 128 (both: the GEMM's decode tiles); M = 17 (the
// 128-row tiles); f32 (the SIMT GEMM).
// CHECK-LABEL: func.func @not_gemv
// CHECK-NOT: loom_gemv
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_16x64x64_w1x4_s4
// CHECK-NOT: loom_gemv
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i8_f32_g64_nobias_bf16_16x64x64_w1x4_s4
// CHECK-NOT: loom_gemv
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4
// CHECK: gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_16x16x16 blocks
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @not_gemv(%x: tensor<4x72xbf16>, %w: tensor<32x72xbf16>,
                    %xg: tensor<4x256xbf16>, %wg: tensor<32x256xi8>, %sg: tensor<32x4xf32>,
                    %x17: tensor<17x64xbf16>, %w17: tensor<32x64xbf16>,
                    %xf: tensor<2x64xf32>, %wf: tensor<32x64xf32>)
    -> (tensor<4x32xbf16>, tensor<4x32xbf16>, tensor<17x32xbf16>, tensor<2x32xf32>) {
  %a = loom.linear %x, %w : (tensor<4x72xbf16>, tensor<32x72xbf16>) -> tensor<4x32xbf16>
  %b = loom.qlinear %xg, %wg, %sg {group_size = 64 : i64} : (tensor<4x256xbf16>, tensor<32x256xi8>, tensor<32x4xf32>) -> tensor<4x32xbf16>
  %c = loom.linear %x17, %w17 : (tensor<17x64xbf16>, tensor<32x64xbf16>) -> tensor<17x32xbf16>
  %d = loom.linear %xf, %wf : (tensor<2x64xf32>, tensor<32x64xf32>) -> tensor<2x32xf32>
  return %a, %b, %c, %d : tensor<4x32xbf16>, tensor<4x32xbf16>, tensor<17x32xbf16>, tensor<2x32xf32>
}

// The kernels: no dynamic shared memory, the warps' sums added in a
// workgroup buffer; i4 nibbles to bf16 by the 0x4300 magic number (128.0)
// minus 136; 16-byte streaming weight loads; mma.sync on bf16/f16; group
// scales on the partial sums; one rounding at the end.
// CHECK: gpu.module @loom_kernels
// CHECK: gpu.func @loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w4x2_u2_nc(%{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?x?xi8>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xbf16>) workgroup(%{{.*}} : memref<4x2x4x32xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-DAG: arith.constant -2004318072 : i32
// CHECK-DAG: arith.constant 983055 : i32
// CHECK-DAG: arith.constant 1124090624 : i32
// CHECK-DAG: arith.constant dense<1.360000e+02> : vector<2xbf16>
// CHECK: scf.for
// CHECK: llvm.inline_asm "ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {$0, $1, $2, $3}, [$4];", "=r,=r,=r,=r,l"
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<?x?xbf16>, vector<8xbf16>
// CHECK: vector.shuffle %{{.*}}, %{{.*}} [0, 4] : vector<8xbf16>, vector<8xbf16>
// CHECK: arith.subf %{{.*}} : vector<2xbf16>
// CHECK: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: llvm.intr.fma
// CHECK: scf.yield
// CHECK: gpu.barrier
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: gpu.func @loom_gemv_qlinear_f16_i8_bf16_g0_f16_f32_r2_w8x2_u1_nc
// CHECK: arith.constant 1677747200 : i32
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: gpu.func @loom_gemv_linear_bf16_bf16_bf16_bf16_r1_w8x2_u1
// CHECK-NOT: llvm.inline_asm
// CHECK: vector.load {{.*}} : memref<?x?xbf16>, vector<8xbf16>

// PTX-DAG: .visible .entry loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w4x2_u2_nc(
// PTX-DAG: .visible .entry loom_gemv_linear_f16_f16_nobias_f16_r2_w8x2_u1(
// PTX-DAG: ld.global.nc.L1::no_allocate.L2::256B.v4.u32
// PTX-DAG: ld.global.v4.b32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
