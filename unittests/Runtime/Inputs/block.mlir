// Entries compiled by loom-compile for RuntimeTest: a norm block, an i4 boundary, a constant result, dynamic sizes, and sizes that overflow.
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %a = loom.silu %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = arith.addf %a, %x : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// i4 in and out: y = -w (packed at the ABI), and w widened to i8.
func.func @negate_i4(%w: tensor<2x4xi4>) -> (tensor<2x4xi4>, tensor<2x4xi8>) {
  %z = arith.constant dense<0> : tensor<2x4xi4>
  %n = arith.subi %z, %w : tensor<2x4xi4>
  %e = arith.extsi %w : tensor<2x4xi4> to tensor<2x4xi8>
  return %n, %e : tensor<2x4xi4>, tensor<2x4xi8>
}

// A global constant and an argument returned directly: both must come back
// as fresh allocations that the runtime frees.
func.func @constant_and_arg(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %c = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  return %c, %x : tensor<3xf32>, tensor<3xf32>
}

// Dynamic sizes whose relations the body relies on (g and w against x's
// last dimension): the module checks them at entry.
func.func @norm_linear(%x: tensor<?x?xf32>, %g: tensor<?xf32>, %w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  %y = loom.linear %n, %w : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// A sequence length from the caller, and the S x S scores of the reference
// lowering inside: sizes whose products pass 2^63 - 1 bytes are refused at
// entry (loom-entry-size-asserts), before anything is allocated.
func.func @attention_dyn(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %o = loom.attention %q, %k, %v : (tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  return %o : tensor<1x1x?x8xf32>
}

// A dynamic i4 size: the caller's packed size is doubled at entry, and one
// past 2^62 - 1 is refused rather than wrapped.
func.func @widen_i4(%w: tensor<2x?xi4>) -> tensor<2x?xi8> {
  %e = arith.extsi %w : tensor<2x?xi4> to tensor<2x?xi8>
  return %e : tensor<2x?xi8>
}
