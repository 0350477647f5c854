//===- DynamicExpandShape.cpp - expand_shape with dynamic groups as casts -===//
//
// A workaround for MLIR 22: expand-strided-metadata crashes on a
// memref.expand_shape that splits one dimension into several dynamic ones.
// See Passes.td.

#include "loom/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMDYNAMICEXPANDSHAPEPASS
#include "loom/GPU/Transforms/Passes.h.inc"
} // namespace loom

namespace {

/// True if a reassociation group of `op` has two or more dynamic sizes.
bool hasDynamicGroup(memref::ExpandShapeOp op) {
  ArrayRef<int64_t> shape = op.getResultType().getShape();
  for (ReassociationIndices group : op.getReassociationIndices())
    if (llvm::count_if(group, [&](int64_t d) {
          return ShapedType::isDynamic(shape[d]);
        }) > 1)
      return true;
  return false;
}

struct LoomDynamicExpandShapePass
    : loom::impl::LoomDynamicExpandShapePassBase<LoomDynamicExpandShapePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::ExpandShapeOp> ops;
    getOperation()->walk([&](memref::ExpandShapeOp op) {
      if (hasDynamicGroup(op))
        ops.push_back(op);
    });
    bool ok = true;
    for (memref::ExpandShapeOp op : ops)
      if (failed(rewrite(op)))
        ok = false;
    if (!ok)
      signalPassFailure();
  }

  LogicalResult rewrite(memref::ExpandShapeOp op) {
    MemRefType source = op.getSrcType();
    MemRefType result = op.getResultType();
    if (!source.getLayout().isIdentity() || !result.getLayout().isIdentity())
      return op.emitError()
             << "loom-dynamic-expand-shape: a memref.expand_shape into "
                "several dynamic sizes of one group is only supported on an "
                "identity-layout buffer (got "
             << source << "); MLIR's expand-strided-metadata cannot lower it";
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
    // Row-major strides: the product of the sizes after each dimension,
    // constants where those are static.
    SmallVector<OpFoldResult> strides(sizes.size());
    int64_t staticStride = 1;
    Value dynamicStride;
    for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
      strides[d] = dynamicStride ? OpFoldResult(dynamicStride)
                                 : OpFoldResult(b.getIndexAttr(staticStride));
      if (d == 0)
        break;
      std::optional<int64_t> size = getConstantIntValue(sizes[d]);
      if (size && !dynamicStride) {
        staticStride *= *size;
        continue;
      }
      Value current = dynamicStride
                          ? dynamicStride
                          : arith::ConstantIndexOp::create(b, loc, staticStride)
                                .getResult();
      Value sizeValue =
          size ? arith::ConstantIndexOp::create(b, loc, *size).getResult()
               : cast<Value>(sizes[d]);
      dynamicStride = arith::MulIOp::create(b, loc, current, sizeValue);
    }
    auto cast = memref::ReinterpretCastOp::create(
        b, loc, result, op.getSrc(), b.getIndexAttr(0), sizes, strides);
    op.replaceAllUsesWith(cast.getResult());
    op.erase();
    return success();
  }
};

} // namespace
