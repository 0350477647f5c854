// loom-bf16-select-as-i16 selects bf16 values as i16 bit patterns (LLVM
// would otherwise round through __truncsfbf2); bitcasts of constants fold.
// RUN: loom-opt %s --loom-bf16-select-as-i16 | FileCheck %s

// CHECK-LABEL: func.func @scalar(
// CHECK-SAME: %[[C:.*]]: i1, %[[X:.*]]: i16)
// CHECK: %[[NAN:.*]] = arith.constant 32704 : i16
// CHECK: %[[S:.*]] = arith.select %[[C]], %[[NAN]], %[[X]] : i16
// CHECK: %[[R:.*]] = arith.bitcast %[[S]] : i16 to bf16
// CHECK: return %[[R]]
func.func @scalar(%c: i1, %x: i16) -> bf16 {
  %nan = arith.constant 0x7FC0 : bf16
  %b = arith.bitcast %x : i16 to bf16
  %s = arith.select %c, %nan, %b : bf16
  return %s : bf16
}

// CHECK-LABEL: func.func @vector(
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<4xi1>, vector<4xi16>
// CHECK-LABEL: func.func @other_types(
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f16
func.func @vector(%c: vector<4xi1>, %a: vector<4xbf16>, %b: vector<4xbf16>) -> vector<4xbf16> {
  %s = arith.select %c, %a, %b : vector<4xi1>, vector<4xbf16>
  return %s : vector<4xbf16>
}
func.func @other_types(%c: i1, %a: f16, %b: f16) -> f16 {
  %s = arith.select %c, %a, %b : f16
  return %s : f16
}
