// On sm_90a, loom.linear with bf16/f16 operands and M > 16 runs the
// warp-specialized wgmma GEMM (include/loom/GPU/Kernels/HopperGemmKernel.h)
// when the operands can be described by TMA tensor maps: 16-byte aligned
// bases and K a multiple of 8, checked on the host at run time (static K
// that is not a multiple of 8: the mma.sync kernel only). sm_80 has no
// wgmma. The kernels compile without spills or wgmma serialization (a
// build guard: ptxas -v on the PTX of every variant here).
//
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels)' | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_80})' | FileCheck %s --check-prefix=SM80
// REQUIRES: ptxas
// RUN: loom-compile %s --target=sm_90a --emit=ptx -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx --check-prefix=PTX
// RUN: %ptxas -arch=sm_90a -O3 -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS

// CHECK-LABEL: func.func @plain(
// The run-time choice: K % 8 and the bases' alignment.
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: scf.if
// The tensor maps of x and w: the runtime encodes (and caches) them: rows,
// columns, row stride, bf16 (9), 2 bytes, the box (128 x 64), 128-byte
// swizzle, 256-byte L2 promotion, zero fill.
// CHECK: %[[BX:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c9_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// CHECK: %[[BW:.*]] = llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c9_i64{{[_0-9]*}}, %c2_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c3_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}})
// Persistent: min(tiles, 132 SMs) CTAs of 384 threads. 128-wide tiles: 24
// of them fill the chip better than 12 of 256.
// CHECK: arith.minui %{{.*}}, %c132
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_128x128x64_s4_r56x224_g16 blocks in ({{.*}}) threads in (%c384{{.*}}) dynamic_shared_memory_size %c132096_i32 args(%[[BX]] : !llvm.ptr, %[[BW]] : !llvm.ptr
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16
// SM80-LABEL: func.func @plain(
// SM80-NOT: wgmma
// SM80: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16
func.func @plain(%x: tensor<512x1024xbf16>, %w: tensor<768x1024xbf16>) -> tensor<512x768xbf16> {
  %y = loom.linear %x, %w : (tensor<512x1024xbf16>, tensor<768x1024xbf16>) -> tensor<512x768xbf16>
  return %y : tensor<512x768xbf16>
}

// CHECK-LABEL: func.func @bias_f16(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_f16_f16_f16_128x128x64_s4_r56x224_g16
func.func @bias_f16(%x: tensor<300x264xf16>, %w: tensor<517x264xf16>, %b: tensor<517xf16>) -> tensor<300x517xf16> {
  %y = loom.linear %x, %w, %b : (tensor<300x264xf16>, tensor<517x264xf16>, tensor<517xf16>) -> tensor<300x517xf16>
  return %y : tensor<300x517xf16>
}

// A fused epilogue (SiLU, then a residual) rides along.
// CHECK-LABEL: func.func @epilogue(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_128x128x64_s4_r56x224_g16_ep_silu_addbf16
func.func @epilogue(%x: tensor<256x512xbf16>, %w: tensor<1024x512xbf16>, %r: tensor<256x1024xbf16>) -> tensor<256x1024xbf16> {
  %l = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<1024x512xbf16>) -> tensor<256x1024xbf16>
  %s = loom.silu %l : (tensor<256x1024xbf16>) -> tensor<256x1024xbf16>
  %o = arith.addf %s, %r : tensor<256x1024xbf16>
  return %o : tensor<256x1024xbf16>
}

// W8A8 and FP8 (qmatmul): 128 8-bit elements a K step, bytes in the tensor
// maps (data type 0), s32 or f32 products scaled by xs[m] * w_scale[n].
// CHECK-LABEL: func.func @int8(
// CHECK: llvm.call @loomCudaTensorMap2D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c0_i64{{[_0-9]*}}, %c1_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}},
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_i8_scaled_bf16_bf16_128x128x128_s4_r56x224_g16
func.func @int8(%xq: tensor<256x512xi8>, %xs: tensor<256xf32>, %w: tensor<1024x512xi8>, %ws: tensor<1024xf32>, %b: tensor<1024xbf16>) -> tensor<256x1024xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<256x512xi8>, tensor<256xf32>, tensor<1024x512xi8>, tensor<1024xf32>, tensor<1024xbf16>) -> tensor<256x1024xbf16>
  return %y : tensor<256x1024xbf16>
}
// CHECK-LABEL: func.func @fp8(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_f8E4M3FN_scaled_nobias_f32_128x128x128_s4_r56x224_g16
func.func @fp8(%xq: tensor<256x512xf8E4M3FN>, %xs: tensor<256xf32>, %w: tensor<1024x512xf8E4M3FN>, %ws: tensor<1024xf32>) -> tensor<256x1024xf32> {
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<256x512xf8E4M3FN>, tensor<256xf32>, tensor<1024x512xf8E4M3FN>, tensor<1024xf32>) -> tensor<256x1024xf32>
  return %y : tensor<256x1024xf32>
}

// Horizontal siblings sharing x (Q, K, V) are one persistent launch over
// all their tiles; a SwiGLU pair computes both products per tile (BN 128).
// CHECK-LABEL: func.func @qkv(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_128x128x64_s4_r56x224_g16_x3
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4_x3
func.func @qkv(%x: tensor<256x512xbf16>, %wq: tensor<512x512xbf16>, %wk: tensor<128x512xbf16>, %wv: tensor<128x512xbf16>) -> (tensor<256x512xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>) {
  %q = loom.linear %x, %wq : (tensor<256x512xbf16>, tensor<512x512xbf16>) -> tensor<256x512xbf16>
  %k = loom.linear %x, %wk : (tensor<256x512xbf16>, tensor<128x512xbf16>) -> tensor<256x128xbf16>
  %v = loom.linear %x, %wv : (tensor<256x512xbf16>, tensor<128x512xbf16>) -> tensor<256x128xbf16>
  return %q, %k, %v : tensor<256x512xbf16>, tensor<256x128xbf16>, tensor<256x128xbf16>
}

// CHECK-LABEL: func.func @swiglu(
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_bf16_bf16_128x128x64_s4_r56x224_g16_x2_gate_silu
func.func @swiglu(%x: tensor<256x512xbf16>, %wg: tensor<1408x512xbf16>, %wu: tensor<1408x512xbf16>, %bg: tensor<1408xbf16>, %bu: tensor<1408xbf16>) -> tensor<256x1408xbf16> {
  %g = loom.linear %x, %wg, %bg : (tensor<256x512xbf16>, tensor<1408x512xbf16>, tensor<1408xbf16>) -> tensor<256x1408xbf16>
  %u = loom.linear %x, %wu, %bu : (tensor<256x512xbf16>, tensor<1408x512xbf16>, tensor<1408xbf16>) -> tensor<256x1408xbf16>
  %a = loom.silu %g : (tensor<256x1408xbf16>) -> tensor<256x1408xbf16>
  %o = arith.mulf %a, %u : tensor<256x1408xbf16>
  return %o : tensor<256x1408xbf16>
}

// Many tiles: 512 of 128 x 256 take 4 waves of the 132 SMs, the 1024 of
// 128 x 128 would take 8; the wide tile wins (193 KiB of stages).
// CHECK-LABEL: func.func @large(
// CHECK: llvm.call @loomCudaTensorMap2D({{.*}}, %c256_i64{{[_0-9]*}}, %c64_i64{{[_0-9]*}},
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_wgmma_bf16_nobias_bf16_128x256x64_s4_r56x224_g16 blocks in ({{.*}}) threads in (%c384{{.*}}) dynamic_shared_memory_size %c197632_i32
func.func @large(%x: tensor<4096x64xbf16>, %w: tensor<4096x64xbf16>) -> tensor<4096x4096xbf16> {
  %y = loom.linear %x, %w : (tensor<4096x64xbf16>, tensor<4096x64xbf16>) -> tensor<4096x4096xbf16>
  return %y : tensor<4096x4096xbf16>
}

// K = 100: no tensor map can describe the rows; only the mma.sync kernel.
// CHECK-LABEL: func.func @k_unaligned(
// CHECK-NOT: wgmma
// CHECK: return
func.func @k_unaligned(%x: tensor<130x100xbf16>, %w: tensor<70x100xbf16>) -> tensor<130x70xbf16> {
  %y = loom.linear %x, %w : (tensor<130x100xbf16>, tensor<70x100xbf16>) -> tensor<130x70xbf16>
  return %y : tensor<130x70xbf16>
}

// Decode-sized products keep the GEMV.
// CHECK-LABEL: func.func @decode(
// CHECK-NOT: wgmma
// CHECK: gpu.launch_func @loom_kernels::@loom_gemv
func.func @decode(%x: tensor<4x1024xbf16>, %w: tensor<512x1024xbf16>) -> tensor<4x512xbf16> {
  %y = loom.linear %x, %w : (tensor<4x1024xbf16>, tensor<512x1024xbf16>) -> tensor<4x512xbf16>
  return %y : tensor<4x512xbf16>
}

// PTX-DAG: .entry loom_gemm_wgmma_bf16_nobias_bf16_128x256x64_s4_r56x224_g16(
// PTX-DAG: .entry loom_gemm_wgmma_bf16_nobias_bf16_128x128x64_s4_r56x224_g16(
// PTX-DAG: setmaxnreg.dec.sync.aligned.u32 56
// PTX-DAG: setmaxnreg.inc.sync.aligned.u32 224
// PTX-DAG: mbarrier.init.shared.b64
// PTX-DAG: fence.mbarrier_init.release.cluster
// PTX-DAG: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-DAG: mbarrier.arrive.expect_tx.shared.b64
// PTX-DAG: mbarrier.try_wait.parity.shared.b64
// PTX-DAG: wgmma.fence.sync.aligned
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16
// PTX-DAG: wgmma.commit_group.sync.aligned
// PTX-DAG: wgmma.wait_group.sync.aligned 1
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3
// PTX-DAG: .entry loom_gemm_wgmma_f16_f16_f16_128x128x64_s4_r56x224_g16(
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16

// No wgmma kernel (plain, bias + f16, epilogue, siblings, gated pair)
// spills or is serialized by ptxas (warnings C7510, C7511, C7515 would say
// so).
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
// PTXAS: Compiling entry function 'loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
// PTXAS: Compiling entry function 'loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: Function properties for loom_gemm_wgmma_{{.*}}
// PTXAS-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: C75{{[0-9][0-9]}}
