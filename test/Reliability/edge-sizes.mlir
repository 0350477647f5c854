// Edge sizes through both pipelines: every loom op with every dimension 0 (where
// the verifier allows it) and with every dimension dynamic, query-head count 0 for the GQA ops, and
// a few huge static shapes (2^31 + 1 elements or more). Each compiles; the
// exhaustive sweep (each dimension alone at 0, 1 and 2^31 + 1, every op,
// both pipelines) is Inputs/edge_cases.py, run below and in edge-sizes-gpu.test.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/../Tools/expect_exit.py 0 -- loom-compile %s --target=cpu --emit=llvm -o %t/edge.ll
// RUN: %python %S/Inputs/edge_cases.py --loom-opt loom-opt --loom-compile loom-compile --out %t/cpu -- --target=cpu --emit=llvm
//
// Regression: a static Hq = 0 with Hkv > 1 gave the head map `h floordiv 0`
// (undefined; the lowering then failed in the linalg verifier with a garbage
// bound instead of compiling an empty result).

func.func @attention_hq0(%a0: tensor<2x0x8x16xbf16>, %a1: tensor<2x2x8x16xbf16>, %a2: tensor<2x2x8x16xbf16>) -> (tensor<2x0x8x16xbf16>) {
  %r0 = loom.attention %a0, %a1, %a2 : (tensor<2x0x8x16xbf16>, tensor<2x2x8x16xbf16>, tensor<2x2x8x16xbf16>) -> tensor<2x0x8x16xbf16>
  return %r0 : tensor<2x0x8x16xbf16>
}

func.func @attention_causal_hq0(%a0: tensor<2x0x8x16xbf16>, %a1: tensor<2x2x8x16xbf16>, %a2: tensor<2x2x8x16xbf16>) -> (tensor<2x0x8x16xbf16>) {
  %r0 = loom.attention %a0, %a1, %a2 {causal, window = 4 : i64, softcap = 30.0 : f32} : (tensor<2x0x8x16xbf16>, tensor<2x2x8x16xbf16>, tensor<2x2x8x16xbf16>) -> tensor<2x0x8x16xbf16>
  return %r0 : tensor<2x0x8x16xbf16>
}

func.func @select_blocks_hq0(%a0: tensor<1x0x8x16xf32>, %a1: tensor<1x2x8x16xf32>) -> (tensor<1x0x2x2xi1>) {
  %r0 = loom.select_blocks %a0, %a1 {block_q = 4 : i64, block_k = 4 : i64, topk = 1 : i64, causal} : (tensor<1x0x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x0x2x2xi1>
  return %r0 : tensor<1x0x2x2xi1>
}

func.func @block_sparse_attention_hq0(%a0: tensor<1x0x8x16xbf16>, %a1: tensor<1x2x8x16xbf16>, %a2: tensor<1x2x8x16xbf16>, %a3: tensor<1x0x2x2xi1>) -> (tensor<1x0x8x16xbf16>) {
  %r0 = loom.block_sparse_attention %a0, %a1, %a2, %a3 {block_q = 4 : i64, block_k = 4 : i64, causal} : (tensor<1x0x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x0x2x2xi1>) -> tensor<1x0x8x16xbf16>
  return %r0 : tensor<1x0x8x16xbf16>
}

func.func @attention_dynamic(%a0: tensor<?x?x?x?xbf16>, %a1: tensor<?x?x?x?xbf16>, %a2: tensor<?x?x?x?xbf16>) -> (tensor<?x?x?x?xbf16>) {
  %r0 = loom.attention %a0, %a1, %a2 : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16>
  return %r0 : tensor<?x?x?x?xbf16>
}

func.func @attention_causal_dynamic(%a0: tensor<?x?x?x?xbf16>, %a1: tensor<?x?x?x?xbf16>, %a2: tensor<?x?x?x?xbf16>) -> (tensor<?x?x?x?xbf16>) {
  %r0 = loom.attention %a0, %a1, %a2 {causal, window = 4 : i64, softcap = 30.0 : f32} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>) -> tensor<?x?x?x?xbf16>
  return %r0 : tensor<?x?x?x?xbf16>
}

func.func @select_blocks_dynamic(%a0: tensor<?x?x?x?xf32>, %a1: tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xi1>) {
  %r0 = loom.select_blocks %a0, %a1 {block_q = 4 : i64, block_k = 4 : i64, topk = 1 : i64, causal} : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xi1>
  return %r0 : tensor<?x?x?x?xi1>
}

func.func @block_sparse_attention_dynamic(%a0: tensor<?x?x?x?xbf16>, %a1: tensor<?x?x?x?xbf16>, %a2: tensor<?x?x?x?xbf16>, %a3: tensor<?x?x?x?xi1>) -> (tensor<?x?x?x?xbf16>) {
  %r0 = loom.block_sparse_attention %a0, %a1, %a2, %a3 {block_q = 4 : i64, block_k = 4 : i64, causal} : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xi1>) -> tensor<?x?x?x?xbf16>
  return %r0 : tensor<?x?x?x?xbf16>
}

func.func @linear_attention_zero(%a0: tensor<0x0x0x0xf32>, %a1: tensor<0x0x0x0xf32>, %a2: tensor<0x0x0x0xf32>) -> (tensor<0x0x0x0xf32>) {
  %r0 = loom.linear_attention %a0, %a1, %a2 : (tensor<0x0x0x0xf32>, tensor<0x0x0x0xf32>, tensor<0x0x0x0xf32>) -> tensor<0x0x0x0xf32>
  return %r0 : tensor<0x0x0x0xf32>
}

func.func @linear_attention_dynamic(%a0: tensor<?x?x?x?xf32>, %a1: tensor<?x?x?x?xf32>, %a2: tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xf32>) {
  %r0 = loom.linear_attention %a0, %a1, %a2 : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %r0 : tensor<?x?x?x?xf32>
}

func.func @linear_attention_causal_dynamic(%a0: tensor<?x?x?x?xf32>, %a1: tensor<?x?x?x?xf32>, %a2: tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xf32>) {
  %r0 = loom.linear_attention %a0, %a1, %a2 {causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, normalize} : (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %r0 : tensor<?x?x?x?xf32>
}

func.func @pool_mixer_zero(%a0: tensor<0x0x0x0xf32>) -> (tensor<0x0x0x0xf32>) {
  %r0 = loom.pool_mixer %a0 {kernel = 3 : i64} : (tensor<0x0x0x0xf32>) -> tensor<0x0x0x0xf32>
  return %r0 : tensor<0x0x0x0xf32>
}

func.func @pool_mixer_dynamic(%a0: tensor<?x?x?x?xf32>) -> (tensor<?x?x?x?xf32>) {
  %r0 = loom.pool_mixer %a0 {kernel = 3 : i64} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %r0 : tensor<?x?x?x?xf32>
}

func.func @pool_mixer1d_zero(%a0: tensor<0x0x0xbf16>) -> (tensor<0x0x0xbf16>) {
  %r0 = loom.pool_mixer %a0 {kernel = 3 : i64} : (tensor<0x0x0xbf16>) -> tensor<0x0x0xbf16>
  return %r0 : tensor<0x0x0xbf16>
}

func.func @pool_mixer1d_dynamic(%a0: tensor<?x?x?xbf16>) -> (tensor<?x?x?xbf16>) {
  %r0 = loom.pool_mixer %a0 {kernel = 3 : i64} : (tensor<?x?x?xbf16>) -> tensor<?x?x?xbf16>
  return %r0 : tensor<?x?x?xbf16>
}

func.func @dwconv_dynamic(%a0: tensor<?x?x?xbf16>, %a1: tensor<?x?xbf16>) -> (tensor<?x?x?xbf16>) {
  %r0 = loom.dwconv %a0, %a1 : (tensor<?x?x?xbf16>, tensor<?x?xbf16>) -> tensor<?x?x?xbf16>
  return %r0 : tensor<?x?x?xbf16>
}

func.func @dwconv_causal_dynamic(%a0: tensor<?x?x?xbf16>, %a1: tensor<?x?xbf16>) -> (tensor<?x?x?xbf16>) {
  %r0 = loom.dwconv %a0, %a1 {causal} : (tensor<?x?x?xbf16>, tensor<?x?xbf16>) -> tensor<?x?x?xbf16>
  return %r0 : tensor<?x?x?xbf16>
}

func.func @dwconv2d_dynamic(%a0: tensor<?x?x?x?xf32>, %a1: tensor<?x?x?xf32>) -> (tensor<?x?x?x?xf32>) {
  %r0 = loom.dwconv %a0, %a1 : (tensor<?x?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %r0 : tensor<?x?x?x?xf32>
}

func.func @linear_zero(%a0: tensor<0x0x0xf32>, %a1: tensor<0x0xf32>, %a2: tensor<0xf32>) -> (tensor<0x0x0xf32>) {
  %r0 = loom.linear %a0, %a1, %a2 : (tensor<0x0x0xf32>, tensor<0x0xf32>, tensor<0xf32>) -> tensor<0x0x0xf32>
  return %r0 : tensor<0x0x0xf32>
}

func.func @linear_dynamic(%a0: tensor<?x?x?xf32>, %a1: tensor<?x?xf32>, %a2: tensor<?xf32>) -> (tensor<?x?x?xf32>) {
  %r0 = loom.linear %a0, %a1, %a2 : (tensor<?x?x?xf32>, tensor<?x?xf32>, tensor<?xf32>) -> tensor<?x?x?xf32>
  return %r0 : tensor<?x?x?xf32>
}

func.func @qlinear_i8_zero(%a0: tensor<0x0xbf16>, %a1: tensor<0x0xi8>, %a2: tensor<0xf32>) -> (tensor<0x0xbf16>) {
  %r0 = loom.qlinear %a0, %a1, %a2 : (tensor<0x0xbf16>, tensor<0x0xi8>, tensor<0xf32>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @qlinear_i8_dynamic(%a0: tensor<?x?xbf16>, %a1: tensor<?x?xi8>, %a2: tensor<?xf32>) -> (tensor<?x?xbf16>) {
  %r0 = loom.qlinear %a0, %a1, %a2 : (tensor<?x?xbf16>, tensor<?x?xi8>, tensor<?xf32>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @qlinear_i4_zero(%a0: tensor<0x0xbf16>, %a1: tensor<0x0xi4>, %a2: tensor<0x0xf32>, %a3: tensor<0xbf16>) -> (tensor<0x0xbf16>) {
  %r0 = loom.qlinear %a0, %a1, %a2, %a3 {group_size = 32 : i64} : (tensor<0x0xbf16>, tensor<0x0xi4>, tensor<0x0xf32>, tensor<0xbf16>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @qlinear_i4_dynamic(%a0: tensor<?x?xbf16>, %a1: tensor<?x?xi4>, %a2: tensor<?x?xf32>, %a3: tensor<?xbf16>) -> (tensor<?x?xbf16>) {
  %r0 = loom.qlinear %a0, %a1, %a2, %a3 {group_size = 32 : i64} : (tensor<?x?xbf16>, tensor<?x?xi4>, tensor<?x?xf32>, tensor<?xbf16>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @quantize_i8_zero(%a0: tensor<0x0xbf16>) -> (tensor<0x0xi8>, tensor<0xf32>) {
  %r0, %r1 = loom.quantize %a0 : (tensor<0x0xbf16>) -> (tensor<0x0xi8>, tensor<0xf32>)
  return %r0, %r1 : tensor<0x0xi8>, tensor<0xf32>
}

func.func @quantize_i8_dynamic(%a0: tensor<?x?xbf16>) -> (tensor<?x?xi8>, tensor<?xf32>) {
  %r0, %r1 = loom.quantize %a0 : (tensor<?x?xbf16>) -> (tensor<?x?xi8>, tensor<?xf32>)
  return %r0, %r1 : tensor<?x?xi8>, tensor<?xf32>
}

func.func @quantize_f8_zero(%a0: tensor<0x0xbf16>) -> (tensor<0x0xf8E4M3FN>, tensor<0xf32>) {
  %r0, %r1 = loom.quantize %a0 : (tensor<0x0xbf16>) -> (tensor<0x0xf8E4M3FN>, tensor<0xf32>)
  return %r0, %r1 : tensor<0x0xf8E4M3FN>, tensor<0xf32>
}

func.func @quantize_f8_dynamic(%a0: tensor<?x?xbf16>) -> (tensor<?x?xf8E4M3FN>, tensor<?xf32>) {
  %r0, %r1 = loom.quantize %a0 : (tensor<?x?xbf16>) -> (tensor<?x?xf8E4M3FN>, tensor<?xf32>)
  return %r0, %r1 : tensor<?x?xf8E4M3FN>, tensor<?xf32>
}

func.func @qmatmul_i8_zero(%a0: tensor<0x0xi8>, %a1: tensor<0xf32>, %a2: tensor<0x0xi8>, %a3: tensor<0xf32>, %a4: tensor<0xbf16>) -> (tensor<0x0xbf16>) {
  %r0 = loom.qmatmul %a0, %a1, %a2, %a3, %a4 : (tensor<0x0xi8>, tensor<0xf32>, tensor<0x0xi8>, tensor<0xf32>, tensor<0xbf16>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @qmatmul_i8_dynamic(%a0: tensor<?x?xi8>, %a1: tensor<?xf32>, %a2: tensor<?x?xi8>, %a3: tensor<?xf32>, %a4: tensor<?xbf16>) -> (tensor<?x?xbf16>) {
  %r0 = loom.qmatmul %a0, %a1, %a2, %a3, %a4 : (tensor<?x?xi8>, tensor<?xf32>, tensor<?x?xi8>, tensor<?xf32>, tensor<?xbf16>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @qmatmul_f8_zero(%a0: tensor<0x0xf8E4M3FN>, %a1: tensor<0xf32>, %a2: tensor<0x0xf8E4M3FN>, %a3: tensor<0xf32>, %a4: tensor<0xbf16>) -> (tensor<0x0xbf16>) {
  %r0 = loom.qmatmul %a0, %a1, %a2, %a3, %a4 : (tensor<0x0xf8E4M3FN>, tensor<0xf32>, tensor<0x0xf8E4M3FN>, tensor<0xf32>, tensor<0xbf16>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @qmatmul_f8_dynamic(%a0: tensor<?x?xf8E4M3FN>, %a1: tensor<?xf32>, %a2: tensor<?x?xf8E4M3FN>, %a3: tensor<?xf32>, %a4: tensor<?xbf16>) -> (tensor<?x?xbf16>) {
  %r0 = loom.qmatmul %a0, %a1, %a2, %a3, %a4 : (tensor<?x?xf8E4M3FN>, tensor<?xf32>, tensor<?x?xf8E4M3FN>, tensor<?xf32>, tensor<?xbf16>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @rms_norm_zero(%a0: tensor<0x0xbf16>, %a1: tensor<0xbf16>) -> (tensor<0x0xbf16>) {
  %r0 = loom.rms_norm %a0, %a1 : (tensor<0x0xbf16>, tensor<0xbf16>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @rms_norm_dynamic(%a0: tensor<?x?xbf16>, %a1: tensor<?xbf16>) -> (tensor<?x?xbf16>) {
  %r0 = loom.rms_norm %a0, %a1 : (tensor<?x?xbf16>, tensor<?xbf16>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @layer_norm_zero(%a0: tensor<0x0xf32>, %a1: tensor<0xf32>, %a2: tensor<0xf32>) -> (tensor<0x0xf32>) {
  %r0 = loom.layer_norm %a0, %a1, %a2 : (tensor<0x0xf32>, tensor<0xf32>, tensor<0xf32>) -> tensor<0x0xf32>
  return %r0 : tensor<0x0xf32>
}

func.func @layer_norm_dynamic(%a0: tensor<?x?xf32>, %a1: tensor<?xf32>, %a2: tensor<?xf32>) -> (tensor<?x?xf32>) {
  %r0 = loom.layer_norm %a0, %a1, %a2 : (tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %r0 : tensor<?x?xf32>
}

func.func @rope_zero(%a0: tensor<0x0x0x0xbf16>, %a1: tensor<0x0xf32>, %a2: tensor<0x0xf32>) -> (tensor<0x0x0x0xbf16>) {
  %r0 = loom.rope %a0, %a1, %a2 : (tensor<0x0x0x0xbf16>, tensor<0x0xf32>, tensor<0x0xf32>) -> tensor<0x0x0x0xbf16>
  return %r0 : tensor<0x0x0x0xbf16>
}

func.func @rope_dynamic(%a0: tensor<?x?x?x?xbf16>, %a1: tensor<?x?xf32>, %a2: tensor<?x?xf32>) -> (tensor<?x?x?x?xbf16>) {
  %r0 = loom.rope %a0, %a1, %a2 : (tensor<?x?x?x?xbf16>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?x?xbf16>
  return %r0 : tensor<?x?x?x?xbf16>
}

func.func @rope_interleaved_zero(%a0: tensor<0x0x0x0xbf16>, %a1: tensor<0x0xf32>, %a2: tensor<0x0xf32>) -> (tensor<0x0x0x0xbf16>) {
  %r0 = loom.rope %a0, %a1, %a2 {style = "interleaved"} : (tensor<0x0x0x0xbf16>, tensor<0x0xf32>, tensor<0x0xf32>) -> tensor<0x0x0x0xbf16>
  return %r0 : tensor<0x0x0x0xbf16>
}

func.func @rope_interleaved_dynamic(%a0: tensor<?x?x?x?xbf16>, %a1: tensor<?x?xf32>, %a2: tensor<?x?xf32>) -> (tensor<?x?x?x?xbf16>) {
  %r0 = loom.rope %a0, %a1, %a2 {style = "interleaved"} : (tensor<?x?x?x?xbf16>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?x?xbf16>
  return %r0 : tensor<?x?x?x?xbf16>
}

func.func @gelu_zero(%a0: tensor<0x0xbf16>) -> (tensor<0x0xbf16>) {
  %r0 = loom.gelu %a0 : (tensor<0x0xbf16>) -> tensor<0x0xbf16>
  return %r0 : tensor<0x0xbf16>
}

func.func @gelu_dynamic(%a0: tensor<?x?xbf16>) -> (tensor<?x?xbf16>) {
  %r0 = loom.gelu %a0 : (tensor<?x?xbf16>) -> tensor<?x?xbf16>
  return %r0 : tensor<?x?xbf16>
}

func.func @gelu_tanh_zero(%a0: tensor<0x0xf32>) -> (tensor<0x0xf32>) {
  %r0 = loom.gelu %a0 {approximate = "tanh"} : (tensor<0x0xf32>) -> tensor<0x0xf32>
  return %r0 : tensor<0x0xf32>
}

func.func @gelu_tanh_dynamic(%a0: tensor<?x?xf32>) -> (tensor<?x?xf32>) {
  %r0 = loom.gelu %a0 {approximate = "tanh"} : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r0 : tensor<?x?xf32>
}

func.func @silu_zero(%a0: tensor<0x0xf16>) -> (tensor<0x0xf16>) {
  %r0 = loom.silu %a0 : (tensor<0x0xf16>) -> tensor<0x0xf16>
  return %r0 : tensor<0x0xf16>
}

func.func @silu_dynamic(%a0: tensor<?x?xf16>) -> (tensor<?x?xf16>) {
  %r0 = loom.silu %a0 : (tensor<?x?xf16>) -> tensor<?x?xf16>
  return %r0 : tensor<?x?xf16>
}

func.func @attention_huge_seq(%a0: tensor<2x4x2147483649x16xbf16>, %a1: tensor<2x2x8x16xbf16>, %a2: tensor<2x2x8x16xbf16>) -> (tensor<2x4x2147483649x16xbf16>) {
  %r0 = loom.attention %a0, %a1, %a2 : (tensor<2x4x2147483649x16xbf16>, tensor<2x2x8x16xbf16>, tensor<2x2x8x16xbf16>) -> tensor<2x4x2147483649x16xbf16>
  return %r0 : tensor<2x4x2147483649x16xbf16>
}

func.func @linear_huge_rows(%a0: tensor<2x2147483649x16xf32>, %a1: tensor<8x16xf32>, %a2: tensor<8xf32>) -> (tensor<2x2147483649x8xf32>) {
  %r0 = loom.linear %a0, %a1, %a2 : (tensor<2x2147483649x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<2x2147483649x8xf32>
  return %r0 : tensor<2x2147483649x8xf32>
}

func.func @gelu_huge_row(%a0: tensor<4x2147483649xbf16>) -> (tensor<4x2147483649xbf16>) {
  %r0 = loom.gelu %a0 : (tensor<4x2147483649xbf16>) -> tensor<4x2147483649xbf16>
  return %r0 : tensor<4x2147483649xbf16>
}

func.func @rms_norm_huge_rows(%a0: tensor<2147483649x64xbf16>, %a1: tensor<64xbf16>) -> (tensor<2147483649x64xbf16>) {
  %r0 = loom.rms_norm %a0, %a1 : (tensor<2147483649x64xbf16>, tensor<64xbf16>) -> tensor<2147483649x64xbf16>
  return %r0 : tensor<2147483649x64xbf16>
}
