// Linear attention: feature maps identity/relu/elu_plus_one, causal or not,
// per-head decay, normalization, explicit scale, Dk != Dv, dynamic dims.

func.func @la_f32_decay_elu_norm(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x100x32xf32>, %v: tensor<1x2x100x48xf32>) -> tensor<1x2x100x48xf32> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.05>, normalize} : (tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x48xf32>) -> tensor<1x2x100x48xf32>
  return %o : tensor<1x2x100x48xf32>
}

func.func @la_f32_identity(%q: tensor<2x2x77x16xf32>, %k: tensor<2x2x77x16xf32>, %v: tensor<2x2x77x16xf32>) -> tensor<2x2x77x16xf32> {
  %o = loom.linear_attention %q, %k, %v : (tensor<2x2x77x16xf32>, tensor<2x2x77x16xf32>, tensor<2x2x77x16xf32>) -> tensor<2x2x77x16xf32>
  return %o : tensor<2x2x77x16xf32>
}

func.func @la_bf16_relu_causal_norm(%q: tensor<1x4x256x64xbf16>, %k: tensor<1x4x256x64xbf16>, %v: tensor<1x4x256x64xbf16>) -> tensor<1x4x256x64xbf16> {
  %o = loom.linear_attention %q, %k, %v {causal, feature_map = "relu", scale = 0.125 : f32, normalize} : (tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>, tensor<1x4x256x64xbf16>) -> tensor<1x4x256x64xbf16>
  return %o : tensor<1x4x256x64xbf16>
}

func.func @la_f16_decay_identity(%q: tensor<1x2x200x64xf16>, %k: tensor<1x2x200x64xf16>, %v: tensor<1x2x200x64xf16>) -> tensor<1x2x200x64xf16> {
  %o = loom.linear_attention %q, %k, %v {causal, decay = array<f32: 0.1, 0.01>, scale = 0.125 : f32} : (tensor<1x2x200x64xf16>, tensor<1x2x200x64xf16>, tensor<1x2x200x64xf16>) -> tensor<1x2x200x64xf16>
  return %o : tensor<1x2x200x64xf16>
}

func.func @la_bf16_dyn_relu(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>, %v: tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16> {
  %o = loom.linear_attention %q, %k, %v {feature_map = "relu", scale = 0.0625 : f32} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16>
  return %o : tensor<?x?x?x?xbf16>
}
