//===- StridedOperands.cpp - fused operands as strided views ---------------===//

#include "StridedOperands.h"
#include "KernelLibrary.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace loom {
namespace gpu {

bool isStatic(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape();
}

std::optional<OperandChain> traceOperand(Value v, bool allowRope) {
  OperandChain ch;
  auto single = [](Operation *x) { return x && x->hasOneUse(); };
  if (!isStatic(v))
    return std::nullopt;
  if (auto rope = v.getDefiningOp<loom::RopeOp>(); allowRope && single(rope)) {
    ch.rope = rope;
    v = rope.getX();
  }
  if (auto t = v.getDefiningOp<linalg::TransposeOp>(); single(t)) {
    ArrayRef<int64_t> perm = t.getPermutation();
    if (perm.empty() || perm.back() != static_cast<int64_t>(perm.size()) - 1)
      return std::nullopt;
    ch.transpose = t;
    v = t.getInput();
  }
  if (auto e = v.getDefiningOp<tensor::ExpandShapeOp>(); single(e)) {
    ch.expand = e;
    v = e.getSrc();
  }
  if (!isStatic(v))
    return std::nullopt;
  ch.base = v;
  return ch;
}

MemRefType stridedType(RankedTensorType t) {
  int64_t d = ShapedType::kDynamic;
  return MemRefType::get(
      SmallVector<int64_t>(4, d), t.getElementType(),
      StridedLayoutAttr::get(t.getContext(), d, {d, d, d, 1}));
}

Value viewOf(OpBuilder &b, Location loc, OperandChain ch) {
  Value m = bufferOf(b, loc, ch.base, /*dynamic=*/false);
  if (ch.expand) {
    auto t = ch.expand.getResultType();
    m = memref::ExpandShapeOp::create(
        b, loc, MemRefType::get(t.getShape(), t.getElementType()), m,
        ch.expand.getReassociationIndices(), ch.expand.getMixedOutputShape());
  }
  if (ch.transpose)
    m = memref::TransposeOp::create(
        b, loc, m,
        AffineMapAttr::get(AffineMap::getPermutationMap(
            ch.transpose.getPermutation(), b.getContext())));
  auto type = cast<RankedTensorType>(
      (ch.rope ? ch.rope.getResult() : ch.transpose ? ch.transpose->getResult(0)
                                       : ch.expand ? ch.expand.getResult()
                                                   : ch.base)
          .getType());
  return memref::CastOp::create(b, loc, stridedType(type), m);
}

} // namespace gpu
} // namespace loom
