// RUN: loom-opt --loom-entry-index-checks %s | FileCheck %s

// The page table, lengths and offsets of a paged attention, in the order
// of docs/abi.md ("Index checks"): q_offsets[0], offsets not decreasing,
// the last offset within q's rows, kv_lens within the table, then the pages
// each sequence reads.
// CHECK-DAG: llvm.func @snprintf(!llvm.ptr, i64, !llvm.ptr, ...) -> i32
// CHECK-DAG: llvm.mlir.global internal thread_local @__loom_index_message
// CHECK-DAG: @__loom_index_check_paged_0("paged: loom.paged_attention (at entry-index-checks.mlir:{{[0-9]+}}:8): q_offsets[0] = %lld must be 0\00")
// CHECK-DAG: @__loom_index_check_paged_1("paged: loom.paged_attention ({{.*}}): q_offsets[%lld] = %lld is less than q_offsets[%lld] = %lld (offsets must not decrease)\00")
// CHECK-DAG: @__loom_index_check_paged_2("paged: {{.*}}: q_offsets[%lld] = %lld passes the %lld query rows of q\00")
// CHECK-DAG: @__loom_index_check_paged_3("paged: {{.*}}: kv_lens[%lld] = %lld is outside [0, %lld] (block_table holds %lld pages of %lld tokens per sequence)\00")
// CHECK-DAG: @__loom_index_check_paged_4("paged: {{.*}}: block_table[%lld, %lld] = %lld is outside [0, %lld) (the cache's pages)\00")
// CHECK-LABEL: func.func private @__loom_index_check_paged(
// CHECK-SAME: %[[Q:.*]]: memref<?x4x16xf32>, %{{.*}}: memref<?x8x2x16xf32>, %{{.*}}: memref<?x8x2x16xf32>, %[[OFF:.*]]: memref<3xi32>, %[[LEN:.*]]: memref<2xi32>, %[[BT:.*]]: memref<2x5xi32>) -> !llvm.ptr
// CHECK-SAME: llvm.emit_c_interface
// CHECK: scf.for
// CHECK: memref.load %[[OFF]]
// CHECK: cf.cond_br %{{.*}}, ^[[FAIL0:.*]], ^
// CHECK: scf.for
// CHECK: memref.load %[[OFF]]
// CHECK: memref.load %[[OFF]]
// CHECK: cf.cond_br
// T is q's dynamic row count: the size of argument 0.
// CHECK: memref.dim %[[Q]]
// CHECK: scf.for
// CHECK: cf.cond_br
// CHECK: scf.for
// CHECK: memref.load %[[LEN]]
// CHECK: cf.cond_br
// P is k's dynamic page count; a row reads ceil(kv_lens[s] / 8) pages.
// CHECK: memref.dim
// CHECK: scf.for
// CHECK: memref.load %[[LEN]]
// CHECK: arith.divsi
// CHECK: scf.for
// CHECK: memref.load %[[BT]]
// CHECK: cf.cond_br
// CHECK: llvm.mlir.zero
// CHECK: ^[[FAIL0]]:
// CHECK: llvm.call @snprintf({{.*}}) vararg
// CHECK: return
func.func @paged(%q: tensor<?x4x16xf32>, %k: tensor<?x8x2x16xf32>, %v: tensor<?x8x2x16xf32>,
                 %off: tensor<3xi32>, %len: tensor<2xi32>, %bt: tensor<2x5xi32>) -> tensor<?x4x16xf32> {
  %o = loom.paged_attention %q, %k, %v, %off, %len, %bt {causal}
      : (tensor<?x4x16xf32>, tensor<?x8x2x16xf32>, tensor<?x8x2x16xf32>, tensor<3xi32>, tensor<2xi32>, tensor<2x5xi32>) -> tensor<?x4x16xf32>
  return %o : tensor<?x4x16xf32>
}

// Slots and positions; a cast in between is seen through.
// CHECK-DAG: @__loom_index_check_write_0("write: loom.kv_cache_write ({{.*}}): slots[%lld] = %lld is outside the cache's slots [0, %lld) (%lld pages of %lld tokens; a negative slot is skipped)\00")
// CHECK-DAG: @__loom_index_check_write_1("write: loom.rope ({{.*}}): positions[%lld] = %lld is outside [0, %lld) (the rows of the cos and sin tables)\00")
// CHECK-LABEL: func.func private @__loom_index_check_write(
// CHECK: arith.constant 96 : i64
// CHECK: memref.load %arg2
// CHECK: arith.cmpi sge
// CHECK: memref.dim %arg4
// CHECK: memref.load %arg6
func.func @write(%cache: tensor<12x8x2x16xf32>, %new: tensor<?x2x16xf32>, %slots: tensor<?xi32>,
                 %x: tensor<?x2x16xf32>, %cos: tensor<?x8xf32>, %sin: tensor<?x8xf32>, %pos: tensor<?xi32>)
    -> (tensor<12x8x2x16xf32>, tensor<?x2x16xf32>) {
  %c = loom.kv_cache_write %cache, %new, %slots : (tensor<12x8x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>) -> tensor<12x8x2x16xf32>
  %p = tensor.cast %pos : tensor<?xi32> to tensor<5xi32>
  %xs = tensor.cast %x : tensor<?x2x16xf32> to tensor<5x2x16xf32>
  %y = loom.rope %xs, %cos, %sin, %p : (tensor<5x2x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<5xi32>) -> tensor<5x2x16xf32>
  %yd = tensor.cast %y : tensor<5x2x16xf32> to tensor<?x2x16xf32>
  return %c, %yd : tensor<12x8x2x16xf32>, tensor<?x2x16xf32>
}

// Positions that the body computes are not arguments: not checked at entry
// (the op still never reads out of bounds), and no function.
// CHECK-NOT: @__loom_index_check_computed
func.func @computed(%x: tensor<?x2x16xf32>, %cos: tensor<64x8xf32>, %sin: tensor<64x8xf32>, %pos: tensor<?xi32>) -> tensor<?x2x16xf32> {
  %pos2 = arith.addi %pos, %pos : tensor<?xi32>
  %y = loom.rope %x, %cos, %sin, %pos2 : (tensor<?x2x16xf32>, tensor<64x8xf32>, tensor<64x8xf32>, tensor<?xi32>) -> tensor<?x2x16xf32>
  return %y : tensor<?x2x16xf32>
}
