// A GEMM tile's shared memory depends on the op's element types: with
// 8 stages of 128 x 128 x 64, bf16 x bf16 needs 288 KiB (more than sm_90a's
// 227 KiB: an error at the op) while bf16 x i8 needs 224 KiB and compiles.
// A K tile must divide a qlinear's group size.
//
// RUN: loom-opt %s -split-input-file '--loom-gpu-kernels=chip=sm_90a tiles=gemm:128x128x64x8' -verify-diagnostics | FileCheck %s

func.func @linear(%x: tensor<256x512xbf16>, %w: tensor<384x512xbf16>) -> tensor<256x384xbf16> {
  // expected-error @below {{tile 'gemm:128x128x64x8' needs 288 KiB of shared memory, sm_90a has 227 KiB}}
  %y = loom.linear %x, %w : (tensor<256x512xbf16>, tensor<384x512xbf16>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// -----

// CHECK-LABEL: func.func @qlinear_i8
// CHECK: gpu.launch_func @loom_kernels::@loom_gemm_qlinear_bf16_i8_f32_g0_nobias_bf16_128x128x64_w2x4_s8
// CHECK-SAME: dynamic_shared_memory_size
func.func @qlinear_i8(%x: tensor<256x512xbf16>, %w: tensor<384x512xi8>, %s: tensor<384xf32>) -> tensor<256x384xbf16> {
  %y = loom.qlinear %x, %w, %s : (tensor<256x512xbf16>, tensor<384x512xi8>, tensor<384xf32>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}

// -----

func.func @qlinear_group(%x: tensor<256x512xbf16>, %w: tensor<384x512xi8>, %s: tensor<384x16xf32>) -> tensor<256x384xbf16> {
  // expected-error @below {{tile 'gemm:128x128x64x8' is not supported on sm_90a: group size must be 0 or a multiple of BK}}
  %y = loom.qlinear %x, %w, %s {group_size = 32 : i64} : (tensor<256x512xbf16>, tensor<384x512xi8>, tensor<384x16xf32>) -> tensor<256x384xbf16>
  return %y : tensor<256x384xbf16>
}
