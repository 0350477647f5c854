// W4A16 on sm_90a with the tile override `w4a16:registers` (the default,
// test/GPU/hopper-gemm-w4a16.mlir, dequantizes in shared memory until this
// kernel is checked on a GPU): loom.qlinear with bf16 x, i4 weights (their
// packed bytes, from the module ABI) and scales per column or in groups of
// a multiple of 64, and their siblings and gated pairs, take the W4A16
// wgmma kernel (HopperW4A16Kernel.h: Y^T = W x^T, the
// weights dequantized from shared memory into the wgmma's A registers) when
// M > 16 and the tensor maps can describe the operands (K a multiple of 32
// and 16-byte aligned bases, checked on the host; the mma.sync kernel
// otherwise). Groups of 32, f16 x, group scales with an f32 result and a
// static K that is not a multiple of 32 keep the mma.sync kernel; sm_80 has
// no wgmma. The kernels compile without spills or wgmma serialization
// (ptxas -v below).
//
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{tiles=w4a16:registers})' | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{chip=sm_80 tiles=w4a16:registers})' | FileCheck %s --check-prefix=SM80
// RUN: loom-opt %s --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{tiles=w4a16:registers})' | FileCheck %s --check-prefix=DRAIN
// REQUIRES: ptxas
// RUN: loom-compile %s --target=sm_90a --tiles=w4a16:registers --emit=ptx -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx --check-prefix=PTX
// RUN: %ptxas -arch=sm_90a -O3 -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// The Llama example with the override: QKV (three parts), gate/up with the
// SwiGLU gating (a gated pair) and the output and down projections with
// their residual adds take the W4A16 kernel (two launch sites each, the
// mma.sync kernel where the alignment check fails); ptxas assembles it.
// RUN: loom-compile %loom_src/examples/llama_block.mlir --target=sm_90a --tiles=w4a16:registers --emit=ptx -o %t.llama.ptx | FileCheck %s --check-prefix=LLAMA
// RUN: %ptxas -arch=sm_90a %t.llama.ptx -o %t.llama.cubin
// LLAMA: kernels: 8 (11 launches in host code)

// The consumers' loop over pairs of K steps waits for the older pair's
// products (wait_group 1) except in a tile's last pair, which waits for
// all (wgmmaWaitOrDrain): ptxas scheduled the epilogue's reads of the
// accumulator above a wait_group 0 after the loop, which gave wrong rows
// on the H100 (docs/perf.md, 2026-12-08). Every kernel here has the drain.
// DRAIN: gpu.func @loom_w4a16_wgmma_
// DRAIN: scf.if %{{[0-9]+}} {{{[[:space:]]+}}nvvm.wgmma.wait.group.sync.aligned 0{{[[:space:]]+}}} else {{{[[:space:]]+}}nvvm.wgmma.wait.group.sync.aligned 1{{[[:space:]]+}}}
// DRAIN: gpu.func @loom_w4a16_wgmma_
// DRAIN: scf.if %{{[0-9]+}} {{{[[:space:]]+}}nvvm.wgmma.wait.group.sync.aligned 0{{[[:space:]]+}}} else {{{[[:space:]]+}}nvvm.wgmma.wait.group.sync.aligned 1{{[[:space:]]+}}}

// M = 128, N = 512: two consumers on 128 rows of x would make 4 tiles,
// one on 128 rows 8, one on 64 rows 16 (the least work in one wave, even
// counted 1.25 times). The tensor maps: the packed weights [N, K/2] (bytes
// (0), 1 byte, box 64 x 32, no swizzle (0)) and x (bf16 (9), 2 bytes, box
// 64 x 64, 128-byte swizzle (3)). 256 threads: the producer and one
// consumer warpgroup; 8 stages of 10 KiB.
// CHECK-LABEL: func.func @m128_groups(
// CHECK-SAME: %{{.*}}: tensor<512x128xi8>
// CHECK: scf.if
// CHECK: %[[BW:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c32_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: %[[BX:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c9_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232 blocks in ({{.*}}) threads in (%c256{{.*}}) dynamic_shared_memory_size %c82944_i32 args(%[[BW]] : !llvm.ptr, %[[BX]] : !llvm.ptr, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : index, %{{.*}} : memref<?x?xf32>)
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
// residual: two consumers on 128 rows of x (256 tiles, two waves; one
// consumer would need four), 8 stages of 20 KiB, 384 threads.
// CHECK-LABEL: func.func @per_channel(
// CHECK: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_bf16_g0_bf16_bf16_128x128_s8_r40x232_ep_addbf16 blocks in ({{.*}}) threads in (%c384{{.*}}) dynamic_shared_memory_size %c164864_i32
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_bf16_g0_bf16_bf16_128x128x32_w2x4_s4_ep_addbf16
func.func @per_channel(%x: tensor<4096x256xbf16>, %w: tensor<1000x256xi4>, %s: tensor<1000xbf16>, %b: tensor<1000xbf16>, %r: tensor<4096x1000xbf16>) -> tensor<4096x1000xbf16> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<4096x256xbf16>, tensor<1000x256xi4>, tensor<1000xbf16>, tensor<1000xbf16>) -> tensor<4096x1000xbf16>
  %o = arith.addf %y, %r : tensor<4096x1000xbf16>
  return %o : tensor<4096x1000xbf16>
}

// Siblings sharing x (QKV with i4 weights, grouped by loom-fuse): one
// launch of the W4A16 kernel with three parts (each its own weights' tensor
// map, output and scales; the grid walks all their tiles), the mma.sync
// kernel's parts where the alignment check fails.
// CHECK-LABEL: func.func @qkv(
// CHECK: scf.if
// CHECK-COUNT-4: llvm.call @loomCudaTensorMap2D(
// CHECK: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232_x3 blocks in ({{.*}}) threads in (%c256{{.*}}) dynamic_shared_memory_size %c82944_i32 args(%{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : index, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>)
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f32_g128_nobias_bf16_{{.*}}_x3
func.func @qkv(%x: tensor<256x512xbf16>, %wq: tensor<512x512xi4>, %sq: tensor<512x4xf32>, %wk: tensor<128x512xi4>, %sk: tensor<128x4xf32>, %wv: tensor<128x512xi4>, %sv: tensor<128x4xf32>) -> (tensor<256x512xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>) {
  %q = loom.qlinear %x, %wq, %sq {group_size = 128 : i64} : (tensor<256x512xbf16>, tensor<512x512xi4>, tensor<512x4xf32>) -> tensor<256x512xbf16>
  %k = loom.qlinear %x, %wk, %sk {group_size = 128 : i64} : (tensor<256x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<256x128xbf16>
  %v = loom.qlinear %x, %wv, %sv {group_size = 128 : i64} : (tensor<256x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<256x128xbf16>
  return %q, %k, %v : tensor<256x512xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>
}

// A gated pair (SwiGLU with i4 weights, grouped by loom-fuse): one launch
// of the W4A16 kernel computing gate and up of the same outputs per warp
// (the gate's weight rows as fragment rows g, the up's as g + 8: 32 output
// columns per consumer, packed boxes of 32 rows) and storing silu(gate) *
// up.
// CHECK-LABEL: func.func @swiglu(
// CHECK: llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c32_i64{{[_0-9]*}}, %c32_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_bf16_g0_nobias_bf16_64x64_s8_r40x232_x2_gate_silu blocks
// CHECK-SAME: args(%{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xbf16>, %{{.*}} : index, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?xbf16>)
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_bf16_g0_nobias_bf16_{{.*}}_gate_silu
func.func @swiglu(%x: tensor<256x512xbf16>, %wg: tensor<1024x512xi4>, %sg: tensor<1024xbf16>, %wu: tensor<1024x512xi4>, %su: tensor<1024xbf16>) -> tensor<256x1024xbf16> {
  %g = loom.qlinear %x, %wg, %sg : (tensor<256x512xbf16>, tensor<1024x512xi4>, tensor<1024xbf16>) -> tensor<256x1024xbf16>
  %u = loom.qlinear %x, %wu, %su : (tensor<256x512xbf16>, tensor<1024x512xi4>, tensor<1024xbf16>) -> tensor<256x1024xbf16>
  %a = loom.silu %g : (tensor<256x1024xbf16>) -> tensor<256x1024xbf16>
  %y = arith.mulf %a, %u : tensor<256x1024xbf16>
  return %y : tensor<256x1024xbf16>
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
// two consumers on 128 rows of x (M unknown), f16 scales.
// CHECK-LABEL: func.func @dynamic_m(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i4_f16_g64_nobias_bf16_16x64x64
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_w4a16_wgmma_f16_g64_nobias_bf16_128x128_s8_r40x232
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
// The kernels: every consumer warp releases a stage itself after its own
// wait (its warps read the weights with their own loads and drift apart),
// so a stage's `empty` barrier counts 4 arrivals per consumer warpgroup.
// CHECK: gpu.func @loom_w4a16_wgmma_bf16_g0_bf16_bf16_128x128_s8_r40x232_ep_addbf16(
// CHECK: nvgpu.mbarrier.init %{{.*}}[%c0], %c1 :
// CHECK: nvgpu.mbarrier.init %{{.*}}[%c8], %c8 :
// CHECK: gpu.func @loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232_x3(
// CHECK: nvgpu.mbarrier.init %{{.*}}[%c8], %c4 :
func.func @groups_f32_result(%x: tensor<512x256xbf16>, %w: tensor<512x256xi4>, %s: tensor<512x2xf32>) -> tensor<512x512xf32> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<512x256xbf16>, tensor<512x256xi4>, tensor<512x2xf32>) -> tensor<512x512xf32>
  return %y : tensor<512x512xf32>
}

// The dequantization: each packed row read 16 bytes at a time, a byte
// spread into a bf16 pair (prmt, its high nibble shifted down to bits
// 16..19: 0x4300 | u is 128 + u only while u stays in the 7-bit mantissa's
// low bits), then sub.rn.bf16x2 (136, 136) (per-column scales) and
// mul.rn.bf16x2 (group scales) into the registers of
// the wgmma's A operand; x from shared memory by descriptor (m64n64 for
// 64 rows of x, m64n128 for 128); pairs of steps with a wait for one
// group, an odd first step with a wait for all.
// PTX-DAG: .entry loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232(
// PTX-DAG: .entry loom_w4a16_wgmma_bf16_g0_bf16_bf16_128x128_s8_r40x232_ep_addbf16(
// PTX-DAG: .entry loom_w4a16_wgmma_f32_g128_nobias_bf16_64x64_s8_r40x232_x3(
// PTX-DAG: .entry loom_w4a16_wgmma_bf16_g0_nobias_bf16_64x64_s8_r40x232_x2_gate_silu(
// PTX-DAG: ld.shared.v4.b32
// PTX-DAG: prmt.b32
// PTX-DAG: shr.b32 e, d, 4;
// PTX-DAG: xor.b32 d, d, 0x43084308;
// PTX-DAG: sub.rn.bf16x2
// PTX-DAG: mul.rn.bf16x2
// PTX-DAG: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-DAG: wgmma.wait_group.sync.aligned 1
// PTX-DAG: wgmma.wait_group.sync.aligned 0

// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_w4a16_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
