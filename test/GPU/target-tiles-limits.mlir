// More tiles the recipes cannot build, each an error at the op: a key tile
// that is not a multiple of 16, a GEMM K tile that spans less than 32 bytes
// of i8 activations (the same K is fine for bf16, which then fails on its
// single pipeline stage), a row tile above 1024 threads.
//
// RUN: loom-opt %s -split-input-file '--loom-gpu-kernels=chip=sm_90a tiles=attention:64x40,gemm:128x128x16x1,rows:2048' -verify-diagnostics

func.func @attention(%q: tensor<1x8x16x64xf16>, %k: tensor<1x8x1024x64xf16>, %v: tensor<1x8x1024x64xf16>) -> tensor<1x8x16x64xf16> {
  // expected-error @below {{tile 'attention:64x40' is not supported on sm_90a: blockKV must be a multiple of 16, at most 128}}
  %o = loom.attention %q, %k, %v : (tensor<1x8x16x64xf16>, tensor<1x8x1024x64xf16>, tensor<1x8x1024x64xf16>) -> tensor<1x8x16x64xf16>
  return %o : tensor<1x8x16x64xf16>
}

// -----

func.func @qmatmul(%xq: tensor<200x512xi8>, %xs: tensor<200xf32>, %w: tensor<256x512xi8>, %ws: tensor<256xf32>) -> tensor<200x256xbf16> {
  // expected-error @below {{tile 'gemm:128x128x16x1' is not supported on sm_90a: BK must span a multiple of 32 bytes of A}}
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<200x512xi8>, tensor<200xf32>, tensor<256x512xi8>, tensor<256xf32>) -> tensor<200x256xbf16>
  return %y : tensor<200x256xbf16>
}

// -----

func.func @linear(%x: tensor<256x512xbf16>, %w: tensor<384x512xbf16>) -> tensor<256x384xbf16> {
  // expected-error @below {{tile 'gemm:128x128x16x1' is not supported on sm_90a: at least two pipeline stages}}
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<384x512xbf16>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// -----

func.func @layer_norm(%x: tensor<?x?xf32>, %g: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?x?xf32> {
  // expected-error @below {{tile 'rows:2048' is not supported on sm_90a: threads must be a multiple of 32, at most 1024}}
  %y = loom.layer_norm %x, %g, %b : (tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}
