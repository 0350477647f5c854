//===- LoomKernel.cpp - loom.kernel (fusion groups) and loom.yield ----------===//

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace loom;

void KernelOp::build(OpBuilder &builder, OperationState &state,
                     TypeRange resultTypes, StringRef label,
                     ValueRange inputs) {
  state.addAttribute(getLabelAttrName(state.name), builder.getStringAttr(label));
  state.addOperands(inputs);
  state.addTypes(resultTypes);
  Region *region = state.addRegion();
  Block *block = new Block();
  region->push_back(block);
  for (Value input : inputs)
    block->addArgument(input.getType(), input.getLoc());
}

YieldOp KernelOp::getYield() {
  return dyn_cast<YieldOp>(getBodyBlock().getTerminator());
}

void KernelOp::inlineBody(IRMapping *mapping) {
  OpBuilder b(*this);
  IRMapping local;
  IRMapping &map = mapping ? *mapping : local;
  map.map(getBodyBlock().getArguments(), getInputs());
  for (Operation &op : getBodyBlock().without_terminator())
    b.clone(op, map);
  SmallVector<Value> values;
  for (Value v : getYield().getValues())
    values.push_back(map.lookupOrDefault(v));
  replaceAllUsesWith(values);
  erase();
}

LogicalResult KernelOp::verify() {
  if (getLabel().empty())
    return emitOpError("needs a non-empty label");
  return success();
}

LogicalResult KernelOp::verifyRegions() {
  Block &block = getBodyBlock();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("has ")
           << getInputs().size() << " inputs but its body has "
           << block.getNumArguments() << " block arguments";
  for (auto [i, input, arg] :
       llvm::enumerate(getInputs(), block.getArguments()))
    if (input.getType() != arg.getType())
      return emitOpError("input #")
             << i << " has type " << input.getType()
             << " but body argument #" << i << " has type " << arg.getType();
  auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(block.back());
  if (!yield)
    return emitOpError("body must end with loom.yield");
  if (yield.getValues().size() != getNumResults())
    return emitOpError("has ")
           << getNumResults() << " results but its body yields "
           << yield.getValues().size() << " values";
  for (auto [i, value, result] :
       llvm::enumerate(yield.getValues(), getResults()))
    if (value.getType() != result.getType())
      return emitOpError("result #")
             << i << " has type " << result.getType() << " but the body yields "
             << value.getType();
  if (&block.front() == yield.getOperation())
    return emitOpError("body has no ops to run");
  WalkResult nested = block.walk([&](KernelOp inner) {
    inner.emitOpError("is nested in another loom.kernel; a kernel is one fusion group");
    return WalkResult::interrupt();
  });
  return failure(nested.wasInterrupted());
}
