// Tiles that the target description asks for but that the recipes cannot
// build are errors at the ops (never a silent fallback to other tiles or to
// the generic path): a query tile other than 64 or 128 rows, a GEMM tile M
// or N that is not a multiple of 16, a row tile that is not a multiple of 32.
// target-tiles-limits.mlir and target-tiles-sm80.mlir have the other limits.
//
// RUN: loom-opt %s -split-input-file '--loom-gpu-kernels=chip=sm_90a tiles=attention:48x64,gemm:24x128x32,rows:48' -verify-diagnostics

func.func @attention(%q: tensor<1x8x512x128xbf16>, %k: tensor<1x8x512x128xbf16>, %v: tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16> {
  // expected-error @below {{tile 'attention:48x64' is not supported on sm_90a: blockQ must be 64 or 128}}
  %o = loom.attention %q, %k, %v {causal} : (tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>, tensor<1x8x512x128xbf16>) -> tensor<1x8x512x128xbf16>
  return %o : tensor<1x8x512x128xbf16>
}

// -----

func.func @linear(%x: tensor<256x512xbf16>, %w: tensor<384x512xbf16>) -> tensor<256x384xbf16> {
  // expected-error @below {{tile 'gemm:24x128x32' is not supported on sm_90a: M and N must be multiples of 16}}
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<384x512xbf16>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// -----

func.func @rms_norm(%x: tensor<128x512xbf16>, %g: tensor<512xbf16>) -> tensor<128x512xbf16> {
  // expected-error @below {{tile 'rows:48' is not supported on sm_90a: threads must be a multiple of 32, at most 1024}}
  %y = loom.rms_norm %x, %g : (tensor<128x512xbf16>, tensor<512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}

// -----

func.func @rope(%x: tensor<1x8x128x64xbf16>, %c: tensor<128x32xf32>, %s: tensor<128x32xf32>) -> tensor<1x8x128x64xbf16> {
  // expected-error @below {{tile 'rows:48' is not supported on sm_90a: threads must be a multiple of 32, at most 1024}}
  %y = loom.rope %x, %c, %s {style = "half"} : (tensor<1x8x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x8x128x64xbf16>
  return %y : tensor<1x8x128x64xbf16>
}

// -----

// Ops outside the recipes' reach do not use the tiles and stay for the
// generic path, without an error: f32 attention and linear layers.
func.func @generic(%q: tensor<1x2x64x32xf32>, %x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> (tensor<1x2x64x32xf32>, tensor<4x16xf32>) {
  %o = loom.attention %q, %q, %q : (tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32>
  %y = loom.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %o, %y : tensor<1x2x64x32xf32>, tensor<4x16xf32>
}
