// The serving forms take the kernels by default (checked on the H100 on
// 2026-12-06): windows and softcaps the wgmma attention kernel, sinks and
// sink logits too, and windows, sinks and sink logits the split-KV decode
// kernels, both through loom-gpu-kernels and the whole GPU pipeline
// (attention-serving.mlir, decode-attention.mlir and attention-wgmma.mlir
// test those in detail). No op is left for the generic path.
// RUN: loom-opt %s --loom-gpu-kernels="chip=sm_90a" | FileCheck %s --check-prefix=ON
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a to-llvm=false' | FileCheck %s --check-prefix=PIPE

// ON-LABEL: func.func @serving
// ON: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_
// ON: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_sink4_
// ON: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w64_sink4
// ON-NOT: loom.attention
// PIPE: gpu.launch_func @loom_kernels::@loom_attention_wgmma_bf16_d128_{{.*}}_causal_w64_sink4_
// PIPE: gpu.launch_func @loom_kernels::@loom_decode_attention_bf16_d128_g4_sq1_causal_w64_sink4
func.func @serving(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x2x256x128xbf16>, %d: tensor<1x8x1x128xbf16>) -> (tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x1x128xbf16>) {
  %w = loom.attention %q, %k, %k {causal, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %s = loom.attention %q, %k, %k {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x256x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x256x128xbf16>
  %e = loom.attention %d, %k, %k {causal, sink = 4 : i64, window = 64 : i64} : (tensor<1x8x1x128xbf16>, tensor<1x2x256x128xbf16>, tensor<1x2x256x128xbf16>) -> tensor<1x8x1x128xbf16>
  return %w, %s, %e : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x1x128xbf16>
}
