//===- FusionReport.cpp - bytes moved per fusion group ----------------------===//

#include "loom/Transforms/FusionReport.h"

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

loom::ByteCount &loom::ByteCount::operator+=(ByteCount other) {
  if (isDynamic() || other.isDynamic())
    *this = dynamic();
  else if (isTooLarge() || other.isTooLarge() ||
           llvm::AddOverflow(bytes, other.bytes, bytes))
    *this = tooLarge();
  return *this;
}

loom::ByteCount loom::tensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return ByteCount::dynamic();
  unsigned bits = tensor.getElementTypeBitWidth();
  // Checked: getNumElements multiplies without.
  int64_t elements = 1;
  for (int64_t d : tensor.getShape())
    if (llvm::MulOverflow(elements, d, elements))
      return ByteCount::tooLarge();
  if (bits == 4)
    return ByteCount::of(elements / 2 + elements % 2);
  int64_t bytes;
  if (llvm::MulOverflow(elements, std::max<int64_t>(1, bits / 8), bytes))
    return ByteCount::tooLarge();
  return ByteCount::of(bytes);
}

namespace {
/// Adds the bytes of the tensors among `types` to `total`.
void addBytes(loom::ByteCount &total, TypeRange types) {
  for (Type type : types)
    if (isa<RankedTensorType>(type))
      total += loom::tensorBytes(type);
}

bool movesNoData(Operation *op) {
  return isa<tensor::EmptyOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
             arith::ConstantOp, loom::YieldOp, func::ReturnOp>(op);
}

/// The bytes `op` reads and writes as a kernel of its own.
void addOpBytes(loom::ByteCount &total, Operation *op) {
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    addBytes(total, ValueRange(dps.getDpsInputs()).getTypes());
  else
    addBytes(total, op->getOperandTypes());
  addBytes(total, op->getResultTypes());
}
} // namespace

loom::ProgramTraffic loom::describeUnfusedProgram(ModuleOp module) {
  ProgramTraffic traffic;
  module.walk([&](func::FuncOp func) {
    if (func.isExternal())
      return;
    for (Operation &op : func.getBody().front()) {
      if (movesNoData(&op) ||
          (op.getNumRegions() != 0 && !isa<linalg::LinalgOp>(op)))
        continue;
      ++traffic.ops;
      addOpBytes(traffic.bytes, &op);
    }
  });
  return traffic;
}

std::vector<loom::FusionGroupReport>
loom::describeFusionGroups(ModuleOp module) {
  std::vector<FusionGroupReport> reports;
  module.walk([&](KernelOp kernel) {
    FusionGroupReport r;
    if (auto func = kernel->getParentOfType<func::FuncOp>())
      r.function = func.getSymName().str();
    r.label = kernel.getLabel().str();
    addBytes(r.bytes, kernel.getInputs().getTypes());
    addBytes(r.bytes, kernel.getResultTypes());
    for (Operation &op : kernel.getBodyBlock()) {
      if (movesNoData(&op))
        continue;
      r.ops.push_back(op.getName().getStringRef().str());
      addOpBytes(r.unfusedBytes, &op);
    }
    reports.push_back(std::move(r));
  });
  return reports;
}
