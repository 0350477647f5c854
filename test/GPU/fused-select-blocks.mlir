// Fusion groups anchored on loom.select_blocks on the GPU
// (lib/Conversion/LoomToGPU/FusedSelectBlocks.cpp): the RoPE and layout changes of q and k
// and the selection become one launch of the select_blocks recipe, q and k
// read as strided views of the [S, H*D] buffers, rotated while they are
// pooled, the block scores kept in shared memory. Dynamic shapes and key
// blocks that overflow shared memory are declined (op by op).
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s

// The long-context block's group: 16 query blocks x 8 heads, one query
// block per CTA.
// CHECK-LABEL: func.func @long_context
// CHECK-NOT:   loom.rope
// CHECK-NOT:   linalg.transpose
// CHECK:       memref.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [1, 1000, 8, 64]
// CHECK:       memref.transpose %{{.*}} (d0, d1, d2, d3) -> (d0, d2, d1, d3)
// CHECK:       gpu.launch_func  @loom_kernels::@loom_select_blocks_bf16_d64_q64_k64_top4_nkb16_c1_causal_ropeq_half_f32_ropek_half_f32
// CHECK-SAME:    threads in (%c512
// CHECK-SAME:    args(%{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %{{.*}} : memref<?x?x?x?xi1>, %{{.*}} : f32, %{{.*}} : index, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   loom.select_blocks
// CHECK:       return
// CHECK:       gpu.func @loom_select_blocks_bf16_d64_q64_k64_top4_nkb16_c1_causal_ropeq_half_f32_ropek_half_f32(%[[Q:.*]]: memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[K:.*]]: memref<?x?x?x?xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[OUT:.*]]: memref<?x?x?x?xi1>, %[[SCALE:.*]]: f32, %{{.*}}: index, %[[CQ:.*]]: memref<?x?xf32>, %[[SQ:.*]]: memref<?x?xf32>, %[[CK:.*]]: memref<?x?xf32>, %[[SK:.*]]: memref<?x?xf32>)
// Shared memory: the pooled key blocks (pitch D + 1), a chunk of pooled
// query blocks, their scores.
// CHECK:       %[[KB:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16x65xf32, #gpu.address_space<workgroup>>
// CHECK:       %[[QS:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1x65xf32, #gpu.address_space<workgroup>>
// CHECK:       %[[SC:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1x16xf32, #gpu.address_space<workgroup>>
// K's blocks pooled from its RoPE'd rows: one thread per (block, column
// pair d, d + 32) of the 16 x 32, 32 rows at a time with all their loads
// issued first (the pair's two elements, cos and sin), then rotated in f32,
// rounded to bf16 once, summed in row order in f32; the rest of the rows one
// by one; divided by the rows that exist.
// CHECK:       %[[NI:.*]] = arith.muli %{{.*}}, %c32 : index
// CHECK:       scf.for %{{.*}} = %{{.*}} to %[[NI]] step %c512 {
// CHECK:       %[[COL:.*]] = arith.remui %{{.*}}, %c32 : index
// CHECK:       %[[PARTNER:.*]] = arith.addi %[[COL]], %c32 : index
// CHECK:       %{{.*}}:2 = scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c32 iter_args({{.*}}) -> (f32, f32) {
// CHECK-NEXT:    memref.load %[[K]][%{{.*}}, %{{.*}}, %[[R]], %[[COL]]]
// CHECK-NEXT:    memref.load %[[K]][%{{.*}}, %{{.*}}, %[[R]], %[[PARTNER]]]
// CHECK-NEXT:    memref.load %[[CK]][%[[R]], %[[COL]]]
// CHECK-NEXT:    memref.load %[[SK]][%[[R]], %[[COL]]]
// CHECK-NEXT:    %[[R1:.*]] = arith.addi %[[R]], %c1 : index
// CHECK-NEXT:    memref.load %[[K]][%{{.*}}, %{{.*}}, %[[R1]], %[[COL]]]
// The 32nd row's loads come before the first arithmetic.
// CHECK:         %[[R31:.*]] = arith.addi %[[R]], %c31 : index
// CHECK-NEXT:    memref.load %[[K]][%{{.*}}, %{{.*}}, %[[R31]], %[[COL]]]
// CHECK-NEXT:    memref.load %[[K]][%{{.*}}, %{{.*}}, %[[R31]], %[[PARTNER]]]
// CHECK-NEXT:    memref.load %[[CK]][%[[R31]], %[[COL]]]
// CHECK-NEXT:    memref.load %[[SK]][%[[R31]], %[[COL]]]
// CHECK-NEXT:    arith.extf
// CHECK:         arith.mulf
// CHECK:         arith.subf
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// CHECK:         arith.addf
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// CHECK:         scf.yield %{{.*}}, %{{.*}} : f32, f32
// CHECK:       %[[SUM:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args({{.*}}) -> (f32, f32) {
// CHECK:       arith.sitofp
// CHECK:       %[[M0:.*]] = arith.divf %[[SUM]]#0
// CHECK-NEXT:  memref.store %[[M0]], %[[KB]][%{{.*}}, %[[COL]]]
// CHECK-NEXT:  %[[M1:.*]] = arith.divf %[[SUM]]#1
// CHECK-NEXT:  memref.store %[[M1]], %[[KB]][%{{.*}}, %[[PARTNER]]]
// The first chunk of query blocks, pooled the same way by the threads from
// the last one down (lane 511 - tid) before the barrier; then chunk by
// chunk: scored, selected while the next chunk is pooled.
// CHECK:       %[[LANE:.*]] = arith.subi %c511, %{{.*}} : index
// CHECK:       scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c512 {
// CHECK:       memref.load %[[Q]]
// CHECK:       memref.load %[[CQ]]
// CHECK:       memref.load %[[SQ]]
// CHECK:       memref.store %{{.*}}, %[[QS]]
// CHECK:       gpu.barrier
// CHECK:       scf.for %[[C0:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:       memref.load %[[QS]]
// CHECK:       arith.mulf %[[SCALE]]
// CHECK:       memref.store %{{.*}}, %[[SC]]
// CHECK:       gpu.barrier
// CHECK:       scf.if %{{.*}} -> (i1)
// CHECK:       arith.cmpf ogt
// CHECK:       arith.cmpf oeq
// CHECK:       arith.cmpi ult, %{{.*}}, %c4 : index
// CHECK:       memref.store %{{.*}}, %[[OUT]]
// CHECK:       %[[NEXT:.*]] = arith.addi %[[C0]], %c1 : index
// CHECK-NEXT:  %[[LEFT:.*]] = arith.subi %{{.*}}, %[[NEXT]] : index
// CHECK-NEXT:  %[[NC:.*]] = arith.minsi %[[LEFT]], %c1 : index
// CHECK-NEXT:  arith.maxsi %[[NC]], %c0 : index
// CHECK:       scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %c512 {
// CHECK:       memref.load %[[Q]]
// CHECK:       memref.store %{{.*}}, %[[QS]]
// CHECK:       gpu.barrier
// CHECK-NEXT:  }
// CHECK:       gpu.return
func.func @long_context(%q2: tensor<1000x512xbf16>, %k2: tensor<1000x128xbf16>, %cos: tensor<1000x32xf32>, %sin: tensor<1000x32xf32>) -> tensor<1x8x16x16xi1> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 1000, 8, 64] : tensor<1000x512xbf16> into tensor<1x1000x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 1000, 2, 64] : tensor<1000x128xbf16> into tensor<1x1000x2x64xbf16>
  %qi = tensor.empty() : tensor<1x8x1000x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x1000x8x64xbf16>) outs(%qi : tensor<1x8x1000x64xbf16>) permutation = [0, 2, 1, 3]
  %ki = tensor.empty() : tensor<1x2x1000x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x1000x2x64xbf16>) outs(%ki : tensor<1x2x1000x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x1000x64xbf16>, tensor<1000x32xf32>, tensor<1000x32xf32>) -> tensor<1x8x1000x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x1000x64xbf16>, tensor<1000x32xf32>, tensor<1000x32xf32>) -> tensor<1x2x1000x64xbf16>
  %l = loom.select_blocks %qr, %kr {block_q = 64 : i64, block_k = 64 : i64, topk = 4 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1>
  return %l : tensor<1x8x16x16xi1>
}

// -----

// A plain select_blocks with many heads: one CTA per head takes its 21
// query blocks (the per-CTA count is the fifth argument) in chunks of 16.
// Interleaved RoPE on k only: a thread takes the pair (2i, 2i + 1).
// CHECK-LABEL: func.func @many_heads
// CHECK:       %[[PER:.*]] = arith.constant 21 : index
// CHECK:       gpu.launch_func  @loom_kernels::@loom_select_blocks_f16_d64_q16_k32_top3_nkb11_c16_causal_ropek_il_f16
// CHECK-SAME:    %[[PER]] : index
// CHECK-NOT:   loom.
// CHECK:       gpu.func @loom_select_blocks_f16_d64_q16_k32_top3_nkb11_c16_causal_ropek_il_f16
// CHECK:       memref.view {{.*}} to memref<16x65xf32, #gpu.address_space<workgroup>>
// CHECK:       %[[I:.*]] = arith.remui %{{.*}}, %c32 : index
// CHECK:       %[[C0:.*]] = arith.muli %[[I]], %c2 : index
// CHECK:       %[[C1:.*]] = arith.addi %[[C0]], %c1 : index
// CHECK:       scf.for %[[R:.*]] = {{.*}} iter_args({{.*}}) -> (f32, f32) {
// CHECK-NEXT:    memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %[[C0]]]
// CHECK-NEXT:    memref.load %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %[[C1]]]
// CHECK-NEXT:    memref.load %{{.*}}[%[[R]], %[[I]]] : memref<?x?xf16>
// CHECK:       arith.truncf %{{.*}} : f32 to f16
func.func @many_heads(%q: tensor<4x64x330x64xf16>, %k: tensor<4x8x330x64xf16>, %c: tensor<330x32xf16>, %s: tensor<330x32xf16>) -> tensor<4x64x21x11xi1> {
  %kr = loom.rope %k, %c, %s {style = "interleaved"} : (tensor<4x8x330x64xf16>, tensor<330x32xf16>, tensor<330x32xf16>) -> tensor<4x8x330x64xf16>
  %l = loom.select_blocks %q, %kr {block_q = 16 : i64, block_k = 32 : i64, topk = 3 : i64, causal} : (tensor<4x64x330x64xf16>, tensor<4x8x330x64xf16>) -> tensor<4x64x21x11xi1>
  return %l : tensor<4x64x21x11xi1>
}

// -----

// topk at least NKB selects the same as topk = NKB: one kernel for both.
// Without causal there is no diagonal block (-1).
// CHECK-LABEL: func.func @topk_all
// CHECK:       gpu.launch_func  @loom_kernels::@loom_select_blocks_f32_d32_q10_k7_top11_nkb11_c1 blocks
// CHECK:       gpu.func @loom_select_blocks_f32_d32_q10_k7_top11_nkb11_c1(
// CHECK:       arith.cmpi ne, %{{.*}}, %c-1 : index
func.func @topk_all(%q: tensor<1x3x77x32xf32>, %k: tensor<1x1x77x32xf32>) -> tensor<1x3x8x11xi1> {
  %l = loom.select_blocks %q, %k {block_q = 10 : i64, block_k = 7 : i64, topk = 100 : i64, scale = 0.3 : f32} : (tensor<1x3x77x32xf32>, tensor<1x1x77x32xf32>) -> tensor<1x3x8x11xi1>
  return %l : tensor<1x3x8x11xi1>
}

// -----

// A RoPE'd q that is also returned: the group recomputes the rotation in
// the selection kernel, the returned copy is a RoPE kernel of its own.
// CHECK-LABEL: func.func @shared_rope
// CHECK:       gpu.launch_func  @loom_kernels::@loom_select_blocks_bf16_d64_q64_k64_top2_nkb2_c1_ropeq_half_f32
// CHECK:       gpu.launch_func  @loom_kernels::@loom_rope_half_bf16
func.func @shared_rope(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %c: tensor<100x32xf32>, %s: tensor<100x32xf32>) -> (tensor<1x2x2x2xi1>, tensor<1x2x100x64xbf16>) {
  %qr = loom.rope %q, %c, %s : (tensor<1x2x100x64xbf16>, tensor<100x32xf32>, tensor<100x32xf32>) -> tensor<1x2x100x64xbf16>
  %l = loom.select_blocks %qr, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 2 : i64} : (tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) -> tensor<1x2x2x2xi1>
  return %l, %qr : tensor<1x2x2x2xi1>, tensor<1x2x100x64xbf16>
}

// -----

// Declined: dynamic sizes, and 500 key blocks of D = 128 (258 KB of pooled
// keys, more than the chip's 227 KB of shared memory); the op stays for the
// op-by-op path.
// CHECK-LABEL: func.func @dynamic
// CHECK-NOT:   gpu.launch_func
// CHECK:       loom.select_blocks
// CHECK-LABEL: func.func @too_many_key_blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       loom.select_blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @dynamic(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x?xi1> {
  %l = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 2 : i64, causal} : (tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) -> tensor<1x2x?x?xi1>
  return %l : tensor<1x2x?x?xi1>
}
func.func @too_many_key_blocks(%q: tensor<1x1x64x128xbf16>, %k: tensor<1x1x32000x128xbf16>) -> tensor<1x1x1x500xi1> {
  %l = loom.select_blocks %q, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 2 : i64} : (tensor<1x1x64x128xbf16>, tensor<1x1x32000x128xbf16>) -> tensor<1x1x1x500xi1>
  return %l : tensor<1x1x1x500xi1>
}
