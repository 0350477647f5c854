//===- KernelTestUtil.cpp - building kernels in a test's own module -------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Builder/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;

namespace loom {
namespace test {

KernelModule::KernelModule() {
  context.loadDialect<arith::ArithDialect, mlir::gpu::GPUDialect,
                      LLVM::LLVMDialect, NVVM::NVVMDialect, math::MathDialect,
                      memref::MemRefDialect, nvgpu::NVGPUDialect,
                      scf::SCFDialect, vector::VectorDialect>();
  module = ModuleOp::create(UnknownLoc::get(&context));
}

std::string buildAndCheck(
    StringRef name,
    function_ref<FailureOr<SymbolRefAttr>(ModuleOp, Location)> build) {
  KernelModule m;
  std::string messages;
  llvm::raw_string_ostream os(messages);
  ScopedDiagnosticHandler handler(&m.context, [&](Diagnostic &d) {
    os << d.str() << "\n";
    return success();
  });
  FailureOr<SymbolRefAttr> ref = build(*m.module, m.module->getLoc());
  if (failed(ref))
    return "kernel '" + name.str() + "' failed to build:\n" + messages;
  if (!messages.empty())
    return "kernel '" + name.str() + "' emitted diagnostics:\n" + messages;
  if (ref->getLeafReference() != name)
    return "kernel '" + name.str() + "' was built as '" +
           ref->getLeafReference().str() + "'";
  if (!SymbolTable::lookupNearestSymbolFrom(*m.module, *ref))
    return "kernel '" + name.str() + "' is missing from the module";
  if (failed(verify(*m.module)))
    return "module of kernel '" + name.str() + "' does not verify:\n" +
           messages;
  // The printed kernel must read back: it is how people inspect a config.
  std::string text;
  llvm::raw_string_ostream ts(text);
  m.module->print(ts);
  ParserConfig config(&m.context);
  if (!parseSourceString<ModuleOp>(text, config))
    return "kernel '" + name.str() + "' does not parse back:\n" + messages;
  return "";
}

} // namespace test
} // namespace loom
