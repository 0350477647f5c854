// Canonicalizations of loom ops: each rewrite, and the cases it must leave alone.
// RUN: loom-opt %s -canonicalize -split-input-file | FileCheck %s

// A window at least as long as Skv masks nothing.
// CHECK-LABEL: func.func @window_covers_all
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} :
// CHECK-NOT: window
func.func @window_covers_all(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32> {
  %0 = loom.attention %q, %k, %v {causal, window = 32 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  return %0 : tensor<1x2x16x8xf32>
}

// -----

// W = Skv - 1 hides key 0 from the last query: kept.
// CHECK-LABEL: func.func @window_kept
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = 31 : i64} :
func.func @window_kept(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32> {
  %0 = loom.attention %q, %k, %v {causal, window = 31 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  return %0 : tensor<1x2x16x8xf32>
}

// -----

// With a dynamic Skv nothing is known: kept.
// CHECK-LABEL: func.func @window_dynamic
// CHECK: window = 1000 : i64
func.func @window_dynamic(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x16x8xf32> {
  %0 = loom.attention %q, %k, %v {causal, window = 1000 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x16x8xf32>
  return %0 : tensor<1x2x16x8xf32>
}

// -----

// A constant all-true layout is plain attention; causal, scale and softcap carry over.
// CHECK-LABEL: func.func @all_true_layout
// CHECK-NOT: loom.block_sparse_attention
// CHECK: %[[O:.*]] = loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 5.000000e-01 : f32, softcap = 2.000000e+01 : f32} : (tensor<1x4x100x8xbf16>, tensor<1x2x100x8xbf16>, tensor<1x2x100x8xbf16>) -> tensor<1x4x100x8xbf16>
// CHECK: return %[[O]]
func.func @all_true_layout(%q: tensor<1x4x100x8xbf16>, %k: tensor<1x2x100x8xbf16>, %v: tensor<1x2x100x8xbf16>) -> tensor<1x4x100x8xbf16> {
  %l = arith.constant dense<true> : tensor<1x1x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64, causal, scale = 0.5 : f32, softcap = 20.0 : f32} : (tensor<1x4x100x8xbf16>, tensor<1x2x100x8xbf16>, tensor<1x2x100x8xbf16>, tensor<1x1x4x4xi1>) -> tensor<1x4x100x8xbf16>
  return %0 : tensor<1x4x100x8xbf16>
}

// -----

// A constant layout that is true everywhere but not a splat counts too.
// CHECK-LABEL: func.func @all_true_nonsplat
// CHECK-NOT: loom.block_sparse_attention
// CHECK: loom.attention
func.func @all_true_nonsplat(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %l = arith.constant dense<[[[[true, true], [true, true]]]]> : tensor<1x1x2x2xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 2 : i64, block_k = 2 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x2x2xi1>) -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

// A mixed constant layout stays block-sparse.
// CHECK-LABEL: func.func @mixed_layout
// CHECK: loom.block_sparse_attention
func.func @mixed_layout(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %l = arith.constant dense<[[[[true, false], [true, true]]]]> : tensor<1x1x2x2xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 2 : i64, block_k = 2 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x2x2xi1>) -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

// An all-false layout leaves every row empty: zeros.
// CHECK-LABEL: func.func @all_false_layout
// CHECK-NOT: loom.block_sparse_attention
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<2x4x100x16xbf16>
// CHECK: return %[[Z]]
func.func @all_false_layout(%q: tensor<2x4x100x8xbf16>, %k: tensor<2x2x50x8xbf16>, %v: tensor<2x2x50x16xbf16>) -> tensor<2x4x100x16xbf16> {
  %l = arith.constant dense<false> : tensor<2x4x4x2xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64} : (tensor<2x4x100x8xbf16>, tensor<2x2x50x8xbf16>, tensor<2x2x50x16xbf16>, tensor<2x4x4x2xi1>) -> tensor<2x4x100x16xbf16>
  return %0 : tensor<2x4x100x16xbf16>
}

// -----

// Dynamic dims of the zeros come from q (B, Hq, Sq) and v (Dv).
// CHECK-LABEL: func.func @all_false_dynamic
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x8xf32>, %{{.*}}: tensor<?x2x?x8xf32>, %[[V:.*]]: tensor<?x2x?x?xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %[[C0]]
// CHECK-DAG: %[[SQ:.*]] = tensor.dim %[[Q]], %[[C2]]
// CHECK-DAG: %[[DV:.*]] = tensor.dim %[[V]], %[[C3]]
// CHECK: %[[S:.*]] = tensor.splat %[[ZERO]][%[[B]], %[[SQ]], %[[DV]]] : tensor<?x4x?x?xf32>
// CHECK: return %[[S]]
func.func @all_false_dynamic(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x?xf32>) -> tensor<?x4x?x?xf32> {
  %l = arith.constant dense<false> : tensor<1x1x3x3xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x?xf32>, tensor<1x1x3x3xi1>) -> tensor<?x4x?x?xf32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// Without causal, topk >= NKB selects every block, and the block-sparse
// attention it feeds becomes plain attention.
// CHECK-LABEL: func.func @select_all_noncausal
// CHECK-NOT: loom.select_blocks
// CHECK-NOT: loom.block_sparse_attention
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} :
func.func @select_all_noncausal(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 4 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>) -> tensor<1x2x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x4x4xi1>) -> tensor<1x2x100x8xf32>
  return %0 : tensor<1x2x100x8xf32>
}

// -----

// topk < NKB really selects: kept.
// CHECK-LABEL: func.func @select_some
// CHECK: loom.select_blocks
// CHECK: loom.block_sparse_attention
func.func @select_some(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 3 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>) -> tensor<1x2x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x4x4xi1>) -> tensor<1x2x100x8xf32>
  return %0 : tensor<1x2x100x8xf32>
}

// -----

// With causal, the diagonal block plus topk others covering all NKB blocks
// selects every candidate: causal attention.
// CHECK-LABEL: func.func @select_all_causal
// CHECK-NOT: loom.block_sparse_attention
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 2.500000e-01 : f32} :
func.func @select_all_causal(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 3 : i64, causal} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>) -> tensor<1x2x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64, causal, scale = 0.25 : f32} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x4x4xi1>) -> tensor<1x2x100x8xf32>
  return %0 : tensor<1x2x100x8xf32>
}

// -----

// Causal, but topk + 1 < NKB: a real selection, kept.
// CHECK-LABEL: func.func @select_some_causal
// CHECK: loom.select_blocks
// CHECK: loom.block_sparse_attention
func.func @select_some_causal(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 2 : i64, causal} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>) -> tensor<1x2x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64, causal} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x4x4xi1>) -> tensor<1x2x100x8xf32>
  return %0 : tensor<1x2x100x8xf32>
}

// -----

// The selection was causal but the attention is not: the layout lacks the
// future blocks, so it is kept.
// CHECK-LABEL: func.func @select_causal_attention_not
// CHECK: loom.block_sparse_attention
func.func @select_causal_attention_not(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> tensor<1x2x100x8xf32> {
  %l = loom.select_blocks %q, %k {block_q = 32 : i64, block_k = 32 : i64, topk = 3 : i64, causal} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>) -> tensor<1x2x4x4xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 32 : i64, block_k = 32 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x4x4xi1>) -> tensor<1x2x100x8xf32>
  return %0 : tensor<1x2x100x8xf32>
}

// -----

// An all-zero decay is no decay.
// CHECK-LABEL: func.func @zero_decay
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal, normalize} :
func.func @zero_decay(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %0 = loom.linear_attention %q, %q, %q {causal, decay = array<f32: 0.0, 0.0>, normalize} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %0 : tensor<1x2x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @nonzero_decay
// CHECK: decay = array<f32: 0.000000e+00, 5.000000e-01>
func.func @nonzero_decay(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %0 = loom.linear_attention %q, %q, %q {causal, decay = array<f32: 0.0, 0.5>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %0 : tensor<1x2x16x8xf32>
}

// -----

// A constant zero gate multiplies by exp(0) = 1: dropped. With the final
// state still read, the op keeps its second result.
// CHECK-LABEL: func.func @zero_gate
// CHECK-NOT: arith.constant
// CHECK: %{{.*}}, %{{.*}} = loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
func.func @zero_gate(%q: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) {
  %g = arith.constant dense<0.0> : tensor<1x2x16x8xf32>
  %0, %1 = loom.linear_attention %q, %q, %v gate(%g) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x8xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
  return %0, %1 : tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// A constant splat gate g < 0 is decay = -g for every head.
// CHECK-LABEL: func.func @splat_gate_is_decay
// CHECK: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal, decay = array<f32: 5.000000e-01, 5.000000e-01>, rule = "delta"} : (tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x4xbf16>, tensor<1x2x16xbf16>) -> tensor<1x2x16x4xbf16>
func.func @splat_gate_is_decay(%q: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x4xbf16>, %b: tensor<1x2x16xbf16>) -> tensor<1x2x16x4xbf16> {
  %g = arith.constant dense<-0.5> : tensor<1x2x16xf32>
  %0 = loom.linear_attention %q, %q, %v gate(%g) beta(%b) {causal, rule = "delta"} : (tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x4xbf16>, tensor<1x2x16xf32>, tensor<1x2x16xbf16>) -> tensor<1x2x16x4xbf16>
  return %0 : tensor<1x2x16x4xbf16>
}

// -----

// Left alone: a positive splat gate (a growth, which decay cannot hold), a
// splat gate with a dynamic H, and a gate that is not a splat.
// CHECK-LABEL: func.func @gates_kept
// CHECK-COUNT-3: loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}}) {causal}
func.func @gates_kept(%q: tensor<1x2x3x8xf32>, %d: tensor<1x?x3x8xf32>) -> (tensor<1x2x3x8xf32>, tensor<1x?x3x8xf32>, tensor<1x2x3x8xf32>) {
  %pos = arith.constant dense<0.25> : tensor<1x2x3xf32>
  %neg = arith.constant dense<-0.25> : tensor<1x2x3xf32>
  %mixed = arith.constant dense<[[[0.0, -1.0, -2.0], [0.0, 0.0, 0.0]]]> : tensor<1x2x3xf32>
  %0 = loom.linear_attention %q, %q, %q gate(%pos) {causal} : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3xf32>) -> tensor<1x2x3x8xf32>
  %1 = loom.linear_attention %d, %d, %d gate(%neg) {causal} : (tensor<1x?x3x8xf32>, tensor<1x?x3x8xf32>, tensor<1x?x3x8xf32>, tensor<1x2x3xf32>) -> tensor<1x?x3x8xf32>
  %2 = loom.linear_attention %q, %q, %q gate(%mixed) {causal} : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3xf32>) -> tensor<1x2x3x8xf32>
  return %0, %1, %2 : tensor<1x2x3x8xf32>, tensor<1x?x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// A constant zero initial state is the default; an unused final state is
// not computed. A used final state and a non-zero initial state stay.
// CHECK-LABEL: func.func @states
// CHECK: %[[A:[^ ]*]] = loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
// CHECK: %[[B:[^ ]*]], %[[BS:[^ ]*]] = loom.linear_attention %{{.*}}, %{{.*}}, %{{.*}} initial_state(%{{.*}}) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
// CHECK: return %[[A]], %[[B]], %[[BS]]
func.func @states(%q: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) {
  %z = arith.constant dense<0.0> : tensor<1x2x8x4xf32>
  %one = arith.constant dense<1.0> : tensor<1x2x8x4xf32>
  %0, %1 = loom.linear_attention %q, %q, %v initial_state(%z) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
  %2, %3 = loom.linear_attention %q, %q, %v initial_state(%one) {causal} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>)
  return %0, %2, %3 : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// Loom ops are pure: unused results disappear.
// CHECK-LABEL: func.func @dead
// CHECK-NOT: loom.
// CHECK: return
func.func @dead(%x: tensor<4x8xf32>) {
  %0 = loom.silu %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

// One (o, lse) pair merges to itself.
// CHECK-LABEL: func.func @merge_one_pair
// CHECK-NOT: loom.merge_attention
// CHECK: return %arg0, %arg1
func.func @merge_one_pair(%o: tensor<1x2x3x4xbf16>, %l: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) {
  %0:2 = loom.merge_attention %o, %l : (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>)
  return %0#0, %0#1 : tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>
}

// -----

// A result more static than the operand cannot be replaced by it: kept.
// CHECK-LABEL: func.func @merge_one_pair_refined
// CHECK: loom.merge_attention
func.func @merge_one_pair_refined(%o: tensor<?x2x3x4xbf16>, %l: tensor<?x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) {
  %0:2 = loom.merge_attention %o, %l : (tensor<?x2x3x4xbf16>, tensor<?x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>)
  return %0#0, %0#1 : tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>
}

// -----

// Two pairs are kept.
// CHECK-LABEL: func.func @merge_two_pairs
// CHECK: loom.merge_attention
func.func @merge_two_pairs(%o: tensor<1x2x3x4xbf16>, %l: tensor<1x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) {
  %0:2 = loom.merge_attention %o, %l, %o, %l : (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>, tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>) -> (tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>)
  return %0#0, %0#1 : tensor<1x2x3x4xbf16>, tensor<1x2x3xf32>
}

// -----

// The rewrites of the attention ops keep the lse result.
// CHECK-LABEL: func.func @window_covers_all_lse
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : ({{.*}}) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
func.func @window_covers_all_lse(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) {
  %0:2 = loom.attention %q, %k, %v {causal, window = 32 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
  return %0#0, %0#1 : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
}

// -----

// CHECK-LABEL: func.func @all_true_layout_lse
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} : ({{.*}}) -> (tensor<1x2x100x8xf32>, tensor<1x2x100xf32>)
func.func @all_true_layout_lse(%q: tensor<1x2x100x8xf32>, %k: tensor<1x2x100x8xf32>, %v: tensor<1x2x100x8xf32>) -> (tensor<1x2x100x8xf32>, tensor<1x2x100xf32>) {
  %layout = arith.constant dense<true> : tensor<1x1x2x2xi1>
  %0:2 = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64} : (tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x2x100x8xf32>, tensor<1x1x2x2xi1>) -> (tensor<1x2x100x8xf32>, tensor<1x2x100xf32>)
  return %0#0, %0#1 : tensor<1x2x100x8xf32>, tensor<1x2x100xf32>
}

// -----

// An all-false layout: zeros, and an lse of -inf (dynamic sizes from q).
// CHECK-LABEL: func.func @all_false_layout_lse
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : bf16
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: tensor.splat %[[ZERO]][%[[B]]] : tensor<?x2x100x8xbf16>
// CHECK-DAG: tensor.splat %[[NEGINF]][%{{.*}}] : tensor<?x2x100xf32>
// CHECK-NOT: loom.block_sparse_attention
func.func @all_false_layout_lse(%q: tensor<?x2x100x8xbf16>, %k: tensor<?x2x100x8xbf16>, %v: tensor<?x2x100x8xbf16>) -> (tensor<?x2x100x8xbf16>, tensor<?x2x100xf32>) {
  %layout = arith.constant dense<false> : tensor<1x1x2x2xi1>
  %0:2 = loom.block_sparse_attention %q, %k, %v, %layout {block_q = 64 : i64, block_k = 64 : i64} : (tensor<?x2x100x8xbf16>, tensor<?x2x100x8xbf16>, tensor<?x2x100x8xbf16>, tensor<1x1x2x2xi1>) -> (tensor<?x2x100x8xbf16>, tensor<?x2x100xf32>)
  return %0#0, %0#1 : tensor<?x2x100x8xbf16>, tensor<?x2x100xf32>
}

// -----

// sink = 0 is dropped; a sink without a window is dropped (it exempts keys
// from nothing).
// CHECK-LABEL: func.func @sink_dropped
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = 4 : i64} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} :
func.func @sink_dropped(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %0 = loom.attention %q, %k, %v {causal, sink = 0 : i64, window = 4 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  %1 = loom.attention %q, %k, %v {causal, sink = 4 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  return %0, %1 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// A sink with a covering window goes with the window; a sink with a window
// that masks stays.
// CHECK-LABEL: func.func @sink_with_window
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 4 : i64, window = 31 : i64} :
func.func @sink_with_window(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %0 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 32 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  %1 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 31 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x2x16x8xf32>
  return %0, %1 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// Per-head windows: equal values become the single window, all zeros (or all
// covering, Skv = 32) are dropped, a covering value becomes 0, and a dynamic
// Skv keeps every value.
// CHECK-LABEL: func.func @head_windows
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = 8 : i64} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 0, 8, 0, 31>} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 8, 8, 0, 8>} :
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 2 : i64, window = array<i64: 64, 8, 64, 8>} :
func.func @head_windows(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>, %kd: tensor<1x2x?x8xf32>, %vd: tensor<1x2x?x8xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) {
  %0 = loom.attention %q, %k, %v {causal, window = array<i64: 8, 8, 8, 8>} : (tensor<1x4x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x4x16x8xf32>
  %1 = loom.attention %q, %k, %v {causal, sink = 3 : i64, window = array<i64: 0, 0, 0, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x4x16x8xf32>
  %2 = loom.attention %q, %k, %v {causal, window = array<i64: 32, 0, 100, 0>} : (tensor<1x4x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x4x16x8xf32>
  %3 = loom.attention %q, %k, %v {causal, window = array<i64: 40, 8, 0, 31>} : (tensor<1x4x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x4x16x8xf32>
  %4 = loom.attention %q, %k, %v {causal, window = array<i64: 8, 8, 32, 8>} : (tensor<1x4x16x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>) -> tensor<1x4x16x8xf32>
  %5 = loom.attention %q, %kd, %vd {causal, sink = 2 : i64, window = array<i64: 64, 8, 64, 8>} : (tensor<1x4x16x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x4x16x8xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
}

// -----

// Block-sparse: the same simplifications, and an all-true layout keeps the
// window, sink and sink logits on the attention it becomes.
// CHECK-LABEL: func.func @sparse_serving
// CHECK: loom.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, sink = 2 : i64, window = array<i64: 4, 0>} :
// CHECK: loom.block_sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_k = 8 : i64, block_q = 8 : i64, causal, window = 4 : i64} :
func.func @sparse_serving(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<2xf32>, %l: tensor<1x2x2x2xi1>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %t = arith.constant dense<true> : tensor<1x1x2x2xi1>
  %0 = loom.block_sparse_attention %q, %k, %v, %t, %s {block_q = 8 : i64, block_k = 8 : i64, causal, sink = 2 : i64, window = array<i64: 4, 0>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x2x2xi1>, tensor<2xf32>) -> tensor<1x2x16x8xf32>
  %1 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 8 : i64, block_k = 8 : i64, causal, sink = 0 : i64, window = array<i64: 4, 4>} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x2x2xi1>) -> tensor<1x2x16x8xf32>
  return %0, %1 : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// An all-false layout with sink logits and an lse: the lse rows are sink_h,
// not -inf, so the zeros rewrite leaves the op alone; without the lse the
// output is zeros either way.
// CHECK-LABEL: func.func @sparse_false_sink_logits
// CHECK: loom.block_sparse_attention
// CHECK-NOT: loom.block_sparse_attention
func.func @sparse_false_sink_logits(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %s: tensor<2xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16x8xf32>) {
  %f = arith.constant dense<false> : tensor<1x1x2x2xi1>
  %0:2 = loom.block_sparse_attention %q, %k, %v, %f, %s {block_q = 8 : i64, block_k = 8 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x2x2xi1>, tensor<2xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
  %1 = loom.block_sparse_attention %q, %k, %v, %f, %s {block_q = 8 : i64, block_k = 8 : i64} : (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x1x2x2xi1>, tensor<2xf32>) -> tensor<1x2x16x8xf32>
  return %0#0, %0#1, %1 : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16x8xf32>
}

// -----

// paged_attention: a sequence has at most maxPages * page = 8 * 16 = 128
// keys, so a window of 128 masks nothing and is dropped (with the sink it
// made meaningful); per head, such a W_h becomes 0; a window of 127 stays;
// sink = 0 is dropped. With a dynamic maxPages nothing is known.
// CHECK-LABEL: func.func @paged_window_covers_all
// CHECK: loom.paged_attention %{{.*}} {causal} :
// CHECK: loom.paged_attention %{{.*}} {causal, window = array<i64: 0, 5, 0, 5>} :
// CHECK: loom.paged_attention %{{.*}} {causal, sink = 2 : i64, window = 127 : i64} :
// CHECK: loom.paged_attention %{{.*}} {causal, window = 4 : i64} :
// CHECK: loom.paged_attention %{{.*}} {causal, window = 128 : i64} :
func.func @paged_window_covers_all(%q: tensor<?x4x16xf32>, %k: tensor<32x16x2x16xf32>, %off: tensor<4xi32>, %l: tensor<3xi32>, %bt: tensor<3x8xi32>, %btd: tensor<3x?xi32>)
    -> (tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>) {
  %0 = loom.paged_attention %q, %k, %k, %off, %l, %bt {causal, sink = 4 : i64, window = 128 : i64} : (tensor<?x4x16xf32>, tensor<32x16x2x16xf32>, tensor<32x16x2x16xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x4x16xf32>
  %1 = loom.paged_attention %q, %k, %k, %off, %l, %bt {causal, window = array<i64: 200, 5, 128, 5>} : (tensor<?x4x16xf32>, tensor<32x16x2x16xf32>, tensor<32x16x2x16xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x4x16xf32>
  %2 = loom.paged_attention %q, %k, %k, %off, %l, %bt {causal, sink = 2 : i64, window = 127 : i64} : (tensor<?x4x16xf32>, tensor<32x16x2x16xf32>, tensor<32x16x2x16xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x4x16xf32>
  %3 = loom.paged_attention %q, %k, %k, %off, %l, %bt {causal, sink = 0 : i64, window = 4 : i64} : (tensor<?x4x16xf32>, tensor<32x16x2x16xf32>, tensor<32x16x2x16xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x8xi32>) -> tensor<?x4x16xf32>
  %4 = loom.paged_attention %q, %k, %k, %off, %l, %btd {causal, window = 128 : i64} : (tensor<?x4x16xf32>, tensor<32x16x2x16xf32>, tensor<32x16x2x16xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3x?xi32>) -> tensor<?x4x16xf32>
  return %0, %1, %2, %3, %4 : tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>
}
