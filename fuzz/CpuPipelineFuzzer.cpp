//===- CpuPipelineFuzzer.cpp - loom-fuzz-cpu-pipeline --------------------===//
//
// Parses and verifies a module, and runs --loom-cpu-pipeline on it when it
// verifies: the contract (docs/reliability.md) is that every verified input
// compiles or fails with a diagnostic, never a crash.

#include "FuzzMLIR.h"

#include "loom/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::unique_ptr<mlir::MLIRContext> context = loom::fuzz::makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loom::fuzz::parseModule(data, size, *context);
  if (!module)
    return 0;
  mlir::PassManager pm(context.get());
  loom::buildLoomCPUPipeline(pm, loom::LoomCPUPipelineOptions());
  (void)pm.run(*module);
  return 0;
}
