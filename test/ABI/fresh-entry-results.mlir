// loom-fresh-entry-results gives every result of a public function an
// allocation of its own: arguments, globals, views and repeated allocations
// are copied; allocations and clones returned once are kept.
// RUN: loom-opt %s --loom-fresh-entry-results | FileCheck %s

memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>

// CHECK-LABEL: func.func @argument(
// CHECK-SAME: %[[A:.*]]: memref<?xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[A]], %c0
// CHECK: %[[C:.*]] = memref.alloc(%[[N]]) {alignment = 64 : i64} : memref<?xf32>
// CHECK: memref.copy %[[A]], %[[C]]
// CHECK: return %[[C]]
func.func @argument(%a: memref<?xf32>) -> memref<?xf32> {
  return %a : memref<?xf32>
}

// CHECK-LABEL: func.func @global()
// CHECK: %[[G:.*]] = memref.get_global @table
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xf32>
// CHECK: memref.copy %[[G]], %[[C]]
// CHECK: return %[[C]]
func.func @global() -> memref<2xf32> {
  %g = memref.get_global @table : memref<2xf32>
  return %g : memref<2xf32>
}

// CHECK-LABEL: func.func @twice()
// CHECK: %[[A:.*]] = memref.alloc() : memref<2xf32>
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2xf32>
// CHECK: memref.copy %[[A]], %[[C]]
// CHECK: return %[[A]], %[[C]]
func.func @twice() -> (memref<2xf32>, memref<2xf32>) {
  %a = memref.alloc() : memref<2xf32>
  return %a, %a : memref<2xf32>, memref<2xf32>
}

// CHECK-LABEL: func.func @view(
// CHECK: %[[V:.*]] = memref.collapse_shape
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK: memref.copy %[[V]], %[[C]]
// CHECK: return %[[C]]
func.func @view(%a: memref<2x2xf32>) -> memref<4xf32> {
  %v = memref.collapse_shape %a [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  return %v : memref<4xf32>
}

// CHECK-LABEL: func.func @fresh(
// CHECK-NEXT: %[[A:.*]] = memref.alloc()
// CHECK-NEXT: %[[B:.*]] = bufferization.clone
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @fresh(%x: memref<2xf32>) -> (memref<2xf32>, memref<2xf32>) {
  %a = memref.alloc() : memref<2xf32>
  %b = bufferization.clone %x : memref<2xf32> to memref<2xf32>
  return %a, %b : memref<2xf32>, memref<2xf32>
}

// A kernel's result reshaped back to the caller's shape is still the
// allocation: no copy.
// CHECK-LABEL: func.func @reshaped_allocation(
// CHECK-NEXT: %[[A:.*]] = memref.alloc() : memref<8x4xf32>
// CHECK-NEXT: %[[E:.*]] = memref.expand_shape %[[A]]
// CHECK-NEXT: %[[K:.*]] = memref.cast %[[E]]
// CHECK-NEXT: return %[[K]]
func.func @reshaped_allocation() -> memref<?x4x4xf32> {
  %a = memref.alloc() : memref<8x4xf32>
  %e = memref.expand_shape %a [[0, 1], [2]] output_shape [2, 4, 4] : memref<8x4xf32> into memref<2x4x4xf32>
  %k = memref.cast %e : memref<2x4x4xf32> to memref<?x4x4xf32>
  return %k : memref<?x4x4xf32>
}

// Two views of one allocation would free it twice: the second is copied.
// CHECK-LABEL: func.func @two_views(
// CHECK: %[[A:.*]] = memref.alloc() : memref<2x2xf32>
// CHECK: %[[V:.*]] = memref.collapse_shape %[[A]]
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
// CHECK: memref.copy %[[V]], %[[C]]
// CHECK: return %[[A]], %[[C]]
func.func @two_views() -> (memref<2x2xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<2x2xf32>
  %v = memref.collapse_shape %a [[0, 1]] : memref<2x2xf32> into memref<4xf32>
  return %a, %v : memref<2x2xf32>, memref<4xf32>
}

// CHECK-LABEL: func.func private @internal(
// CHECK-NEXT: return %{{.*}} : memref<2xf32>
func.func private @internal(%a: memref<2xf32>) -> memref<2xf32> {
  return %a : memref<2xf32>
}
