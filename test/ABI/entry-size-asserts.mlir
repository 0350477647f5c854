// RUN: loom-opt %s -split-input-file --loom-entry-size-asserts | FileCheck %s --check-prefix=ASSERT
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(convert-loom-to-linalg,func.func(convert-elementwise-to-linalg),loom-entry-size-asserts,generate-runtime-verification{verbose-level=0},resolve-ranked-shaped-type-result-dims,canonicalize,cse,loom-entry-checks,canonicalize,cse)' | FileCheck %s --check-prefix=CHECKS

// Every dynamically sized tensor of an entry asserts that its size in bytes
// (0 counted as 1) fits: the static part (8 x 4 bytes) times each dynamic
// dimension, with the high half of each unsigned product 0 and the low half
// non-negative.

// ASSERT-LABEL: func.func @dyn(
// ASSERT-SAME: %[[X:.*]]: tensor<?x8xf32>)
// ASSERT-DAG: %[[STATIC:.*]] = arith.constant 32 : i64
// ASSERT-DAG: %[[ONE:.*]] = arith.constant 1 : index
// ASSERT: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x8xf32>
// ASSERT: %[[AT_LEAST_ONE:.*]] = arith.maxsi %[[D]], %[[ONE]] : index
// ASSERT: %[[F:.*]] = arith.index_cast %[[AT_LEAST_ONE]] : index to i64
// ASSERT: %[[LO:.*]], %[[HI:.*]] = arith.mului_extended %[[STATIC]], %[[F]] : i64
// ASSERT: cf.assert %{{.*}}, "loom-size: argument 0: tensor<?x8xf32>"
// ASSERT: loom.silu
// ASSERT: cf.assert %{{.*}}, "loom-size: value: tensor<?x8xf32>"
// ASSERT: return

// After loom-entry-checks: one check for the argument (the value's has the
// same condition but its own message), after the sign checks.
// CHECKS-DAG: llvm.mlir.global internal constant @__loom_check_dyn_0("dyn: argument 0 dimension 0 (?) must not be negative\00")
// CHECKS-DAG: llvm.mlir.global internal constant @__loom_check_dyn_2("dyn: the argument sizes make argument 0 (tensor<?x8xf32>) larger than 2^63 - 1 bytes\00")
// CHECKS-DAG: llvm.mlir.global internal constant @__loom_check_dyn_3("dyn: the argument sizes make a tensor<?x8xf32> value larger than 2^63 - 1 bytes (required at entry-size-asserts.mlir:[[@LINE+5]]:8)\00")
// CHECKS-LABEL: func.func private @__loom_check_dyn(
// CHECKS: arith.mului_extended

func.func @dyn(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %y = loom.silu %x : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Static sizes need nothing (the verifiers see them); private functions are
// not entries.

// ASSERT-LABEL: func.func @static(
// ASSERT-NOT: cf.assert
// ASSERT-LABEL: func.func private @helper(
// ASSERT-NOT: cf.assert
func.func @static(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %y = loom.silu %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
