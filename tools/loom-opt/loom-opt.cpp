//===- loom-opt.cpp - the opt-style driver over .mlir files -----------------===//
//
// mlir-opt with the loom dialect and Loom's passes, and Loom's input limits
// (docs/Design.md, "Input limits"): the input's nesting is checked before
// MlirOptMain parses it, every pipeline starts with the check of region
// depth and 64-bit sizes, and the work runs on a stack of the tool's own.

#include "loom/InitAll.h"
#include "loom/Support/InputLimits.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  loom::registerAllDialects(registry);
  loom::registerAllPasses();
  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv, "Loom optimizer driver: loom and upstream MLIR passes\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  MlirOptMainConfig commandLine = config;
  config.setPassPipelineSetupFn([commandLine](PassManager &pm) {
    pm.addPass(loom::createCheckInputLimitsPass());
    return commandLine.setupPassPipeline(pm);
  });
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(MlirOptMain(
        llvm::outs(), llvm::MemoryBuffer::getMemBuffer(""), registry, config));

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, &errorMessage);
  if (!file) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }
  {
    // The whole file, before MlirOptMain splits it: the chunks of
    // --split-input-file nest no deeper than it.
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBuffer(
                                     file->getMemBufferRef(),
                                     /*RequiresNullTerminator=*/false),
                                 llvm::SMLoc());
    if (failed(loom::checkTextNesting(sourceMgr)))
      return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }
  int status = loom::runWithToolStack([&] {
    return asMainReturnCode(
        MlirOptMain(output->os(), std::move(file), registry, config));
  });
  if (status == 0)
    output->keep();
  return status;
}
