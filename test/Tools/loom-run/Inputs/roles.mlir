// The serving ops with static sizes, for --random-inputs' index ranges
// (../random-inputs.test).
func.func @serving(%q: tensor<6x2x16xf32>, %kc: tensor<4x8x1x16xf32>, %vc: tensor<4x8x1x16xf32>,
                   %off: tensor<3xi32>, %lens: tensor<2xi32>, %bt: tensor<2x3xi32>, %sinks: tensor<2xf32>,
                   %new: tensor<6x1x16xf32>, %slots: tensor<6xi32>,
                   %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>, %pos: tensor<6xi32>)
    -> (tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<6x2x16xf32>) {
  %o = loom.paged_attention %q, %kc, %vc, %off, %lens, %bt, %sinks {causal}
      : (tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<4x8x1x16xf32>, tensor<3xi32>, tensor<2xi32>, tensor<2x3xi32>, tensor<2xf32>) -> tensor<6x2x16xf32>
  %c = loom.kv_cache_write %kc, %new, %slots : (tensor<4x8x1x16xf32>, tensor<6x1x16xf32>, tensor<6xi32>) -> tensor<4x8x1x16xf32>
  %r = loom.rope %q, %cos, %sin, %pos : (tensor<6x2x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<6xi32>) -> tensor<6x2x16xf32>
  return %o, %c, %r : tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<6x2x16xf32>
}
