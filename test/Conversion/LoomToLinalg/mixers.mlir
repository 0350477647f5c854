// RUN: loom-opt %s --convert-loom-to-linalg | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: loom-opt %s --convert-loom-to-linalg | FileCheck %s --check-prefix=NOLOOM
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=NOLOOM

// Lowering of the mixer family (linear_attention, pool_mixer, dwconv).
// pool_mixer and dwconv: one linalg.generic over the output dims plus the tap
// dims (reductions) computing the input position in its body, bounds-checked,
// reading x at a clamped index and selecting 0 out of range.

// CHECK-DAG: #[[$TAP1:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-DAG: #[[$OUT1:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$TAP2:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[$OUT2:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$W1:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[$W2:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5, d3)>
// CHECK-DAG: #[[$QI:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$KJ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[$O5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$VJ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>

// No loom op survives either pipeline (the whole output is checked).
// NOLOOM-NOT: loom.

//===----------------------------------------------------------------------===//
// pool_mixer
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @pool_mixer_1d
// CHECK-SAME: (%[[X:.*]]: tensor<2x7x5xf32>)
// CHECK-DAG: %[[WIN:.*]] = tensor.empty() : tensor<5xf32>
// CHECK-DAG: %[[R:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[S:.*]] = arith.constant 7 : index
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<2x7x5xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$TAP1]], #[[$OUT1]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[WIN]] : tensor<5xf32>) outs(%[[ZERO]] : tensor<2x7x5xf32>)
// CHECK:   %[[B:.*]] = linalg.index 0
// CHECK:   %[[P:.*]] = linalg.index 1
// CHECK:   %[[T:.*]] = linalg.index 3
// CHECK:   %[[PT:.*]] = arith.addi %[[P]], %[[T]]
// CHECK:   %[[POS:.*]] = arith.subi %[[PT]], %[[R]]
// CHECK:   %[[GE:.*]] = arith.cmpi sge, %[[POS]], %{{.*}}
// CHECK:   %[[LT:.*]] = arith.cmpi slt, %[[POS]], %[[S]]
// CHECK:   %[[OK:.*]] = arith.andi %[[GE]], %[[LT]]
// CHECK:   %[[CL:.*]] = arith.select %[[OK]], %[[POS]], %{{.*}} : index
// CHECK:   %[[C:.*]] = linalg.index 2
// CHECK:   %[[E:.*]] = tensor.extract %[[X]][%[[B]], %[[CL]], %[[C]]]
// CHECK:   %[[V:.*]] = arith.select %[[OK]], %[[E]], %{{.*}} : f32
// CHECK:   arith.addf %{{.*}}, %[[V]]
// CHECK: linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[SUM]] : tensor<2x7x5xf32>, tensor<2x7x5xf32>)
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK:   %[[CNT:.*]] = arith.sitofp
// CHECK:   %[[AVG:.*]] = arith.divf %{{.*}}, %[[CNT]]
// CHECK:   arith.subf %[[AVG]], %{{.*}}
// CHECK-NOT: loom.
// CHECK: return
// LLVM-LABEL: llvm.func @pool_mixer_1d
func.func @pool_mixer_1d(%x: tensor<2x7x5xf32>) -> tensor<2x7x5xf32> {
  %y = loom.pool_mixer %x {kernel = 5 : i64} : (tensor<2x7x5xf32>) -> tensor<2x7x5xf32>
  return %y : tensor<2x7x5xf32>
}

// The default kernel is 3; both spatial axes are bounds-checked, the sum is
// f32 and the result is rounded once to bf16.
// CHECK-LABEL: func.func @pool_mixer_2d
// CHECK: tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$TAP2]], #[[$OUT2]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<1x6x5x3xf32>)
// CHECK:   %[[OKH:.*]] = arith.andi
// CHECK:   %[[OKW:.*]] = arith.andi
// CHECK:   %[[OK:.*]] = arith.andi %[[OKH]], %[[OKW]]
// CHECK:   tensor.extract
// CHECK:   arith.extf {{.*}} : bf16 to f32
// CHECK:   arith.select %[[OK]]
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]], #[[$ID4]]]
// CHECK:   arith.muli
// CHECK:   arith.divf
// CHECK:   arith.subf
// CHECK:   arith.truncf {{.*}} : f32 to bf16
// CHECK: return {{.*}} : tensor<1x6x5x3xbf16>
// LLVM-LABEL: llvm.func @pool_mixer_2d
func.func @pool_mixer_2d(%x: tensor<1x6x5x3xbf16>) -> tensor<1x6x5x3xbf16> {
  %y = loom.pool_mixer %x : (tensor<1x6x5x3xbf16>) -> tensor<1x6x5x3xbf16>
  return %y : tensor<1x6x5x3xbf16>
}

// Dynamic sizes come from tensor.dim.
// CHECK-LABEL: func.func @pool_mixer_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x?x?xf16>)
// CHECK-DAG: tensor.empty() : tensor<5x5xf32>
// CHECK-DAG: %[[H:.*]] = tensor.dim %[[X]], %c1
// CHECK-DAG: %[[W:.*]] = tensor.dim %[[X]], %c2
// CHECK: linalg.generic {indexing_maps = [#[[$TAP2]], #[[$OUT2]]]
// CHECK-SAME: outs(%{{.*}} : tensor<?x?x?x?xf32>)
// CHECK:   arith.cmpi slt, %{{.*}}, %[[H]]
// CHECK:   arith.cmpi slt, %{{.*}}, %[[W]]
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x?x?x?xf16>)
// CHECK:   arith.truncf {{.*}} : f32 to f16
// LLVM-LABEL: llvm.func @pool_mixer_dynamic
func.func @pool_mixer_dynamic(%x: tensor<?x?x?x?xf16>) -> tensor<?x?x?x?xf16> {
  %y = loom.pool_mixer %x {kernel = 5 : i64} : (tensor<?x?x?x?xf16>) -> tensor<?x?x?x?xf16>
  return %y : tensor<?x?x?x?xf16>
}

//===----------------------------------------------------------------------===//
// dwconv
//===----------------------------------------------------------------------===//

// Centred: offset (K - 1) / 2 = 1; the filter is the input of the generic.
// CHECK-LABEL: func.func @dwconv_same
// CHECK-SAME: (%[[X:.*]]: tensor<1x16x8xf32>, %[[W:.*]]: tensor<3x8xf32>)
// CHECK: %[[OFF:.*]] = arith.divsi
// CHECK: linalg.generic {indexing_maps = [#[[$W1]], #[[$OUT1]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[W]] : tensor<3x8xf32>) outs(%{{.*}} : tensor<1x16x8xf32>)
// CHECK: ^bb0(%[[WT:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK:   arith.subi %{{.*}}, %[[OFF]]
// CHECK:   %[[OK:.*]] = arith.andi
// CHECK:   tensor.extract %[[X]]
// CHECK:   %[[V:.*]] = arith.select %[[OK]]
// CHECK:   %[[M:.*]] = arith.mulf %[[WT]], %[[V]]
// CHECK:   arith.addf %[[ACC]], %[[M]]
// An f32 result needs no rounding pass.
// CHECK-NOT: linalg.generic
// CHECK: return
// LLVM-LABEL: llvm.func @dwconv_same
func.func @dwconv_same(%x: tensor<1x16x8xf32>, %w: tensor<3x8xf32>) -> tensor<1x16x8xf32> {
  %y = loom.dwconv %x, %w : (tensor<1x16x8xf32>, tensor<3x8xf32>) -> tensor<1x16x8xf32>
  return %y : tensor<1x16x8xf32>
}

// Causal: offset K - 1, with K and S read at run time.
// CHECK-LABEL: func.func @dwconv_causal_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x?xbf16>, %[[W:.*]]: tensor<?x?xbf16>)
// CHECK: %[[K:.*]] = tensor.dim %[[W]], %c0
// CHECK: %[[OFF:.*]] = arith.subi %[[K]], %c1
// CHECK: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK: linalg.generic {indexing_maps = [#[[$W1]], #[[$OUT1]]]
// CHECK-SAME: ins(%[[W]] : tensor<?x?xbf16>) outs(%{{.*}} : tensor<?x?x?xf32>)
// CHECK:   arith.subi %{{.*}}, %[[OFF]]
// CHECK:   arith.cmpi slt, %{{.*}}, %[[S]]
// CHECK: linalg.generic
// CHECK:   arith.truncf {{.*}} : f32 to bf16
// LLVM-LABEL: llvm.func @dwconv_causal_dynamic
func.func @dwconv_causal_dynamic(%x: tensor<?x?x?xbf16>, %w: tensor<?x?xbf16>) -> tensor<?x?x?xbf16> {
  %y = loom.dwconv %x, %w {causal} : (tensor<?x?x?xbf16>, tensor<?x?xbf16>) -> tensor<?x?x?xbf16>
  return %y : tensor<?x?x?xbf16>
}

// CHECK-LABEL: func.func @dwconv_2d
// CHECK: linalg.generic {indexing_maps = [#[[$W2]], #[[$OUT2]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%{{.*}} : tensor<7x5x4xf16>) outs(%{{.*}} : tensor<1x14x14x4xf32>)
// CHECK:   tensor.extract
// CHECK: linalg.generic
// CHECK:   arith.truncf {{.*}} : f32 to f16
// LLVM-LABEL: llvm.func @dwconv_2d
func.func @dwconv_2d(%x: tensor<1x14x14x4xf16>, %w: tensor<7x5x4xf16>) -> tensor<1x14x14x4xf16> {
  %y = loom.dwconv %x, %w : (tensor<1x14x14x4xf16>, tensor<7x5x4xf16>) -> tensor<1x14x14x4xf16>
  return %y : tensor<1x14x14x4xf16>
}

//===----------------------------------------------------------------------===//
// linear_attention
//===----------------------------------------------------------------------===//

// Identity map, not causal, scale 1: w = q k^T, then o = w v.
// CHECK-LABEL: func.func @linear_attention_plain
// CHECK-SAME: (%[[Q:.*]]: tensor<2x3x5x4xf32>, %[[K:.*]]: tensor<2x3x5x4xf32>, %[[V:.*]]: tensor<2x3x5x6xf32>)
// CHECK: %[[W:.*]] = linalg.generic {indexing_maps = [#[[$QI]], #[[$KJ]], #[[$O5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[Q]], %[[K]] : {{.*}}) outs(%{{.*}} : tensor<2x3x5x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$QI]], #[[$VJ]], #[[$O5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[W]], %[[V]] : {{.*}}) outs(%{{.*}} : tensor<2x3x5x6xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
// LLVM-LABEL: llvm.func @linear_attention_plain
func.func @linear_attention_plain(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x5x4xf32>, %v: tensor<2x3x5x6xf32>) -> tensor<2x3x5x6xf32> {
  %o = loom.linear_attention %q, %k, %v : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x5x6xf32>
  return %o : tensor<2x3x5x6xf32>
}

// elu_plus_one on q and k; scale, decay and the causal mask on the weights;
// normalize divides by the row sums plus 1e-6.
// CHECK-LABEL: func.func @linear_attention_full
// CHECK: %[[PQ:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK:   %[[QX:.*]] = arith.extf {{.*}} : f16 to f32
// CHECK:   %[[POS:.*]] = arith.cmpf ogt, %[[QX]]
// CHECK:   %[[XP1:.*]] = arith.addf %[[QX]]
// CHECK:   %[[EX:.*]] = math.exp %[[QX]]
// CHECK:   arith.select %[[POS]], %[[XP1]], %[[EX]]
// CHECK: %[[PK:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#[[$QI]], #[[$KJ]], #[[$O5]]]
// CHECK-SAME: ins(%[[PQ]], %[[PK]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x?xf32>)
// CHECK: %[[DECAY:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK: %[[WT:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[DOT]] :
// CHECK:   %[[SC:.*]] = arith.mulf %{{.*}}, %cst{{.*}}
// CHECK:   %[[I:.*]] = linalg.index 2
// CHECK:   %[[J:.*]] = linalg.index 3
// CHECK:   %[[H:.*]] = linalg.index 1
// CHECK:   %[[L:.*]] = tensor.extract %[[DECAY]][%[[H]]]
// CHECK:   arith.subi %[[I]], %[[J]]
// CHECK:   arith.negf
// CHECK:   %[[E:.*]] = math.exp
// CHECK:   %[[D:.*]] = arith.mulf %[[SC]], %[[E]]
// CHECK:   %[[VIS:.*]] = arith.cmpi ule, %[[J]], %[[I]]
// CHECK:   arith.select %[[VIS]], %[[D]], %{{.*}}
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[$QI]], #[[$VJ]], #[[$O5]]]
// CHECK-SAME: ins(%[[WT]], %{{.*}} : {{.*}}) outs(%{{.*}} : tensor<1x2x?x3xf32>)
// CHECK: %[[DEN:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$OUT1]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[WT]] :
// CHECK: linalg.generic {indexing_maps = [#[[$ID4]], #[[$OUT1]], #[[$ID4]]]
// CHECK-SAME: ins(%[[O]], %[[DEN]] :
// CHECK:   %[[DE:.*]] = arith.addf %{{.*}}, %cst{{.*}}
// CHECK:   %[[R:.*]] = arith.divf %{{.*}}, %[[DE]]
// CHECK:   arith.truncf %[[R]] : f32 to f16
// CHECK: return {{.*}} : tensor<1x2x?x3xf16>
// LLVM-LABEL: llvm.func @linear_attention_full
func.func @linear_attention_full(%q: tensor<1x2x?x4xf16>, %k: tensor<1x2x?x4xf16>, %v: tensor<1x2x?x3xf16>) -> tensor<1x2x?x3xf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, scale = 0.5 : f32, normalize} : (tensor<1x2x?x4xf16>, tensor<1x2x?x4xf16>, tensor<1x2x?x3xf16>) -> tensor<1x2x?x3xf16>
  return %o : tensor<1x2x?x3xf16>
}

// relu; with a dynamic H the decay read is clamped to the last head; the
// result type, more static than the operands', is reached by a tensor.cast.
// CHECK-LABEL: func.func @linear_attention_dynamic_heads
// CHECK: linalg.generic
// CHECK:   %[[RX:.*]] = arith.extf {{.*}} : bf16 to f32
// CHECK:   %[[RP:.*]] = arith.cmpf ogt, %[[RX]]
// CHECK:   arith.select %[[RP]], %[[RX]]
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<?x?x?x?xf32>)
// CHECK: linalg.index 1
// CHECK: arith.minui %{{.*}}, %c1
// CHECK: tensor.extract
// CHECK: %[[RES:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x?x?xbf16>)
// CHECK:   arith.truncf {{.*}} : f32 to bf16
// CHECK: %[[CAST:.*]] = tensor.cast %[[RES]] : tensor<?x?x?x?xbf16> to tensor<1x2x8x3xbf16>
// CHECK: return %[[CAST]]
// LLVM-LABEL: llvm.func @linear_attention_dynamic_heads
func.func @linear_attention_dynamic_heads(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>, %v: tensor<?x?x?x?xbf16>) -> tensor<1x2x8x3xbf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "relu", decay = array<f32: 0.5, 0.25>} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<1x2x8x3xbf16>
  return %o : tensor<1x2x8x3xbf16>
}
