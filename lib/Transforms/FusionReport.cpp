//===- FusionReport.cpp - bytes moved per fusion group ----------------------===//

#include "loom/Transforms/FusionReport.h"

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;

std::optional<int64_t> loom::tensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  unsigned bits = tensor.getElementTypeBitWidth();
  int64_t elements = tensor.getNumElements();
  if (bits == 4)
    return (elements + 1) / 2;
  return elements * std::max<int64_t>(1, bits / 8);
}

namespace {
/// Adds the bytes of the tensors among `values` to `total`; a dynamic one
/// makes the total unknown.
void addBytes(std::optional<int64_t> &total, TypeRange types) {
  for (Type type : types) {
    if (!isa<RankedTensorType>(type))
      continue;
    std::optional<int64_t> bytes = loom::tensorBytes(type);
    if (!bytes || !total)
      total = std::nullopt;
    else
      *total += *bytes;
  }
}

bool movesNoData(Operation *op) {
  return isa<tensor::EmptyOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
             arith::ConstantOp, loom::YieldOp, func::ReturnOp>(op);
}

/// The bytes `op` reads and writes as a kernel of its own.
void addOpBytes(std::optional<int64_t> &total, Operation *op) {
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
    r.bytes = 0;
    addBytes(r.bytes, kernel.getInputs().getTypes());
    addBytes(r.bytes, kernel.getResultTypes());
    r.unfusedBytes = 0;
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
