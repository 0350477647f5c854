// loom-pack-i4-abi packs i4 tensors two per byte (even index in the low
// nibble) at the boundary of public functions; bodies keep their i4 tensors.
// RUN: loom-opt %s --loom-pack-i4-abi --split-input-file --verify-diagnostics | FileCheck %s

// CHECK-DAG: #[[$UNPACK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @argument(
// CHECK-SAME: %[[W:.*]]: tensor<4x4xi8>) -> tensor<4x8xi8>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xi4>
// CHECK: %[[U:.*]] = linalg.generic {indexing_maps = [#[[$UNPACK]], #[[$ID]]]
// CHECK-SAME: ins(%[[W]] : tensor<4x4xi8>) outs(%[[E]] : tensor<4x8xi4>)
// CHECK: ^bb0(%[[IN:.*]]: i8, %{{.*}}: i4):
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: %[[ODD:.*]] = arith.andi %[[J]]
// CHECK: arith.select
// CHECK: %[[UP:.*]] = arith.shli %[[IN]]
// CHECK: %[[V:.*]] = arith.shrsi %[[UP]]
// CHECK: %[[N:.*]] = arith.trunci %[[V]] : i8 to i4
// CHECK: linalg.yield %[[N]] : i4
// CHECK: arith.extsi %[[U]] : tensor<4x8xi4> to tensor<4x8xi8>
func.func @argument(%w: tensor<4x8xi4>) -> tensor<4x8xi8> {
  %r = arith.extsi %w : tensor<4x8xi4> to tensor<4x8xi8>
  return %r : tensor<4x8xi8>
}

// -----

// A result is packed before the return; a dynamic innermost size is halved.
// CHECK-DAG: #[[$LO:.*]] = affine_map<(d0, d1) -> (d0, d1 * 2)>
// CHECK-DAG: #[[$HI:.*]] = affine_map<(d0, d1) -> (d0, d1 * 2 + 1)>
// CHECK-LABEL: func.func @result(
// CHECK-SAME: %{{.*}}: tensor<?x?xi8>) -> tensor<?x?xi8>
// CHECK: %[[T:.*]] = arith.trunci
// CHECK: %[[K:.*]] = tensor.dim %[[T]], %c1
// CHECK: %[[HALF:.*]] = arith.divui %[[K]], %c2
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %[[HALF]]) : tensor<?x?xi8>
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[$LO]], #[[$HI]], #{{.*}}]
// CHECK-SAME: ins(%[[T]], %[[T]] : tensor<?x?xi4>, tensor<?x?xi4>) outs(%[[E]] : tensor<?x?xi8>)
// CHECK: ^bb0(%[[A:.*]]: i4, %[[B:.*]]: i4, %{{.*}}: i8):
// CHECK: %[[LOW:.*]] = arith.extui %[[A]] : i4 to i8
// CHECK: %[[HIGH:.*]] = arith.extui %[[B]] : i4 to i8
// CHECK: %[[SHIFTED:.*]] = arith.shli %[[HIGH]]
// CHECK: %[[BYTE:.*]] = arith.ori %[[LOW]], %[[SHIFTED]] : i8
// CHECK: linalg.yield %[[BYTE]]
// CHECK: return %[[P]] : tensor<?x?xi8>
func.func @result(%x: tensor<?x?xi8>) -> tensor<?x?xi4> {
  %r = arith.trunci %x : tensor<?x?xi8> to tensor<?x?xi4>
  return %r : tensor<?x?xi4>
}

// -----

// A dynamic i4 argument unpacks to twice the packed size; private functions
// and other types are left alone.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %[[W:.*]]: tensor<?xi8>, %{{.*}}: tensor<2xf32>) -> tensor<2xf32>
// CHECK: %[[N:.*]] = tensor.dim %[[W]], %c0
// CHECK: %[[K:.*]] = arith.muli %[[N]], %c2
// CHECK: tensor.empty(%[[K]]) : tensor<?xi4>
// CHECK-LABEL: func.func private @helper(%{{.*}}: tensor<4xi4>) -> tensor<4xi4>
func.func @dynamic(%w: tensor<?xi4>, %x: tensor<2xf32>) -> tensor<2xf32> {
  %c0 = arith.constant 0 : index
  %e = tensor.extract %w[%c0] : tensor<?xi4>
  return %x : tensor<2xf32>
}
func.func private @helper(%w: tensor<4xi4>) -> tensor<4xi4> {
  return %w : tensor<4xi4>
}

// -----

// expected-error @below {{argument 0 ('tensor<4x3xi4>') has an odd innermost dimension}}
func.func @odd(%w: tensor<4x3xi4>) -> tensor<4x3xi4> {
  return %w : tensor<4x3xi4>
}

// -----

// expected-error @below {{result 0 is a rank-0 i4 tensor}}
func.func @scalar(%w: tensor<2xi4>) -> tensor<i4> {
  %c0 = arith.constant 0 : index
  %e = tensor.extract %w[%c0] : tensor<2xi4>
  %t = tensor.from_elements %e : tensor<i4>
  return %t : tensor<i4>
}

// -----

// expected-error @below {{@called has i4 tensors at its boundary and is also called inside the module}}
func.func @called(%w: tensor<2xi4>) -> tensor<2xi4> {
  return %w : tensor<2xi4>
}
func.func @caller(%w: tensor<2xi4>) -> tensor<2xi4> {
  %r = func.call @called(%w) : (tensor<2xi4>) -> tensor<2xi4>
  return %r : tensor<2xi4>
}
