//===- IndexChecks.cpp - index data checked at the entry of a CPU module --===//
//
// loom-entry-index-checks builds `__loom_index_check_<entry>` for every
// entry whose paged serving ops read index tensors that the caller passes:
// the page table, sequence lengths and query offsets of loom.paged_attention,
// the slots of loom.kv_cache_write and the positions of loom.rope. The
// function reads those arguments' values (host memory: CPU modules only) and
// returns a message naming the op, the index and its value for the first
// one that breaks the op's requirements, so that the call is refused before
// it runs (docs/abi.md, "Index checks"). The ops themselves never read out of
// bounds whatever the indices (DIALECT contract); this makes a bad index an
// error instead of unspecified values.

#include "loom/ABI/ModuleABI.h"
#include "loom/ABI/Passes.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Path.h"

namespace loom {
#define GEN_PASS_DEF_LOOMENTRYINDEXCHECKSPASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

/// The thread-local buffer that a failed check's message is formatted into
/// (the message stays valid until the thread's next call, as
/// loomGetLastError's does).
constexpr llvm::StringLiteral kMessageBuffer = "__loom_index_message";
constexpr int64_t kMessageSize = 512;

/// One index check: `found` (i1) says an index breaks the requirement;
/// `values` (i64) fill the `%lld`s of `format` for the first such index.
struct Failure {
  Value found;
  SmallVector<Value> values;
  std::string format;
};

/// `%` doubled, so that a name or a file name is printed as it is.
std::string escapePercent(StringRef text) {
  std::string out;
  for (char c : text) {
    out.push_back(c);
    if (c == '%')
      out.push_back('%');
  }
  return out;
}

class IndexCheckBuilder {
public:
  IndexCheckBuilder(func::FuncOp entry, ModuleOp module)
      : entry(entry), module(module), b(entry.getContext()) {}

  /// Builds the check function; nothing when no op reads an index argument.
  void build();

private:
  /// The parameter for `v` when it is an argument of the entry (through
  /// tensor.cast), else null.
  Value parameterOf(Value v);
  /// Dimension `d` of the tensor `v` as an i64: a constant when static, the
  /// size of the argument it is, else null (that check is left out).
  Value sizeOf(Value v, int64_t d);
  Value i64(int64_t c) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), c);
  }
  Value load(Value memref, ValueRange indices);
  /// The first `t` in [lo, hi) for which `bad(t)` holds: `found` and the
  /// values t, then those `bad` gives for it.
  using Predicate = function_ref<std::pair<Value, SmallVector<Value>>(Value)>;
  Failure scan(Value lo, Value hi, unsigned numValues, Predicate bad);

  void checkPagedAttention(loom::PagedAttentionOp op);
  void checkCacheWrite(loom::KvCacheWriteOp op);
  void checkRope(loom::RopeOp op);
  /// Appends `failure` with its message `format` (after the op's prefix).
  void add(Failure failure, StringRef format);
  void finish();

  func::FuncOp entry;
  ModuleOp module;
  OpBuilder b;
  Location loc = UnknownLoc::get(entry.getContext());
  func::FuncOp fn;
  /// The op a check is about, as `loom.op (at file:line:col)`.
  std::string where;
  SmallVector<Failure> failures;
};

Value IndexCheckBuilder::parameterOf(Value v) {
  while (auto cast = v.getDefiningOp<tensor::CastOp>())
    v = cast.getSource();
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &entry.getBody().front())
    return {};
  return fn.getArgument(arg.getArgNumber());
}

Value IndexCheckBuilder::sizeOf(Value v, int64_t d) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!type.isDynamicDim(d))
    return i64(type.getDimSize(d));
  Value param = parameterOf(v);
  if (!param)
    return {};
  Value size = memref::DimOp::create(b, loc, param, d);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), size);
}

Value IndexCheckBuilder::load(Value memref, ValueRange indices) {
  SmallVector<Value> idx;
  for (Value i : indices)
    idx.push_back(
        arith::IndexCastOp::create(b, loc, b.getIndexType(), i).getResult());
  Value element = memref::LoadOp::create(b, loc, memref, idx);
  return arith::ExtSIOp::create(b, loc, b.getI64Type(), element);
}

Failure IndexCheckBuilder::scan(Value lo, Value hi, unsigned numValues,
                                Predicate bad) {
  // i64 bounds as index, for scf.for; the carried values: the first bad t
  // (-1 while none) and what `bad` reports for it.
  Value loIdx = arith::IndexCastOp::create(b, loc, b.getIndexType(), lo);
  Value hiIdx = arith::IndexCastOp::create(b, loc, b.getIndexType(), hi);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> init{i64(-1)};
  for (unsigned k = 0; k < numValues; ++k)
    init.push_back(i64(0));
  auto loop = scf::ForOp::create(
      b, loc, loIdx, hiIdx, one, init,
      [&](OpBuilder &nested, Location, Value iv, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        Value t = arith::IndexCastOp::create(b, loc, b.getI64Type(), iv);
        auto [isBad, values] = bad(t);
        Value none = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           carried[0], i64(0));
        Value take = arith::AndIOp::create(b, loc, isBad, none);
        SmallVector<Value> next{
            arith::SelectOp::create(b, loc, take, t, carried[0])};
        for (unsigned k = 0; k < numValues; ++k)
          next.push_back(
              arith::SelectOp::create(b, loc, take, values[k], carried[1 + k]));
        scf::YieldOp::create(b, loc, next);
      });
  Failure failure;
  failure.found = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                        loop.getResult(0), i64(0));
  for (Value r : loop.getResults())
    failure.values.push_back(r);
  return failure;
}

void IndexCheckBuilder::add(Failure failure, StringRef format) {
  failure.format = where + format.str();
  failures.push_back(std::move(failure));
}

void IndexCheckBuilder::checkPagedAttention(loom::PagedAttentionOp op) {
  Value offsets = parameterOf(op.getQOffsets());
  Value lens = parameterOf(op.getKvLens());
  Value table = parameterOf(op.getBlockTable());
  Value zero = i64(0), one = i64(1);

  if (offsets) {
    Value n = sizeOf(op.getQOffsets(), 0);
    // q_offsets[0] = 0 (where q_offsets has an element); the message names
    // the value only (the index is 0).
    Failure first =
        scan(zero, arith::MinSIOp::create(b, loc, n, one), 1,
             [&](Value t) -> std::pair<Value, SmallVector<Value>> {
               Value v = load(offsets, t);
               return {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                             v, zero),
                       {v}};
             });
    first.values.erase(first.values.begin());
    add(std::move(first), "q_offsets[0] = %lld must be 0");
    // Not decreasing.
    add(scan(one, n, 3,
             [&](Value t) -> std::pair<Value, SmallVector<Value>> {
               Value v = load(offsets, t);
               Value before = arith::SubIOp::create(b, loc, t, one);
               Value prev = load(offsets, before);
               return {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                             v, prev),
                       {v, before, prev}};
             }),
        "q_offsets[%lld] = %lld is less than "
        "q_offsets[%lld] = %lld (offsets must not "
        "decrease)");
    // The last offset within q's rows.
    if (Value rows = sizeOf(op.getQ(), 0)) {
      Value last = arith::SubIOp::create(b, loc, n, one);
      add(scan(arith::MaxSIOp::create(b, loc, last, zero), n, 2,
               [&](Value t) -> std::pair<Value, SmallVector<Value>> {
                 Value v = load(offsets, t);
                 return {arith::CmpIOp::create(
                             b, loc, arith::CmpIPredicate::sgt, v, rows),
                         {v, rows}};
               }),
          "q_offsets[%lld] = %lld passes the %lld query rows of q");
    }
  }

  Value maxPages = sizeOf(op.getBlockTable(), 1);
  Value page = sizeOf(op.getK(), 1);
  if (!lens || !maxPages || !page)
    return;
  Value capacity = b.createOrFold<arith::MulIOp>(loc, maxPages, page);
  Value numSeqs = sizeOf(op.getKvLens(), 0);
  add(scan(zero, numSeqs, 4,
           [&](Value t) -> std::pair<Value, SmallVector<Value>> {
             Value v = load(lens, t);
             Value below = arith::CmpIOp::create(
                 b, loc, arith::CmpIPredicate::slt, v, zero);
             Value above = arith::CmpIOp::create(
                 b, loc, arith::CmpIPredicate::sgt, v, capacity);
             return {arith::OrIOp::create(b, loc, below, above),
                     {v, capacity, maxPages, page}};
           }),
      "kv_lens[%lld] = %lld is outside [0, %lld] "
      "(block_table holds %lld pages of %lld tokens "
      "per sequence)");

  Value pages = sizeOf(op.getK(), 0);
  Value tableRows = sizeOf(op.getBlockTable(), 0);
  if (!table || !pages || !tableRows)
    return;
  // Every page a sequence reads: block_table[s, i] for i < ceil(kv_lens[s] /
  // page), over the rows both kv_lens and block_table have.
  Value rows = arith::MinSIOp::create(b, loc, numSeqs, tableRows);
  // (A dynamic page of 0 holds no key: every length is 0, checked above;
  // dividing by at least 1 keeps the division defined.)
  Value divisor = b.createOrFold<arith::MaxSIOp>(loc, page, one);
  Value pageMinusOne = arith::SubIOp::create(b, loc, divisor, one);
  add(scan(zero, rows, 3,
           [&](Value s) -> std::pair<Value, SmallVector<Value>> {
             Value len = load(lens, s);
             len = arith::MaxSIOp::create(b, loc, len, zero);
             Value used = arith::DivSIOp::create(
                 b, loc, arith::AddIOp::create(b, loc, len, pageMinusOne),
                 divisor);
             used = arith::MinSIOp::create(b, loc, used, maxPages);
             Failure inner =
                 scan(zero, used, 2,
                      [&](Value i) -> std::pair<Value, SmallVector<Value>> {
                        Value v = load(table, {s, i});
                        Value below = arith::CmpIOp::create(
                            b, loc, arith::CmpIPredicate::slt, v, zero);
                        Value above = arith::CmpIOp::create(
                            b, loc, arith::CmpIPredicate::sge, v, pages);
                        return {arith::OrIOp::create(b, loc, below, above),
                                {v, pages}};
                      });
             // (column, value, pages) of the row's first bad page.
             return {inner.found,
                     {inner.values[0], inner.values[1], inner.values[2]}};
           }),
      "block_table[%lld, %lld] = %lld is outside [0, %lld) (the cache's "
      "pages)");
}

void IndexCheckBuilder::checkCacheWrite(loom::KvCacheWriteOp op) {
  Value slots = parameterOf(op.getSlots());
  Value pages = sizeOf(op.getCache(), 0);
  Value page = sizeOf(op.getCache(), 1);
  Value count = sizeOf(op.getSlots(), 0);
  if (!slots || !pages || !page || !count)
    return;
  Value capacity = b.createOrFold<arith::MulIOp>(loc, pages, page);
  // A negative slot is padding (skipped); one at or past P * page is bad.
  add(scan(i64(0), count, 4,
           [&](Value t) -> std::pair<Value, SmallVector<Value>> {
             Value v = load(slots, t);
             return {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, v,
                                           capacity),
                     {v, capacity, pages, page}};
           }),
      "slots[%lld] = %lld is outside the cache's "
      "slots [0, %lld) (%lld pages of %lld tokens; a "
      "negative slot is skipped)");
}

void IndexCheckBuilder::checkRope(loom::RopeOp op) {
  if (!op.getPositions())
    return;
  Value positions = parameterOf(op.getPositions());
  Value rows = sizeOf(op.getCos(), 0);
  Value count = sizeOf(op.getPositions(), 0);
  if (!positions || !rows || !count)
    return;
  add(scan(i64(0), count, 2,
           [&](Value t) -> std::pair<Value, SmallVector<Value>> {
             Value v = load(positions, t);
             Value below = arith::CmpIOp::create(
                 b, loc, arith::CmpIPredicate::slt, v, i64(0));
             Value above = arith::CmpIOp::create(
                 b, loc, arith::CmpIPredicate::sge, v, rows);
             return {arith::OrIOp::create(b, loc, below, above), {v, rows}};
           }),
      "positions[%lld] = %lld is outside [0, %lld) "
      "(the rows of the cos and sin tables)");
}

void IndexCheckBuilder::build() {
  MLIRContext *ctx = entry.getContext();
  bool any = false;
  entry.walk([&](Operation *op) {
    if (isa<loom::PagedAttentionOp, loom::KvCacheWriteOp>(op))
      any = true;
    if (auto rope = dyn_cast<loom::RopeOp>(op); rope && rope.getPositions())
      any = true;
  });
  if (!any)
    return;

  SmallVector<Type> params;
  for (Type t : entry.getArgumentTypes()) {
    auto type = cast<RankedTensorType>(t);
    params.push_back(MemRefType::get(type.getShape(), type.getElementType()));
  }
  b.setInsertionPointToEnd(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  fn = func::FuncOp::create(b, entry.getLoc(),
                            "__loom_index_check_" + entry.getSymName().str(),
                            FunctionType::get(ctx, params, {ptr}));
  fn.setPrivate();
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), UnitAttr::get(ctx));
  b.setInsertionPointToStart(fn.addEntryBlock());

  entry.walk([&](Operation *op) {
    where = escapePercent(entry.getSymName()) + ": " +
            op->getName().getStringRef().str();
    if (auto file = dyn_cast<FileLineColLoc>(op->getLoc()))
      where += " (at " +
               escapePercent(
                   llvm::sys::path::filename(file.getFilename().getValue())) +
               ":" + std::to_string(file.getLine()) + ":" +
               std::to_string(file.getColumn()) + ")";
    where += ": ";
    if (auto paged = dyn_cast<loom::PagedAttentionOp>(op))
      checkPagedAttention(paged);
    else if (auto write = dyn_cast<loom::KvCacheWriteOp>(op))
      checkCacheWrite(write);
    else if (auto rope = dyn_cast<loom::RopeOp>(op))
      checkRope(rope);
  });
  if (failures.empty()) {
    fn.erase();
    return;
  }
  finish();
}

void IndexCheckBuilder::finish() {
  MLIRContext *ctx = b.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i64Type = b.getI64Type();
  auto snprintfType = LLVM::LLVMFunctionType::get(
      b.getI32Type(), {ptr, i64Type, ptr}, /*isVarArg=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(fn);
    if (!module.lookupSymbol("snprintf"))
      LLVM::LLVMFuncOp::create(b, loc, "snprintf", snprintfType);
    if (!module.lookupSymbol(kMessageBuffer))
      LLVM::GlobalOp::create(
          b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), kMessageSize),
          /*isConstant=*/false, LLVM::Linkage::Internal, kMessageBuffer,
          b.getStringAttr(std::string(kMessageSize, '\0')), /*alignment=*/0,
          /*addrSpace=*/0, /*dsoLocal=*/false, /*thread_local_=*/true);
    for (auto [k, failure] : llvm::enumerate(failures)) {
      std::string text = failure.format;
      text.push_back('\0');
      LLVM::GlobalOp::create(
          b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), text.size()),
          /*isConstant=*/true, LLVM::Linkage::Internal,
          fn.getSymName().str() + "_" + std::to_string(k),
          b.getStringAttr(text));
    }
  }
  // The checks run in order (each one's scan was built after the one
  // before); the first that finds a bad index formats its message into the
  // thread's buffer and returns it.
  Region &body = fn.getBody();
  for (auto [k, failure] : llvm::enumerate(failures)) {
    Operation *found = failure.found.getDefiningOp();
    Block *current = found->getBlock();
    Block *next = current->splitBlock(std::next(found->getIterator()));
    Block *fail = b.createBlock(&body, body.end());
    b.setInsertionPointToEnd(current);
    cf::CondBranchOp::create(b, loc, failure.found, fail, next);
    b.setInsertionPointToStart(fail);
    Value buffer = LLVM::AddressOfOp::create(b, loc, ptr, kMessageBuffer);
    Value format = LLVM::AddressOfOp::create(
        b, loc, ptr, fn.getSymName().str() + "_" + std::to_string(k));
    SmallVector<Value> args{buffer, i64(kMessageSize), format};
    args.append(failure.values.begin(), failure.values.end());
    LLVM::CallOp::create(b, loc, snprintfType, "snprintf", args);
    func::ReturnOp::create(b, loc, buffer);
    b.setInsertionPointToEnd(next);
  }
  func::ReturnOp::create(b, loc, LLVM::ZeroOp::create(b, loc, ptr).getResult());
}

struct LoomEntryIndexChecksPass
    : loom::impl::LoomEntryIndexChecksPassBase<LoomEntryIndexChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> entries;
    // Entries take ranked tensors (loom-compile refuses others before).
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isDeclaration() &&
          llvm::all_of(fn.getArgumentTypes(), llvm::IsaPred<RankedTensorType>))
        entries.push_back(fn);
    for (func::FuncOp entry : entries)
      IndexCheckBuilder(entry, module).build();
  }
};

} // namespace
