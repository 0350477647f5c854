// f32 attention (issue 14: f32 on a fused kernel, not the generic path):
// the split-KV kernels' chunked form, 16 / G query rows of each of a GQA
// group's heads a CTA, the keys split across CTAs, a combine kernel; f32
// decode (Sq <= 4) the decode form. GQA, causal with Sq != Skv (rows
// without keys), windows with sinks and sink logits, softcap, the lse,
// dynamic sizes, D 32 to 256, a last chunk that is not full.

func.func @f32_gqa_causal_ragged(%q: tensor<2x8x77x64xf32>, %k: tensor<2x2x77x64xf32>, %v: tensor<2x2x77x64xf32>) -> tensor<2x8x77x64xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x77x64xf32>, tensor<2x2x77x64xf32>, tensor<2x2x77x64xf32>) -> tensor<2x8x77x64xf32>
  return %o : tensor<2x8x77x64xf32>
}

func.func @f32_serving_lse(%q: tensor<1x4x150x128xf32>, %k: tensor<1x2x300x128xf32>, %v: tensor<1x2x300x128xf32>, %s: tensor<4xf32>) -> (tensor<1x4x150x128xf32>, tensor<1x4x150xf32>) {
  %o, %lse = loom.attention %q, %k, %v, %s {causal, sink = 4 : i64, window = array<i64: 64, 0, 100, 64>, softcap = 20.0 : f32} : (tensor<1x4x150x128xf32>, tensor<1x2x300x128xf32>, tensor<1x2x300x128xf32>, tensor<4xf32>) -> (tensor<1x4x150x128xf32>, tensor<1x4x150xf32>)
  return %o, %lse : tensor<1x4x150x128xf32>, tensor<1x4x150xf32>
}

func.func @f32_rows_without_keys(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x40x32xf32>, %v: tensor<1x2x40x32xf32>) -> tensor<1x2x100x32xf32> {
  %o = loom.attention %q, %k, %v {causal, scale = 0.3 : f32} : (tensor<1x2x100x32xf32>, tensor<1x2x40x32xf32>, tensor<1x2x40x32xf32>) -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

func.func @f32_dyn(%q: tensor<?x4x?x256xf32>, %k: tensor<?x4x?x256xf32>, %v: tensor<?x4x?x256xf32>) -> tensor<?x4x?x256xf32> {
  %o = loom.attention %q, %k, %v : (tensor<?x4x?x256xf32>, tensor<?x4x?x256xf32>, tensor<?x4x?x256xf32>) -> tensor<?x4x?x256xf32>
  return %o : tensor<?x4x?x256xf32>
}

func.func @f32_decode_gqa(%q: tensor<3x8x1x128xf32>, %k: tensor<3x2x1000x128xf32>, %v: tensor<3x2x1000x128xf32>) -> tensor<3x8x1x128xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<3x8x1x128xf32>, tensor<3x2x1000x128xf32>, tensor<3x2x1000x128xf32>) -> tensor<3x8x1x128xf32>
  return %o : tensor<3x8x1x128xf32>
}
