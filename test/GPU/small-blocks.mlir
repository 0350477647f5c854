// select_blocks feeding block_sparse_attention on blocks of 16 (issue 14's
// small-block cliff, 12 launches before): the whole GPU pipeline gives 2
// launches, the fused select_blocks kernel and the block-sparse flash kernel
// on 16-row CTAs (one warp) and 16-key tiles, reading q, k and v in place.
// The last RUN compiles both to cubin.
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=chip=sm_90a to-llvm=false' | FileCheck %s
// RUN: %if ptxas %{ loom-compile %s --target=sm_90a --emit=cubin -o %t.cubin %}

// CHECK-LABEL: func.func @sel_then_bsa_blocks16
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @loom_kernels::@loom_select_blocks_bf16_d64_q16_k16_top3_nkb13_c1_causal
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @loom_kernels::@loom_attention_bf16_d64_m16_n16_w1_causal_pscale_sparse_strided blocks in {{.*}} threads in (%c32
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @sel_then_bsa_blocks16(%q: tensor<1x4x200x64xbf16>, %k: tensor<1x2x200x64xbf16>, %v: tensor<1x2x200x64xbf16>) -> tensor<1x4x200x64xbf16> {
  %l = loom.select_blocks %q, %k {block_q = 16 : i64, block_k = 16 : i64, topk = 3 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>) -> tensor<1x4x13x13xi1>
  %o = loom.block_sparse_attention %q, %k, %v, %l {block_q = 16 : i64, block_k = 16 : i64, causal} : (tensor<1x4x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x4x13x13xi1>) -> tensor<1x4x200x64xbf16>
  return %o : tensor<1x4x200x64xbf16>
}
