// Lowering of the serving masks of attention and block_sparse_attention to
// linalg (issue 16): `sink` and `window` (one value, or one per query head
// read from a constant [Hq] table) join the visibility test as
// causal && (W_h = 0 || i' - j < W_h || j < sink); `sink_logits` is a virtual
// key of score sink_h and value 0: it raises the row max
// (m = max(m, sink_h)) and adds exp(sink_h - m) to the denominator only,
// never to P V.
// RUN: loom-opt %s --convert-loom-to-linalg -split-input-file | FileCheck %s
// RUN: loom-opt %s --loom-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// GQA (Hq = 4, Hkv = 2), per-head windows (heads 1 and 3 full), 2 sinks, sink
// logits and the lse result.
// CHECK-DAG: #[[$V5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$HEAD3:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @head_windows_sink_logits
// CHECK-SAME: (%{{.*}}: tensor<1x4x5x8xf32>, %{{.*}}: tensor<1x2x9x8xf32>, %[[V:.*]]: tensor<1x2x9x8xf32>, %[[SL:.*]]: tensor<4xf32>)
// The per-head windows, one i64 per query head.
// CHECK: %[[TABLE:.*]] = arith.constant dense<[3, 0, 3, 0]> : tensor<4xi64>
// CHECK: %[[T:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[IP:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[IP]] : index
// CHECK: %[[DIST:.*]] = arith.subi %[[IP]], %[[J]] : index
// CHECK: %[[W64:.*]] = tensor.extract %[[TABLE]][%[[H]]] : tensor<4xi64>
// CHECK: %[[W:.*]] = arith.index_cast %[[W64]] : i64 to index
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[FULL:.*]] = arith.cmpi eq, %[[W]], %[[C0]] : index
// CHECK: %[[INWIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]] : index
// CHECK: %[[WIN:.*]] = arith.ori %[[FULL]], %[[INWIN]] : i1
// CHECK: %[[NSINK:.*]] = arith.constant 2 : index
// CHECK: %[[ISSINK:.*]] = arith.cmpi slt, %[[J]], %[[NSINK]] : index
// CHECK: %[[WINSINK:.*]] = arith.ori %[[WIN]], %[[ISSINK]] : i1
// CHECK: %[[VIS:.*]] = arith.andi %[[CAUSAL]], %[[WINSINK]] : i1
// CHECK: arith.select %[[VIS]], %{{.*}}, %{{.*}} : f32
// Row max over the keys, then m = max(m, sink_h) with sink_h read by head.
// CHECK: %[[MK:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[T]] :
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$HEAD3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[MK]], %[[SL]] : tensor<1x4x5xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[MX:.*]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[MX]] : f32
// p = exp(t - m) over the keys only, l = sum_j p.
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], {{.*}} ins(%[[T]], %[[M]] :
// CHECK: math.exp
// CHECK: %[[LK:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], {{.*}} ins(%[[P]] :
// The sink joins the denominator: l += exp(sink_h - m).
// CHECK: %[[L:.*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$HEAD3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[LK]], %[[M]], %[[SL]] : tensor<1x4x5xf32>, tensor<1x4x5xf32>, tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[LA:.*]]: f32, %[[MA:.*]]: f32, %[[SA:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[EMPTY:.*]] = arith.cmpf oeq, %[[MA]], %{{.*}} : f32
// CHECK-NEXT: %[[MS:.*]] = arith.select %[[EMPTY]], %{{.*}}, %[[MA]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[SA]], %[[MS]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[LA]], %[[E]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// ... and not the numerator: P V reads the keys' p, the sink has value 0.
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[V]] : tensor<1x4x5x9xf32>, tensor<1x2x9x8xf32>)
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], {{.*}} ins(%[[O]], %[[L]] :
// lse = m + log(l) with the sink in both.
// CHECK: %[[LSE:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[L]] :
// CHECK: math.log
// CHECK: return %[[R]], %[[LSE]]
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @head_windows_sink_logits
// LLVM-NOT: loom.
// LLVM-NOT: linalg.
func.func @head_windows_sink_logits(%q: tensor<1x4x5x8xf32>, %k: tensor<1x2x9x8xf32>, %v: tensor<1x2x9x8xf32>, %s: tensor<4xf32>) -> (tensor<1x4x5x8xf32>, tensor<1x4x5xf32>) {
  %0:2 = loom.attention %q, %k, %v, %s {causal, sink = 2 : i64, window = array<i64: 3, 0, 3, 0>}
    : (tensor<1x4x5x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<4xf32>) -> (tensor<1x4x5x8xf32>, tensor<1x4x5xf32>)
  return %0#0, %0#1 : tensor<1x4x5x8xf32>, tensor<1x4x5xf32>
}

// -----

// One window for every head and 4 sinks, no sink logits: no per-head table,
// the window is a constant, and nothing is added to the row max or the
// denominator (no generic reads a [Hq] operand).
// CHECK-NOT: affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @uniform_window_sink
// CHECK-NOT: tensor<4xi64>
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[IP:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[IP]] : index
// CHECK: %[[DIST:.*]] = arith.subi %[[IP]], %[[J]] : index
// CHECK: %[[W:.*]] = arith.constant 16 : index
// CHECK: %[[INWIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]] : index
// CHECK: %[[NSINK:.*]] = arith.constant 4 : index
// CHECK: %[[ISSINK:.*]] = arith.cmpi slt, %[[J]], %[[NSINK]] : index
// CHECK: %[[WINSINK:.*]] = arith.ori %[[INWIN]], %[[ISSINK]] : i1
// CHECK: %[[VIS:.*]] = arith.andi %[[CAUSAL]], %[[WINSINK]] : i1
// CHECK: arith.select %[[VIS]]
// CHECK: return
// LLVM-LABEL: llvm.func @uniform_window_sink
// LLVM-NOT: loom.
func.func @uniform_window_sink(%q: tensor<2x4x37x16xbf16>, %k: tensor<2x2x53x16xbf16>, %v: tensor<2x2x53x16xbf16>) -> tensor<2x4x37x16xbf16> {
  %0 = loom.attention %q, %k, %v {causal, sink = 4 : i64, window = 16 : i64}
    : (tensor<2x4x37x16xbf16>, tensor<2x2x53x16xbf16>, tensor<2x2x53x16xbf16>) -> tensor<2x4x37x16xbf16>
  return %0 : tensor<2x4x37x16xbf16>
}

// -----

// A sink without a window has no effect (canonicalization drops it; the
// lowering of an uncanonicalized op ignores it): only the causal test.
// Sink logits without any mask: m = max(m, sink_h) and l += exp(sink_h - m).
// CHECK-DAG: #[[$HEAD3:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @sink_without_window
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %{{.*}} : index
// CHECK-NEXT: arith.constant 0xFF800000 : f32
// CHECK-NEXT: arith.select %[[CAUSAL]]
// CHECK-LABEL: func.func @sink_logits_only
// CHECK-NOT: linalg.index
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$HEAD3]], #{{.*}}]
// CHECK: arith.maximumf
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[$HEAD3]], #{{.*}}]
// CHECK: math.exp
// CHECK: arith.addf
// LLVM-LABEL: llvm.func @sink_without_window
// LLVM-LABEL: llvm.func @sink_logits_only
// LLVM-NOT: loom.
func.func @sink_without_window(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32> {
  %0 = loom.attention %q, %k, %v {causal, sink = 3 : i64}
    : (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}
func.func @sink_logits_only(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %s: tensor<2xf32>) -> tensor<1x2x5x8xf32> {
  %0 = loom.attention %q, %k, %v, %s
    : (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<2xf32>) -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}

// -----

// Block-sparse: the layout bit, then causal, then window-or-sink; the sink
// is exempt from the window only, never from the layout or causal.
// CHECK-DAG: #[[$HEAD3:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @block_sparse_window_sink
// CHECK-SAME: %[[LAYOUT:[^:]*]]: tensor<1x2x2x3xi1>, %[[SL:[^:]*]]: tensor<2xf32>
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[BIT:.*]] = tensor.extract %[[LAYOUT]]
// CHECK: %[[IP:.*]] = arith.addi
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[IP]] : index
// CHECK: %[[BC:.*]] = arith.andi %[[BIT]], %[[CAUSAL]] : i1
// CHECK: %[[DIST:.*]] = arith.subi %[[IP]], %[[J]] : index
// CHECK: %[[W:.*]] = arith.constant 2 : index
// CHECK: %[[INWIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]] : index
// CHECK: %[[NSINK:.*]] = arith.constant 3 : index
// CHECK: %[[ISSINK:.*]] = arith.cmpi slt, %[[J]], %[[NSINK]] : index
// CHECK: %[[WINSINK:.*]] = arith.ori %[[INWIN]], %[[ISSINK]] : i1
// CHECK: %[[VIS:.*]] = arith.andi %[[BC]], %[[WINSINK]] : i1
// CHECK: arith.select %[[VIS]]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$HEAD3]], #{{.*}}], {{.*}} ins(%{{.*}}, %[[SL]] :
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[$HEAD3]], #{{.*}}], {{.*}} ins(%{{.*}}, %{{.*}}, %[[SL]] :
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @block_sparse_window_sink
// LLVM-NOT: loom.
func.func @block_sparse_window_sink(%q: tensor<1x2x5x8xf32>, %k: tensor<1x1x9x8xf32>, %v: tensor<1x1x9x8xf32>,
                                    %l: tensor<1x2x2x3xi1>, %s: tensor<2xf32>) -> tensor<1x2x5x8xf32> {
  %0 = loom.block_sparse_attention %q, %k, %v, %l, %s {block_q = 4 : i64, block_k = 4 : i64, causal, sink = 3 : i64, window = 2 : i64}
    : (tensor<1x2x5x8xf32>, tensor<1x1x9x8xf32>, tensor<1x1x9x8xf32>, tensor<1x2x2x3xi1>, tensor<2xf32>) -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}

// -----

// Block-sparse with per-head windows and dynamic sequence lengths: the table
// is indexed by the query head, i' comes from the run-time sizes.
// CHECK-LABEL: func.func @block_sparse_head_windows_dynamic
// CHECK: %[[TABLE:.*]] = arith.constant dense<[0, 5]> : tensor<2xi64>
// CHECK: tensor.dim
// CHECK: %[[H:.*]] = linalg.index 1 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[IP:.*]] : index
// CHECK: %[[DIST:.*]] = arith.subi %[[IP]], %[[J]] : index
// CHECK: %[[W64:.*]] = tensor.extract %[[TABLE]][%[[H]]] : tensor<2xi64>
// CHECK: %[[W:.*]] = arith.index_cast %[[W64]] : i64 to index
// CHECK: %[[FULL:.*]] = arith.cmpi eq, %[[W]], %{{.*}} : index
// CHECK: %[[INWIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]] : index
// CHECK: %[[WIN:.*]] = arith.ori %[[FULL]], %[[INWIN]] : i1
// CHECK-NOT: arith.cmpi slt, %[[J]]
// CHECK: arith.andi %{{.*}}, %[[WIN]] : i1
// CHECK-NOT: loom.
// LLVM-LABEL: llvm.func @block_sparse_head_windows_dynamic
// LLVM-NOT: loom.
func.func @block_sparse_head_windows_dynamic(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>,
                                             %l: tensor<1x1x?x?xi1>) -> tensor<1x2x?x8xf32> {
  %0 = loom.block_sparse_attention %q, %k, %v, %l {block_q = 4 : i64, block_k = 4 : i64, causal, window = array<i64: 0, 5>}
    : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x1x?x?xi1>) -> tensor<1x2x?x8xf32>
  return %0 : tensor<1x2x?x8xf32>
}
