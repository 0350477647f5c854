// Hybrid linear-attention block in the style of Qwen3-Next and Kimi Linear: a GLA layer (a
// log-gate per key dimension, as in Kimi Linear's KDA), a Gated DeltaNet layer (a log-gate per
// head and the delta rule, as in Qwen3-Next) and a SwiGLU MLP, each pre-norm (RMSNorm) with a
// residual add. x: [S, hidden] bf16 (one sequence), hidden C = 256, 4 heads of dim 64
// (Dk = Dv = 64), MLP intermediate 512; projections are loom.linear with bf16 weights [N, K];
// gates and beta are computed in f32.
//
// Each linear-attention layer carries its recurrent state [1, H, Dk, Dv] f32 from call to
// call: both entries take the two layers' states and return their final states beside y, with
// the same weights. Chunked prefill then decode is
//   (y1, gla1, gdn1) = @hybrid_prefill(x1, weights, zeros, zeros)    // tokens    0 .. 199
//   (y2, gla2, gdn2) = @hybrid_prefill(x2, weights, gla1, gdn1)      // tokens  200 .. 399
//   (y3, gla3, gdn3) = @hybrid_decode(x3, weights, gla2, gdn2)       // token   400
// and gives what one call over the 401 tokens would. S = 200 is on purpose not a multiple
// of the GPU kernels' 16- or 64-token chunks.
//
// GLA layer: q, k, v, the gate logits z = h Wg^T + bg; log-gate gk = logsigmoid(z) / 16 (GLA's
// gate_logit_normalizer) = -log1p(exp(-z)) / 16, in (-inf, 0) per key dimension;
// o = 0.125 * S_t^T q_t with S_t = Diag(exp(gk_t)) S_{t-1} + k_t v_t^T.
// Gated DeltaNet layer: q and k L2-normalized per head (rms_norm over Dk with gain
// 1/sqrt(64) = 0.125 is x / sqrt(|x|^2 + 64 eps)), so the delta rule stays a contraction;
// per-head log-gate g = -softplus(h Wa^T + dt_bias) = -log1p(exp(a)) (Qwen3-Next's, with
// A = 1), beta = sigmoid(h Wb^T) = 1 / (1 + exp(-b)); the output is RMS-normalized per head
// and gated by silu(h Wz^T) (Qwen3-Next's gated norm). Left out: the short causal convolutions
// on q, k, v (they would carry a convolution state too) and GLA's output gate.

// Prefill: a chunk of 200 tokens.
func.func @hybrid_prefill(
    %x: tensor<200x256xbf16>,
    %gla_norm_w: tensor<256xbf16>,
    %gla_wq: tensor<256x256xbf16>, %gla_wk: tensor<256x256xbf16>,
    %gla_wv: tensor<256x256xbf16>, %gla_wg: tensor<256x256xbf16>, %gla_bg: tensor<256xbf16>,
    %gla_wo: tensor<256x256xbf16>,
    %gdn_norm_w: tensor<256xbf16>,
    %gdn_wq: tensor<256x256xbf16>, %gdn_wk: tensor<256x256xbf16>, %gdn_wv: tensor<256x256xbf16>,
    %gdn_wa: tensor<4x256xbf16>, %gdn_dt_bias: tensor<4xbf16>, %gdn_wb: tensor<4x256xbf16>,
    %gdn_wz: tensor<256x256xbf16>, %gdn_out_norm_w: tensor<64xbf16>,
    %gdn_wo: tensor<256x256xbf16>,
    %mlp_norm_w: tensor<256xbf16>,
    %w_gate: tensor<512x256xbf16>, %w_up: tensor<512x256xbf16>,
    %w_down: tensor<256x512xbf16>,
    %gla_state: tensor<1x4x64x64xf32>, %gdn_state: tensor<1x4x64x64xf32>)
    -> (tensor<200x256xbf16>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) {
  %minus_one = arith.constant dense<-1.0> : tensor<200x256xf32>
  %gla_gate_norm = arith.constant dense<-0.0625> : tensor<200x256xf32>
  %minus_one_h = arith.constant dense<-1.0> : tensor<200x4xf32>
  %one_h = arith.constant dense<1.0> : tensor<200x4xf32>
  %l2_gain = arith.constant dense<0.125> : tensor<64xbf16>

  // ---- GLA layer: a log-gate per key dimension ----
  %h = loom.rms_norm %x, %gla_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<200x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  %gla_q2 = loom.linear %h, %gla_wq
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gla_k2 = loom.linear %h, %gla_wk
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gla_v2 = loom.linear %h, %gla_wv
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gla_z = loom.linear %h, %gla_wg, %gla_bg
      : (tensor<200x256xbf16>, tensor<256x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  // gk = logsigmoid(z) / 16 = -log1p(exp(-z)) / 16, in f32
  %gla_zf = arith.extf %gla_z : tensor<200x256xbf16> to tensor<200x256xf32>
  %gla_nz = arith.mulf %gla_zf, %minus_one : tensor<200x256xf32>
  %gla_ez = math.exp %gla_nz : tensor<200x256xf32>
  %gla_sp = math.log1p %gla_ez : tensor<200x256xf32>
  %gla_gk2 = arith.mulf %gla_sp, %gla_gate_norm : tensor<200x256xf32>

  // [S, H*D] -> [1, S, H, D] -> [1, H, S, D]
  %gla_q_4 = tensor.expand_shape %gla_q2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gla_q_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gla_q = linalg.transpose ins(%gla_q_4 : tensor<1x200x4x64xbf16>)
      outs(%gla_q_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_k_4 = tensor.expand_shape %gla_k2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gla_k_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gla_k = linalg.transpose ins(%gla_k_4 : tensor<1x200x4x64xbf16>)
      outs(%gla_k_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_v_4 = tensor.expand_shape %gla_v2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gla_v_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gla_v = linalg.transpose ins(%gla_v_4 : tensor<1x200x4x64xbf16>)
      outs(%gla_v_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_gk_4 = tensor.expand_shape %gla_gk2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xf32> into tensor<1x200x4x64xf32>
  %gla_gk_init = tensor.empty() : tensor<1x4x200x64xf32>
  %gla_gk = linalg.transpose ins(%gla_gk_4 : tensor<1x200x4x64xf32>)
      outs(%gla_gk_init : tensor<1x4x200x64xf32>) permutation = [0, 2, 1, 3]
  %gla_attn, %gla_state_out = loom.linear_attention %gla_q, %gla_k, %gla_v gate(%gla_gk)
      initial_state(%gla_state) {causal, scale = 1.250000e-01 : f32}
      : (tensor<1x4x200x64xbf16>, tensor<1x4x200x64xbf16>, tensor<1x4x200x64xbf16>,
         tensor<1x4x200x64xf32>, tensor<1x4x64x64xf32>)
      -> (tensor<1x4x200x64xbf16>, tensor<1x4x64x64xf32>)
  // [1, H, S, D] -> [1, S, H, D] -> [S, H*D]
  %gla_o4_init = tensor.empty() : tensor<1x200x4x64xbf16>
  %gla_o4 = linalg.transpose ins(%gla_attn : tensor<1x4x200x64xbf16>)
      outs(%gla_o4_init : tensor<1x200x4x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_o2 = tensor.collapse_shape %gla_o4 [[0, 1], [2, 3]]
      : tensor<1x200x4x64xbf16> into tensor<200x256xbf16>
  %gla_out = loom.linear %gla_o2, %gla_wo
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %x1 = arith.addf %x, %gla_out : tensor<200x256xbf16>

  // ---- Gated DeltaNet layer: a log-gate per head, the delta rule ----
  %h2 = loom.rms_norm %x1, %gdn_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<200x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  %gdn_q2 = loom.linear %h2, %gdn_wq
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gdn_k2 = loom.linear %h2, %gdn_wk
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gdn_v2 = loom.linear %h2, %gdn_wv
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %gdn_a = loom.linear %h2, %gdn_wa, %gdn_dt_bias
      : (tensor<200x256xbf16>, tensor<4x256xbf16>, tensor<4xbf16>) -> tensor<200x4xbf16>
  %gdn_b = loom.linear %h2, %gdn_wb
      : (tensor<200x256xbf16>, tensor<4x256xbf16>) -> tensor<200x4xbf16>
  %gdn_z = loom.linear %h2, %gdn_wz
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  // g = -softplus(a) = -log1p(exp(a)); beta = sigmoid(b) = 1 / (1 + exp(-b)); in f32
  %gdn_af = arith.extf %gdn_a : tensor<200x4xbf16> to tensor<200x4xf32>
  %gdn_ea = math.exp %gdn_af : tensor<200x4xf32>
  %gdn_sp = math.log1p %gdn_ea : tensor<200x4xf32>
  %gdn_g2 = arith.mulf %gdn_sp, %minus_one_h : tensor<200x4xf32>
  %gdn_bf = arith.extf %gdn_b : tensor<200x4xbf16> to tensor<200x4xf32>
  %gdn_nb = arith.mulf %gdn_bf, %minus_one_h : tensor<200x4xf32>
  %gdn_eb = math.exp %gdn_nb : tensor<200x4xf32>
  %gdn_den = arith.addf %gdn_eb, %one_h : tensor<200x4xf32>
  %gdn_beta2 = arith.divf %one_h, %gdn_den : tensor<200x4xf32>

  // q and k L2-normalized per head, then [1, S, H, D] -> [1, H, S, D]
  %gdn_q4 = tensor.expand_shape %gdn_q2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gdn_k4 = tensor.expand_shape %gdn_k2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gdn_qn = loom.rms_norm %gdn_q4, %l2_gain {epsilon = 1.0e-06 : f32}
      : (tensor<1x200x4x64xbf16>, tensor<64xbf16>) -> tensor<1x200x4x64xbf16>
  %gdn_kn = loom.rms_norm %gdn_k4, %l2_gain {epsilon = 1.0e-06 : f32}
      : (tensor<1x200x4x64xbf16>, tensor<64xbf16>) -> tensor<1x200x4x64xbf16>
  %gdn_q_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gdn_q = linalg.transpose ins(%gdn_qn : tensor<1x200x4x64xbf16>)
      outs(%gdn_q_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_k_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gdn_k = linalg.transpose ins(%gdn_kn : tensor<1x200x4x64xbf16>)
      outs(%gdn_k_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_v_4 = tensor.expand_shape %gdn_v2 [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gdn_v_init = tensor.empty() : tensor<1x4x200x64xbf16>
  %gdn_v = linalg.transpose ins(%gdn_v_4 : tensor<1x200x4x64xbf16>)
      outs(%gdn_v_init : tensor<1x4x200x64xbf16>) permutation = [0, 2, 1, 3]
  // [S, H] -> [1, S, H] -> [1, H, S]
  %gdn_g_3 = tensor.expand_shape %gdn_g2 [[0, 1], [2]] output_shape [1, 200, 4]
      : tensor<200x4xf32> into tensor<1x200x4xf32>
  %gdn_g_init = tensor.empty() : tensor<1x4x200xf32>
  %gdn_g = linalg.transpose ins(%gdn_g_3 : tensor<1x200x4xf32>)
      outs(%gdn_g_init : tensor<1x4x200xf32>) permutation = [0, 2, 1]
  %gdn_beta_3 = tensor.expand_shape %gdn_beta2 [[0, 1], [2]] output_shape [1, 200, 4]
      : tensor<200x4xf32> into tensor<1x200x4xf32>
  %gdn_beta_init = tensor.empty() : tensor<1x4x200xf32>
  %gdn_beta = linalg.transpose ins(%gdn_beta_3 : tensor<1x200x4xf32>)
      outs(%gdn_beta_init : tensor<1x4x200xf32>) permutation = [0, 2, 1]
  %gdn_attn, %gdn_state_out = loom.linear_attention %gdn_q, %gdn_k, %gdn_v gate(%gdn_g)
      beta(%gdn_beta) initial_state(%gdn_state) {causal, rule = "delta", scale = 1.250000e-01 : f32}
      : (tensor<1x4x200x64xbf16>, tensor<1x4x200x64xbf16>, tensor<1x4x200x64xbf16>,
         tensor<1x4x200xf32>, tensor<1x4x200xf32>, tensor<1x4x64x64xf32>)
      -> (tensor<1x4x200x64xbf16>, tensor<1x4x64x64xf32>)
  // gated norm per head: rms_norm(o) * silu(z), then [S, H*D]
  %gdn_o4_init = tensor.empty() : tensor<1x200x4x64xbf16>
  %gdn_o4 = linalg.transpose ins(%gdn_attn : tensor<1x4x200x64xbf16>)
      outs(%gdn_o4_init : tensor<1x200x4x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_on = loom.rms_norm %gdn_o4, %gdn_out_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1x200x4x64xbf16>, tensor<64xbf16>) -> tensor<1x200x4x64xbf16>
  %gdn_z4 = tensor.expand_shape %gdn_z [[0, 1], [2, 3]] output_shape [1, 200, 4, 64]
      : tensor<200x256xbf16> into tensor<1x200x4x64xbf16>
  %gdn_zs = loom.silu %gdn_z4 : (tensor<1x200x4x64xbf16>) -> tensor<1x200x4x64xbf16>
  %gdn_og = arith.mulf %gdn_on, %gdn_zs : tensor<1x200x4x64xbf16>
  %gdn_o2 = tensor.collapse_shape %gdn_og [[0, 1], [2, 3]]
      : tensor<1x200x4x64xbf16> into tensor<200x256xbf16>
  %gdn_out = loom.linear %gdn_o2, %gdn_wo
      : (tensor<200x256xbf16>, tensor<256x256xbf16>) -> tensor<200x256xbf16>
  %x2 = arith.addf %x1, %gdn_out : tensor<200x256xbf16>

  // ---- SwiGLU MLP ----
  %h3 = loom.rms_norm %x2, %mlp_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<200x256xbf16>, tensor<256xbf16>) -> tensor<200x256xbf16>
  %gate = loom.linear %h3, %w_gate
      : (tensor<200x256xbf16>, tensor<512x256xbf16>) -> tensor<200x512xbf16>
  %up = loom.linear %h3, %w_up
      : (tensor<200x256xbf16>, tensor<512x256xbf16>) -> tensor<200x512xbf16>
  %act = loom.silu %gate : (tensor<200x512xbf16>) -> tensor<200x512xbf16>
  %gated = arith.mulf %act, %up : tensor<200x512xbf16>
  %down = loom.linear %gated, %w_down
      : (tensor<200x512xbf16>, tensor<256x512xbf16>) -> tensor<200x256xbf16>
  %y = arith.addf %x2, %down : tensor<200x256xbf16>
  return %y, %gla_state_out, %gdn_state_out : tensor<200x256xbf16>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>
}

// Decode: one token, the same weights and states.
func.func @hybrid_decode(
    %x: tensor<1x256xbf16>,
    %gla_norm_w: tensor<256xbf16>,
    %gla_wq: tensor<256x256xbf16>, %gla_wk: tensor<256x256xbf16>,
    %gla_wv: tensor<256x256xbf16>, %gla_wg: tensor<256x256xbf16>, %gla_bg: tensor<256xbf16>,
    %gla_wo: tensor<256x256xbf16>,
    %gdn_norm_w: tensor<256xbf16>,
    %gdn_wq: tensor<256x256xbf16>, %gdn_wk: tensor<256x256xbf16>, %gdn_wv: tensor<256x256xbf16>,
    %gdn_wa: tensor<4x256xbf16>, %gdn_dt_bias: tensor<4xbf16>, %gdn_wb: tensor<4x256xbf16>,
    %gdn_wz: tensor<256x256xbf16>, %gdn_out_norm_w: tensor<64xbf16>,
    %gdn_wo: tensor<256x256xbf16>,
    %mlp_norm_w: tensor<256xbf16>,
    %w_gate: tensor<512x256xbf16>, %w_up: tensor<512x256xbf16>,
    %w_down: tensor<256x512xbf16>,
    %gla_state: tensor<1x4x64x64xf32>, %gdn_state: tensor<1x4x64x64xf32>)
    -> (tensor<1x256xbf16>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) {
  %minus_one = arith.constant dense<-1.0> : tensor<1x256xf32>
  %gla_gate_norm = arith.constant dense<-0.0625> : tensor<1x256xf32>
  %minus_one_h = arith.constant dense<-1.0> : tensor<1x4xf32>
  %one_h = arith.constant dense<1.0> : tensor<1x4xf32>
  %l2_gain = arith.constant dense<0.125> : tensor<64xbf16>

  // ---- GLA layer: a log-gate per key dimension ----
  %h = loom.rms_norm %x, %gla_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1x256xbf16>, tensor<256xbf16>) -> tensor<1x256xbf16>
  %gla_q2 = loom.linear %h, %gla_wq
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gla_k2 = loom.linear %h, %gla_wk
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gla_v2 = loom.linear %h, %gla_wv
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gla_z = loom.linear %h, %gla_wg, %gla_bg
      : (tensor<1x256xbf16>, tensor<256x256xbf16>, tensor<256xbf16>) -> tensor<1x256xbf16>
  // gk = logsigmoid(z) / 16 = -log1p(exp(-z)) / 16, in f32
  %gla_zf = arith.extf %gla_z : tensor<1x256xbf16> to tensor<1x256xf32>
  %gla_nz = arith.mulf %gla_zf, %minus_one : tensor<1x256xf32>
  %gla_ez = math.exp %gla_nz : tensor<1x256xf32>
  %gla_sp = math.log1p %gla_ez : tensor<1x256xf32>
  %gla_gk2 = arith.mulf %gla_sp, %gla_gate_norm : tensor<1x256xf32>

  // [S, H*D] -> [1, S, H, D] -> [1, H, S, D]
  %gla_q_4 = tensor.expand_shape %gla_q2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gla_q_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gla_q = linalg.transpose ins(%gla_q_4 : tensor<1x1x4x64xbf16>)
      outs(%gla_q_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_k_4 = tensor.expand_shape %gla_k2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gla_k_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gla_k = linalg.transpose ins(%gla_k_4 : tensor<1x1x4x64xbf16>)
      outs(%gla_k_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_v_4 = tensor.expand_shape %gla_v2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gla_v_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gla_v = linalg.transpose ins(%gla_v_4 : tensor<1x1x4x64xbf16>)
      outs(%gla_v_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_gk_4 = tensor.expand_shape %gla_gk2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xf32> into tensor<1x1x4x64xf32>
  %gla_gk_init = tensor.empty() : tensor<1x4x1x64xf32>
  %gla_gk = linalg.transpose ins(%gla_gk_4 : tensor<1x1x4x64xf32>)
      outs(%gla_gk_init : tensor<1x4x1x64xf32>) permutation = [0, 2, 1, 3]
  %gla_attn, %gla_state_out = loom.linear_attention %gla_q, %gla_k, %gla_v gate(%gla_gk)
      initial_state(%gla_state) {causal, scale = 1.250000e-01 : f32}
      : (tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>,
         tensor<1x4x1x64xf32>, tensor<1x4x64x64xf32>)
      -> (tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>)
  // [1, H, S, D] -> [1, S, H, D] -> [S, H*D]
  %gla_o4_init = tensor.empty() : tensor<1x1x4x64xbf16>
  %gla_o4 = linalg.transpose ins(%gla_attn : tensor<1x4x1x64xbf16>)
      outs(%gla_o4_init : tensor<1x1x4x64xbf16>) permutation = [0, 2, 1, 3]
  %gla_o2 = tensor.collapse_shape %gla_o4 [[0, 1], [2, 3]]
      : tensor<1x1x4x64xbf16> into tensor<1x256xbf16>
  %gla_out = loom.linear %gla_o2, %gla_wo
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %x1 = arith.addf %x, %gla_out : tensor<1x256xbf16>

  // ---- Gated DeltaNet layer: a log-gate per head, the delta rule ----
  %h2 = loom.rms_norm %x1, %gdn_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1x256xbf16>, tensor<256xbf16>) -> tensor<1x256xbf16>
  %gdn_q2 = loom.linear %h2, %gdn_wq
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gdn_k2 = loom.linear %h2, %gdn_wk
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gdn_v2 = loom.linear %h2, %gdn_wv
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %gdn_a = loom.linear %h2, %gdn_wa, %gdn_dt_bias
      : (tensor<1x256xbf16>, tensor<4x256xbf16>, tensor<4xbf16>) -> tensor<1x4xbf16>
  %gdn_b = loom.linear %h2, %gdn_wb
      : (tensor<1x256xbf16>, tensor<4x256xbf16>) -> tensor<1x4xbf16>
  %gdn_z = loom.linear %h2, %gdn_wz
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  // g = -softplus(a) = -log1p(exp(a)); beta = sigmoid(b) = 1 / (1 + exp(-b)); in f32
  %gdn_af = arith.extf %gdn_a : tensor<1x4xbf16> to tensor<1x4xf32>
  %gdn_ea = math.exp %gdn_af : tensor<1x4xf32>
  %gdn_sp = math.log1p %gdn_ea : tensor<1x4xf32>
  %gdn_g2 = arith.mulf %gdn_sp, %minus_one_h : tensor<1x4xf32>
  %gdn_bf = arith.extf %gdn_b : tensor<1x4xbf16> to tensor<1x4xf32>
  %gdn_nb = arith.mulf %gdn_bf, %minus_one_h : tensor<1x4xf32>
  %gdn_eb = math.exp %gdn_nb : tensor<1x4xf32>
  %gdn_den = arith.addf %gdn_eb, %one_h : tensor<1x4xf32>
  %gdn_beta2 = arith.divf %one_h, %gdn_den : tensor<1x4xf32>

  // q and k L2-normalized per head, then [1, S, H, D] -> [1, H, S, D]
  %gdn_q4 = tensor.expand_shape %gdn_q2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gdn_k4 = tensor.expand_shape %gdn_k2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gdn_qn = loom.rms_norm %gdn_q4, %l2_gain {epsilon = 1.0e-06 : f32}
      : (tensor<1x1x4x64xbf16>, tensor<64xbf16>) -> tensor<1x1x4x64xbf16>
  %gdn_kn = loom.rms_norm %gdn_k4, %l2_gain {epsilon = 1.0e-06 : f32}
      : (tensor<1x1x4x64xbf16>, tensor<64xbf16>) -> tensor<1x1x4x64xbf16>
  %gdn_q_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gdn_q = linalg.transpose ins(%gdn_qn : tensor<1x1x4x64xbf16>)
      outs(%gdn_q_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_k_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gdn_k = linalg.transpose ins(%gdn_kn : tensor<1x1x4x64xbf16>)
      outs(%gdn_k_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_v_4 = tensor.expand_shape %gdn_v2 [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gdn_v_init = tensor.empty() : tensor<1x4x1x64xbf16>
  %gdn_v = linalg.transpose ins(%gdn_v_4 : tensor<1x1x4x64xbf16>)
      outs(%gdn_v_init : tensor<1x4x1x64xbf16>) permutation = [0, 2, 1, 3]
  // [S, H] -> [1, S, H] -> [1, H, S]
  %gdn_g_3 = tensor.expand_shape %gdn_g2 [[0, 1], [2]] output_shape [1, 1, 4]
      : tensor<1x4xf32> into tensor<1x1x4xf32>
  %gdn_g_init = tensor.empty() : tensor<1x4x1xf32>
  %gdn_g = linalg.transpose ins(%gdn_g_3 : tensor<1x1x4xf32>)
      outs(%gdn_g_init : tensor<1x4x1xf32>) permutation = [0, 2, 1]
  %gdn_beta_3 = tensor.expand_shape %gdn_beta2 [[0, 1], [2]] output_shape [1, 1, 4]
      : tensor<1x4xf32> into tensor<1x1x4xf32>
  %gdn_beta_init = tensor.empty() : tensor<1x4x1xf32>
  %gdn_beta = linalg.transpose ins(%gdn_beta_3 : tensor<1x1x4xf32>)
      outs(%gdn_beta_init : tensor<1x4x1xf32>) permutation = [0, 2, 1]
  %gdn_attn, %gdn_state_out = loom.linear_attention %gdn_q, %gdn_k, %gdn_v gate(%gdn_g)
      beta(%gdn_beta) initial_state(%gdn_state) {causal, rule = "delta", scale = 1.250000e-01 : f32}
      : (tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>, tensor<1x4x1x64xbf16>,
         tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x4x64x64xf32>)
      -> (tensor<1x4x1x64xbf16>, tensor<1x4x64x64xf32>)
  // gated norm per head: rms_norm(o) * silu(z), then [S, H*D]
  %gdn_o4_init = tensor.empty() : tensor<1x1x4x64xbf16>
  %gdn_o4 = linalg.transpose ins(%gdn_attn : tensor<1x4x1x64xbf16>)
      outs(%gdn_o4_init : tensor<1x1x4x64xbf16>) permutation = [0, 2, 1, 3]
  %gdn_on = loom.rms_norm %gdn_o4, %gdn_out_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1x1x4x64xbf16>, tensor<64xbf16>) -> tensor<1x1x4x64xbf16>
  %gdn_z4 = tensor.expand_shape %gdn_z [[0, 1], [2, 3]] output_shape [1, 1, 4, 64]
      : tensor<1x256xbf16> into tensor<1x1x4x64xbf16>
  %gdn_zs = loom.silu %gdn_z4 : (tensor<1x1x4x64xbf16>) -> tensor<1x1x4x64xbf16>
  %gdn_og = arith.mulf %gdn_on, %gdn_zs : tensor<1x1x4x64xbf16>
  %gdn_o2 = tensor.collapse_shape %gdn_og [[0, 1], [2, 3]]
      : tensor<1x1x4x64xbf16> into tensor<1x256xbf16>
  %gdn_out = loom.linear %gdn_o2, %gdn_wo
      : (tensor<1x256xbf16>, tensor<256x256xbf16>) -> tensor<1x256xbf16>
  %x2 = arith.addf %x1, %gdn_out : tensor<1x256xbf16>

  // ---- SwiGLU MLP ----
  %h3 = loom.rms_norm %x2, %mlp_norm_w {epsilon = 1.0e-06 : f32}
      : (tensor<1x256xbf16>, tensor<256xbf16>) -> tensor<1x256xbf16>
  %gate = loom.linear %h3, %w_gate
      : (tensor<1x256xbf16>, tensor<512x256xbf16>) -> tensor<1x512xbf16>
  %up = loom.linear %h3, %w_up
      : (tensor<1x256xbf16>, tensor<512x256xbf16>) -> tensor<1x512xbf16>
  %act = loom.silu %gate : (tensor<1x512xbf16>) -> tensor<1x512xbf16>
  %gated = arith.mulf %act, %up : tensor<1x512xbf16>
  %down = loom.linear %gated, %w_down
      : (tensor<1x512xbf16>, tensor<256x512xbf16>) -> tensor<1x256xbf16>
  %y = arith.addf %x2, %down : tensor<1x256xbf16>
  return %y, %gla_state_out, %gdn_state_out : tensor<1x256xbf16>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>
}
