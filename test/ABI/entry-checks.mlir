// RUN: loom-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(convert-loom-to-linalg,func.func(convert-elementwise-to-linalg),generate-runtime-verification{verbose-level=0},resolve-ranked-shaped-type-result-dims,canonicalize,cse,loom-entry-checks,canonicalize,cse)' | FileCheck %s

// Dynamic sizes: rms_norm needs g's size to be x's last, linear needs w's
// last to be x's last, and the residual add needs w's rows (y's last) to be
// x's last too. Each is asserted by several linalg ops: one check each.

// CHECK-DAG: llvm.mlir.global internal constant @__loom_check_dyn_0("dyn: argument 0 dimension 0 (?) must not be negative\00")
// CHECK-DAG: llvm.mlir.global internal constant @__loom_check_dyn_4("dyn: argument 2 dimension 1 (?) must not be negative\00")
// CHECK-DAG: llvm.mlir.global internal constant @__loom_check_dyn_5("dyn: argument 1 dimension 0 (?) must equal argument 0 dimension 1 (required at entry-checks.mlir:[[@LINE+29]]:8)\00")
// CHECK-DAG: llvm.mlir.global internal constant @__loom_check_dyn_6("dyn: argument 2 dimension 1 (?) must equal argument 0 dimension 1 (required at entry-checks.mlir:[[@LINE+29]]:8)\00")
// CHECK-DAG: llvm.mlir.global internal constant @__loom_check_dyn_7("dyn: argument 2 dimension 0 (?) must equal argument 0 dimension 1 (required at entry-checks.mlir:[[@LINE+29]]:8)\00")
// CHECK-NOT: @__loom_check_dyn_8
// CHECK-LABEL: func.func private @__loom_check_dyn(
// CHECK-SAME: %[[X0:[^:]*]]: index, %[[X1:[^:]*]]: index, %[[G0:[^:]*]]: index, %[[W0:[^:]*]]: index, %[[W1:[^:]*]]: index) -> !llvm.ptr {
// CHECK-DAG: %[[M5:.*]] = llvm.mlir.addressof @__loom_check_dyn_5 : !llvm.ptr
// CHECK-DAG: %[[M7:.*]] = llvm.mlir.addressof @__loom_check_dyn_7 : !llvm.ptr
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[TRUE:.*]] = arith.constant true
// CHECK: %[[NONNEG:.*]] = arith.cmpi sge, %[[X0]], %[[C0]] : index
// CHECK: %[[G_EQ:.*]] = index.cmp eq(%[[X1]], %[[G0]])
// The relation holds where the rms_norm's loops run (x is not empty).
// CHECK: %[[RUN0:.*]] = index.cmp slt(%[[C0]], %[[X0]])
// CHECK: %[[RUN1:.*]] = index.cmp slt(%[[C0]], %[[X1]])
// CHECK: %[[RUNS:.*]] = arith.andi %[[RUN0]], %[[RUN1]] : i1
// CHECK: %[[SKIPPED:.*]] = arith.xori %[[RUNS]], %[[TRUE]] : i1
// CHECK: %[[G_OK:.*]] = arith.ori %[[SKIPPED]], %[[G_EQ]] : i1
// CHECK: %[[W_EQ:.*]] = index.cmp eq(%[[W0]], %[[X1]])
// CHECK: %[[W_OK:.*]] = arith.ori %{{.*}}, %[[W_EQ]] : i1
// The first failed check's message, or NULL.
// CHECK: %[[S7:.*]] = arith.select %[[W_OK]], %[[NULL]], %[[M7]] : !llvm.ptr
// CHECK: %[[S6:.*]] = arith.select %{{.*}}, %[[S7]], %{{.*}} : !llvm.ptr
// CHECK: %[[S5:.*]] = arith.select %[[G_OK]], %[[S6]], %[[M5]] : !llvm.ptr
// CHECK: %[[S:.*]] = arith.select %[[NONNEG]], %{{.*}}, %{{.*}} : !llvm.ptr
// CHECK: return %[[S]] : !llvm.ptr

func.func @dyn(%x: tensor<?x?xf32>, %g: tensor<?xf32>, %w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-05 : f32} : (tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  %y = loom.linear %n, %w : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %z = arith.addf %y, %x : tensor<?x?xf32>
  return %z : tensor<?x?xf32>
}

// A static argument and a rank-0 one; a cast to a static size is a relation
// with a constant.

// CHECK-DAG: @__loom_check_cast_1("cast: argument 0 dimension 1 must be 4\00")
// CHECK-DAG: @__loom_check_cast_2("cast: argument 0 dimension 0 (?) must be 3 (required at entry-checks.mlir:[[@LINE+5]]:8)\00")
// CHECK-NOT: @__loom_check_cast_3
// CHECK-LABEL: func.func private @__loom_check_cast(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index) -> !llvm.ptr
func.func @cast(%x: tensor<?x4xf32>, %s: tensor<f32>) -> tensor<3x4xf32> {
  %c = tensor.cast %x : tensor<?x4xf32> to tensor<3x4xf32>
  return %c : tensor<3x4xf32>
}

// A slice whose offset is data cannot be checked at entry: only what does
// not depend on it is.

// CHECK-DAG: @__loom_check_data_0("data: argument 0 dimension 0 (?) must not be negative\00")
// CHECK-DAG: @__loom_check_data_1("data: argument 1 dimension 0 must be 1\00")
// CHECK-NOT: @__loom_check_data_2
// CHECK-LABEL: func.func private @__loom_check_data(
func.func @data(%x: tensor<?xf32>, %o: tensor<1xi32>) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %e = tensor.extract %o[%c0] : tensor<1xi32>
  %i = arith.index_cast %e : i32 to index
  %s = tensor.extract_slice %x[%i] [4] [1] : tensor<?xf32> to tensor<4xf32>
  return %s : tensor<4xf32>
}

// Private functions are not entries.
// CHECK-NOT: @__loom_check_helper
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// expected-error @below {{entry @scalar: loom-entry-checks needs ranked tensor arguments}}
func.func @scalar(%x: f32) -> f32 {
  return %x : f32
}
