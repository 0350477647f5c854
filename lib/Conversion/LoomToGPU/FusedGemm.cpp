//===- FusedGemm.cpp - GEMM fusion groups on the GPU ------------------------===//
//
// A fusion group anchored on loom.linear / loom.qlinear / loom.qmatmul
// (loom-fuse: horizontal siblings, a norm prologue, elementwise epilogues).
// What the GEMM kernel covers today:
//
// - one GEMM and a chain of elementwise epilogue ops (SiLU, GELU, an add or
//   multiply with an input of the group, e.g. the residual add): one launch
//   (rewriteGemmWithEpilogue);
// - horizontal siblings (QKV, gate/up): one launch for all of them
//   (rewriteGemmSiblings);
// - a gate/up pair with its SwiGLU/GeGLU gating (act(gate) * up): one
//   launch whose blocks compute the same tile of both products and store
//   the gated value (rewriteGemmSiblings with a GemmGating).
//
// A norm before the GEMMs runs as a row kernel of its own. (A prologue that
// computed each block's row statistics and normalized the A tiles in shared
// memory was built and MEASURED slower on the H100: 30.3 us for Llama's
// norm + QKV launch against 2.1 + 12.5 us apart, 33.7 against 2.4 + 17.2 on
// the long-context block, since the normalizing pass sits on every K tile's
// critical path; normalizing the A fragments in registers is the way on.)
// The group is inlined first; whatever the kernels do not take goes the
// op-by-op way.

#include "Launch.h"

using namespace mlir;

namespace {
bool isGemm(Operation *op) {
  return isa<loom::LinearOp, loom::QLinearOp, loom::QMatmulOp>(op);
}

/// The SwiGLU/GeGLU gating of the pair `gemms`: a loom.silu or loom.gelu of
/// one product whose result is multiplied by the other's.
std::optional<loom::gpu::GemmGating> gatingOf(ArrayRef<Operation *> gemms) {
  for (auto [gate, up] : {std::pair(gemms[0], gemms[1]),
                          std::pair(gemms[1], gemms[0])}) {
    Value g = gate->getResult(0), u = up->getResult(0);
    if (!g.hasOneUse() || !u.hasOneUse())
      continue;
    Operation *act = *g.getUsers().begin();
    if (!isa<loom::SiluOp, loom::GeluOp>(act) ||
        !act->getResult(0).hasOneUse())
      continue;
    Operation *mul = *act->getResult(0).getUsers().begin();
    if (isa<arith::MulFOp>(mul) && *u.getUsers().begin() == mul)
      return loom::gpu::GemmGating{act, mul};
  }
  return std::nullopt;
}
} // namespace

std::optional<SmallVector<Operation *>>
loom::gpu::epilogueChain(ArrayRef<Operation *> ops, loom::YieldOp yield) {
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
  // A norm first runs as a row kernel of its own; the kernels take the rest.
  ArrayRef<Operation *> body = ops;
  if (isa<loom::RmsNormOp, loom::LayerNormOp>(ops.front()))
    body = body.drop_front();
  std::optional<SmallVector<Operation *>> chain =
      gpu::epilogueChain(body, group.getYield());

  // Inline, then hand the clones to the kernels; what they do not take
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
    return failed(gpu::rewriteGemmWithEpilogue(map.lookup(body.front()),
                                               clones(*chain), target))
               ? FailureOr<bool>(failure())
               : FailureOr<bool>(true);
  if (gemms.size() == 2)
    if (std::optional<gpu::GemmGating> gating = gatingOf(clones(gemms))) {
      SmallVector<Operation *> pair = clones(gemms);
      if (pair[1]->getResult(0) == gating->act->getOperand(0))
        std::swap(pair[0], pair[1]);
      FailureOr<bool> gated = gpu::rewriteGemmSiblings(pair, target, &*gating);
      if (failed(gated) || *gated)
        return gated;
    }
  if (gemms.size() > 1 &&
      failed(gpu::rewriteGemmSiblings(clones(gemms), target)))
    return failure();
  return true;
}
