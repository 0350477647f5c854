// One entry per element type of the ABI, for loom-run's conversion rules.
func.func @silu_bf16(%x: tensor<2x4xbf16>) -> tensor<2x4xbf16> {
  %y = loom.silu %x : (tensor<2x4xbf16>) -> tensor<2x4xbf16>
  return %y : tensor<2x4xbf16>
}

// Arithmetic and selects directly on bf16 (a residual add, a ReLU): computed
// in f32 and rounded once, with no compiler-runtime call in the library.
func.func @add_relu_bf16(%a: tensor<4xbf16>, %b: tensor<4xbf16>) -> tensor<4xbf16> {
  %s = arith.addf %a, %b : tensor<4xbf16>
  %z = arith.constant dense<0.0> : tensor<4xbf16>
  %p = arith.cmpf ogt, %s, %z : tensor<4xbf16>
  %r = arith.select %p, %s, %z : tensor<4xi1>, tensor<4xbf16>
  return %r : tensor<4xbf16>
}

func.func @square_f16(%x: tensor<3xf16>) -> tensor<3xf16> {
  %y = arith.mulf %x, %x : tensor<3xf16>
  return %y : tensor<3xf16>
}

func.func @add_f64(%a: tensor<2xf64>, %b: tensor<2xf64>) -> tensor<2xf64> {
  %y = arith.addf %a, %b : tensor<2xf64>
  return %y : tensor<2xf64>
}

// i4 in and out (packed at the ABI), and widened to i8.
func.func @negate_i4(%w: tensor<2x4xi4>) -> (tensor<2x4xi4>, tensor<2x4xi8>) {
  %z = arith.constant dense<0> : tensor<2x4xi4>
  %n = arith.subi %z, %w : tensor<2x4xi4>
  %e = arith.extsi %w : tensor<2x4xi4> to tensor<2x4xi8>
  return %n, %e : tensor<2x4xi4>, tensor<2x4xi8>
}

func.func @less(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xi1> {
  %m = arith.cmpf olt, %a, %b : tensor<4xf32>
  return %m : tensor<4xi1>
}

func.func @select(%m: tensor<4xi1>, %a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  %y = arith.select %m, %a, %b : tensor<4xi1>, tensor<4xi32>
  return %y : tensor<4xi32>
}

func.func @add_i8(%a: tensor<3xi8>, %b: tensor<3xi8>) -> tensor<3xi8> {
  %y = arith.addi %a, %b : tensor<3xi8>
  return %y : tensor<3xi8>
}

// Dynamic sizes come from the inputs.
func.func @scale_dynamic(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %y = arith.addf %x, %x : tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// Results that alias an argument or a global constant.
func.func @constant_and_arg(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %c = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  return %c, %x : tensor<3xf32>, tensor<3xf32>
}
