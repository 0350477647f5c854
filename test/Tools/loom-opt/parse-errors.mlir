// Parser errors in loom syntax are diagnosed at their location.
// RUN: loom-opt %s -split-input-file -verify-diagnostics

func.func @unknown_op(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'loom.swish' is unknown}}
  %0 = loom.swish %x : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @missing_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected ':'}}
  %0 = loom.silu %x
  return
}

// -----

func.func @wrong_operand_count(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'loom.silu' number of operands and types do not match: got 1 operands and 2 types}}
  %0 = loom.silu %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// expected-note @+1 {{prior use here}}
func.func @type_mismatch(%x: tensor<4xf32>) {
  // expected-error @+1 {{use of value '%x' expects different type than prior uses: 'tensor<4xf16>' vs 'tensor<4xf32>'}}
  %0 = loom.silu %x : (tensor<4xf16>) -> tensor<4xf16>
  return
}

// -----

func.func @bad_enum_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{attribute 'approximate' failed to satisfy constraint: string attribute}}
  %0 = loom.gelu %x {approximate = 1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @two_results_declared(%x: tensor<4xf32>) {
  // expected-error @+1 {{'loom.silu' op requires one result}}
  %0:2 = loom.silu %x : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}
