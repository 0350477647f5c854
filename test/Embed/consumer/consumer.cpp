// Builds a small block through Loom's C++ API, verifies it, prints it, and
// checks that the verifier rejects a malformed op: the embedding contract.
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

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
  llvm::outs() << "consumer: ok\n";
  module.erase();
  return 0;
}
