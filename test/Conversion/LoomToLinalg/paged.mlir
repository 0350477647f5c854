// Lowering of the paged serving ops (issue 16, deliverables 2 and 3):
// paged_attention finds each token's sequence (a count of the offsets <= t),
// computes the scores of the keys j < maxPages * page gathered through the
// block table (a key is read only when visible and its page is in range),
// the softmax as loom.attention does, and P V over the row's n_kv keys with
// the page clamped into range; kv_cache_write is an scf.forall whose shared
// output is the cache, so that one-shot bufferization writes the cache in
// place; rope with positions reads the table row clamp(positions[t]).
// RUN: loom-opt %s --convert-loom-to-linalg -canonicalize -cse -split-input-file | FileCheck %s
// RUN: loom-opt %s --convert-loom-to-linalg --one-shot-bufferize=bufferize-function-boundaries -canonicalize -split-input-file | FileCheck %s --check-prefix=BUF
// RUN: loom-opt %s --loom-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// GQA 4:2, pages of 4, 6 pages, 2 sequences of at most 3 pages (12 keys),
// causal with a window of 5 and 2 sinks.
// CHECK-DAG: #[[$TOK:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-DAG: #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @paged
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x8xf32>, %[[K:.*]]: tensor<6x4x2x8xf32>, %[[V:.*]]: tensor<6x4x2x4xf32>, %[[OFF:.*]]: tensor<3xi32>, %[[LEN:.*]]: tensor<2xi32>, %[[BT:.*]]: tensor<2x3xi32>)
// The rows: b = #{b' <= B : q_offsets[b'] <= t} - 1, then the sequence's
// range, its kv_lens clamped to [0, 12] and r' = (t - start) + n_kv - n_q.
// CHECK: %[[ROWS:.*]]:3 = linalg.generic
// CHECK: %[[T:.*]] = linalg.index 0 : index
// CHECK: %[[COUNT:.*]] = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args
// CHECK: tensor.extract %[[OFF]]
// CHECK: arith.cmpi sle, %{{.*}}, %[[T]] : index
// CHECK: scf.if
// CHECK: %[[L:.*]] = tensor.extract %[[LEN]]
// CHECK: %[[L0:.*]] = arith.maxsi %{{.*}}, %c0 : index
// CHECK: arith.minsi %[[L0]], %c12 : index
// CHECK: } else {
// CHECK: scf.yield %c-1_i64, %c0_i64, %c0_i64 : i64, i64, i64
// Scores [T, Hq, 12]: j < n_kv, causal j <= r', window or sink; the page
// read only then, the dot product only for a page in range.
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[$TOK]], #[[$TOK]], #[[$TOK]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[ROWS]]#0, %[[ROWS]]#1, %[[ROWS]]#2 : tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) outs(%{{.*}} : tensor<?x4x12xf32>)
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[INLEN:.*]] = arith.cmpi slt, %[[J]], %{{.*}} : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %{{.*}} : index
// CHECK: %[[VIS0:.*]] = arith.andi %[[INLEN]], %[[CAUSAL]] : i1
// CHECK: %[[INWIN:.*]] = arith.cmpi slt, %{{.*}}, %c5 : index
// CHECK: %[[SINK:.*]] = arith.cmpi slt, %[[J]], %c2 : index
// CHECK: %[[WS:.*]] = arith.ori %[[INWIN]], %[[SINK]] : i1
// CHECK: %[[VIS:.*]] = arith.andi %[[VIS0]], %[[WS]] : i1
// CHECK: scf.if %[[VIS]] -> (f32) {
// CHECK: %[[LP:.*]] = arith.divui %[[J]], %c4 : index
// CHECK: %[[PG32:.*]] = tensor.extract %[[BT]][%{{.*}}, %[[LP]]] : tensor<2x3xi32>
// CHECK: %[[PG:.*]] = arith.index_cast %[[PG32]] : i32 to index
// CHECK: %[[BELOW:.*]] = arith.cmpi slt, %[[PG]], %c6 : index
// CHECK: %[[ABOVE:.*]] = arith.cmpi sge, %[[PG]], %c0 : index
// CHECK: %[[OK:.*]] = arith.andi %[[ABOVE]], %[[BELOW]] : i1
// CHECK: scf.if %[[OK]] -> (f32) {
// CHECK: scf.for
// CHECK: tensor.extract %[[Q]]
// CHECK: tensor.extract %[[K]][%[[PG]],
// CHECK: } else {
// CHECK: scf.yield %cst_0 : f32
// Softmax over the keys, then P V over the row's n_kv keys, the page clamped
// to [0, 5] and a key of p = 0 left out of the sum.
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<?x4x12xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[M]] : tensor<?x4x12xf32>, tensor<?x4xf32>)
// CHECK: math.exp
// CHECK: %[[LSUM:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<?x4x12xf32>)
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[ROWS]]#0, %[[ROWS]]#2, %[[LSUM]] : tensor<?xi64>, tensor<?xi64>, tensor<?x4xf32>) outs(%{{.*}} : tensor<?x4x4xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
// CHECK: %[[PJ:.*]] = tensor.extract %[[P]]
// CHECK: tensor.extract %[[BT]]
// CHECK: %[[HI:.*]] = arith.minsi %{{.*}}, %c5 : index
// CHECK: %[[LO:.*]] = arith.maxsi %[[HI]], %c0 : index
// CHECK: tensor.extract %[[V]][%[[LO]],
// CHECK: %[[USED:.*]] = arith.cmpf une, %[[PJ]], %cst : f32
// CHECK: arith.select %[[USED]]
// CHECK: arith.divf
// CHECK: return %[[O]]
// LLVM-LABEL: llvm.func @paged
// LLVM-NOT: loom.
func.func @paged(%q: tensor<?x4x8xf32>, %k: tensor<6x4x2x8xf32>, %v: tensor<6x4x2x4xf32>, %off: tensor<3xi32>, %len: tensor<2xi32>, %bt: tensor<2x3xi32>) -> tensor<?x4x4xf32> {
  %0 = loom.paged_attention %q, %k, %v, %off, %len, %bt {causal, window = 5 : i64, sink = 2 : i64}
      : (tensor<?x4x8xf32>, tensor<6x4x2x8xf32>, tensor<6x4x2x4xf32>, tensor<3xi32>, tensor<2xi32>, tensor<2x3xi32>) -> tensor<?x4x4xf32>
  return %0 : tensor<?x4x4xf32>
}

// -----

// kv_cache_write: one parallel_insert_slice per token into the shared cache,
// of 1 row where 0 <= slot < 24 and of 0 rows (at slot 0) otherwise.
// CHECK-LABEL: func.func @write
// CHECK-SAME: (%[[C:.*]]: tensor<6x4x2x8xbf16>, %[[N:.*]]: tensor<?x2x8xbf16>, %[[SL:.*]]: tensor<?xi32>)
// CHECK: %[[R:.*]] = scf.forall (%[[TOK:.*]]) in (%{{.*}}) shared_outs(%[[OUT:.*]] = %[[C]]) -> (tensor<6x4x2x8xbf16>) {
// CHECK: %[[S32:.*]] = tensor.extract %[[SL]][%[[TOK]]] : tensor<?xi32>
// CHECK: %[[S:.*]] = arith.index_cast %[[S32]] : i32 to index
// CHECK: %[[LT:.*]] = arith.cmpi slt, %[[S]], %c24 : index
// CHECK: %[[GE:.*]] = arith.cmpi sge, %[[S]], %c0 : index
// CHECK: %[[VALID:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK: %[[SAFE:.*]] = arith.select %[[VALID]], %[[S]], %c0 : index
// CHECK: %[[PG:.*]] = arith.divui %[[SAFE]], %c4 : index
// CHECK: %[[OF:.*]] = arith.remui %[[SAFE]], %c4 : index
// CHECK: %[[ROWS:.*]] = arith.select %[[VALID]], %c1, %c0 : index
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[N]][%[[TOK]], 0, 0] [%[[ROWS]], 2, 8] [1, 1, 1]
// CHECK: scf.forall.in_parallel {
// CHECK: tensor.parallel_insert_slice %[[ROW]] into %[[OUT]][%[[PG]], %[[OF]], 0, 0] [1, %[[ROWS]], 2, 8] [1, 1, 1, 1] : tensor<?x2x8xbf16> into tensor<6x4x2x8xbf16>
// CHECK: return %[[R]]
// In place: the cache's buffer is written, no allocation, no copy of it
// (only the token rows are copied).
// BUF-LABEL: func.func @write
// BUF-SAME: (%[[BC:[^:]*]]: memref<6x4x2x8xbf16
// BUF-NOT: memref.alloc
// BUF: scf.forall
// BUF: %[[DST:.*]] = memref.subview %[[BC]]
// BUF: memref.copy %{{.*}}, %[[DST]]
// BUF-NOT: memref.alloc
// BUF: return %[[BC]]
// LLVM-LABEL: llvm.func @write
// LLVM-NOT: loom.
func.func @write(%c: tensor<6x4x2x8xbf16>, %n: tensor<?x2x8xbf16>, %s: tensor<?xi32>) -> tensor<6x4x2x8xbf16> {
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<6x4x2x8xbf16>, tensor<?x2x8xbf16>, tensor<?xi32>) -> tensor<6x4x2x8xbf16>
  return %0 : tensor<6x4x2x8xbf16>
}

// -----

// The same write when the old cache is still used afterwards: value
// semantics need a copy, which bufferization makes (an allocation and a
// copy of the whole cache before the writes).
// BUF-LABEL: func.func @write_keeps_old
// BUF: %[[NEW:.*]] = memref.alloc() {{.*}} : memref<6x4x2x8xbf16>
// BUF: memref.copy %{{.*}}, %[[NEW]]
// BUF: scf.forall
// BUF: memref.subview %[[NEW]]
func.func @write_keeps_old(%c: tensor<6x4x2x8xbf16>, %n: tensor<?x2x8xbf16>, %s: tensor<?xi32>) -> (tensor<6x4x2x8xbf16>, tensor<6x4x2x8xbf16>) {
  %0 = loom.kv_cache_write %c, %n, %s : (tensor<6x4x2x8xbf16>, tensor<?x2x8xbf16>, tensor<?xi32>) -> tensor<6x4x2x8xbf16>
  return %0, %c : tensor<6x4x2x8xbf16>, tensor<6x4x2x8xbf16>
}

// -----

// rope at positions: a rank-3 generic reading positions[t] as an operand
// (so that its size is tied to x's T); the row is clamp(positions[t], 0, 15).
// CHECK-DAG: #[[$TOKEN:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @rope_positions
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x8xbf16>, %[[COS:.*]]: tensor<16x4xf32>, %[[SIN:.*]]: tensor<16x4xf32>, %[[POS:.*]]: tensor<?xi32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$TOKEN]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[POS]] : tensor<?x2x8xbf16>, tensor<?xi32>)
// CHECK-NEXT: ^bb0(%{{.*}}: bf16, %[[P32:.*]]: i32, %{{.*}}: bf16):
// CHECK: %[[P:.*]] = arith.index_cast %[[P32]] : i32 to index
// CHECK: %[[HI:.*]] = arith.minsi %[[P]], %c15 : index
// CHECK: %[[ROW:.*]] = arith.maxsi %[[HI]], %c0 : index
// CHECK: tensor.extract %[[COS]][%[[ROW]], %{{.*}}] : tensor<16x4xf32>
// CHECK: tensor.extract %[[SIN]][%[[ROW]], %{{.*}}] : tensor<16x4xf32>
// LLVM-LABEL: llvm.func @rope_positions
// LLVM-NOT: loom.
func.func @rope_positions(%x: tensor<?x2x8xbf16>, %c: tensor<16x4xf32>, %s: tensor<16x4xf32>, %p: tensor<?xi32>) -> tensor<?x2x8xbf16> {
  %0 = loom.rope %x, %c, %s, %p : (tensor<?x2x8xbf16>, tensor<16x4xf32>, tensor<16x4xf32>, tensor<?xi32>) -> tensor<?x2x8xbf16>
  return %0 : tensor<?x2x8xbf16>
}

// -----

// With a dynamic number of table rows (possibly 0) the tables are read only
// where there is a row: cos 1 and sin 0 (no rotation) otherwise.
// CHECK-LABEL: func.func @rope_positions_dynamic_table
// CHECK: %[[HAVE:.*]] = arith.cmpi ugt, %{{.*}}, %c0 : index
// CHECK: linalg.generic
// CHECK: scf.if %[[HAVE]] -> (f32, f32) {
// CHECK: tensor.extract
// CHECK: tensor.extract
// CHECK: } else {
// CHECK: scf.yield %cst{{.*}}, %cst{{.*}} : f32, f32
func.func @rope_positions_dynamic_table(%x: tensor<?x2x8xf32>, %c: tensor<?x4xf32>, %s: tensor<?x4xf32>, %p: tensor<?xi32>) -> tensor<?x2x8xf32> {
  %0 = loom.rope %x, %c, %s, %p {style = "interleaved"} : (tensor<?x2x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>) -> tensor<?x2x8xf32>
  return %0 : tensor<?x2x8xf32>
}
