//===- ParseFuzzer.cpp - loom-fuzz-parse ---------------------------------===//
//
// Parses and verifies a module with every dialect loom-opt registers, and
// prints what verified (the custom printers of loom ops run on every shape
// the verifier lets through).

#include "FuzzMLIR.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/raw_ostream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::unique_ptr<mlir::MLIRContext> context = loom::fuzz::makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      loom::fuzz::parseModule(data, size, *context);
  if (!module)
    return 0;
  llvm::raw_null_ostream os;
  module->print(os);
  module->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  return 0;
}
