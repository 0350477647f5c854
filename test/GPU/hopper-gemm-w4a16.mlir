// W4A16 on sm_90a: loom.qlinear with bf16 x, i4 weights (their packed bytes,
// from the module ABI) and scales per column or in groups of a multiple of
// 64 takes the wgmma GEMM with the weights dequantized into shared memory
// (HopperGemmKernel.h, `bType` i4) when M > 16 and the tensor maps can
// describe the operands (K a multiple of 32 and 16-byte aligned bases,
// checked on the host; the mma.sync kernel otherwise). Groups of 32, f16 x,
// group scales with an f32 result and a static K that is not a multiple of
// 32 keep the mma.sync kernel;
// sm_80 has no wgmma. The kernels compile without spills or wgmma
// serialization (ptxas -v below).
//
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels)' | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{chip=sm_80})' | FileCheck %s --check-prefix=SM80
// REQUIRES: ptxas
// RUN: loom-compile %s --target=sm_90a --emit=ptx -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx --check-prefix=PTX
// RUN: %ptxas -arch=sm_90a -O3 -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS

// M = 128, N = 512: 128-row tiles would give 4 of them, so 64 rows (two
// consumers' worth of SMs). The tensor maps: x (bf16 (9), 2 bytes, box
// 64 x 64, 128-byte swizzle (3)) and the packed weights [N, K/2] (bytes (0),
// 1 byte, box 128 x 32, no swizzle (0)). 256 threads: the producer and one
// consumer warpgroup.
// CHECK-LABEL: func.func @m128_groups(
// CHECK-SAME: %{{.*}}: tensor<512x128xi8>
// CHECK: scf.if
// CHECK: %[[BX:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c9_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: %[[BW:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}}, %c32_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_wi4_f32_g128_nobias_bf16_64x128x64_s8_r56x224_g16 blocks in ({{.*}}) threads in (%c256{{.*}}) dynamic_shared_memory_size %c132096_i32 args(%[[BX]] : !llvm.ptr, %[[BW]] : !llvm.ptr, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : index, %{{.*}} : memref<?x?xf32>)
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g128_nobias_bf16_128x64x32
// SM80-LABEL: func.func @m128_groups(
// SM80-NOT: wgmma
// SM80: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4
func.func @m128_groups(%x: tensor<128x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x2xf32>) -> tensor<128x512xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<128x256xbf16>, tensor<512x256xi4>, tensor<512x2xf32>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

// Per-column bf16 scales (applied to the f32 product), a bias and a fused
// residual: 128 x 128 tiles (enough of them), 6 stages, two consumers.
// CHECK-LABEL: func.func @per_channel(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_wi4_bf16_g0_bf16_bf16_128x128x64_s6_r56x224_g16_ep_addbf16 blocks in ({{.*}}) threads in (%c384{{.*}}) dynamic_shared_memory_size %c173056_i32
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_bf16_g0_bf16_bf16_128x128x32_w2x4_s4_ep_addbf16
func.func @per_channel(%x: tensor<4096x256xbf16>, %w: tensor<1000x256xi4>, %s: tensor<1000xbf16>, %b: tensor<1000xbf16>, %r: tensor<4096x1000xbf16>) -> tensor<4096x1000xbf16> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<4096x256xbf16>, tensor<1000x256xi4>, tensor<1000xbf16>, tensor<1000xbf16>) -> tensor<4096x1000xbf16>
  %o = arith.addf %y, %r : tensor<4096x1000xbf16>
  return %o : tensor<4096x1000xbf16>
}

// Declined, the mma.sync kernel only: groups of 32 (a scale per half K
// step), f16 x, a static K that is not a multiple of 32.
// CHECK-LABEL: func.func @groups_of_32(
// CHECK-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g32_nobias_bf16_128x64x32
func.func @groups_of_32(%x: tensor<128x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x8xf32>) -> tensor<128x512xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<128x256xbf16>, tensor<512x256xi4>, tensor<512x8xf32>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}
// CHECK-LABEL: func.func @f16(
// CHECK-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_f16_i4_f16_g0_nobias_f16_128x128x32
func.func @f16(%x: tensor<128x256xf16>, %w: tensor<512x256xi4>, %s: tensor<512xf16>) -> tensor<128x512xf16> {
  %y = loom.qlinear %x, %w, %s : (tensor<128x256xf16>, tensor<512x256xi4>, tensor<512xf16>) -> tensor<128x512xf16>
  return %y : tensor<128x512xf16>
}
// CHECK-LABEL: func.func @k_80(
// CHECK-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g0_nobias_f32_128x128x32
func.func @k_80(%x: tensor<128x80xbf16>, %w: tensor<512x80xi4>, %s: tensor<512xf32>) -> tensor<128x512xf32> {
  %y = loom.qlinear %x, %w, %s : (tensor<128x80xbf16>, tensor<512x80xi4>, tensor<512xf32>) -> tensor<128x512xf32>
  return %y : tensor<128x512xf32>
}

// A dynamic M: decode-sized products (M <= 16) the mma.sync decode tiles
// (groups of 64 are not the GEMV's), larger ones the wgmma kernel with
// 128-row tiles (M unknown), f16 scales.
// CHECK-LABEL: func.func @dynamic_m(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f16_g64_nobias_bf16_16x64x64
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_wi4_f16_g64_nobias_bf16_128x128x64_s6_r56x224_g16
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f16_g64_nobias_bf16_128x64x32
func.func @dynamic_m(%x: tensor<?x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x4xf16>) -> tensor<?x512xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 64 : i64} : (tensor<?x256xbf16>, tensor<512x256xi4>, tensor<512x4xf16>) -> tensor<?x512xbf16>
  return %y : tensor<?x512xbf16>
}

// Group scales with an f32 result: the wgmma kernel would round each
// weight times its scale to bf16, which an f32 result would show; the
// mma.sync kernel scales each group's f32 partial sums.
// CHECK-LABEL: func.func @groups_f32_result(
// CHECK-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g128_nobias_f32_128x64x32
func.func @groups_f32_result(%x: tensor<512x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x2xf32>) -> tensor<512x512xf32> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<512x256xbf16>, tensor<512x256xi4>, tensor<512x2xf32>) -> tensor<512x512xf32>
  return %y : tensor<512x512xf32>
}

// The dequantization: the packed tile read 16 bytes at a time, (136 + v) -
// 136 and the scale as packed bf16 ops, the bf16 tile stored 16 bytes at a
// time, made visible to the wgmma (fence.proxy.async), then a named barrier
// of the consumer threads (128 or 256) before the products.
// PTX-DAG: .entry loom_gemm_wgmma_bf16_wi4_f32_g128_nobias_bf16_64x128x64_s8_r56x224_g16(
// PTX-DAG: .entry loom_gemm_wgmma_bf16_wi4_bf16_g0_bf16_bf16_128x128x64_s6_r56x224_g16_ep_addbf16(
// PTX-DAG: ld.shared.v4.b32
// PTX-DAG: sub.rn.bf16x2
// PTX-DAG: mul.rn.bf16x2
// PTX-DAG: st.shared.v4.b32
// PTX-DAG: fence.proxy.async.shared::cta
// PTX-DAG: bar.sync 1, 128;
// PTX-DAG: bar.sync 1, 256;
// PTX-DAG: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.wait_group.sync.aligned 1

// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
