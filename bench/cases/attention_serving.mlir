// Serving attention (issue 16): attention sinks, one window per query head
// and learned sink logits, checked against reference.py (which reads
// `sink`, `window = array<i64: ...>` and the sink_logits operand).
// On sm_90a,
// loom.attention with these masks takes the wgmma kernel (D 64 or 128,
// bf16/f16, more than 64 query rows) and the decode steps (Sq <= 4) the
// split-KV decode kernels; the block-sparse entry runs on the generic path,
// which materializes the [B, Hq, Sq, Skv] f32 scores.
//
// - StreamingLLM: 4 sinks and a window of 1024 over 8192 tokens, 32 heads,
//   D 128, bf16, causal; and its decode step (one query, 4 sequences).
// - DuoAttention: 25% retrieval heads (every 4th query head: full causal
//   attention), the others streaming heads (64 sinks and a window of 256),
//   GQA 32:8, 4096 tokens.
// - gpt-oss: learned sink logits on GQA 64:8, D 64, a sliding layer (window
//   128) and a full layer with the lse result.
// - Block-sparse with per-head windows, sinks and sink logits, ragged.

func.func @serve_streaming_llm(%q: tensor<1x32x8192x128xbf16>, %k: tensor<1x32x8192x128xbf16>, %v: tensor<1x32x8192x128xbf16>) -> tensor<1x32x8192x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>, tensor<1x32x8192x128xbf16>) -> tensor<1x32x8192x128xbf16>
  return %o : tensor<1x32x8192x128xbf16>
}

func.func @serve_streaming_llm_decode(%q: tensor<4x32x1x128xbf16>, %k: tensor<4x8x8192x128xbf16>, %v: tensor<4x8x8192x128xbf16>) -> tensor<4x32x1x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 1024 : i64} : (tensor<4x32x1x128xbf16>, tensor<4x8x8192x128xbf16>, tensor<4x8x8192x128xbf16>) -> tensor<4x32x1x128xbf16>
  return %o : tensor<4x32x1x128xbf16>
}

func.func @serve_duo_attention(%q: tensor<1x32x4096x128xbf16>, %k: tensor<1x8x4096x128xbf16>, %v: tensor<1x8x4096x128xbf16>) -> tensor<1x32x4096x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 64 : i64, window = array<i64: 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256, 0, 256, 256, 256>} : (tensor<1x32x4096x128xbf16>, tensor<1x8x4096x128xbf16>, tensor<1x8x4096x128xbf16>) -> tensor<1x32x4096x128xbf16>
  return %o : tensor<1x32x4096x128xbf16>
}

func.func @serve_gpt_oss_sliding(%q: tensor<1x64x1000x64xbf16>, %k: tensor<1x8x1000x64xbf16>, %v: tensor<1x8x1000x64xbf16>, %sinks: tensor<64xf32>) -> tensor<1x64x1000x64xbf16> {
  %o = loom.attention %q, %k, %v, %sinks {causal, window = 128 : i64} : (tensor<1x64x1000x64xbf16>, tensor<1x8x1000x64xbf16>, tensor<1x8x1000x64xbf16>, tensor<64xf32>) -> tensor<1x64x1000x64xbf16>
  return %o : tensor<1x64x1000x64xbf16>
}

func.func @serve_gpt_oss_full_lse(%q: tensor<1x64x333x64xbf16>, %k: tensor<1x8x333x64xbf16>, %v: tensor<1x8x333x64xbf16>, %sinks: tensor<64xf32>) -> (tensor<1x64x333x64xbf16>, tensor<1x64x333xf32>) {
  %o, %lse = loom.attention %q, %k, %v, %sinks {causal} : (tensor<1x64x333x64xbf16>, tensor<1x8x333x64xbf16>, tensor<1x8x333x64xbf16>, tensor<64xf32>) -> (tensor<1x64x333x64xbf16>, tensor<1x64x333xf32>)
  return %o, %lse : tensor<1x64x333x64xbf16>, tensor<1x64x333xf32>
}

func.func @serve_bsa_head_windows(%q: tensor<1x4x333x64xbf16>, %k: tensor<1x2x333x64xbf16>, %v: tensor<1x2x333x64xbf16>, %l: tensor<1x4x6x6xi1>, %sinks: tensor<4xf32>) -> tensor<1x4x333x64xbf16> {
  %o = loom.block_sparse_attention %q, %k, %v, %l, %sinks {block_q = 64 : i64, block_k = 64 : i64, causal, sink = 4 : i64, window = array<i64: 0, 100, 0, 37>} : (tensor<1x4x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x4x6x6xi1>, tensor<4xf32>) -> tensor<1x4x333x64xbf16>
  return %o : tensor<1x4x333x64xbf16>
}

// The wgmma kernel's serving forms (sm_90a): ragged query tiles, Sq != Skv
// (bottom-right), a sink that ends inside a key tile, windows narrower and
// wider than a tile and 0 (full) per head, softcap, sink logits and lse at
// once (f16, D 64).
func.func @serve_wgmma_mix_f16(%q: tensor<1x4x300x64xf16>, %k: tensor<1x2x450x64xf16>, %v: tensor<1x2x450x64xf16>, %sinks: tensor<4xf32>) -> (tensor<1x4x300x64xf16>, tensor<1x4x300xf32>) {
  %o, %lse = loom.attention %q, %k, %v, %sinks {causal, sink = 130 : i64, softcap = 10.0 : f32, window = array<i64: 0, 37, 200, 129>} : (tensor<1x4x300x64xf16>, tensor<1x2x450x64xf16>, tensor<1x2x450x64xf16>, tensor<4xf32>) -> (tensor<1x4x300x64xf16>, tensor<1x4x300xf32>)
  return %o, %lse : tensor<1x4x300x64xf16>, tensor<1x4x300xf32>
}

// One window and sinks, bf16 D 128, GQA 4:1, an explicit scale.
func.func @serve_wgmma_sink_window_d128(%q: tensor<2x8x333x128xbf16>, %k: tensor<2x2x333x128xbf16>, %v: tensor<2x2x333x128xbf16>) -> tensor<2x8x333x128xbf16> {
  %o = loom.attention %q, %k, %v {causal, scale = 0.07 : f32, sink = 4 : i64, window = 100 : i64} : (tensor<2x8x333x128xbf16>, tensor<2x2x333x128xbf16>, tensor<2x2x333x128xbf16>) -> tensor<2x8x333x128xbf16>
  return %o : tensor<2x8x333x128xbf16>
}

// More queries than keys: the first 130 rows see no key (zeros, lse =
// sink_h); sink logits with lse and per-head windows.
func.func @serve_wgmma_empty_rows(%q: tensor<1x2x260x64xbf16>, %k: tensor<1x2x130x64xbf16>, %v: tensor<1x2x130x64xbf16>, %sinks: tensor<2xf32>) -> (tensor<1x2x260x64xbf16>, tensor<1x2x260xf32>) {
  %o, %lse = loom.attention %q, %k, %v, %sinks {causal, sink = 2 : i64, window = array<i64: 16, 0>} : (tensor<1x2x260x64xbf16>, tensor<1x2x130x64xbf16>, tensor<1x2x130x64xbf16>, tensor<2xf32>) -> (tensor<1x2x260x64xbf16>, tensor<1x2x260xf32>)
  return %o, %lse : tensor<1x2x260x64xbf16>, tensor<1x2x260xf32>
}

// Decode steps on the split-KV decode kernels (the sink's and the window's
// key tiles only): gpt-oss-style per-head windows with sinks, sink logits
// and lse (GQA 8:2, D 64, 700 keys: not a tile multiple); speculative
// decode (Sq 2, GQA 4:1, f16, D 128) with a sink reaching past the window
// start; and a group with a full-attention head (every key visited).
func.func @serve_decode_heads(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x700x64xbf16>, %v: tensor<2x2x700x64xbf16>, %sinks: tensor<8xf32>) -> (tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>) {
  %o:2 = loom.attention %q, %k, %v, %sinks {causal, sink = 5 : i64, window = array<i64: 16, 300, 64, 64, 200, 1, 2, 3>} : (tensor<2x8x1x64xbf16>, tensor<2x2x700x64xbf16>, tensor<2x2x700x64xbf16>, tensor<8xf32>) -> (tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>)
  return %o#0, %o#1 : tensor<2x8x1x64xbf16>, tensor<2x8x1xf32>
}

func.func @serve_decode_speculative(%q: tensor<3x4x2x128xf16>, %k: tensor<3x1x1000x128xf16>, %v: tensor<3x1x1000x128xf16>) -> tensor<3x4x2x128xf16> {
  %o = loom.attention %q, %k, %v {causal, sink = 300 : i64, window = 64 : i64, softcap = 20.0 : f32} : (tensor<3x4x2x128xf16>, tensor<3x1x1000x128xf16>, tensor<3x1x1000x128xf16>) -> tensor<3x4x2x128xf16>
  return %o : tensor<3x4x2x128xf16>
}

func.func @serve_decode_full_head(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x333x64xbf16>, %v: tensor<1x2x333x64xbf16>, %sinks: tensor<4xf32>) -> tensor<1x4x1x64xbf16> {
  %o = loom.attention %q, %k, %v, %sinks {causal, sink = 2 : i64, window = array<i64: 0, 40, 7, 129>} : (tensor<1x4x1x64xbf16>, tensor<1x2x333x64xbf16>, tensor<1x2x333x64xbf16>, tensor<4xf32>) -> tensor<1x4x1x64xbf16>
  return %o : tensor<1x4x1x64xbf16>
}
