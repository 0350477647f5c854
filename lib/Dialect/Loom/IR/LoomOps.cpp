//===- LoomOps.cpp - the loom dialect and its op verifiers ------------------===//
//
// Every rule of DIALECT.md that can be seen statically is checked here and
// reported at the op's location. Debian's LLVM is built without assertions,
// so later passes rely on these checks rather than on asserts of their own.

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace loom;

#include "loom/Dialect/Loom/IR/LoomDialect.cpp.inc"
#include "loom/Dialect/Loom/IR/LoomEnums.cpp.inc"

void LoomDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "loom/Dialect/Loom/IR/LoomOps.cpp.inc"
      >();
}

Operation *LoomDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

//===----------------------------------------------------------------------===//
// Verifier helpers. Each returns failure() after emitting one error that says
// what was expected and what was found.
//===----------------------------------------------------------------------===//

namespace {
/// A named operand or result, for diagnostics: "'q'" or "result".
struct Named {
  Value value;
  StringRef name;

  RankedTensorType type() const {
    return cast<RankedTensorType>(value.getType());
  }
  int64_t dim(unsigned i) const { return type().getDimSize(i); }
  std::string quoted() const {
    return name.contains("result") ? name.str() : ("'" + name + "'").str();
  }
};
} // namespace

static std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

static bool isLoomFloat(Type t) { return t.isF32() || t.isF16() || t.isBF16(); }

static LogicalResult expectRank(Operation *op, const Named &v, int64_t rank,
                                StringRef layout) {
  if (v.type().getRank() == rank)
    return success();
  return op->emitOpError() << v.quoted() << " must have rank " << rank << " ("
                           << layout << "), found rank " << v.type().getRank()
                           << " in " << typeStr(v.type());
}

static LogicalResult expectRankAtLeast(Operation *op, const Named &v,
                                       int64_t rank, StringRef layout) {
  if (v.type().getRank() >= rank)
    return success();
  return op->emitOpError() << v.quoted() << " must have rank at least " << rank
                           << " (" << layout << "), found rank "
                           << v.type().getRank();
}

static LogicalResult expectFloat(Operation *op, const Named &v) {
  Type e = v.type().getElementType();
  if (isLoomFloat(e))
    return success();
  return op->emitOpError() << v.quoted()
                           << " must have an f32, f16 or bf16 element type, "
                              "found "
                           << typeStr(e);
}

static LogicalResult expectElementType(Operation *op, const Named &v,
                                       Type expected, StringRef what) {
  Type e = v.type().getElementType();
  if (e == expected)
    return success();
  return op->emitOpError() << v.quoted() << " must have element type "
                           << typeStr(expected) << " (" << what << "), found "
                           << typeStr(e);
}

static LogicalResult expectSameElementType(Operation *op, const Named &v,
                                           const Named &ref) {
  Type e = v.type().getElementType(), r = ref.type().getElementType();
  if (e == r)
    return success();
  return op->emitOpError() << v.quoted() << " element type " << typeStr(e)
                           << " must match " << ref.quoted()
                           << " element type " << typeStr(r);
}

/// Dimension `ai` of `a` must equal dimension `bi` of `b` where both are
/// static. `what` names the dimension in the contract's terms (B, Skv, ...).
static LogicalResult expectDimsMatch(Operation *op, const Named &a, unsigned ai,
                                     const Named &b, unsigned bi,
                                     StringRef what) {
  int64_t x = a.dim(ai), y = b.dim(bi);
  if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
    return success();
  return op->emitOpError() << a.quoted() << " dimension " << ai << " (" << what
                           << ") must equal " << b.quoted() << " dimension "
                           << bi << ": found " << x << " and " << y;
}

/// Dimension `i` of `v` must be `expected` where it is static; `what`
/// explains where `expected` comes from.
static LogicalResult expectDimIs(Operation *op, const Named &v, unsigned i,
                                 int64_t expected, StringRef what) {
  int64_t x = v.dim(i);
  if (ShapedType::isDynamic(x) || ShapedType::isDynamic(expected) ||
      x == expected)
    return success();
  return op->emitOpError() << v.quoted() << " dimension " << i << " (" << what
                           << ") must be " << expected << ", found " << x;
}

/// `v` has the shape and element type of `ref` (dynamic dims match anything).
static LogicalResult expectSameTypeAs(Operation *op, const Named &v,
                                      const Named &ref) {
  if (v.type().getRank() != ref.type().getRank())
    return op->emitOpError()
           << v.quoted() << " must have the rank of " << ref.quoted() << " ("
           << ref.type().getRank() << "), found rank " << v.type().getRank();
  for (unsigned i = 0, e = v.type().getRank(); i < e; ++i)
    if (failed(expectDimsMatch(op, v, i, ref, i, "same shape")))
      return failure();
  return expectSameElementType(op, v, ref);
}

static LogicalResult expectPositive(Operation *op, StringRef attr,
                                    int64_t value) {
  if (value > 0)
    return success();
  return op->emitOpError() << "attribute '" << attr
                           << "' must be positive, found " << value;
}

/// A float for diagnostics: "nan", "inf", "-inf" or the value.
static std::string floatStr(const APFloat &value) {
  if (value.isNaN())
    return "nan";
  if (value.isInfinity())
    return value.isNegative() ? "-inf" : "inf";
  SmallString<16> s;
  value.toString(s);
  return std::string(s);
}

static LogicalResult expectFinite(Operation *op, StringRef attr,
                                  std::optional<APFloat> value) {
  if (!value || value->isFinite())
    return success();
  return op->emitOpError() << "attribute '" << attr
                           << "' must be finite, found " << floatStr(*value);
}

static LogicalResult expectEnum(Operation *op, StringRef attr, StringRef value,
                                bool valid, StringRef allowed) {
  if (valid)
    return success();
  return op->emitOpError() << "attribute '" << attr << "' must be one of "
                            << allowed << ", found \"" << value << "\"";
}

/// A discardable attribute without a dialect prefix is almost always a
/// misspelt option (`casual`); MLIR would keep and ignore it silently.
template <typename OpTy>
static LogicalResult verifyAttributeNames(OpTy op) {
  for (NamedAttribute attr : op->getDiscardableAttrs()) {
    if (attr.getName().strref().contains('.'))
      continue;
    auto known = OpTy::getAttributeNames();
    InFlightDiagnostic diag = op.emitOpError()
                              << "has unknown attribute '" << attr.getName().getValue()
                              << "'";
    if (known.empty())
      diag << "; it takes no attributes";
    else
      diag << "; known attributes: " << llvm::join(known, ", ");
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Attention family
//===----------------------------------------------------------------------===//

/// Shapes and element types shared by the attention ops:
/// q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv],
/// result [B, Hq, Sq, Dv].
static LogicalResult verifyAttentionOperands(Operation *op, Named q, Named k,
                                             Named v, Named result) {
  if (failed(expectRank(op, q, 4, "[B, Hq, Sq, D]")) ||
      failed(expectRank(op, k, 4, "[B, Hkv, Skv, D]")) ||
      failed(expectRank(op, v, 4, "[B, Hkv, Skv, Dv]")) ||
      failed(expectRank(op, result, 4, "[B, Hq, Sq, Dv]")) ||
      failed(expectFloat(op, q)) || failed(expectSameElementType(op, k, q)) ||
      failed(expectSameElementType(op, v, q)) ||
      failed(expectSameElementType(op, result, q)))
    return failure();
  if (failed(expectDimsMatch(op, k, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, v, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, result, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, v, 1, k, 1, "Hkv")) ||
      failed(expectDimsMatch(op, result, 1, q, 1, "Hq")) ||
      failed(expectDimsMatch(op, v, 2, k, 2, "Skv")) ||
      failed(expectDimsMatch(op, result, 2, q, 2, "Sq")) ||
      failed(expectDimsMatch(op, k, 3, q, 3, "D")) ||
      failed(expectDimsMatch(op, result, 3, v, 3, "Dv")))
    return failure();
  return success();
}

/// Hq % Hkv == 0 (GQA), with Hkv > 0 so that the head mapping is defined.
static LogicalResult verifyHeadGroups(Operation *op, Named q, Named k) {
  int64_t hq = q.dim(1), hkv = k.dim(1);
  if (ShapedType::isDynamic(hkv))
    return success();
  if (hkv == 0)
    return op->emitOpError()
           << "'k' dimension 1 (Hkv) must be positive, found 0";
  if (!ShapedType::isDynamic(hq) && hq % hkv != 0)
    return op->emitOpError()
           << "query heads (Hq = " << hq
           << ") must be a multiple of key/value heads (Hkv = " << hkv << ")";
  return success();
}

static LogicalResult verifySoftcap(Operation *op,
                                   std::optional<APFloat> softcap) {
  if (!softcap)
    return success();
  if (failed(expectFinite(op, "softcap", softcap)))
    return failure();
  if (softcap->isNegative() || softcap->isZero())
    return op->emitOpError() << "attribute 'softcap' must be positive, found "
                             << floatStr(*softcap);
  return success();
}

/// ceil(s / block), or dynamic when s is.
static int64_t numBlocks(int64_t s, int64_t block) {
  if (ShapedType::isDynamic(s))
    return ShapedType::kDynamic;
  return static_cast<int64_t>(llvm::divideCeil(static_cast<uint64_t>(s),
                                               static_cast<uint64_t>(block)));
}

/// The optional log-sum-exp result: [B, Hq, Sq] x f32, matching q.
static LogicalResult verifyLogSumExp(Operation *op, Value lse, Named q) {
  if (!lse)
    return success();
  Named l{lse, "lse"};
  if (failed(expectRank(op, l, 3, "[B, Hq, Sq]")) ||
      failed(expectElementType(op, l, Float32Type::get(op->getContext()),
                               "the log-sum-exp is f32")) ||
      failed(expectDimsMatch(op, l, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, l, 1, q, 1, "Hq")) ||
      failed(expectDimsMatch(op, l, 2, q, 2, "Sq")))
    return failure();
  return success();
}

/// The serving masks shared by both softmax attention ops: `window` (one
/// positive value, or one value >= 0 per query head with a static Hq), which
/// requires `causal`; `sink >= 0`; `sink_logits : [Hq] x f32`.
static LogicalResult verifyServingMasks(Operation *op, Attribute window,
                                        IntegerAttr sink,
                                        Value sinkLogits, bool causal,
                                        Named q) {
  if (auto w = dyn_cast_or_null<IntegerAttr>(window)) {
    if (failed(expectPositive(op, "window", w.getValue().getSExtValue())))
      return failure();
  } else if (auto ws = dyn_cast_or_null<DenseI64ArrayAttr>(window)) {
    int64_t hq = q.dim(1);
    if (ShapedType::isDynamic(hq))
      return op->emitOpError()
             << "attribute 'window' with one value per query head requires a "
                "static Hq ('q' dimension 1)";
    if (static_cast<int64_t>(ws.size()) != hq)
      return op->emitOpError()
             << "attribute 'window' must have one value per query head (Hq = "
             << hq << "), found " << ws.size();
    for (auto [h, w] : llvm::enumerate(ws.asArrayRef()))
      if (w < 0)
        return op->emitOpError()
               << "attribute 'window' value for head " << h
               << " must be >= 0 (0: no window), found " << w;
  }
  if (window && !causal)
    return op->emitOpError() << "attribute 'window' requires 'causal'";
  if (sink && sink.getValue().isNegative())
    return op->emitOpError() << "attribute 'sink' must be >= 0, found "
                             << sink.getValue().getSExtValue();
  if (sinkLogits) {
    Named s{sinkLogits, "sink_logits"};
    if (failed(expectRank(op, s, 1, "[Hq]")) ||
        failed(expectElementType(op, s, Float32Type::get(op->getContext()),
                                 "one logit per query head")) ||
        failed(expectDimsMatch(op, s, 0, q, 1, "Hq")))
      return failure();
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, k{getK(), "k"}, v{getV(), "v"},
      r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(verifyAttentionOperands(op, q, k, v, r)) ||
      failed(verifyLogSumExp(op, getLse(), q)) ||
      failed(verifyHeadGroups(op, q, k)) ||
      failed(expectFinite(op, "scale", getScale())) ||
      failed(verifySoftcap(op, getSoftcap())))
    return failure();
  return verifyServingMasks(op, getWindowAttr(), getSinkAttr(), getSinkLogits(),
                            getCausal(), q);
}

/// The block layout: [Lb, Lh, NQB, NKB] x i1 with Lb in {1, B}, Lh in {1, Hq}.
static LogicalResult verifyLayout(Operation *op, Named layout, Named q, Named k,
                                  int64_t blockQ, int64_t blockK) {
  if (failed(expectPositive(op, "block_q", blockQ)) ||
      failed(expectPositive(op, "block_k", blockK)) ||
      failed(expectRank(op, layout, 4, "[Lb, Lh, NQB, NKB]")) ||
      failed(expectElementType(op, layout,
                               IntegerType::get(op->getContext(), 1),
                               "a block mask")))
    return failure();
  for (auto [i, what] : {std::pair<unsigned, StringRef>{0, "B"}, {1, "Hq"}}) {
    int64_t l = layout.dim(i), full = q.dim(i);
    if (ShapedType::isDynamic(l) || l == 1 || ShapedType::isDynamic(full) ||
        l == full)
      continue;
    return op->emitOpError()
           << "'layout' dimension " << i << " must be 1 or " << what << " ("
           << full << "), found " << l;
  }
  if (failed(expectDimIs(op, layout, 2, numBlocks(q.dim(2), blockQ),
                         "NQB = ceil(Sq / block_q)")) ||
      failed(expectDimIs(op, layout, 3, numBlocks(k.dim(2), blockK),
                         "NKB = ceil(Skv / block_k)")))
    return failure();
  return success();
}

LogicalResult BlockSparseAttentionOp::verify() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, k{getK(), "k"}, v{getV(), "v"},
      r{getResult(), "result"}, layout{getLayout(), "layout"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(verifyAttentionOperands(op, q, k, v, r)) ||
      failed(verifyLogSumExp(op, getLse(), q)) ||
      failed(verifyHeadGroups(op, q, k)) ||
      failed(verifyLayout(op, layout, q, k, getBlockQ(), getBlockK())) ||
      failed(expectFinite(op, "scale", getScale())) ||
      failed(verifySoftcap(op, getSoftcap())))
    return failure();
  return verifyServingMasks(op, getWindowAttr(), getSinkAttr(), getSinkLogits(),
                            getCausal(), q);
}

template <typename OpT>
static std::optional<int64_t> uniformWindowOf(OpT op) {
  if (auto w = dyn_cast_or_null<IntegerAttr>(op.getWindowAttr()))
    return w.getValue().getSExtValue();
  return std::nullopt;
}

template <typename OpT>
static std::optional<ArrayRef<int64_t>> headWindowsOf(OpT op) {
  if (auto ws = dyn_cast_or_null<DenseI64ArrayAttr>(op.getWindowAttr()))
    return ws.asArrayRef();
  return std::nullopt;
}

template <typename OpT>
static bool hasServingMasksOf(OpT op) {
  return op.getSinkAttr() || headWindowsOf(op) || op.getSinkLogits();
}

std::optional<int64_t> AttentionOp::getUniformWindow() {
  return uniformWindowOf(*this);
}
std::optional<ArrayRef<int64_t>> AttentionOp::getHeadWindows() {
  return headWindowsOf(*this);
}
bool AttentionOp::hasServingMasks() { return hasServingMasksOf(*this); }
std::optional<int64_t> BlockSparseAttentionOp::getUniformWindow() {
  return uniformWindowOf(*this);
}
std::optional<ArrayRef<int64_t>> BlockSparseAttentionOp::getHeadWindows() {
  return headWindowsOf(*this);
}
bool BlockSparseAttentionOp::hasServingMasks() {
  return hasServingMasksOf(*this);
}

std::optional<int64_t> PagedAttentionOp::getUniformWindow() {
  return uniformWindowOf(*this);
}
std::optional<ArrayRef<int64_t>> PagedAttentionOp::getHeadWindows() {
  return headWindowsOf(*this);
}

/// An index operand of the serving ops: the given rank and element type i32.
static LogicalResult expectIndexTensor(Operation *op, const Named &v,
                                       int64_t rank, StringRef layout) {
  return failure(
      failed(expectRank(op, v, rank, layout)) ||
      failed(expectElementType(op, v, IntegerType::get(op->getContext(), 32),
                               "indices are i32")));
}

/// A page cache [P, page, Hkv, X]: its page size (dimension 1) is positive
/// where static.
static LogicalResult expectPageSize(Operation *op, const Named &cache) {
  int64_t page = cache.dim(1);
  if (ShapedType::isDynamic(page) || page > 0)
    return success();
  return op->emitOpError() << cache.quoted()
                           << " dimension 1 (page size) must be positive, "
                              "found "
                           << page;
}

LogicalResult PagedAttentionOp::verify() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, k{getK(), "k"}, v{getV(), "v"},
      offsets{getQOffsets(), "q_offsets"}, lens{getKvLens(), "kv_lens"},
      table{getBlockTable(), "block_table"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, q, 3, "[T, Hq, D]")) ||
      failed(expectRank(op, k, 4, "[P, page, Hkv, D]")) ||
      failed(expectRank(op, v, 4, "[P, page, Hkv, Dv]")) ||
      failed(expectRank(op, r, 3, "[T, Hq, Dv]")) ||
      failed(expectFloat(op, q)) || failed(expectSameElementType(op, k, q)) ||
      failed(expectSameElementType(op, v, q)) ||
      failed(expectSameElementType(op, r, q)) ||
      failed(expectIndexTensor(op, offsets, 1, "[B + 1]")) ||
      failed(expectIndexTensor(op, lens, 1, "[B]")) ||
      failed(expectIndexTensor(op, table, 2, "[B, maxPages]")))
    return failure();
  if (failed(expectDimsMatch(op, v, 0, k, 0, "P")) ||
      failed(expectDimsMatch(op, v, 1, k, 1, "page")) ||
      failed(expectDimsMatch(op, v, 2, k, 2, "Hkv")) ||
      failed(expectDimsMatch(op, k, 3, q, 2, "D")) ||
      failed(expectDimsMatch(op, r, 0, q, 0, "T")) ||
      failed(expectDimsMatch(op, r, 1, q, 1, "Hq")) ||
      failed(expectDimsMatch(op, r, 2, v, 3, "Dv")) ||
      failed(expectDimsMatch(op, table, 0, lens, 0, "B")))
    return failure();
  int64_t b = lens.dim(0);
  if (!ShapedType::isDynamic(b) &&
      failed(expectDimIs(op, offsets, 0, b + 1, "B + 1")))
    return failure();
  if (offsets.dim(0) == 0)
    return emitOpError() << "'q_offsets' dimension 0 (B + 1) must be "
                            "positive, found 0";
  if (failed(expectPageSize(op, k)))
    return failure();
  int64_t hq = q.dim(1), hkv = k.dim(2);
  if (!ShapedType::isDynamic(hkv)) {
    if (hkv == 0)
      return emitOpError()
             << "'k' dimension 2 (Hkv) must be positive, found 0";
    if (!ShapedType::isDynamic(hq) && hq % hkv != 0)
      return emitOpError()
             << "query heads (Hq = " << hq
             << ") must be a multiple of key/value heads (Hkv = " << hkv
             << ")";
  }
  if (Value lse = getLse()) {
    Named l{lse, "lse"};
    if (failed(expectRank(op, l, 2, "[T, Hq]")) ||
        failed(expectElementType(op, l, Float32Type::get(op->getContext()),
                                 "the log-sum-exp is f32")) ||
        failed(expectDimsMatch(op, l, 0, q, 0, "T")) ||
        failed(expectDimsMatch(op, l, 1, q, 1, "Hq")))
      return failure();
  }
  if (failed(expectFinite(op, "scale", getScale())) ||
      failed(verifySoftcap(op, getSoftcap())))
    return failure();
  return verifyServingMasks(op, getWindowAttr(), getSinkAttr(),
                            getSinkLogits(), getCausal(), q);
}

LogicalResult KvCacheWriteOp::verify() {
  Operation *op = getOperation();
  Named cache{getCache(), "cache"}, fresh{getNewTokens(), "new_tokens"},
      slots{getSlots(), "slots"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, cache, 4, "[P, page, Hkv, D]")) ||
      failed(expectFloat(op, cache)) ||
      failed(expectRank(op, fresh, 3, "[T, Hkv, D]")) ||
      failed(expectSameElementType(op, fresh, cache)) ||
      failed(expectIndexTensor(op, slots, 1, "[T]")) ||
      failed(expectSameTypeAs(op, r, cache)) ||
      failed(expectDimsMatch(op, fresh, 1, cache, 2, "Hkv")) ||
      failed(expectDimsMatch(op, fresh, 2, cache, 3, "D")) ||
      failed(expectDimsMatch(op, slots, 0, fresh, 0, "T")) ||
      failed(expectPageSize(op, cache)))
    return failure();
  return success();
}

LogicalResult MergeAttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyAttributeNames(*this)))
    return failure();
  size_t n = getInputs().size();
  if (n == 0 || n % 2 != 0)
    return emitOpError() << "expects pairs of operands (o_0, lse_0, o_1, "
                            "lse_1, ...), at least one pair; found "
                         << n << " operand" << (n == 1 ? "" : "s");
  // Operand names for diagnostics: 'o_0', 'lse_0', ...
  SmallVector<std::string> names;
  for (size_t i = 0; i < n; ++i)
    names.push_back((i % 2 ? "lse_" : "o_") + std::to_string(i / 2));
  Named o0{getInputs()[0], names[0]}, l0{getInputs()[1], names[1]};
  Named r{getResult(), "result"}, rl{getLse(), "lse result"};
  if (failed(expectRank(op, o0, 4, "[B, Hq, Sq, Dv]")) ||
      failed(expectFloat(op, o0)) ||
      failed(expectRank(op, l0, 3, "[B, Hq, Sq]")) ||
      failed(expectElementType(op, l0, Float32Type::get(getContext()),
                               "the log-sum-exp is f32")))
    return failure();
  for (unsigned d = 0; d < 3; ++d)
    if (failed(expectDimsMatch(op, l0, d, o0, d,
                               d == 0 ? "B" : d == 1 ? "Hq" : "Sq")))
      return failure();
  for (size_t i = 2; i < n; ++i) {
    Named x{getInputs()[i], names[i]};
    if (failed(expectSameTypeAs(op, x, i % 2 ? l0 : o0)))
      return failure();
  }
  if (failed(expectSameTypeAs(op, r, o0)) ||
      failed(expectSameTypeAs(op, rl, l0)))
    return failure();
  return success();
}

LogicalResult SelectBlocksOp::verify() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, k{getK(), "k"}, layout{getLayout(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, q, 4, "[B, Hq, Sq, D]")) ||
      failed(expectRank(op, k, 4, "[B, Hkv, Skv, D]")) ||
      failed(expectFloat(op, q)) || failed(expectSameElementType(op, k, q)) ||
      failed(expectDimsMatch(op, k, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, k, 3, q, 3, "D")) ||
      failed(verifyHeadGroups(op, q, k)) ||
      failed(expectFinite(op, "scale", getScale())))
    return failure();
  // ODS returns I64Attr values as uint64_t; compare them as signed.
  int64_t topk = getTopk();
  if (topk < 0)
    return emitOpError() << "attribute 'topk' must be non-negative, found "
                         << topk;
  if (failed(verifyLayout(op, layout, q, k, getBlockQ(), getBlockK())) ||
      failed(expectDimsMatch(op, layout, 0, q, 0, "B")) ||
      failed(expectDimsMatch(op, layout, 1, q, 1, "Hq")))
    return failure();
  return success();
}

LogicalResult LinearAttentionOp::verify() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, k{getK(), "k"}, v{getV(), "v"},
      r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, q, 4, "[B, H, S, Dk]")) ||
      failed(expectRank(op, k, 4, "[B, H, S, Dk]")) ||
      failed(expectRank(op, v, 4, "[B, H, S, Dv]")) ||
      failed(expectRank(op, r, 4, "[B, H, S, Dv]")) ||
      failed(expectFloat(op, q)) || failed(expectSameElementType(op, k, q)) ||
      failed(expectSameElementType(op, v, q)) ||
      failed(expectSameElementType(op, r, q)))
    return failure();
  static constexpr StringRef names[] = {"B", "H", "S"};
  for (unsigned i = 0; i < 3; ++i)
    if (failed(expectDimsMatch(op, k, i, q, i, names[i])) ||
        failed(expectDimsMatch(op, v, i, q, i, names[i])) ||
        failed(expectDimsMatch(op, r, i, q, i, names[i])))
      return failure();
  if (failed(expectDimsMatch(op, k, 3, q, 3, "Dk")) ||
      failed(expectDimsMatch(op, r, 3, v, 3, "Dv")) ||
      failed(expectEnum(op, "feature_map", getFeatureMap(),
                        getFeatureMapKind().has_value(),
                        "\"identity\", \"relu\", \"elu_plus_one\"")) ||
      failed(expectFinite(op, "scale", getScale())))
    return failure();
  if (std::optional<ArrayRef<float>> decay = getDecay()) {
    if (!getCausal())
      return emitOpError() << "attribute 'decay' requires 'causal'";
    int64_t heads = q.dim(1);
    if (!ShapedType::isDynamic(heads) &&
        static_cast<int64_t>(decay->size()) != heads)
      return emitOpError() << "attribute 'decay' must hold one value per head ("
                           << heads << "), found " << decay->size();
    for (auto [h, d] : llvm::enumerate(*decay))
      if (!(d >= 0.0f) || !std::isfinite(d))
        return emitOpError()
               << "attribute 'decay' must be finite and non-negative, found "
               << d << " for head " << h;
  }
  return verifyRecurrentForm();
}

/// The operands and result of the recurrent form: gate, beta, initial and
/// final state, the update rule, and the options they exclude.
LogicalResult LinearAttentionOp::verifyRecurrentForm() {
  Operation *op = getOperation();
  Named q{getQ(), "q"}, v{getV(), "v"};
  std::optional<UpdateRule> rule = getRuleKind();
  if (failed(expectEnum(op, "rule", getRule(), rule.has_value(),
                        "\"additive\", \"delta\"")))
    return failure();
  // [B, H, S] operands (and the first three dims of a per-key gate).
  auto expectTokens = [&](const Named &x) {
    static constexpr StringRef names[] = {"B", "H", "S"};
    for (unsigned i = 0; i < 3; ++i)
      if (failed(expectDimsMatch(op, x, i, q, i, names[i])))
        return failure();
    return success();
  };
  // [B, H, Dk, Dv] x f32 states.
  auto expectState = [&](const Named &x) {
    if (failed(expectRank(op, x, 4, "[B, H, Dk, Dv]")) ||
        failed(expectElementType(op, x, Float32Type::get(getContext()),
                                 "a state")) ||
        failed(expectDimsMatch(op, x, 0, q, 0, "B")) ||
        failed(expectDimsMatch(op, x, 1, q, 1, "H")) ||
        failed(expectDimsMatch(op, x, 2, q, 3, "Dk")) ||
        failed(expectDimsMatch(op, x, 3, v, 3, "Dv")))
      return failure();
    return success();
  };
  if (Value gate = getGate()) {
    Named g{gate, "gate"};
    int64_t rank = g.type().getRank();
    if (rank != 3 && rank != 4)
      return emitOpError() << "'gate' must have rank 3 ([B, H, S], per head) "
                              "or 4 ([B, H, S, Dk], per key dimension), found "
                              "rank "
                           << rank;
    if (failed(expectFloat(op, g)) || failed(expectTokens(g)) ||
        (rank == 4 && failed(expectDimsMatch(op, g, 3, q, 3, "Dk"))))
      return failure();
    if (getDecay())
      return emitOpError() << "attribute 'decay' and a 'gate' operand are "
                              "exclusive (decay is the constant gate "
                              "-decay[h])";
  }
  if (Value beta = getBeta()) {
    Named b{beta, "beta"};
    if (failed(expectRank(op, b, 3, "[B, H, S]")) ||
        failed(expectFloat(op, b)) || failed(expectTokens(b)))
      return failure();
  }
  if (Value state = getInitialState())
    if (failed(expectState(Named{state, "initial_state"})))
      return failure();
  if (Value state = getFinalState())
    if (failed(expectState(Named{state, "final_state"})))
      return failure();
  bool delta = *rule == UpdateRule::Delta;
  if (delta && !getBeta())
    return emitOpError() << "rule = \"delta\" requires a 'beta' operand";
  if (!delta && getBeta())
    return emitOpError() << "a 'beta' operand requires rule = \"delta\" "
                            "(the additive rule has no write strength)";
  if (!getCausal()) {
    StringRef what = getGate()           ? "a 'gate' operand"
                     : getBeta()         ? "a 'beta' operand"
                     : getInitialState() ? "an 'initial_state' operand"
                     : getFinalState()   ? "a 'final_state' result"
                                         : "";
    if (!what.empty())
      return emitOpError() << what
                           << " requires 'causal' (a recurrence over tokens)";
  }
  if (getNormalize()) {
    if (delta)
      return emitOpError()
             << "'normalize' cannot be combined with rule = \"delta\": the "
                "delta rule's weights may be negative, so the denominator "
                "may vanish";
    if (getInitialState() || getFinalState())
      return emitOpError() << "'normalize' cannot be combined with "
                           << (getInitialState() ? "an 'initial_state' operand"
                                                 : "a 'final_state' result")
                           << ": the state does not carry the normalizer";
  }
  return success();
}

LogicalResult PoolMixerOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) || failed(expectFloat(op, x)))
    return failure();
  int64_t rank = x.type().getRank();
  if (rank != 3 && rank != 4)
    return emitOpError() << "'x' must have rank 3 ([B, S, C]) or 4 "
                            "([B, H, W, C]), found rank "
                         << rank;
  if (failed(expectSameTypeAs(op, r, x)) ||
      failed(expectPositive(op, "kernel", getKernel())))
    return failure();
  if (getKernel() % 2 == 0)
    return emitOpError() << "attribute 'kernel' must be odd, found "
                         << getKernel();
  return success();
}

LogicalResult DwConvOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, w{getW(), "w"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) || failed(expectFloat(op, x)) ||
      failed(expectSameElementType(op, w, x)))
    return failure();
  int64_t rank = x.type().getRank();
  if (rank != 3 && rank != 4)
    return emitOpError() << "'x' must have rank 3 ([B, S, C]) or 4 "
                            "([B, H, W, C]), found rank "
                         << rank;
  if (rank == 3 ? failed(expectRank(op, w, 2, "[K, C] for a 1-D 'x'"))
                : failed(expectRank(op, w, 3, "[Kh, Kw, C] for a 2-D 'x'")))
    return failure();
  if (failed(expectDimsMatch(op, w, rank - 2, x, rank - 1, "C")) ||
      failed(expectSameTypeAs(op, r, x)))
    return failure();
  if (rank == 4 && getCausal())
    return emitOpError() << "attribute 'causal' applies to 1-D convolutions "
                            "only, found a 2-D 'x'";
  for (unsigned i = 0; i + 1 < w.type().getRank(); ++i) {
    int64_t kdim = w.dim(i);
    if (ShapedType::isDynamic(kdim))
      continue;
    if (kdim <= 0)
      return emitOpError() << "'w' dimension " << i
                           << " (kernel size) must be positive, found "
                           << kdim;
    if (!getCausal() && kdim % 2 == 0)
      return emitOpError() << "'w' dimension " << i
                           << " (kernel size) must be odd for a centred "
                              "convolution, found "
                           << kdim;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// Optional bias: [N] of the given element type (or any float if null).
static LogicalResult verifyBias(Operation *op, Value bias, const Named &w,
                                unsigned wDim, Type elementType) {
  if (!bias)
    return success();
  Named b{bias, "bias"};
  if (failed(expectRank(op, b, 1, "[N]")) ||
      failed(elementType ? expectElementType(op, b, elementType,
                                             "the element type of 'x'")
                         : expectFloat(op, b)) ||
      failed(expectDimsMatch(op, b, 0, w, wDim, "N")))
    return failure();
  return success();
}

LogicalResult LinearOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, w{getW(), "w"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRankAtLeast(op, x, 1, "[..., K]")) ||
      failed(expectRank(op, w, 2, "[N, K]")) || failed(expectFloat(op, x)) ||
      failed(expectSameElementType(op, w, x)) ||
      failed(expectSameElementType(op, r, x)))
    return failure();
  int64_t rank = x.type().getRank();
  if (r.type().getRank() != rank)
    return emitOpError() << "result must have the rank of 'x' (" << rank
                         << "), found rank " << r.type().getRank();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (failed(expectDimsMatch(op, r, i, x, i, "batch")))
      return failure();
  if (failed(expectDimsMatch(op, w, 1, x, rank - 1, "K")) ||
      failed(expectDimsMatch(op, r, rank - 1, w, 0, "N")) ||
      failed(verifyBias(op, getBias(), w, 0, x.type().getElementType())))
    return failure();
  return success();
}

/// An i4 tensor is packed two per byte along its innermost dimension.
static LogicalResult verifyI4Packing(Operation *op, const Named &v) {
  RankedTensorType t = v.type();
  if (!t.getElementType().isInteger(4) || t.getRank() == 0)
    return success();
  int64_t inner = t.getDimSize(t.getRank() - 1);
  if (ShapedType::isDynamic(inner) || inner % 2 == 0)
    return success();
  return op->emitOpError()
         << v.quoted()
         << " holds i4 values packed two per byte along its innermost "
            "dimension, which must be even; found "
         << inner;
}

LogicalResult QLinearOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, w{getW(), "w"}, s{getWScale(), "w_scale"},
      r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, x, 2, "[M, K]")) ||
      failed(expectRank(op, w, 2, "[N, K]")) ||
      failed(expectRank(op, r, 2, "[M, N]")) || failed(expectFloat(op, x)) ||
      failed(expectFloat(op, s)) || failed(expectFloat(op, r)))
    return failure();
  Type we = w.type().getElementType();
  if (!we.isSignlessInteger(8) && !we.isSignlessInteger(4))
    return emitOpError() << "'w' must have element type i8 or i4, found "
                         << typeStr(we);
  if (failed(verifyI4Packing(op, w)) ||
      failed(expectDimsMatch(op, w, 1, x, 1, "K")) ||
      failed(expectDimsMatch(op, r, 0, x, 0, "M")) ||
      failed(expectDimsMatch(op, r, 1, w, 0, "N")))
    return failure();
  int64_t group = getGroupSize();
  if (group < 0)
    return emitOpError()
           << "attribute 'group_size' must be non-negative, found " << group;
  if (group == 0) {
    if (failed(expectRank(op, s, 1, "[N] for per-channel scales")) ||
        failed(expectDimsMatch(op, s, 0, w, 0, "N")))
      return failure();
  } else {
    int64_t kdim = ShapedType::isDynamic(w.dim(1)) ? x.dim(1) : w.dim(1);
    if (!ShapedType::isDynamic(kdim) && kdim % group != 0)
      return emitOpError() << "attribute 'group_size' (" << group
                           << ") must divide K (" << kdim << ")";
    int64_t groups =
        ShapedType::isDynamic(kdim) ? ShapedType::kDynamic : kdim / group;
    if (failed(expectRank(op, s, 2, "[N, K / group_size] for group-wise "
                                    "scales")) ||
        failed(expectDimsMatch(op, s, 0, w, 0, "N")) ||
        failed(expectDimIs(op, s, 1, groups, "K / group_size")))
      return failure();
  }
  return verifyBias(op, getBias(), w, 0, Type());
}

static bool isQuantType(Type t) {
  return t.isSignlessInteger(8) || isa<Float8E4M3FNType>(t);
}

LogicalResult QuantizeOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, xq{getXq(), "xq"}, xs{getXs(), "xs"};
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, x, 2, "[M, K]")) || failed(expectFloat(op, x)) ||
      failed(expectRank(op, xq, 2, "[M, K]")) ||
      failed(expectRank(op, xs, 1, "[M]")) ||
      failed(expectElementType(op, xs, Float32Type::get(getContext()),
                               "per-row scales")))
    return failure();
  Type qe = xq.type().getElementType();
  if (!isQuantType(qe))
    return emitOpError() << "'xq' must have element type i8 or f8E4M3FN, found "
                         << typeStr(qe);
  if (failed(expectDimsMatch(op, xq, 0, x, 0, "M")) ||
      failed(expectDimsMatch(op, xq, 1, x, 1, "K")) ||
      failed(expectDimsMatch(op, xs, 0, x, 0, "M")))
    return failure();
  return success();
}

LogicalResult QMatmulOp::verify() {
  Operation *op = getOperation();
  Named xq{getXq(), "xq"}, xs{getXs(), "xs"}, w{getW(), "w"},
      s{getWScale(), "w_scale"}, r{getResult(), "result"};
  Type f32 = Float32Type::get(getContext());
  if (failed(verifyAttributeNames(*this)) ||
      failed(expectRank(op, xq, 2, "[M, K]")) ||
      failed(expectRank(op, xs, 1, "[M]")) ||
      failed(expectRank(op, w, 2, "[N, K]")) ||
      failed(expectRank(op, s, 1, "[N]")) ||
      failed(expectRank(op, r, 2, "[M, N]")))
    return failure();
  Type qe = xq.type().getElementType();
  if (!isQuantType(qe))
    return emitOpError() << "'xq' must have element type i8 or f8E4M3FN, found "
                         << typeStr(qe);
  if (failed(expectSameElementType(op, w, xq)) ||
      failed(expectElementType(op, xs, f32, "per-row scales")) ||
      failed(expectElementType(op, s, f32, "per-channel scales")) ||
      failed(expectFloat(op, r)) ||
      failed(expectDimsMatch(op, xs, 0, xq, 0, "M")) ||
      failed(expectDimsMatch(op, w, 1, xq, 1, "K")) ||
      failed(expectDimsMatch(op, s, 0, w, 0, "N")) ||
      failed(expectDimsMatch(op, r, 0, xq, 0, "M")) ||
      failed(expectDimsMatch(op, r, 1, w, 0, "N")) ||
      failed(verifyBias(op, getBias(), w, 0, Type())))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Block pieces
//===----------------------------------------------------------------------===//

static LogicalResult verifyEpsilon(Operation *op, APFloat eps) {
  if (eps.isFinite() && !eps.isNegative())
    return success();
  return op->emitOpError()
         << "attribute 'epsilon' must be finite and non-negative, found "
         << floatStr(eps);
}

/// x [..., C] and per-channel parameters [C] of x's element type.
static LogicalResult verifyNorm(Operation *op, Named x, Named r,
                                ArrayRef<Named> params, APFloat eps) {
  if (failed(expectRankAtLeast(op, x, 1, "[..., C]")) ||
      failed(expectFloat(op, x)) || failed(expectSameTypeAs(op, r, x)))
    return failure();
  for (const Named &p : params)
    if (failed(expectRank(op, p, 1, "[C]")) ||
        failed(expectSameElementType(op, p, x)) ||
        failed(expectDimsMatch(op, p, 0, x, x.type().getRank() - 1, "C")))
      return failure();
  return verifyEpsilon(op, eps);
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifyAttributeNames(*this)))
    return failure();
  return verifyNorm(getOperation(), {getX(), "x"}, {getResult(), "result"},
                    {Named{getG(), "g"}}, getEpsilon());
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyAttributeNames(*this)))
    return failure();
  return verifyNorm(getOperation(), {getX(), "x"}, {getResult(), "result"},
                    {Named{getG(), "g"}, Named{getB(), "b"}}, getEpsilon());
}

LogicalResult RopeOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, c{getCos(), "cos"}, s{getSin(), "sin"},
      r{getResult(), "result"};
  Value positions = getPositions();
  if (failed(verifyAttributeNames(*this)))
    return failure();
  if (positions) {
    Named p{positions, "positions"};
    if (failed(expectRank(op, x, 3, "[T, H, D] with 'positions'")) ||
        failed(expectIndexTensor(op, p, 1, "[T]")) ||
        failed(expectDimsMatch(op, p, 0, x, 0, "T")))
      return failure();
  } else if (x.type().getRank() == 3) {
    return emitOpError() << "'x' must have rank 4 ([B, H, S, D]), found rank "
                            "3; a packed [T, H, D] 'x' takes a 'positions' "
                            "operand";
  } else if (failed(expectRank(op, x, 4, "[B, H, S, D]"))) {
    return failure();
  }
  if (failed(expectFloat(op, x)) || failed(expectSameTypeAs(op, r, x)) ||
      failed(expectEnum(op, "style", getStyle(), getStyleKind().has_value(),
                        "\"half\", \"interleaved\"")))
    return failure();
  unsigned dDim = x.type().getRank() - 1;
  int64_t d = x.dim(dDim);
  if (!ShapedType::isDynamic(d) && d % 2 != 0)
    return emitOpError() << "'x' dimension " << dDim
                         << " (D) must be even, found " << d;
  int64_t half = ShapedType::isDynamic(d) ? d : d / 2;
  for (const Named &t : {c, s})
    if (failed(expectRank(op, t, 2, positions ? "[N, D/2]" : "[S, D/2]")) ||
        failed(expectFloat(op, t)) ||
        (!positions && failed(expectDimsMatch(op, t, 0, x, 2, "S"))) ||
        (positions && failed(expectDimsMatch(op, s, 0, c, 0, "N"))) ||
        failed(expectDimIs(op, t, 1, half, "D/2")))
      return failure();
  return success();
}

LogicalResult GeluOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) || failed(expectFloat(op, x)) ||
      failed(expectSameTypeAs(op, r, x)) ||
      failed(expectEnum(op, "approximate", getApproximate(),
                        getApproximateKind().has_value(),
                        "\"none\", \"tanh\"")))
    return failure();
  return success();
}

LogicalResult SiluOp::verify() {
  Operation *op = getOperation();
  Named x{getX(), "x"}, r{getResult(), "result"};
  if (failed(verifyAttributeNames(*this)) || failed(expectFloat(op, x)) ||
      failed(expectSameTypeAs(op, r, x)))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "loom/Dialect/Loom/IR/LoomOps.cpp.inc"
