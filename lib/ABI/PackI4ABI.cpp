//===- PackI4ABI.cpp - i4 tensors packed two per byte at entry boundaries ===//
//
// The CPU lowering gives each i4 element a byte; the ABI (DIALECT.md,
// docs/abi.md) packs two per byte. Rewriting the boundary on tensors, before
// any lowering, keeps the bodies unchanged and lets the unpacking fuse with
// the first consumer later on.

#include "loom/ABI/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace loom {
#define GEN_PASS_DEF_LOOMPACKI4ABIPASS
#include "loom/ABI/Passes.h.inc"
} // namespace loom

using namespace mlir;

namespace {

RankedTensorType asI4Tensor(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getElementType().isInteger(4) ? t : RankedTensorType();
}

/// [..., K] x i4 -> [..., K/2] x i8 (a dynamic K stays dynamic).
RankedTensorType packedType(RankedTensorType t) {
  SmallVector<int64_t> shape(t.getShape());
  if (!ShapedType::isDynamic(shape.back()))
    shape.back() /= 2;
  return RankedTensorType::get(shape, IntegerType::get(t.getContext(), 8));
}

LogicalResult checkPackable(func::FuncOp func, RankedTensorType t,
                            StringRef what, unsigned index) {
  if (t.getRank() == 0)
    return func.emitError() << what << " " << index
                            << " is a rank-0 i4 tensor; i4 tensors are packed "
                               "two per byte along the innermost dimension at "
                               "the module ABI, which needs rank >= 1";
  int64_t k = t.getShape().back();
  if (!ShapedType::isDynamic(k) && k % 2 != 0)
    return func.emitError() << what << " " << index << " (" << t
                            << ") has an odd innermost dimension; i4 tensors "
                               "are packed two per byte along it at the "
                               "module ABI";
  return success();
}

SmallVector<utils::IteratorType> parallel(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

/// The i4 tensor held in `packed` (i8, two nibbles per byte, the even index
/// in the low nibble): element [..., j] is the sign-extended nibble j % 2 of
/// byte [..., j / 2].
Value unpack(OpBuilder &b, Location loc, Value packed, RankedTensorType i4) {
  int64_t rank = i4.getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, packed);
  if (i4.isDynamicDim(rank - 1)) {
    Value half = getValueOrCreateConstantIndexOp(b, loc, sizes.back());
    Value two = arith::ConstantIndexOp::create(b, loc, 2);
    sizes.back() = arith::MulIOp::create(b, loc, half, two).getResult();
  } else {
    sizes.back() = b.getIndexAttr(i4.getShape().back());
  }
  Value init = tensor::EmptyOp::create(b, loc, sizes, i4.getElementType());

  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> inExprs;
  for (int64_t d = 0; d < rank; ++d)
    inExprs.push_back(getAffineDimExpr(d, ctx));
  inExprs.back() = inExprs.back().floorDiv(2);
  AffineMap inMap = AffineMap::get(rank, 0, inExprs, ctx);
  AffineMap outMap = b.getMultiDimIdentityMap(rank);

  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{i4}, ValueRange{packed}, ValueRange{init},
      ArrayRef<AffineMap>{inMap, outMap}, parallel(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Type i8 = nb.getI8Type();
        Value j = linalg::IndexOp::create(nb, nl, rank - 1);
        Value one = arith::ConstantIndexOp::create(nb, nl, 1);
        Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
        Value odd = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::ne,
            arith::AndIOp::create(nb, nl, j, one), zero);
        // Move the wanted nibble to the top, then shift it back down
        // arithmetically: that sign-extends it.
        Value four = arith::ConstantIntOp::create(nb, nl, i8, 4);
        Value none = arith::ConstantIntOp::create(nb, nl, i8, 0);
        Value up = arith::SelectOp::create(nb, nl, odd, none, four);
        Value top = arith::ShLIOp::create(nb, nl, args[0], up);
        Value value = arith::ShRSIOp::create(nb, nl, top, four);
        Value nibble =
            arith::TruncIOp::create(nb, nl, i4.getElementType(), value);
        linalg::YieldOp::create(nb, nl, nibble);
      });
  // Lets loom-gpu-kernels hand the packed bytes to a kernel directly.
  generic->setAttr("loom.unpack_i4", b.getUnitAttr());
  return generic.getResult(0);
}

/// The packed i8 form of the i4 tensor `value`: byte [..., j] holds element
/// [..., 2j] in its low nibble and [..., 2j + 1] in its high nibble.
Value pack(OpBuilder &b, Location loc, Value value, RankedTensorType i4) {
  int64_t rank = i4.getRank();
  RankedTensorType packed = packedType(i4);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, value);
  if (i4.isDynamicDim(rank - 1)) {
    Value full = getValueOrCreateConstantIndexOp(b, loc, sizes.back());
    Value two = arith::ConstantIndexOp::create(b, loc, 2);
    sizes.back() = arith::DivUIOp::create(b, loc, full, two).getResult();
  } else {
    sizes.back() = b.getIndexAttr(packed.getShape().back());
  }
  Value init = tensor::EmptyOp::create(b, loc, sizes, b.getI8Type());

  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> lo, hi;
  for (int64_t d = 0; d < rank; ++d)
    lo.push_back(getAffineDimExpr(d, ctx));
  hi = lo;
  lo.back() = lo.back() * 2;
  hi.back() = hi.back() * 2 + 1;
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, lo, ctx),
                                 AffineMap::get(rank, 0, hi, ctx),
                                 b.getMultiDimIdentityMap(rank)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{packed}, ValueRange{value, value}, ValueRange{init},
      maps, parallel(rank), [&](OpBuilder &nb, Location nl, ValueRange args) {
        Type i8 = nb.getI8Type();
        Value low = arith::ExtUIOp::create(nb, nl, i8, args[0]);
        Value high = arith::ShLIOp::create(
            nb, nl, arith::ExtUIOp::create(nb, nl, i8, args[1]),
            arith::ConstantIntOp::create(nb, nl, i8, 4));
        linalg::YieldOp::create(nb, nl,
                                arith::OrIOp::create(nb, nl, low, high)
                                    .getResult());
      });
  return generic.getResult(0);
}

LogicalResult packFunction(func::FuncOp func) {
  FunctionType type = func.getFunctionType();
  bool any = false;
  for (auto [i, t] : llvm::enumerate(type.getInputs()))
    if (RankedTensorType i4 = asI4Tensor(t)) {
      if (failed(checkPackable(func, i4, "argument", i)))
        return failure();
      any = true;
    }
  for (auto [i, t] : llvm::enumerate(type.getResults()))
    if (RankedTensorType i4 = asI4Tensor(t)) {
      if (failed(checkPackable(func, i4, "result", i)))
        return failure();
      any = true;
    }
  if (!any)
    return success();
  // Calls inside the module pass unpacked i4 tensors; rewriting only the
  // callee's signature would leave them ill-typed.
  if (!SymbolTable::symbolKnownUseEmpty(func, func->getParentOp()))
    return func.emitError()
           << "@" << func.getSymName()
           << " has i4 tensors at its boundary and is also called inside the "
              "module; packing them for the module ABI would break those "
              "calls (call a private function holding the body instead)";

  SmallVector<Type> inputs(type.getInputs()), results(type.getResults());
  Block &entry = func.front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  for (BlockArgument arg : entry.getArguments()) {
    RankedTensorType i4 = asI4Tensor(arg.getType());
    if (!i4)
      continue;
    // The body's uses, taken before the unpacking adds its own.
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : arg.getUses())
      uses.push_back(&use);
    arg.setType(packedType(i4));
    inputs[arg.getArgNumber()] = arg.getType();
    Value unpacked = unpack(b, arg.getLoc(), arg, i4);
    for (OpOperand *use : uses)
      use->set(unpacked);
  }
  for (auto [i, t] : llvm::enumerate(type.getResults()))
    if (RankedTensorType i4 = asI4Tensor(t))
      results[i] = packedType(i4);
  func.walk([&](func::ReturnOp ret) {
    for (OpOperand &operand : ret->getOpOperands())
      if (RankedTensorType i4 = asI4Tensor(operand.get().getType())) {
        b.setInsertionPoint(ret);
        operand.set(pack(b, ret.getLoc(), operand.get(), i4));
      }
  });
  func.setType(FunctionType::get(func.getContext(), inputs, results));
  return success();
}

struct LoomPackI4ABIPass
    : loom::impl::LoomPackI4ABIPassBase<LoomPackI4ABIPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isDeclaration() || !func.isPublic())
        continue;
      if (failed(packFunction(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
