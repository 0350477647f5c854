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
//   (rewriteGemmSiblings);
// - a gate/up pair with its SwiGLU/GeGLU gating (act(gate) * up): one
//   launch whose blocks compute the same tile of both products and store
//   the gated value (rewriteGemmSiblings with a GemmGating).
//
// Each of these with the group's norm (rms_norm, layer_norm) as the
// prologue of its A tiles (GemmRecipe::norm), where the norm is rank 2 and
// read only as the GEMMs' input; otherwise the norm runs as a row kernel.
// The group is inlined first; whatever the recipes do not take goes the
// op-by-op way.

#include "KernelLibrary.h"

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
  // A norm first is the prologue candidate; the rest is one GEMM (with an
  // epilogue chain or none) or siblings (gated or not).
  Operation *norm = nullptr;
  ArrayRef<Operation *> body = ops;
  if (isa<loom::RmsNormOp, loom::LayerNormOp>(ops.front())) {
    norm = ops.front();
    body = body.drop_front();
  }
  loom::YieldOp yield = group.getYield();
  std::optional<SmallVector<Operation *>> chain =
      gpu::epilogueChain(body, yield);
  if (!chain && body.size() == 1 && isGemm(body[0]) &&
      yield.getNumOperands() == 1 && yield.getOperand(0) == body[0]->getResult(0))
    chain.emplace(); // one GEMM, no epilogue

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
  // One launch with the norm as its prologue, else without it (the norm
  // then runs as a row kernel).
  auto attempt = [&](Operation *prologue) -> FailureOr<bool> {
    if (chain) {
      if (chain->empty() && !prologue)
        return false; // a lone GEMM: the op-by-op rewrite is the same launch
      return gpu::rewriteGemmWithEpilogue(map.lookup(body.front()),
                                          clones(*chain), target, prologue);
    }
    if (gemms.size() == 2)
      if (std::optional<gpu::GemmGating> gating = gatingOf(clones(gemms))) {
        SmallVector<Operation *> pair = clones(gemms);
        if (pair[1]->getResult(0) == gating->act->getOperand(0))
          std::swap(pair[0], pair[1]);
        FailureOr<bool> gated =
            gpu::rewriteGemmSiblings(pair, target, &*gating, prologue);
        if (failed(gated) || *gated)
          return gated;
      }
    if (gemms.size() > 1)
      return gpu::rewriteGemmSiblings(clones(gemms), target, nullptr, prologue);
    return false;
  };
  Operation *normClone = norm ? map.lookup(norm) : nullptr;
  FailureOr<bool> done = attempt(normClone);
  if (succeeded(done) && !*done && normClone)
    done = attempt(nullptr);
  return failed(done) ? FailureOr<bool>(failure()) : FailureOr<bool>(true);
}
