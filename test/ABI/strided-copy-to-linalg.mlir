// loom-strided-copy-to-linalg turns copies that involve a non-identity layout
// into linalg.copy (loops later), so that no call to memrefCopy from MLIR's
// runner utilities is left in a compiled module.
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-strided-copy-to-linalg))' | FileCheck %s
// RUN: loom-opt %s --pass-pipeline='builtin.module(func.func(loom-strided-copy-to-linalg,convert-linalg-to-loops),expand-strided-metadata,convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts)' | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @strided(
// CHECK: linalg.copy ins(%{{.*}} : memref<2x2xf32, strided<[4, 1], offset: 5>>) outs(%{{.*}} : memref<2x2xf32>)
// CHECK-NOT: memref.copy
// CHECK-LABEL: func.func @contiguous(
// CHECK: memref.copy
// LLVM-NOT: memrefCopy
// LLVM: llvm.func @strided(
// LLVM-NOT: memrefCopy
// LLVM: llvm.func @contiguous(
// LLVM: "llvm.intr.memcpy"
func.func @strided(%a: memref<4x4xf32>, %b: memref<2x2xf32>) {
  %s = memref.subview %a[1, 1] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  memref.copy %s, %b : memref<2x2xf32, strided<[4, 1], offset: 5>> to memref<2x2xf32>
  return
}
func.func @contiguous(%a: memref<4xf32>, %b: memref<4xf32>) {
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  return
}
