//===- EntryChecks.cpp - argument-size checks at the entry of a module ----===//
//
// loom-entry-checks builds `__loom_check_<entry>` for every entry: the static
// dimensions, the signs of the dynamic ones, and every relation between
// argument sizes that upstream `generate-runtime-verification` asserts in the
// body and that depends on argument sizes only (docs/abi.md, "Entry checks").
// buildEntryChecks runs the whole derivation on a clone of a tensor-level
// module and lowers the check functions to the LLVM dialect, for both the CPU
// and the GPU pipelines.

#include "loom/ABI/ModuleABI.h"
#include "loom/ABI/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Index/IR/IndexOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace loom {
#define GEN_PASS_DEF_LOOMENTRYCHECKSPASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

/// On an entry of the clone that buildEntryChecks derives from: how many of
/// its results are the entry's own (the rest are their dynamic sizes).
constexpr llvm::StringLiteral kResultCountAttr = "loom.entry_results";

/// Argument `arg`, dimension `dim`.
struct ArgDim {
  unsigned arg;
  unsigned dim;
};

std::optional<int64_t> constantInt(Value v) {
  APInt value;
  if (matchPattern(v, m_ConstantInt(&value)))
    return value.getSExtValue();
  return std::nullopt;
}

/// Integer comparisons of the arith and index dialects, as one predicate.
enum class Cmp { EQ, NE, SLT, SLE, SGT, SGE, ULT, ULE, UGT, UGE };

struct Comparison {
  Cmp predicate;
  Value lhs, rhs;
};

std::optional<Comparison> asComparison(Value v) {
  if (auto cmp = v.getDefiningOp<arith::CmpIOp>())
    return Comparison{Cmp(int(cmp.getPredicate())), cmp.getLhs(),
                      cmp.getRhs()};
  if (auto cmp = v.getDefiningOp<index::CmpOp>())
    return Comparison{Cmp(int(cmp.getPred())), cmp.getLhs(), cmp.getRhs()};
  return std::nullopt;
}
static_assert(int(arith::CmpIPredicate::uge) == int(Cmp::UGE) &&
                  int(index::IndexCmpPredicate::UGE) == int(Cmp::UGE),
              "arith and index comparisons list their predicates alike");

/// `lhs <kind> rhs` of the arith or index dialect, for a binary op kind.
template <typename ArithOp, typename IndexOp>
std::optional<std::pair<Value, Value>> asBinary(Value v) {
  Operation *op = v.getDefiningOp();
  if (isa_and_nonnull<ArithOp, IndexOp>(op))
    return std::make_pair(op->getOperand(0), op->getOperand(1));
  return std::nullopt;
}

bool isConstant(Value v, int64_t c) { return constantInt(v) == c; }

/// `x` of `max(x - 1, 0) + 1`: what upstream's linalg verification computes
/// as a loop's size from its largest index.
Value matchInferredSize(Value v) {
  auto add = asBinary<arith::AddIOp, index::AddOp>(v);
  if (!add || !isConstant(add->second, 1))
    return {};
  auto max = asBinary<arith::MaxSIOp, index::MaxSOp>(add->first);
  if (!max || !isConstant(max->second, 0))
    return {};
  auto sub = asBinary<arith::SubIOp, index::SubOp>(max->first);
  if (!sub || !isConstant(sub->second, 1))
    return {};
  return sub->first;
}

/// `x` of `min(x - 1, 0)`: the smallest largest-index, checked for
/// negativity.
Value matchSmallestIndex(Value v) {
  auto min = asBinary<arith::MinSIOp, index::MinSOp>(v);
  if (!min || !isConstant(min->second, 0))
    return {};
  auto sub = asBinary<arith::SubIOp, index::SubOp>(min->first);
  if (!sub || !isConstant(sub->second, 1))
    return {};
  return sub->first;
}

/// The atoms of a conjunction (`arith.andi` trees).
void conjuncts(Value v, SmallVectorImpl<Value> &atoms) {
  if (auto andi = v.getDefiningOp<arith::AndIOp>()) {
    conjuncts(andi.getLhs(), atoms);
    conjuncts(andi.getRhs(), atoms);
    return;
  }
  atoms.push_back(v);
}

/// `x` of `0 < x` or `x > 0`.
Value positiveOperand(Value atom) {
  std::optional<Comparison> cmp = asComparison(atom);
  if (!cmp)
    return {};
  if (cmp->predicate == Cmp::SLT && isConstant(cmp->lhs, 0))
    return cmp->rhs;
  if (cmp->predicate == Cmp::SGT && isConstant(cmp->rhs, 0))
    return cmp->lhs;
  return {};
}

/// Builds one entry's check function from the asserts in its body.
class CheckBuilder {
public:
  CheckBuilder(func::FuncOp entry, ModuleOp module)
      : entry(entry), module(module), b(entry.getContext()) {}

  void build();
  /// `__loom_shape_<entry>(ptr dims, sizes...) -> ptr`: stores every result
  /// size, in order, into `dims` as i64 and returns null, or returns a
  /// message naming the first dynamic result size that does not depend on
  /// argument sizes only. Reads the sizes that prepareResultSizes appended
  /// to the entry's results.
  void buildShapes();

private:
  /// (argument, dimension) when `dim` reads a constant dimension of an
  /// argument of the entry.
  std::optional<ArgDim> argDim(tensor::DimOp dim);
  /// True when `v` depends on argument sizes only.
  bool isHoistable(Value v);
  /// Clones the computation of the hoistable `v` into the check function,
  /// with the arguments' sizes for `tensor.dim`, simplifying with `positive`
  /// (values an enclosing condition says are > 0).
  Value hoist(Value v, IRMapping &mapping, const DenseSet<Value> &positive);
  /// The relation `cond` (in the check function) in words.
  std::string describe(Value cond);
  std::string render(Value v);
  void addCheck(Value cond, const std::string &relation, Location origin);
  void addRelation(cf::AssertOp op);
  /// A hoistable value for the size of loop `k` of `op`, or null.
  Value loopSize(linalg::LinalgOp op, unsigned k);
  void addBodyRelations(cf::AssertOp op, linalg::LinalgOp linalgOp);
  void finish();

  func::FuncOp entry;
  ModuleOp module;
  OpBuilder b;
  func::FuncOp checkFn;
  /// The check function's size parameters, per argument and dimension.
  SmallVector<SmallVector<Value>> sizes;
  DenseMap<Value, ArgDim> sizeOf;
  DenseMap<Value, bool> hoistable;
  struct Check {
    Value cond;
    std::string message;
  };
  SmallVector<Check> checks;
  llvm::StringMap<unsigned> byRelation;
};

std::optional<ArgDim> CheckBuilder::argDim(tensor::DimOp dim) {
  auto arg = dyn_cast<BlockArgument>(dim.getSource());
  if (!arg || arg.getOwner() != &entry.getBody().front())
    return std::nullopt;
  std::optional<int64_t> d = constantInt(dim.getIndex());
  auto type = cast<RankedTensorType>(arg.getType());
  if (!d || *d < 0 || *d >= type.getRank())
    return std::nullopt;
  return ArgDim{arg.getArgNumber(), unsigned(*d)};
}

bool CheckBuilder::isHoistable(Value v) {
  if (auto it = hoistable.find(v); it != hoistable.end())
    return it->second;
  bool result = false;
  Operation *def = v.getDefiningOp();
  if (auto dim = dyn_cast_or_null<tensor::DimOp>(def)) {
    result = argDim(dim).has_value();
  } else if (def && def->getNumRegions() == 0 && isPure(def) &&
             isa<arith::ArithDialect, index::IndexDialect,
                 affine::AffineDialect>(def->getDialect())) {
    // Pure: a division, whose divisor might be 0, is not hoisted (the check
    // function computes every condition unconditionally).
    result = llvm::all_of(def->getOperands(),
                          [&](Value operand) { return isHoistable(operand); });
  }
  hoistable[v] = result;
  return result;
}

Value CheckBuilder::hoist(Value v, IRMapping &mapping,
                          const DenseSet<Value> &positive) {
  if (Value mapped = mapping.lookupOrNull(v))
    return mapped;
  Operation *def = v.getDefiningOp();
  Value result;
  if (auto dim = dyn_cast<tensor::DimOp>(def)) {
    ArgDim ad = *argDim(dim);
    result = sizes[ad.arg][ad.dim];
  } else if (Value x = matchInferredSize(v); x && positive.contains(x)) {
    result = hoist(x, mapping, positive);
  } else if (Value x = matchSmallestIndex(v); x && positive.contains(x)) {
    result = arith::ConstantIndexOp::create(b, v.getLoc(), 0);
  } else {
    for (Value operand : def->getOperands())
      hoist(operand, mapping, positive);
    Operation *clone = b.clone(*def, mapping);
    SmallVector<Value> folded;
    if (succeeded(b.tryFold(clone, folded)) && !folded.empty()) {
      clone->erase();
      for (auto [from, to] : llvm::zip(def->getResults(), folded))
        mapping.map(from, to);
    }
    return mapping.lookup(v);
  }
  mapping.map(v, result);
  return result;
}

const char *predicateText(Cmp predicate) {
  switch (predicate) {
  case Cmp::EQ:
    return "==";
  case Cmp::NE:
    return "!=";
  case Cmp::SLT:
  case Cmp::ULT:
    return "<";
  case Cmp::SLE:
  case Cmp::ULE:
    return "<=";
  case Cmp::SGT:
  case Cmp::UGT:
    return ">";
  case Cmp::SGE:
  case Cmp::UGE:
    return ">=";
  }
  return "?";
}

std::string CheckBuilder::render(Value v) {
  if (auto it = sizeOf.find(v); it != sizeOf.end())
    return "argument " + std::to_string(it->second.arg) + " dimension " +
           std::to_string(it->second.dim);
  if (std::optional<int64_t> c = constantInt(v))
    return std::to_string(*c);
  if (std::optional<Comparison> cmp = asComparison(v))
    return render(cmp->lhs) + " " + predicateText(cmp->predicate) + " " +
           render(cmp->rhs);
  Operation *def = v.getDefiningOp();
  if (!def)
    return "?";
  auto infix = [&](StringRef op) {
    return "(" + render(def->getOperand(0)) + " " + op.str() + " " +
           render(def->getOperand(1)) + ")";
  };
  auto call = [&](StringRef fn) {
    return fn.str() + "(" + render(def->getOperand(0)) + ", " +
           render(def->getOperand(1)) + ")";
  };
  if (isa<arith::AddIOp, index::AddOp>(def))
    return infix("+");
  if (isa<arith::SubIOp, index::SubOp>(def))
    return infix("-");
  if (isa<arith::MulIOp, index::MulOp>(def))
    return infix("*");
  if (isa<arith::AndIOp>(def))
    return infix("and");
  if (isa<arith::OrIOp>(def))
    return infix("or");
  if (isa<arith::MaxSIOp, index::MaxSOp>(def))
    return call("max");
  if (isa<arith::MinSIOp, index::MinSOp>(def))
    return call("min");
  if (auto xori = dyn_cast<arith::XOrIOp>(def);
      xori && isConstant(xori.getRhs(), 1))
    return "not (" + render(xori.getLhs()) + ")";
  if (auto select = dyn_cast<arith::SelectOp>(def))
    return "(" + render(select.getCondition()) + " ? " +
           render(select.getTrueValue()) + " : " +
           render(select.getFalseValue()) + ")";
  if (def->getNumOperands() == 1 &&
      isa<arith::IndexCastOp, arith::IndexCastUIOp, index::CastSOp,
          index::CastUOp>(def))
    return render(def->getOperand(0));
  std::string text = def->getName().getStringRef().str() + "(";
  for (auto [i, operand] : llvm::enumerate(def->getOperands()))
    text += (i ? ", " : "") + render(operand);
  return text + ")";
}

std::string CheckBuilder::describe(Value cond) {
  std::optional<Comparison> cmp = asComparison(cond);
  if (cmp && cmp->predicate == Cmp::EQ) {
    auto lhs = sizeOf.find(cmp->lhs), rhs = sizeOf.find(cmp->rhs);
    auto later = [](ArgDim a, ArgDim b) {
      return a.arg != b.arg ? a.arg > b.arg : a.dim > b.dim;
    };
    if (lhs != sizeOf.end() && rhs != sizeOf.end()) {
      ArgDim first = lhs->second, second = rhs->second;
      if (later(second, first))
        std::swap(first, second);
      return "argument " + std::to_string(first.arg) + " dimension " +
             std::to_string(first.dim) + " (?) must equal argument " +
             std::to_string(second.arg) + " dimension " +
             std::to_string(second.dim);
    }
    Value size = lhs != sizeOf.end() ? cmp->lhs : cmp->rhs;
    Value other = size == cmp->lhs ? cmp->rhs : cmp->lhs;
    if (sizeOf.count(size))
      if (std::optional<int64_t> c = constantInt(other))
        return render(size) + " (?) must be " + std::to_string(*c);
  }
  if (cmp && (cmp->predicate == Cmp::SLE || cmp->predicate == Cmp::ULE) &&
      sizeOf.count(cmp->lhs) && sizeOf.count(cmp->rhs))
    return render(cmp->rhs) + " (?) must be at least " + render(cmp->lhs);
  return "the argument sizes must satisfy " + render(cond);
}

void CheckBuilder::addCheck(Value cond, const std::string &relation,
                            Location origin) {
  auto [it, inserted] = byRelation.try_emplace(relation, checks.size());
  if (!inserted) {
    // The same relation, asserted again (maybe under other conditions):
    // one check, one message.
    Check &check = checks[it->second];
    check.cond = arith::AndIOp::create(b, origin, check.cond, cond);
    return;
  }
  std::string message = entry.getSymName().str() + ": " + relation;
  if (auto file = dyn_cast<FileLineColLoc>(origin))
    message += " (required at " +
               llvm::sys::path::filename(file.getFilename().getValue()).str() +
               ":" + std::to_string(file.getLine()) + ":" +
               std::to_string(file.getColumn()) + ")";
  checks.push_back({cond, message});
}

bool isTriviallyTrue(Value cond) {
  if (isConstant(cond, 1) || isConstant(cond, -1))
    return true;
  std::optional<Comparison> cmp = asComparison(cond);
  if (!cmp)
    return false;
  switch (cmp->predicate) {
  case Cmp::EQ:
  case Cmp::SLE:
  case Cmp::SGE:
  case Cmp::ULE:
  case Cmp::UGE:
    return cmp->lhs == cmp->rhs;
  default:
    return false;
  }
}

Value CheckBuilder::loopSize(linalg::LinalgOp op, unsigned k) {
  OpBuilder before(op);
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type)
      continue;
    for (auto [r, expr] : llvm::enumerate(map.getResults())) {
      if (expr != getAffineDimExpr(k, op.getContext()))
        continue;
      Value size;
      if (!type.isDynamicDim(r))
        size = arith::ConstantIndexOp::create(before, op.getLoc(),
                                              type.getDimSize(r));
      else if (isa<BlockArgument>(operand.get()) &&
               cast<BlockArgument>(operand.get()).getOwner() ==
                   &entry.getBody().front())
        size = tensor::DimOp::create(before, op.getLoc(), operand.get(),
                                     int64_t(r));
      else if (auto empty = operand.get().getDefiningOp<tensor::EmptyOp>())
        size = empty.getDynamicSize(r);
      if (size && isHoistable(size))
        return size;
    }
  }
  return {};
}

/// `k` when `v` is `linalg.index k` of `op`.
std::optional<unsigned> loopIndex(Value v, linalg::LinalgOp op) {
  auto index = v.getDefiningOp<linalg::IndexOp>();
  if (!index || index->getParentOp() != op.getOperation())
    return std::nullopt;
  return index.getDim();
}

void CheckBuilder::addBodyRelations(cf::AssertOp op,
                                    linalg::LinalgOp linalgOp) {
  // Upstream verifies a tensor.extract in a linalg body per element: the
  // conjuncts `i < bound` for a loop index i hold for every iteration when
  // they hold for the last, that is when the loop's size is <= bound (where
  // every loop runs at least once).
  SmallVector<Value> atoms;
  conjuncts(op.getArg(), atoms);
  for (Value atom : atoms) {
    std::optional<Comparison> cmp = asComparison(atom);
    if (!cmp || (cmp->predicate != Cmp::SLT && cmp->predicate != Cmp::ULT) ||
        !isHoistable(cmp->rhs))
      continue;
    std::optional<unsigned> k = loopIndex(cmp->lhs, linalgOp);
    if (!k)
      continue;
    Value size = loopSize(linalgOp, *k);
    if (!size)
      continue;
    IRMapping mapping;
    DenseSet<Value> positive;
    Location loc = op.getLoc();
    Value cond = b.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::sle, hoist(size, mapping, positive),
        hoist(cmp->rhs, mapping, positive));
    if (isTriviallyTrue(cond))
      continue;
    std::string relation = describe(cond);
    for (unsigned l = 0; l < linalgOp.getNumLoops(); ++l) {
      Value other = loopSize(linalgOp, l);
      if (!other)
        continue;
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value runs = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                         hoist(other, mapping, positive), zero);
      Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
      Value skipped = arith::XOrIOp::create(b, loc, runs, one);
      cond = arith::OrIOp::create(b, loc, skipped, cond);
    }
    addCheck(cond, relation, loc);
  }
}

void CheckBuilder::addRelation(cf::AssertOp op) {
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op->getParentOp()))
    return addBodyRelations(op, linalgOp);
  if (!isHoistable(op.getArg()))
    return;
  // The conditions of the enclosing scf.if ops, which must be hoistable too.
  SmallVector<Value> guards;
  for (Operation *parent = op->getParentOp(); parent != entry;
       parent = parent->getParentOp()) {
    auto ifOp = dyn_cast<scf::IfOp>(parent);
    if (!ifOp || !isHoistable(ifOp.getCondition()) ||
        !ifOp.getThenRegion().isAncestor(op->getParentRegion()))
      return;
    guards.push_back(ifOp.getCondition());
  }
  DenseSet<Value> positive;
  for (Value guard : guards) {
    SmallVector<Value> atoms;
    conjuncts(guard, atoms);
    for (Value atom : atoms)
      if (Value x = positiveOperand(atom))
        positive.insert(x);
  }
  IRMapping mapping;
  Value cond = hoist(op.getArg(), mapping, positive);
  if (isTriviallyTrue(cond))
    return;
  std::string relation = describe(cond);
  // loom-entry-size-asserts: "loom-size: argument 0: tensor<?x4xf32>" or
  // "loom-size: value: tensor<?x?xf32>".
  StringRef sized = op.getMsg();
  if (sized.consume_front(loom::abi::kSizeAssertPrefix)) {
    auto [what, type] = sized.split(": ");
    relation = what == "value"
                   ? "the argument sizes make a " + type.str() +
                         " value larger than 2^63 - 1 bytes"
                   : "the argument sizes make " + what.str() + " (" +
                         type.str() + ") larger than 2^63 - 1 bytes";
  }
  // cond holds where the guards hold: guard => cond.
  Location loc = op.getLoc();
  for (Value guard : guards) {
    Value g = hoist(guard, mapping, positive);
    Value one = arith::ConstantIntOp::create(b, loc, 1, 1);
    Value notG = arith::XOrIOp::create(b, loc, g, one);
    cond = arith::OrIOp::create(b, loc, notG, cond);
  }
  addCheck(cond, relation, loc);
}

void CheckBuilder::build() {
  MLIRContext *ctx = entry.getContext();
  Location loc = entry.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  SmallVector<Type> paramTypes;
  for (Type t : entry.getArgumentTypes())
    paramTypes.append(cast<RankedTensorType>(t).getRank(),
                      IndexType::get(ctx));
  b.setInsertionPointToEnd(module.getBody());
  checkFn = func::FuncOp::create(
      b, loc, "__loom_check_" + entry.getSymName().str(),
      FunctionType::get(ctx, paramTypes, {ptr}));
  checkFn.setPrivate();
  Block *body = checkFn.addEntryBlock();
  b.setInsertionPointToStart(body);

  unsigned p = 0;
  for (auto [i, t] : llvm::enumerate(entry.getArgumentTypes())) {
    auto type = cast<RankedTensorType>(t);
    sizes.emplace_back();
    for (auto [d, extent] : llvm::enumerate(type.getShape())) {
      Value size = body->getArgument(p++);
      sizes.back().push_back(size);
      sizeOf[size] = ArgDim{unsigned(i), unsigned(d)};
      std::string where = "argument " + std::to_string(i) + " dimension " +
                          std::to_string(d);
      if (ShapedType::isDynamic(extent)) {
        Value zero = arith::ConstantIndexOp::create(b, loc, 0);
        addCheck(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, size,
                                       zero),
                 where + " (?) must not be negative", UnknownLoc::get(ctx));
      } else {
        Value expected = arith::ConstantIndexOp::create(b, loc, extent);
        addCheck(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, size,
                                       expected),
                 where + " must be " + std::to_string(extent),
                 UnknownLoc::get(ctx));
      }
    }
  }
  entry.walk([&](cf::AssertOp op) { addRelation(op); });
  finish();
}

void CheckBuilder::finish() {
  Location loc = checkFn.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  // The first failed check's message: select from the last check back.
  Value result = LLVM::ZeroOp::create(b, loc, ptr);
  SmallVector<Value> messages;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(checkFn);
    for (auto [k, check] : llvm::enumerate(checks)) {
      std::string text = check.message;
      text.push_back('\0');
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
      LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                             LLVM::Linkage::Internal,
                             checkFn.getSymName().str() + "_" +
                                 std::to_string(k),
                             b.getStringAttr(text));
    }
  }
  for (unsigned k = checks.size(); k-- > 0;) {
    Value message = LLVM::AddressOfOp::create(
        b, loc, ptr, checkFn.getSymName().str() + "_" + std::to_string(k));
    result = arith::SelectOp::create(b, loc, checks[k].cond, result, message);
  }
  func::ReturnOp::create(b, loc, result);
}

void CheckBuilder::buildShapes() {
  auto count = entry->getAttrOfType<IntegerAttr>(kResultCountAttr);
  if (!count)
    return;
  MLIRContext *ctx = entry.getContext();
  Location loc = entry.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  unsigned numResults = count.getInt();
  auto ret = dyn_cast<func::ReturnOp>(entry.getBody().back().getTerminator());
  bool oneReturn = entry.getBody().hasOneBlock() && ret;

  SmallVector<Type> paramTypes{ptr};
  for (Type t : entry.getArgumentTypes())
    paramTypes.append(cast<RankedTensorType>(t).getRank(),
                      IndexType::get(ctx));
  b.setInsertionPointToEnd(module.getBody());
  std::string name = "__loom_shape_" + entry.getSymName().str();
  auto shapeFn = func::FuncOp::create(b, loc, name,
                                      FunctionType::get(ctx, paramTypes, {ptr}));
  shapeFn.setPrivate();
  Block *body = shapeFn.addEntryBlock();
  b.setInsertionPointToStart(body);
  // The argument sizes are this function's parameters now.
  SmallVector<SmallVector<Value>> checkSizes = std::move(sizes);
  sizes.clear();
  unsigned p = 1;
  for (Type t : entry.getArgumentTypes()) {
    sizes.emplace_back();
    for (int64_t d = 0, e = cast<RankedTensorType>(t).getRank(); d < e; ++d)
      sizes.back().push_back(body->getArgument(p++));
  }
  IRMapping mapping;
  DenseSet<Value> positive;
  Value dims = body->getArgument(0);
  unsigned extra = numResults;
  int64_t k = 0;
  std::string missing;
  for (unsigned r = 0; r < numResults && missing.empty(); ++r) {
    auto type = cast<RankedTensorType>(entry.getResultTypes()[r]);
    for (int64_t d = 0; d < type.getRank(); ++d, ++k) {
      Value size;
      if (!type.isDynamicDim(d)) {
        size = arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
      } else {
        Value v = oneReturn ? ret.getOperand(extra++) : Value();
        if (!v || !isHoistable(v)) {
          missing = entry.getSymName().str() + ": result " +
                    std::to_string(r) + " dimension " + std::to_string(d) +
                    " (?) cannot be computed from the argument sizes before "
                    "the call, so the entry takes no destinations";
          break;
        }
        size = hoist(v, mapping, positive);
      }
      Value word = arith::IndexCastOp::create(b, loc, b.getI64Type(), size);
      Value slot = LLVM::GEPOp::create(b, loc, ptr, b.getI64Type(), dims,
                                       ArrayRef<LLVM::GEPArg>{int32_t(k)});
      LLVM::StoreOp::create(b, loc, word, slot);
    }
  }
  Value result = LLVM::ZeroOp::create(b, loc, ptr);
  if (!missing.empty()) {
    missing.push_back('\0');
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(shapeFn);
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), missing.size());
      LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, name + "_missing",
                             b.getStringAttr(missing));
    }
    result = LLVM::AddressOfOp::create(b, loc, ptr, name + "_missing");
  }
  func::ReturnOp::create(b, loc, result);
  sizes = std::move(checkSizes);
}

struct LoomEntryChecksPass
    : loom::impl::LoomEntryChecksPassBase<LoomEntryChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isDeclaration())
        entries.push_back(func);
    for (func::FuncOp entry : entries) {
      if (!llvm::all_of(entry.getArgumentTypes(),
                        llvm::IsaPred<RankedTensorType>)) {
        entry.emitError() << "entry @" << entry.getSymName()
                          << ": loom-entry-checks needs ranked tensor "
                             "arguments";
        return signalPassFailure();
      }
      CheckBuilder builder(entry, module);
      builder.build();
      builder.buildShapes();
    }
  }
};

} // namespace

/// In a clone of the tensor-level module: appends to every entry's results
/// the size of each dynamic dimension of its results (`tensor.dim` before
/// the return, which resolve-ranked-shaped-type-result-dims then expresses
/// in argument sizes where it can), and records the entry's own result
/// count for buildShapes.
static void prepareResultSizes(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isDeclaration())
      continue;
    unsigned numResults = func.getNumResults();
    func->setAttr(kResultCountAttr,
                  IntegerAttr::get(IntegerType::get(func.getContext(), 64),
                                   numResults));
    auto ret = dyn_cast<func::ReturnOp>(func.getBody().back().getTerminator());
    if (!func.getBody().hasOneBlock() || !ret)
      continue;
    OpBuilder b(ret);
    SmallVector<Value> operands(ret.getOperands());
    SmallVector<Type> types(func.getResultTypes());
    for (Value v : ret.getOperands()) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type)
        continue;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d)) {
          operands.push_back(tensor::DimOp::create(b, ret.getLoc(), v, d));
          types.push_back(b.getIndexType());
        }
    }
    ret->setOperands(operands);
    func.setFunctionType(
        FunctionType::get(func.getContext(), func.getArgumentTypes(), types));
  }
}

FailureOr<OwningOpRef<ModuleOp>>
loom::abi::buildEntryChecks(ModuleOp module, bool indexChecks) {
  MLIRContext *ctx = module.getContext();
  // The check functions and their messages are named __loom_check_*,
  // __loom_shape_* and __loom_index_*.
  auto isCheckSymbol = [](StringRef name) {
    return name.starts_with("__loom_check_") ||
           name.starts_with("__loom_shape_") ||
           name.starts_with("__loom_index_");
  };
  for (Operation &op : module.getOps())
    if (auto symbol = dyn_cast<SymbolOpInterface>(&op);
        symbol && isCheckSymbol(symbol.getName()))
      return op.emitError() << "the symbol '" << symbol.getName()
                            << "' is reserved for the module ABI (names "
                               "starting with __loom_check_, __loom_shape_ "
                               "or __loom_index_); rename it";
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> checks = ModuleOp::create(b, module.getLoc());
  OwningOpRef<ModuleOp> clone = module.clone();
  if (indexChecks) {
    // The index checks read the loom ops themselves (before any lowering)
    // and have no asserts for the derivation below to see: built first and
    // moved out, with snprintf's declaration.
    PassManager index(ctx);
    index.addPass(loom::createLoomEntryIndexChecksPass());
    if (failed(index.run(*clone)))
      return module.emitError("cannot build the entries' index checks");
    for (Operation &op : llvm::make_early_inc_range(clone->getOps())) {
      auto symbol = dyn_cast<SymbolOpInterface>(&op);
      if (symbol && (symbol.getName().starts_with("__loom_index_") ||
                     (isa<LLVM::LLVMFuncOp>(op) &&
                      symbol.getName() == "snprintf")))
        op.moveBefore(checks->getBody(), checks->getBody()->end());
    }
  }
  prepareResultSizes(*clone);
  // The body at tensor level, as the CPU pipeline sees it, with upstream's
  // runtime verification of every linalg and tensor op; the GPU pipeline
  // replaces loom ops by kernels before linalg, so both derive their checks
  // here.
  PassManager derive(ctx);
  if (failed(parsePassPipeline(
          "convert-loom-to-linalg,"
          "func.func(convert-elementwise-to-linalg),"
          "loom-entry-size-asserts,"
          "generate-runtime-verification{verbose-level=0},"
          "resolve-ranked-shaped-type-result-dims,canonicalize,cse,"
          "loom-entry-checks",
          derive, llvm::errs())))
    return module.emitError("loom: malformed entry-check pipeline");
  if (failed(derive.run(*clone)))
    return module.emitError("cannot derive the entries' argument checks");

  for (Operation &op : llvm::make_early_inc_range(clone->getOps())) {
    auto symbol = dyn_cast<SymbolOpInterface>(&op);
    if (symbol && (symbol.getName().starts_with("__loom_check_") ||
                   symbol.getName().starts_with("__loom_shape_")))
      op.moveBefore(checks->getBody(), checks->getBody()->end());
  }
  // Public while lowering, so that symbol-dce keeps the functions and drops
  // the messages of checks that folded away; addModuleABI makes every
  // function but the ABI's internal.
  for (auto fn : checks->getOps<func::FuncOp>())
    fn.setPublic();
  PassManager lower(ctx);
  if (failed(parsePassPipeline(
          "canonicalize,cse,lower-affine,symbol-dce,convert-scf-to-cf,"
          "convert-to-llvm,reconcile-unrealized-casts",
          lower, llvm::errs())))
    return module.emitError("loom: malformed entry-check pipeline");
  if (failed(lower.run(*checks)))
    return module.emitError("cannot lower the entries' argument checks");
  return checks;
}
