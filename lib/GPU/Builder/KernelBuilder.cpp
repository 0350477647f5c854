//===- KernelBuilder.cpp - building Loom's kernels as typed IR ------------===//

#include "loom/GPU/Builder/KernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace loom {
namespace gpu {

Type parseElementType(MLIRContext *ctx, StringRef name) {
  Builder b(ctx);
  return llvm::StringSwitch<Type>(name)
      .Case("bf16", b.getBF16Type())
      .Case("f16", b.getF16Type())
      .Case("f32", b.getF32Type())
      .Case("f64", b.getF64Type())
      .Case("i1", b.getI1Type())
      .Case("i4", b.getIntegerType(4))
      .Case("i8", b.getI8Type())
      .Case("ui8", b.getIntegerType(8, /*isSigned=*/false))
      .Case("i16", b.getI16Type())
      .Case("i32", b.getI32Type())
      .Case("i64", b.getI64Type())
      .Case("index", b.getIndexType())
      .Case("f8E4M3FN", b.getType<Float8E4M3FNType>())
      .Case("f8E5M2", b.getType<Float8E5M2Type>())
      .Default(Type());
}

MemRefType sharedMemRefType(ArrayRef<int64_t> shape, Type elementType) {
  MLIRContext *ctx = elementType.getContext();
  auto space = mlir::gpu::AddressSpaceAttr::get(
      ctx, mlir::gpu::GPUDialect::getWorkgroupAddressSpace());
  return MemRefType::get(shape, elementType, MemRefLayoutAttrInterface(),
                         space);
}

MemRefType dynamicMemRefType(int64_t rank, Type elementType) {
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  return MemRefType::get(shape, elementType);
}

KernelBuilder::KernelBuilder(mlir::gpu::GPUFuncOp func)
    : ImplicitLocOpBuilder(func.getLoc(), func.getContext()), func(func) {
  setInsertionPointToEnd(&func.getBody().front());
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

Value KernelBuilder::constant(TypedAttr value) {
  auto it = constants.find(value);
  if (it != constants.end())
    return it->second;
  OpBuilder b(getContext());
  Block &entry = func.getBody().front();
  if (lastConstant)
    b.setInsertionPointAfter(lastConstant);
  else
    b.setInsertionPointToStart(&entry);
  auto op = arith::ConstantOp::create(b, getLoc(), value);
  lastConstant = op;
  constants[value] = op;
  return op;
}

Value KernelBuilder::idx(int64_t v) { return constant(getIndexAttr(v)); }
Value KernelBuilder::i1(bool v) { return constant(getBoolAttr(v)); }
Value KernelBuilder::i8(int64_t v) { return constant(getI8IntegerAttr(v)); }
Value KernelBuilder::i16(int64_t v) { return constant(getI16IntegerAttr(v)); }
Value KernelBuilder::i32(int64_t v) { return constant(getI32IntegerAttr(v)); }
Value KernelBuilder::i64(int64_t v) { return constant(getI64IntegerAttr(v)); }
Value KernelBuilder::f32(double v) { return constant(getF32FloatAttr(v)); }

Value KernelBuilder::f32Bits(uint32_t bits) {
  APFloat value(APFloat::IEEEsingle(), APInt(32, bits));
  return constant(FloatAttr::get(getF32Type(), value));
}

Value KernelBuilder::zero(Type type) {
  if (auto vector = dyn_cast<VectorType>(type)) {
    Type element = vector.getElementType();
    if (isa<FloatType>(element))
      return constant(DenseElementsAttr::get(vector, FloatAttr::get(element, 0.0)));
    return constant(DenseElementsAttr::get(vector, IntegerAttr::get(element, 0)));
  }
  if (isa<FloatType>(type))
    return constant(FloatAttr::get(type, 0.0));
  return constant(IntegerAttr::get(type, 0));
}

Value KernelBuilder::splatF(Type type, double v) {
  if (auto vector = dyn_cast<VectorType>(type))
    return constant(DenseElementsAttr::get(
        vector, FloatAttr::get(vector.getElementType(), v)));
  return constant(FloatAttr::get(type, v));
}

//===----------------------------------------------------------------------===//
// Integer and index arithmetic
//===----------------------------------------------------------------------===//

Value KernelBuilder::add(Value a, Value b) { return arith::AddIOp::create(*this, a, b); }
Value KernelBuilder::sub(Value a, Value b) { return arith::SubIOp::create(*this, a, b); }
Value KernelBuilder::mul(Value a, Value b) { return arith::MulIOp::create(*this, a, b); }
Value KernelBuilder::divu(Value a, Value b) { return arith::DivUIOp::create(*this, a, b); }
Value KernelBuilder::divs(Value a, Value b) { return arith::DivSIOp::create(*this, a, b); }
Value KernelBuilder::remu(Value a, Value b) { return arith::RemUIOp::create(*this, a, b); }
Value KernelBuilder::rems(Value a, Value b) { return arith::RemSIOp::create(*this, a, b); }
Value KernelBuilder::minu(Value a, Value b) { return arith::MinUIOp::create(*this, a, b); }
Value KernelBuilder::maxu(Value a, Value b) { return arith::MaxUIOp::create(*this, a, b); }
Value KernelBuilder::mins(Value a, Value b) { return arith::MinSIOp::create(*this, a, b); }
Value KernelBuilder::maxs(Value a, Value b) { return arith::MaxSIOp::create(*this, a, b); }
Value KernelBuilder::andi(Value a, Value b) { return arith::AndIOp::create(*this, a, b); }
Value KernelBuilder::ori(Value a, Value b) { return arith::OrIOp::create(*this, a, b); }
Value KernelBuilder::xori(Value a, Value b) { return arith::XOrIOp::create(*this, a, b); }
Value KernelBuilder::shl(Value a, Value b) { return arith::ShLIOp::create(*this, a, b); }
Value KernelBuilder::shrs(Value a, Value b) { return arith::ShRSIOp::create(*this, a, b); }
Value KernelBuilder::shru(Value a, Value b) { return arith::ShRUIOp::create(*this, a, b); }

Value KernelBuilder::cmpi(arith::CmpIPredicate predicate, Value a, Value b) {
  return arith::CmpIOp::create(*this, predicate, a, b);
}
Value KernelBuilder::eq(Value a, Value b) { return cmpi(arith::CmpIPredicate::eq, a, b); }
Value KernelBuilder::ne(Value a, Value b) { return cmpi(arith::CmpIPredicate::ne, a, b); }
Value KernelBuilder::ult(Value a, Value b) { return cmpi(arith::CmpIPredicate::ult, a, b); }
Value KernelBuilder::ule(Value a, Value b) { return cmpi(arith::CmpIPredicate::ule, a, b); }
Value KernelBuilder::slt(Value a, Value b) { return cmpi(arith::CmpIPredicate::slt, a, b); }
Value KernelBuilder::sle(Value a, Value b) { return cmpi(arith::CmpIPredicate::sle, a, b); }
Value KernelBuilder::sgt(Value a, Value b) { return cmpi(arith::CmpIPredicate::sgt, a, b); }
Value KernelBuilder::sge(Value a, Value b) { return cmpi(arith::CmpIPredicate::sge, a, b); }

Value KernelBuilder::select(Value condition, Value a, Value b) {
  return arith::SelectOp::create(*this, condition, a, b);
}

Value KernelBuilder::pick(Value i, ArrayRef<Value> values) {
  Value v = values[0];
  for (size_t j = 1; j < values.size(); ++j) {
    Value here = eq(i, idx(static_cast<int64_t>(j)));
    v = select(here, values[j], v);
  }
  return v;
}

Value KernelBuilder::addConst(Value a, int64_t c) {
  return c == 0 ? a : add(a, idx(c));
}
Value KernelBuilder::mulConst(Value a, int64_t c) {
  return c == 1 ? a : mul(a, idx(c));
}
Value KernelBuilder::addMul(Value a, Value b, int64_t c) {
  if (c == 0)
    return a;
  return add(a, c == 1 ? b : mul(b, idx(c)));
}
Value KernelBuilder::divuConst(Value a, int64_t c) { return divu(a, idx(c)); }
Value KernelBuilder::remuConst(Value a, int64_t c) { return remu(a, idx(c)); }
Value KernelBuilder::ceilDivConst(Value a, int64_t c) {
  return divu(add(a, idx(c - 1)), idx(c));
}

Value KernelBuilder::indexCast(Type to, Value v) {
  return arith::IndexCastOp::create(*this, to, v);
}
Value KernelBuilder::indexCastUI(Type to, Value v) {
  return arith::IndexCastUIOp::create(*this, to, v);
}
Value KernelBuilder::trunci(Type to, Value v) { return arith::TruncIOp::create(*this, to, v); }
Value KernelBuilder::extsi(Type to, Value v) { return arith::ExtSIOp::create(*this, to, v); }
Value KernelBuilder::extui(Type to, Value v) { return arith::ExtUIOp::create(*this, to, v); }

//===----------------------------------------------------------------------===//
// Float arithmetic
//===----------------------------------------------------------------------===//

Value KernelBuilder::fadd(Value a, Value b) { return arith::AddFOp::create(*this, a, b); }
Value KernelBuilder::fsub(Value a, Value b) { return arith::SubFOp::create(*this, a, b); }
Value KernelBuilder::fmul(Value a, Value b) { return arith::MulFOp::create(*this, a, b); }
Value KernelBuilder::fdiv(Value a, Value b) { return arith::DivFOp::create(*this, a, b); }
Value KernelBuilder::fmax(Value a, Value b) { return arith::MaximumFOp::create(*this, a, b); }
Value KernelBuilder::fmin(Value a, Value b) { return arith::MinimumFOp::create(*this, a, b); }
Value KernelBuilder::fneg(Value a) { return arith::NegFOp::create(*this, a); }
Value KernelBuilder::fma(Value a, Value b, Value c) {
  // The LLVM intrinsic, not math.fma: convert-gpu-to-nvvm turns math.fma
  // into a libdevice call, inlined back only where libdevice is linked.
  return LLVM::FMAOp::create(*this, a, b, c);
}
Value KernelBuilder::cmpf(arith::CmpFPredicate predicate, Value a, Value b) {
  return arith::CmpFOp::create(*this, predicate, a, b);
}
Value KernelBuilder::exp(Value a) { return math::ExpOp::create(*this, a); }
Value KernelBuilder::erf(Value a) { return math::ErfOp::create(*this, a); }
Value KernelBuilder::tanh(Value a) { return math::TanhOp::create(*this, a); }
Value KernelBuilder::rsqrt(Value a) { return math::RsqrtOp::create(*this, a); }
Value KernelBuilder::sqrt(Value a) { return math::SqrtOp::create(*this, a); }

Value KernelBuilder::exp2Approx(Value a) {
  return LLVM::CallIntrinsicOp::create(*this, getF32Type(),
                                       getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
                                       ValueRange{a})
      .getResult(0);
}

Value KernelBuilder::rcpApprox(Value a) {
  return LLVM::CallIntrinsicOp::create(*this, getF32Type(),
                                       getStringAttr("llvm.nvvm.rcp.approx.ftz.f"),
                                       ValueRange{a})
      .getResult(0);
}

Value KernelBuilder::log2Approx(Value a) {
  return LLVM::CallIntrinsicOp::create(*this, getF32Type(),
                                       getStringAttr("llvm.nvvm.lg2.approx.ftz.f"),
                                       ValueRange{a})
      .getResult(0);
}

Value KernelBuilder::extf(Type to, Value v) { return arith::ExtFOp::create(*this, to, v); }
Value KernelBuilder::truncf(Type to, Value v) { return arith::TruncFOp::create(*this, to, v); }
Value KernelBuilder::sitofp(Type to, Value v) { return arith::SIToFPOp::create(*this, to, v); }
Value KernelBuilder::uitofp(Type to, Value v) { return arith::UIToFPOp::create(*this, to, v); }
Value KernelBuilder::fptosi(Type to, Value v) { return arith::FPToSIOp::create(*this, to, v); }
Value KernelBuilder::bitcast(Type to, Value v) { return arith::BitcastOp::create(*this, to, v); }

/// `type` with its (scalar or vector) element type replaced by `element`.
static Type withElementType(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

Value KernelBuilder::toF32(Value v) {
  if (getElementTypeOrSelf(v.getType()).isF32())
    return v;
  return extf(withElementType(v.getType(), getF32Type()), v);
}

Value KernelBuilder::roundTo(Type elementType, Value v) {
  if (elementType.isF32())
    return v;
  return truncf(withElementType(v.getType(), elementType), v);
}

//===----------------------------------------------------------------------===//
// Vectors
//===----------------------------------------------------------------------===//

Value KernelBuilder::extract(Value vector, int64_t position) {
  return vector::ExtractOp::create(*this, vector, ArrayRef<int64_t>{position});
}
Value KernelBuilder::insert(Value scalar, Value vector, int64_t position) {
  return vector::InsertOp::create(*this, scalar, vector,
                                  ArrayRef<int64_t>{position});
}
Value KernelBuilder::broadcast(Type vectorType, Value scalar) {
  return vector::BroadcastOp::create(*this, vectorType, scalar);
}
Value KernelBuilder::fromElements(Type vectorType, ValueRange elements) {
  return vector::FromElementsOp::create(*this, cast<VectorType>(vectorType),
                                        elements);
}
Value KernelBuilder::vshuffle(Value a, Value b, ArrayRef<int64_t> mask) {
  return vector::ShuffleOp::create(*this, a, b, mask);
}
Value KernelBuilder::vbitcast(Type to, Value v) {
  return vector::BitCastOp::create(*this, to, v);
}
Value KernelBuilder::reduceAdd(Value vector) {
  return vector::ReductionOp::create(*this, vector::CombiningKind::ADD, vector);
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Value KernelBuilder::load(Value memref, ValueRange indices) {
  return memref::LoadOp::create(*this, memref, indices);
}
void KernelBuilder::store(Value value, Value memref, ValueRange indices) {
  memref::StoreOp::create(*this, value, memref, indices);
}
Value KernelBuilder::vectorLoad(Type vectorType, Value memref,
                                ValueRange indices, int64_t alignment) {
  return vector::LoadOp::create(*this, cast<VectorType>(vectorType), memref,
                                indices, /*nontemporal=*/false,
                                alignment ? llvm::MaybeAlign(alignment)
                                          : llvm::MaybeAlign());
}
void KernelBuilder::vectorStore(Value value, Value memref, ValueRange indices,
                                int64_t alignment) {
  vector::StoreOp::create(*this, value, memref, indices, /*nontemporal=*/false,
                          alignment ? llvm::MaybeAlign(alignment)
                                    : llvm::MaybeAlign());
}
Value KernelBuilder::numericShared(Value view) {
  auto type = cast<MemRefType>(view.getType());
  auto space3 = MemRefType::get(type.getShape(), type.getElementType(),
                                MemRefLayoutAttrInterface(), getI64IntegerAttr(3));
  return memref::MemorySpaceCastOp::create(*this, space3, view).getResult();
}
Value KernelBuilder::inlinePtx(Type result, ValueRange operands, StringRef text,
                               StringRef constraints, bool sideEffects) {
  return LLVM::InlineAsmOp::create(*this, result, operands, text, constraints,
                                   sideEffects, /*is_align_stack=*/false,
                                   LLVM::tailcallkind::TailCallKind::None,
                                   LLVM::AsmDialectAttr(), ArrayAttr())
      .getRes();
}
Value KernelBuilder::dim(Value memref, int64_t d) {
  return memref::DimOp::create(*this, memref, idx(d));
}
Value KernelBuilder::alignedPointer(Value memref) {
  return memref::ExtractAlignedPointerAsIndexOp::create(*this, memref);
}
Value KernelBuilder::dynamicSharedMemory() {
  return mlir::gpu::DynamicSharedMemoryOp::create(
      *this, sharedMemRefType({ShapedType::kDynamic}, getI8Type()));
}
Value KernelBuilder::view(Value bytes, int64_t byteOffset, MemRefType type) {
  return view(bytes, idx(byteOffset), type);
}
Value KernelBuilder::view(Value bytes, Value byteOffset, MemRefType type) {
  return memref::ViewOp::create(*this, type, bytes, byteOffset, ValueRange{});
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

Value KernelBuilder::threadId(mlir::gpu::Dimension d) {
  return mlir::gpu::ThreadIdOp::create(*this, d);
}
Value KernelBuilder::blockId(mlir::gpu::Dimension d) {
  return mlir::gpu::BlockIdOp::create(*this, d);
}
Value KernelBuilder::gridDim(mlir::gpu::Dimension d) {
  return mlir::gpu::GridDimOp::create(*this, d);
}
Value KernelBuilder::blockDim(mlir::gpu::Dimension d) {
  return mlir::gpu::BlockDimOp::create(*this, d);
}
void KernelBuilder::barrier() { mlir::gpu::BarrierOp::create(*this); }
void KernelBuilder::warpBarrier() { NVVM::SyncWarpOp::create(*this, i32(-1)); }

//===----------------------------------------------------------------------===//
// Structured control flow
//===----------------------------------------------------------------------===//

/// Runs `build` with the builder inside `block` (at its end, or before its
/// terminator when it has one), restoring the insertion point afterwards.
template <typename Fn>
static auto inBlock(KernelBuilder &b, Block *block, Fn build) {
  OpBuilder::InsertionGuard guard(b);
  if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
    b.setInsertionPoint(&block->back());
  else
    b.setInsertionPointToEnd(block);
  return build();
}

KernelBuilder::Values
KernelBuilder::forLoop(Value lb, Value ub, Value step, ValueRange inits,
                       function_ref<Values(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(*this, lb, ub, step, inits);
  Block *block = loop.getBody();
  // The builder adds a yield only without iter_args; build before it.
  inBlock(*this, block, [&] {
    Values yields = body(loop.getInductionVar(), loop.getRegionIterArgs());
    if (!inits.empty())
      scf::YieldOp::create(*this, yields);
    return 0;
  });
  return Values(loop.getResults());
}

void KernelBuilder::forLoop(Value lb, Value ub, Value step,
                            function_ref<void(Value)> body) {
  forLoop(lb, ub, step, ValueRange{}, [&](Value iv, ValueRange) {
    body(iv);
    return Values{};
  });
}

void KernelBuilder::ifThen(Value condition, function_ref<void()> then) {
  auto op = scf::IfOp::create(*this, TypeRange{}, condition,
                              /*withElseRegion=*/false);
  inBlock(*this, op.thenBlock(), [&] {
    then();
    return 0;
  });
}

void KernelBuilder::ifThenElse(Value condition, function_ref<void()> then,
                               function_ref<void()> otherwise) {
  auto op = scf::IfOp::create(*this, TypeRange{}, condition,
                              /*withElseRegion=*/true);
  inBlock(*this, op.thenBlock(), [&] {
    then();
    return 0;
  });
  inBlock(*this, op.elseBlock(), [&] {
    otherwise();
    return 0;
  });
}

KernelBuilder::Values KernelBuilder::ifThenElse(Value condition,
                                                TypeRange types,
                                                function_ref<Values()> then,
                                                function_ref<Values()> otherwise) {
  auto op = scf::IfOp::create(*this, types, condition, /*withElseRegion=*/true);
  for (auto [block, fn] : {std::pair{op.thenBlock(), then},
                           std::pair{op.elseBlock(), otherwise}}) {
    // With results, the builder leaves the blocks without terminators.
    inBlock(*this, block, [&, fn = fn] {
      Values yields = fn();
      scf::YieldOp::create(*this, yields);
      return 0;
    });
  }
  return Values(op.getResults());
}

Value KernelBuilder::ifThenElse(Value condition, Type type,
                                function_ref<Value()> then,
                                function_ref<Value()> otherwise) {
  return ifThenElse(
      condition, TypeRange{type}, [&] { return Values{then()}; },
      [&] { return Values{otherwise()}; })[0];
}

KernelBuilder::Values
KernelBuilder::whileLoop(ValueRange inits,
                         function_ref<Values(ValueRange)> before,
                         function_ref<Values(ValueRange)> after) {
  SmallVector<Type> types(inits.getTypes());
  SmallVector<Location> locs(inits.size(), getLoc());
  auto loop = scf::WhileOp::create(*this, types, inits);
  Block *beforeBlock = createBlock(&loop.getBefore(), {}, types, locs);
  Block *afterBlock = createBlock(&loop.getAfter(), {}, types, locs);
  setInsertionPointAfter(loop);
  inBlock(*this, beforeBlock, [&] {
    Values values = before(beforeBlock->getArguments());
    scf::ConditionOp::create(*this, values.front(),
                             ValueRange(values).drop_front());
    return 0;
  });
  inBlock(*this, afterBlock, [&] {
    Values values = after(afterBlock->getArguments());
    scf::YieldOp::create(*this, values);
    return 0;
  });
  return Values(loop.getResults());
}

//===----------------------------------------------------------------------===//
// Kernels in gpu.module @loom_kernels
//===----------------------------------------------------------------------===//

/// Puts the constants at the head of `func`'s entry block in the order of
/// their printed values, so that a kernel's IR does not depend on which of
/// its constants the builder happened to create first.
static void sortEntryConstants(mlir::gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  SmallVector<std::pair<std::string, Operation *>> constants;
  for (Operation &op : entry) {
    auto constant = dyn_cast<arith::ConstantOp>(op);
    if (!constant)
      break;
    std::string key;
    llvm::raw_string_ostream os(key);
    os << constant.getValue();
    constants.push_back({key, constant});
  }
  llvm::stable_sort(constants, [](auto &a, auto &b) { return a.first < b.first; });
  for (auto &entryConstant : llvm::reverse(constants))
    entryConstant.second->moveBefore(&entry, entry.begin());
}

FailureOr<SymbolRefAttr>
getOrBuildKernel(ModuleOp module, Location loc, StringRef name,
                 const KernelSignature &signature,
                 function_ref<void(KernelBuilder &)> body) {
  MLIRContext *ctx = module.getContext();
  auto ref = SymbolRefAttr::get(ctx, kKernelModuleName,
                                {FlatSymbolRefAttr::get(ctx, name)});
  module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(ctx));
  auto kernels = module.lookupSymbol<mlir::gpu::GPUModuleOp>(kKernelModuleName);
  if (!kernels) {
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    kernels = mlir::gpu::GPUModuleOp::create(b, module.getLoc(),
                                             kKernelModuleName);
  }
  if (kernels.lookupSymbol(name))
    return ref;

  OpBuilder b = OpBuilder::atBlockEnd(kernels.getBody());
  SmallVector<Type> workgroup;
  for (auto &[type, align] : signature.workgroup)
    workgroup.push_back(type);
  auto func = mlir::gpu::GPUFuncOp::create(
      b, loc, name, FunctionType::get(ctx, signature.arguments, {}),
      workgroup);
  func->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                UnitAttr::get(ctx));
  for (auto [i, entry] : llvm::enumerate(signature.workgroup))
    if (entry.second)
      func.setWorkgroupAttributionAttr(
          i, LLVM::LLVMDialect::getAlignAttrName(),
          b.getI64IntegerAttr(entry.second));
  if (signature.blockSize != std::array<int32_t, 3>{0, 0, 0})
    func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(signature.blockSize));
  if (signature.minBlocksPerSM > 0)
    func->setAttr("nvvm.minctasm",
                  b.getI32IntegerAttr(signature.minBlocksPerSM));
  {
    KernelBuilder kb(func);
    body(kb);
    kb.setInsertionPointToEnd(&func.getBody().front());
    mlir::gpu::ReturnOp::create(kb);
  }
  sortEntryConstants(func);

  // A kernel that does not verify is a bug in its builder: say which kernel
  // at the op that needed it, with the verifier's messages.
  std::string messages;
  llvm::raw_string_ostream os(messages);
  LogicalResult verified = success();
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      os << d.str() << "\n";
      return success();
    });
    verified = verify(func);
  }
  if (failed(verified)) {
    func.erase();
    return emitError(loc) << "internal error: kernel '" << name
                          << "' does not verify:\n"
                          << messages;
  }
  return ref;
}

} // namespace gpu
} // namespace loom
