// The select_blocks fusion group (loom-fuse: the RoPE and layout changes of
// q and k, then loom.select_blocks) as one launch of the select_blocks
// recipe (lib/Conversion/LoomToGPU/FusedSelectBlocks.cpp): q and k read from [S, H*D] (or
// [B*S, H*D]) projections through expand_shape + transpose, RoPE half and
// interleaved (f32, bf16, f16 tables), on one operand or both, and plain
// select_blocks without a prologue. Ragged lengths and block sizes that do
// not divide them, causal (Sq = Skv, Sq < Skv, Sq > Skv with candidate-free
// query blocks) and not, GQA and MQA, topk >= NKB, bf16, f16 and f32.

// The long-context block's group: GQA 8/2, causal, top-4 of 16 key blocks,
// S = 1000 (the last block holds 40 rows).
func.func @fsel_lc_half_bf16_gqa(%q2: tensor<1000x512xbf16>, %k2: tensor<1000x128xbf16>, %cos: tensor<1000x32xf32>, %sin: tensor<1000x32xf32>) -> tensor<1x8x16x16xi1> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 1000, 8, 64] : tensor<1000x512xbf16> into tensor<1x1000x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 1000, 2, 64] : tensor<1000x128xbf16> into tensor<1x1000x2x64xbf16>
  %qi = tensor.empty() : tensor<1x8x1000x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x1000x8x64xbf16>) outs(%qi : tensor<1x8x1000x64xbf16>) permutation = [0, 2, 1, 3]
  %ki = tensor.empty() : tensor<1x2x1000x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x1000x2x64xbf16>) outs(%ki : tensor<1x2x1000x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x1000x64xbf16>, tensor<1000x32xf32>, tensor<1000x32xf32>) -> tensor<1x8x1000x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x1000x64xbf16>, tensor<1000x32xf32>, tensor<1000x32xf32>) -> tensor<1x2x1000x64xbf16>
  %l = loom.select_blocks %qr, %kr {block_q = 64 : i64, block_k = 64 : i64, topk = 4 : i64, causal} : (tensor<1x8x1000x64xbf16>, tensor<1x2x1000x64xbf16>) -> tensor<1x8x16x16xi1>
  return %l : tensor<1x8x16x16xi1>
}

// Interleaved RoPE with f16 tables, D = 128, not causal, blocks 48 x 40
// (7 query blocks, 9 key blocks, the last ones partial), top-3.
func.func @fsel_il_f16_d128(%q2: tensor<333x512xf16>, %k2: tensor<333x512xf16>, %cos: tensor<333x64xf16>, %sin: tensor<333x64xf16>) -> tensor<1x4x7x9xi1> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 333, 4, 128] : tensor<333x512xf16> into tensor<1x333x4x128xf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 333, 4, 128] : tensor<333x512xf16> into tensor<1x333x4x128xf16>
  %qi = tensor.empty() : tensor<1x4x333x128xf16>
  %q = linalg.transpose ins(%q4 : tensor<1x333x4x128xf16>) outs(%qi : tensor<1x4x333x128xf16>) permutation = [0, 2, 1, 3]
  %ki = tensor.empty() : tensor<1x4x333x128xf16>
  %k = linalg.transpose ins(%k4 : tensor<1x333x4x128xf16>) outs(%ki : tensor<1x4x333x128xf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "interleaved"} : (tensor<1x4x333x128xf16>, tensor<333x64xf16>, tensor<333x64xf16>) -> tensor<1x4x333x128xf16>
  %kr = loom.rope %k, %cos, %sin {style = "interleaved"} : (tensor<1x4x333x128xf16>, tensor<333x64xf16>, tensor<333x64xf16>) -> tensor<1x4x333x128xf16>
  %l = loom.select_blocks %qr, %kr {block_q = 48 : i64, block_k = 40 : i64, topk = 3 : i64} : (tensor<1x4x333x128xf16>, tensor<1x4x333x128xf16>) -> tensor<1x4x7x9xi1>
  return %l : tensor<1x4x7x9xi1>
}

// Batch 2 from [B*S, H*D] projections, MQA (one kv head), bf16 tables,
// causal, topk 16 >= NKB = 5: every causal candidate is selected.
func.func @fsel_batch_mqa_topk_all(%q2: tensor<300x128xbf16>, %k2: tensor<300x64xbf16>, %cos: tensor<150x32xbf16>, %sin: tensor<150x32xbf16>) -> tensor<2x2x5x5xi1> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [2, 150, 2, 64] : tensor<300x128xbf16> into tensor<2x150x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [2, 150, 1, 64] : tensor<300x64xbf16> into tensor<2x150x1x64xbf16>
  %qi = tensor.empty() : tensor<2x2x150x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<2x150x2x64xbf16>) outs(%qi : tensor<2x2x150x64xbf16>) permutation = [0, 2, 1, 3]
  %ki = tensor.empty() : tensor<2x1x150x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<2x150x1x64xbf16>) outs(%ki : tensor<2x1x150x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<2x2x150x64xbf16>, tensor<150x32xbf16>, tensor<150x32xbf16>) -> tensor<2x2x150x64xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<2x1x150x64xbf16>, tensor<150x32xbf16>, tensor<150x32xbf16>) -> tensor<2x1x150x64xbf16>
  %l = loom.select_blocks %qr, %kr {block_q = 32 : i64, block_k = 32 : i64, topk = 16 : i64, causal} : (tensor<2x2x150x64xbf16>, tensor<2x1x150x64xbf16>) -> tensor<2x2x5x5xi1>
  return %l : tensor<2x2x5x5xi1>
}

// Plain select_blocks (no prologue), causal with Sq = 100 < Skv = 260,
// batch 2, GQA 4/2, blocks 16 x 40.
func.func @fsel_plain_cross_causal(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x2x260x64xbf16>) -> tensor<2x4x7x7xi1> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 40 : i64, topk = 2 : i64, causal} : (tensor<2x4x100x64xbf16>, tensor<2x2x260x64xbf16>) -> tensor<2x4x7x7xi1>
  return %l : tensor<2x4x7x7xi1>
}

// RoPE on k only (q plain), f32, explicit scale, not causal, blocks 10 x 7
// (8 query blocks, 11 key blocks), GQA 3/1, top-5.
func.func @fsel_rope_k_only_f32(%q: tensor<1x3x77x32xf32>, %k2: tensor<77x32xf32>, %cos: tensor<77x16xf32>, %sin: tensor<77x16xf32>) -> tensor<1x3x8x11xi1> {
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 77, 1, 32] : tensor<77x32xf32> into tensor<1x77x1x32xf32>
  %ki = tensor.empty() : tensor<1x1x77x32xf32>
  %k = linalg.transpose ins(%k4 : tensor<1x77x1x32xf32>) outs(%ki : tensor<1x1x77x32xf32>) permutation = [0, 2, 1, 3]
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x1x77x32xf32>, tensor<77x16xf32>, tensor<77x16xf32>) -> tensor<1x1x77x32xf32>
  %l = loom.select_blocks %q, %kr {block_q = 10 : i64, block_k = 7 : i64, topk = 5 : i64, scale = 0.3 : f32} : (tensor<1x3x77x32xf32>, tensor<1x1x77x32xf32>) -> tensor<1x3x8x11xi1>
  return %l : tensor<1x3x8x11xi1>
}

// RoPE without layout changes, own tables for q and k, causal with
// Sq = 200 > Skv = 72: query blocks 0 and 1 have no candidate (all false).
func.func @fsel_rope_sq_gt_skv(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x72x64xbf16>, %cq: tensor<200x32xf32>, %sq: tensor<200x32xf32>, %ck: tensor<72x32xf32>, %sk: tensor<72x32xf32>) -> tensor<1x4x4x2xi1> {
  %qr = loom.rope %q, %cq, %sq {style = "half"} : (tensor<1x4x200x64xbf16>, tensor<200x32xf32>, tensor<200x32xf32>) -> tensor<1x4x200x64xbf16>
  %kr = loom.rope %k, %ck, %sk {style = "interleaved"} : (tensor<1x2x72x64xbf16>, tensor<72x32xf32>, tensor<72x32xf32>) -> tensor<1x2x72x64xbf16>
  %l = loom.select_blocks %qr, %kr {block_q = 64 : i64, block_k = 64 : i64, topk = 8 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x72x64xbf16>) -> tensor<1x4x4x2xi1>
  return %l : tensor<1x4x4x2xi1>
}

// Many heads (B * Hq = 256): one CTA per head takes all 21 query blocks in
// chunks of 16 and 5. Causal, GQA 8, blocks 16 x 32, top-3.
func.func @fsel_plain_many_heads_chunks(%q: tensor<4x64x330x64xbf16>, %k: tensor<4x8x330x64xbf16>) -> tensor<4x64x21x11xi1> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 32 : i64, topk = 3 : i64, causal} : (tensor<4x64x330x64xbf16>, tensor<4x8x330x64xbf16>) -> tensor<4x64x21x11xi1>
  return %l : tensor<4x64x21x11xi1>
}

// 32 query heads from a [S, H*D] projection: CTAs of 2 query blocks each,
// pooled and scored as one chunk. f16, RoPE half, not causal.
func.func @fsel_f16_heads32_chunk2(%q2: tensor<250x2048xf16>, %k2: tensor<250x512xf16>, %cos: tensor<250x32xf32>, %sin: tensor<250x32xf32>) -> tensor<1x32x16x5xi1> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 250, 32, 64] : tensor<250x2048xf16> into tensor<1x250x32x64xf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 250, 8, 64] : tensor<250x512xf16> into tensor<1x250x8x64xf16>
  %qi = tensor.empty() : tensor<1x32x250x64xf16>
  %q = linalg.transpose ins(%q4 : tensor<1x250x32x64xf16>) outs(%qi : tensor<1x32x250x64xf16>) permutation = [0, 2, 1, 3]
  %ki = tensor.empty() : tensor<1x8x250x64xf16>
  %k = linalg.transpose ins(%k4 : tensor<1x250x8x64xf16>) outs(%ki : tensor<1x8x250x64xf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x32x250x64xf16>, tensor<250x32xf32>, tensor<250x32xf32>) -> tensor<1x32x250x64xf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x8x250x64xf16>, tensor<250x32xf32>, tensor<250x32xf32>) -> tensor<1x8x250x64xf16>
  %l = loom.select_blocks %qr, %kr {block_q = 16 : i64, block_k = 50 : i64, topk = 2 : i64} : (tensor<1x32x250x64xf16>, tensor<1x8x250x64xf16>) -> tensor<1x32x16x5xi1>
  return %l : tensor<1x32x16x5xi1>
}
