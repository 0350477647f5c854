// f32 GEMM fusion groups with quantized weights and gated pairs
// (lib/Conversion/LoomToGPU/FusedF32Gemm.cpp, F32GemmKernel.h): loom.qlinear
// with f32 activations takes the f32 SIMT GEMM too, its i8 or i4 weights
// dequantized as they are staged (i4 read from the entry's packed bytes,
// per-channel or group-wise scales, the group size a kernel argument), and a
// gate/up pair with its SiLU/GELU gating is one launch.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(loom-pack-i4-abi,func.func(loom-fuse),loom-gpu-kernels{chip=sm_90a})' | FileCheck %s
// Op by op (no fusion groups), every product takes the SIMT GEMM too.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(loom-pack-i4-abi,loom-gpu-kernels{chip=sm_90a})' | FileCheck %s --check-prefix=OPS
// The same groups in the compiled PTX (ptxas accepts every kernel).
// RUN: loom-compile %s --target=sm_90a --emit=cubin -o %t.cubin

// Llama's SwiGLU MLP at f32 with i4 weights in groups of 32: the norm, the
// pair and its gating in one launch; the down projection and the residual
// add in another. The unpacking of the i4 weights is gone: the kernels read
// the packed [N, K / 2] bytes.
// OPS-LABEL:   func.func @swiglu_mlp_i4
// OPS:         gpu.launch_func @loom_kernels::@loom_rms_norm_f32
// OPS-COUNT-2: gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}}_wi4g blocks
// OPS:         loom.silu
// OPS:         gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}}_wi4g blocks
// OPS-NOT:     linalg.generic
// OPS:         return
// CHECK-LABEL: func.func @swiglu_mlp_i4
// CHECK-NOT:   linalg.generic
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_rms_nobias_{{[0-9x]+}}_wi4g_x2_gate_silu blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xf32>, %{{.*}} : f32, %c32 : index)
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}}_wi4g_ep_add blocks
// CHECK-SAME:    %c32{{.*}} : index)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   linalg.generic
// CHECK:       return
// The kernel: a byte per two weights, the nibble of k shifted to the top
// and back (sign extension), times scale[n, k / group]; two W tiles staged
// per K tile; act(gate) * up stored once.
// CHECK:       gpu.func @loom_f32gemm_rms_nobias_{{[0-9x]+}}_wi4g_x2_gate_silu(
// CHECK-SAME:    workgroup(%{{.*}} : memref<16x{{[0-9]+}}xf32, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<16x{{[0-9]+}}xf32, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<16x{{[0-9]+}}xf32, #gpu.address_space<workgroup>>
// CHECK:         memref.load %{{.*}} : memref<?x?xi8>
// CHECK:         arith.shli %{{.*}} : i8
// CHECK:         arith.shrsi %{{.*}} : i8
// CHECK:         arith.sitofp %{{.*}} : i8 to f32
// CHECK:         arith.divui
// CHECK:         memref.load %{{.*}} : memref<?x?xf32>
func.func @swiglu_mlp_i4(%x: tensor<64x256xf32>, %nw: tensor<256xf32>,
                         %wg: tensor<704x256xi4>, %sg: tensor<704x8xf32>,
                         %wu: tensor<704x256xi4>, %su: tensor<704x8xf32>,
                         %wd: tensor<256x704xi4>, %sd: tensor<256x22xf32>) -> tensor<64x256xf32> {
  %h = loom.rms_norm %x, %nw {epsilon = 1.0e-05 : f32} : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  %g = loom.qlinear %h, %wg, %sg {group_size = 32 : i64} : (tensor<64x256xf32>, tensor<704x256xi4>, tensor<704x8xf32>) -> tensor<64x704xf32>
  %u = loom.qlinear %h, %wu, %su {group_size = 32 : i64} : (tensor<64x256xf32>, tensor<704x256xi4>, tensor<704x8xf32>) -> tensor<64x704xf32>
  %a = loom.silu %g : (tensor<64x704xf32>) -> tensor<64x704xf32>
  %m = arith.mulf %a, %u : tensor<64x704xf32>
  %d = loom.qlinear %m, %wd, %sd {group_size = 32 : i64} : (tensor<64x704xf32>, tensor<256x704xi4>, tensor<256x22xf32>) -> tensor<64x256xf32>
  %o = arith.addf %x, %d : tensor<64x256xf32>
  return %o : tensor<64x256xf32>
}

// -----

// i8 weights with per-channel scales [N] and a bias: the scale is read at n.
// CHECK-LABEL: func.func @i8_per_channel
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_bias_{{[0-9x]+}}_wi8c blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?xf32>, %{{.*}} : memref<?x?xf32>)
// CHECK-NOT:   gpu.launch_func
func.func @i8_per_channel(%x: tensor<130x101xf32>, %w: tensor<65x101xi8>, %s: tensor<65xf32>, %b: tensor<65xf32>) -> tensor<130x65xf32> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<130x101xf32>, tensor<65x101xi8>, tensor<65xf32>, tensor<65xf32>) -> tensor<130x65xf32>
  return %y : tensor<130x65xf32>
}

// -----

// f32 GeGLU with the up product first and the multiply's operands swapped:
// the pair is reordered to (gate, up).
// CHECK-LABEL: func.func @geglu_f32
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_bias_{{[0-9x]+}}_x2_gate_gelutanh blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xf32>, %[[WG:.*]] : memref<?x?xf32>, %[[WU:.*]] : memref<?x?xf32>, %[[BG:.*]] : memref<?xf32>, %[[BU:.*]] : memref<?xf32>, %{{.*}} : memref<?x?xf32>)
// CHECK-NOT:   gpu.launch_func
func.func @geglu_f32(%x: tensor<90x64xf32>, %wg: tensor<90x64xf32>, %bg: tensor<90xf32>,
                     %wu: tensor<90x64xf32>, %bu: tensor<90xf32>) -> tensor<90x90xf32> {
  %u = loom.linear %x, %wu, %bu : (tensor<90x64xf32>, tensor<90x64xf32>, tensor<90xf32>) -> tensor<90x90xf32>
  %g = loom.linear %x, %wg, %bg : (tensor<90x64xf32>, tensor<90x64xf32>, tensor<90xf32>) -> tensor<90x90xf32>
  %a = loom.gelu %g {approximate = "tanh"} : (tensor<90x90xf32>) -> tensor<90x90xf32>
  %m = arith.mulf %u, %a : tensor<90x90xf32>
  return %m : tensor<90x90xf32>
}

// -----

// Products that are not alike (i8 and f32 weights) are not siblings: each
// takes a launch of its own.
// CHECK-LABEL: func.func @mixed_weights
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}}_wi8c blocks
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}} blocks
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @mixed_weights(%x: tensor<40x64xf32>, %w8: tensor<48x64xi8>, %s: tensor<48xf32>,
                         %w: tensor<48x64xf32>) -> (tensor<40x48xf32>, tensor<40x48xf32>) {
  %a = loom.qlinear %x, %w8, %s : (tensor<40x64xf32>, tensor<48x64xi8>, tensor<48xf32>) -> tensor<40x48xf32>
  %b = loom.linear %x, %w : (tensor<40x64xf32>, tensor<48x64xf32>) -> tensor<40x48xf32>
  return %a, %b : tensor<40x48xf32>, tensor<40x48xf32>
}

// -----

// A gating whose multiply reads something else than the pair is not a
// gated pair: the group is inlined and its ops go op by op (each product a
// SIMT GEMM launch of its own).
// CHECK-LABEL: func.func @not_a_gating
// CHECK-COUNT-2: gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_nobias_{{[0-9x]+}} blocks
// CHECK:       loom.silu
// CHECK-NOT:   gpu.launch_func
// CHECK:       return
func.func @not_a_gating(%x: tensor<40x64xf32>, %wg: tensor<48x64xf32>, %wu: tensor<48x64xf32>,
                        %e: tensor<40x48xf32>) -> (tensor<40x48xf32>, tensor<40x48xf32>) {
  %g = loom.linear %x, %wg : (tensor<40x64xf32>, tensor<48x64xf32>) -> tensor<40x48xf32>
  %u = loom.linear %x, %wu : (tensor<40x64xf32>, tensor<48x64xf32>) -> tensor<40x48xf32>
  %a = loom.silu %g : (tensor<40x48xf32>) -> tensor<40x48xf32>
  %m = arith.mulf %a, %e : tensor<40x48xf32>
  return %m, %u : tensor<40x48xf32>, tensor<40x48xf32>
}

// -----

// A bf16 qlinear in groups of 16 has no tensor-core kernel (its groups must
// be a multiple of 32): the SIMT GEMM takes it, bf16 X and Y converted at
// the loads and the store.
// CHECK-LABEL: func.func @bf16_groups_of_16
// CHECK:       gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_bias_{{[0-9x]+}}_tbf16_bf16_bf16_f32_wi4g blocks
// CHECK-SAME:    args(%{{.*}} : memref<?x?xbf16>, %{{.*}} : memref<?x?xi8>, %{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?xbf16>, %{{.*}} : memref<?x?xbf16>, %c16{{.*}} : index)
// CHECK-NOT:   gpu.launch_func
// CHECK-NOT:   linalg.generic
// CHECK:       return
// CHECK:       gpu.func @loom_f32gemm_nonorm_bias_{{[0-9x]+}}_tbf16_bf16_bf16_f32_wi4g(
// CHECK:         arith.extf %{{.*}} : bf16 to f32
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// OPS-LABEL:   func.func @bf16_groups_of_16
// OPS:         gpu.launch_func @loom_kernels::@loom_f32gemm_nonorm_bias_{{[0-9x]+}}_tbf16_bf16_bf16_f32_wi4g blocks
func.func @bf16_groups_of_16(%x: tensor<40x64xbf16>, %w: tensor<48x64xi4>, %s: tensor<48x4xf32>, %b: tensor<48xbf16>) -> tensor<40x48xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 16 : i64} : (tensor<40x64xbf16>, tensor<48x64xi4>, tensor<48x4xf32>, tensor<48xbf16>) -> tensor<40x48xbf16>
  return %y : tensor<40x48xbf16>
}
