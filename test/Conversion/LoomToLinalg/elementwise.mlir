// Lowering of norms, RoPE and activations to linalg: f32 arithmetic, one
// rounding into the result type, dynamic sizes from the operands.
// RUN: loom-opt %s --convert-loom-to-linalg -split-input-file | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<4x?xbf16>)
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<4x?xbf16>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<4x?xbf16>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%[[X]] : tensor<4x?xbf16>) outs(%[[E]] : tensor<4x?xbf16>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @silu
// LLVM: llvm.func @_mlir_ciface_silu
// LLVM-NOT: loom.
func.func @silu(%x: tensor<4x?xbf16>) -> tensor<4x?xbf16> {
  %0 = loom.silu %x : (tensor<4x?xbf16>) -> tensor<4x?xbf16>
  return %0 : tensor<4x?xbf16>
}

// -----

// CHECK-LABEL: func.func @gelu
// CHECK: math.erf
// CHECK: math.tanh
// LLVM-LABEL: llvm.func @gelu
// LLVM-DAG: llvm.call @erff
// LLVM-DAG: llvm.intr.tanh
func.func @gelu(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = loom.gelu %x : (tensor<8xf32>) -> tensor<8xf32>
  %1 = loom.gelu %x {approximate = "tanh"} : (tensor<8xf32>) -> tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// RMSNorm: a compensated (Kahan) sum of squares over the last dim, whose
// second accumulator carries each addition's rounding error into the next
// term; the mean square per row; then one normalizing pass.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms
// CHECK: %[[SS:.*]]:2 = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32, %[[COMP:.*]]: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]]
// CHECK-NEXT: %[[Y:.*]] = arith.subf %[[SQ]], %[[COMP]]
// CHECK-NEXT: %[[T:.*]] = arith.addf %[[ACC]], %[[Y]]
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[T]], %[[ACC]]
// CHECK-NEXT: %[[LOST:.*]] = arith.subf %[[D]], %[[Y]]
// CHECK-NEXT: linalg.yield %[[T]], %[[LOST]]
// CHECK: %[[MS:.*]] = linalg.generic {{.*}} ins(%[[SS]]#0 : tensor<2xf32>)
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$COL]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %[[MS]], %{{.*}} :
// CHECK: arith.constant 9.99999997E-7 : f32
// CHECK: math.rsqrt
// LLVM-LABEL: llvm.func @rms
// LLVM-NOT: rsqrtf
func.func @rms(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = loom.rms_norm %x, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// LayerNorm, the corrected two-pass: m = sum x / C, then with d = x - m,
// r = sum d / C and var = max(sum d^2 / C - r^2, 0) (r recovers the f32
// rounding of m); the output centres as (x - m) - r. Every sum compensated.
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x3x16xf16>
// CHECK: %[[S:.*]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<?x3x16xf16>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[S]]#0 : tensor<?x3xf32>)
// CHECK: %[[SD:.*]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[M]] :
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[SD]]#0 : tensor<?x3xf32>)
// CHECK: %[[SDD:.*]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[M]] :
// CHECK: arith.mulf
// CHECK: %[[VAR:.*]] = linalg.generic {{.*}} ins(%[[SDD]]#0, %[[R]] : tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[VAR]], %{{.*}}, %[[M]], %[[R]], %{{.*}} :
// CHECK: %[[XF:.*]] = arith.extf
// CHECK-NEXT: %[[C1:.*]] = arith.subf %[[XF]], %{{.*}}
// CHECK-NEXT: arith.subf %[[C1]], %{{.*}}
// CHECK: math.rsqrt
func.func @layer(%x: tensor<?x3x16xf16>, %g: tensor<16xf16>, %b: tensor<16xf16>) -> tensor<?x3x16xf16> {
  %0 = loom.layer_norm %x, %g, %b : (tensor<?x3x16xf16>, tensor<16xf16>, tensor<16xf16>) -> tensor<?x3x16xf16>
  return %0 : tensor<?x3x16xf16>
}

// -----

// RoPE reads each element's partner and its cos/sin column with tensor.extract.
// CHECK-LABEL: func.func @rope_half
// CHECK: linalg.generic
// CHECK-COUNT-4: linalg.index
// CHECK: arith.cmpi ult
// CHECK-COUNT-3: tensor.extract
// CHECK: arith.select
func.func @rope_half(%x: tensor<1x2x8x16xbf16>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) -> tensor<1x2x8x16xbf16> {
  %0 = loom.rope %x, %c, %s : (tensor<1x2x8x16xbf16>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xbf16>
  return %0 : tensor<1x2x8x16xbf16>
}

// -----

// CHECK-LABEL: func.func @rope_interleaved
// CHECK: arith.remui
// CHECK: arith.cmpi eq
func.func @rope_interleaved(%x: tensor<1x2x8x16xf32>, %c: tensor<8x8xf32>, %s: tensor<8x8xf32>) -> tensor<1x2x8x16xf32> {
  %0 = loom.rope %x, %c, %s {style = "interleaved"} : (tensor<1x2x8x16xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

// A result type more static than the operand gets a tensor.cast.
// CHECK-LABEL: func.func @refined
// CHECK: tensor.cast %{{.*}} : tensor<?x8xf32> to tensor<4x8xf32>
func.func @refined(%x: tensor<?x8xf32>) -> tensor<4x8xf32> {
  %0 = loom.silu %x : (tensor<?x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
