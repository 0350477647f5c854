// loom-dynamic-expand-shape: an expand_shape into several dynamic sizes of
// one group (which MLIR 22's expand-strided-metadata crashes on) becomes a
// reinterpret_cast with row-major strides; both pipelines then lower it.
// RUN: loom-opt %s -split-input-file --loom-dynamic-expand-shape -verify-diagnostics | FileCheck %s
// RUN: loom-opt %s -split-input-file --loom-dynamic-expand-shape --expand-strided-metadata -verify-diagnostics | FileCheck %s --check-prefix=LOWERED
// The CPU pipeline takes such a reshape on tensors end to end.
// RUN: loom-opt %S/Inputs/dynamic-reshape.mlir --loom-cpu-pipeline | FileCheck %s --check-prefix=CPU
// CPU-LABEL: llvm.func @reshape(
// CPU: llvm.call @malloc

// CHECK-LABEL: func.func @two_dynamic(
// CHECK-SAME: %[[M:.*]]: memref<?x256xbf16>, %[[A:.*]]: index, %[[B:.*]]: index
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[S0:.*]] = arith.muli %[[C256]], %[[B]] : index
// CHECK: %[[R:.*]] = memref.reinterpret_cast %[[M]] to offset: [0], sizes: [%[[A]], %[[B]], 256], strides: [%[[S0]], 256, 1] : memref<?x256xbf16> to memref<?x?x256xbf16>
// CHECK: return %[[R]]
// LOWERED-LABEL: func.func @two_dynamic(
// LOWERED-NOT: memref.expand_shape
// LOWERED: memref.reinterpret_cast
func.func @two_dynamic(%m: memref<?x256xbf16>, %a: index, %b: index) -> memref<?x?x256xbf16> {
  %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%a, %b, 256] : memref<?x256xbf16> into memref<?x?x256xbf16>
  return %e : memref<?x?x256xbf16>
}

// -----

// Static sizes between the dynamic ones fold into the strides.
// CHECK-LABEL: func.func @mixed(
// CHECK-SAME: %[[M:.*]]: memref<?xf32>, %[[A:.*]]: index, %[[B:.*]]: index
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[S1:.*]] = arith.muli %[[C4]], %[[B]] : index
// CHECK: memref.reinterpret_cast %[[M]] to offset: [0], sizes: [%[[A]], %[[B]], 4], strides: [%[[S1]], 4, 1]
func.func @mixed(%m: memref<?xf32>, %a: index, %b: index) -> memref<?x?x4xf32> {
  %e = memref.expand_shape %m [[0, 1, 2]] output_shape [%a, %b, 4] : memref<?xf32> into memref<?x?x4xf32>
  return %e : memref<?x?x4xf32>
}

// -----

// One dynamic size per group: expand-strided-metadata handles it, left alone.
// CHECK-LABEL: func.func @one_dynamic(
// CHECK: memref.expand_shape
func.func @one_dynamic(%m: memref<?x8xf32>, %a: index) -> memref<?x2x8xf32> {
  %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%a, 2, 8] : memref<?x8xf32> into memref<?x2x8xf32>
  return %e : memref<?x2x8xf32>
}

// -----

// A strided source: an error, not a crash.
func.func @strided(%m: memref<?xf32, strided<[2]>>, %a: index, %b: index) -> memref<?x?xf32, strided<[?, 2]>> {
  // expected-error @below {{loom-dynamic-expand-shape: a memref.expand_shape into several dynamic sizes of one group is only supported on an identity-layout buffer}}
  %e = memref.expand_shape %m [[0, 1]] output_shape [%a, %b] : memref<?xf32, strided<[2]>> into memref<?x?xf32, strided<[?, 2]>>
  return %e : memref<?x?xf32, strided<[?, 2]>>
}
