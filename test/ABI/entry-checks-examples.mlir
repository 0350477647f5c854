// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(convert-loom-to-linalg,func.func(convert-elementwise-to-linalg),generate-runtime-verification{verbose-level=0},resolve-ranked-shaped-type-result-dims,canonicalize,cse,loom-entry-checks,canonicalize,cse)' | FileCheck %s

// The Llama block of examples/ with the sequence length S dynamic (x is
// [S, 512], cos and sin [S, 32]). Besides the static sizes, the body relies
// on cos and sin having at least S rows: RoPE reads them with tensor.extract
// inside its linalg body, which upstream verifies per element; the check is
// hoisted as "the loop's size <= the bound".
// CHECK-DAG: @__loom_check_llama_block_0("llama_block: argument 0 dimension 0 (?) must not be negative\00")
// CHECK-DAG: @__loom_check_llama_block_1("llama_block: argument 0 dimension 1 must be 512\00")
// CHECK-DAG: @__loom_check_llama_block_3("llama_block: argument 2 dimension 0 must be 512\00")
// CHECK-DAG: @__loom_check_llama_block_31("llama_block: argument 16 dimension 1 must be 11\00")
// CHECK-DAG: @__loom_check_llama_block_36("llama_block: argument 17 dimension 0 (?) must be at least argument 0 dimension 0 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_llama_block_37("llama_block: argument 18 dimension 0 (?) must be at least argument 0 dimension 0 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-NOT: @__loom_check_llama_block_38(
// CHECK-LABEL: func.func private @__loom_check_llama_block(
// CHECK-SAME: %[[S:[^:]*]]: index,
// CHECK-SAME: %[[COS_ROWS:arg32]]: index, %{{.*}}: index, %[[SIN_ROWS:arg34]]: index, %{{.*}}: index) -> !llvm.ptr
// CHECK: %[[COS_OK:.*]] = arith.cmpi sle, %[[S]], %[[COS_ROWS]] : index
// Where the RoPE loops run (S > 0; the other loop sizes are static).
// CHECK: %[[EMPTY:.*]] = arith.cmpi sle, %[[S]], %c0 : index
// CHECK: arith.ori %[[EMPTY]], %[[COS_OK]] : i1
// CHECK: %[[SIN_OK:.*]] = arith.cmpi sle, %[[S]], %[[SIN_ROWS]] : index
// CHECK: arith.ori %[[EMPTY]], %[[SIN_OK]] : i1
// CHECK: return

func.func @llama_block(
    %x: tensor<?x512xbf16>,
    %attn_norm_w: tensor<512xbf16>,
    %wq: tensor<512x512xi4>, %wq_scale: tensor<512x4xf32>,
    %wk: tensor<128x512xi4>, %wk_scale: tensor<128x4xf32>,
    %wv: tensor<128x512xi4>, %wv_scale: tensor<128x4xf32>,
    %wo: tensor<512x512xi4>, %wo_scale: tensor<512x4xf32>,
    %mlp_norm_w: tensor<512xbf16>,
    %w_gate: tensor<1408x512xi4>, %w_gate_scale: tensor<1408x4xf32>,
    %w_up: tensor<1408x512xi4>, %w_up_scale: tensor<1408x4xf32>,
    %w_down: tensor<512x1408xi4>, %w_down_scale: tensor<512x11xf32>,
    %cos: tensor<?x32xf32>, %sin: tensor<?x32xf32>) -> tensor<?x512xbf16> {
  %c0 = arith.constant 0 : index
  %s = tensor.dim %x, %c0 : tensor<?x512xbf16>
  // == attention ==
  %h = loom.rms_norm %x, %attn_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %q2 = loom.qlinear %h, %wq, %wq_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<512x512xi4>, tensor<512x4xf32>) -> tensor<?x512xbf16>
  %k2 = loom.qlinear %h, %wk, %wk_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<?x128xbf16>
  %v2 = loom.qlinear %h, %wv, %wv_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<128x512xi4>, tensor<128x4xf32>) -> tensor<?x128xbf16>

  // [S, H*D] -> [1, S, H, D] -> [1, H, S, D]
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, %s, 8, 64]
      : tensor<?x512xbf16> into tensor<1x?x8x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, %s, 2, 64]
      : tensor<?x128xbf16> into tensor<1x?x2x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, %s, 2, 64]
      : tensor<?x128xbf16> into tensor<1x?x2x64xbf16>
  %q_init = tensor.empty(%s) : tensor<1x8x?x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x?x8x64xbf16>)
      outs(%q_init : tensor<1x8x?x64xbf16>) permutation = [0, 2, 1, 3]
  %k_init = tensor.empty(%s) : tensor<1x2x?x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x?x2x64xbf16>)
      outs(%k_init : tensor<1x2x?x64xbf16>) permutation = [0, 2, 1, 3]
  %v_init = tensor.empty(%s) : tensor<1x2x?x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x?x2x64xbf16>)
      outs(%v_init : tensor<1x2x?x64xbf16>) permutation = [0, 2, 1, 3]

  %q_rot = loom.rope %q, %cos, %sin {style = "half"}
      : (tensor<1x8x?x64xbf16>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<1x8x?x64xbf16>
  %k_rot = loom.rope %k, %cos, %sin {style = "half"}
      : (tensor<1x2x?x64xbf16>, tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<1x2x?x64xbf16>

  // GQA: 8 query heads share 2 kv heads; scale defaults to 1/sqrt(64).
  %attn = loom.attention %q_rot, %k_rot, %v {causal}
      : (tensor<1x8x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) -> tensor<1x8x?x64xbf16>

  // [1, H, S, D] -> [1, S, H, D] -> [S, H*D]
  %o_init = tensor.empty(%s) : tensor<1x?x8x64xbf16>
  %o4 = linalg.transpose ins(%attn : tensor<1x8x?x64xbf16>)
      outs(%o_init : tensor<1x?x8x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]]
      : tensor<1x?x8x64xbf16> into tensor<?x512xbf16>
  %attn_out = loom.qlinear %o2, %wo, %wo_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<512x512xi4>, tensor<512x4xf32>) -> tensor<?x512xbf16>
  %x1 = arith.addf %x, %attn_out : tensor<?x512xbf16>

  // == SwiGLU MLP ==
  %h2 = loom.rms_norm %x1, %mlp_norm_w {epsilon = 1.0e-05 : f32}
      : (tensor<?x512xbf16>, tensor<512xbf16>) -> tensor<?x512xbf16>
  %gate = loom.qlinear %h2, %w_gate, %w_gate_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<1408x512xi4>, tensor<1408x4xf32>) -> tensor<?x1408xbf16>
  %up = loom.qlinear %h2, %w_up, %w_up_scale {group_size = 128 : i64}
      : (tensor<?x512xbf16>, tensor<1408x512xi4>, tensor<1408x4xf32>) -> tensor<?x1408xbf16>
  %act = loom.silu %gate : (tensor<?x1408xbf16>) -> tensor<?x1408xbf16>
  %gated = arith.mulf %act, %up : tensor<?x1408xbf16>
  %down = loom.qlinear %gated, %w_down, %w_down_scale {group_size = 128 : i64}
      : (tensor<?x1408xbf16>, tensor<512x1408xi4>, tensor<512x11xf32>) -> tensor<?x512xbf16>
  %out = arith.addf %x1, %down : tensor<?x512xbf16>
  return %out : tensor<?x512xbf16>
}

// -----

// The PoolFormer block of examples/ with B, H, W and the channels C dynamic:
// every weight that meets a channel must have C entries.
// CHECK-DAG: @__loom_check_poolformer_block_0("poolformer_block: argument 0 dimension 0 (?) must not be negative\00")
// CHECK-DAG: @__loom_check_poolformer_block_8("poolformer_block: argument 5 dimension 0 must be 256\00")
// CHECK-DAG: @__loom_check_poolformer_block_14("poolformer_block: argument 1 dimension 0 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_15("poolformer_block: argument 2 dimension 0 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_16("poolformer_block: argument 3 dimension 0 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_17("poolformer_block: argument 4 dimension 0 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_18("poolformer_block: argument 5 dimension 1 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_19("poolformer_block: argument 8 dimension 0 (?) must equal argument 7 dimension 0 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-DAG: @__loom_check_poolformer_block_20("poolformer_block: argument 7 dimension 0 (?) must equal argument 0 dimension 3 (required at entry-checks-examples.mlir:{{[0-9]+}}:{{[0-9]+}})\00")
// CHECK-NOT: @__loom_check_poolformer_block_21(
// CHECK-LABEL: func.func private @__loom_check_poolformer_block(

func.func @poolformer_block(
    %x: tensor<?x?x?x?xf32>,
    %norm1_w: tensor<?xf32>, %norm1_b: tensor<?xf32>,
    %norm2_w: tensor<?xf32>, %norm2_b: tensor<?xf32>,
    %fc1_w: tensor<256x?xf32>, %fc1_b: tensor<256xf32>,
    %fc2_w: tensor<?x256xf32>, %fc2_b: tensor<?xf32>) -> tensor<?x?x?x?xf32> {
  // == token mixer: 3x3 average pooling minus identity ==
  %n1 = loom.layer_norm %x, %norm1_w, %norm1_b {epsilon = 1.0e-05 : f32}
      : (tensor<?x?x?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?x?x?xf32>
  %mix = loom.pool_mixer %n1 {kernel = 3 : i64}
      : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %x1 = arith.addf %x, %mix : tensor<?x?x?x?xf32>

  // == channel MLP (leading [B, H, W] dims are batch for loom.linear) ==
  %n2 = loom.layer_norm %x1, %norm2_w, %norm2_b {epsilon = 1.0e-05 : f32}
      : (tensor<?x?x?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?x?x?xf32>
  %h = loom.linear %n2, %fc1_w, %fc1_b
      : (tensor<?x?x?x?xf32>, tensor<256x?xf32>, tensor<256xf32>) -> tensor<?x?x?x256xf32>
  %a = loom.gelu %h {approximate = "none"}
      : (tensor<?x?x?x256xf32>) -> tensor<?x?x?x256xf32>
  %y = loom.linear %a, %fc2_w, %fc2_b
      : (tensor<?x?x?x256xf32>, tensor<?x256xf32>, tensor<?xf32>) -> tensor<?x?x?x?xf32>
  %out = arith.addf %x1, %y : tensor<?x?x?x?xf32>
  return %out : tensor<?x?x?x?xf32>
}
