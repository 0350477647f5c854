//===- Utils.h - helpers shared by the loom-to-linalg patterns ----*- C++ -*-===//
//
// Conventions of every pattern in this folder: compute in f32 (toF32 on the
// inputs, fromF32 once on the result, which rounds to nearest even), build
// linalg ops on tensors, take dynamic sizes from the operands (tensor.dim),
// and finish with castToType so that a result type more static than the
// operands' is honoured.

#ifndef LOOM_LIB_CONVERSION_LOOMTOLINALG_UTILS_H
#define LOOM_LIB_CONVERSION_LOOMTOLINALG_UTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

namespace loom::lowering {

/// The sizes of a ranked tensor: constants where static, tensor.dim otherwise.
llvm::SmallVector<mlir::OpFoldResult> getSizes(mlir::OpBuilder &b,
                                               mlir::Location loc,
                                               mlir::Value tensor);

/// One size of a ranked tensor (constant or tensor.dim).
mlir::OpFoldResult getSize(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value tensor, int64_t dim);

/// One size of a ranked tensor as an index value.
mlir::Value sizeValue(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value tensor, int64_t dim);

/// An index scalar as f32 (exact for the sizes involved).
mlir::Value indexToF32(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value index);

/// tensor.empty with the given sizes.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<mlir::OpFoldResult> sizes,
                        mlir::Type elementType);

/// A tensor of the given sizes filled with `value` (linalg.fill).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<mlir::OpFoldResult> sizes,
                         mlir::Type elementType, double value);

/// A float scalar constant of the given type.
mlir::Value floatConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Type type, double value);

/// An f32 scalar constant.
mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc, double value);

/// An index constant.
mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc,
                          int64_t value);

/// A scalar extended to f32 (floats) or converted to f32 (signed integers).
mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value scalar);

/// The body of a product's reduction in f32: out + f32(in0) * f32(in1)
/// (`args` = in0, in1, out; a linalg.generic body builder).
void multiplyAccumulate(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::ValueRange args);

/// The f32 scale of an attention op: the attribute, or 1/sqrt(D) with D taken
/// from `q` [B, H, S, D]. With D = 0 every dot product is 0 and 1/sqrt(0) * 0
/// would be NaN; the scale is then taken as 1 (any finite scale gives the
/// same zero scores).
mlir::Value scaleValue(mlir::OpBuilder &b, mlir::Location loc,
                       std::optional<llvm::APFloat> scale, mlir::Value q);

/// An f32 scalar rounded to nearest even into `type` (f32, f16, bf16).
mlir::Value fromF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value scalar,
                    mlir::Type type);

/// `value` as `type` (a tensor.cast when the static shapes differ).
mlir::Value castToType(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, mlir::Type type);

/// `n` parallel iterators followed by `r` reductions.
llvm::SmallVector<mlir::utils::IteratorType> iterators(unsigned n,
                                                       unsigned r = 0);

/// The identity map on `rank` dims.
mlir::AffineMap identityMap(mlir::MLIRContext *ctx, unsigned rank);

/// A map from `numDims` loop dims to the listed dims (projection).
mlir::AffineMap projectionMap(mlir::MLIRContext *ctx, unsigned numDims,
                              llvm::ArrayRef<unsigned> dims);

/// A parallel linalg.generic over `sizes`: each input is read through its
/// map and converted to f32 (toF32), and `body`'s f32 result is rounded once
/// into `elementType`.
mlir::Value mapF32(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
    llvm::ArrayRef<mlir::AffineMap> inputMaps,
    llvm::ArrayRef<mlir::OpFoldResult> sizes, mlir::Type elementType,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange f32Args)>
        body);

/// An elementwise linalg.generic over `inputs` (all of `init`'s shape) whose
/// body computes the result from the f32 values of the inputs' elements and
/// the loop indices. The result element is rounded once into `init`'s type.
mlir::Value elementwiseF32(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
    mlir::Value init,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange f32Args)>
        body);

} // namespace loom::lowering

#endif // LOOM_LIB_CONVERSION_LOOMTOLINALG_UTILS_H
