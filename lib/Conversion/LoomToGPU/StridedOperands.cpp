//===- StridedOperands.cpp - fused operands as strided views ---------------===//

#include "StridedOperands.h"
#include "Launch.h"

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
  if (auto rope = v.getDefiningOp<loom::RopeOp>(); allowRope && single(rope) &&
                                                    !rope.getPositions()) {
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

std::optional<ResultChain> traceResult(Operation *op) {
  ResultChain ch;
  ch.last = op;
  Value r = op->getResult(0);
  if (!isStatic(r))
    return std::nullopt;
  if (r.hasOneUse())
    if (auto t = dyn_cast<linalg::TransposeOp>(*r.getUsers().begin());
        t && t.getInput() == r && t.getPermutation().back() ==
                                     static_cast<int64_t>(t.getPermutation().size()) - 1) {
      ch.transpose = t;
      ch.last = t;
      r = t->getResult(0);
      if (r.hasOneUse())
        if (auto c = dyn_cast<tensor::CollapseShapeOp>(*r.getUsers().begin())) {
          ch.collapse = c;
          ch.last = c;
        }
    }
  return ch;
}

Value outputView(OpBuilder &b, Location loc, Value out, ResultChain ch) {
  Value m = out;
  if (ch.collapse) {
    auto t = ch.collapse.getSrcType();
    SmallVector<OpFoldResult> shape;
    for (int64_t s : t.getShape())
      shape.push_back(b.getIndexAttr(s));
    m = memref::ExpandShapeOp::create(
        b, loc, MemRefType::get(t.getShape(), t.getElementType()), m,
        ch.collapse.getReassociationIndices(), shape);
  }
  if (ch.transpose) {
    ArrayRef<int64_t> perm = ch.transpose.getPermutation();
    SmallVector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      inverse[perm[i]] = static_cast<int64_t>(i);
    m = memref::TransposeOp::create(
        b, loc, m,
        AffineMapAttr::get(AffineMap::getPermutationMap(inverse, b.getContext())));
  }
  return memref::CastOp::create(
      b, loc,
      stridedType(cast<RankedTensorType>(
          (ch.transpose ? Value(ch.transpose.getInput()) : ch.last->getResult(0))
              .getType())),
      m);
}

void eraseFusedChains(Operation *op, ResultChain o,
                      ArrayRef<OperandChain> operands) {
  SmallVector<Operation *> dead;
  if (o.transpose && o.last != o.transpose.getOperation())
    dead.push_back(o.transpose);
  if (o.last != op)
    dead.push_back(op);
  for (OperandChain ch : operands)
    for (Operation *x : {ch.rope.getOperation(), ch.transpose.getOperation(),
                         ch.expand.getOperation()})
      if (x)
        dead.push_back(x);
  for (Operation *x : dead)
    if (x->use_empty())
      x->erase();
}

} // namespace gpu
} // namespace loom
