// loom-gpu-host-memory: host functions of a GPU module keep their buffers in
// device memory. Allocations, frees and copies become gpu ops (runtime calls
// later); a constant used on the host gets a device copy made at entry and
// freed at every return; afterwards no host op may load or store.
// RUN: loom-opt %s -split-input-file --loom-gpu-host-memory -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @buffers(
// CHECK-SAME: %[[ARG:.*]]: memref<?x8xf32>, %[[N:.*]]: index
// CHECK: %[[A:.*]] = gpu.alloc (%[[N]]) : memref<?x8xf32>
// CHECK-NEXT: gpu.memcpy %[[A]], %[[ARG]] : memref<?x8xf32>, memref<?x8xf32>
// CHECK-NEXT: %[[T:.*]] = gpu.alloc () : memref<16xi8>
// CHECK-NEXT: gpu.launch_func @kernels::@k {{.*}} args(%[[A]] : memref<?x8xf32>, %[[T]] : memref<16xi8>)
// CHECK-NEXT: gpu.dealloc %[[T]] : memref<16xi8>
// CHECK-NEXT: return %[[A]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<?x8xf32>, %t: memref<16xi8>) kernel {
      gpu.return
    }
  }
  func.func @buffers(%arg: memref<?x8xf32>, %n: index) -> memref<?x8xf32> {
    %c1 = arith.constant 1 : index
    %a = memref.alloc(%n) {alignment = 64 : i64} : memref<?x8xf32>
    memref.copy %arg, %a : memref<?x8xf32> to memref<?x8xf32>
    %t = memref.alloc() : memref<16xi8>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?x8xf32>, %t : memref<16xi8>)
    memref.dealloc %t : memref<16xi8>
    return %a : memref<?x8xf32>
  }
}

// -----

// A constant used by a host copy and by a kernel: one device copy of it,
// made at entry and freed before each return; an alloca in the entry block
// is a device buffer freed at each return too.
// CHECK-LABEL: func.func @constants(
// CHECK-SAME: %[[C:.*]]: i1
// CHECK: %[[HOST:.*]] = memref.get_global @table : memref<4xf32>
// CHECK-NEXT: %[[DEV:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy %[[DEV]], %[[HOST]] : memref<4xf32>, memref<4xf32>
// CHECK: %[[SCRATCH:.*]] = gpu.alloc () : memref<2xf32>
// CHECK: %[[R:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy %[[R]], %[[DEV]] :
// CHECK: cf.cond_br %[[C]], ^[[B1:.*]], ^[[B2:.*]]
// CHECK: ^[[B1]]:
// CHECK-NEXT: gpu.launch_func @kernels::@k {{.*}} args(%[[DEV]] : memref<4xf32>, %[[SCRATCH]] : memref<2xf32>)
// CHECK-DAG: gpu.dealloc %[[DEV]] :
// CHECK-DAG: gpu.dealloc %[[SCRATCH]] :
// CHECK: return %[[R]]
// CHECK: ^[[B2]]:
// CHECK-DAG: gpu.dealloc %[[DEV]] :
// CHECK-DAG: gpu.dealloc %[[SCRATCH]] :
// CHECK: return %[[R]]
module attributes {gpu.container_module} {
  memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>, %s: memref<2xf32>) kernel {
      gpu.return
    }
  }
  func.func @constants(%c: i1) -> memref<4xf32> {
    %c1 = arith.constant 1 : index
    %scratch = memref.alloca() : memref<2xf32>
    %g = memref.get_global @table : memref<4xf32>
    %r = memref.alloc() : memref<4xf32>
    memref.copy %g, %r : memref<4xf32> to memref<4xf32>
    cf.cond_br %c, ^bb1, ^bb2
  ^bb1:
    %g2 = memref.get_global @table : memref<4xf32>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%g2 : memref<4xf32>, %scratch : memref<2xf32>)
    return %r : memref<4xf32>
  ^bb2:
    return %r : memref<4xf32>
  }
}

// -----

// Functions without buffers are left alone; declarations too.
// CHECK-LABEL: func.func @scalars(
// CHECK-NEXT: arith.addi
// CHECK-NEXT: return
// CHECK: func.func private @declared(memref<4xf32>)
func.func @scalars(%a: index) -> index {
  %b = arith.addi %a, %a : index
  return %b : index
}
func.func private @declared(memref<4xf32>)

// -----

// A load left on the host would dereference a device pointer: an error.
func.func @host_load(%a: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{loom-gpu-host-memory: 'memref.load' reads or writes a buffer in host code, but on the GPU path buffers are in device memory}}
  %v = memref.load %a[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// gpu.memcpy and gpu.alloc take identity layouts only.
func.func @strided_copy(%a: memref<4xf32, strided<[2]>>, %b: memref<4xf32>) {
  // expected-error @below {{loom-gpu-host-memory: the source of a copy of type 'memref<4xf32, strided<[2]>>' cannot live in device memory (only identity-layout memrefs in the default memory space can)}}
  memref.copy %a, %b : memref<4xf32, strided<[2]>> to memref<4xf32>
  return
}

// -----

// An alloca outside the entry block has no single place to be freed.
func.func @nested_alloca(%c: i1) {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  // expected-error @below {{a memref.alloca outside the entry block of a host function is not supported}}
  %s = memref.alloca() : memref<2xf32>
  return
^bb2:
  return
}

// -----

// The body of a gpu.launch (not outlined yet) is device code: left alone.
// CHECK-LABEL: func.func @inline_launch(
// CHECK: gpu.launch
// CHECK-NEXT: %[[T:.*]] = memref.alloca() : memref<2xf32>
// CHECK-NEXT: memref.load %[[T]]
func.func @inline_launch(%a: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %t = memref.alloca() : memref<2xf32>
    %v = memref.load %t[%c0] : memref<2xf32>
    memref.store %v, %a[%c0] : memref<2xf32>
    gpu.terminator
  }
  return
}
