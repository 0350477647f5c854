//===- FusedGemm.cpp - GEMM fusion groups on the GPU ------------------------===//
//
// A fusion group anchored on loom.linear / loom.qlinear / loom.qmatmul
// (loom-fuse: horizontal siblings, a norm prologue, elementwise epilogues).
// What the GEMM recipe covers today:
//
// - one GEMM and a chain of elementwise epilogue ops (SiLU, GELU, an add or
//   multiply with an input of the group, e.g. the residual add): one launch
//   (rewriteGemmWithEpilogue);
// - horizontal siblings (QKV, gate/up): one launch for all of them
//   (rewriteGemmSiblings); a norm prologue before them and elementwise ops
//   after them (the SwiGLU gating) still run as kernels of their own.
//
// Not covered yet: norm prologues inside the GEMM kernel and the SwiGLU
// gating in the gate/up kernel. The group is inlined first; whatever the
// recipes do not take goes the op-by-op way.

#include "KernelLibrary.h"

using namespace mlir;

namespace {
bool isGemm(Operation *op) {
  return isa<loom::LinearOp, loom::QLinearOp, loom::QMatmulOp>(op);
}

/// The elementwise chain after `gemm` in `ops` when the body is exactly
/// the GEMM, then ops each reading the previous result and otherwise only
/// the group's inputs, the last one yielded; nothing otherwise.
std::optional<SmallVector<Operation *>>
epilogueChain(ArrayRef<Operation *> ops, loom::YieldOp yield) {
  if (ops.size() < 2 || !isGemm(ops.front()))
    return std::nullopt;
  for (size_t i = 1; i < ops.size(); ++i) {
    if (ops[i]->getNumResults() != 1 || isGemm(ops[i]))
      return std::nullopt;
    for (Value v : ops[i]->getOperands())
      if (v != ops[i - 1]->getResult(0) && !isa<BlockArgument>(v))
        return std::nullopt;
  }
  if (yield.getNumOperands() != 1 ||
      yield.getOperand(0) != ops.back()->getResult(0))
    return std::nullopt;
  return SmallVector<Operation *>(ops.drop_front());
}
} // namespace

FailureOr<bool> loom::rewriteFusedGemm(loom::KernelOp group,
                                       const gpu::Target &target) {
  SmallVector<Operation *> ops, gemms;
  for (Operation &op : group.getBodyBlock().without_terminator()) {
    ops.push_back(&op);
    if (isGemm(&op))
      gemms.push_back(&op);
  }
  if (gemms.empty())
    return false;
  std::optional<SmallVector<Operation *>> chain =
      epilogueChain(ops, group.getYield());

  // Inline, then hand the clones to the recipes; what they do not take
  // stays inlined for the op-by-op rewrites (the group is consumed).
  IRMapping map;
  group.inlineBody(&map);
  auto clones = [&](ArrayRef<Operation *> originals) {
    SmallVector<Operation *> result;
    for (Operation *op : originals)
      result.push_back(map.lookup(op));
    return result;
  };
  if (chain)
    return failed(gpu::rewriteGemmWithEpilogue(map.lookup(ops.front()),
                                               clones(*chain), target))
               ? FailureOr<bool>(failure())
               : FailureOr<bool>(true);
  if (gemms.size() > 1 &&
      failed(gpu::rewriteGemmSiblings(clones(gemms), target)))
    return failure();
  return true;
}
