//===- Utils.cpp - helpers shared by the loom-to-linalg patterns -----------===//

#include "Utils.h"

#include <cmath>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace loom::lowering {

OpFoldResult getSize(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return b.getIndexAttr(type.getDimSize(dim));
  return tensor::DimOp::create(b, loc, tensor, dim).getResult();
}

SmallVector<OpFoldResult> getSizes(OpBuilder &b, Location loc, Value tensor) {
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0, e = cast<RankedTensorType>(tensor.getType()).getRank();
       i < e; ++i)
    sizes.push_back(getSize(b, loc, tensor, i));
  return sizes;
}

Value sizeValue(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  return getValueOrCreateConstantIndexOp(b, loc, getSize(b, loc, tensor, dim));
}

Value indexToF32(OpBuilder &b, Location loc, Value index) {
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return floatConstant(b, loc, b.getF32Type(), value);
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value) {
  Value init = emptyTensor(b, loc, sizes, elementType);
  Value cst = isa<FloatType>(elementType)
                  ? floatConstant(b, loc, elementType, value)
                  : Value(arith::ConstantOp::create(
                        b, loc,
                        b.getIntegerAttr(elementType,
                                         static_cast<int64_t>(value))));
  return linalg::FillOp::create(b, loc, cst, init).getResult(0);
}

Value toF32(OpBuilder &b, Location loc, Value scalar) {
  Type t = scalar.getType();
  Type f32 = b.getF32Type();
  if (t == f32)
    return scalar;
  if (isa<FloatType>(t))
    return arith::ExtFOp::create(b, loc, f32, scalar);
  return arith::SIToFPOp::create(b, loc, f32, scalar);
}

Value fromF32(OpBuilder &b, Location loc, Value scalar, Type type) {
  if (scalar.getType() == type)
    return scalar;
  // arith.truncf rounds to nearest even unless told otherwise.
  return arith::TruncFOp::create(b, loc, type, scalar);
}

Value castToType(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

SmallVector<utils::IteratorType> iterators(unsigned n, unsigned r) {
  SmallVector<utils::IteratorType> its(n, utils::IteratorType::parallel);
  its.append(r, utils::IteratorType::reduction);
  return its;
}

AffineMap identityMap(MLIRContext *ctx, unsigned rank) {
  return AffineMap::getMultiDimIdentityMap(rank, ctx);
}

AffineMap projectionMap(MLIRContext *ctx, unsigned numDims,
                        ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

/// A parallel linalg.generic into `init` whose body rounds `body`'s f32
/// result once into init's element type.
static Value genericF32(
    OpBuilder &b, Location loc, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto initType = cast<RankedTensorType>(init.getType());
  unsigned rank = initType.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(identityMap(b.getContext(), rank));
  auto generic = linalg::GenericOp::create(
      b, loc, initType, inputs, init, maps, iterators(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> f32Args;
        for (Value a : args.drop_back())
          f32Args.push_back(toF32(nb, nl, a));
        linalg::YieldOp::create(
            nb, nl,
            fromF32(nb, nl, body(nb, nl, f32Args), initType.getElementType()));
      });
  return generic.getResult(0);
}

Value mapF32(OpBuilder &b, Location loc, ValueRange inputs,
             ArrayRef<AffineMap> inputMaps, ArrayRef<OpFoldResult> sizes,
             Type elementType,
             function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return genericF32(b, loc, inputs, inputMaps,
                    emptyTensor(b, loc, sizes, elementType), body);
}

Value elementwiseF32(
    OpBuilder &b, Location loc, ValueRange inputs, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  unsigned rank = cast<RankedTensorType>(init.getType()).getRank();
  SmallVector<AffineMap> maps(inputs.size(),
                              identityMap(b.getContext(), rank));
  return genericF32(b, loc, inputs, maps, init, body);
}

Value scaleValue(OpBuilder &b, Location loc, std::optional<APFloat> scale,
                 Value q) {
  if (scale)
    return f32Constant(b, loc, scale->convertToFloat());
  auto type = cast<RankedTensorType>(q.getType());
  if (!type.isDynamicDim(3)) {
    int64_t d = std::max<int64_t>(type.getDimSize(3), 1);
    return f32Constant(b, loc, 1.0 / std::sqrt(static_cast<double>(d)));
  }
  Value d = arith::MaxUIOp::create(b, loc, sizeValue(b, loc, q, 3),
                                   indexConstant(b, loc, 1));
  return arith::DivFOp::create(
      b, loc, f32Constant(b, loc, 1.0),
      math::SqrtOp::create(b, loc, indexToF32(b, loc, d)));
}

void multiplyAccumulate(OpBuilder &b, Location loc, ValueRange args) {
  Value prod = arith::MulFOp::create(b, loc, toF32(b, loc, args[0]),
                                     toF32(b, loc, args[1]));
  linalg::YieldOp::create(
      b, loc, arith::AddFOp::create(b, loc, args[2], prod).getResult());
}

} // namespace loom::lowering
