//===- ModuleABI.cpp - entry signatures and the exported ABI of modules ----===//

#include "loom/ABI/ModuleABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace loom {
namespace abi {

bool isABIElementType(Type type) {
  return type.isF64() || type.isF32() || type.isF16() || type.isBF16() ||
         isa<Float8E4M3FNType>(type) || type.isSignlessInteger(1) ||
         type.isSignlessInteger(4) || type.isSignlessInteger(8) ||
         type.isSignlessInteger(32) || type.isSignlessInteger(64);
}

namespace {

/// Entry names become C symbols (`loom_entry_<name>`) and are parsed back
/// from the signature text, so they are C identifiers.
bool isCIdentifier(StringRef name) {
  if (name.empty() || !(llvm::isAlpha(name[0]) || name[0] == '_'))
    return false;
  return llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

std::string elementName(Type type) {
  if (type.isF64())
    return "f64";
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (isa<Float8E4M3FNType>(type))
    return "f8E4M3FN";
  return "i" + std::to_string(type.getIntOrFloatBitWidth());
}

LogicalResult checkType(func::FuncOp func, Type type, StringRef what,
                        unsigned index, RankedTensorType &out) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getEncoding())
    return func.emitError()
           << "entry @" << func.getSymName() << ": " << what << " " << index
           << " has type " << type
           << "; entries take and return ranked tensors (make helper "
              "functions private)";
  if (!isABIElementType(tensor.getElementType()))
    return func.emitError()
           << "entry @" << func.getSymName() << ": " << what << " " << index
           << " has element type " << tensor.getElementType()
           << "; the module ABI carries f32, f16, bf16, f64, f8E4M3FN, i1, "
              "i4, i8, i32 and i64";
  if (tensor.getElementType().isInteger(4)) {
    if (tensor.getRank() == 0)
      return func.emitError()
             << "entry @" << func.getSymName() << ": " << what << " " << index
             << " is a rank-0 i4 tensor; i4 tensors are packed two per byte "
                "along the innermost dimension at the module ABI";
    int64_t k = tensor.getShape().back();
    if (!ShapedType::isDynamic(k) && k % 2 != 0)
      return func.emitError()
             << "entry @" << func.getSymName() << ": " << what << " " << index
             << " (" << type
             << ") has an odd innermost dimension; i4 tensors are packed two "
                "per byte along it at the module ABI";
  }
  out = tensor;
  return success();
}

} // namespace

FailureOr<SmallVector<EntrySignature>> collectEntries(ModuleOp module) {
  SmallVector<EntrySignature> entries;
  bool ok = true;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isDeclaration() || !func.isPublic())
      continue;
    if (!isCIdentifier(func.getSymName())) {
      func.emitError() << "entry @\"" << func.getSymName()
                       << "\": entry names must be C identifiers (they "
                          "become the symbol loom_entry_<name>); make the "
                          "function private or rename it";
      ok = false;
      continue;
    }
    EntrySignature entry;
    entry.name = func.getSymName().str();
    for (auto [i, t] : llvm::enumerate(func.getArgumentTypes())) {
      RankedTensorType tensor;
      if (failed(checkType(func, t, "argument", i, tensor)))
        ok = false;
      entry.args.push_back(tensor);
    }
    for (auto [i, t] : llvm::enumerate(func.getResultTypes())) {
      RankedTensorType tensor;
      if (failed(checkType(func, t, "result", i, tensor)))
        ok = false;
      entry.results.push_back(tensor);
    }
    entries.push_back(std::move(entry));
  }
  if (!ok)
    return failure();
  return entries;
}

std::string formatTensorType(RankedTensorType type) {
  std::string text = "tensor<";
  for (int64_t d : type.getShape())
    text += (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d)) +
            "x";
  return text + elementName(type.getElementType()) + ">";
}

std::string formatSignature(ArrayRef<EntrySignature> entries,
                            StringRef target) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "abi " << kABIVersion << "\n";
  os << "target " << target << "\n";
  for (const EntrySignature &entry : entries) {
    os << "entry " << entry.name << "(";
    llvm::interleave(
        entry.args, os, [&](RankedTensorType t) { os << formatTensorType(t); },
        ", ");
    os << ") -> (";
    llvm::interleave(
        entry.results, os,
        [&](RankedTensorType t) { os << formatTensorType(t); }, ", ");
    os << ")\n";
  }
  return text;
}

LogicalResult checkLoweredToLLVM(ModuleOp module, bool gpu) {
  Operation *culprit = nullptr;
  module.walk([&](Operation *op) {
    if (op == module.getOperation() || isa<LLVM::LLVMDialect>(op->getDialect()))
      return WalkResult::advance();
    if (gpu && ((isa<gpu::BinaryOp>(op) && op->getParentOp() == module) ||
                (isa<gpu::LaunchFuncOp>(op) &&
                 op->getParentOfType<LLVM::LLVMFuncOp>())))
      return WalkResult::advance();
    // A leftover cast only marks where a real op was not lowered; prefer
    // the op itself.
    if (isa<UnrealizedConversionCastOp>(op)) {
      if (!culprit)
        culprit = op;
      return WalkResult::advance();
    }
    culprit = op;
    return WalkResult::interrupt();
  });
  if (!culprit)
    return success();
  culprit->emitError() << "'" << culprit->getName()
                       << "' is not supported by the "
                       << (gpu ? "GPU" : "CPU")
                       << " pipeline (it was not lowered to the LLVM "
                          "dialect)";
  return failure();
}

LogicalResult checkNoDeclarations(ModuleOp module) {
  bool ok = true;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isDeclaration()) {
      func.emitError() << "@" << func.getSymName()
                       << " is declared but not defined; a compiled module "
                          "is self-contained, so every function it calls "
                          "must have a body";
      ok = false;
    }
  return success(ok);
}

namespace {

/// An internal constant NUL-terminated string.
LLVM::GlobalOp addString(OpBuilder &b, Location loc, StringRef name,
                         StringRef value) {
  std::string text = value.str();
  text.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
  return LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                LLVM::Linkage::Internal, name,
                                b.getStringAttr(text));
}

/// The functions an entry's wrappers call, and what they emit into.
struct EntryABI {
  const EntrySignature &entry;
  LLVM::GlobalOp countMessage;
  /// One per i4 argument with a dynamic innermost size (null otherwise).
  SmallVector<LLVM::GlobalOp> i4Messages;
  LLVM::LLVMFuncOp check, shape, ciface;
  /// `_mlir_ciface___loom_index_check_<name>` (CPU modules whose ops read
  /// index arguments), else null.
  LLVM::LLVMFuncOp indexCheck = {};
};

/// The start that every wrapper of an entry shares, in `wrapper` (whose
/// first two parameters are `void **args, int64_t nargs`): checks nargs,
/// reads every argument size from the descriptors (an i4 tensor's innermost
/// logical size is twice the packed one) and calls the check function. A
/// failure returns its message; on success the builder is left in a new
/// block, `sizes` holds the sizes and `failed` is a block that returns its
/// pointer argument.
void buildEntryPrologue(OpBuilder &b, Location loc, LLVM::LLVMFuncOp wrapper,
                        const EntryABI &abi, SmallVectorImpl<Value> &sizes,
                        Block *&failed) {
  const EntrySignature &entry = abi.entry;
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  Type i64 = b.getI64Type();
  Block *start = wrapper.addEntryBlock(b);
  Block *wrongCount = wrapper.addBlock();
  Block *readSizes = wrapper.addBlock();
  failed = wrapper.addBlock();
  failed->addArgument(ptr, loc);
  Block *passed = wrapper.addBlock();
  Value args = wrapper.getArgument(0);
  auto load = [&](Type type, Value base, Type element, int32_t index) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, element, base,
                                     ArrayRef<LLVM::GEPArg>{index});
    return LLVM::LoadOp::create(b, loc, type, slot).getResult();
  };

  b.setInsertionPointToStart(start);
  Value expected = LLVM::ConstantOp::create(
      b, loc, i64, b.getI64IntegerAttr(entry.args.size()));
  Value countOk = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq,
                                       wrapper.getArgument(1), expected);
  LLVM::CondBrOp::create(b, loc, countOk, readSizes, wrongCount);

  b.setInsertionPointToStart(wrongCount);
  LLVM::ReturnOp::create(
      b, loc, LLVM::AddressOfOp::create(b, loc, abi.countMessage).getResult());

  b.setInsertionPointToStart(readSizes);
  for (auto [i, type] : llvm::enumerate(entry.args)) {
    Value descriptor = load(ptr, args, ptr, int32_t(1 + i));
    for (int64_t d = 0; d < type.getRank(); ++d) {
      Value size = load(i64, descriptor, i64, int32_t(3 + d));
      if (type.getElementType().isInteger(4) && d == type.getRank() - 1) {
        // Doubled, a dynamic packed size past 2^62 - 1 would wrap around:
        // refused with its own message rather than read as a negative size.
        // (A static one that wraps differs from its type's, and says so.)
        if (abi.i4Messages[i]) {
          Value half = LLVM::ConstantOp::create(
              b, loc, i64, b.getI64IntegerAttr(INT64_MAX / 2));
          Value fits = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::sle,
                                            size, half);
          Block *doubled = wrapper.addBlock();
          Value tooLarge =
              LLVM::AddressOfOp::create(b, loc, abi.i4Messages[i]).getResult();
          LLVM::CondBrOp::create(b, loc, fits, doubled, ValueRange(), failed,
                                 ValueRange{tooLarge});
          b.setInsertionPointToStart(doubled);
        }
        Value two =
            LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(2));
        size = LLVM::MulOp::create(b, loc, size, two);
      }
      sizes.push_back(size);
    }
  }
  Value message = LLVM::CallOp::create(b, loc, abi.check, sizes).getResult();
  Value null = LLVM::ZeroOp::create(b, loc, ptr);
  Value ok =
      LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, message, null);
  LLVM::CondBrOp::create(b, loc, ok, passed, ValueRange(), failed,
                         ValueRange{message});

  b.setInsertionPointToStart(failed);
  LLVM::ReturnOp::create(b, loc, failed->getArgument(0));
  b.setInsertionPointToStart(passed);
  if (!abi.indexCheck)
    return;
  // The index data, once the sizes are known to be right
  // (loom-entry-index-checks): every argument's descriptor.
  SmallVector<Value> descriptors;
  for (unsigned k = 1; k <= entry.args.size(); ++k)
    descriptors.push_back(load(ptr, args, ptr, int32_t(k)));
  Value indexMessage =
      LLVM::CallOp::create(b, loc, abi.indexCheck, descriptors).getResult();
  Value indicesOk = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq,
                                         indexMessage, null);
  Block *indicesPassed = wrapper.addBlock();
  LLVM::CondBrOp::create(b, loc, indicesOk, indicesPassed, ValueRange(),
                         failed, ValueRange{indexMessage});
  b.setInsertionPointToStart(indicesPassed);
}

/// The operands of `_mlir_ciface_<name>(results*, arg0*, ...)`: the result
/// pointer is there only when the function has results; every memref is
/// passed by pointer.
SmallVector<Value> cifaceOperands(OpBuilder &b, Location loc, Value args,
                                  Value results, const EntrySignature &entry) {
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  SmallVector<Value> operands;
  if (!entry.results.empty())
    operands.push_back(results);
  for (unsigned k = 1; k <= entry.args.size(); ++k) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, args,
                                     ArrayRef<LLVM::GEPArg>{int32_t(k)});
    operands.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
  }
  return operands;
}

/// `const char *loom_entry_<name>(void **args, int64_t nargs)`: the checks,
/// then `_mlir_ciface_<name>` into the caller's results area (args[0]).
void buildEntryWrapper(OpBuilder &b, Location loc, LLVM::LLVMFuncOp wrapper,
                       const EntryABI &abi) {
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  SmallVector<Value> sizes;
  Block *failed;
  buildEntryPrologue(b, loc, wrapper, abi, sizes, failed);
  Value args = wrapper.getArgument(0);
  Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, args,
                                   ArrayRef<LLVM::GEPArg>{int32_t(0)});
  Value results = LLVM::LoadOp::create(b, loc, ptr, slot);
  LLVM::CallOp::create(b, loc, abi.ciface,
                       cifaceOperands(b, loc, args, results, abi.entry));
  LLVM::ReturnOp::create(b, loc, LLVM::ZeroOp::create(b, loc, ptr).getResult());
}

/// The number of dimensions of every result, added up.
int64_t resultDims(const EntrySignature &entry) {
  int64_t n = 0;
  for (RankedTensorType type : entry.results)
    n += type.getRank();
  return n;
}

/// `const char *loom_shape_<name>(void **args, int64_t nargs, int64_t
/// *dims)`: the checks, then every result's logical sizes into `dims`.
void buildShapeWrapper(OpBuilder &b, Location loc, LLVM::LLVMFuncOp wrapper,
                       const EntryABI &abi) {
  SmallVector<Value> sizes;
  Block *failed;
  buildEntryPrologue(b, loc, wrapper, abi, sizes, failed);
  SmallVector<Value> operands{wrapper.getArgument(2)};
  operands.append(sizes);
  Value message = LLVM::CallOp::create(b, loc, abi.shape, operands).getResult();
  LLVM::ReturnOp::create(b, loc, message);
}

/// Bytes per stored element at the ABI (i4 is stored packed, as bytes).
int64_t storageBytes(Type element) {
  if (element.isInteger(4) || element.isInteger(1))
    return 1;
  return element.getIntOrFloatBitWidth() / 8;
}

/// An external function of the module, declared if it is not there yet.
FailureOr<LLVM::LLVMFuncOp> declare(ModuleOp module, StringRef name,
                                    LLVM::LLVMFunctionType type) {
  if (auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name)) {
    if (fn.getFunctionType() != type)
      return module.emitError() << "the module declares @" << name
                                << " with type " << fn.getFunctionType()
                                << "; the module ABI needs " << type;
    return fn;
  }
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  return LLVM::LLVMFuncOp::create(b, module.getLoc(), name, type);
}

/// What loom_call_<name> calls besides the entry's own functions.
struct CallFunctions {
  // CPU: free; GPU: mgpuMemcpy, mgpuMemFree, loomCudaCallBegin/End.
  LLVM::LLVMFuncOp free, memcpy, memFree, begin, end;
};

/// `const char *loom_call_<name>(void **args, int64_t nargs, const
/// loomCallContext *context)`: the checks, the result sizes against the
/// destinations' descriptors (args[0] points to them), then the body, whose
/// results are copied into the destinations and released. On the GPU the
/// body runs inside loomCudaCallBegin/End: on the caller's stream, with its
/// allocator, without a synchronization; the wrapper returns the sticky
/// error of the call, if any.
void buildCallWrapper(OpBuilder &b, Location loc, LLVM::LLVMFuncOp wrapper,
                      const EntryABI &abi, ArrayRef<LLVM::GlobalOp> dimMessages,
                      const CallFunctions &fns, bool gpu) {
  const EntrySignature &entry = abi.entry;
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  Type i64 = b.getI64Type();
  SmallVector<Value> sizes;
  Block *failed;
  buildEntryPrologue(b, loc, wrapper, abi, sizes, failed);
  Value args = wrapper.getArgument(0);
  auto constant = [&](int64_t v) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v))
        .getResult();
  };
  auto word = [&](Value base, int64_t index) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, i64, base,
                                     ArrayRef<LLVM::GEPArg>{int32_t(index)});
    return LLVM::LoadOp::create(b, loc, i64, slot).getResult();
  };
  int64_t words = 0;
  for (RankedTensorType type : entry.results)
    words += 3 + 2 * type.getRank();

  Value destinations;
  if (!entry.results.empty()) {
    destinations = LLVM::LoadOp::create(b, loc, ptr, args);
    // The result sizes, from the argument sizes.
    Value dims = LLVM::AllocaOp::create(b, loc, ptr, i64,
                                        constant(resultDims(entry)));
    SmallVector<Value> operands{dims};
    operands.append(sizes);
    Value message =
        LLVM::CallOp::create(b, loc, abi.shape, operands).getResult();
    Value null = LLVM::ZeroOp::create(b, loc, ptr);
    Value ok =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, message, null);
    Block *next = wrapper.addBlock();
    LLVM::CondBrOp::create(b, loc, ok, next, ValueRange(), failed,
                           ValueRange{message});
    b.setInsertionPointToStart(next);
    // Each destination's sizes (packed for i4) against them.
    int64_t k = 0, w = 0;
    for (auto [r, type] : llvm::enumerate(entry.results)) {
      for (int64_t d = 0; d < type.getRank(); ++d, ++k) {
        Value expected = word(dims, k);
        if (type.getElementType().isInteger(4) && d == type.getRank() - 1)
          expected = LLVM::SDivOp::create(b, loc, expected, constant(2));
        Value given = word(destinations, w + 3 + d);
        Value same = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq,
                                          given, expected);
        Block *fits = wrapper.addBlock();
        Value wrong = LLVM::AddressOfOp::create(b, loc, dimMessages[k]);
        LLVM::CondBrOp::create(b, loc, same, fits, ValueRange(), failed,
                               ValueRange{wrong});
        b.setInsertionPointToStart(fits);
      }
      w += 3 + 2 * type.getRank();
    }
  }

  Value stream;
  if (gpu)
    stream = LLVM::CallOp::create(b, loc, fns.begin,
                                  ValueRange{wrapper.getArgument(2)})
                 .getResult();
  Value results;
  if (!entry.results.empty())
    results = LLVM::AllocaOp::create(b, loc, ptr, i64, constant(words));
  LLVM::CallOp::create(b, loc, abi.ciface,
                       cifaceOperands(b, loc, args, results, entry));
  int64_t w = 0;
  for (RankedTensorType type : entry.results) {
    int64_t eb = storageBytes(type.getElementType());
    Value bytes = constant(eb);
    for (int64_t d = 0; d < type.getRank(); ++d)
      bytes = LLVM::MulOp::create(b, loc, bytes, word(results, w + 3 + d));
    auto address = [&](Value base) {
      Value aligned = LLVM::IntToPtrOp::create(b, loc, ptr, word(base, w + 1));
      Value offset =
          LLVM::MulOp::create(b, loc, word(base, w + 2), constant(eb));
      return LLVM::GEPOp::create(b, loc, ptr, b.getI8Type(), aligned,
                                 ValueRange{offset})
          .getResult();
    };
    Value to = address(destinations), from = address(results);
    Value allocated = LLVM::IntToPtrOp::create(b, loc, ptr, word(results, w));
    if (gpu) {
      LLVM::CallOp::create(b, loc, fns.memcpy,
                           ValueRange{to, from, bytes, stream});
      LLVM::CallOp::create(b, loc, fns.memFree, ValueRange{allocated, stream});
    } else {
      LLVM::MemcpyOp::create(b, loc, to, from, bytes, /*isVolatile=*/false);
      LLVM::CallOp::create(b, loc, fns.free, ValueRange{allocated});
    }
    w += 3 + 2 * type.getRank();
  }
  if (gpu)
    LLVM::ReturnOp::create(
        b, loc, LLVM::CallOp::create(b, loc, fns.end, ValueRange()).getResult());
  else
    LLVM::ReturnOp::create(b, loc,
                           LLVM::ZeroOp::create(b, loc, ptr).getResult());
}

} // namespace

LogicalResult addModuleABI(ModuleOp module, ArrayRef<EntrySignature> entries,
                           StringRef signature, StringRef inputHints,
                           ModuleOp checks, bool gpu) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);

  SmallVector<std::string> reserved = {
      "loom_module_signature", "__loom_signature", "loom_module_input_hints",
      "__loom_input_hints"};
  for (const EntrySignature &entry : entries) {
    reserved.push_back("loom_entry_" + entry.name);
    reserved.push_back("loom_shape_" + entry.name);
    reserved.push_back("loom_call_" + entry.name);
    reserved.push_back("__loom_call_" + entry.name + "_dim");
    reserved.push_back("__loom_check_" + entry.name + "_nargs");
  }
  for (Operation &op : checks.getOps())
    if (auto symbol = dyn_cast<SymbolOpInterface>(&op))
      reserved.push_back(symbol.getName().str());
  for (const std::string &name : reserved)
    if (SymbolTable::lookupSymbolIn(module, name))
      return module.emitError()
             << "the symbol '" << name
             << "' is reserved for the module ABI; rename the function";
  for (Operation &op : llvm::make_early_inc_range(checks.getOps()))
    op.moveBefore(module.getBody(), module.getBody()->end());

  // Only the ABI is exported: the lowered functions and their C interfaces
  // become internal, so that an entry named like a libc or libm function
  // cannot interpose on it when the module is loaded.
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
    if (!fn.isExternal())
      fn.setLinkage(LLVM::Linkage::Internal);

  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  // `const char *NAME(void)` returning the string `text`.
  auto addTextFunction = [&](StringRef global, StringRef name,
                             StringRef text) {
    LLVM::GlobalOp string = addString(b, loc, global, text);
    auto fn = LLVM::LLVMFuncOp::create(b, loc, name,
                                       LLVM::LLVMFunctionType::get(ptr, {}));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(fn.addEntryBlock(b));
    Value address = LLVM::AddressOfOp::create(b, loc, string);
    LLVM::ReturnOp::create(b, loc, address);
  };
  addTextFunction("__loom_signature", "loom_module_signature", signature);
  addTextFunction("__loom_input_hints", "loom_module_input_hints", inputHints);

  Type i64 = IntegerType::get(ctx, 64);
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  CallFunctions fns;
  auto declareAll = [&]() -> LogicalResult {
    auto fn = [&](LLVM::LLVMFuncOp &slot, StringRef name, Type result,
                  ArrayRef<Type> params) {
      FailureOr<LLVM::LLVMFuncOp> f =
          declare(module, name, LLVM::LLVMFunctionType::get(result, params));
      if (succeeded(f))
        slot = *f;
      return success(succeeded(f));
    };
    if (!gpu)
      return fn(fns.free, "free", voidType, {ptr});
    return success(succeeded(fn(fns.memcpy, "mgpuMemcpy", voidType,
                                {ptr, ptr, i64, ptr})) &&
                   succeeded(fn(fns.memFree, "mgpuMemFree", voidType,
                                {ptr, ptr})) &&
                   succeeded(fn(fns.begin, "loomCudaCallBegin", ptr, {ptr})) &&
                   succeeded(fn(fns.end, "loomCudaCallEnd", ptr, {})));
  };
  if (failed(declareAll()))
    return failure();

  auto wrapperType = LLVM::LLVMFunctionType::get(ptr, {ptr, i64});
  auto extendedType = LLVM::LLVMFunctionType::get(ptr, {ptr, i64, ptr});
  for (const EntrySignature &entry : entries) {
    std::string cifaceName = "_mlir_ciface_" + entry.name;
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    unsigned hasResults = entry.results.empty() ? 0 : 1;
    if (!ciface || ciface.isExternal() ||
        ciface.getNumArguments() != entry.args.size() + hasResults)
      return module.emitError()
             << "entry @" << entry.name << " has no C interface "
             << cifaceName << " of the expected form after lowering";
    std::string checkName = "__loom_check_" + entry.name;
    auto check = module.lookupSymbol<LLVM::LLVMFuncOp>(checkName);
    auto shape =
        module.lookupSymbol<LLVM::LLVMFuncOp>("__loom_shape_" + entry.name);
    if (!check || check.isExternal() || !shape || shape.isExternal())
      return module.emitError()
             << "entry @" << entry.name << " has no argument check "
             << checkName << " or result shape function";
    EntryABI abi{entry, {}, {}, check, shape, ciface};
    if (auto indexCheck = module.lookupSymbol<LLVM::LLVMFuncOp>(
            "_mlir_ciface___loom_index_check_" + entry.name)) {
      if (gpu || indexCheck.isExternal() ||
          indexCheck.getNumArguments() != entry.args.size())
        return module.emitError()
               << "entry @" << entry.name
               << ": the index check function has not the expected form";
      abi.indexCheck = indexCheck;
    }
    abi.countMessage = addString(
        b, loc, checkName + "_nargs",
        entry.name + ": called with the wrong number of arguments (it takes " +
            std::to_string(entry.args.size()) + ")");
    abi.i4Messages.resize(entry.args.size());
    for (auto [i, type] : llvm::enumerate(entry.args))
      if (type.getElementType().isInteger(4) && type.getRank() > 0 &&
          type.isDynamicDim(type.getRank() - 1))
        abi.i4Messages[i] = addString(
            b, loc, checkName + "_i4_" + std::to_string(i),
            entry.name + ": argument " + std::to_string(i) + " dimension " +
                std::to_string(type.getRank() - 1) +
                " (?) is too large: twice its packed i4 size passes 2^63 - 1");
    SmallVector<LLVM::GlobalOp> dimMessages;
    for (auto [r, type] : llvm::enumerate(entry.results))
      for (int64_t d = 0; d < type.getRank(); ++d)
        dimMessages.push_back(addString(
            b, loc,
            "__loom_call_" + entry.name + "_dim" +
                std::to_string(dimMessages.size()),
            entry.name + ": destination " + std::to_string(r) +
                " dimension " + std::to_string(d) +
                " does not match the result's size (loom_shape_" +
                entry.name + " computes it)"));
    OpBuilder::InsertionGuard guard(b);
    auto wrapper = LLVM::LLVMFuncOp::create(b, loc, "loom_entry_" + entry.name,
                                            wrapperType);
    buildEntryWrapper(b, loc, wrapper, abi);
    b.setInsertionPointToEnd(module.getBody());
    auto shapeWrapper = LLVM::LLVMFuncOp::create(
        b, loc, "loom_shape_" + entry.name, extendedType);
    buildShapeWrapper(b, loc, shapeWrapper, abi);
    b.setInsertionPointToEnd(module.getBody());
    auto callWrapper = LLVM::LLVMFuncOp::create(
        b, loc, "loom_call_" + entry.name, extendedType);
    buildCallWrapper(b, loc, callWrapper, abi, dimMessages, fns, gpu);
    b.setInsertionPointToEnd(module.getBody());
  }
  return success();
}

} // namespace abi
} // namespace loom
