// loom-gpu-map-loops puts every memory access of host code into a gpu.launch:
// outermost scf.parallel loops become launches with one thread per iteration
// (dimensions linearized, the last fastest, grid-stride loop, 64-bit index
// math, grid clamped to [1, 2^31 - 1]); other accesses run as a whole in a
// 1x1 launch; memory management stays on the host.
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-gpu-map-loops,cse))' -verify-diagnostics | FileCheck %s
// RUN: loom-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(loom-gpu-map-loops{block-size=128},cse))' -verify-diagnostics | FileCheck %s --check-prefix=B128
// report-serial: a remark at each op that runs in a 1x1 kernel (and only there).
// RUN: loom-opt %S/Inputs/serial.mlir --pass-pipeline='builtin.module(func.func(loom-gpu-map-loops{report-serial}))' -verify-diagnostics > /dev/null
// RUN: sed -e 's/expected-remark/(only with report-serial)/' %S/Inputs/serial.mlir | loom-opt --pass-pipeline='builtin.module(func.func(loom-gpu-map-loops))' 2>&1 >/dev/null | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: remark

// A 2-D parallel loop with dynamic bounds and a sequential reduction loop
// inside (a matmul): one launch, the reduction stays a loop per thread.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[A:.*]]: memref<?x?xf32>, %[[B:.*]]: memref<?x?xf32>, %[[C:.*]]: memref<?x?xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %[[C]], %[[C0]]
// CHECK-DAG: %[[N:.*]] = memref.dim %[[C]], %[[C1]]
// Trip counts clamped at 0, their product, the grid clamped to [1, 2^31 - 1].
// CHECK: %[[CM:.*]] = arith.maxsi %[[M]], %[[C0]] : index
// CHECK: %[[CN:.*]] = arith.maxsi %[[N]], %[[C0]] : index
// CHECK: %[[TOTAL:.*]] = arith.muli %[[CM]], %[[CN]] : index
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[TOTAL]], %[[C256]] : index
// CHECK: %[[AT_LEAST_1:.*]] = arith.maxui %[[BLOCKS]], %[[C1]] : index
// CHECK: %[[MAXGRID:.*]] = arith.constant 2147483647 : index
// CHECK: %[[GRID:.*]] = arith.minui %[[AT_LEAST_1]], %[[MAXGRID]] : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%[[GX:.*]] = %[[GRID]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK: %[[B0:.*]] = arith.muli %[[BX]], %[[C256]] : index
// CHECK: %[[FIRST:.*]] = arith.addi %[[B0]], %[[TX]] : index
// CHECK: %[[STRIDE:.*]] = arith.muli %[[GX]], %[[C256]] : index
// CHECK: scf.for %[[L:.*]] = %[[FIRST]] to %[[TOTAL]] step %[[STRIDE]] {
// CHECK: %[[J:.*]] = arith.remui %[[L]], %[[CN]] : index
// CHECK: %[[I:.*]] = arith.divui %[[L]], %[[CN]] : index
// CHECK: scf.for %[[K:.*]] =
// CHECK: memref.load %[[A]][%[[I]], %[[K]]]
// CHECK: memref.load %[[B]][%[[K]], %[[J]]]
// CHECK: memref.store %{{.*}}, %[[C]][%[[I]], %[[J]]]
// CHECK: }
// CHECK: }
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
// B128-LABEL: func.func @matmul(
// B128: %[[C128:.*]] = arith.constant 128 : index
// B128: arith.ceildivui %{{.*}}, %[[C128]]
// B128: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %[[C128]],
func.func @matmul(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = memref.dim %c, %c0 : memref<?x?xf32>
  %n = memref.dim %c, %c1 : memref<?x?xf32>
  %k = memref.dim %a, %c1 : memref<?x?xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
    scf.for %kk = %c0 to %k step %c1 {
      %x = memref.load %a[%i, %kk] : memref<?x?xf32>
      %y = memref.load %b[%kk, %j] : memref<?x?xf32>
      %z = memref.load %c[%i, %j] : memref<?x?xf32>
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %z, %p : f32
      memref.store %s, %c[%i, %j] : memref<?x?xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Lower bounds and steps: iv = lb + position * step. A trip count of 0 (an
// empty static range) still launches one block, whose threads do nothing.
// CHECK-LABEL: func.func @offsets_and_empty(
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]],
// CHECK: scf.for %[[L:.*]] = %{{.*}} to %[[C3]] step
// CHECK: %[[S:.*]] = arith.muli %[[L]], %[[C3]] : index
// CHECK: %[[IV:.*]] = arith.addi %[[S]], %[[C2]] : index
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[IV]]]
// Zero iterations: total 0, grid max(0, 1) = 1, the loop runs 0 times.
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]],
// CHECK: scf.for %[[L2:.*]] = %{{.*}} to %[[C0]] step
// CHECK: %[[S2:.*]] = arith.muli %[[L2]], %[[C3]] : index
// CHECK: arith.addi %[[S2]], %[[C5]] : index
func.func @offsets_and_empty(%out: memref<16xf32>) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c11 = arith.constant 11 : index
  %f = arith.constant 1.0 : f32
  // 2, 5, 8: three iterations.
  scf.parallel (%i) = (%c2) to (%c11) step (%c3) {
    memref.store %f, %out[%i] : memref<16xf32>
    scf.reduce
  }
  // Empty: the upper bound is below the lower bound.
  scf.parallel (%i) = (%c5) to (%c2) step (%c3) {
    memref.store %f, %out[%i] : memref<16xf32>
    scf.reduce
  }
  return
}

// -----

// A dynamic range that may be empty: the trip count is clamped at 0.
// CHECK-LABEL: func.func @dynamic_empty(
// CHECK-SAME: %{{.*}}: memref<?xf32>, %[[LO:.*]]: index, %[[HI:.*]]: index
// CHECK: %[[D:.*]] = arith.subi %[[HI]], %[[LO]] : index
// CHECK: %[[T:.*]] = arith.maxsi %[[D]], %{{.*}} : index
// CHECK: arith.ceildivui %[[T]],
// CHECK: gpu.launch
// CHECK: scf.for %[[L:.*]] = %{{.*}} to %[[T]] step
// CHECK: arith.addi %[[L]], %[[LO]] : index
func.func @dynamic_empty(%out: memref<?xf32>, %lo: index, %hi: index) {
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%lo) to (%hi) step (%c1) {
    memref.store %f, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

// -----

// Memory management, views, identity-layout copies and arithmetic stay on
// the host; a lone store runs in a 1x1 launch; a host loop whose body only
// runs parallel loops stays on the host and launches a kernel per iteration.
// CHECK-LABEL: func.func @host_and_serial(
// CHECK: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: %[[ALLOC:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK-NEXT: memref.copy %{{.*}}, %[[ALLOC]]
// CHECK-NEXT: memref.collapse_shape %[[ALLOC]]
// CHECK-NEXT: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
// CHECK-NEXT: memref.store
// CHECK-NEXT: gpu.terminator
// CHECK: scf.for
// CHECK-NOT: memref.store
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK: }
// CHECK: memref.dealloc %[[ALLOC]]
func.func @host_and_serial(%in: memref<4x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %f = arith.constant 2.0 : f32
  %a = memref.alloc() : memref<4x8xf32>
  memref.copy %in, %a : memref<4x8xf32> to memref<4x8xf32>
  %flat = memref.collapse_shape %a [[0, 1]] : memref<4x8xf32> into memref<32xf32>
  memref.store %f, %flat[%c0] : memref<32xf32>
  scf.for %t = %c0 to %n step %c1 {
    scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
      memref.store %f, %a[%i, %c0] : memref<4x8xf32>
      scf.reduce
    }
  }
  memref.dealloc %a : memref<4x8xf32>
  return
}

// -----

// A host loop that also accesses memory directly runs, whole, in a 1x1
// launch (its nested parallel loop becomes sequential there).
// CHECK-LABEL: func.func @serial_loop(
// CHECK: gpu.launch
// CHECK-NEXT: scf.for
// CHECK: memref.load
// CHECK: scf.parallel
// CHECK: gpu.terminator
func.func @serial_loop(%buf: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %t = %c0 to %n step %c1 {
    %v = memref.load %buf[%c0] : memref<8xf32>
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %v, %buf[%i] : memref<8xf32>
      scf.reduce
    }
  }
  return
}

// -----

// A constant used by a kernel is read from the GPU module: its get_global is
// cloned into the launch (gpu-kernel-outlining copies the global there).
// CHECK-LABEL: func.func @constant(
// CHECK: gpu.launch
// CHECK-NEXT: %[[G:.*]] = memref.get_global @table : memref<4xf32>
// CHECK: memref.load %[[G]]
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @constant(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %g = memref.get_global @table : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %g[%i] : memref<4xf32>
    memref.store %v, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// Launches already there are left alone.
// CHECK-LABEL: func.func @existing_launch(
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @existing_launch(%buf: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %f, %buf[%c0] : memref<8xf32>
    gpu.terminator
  }
  return
}

// -----

// A reduction scf.parallel is not mapped silently wrong: it is an error.
func.func @reduction(%buf: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{loom-gpu-map-loops: scf.parallel with reductions (init values) cannot be mapped onto threads}}
  %s = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %buf[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%l: f32, %r: f32):
      %t = arith.addf %l, %r : f32
      scf.reduce.return %t : f32
    }
  }
  return %s : f32
}

// -----

// A load whose value the host needs cannot move into a kernel.
func.func @host_needs_value(%buf: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'memref.load' reads or writes a buffer, so it must run on the GPU, but its results are used by host code}}
  %v = memref.load %buf[%c0] : memref<8xf32>
  return %v : f32
}

// -----

// A loop that accesses memory and allocates cannot be a kernel either.
func.func @allocating_loop(%buf: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{'scf.for' reads or writes a buffer, so it must run on the GPU, but it also allocates or frees memory}}
  scf.for %t = %c0 to %n step %c1 {
    // expected-note @below {{the allocation is here}}
    %tmp = memref.alloc() : memref<8xf32>
    memref.copy %buf, %tmp : memref<8xf32> to memref<8xf32>
    %v = memref.load %tmp[%c0] : memref<8xf32>
    memref.store %v, %buf[%c1] : memref<8xf32>
    memref.dealloc %tmp : memref<8xf32>
  }
  return
}
