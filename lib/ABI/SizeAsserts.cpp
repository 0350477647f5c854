//===- SizeAsserts.cpp - entries assert that their tensors fit in 64 bits -===//
//
// loom-entry-size-asserts: a dynamically sized tensor of an entry (an
// argument, or a value computed from argument sizes, such as the S x S
// scores of an attention) whose size in bytes passes 2^63 - 1 would make the
// lowered code's size arithmetic overflow: a small allocation, then writes
// past it. The asserts added here become entry checks (loom-entry-checks),
// so such a call is refused before it runs.

#include "loom/ABI/ModuleABI.h"
#include "loom/ABI/Passes.h"
#include "loom/Dialect/Loom/IR/ShapeSizes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/raw_ostream.h"

namespace loom {
#define GEN_PASS_DEF_LOOMENTRYSIZEASSERTSPASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

/// Whether `value`'s size in bytes (0 dimensions counted as 1, a byte per
/// element at least) is at most 2^63 - 1: the static part times each
/// dynamic dimension, as unsigned 64-bit products whose high halves must be
/// 0 and whose low halves must stay non-negative.
Value sizeFits(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t staticBytes = loom::staticSizeBound(type).value_or(0);
  Type i64 = b.getI64Type();
  Value acc = arith::ConstantIntOp::create(b, loc, i64, staticBytes);
  Value zero = arith::ConstantIntOp::create(b, loc, i64, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value fits = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      continue;
    Value size = tensor::DimOp::create(b, loc, value, d);
    Value atLeastOne = arith::MaxSIOp::create(b, loc, size, one);
    Value factor = arith::IndexCastOp::create(b, loc, i64, atLeastOne);
    auto product = arith::MulUIExtendedOp::create(b, loc, acc, factor);
    Value noHigh = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         product.getHigh(), zero);
    Value nonNegative = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge, product.getLow(), zero);
    fits = arith::AndIOp::create(b, loc, fits, noHigh);
    fits = arith::AndIOp::create(b, loc, fits, nonNegative);
    acc = product.getLow();
  }
  return fits;
}

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream(text) << type;
  return text;
}

bool needsAssert(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  // A static type too large is the verifier's; a static one that fits
  // needs nothing.
  return type && !type.hasStaticShape() && loom::staticSizeBound(type);
}

struct LoomEntrySizeAssertsPass
    : loom::impl::LoomEntrySizeAssertsPassBase<LoomEntrySizeAssertsPass> {
  void runOnOperation() override {
    for (auto entry : getOperation().getOps<func::FuncOp>()) {
      if (!entry.isPublic() || entry.isDeclaration())
        continue;
      OpBuilder b(entry.getContext());
      b.setInsertionPointToStart(&entry.getBody().front());
      // An argument's check names the argument, not a place in the source.
      Location unknown = UnknownLoc::get(entry.getContext());
      for (BlockArgument arg : entry.getArguments())
        if (needsAssert(arg))
          cf::AssertOp::create(b, unknown, sizeFits(b, unknown, arg),
                               (loom::abi::kSizeAssertPrefix + "argument " +
                                std::to_string(arg.getArgNumber()) + ": " +
                                typeText(arg.getType()))
                                   .str());
      SmallVector<Value> values;
      entry.getBody().walk([&](Operation *op) {
        for (Value result : op->getResults())
          if (needsAssert(result))
            values.push_back(result);
      });
      for (Value value : values) {
        Operation *def = value.getDefiningOp();
        b.setInsertionPointAfter(def);
        cf::AssertOp::create(b, def->getLoc(),
                             sizeFits(b, def->getLoc(), value),
                             (loom::abi::kSizeAssertPrefix + "value: " +
                              typeText(value.getType()))
                                 .str());
      }
    }
  }
};

} // namespace
