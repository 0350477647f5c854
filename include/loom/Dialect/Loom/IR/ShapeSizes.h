//===- ShapeSizes.h - shaped types whose sizes fit in 64 bits -----*- C++ -*-===//
//
// A rule of the loom dialect (docs/Design.md, "Input limits"): every shaped
// type an op uses has a size in bytes, with each 0 dimension counted as 1,
// that fits in a signed 64-bit integer. Upstream MLIR computes element counts
// and strides as int64_t products without checking (ShapedType's
// getNumElements, the memref strides of the LLVM lowering), and so do the
// ABI's descriptors, so a type beyond that is rejected before any of them
// runs. Loom ops check it in their verifier (the ShapesFit trait); the tools
// check every op of their input (loom/Support/InputLimits.h).

#ifndef LOOM_DIALECT_LOOM_IR_SHAPESIZES_H
#define LOOM_DIALECT_LOOM_IR_SHAPESIZES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"

#include <cstdint>
#include <optional>

namespace loom {

/// Bytes per element as the lowerings store it: ceil(bits / 8) for integer
/// and float types (i1 and unpacked i4 take a byte), 8 for index, twice the
/// part for complex, the whole vector for vector elements; nullopt for an
/// element type without a known size.
std::optional<uint64_t> storageBytesPerElement(mlir::Type elementType);

/// The product of the static dimensions of `type` (0 and dynamic ones
/// counted as 1) times its element's bytes (1 when unknown), or nullopt when
/// it exceeds 2^63 - 1.
std::optional<int64_t> staticSizeBound(mlir::ShapedType type);

/// Emits an error at `op` for the first type among its operands and results
/// (and the types nested in them) whose size does not fit; failure then.
mlir::LogicalResult verifyShapeSizesFit(mlir::Operation *op);

/// The words of the error for `type` ("'T' is too large: ...").
std::string shapeTooLargeMessage(mlir::ShapedType type);

namespace traits {
/// Loom ops: verifyShapeSizesFit before the op's own verifier, which may
/// compute with the sizes.
template <typename ConcreteType>
class ShapesFit : public mlir::OpTrait::TraitBase<ConcreteType, ShapesFit> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyShapeSizesFit(op);
  }
};
} // namespace traits

} // namespace loom

#endif // LOOM_DIALECT_LOOM_IR_SHAPESIZES_H
