// The tile override gemv:WARPSxTILESxUNROLL[xDEPTH] sets the schedule of
// every decode GEMV kernel (GemvKernel.h) in place of the one chosen per
// weight type: WARPS warps split K, a block owns 8 x TILES columns, a warp
// loads UNROLL K blocks per iteration, and DEPTH 2 carries each
// iteration's operands (weights, x, group scales) in registers from the
// previous one, which issues them before its own products. The first
// iteration's operands are loaded under an scf.if (a warp with no K block,
// or K = 0, reads nothing). Without DEPTH the recipe's depth (1) stays.
// Schedules the kernel cannot take are an error at the op.
//
// RUN: loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=gemv:8x1x4x2' | FileCheck %s --check-prefix=D2
// RUN: loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=gemv:4x2x2' | FileCheck %s --check-prefix=D1
// RUN: loom-compile %s --target=sm_90a --tiles=gemv:4x2x2x2 --emit=ptx -o %t.ptx
// RUN: %ptxas -arch=sm_90a -O3 -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// RUN: loom-opt %s -split-input-file --loom-pack-i4-abi '--loom-gpu-kernels=tiles=gemv:64x2x1' -verify-diagnostics
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: tile 'gemv:4x2x2x3' is not supported on sm_90a: depth must be 1 or 2" -- loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=gemv:4x2x2x3'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: tile 'gemv:32x8x1' is not supported on sm_90a: warps x tiles needs 128 KiB of static shared memory, at most 48" -- loom-opt %s --loom-pack-i4-abi '--loom-gpu-kernels=tiles=gemv:32x8x1'
// REQUIRES: ptxas

// 8 columns a block: grid = ceil(520 / 8); 256 threads.
// D2-LABEL: func.func @qlinear_i4_groups(
// D2: %[[NB:.*]] = arith.addi %c520, %c7
// D2: %[[GX:.*]] = arith.divui %[[NB]], %c8
// D2: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w8x1_u4_d2_nc blocks in (%[[GX]], %c1{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}})
// D1-LABEL: func.func @qlinear_i4_groups(
// D1: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w4x2_u2_nc
func.func @qlinear_i4_groups(%x: tensor<1x1024xbf16>, %w: tensor<520x1024xi4>, %s: tensor<520x8xf32>) -> tensor<1x520xbf16> {
  // expected-error @below {{tile 'gemv:64x2x1' is not supported on sm_90a: warps must be 1 to 32, tiles 1 to 8 and unroll 1 to 8}}
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1x1024xbf16>, tensor<520x1024xi4>, tensor<520x8xf32>) -> tensor<1x520xbf16>
  return %y : tensor<1x520xbf16>
}

// An i8 GEMV with a bias (other kernel, same schedule).
// D2-LABEL: func.func @qlinear_i8_bias(
// D2: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_bf16_i8_f32_g0_bf16_bf16_r2_w8x1_u4_d2_nc
// D1-LABEL: func.func @qlinear_i8_bias(
// D1: gpu.launch_func @loom_kernels::@loom_gemv_qlinear_bf16_i8_f32_g0_bf16_bf16_r2_w4x2_u2_nc

// The kernel of depth 2: the first iteration's operands under an scf.if
// (one K block: 4 weight words, 4 x chunks, 2 scales), then the loop
// carries the 4 sums with them and loads the next iteration's before its
// mma.sync products.
// D2: gpu.func @loom_gemv_qlinear_bf16_i4_f32_g128_nobias_bf16_r1_w8x1_u4_d2_nc(
// D2: %[[FIRST:.*]]:40 = scf.if %{{.*}} -> (i32, i32, i32, i32, vector<8xbf16>, vector<8xbf16>, vector<8xbf16>, vector<8xbf16>, f32, f32, i32,
// D2: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, i32,
// D2: llvm.inline_asm {{.*}}ld.global.nc.L1::no_allocate
// D2: nvvm.mma.sync
// D2: scf.yield

// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_gemv_{{.*}}_d2_nc'
// PTXAS-NEXT: Function properties for loom_gemv_{{.*}}_d2_nc
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS: Compiling entry function 'loom_gemv_{{.*}}_d2_nc'
// PTXAS-NEXT: Function properties for loom_gemv_{{.*}}_d2_nc
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

// -----

func.func @qlinear_i8_bias(%x: tensor<12x320xbf16>, %w: tensor<96x320xi8>, %s: tensor<96xf32>, %b: tensor<96xbf16>) -> tensor<12x96xbf16> {
  // expected-error @below {{tile 'gemv:64x2x1' is not supported on sm_90a: warps must be 1 to 32, tiles 1 to 8 and unroll 1 to 8}}
  %y = loom.qlinear %x, %w, %s, %b : (tensor<12x320xbf16>, tensor<96x320xi8>, tensor<96xf32>, tensor<96xbf16>) -> tensor<12x96xbf16>
  return %y : tensor<12x96xbf16>
}
