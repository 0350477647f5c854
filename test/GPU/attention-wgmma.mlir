// loom-gpu-kernels on sm_90a: attention that the flash kernel covers, with
// no window, softcap, block-sparse layout or requested tile and more than
// 64 query rows, takes the wgmma kernel (HopperAttentionKernel.h) where the
// TMA can read q, k and v (16-byte aligned starts and strides, no empty
// dimension: checked at run time), the flash kernel otherwise. The tensor
// maps are encoded by the runtime (loomCudaTensorMap4D, cached). The second
// RUN lowers the kernels to PTX; the third shows sm_80 keeps the flash
// kernel alone.
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_90a" | FileCheck %s
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_90a" | loom-opt -split-input-file --pass-pipeline='builtin.module(nvvm-attach-target{chip=sm_90a features=+ptx80},gpu.module(convert-nvgpu-to-nvvm,convert-scf-to-cf,expand-strided-metadata,convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,canonicalize,cse),reconcile-unrealized-casts,gpu-module-to-binary{format=isa})' | FileCheck %s --check-prefix=PTX
// RUN: loom-opt %s -split-input-file --loom-gpu-kernels="chip=sm_80" | FileCheck %s --check-prefix=SM80

// Static GQA (Hq 8, Hkv 2), bf16, D 128, Sq = Skv = 300 (not a multiple of
// any tile): 128-row CTAs of 384 threads (a producer warpgroup, two
// consumers) on a linear grid of B Hq ceil(Sq / 128) blocks, 128-key tiles, 1024 + 32 KiB (Q) + 2 stages x 2 x 32 KiB (K,
// V) of shared memory; boxes of 128 rows x 64 columns.
// CHECK-LABEL: func.func @gqa
// CHECK:       memref.extract_strided_metadata
// CHECK:       scf.if %{{.*}} {
// CHECK:         %[[QM:.*]] = llvm.call @loomCudaTensorMap4D(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BF16:.*]], %[[TWO:.*]], %[[BOX:.*]], %[[SIXTYFOUR:.*]], %[[SW:.*]], %{{.*}}, %{{.*}})
// CHECK:         %[[KM:.*]] = llvm.call @loomCudaTensorMap4D(
// CHECK:         %[[VM:.*]] = llvm.call @loomCudaTensorMap4D(
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_pscale_pp blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c384, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %{{.*}} args(%[[QM]] : !llvm.ptr, %[[KM]] : !llvm.ptr, %[[VM]] : !llvm.ptr,
// CHECK:       } else {
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_pscale blocks
// CHECK:       }
// CHECK:       return
// CHECK:       gpu.func @loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_pscale_pp(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: memref<?x?x?x?xbf16>, %{{.*}}: f32) kernel attributes {known_block_size = array<i32: 384, 1, 1>, nvvm.minctasm = 1 : i32}
// Barriers: Q full, then per stage K full, V full, empty.
// CHECK:         nvgpu.mbarrier.create -> <memorySpace = #gpu.address_space<workgroup>, num_barriers = 7>
// The producer: registers given away, Q's two panels, then per key tile
// K's and V's panels, each on its own barrier.
// CHECK:         nvvm.setmaxregister  decrease 24
// CHECK:         nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%{{.*}}], %c32768
// CHECK-COUNT-2: nvgpu.tma.async.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}], %{{.*}}[%{{.*}}] to %{{.*}} : <tensor = memref<1x1x128x64xbf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b
// CHECK:         scf.for
// CHECK:           nvgpu.mbarrier.try_wait.parity
// CHECK:           nvgpu.mbarrier.arrive.expect_tx
// CHECK-COUNT-2:   nvgpu.tma.async.load
// CHECK:           nvgpu.mbarrier.arrive.expect_tx
// CHECK-COUNT-2:   nvgpu.tma.async.load
// The consumers take turns on the tensor cores (named barriers 1 and 2 of
// 256 threads; warpgroup 1 gives warpgroup 0 the first turn): tile 0's S =
// Q K^T as 8 m64n128k16 products from shared memory, the softmax; then per
// tile j its P V (8 m64n128k16 products with P in registers, V N-major)
// and S of tile j + 1 in one turn, the stage released once both are done;
// the last tile's P V after the loop.
// CHECK:         nvvm.setmaxregister  increase 240
// CHECK:         scf.if
// CHECK:           nvgpu.mbarrier.try_wait.parity %{{.*}}[%c0]
// CHECK:           nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// CHECK:           nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32
// CHECK:           nvvm.wgmma.fence.aligned
// CHECK-COUNT-8:   nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK:           nvvm.wgmma.commit.group.sync.aligned
// CHECK:           nvvm.barrier.arrive
// CHECK:           nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:           scf.for
// CHECK:             nvvm.barrier id
// CHECK:             nvvm.wgmma.fence.aligned
// CHECK-COUNT-8:     llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// CHECK:             nvvm.wgmma.commit.group.sync.aligned
// CHECK:             nvvm.wgmma.fence.aligned
// CHECK-COUNT-8:     nvvm.wgmma.mma_async
// CHECK:             nvvm.wgmma.commit.group.sync.aligned
// CHECK:             nvvm.barrier.arrive
// CHECK:             nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:             nvgpu.mbarrier.arrive
// CHECK:           nvvm.barrier id
// CHECK-COUNT-8:   llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK:           nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:           nvgpu.mbarrier.arrive
// CHECK:       llvm.func @loomCudaTensorMap4D(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> !llvm.ptr
// PTX: .entry loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_pscale_pp(
// PTX-SAME: .maxntid 384, 1, 1\0A.minnctapersm 1\0A
// PTX-DAG: setmaxnreg.dec.sync.aligned.u32 {{[^;]*}}24;
// PTX-DAG: setmaxnreg.inc.sync.aligned.u32 {{[^;]*}}240;
// PTX-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-DAG: bar.arrive {{[^;]*}}, 256;
// PTX-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}, p, 1, 1, 1;
// SM80-LABEL: func.func @gqa
// SM80-NOT:   wgmma
// SM80:       gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_pscale blocks
// SM80-NOT:   wgmma
func.func @gqa(%q: tensor<2x8x300x128xbf16>, %k: tensor<2x2x300x128xbf16>, %v: tensor<2x2x300x128xbf16>) -> tensor<2x8x300x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<2x8x300x128xbf16>, tensor<2x2x300x128xbf16>, tensor<2x2x300x128xbf16>) -> tensor<2x8x300x128xbf16>
  return %o : tensor<2x8x300x128xbf16>
}

// -----

// Dynamic sizes, f16, D 64, causal, a negative scale (not folded into the
// exp2), with the log-sum-exp result: the kernel writes both; one panel of
// Q (16 KiB) and of each K and V tile.
// CHECK-LABEL: func.func @dynamic_causal_lse
// CHECK:       scf.if
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_wgmma_f16_d64_m128_n128_s2_r24x240_causal_lse_pp blocks
// CHECK-SAME:      memref<?x?x?xf32>)
// CHECK:       } else {
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_f16_d64_m128_n32_w4_causal_lse blocks
// CHECK:       gpu.func @loom_attention_wgmma_f16_d64_m128_n128_s2_r24x240_causal_lse_pp(
// CHECK-SAME:    %{{.*}}: f32, %{{.*}}: memref<?x?x?xf32>)
// CHECK:         nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%{{.*}}], %c16384
// CHECK-COUNT-4:   nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// CHECK-COUNT-8:   llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// PTX: .entry loom_attention_wgmma_f16_d64_m128_n128_s2_r24x240_causal_lse_pp(
func.func @dynamic_causal_lse(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>) -> (tensor<?x?x?x64xf16>, tensor<?x?x?xf32>) {
  %o, %lse = loom.attention %q, %k, %v {causal, scale = -0.125 : f32} : (tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) -> (tensor<?x?x?x64xf16>, tensor<?x?x?xf32>)
  return %o, %lse : tensor<?x?x?x64xf16>, tensor<?x?x?xf32>
}

// -----

// Forms the wgmma kernel does not take keep the flash kernel alone: a short
// static query (64 rows), a block-sparse layout whose query blocks (64)
// are smaller than the wgmma kernel's 128-row CTAs.
// CHECK-LABEL: func.func @flash_only
// CHECK-NOT:   wgmma
// CHECK:       return
func.func @flash_only(%q: tensor<1x4x256x128xbf16>, %k: tensor<1x4x256x128xbf16>, %v: tensor<1x4x256x128xbf16>,
                      %qs: tensor<1x4x64x128xbf16>, %layout: tensor<1x1x4x2xi1>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x256x128xbf16>) {
  %c = loom.attention %qs, %k, %v : (tensor<1x4x64x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>) -> tensor<1x4x64x128xbf16>
  %d = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 128 : i64} : (tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x1x4x2xi1>) -> tensor<1x4x256x128xbf16>
  return %c, %d : tensor<1x4x64x128xbf16>, tensor<1x4x256x128xbf16>
}

// -----

// Block-sparse with block_q a multiple of 128 takes the wgmma kernel, its
// key tiles a divisor of block_k (64 here, for D 128). The launch adds the
// visible-tile list (4 bytes a key tile of Skv, plus the count) to the
// shared memory and keeps the flash kernel where that exceeds the chip's
// 227 KiB; the layout, block_q and block_k come last. In the kernel, warp 0
// reads one layout entry a lane for 32 key tiles at a time, votes, and
// writes the set tiles' indices at their ballot rank; after the block's
// barrier every warpgroup reads the count, and the producer loads the
// listed tiles only.
// CHECK-LABEL: func.func @sparse
// CHECK:       %[[LIST:.*]] = arith.addi %{{.*}}, %c4{{.*}} : index
// CHECK:       %[[SMEM:.*]] = arith.addi %c99328, %[[LIST]] : index
// CHECK:       %[[FITS:.*]] = arith.cmpi ule, %[[SMEM]], %c232448 : index
// CHECK:       %[[OK:.*]] = arith.andi %{{.*}}, %[[FITS]] : i1
// CHECK:       scf.if %[[OK]] {
// CHECK:         %[[BYTES:.*]] = arith.index_cast %[[SMEM]] : index to i32
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n64_s2_r24x240_causal_pscale_sparse_pp blocks in ({{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %[[BYTES]] args({{.*}}, %{{.*}} : f32, %{{.*}} : memref<?x?x?x?xi1>, %c128{{.*}} : index, %c64{{.*}} : index)
// CHECK:       } else {
// CHECK:         gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_causal_pscale_sparse blocks
// CHECK:       gpu.func @loom_attention_wgmma_bf16_d128_m128_n64_s2_r24x240_causal_pscale_sparse_pp(
// CHECK-SAME:    %{{.*}}: f32, %{{.*}}: memref<?x?x?x?xi1>, %{{.*}}: index, %{{.*}}: index)
// CHECK:         %[[TL:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<65536xi32, #gpu.address_space<workgroup>>
// CHECK:         scf.for {{.*}} iter_args(%[[COUNT:.*]] = %{{.*}}) -> (i32) {
// CHECK:           memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x?x?xi1>
// CHECK:           %[[MASK:.*]] = nvvm.vote.sync  ballot %c-1_i32, %{{.*}} -> i32
// CHECK:           llvm.intr.ctpop
// CHECK:           llvm.intr.ctpop(%[[MASK]])
// CHECK:           memref.store %{{.*}}, %[[TL]][%{{.*}}] : memref<65536xi32, #gpu.address_space<workgroup>>
// CHECK:         memref.store %{{.*}}, %[[TL]][%c0{{.*}}]
// CHECK:         gpu.barrier
// CHECK:         memref.load %[[TL]][%c0{{.*}}]
// CHECK:         nvvm.setmaxregister  decrease 24
// CHECK:         scf.for
// CHECK:           memref.load %[[TL]]
// CHECK:           nvgpu.tma.async.load
// PTX: .entry loom_attention_wgmma_bf16_d128_m128_n64_s2_r24x240_causal_pscale_sparse_pp(
// PTX: vote.sync.ballot.b32
// PTX: popc.b32
// SM80-LABEL: func.func @sparse
// SM80-NOT:   wgmma
// SM80:       return
func.func @sparse(%q: tensor<1x4x256x128xbf16>, %k: tensor<1x4x256x128xbf16>, %v: tensor<1x4x256x128xbf16>, %layout: tensor<1x1x2x4xi1>) -> tensor<1x4x256x128xbf16> {
  %d = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 128 : i64, block_k = 64 : i64, causal} : (tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x1x2x4xi1>) -> tensor<1x4x256x128xbf16>
  return %d : tensor<1x4x256x128xbf16>
}

// -----

// A softcap and a window take the wgmma kernel (the flash kernel stays the
// fallback): the softcap an f32 argument after the scale (scores
// c * tanh(s / c), so the scale is not folded), the window in the kernel's
// name; only the window's key tiles are loaded.
// CHECK-LABEL: func.func @softcap_and_window
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_softcap_pp {{.*}}, %{{.*}} : f32, %{{.*}} : f32)
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n64_w4_softcap blocks
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_pscale_pp {{.*}}, %{{.*}} : f32)
// CHECK: } else {
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n32_w4_causal_window_pscale blocks
// CHECK: gpu.func @loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_softcap_pp(
// CHECK-SAME: %{{.*}}: f32, %{{.*}}: f32)
// CHECK: math.tanh
// PTX: .entry loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_softcap_pp(
// PTX: .entry loom_attention_wgmma_bf16_d128_m128_n128_s2_r24x240_causal_w64_pscale_pp(
func.func @softcap_and_window(%q: tensor<1x4x256x128xbf16>, %k: tensor<1x4x256x128xbf16>, %v: tensor<1x4x256x128xbf16>)
    -> (tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>) {
  %a = loom.attention %q, %k, %v {softcap = 30.0 : f32} : (tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>) -> tensor<1x4x256x128xbf16>
  %b = loom.attention %q, %k, %v {causal, window = 64 : i64} : (tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>) -> tensor<1x4x256x128xbf16>
  return %a, %b : tensor<1x4x256x128xbf16>, tensor<1x4x256x128xbf16>
}

// -----

// Dv != D (DeepSeek's 192 / 128 prefill heads; 80 / 144) takes the wgmma
// kernel, V and O in their own panels (the flash kernel takes D = Dv only,
// so the fallback where the TMA cannot read the operands is the op on the
// generic path, writing the same buffer). D 192 / Dv 128: 128-key tiles
// (S, O and P fit the registers), 1024 + Q 48 KiB + 2 stages x (K 48 + V
// 32 KiB) = 214016 bytes of shared memory. D 80 / Dv 144 (two panels of Q
// and K, three of V): 128-key tiles, 1024 + 32 + 2 x (32 + 48) KiB =
// 197632 bytes. The default scale is 1/sqrt(D) (0.0721687824 for 192).
// CHECK-LABEL: func.func @value_dims
// CHECK: %[[OUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x8x300x128xbf16>
// CHECK: scf.if
// CHECK: %[[SCALE:.*]] = arith.constant 0.0721687824 : f32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d192_dv128_m128_n128_s2_r24x240_causal_pscale_pp {{.*}} dynamic_shared_memory_size %c214016_i32 {{.*}} %[[SCALE]] : f32)
// CHECK: } else {
// CHECK: %[[G:.*]] = loom.attention {{.*}} -> tensor<2x8x300x128xbf16>
// CHECK: bufferization.materialize_in_destination %[[G]] in restrict writable %[[OUT]]
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_f16_d80_dv144_m128_n128_s2_r24x240_pscale_lse_pp {{.*}} dynamic_shared_memory_size %c197632_i32
// CHECK: } else {
// CHECK: loom.attention {{.*}} -> (tensor<1x4x200x144xf16>, tensor<1x4x200xf32>)
// CHECK: gpu.func @loom_attention_wgmma_bf16_d192_dv128_m128_n128_s2_r24x240_causal_pscale_pp(
// PTX: .entry loom_attention_wgmma_bf16_d192_dv128_m128_n128_s2_r24x240_causal_pscale_pp(
// PTX: .entry loom_attention_wgmma_f16_d80_dv144_m128_n128_s2_r24x240_pscale_lse_pp(
// SM80-LABEL: func.func @value_dims
// SM80-NOT: gpu.launch_func
// SM80: loom.attention
// SM80: loom.attention
func.func @value_dims(%q: tensor<2x8x300x192xbf16>, %k: tensor<2x2x300x192xbf16>, %v: tensor<2x2x300x128xbf16>,
                      %q2: tensor<1x4x200x80xf16>, %k2: tensor<1x4x250x80xf16>, %v2: tensor<1x4x250x144xf16>)
    -> (tensor<2x8x300x128xbf16>, tensor<1x4x200x144xf16>, tensor<1x4x200xf32>) {
  %a = loom.attention %q, %k, %v {causal} : (tensor<2x8x300x192xbf16>, tensor<2x2x300x192xbf16>, tensor<2x2x300x128xbf16>) -> tensor<2x8x300x128xbf16>
  %b, %lse = loom.attention %q2, %k2, %v2 : (tensor<1x4x200x80xf16>, tensor<1x4x250x80xf16>, tensor<1x4x250x144xf16>) -> (tensor<1x4x200x144xf16>, tensor<1x4x200xf32>)
  return %a, %b, %lse : tensor<2x8x300x128xbf16>, tensor<1x4x200x144xf16>, tensor<1x4x200xf32>
}

// -----

// D 64 takes 192-key tiles when not causal (1024 + Q 16 KiB + 2 stages x 2
// x 24 KiB = 115712 bytes of shared memory), 128-key tiles when causal;
// D 256 80-key tiles (1024 + 64 KiB + 2 x 2 x 40 KiB = 230400 bytes).
// CHECK-LABEL: func.func @key_tiles
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d64_m128_n192_s2_r24x240_pscale_pp {{.*}} dynamic_shared_memory_size %c115712_i32
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d64_m128_n128_s2_r24x240_causal_pscale_pp
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d256_m128_n80_s2_r24x240_pscale_pp {{.*}} dynamic_shared_memory_size %c230400_i32
// PTX: .entry loom_attention_wgmma_bf16_d64_m128_n192_s2_r24x240_pscale_pp(
// PTX: .entry loom_attention_wgmma_bf16_d256_m128_n80_s2_r24x240_pscale_pp(
func.func @key_tiles(%q: tensor<1x4x300x64xbf16>, %q2: tensor<1x2x200x256xbf16>)
    -> (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x2x200x256xbf16>) {
  %a = loom.attention %q, %q, %q : (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16>
  %b = loom.attention %q, %q, %q {causal} : (tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16>
  %c = loom.attention %q2, %q2, %q2 : (tensor<1x2x200x256xbf16>, tensor<1x2x200x256xbf16>, tensor<1x2x200x256xbf16>) -> tensor<1x2x200x256xbf16>
  return %a, %b, %c : tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x2x200x256xbf16>
}
