// Through the whole CPU pipeline, results that would alias an argument or a
// global constant come back as fresh allocations, and returning a strided
// view copies it with loops: no bufferization.clone or memrefCopy call is
// left for the LLVM translation.
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s

// CHECK-NOT: bufferization.clone
// CHECK-NOT: memrefCopy
// CHECK-LABEL: llvm.func @ret_arg(
// CHECK: llvm.call @malloc
// CHECK: "llvm.intr.memcpy"
// CHECK-LABEL: llvm.func @ret_const(
// CHECK: llvm.call @malloc
// CHECK: "llvm.intr.memcpy"
// CHECK-LABEL: llvm.func @ret_slice(
// CHECK: llvm.call @malloc
// CHECK-NOT: memrefCopy
func.func @ret_arg(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
func.func @ret_const() -> tensor<4xf32> {
  %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %c : tensor<4xf32>
}
func.func @ret_slice(%a: tensor<8x8xf32>) -> tensor<4x4xf32> {
  %c = tensor.extract_slice %a[2, 2][4, 4][1, 1] : tensor<8x8xf32> to tensor<4x4xf32>
  return %c : tensor<4x4xf32>
}
