//===- Pipelines.cpp - Loom's named pass pipelines --------------------------===//

#include "loom/Pipelines/Pipelines.h"
#include "loom/ABI/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

/// Appends a textual pipeline; the text is fixed, so failing to parse it is a
/// build defect (a pass renamed upstream), not a user error.
static void append(OpPassManager &pm, StringRef text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("loom: malformed built-in pipeline: " + text);
}

void loom::buildLoomCPUPipeline(OpPassManager &pm,
                                const LoomCPUPipelineOptions &options) {
  // Elementwise arith on tensors (residual adds, gating) becomes linalg too,
  // since one-shot bufferization does not take arith ops on tensors.
  append(pm, "convert-loom-to-linalg,func.func(convert-elementwise-to-linalg),"
             "canonicalize,cse,"
             "one-shot-bufferize{bufferize-function-boundaries "
             "function-boundary-type-conversion=identity-layout-map},"
             "buffer-deallocation-pipeline");
  // The module ABI (docs/abi.md): the caller frees every result, so a public
  // function must not return an argument's buffer, a global constant or one
  // allocation twice. The deallocation pipeline returns bufferization.clone
  // for some of these, which convert-bufferization-to-memref lowers (nothing
  // later does). Copies between non-contiguous buffers become loops, not
  // calls to memrefCopy from MLIR's runner utilities, which modules must not
  // need.
  pm.addPass(loom::createLoomFreshEntryResultsPass());
  append(pm, "convert-bufferization-to-memref");
  pm.addNestedPass<func::FuncOp>(loom::createLoomStridedCopyToLinalgPass());
  append(pm, "func.func(convert-linalg-to-loops),canonicalize");
  if (!options.toLLVM)
    return;
  // bf16 arithmetic is done in f32 and every bf16 <-> f32 conversion becomes
  // integer code, and bf16 selects select i16 bit patterns: LLVM would
  // otherwise round through __truncsfbf2, which libgcc before GCC 13 lacks,
  // and compiled modules may need nothing beyond libc and libm.
  append(pm, "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
             "arith-emulate-unsupported-floats{source-types=bf16 "
             "target-type=f32},"
             "arith-expand{include-bf16=true}");
  pm.addPass(loom::createLoomBF16SelectAsI16Pass());
  // Math ops with LLVM intrinsics go first (math.rsqrt would otherwise become
  // a call to rsqrtf, which libm lacks); erf and tanh then become libm calls.
  append(pm, "func.func(llvm-request-c-wrappers),convert-math-to-llvm,"
             "convert-math-to-libm,"
             "convert-to-llvm,reconcile-unrealized-casts");
}

void loom::registerLoomPipelines() {
  PassPipelineRegistration<LoomCPUPipelineOptions>(
      "loom-cpu-pipeline",
      "Lower loom programs for the CPU: linalg, bufferization, loops, LLVM",
      buildLoomCPUPipeline);
}
