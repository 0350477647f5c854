// A decode-style step on a paged cache with a dynamic token count (see
// ../paged.test), and RoPE at positions whose count must match x's.
func.func @step(%q: tensor<?x1x2xf32>, %knew: tensor<?x1x2xf32>, %vnew: tensor<?x1x2xf32>, %slots: tensor<?xi32>,
                %kc: tensor<3x2x1x2xf32>, %vc: tensor<3x2x1x2xf32>,
                %off: tensor<2xi32>, %len: tensor<1xi32>, %bt: tensor<1x2xi32>) -> (tensor<?x1x2xf32>, tensor<3x2x1x2xf32>) {
  %kc2 = loom.kv_cache_write %kc, %knew, %slots : (tensor<3x2x1x2xf32>, tensor<?x1x2xf32>, tensor<?xi32>) -> tensor<3x2x1x2xf32>
  %vc2 = loom.kv_cache_write %vc, %vnew, %slots : (tensor<3x2x1x2xf32>, tensor<?x1x2xf32>, tensor<?xi32>) -> tensor<3x2x1x2xf32>
  %o = loom.paged_attention %q, %kc2, %vc2, %off, %len, %bt {causal}
      : (tensor<?x1x2xf32>, tensor<3x2x1x2xf32>, tensor<3x2x1x2xf32>, tensor<2xi32>, tensor<1xi32>, tensor<1x2xi32>) -> tensor<?x1x2xf32>
  return %o, %vc2 : tensor<?x1x2xf32>, tensor<3x2x1x2xf32>
}

func.func @rope(%x: tensor<?x1x2xf32>, %cos: tensor<4x1xf32>, %sin: tensor<4x1xf32>, %pos: tensor<?xi32>) -> tensor<?x1x2xf32> {
  %y = loom.rope %x, %cos, %sin, %pos : (tensor<?x1x2xf32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<?xi32>) -> tensor<?x1x2xf32>
  return %y : tensor<?x1x2xf32>
}
