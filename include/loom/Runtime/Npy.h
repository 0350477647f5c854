// NumPy .npy reading and writing, and conversion between .npy arrays and Loom element kinds.
//
// This library has no LLVM or MLIR dependency: loom-run links only the runtime,
// so that it runs on machines without LLVM. Every function reports failure by
// returning false and filling an error string; none throws, none aborts on
// malformed input (the reader is fuzzed).
#ifndef LOOM_RUNTIME_NPY_H
#define LOOM_RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace npy {

//===----------------------------------------------------------------------===//
// Arrays and the .npy format
//===----------------------------------------------------------------------===//

/// The .npy dtypes Loom reads and writes. Multi-byte types are little-endian.
enum class DType {
  F16,  // '<f2'
  F32,  // '<f4'
  F64,  // '<f8'
  I8,   // '|i1'
  U8,   // '|u1'
  I32,  // '<i4'
  I64,  // '<i8'
  Bool, // '|b1'
};

/// Bytes per element of `dtype`.
size_t dtypeSize(DType dtype);
/// The descr string written into headers, e.g. "<f4".
const char *dtypeDescr(DType dtype);
/// A short human name, e.g. "float32", used in error messages.
const char *dtypeName(DType dtype);

/// A C-order array. `data` holds exactly numElements() * dtypeSize(dtype)
/// bytes in little-endian order for arrays produced by this library.
struct Array {
  DType dtype = DType::F32;
  std::vector<int64_t> shape; // empty: a 0-d (scalar) array with one element
  std::vector<uint8_t> data;

  /// Product of the shape (1 for a scalar), or -1 if a dimension is negative
  /// or the product overflows int64_t.
  int64_t numElements() const;
};

/// Product of `shape` into `result`; false on a negative dimension or overflow.
bool checkedNumElements(const std::vector<int64_t> &shape, int64_t &result);

/// "(2, 3)", "(5,)", "()": shapes in messages use NumPy's notation.
std::string shapeToString(const std::vector<int64_t> &shape);

/// Parses a whole .npy image (versions 1.0, 2.0 and 3.0). `name` is used in
/// error messages (typically the file the bytes came from).
bool readNpyFromMemory(const void *bytes, size_t size, Array &out,
                       std::string &error,
                       const std::string &name = "<memory>");
/// Reads and parses the .npy file at `path`.
bool readNpy(const std::string &path, Array &out, std::string &error);

/// Serializes `array` (version 1.0 header, or 2.0 when the header needs more
/// than 65535 bytes, as NumPy does; the header is padded to 64 bytes).
bool writeNpyToMemory(const Array &array, std::vector<uint8_t> &out,
                      std::string &error);
/// Writes `array` to the file at `path`, replacing it.
bool writeNpy(const std::string &path, const Array &array, std::string &error);

//===----------------------------------------------------------------------===//
// Scalar float conversions (round to nearest, ties to even)
//===----------------------------------------------------------------------===//

// Narrowing conversions take a double so that float64 sources are rounded
// once, directly to the target (going through float32 would round twice).
// NaN becomes the target's quiet NaN with the source's sign.

/// IEEE binary16. Overflow gives +-Inf.
uint16_t doubleToF16(double value);
float f16ToFloat(uint16_t bits);

/// bfloat16 (the top half of a binary32). Overflow gives +-Inf.
uint16_t doubleToBF16(double value);
float bf16ToFloat(uint16_t bits);

/// OCP FP8 E4M3FN: bias 7, no infinities, S.1111.111 is NaN, max +-448.
/// With `saturate` (the default, as CUDA's satfinite conversions and
/// loom.quantize need), a magnitude beyond 448 and +-Inf give +-448; without
/// it they give NaN, as the OCP spec's non-saturating mode does.
uint8_t doubleToF8E4M3FN(double value, bool saturate = true);
float f8E4M3FNToFloat(uint8_t bits);

//===----------------------------------------------------------------------===//
// Conversion between arrays and the in-memory form of Loom element types
//===----------------------------------------------------------------------===//

/// Element types of function arguments and results, as laid out in memory by
/// compiled modules: I1 is one byte per element (0 or 1); I4 is packed two per
/// byte along the innermost dimension, the even index in the low nibble.
enum class ElementKind { F64, F32, F16, BF16, F8E4M3FN, I1, I4, I8, I32, I64 };

const char *elementKindName(ElementKind kind); // "f32", "i4", "f8E4M3FN", ...
bool isFloatKind(ElementKind kind);

/// Bytes that a buffer of `kind` with `shape` occupies. False (with an error)
/// for a bad shape, an overflow, or an I4 shape whose innermost dimension is
/// odd (a rank-0 I4 counts as innermost size 1).
bool storageSize(ElementKind kind, const std::vector<int64_t> &shape,
                 int64_t &bytes, std::string &error);

/// Checks `array`'s shape against `expected`, where -1 is a dynamic dimension
/// that matches any size. `name` names the array in the error.
bool checkShape(const Array &array, const std::vector<int64_t> &expected,
                std::string &error, const std::string &name = "array");

/// Converts `array` into the memory form of an argument of element `kind`,
/// following the loom-run rules: a float array (float16/32/64) feeds any float
/// kind, rounded to nearest even (F8E4M3FN saturates); I8, I32, I64 and I1
/// take exactly int8, int32, int64 and bool arrays; I4 takes an int8 array of
/// its logical shape with values in [-8, 7] and an even innermost dimension.
/// `name` names the array (e.g. its file) in errors.
bool arrayToBuffer(const Array &array, ElementKind kind,
                   std::vector<uint8_t> &out, std::string &error,
                   const std::string &name = "array");

/// Converts a result buffer of `kind` and `shape` into an array: F32, F16,
/// BF16 and F8E4M3FN results become float32 (exact), F64 stays float64,
/// I8/I32/I64 keep their width, I4 is unpacked into int8, I1 becomes bool.
/// `size` must equal storageSize(kind, shape).
bool bufferToArray(const void *data, size_t size, ElementKind kind,
                   const std::vector<int64_t> &shape, Array &out,
                   std::string &error, const std::string &name = "result");

} // namespace npy
} // namespace loom

#endif // LOOM_RUNTIME_NPY_H
