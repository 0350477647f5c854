//===- Passes.td - the GPU path's generic passes -------------------------*- tablegen -*-===//
//
// The generic passes of the GPU path (--loom-gpu-pipeline): after
// bufferization, what no kernel of loom-gpu-kernels covers
// (include/loom/Conversion/LoomToGPU/Passes.td) is mapped onto blocks and
// threads, kernels are merged into one gpu.module and host buffers move to
// device memory.

#ifndef LOOM_GPU_TRANSFORMS_PASSES_TD
#define LOOM_GPU_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomGPUMapLoopsPass : Pass<"loom-gpu-map-loops", "::mlir::func::FuncOp"> {
  let summary = "Map the host's parallel loops onto GPU blocks and threads";
  let description = [{
    Runs on buffers, after `convert-linalg-to-parallel-loops`, on host
    functions (`func.func`). Afterwards no host code dereferences a buffer
    (the buffers of a GPU module live in device memory), so that every load
    and store runs in a `gpu.launch`:

    - every outermost `scf.parallel` (not inside a `gpu.launch`) becomes a
      `gpu.launch` with one thread per iteration: its dimensions are
      linearized (the last one varies fastest, so that neighbouring threads
      touch neighbouring elements), blocks have `block-size` threads and the
      grid has `ceil(total / block-size)` blocks, at least 1 and at most
      2^31 - 1, each thread running a grid-stride loop over the linear index
      (so a trip count of 0 launches one block that does nothing, and any
      trip count is covered). Index arithmetic is 64-bit. Loops nested in
      the body (the reduction `scf.for` of a matmul) stay sequential per
      thread.
    - any other op that reads or writes memory (`memref.load`/`store`, a
      leftover linalg op, an `scf.for`/`scf.if`/`scf.while` containing such
      an op outside of a nested `scf.parallel`) is wrapped as a whole in a
      1x1 `gpu.launch` (correct, sequential; `report-serial` emits a remark
      at each). Host control flow whose only memory accesses are in
      nested `scf.parallel` loops stays on the host and launches kernels.
    - `memref.alloc`/`dealloc`/`dim`/`get_global`, views, identity-layout
      `memref.copy` (later `gpu.memcpy`), arithmetic and calls stay on the
      host. A `memref.get_global` used inside a new launch is cloned into it,
      so that the kernel reads the constant from the GPU module.

    An `scf.parallel` with reductions (`init` values), or an op with results
    that would have to run on the device (its results are needed by the
    host), or one that allocates inside such a region, is reported as an
    error at its location: nothing is mapped silently wrong.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
      %v = memref.load %a[%i, %j] : memref<?x?xf32>
      memref.store %v, %b[%i, %j] : memref<?x?xf32>
    }
    // becomes (total = m * n, grid = clamp(ceil(total / 256), 1, 2^31 - 1))
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %grid, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
      // first = bx * 256 + tx, stride = gx * 256
      scf.for %l = %first to %total step %stride {
        // %j = %l mod n, %i = %l div n
        ...
      }
      gpu.terminator
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "Threads per block of the launches made from scf.parallel">,
    Option<"reportSerial", "report-serial", "bool", "false",
           "Emit a remark at every op that runs in a 1x1 launch">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect"
  ];
}

def LoomGPUMergeModulesPass
    : Pass<"loom-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "Gather every kernel of a module into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` creates one `gpu.module` per kernel, and
    `gpu-module-to-binary` compiles each `gpu.module` separately (one
    LLVM NVPTX back-end and one `ptxas` run each), which dominates compile
    time for a block with dozens of small kernels. This pass moves every
    `gpu.func` and the symbols they use (`memref.global` constants, device
    function declarations) of every `gpu.module` into the first one (named
    `@loom_kernels` when `loom-gpu-kernels` made it), renaming what clashes,
    and updates every `gpu.launch_func`. Identical globals of the same name
    are shared. Runs after `gpu-kernel-outlining`, before `nvvm-attach-target`.

    ```mlir
    gpu.module @f_kernel { gpu.func @f_kernel(...) kernel { ... } }
    gpu.module @f_kernel_0 { gpu.func @f_kernel_0(...) kernel { ... } }
    gpu.launch_func @f_kernel_0::@f_kernel_0 ...
    // becomes
    gpu.module @f_kernel {
      gpu.func @f_kernel(...) kernel { ... }
      gpu.func @f_kernel_0(...) kernel { ... }
    }
    gpu.launch_func @f_kernel::@f_kernel_0 ...
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def LoomGPUHostMemoryPass : Pass<"loom-gpu-host-memory", "::mlir::ModuleOp"> {
  let summary = "Put the host functions' buffers in device memory";
  let description = [{
    Runs after `loom-gpu-map-loops` and `gpu-kernel-outlining`, on the host
    functions (`func.func`) of a GPU module, whose entry arguments are
    device buffers (the runtime passes device pointers):

    - `memref.alloc` becomes `gpu.alloc` (results are then device memory
      that the caller frees through the runtime, docs/abi.md);
    - `memref.alloca` in the entry block becomes `gpu.alloc` with a
      `gpu.dealloc` before every return;
    - `memref.dealloc` becomes `gpu.dealloc`;
    - `memref.copy` (identity layouts: strided copies were already turned
      into loops) becomes `gpu.memcpy`;
    - a `memref.get_global` left on the host (its uses are kernels and
      copies) becomes a device buffer filled from the host constant by a
      `gpu.memcpy` at function entry, freed before every return.

    Bodies of `gpu.launch` ops (device code not outlined yet) are left
    alone. Afterwards a host function must not read or write memory through
    a memref; the pass checks that and reports any op that still does (with
    its location) as an error, since such code would dereference a device
    pointer on the host.

    ```mlir
    %a = memref.alloc(%n) : memref<?xf32>
    memref.copy %arg0, %a : memref<?xf32> to memref<?xf32>
    memref.dealloc %a : memref<?xf32>
    // becomes
    %a = gpu.alloc (%n) : memref<?xf32>
    gpu.memcpy %a, %arg0 : memref<?xf32>, memref<?xf32>
    gpu.dealloc %a : memref<?xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect"
  ];
}

def LoomDynamicExpandShapePass : Pass<"loom-dynamic-expand-shape"> {
  let summary = "Rewrite memref.expand_shape with several dynamic sizes in a group as memref.reinterpret_cast";
  let description = [{
    MLIR 22's `expand-strided-metadata` crashes (a null attribute read as an
    integer) on a `memref.expand_shape` that splits one dimension into two or
    more dynamic ones, e.g. `memref<?xf32>` into `memref<?x?xf32>`, which
    bufferization produces from a `tensor.expand_shape` of a dynamic tensor
    (the kernel rewrites flatten and restore batch dimensions that way). Both
    pipelines run this pass first: such an op on an identity-layout buffer
    (contiguous, offset 0) becomes a `memref.reinterpret_cast` with the
    output sizes and the row-major strides computed from them. On a buffer
    with another layout it is reported as an error instead of crashing.

    ```mlir
    %e = memref.expand_shape %m [[0, 1]] output_shape [%a, %b]
        : memref<?xf32> into memref<?x?xf32>
    // becomes
    %e = memref.reinterpret_cast %m to offset: [0], sizes: [%a, %b],
        strides: [%b, 1] : memref<?xf32> to memref<?x?xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"
  ];
}

#endif // LOOM_GPU_TRANSFORMS_PASSES_TD
