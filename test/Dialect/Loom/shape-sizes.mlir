// Shaped types whose sizes do not fit in 64 bits (docs/Design.md, "Input
// limits"): loom ops reject them in their verifier (the ShapesFit trait),
// and loom-opt rejects them in any op before its pipeline runs
// (loom-check-input-limits). The largest sizes that fit are accepted.
// RUN: loom-opt %s -split-input-file -verify-diagnostics

// The issue's case: 2^63 - 1 rows of 2 f32.
func.func @loom_operand(%x: tensor<9223372036854775807x2xf32>) {
  // expected-error @+1 {{'loom.silu' op operand #0 type 'tensor<9223372036854775807x2xf32>' is too large: its dimensions times its element's bytes exceed 2^63 - 1, the largest size Loom and MLIR compute with}}
  %y = loom.silu %x : (tensor<9223372036854775807x2xf32>) -> tensor<9223372036854775807x2xf32>
  return
}

// -----

// Operands that fit, a result that does not: 2^40 x 2^40 f32.
func.func @loom_result(%x: tensor<1099511627776x16xf32>, %w: tensor<1099511627776x16xf32>) {
  // expected-error @+1 {{'loom.linear' op result #0 type 'tensor<1099511627776x1099511627776xf32>' is too large}}
  %y = loom.linear %x, %w : (tensor<1099511627776x16xf32>, tensor<1099511627776x16xf32>) -> tensor<1099511627776x1099511627776xf32>
  return
}

// -----

// Empty, but the strides of the other dimensions (2^62 * 4 elements) overflow.
func.func @loom_empty(%x: tensor<0x4611686018427387904x4xf32>) {
  // expected-error @+1 {{'loom.silu' op operand #0 type 'tensor<0x4611686018427387904x4xf32>' is too large: its dimensions (0 counted as 1, as the strides of the others are) times its element's bytes exceed 2^63 - 1}}
  %y = loom.silu %x : (tensor<0x4611686018427387904x4xf32>) -> tensor<0x4611686018427387904x4xf32>
  return
}

// -----

// A dynamic dimension counts as 1: the static part alone overflows.
func.func @loom_dynamic(%x: tensor<?x4611686018427387904x2xbf16>) {
  // expected-error @+1 {{'loom.silu' op operand #0 type 'tensor<?x4611686018427387904x2xbf16>' is too large}}
  %y = loom.silu %x : (tensor<?x4611686018427387904x2xbf16>) -> tensor<?x4611686018427387904x2xbf16>
  return
}

// -----

// Upstream ops only: the error is at the first op whose type is too large,
// the function (its argument).
// expected-error @+1 {{'func.func' op region #0 argument #0 type 'tensor<4611686018427387904x2xf32>' is too large}}
func.func @upstream(%x: tensor<4611686018427387904x2xf32>) -> tensor<4611686018427387904x2xf32> {
  %y = arith.addf %x, %x : tensor<4611686018427387904x2xf32>
  return %y : tensor<4611686018427387904x2xf32>
}

// -----

// A result type in an attribute (the function type), and a constant.
// expected-error @+1 {{'func.func' op attribute 'function_type': 'tensor<4611686018427387904x2xf32>' is too large}}
func.func @constant() -> tensor<4611686018427387904x2xf32> {
  %c = arith.constant dense<1.0> : tensor<4611686018427387904x2xf32>
  return %c : tensor<4611686018427387904x2xf32>
}

// -----

// Memrefs, and vectors as elements, count too.
// expected-error @+1 {{'func.func' op region #0 argument #0 type 'memref<2305843009213693952xf32>' is too large}}
func.func @memref(%m: memref<2305843009213693952xf32>) {
  return
}

// -----

// expected-error @+1 {{'func.func' op region #0 argument #0 type 'tensor<1152921504606846976xvector<8xf32>>' is too large}}
func.func @vector_elements(%t: tensor<1152921504606846976xvector<8xf32>>) {
  return
}

// -----

// The largest sizes that fit: 2^63 - 1 bytes of i8, (2^63 - 4) of f32
// (2^61 - 1 elements), and a 0 beside a dimension that fits alone.
func.func @fit(%a: tensor<9223372036854775807xi8>, %b: tensor<2305843009213693951xf32>, %c: tensor<0x1152921504606846975x2xf32>) {
  %y = loom.silu %b : (tensor<2305843009213693951xf32>) -> tensor<2305843009213693951xf32>
  %z = loom.silu %c : (tensor<0x1152921504606846975x2xf32>) -> tensor<0x1152921504606846975x2xf32>
  %s = arith.addi %a, %a : tensor<9223372036854775807xi8>
  return
}
