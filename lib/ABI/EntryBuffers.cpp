//===- EntryBuffers.cpp - buffers at entry boundaries obey the module ABI ===//
//
// loom-readonly-entry-args (inputs are never written), loom-fresh-entry-results
// (the caller may free every result) and loom-strided-copy-to-linalg (no call
// into MLIR's runtime libraries is left for a copy).

#include "loom/ABI/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace loom {
#define GEN_PASS_DEF_LOOMREADONLYENTRYARGSPASS
#define GEN_PASS_DEF_LOOMFRESHENTRYRESULTSPASS
#define GEN_PASS_DEF_LOOMSTRIDEDCOPYTOLINALGPASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

bool isEntry(func::FuncOp func) {
  return func.isPublic() && !func.isDeclaration();
}

struct LoomReadOnlyEntryArgsPass
    : loom::impl::LoomReadOnlyEntryArgsPassBase<LoomReadOnlyEntryArgsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!isEntry(func))
        continue;
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type))
          func.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                          BoolAttr::get(&getContext(), false));
    }
  }
};

/// The heap allocation (memref.alloc or bufferization.clone) that `value`
/// owns, looking through reshapes and casts whose result has the identity
/// layout: such a view covers the whole allocation contiguously, and its
/// descriptor's allocated pointer is the allocation's, so the caller may free
/// it. Null when `value` is anything else (an argument, a global, a strided
/// view), which must be copied.
Value freshAllocationOf(Value value) {
  while (true) {
    if (value.getDefiningOp<memref::AllocOp>() ||
        value.getDefiningOp<bufferization::CloneOp>())
      return value;
    auto type = dyn_cast<MemRefType>(value.getType());
    if (!type || !type.getLayout().isIdentity())
      return nullptr;
    Operation *def = value.getDefiningOp();
    if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(def))
      value = expand.getSrc();
    else if (auto collapse = dyn_cast_or_null<memref::CollapseShapeOp>(def))
      value = collapse.getSrc();
    else if (auto cast = dyn_cast_or_null<memref::CastOp>(def))
      value = cast.getSource();
    else
      return nullptr;
  }
}

struct LoomFreshEntryResultsPass
    : loom::impl::LoomFreshEntryResultsPassBase<LoomFreshEntryResultsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!isEntry(func))
        continue;
      func.walk([&](func::ReturnOp ret) {
        llvm::SmallDenseSet<Value> returned;
        OpBuilder b(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          Value value = operand.get();
          auto type = dyn_cast<MemRefType>(value.getType());
          if (!type)
            continue;
          // An allocation returned twice would be freed twice: the second
          // occurrence gets a copy.
          // A reshape of a fresh allocation (a kernel's result expanded back
          // to the caller's shape) is returned as it is, without a copy.
          if (Value root = freshAllocationOf(value))
            if (returned.insert(root).second)
              continue;
          Location loc = ret.getLoc();
          SmallVector<Value> dynamicSizes;
          for (int64_t d = 0; d < type.getRank(); ++d)
            if (type.isDynamicDim(d))
              dynamicSizes.push_back(memref::DimOp::create(b, loc, value, d));
          auto allocType = MemRefType::get(type.getShape(),
                                           type.getElementType(),
                                           MemRefLayoutAttrInterface(),
                                           type.getMemorySpace());
          Value copy = memref::AllocOp::create(b, loc, allocType, dynamicSizes,
                                               b.getI64IntegerAttr(64));
          memref::CopyOp::create(b, loc, value, copy);
          if (allocType != type)
            copy = memref::CastOp::create(b, loc, type, copy);
          returned.insert(copy);
          operand.set(copy);
        }
      });
    }
  }
};

struct LoomStridedCopyToLinalgPass
    : loom::impl::LoomStridedCopyToLinalgPassBase<
          LoomStridedCopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) {
      auto source = dyn_cast<MemRefType>(op.getSource().getType());
      auto target = dyn_cast<MemRefType>(op.getTarget().getType());
      // Identity layouts are contiguous: those copies become memcpy. Any
      // other layout might not be, and would become a memrefCopy call.
      if (source && target && !(source.getLayout().isIdentity() &&
                                target.getLayout().isIdentity()))
        copies.push_back(op);
    });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

} // namespace
