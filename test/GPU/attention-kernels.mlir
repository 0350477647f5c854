// loom-gpu-kernels on loom.attention and loom.block_sparse_attention: the ops
// the flash-attention kernel covers (bf16/f16, D = Dv a multiple of 16 up to
// 256, block sizes multiples of 16) become a launch of a kernel instantiated into
// @loom_kernels; the others are left for the generic path. The second RUN
// lowers the kernels to PTX and checks the tensor-core instructions.
// RUN: loom-opt %s --loom-gpu-kernels | FileCheck %s
// RUN: loom-opt %s --loom-gpu-kernels | loom-opt --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX

// CHECK: module attributes {gpu.container_module}

// Static GQA (Hq = 8, Hkv = 2), causal, bf16, D = 128: 128-row CTAs of 4
// warps (32 rows each), 32-key tiles, 2 * (128 + 8) * (128 + 4 * 32) bytes of
// shared memory; grid (max(B * Hq, 1), max(ceil(Sq / 128), 1), 1); Q, K and V
// are read-only buffers, the result a fresh buffer; the default scale
// 1/sqrt(128), positive, folded into the exp2 (_pscale).
// CHECK-LABEL: func.func @causal_gqa
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<2x8x256x128xbf16>, %[[K:[^:]*]]: tensor<2x2x256x128xbf16>, %[[V:[^:]*]]: tensor<2x2x256x128xbf16>)
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only
// CHECK-DAG: %[[QC:.*]] = memref.cast %[[QB]] : memref<2x8x256x128xbf16> to memref<?x?x?x?xbf16>
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]] read_only
// CHECK-DAG: %[[VB:.*]] = bufferization.to_buffer %[[V]] read_only
// CHECK-DAG: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x256x128xbf16>
// CHECK-DAG: %[[OC:.*]] = memref.cast %[[OUT]]
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.0883883461 : f32
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 69632 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_pscale blocks in (%[[GX:.*]], %[[GY:.*]], %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SMEM]] args(%[[QC]] : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %{{.*}} : memref<?x?x?x?xbf16>, %[[OC]] : memref<?x?x?x?xbf16>, %[[SCALE]] : f32)
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
func.func @causal_gqa(%q: tensor<2x8x256x128xbf16>, %k: tensor<2x2x256x128xbf16>, %v: tensor<2x2x256x128xbf16>) -> tensor<2x8x256x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x256x128xbf16>, tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>) -> tensor<2x8x256x128xbf16>
  return %o : tensor<2x8x256x128xbf16>
}

// The same configuration again reuses the kernel.
// CHECK-LABEL: func.func @same_kernel
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_pscale
func.func @same_kernel(%q: tensor<1x4x300x128xbf16>, %k: tensor<1x4x300x128xbf16>, %v: tensor<1x4x300x128xbf16>) -> tensor<1x4x300x128xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x4x300x128xbf16>, tensor<1x4x300x128xbf16>, tensor<1x4x300x128xbf16>) -> tensor<1x4x300x128xbf16>
  return %o : tensor<1x4x300x128xbf16>
}

// Dynamic shapes, f16, D = 64, window, softcap and scale: the sizes come from
// q at run time. On sm_90a the wgmma kernel (the window in its name, the
// softcap an argument) runs where the TMA can read q, k and v, the flash
// kernel (the window an argument) otherwise.
// CHECK-LABEL: func.func @dynamic_window_softcap
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x?x?x64xf16>
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: %[[H:.*]] = tensor.dim %[[Q]], %c1
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[Q]], %c2
// CHECK-DAG: %[[OUT:.*]] = memref.alloc(%[[B]], %[[H]], %[[S]]) {alignment = 64 : i64} : memref<?x?x?x64xf16>
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[CAP:.*]] = arith.constant 3.000000e+01 : f32
// CHECK-DAG: %[[W:.*]] = arith.constant 256 : index
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_f16_d64_m128_n128_s2_r24x240_causal_w256_softcap_pp blocks in ({{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %{{.*}} args({{.*}}, %[[SCALE]] : f32, %[[CAP]] : f32)
// CHECK: } else {
// CHECK: %[[BH:.*]] = arith.muli %[[B]], %[[H]] : index
// CHECK: %[[GX:.*]] = arith.maxui %[[BH]], %c1{{.*}} : index
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_f16_d64_m128_n32_w4_causal_window_softcap blocks in (%[[GX]], %{{.*}}, %{{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %{{.*}} args({{.*}}, %[[SCALE]] : f32, %[[CAP]] : f32, %[[W]] : index)
func.func @dynamic_window_softcap(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16> {
  %o = loom.attention %q, %k, %v {causal, window = 256 : i64, softcap = 30.0 : f32, scale = 0.25 : f32} : (tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16>
  return %o : tensor<?x?x?x64xf16>
}

// Without a mask and a dynamic query length: 128-row CTAs of 128 threads,
// 64-key tiles, 2 * (128 + 8) * (128 + 4 * 64) bytes of shared memory.
// CHECK-LABEL: func.func @dense_dynamic
// CHECK-DAG: %[[SMEM:.*]] = arith.constant 104448 : i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_pscale blocks in ({{.*}}) threads in (%c128{{[_0-9]*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SMEM]]
func.func @dense_dynamic(%q: tensor<1x4x?x128xbf16>, %k: tensor<1x4x?x128xbf16>, %v: tensor<1x4x?x128xbf16>) -> tensor<1x4x?x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x4x?x128xbf16>, tensor<1x4x?x128xbf16>, tensor<1x4x?x128xbf16>) -> tensor<1x4x?x128xbf16>
  return %o : tensor<1x4x?x128xbf16>
}

// A short static query takes 64-row CTAs of 4 warps of 16 rows (with more
// than 16 query rows per kv head, 8 heads x Sq 4 here; fewer take the
// split-KV decode kernels, decode-attention.mlir).
// CHECK-LABEL: func.func @short_query
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m64_n64_w4_pscale blocks
func.func @short_query(%q: tensor<4x8x4x64xbf16>, %k: tensor<4x1x1000x64xbf16>, %v: tensor<4x1x1000x64xbf16>) -> tensor<4x8x4x64xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<4x8x4x64xbf16>, tensor<4x1x1000x64xbf16>, tensor<4x1x1000x64xbf16>) -> tensor<4x8x4x64xbf16>
  return %o : tensor<4x8x4x64xbf16>
}

// Block-sparse with block_q = 64 (64-row CTAs of 4 warps x 16 rows),
// block_k = 128: the layout is a kernel argument (one byte per bit), with
// block_q and block_k.
// CHECK-LABEL: func.func @sparse
// CHECK-SAME: %[[L:[^:]*]]: tensor<1x8x4x2xi1>
// CHECK-DAG: %[[LB:.*]] = bufferization.to_buffer %[[L]] read_only : tensor<1x8x4x2xi1> to memref<1x8x4x2xi1>
// CHECK-DAG: %[[LC:.*]] = memref.cast %[[LB]] : memref<1x8x4x2xi1> to memref<?x?x?x?xi1>
// CHECK-DAG: %[[BQ:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[BK:.*]] = arith.constant 128 : index
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m64_n64_w4_causal_pscale_sparse blocks in ({{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %{{.*}} args({{.*}}, %[[LC]] : memref<?x?x?x?xi1>, %[[BQ]] : index, %[[BK]] : index, %{{.*}} : f32)
func.func @sparse(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x8x256x128xbf16>, %v: tensor<1x8x256x128xbf16>, %l: tensor<1x8x4x2xi1>) -> tensor<1x8x256x128xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 64 : i64, block_k = 128 : i64, causal} : (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x4x2xi1>) -> tensor<1x8x256x128xbf16>
  return %o : tensor<1x8x256x128xbf16>
}

// A negative scale is not folded (no _pscale): the row maxima are taken over
// the scaled scores. block_q = 128 gets 128-row CTAs of 4 warps x 32 rows.
// CHECK-LABEL: func.func @negative_scale
// CHECK: %[[NEG:.*]] = arith.constant -5.000000e-01 : f32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4 blocks {{.*}} args({{.*}}, %[[NEG]] : f32)
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_pscale_sparse blocks
func.func @negative_scale(%q: tensor<1x2x200x128xbf16>, %l: tensor<1x1x2x4xi1>) -> (tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>) {
  %o = loom.attention %q, %q, %q {scale = -0.5 : f32} : (tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>) -> tensor<1x2x200x128xbf16>
  %s = loom.block_sparse_attention %q, %q, %q, %l {block_q = 128 : i64, block_k = 64 : i64} : (tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x1x2x4xi1>) -> tensor<1x2x200x128xbf16>
  return %o, %s : tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>
}

// Head dims other than 64 and 128, any multiple of 16 up to 256, on sm_90a
// the wgmma kernel: D 80 and 96 in two 64-column panels (the columns past D
// zero-filled by the TMA: shared memory 1024 + (128 + 2 * 2 * 128) rows *
// 128 * 2 bytes = 164864, as for D 128), D 256 with 80-key tiles and 192
// with 64-key tiles;
// each with its flash fallback where the TMA cannot read the operands: D
// 80 and 96 (rows of 10 and 12 16-byte chunks, which the 128 threads copy
// chunk by chunk; shared memory 2 (D + 8) (rows + 4 keys) bytes: 2 * 88 *
// (128 + 4 * 32) = 45056 for D 80), D 256 with one m-tile a warp (64-row
// CTAs). D 16 (below a panel) takes the flash kernel only.
// CHECK-LABEL: func.func @head_dims
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d80_m128_n128_s2_r24x240_causal_pscale_pp {{.*}} dynamic_shared_memory_size %c164864_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d80_m128_n32_w4_causal_pscale {{.*}} dynamic_shared_memory_size %c45056_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_f16_d96_m128_n128_s2_r24x240_pscale_pp {{.*}} dynamic_shared_memory_size %c164864_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_f16_d96_m128_n64_w4_pscale {{.*}} dynamic_shared_memory_size %c79872_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d256_m128_n80_s2_r24x240_causal_pscale_pp
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d256_m64_n32_w4_causal_pscale {{.*}} dynamic_shared_memory_size %c101376_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d192_m128_n64_s2_r24x240_pscale_pp
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_f16_d16_m128_n64_w4_pscale
// CHECK-NOT: loom.attention
// CHECK: return
func.func @head_dims(%q80: tensor<2x8x300x80xbf16>, %k80: tensor<2x2x300x80xbf16>, %q96: tensor<1x4x300x96xf16>, %q256: tensor<1x4x300x256xbf16>, %q192: tensor<1x4x300x192xbf16>, %q16: tensor<1x4x300x16xf16>) -> (tensor<2x8x300x80xbf16>, tensor<1x4x300x96xf16>, tensor<1x4x300x256xbf16>, tensor<1x4x300x192xbf16>, tensor<1x4x300x16xf16>) {
  %a = loom.attention %q80, %k80, %k80 {causal} : (tensor<2x8x300x80xbf16>, tensor<2x2x300x80xbf16>, tensor<2x2x300x80xbf16>) -> tensor<2x8x300x80xbf16>
  %b = loom.attention %q96, %q96, %q96 : (tensor<1x4x300x96xf16>, tensor<1x4x300x96xf16>, tensor<1x4x300x96xf16>) -> tensor<1x4x300x96xf16>
  %c = loom.attention %q256, %q256, %q256 {causal} : (tensor<1x4x300x256xbf16>, tensor<1x4x300x256xbf16>, tensor<1x4x300x256xbf16>) -> tensor<1x4x300x256xbf16>
  %d = loom.attention %q192, %q192, %q192 : (tensor<1x4x300x192xbf16>, tensor<1x4x300x192xbf16>, tensor<1x4x300x192xbf16>) -> tensor<1x4x300x192xbf16>
  %e = loom.attention %q16, %q16, %q16 : (tensor<1x4x300x16xf16>, tensor<1x4x300x16xf16>, tensor<1x4x300x16xf16>) -> tensor<1x4x300x16xf16>
  return %a, %b, %c, %d, %e : tensor<2x8x300x80xbf16>, tensor<1x4x300x96xf16>, tensor<1x4x300x256xbf16>, tensor<1x4x300x192xbf16>, tensor<1x4x300x16xf16>
}

// Small blocks: block_k 32 takes 32-key tiles (64-row CTAs for block_q
// 64); block_q 16 and 32 take CTAs of 1 and 2 warps (16 and 32 rows), with
// 16-key tiles for block_k 16. Shared memory 2 (D + 8) (rows + 4 keys):
// 2 * 72 * (16 + 64) = 11520 bytes for the 16-row CTA.
// CHECK-LABEL: func.func @small_blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m64_n32_w4_pscale_sparse blocks {{.*}} threads in (%c128
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m16_n16_w1_causal_pscale_sparse blocks {{.*}} threads in (%c32{{.*}}) dynamic_shared_memory_size %c11520_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_f16_d128_m32_n16_w2_pscale_sparse blocks {{.*}} threads in (%c64
// CHECK-NOT: loom.block_sparse_attention
// CHECK: return
func.func @small_blocks(%q: tensor<1x2x128x64xbf16>, %l32: tensor<1x1x2x4xi1>, %l16: tensor<1x2x8x8xi1>, %q2: tensor<1x2x100x128xf16>, %l2: tensor<1x2x4x7xi1>) -> (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x100x128xf16>) {
  %a = loom.block_sparse_attention %q, %q, %q, %l32 {block_q = 64 : i64, block_k = 32 : i64} : (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x1x2x4xi1>) -> tensor<1x2x128x64xbf16>
  %b = loom.block_sparse_attention %q, %q, %q, %l16 {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x8x8xi1>) -> tensor<1x2x128x64xbf16>
  %c = loom.block_sparse_attention %q2, %q2, %q2, %l2 {block_q = 32 : i64, block_k = 16 : i64} : (tensor<1x2x100x128xf16>, tensor<1x2x100x128xf16>, tensor<1x2x100x128xf16>, tensor<1x2x4x7xi1>) -> tensor<1x2x100x128xf16>
  return %a, %b, %c : tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x100x128xf16>
}

// Outside the tensor-core kernels' reach: f32, which takes the split-KV
// kernels' chunked form (a fused SIMT kernel: 16 query rows of a head a
// CTA, split over the keys, then the combine kernel); D = 72 (not a
// multiple of 16), D != Dv, a block_q of 8 (not a multiple of the mma's 16
// rows), left alone for the generic path.
// CHECK-LABEL: func.func @unsupported
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_attention_f32_d64_g1_sq16_chunked blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_decode_combine_f32_d64_g1_sq16_chunked blocks
// CHECK-NOT: gpu.launch_func
// CHECK: loom.attention {{.*}} -> tensor<1x2x16x72xbf16>
// CHECK: loom.attention {{.*}} -> tensor<1x2x16x64xbf16>
// CHECK: loom.block_sparse_attention {{.*}} -> tensor<1x2x128x64xbf16>
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @unsupported(%q: tensor<1x2x16x64xf32>, %q2: tensor<1x2x16x72xbf16>, %k3: tensor<1x2x16x128xbf16>, %v3: tensor<1x2x16x64xbf16>, %q3: tensor<1x2x16x128xbf16>, %q4: tensor<1x2x128x64xbf16>, %l4: tensor<1x1x16x2xi1>) -> (tensor<1x2x16x64xf32>, tensor<1x2x16x72xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x128x64xbf16>) {
  %a = loom.attention %q, %q, %q : (tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32>
  %b = loom.attention %q2, %q2, %q2 : (tensor<1x2x16x72xbf16>, tensor<1x2x16x72xbf16>, tensor<1x2x16x72xbf16>) -> tensor<1x2x16x72xbf16>
  %c = loom.attention %q3, %k3, %v3 : (tensor<1x2x16x128xbf16>, tensor<1x2x16x128xbf16>, tensor<1x2x16x64xbf16>) -> tensor<1x2x16x64xbf16>
  %d = loom.block_sparse_attention %q4, %q4, %q4, %l4 {block_q = 8 : i64, block_k = 64 : i64} : (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x1x16x2xi1>) -> tensor<1x2x128x64xbf16>
  return %a, %b, %c, %d : tensor<1x2x16x64xf32>, tensor<1x2x16x72xbf16>, tensor<1x2x16x64xbf16>, tensor<1x2x128x64xbf16>
}

// The instantiated kernels: each once, double-buffered cp.async tiles in
// dynamic shared memory (plain copies for tiles wholly inside the keys),
// ldmatrix (transposed for V), mma.sync on the element type with f32
// accumulators, an online softmax with quad shuffles in an scf.while over the
// visible key tiles. With 2 m-tiles per warp and D = 128 the Q fragments are
// read from shared memory inside the loop; with a positive scale the exp2
// argument is one fma.
// CHECK: gpu.module @loom_kernels
// CHECK: gpu.func @loom_attention_bf16_d128_m128_n32_w4_causal_pscale(%{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: f32) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvgpu.device_async_copy
// CHECK: scf.while
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy {{.*}}, 8 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: } else {
// CHECK: nvgpu.device_async_copy {{.*}}, 8, %{{.*}} {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 1
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>
// CHECK: gpu.shuffle xor
// CHECK: llvm.intr.fma
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: gpu.func @loom_attention_f16_d64_m128_n32_w4_causal_window_softcap(
// CHECK-SAME: %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: index) kernel
// CHECK: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: math.tanh
// CHECK-NOT: llvm.intr.fma
// CHECK: gpu.func @loom_attention_bf16_d128_m128_n64_w4_pscale(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: gpu.func @loom_attention_bf16_d64_m64_n64_w4_pscale(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: gpu.func @loom_attention_bf16_d128_m64_n64_w4_causal_pscale_sparse(
// CHECK-SAME: %{{.*}}: memref<?x?x?x?xi1>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: f32) kernel
// CHECK: memref.load %{{.*}} : memref<?x?x?x?xi1>
// CHECK: gpu.func @loom_attention_bf16_d128_m128_n64_w4(
// CHECK-NOT: llvm.intr.fma
// CHECK: gpu.func @loom_attention_bf16_d128_m128_n64_w4_pscale_sparse(
// CHECK-NOT: gpu.func @loom_attention_bf16_d128_m128_n32_w4_causal_pscale(

// The .entry points and the tensor-core instructions in the PTX (the exp2
// argument's fma is the LLVM intrinsic: one fma.rn.f32, with or without
// libdevice).
// PTX-DAG: .entry loom_attention_bf16_d128_m128_n32_w4_causal_pscale(
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ex2.approx.ftz.f32
// PTX-DAG: fma.rn.f32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-DAG: .entry loom_attention_f16_d64_m128_n32_w4_causal_window_softcap(
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
