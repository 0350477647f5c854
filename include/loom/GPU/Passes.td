//===- Passes.td - the GPU path's passes -------------------------*- tablegen -*-===//
//
// The GPU pipeline (--loom-gpu-pipeline) is built from upstream passes and
// these. Kernel recipes (tensor-core attention and GEMM) are inserted at
// tensor level by loom-gpu-kernels; everything else goes through linalg and
// is mapped onto blocks and threads after bufferization.

#ifndef LOOM_GPU_PASSES_TD
#define LOOM_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomGPUKernelsPass : Pass<"loom-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Replace attention and GEMM ops with launches of Loom's tensor-core kernels";
  let description = [{
    Runs on tensors, before the loom-to-linalg conversion. Every op that has a
    kernel recipe for the chosen chip (`loom.attention`,
    `loom.block_sparse_attention`, `loom.linear`, `loom.qlinear`,
    `loom.qmatmul`) is replaced by

    - `bufferization.to_buffer` of its operands (read only),
    - a `memref.alloc` for its result,
    - a `gpu.launch_func` of a kernel instantiated from the recipe into the
      module's `gpu.module @loom_kernels` (staged through shared memory, using
      the tensor cores through `mma.sync`),
    - `bufferization.to_tensor` of the result.

    Ops outside the recipes' reach (element types or shapes they do not
    handle) are left alone and take the generic path.

    ```mlir
    %o = loom.attention %q, %k, %v {causal} : (...) -> tensor<1x8x128x64xbf16>
    // becomes
    %qb = bufferization.to_buffer %q read_only : ...
    %ob = memref.alloc() : memref<1x8x128x64xbf16>
    gpu.launch_func @loom_kernels::@attention_bf16_d64 blocks in (...) threads in (...) args(...)
    %o = bufferization.to_tensor %ob restrict writable : ...
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"sm_90a\"",
           "The GPU to generate kernels for (sm_90a or sm_80)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
    "::mlir::vector::VectorDialect", "::mlir::scf::SCFDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect"
  ];
}

#endif // LOOM_GPU_PASSES_TD
