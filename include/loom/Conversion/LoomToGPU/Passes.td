//===- Passes.td - the loom ops' kernels on the GPU -------------*- tablegen -*-===//
//
// loom-gpu-kernels: at tensor level, the ops (and fusion groups) that have a
// kernel for the target become launches of kernels built into the module's
// gpu.module @loom_kernels.

#ifndef LOOM_CONVERSION_LOOMTOGPU_PASSES_TD
#define LOOM_CONVERSION_LOOMTOGPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LoomGPUKernelsPass : Pass<"loom-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Replace loom ops and fusion groups with launches of Loom's kernels";
  let description = [{
    Runs on tensors, before the loom-to-linalg conversion. Every fusion group
    (`loom.kernel`) and every op that has a kernel for the target
    (attention, block-sparse attention, select_blocks, linear attention, the
    linear layers, the norms and RoPE, the fused mixers) is replaced by

    - `bufferization.to_buffer` of its operands (read only),
    - a `memref.alloc` for its result,
    - a `gpu.launch_func` of a kernel built (typed IR, lib/GPU/Kernels) into
      the module's `gpu.module @loom_kernels`, once per configuration,
    - `bufferization.to_tensor` of the result.

    Ops outside the kernels' reach (element types or shapes they do not
    handle) are left alone and take the generic path.

    The target description is the module's `loom.target`
    (`loom-set-target`), unless `chip` or `tiles` are given; it drives the
    kernels' capabilities and tiles: without
    `tiles`, each kernel's own choice for the chip and the shapes; with
    `tiles=attention:QxKV,gemm:MxNxK[xSTAGES],rows:THREADS` (any subset),
    those tiles for every op a kernel covers. A requested tile the kernel
    cannot build, or one that needs more shared memory than the chip has, is
    an error at the op.

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
    Option<"chip", "chip", "std::string", "\"\"",
           "The GPU to generate kernels for (sm_90a or sm_80); default: the "
           "module's loom.target, else sm_90a">,
    Option<"tiles", "tiles", "std::string", "\"\"",
           "Tile sizes that replace the chip's own choice: a comma-separated "
           "list of attention:QxKV, gemm:MxNxK[xSTAGES], rows:THREADS, "
           "gemv:WARPSxTILESxUNROLL[xDEPTH] and "
           "w4a16:registers|shared|CxR (docs/Design.md, 'The target description'); a tile the kernels "
           "cannot build is an error at the op">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
    "::mlir::vector::VectorDialect", "::mlir::scf::SCFDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect"
  ];
}

#endif // LOOM_CONVERSION_LOOMTOGPU_PASSES_TD
