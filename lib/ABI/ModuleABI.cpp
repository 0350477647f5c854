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

LogicalResult addModuleABI(ModuleOp module, ArrayRef<EntrySignature> entries,
                           StringRef signature) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);

  SmallVector<std::string> exported = {"loom_module_signature",
                                       "__loom_signature"};
  for (const EntrySignature &entry : entries)
    exported.push_back("loom_entry_" + entry.name);
  for (const std::string &name : exported)
    if (SymbolTable::lookupSymbolIn(module, name))
      return module.emitError()
             << "the symbol '" << name
             << "' is reserved for the module ABI; rename the function";

  // Only the ABI is exported: the lowered functions and their C interfaces
  // become internal, so that an entry named like a libc or libm function
  // cannot interpose on it when the module is loaded.
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
    if (!fn.isExternal())
      fn.setLinkage(LLVM::Linkage::Internal);

  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  std::string text = signature.str();
  text.push_back('\0');
  auto textType = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8),
                                           text.size());
  auto global = LLVM::GlobalOp::create(b, loc, textType, /*isConstant=*/true,
                                       LLVM::Linkage::Internal,
                                       "__loom_signature",
                                       b.getStringAttr(text));
  auto sigFn = LLVM::LLVMFuncOp::create(
      b, loc, "loom_module_signature", LLVM::LLVMFunctionType::get(ptr, {}));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(sigFn.addEntryBlock(b));
    Value address = LLVM::AddressOfOp::create(b, loc, global);
    LLVM::ReturnOp::create(b, loc, address);
  }

  auto wrapperType =
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr});
  for (const EntrySignature &entry : entries) {
    std::string cifaceName = "_mlir_ciface_" + entry.name;
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    // _mlir_ciface_<name>(results*, arg0*, ...): the result pointer is there
    // only when the function has results; every memref is passed by pointer.
    unsigned hasResults = entry.results.empty() ? 0 : 1;
    if (!ciface || ciface.isExternal() ||
        ciface.getNumArguments() != entry.args.size() + hasResults)
      return module.emitError()
             << "entry @" << entry.name << " has no C interface "
             << cifaceName << " of the expected form after lowering";
    auto wrapper = LLVM::LLVMFuncOp::create(b, loc, "loom_entry_" + entry.name,
                                            wrapperType);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(wrapper.addEntryBlock(b));
    Value args = wrapper.getArgument(0);
    SmallVector<Value> operands;
    for (unsigned k = 1 - hasResults; k <= entry.args.size(); ++k) {
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, args,
                                       ArrayRef<LLVM::GEPArg>{int32_t(k)});
      operands.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
    }
    LLVM::CallOp::create(b, loc, ciface, operands);
    LLVM::ReturnOp::create(b, loc, ValueRange());
  }
  return success();
}

} // namespace abi
} // namespace loom
