// Builds a small block through Loom's C++ API, verifies it, prints it,
// checks that the verifier rejects a malformed op, compiles the block to a
// shared library and calls it through the runtime: the embedding contract.
#include "loom/Compiler/Compiler.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/InitAll.h"
#include "loom/Runtime/Runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

using namespace mlir;

int main() {
  MLIRContext context;
  loom::registerAllDialects(context);
  context.loadAllAvailableDialects();

  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  auto bf16 = b.getBF16Type();
  auto q = RankedTensorType::get({1, 8, 64, 32}, bf16);
  auto kv = RankedTensorType::get({1, 2, 64, 32}, bf16);
  auto g = RankedTensorType::get({32}, bf16);

  ModuleOp module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto fn = func::FuncOp::create(b, loc, "block",
                                 b.getFunctionType({q, kv, kv, g}, {q}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value normed = loom::RmsNormOp::create(b, loc, q, entry->getArgument(0),
                                         entry->getArgument(3),
                                         b.getF32FloatAttr(1e-6f));
  Value attn = loom::AttentionOp::create(
      b, loc, q, normed, entry->getArgument(1), entry->getArgument(2),
      /*causal=*/true, /*scale=*/FloatAttr(), /*window=*/IntegerAttr(),
      /*softcap=*/FloatAttr());
  func::ReturnOp::create(b, loc, attn);

  // And one in f32 to call below: y = x + x.
  auto f4 = RankedTensorType::get({4}, b.getF32Type());
  b.setInsertionPointToEnd(module.getBody());
  auto twice =
      func::FuncOp::create(b, loc, "twice", b.getFunctionType({f4}, {f4}));
  Block *twiceEntry = twice.addEntryBlock();
  b.setInsertionPointToStart(twiceEntry);
  Value sum = arith::AddFOp::create(b, loc, twiceEntry->getArgument(0),
                                    twiceEntry->getArgument(0));
  func::ReturnOp::create(b, loc, sum);

  if (failed(verify(module))) {
    llvm::errs() << "consumer: the valid module failed to verify\n";
    return 1;
  }
  module.print(llvm::outs());

  // A GQA mismatch (8 query heads over 3 kv heads) must be rejected.
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  auto bad = RankedTensorType::get({1, 3, 64, 32}, bf16);
  b.setInsertionPoint(entry->getTerminator());
  auto k3 = tensor::EmptyOp::create(b, loc, bad.getShape(), bf16);
  auto badOp = loom::AttentionOp::create(b, loc, q, normed, k3, k3, false,
                                         FloatAttr(), IntegerAttr(),
                                         FloatAttr());
  if (succeeded(verify(module)) ||
      message.find("must be a multiple of key/value heads") ==
          std::string::npos) {
    llvm::errs() << "consumer: the GQA mismatch was not diagnosed: " << message
                 << "\n";
    return 1;
  }
  badOp.erase();

  // Compile to a shared library (the module is lowered in place, so a
  // clone) and call @twice through the runtime.
  llvm::SmallString<128> library;
  if (llvm::sys::fs::createTemporaryFile("loom-consumer", "so", library)) {
    llvm::errs() << "consumer: no temporary file\n";
    return 1;
  }
  OwningOpRef<ModuleOp> copy = module.clone();
  llvm::Expected<loom::CompileResult> compiled =
      loom::compileToSharedLibrary(*copy, library);
  if (!compiled) {
    llvm::errs() << "consumer: compileToSharedLibrary failed: "
                 << llvm::toString(compiled.takeError()) << "\n";
    return 1;
  }
  loomModule *loaded = loomModuleLoad(library.c_str(), LOOM_DEVICE_CPU);
  llvm::sys::fs::remove(library);
  const loomEntry *entryTwice =
      loaded ? loomModuleLookupEntry(loaded, "twice") : nullptr;
  if (!entryTwice) {
    llvm::errs() << "consumer: " << loomGetLastError() << "\n";
    return 1;
  }
  int64_t shape[] = {4};
  std::vector<float> x = {1, 2, 3, 4}, y(4);
  loomBuffer *arg = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, shape);
  loomBuffer *result = nullptr;
  if (loomBufferCopyFromHost(arg, x.data(), 16) != LOOM_SUCCESS ||
      loomEntryCall(entryTwice, &arg, 1, &result, 1) != LOOM_SUCCESS ||
      loomBufferCopyToHost(result, y.data(), 16) != LOOM_SUCCESS ||
      y != std::vector<float>{2, 4, 6, 8}) {
    llvm::errs() << "consumer: calling the compiled module failed: "
                 << loomGetLastError() << "\n";
    return 1;
  }
  loomBufferDestroy(result);
  loomBufferDestroy(arg);
  loomModuleUnload(loaded);
  llvm::outs() << "consumer: compiled " << compiled->entries.size()
               << " entries and called twice\n";

  llvm::outs() << "consumer: ok\n";
  module.erase();
  return 0;
}
