// --loom-gpu-pipeline with to-llvm=false: the generic path up to kernel
// outlining, without a CUDA toolkit. Host functions only manage device
// buffers (gpu.alloc/memcpy/dealloc) and launch kernels; every kernel is in
// one gpu.module; loops over the elements became threads.
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=to-llvm=false' | FileCheck %s
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=to-llvm=false' | FileCheck %s --check-prefix=KERNELS
// RUN: loom-opt %s --loom-readonly-entry-args '--loom-gpu-pipeline=to-llvm=false block-size=64' | FileCheck %s --check-prefix=B64
// Bad options are the pipeline's error, whatever the toolkit.
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: unknown chip 'sm_70' \(expected sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or sm_80\)" -- loom-opt %s '--loom-gpu-pipeline=chip=sm_70'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: unknown chip 'gfx90a'" -- loom-opt %s '--loom-gpu-pipeline=chip=gfx90a to-llvm=false'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: block-size must be in \[1, 1024\] \(got 2048\)" -- loom-opt %s '--loom-gpu-pipeline=block-size=2048 to-llvm=false'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: unknown format 'fatbin' \(expected bin or isa\)" -- loom-opt %s '--loom-gpu-pipeline=format=fatbin'
// RUN: %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: the CUDA toolkit at '/nonexistent' \(from --cuda-path\) has no /nonexistent/bin/ptxas; point --cuda-path \(or LOOM_CUDA_PATH\) at a CUDA toolkit" -- loom-opt %s '--loom-gpu-pipeline=cuda-path=/nonexistent'
// RUN: env LOOM_CUDA_PATH=/nonexistent %python %S/../Tools/expect_exit.py 1 --stderr "error: loom-gpu-pipeline: the CUDA toolkit at '/nonexistent' \(from LOOM_CUDA_PATH\) has no" -- loom-opt %s --loom-gpu-pipeline

// CHECK: module attributes {gpu.container_module, loom.target = #loom.target<chip = "sm_90a">}
// CHECK: memref.global "private" constant @[[$CST:[a-z_0-9]*]] : memref<4xf32>

// rms_norm (a row kernel of loom-gpu-kernels), then silu and a residual add
// (one generic kernel: their linalg ops fuse): launched from the host; the
// result is a device allocation returned to the caller, the norm's result is
// freed after use.
// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:.*]]: memref<4x8xf32>, %[[G:.*]]: memref<8xf32>) -> memref<4x8xf32>
// CHECK-NOT: memref.load
// CHECK-NOT: memref.store
// CHECK-NOT: memref.alloc
// CHECK: %[[N:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: %[[NC:.*]] = memref.cast %[[N]] : memref<4x8xf32> to memref<?x?xf32>
// CHECK: gpu.launch_func @[[$MOD:[a-z_0-9]*]]::@loom_rms_norm_f32_t32_r4_v1 blocks in
// CHECK-SAME: args(%{{.*}} : memref<?x?xf32>, %{{.*}} : memref<?xf32>, %[[NC]] : memref<?x?xf32>, %{{.*}} : f32)
// CHECK: %[[OUT:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: gpu.launch_func @[[$MOD]]::@{{.*}} args(%[[N]] : memref<4x8xf32>, %[[X]] : memref<4x8xf32>, %[[OUT]] : memref<4x8xf32>)
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.dealloc %[[N]]
// CHECK: return %[[OUT]]

// Returning an argument copies it into a fresh device buffer.
// CHECK-LABEL: func.func @ret_arg(
// CHECK-SAME: %[[A:.*]]: memref<?x4xf32>
// CHECK: %[[D:.*]] = memref.dim %[[A]]
// CHECK: %[[R:.*]] = gpu.alloc (%[[D]]) : memref<?x4xf32>
// CHECK: gpu.memcpy %[[R]], %[[A]]
// CHECK: return %[[R]]

// Returning a constant: a device copy of the host constant, then the fresh
// result.
// CHECK-LABEL: func.func @ret_const(
// CHECK: %[[HOST:.*]] = memref.get_global @[[$CST]]
// CHECK: %[[DEV:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[DEV]], %[[HOST]]
// CHECK: %[[RES:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[RES]], %[[DEV]]
// CHECK: gpu.dealloc %[[DEV]]
// CHECK: return %[[RES]]

// A dynamic size: the grid is computed on the host from the trip count,
// clamped to at least one block.
// CHECK-LABEL: func.func @scale(
// CHECK: %[[N:.*]] = memref.dim
// CHECK: %[[T:.*]] = arith.maxsi %[[N]],
// CHECK: %[[B:.*]] = arith.ceildivui %[[T]], %[[C256:.*]] : index
// CHECK: %[[GRID0:.*]] = arith.maxui %[[B]],
// CHECK: %[[GRID:.*]] = arith.minui %[[GRID0]],
// CHECK: gpu.launch_func @[[$MOD]]::@{{.*}} blocks in (%[[GRID]], %{{.*}}, %{{.*}}) threads in (%[[C256]], %{{.*}}, %{{.*}}) args({{.*}}, %[[T]] : index)

// All kernels in one module: the row kernel, then the generic ones, one
// thread per element.
// KERNELS: gpu.module @loom_kernels {
// KERNELS: gpu.func @loom_rms_norm_f32_t32_r4_v1({{.*}} kernel attributes {known_block_size = array<i32: 32, 4, 1>}
// KERNELS-COUNT-2: gpu.func @{{.*}} kernel attributes {known_block_size = array<i32: 256, 1, 1>
// KERNELS-NOT: gpu.module
// B64-COUNT-2: known_block_size = array<i32: 64, 1, 1>
func.func @block(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %n = loom.rms_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %a = loom.silu %n : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = arith.addf %a, %x : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}
func.func @ret_arg(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %a : tensor<?x4xf32>
}
func.func @ret_const() -> tensor<4xf32> {
  %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %c : tensor<4xf32>
}
func.func @scale(%a: tensor<?xbf16>) -> tensor<?xbf16> {
  %e = math.exp %a : tensor<?xbf16>
  return %e : tensor<?xbf16>
}
