//===- ConstantGlobals.cpp - loom-constant-globals ----------------------===//
//
// Creates the memref.globals of tensor constants in program order before
// one-shot bufferization, which reuses them, so that compiled modules do not
// depend on the order in which bufferization visits the functions.

#include "loom/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/BufferUtils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace loom {
#define GEN_PASS_DEF_LOOMCONSTANTGLOBALSPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {
struct LoomConstantGlobalsPass
    : public loom::impl::LoomConstantGlobalsPassBase<
          LoomConstantGlobalsPass> {
  using Base::Base;
  void runOnOperation() override {
    SymbolTableCollection symbolTables;
    WalkResult walk = getOperation()->walk([&](arith::ConstantOp constant) {
      if (!isa<RankedTensorType>(constant.getType()))
        return WalkResult::advance();
      // Constants inside a nested symbol table (a gpu.module) stay where
      // bufferization would put them.
      if (constant->getParentWithTrait<OpTrait::SymbolTable>() !=
          getOperation())
        return WalkResult::advance();
      if (failed(bufferization::getGlobalFor(constant, symbolTables,
                                             alignment)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
