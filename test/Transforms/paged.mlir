// loom-fuse and loom-tile leave the paged serving ops of issue 16 alone:
// paged_attention, kv_cache_write and a RoPE at per-token positions each
// stay a group of their own (nothing is fused into or around them; the
// RoPE is not recomputed into a consumer's group, as a plain RoPE is, since
// the fused recipes read no index tensors), and loom-tile tiles none of
// them. The projection keeps its own group (RMSNorm prologue).
// RUN: loom-opt %s -pass-pipeline='builtin.module(func.func(loom-fuse))' | FileCheck %s --check-prefix=FUSE
// RUN: loom-opt %s -pass-pipeline='builtin.module(func.func(loom-tile))' | FileCheck %s --check-prefix=TILE
// RUN: loom-opt %s --loom-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// Each is a group of its own (what loom-fuse makes of an op it fuses
// nothing into): the body is the op alone.
// FUSE-LABEL: func.func @q_projection_rope_write_attend
// FUSE: %[[Q:.*]] = loom.kernel "rms_norm+linear"
// FUSE: %[[KC:.*]] = loom.kernel "kv_cache_write"
// FUSE-NEXT: ^bb0
// FUSE-NEXT: loom.kv_cache_write
// FUSE-NEXT: loom.yield
// FUSE: %[[Q3:.*]] = tensor.expand_shape %[[Q]]
// FUSE: %[[QR:.*]] = loom.kernel "rope" (%[[Q3]], %{{.*}}, %{{.*}}, %{{.*}})
// FUSE-NEXT: ^bb0
// FUSE-NEXT: loom.rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// FUSE-NEXT: loom.yield
// FUSE: loom.kernel "paged_attention" (%[[QR]], %[[KC]],
// FUSE-NEXT: ^bb0
// FUSE-NEXT: loom.paged_attention
// FUSE-NEXT: loom.yield
// FUSE: return
// TILE-LABEL: func.func @q_projection_rope_write_attend
// TILE-NOT: scf.forall
// TILE: loom.rope %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// TILE-NEXT: loom.kv_cache_write
// TILE-NEXT: loom.paged_attention
// TILE-NOT: scf.forall
// LLVM-LABEL: llvm.func @q_projection_rope_write_attend
// LLVM-NOT: loom.
func.func @q_projection_rope_write_attend(%x: tensor<24x512xbf16>, %g: tensor<512xbf16>, %wq: tensor<512x512xbf16>,
    %cos: tensor<4096x32xf32>, %sin: tensor<4096x32xf32>, %pos: tensor<24xi32>, %slots: tensor<24xi32>,
    %knew: tensor<24x2x64xbf16>, %kc: tensor<64x16x2x64xbf16>, %vc: tensor<64x16x2x64xbf16>,
    %off: tensor<5xi32>, %len: tensor<4xi32>, %bt: tensor<4x8xi32>) -> tensor<24x8x64xbf16> {
  %n = loom.rms_norm %x, %g : (tensor<24x512xbf16>, tensor<512xbf16>) -> tensor<24x512xbf16>
  %q = loom.linear %n, %wq : (tensor<24x512xbf16>, tensor<512x512xbf16>) -> tensor<24x512xbf16>
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [24, 8, 64] : tensor<24x512xbf16> into tensor<24x8x64xbf16>
  %qr = loom.rope %q3, %cos, %sin, %pos : (tensor<24x8x64xbf16>, tensor<4096x32xf32>, tensor<4096x32xf32>, tensor<24xi32>) -> tensor<24x8x64xbf16>
  %kc2 = loom.kv_cache_write %kc, %knew, %slots : (tensor<64x16x2x64xbf16>, tensor<24x2x64xbf16>, tensor<24xi32>) -> tensor<64x16x2x64xbf16>
  %o = loom.paged_attention %qr, %kc2, %vc, %off, %len, %bt {causal}
      : (tensor<24x8x64xbf16>, tensor<64x16x2x64xbf16>, tensor<64x16x2x64xbf16>, tensor<5xi32>, tensor<4xi32>, tensor<4x8xi32>) -> tensor<24x8x64xbf16>
  return %o : tensor<24x8x64xbf16>
}
