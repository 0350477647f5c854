// RUN: loom-opt %s --convert-loom-to-linalg | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// Products are one reduction generic into a zero-filled f32 (i32 for
// i8 x i8) accumulator, then one parallel epilogue (scales, bias, rounding).

// CHECK-DAG: #[[$LIN_X:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$LIN_W:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[$LIN_Y:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$MK:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$NK:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$MN:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$GROUP:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
// CHECK-DAG: #[[$CHAN:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[$ID2:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>

// LLVM-NOT: loom.
// LLVM-NOT: linalg.

// CHECK-LABEL: func.func @linear_batched
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x3x32xf32>)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$LIN_X]], #[[$LIN_W]], #[[$LIN_Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<2x3x64xf32>, tensor<32x64xf32>) outs(%[[ZERO]] : tensor<2x3x32xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[W:.*]]: f32, %[[A:.*]]: f32):
// CHECK: %[[P:.*]] = arith.mulf %[[X]], %[[W]] : f32
// CHECK: %[[S:.*]] = arith.addf %[[A]], %[[P]] : f32
// CHECK: linalg.yield %[[S]] : f32
// CHECK: %[[Y:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[ACC]], %arg2 : tensor<2x3x32xf32>, tensor<32xf32>) outs(%{{.*}} : tensor<2x3x32xf32>)
// CHECK: arith.addf
// CHECK: return %[[Y]]
// LLVM: llvm.func @linear_batched(
func.func @linear_batched(%x: tensor<2x3x64xf32>, %w: tensor<32x64xf32>, %b: tensor<32xf32>) -> tensor<2x3x32xf32> {
  %y = loom.linear %x, %w, %b : (tensor<2x3x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<2x3x32xf32>
  return %y : tensor<2x3x32xf32>
}

// f32 without a bias: the accumulator is the result, no epilogue.
// CHECK-LABEL: func.func @linear_f32_no_bias
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<5x16xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<5x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[ACC]] : tensor<5x8xf32>
// LLVM-NOT: loom.
// LLVM: llvm.func @linear_f32_no_bias(
func.func @linear_f32_no_bias(%x: tensor<5x16xf32>, %w: tensor<8x16xf32>) -> tensor<5x8xf32> {
  %y = loom.linear %x, %w : (tensor<5x16xf32>, tensor<8x16xf32>) -> tensor<5x8xf32>
  return %y : tensor<5x8xf32>
}

// Dynamic sizes come from the operands; bf16 accumulates in f32 and is
// rounded once.
// CHECK-LABEL: func.func @linear_dynamic_bf16
// CHECK-DAG: %[[M:.*]] = tensor.dim %arg0, %c0 : tensor<?x?xbf16>
// CHECK-DAG: %[[N:.*]] = tensor.dim %arg1, %{{.*}} : tensor<?x?xbf16>
// CHECK: tensor.empty(%[[M]], %[[N]]) : tensor<?x?xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x?xbf16>, tensor<?x?xbf16>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: ^bb0(%[[X:.*]]: bf16, %[[W:.*]]: bf16, %[[A:.*]]: f32):
// CHECK: %[[XF:.*]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[WF:.*]] = arith.extf %[[W]] : bf16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[XF]], %[[WF]] : f32
// CHECK: arith.addf %[[A]], %[[P]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// LLVM-NOT: loom.
// LLVM: llvm.func @linear_dynamic_bf16(
func.func @linear_dynamic_bf16(%x: tensor<?x?xbf16>, %w: tensor<?x?xbf16>) -> tensor<?x?xbf16> {
  %y = loom.linear %x, %w : (tensor<?x?xbf16>, tensor<?x?xbf16>) -> tensor<?x?xbf16>
  return %y : tensor<?x?xbf16>
}

// No batch dim; the result is more static than x.
// CHECK-LABEL: func.func @linear_rank1_static_result
// CHECK: linalg.generic {indexing_maps = [#[[$COL]], #[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?xf16>, tensor<4x?xf16>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %{{.*}} : tensor<4xf16>
// LLVM-NOT: loom.
// LLVM: llvm.func @linear_rank1_static_result(
func.func @linear_rank1_static_result(%x: tensor<?xf16>, %w: tensor<4x?xf16>, %b: tensor<4xf16>) -> tensor<4xf16> {
  %y = loom.linear %x, %w, %b : (tensor<?xf16>, tensor<4x?xf16>, tensor<4xf16>) -> tensor<4xf16>
  return %y : tensor<4xf16>
}

// W4A16 group-wise: the weight is dequantized inside the reduction body
// (never a float copy of w); its scale is read through (n, k floordiv 32).
// CHECK-LABEL: func.func @qlinear_i4_group
// CHECK-NOT: tensor<13x96xf32>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$GROUP]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1, %arg2 : tensor<?x96xbf16>, tensor<13x96xi4>, tensor<13x3xf32>) outs(%{{.*}} : tensor<?x13xf32>)
// CHECK: ^bb0(%[[X:.*]]: bf16, %[[W:.*]]: i4, %[[S:.*]]: f32, %[[A:.*]]: f32):
// CHECK: %[[XF:.*]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[WI:.*]] = arith.extsi %[[W]] : i4 to i32
// CHECK: %[[WF:.*]] = arith.sitofp %[[WI]] : i32 to f32
// CHECK: %[[DQ:.*]] = arith.mulf %[[WF]], %[[S]] : f32
// CHECK: %[[P:.*]] = arith.mulf %[[XF]], %[[DQ]] : f32
// CHECK: arith.addf %[[A]], %[[P]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[ACC]], %arg3 : tensor<?x13xf32>, tensor<13xbf16>) outs(%{{.*}} : tensor<?x13xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK-NOT: tensor<13x96xf32>
// LLVM-NOT: loom.
// LLVM: llvm.func @qlinear_i4_group(
func.func @qlinear_i4_group(%x: tensor<?x96xbf16>, %w: tensor<13x96xi4>, %s: tensor<13x3xf32>, %b: tensor<13xbf16>) -> tensor<?x13xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 32 : i64} : (tensor<?x96xbf16>, tensor<13x96xi4>, tensor<13x3xf32>, tensor<13xbf16>) -> tensor<?x13xbf16>
  return %y : tensor<?x13xbf16>
}

// W8A16 per-channel, f16 scales, f32 result without bias: no epilogue.
// CHECK-LABEL: func.func @qlinear_i8_channel
// CHECK: %[[N:.*]] = tensor.dim %arg1, %c0 : tensor<?x?xi8>
// CHECK: tensor.empty(%[[N]]) : tensor<7x?xf32>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$CHAN]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1, %arg2 : tensor<7x?xf16>, tensor<?x?xi8>, tensor<?xf16>) outs(%{{.*}} : tensor<7x?xf32>)
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[ACC]] : tensor<7x?xf32>
// LLVM-NOT: loom.
// LLVM: llvm.func @qlinear_i8_channel(
func.func @qlinear_i8_channel(%x: tensor<7x?xf16>, %w: tensor<?x?xi8>, %s: tensor<?xf16>) -> tensor<7x?xf32> {
  %y = loom.qlinear %x, %w, %s : (tensor<7x?xf16>, tensor<?x?xi8>, tensor<?xf16>) -> tensor<7x?xf32>
  return %y : tensor<7x?xf32>
}

// Per-row max |x|, s = amax / 127, then x / s (0 where s = 0) rounded to
// nearest even, clamped to [-127, 127].
// CHECK-LABEL: func.func @quantize_i8
// CHECK: %[[AMAX:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<?x?xbf16>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[XS:.*]] = linalg.generic {{.*}} ins(%[[AMAX]] : tensor<?xf32>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: arith.constant 1.270000e+02 : f32
// CHECK: arith.divf
// CHECK: %[[XQ:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %[[XS]] : tensor<?x?xbf16>, tensor<?xf32>) outs(%{{.*}} : tensor<?x?xi8>)
// CHECK: ^bb0(%{{.*}}: bf16, %[[S:.*]]: f32, %{{.*}}: i8):
// CHECK: %[[T:.*]] = arith.divf %{{.*}}, %[[S]] : f32
// CHECK: %[[Z:.*]] = arith.cmpf oeq, %[[S]], %{{.*}} : f32
// CHECK: %[[T0:.*]] = arith.select %[[Z]], %{{.*}}, %[[T]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[T0]] : f32
// CHECK: %[[LO:.*]] = arith.maxnumf %[[R]], %{{.*}} : f32
// CHECK: %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f32
// CHECK: arith.fptosi %[[HI]] : f32 to i8
// CHECK: return %[[XQ]], %[[XS]] : tensor<?x?xi8>, tensor<?xf32>
// LLVM-NOT: loom.
// LLVM: llvm.func @quantize_i8(
func.func @quantize_i8(%x: tensor<?x?xbf16>) -> (tensor<?x?xi8>, tensor<?xf32>) {
  %q, %s = loom.quantize %x : (tensor<?x?xbf16>) -> (tensor<?x?xi8>, tensor<?xf32>)
  return %q, %s : tensor<?x?xi8>, tensor<?xf32>
}

// f8E4M3FN results are built as bit patterns (no arith.truncf to fp8).
// CHECK-LABEL: func.func @quantize_f8
// CHECK: arith.constant 4.480000e+02 : f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x?xf8E4M3FN>)
// CHECK-NOT: arith.truncf
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: math.roundeven
// CHECK: %[[B:.*]] = arith.trunci %{{.*}} : i32 to i8
// CHECK: %[[Q:.*]] = arith.bitcast %[[B]] : i8 to f8E4M3FN
// CHECK: linalg.yield %[[Q]] : f8E4M3FN
// LLVM-NOT: loom.
// LLVM: llvm.func @quantize_f8(
func.func @quantize_f8(%x: tensor<4x?xf32>) -> (tensor<4x?xf8E4M3FN>, tensor<4xf32>) {
  %q, %s = loom.quantize %x : (tensor<4x?xf32>) -> (tensor<4x?xf8E4M3FN>, tensor<4xf32>)
  return %q, %s : tensor<4x?xf8E4M3FN>, tensor<4xf32>
}

// W8A8: exact i32 accumulation, then acc * xs[m] * w_scale[n] + bias[n].
// CHECK-LABEL: func.func @qmatmul_i8
// CHECK: linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<?x16xi32>)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg2 : tensor<?x64xi8>, tensor<16x64xi8>) outs(%{{.*}} : tensor<?x16xi32>)
// CHECK: ^bb0(%[[X:.*]]: i8, %[[W:.*]]: i8, %[[A:.*]]: i32):
// CHECK: %[[XI:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK: %[[WI:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK: %[[P:.*]] = arith.muli %[[XI]], %[[WI]] : i32
// CHECK: arith.addi %[[A]], %[[P]] : i32
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$COL]], #[[$COL]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[ACC]], %arg1, %arg3, %arg4 : tensor<?x16xi32>, tensor<?xf32>, tensor<16xf32>, tensor<16xbf16>) outs(%{{.*}} : tensor<?x16xbf16>)
// CHECK: ^bb0(%[[AC:.*]]: i32, %[[XS:.*]]: f32, %[[WS:.*]]: f32, %[[B:.*]]: bf16, %{{.*}}: bf16):
// CHECK: %[[AF:.*]] = arith.sitofp %[[AC]] : i32 to f32
// CHECK: %[[BF:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK: %[[V1:.*]] = arith.mulf %[[AF]], %[[XS]] : f32
// CHECK: %[[V2:.*]] = arith.mulf %[[V1]], %[[WS]] : f32
// CHECK: %[[V3:.*]] = arith.addf %[[V2]], %[[BF]] : f32
// CHECK: arith.truncf %[[V3]] : f32 to bf16
// LLVM-NOT: loom.
// LLVM: llvm.func @qmatmul_i8(
func.func @qmatmul_i8(%xq: tensor<?x64xi8>, %xs: tensor<?xf32>, %w: tensor<16x64xi8>, %ws: tensor<16xf32>, %b: tensor<16xbf16>) -> tensor<?x16xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<?x64xi8>, tensor<?xf32>, tensor<16x64xi8>, tensor<16xf32>, tensor<16xbf16>) -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// FP8: both operands decoded from their bit patterns (no arith.extf on fp8),
// f32 accumulation; a static result type gets a tensor.cast.
// CHECK-LABEL: func.func @qmatmul_f8
// CHECK: linalg.generic {indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg2 : tensor<?x?xf8E4M3FN>, tensor<?x?xf8E4M3FN>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: ^bb0(%[[X:.*]]: f8E4M3FN, %[[W:.*]]: f8E4M3FN, %{{.*}}: f32):
// CHECK: arith.bitcast %[[X]] : f8E4M3FN to i8
// CHECK: arith.bitcast %[[W]] : f8E4M3FN to i8
// CHECK-NOT: arith.extf
// CHECK: %[[C:.*]] = tensor.cast %{{.*}} : tensor<?x?xf32> to tensor<3x5xf32>
// CHECK: return %[[C]] : tensor<3x5xf32>
// CHECK-NOT: loom.
// LLVM-NOT: loom.
// LLVM: llvm.func @qmatmul_f8(
// LLVM-NOT: loom.
// LLVM-NOT: linalg.
// LLVM-NOT: unrealized_conversion_cast
func.func @qmatmul_f8(%xq: tensor<?x?xf8E4M3FN>, %xs: tensor<?xf32>, %w: tensor<?x?xf8E4M3FN>, %ws: tensor<?xf32>) -> tensor<3x5xf32> {
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<?x?xf8E4M3FN>, tensor<?xf32>, tensor<?x?xf8E4M3FN>, tensor<?xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}
