// Softmax attention checks: MHA/GQA/MQA, causal (square, Skv > Sq and Sq > Skv,
// whose first rows see no key), window, softcap, explicit scale, decode (Sq = 1),
// ragged lengths (77, 93, 130, 200, 333), f32/f16/bf16 and dynamic dims
// (dims.json binds them).

func.func @attn_f32_ragged(%q: tensor<1x2x77x64xf32>, %k: tensor<1x2x77x64xf32>, %v: tensor<1x2x77x64xf32>) -> tensor<1x2x77x64xf32> {
  %o = loom.attention %q, %k, %v : (tensor<1x2x77x64xf32>, tensor<1x2x77x64xf32>, tensor<1x2x77x64xf32>) -> tensor<1x2x77x64xf32>
  return %o : tensor<1x2x77x64xf32>
}

func.func @attn_bf16_causal_gqa(%q: tensor<2x8x130x64xbf16>, %k: tensor<2x2x130x64xbf16>, %v: tensor<2x2x130x64xbf16>) -> tensor<2x8x130x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x130x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x64xbf16>) -> tensor<2x8x130x64xbf16>
  return %o : tensor<2x8x130x64xbf16>
}

func.func @attn_bf16_d128(%q: tensor<1x2x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %v: tensor<1x2x256x128xbf16>) -> tensor<1x2x256x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x2x256x128xbf16>
  return %o : tensor<1x2x256x128xbf16>
}

func.func @attn_f16_window_softcap(%q: tensor<1x4x200x64xf16>, %k: tensor<1x4x200x64xf16>, %v: tensor<1x4x200x64xf16>) -> tensor<1x4x200x64xf16> {
  %o = loom.attention %q, %k, %v {causal, window = 64 : i64, softcap = 5.0 : f32, scale = 0.2 : f32} : (tensor<1x4x200x64xf16>, tensor<1x4x200x64xf16>, tensor<1x4x200x64xf16>) -> tensor<1x4x200x64xf16>
  return %o : tensor<1x4x200x64xf16>
}

func.func @attn_bf16_window_gqa(%q: tensor<1x4x333x64xbf16>, %k: tensor<1x2x333x64xbf16>, %v: tensor<1x2x333x64xbf16>) -> tensor<1x4x333x64xbf16> {
  %o = loom.attention %q, %k, %v {causal, window = 100 : i64} : (tensor<1x4x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x2x333x64xbf16>) -> tensor<1x4x333x64xbf16>
  return %o : tensor<1x4x333x64xbf16>
}

func.func @attn_bf16_mqa_cross_causal(%q: tensor<1x4x77x128xbf16>, %k: tensor<1x1x160x128xbf16>, %v: tensor<1x1x160x64xbf16>) -> tensor<1x4x77x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x4x77x128xbf16>, tensor<1x1x160x128xbf16>, tensor<1x1x160x64xbf16>) -> tensor<1x4x77x64xbf16>
  return %o : tensor<1x4x77x64xbf16>
}

func.func @attn_f32_sq_gt_skv_causal(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x100x32xf32> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x2x100x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

func.func @attn_bf16_decode(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x333x64xbf16>, %v: tensor<2x2x333x64xbf16>) -> tensor<2x8x1x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x1x64xbf16>, tensor<2x2x333x64xbf16>, tensor<2x2x333x64xbf16>) -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

func.func @attn_f16_dyn_causal(%q: tensor<?x4x?x64xf16>, %k: tensor<?x1x?x64xf16>, %v: tensor<?x1x?x32xf16>) -> tensor<?x4x?x32xf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<?x4x?x64xf16>, tensor<?x1x?x64xf16>, tensor<?x1x?x32xf16>) -> tensor<?x4x?x32xf16>
  return %o : tensor<?x4x?x32xf16>
}

func.func @attn_bf16_dyn(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16>
  return %o : tensor<?x?x?x64xbf16>
}

// Split-KV decode kernels (at most 16 query rows per kv head): GQA 32/8 over
// a ragged cache that splits into several 128-key tiles and a partial one;
// MQA with 16 heads in one tile, f16, D 128 and softcap; 3 speculative
// tokens x 4 heads, causal, with Skv < Sq so that the first rows see no key
// (zeros); D 256; D 32 with a scale; a dynamic batch and cache length.
func.func @attn_bf16_decode_gqa_split(%q: tensor<2x32x1x128xbf16>, %k: tensor<2x8x1500x128xbf16>, %v: tensor<2x8x1500x128xbf16>) -> tensor<2x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<2x32x1x128xbf16>, tensor<2x8x1500x128xbf16>, tensor<2x8x1500x128xbf16>) -> tensor<2x32x1x128xbf16>
  return %o : tensor<2x32x1x128xbf16>
}

func.func @attn_f16_decode_mqa_softcap(%q: tensor<1x16x1x128xf16>, %k: tensor<1x1x3001x128xf16>, %v: tensor<1x1x3001x128xf16>) -> tensor<1x16x1x128xf16> {
  %o = loom.attention %q, %k, %v {softcap = 20.0 : f32} : (tensor<1x16x1x128xf16>, tensor<1x1x3001x128xf16>, tensor<1x1x3001x128xf16>) -> tensor<1x16x1x128xf16>
  return %o : tensor<1x16x1x128xf16>
}

func.func @attn_bf16_decode_spec_causal_empty_rows(%q: tensor<3x8x3x64xbf16>, %k: tensor<3x2x2x64xbf16>, %v: tensor<3x2x2x64xbf16>) -> tensor<3x8x3x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<3x8x3x64xbf16>, tensor<3x2x2x64xbf16>, tensor<3x2x2x64xbf16>) -> tensor<3x8x3x64xbf16>
  return %o : tensor<3x8x3x64xbf16>
}

func.func @attn_bf16_decode_spec_causal(%q: tensor<2x8x3x64xbf16>, %k: tensor<2x2x700x64xbf16>, %v: tensor<2x2x700x64xbf16>) -> tensor<2x8x3x64xbf16> {
  %o = loom.attention %q, %k, %v {causal} : (tensor<2x8x3x64xbf16>, tensor<2x2x700x64xbf16>, tensor<2x2x700x64xbf16>) -> tensor<2x8x3x64xbf16>
  return %o : tensor<2x8x3x64xbf16>
}

func.func @attn_bf16_decode_d256(%q: tensor<1x4x1x256xbf16>, %k: tensor<1x2x999x256xbf16>, %v: tensor<1x2x999x256xbf16>) -> tensor<1x4x1x256xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<1x4x1x256xbf16>, tensor<1x2x999x256xbf16>, tensor<1x2x999x256xbf16>) -> tensor<1x4x1x256xbf16>
  return %o : tensor<1x4x1x256xbf16>
}

func.func @attn_f16_decode_d32_scale(%q: tensor<4x6x1x32xf16>, %k: tensor<4x3x257x32xf16>, %v: tensor<4x3x257x32xf16>) -> tensor<4x6x1x32xf16> {
  %o = loom.attention %q, %k, %v {scale = 0.3 : f32} : (tensor<4x6x1x32xf16>, tensor<4x3x257x32xf16>, tensor<4x3x257x32xf16>) -> tensor<4x6x1x32xf16>
  return %o : tensor<4x6x1x32xf16>
}

func.func @attn_bf16_decode_dyn(%q: tensor<?x8x1x128xbf16>, %k: tensor<?x2x?x128xbf16>, %v: tensor<?x2x?x128xbf16>) -> tensor<?x8x1x128xbf16> {
  %o = loom.attention %q, %k, %v : (tensor<?x8x1x128xbf16>, tensor<?x2x?x128xbf16>, tensor<?x2x?x128xbf16>) -> tensor<?x8x1x128xbf16>
  return %o : tensor<?x8x1x128xbf16>
}
