// loom-fuse-elementwise-chains merges a parallel producer into a parallel
// consumer, read broadcast or not, unless the producer's body holds loops
// or branches and the consumer reads it broadcast: that work would be
// redone for every element of the broadcast dims (paged_attention's row
// lookup, a loop over the sequences per token, feeds its [T, Hq, keys]
// scores).
// RUN: loom-opt %s -split-input-file --loom-fuse-elementwise-chains | FileCheck %s

#tok = affine_map<(d0, d1) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id1 = affine_map<(d0) -> (d0)>

// A cheap producer (one multiply) read broadcast: merged.
// CHECK-LABEL: func.func @cheap_broadcast
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @cheap_broadcast(%a: tensor<8xf32>, %b: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %p = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %x : f32
    linalg.yield %y : f32
  } -> tensor<8xf32>
  %e2 = tensor.empty() : tensor<8x4xf32>
  %c = linalg.generic {indexing_maps = [#tok, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%p, %b : tensor<8xf32>, tensor<8x4xf32>) outs(%e2 : tensor<8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %z = arith.addf %x, %y : f32
    linalg.yield %z : f32
  } -> tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}

// -----

#tok = affine_map<(d0, d1) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id1 = affine_map<(d0) -> (d0)>

// A producer with a loop (a search per token) read broadcast: kept apart.
// CHECK-LABEL: func.func @search_broadcast
// CHECK: %[[P:.*]] = linalg.generic
// CHECK: scf.for
// CHECK: linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<8xindex>, tensor<8x4xf32>)
func.func @search_broadcast(%off: tensor<5xindex>, %b: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %e = tensor.empty() : tensor<8xindex>
  %p = linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%e : tensor<8xindex>) {
  ^bb0(%o: index):
    %t = linalg.index 0 : index
    %n = scf.for %i = %c0 to %c5 step %c1 iter_args(%acc = %c0) -> (index) {
      %v = tensor.extract %off[%i] : tensor<5xindex>
      %le = arith.cmpi sle, %v, %t : index
      %inc = arith.select %le, %c1, %c0 : index
      %next = arith.addi %acc, %inc : index
      scf.yield %next : index
    }
    linalg.yield %n : index
  } -> tensor<8xindex>
  %e2 = tensor.empty() : tensor<8x4xf32>
  %c = linalg.generic {indexing_maps = [#tok, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%p, %b : tensor<8xindex>, tensor<8x4xf32>) outs(%e2 : tensor<8x4xf32>) {
  ^bb0(%x: index, %y: f32, %o: f32):
    %i = arith.index_cast %x : index to i64
    %f = arith.sitofp %i : i64 to f32
    %z = arith.addf %f, %y : f32
    linalg.yield %z : f32
  } -> tensor<8x4xf32>
  return %c : tensor<8x4xf32>
}

// -----

#tok = affine_map<(d0, d1) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id1 = affine_map<(d0) -> (d0)>

// The same producer read without broadcast (identity map): merged, the
// search still done once per element.
// CHECK-LABEL: func.func @search_identity
// CHECK: linalg.generic
// CHECK: scf.for
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @search_identity(%off: tensor<5xindex>, %b: tensor<8xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %e = tensor.empty() : tensor<8xindex>
  %p = linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%e : tensor<8xindex>) {
  ^bb0(%o: index):
    %t = linalg.index 0 : index
    %n = scf.for %i = %c0 to %c5 step %c1 iter_args(%acc = %c0) -> (index) {
      %v = tensor.extract %off[%i] : tensor<5xindex>
      %le = arith.cmpi sle, %v, %t : index
      %inc = arith.select %le, %c1, %c0 : index
      %next = arith.addi %acc, %inc : index
      scf.yield %next : index
    }
    linalg.yield %n : index
  } -> tensor<8xindex>
  %e2 = tensor.empty() : tensor<8xf32>
  %c = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]} ins(%p, %b : tensor<8xindex>, tensor<8xf32>) outs(%e2 : tensor<8xf32>) {
  ^bb0(%x: index, %y: f32, %o: f32):
    %i = arith.index_cast %x : index to i64
    %f = arith.sitofp %i : i64 to f32
    %z = arith.addf %f, %y : f32
    linalg.yield %z : f32
  } -> tensor<8xf32>
  return %c : tensor<8xf32>
}
