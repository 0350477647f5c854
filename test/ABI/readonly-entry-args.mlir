// loom-readonly-entry-args marks the tensor arguments of public functions
// read-only, so that bufferization copies instead of writing into a caller's
// input; the second RUN line checks that effect through the CPU pipeline.
// RUN: loom-opt %s --loom-readonly-entry-args | FileCheck %s
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-cpu-pipeline=to-llvm=false' | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func.func @double(
// CHECK-SAME: %{{.*}}: tensor<4xf32> {bufferization.writable = false}, %{{.*}}: index)
// CHECK-LABEL: func.func private @helper(
// CHECK-NOT: writable
// CHECK-SAME: )

// BUF-LABEL: func.func @double(
// BUF-SAME: %[[X:.*]]: memref<4xf32>
// BUF: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<4xf32>
// BUF: scf.for
// BUF-NOT: memref.store %{{.*}}, %[[X]]
// BUF: memref.store %{{.*}}, %[[OUT]]
// BUF: return %[[OUT]]
func.func @double(%x: tensor<4xf32>, %i: index) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
