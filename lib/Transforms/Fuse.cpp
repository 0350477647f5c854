//===- Fuse.cpp - loom-fuse: graph-level fusion groups ----------------------===//
//
// Decides which ops of a function body run together as one kernel and wraps
// each group in a loom.kernel (docs/fusion.md). The decision is made on the
// graph, in value semantics, before the CPU and GPU paths split.
//
// Groups are sets of ops of the function's entry block. An op belongs to at
// most one group, except recomputable ones (layout changes, RoPE), which
// every group that needs them recomputes. Materialization clones each group
// into a loom.kernel at the end of the block, rewires the uses, drops the
// originals that became dead and sorts the block topologically again.

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Transforms/Passes.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace loom {
#define GEN_PASS_DEF_LOOMFUSEPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

using namespace mlir;
using namespace loom;

namespace {

//===----------------------------------------------------------------------===//
// What an op is, for fusion
//===----------------------------------------------------------------------===//

/// Reshapes: views, no data moves.
bool isView(Operation *op) {
  return isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op);
}

/// Layout changes between [S, H*D] and [B, H, S, D].
bool isLayout(Operation *op) {
  return isView(op) || isa<linalg::TransposeOp>(op);
}

/// Ops that cost nothing to repeat: cloned into every group that uses them.
bool isFree(Operation *op) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  auto constant = dyn_cast<arith::ConstantOp>(op);
  if (!constant)
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  return !dense || dense.isSplat();
}

/// Ops a group recomputes rather than reads back from memory.
/// A RoPE with per-token positions is not: it reads a table row per token
/// through an index, which no fused recipe covers.
bool isRecomputable(Operation *op) {
  if (auto rope = dyn_cast<RopeOp>(op))
    return !rope.getPositions();
  return isLayout(op);
}

bool isNorm(Operation *op) { return isa<RmsNormOp, LayerNormOp>(op); }
bool isGemm(Operation *op) { return isa<LinearOp, QLinearOp, QMatmulOp>(op); }
bool isAttention(Operation *op) {
  return isa<AttentionOp, BlockSparseAttentionOp, SelectBlocksOp,
             LinearAttentionOp>(op);
}
bool isMixer(Operation *op) { return isa<PoolMixerOp, DwConvOp>(op); }

/// An elementwise op on tensors whose operands all have the result's shape.
bool isElementwise(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type)
    return false;
  if (!isa<SiluOp, GeluOp>(op) && !op->hasTrait<OpTrait::Elementwise>())
    return false;
  return llvm::all_of(op->getOperandTypes(), [&](Type t) {
    auto operand = dyn_cast<RankedTensorType>(t);
    return operand && operand.getShape() == type.getShape();
  });
}

/// Ops that compute something and can be a kernel (or part of one).
bool isCompute(Operation *op) {
  // Ops with regions are left alone, except linalg ops, whose regions
  // only describe their element computation.
  if (isFree(op) || isView(op) || op->hasTrait<OpTrait::IsTerminator>() ||
      (op->getNumRegions() != 0 && !isa<linalg::LinalgOp>(op)) ||
      isa<KernelOp>(op))
    return false;
  return llvm::any_of(op->getResultTypes(),
                      [](Type t) { return isa<RankedTensorType>(t); });
}

/// The short name of an op in a label: `loom.rms_norm` -> `rms_norm`.
StringRef shortName(Operation *op) {
  StringRef name = op->getName().getStringRef();
  return name.substr(name.find('.') + 1);
}

//===----------------------------------------------------------------------===//
// Groups
//===----------------------------------------------------------------------===//

struct Group {
  llvm::SetVector<Operation *> ops;
  bool contains(Operation *op) const { return ops.contains(op); }
};

class Fuser {
public:
  Fuser(Block &block, bool prologues, bool epilogues, bool horizontal)
      : block(block), prologues(prologues), epilogues(epilogues),
        horizontal(horizontal) {}

  LogicalResult run();

private:
  // Decision.
  Group &newGroup(Operation *anchor);
  void add(Group &g, Operation *op);
  bool isOwned(Operation *op) const { return owner.count(op); }
  bool isCandidate(Operation *op) const {
    return op && op->getBlock() == &block && !isOwned(op);
  }
  bool dependsOn(Value value, const Group &g) const;
  void formAttentionGroup(Operation *anchor);
  void formGemmGroup(Operation *anchor);
  void formMixerGroup(Operation *anchor);
  Group &formRestGroup(Operation *op);
  void absorbProducerChain(Group &g, Value value);
  void absorbNormPrologue(Group &g, Value value);
  void absorbEpilogues(Group &g);
  void absorbLayoutEpilogue(Group &g, Operation *anchor);
  bool usedOutsideCoveringGroups(Operation *op) const;

  // Materialization.
  void materialize(Group &g);
  static std::string label(ArrayRef<Operation *> ops);

  Block &block;
  bool prologues, epilogues, horizontal;
  SmallVector<std::unique_ptr<Group>> groups;
  /// The group of every op that is not recomputed.
  DenseMap<Operation *, Group *> owner;
  /// Every group of every op (recomputed ops may be in several).
  DenseMap<Operation *, SmallVector<Group *>> memberOf;
};

Group &Fuser::newGroup(Operation *anchor) {
  groups.push_back(std::make_unique<Group>());
  add(*groups.back(), anchor);
  return *groups.back();
}

void Fuser::add(Group &g, Operation *op) {
  if (!g.ops.insert(op))
    return;
  memberOf[op].push_back(&g);
  if (!isRecomputable(op))
    owner[op] = &g;
}

/// Whether `value` is computed, transitively through operands within the
/// block, from an op of `g`: then a consumer of `value` cannot join `g`
/// without a cycle between groups.
bool Fuser::dependsOn(Value value, const Group &g) const {
  SmallVector<Operation *> worklist;
  DenseSet<Operation *> seen;
  if (Operation *def = value.getDefiningOp())
    worklist.push_back(def);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (op->getBlock() != &block || !seen.insert(op).second)
      continue;
    if (g.contains(op))
      return true;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.push_back(def);
  }
  return false;
}

/// Pulls the chain of RoPE and layout changes that computes `value` into
/// `g` (recomputed, not moved: another group may need the same chain).
void Fuser::absorbProducerChain(Group &g, Value value) {
  if (!prologues)
    return;
  Operation *def = value.getDefiningOp();
  while (def && def->getBlock() == &block && isRecomputable(def)) {
    add(g, def);
    def = def->getOperand(0).getDefiningOp();
  }
}

/// A norm whose result only `g` reads becomes `g`'s prologue.
void Fuser::absorbNormPrologue(Group &g, Value value) {
  if (!prologues)
    return;
  Operation *def = value.getDefiningOp();
  if (!isCandidate(def) || !isNorm(def))
    return;
  if (llvm::all_of(value.getUsers(),
                   [&](Operation *user) { return g.contains(user); }))
    add(g, def);
}

/// The layout changes applied to the anchor's result, one use after the
/// other, become the epilogue (the kernel writes the final layout).
void Fuser::absorbLayoutEpilogue(Group &g, Operation *anchor) {
  if (!epilogues)
    return;
  Value result = anchor->getResult(0);
  while (result.hasOneUse()) {
    Operation *user = *result.getUsers().begin();
    if (!isCandidate(user) || !isLayout(user) || user->getOperand(0) != result)
      break;
    add(g, user);
    owner[user] = &g; // moved into the group, not recomputed
    result = user->getResult(0);
  }
}

/// Single-use elementwise consumers (whose other operands do not depend on
/// `g`) and a consuming loom.quantize join `g`, until nothing changes.
void Fuser::absorbEpilogues(Group &g) {
  if (!epilogues)
    return;
  bool changed = true;
  while (changed) {
    changed = false;
    for (unsigned i = 0; i < g.ops.size(); ++i) {
      Operation *op = g.ops[i];
      if (isNorm(op) && op != g.ops.front())
        continue; // a prologue's result is consumed inside the group
      for (Value result : op->getResults()) {
        if (!result.hasOneUse())
          continue;
        Operation *user = *result.getUsers().begin();
        if (!isCandidate(user) || g.contains(user))
          continue;
        if (!isElementwise(user) && !isa<QuantizeOp>(user))
          continue;
        bool acyclic = llvm::all_of(user->getOperands(), [&](Value operand) {
          Operation *def = operand.getDefiningOp();
          return (def && g.contains(def)) || !dependsOn(operand, g);
        });
        if (!acyclic)
          continue;
        add(g, user);
        changed = true;
      }
    }
  }
}

void Fuser::formAttentionGroup(Operation *anchor) {
  Group &g = newGroup(anchor);
  // q, k, v (and the decay of linear attention); not the block layout of
  // block-sparse attention, which its own group (select_blocks) computes.
  unsigned numData = isa<BlockSparseAttentionOp>(anchor) ? 3 : 2;
  if (isa<AttentionOp, LinearAttentionOp>(anchor))
    numData = anchor->getNumOperands();
  for (Value operand : anchor->getOperands().take_front(numData))
    absorbProducerChain(g, operand);
  absorbLayoutEpilogue(g, anchor);
}

/// Two GEMMs fuse horizontally when they are the same op with the same
/// attributes, read the same input and are alike: the same operands (a
/// bias on both or on neither) of the same element types, and the same
/// result element type. The fused recipes run one kernel for every part,
/// so a group of unlike products (one with a bias, one without; i4 and i8
/// weights) would be declined and run op by op.
static bool areSiblings(Operation *a, Operation *b) {
  if (a->getName() != b->getName() ||
      a->getAttrDictionary() != b->getAttrDictionary() ||
      a->getNumOperands() != b->getNumOperands() ||
      a->getOperand(0) != b->getOperand(0) ||
      getElementTypeOrSelf(a->getResult(0).getType()) !=
          getElementTypeOrSelf(b->getResult(0).getType()))
    return false;
  return llvm::all_of(llvm::zip(a->getOperandTypes(), b->getOperandTypes()),
                      [](auto types) {
                        return getElementTypeOrSelf(std::get<0>(types)) ==
                               getElementTypeOrSelf(std::get<1>(types));
                      });
}

void Fuser::formGemmGroup(Operation *anchor) {
  Group &g = newGroup(anchor);
  Value input = anchor->getOperand(0);
  if (horizontal) {
    SmallVector<Operation *> siblings;
    for (Operation *user : input.getUsers())
      if (user != anchor && isCandidate(user) && isGemm(user) &&
          areSiblings(anchor, user))
        siblings.push_back(user);
    llvm::sort(siblings, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    for (Operation *sibling : siblings)
      if (llvm::none_of(sibling->getOperands().drop_front(),
                        [&](Value v) { return dependsOn(v, g); }))
        add(g, sibling);
  }
  absorbNormPrologue(g, input);
  absorbEpilogues(g);
}

void Fuser::formMixerGroup(Operation *anchor) {
  Group &g = newGroup(anchor);
  absorbNormPrologue(g, anchor->getOperand(0));
  absorbEpilogues(g);
}

Group &Fuser::formRestGroup(Operation *op) {
  Group &g = newGroup(op);
  absorbEpilogues(g);
  return g;
}

/// A recomputed op still needs a group of its own when something outside
/// the groups that recompute it reads its result.
bool Fuser::usedOutsideCoveringGroups(Operation *op) const {
  auto it = memberOf.find(op);
  if (it == memberOf.end())
    return true;
  return llvm::any_of(op->getUsers(), [&](Operation *user) {
    return llvm::none_of(it->second,
                         [&](Group *g) { return g->contains(user); });
  });
}

LogicalResult Fuser::run() {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);

  for (Operation *op : ops)
    if (isAttention(op))
      formAttentionGroup(op);
  for (Operation *op : ops)
    if (isGemm(op) && !isOwned(op))
      formGemmGroup(op);
  for (Operation *op : ops)
    if (isMixer(op) && !isOwned(op))
      formMixerGroup(op);
  for (Operation *op : ops) {
    if (!isCompute(op) || isOwned(op))
      continue;
    if (isRecomputable(op) && !usedOutsideCoveringGroups(op))
      continue;
    // A recomputed op read outside its groups is also computed on its own.
    owner[op] = &formRestGroup(op);
  }

  for (auto &g : groups)
    materialize(*g);

  // The originals of moved and recomputed ops are dead now.
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty() && isPure(op))
      op->erase();

  if (!sortTopologically(&block))
    return block.getParentOp()->emitError(
        "loom-fuse: internal error: the fusion groups form a cycle");
  return success();
}

/// What a group is, in block order: `rms_norm+qlinear x3`.
std::string Fuser::label(ArrayRef<Operation *> ops) {
  SmallVector<std::pair<StringRef, unsigned>> runs;
  for (Operation *op : ops) {
    if (isView(op))
      continue;
    StringRef name = shortName(op);
    if (!runs.empty() && runs.back().first == name)
      ++runs.back().second;
    else
      runs.push_back({name, 1});
  }
  std::string text;
  for (auto [name, count] : runs) {
    if (!text.empty())
      text += '+';
    text += name.str();
    if (count > 1)
      text += " x" + std::to_string(count);
  }
  return text.empty() ? std::string("layout") : text;
}

void Fuser::materialize(Group &g) {
  SmallVector<Operation *> ops(g.ops.begin(), g.ops.end());
  llvm::sort(ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });

  // Inputs: values from outside; free producers are cloned instead.
  llvm::SetVector<Value> inputs;
  llvm::SetVector<Operation *> freeOps;
  auto collect = [&](Operation *op) {
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (def && g.contains(def))
        continue;
      if (def && def->getBlock() == &block && isFree(def)) {
        if (freeOps.insert(def))
          for (Value v : def->getOperands())
            inputs.insert(v);
        continue;
      }
      inputs.insert(operand);
    }
  };
  for (Operation *op : ops)
    collect(op);

  // Outputs: results read outside the group. Recomputed ops do not export
  // (their original stays for readers outside).
  SmallVector<Value> outputs;
  for (Operation *op : ops) {
    if (isRecomputable(op) && owner.lookup(op) != &g)
      continue;
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(),
                       [&](Operation *user) { return !g.contains(user); }))
        outputs.push_back(result);
  }

  OpBuilder b(block.getTerminator());
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  Location loc = b.getFusedLoc(locs);
  auto kernel = KernelOp::create(b, loc, ValueRange(outputs).getTypes(),
                                 label(ops), inputs.getArrayRef());
  IRMapping map;
  map.map(inputs.getArrayRef(), kernel.getBodyBlock().getArguments());
  OpBuilder inner = OpBuilder::atBlockEnd(&kernel.getBodyBlock());
  SmallVector<Operation *> freeSorted(freeOps.begin(), freeOps.end());
  llvm::sort(freeSorted, [](Operation *a, Operation *c) { return a->isBeforeInBlock(c); });
  for (Operation *op : freeSorted)
    inner.clone(*op, map);
  for (Operation *op : ops)
    inner.clone(*op, map);
  SmallVector<Value> yielded;
  for (Value v : outputs)
    yielded.push_back(map.lookup(v));
  YieldOp::create(inner, loc, yielded);

  for (auto [original, result] : llvm::zip(outputs, kernel.getResults()))
    original.replaceUsesWithIf(result, [&](OpOperand &use) {
      return !g.contains(use.getOwner());
    });
}

struct LoomFusePass : public loom::impl::LoomFusePassBase<LoomFusePass> {
  using LoomFusePassBase::LoomFusePassBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Fuser fuser(func.getBody().front(), prologues, epilogues, horizontal);
    if (failed(fuser.run()))
      signalPassFailure();
  }
};

} // namespace
