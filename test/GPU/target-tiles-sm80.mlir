// Tiles that fit one chip and not another, and tiles that do not fit an op,
// are errors at the op: on sm_80 (163 KiB of shared memory per block) a
// 128 x 128 attention tile of head dim 128 needs 170 KiB (it compiles for
// sm_90a, target-tiles.mlir); a block-sparse layout's blocks must be
// multiples of the attention tile; a GEMM tile whose warps would each keep
// more than 128 f32 accumulators per thread is refused.
//
// RUN: loom-opt %s -split-input-file '--loom-gpu-kernels=chip=sm_80 tiles=attention:128x128,gemm:256x256x32' -verify-diagnostics

func.func @attention(%q: tensor<1x8x512x128xbf16>, %k: tensor<1x8x512x128xbf16>, %v: tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16> {
  // expected-error @below {{tile 'attention:128x128' needs 170 KiB of shared memory, sm_80 has 163 KiB}}
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16>
  return %o : tensor<1x8x512x128xbf16>
}

// -----

func.func @sparse(%q: tensor<1x2x512x64xbf16>, %l: tensor<1x1x8x8xi1>) -> tensor<1x2x512x64xbf16> {
  // expected-error @below {{tile 'attention:128x128' is not supported on sm_80: the block-sparse layout's blocks (block_q 64, block_k 64) must be multiples of the tile}}
  %o = loom.block_sparse_attention %q, %q, %q, %l {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x2x512x64xbf16>, tensor<1x1x8x8xi1>) -> tensor<1x2x512x64xbf16>
  return %o : tensor<1x2x512x64xbf16>
}

// -----

func.func @linear(%x: tensor<256x512xbf16>, %w: tensor<384x512xbf16>) -> tensor<256x384xbf16> {
  // expected-error @below {{tile 'gemm:256x256x32' is not supported on sm_80: a warp's 128x64 sub-tile needs 256 f32 accumulators per thread (at most 128)}}
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<384x512xbf16>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}
