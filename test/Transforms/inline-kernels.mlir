// loom-inline-kernels: every loom.kernel is replaced by its body.
// RUN: loom-opt %s -split-input-file -loom-inline-kernels | FileCheck %s

// CHECK-LABEL: func.func @two_results
// CHECK-NOT:   loom.kernel
// CHECK:       %[[C:.*]] = arith.constant dense<2.000000e+00> : tensor<8xf32>
// CHECK-NEXT:  %[[S:.*]] = loom.silu %arg0
// CHECK-NEXT:  %[[M:.*]] = arith.mulf %[[S]], %[[C]]
// CHECK-NEXT:  %[[A:.*]] = arith.addf %[[M]], %arg1
// CHECK-NEXT:  return %[[A]], %[[S]]
func.func @two_results(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0:2 = loom.kernel "silu+mulf" (%x) : (tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%a: tensor<8xf32>):
    %c = arith.constant dense<2.0> : tensor<8xf32>
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    %m = arith.mulf %s, %c : tensor<8xf32>
    loom.yield %m, %s : tensor<8xf32>, tensor<8xf32>
  }
  %1 = loom.kernel "addf" (%0#0, %y) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<8xf32>, %b: tensor<8xf32>):
    %s = arith.addf %a, %b : tensor<8xf32>
    loom.yield %s : tensor<8xf32>
  }
  return %1, %0#1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// A kernel that yields one of its inputs unchanged.
// CHECK-LABEL: func.func @passthrough
// CHECK-NEXT:  %[[S:.*]] = loom.silu %arg0
// CHECK-NEXT:  return %[[S]], %arg0
func.func @passthrough(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0:2 = loom.kernel "silu" (%x) : (tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%a: tensor<8xf32>):
    %s = loom.silu %a : (tensor<8xf32>) -> tensor<8xf32>
    loom.yield %s, %a : tensor<8xf32>, tensor<8xf32>
  }
  return %0#0, %0#1 : tensor<8xf32>, tensor<8xf32>
}
