// loom-gpu-kernels replaces loom.linear (bf16/f16), loom.qlinear (i8, and i4
// straight from the module ABI's unpacking) and loom.qmatmul (i8; fp8 from
// sm_89) by launches of tensor-core GEMM kernels instantiated into
// @loom_kernels; the others are left for the generic path. The PTX RUN lines
// lower the kernels and check the tensor-core instructions.
//
// RUN: loom-opt %s --loom-pack-i4-abi --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-pack-i4-abi --loom-gpu-kernels=chip=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: loom-opt %s --loom-pack-i4-abi --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// Batch dims collapse into M = 16: the decode-sized tiles (K = 72 is not a
// multiple of 32, so not the GEMV recipe of gemv-kernels.mlir), the result
// expanded back.
// CHECK-LABEL: func.func @linear_batched
// CHECK: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x8x72xbf16> into tensor<16x72xbf16>
// CHECK: bufferization.to_buffer %[[X]] read_only
// CHECK: %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16x96xbf16>
// CHECK-NOT: scf.if
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_bf16_bf16_16x64x64_w1x4_s4
// CHECK-SAME: threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?x?xbf16>)
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[Y]] restrict writable
// CHECK: %[[R:.*]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2]] output_shape [2, 8, 96]
// CHECK: return %[[R]]
// CHECK-NOT: loom.linear
func.func @linear_batched(%x: tensor<2x8x72xbf16>, %w: tensor<96x72xbf16>, %b: tensor<96xbf16>) -> tensor<2x8x96xbf16> {
  %y = loom.linear %x, %w, %b : (tensor<2x8x72xbf16>, tensor<96x72xbf16>, tensor<96xbf16>) -> tensor<2x8x96xbf16>
  return %y : tensor<2x8x96xbf16>
}

// Dynamic shapes: no launch for an empty result; M picks the tiles at run
// time; grid = (ceil(N / BN), ceil(M / BM)).
// CHECK-LABEL: func.func @linear_dynamic
// CHECK-DAG: %[[M:.*]] = tensor.dim %{{.*}}, %c0{{.*}} : tensor<?x?xf16>
// CHECK-DAG: %[[N:.*]] = tensor.dim %{{.*}}, %c0{{.*}} : tensor<?x?xf16>
// CHECK: %[[Y:.*]] = memref.alloc(%[[M]], %[[N]]) {alignment = 64 : i64} : memref<?x?xf16>
// CHECK: %[[MIN:.*]] = arith.cmpi ugt, %[[M]], %c0
// CHECK: %[[NIN:.*]] = arith.cmpi ugt, %[[N]], %c0
// CHECK: %[[NE:.*]] = arith.andi %[[MIN]], %[[NIN]]
// CHECK: scf.if %[[NE]] {
// CHECK:   %[[DEC:.*]] = arith.cmpi ule, %[[M]], %c16
// CHECK:   scf.if %[[DEC]] {
// CHECK:     gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_16x64x64_w1x4_s4 blocks in
// CHECK:   } else {
// CHECK:     %[[NB:.*]] = arith.addi %[[N]], %c127
// CHECK:     %[[GX:.*]] = arith.divui %[[NB]], %c128
// CHECK:     %[[MB:.*]] = arith.addi %[[M]], %c127
// CHECK:     %[[GY:.*]] = arith.divui %[[MB]], %c128
// CHECK:     gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_128x128x32_w2x4_s4 blocks in (%[[GX]], %[[GY]], %{{.*}}) threads in (%c256{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %c81920_i32
func.func @linear_dynamic(%x: tensor<?x?xf16>, %w: tensor<?x?xf16>) -> tensor<?x?xf16> {
  %y = loom.linear %x, %w : (tensor<?x?xf16>, tensor<?x?xf16>) -> tensor<?x?xf16>
  return %y : tensor<?x?xf16>
}

// f32 has no tensor-core recipe: the SIMT GEMM (F32GemmKernel.h).
// CHECK-LABEL: func.func @linear_f32
// CHECK-NOT: loom.linear
// CHECK: gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_16x16x16 blocks
func.func @linear_f32(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %y = loom.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// W8A16, per-channel scales, 256 rows: the 128 x 128 tiles.
// CHECK-LABEL: func.func @qlinear_i8
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i8_f32_g0_f32_bf16_128x128x32_w2x4_s4
// CHECK-SAME: args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xbf16>)
func.func @qlinear_i8(%x: tensor<256x512xbf16>, %w: tensor<384x512xi8>, %s: tensor<384xf32>, %b: tensor<384xf32>) -> tensor<256x384xbf16> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<256x512xbf16>, tensor<384x512xi8>, tensor<384xf32>, tensor<384xf32>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// W4A16 with groups of 128 from an entry argument: the kernel reads the
// packed bytes; the unpacking is gone.
// CHECK-LABEL: func.func @qlinear_i4(
// CHECK-SAME: %[[X:.*]]: tensor<64x256xbf16>, %[[W:.*]]: tensor<512x128xi8>, %[[S:.*]]: tensor<512x2xf32>
// CHECK-NOT: linalg.generic
// CHECK: %[[WB:.*]] = bufferization.to_buffer %[[W]] read_only : tensor<512x128xi8>
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g128_nobias_bf16_128x64x32_w2x4_s4
// CHECK-SAME: args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xbf16>)
func.func @qlinear_i4(%x: tensor<64x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x2xf32>) -> tensor<64x512xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<64x256xbf16>, tensor<512x256xi4>, tensor<512x2xf32>) -> tensor<64x512xbf16>
  return %y : tensor<64x512xbf16>
}

// An i4 weight that is not an entry argument (no packed bytes to read): the
// generic path. A group size that is not a multiple of 32: no tensor-core
// kernel, the SIMT GEMM.
// CHECK-LABEL: func.func private @qlinear_left_alone
// CHECK: loom.qlinear
// CHECK-NOT: loom.qlinear
// CHECK: gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_16x16x16_tbf16_bf16_f32_f32_wi8g blocks
func.func private @qlinear_left_alone(%x: tensor<4x96xbf16>, %w: tensor<8x96xi4>, %w8: tensor<8x96xi8>, %s: tensor<8xf32>, %sg: tensor<8x2xf32>) -> (tensor<4x8xbf16>, tensor<4x8xbf16>) {
  %y = loom.qlinear %x, %w, %s : (tensor<4x96xbf16>, tensor<8x96xi4>, tensor<8xf32>) -> tensor<4x8xbf16>
  %z = loom.qlinear %x, %w8, %sg {group_size = 48 : i64} : (tensor<4x96xbf16>, tensor<8x96xi8>, tensor<8x2xf32>) -> tensor<4x8xbf16>
  return %y, %z : tensor<4x8xbf16>, tensor<4x8xbf16>
}

// W8A8 and FP8: xs and w_scale go to the kernel; fp8 needs sm_89.
// CHECK-LABEL: func.func @qmatmul
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qmatmul_i8_i8_bf16_bf16_128x128x64_w2x4_s4
// CHECK-SAME: args(%{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?x?xbf16>)
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qmatmul_f8E4M3FN_f8E4M3FN_nobias_f32_128x128x64_w2x4_s4
// SM80-LABEL: func.func @qmatmul
// SM80: gpu.launch_func @loom_kernels::@loom_gemm_qmatmul_i8_i8
// SM80-NOT: gpu.launch_func
// SM80: loom.qmatmul {{.*}}f8E4M3FN
func.func @qmatmul(%xq: tensor<200x512xi8>, %xs: tensor<200xf32>, %w: tensor<256x512xi8>, %ws: tensor<256xf32>, %b: tensor<256xbf16>,
                   %fq: tensor<200x512xf8E4M3FN>, %fw: tensor<256x512xf8E4M3FN>) -> (tensor<200x256xbf16>, tensor<200x256xf32>) {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<200x512xi8>, tensor<200xf32>, tensor<256x512xi8>, tensor<256xf32>, tensor<256xbf16>) -> tensor<200x256xbf16>
  %z = loom.qmatmul %fq, %xs, %fw, %ws : (tensor<200x512xf8E4M3FN>, tensor<200xf32>, tensor<256x512xf8E4M3FN>, tensor<256xf32>) -> tensor<200x256xf32>
  return %y, %z : tensor<200x256xbf16>, tensor<200x256xf32>
}

// The kernels: cp.async into padded shared tiles, ldmatrix, mma.sync.
// CHECK: gpu.module @loom_kernels
// CHECK: gpu.func @loom_gemm_linear_bf16_bf16_bf16_bf16_16x64x64_w1x4_s4(%{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?x?xbf16>, %{{.*}}: memref<?xbf16>, %{{.*}}: memref<?x?xbf16>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: gpu.dynamic_shared_memory
// CHECK: memref.view {{.*}} to memref<4x16x72xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.*}}, 8, %{{.*}} {bypassL1} : memref<?x?xbf16> to memref<4x16x72xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : memref<4x16x72xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: gpu.func @loom_gemm_qlinear_bf16_i4_f32_g128_nobias_bf16_128x64x32_w2x4_s4
// CHECK: arith.shrsi %{{.*}} : i8
// CHECK: arith.sitofp %{{.*}} : vector<2xi8> to vector<2xbf16>
// CHECK: gpu.func @loom_gemm_qmatmul_i8_i8_bf16_bf16_128x128x64_w2x4_s4
// CHECK: nvvm.mma.sync {{.*}}intOverflowBehavior = #nvvm.mma_int_overflow<wrapped>{{.*}}multiplicandAPtxType = #nvvm.mma_type<s8>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 32>
// CHECK: gpu.func @loom_gemm_qmatmul_f8E4M3FN
// CHECK: llvm.inline_asm "cvt.rn.f16x2.e4m3x2 $0, $1;"
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>

// PTX-DAG: .visible .entry loom_gemm_linear_bf16_bf16_bf16_bf16_16x64x64_w1x4_s4(
// PTX-DAG: .visible .entry loom_gemm_qmatmul_i8_i8_bf16_bf16_128x128x64_w2x4_s4(
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-DAG: mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
// PTX-DAG: cvt.rn.f16x2.e4m3x2
