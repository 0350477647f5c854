//===- ShapeSizes.cpp - shaped types whose sizes fit in 64 bits ----------===//

#include "loom/Dialect/Loom/IR/ShapeSizes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

using namespace mlir;

namespace {
constexpr uint64_t kMaxBytes = uint64_t(std::numeric_limits<int64_t>::max());

/// a * b, or nullopt past kMaxBytes.
std::optional<uint64_t> multiply(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product) || product > kMaxBytes)
    return std::nullopt;
  return product;
}
} // namespace

std::optional<uint64_t> loom::storageBytesPerElement(Type elementType) {
  if (elementType.isIndex())
    return 8;
  if (elementType.isIntOrFloat())
    return (uint64_t(elementType.getIntOrFloatBitWidth()) + 7) / 8;
  if (auto complex = dyn_cast<ComplexType>(elementType)) {
    std::optional<uint64_t> part = storageBytesPerElement(complex.getElementType());
    return part ? multiply(*part, 2) : std::nullopt;
  }
  if (auto vector = dyn_cast<VectorType>(elementType)) {
    std::optional<int64_t> bytes = staticSizeBound(vector);
    return bytes ? std::optional<uint64_t>(*bytes) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> loom::staticSizeBound(ShapedType type) {
  Type element = type.getElementType();
  std::optional<uint64_t> elementBytes = storageBytesPerElement(element);
  // A vector or complex element without a size is one that overflows.
  if (!elementBytes && isa<VectorType, ComplexType>(element))
    return std::nullopt;
  uint64_t bytes = elementBytes.value_or(1);
  if (!type.hasRank())
    return int64_t(bytes);
  for (int64_t d : type.getShape()) {
    if (ShapedType::isDynamic(d) || d <= 0)
      continue;
    std::optional<uint64_t> next = multiply(bytes, uint64_t(d));
    if (!next)
      return std::nullopt;
    bytes = *next;
  }
  return int64_t(bytes);
}

std::string loom::shapeTooLargeMessage(ShapedType type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "' is too large: its dimensions";
  bool zero = false;
  if (type.hasRank())
    for (int64_t d : type.getShape())
      zero |= d == 0;
  if (zero)
    os << " (0 counted as 1, as the strides of the others are)";
  os << " times its element's bytes exceed 2^63 - 1, the largest size Loom "
        "and MLIR compute with";
  return text;
}

/// The first shaped type within `type` (itself or nested) that is too large.
static ShapedType firstTooLarge(Type type) {
  ShapedType found;
  type.walk([&](ShapedType shaped) {
    if (found || loom::staticSizeBound(shaped))
      return WalkResult::advance();
    found = shaped;
    return WalkResult::interrupt();
  });
  return found;
}

LogicalResult loom::verifyShapeSizesFit(Operation *op) {
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (ShapedType bad = firstTooLarge(type))
      return op->emitOpError() << "operand #" << i << " type "
                               << shapeTooLargeMessage(bad);
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (ShapedType bad = firstTooLarge(type))
      return op->emitOpError() << "result #" << i << " type "
                               << shapeTooLargeMessage(bad);
  return success();
}
