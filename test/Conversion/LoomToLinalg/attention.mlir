// Lowering of attention, block_sparse_attention and select_blocks to linalg:
// materialized f32 scores, the mask as -inf, a guarded softmax, one rounding
// into the result type, GQA through the kv head map, dynamic sizes from the
// operands.
// RUN: loom-opt %s --convert-loom-to-linalg -split-input-file | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// GQA (Hq = 8, Hkv = 2: G = 4) with causal, window and softcap, bf16.
// CHECK-DAG: #[[$Q5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-DAG: #[[$V5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d4, d3)>
// CHECK-DAG: #[[$O5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @gqa_causal_window_softcap
// CHECK-SAME: (%[[Q:.*]]: tensor<2x8x16x32xbf16>, %[[K:.*]]: tensor<2x2x20x32xbf16>, %[[V:.*]]: tensor<2x2x20x24xbf16>)
// Scores: a reduction over D, reading kv head h floordiv 4.
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[$Q5]], #[[$K5]], #[[$O5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : tensor<2x8x16x32xbf16>, tensor<2x2x20x32xbf16>) outs(%{{.*}} : tensor<2x8x16x20xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// Scale (1/sqrt(32)), softcap 30 * tanh(s / 30), and the mask.
// CHECK: %[[T:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[S]] :
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.divf
// CHECK: math.tanh
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[OFF:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK: %[[IP:.*]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[IP]] : index
// CHECK: %[[DIST:.*]] = arith.subi %[[IP]], %[[J]] : index
// CHECK: %[[W:.*]] = arith.constant 5 : index
// CHECK: %[[WIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]] : index
// CHECK: %[[VIS:.*]] = arith.andi %[[CAUSAL]], %[[WIN]] : i1
// CHECK: arith.select %[[VIS]], %{{.*}}, %{{.*}} : f32
// Row max, exp with the empty-row guard, row sum.
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[T]] :
// CHECK: arith.maximumf
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[T]], %[[M]] :
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[L:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[P]] :
// CHECK: arith.addf
// P V: a reduction over the keys, reading kv head h floordiv 4.
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[$Q5]], #[[$V5]], #[[$O5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]], %[[V]] : tensor<2x8x16x20xf32>, tensor<2x2x20x24xbf16>) outs(%{{.*}} : tensor<2x8x16x24xf32>)
// Normalize, 0 where no key is visible, one rounding to bf16.
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[O]], %[[L]] : tensor<2x8x16x24xf32>, tensor<2x8x16xf32>) outs(%{{.*}} : tensor<2x8x16x24xbf16>)
// CHECK: %[[NONE:.*]] = arith.cmpf oeq
// CHECK: %[[DIV:.*]] = arith.divf
// CHECK: %[[Y:.*]] = arith.select %[[NONE]], %{{.*}}, %[[DIV]] : f32
// CHECK: arith.truncf %[[Y]] : f32 to bf16
// CHECK: return %[[R]] : tensor<2x8x16x24xbf16>
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @gqa_causal_window_softcap
// LLVM: llvm.func @_mlir_ciface_gqa_causal_window_softcap
// LLVM-NOT: loom.
// LLVM-NOT: linalg.
func.func @gqa_causal_window_softcap(%q: tensor<2x8x16x32xbf16>, %k: tensor<2x2x20x32xbf16>,
                                     %v: tensor<2x2x20x24xbf16>) -> tensor<2x8x16x24xbf16> {
  %o = loom.attention %q, %k, %v {causal, window = 5 : i64, softcap = 30.0 : f32}
    : (tensor<2x8x16x32xbf16>, tensor<2x2x20x32xbf16>, tensor<2x2x20x24xbf16>) -> tensor<2x8x16x24xbf16>
  return %o : tensor<2x8x16x24xbf16>
}

// -----

// MHA without options: no mask, no softcap, the given scale, kv head = h.
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @mha_plain
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$K5]], #{{.*}}]
// CHECK: arith.constant 1.250000e-01 : f32
// CHECK: linalg.generic {{.*}} ins(%[[S]] :
// CHECK-NOT: linalg.index
// CHECK-NOT: math.tanh
// CHECK: arith.maximumf
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @mha_plain
// LLVM-NOT: loom.
func.func @mha_plain(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x7x8xf32>, %v: tensor<1x2x7x8xf32>) -> tensor<1x2x5x8xf32> {
  %o = loom.attention %q, %k, %v {scale = 0.125 : f32}
    : (tensor<1x2x5x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}

// -----

// Every dim dynamic: G = Hq / Hkv is computed at run time and k, v are first
// repeated to Hq heads; the default scale 1/sqrt(D) comes from tensor.dim.
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x?x?xf32>, %[[K:.*]]: tensor<?x?x?x?xf32>, %[[V:.*]]: tensor<?x?x?x?xf32>)
// CHECK: %[[HQ:.*]] = tensor.dim %[[Q]], %c1{{(_[0-9]+)?}} : tensor<?x?x?x?xf32>
// CHECK: %[[HKV:.*]] = tensor.dim %[[K]], %c1{{(_[0-9]+)?}} : tensor<?x?x?x?xf32>
// CHECK: %[[SAFE:.*]] = arith.maxui %[[HKV]], %{{.*}} : index
// CHECK: %[[G0:.*]] = arith.divui %[[HQ]], %[[SAFE]] : index
// CHECK: %[[G:.*]] = arith.maxui %[[G0]], %{{.*}} : index
// CHECK: %[[KR:.*]] = linalg.generic {indexing_maps = [#[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x?x?x?xf32>)
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[KVH:.*]] = arith.divui %[[H]], %[[G]] : index
// CHECK: tensor.extract %[[K]][%{{.*}}, %[[KVH]], %{{.*}}, %{{.*}}] : tensor<?x?x?x?xf32>
// CHECK: %[[VR:.*]] = linalg.generic
// CHECK: tensor.extract %[[V]]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$K5]], #{{.*}}], {{.*}} ins(%[[Q]], %[[KR]] :
// CHECK: %[[D:.*]] = tensor.dim %[[Q]], %c3{{(_[0-9]+)?}} : tensor<?x?x?x?xf32>
// CHECK: %[[D1:.*]] = arith.maxui %[[D]], %{{.*}} : index
// CHECK-NEXT: %[[DI:.*]] = arith.index_cast %[[D1]] : index to i64
// CHECK: %[[DF:.*]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK: %[[SQ:.*]] = math.sqrt %[[DF]] : f32
// CHECK: arith.divf %{{.*}}, %[[SQ]] : f32
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[VR]] : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>)
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @dynamic
// LLVM-NOT: loom.
func.func @dynamic(%q: tensor<?x?x?x?xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %o = loom.attention %q, %k, %v {causal}
    : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %o : tensor<?x?x?x?xf32>
}

// -----

// MQA with dynamic Hq: every query head reads kv head 0, no repetition. The
// result is more static than the operands: a tensor.cast finishes.
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d3, d4)>
// CHECK-DAG: #[[$V5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>
// CHECK-LABEL: func.func @mqa_dynamic_heads
// CHECK-NOT: tensor.extract
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$K5]], #{{.*}}]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$V5]], #{{.*}}]
// CHECK: %[[C:.*]] = tensor.cast %{{.*}} : tensor<2x?x6x8xf16> to tensor<2x4x6x8xf16>
// CHECK: return %[[C]]
// LLVM-LABEL: llvm.func @mqa_dynamic_heads
// LLVM-NOT: loom.
func.func @mqa_dynamic_heads(%q: tensor<2x?x6x8xf16>, %k: tensor<2x1x6x8xf16>, %v: tensor<2x1x6x8xf16>) -> tensor<2x4x6x8xf16> {
  %o = loom.attention %q, %k, %v {causal}
    : (tensor<2x?x6x8xf16>, tensor<2x1x6x8xf16>, tensor<2x1x6x8xf16>) -> tensor<2x4x6x8xf16>
  return %o : tensor<2x4x6x8xf16>
}

// -----

// Block-sparse: the layout bit of (b, h, i / 4, j / 5), broadcast over the
// batch (Lb = 1: index 0) but not the heads, and the causal rule.
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-LABEL: func.func @block_sparse
// CHECK-SAME: %[[LAYOUT:[^:]*]]: tensor<1x4x3x3xi1>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$K5]], #{{.*}}]
// CHECK: linalg.generic
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[IB:.*]] = arith.divui %[[I]], %{{.*}} : index
// CHECK: %[[JB:.*]] = arith.divui %[[J]], %{{.*}} : index
// CHECK: %[[BIT:.*]] = tensor.extract %[[LAYOUT]][%[[ZERO:.*]], %[[H]], %[[IB]], %[[JB]]] : tensor<1x4x3x3xi1>
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %{{.*}} : index
// CHECK: %[[VIS:.*]] = arith.andi %[[BIT]], %[[CAUSAL]] : i1
// CHECK: arith.select %[[VIS]]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @block_sparse
// LLVM-NOT: loom.
func.func @block_sparse(%q: tensor<2x4x10x8xf32>, %k: tensor<2x2x12x8xf32>, %v: tensor<2x2x12x8xf32>,
                        %layout: tensor<1x4x3x3xi1>) -> tensor<2x4x10x8xf32> {
  %o = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 4 : i64, block_k = 5 : i64, causal}
    : (tensor<2x4x10x8xf32>, tensor<2x2x12x8xf32>, tensor<2x2x12x8xf32>, tensor<1x4x3x3xi1>) -> tensor<2x4x10x8xf32>
  return %o : tensor<2x4x10x8xf32>
}

// -----

// A dynamic layout: whether Lb and Lh broadcast is decided at run time.
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @block_sparse_dynamic
// CHECK-SAME: %[[LAYOUT:[^:]*]]: tensor<?x?x?x?xi1>
// CHECK: %[[LB:.*]] = tensor.dim %[[LAYOUT]], %{{.*}} : tensor<?x?x?x?xi1>
// CHECK: %[[LB1:.*]] = arith.cmpi eq, %[[LB]], %{{.*}} : index
// CHECK: %[[LH:.*]] = tensor.dim %[[LAYOUT]], %{{.*}} : tensor<?x?x?x?xi1>
// CHECK: %[[LH1:.*]] = arith.cmpi eq, %[[LH]], %{{.*}} : index
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK: math.tanh
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[BI:.*]] = arith.select %[[LB1]], %{{.*}}, %[[B]] : index
// CHECK: %[[HI:.*]] = arith.select %[[LH1]], %{{.*}}, %[[H]] : index
// CHECK: tensor.extract %[[LAYOUT]][%[[BI]], %[[HI]], %{{.*}}, %{{.*}}] : tensor<?x?x?x?xi1>
// CHECK-NOT: arith.cmpi sle
// CHECK: arith.select
// CHECK: arith.maximumf
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @block_sparse_dynamic
// LLVM-NOT: loom.
func.func @block_sparse_dynamic(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>, %v: tensor<?x?x?x?xbf16>,
                                %layout: tensor<?x?x?x?xi1>) -> tensor<?x?x?x?xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 16 : i64, block_k = 16 : i64, softcap = 5.0 : f32}
    : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xi1>) -> tensor<?x?x?x?xbf16>
  return %o : tensor<?x?x?x?xbf16>
}

// -----

// select_blocks: block means over the rows that exist (an scf.for from
// I * block to min((I + 1) * block, S)), block scores through the GQA map,
// then per layout bit a count of the candidates that outrank it.
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$K5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-LABEL: func.func @select_blocks_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x10x8xf32>, %[[K:.*]]: tensor<1x2x12x8xf32>)
// CHECK: %[[QB:.*]] = linalg.generic {indexing_maps = [#[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<1x4x3x8xf32>)
// CHECK: %[[QLO:.*]] = arith.muli
// CHECK: %[[QHI:.*]] = arith.minui
// CHECK: scf.for %[[R:.*]] = %[[QLO]] to %[[QHI]]
// CHECK: tensor.extract %[[Q]][%{{.*}}, %{{.*}}, %[[R]], %{{.*}}] : tensor<1x4x10x8xf32>
// CHECK: %[[CNT:.*]] = arith.subi %[[QHI]], %[[QLO]] : index
// CHECK: arith.divf
// CHECK: %[[KB:.*]] = linalg.generic {indexing_maps = [#[[$ID4]]], {{.*}} outs(%{{.*}} : tensor<1x2x3x8xf32>)
// CHECK: tensor.extract %[[K]]
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$K5]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[QB]], %[[KB]] :
// CHECK: %[[SEL:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[S]] : tensor<1x4x3x3xf32>) outs(%{{.*}} : tensor<1x4x3x3xi1>)
// CHECK: %[[NCAND:.*]] = arith.select
// CHECK: %[[DIAG:.*]] = arith.subi %[[NCAND]], %{{.*}} : index
// CHECK: %[[RANK:.*]] = scf.for %[[J2:.*]] = %{{.*}} to %[[NCAND]] step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (index)
// CHECK: tensor.extract %[[S]][%{{.*}}, %{{.*}}, %{{.*}}, %[[J2]]] : tensor<1x4x3x3xf32>
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpi ult, %[[J2]]
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ne, %[[J2]], %[[DIAG]] : index
// CHECK: scf.yield
// CHECK: %[[ISCAND:.*]] = arith.cmpi slt, %{{.*}}, %[[NCAND]] : index
// CHECK: %[[ISDIAG:.*]] = arith.cmpi eq, %{{.*}}, %[[DIAG]] : index
// CHECK: %[[INTOP:.*]] = arith.cmpi slt, %[[RANK]], %{{.*}} : index
// CHECK: %[[EITHER:.*]] = arith.ori %[[ISDIAG]], %[[INTOP]] : i1
// CHECK: %[[BIT:.*]] = arith.andi %[[ISCAND]], %[[EITHER]] : i1
// CHECK: linalg.yield %[[BIT]] : i1
// CHECK: return %[[SEL]] : tensor<1x4x3x3xi1>
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @select_blocks_causal
// LLVM-NOT: loom.
func.func @select_blocks_causal(%q: tensor<1x4x10x8xf32>, %k: tensor<1x2x12x8xf32>) -> tensor<1x4x3x3xi1> {
  %l = loom.select_blocks %q, %k {block_q = 4 : i64, block_k = 5 : i64, topk = 1 : i64, causal}
    : (tensor<1x4x10x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x4x3x3xi1>
  return %l : tensor<1x4x3x3xi1>
}

// -----

// Dynamic select_blocks without causal: NQB and NKB are ceil-divisions of the
// dynamic lengths, every key block is a candidate, no diagonal.
// CHECK-LABEL: func.func @select_blocks_dynamic
// CHECK-SAME: (%[[Q:.*]]: tensor<?x?x?x?xbf16>, %[[K:.*]]: tensor<?x?x?x?xbf16>)
// CHECK: %[[SQ3:.*]] = arith.addi %{{.*}}, %c3{{(_[0-9]+)?}} : index
// CHECK: %[[NQB:.*]] = arith.divui %[[SQ3]], %c4{{(_[0-9]+)?}} : index
// CHECK: tensor.empty(%{{.*}}, %{{.*}}, %[[NQB]], %{{.*}}) : tensor<?x?x?x?xf32>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x?x?xi1>)
// CHECK-NOT: arith.cmpi sge
// CHECK: scf.for
// CHECK: linalg.yield %{{.*}} : i1
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @select_blocks_dynamic
// LLVM-NOT: loom.
func.func @select_blocks_dynamic(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xi1> {
  %l = loom.select_blocks %q, %k {block_q = 4 : i64, block_k = 5 : i64, topk = 2 : i64}
    : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xi1>
  return %l : tensor<?x?x?x?xi1>
}
