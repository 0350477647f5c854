// Quantized layers: weight-only qlinear (i4 and i8, group-wise and
// per-channel, with and without bias, GEMV M = 1 and GEMM, ragged N and M,
// f16/bf16/f32 activations, dynamic M), dynamic activation quantization to i8
// and f8E4M3FN, W8A8 and FP8 qmatmul, and quantize feeding qmatmul.

func.func @ql_i4_g32_bias_bf16(%x: tensor<16x256xbf16>, %w: tensor<48x256xi4>, %s: tensor<48x8xf32>, %b: tensor<48xbf16>) -> tensor<16x48xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 32 : i64} : (tensor<16x256xbf16>, tensor<48x256xi4>, tensor<48x8xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  return %y : tensor<16x48xbf16>
}

func.func @ql_i8_perchannel_bf16(%x: tensor<16x256xbf16>, %w: tensor<48x256xi8>, %s: tensor<48xf32>) -> tensor<16x48xbf16> {
  %y = loom.qlinear %x, %w, %s : (tensor<16x256xbf16>, tensor<48x256xi8>, tensor<48xf32>) -> tensor<16x48xbf16>
  return %y : tensor<16x48xbf16>
}

func.func @ql_i4_g128_ragged(%x: tensor<77x384xbf16>, %w: tensor<333x384xi4>, %s: tensor<333x3xf32>) -> tensor<77x333xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<77x384xbf16>, tensor<333x384xi4>, tensor<333x3xf32>) -> tensor<77x333xbf16>
  return %y : tensor<77x333xbf16>
}

func.func @ql_i4_perchannel_f16(%x: tensor<5x200xf16>, %w: tensor<100x200xi4>, %s: tensor<100xf32>) -> tensor<5x100xf16> {
  %y = loom.qlinear %x, %w, %s : (tensor<5x200xf16>, tensor<100x200xi4>, tensor<100xf32>) -> tensor<5x100xf16>
  return %y : tensor<5x100xf16>
}

func.func @ql_i8_g64_f32_bias(%x: tensor<33x256xf32>, %w: tensor<65x256xi8>, %s: tensor<65x4xf32>, %b: tensor<65xf32>) -> tensor<33x65xf32> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 64 : i64} : (tensor<33x256xf32>, tensor<65x256xi8>, tensor<65x4xf32>, tensor<65xf32>) -> tensor<33x65xf32>
  return %y : tensor<33x65xf32>
}

func.func @ql_i4_g128_gemv(%x: tensor<1x1024xbf16>, %w: tensor<1000x1024xi4>, %s: tensor<1000x8xf32>) -> tensor<1x1000xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<1x1024xbf16>, tensor<1000x1024xi4>, tensor<1000x8xf32>) -> tensor<1x1000xbf16>
  return %y : tensor<1x1000xbf16>
}

// K = 4128 ends mid K block (lanes past K read nothing) and gives the
// warps different iteration counts; 13 rows use both row halves.
func.func @ql_i4_perchannel_gemv_long(%x: tensor<13x4128xbf16>, %w: tensor<333x4128xi4>, %s: tensor<333xf32>, %b: tensor<333xbf16>) -> tensor<13x333xbf16> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<13x4128xbf16>, tensor<333x4128xi4>, tensor<333xf32>, tensor<333xbf16>) -> tensor<13x333xbf16>
  return %y : tensor<13x333xbf16>
}

// Groups of 256 over K = 2304 with f16 x and scales.
func.func @ql_i4_g256_gemv_f16(%x: tensor<2x2304xf16>, %w: tensor<515x2304xi4>, %s: tensor<515x9xf16>) -> tensor<2x515xf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 256 : i64} : (tensor<2x2304xf16>, tensor<515x2304xi4>, tensor<515x9xf16>) -> tensor<2x515xf16>
  return %y : tensor<2x515xf16>
}

func.func @ql_i8_g128_gemv(%x: tensor<3x512xbf16>, %w: tensor<700x512xi8>, %s: tensor<700x4xf32>, %b: tensor<700xbf16>) -> tensor<3x700xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 128 : i64} : (tensor<3x512xbf16>, tensor<700x512xi8>, tensor<700x4xf32>, tensor<700xbf16>) -> tensor<3x700xbf16>
  return %y : tensor<3x700xbf16>
}

func.func @ql_i4_g64_dyn(%x: tensor<?x256xbf16>, %w: tensor<48x256xi4>, %s: tensor<48x4xf32>) -> tensor<?x48xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 64 : i64} : (tensor<?x256xbf16>, tensor<48x256xi4>, tensor<48x4xf32>) -> tensor<?x48xbf16>
  return %y : tensor<?x48xbf16>
}

// W4A16 on the wgmma kernels (sm_90a; sm_80 and unaligned operands take the
// mma.sync kernel): case_quant has the default, the wgmma GEMM dequantizing
// in shared memory; bench/build.sh compiles this file once more as
// w4regs_quant with --tiles=w4a16:registers (the weights dequantized into
// the wgmma's registers, its siblings and gated pairs too). The cases: a K
// that ends mid-step (352 = 5.5 K steps of 64), odd N, per-column scales
// with a bias and an f32 result (the weights exact in bf16, the scale
// applied in f32); groups of 64 with f16 scales; groups of 128 with bf16
// scales and a fused residual; a dynamic M above and below the decode size
// (dims.json); odd step counts (the register kernel runs the first step
// alone): 5 steps with a bias and SiLU, 7 on 128 x 8192, and a single step.
func.func @ql_w4_wgmma_perchannel_bias(%x: tensor<300x352xbf16>, %w: tensor<517x352xi4>, %s: tensor<517xf32>, %b: tensor<517xbf16>) -> tensor<300x517xf32> {
  %y = loom.qlinear %x, %w, %s, %b : (tensor<300x352xbf16>, tensor<517x352xi4>, tensor<517xf32>, tensor<517xbf16>) -> tensor<300x517xf32>
  return %y : tensor<300x517xf32>
}

func.func @ql_w4_wgmma_g64_f16_scales(%x: tensor<2000x256xbf16>, %w: tensor<1100x256xi4>, %s: tensor<1100x4xf16>) -> tensor<2000x1100xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 64 : i64} : (tensor<2000x256xbf16>, tensor<1100x256xi4>, tensor<1100x4xf16>) -> tensor<2000x1100xbf16>
  return %y : tensor<2000x1100xbf16>
}

func.func @ql_w4_wgmma_g128_residual(%x: tensor<200x1024xbf16>, %w: tensor<384x1024xi4>, %s: tensor<384x8xbf16>, %r: tensor<200x384xbf16>) -> tensor<200x384xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<200x1024xbf16>, tensor<384x1024xi4>, tensor<384x8xbf16>) -> tensor<200x384xbf16>
  %o = arith.addf %y, %r : tensor<200x384xbf16>
  return %o : tensor<200x384xbf16>
}

func.func @ql_w4_wgmma_dyn(%x: tensor<?x512xbf16>, %w: tensor<260x512xi4>, %s: tensor<260x4xf32>) -> tensor<?x260xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 128 : i64} : (tensor<?x512xbf16>, tensor<260x512xi4>, tensor<260x4xf32>) -> tensor<?x260xbf16>
  return %y : tensor<?x260xbf16>
}

func.func @ql_w4_wgmma_odd_k_silu(%x: tensor<?x320xbf16>, %w: tensor<200x320xi4>, %s: tensor<200x5xf32>, %b: tensor<200xbf16>) -> tensor<?x200xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 64 : i64} : (tensor<?x320xbf16>, tensor<200x320xi4>, tensor<200x5xf32>, tensor<200xbf16>) -> tensor<?x200xbf16>
  %a = loom.silu %y : (tensor<?x200xbf16>) -> tensor<?x200xbf16>
  return %a : tensor<?x200xbf16>
}

func.func @ql_w4_wgmma_odd_k_m128(%x: tensor<128x448xbf16>, %w: tensor<8192x448xi4>, %s: tensor<8192x7xbf16>) -> tensor<128x8192xbf16> {
  %y = loom.qlinear %x, %w, %s {group_size = 64 : i64} : (tensor<128x448xbf16>, tensor<8192x448xi4>, tensor<8192x7xbf16>) -> tensor<128x8192xbf16>
  return %y : tensor<128x8192xbf16>
}

func.func @ql_w4_wgmma_one_step(%x: tensor<40x32xbf16>, %w: tensor<130x32xi4>, %s: tensor<130xbf16>) -> tensor<40x130xbf16> {
  %y = loom.qlinear %x, %w, %s : (tensor<40x32xbf16>, tensor<130x32xi4>, tensor<130xbf16>) -> tensor<40x130xbf16>
  return %y : tensor<40x130xbf16>
}

// W4A16 siblings (QKV; with w4a16:registers one launch of the W4A16 kernel
// with three parts, each with a bias; 5 K steps).
func.func @ql_w4_wgmma_qkv(%x: tensor<150x320xbf16>, %wq: tensor<256x320xi4>, %sq: tensor<256x5xbf16>, %bq: tensor<256xbf16>, %wk: tensor<72x320xi4>, %sk: tensor<72x5xbf16>, %bk: tensor<72xbf16>, %wv: tensor<72x320xi4>, %sv: tensor<72x5xbf16>, %bv: tensor<72xbf16>) -> (tensor<150x256xbf16>, tensor<150x72xbf16>, tensor<150x72xbf16>) {
  %q = loom.qlinear %x, %wq, %sq, %bq {group_size = 64 : i64} : (tensor<150x320xbf16>, tensor<256x320xi4>, tensor<256x5xbf16>, tensor<256xbf16>) -> tensor<150x256xbf16>
  %k = loom.qlinear %x, %wk, %sk, %bk {group_size = 64 : i64} : (tensor<150x320xbf16>, tensor<72x320xi4>, tensor<72x5xbf16>, tensor<72xbf16>) -> tensor<150x72xbf16>
  %v = loom.qlinear %x, %wv, %sv, %bv {group_size = 64 : i64} : (tensor<150x320xbf16>, tensor<72x320xi4>, tensor<72x5xbf16>, tensor<72xbf16>) -> tensor<150x72xbf16>
  return %q, %k, %v : tensor<150x256xbf16>, tensor<150x72xbf16>, tensor<150x72xbf16>
}

// A W4A16 gated pair (SwiGLU; with w4a16:registers gate and up in one launch
// of the W4A16 kernel, silu(gate + b_g) * (up + b_u) stored; ragged N, 7 K
// steps).
func.func @ql_w4_wgmma_swiglu(%x: tensor<100x448xbf16>, %wg: tensor<300x448xi4>, %sg: tensor<300x7xf32>, %bg: tensor<300xbf16>, %wu: tensor<300x448xi4>, %su: tensor<300x7xf32>, %bu: tensor<300xbf16>) -> tensor<100x300xbf16> {
  %g = loom.qlinear %x, %wg, %sg, %bg {group_size = 64 : i64} : (tensor<100x448xbf16>, tensor<300x448xi4>, tensor<300x7xf32>, tensor<300xbf16>) -> tensor<100x300xbf16>
  %u = loom.qlinear %x, %wu, %su, %bu {group_size = 64 : i64} : (tensor<100x448xbf16>, tensor<300x448xi4>, tensor<300x7xf32>, tensor<300xbf16>) -> tensor<100x300xbf16>
  %a = loom.silu %g : (tensor<100x300xbf16>) -> tensor<100x300xbf16>
  %y = arith.mulf %a, %u : tensor<100x300xbf16>
  return %y : tensor<100x300xbf16>
}

func.func @qz_i8_bf16(%x: tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>) {
  %xq, %xs = loom.quantize %x : (tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>)
  return %xq, %xs : tensor<16x256xi8>, tensor<16xf32>
}

func.func @qz_f8_f32(%x: tensor<33x200xf32>) -> (tensor<33x200xf8E4M3FN>, tensor<33xf32>) {
  %xq, %xs = loom.quantize %x : (tensor<33x200xf32>) -> (tensor<33x200xf8E4M3FN>, tensor<33xf32>)
  return %xq, %xs : tensor<33x200xf8E4M3FN>, tensor<33xf32>
}

func.func @qz_i8_f16_dyn(%x: tensor<?x?xf16>) -> (tensor<?x?xi8>, tensor<?xf32>) {
  %xq, %xs = loom.quantize %x : (tensor<?x?xf16>) -> (tensor<?x?xi8>, tensor<?xf32>)
  return %xq, %xs : tensor<?x?xi8>, tensor<?xf32>
}

func.func @qm_i8_bias_bf16(%xq: tensor<16x256xi8>, %xs: tensor<16xf32>, %w: tensor<48x256xi8>, %ws: tensor<48xf32>, %b: tensor<48xbf16>) -> tensor<16x48xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<16x256xi8>, tensor<16xf32>, tensor<48x256xi8>, tensor<48xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  return %y : tensor<16x48xbf16>
}

func.func @qm_i8_ragged_f16(%xq: tensor<77x200xi8>, %xs: tensor<77xf32>, %w: tensor<333x200xi8>, %ws: tensor<333xf32>, %b: tensor<333xf16>) -> tensor<77x333xf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<77x200xi8>, tensor<77xf32>, tensor<333x200xi8>, tensor<333xf32>, tensor<333xf16>) -> tensor<77x333xf16>
  return %y : tensor<77x333xf16>
}

func.func @qm_f8_f32(%xq: tensor<33x200xf8E4M3FN>, %xs: tensor<33xf32>, %w: tensor<65x200xf8E4M3FN>, %ws: tensor<65xf32>) -> tensor<33x65xf32> {
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<33x200xf8E4M3FN>, tensor<33xf32>, tensor<65x200xf8E4M3FN>, tensor<65xf32>) -> tensor<33x65xf32>
  return %y : tensor<33x65xf32>
}

func.func @qm_f8_bf16_tiles(%xq: tensor<128x256xf8E4M3FN>, %xs: tensor<128xf32>, %w: tensor<256x256xf8E4M3FN>, %ws: tensor<256xf32>, %b: tensor<256xbf16>) -> tensor<128x256xbf16> {
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<128x256xf8E4M3FN>, tensor<128xf32>, tensor<256x256xf8E4M3FN>, tensor<256xf32>, tensor<256xbf16>) -> tensor<128x256xbf16>
  return %y : tensor<128x256xbf16>
}

func.func @w8a8_chain_bf16(%x: tensor<16x256xbf16>, %w: tensor<48x256xi8>, %ws: tensor<48xf32>, %b: tensor<48xbf16>) -> tensor<16x48xbf16> {
  %xq, %xs = loom.quantize %x : (tensor<16x256xbf16>) -> (tensor<16x256xi8>, tensor<16xf32>)
  %y = loom.qmatmul %xq, %xs, %w, %ws, %b : (tensor<16x256xi8>, tensor<16xf32>, tensor<48x256xi8>, tensor<48xf32>, tensor<48xbf16>) -> tensor<16x48xbf16>
  return %y : tensor<16x48xbf16>
}

func.func @fp8_chain_bf16(%x: tensor<16x256xbf16>, %w: tensor<48x256xf8E4M3FN>, %ws: tensor<48xf32>) -> tensor<16x48xbf16> {
  %xq, %xs = loom.quantize %x : (tensor<16x256xbf16>) -> (tensor<16x256xf8E4M3FN>, tensor<16xf32>)
  %y = loom.qmatmul %xq, %xs, %w, %ws : (tensor<16x256xf8E4M3FN>, tensor<16xf32>, tensor<48x256xf8E4M3FN>, tensor<48xf32>) -> tensor<16x48xbf16>
  return %y : tensor<16x48xbf16>
}

// Group sizes that are not a multiple of 32 have no tensor-core kernel: the
// SIMT GEMM takes them (16-bit X and Y converted at the loads and the store).
func.func @qlinear_bf16_i4_groups_of_16(%x: tensor<37x80xbf16>, %w: tensor<70x80xi4>, %s: tensor<70x5xf32>,
    %b: tensor<70xbf16>) -> tensor<37x70xbf16> {
  %y = loom.qlinear %x, %w, %s, %b {group_size = 16 : i64} : (tensor<37x80xbf16>, tensor<70x80xi4>, tensor<70x5xf32>, tensor<70xbf16>) -> tensor<37x70xbf16>
  return %y : tensor<37x70xbf16>
}

func.func @qlinear_f16_i8_groups_of_24_f32_out(%x: tensor<19x72xf16>, %w: tensor<50x72xi8>, %s: tensor<50x3xf16>) -> tensor<19x50xf32> {
  %y = loom.qlinear %x, %w, %s {group_size = 24 : i64} : (tensor<19x72xf16>, tensor<50x72xi8>, tensor<50x3xf16>) -> tensor<19x50xf32>
  return %y : tensor<19x50xf32>
}
