// The serving kernels are opt-in (TargetDescription::servingKernels):
// windows and softcaps on the wgmma attention kernel and windows, sinks and
// sink logits on the wgmma and split-KV decode kernels are built and
// verified but not yet checked on a GPU. By default a window or softcap
// keeps the flash kernel, and the serving masks keep the op (the generic
// path); with serving-kernels=true they take the new kernels
// (attention-serving.mlir, decode-attention.mlir, attention-wgmma.mlir test
// those in detail). --serving-kernels is refused for the CPU.
// RUN: loom-opt %s --loom-gpu-kernels="chip=sm_90a" | FileCheck %s --check-prefix=OFF
// RUN: loom-opt %s --loom-gpu-kernels="chip=sm_90a serving-kernels=true" | FileCheck %s --check-prefix=ON
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a to-llvm=false serving-kernels=true' | FileCheck %s --check-prefix=PIPE
// RUN: not loom-compile %s --target=cpu --serving-kernels -o %t.so 2>&1 | FileCheck %s --check-prefix=CPU

// OFF-LABEL: func.func @serving
// OFF: gpu.launch_func @loom_kernels::@loom_attention_bf16_d128_{{.*}}_window
// OFF: loom.attention {{.*}} {causal, sink = 4 : i64, window = 64 : i64}
// OFF: loom.attention {{.*}} {causal, sink = 4 : i64, window = 64 : i64}
// ON-LABEL: func.func @serving
// ON: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_
// ON: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_sink4_
// ON: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w64_sink4
// ON-NOT: loom.attention
// PIPE: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_sink4_
// PIPE: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w64_sink4
// CPU: --serving-kernels is for GPU targets
func.func @serving(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %d: tensor<1x8x1x128xbf16>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x1x128xbf16>) {
  %w = loom.attention %q, %k, %k {causal, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %s = loom.attention %q, %k, %k {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %e = loom.attention %d, %k, %k {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x1x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x1x128xbf16>
  return %w, %s, %e : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x1x128xbf16>
}
