// RUN: loom-opt %s --convert-loom-to-linalg | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: loom-opt %s --convert-loom-to-linalg | FileCheck %s --check-prefix=NOLOOM
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=NOLOOM

// Lowering of the recurrent forms of linear_attention (a gate, beta, an
// initial or a final state): one scf.for over the tokens whose iter_args are
// the f32 state [B, H, Dk, Dv] (the initial state, else zeros), the loop's
// scratch tensors and the f32 output; per token, linalg.generics over all
// batches and heads on rank-reduced slices of token t: the state update in
// place, the output row o = S^T q written into row t, then the scale. The
// output is rounded once after the loop; the state is the final state.

// CHECK-DAG: #[[$BHJ:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$ST:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
// CHECK-DAG: #[[$BH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[$BHI:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// NOLOOM-NOT: loom.

// Gated DeltaNet: per-head gate, beta, initial and final state, scale.
// u = sum_i k_i * (exp(g) * S_ij) (a reduction over Dk), then in place
// S_ij = exp(g) * S_ij + beta * k_i * (v_j - u_j).
// CHECK-LABEL: func.func @gated_delta
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x4x13x8xbf16>, %[[K:[^:]*]]: tensor<1x4x13x8xbf16>, %[[V:[^:]*]]: tensor<1x4x13x6xbf16>, %[[G:[^:]*]]: tensor<1x4x13xf32>, %[[B:[^:]*]]: tensor<1x4x13xbf16>, %[[S0:[^:]*]]: tensor<1x4x8x6xf32>)
// CHECK-DAG: %[[S:.*]] = arith.constant 13 : index
// CHECK-DAG: %[[UINIT:.*]] = tensor.empty() : tensor<1x4x6xf32>
// CHECK-DAG: %[[OINIT:.*]] = tensor.empty() : tensor<1x4x13x6xf32>
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[T:.*]] = %{{.*}} to %[[S]] step %{{.*}} iter_args(%[[ST:.*]] = %[[S0]], %[[U:.*]] = %[[UINIT]], %[[OUT:.*]] = %[[OINIT]])
// CHECK-DAG:   %[[QTS:.*]] = tensor.extract_slice %[[Q]][0, 0, %[[T]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x13x8xbf16> to tensor<1x4x1x8xbf16>
// CHECK-DAG:   %[[QT:.*]] = tensor.collapse_shape %[[QTS]] {{\[\[0\], \[1\], \[2, 3\]\]}} : tensor<1x4x1x8xbf16> into tensor<1x4x8xbf16>
// CHECK-DAG:   %[[KTS:.*]] = tensor.extract_slice %[[K]][0, 0, %[[T]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x13x8xbf16> to tensor<1x4x1x8xbf16>
// CHECK-DAG:   %[[KT:.*]] = tensor.collapse_shape %[[KTS]] {{\[\[0\], \[1\], \[2, 3\]\]}} : tensor<1x4x1x8xbf16> into tensor<1x4x8xbf16>
// CHECK-DAG:   %[[VTS:.*]] = tensor.extract_slice %[[V]][0, 0, %[[T]], 0] [1, 4, 1, 6] [1, 1, 1, 1] : tensor<1x4x13x6xbf16> to tensor<1x4x1x6xbf16>
// CHECK-DAG:   %[[VT:.*]] = tensor.collapse_shape %[[VTS]] {{\[\[0\], \[1\], \[2, 3\]\]}} : tensor<1x4x1x6xbf16> into tensor<1x4x6xbf16>
// CHECK-DAG:   %[[GTS:.*]] = tensor.extract_slice %[[G]][0, 0, %[[T]]] [1, 4, 1] [1, 1, 1] : tensor<1x4x13xf32> to tensor<1x4x1xf32>
// CHECK-DAG:   %[[GT:.*]] = tensor.collapse_shape %[[GTS]] {{\[\[0\], \[1, 2\]\]}} : tensor<1x4x1xf32> into tensor<1x4xf32>
// CHECK-DAG:   %[[BTS:.*]] = tensor.extract_slice %[[B]][0, 0, %[[T]]] [1, 4, 1] [1, 1, 1] : tensor<1x4x13xbf16> to tensor<1x4x1xbf16>
// CHECK-DAG:   %[[BT:.*]] = tensor.collapse_shape %[[BTS]] {{\[\[0\], \[1, 2\]\]}} : tensor<1x4x1xbf16> into tensor<1x4xbf16>
// CHECK:       %[[UZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[U]] : tensor<1x4x6xf32>)
// CHECK:       %[[UU:.*]] = linalg.generic {indexing_maps = [#[[$BHJ]], #[[$ST]], #[[$BH]], #[[$BHI]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:    ins(%[[KT]], %[[ST]], %[[GT]] : tensor<1x4x8xbf16>, tensor<1x4x8x6xf32>, tensor<1x4xf32>) outs(%[[UZ]] : tensor<1x4x6xf32>)
// CHECK:       ^bb0(%[[UK:.*]]: bf16, %[[US:.*]]: f32, %[[UG:.*]]: f32, %[[UACC:.*]]: f32):
// CHECK:         %[[UA:.*]] = math.exp %[[UG]] : f32
// CHECK:         %[[UD:.*]] = arith.mulf %[[UA]], %[[US]] : f32
// CHECK:         %[[UKF:.*]] = arith.extf %[[UK]] : bf16 to f32
// CHECK:         %[[UP:.*]] = arith.mulf %[[UKF]], %[[UD]] : f32
// CHECK:         arith.addf %[[UACC]], %[[UP]] : f32
// CHECK:       %[[NEW:.*]] = linalg.generic {indexing_maps = [#[[$BHI]], #[[$BHJ]], #[[$BH]], #[[$BHJ]], #[[$BH]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:    ins(%[[KT]], %[[VT]], %[[BT]], %[[UU]], %[[GT]] : {{.*}}) outs(%[[ST]] : tensor<1x4x8x6xf32>)
// CHECK:       ^bb0(%[[NK:.*]]: bf16, %[[NV:.*]]: bf16, %[[NB:.*]]: bf16, %[[NU:.*]]: f32, %[[NG:.*]]: f32, %[[NS:.*]]: f32):
// CHECK:         %[[NA:.*]] = math.exp %[[NG]] : f32
// CHECK:         %[[ND:.*]] = arith.mulf %[[NA]], %[[NS]] : f32
// CHECK:         %[[NKF:.*]] = arith.extf %[[NK]] : bf16 to f32
// CHECK:         %[[NVF:.*]] = arith.extf %[[NV]] : bf16 to f32
// CHECK:         %[[DIFF:.*]] = arith.subf %[[NVF]], %[[NU]] : f32
// CHECK:         %[[NBF:.*]] = arith.extf %[[NB]] : bf16 to f32
// CHECK:         %[[BK:.*]] = arith.mulf %[[NBF]], %[[NKF]] : f32
// CHECK:         %[[W:.*]] = arith.mulf %[[BK]], %[[DIFF]] : f32
// CHECK:         arith.addf %[[ND]], %[[W]] : f32
// CHECK:       %[[ROWS:.*]] = tensor.extract_slice %[[OUT]][0, 0, %[[T]], 0] [1, 4, 1, 6] [1, 1, 1, 1] : tensor<1x4x13x6xf32> to tensor<1x4x1x6xf32>
// CHECK:       %[[ROW:.*]] = tensor.collapse_shape %[[ROWS]] {{\[\[0\], \[1\], \[2, 3\]\]}} : tensor<1x4x1x6xf32> into tensor<1x4x6xf32>
// CHECK:       %[[RZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[ROW]] : tensor<1x4x6xf32>)
// CHECK:       %[[O:.*]] = linalg.generic {indexing_maps = [#[[$BHJ]], #[[$ST]], #[[$BHI]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:    ins(%[[QT]], %[[NEW]] : tensor<1x4x8xbf16>, tensor<1x4x8x6xf32>) outs(%[[RZ]] : tensor<1x4x6xf32>)
// CHECK:       %[[OS:.*]] = linalg.generic {{.*}} outs(%[[O]] : tensor<1x4x6xf32>)
// CHECK:         arith.constant 1.250000e-01 : f32
// CHECK:         arith.mulf
// CHECK:       %[[INS:.*]] = tensor.insert_slice %[[OS]] into %[[OUT]][0, 0, %[[T]], 0] [1, 4, 1, 6] [1, 1, 1, 1]
// CHECK:       scf.yield %[[NEW]], %[[UU]], %[[INS]]
// CHECK:     linalg.generic {{.*}} ins(%[[LOOP]]#2 : tensor<1x4x13x6xf32>) outs(%{{.*}} : tensor<1x4x13x6xbf16>)
// CHECK:       arith.truncf %{{.*}} : f32 to bf16
// CHECK:     return %{{.*}}, %[[LOOP]]#0 : tensor<1x4x13x6xbf16>, tensor<1x4x8x6xf32>
// LLVM-LABEL: llvm.func @gated_delta
func.func @gated_delta(%q: tensor<1x4x13x8xbf16>, %k: tensor<1x4x13x8xbf16>, %v: tensor<1x4x13x6xbf16>, %g: tensor<1x4x13xf32>, %b: tensor<1x4x13xbf16>, %s: tensor<1x4x8x6xf32>)
    -> (tensor<1x4x13x6xbf16>, tensor<1x4x8x6xf32>) {
  %o, %fs = loom.linear_attention %q, %k, %v gate(%g) beta(%b) initial_state(%s) {causal, rule = "delta", scale = 0.125 : f32}
      : (tensor<1x4x13x8xbf16>, tensor<1x4x13x8xbf16>, tensor<1x4x13x6xbf16>, tensor<1x4x13xf32>, tensor<1x4x13xbf16>, tensor<1x4x8x6xf32>)
      -> (tensor<1x4x13x6xbf16>, tensor<1x4x8x6xf32>)
  return %o, %fs : tensor<1x4x13x6xbf16>, tensor<1x4x8x6xf32>
}

// GLA with normalize: the per-key gate is read at (b, h, i); the state
// starts at zeros; z = exp(g) * z + k and den = sum_i q_i z_i are carried
// too, and the row is scale * o / (scale * den + 1e-6). The feature map is
// applied to q and k before the loop.
// CHECK-LABEL: func.func @key_gate_normalize
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3x9x5xf32>)
// CHECK:   arith.cmpf ogt
// CHECK: %[[ZS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x3x5x7xf32>)
// CHECK: %[[ZZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x3x5xf32>)
// CHECK: scf.for {{.*}} iter_args(%[[ST:.*]] = %[[ZS]], %[[Z:.*]] = %[[ZZ]], %[[DEN:.*]] = %{{.*}}, %[[OUT:.*]] = %{{.*}}) -> (tensor<2x3x5x7xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>, tensor<2x3x9x7xf32>)
// CHECK:   %[[GTS:.*]] = tensor.extract_slice %{{.*}}[0, 0, %{{.*}}, 0] [2, 3, 1, 5] [1, 1, 1, 1] : tensor<2x3x9x5xbf16> to tensor<2x3x1x5xbf16>
// CHECK:   %[[GT:.*]] = tensor.collapse_shape %[[GTS]] {{\[\[0\], \[1\], \[2, 3\]\]}} : tensor<2x3x1x5xbf16> into tensor<2x3x5xbf16>
// CHECK:   linalg.generic {indexing_maps = [#[[$BHI]], #[[$BHJ]], #[[$BHI]], #[[$ID4]]], {{.*}} outs(%[[ST]] : tensor<2x3x5x7xf32>)
// CHECK:     math.exp
// CHECK:   %[[NZ:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[GT]] : tensor<2x3x5xf32>, tensor<2x3x5xbf16>) outs(%[[Z]] : tensor<2x3x5xf32>)
// CHECK:     math.exp
// CHECK:     arith.addf
// CHECK:   %[[DZ:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[DEN]] : tensor<2x3xf32>)
// CHECK:   %[[ND:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[NZ]] : tensor<2x3x5xf32>, tensor<2x3x5xf32>) outs(%[[DZ]] : tensor<2x3xf32>)
// CHECK:   linalg.generic {{.*}} ins(%[[ND]] : tensor<2x3xf32>) outs(%{{.*}} : tensor<2x3x7xf32>)
// CHECK:     %[[SC:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:     %[[NUM:.*]] = arith.mulf %[[SC]], %{{.*}} : f32
// CHECK:     %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK:     %[[SD:.*]] = arith.mulf %[[SC]], %{{.*}} : f32
// CHECK:     %[[D:.*]] = arith.addf %[[SD]], %[[EPS]] : f32
// CHECK:     arith.divf %[[NUM]], %[[D]] : f32
// CHECK:   tensor.insert_slice
// LLVM-LABEL: llvm.func @key_gate_normalize
func.func @key_gate_normalize(%q: tensor<2x3x9x5xf32>, %v: tensor<2x3x9x7xf32>, %g: tensor<2x3x9x5xbf16>) -> tensor<2x3x9x7xf32> {
  %o = loom.linear_attention %q, %q, %v gate(%g) {causal, feature_map = "relu", normalize, scale = 0.5 : f32} : (tensor<2x3x9x5xf32>, tensor<2x3x9x5xf32>, tensor<2x3x9x7xf32>, tensor<2x3x9x5xbf16>) -> tensor<2x3x9x7xf32>
  return %o : tensor<2x3x9x7xf32>
}

// decay with a final state (the recurrent lowering) and dynamic B, H, S:
// the loop runs to tensor.dim of S; a = exp(-decay[h]) with the head index
// clamped to the last value (H is dynamic), as in the quadratic form.
// CHECK-LABEL: func.func @decay_dynamic
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x?x?x4xf16>
// CHECK-DAG: %[[SD:.*]] = tensor.dim %[[Q]], %c2
// CHECK-DAG: %[[DECAY:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK: %[[LOOP:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %[[SD]] step
// CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x4x6xf32>)
// CHECK:     %[[H:.*]] = linalg.index 1 : index
// CHECK:     %[[HC:.*]] = arith.minui %[[H]], %{{.*}} : index
// CHECK:     %[[L:.*]] = tensor.extract %[[DECAY]][%[[HC]]] : tensor<2xf32>
// CHECK:     %[[NL:.*]] = arith.negf %[[L]] : f32
// CHECK:     math.exp %[[NL]] : f32
// CHECK: return %{{.*}}, %[[LOOP]]#0 : tensor<?x?x?x6xf16>, tensor<?x?x4x6xf32>
// LLVM-LABEL: llvm.func @decay_dynamic
func.func @decay_dynamic(%q: tensor<?x?x?x4xf16>, %v: tensor<?x?x?x6xf16>) -> (tensor<?x?x?x6xf16>, tensor<?x?x4x6xf32>) {
  %o, %s = loom.linear_attention %q, %q, %v {causal, decay = array<f32: 0.5, 0.25>} : (tensor<?x?x?x4xf16>, tensor<?x?x?x4xf16>, tensor<?x?x?x6xf16>) -> (tensor<?x?x?x6xf16>, tensor<?x?x4x6xf32>)
  return %o, %s : tensor<?x?x?x6xf16>, tensor<?x?x4x6xf32>
}

// Without a gate, beta or a state the op keeps its quadratic lowering.
// CHECK-LABEL: func.func @quadratic
// CHECK-NOT: scf.for
// CHECK: return
// LLVM-LABEL: llvm.func @quadratic
func.func @quadratic(%q: tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32> {
  %o = loom.linear_attention %q, %q, %q {causal, decay = array<f32: 0.5, 0.25>} : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
  return %o : tensor<1x2x5x4xf32>
}
