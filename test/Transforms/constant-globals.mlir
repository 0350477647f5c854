// loom-constant-globals: every tensor constant gets its memref.global, in
// program order, before bufferization; bufferization then reuses them.
// RUN: loom-opt %s -loom-constant-globals | FileCheck %s
// RUN: loom-opt %s -loom-constant-globals -one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF
// RUN: loom-opt %s -loom-constant-globals="alignment=16" | FileCheck %s --check-prefix=ALIGN

// Each global is inserted at the top of the module, so the last constant's
// comes first; an equal value of the same type shares one global, and a
// scalar constant has none.
// CHECK:      memref.global "private" constant @__constant_3xi32 : memref<3xi32> = dense<[7, 8, 9]> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[3.000000e+00, 4.000000e+00]> {alignment = 64 : i64}
// CHECK-NEXT: memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]> {alignment = 64 : i64}
// CHECK-NOT:  memref.global
// CHECK:      func.func @first
// CHECK:      arith.constant dense<[1.000000e+00, 2.000000e+00]>

// Bufferization finds them: no other global, each read by name.
// BUF-COUNT-3: memref.global "private" constant
// BUF-NOT:     memref.global
// BUF-LABEL:   func.func @first
// BUF:         memref.get_global @__constant_2xf32 :
// BUF:         memref.get_global @__constant_2xf32_0 :
// BUF-LABEL:   func.func @second
// BUF:         memref.get_global @__constant_2xf32 :
// BUF:         memref.get_global @__constant_3xi32 :

// ALIGN: memref.global "private" constant @__constant_3xi32 : memref<3xi32> = dense<[7, 8, 9]> {alignment = 16 : i64}

func.func @first() -> (tensor<2xf32>, tensor<2xf32>, f32) {
  %c = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %d = arith.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %s = arith.constant 5.0 : f32
  return %c, %d, %s : tensor<2xf32>, tensor<2xf32>, f32
}

func.func @second() -> (tensor<2xf32>, tensor<3xi32>) {
  %c = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %i = arith.constant dense<[7, 8, 9]> : tensor<3xi32>
  return %c, %i : tensor<2xf32>, tensor<3xi32>
}
