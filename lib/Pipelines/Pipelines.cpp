//===- Pipelines.cpp - Loom's named pass pipelines --------------------------===//

#include "loom/Pipelines/Pipelines.h"

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
             "buffer-deallocation-pipeline,"
             "func.func(convert-linalg-to-loops),canonicalize");
  if (!options.toLLVM)
    return;
  // Math ops with LLVM intrinsics go first (math.rsqrt would otherwise become
  // a call to rsqrtf, which libm lacks); erf and tanh then become libm calls.
  append(pm, "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
             "arith-expand{include-bf16=true},"
             "func.func(llvm-request-c-wrappers),convert-math-to-llvm,"
             "convert-math-to-libm,"
             "convert-to-llvm,reconcile-unrealized-casts");
}

void loom::registerLoomPipelines() {
  PassPipelineRegistration<LoomCPUPipelineOptions>(
      "loom-cpu-pipeline",
      "Lower loom programs for the CPU: linalg, bufferization, loops, LLVM",
      buildLoomCPUPipeline);
}
