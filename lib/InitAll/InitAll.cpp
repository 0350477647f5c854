//===- InitAll.cpp - registration of Loom and upstream dialects and passes ===//

#include "loom/InitAll.h"

#include "loom/ABI/Passes.h"
#include "loom/Conversion/Passes.h"
#include "loom/GPU/Transforms/LaunchEffects.h"
#include "loom/Conversion/LoomToGPU/Passes.h"
#include "loom/GPU/Transforms/Passes.h"
#include "loom/Dialect/Loom/IR/LoomDialect.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void loom::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<loom::LoomDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  loom::registerGPULaunchEffects(registry);
  // gpu-module-to-binary (the GPU pipeline) translates gpu.module bodies to
  // LLVM IR inside the pass, so the translations are part of the pipeline's
  // needs, not only of the tools that emit LLVM IR.
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  mlir::gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
}

void loom::registerAllDialects(mlir::MLIRContext &context) {
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  context.appendDialectRegistry(registry);
}

void loom::registerAllPasses() {
  // Pass registration is global; a second call must not register twice.
  static bool once = [] {
    mlir::registerAllPasses();
    loom::registerLoomConversionPasses();
    loom::registerLoomABIPasses();
    loom::registerLoomGPUTransformsPasses();
    loom::registerLoomToGPUPasses();
    loom::registerLoomTransformsPasses();
    loom::registerLoomPipelines();
    return true;
  }();
  (void)once;
}
