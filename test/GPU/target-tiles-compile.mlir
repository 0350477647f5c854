// loom-compile --tiles passes the tile list to the GPU pipeline: the PTX has
// the kernels of the requested tiles (names encode them) and ptxas
// assembles them (--emit=cubin) for sm_90a and sm_80; the report names the
// tiles. The ops are independent, so that each is a kernel of its own
// (fusion groups may add suffixes to the names).
//
// REQUIRES: ptxas
// RUN: loom-compile %s --target=sm_90a --tiles=attention:64x32,gemm:64x64x64x3,rows:64 --emit=ptx -o - 2>%t.report | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.report
// RUN: loom-compile %s --target=sm_80 --tiles=attention:64x32,gemm:64x64x64x3,rows:64 --emit=cubin -o %t.cubin
// RUN: loom-compile %s --target=sm_90a --emit=ptx -o - 2>/dev/null | FileCheck %s --check-prefix=DEFAULT

// CHECK-DAG: .entry loom_attention_bf16_d128_m64_n32_w4_pscale{{(_[a-z0-9_]+)?}}(
// CHECK-DAG: .entry loom_gemm_linear_bf16_bf16_nobias_bf16_64x64x64_w2x4_s3{{(_[a-z0-9_]+)?}}(
// CHECK-DAG: .entry loom_rms_norm_bf16_t64_r1_v1{{(_[a-z0-9_]+)?}}(
// CHECK-DAG: .entry loom_rope_half_bf16_t64{{(_[a-z0-9_]+)?}}(
// REPORT: loom-compile: stdout (target sm_90a, tiles attention:64x32,gemm:64x64x64x3,rows:64): 1 entry
// DEFAULT-DAG: .entry loom_attention_bf16_d128_m128_n64_w4_pscale{{(_[a-z0-9_]+)?}}(
// DEFAULT-DAG: .entry loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4{{(_[a-z0-9_]+)?}}(
// DEFAULT-DAG: .entry loom_rms_norm_bf16_t32_r4_v1{{(_[a-z0-9_]+)?}}(
// DEFAULT-DAG: .entry loom_rope_half_bf16(

func.func @block(%x: tensor<2x256x256xbf16>, %g: tensor<256xbf16>, %x2: tensor<2x256x256xbf16>, %w: tensor<256x256xbf16>,
                 %q: tensor<2x2x256x128xbf16>, %c: tensor<256x64xf32>, %s: tensor<256x64xf32>, %q2: tensor<2x2x256x128xbf16>)
    -> (tensor<2x256x256xbf16>, tensor<2x256x256xbf16>, tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>) {
  %n = loom.rms_norm %x, %g : (tensor<2x256x256xbf16>, tensor<256xbf16>) -> tensor<2x256x256xbf16>
  %y = loom.linear %x2, %w : (tensor<2x256x256xbf16>, tensor<256x256xbf16>) -> tensor<2x256x256xbf16>
  %r = loom.rope %q, %c, %s {style = "half"} : (tensor<2x2x256x128xbf16>, tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<2x2x256x128xbf16>
  %o = loom.attention %q2, %q2, %q2 : (tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>) -> tensor<2x2x256x128xbf16>
  return %n, %y, %r, %o : tensor<2x256x256xbf16>, tensor<2x256x256xbf16>, tensor<2x2x256x128xbf16>, tensor<2x2x256x128xbf16>
}
