// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-tile))' | FileCheck %s --check-prefixes=CHECK,DEFAULT
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-tile{tiles=attention:32x16}))' | FileCheck %s --check-prefixes=CHECK,T32X16
// The tiled IR lowers through the rest of the CPU pipeline.
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// LLVM-NOT: {{loom\.|scf\.}}
// LLVM: llvm.func @causal_gqa
// LLVM: llvm.func @window
// LLVM: llvm.func @dense
// LLVM: llvm.func @dynamic
// LLVM: llvm.func @in_kernel
// LLVM: llvm.func @block_sparse
// LLVM: llvm.func @static_result
// LLVM: llvm.func @no_query_heads
// LLVM: llvm.func @no_head_dim
// LLVM: llvm.func @serving_declined
// LLVM-NOT: {{loom\.|scf\.}}

// GQA (4 query heads on 2 kv heads), causal, Sq = 100 < Skv = 120.
// DEFAULT-DAG: #[[$QROWS:.*]] = affine_map<(d0) -> (64, -d0 + 100)>
// T32X16-DAG: #[[$QROWS:.*]] = affine_map<(d0) -> (32, -d0 + 100)>
// CHECK-DAG: #[[$HEAD0:.*]] = affine_map<(d0) -> (d0 * 2)>
// Causal end: keys up to the last row's i' = i0 + qs - 1 + (120 - 100).
// CHECK-DAG: #[[$END:.*]] = affine_map<(d0)[s0] -> (0, d0 + s0 + 20)>
// CHECK-DAG: #[[$HI:.*]] = affine_map<()[s0] -> (120, s0)>
// DEFAULT-DAG: #[[$KROWS:.*]] = affine_map<(d0)[s0] -> (64, -d0 + s0)>
// T32X16-DAG: #[[$KROWS:.*]] = affine_map<(d0)[s0] -> (16, -d0 + s0)>
// CHECK-DAG: #[[$LAST:.*]] = affine_map<(d0)[s0] -> (d0 + s0 - 1)>
// The window's start in @window: max(0, i0 - 39).
// CHECK-DAG: #[[$WLO:.*]] = affine_map<(d0) -> (0, d0 - 39)>
// CHECK-LABEL: func.func @causal_gqa(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x4x100x16xf32>, %[[K:[^:]*]]: tensor<1x2x120x16xf32>, %[[V:[^:]*]]: tensor<1x2x120x8xf32>)
// CHECK-NOT: loom.attention
// One iteration per (batch, kv head, query tile).
// DEFAULT: scf.forall (%[[B:.*]], %[[H:.*]], %[[I0:.*]]) = (0, 0, 0) to (1, 2, 100) step (1, 1, 64) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x100x8xf32>)
// T32X16: scf.forall (%[[B:.*]], %[[H:.*]], %[[I0:.*]]) = (0, 0, 0) to (1, 2, 100) step (1, 1, 32) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x100x8xf32>)
// CHECK: %[[QS:.*]] = affine.min #[[$QROWS]](%[[I0]])
// CHECK: %[[G0:.*]] = affine.apply #[[$HEAD0]](%[[H]])
// The query tile holds both query heads of the kv head.
// CHECK: %[[QT:.*]] = tensor.extract_slice %[[Q]][%[[B]], %[[G0]], %[[I0]], 0] [1, 2, %[[QS]], 16] [1, 1, 1, 1] : tensor<1x4x100x16xf32> to tensor<2x?x16xf32>
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[M0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) {{.*}} -> tensor<2x?xf32>
// CHECK: %[[L0:.*]] = linalg.fill {{.*}} -> tensor<2x?xf32>
// CHECK: %[[ACC0:.*]] = linalg.fill {{.*}} -> tensor<2x?x8xf32>
// Key tiles after the tile's last visible key are not visited.
// CHECK: %[[E:.*]] = affine.max #[[$END]](%[[I0]])[%[[QS]]]
// CHECK: %[[HIV:.*]] = affine.min #[[$HI]]()[%[[E]]]
// DEFAULT: %[[R:.*]]:3 = scf.for %[[J0:.*]] = %{{.*}} to %[[HIV]] step %c64 iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[ACC:.*]] = %[[ACC0]]) -> (tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?x8xf32>)
// T32X16: %[[R:.*]]:3 = scf.for %[[J0:.*]] = %{{.*}} to %[[HIV]] step %c16 iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[ACC:.*]] = %[[ACC0]]) -> (tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?x8xf32>)
// CHECK: %[[KS:.*]] = affine.min #[[$KROWS]](%[[J0]])[%[[HIV]]]
// One K and one V tile for the two query heads.
// CHECK-DAG: %[[KT:.*]] = tensor.extract_slice %[[K]][%[[B]], %[[H]], %[[J0]], 0] [1, 1, %[[KS]], 16] [1, 1, 1, 1] : tensor<1x2x120x16xf32> to tensor<?x16xf32>
// CHECK-DAG: %[[VT:.*]] = tensor.extract_slice %[[V]][%[[B]], %[[H]], %[[J0]], 0] [1, 1, %[[KS]], 8] [1, 1, 1, 1] : tensor<1x2x120x8xf32> to tensor<?x8xf32>
// CHECK-NOT: tensor.extract_slice
// q k^T.
// CHECK: %[[DOTS:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[QT]], %[[KT]] : tensor<2x?x16xf32>, tensor<?x16xf32>)
// No mask unless the first row misses the tile's last key.
// CHECK: %[[LASTKEY:.*]] = affine.apply #[[$LAST]](%[[J0]])[%[[KS]]]
// CHECK: %[[IP:.*]] = arith.addi %[[I0]], %{{.*}} : index
// CHECK: %[[FULL:.*]] = arith.cmpi sle, %[[LASTKEY]], %[[IP]] : index
// CHECK: %[[S:.*]] = scf.if %[[FULL]] -> (tensor<2x?x?xf32>) {
// CHECK:   linalg.generic {{.*}} outs(%[[DOTS]] : tensor<2x?x?xf32>)
// CHECK-NOT: arith.select
// CHECK:   arith.mulf
// CHECK-NEXT: linalg.yield
// CHECK: } else {
// CHECK:   linalg.generic {{.*}} outs(%[[DOTS]] : tensor<2x?x?xf32>)
// CHECK:   linalg.index 1
// CHECK:   linalg.index 2
// CHECK:   %[[VIS:.*]] = arith.cmpi sle
// CHECK:   arith.select %[[VIS]], %{{.*}}, %{{.*}} : f32
// CHECK: }
// Running max, rescale factor exp(m - m'), m' = -inf read as 0.
// CHECK: %[[TMAX:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[S]] : tensor<2x?x?xf32>)
// CHECK: arith.maximumf
// CHECK: %[[UPD:.*]]:2 = linalg.generic {{.*}} ins(%[[TMAX]] : tensor<2x?xf32>) outs(%[[M]], %{{.*}} : tensor<2x?xf32>, tensor<2x?xf32>)
// CHECK: ^bb0(%[[TM:[^:]*]]: f32, %[[MOLD:[^:]*]]: f32, %{{[^:]*}}: f32):
// CHECK:   %[[MNEW:.*]] = arith.maximumf %[[MOLD]], %[[TM]] : f32
// CHECK:   %[[NONE:.*]] = arith.cmpf oeq, %[[MNEW]], %{{.*}} : f32
// CHECK:   %[[SAFE:.*]] = arith.select %[[NONE]], %{{.*}}, %[[MNEW]] : f32
// CHECK:   %[[D:.*]] = arith.subf %[[MOLD]], %[[SAFE]] : f32
// CHECK:   %[[ALPHA:.*]] = math.exp %[[D]] : f32
// CHECK:   linalg.yield %[[MNEW]], %[[ALPHA]] : f32, f32
// p = exp(s - m'), in place of the scores.
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[UPD]]#0 : tensor<2x?xf32>) outs(%[[S]] : tensor<2x?x?xf32>)
// CHECK: math.exp
// l = alpha * l + rowsum(p).
// CHECK: %[[LS:.*]] = linalg.generic {{.*}} ins(%[[UPD]]#1 : tensor<2x?xf32>) outs(%[[L]] : tensor<2x?xf32>)
// CHECK: %[[LNEW:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<2x?x?xf32>) outs(%[[LS]] : tensor<2x?xf32>)
// acc = alpha * acc + p v.
// CHECK: %[[AS:.*]] = linalg.generic {{.*}} ins(%[[UPD]]#1 : tensor<2x?xf32>) outs(%[[ACC]] : tensor<2x?x8xf32>)
// CHECK: %[[ANEW:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[P]], %[[VT]] : tensor<2x?x?xf32>, tensor<?x8xf32>) outs(%[[AS]] : tensor<2x?x8xf32>)
// CHECK: scf.yield %[[UPD]]#0, %[[LNEW]], %[[ANEW]] : tensor<2x?xf32>, tensor<2x?xf32>, tensor<2x?x8xf32>
// o = acc / l, zeros where l = 0.
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[R]]#2, %[[R]]#1 : tensor<2x?x8xf32>, tensor<2x?xf32>)
// CHECK:   arith.cmpf oeq
// CHECK:   arith.divf
// CHECK:   arith.select
// CHECK: scf.forall.in_parallel {
// CHECK-NEXT: tensor.parallel_insert_slice %[[O]] into %[[OUT]][%[[B]], %[[G0]], %[[I0]], 0] [1, 2, %[[QS]], 8] [1, 1, 1, 1] : tensor<2x?x8xf32> into tensor<1x4x100x8xf32>
func.func @causal_gqa(%q: tensor<1x4x100x16xf32>, %k: tensor<1x2x120x16xf32>, %v: tensor<1x2x120x8xf32>) -> tensor<1x4x100x8xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x4x100x16xf32>, tensor<1x2x120x16xf32>, tensor<1x2x120x8xf32>) -> tensor<1x4x100x8xf32>
  return %o : tensor<1x4x100x8xf32>
}

// A window of 40: key tiles before the first row's window are not visited
// either (lower bound max(0, i0 - 39)); a tile is unmasked only if its first
// row sees its last key and its last row its first key.
// CHECK-LABEL: func.func @window(
// CHECK: %[[W:.*]] = arith.constant 40 : index
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %[[WI0:.*]]) = (0, 0, 0) to (1, 2, 100) step (1, 1, {{[0-9]+}})
// CHECK: %[[WLOV:.*]] = affine.max #[[$WLO]](%[[WI0]])
// CHECK: scf.for %{{.*}} = %[[WLOV]] to %{{.*}} step %{{.*}} iter_args
// CHECK-COUNT-2: arith.cmpi slt, %{{.*}}, %[[W]] : index
// CHECK: scf.if
// CHECK: math.tanh
// CHECK-NOT: arith.select
// CHECK: } else {
// CHECK: math.tanh
// CHECK: arith.cmpi slt, %{{.*}}, %[[W]] : index
// CHECK: arith.select
// bf16 in, f32 state, bf16 out.
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.parallel_insert_slice {{.*}} : tensor<1x?x16xbf16> into tensor<1x2x100x16xbf16>
func.func @window(%q: tensor<1x2x100x16xbf16>, %k: tensor<1x2x100x16xbf16>, %v: tensor<1x2x100x16xbf16>) -> tensor<1x2x100x16xbf16> {
  %o = loom.attention %q, %k, %v {causal, window = 40 : i64, softcap = 30.0 : f32} : (tensor<1x2x100x16xbf16>, tensor<1x2x100x16xbf16>, tensor<1x2x100x16xbf16>) -> tensor<1x2x100x16xbf16>
  return %o : tensor<1x2x100x16xbf16>
}

// Without causal every key tile is visited and none is masked.
// CHECK-LABEL: func.func @dense(
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) = (0, 0, 0) to (2, 3, 10) step (1, 1, {{[0-9]+}})
// CHECK: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %c20 step %{{.*}} iter_args
// CHECK-NOT: scf.if
// CHECK-NOT: linalg.index
// CHECK: scf.yield
func.func @dense(%q: tensor<2x3x10x8xf32>, %k: tensor<2x3x20x8xf32>, %v: tensor<2x3x20x4xf32>) -> tensor<2x3x10x4xf32> {
  %o = loom.attention %q, %k, %v {scale = 0.5 : f32} : (tensor<2x3x10x8xf32>, tensor<2x3x20x8xf32>, tensor<2x3x20x4xf32>) -> tensor<2x3x10x4xf32>
  return %o : tensor<2x3x10x4xf32>
}

// Dynamic sizes: the group size G = Hq / max(Hkv, 1) and every bound are
// computed at run time; the result is cast back to the op's type.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %[[DQ:[^:]*]]: tensor<?x?x?x?xf32>, %[[DK:[^:]*]]: tensor<?x?x?x?xf32>
// CHECK: %[[HKV:.*]] = tensor.dim %[[DK]], %c1{{(_[0-9]+)?}} :
// CHECK: %[[SAFE:.*]] = arith.maxui %[[HKV]], %{{.*}} : index
// CHECK: %[[HQ:.*]] = tensor.dim %[[DQ]], %c1{{(_[0-9]+)?}} :
// CHECK: %[[G:.*]] = arith.divui %[[HQ]], %[[SAFE]] : index
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) = (0, 0, 0) to (%{{.*}}, %{{.*}}, %{{.*}}) step (1, 1, {{[0-9]+}})
// CHECK: tensor.extract_slice %[[DQ]][{{.*}}] [1, %[[G]], %{{.*}}, %{{.*}}] [1, 1, 1, 1] : tensor<?x?x?x?xf32> to tensor<?x?x?xf32>
func.func @dynamic(%q: tensor<?x?x?x?xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %o : tensor<?x?x?x?xf32>
}

// Attention inside a fusion group is tiled in place.
// CHECK-LABEL: func.func @in_kernel(
// CHECK: loom.kernel "attention"
// CHECK-NOT: loom.attention
// CHECK: scf.forall
// CHECK: loom.yield
func.func @in_kernel(%q: tensor<1x1x8x4xf32>, %k: tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  %0 = loom.kernel "attention" (%q, %k) : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  ^bb0(%a: tensor<1x1x8x4xf32>, %b: tensor<1x1x8x4xf32>):
    %o = loom.attention %a, %b, %b : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32>
    loom.yield %o : tensor<1x1x8x4xf32>
  }
  return %0 : tensor<1x1x8x4xf32>
}

// Block-sparse attention tiles by the layout's blocks whatever `tiles` says,
// one query head per tile (kv head h / 2), and visits a key tile only where
// its layout bit is true; the causal bound applies as well.
// CHECK-LABEL: func.func @block_sparse(
// CHECK-SAME: %[[BQ_:[^:]*]]: tensor<1x4x40x16xf32>, %[[BK:[^:]*]]: tensor<1x2x40x16xf32>, %{{[^:]*}}: tensor<1x2x40x8xf32>, %[[LAYOUT:[^:]*]]: tensor<1x4x3x3xi1>)
// CHECK: scf.forall (%[[SB:.*]], %[[SH:.*]], %[[SI0:.*]]) = (0, 0, 0) to (1, 4, 40) step (1, 1, 16)
// CHECK: %[[KVH:.*]] = arith.divui %[[SH]], %{{.*}} : index
// CHECK: tensor.extract_slice %[[BQ_]][%[[SB]], %[[SH]], %[[SI0]], 0] [1, 1, %{{.*}}, 16]
// CHECK: scf.for %[[SJ0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[SM:.*]] = %{{.*}}, %[[SL:.*]] = %{{.*}}, %[[SA:.*]] = %{{.*}})
// CHECK: %[[QB:.*]] = arith.divui %[[SI0]], %c16
// CHECK: %[[KB:.*]] = arith.divui %[[SJ0]], %c16
// CHECK: %[[BIT:.*]] = tensor.extract %[[LAYOUT]][%{{.*}}, %[[SH]], %[[QB]], %[[KB]]] : tensor<1x4x3x3xi1>
// CHECK: scf.if %[[BIT]] -> (tensor<1x?xf32>, tensor<1x?xf32>, tensor<1x?x8xf32>) {
// CHECK: tensor.extract_slice %[[BK]][%[[SB]], %[[KVH]], %[[SJ0]], 0]
// CHECK: scf.yield %[[SM]], %[[SL]], %[[SA]] : tensor<1x?xf32>, tensor<1x?xf32>, tensor<1x?x8xf32>
func.func @block_sparse(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x40x16xf32>, %v: tensor<1x2x40x8xf32>, %l: tensor<1x4x3x3xi1>) -> tensor<1x4x40x8xf32> {
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x4x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>, tensor<1x4x3x3xi1>) -> tensor<1x4x40x8xf32>
  return %o : tensor<1x4x40x8xf32>
}

// A result type more static than the operands: a tensor.cast after the loop.
// CHECK-LABEL: func.func @static_result(
// CHECK: %[[F:.*]] = scf.forall
// CHECK: }
// CHECK: %[[C:.*]] = tensor.cast %[[F]] : tensor<1x?x7x8xf32> to tensor<1x8x7x8xf32>
// CHECK: return %[[C]]
func.func @static_result(%q: tensor<1x?x7x8xf32>, %k: tensor<1x?x7x8xf32>, %v: tensor<1x2x7x8xf32>) -> tensor<1x8x7x8xf32> {
  %o = loom.attention %q, %k, %v : (tensor<1x?x7x8xf32>, tensor<1x?x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x8x7x8xf32>
  return %o : tensor<1x8x7x8xf32>
}

// No query heads (a static Hq = 0): an empty result, no loops.
// CHECK-LABEL: func.func @no_query_heads(
// CHECK-NOT: scf.forall
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x0x8x16xbf16>
// CHECK: return %[[E]]
func.func @no_query_heads(%q: tensor<2x0x8x16xbf16>, %k: tensor<2x2x8x16xbf16>, %v: tensor<2x2x8x16xbf16>) -> tensor<2x0x8x16xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<2x0x8x16xbf16>, tensor<2x2x8x16xbf16>, tensor<2x2x8x16xbf16>) -> tensor<2x0x8x16xbf16>
  return %o : tensor<2x0x8x16xbf16>
}

// A static D = 0: q and k are not sliced, the dot products are zeros.
// CHECK-LABEL: func.func @no_head_dim(
// CHECK-SAME: %[[ZQ:[^:]*]]: tensor<1x2x5x0xf32>, %[[ZK:[^:]*]]: tensor<1x1x9x0xf32>
// CHECK-NOT: tensor.extract_slice %[[ZQ]]
// CHECK-NOT: tensor.extract_slice %[[ZK]]
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.*}} : tensor<1x1x9x4xf32> to tensor<?x4xf32>
// CHECK-NOT: tensor.extract_slice %[[ZK]]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x?x?xf32>)
// CHECK: scf.yield
func.func @no_head_dim(%q: tensor<1x2x5x0xf32>, %k: tensor<1x1x9x0xf32>, %v: tensor<1x1x9x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x2x5x0xf32>, tensor<1x1x9x0xf32>, tensor<1x1x9x4xf32>) -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}

// The serving masks (sink, per-head window, sink logits; issue 16), and a
// window on the block-sparse op, are left to the reference lowering: the
// online softmax here implements none of them. Each op stays as it is, with
// its attributes and operands; a plain windowed attention beside them is
// tiled.
// CHECK-LABEL: func.func @serving_declined(
// CHECK-SAME: %[[SQ:[^:]*]]: tensor<1x4x37x8xf32>, %[[SK:[^:]*]]: tensor<1x2x53x8xf32>, %[[SV:[^:]*]]: tensor<1x2x53x8xf32>, %[[SS:[^:]*]]: tensor<4xf32>, %[[SL:[^:]*]]: tensor<1x4x5x4xi1>)
// CHECK-NEXT: %[[R0:.*]] = loom.attention %[[SQ]], %[[SK]], %[[SV]], %[[SS]] {causal} :
// CHECK-NEXT: %[[R1:.*]] = loom.attention %[[SQ]], %[[SK]], %[[SV]] {causal, sink = 4 : i64, window = 8 : i64} :
// CHECK-NEXT: %[[R2:.*]] = loom.attention %[[SQ]], %[[SK]], %[[SV]] {causal, window = array<i64: 0, 8, 0, 8>} :
// CHECK-NEXT: %[[R3:.*]] = loom.block_sparse_attention %[[SQ]], %[[SK]], %[[SV]], %[[SL]] {block_k = 16 : i64, block_q = 8 : i64, causal, window = 8 : i64} :
// CHECK-NEXT: %[[R4:.*]] = loom.block_sparse_attention %[[SQ]], %[[SK]], %[[SV]], %[[SL]], %[[SS]] {block_k = 16 : i64, block_q = 8 : i64, causal} :
// CHECK-NOT: loom.
// CHECK: %[[R5:.*]] = scf.forall
// CHECK-NOT: loom.
// CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]], %[[R5]] :
func.func @serving_declined(%q: tensor<1x4x37x8xf32>, %k: tensor<1x2x53x8xf32>, %v: tensor<1x2x53x8xf32>, %s: tensor<4xf32>, %l: tensor<1x4x5x4xi1>) -> (tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>) {
  %0 = loom.attention %q, %k, %v, %s {causal} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>, tensor<4xf32>) -> tensor<1x4x37x8xf32>
  %1 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 8 : i64} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>) -> tensor<1x4x37x8xf32>
  %2 = loom.attention %q, %k, %v {causal, window = array<i64: 0, 8, 0, 8>} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>) -> tensor<1x4x37x8xf32>
  %3 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 8 : i64, block_k = 16 : i64, causal, window = 8 : i64} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>, tensor<1x4x5x4xi1>) -> tensor<1x4x37x8xf32>
  %4 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 8 : i64, block_k = 16 : i64, causal} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>, tensor<1x4x5x4xi1>, tensor<4xf32>) -> tensor<1x4x37x8xf32>
  %5 = loom.attention %q, %k, %v {causal, window = 8 : i64} : (tensor<1x4x37x8xf32>, tensor<1x2x53x8xf32>, tensor<1x2x53x8xf32>) -> tensor<1x4x37x8xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>, tensor<1x4x37x8xf32>
}
