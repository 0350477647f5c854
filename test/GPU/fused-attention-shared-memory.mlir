// K's RoPE fused into attention stages K's cos and sin rows in shared memory
// beside the Q, K and V tiles (test/GPU/fused-attention.mlir). The tile was
// chosen without those rows, so a large tile with wide tables can pass the
// block's shared memory once they are added: a 128 x 128 tile at D 128 takes
// 170 KiB, and f32 tables 64 KiB more (234 KiB > sm_90a's 227 KiB). Then K's
// RoPE stays a separate kernel and the attention kernel reads K as it is;
// bf16 tables (32 KiB) still fit and stay fused.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a tiles=attention:128x128})' | FileCheck %s

// CHECK-LABEL: func.func @f32_tables_do_not_fit
// CHECK:       gpu.launch_func @loom_kernels::@loom_rope_
// CHECK:       gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n128_w4_{{.*}}_strided_ropeq_half_f32 blocks
// CHECK-SAME:  dynamic_shared_memory_size %c174080_i32
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @f32_tables_do_not_fit(%q2: tensor<128x1024xbf16>, %k2: tensor<128x256xbf16>, %v2: tensor<128x256xbf16>,
                                 %cos: tensor<128x64xf32>, %sin: tensor<128x64xf32>) -> tensor<128x1024xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 128, 8, 128] : tensor<128x1024xbf16> into tensor<1x128x8x128xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 128] : tensor<128x256xbf16> into tensor<1x128x2x128xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 128] : tensor<128x256xbf16> into tensor<1x128x2x128xbf16>
  %e0 = tensor.empty() : tensor<1x8x128x128xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x128x8x128xbf16>) outs(%e0 : tensor<1x8x128x128xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x128x128xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x128x2x128xbf16>) outs(%e1 : tensor<1x2x128x128xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x128x128xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x128x2x128xbf16>) outs(%e2 : tensor<1x2x128x128xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x128x128xbf16>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<1x8x128x128xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x128x128xbf16>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<1x2x128x128xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x8x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>) -> tensor<1x8x128x128xbf16>
  %e3 = tensor.empty() : tensor<1x128x8x128xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x8x128x128xbf16>) outs(%e3 : tensor<1x128x8x128xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x128x8x128xbf16> into tensor<128x1024xbf16>
  return %o2 : tensor<128x1024xbf16>
}

// -----

// CHECK-LABEL: func.func @bf16_tables_fit
// CHECK-NOT:   loom_rope_
// CHECK:       gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_m128_n128_w4_{{.*}}_strided_ropeq_ropek_half_bf16 blocks
// CHECK-SAME:  dynamic_shared_memory_size %c206848_i32
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @bf16_tables_fit(%q2: tensor<128x1024xbf16>, %k2: tensor<128x256xbf16>, %v2: tensor<128x256xbf16>,
                           %cos: tensor<128x64xbf16>, %sin: tensor<128x64xbf16>) -> tensor<128x1024xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 128, 8, 128] : tensor<128x1024xbf16> into tensor<1x128x8x128xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 128] : tensor<128x256xbf16> into tensor<1x128x2x128xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 128, 2, 128] : tensor<128x256xbf16> into tensor<1x128x2x128xbf16>
  %e0 = tensor.empty() : tensor<1x8x128x128xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x128x8x128xbf16>) outs(%e0 : tensor<1x8x128x128xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x2x128x128xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x128x2x128xbf16>) outs(%e1 : tensor<1x2x128x128xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x2x128x128xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x128x2x128xbf16>) outs(%e2 : tensor<1x2x128x128xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin {style = "half"} : (tensor<1x8x128x128xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x8x128x128xbf16>
  %kr = loom.rope %k, %cos, %sin {style = "half"} : (tensor<1x2x128x128xbf16>, tensor<128x64xbf16>, tensor<128x64xbf16>) -> tensor<1x2x128x128xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x8x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>) -> tensor<1x8x128x128xbf16>
  %e3 = tensor.empty() : tensor<1x128x8x128xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x8x128x128xbf16>) outs(%e3 : tensor<1x128x8x128xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x128x8x128xbf16> into tensor<128x1024xbf16>
  return %o2 : tensor<128x1024xbf16>
}
