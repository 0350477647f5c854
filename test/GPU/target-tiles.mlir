// The target description drives the kernels' tiles: without `tiles` each
// recipe chooses (DEFAULT); `tiles=attention:QxKV,gemm:MxNxK[xSTAGES],rows:T`
// replaces the choice for every op a recipe covers, and the kernel name, the
// launch grid, the block size and the dynamic shared memory change with it
// (T1, T2). The pipeline passes `tiles` on to loom-gpu-kernels (PIPE), and
// the kernels of non-default tiles lower to PTX with the tensor-core
// instructions (PTX). Rejected tiles: target-tiles-{shapes,limits,sm80,
// gemm-limits,malformed}.mlir.
//
// RUN: loom-opt %s --loom-gpu-kernels --canonicalize | FileCheck %s --check-prefix=DEFAULT
// RUN: loom-opt %s '--loom-gpu-kernels=chip=sm_90a tiles=attention:64x64,gemm:64x128x64x3,rows:128' --canonicalize | FileCheck %s --check-prefix=T1
// RUN: loom-opt %s '--loom-gpu-kernels=chip=sm_90a tiles=rows:32,gemm:32x32x32,attention:128x128' --canonicalize | FileCheck %s --check-prefix=T2
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a tiles=attention:64x64,gemm:64x128x64x3,rows:128 to-llvm=false' | FileCheck %s --check-prefix=PIPE
// RUN: loom-opt %s '--loom-gpu-kernels=chip=sm_90a tiles=attention:64x64,gemm:64x128x64x3,rows:128' | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// Causal, D = 128: 128 x 32 by default (4 x 8 CTAs, 2 * 136 * (128 + 4 * 32)
// bytes); 64 x 64 (8 x 8 CTAs, 2 * 136 * (64 + 256)); 128 x 128 (170 KiB,
// more than sm_80 has: target-tiles-sm80.mlir).
// DEFAULT-LABEL: func.func @attention
// DEFAULT: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_pscale blocks in (%c8, %c4, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c69632_i32
// T1-LABEL: func.func @attention
// T1: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m64_n64_w4_causal_pscale blocks in (%c8, %c8, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c87040_i32
// T2-LABEL: func.func @attention
// T2: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n128_w4_causal_pscale blocks in (%c8, %c4, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c174080_i32
func.func @attention(%q: tensor<1x8x512x128xbf16>, %k: tensor<1x8x512x128xbf16>, %v: tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16>
  return %o : tensor<1x8x512x128xbf16>
}

// A short query: 64 x 64 by default (and with T1); T2's 128 x 128.
// DEFAULT-LABEL: func.func @decode
// DEFAULT: gpu.launch_func @loom_kernels::@loom_attention_f16_d64_m64_n64_w4_pscale blocks in (%c8, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c46080_i32
// T1-LABEL: func.func @decode
// T1: gpu.launch_func @loom_kernels::@loom_attention_f16_d64_m64_n64_w4_pscale blocks in (%c8, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c46080_i32
// T2-LABEL: func.func @decode
// T2: gpu.launch_func @loom_kernels::@loom_attention_f16_d64_m128_n128_w4_pscale blocks in (%c8, %c1, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c92160_i32
func.func @decode(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x1024x64xf16>, %v: tensor<1x8x1024x64xf16>) -> tensor<1x8x16x64xf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x8x16x64xf16>, tensor<1x8x1024x64xf16>, tensor<1x8x1024x64xf16>) -> tensor<1x8x16x64xf16>
  return %o : tensor<1x8x16x64xf16>
}

// Block-sparse, blocks of 256 x 128: any tile that divides them.
// DEFAULT-LABEL: func.func @sparse
// DEFAULT: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n64_w4_pscale_sparse blocks in (%c2, %c4, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c55296_i32
// T1-LABEL: func.func @sparse
// T1: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m64_n64_w4_pscale_sparse blocks in (%c2, %c8, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c46080_i32
// T2-LABEL: func.func @sparse
// T2: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m128_n128_w4_pscale_sparse blocks in (%c2, %c4, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c92160_i32
func.func @sparse(%q: tensor<1x2x512x64xbf16>, %l: tensor<1x1x2x4xi1>) -> tensor<1x2x512x64xbf16> {
  %o = loom.block_sparse_attention %q, %q, %q, %l {block_q = 256 : i64, block_k = 128 : i64} : (tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x1x2x4xi1>) -> tensor<1x2x512x64xbf16>
  return %o : tensor<1x2x512x64xbf16>
}

// 256 x 384 bf16: 128 x 128 x 32, 4 stages, 2 x 4 warps by default (3 x 2
// blocks, 4 * 128 * 80 * 2 bytes); 64 x 128 x 64 with 3 stages (3 x 4
// blocks, 3 * (64 + 128) * 144 bytes); 32 x 32 x 32 with 2 x 2 warps and
// the default 4 stages (12 x 8 blocks).
// DEFAULT-LABEL: func.func @linear
// DEFAULT: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4 blocks in (%c3, %c2, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %c81920_i32
// T1-LABEL: func.func @linear
// T1: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_64x128x64_w2x4_s3 blocks in (%c3, %c4, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %c82944_i32
// T2-LABEL: func.func @linear
// T2: gpu.launch_func @loom_kernels::@loom_gemm_linear_bf16_bf16_nobias_bf16_32x32x32_w2x2_s4 blocks in (%c12, %c8, %c1) threads in (%c128, %c1, %c1) dynamic_shared_memory_size %c20480_i32
func.func @linear(%x: tensor<256x512xbf16>, %w: tensor<384x512xbf16>) -> tensor<256x384xbf16> {
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<384x512xbf16>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// A dynamic M: decode-sized products (M <= 16) keep the GEMV recipe, the
// others take the requested tile.
// DEFAULT-LABEL: func.func @linear_dynamic
// DEFAULT: gpu.launch_func @loom_kernels::@loom_gemv_linear_f16_f16_nobias_f16_r2_w8x2_u1
// DEFAULT: gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_128x128x32_w2x4_s4
// T1-LABEL: func.func @linear_dynamic
// T1: gpu.launch_func @loom_kernels::@loom_gemv_linear_f16_f16_nobias_f16_r2_w8x2_u1
// T1: gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_64x128x64_w2x4_s3
// T2-LABEL: func.func @linear_dynamic
// T2: gpu.launch_func @loom_kernels::@loom_gemv_linear_f16_f16_nobias_f16_r2_w8x2_u1
// T2: gpu.launch_func @loom_kernels::@loom_gemm_linear_f16_f16_nobias_f16_32x32x32_w2x2_s4
func.func @linear_dynamic(%x: tensor<?x512xf16>, %w: tensor<384x512xf16>) -> tensor<?x384xf16> {
  %y = loom.linear %x, %w : (tensor<?x512xf16>, tensor<384x512xf16>) -> tensor<?x384xf16>
  return %y : tensor<?x384xf16>
}

// C = 512 bf16 (64 vectors): a warp per row, 4 rows per block, by default
// and with rows:32; rows:128 takes a row per 128-thread block, one vector
// per thread in registers.
// DEFAULT-LABEL: func.func @rms_norm
// DEFAULT: gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_t32_r4_v2 blocks in (%c32, %c1, %c1) threads in (%c32, %c4, %c1)
// T1-LABEL: func.func @rms_norm
// T1: gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_t128_r1_v1 blocks in (%c128, %c1, %c1) threads in (%c128, %c1, %c1)
// T2-LABEL: func.func @rms_norm
// T2: gpu.launch_func @loom_kernels::@loom_rms_norm_bf16_t32_r4_v2 blocks in (%c32, %c1, %c1) threads in (%c32, %c4, %c1)
func.func @rms_norm(%x: tensor<128x512xbf16>, %g: tensor<512xbf16>) -> tensor<128x512xbf16> {
  %y = loom.rms_norm %x, %g : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

// A dynamic C: by default a run-time choice between a warp and 256 threads
// per row; with a row tile, that one kernel (streaming).
// DEFAULT-LABEL: func.func @layer_norm
// DEFAULT: scf.if
// DEFAULT: gpu.launch_func @loom_kernels::@loom_layer_norm_f32_t32_r4_v0
// DEFAULT: gpu.launch_func @loom_kernels::@loom_layer_norm_f32_t256_r1_v0
// T1-LABEL: func.func @layer_norm
// T1-NOT: scf.if
// T1: gpu.launch_func @loom_kernels::@loom_layer_norm_f32_t128_r1_v0 blocks in (%{{.*}}, %c1, %c1) threads in (%c128, %c1, %c1)
// T1-NOT: gpu.launch_func
// T1: return
// T2-LABEL: func.func @layer_norm
// T2-NOT: scf.if
// T2: gpu.launch_func @loom_kernels::@loom_layer_norm_f32_t32_r4_v0 blocks in (%{{.*}}, %c1, %c1) threads in (%c32, %c4, %c1)
// T2-NOT: gpu.launch_func
// T2: return
func.func @layer_norm(%x: tensor<?x?xf32>, %g: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?x?xf32> {
  %y = loom.layer_norm %x, %g, %b : (tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// RoPE: 1 * 8 * 128 rows of 4 vector pairs, 256 threads per block by
// default (16 blocks), 128 (32 blocks) or 32 (128 blocks) with a row tile.
// DEFAULT-LABEL: func.func @rope
// DEFAULT: gpu.launch_func @loom_kernels::@loom_rope_half_bf16 blocks in (%c16, %c1, %c1) threads in (%c256, %c1, %c1)
// T1-LABEL: func.func @rope
// T1: gpu.launch_func @loom_kernels::@loom_rope_half_bf16_t128 blocks in (%c32, %c1, %c1) threads in (%c128, %c1, %c1)
// T2-LABEL: func.func @rope
// T2: gpu.launch_func @loom_kernels::@loom_rope_half_bf16_t32 blocks in (%c128, %c1, %c1) threads in (%c32, %c1, %c1)

func.func @rope(%x: tensor<1x8x128x64xbf16>, %c: tensor<128x32xf32>, %s: tensor<128x32xf32>) -> tensor<1x8x128x64xbf16> {
  %y = loom.rope %x, %c, %s {style = "half"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  return %y : tensor<1x8x128x64xbf16>
}

// The kernels of the pipeline's tiles, outlined into @loom_kernels (the
// fusion groups of loom-fuse may add suffixes, e.g. _strided).
// PIPE-DAG: gpu.func @loom_attention_bf16_d128_m64_n64_w4_causal_pscale{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_attention_bf16_d64_m64_n64_w4_pscale_sparse{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_gemm_linear_bf16_bf16_nobias_bf16_64x128x64_w2x4_s3{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_gemm_linear_f16_f16_nobias_f16_64x128x64_w2x4_s3{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_rms_norm_bf16_t128_r1_v1{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_layer_norm_f32_t128_r1_v0{{(_[a-z0-9_]+)?}}(
// PIPE-DAG: gpu.func @loom_rope_half_bf16_t128{{(_[a-z0-9_]+)?}}(

// PTX-DAG: .entry loom_attention_bf16_d128_m64_n64_w4_causal_pscale(
// PTX-DAG: .entry loom_gemm_linear_bf16_bf16_nobias_bf16_64x128x64_w2x4_s3(
// PTX-DAG: .entry loom_rope_half_bf16_t128(
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: cp.async.cg.shared.global
