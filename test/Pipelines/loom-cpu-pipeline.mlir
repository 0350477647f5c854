// --loom-cpu-pipeline takes a block with loom ops and the upstream ops beside
// them (reshapes, transposes, arith on tensors) to the LLVM dialect; with
// to-llvm=false it stops at bufferized loops.
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s
// RUN: loom-opt %s '--loom-cpu-pipeline=to-llvm=false' | FileCheck %s --check-prefix=LOOPS

// CHECK-NOT: loom.
// CHECK-NOT: tensor<
// CHECK-LABEL: llvm.func @block
// CHECK: llvm.call @malloc
// CHECK-LABEL: llvm.func @_mlir_ciface_block

// LOOPS-LABEL: func.func @block
// LOOPS-SAME: memref<4x8xf32>
// LOOPS: scf.for
// LOOPS-NOT: llvm.func
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %e = tensor.expand_shape %n [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %i = tensor.empty() : tensor<2x4x4xf32>
  %t = linalg.transpose ins(%e : tensor<4x2x4xf32>) outs(%i : tensor<2x4x4xf32>) permutation = [1, 0, 2]
  %a = loom.silu %t : (tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %c = tensor.collapse_shape %a [[0, 1], [2]] : tensor<2x4x4xf32> into tensor<8x4xf32>
  %r = tensor.collapse_shape %c [[0, 1]] : tensor<8x4xf32> into tensor<32xf32>
  %x2 = tensor.collapse_shape %x [[0, 1]] : tensor<4x8xf32> into tensor<32xf32>
  %s = arith.addf %r, %x2 : tensor<32xf32>
  %o = tensor.expand_shape %s [[0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}
