// loom-fuse: one fusion group (loom.kernel) per kernel; docs/fusion.md.
// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(loom-fuse))' | FileCheck %s
// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(loom-fuse{prologues=false}))' | FileCheck %s --check-prefix=NOPRO
// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(loom-fuse{epilogues=false}))' | FileCheck %s --check-prefix=NOEPI
// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(loom-fuse{horizontal=false}))' | FileCheck %s --check-prefix=NOHOR
// The groups compute what the ops did: inlining them gives the input back.
// RUN: loom-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(loom-fuse),loom-inline-kernels)' | FileCheck %s --check-prefix=INLINE

// CHECK-LABEL: func.func @qkv
// CHECK:      %[[K:.*]]:3 = loom.kernel "rms_norm+linear x3" (%arg0, %arg1, %arg2, %arg3, %arg4)
// CHECK-NEXT: ^bb0(
// CHECK-NEXT:   %[[H:.*]] = loom.rms_norm
// CHECK-NEXT:   %[[Q:.*]] = loom.linear %[[H]]
// CHECK-NEXT:   %[[KK:.*]] = loom.linear %[[H]]
// CHECK-NEXT:   %[[V:.*]] = loom.linear %[[H]]
// CHECK-NEXT:   loom.yield %[[Q]], %[[KK]], %[[V]]
// CHECK:      return %[[K]]#0, %[[K]]#1, %[[K]]#2
// NOPRO-LABEL: func.func @qkv
// NOPRO:       %[[H:.*]] = loom.kernel "rms_norm" (%arg0, %arg1)
// NOPRO:       loom.kernel "linear x3" (%[[H]], %arg2, %arg3, %arg4)
// NOHOR-LABEL: func.func @qkv
// NOHOR-COUNT-3: loom.kernel "linear"
// NOHOR-NOT:   loom.kernel
// NOHOR:       return

// QKV: a norm read only by three sibling projections is their prologue.
func.func @qkv(%x: tensor<16x64xbf16>, %nw: tensor<64xbf16>, %wq: tensor<64x64xbf16>, %wk: tensor<32x64xbf16>, %wv: tensor<32x64xbf16>)
    -> (tensor<16x64xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>) {
  %h = loom.rms_norm %x, %nw : (tensor<16x64xbf16>, tensor<64xbf16>) -> tensor<16x64xbf16>
  %q = loom.linear %h, %wq : (tensor<16x64xbf16>, tensor<64x64xbf16>) -> tensor<16x64xbf16>
  %k = loom.linear %h, %wk : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  %v = loom.linear %h, %wv : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  return %q, %k, %v : tensor<16x64xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>
}

// -----

// INLINE-LABEL: func.func @swiglu
// INLINE-NOT:  loom.kernel
// INLINE:      %[[G:.*]] = loom.linear %arg0, %arg1
// INLINE-NEXT: %[[U:.*]] = loom.linear %arg0, %arg2
// INLINE-NEXT: %[[S:.*]] = loom.silu %[[G]]
// INLINE-NEXT: %[[M:.*]] = arith.mulf %[[S]], %[[U]]
// INLINE-NEXT: %[[D:.*]] = loom.linear %[[M]], %arg3
// INLINE-NEXT: %[[Y:.*]] = arith.addf %arg0, %[[D]]
// INLINE-NEXT: return %[[Y]]
// CHECK-LABEL: func.func @swiglu
// CHECK:      %[[G:.*]] = loom.kernel "linear x2+silu+mulf" (%arg0, %arg1, %arg2)
// CHECK:        %[[A:.*]] = loom.linear
// CHECK-NEXT:   %[[B:.*]] = loom.linear
// CHECK-NEXT:   %[[S:.*]] = loom.silu %[[A]]
// CHECK-NEXT:   %[[M:.*]] = arith.mulf %[[S]], %[[B]]
// CHECK-NEXT:   loom.yield %[[M]]
// CHECK:      %[[D:.*]] = loom.kernel "linear+addf" (%[[G]], %arg3, %arg0)
// CHECK:      return %[[D]]
// NOEPI-LABEL: func.func @swiglu
// NOEPI:      loom.kernel "linear x2"
// NOEPI:      loom.kernel "silu"
// NOEPI:      loom.kernel "mulf"
// NOEPI:      loom.kernel "linear"
// NOEPI:      loom.kernel "addf"

// SwiGLU: gate/up fuse horizontally, SiLU and the gating multiply are the epilogue,
// the down projection with the residual add is a second group.
func.func @swiglu(%x: tensor<16x64xf32>, %wg: tensor<128x64xf32>, %wu: tensor<128x64xf32>, %wd: tensor<64x128xf32>) -> tensor<16x64xf32> {
  %g = loom.linear %x, %wg : (tensor<16x64xf32>, tensor<128x64xf32>) -> tensor<16x128xf32>
  %u = loom.linear %x, %wu : (tensor<16x64xf32>, tensor<128x64xf32>) -> tensor<16x128xf32>
  %a = loom.silu %g : (tensor<16x128xf32>) -> tensor<16x128xf32>
  %m = arith.mulf %a, %u : tensor<16x128xf32>
  %d = loom.linear %m, %wd : (tensor<16x128xf32>, tensor<64x128xf32>) -> tensor<16x64xf32>
  %y = arith.addf %x, %d : tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// CHECK-LABEL: func.func @attention
// CHECK:      %[[O:.*]] = loom.kernel "transpose x3+rope x2+attention+transpose" (%arg0, %arg1, %arg2, %arg3, %arg4)
// CHECK-SAME:   -> tensor<32x128xbf16>
// CHECK-COUNT-3: tensor.expand_shape
// CHECK-COUNT-3: linalg.transpose
// CHECK-COUNT-2: loom.rope
// CHECK:        loom.attention
// CHECK-NEXT:   linalg.transpose
// CHECK-NEXT:   %[[C:.*]] = tensor.collapse_shape
// CHECK-NEXT:   loom.yield %[[C]]
// CHECK:      return %[[O]]
// NOPRO-LABEL: func.func @attention
// NOPRO-COUNT-3: loom.kernel "transpose"
// NOPRO-COUNT-2: loom.kernel "rope"
// NOPRO:       loom.kernel "attention+transpose"
// NOEPI-LABEL: func.func @attention
// NOEPI:       loom.kernel "transpose x3+rope x2+attention"
// NOEPI:       loom.kernel "transpose"
// NOEPI:       tensor.collapse_shape

// Attention: the layout changes and RoPE of q and k are the prologue, the
// layout change of the result the epilogue; expand_shape of the inputs stays a view.
func.func @attention(%q2: tensor<32x128xbf16>, %k2: tensor<32x64xbf16>, %v2: tensor<32x64xbf16>,
                     %cos: tensor<32x32xf32>, %sin: tensor<32x32xf32>) -> tensor<32x128xbf16> {
  %q4 = tensor.expand_shape %q2 [[0, 1], [2, 3]] output_shape [1, 32, 2, 64] : tensor<32x128xbf16> into tensor<1x32x2x64xbf16>
  %k4 = tensor.expand_shape %k2 [[0, 1], [2, 3]] output_shape [1, 32, 1, 64] : tensor<32x64xbf16> into tensor<1x32x1x64xbf16>
  %v4 = tensor.expand_shape %v2 [[0, 1], [2, 3]] output_shape [1, 32, 1, 64] : tensor<32x64xbf16> into tensor<1x32x1x64xbf16>
  %e0 = tensor.empty() : tensor<1x2x32x64xbf16>
  %q = linalg.transpose ins(%q4 : tensor<1x32x2x64xbf16>) outs(%e0 : tensor<1x2x32x64xbf16>) permutation = [0, 2, 1, 3]
  %e1 = tensor.empty() : tensor<1x1x32x64xbf16>
  %k = linalg.transpose ins(%k4 : tensor<1x32x1x64xbf16>) outs(%e1 : tensor<1x1x32x64xbf16>) permutation = [0, 2, 1, 3]
  %e2 = tensor.empty() : tensor<1x1x32x64xbf16>
  %v = linalg.transpose ins(%v4 : tensor<1x32x1x64xbf16>) outs(%e2 : tensor<1x1x32x64xbf16>) permutation = [0, 2, 1, 3]
  %qr = loom.rope %q, %cos, %sin : (tensor<1x2x32x64xbf16>, tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<1x2x32x64xbf16>
  %kr = loom.rope %k, %cos, %sin : (tensor<1x1x32x64xbf16>, tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<1x1x32x64xbf16>
  %o = loom.attention %qr, %kr, %v {causal} : (tensor<1x2x32x64xbf16>, tensor<1x1x32x64xbf16>, tensor<1x1x32x64xbf16>) -> tensor<1x2x32x64xbf16>
  %e3 = tensor.empty() : tensor<1x32x2x64xbf16>
  %o4 = linalg.transpose ins(%o : tensor<1x2x32x64xbf16>) outs(%e3 : tensor<1x32x2x64xbf16>) permutation = [0, 2, 1, 3]
  %o2 = tensor.collapse_shape %o4 [[0, 1], [2, 3]] : tensor<1x32x2x64xbf16> into tensor<32x128xbf16>
  return %o2 : tensor<32x128xbf16>
}

// -----

// CHECK-LABEL: func.func @recompute
// CHECK:      %[[L:.*]] = loom.kernel "rope+select_blocks" (%arg0, %arg3, %arg4, %arg1)
// CHECK:      %[[O:.*]] = loom.kernel "rope+block_sparse_attention" (%arg0, %arg3, %arg4, %arg1, %arg2, %[[L]])
// CHECK:      %[[R:.*]] = loom.kernel "rope" (%arg0, %arg3, %arg4)
// CHECK:      return %[[O]], %[[R]]

// RoPE read by two attention-like groups is recomputed in both; read also by
// the return, it is computed once more on its own.
func.func @recompute(%q: tensor<1x2x128x64xbf16>, %k: tensor<1x1x128x64xbf16>, %v: tensor<1x1x128x64xbf16>,
                     %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>)
    -> (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>) {
  %qr = loom.rope %q, %cos, %sin : (tensor<1x2x128x64xbf16>, tensor<128x32xf32>, tensor<128x32xf32>) -> tensor<1x2x128x64xbf16>
  %l = loom.select_blocks %qr, %k {block_q = 64 : i64, block_k = 64 : i64, topk = 1 : i64, causal}
      : (tensor<1x2x128x64xbf16>, tensor<1x1x128x64xbf16>) -> tensor<1x2x2x2xi1>
  %o = loom.block_sparse_attention %qr, %k, %v, %l {block_q = 64 : i64, block_k = 64 : i64, causal}
      : (tensor<1x2x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x2x2x2xi1>) -> tensor<1x2x128x64xbf16>
  return %o, %qr : tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
}

// -----

// CHECK-LABEL: func.func @mixer
// CHECK:      %[[Y:.*]] = loom.kernel "layer_norm+pool_mixer+addf" (%arg0, %arg1, %arg2)
// CHECK:      return %[[Y]]

// A mixer: the norm before it is the prologue, the residual add the epilogue.
func.func @mixer(%x: tensor<1x8x8x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<1x8x8x16xf32> {
  %n = loom.layer_norm %x, %w, %b : (tensor<1x8x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x8x8x16xf32>
  %m = loom.pool_mixer %n {kernel = 3 : i64} : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
  %y = arith.addf %x, %m : tensor<1x8x8x16xf32>
  return %y : tensor<1x8x8x16xf32>
}

// -----

// CHECK-LABEL: func.func @rest
// CHECK:      %[[H:.*]] = loom.kernel "rms_norm" (%arg0, %arg1) : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK:      %[[T:.*]] = loom.kernel "silu+mulf" (%[[H]], %arg0)
// CHECK:      %[[L:.*]] = loom.kernel "linear" (%[[H]], %arg2)
// CHECK:      return %[[L]], %[[T]]

// A norm that something else reads too stays a group of its own; an
// elementwise chain outside any anchor is one group; dynamic sizes are fine.
func.func @rest(%x: tensor<?x64xf32>, %nw: tensor<64xf32>, %w: tensor<32x64xf32>)
    -> (tensor<?x32xf32>, tensor<?x64xf32>) {
  %h = loom.rms_norm %x, %nw : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %l = loom.linear %h, %w : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %s = loom.silu %h : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %t = arith.mulf %s, %x : tensor<?x64xf32>
  return %l, %t : tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func.func @no_cycle
// CHECK:      %[[A:.*]] = loom.kernel "linear" (%arg0, %arg1)
// CHECK:      %[[B:.*]] = loom.kernel "linear" (%arg0, %[[A]])
// CHECK:      return %[[B]]

// No cycle: a sibling whose weight is computed from the group stays out.
func.func @no_cycle(%x: tensor<8x8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = loom.linear %x, %w : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %b = loom.linear %x, %a : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %b : tensor<8x8xf32>
}

// -----

// CHECK-LABEL: func.func @quantize
// CHECK:      scf.if
// CHECK-NEXT:   loom.silu
// CHECK:      %[[Q:.*]]:2 = loom.kernel "linear+quantize" (%arg0, %arg1)
// CHECK:      return %[[Q]]#0, %[[Q]]#1

// A quantize after a GEMM is its epilogue; ops in nested regions are left alone.
func.func @quantize(%x: tensor<16x64xbf16>, %w: tensor<32x64xbf16>, %c: i1) -> (tensor<16x32xi8>, tensor<16xf32>, tensor<16x64xbf16>) {
  %l = loom.linear %x, %w : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  %q, %s = loom.quantize %l : (tensor<16x32xbf16>) -> (tensor<16x32xi8>, tensor<16xf32>)
  %r = scf.if %c -> tensor<16x64xbf16> {
    %n = loom.silu %x : (tensor<16x64xbf16>) -> tensor<16x64xbf16>
    scf.yield %n : tensor<16x64xbf16>
  } else {
    scf.yield %x : tensor<16x64xbf16>
  }
  return %q, %s, %r : tensor<16x32xi8>, tensor<16xf32>, tensor<16x64xbf16>
}

// -----

// CHECK-LABEL: func.func @siblings_one_bias
// CHECK:      %[[H:.*]] = loom.kernel "rms_norm" (%arg0, %arg1)
// CHECK:      %[[AB:.*]]:2 = loom.kernel "linear x2" (%[[H]], %arg2, %arg3)
// CHECK-NEXT: ^bb0(
// CHECK-NEXT:   %[[A:.*]] = loom.linear %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
// CHECK-NEXT:   %[[B:.*]] = loom.linear %{{[a-z0-9]+}}, %{{[a-z0-9]+}} : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
// CHECK-NEXT:   loom.yield %[[A]], %[[B]]
// CHECK:      %[[C:.*]] = loom.kernel "linear" (%[[H]], %arg4, %arg5)
// CHECK-NOT:  loom.kernel
// CHECK:      return %[[AB]]#0, %[[AB]]#1, %[[C]]

// Siblings are alike: one with a bias does not join those without (a fused
// recipe runs one kernel for every part and would decline the group). The
// norm, read by both groups, is a group of its own.
func.func @siblings_one_bias(%x: tensor<16x64xbf16>, %nw: tensor<64xbf16>, %w1: tensor<32x64xbf16>, %w2: tensor<32x64xbf16>, %w3: tensor<32x64xbf16>, %b3: tensor<32xbf16>)
    -> (tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>) {
  %h = loom.rms_norm %x, %nw : (tensor<16x64xbf16>, tensor<64xbf16>) -> tensor<16x64xbf16>
  %a = loom.linear %h, %w1 : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  %b = loom.linear %h, %w2 : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  %c = loom.linear %h, %w3, %b3 : (tensor<16x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16>) -> tensor<16x32xbf16>
  return %a, %b, %c : tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>
}

// -----

// CHECK-LABEL: func.func @siblings_weight_types
// CHECK:      %[[AC:.*]]:2 = loom.kernel "qlinear x2" (%arg0, %arg1, %arg2, %arg5, %arg6)
// CHECK:      %[[B:.*]] = loom.kernel "qlinear" (%arg0, %arg3, %arg4)
// CHECK-NOT:  loom.kernel
// CHECK:      return %[[AC]]#0, %[[B]], %[[AC]]#1

// Siblings have the same operand element types: i4 weights do not join i8 ones.
func.func @siblings_weight_types(%x: tensor<16x64xbf16>, %w1: tensor<32x64xi8>, %s1: tensor<32xf32>, %w2: tensor<32x64xi4>, %s2: tensor<32xf32>, %w3: tensor<32x64xi8>, %s3: tensor<32xf32>)
    -> (tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>) {
  %a = loom.qlinear %x, %w1, %s1 : (tensor<16x64xbf16>, tensor<32x64xi8>, tensor<32xf32>) -> tensor<16x32xbf16>
  %b = loom.qlinear %x, %w2, %s2 : (tensor<16x64xbf16>, tensor<32x64xi4>, tensor<32xf32>) -> tensor<16x32xbf16>
  %c = loom.qlinear %x, %w3, %s3 : (tensor<16x64xbf16>, tensor<32x64xi8>, tensor<32xf32>) -> tensor<16x32xbf16>
  return %a, %b, %c : tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<16x32xbf16>
}
