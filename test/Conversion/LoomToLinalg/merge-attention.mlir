// Lowering of the lse result of the attention ops and of merge_attention to
// linalg (the CPU reference): lse = m + log(l) per row, -inf where l = 0;
// merge_attention as the merged lse per row, then the weighted sum of the
// outputs in f32, rounded once. loom-tile leaves the lse form to this
// lowering, and the CPU pipeline compiles both.
// RUN: loom-opt %s --convert-loom-to-linalg -split-input-file | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-tile))' -split-input-file | FileCheck %s --check-prefix=TILE
// RUN: loom-opt %s --loom-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// CHECK-DAG: #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @attention_lse
// Row max m and row sum l of the masked scores.
// CHECK: %[[M:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<1x2x5x7xf32>) outs(%{{.*}} : tensor<1x2x5xf32>)
// CHECK: arith.maximumf
// CHECK: %[[L:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<1x2x5x7xf32>) outs(%{{.*}} : tensor<1x2x5xf32>)
// CHECK: arith.addf
// CHECK: %[[O:.*]] = linalg.generic
// lse = l == 0 ? -inf : m + log(l).
// CHECK: %[[LSE:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[M]], %[[L]] : tensor<1x2x5xf32>, tensor<1x2x5xf32>)
// CHECK: ^bb0(%[[MI:.*]]: f32, %[[LI:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[NONE:.*]] = arith.cmpf oeq, %[[LI]], %{{.*}} : f32
// CHECK: %[[LOG:.*]] = math.log %[[LI]] : f32
// CHECK: %[[SUM:.*]] = arith.addf %[[MI]], %[[LOG]] : f32
// CHECK: arith.select %[[NONE]], %{{.*}}, %[[SUM]] : f32
// CHECK: return %{{.*}}, %[[LSE]] : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
// TILE-LABEL: func.func @attention_lse
// TILE-NOT: scf.forall
// TILE: loom.attention
// LLVM-LABEL: llvm.func @attention_lse
// LLVM: llvm.intr.log
func.func @attention_lse(%q: tensor<1x2x5x8xf32>, %k: tensor<1x1x7x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>) {
  %0:2 = loom.attention %q, %k, %k {causal} : (tensor<1x2x5x8xf32>, tensor<1x1x7x8xf32>, tensor<1x1x7x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>)
  return %0#0, %0#1 : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
}

// -----

// CHECK-LABEL: func.func @block_sparse_lse
// CHECK: math.log
// CHECK: return %{{.*}}, %{{.*}} : tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>
// TILE-LABEL: func.func @block_sparse_lse
// TILE-NOT: scf.forall
// TILE: loom.block_sparse_attention
func.func @block_sparse_lse(%q: tensor<1x2x5x8xbf16>, %k: tensor<1x1x7x8xbf16>, %l: tensor<1x2x1x2xi1>) -> (tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>) {
  %0:2 = loom.block_sparse_attention %q, %k, %k, %l {block_q = 8 : i64, block_k = 4 : i64} : (tensor<1x2x5x8xbf16>, tensor<1x1x7x8xbf16>, tensor<1x1x7x8xbf16>, tensor<1x2x1x2xi1>) -> (tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>)
  return %0#0, %0#1 : tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>
}

// -----

// CHECK-DAG: #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @merge
// CHECK-SAME: (%[[O0:.*]]: tensor<1x2x5x8xbf16>, %[[L0:.*]]: tensor<1x2x5xf32>, %[[O1:.*]]: tensor<1x2x5x8xbf16>, %[[L1:.*]]: tensor<1x2x5xf32>)
// The merged lse: the max, exp of the differences (0 subtracted where all
// are -inf), log of the sum, -inf where all are -inf.
// CHECK: %[[LSE:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[L0]], %[[L1]] : tensor<1x2x5xf32>, tensor<1x2x5xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[MAX:.*]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[NONE:.*]] = arith.cmpf oeq, %[[MAX]], %[[NEGINF]] : f32
// CHECK: %[[SAFE:.*]] = arith.select %[[NONE]], %{{.*}}, %[[MAX]] : f32
// CHECK: arith.subf %[[A]], %[[SAFE]] : f32
// CHECK: math.exp
// CHECK: arith.subf %[[B]], %[[SAFE]] : f32
// CHECK: math.exp
// CHECK: %[[LOG:.*]] = math.log
// CHECK: %[[Y:.*]] = arith.addf %[[MAX]], %[[LOG]] : f32
// CHECK: arith.select %[[NONE]], %[[NEGINF]], %[[Y]] : f32
// The outputs: exp(lse_i - lse) * o_i in f32, a pair with lse_i = -inf
// skipped, 0 where lse = -inf, one truncation.
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]], #[[$ROW4]], #[[$ROW4]], #[[$ROW4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[O0]], %[[O1]], %[[L0]], %[[L1]], %[[LSE]] : {{.*}}) outs(%{{.*}} : tensor<1x2x5x8xbf16>)
// CHECK: math.exp
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.fma
// CHECK: math.exp
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.fma
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK-NOT: arith.truncf
// CHECK: return %[[O]], %[[LSE]]
// LLVM-LABEL: llvm.func @merge
// LLVM: llvm.intr.exp
// LLVM: llvm.intr.log
func.func @merge(%o0: tensor<1x2x5x8xbf16>, %l0: tensor<1x2x5xf32>, %o1: tensor<1x2x5x8xbf16>, %l1: tensor<1x2x5xf32>) -> (tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>) {
  %0:2 = loom.merge_attention %o0, %l0, %o1, %l1 : (tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>, tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>) -> (tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>)
  return %0#0, %0#1 : tensor<1x2x5x8xbf16>, tensor<1x2x5xf32>
}

// -----

// One pair with a refined result type: a cast, no arithmetic.
// CHECK-LABEL: func.func @merge_one
// CHECK-NOT: linalg.generic
// CHECK: tensor.cast %arg0 : tensor<?x2x5x8xf32> to tensor<1x2x5x8xf32>
// CHECK: tensor.cast %arg1 : tensor<?x2x5xf32> to tensor<1x2x5xf32>
func.func @merge_one(%o0: tensor<?x2x5x8xf32>, %l0: tensor<?x2x5xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>) {
  %0:2 = loom.merge_attention %o0, %l0 : (tensor<?x2x5x8xf32>, tensor<?x2x5xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>)
  return %0#0, %0#1 : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
}
