// The signature text of compiled modules (docs/abi.md), parsed without MLIR.
//
// Internal to the runtime library (and its unit tests): the C API in
// loom/Runtime/Runtime.h exposes the parsed form.
#ifndef LOOM_LIB_RUNTIME_SIGNATURE_H
#define LOOM_LIB_RUNTIME_SIGNATURE_H

#include "loom/Runtime/Runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace runtime {

/// The ABI versions this runtime reads (the signature's `abi N` line): 3
/// (loom_entry_<name> only) and 4 (also loom_shape_<name> and
/// loom_call_<name>, docs/abi.md).
constexpr int kABIVersion = 4;
constexpr int kOldestABIVersion = 3;

struct TensorType {
  loomDType dtype = LOOM_DTYPE_F32;
  std::vector<int64_t> dims; // LOOM_DYNAMIC for `?`
};

struct EntrySignature {
  std::string name;
  std::vector<TensorType> args;
  std::vector<TensorType> results;
  std::string text; // "name(T, ...) -> (T, ...)"
};

struct ModuleSignature {
  int abi = 0;
  std::string target;
  std::vector<EntrySignature> entries;
};

/// "f32" -> LOOM_DTYPE_F32, ...; false for an unknown name.
bool dtypeFromName(const std::string &name, loomDType &dtype);
/// MLIR's spelling of an element type.
const char *dtypeName(loomDType dtype);
/// Bytes per stored element of a memref of `dtype`, with i4 counted as the
/// packed i8 bytes that carry it at the ABI and i1 as one byte.
size_t storageElementBytes(loomDType dtype);

/// Parses `tensor<4x?xbf16>` (the whole string).
bool parseTensorType(const std::string &text, TensorType &type,
                     std::string &error);
std::string formatTensorType(const TensorType &type);

/// Parses a module's signature. Errors name the line ("line 3: ..."); on an
/// `abi N` line of a version it does not read, `signature.abi` is N.
bool parseSignature(const std::string &text, ModuleSignature &signature,
                    std::string &error);

} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_SIGNATURE_H
