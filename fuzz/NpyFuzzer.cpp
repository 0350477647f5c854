//===- NpyFuzzer.cpp - loom-fuzz-npy -------------------------------------===//
//
// The .npy reader (lib/Runtime/Npy.cpp) on arbitrary bytes, and what loom-run
// does with an array it read: every array that reads is checked to be
// self-consistent, to survive a write/read round trip unchanged, and to
// convert to every element kind that accepts it and back.

#include "FuzzCheck.h"

#include "loom/Runtime/Npy.h"

#include <cstdint>
#include <string>
#include <vector>

using namespace loom::npy;

namespace {

bool sameArray(const Array &a, const Array &b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.data == b.data;
}

/// The kinds whose buffers hold the array's bytes unchanged.
bool isExactKind(ElementKind kind, DType dtype) {
  return (kind == ElementKind::I8 && dtype == DType::I8) ||
         (kind == ElementKind::I32 && dtype == DType::I32) ||
         (kind == ElementKind::I64 && dtype == DType::I64) ||
         (kind == ElementKind::F64 && dtype == DType::F64) ||
         (kind == ElementKind::I4 && dtype == DType::I8);
}

void checkConversions(const Array &array) {
  const ElementKind kinds[] = {
      ElementKind::F64, ElementKind::F32, ElementKind::F16,
      ElementKind::BF16, ElementKind::F8E4M3FN, ElementKind::I1,
      ElementKind::I4,  ElementKind::I8,  ElementKind::I32,
      ElementKind::I64};
  for (ElementKind kind : kinds) {
    std::vector<uint8_t> buffer;
    std::string error;
    if (!arrayToBuffer(array, kind, buffer, error))
      continue;
    int64_t bytes = -1;
    LOOM_FUZZ_CHECK(storageSize(kind, array.shape, bytes, error));
    LOOM_FUZZ_CHECK(bytes >= 0 && uint64_t(bytes) == buffer.size());
    Array back;
    LOOM_FUZZ_CHECK(bufferToArray(buffer.data(), buffer.size(), kind,
                                  array.shape, back, error));
    LOOM_FUZZ_CHECK(back.shape == array.shape);
    LOOM_FUZZ_CHECK(back.data.size() ==
                    size_t(back.numElements()) * dtypeSize(back.dtype));
    if (isExactKind(kind, array.dtype))
      LOOM_FUZZ_CHECK(sameArray(back, array));
    if (kind == ElementKind::I1)
      for (size_t i = 0; i < back.data.size(); ++i)
        LOOM_FUZZ_CHECK(back.data[i] == (array.data[i] ? 1 : 0));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Array array;
  std::string error;
  if (!readNpyFromMemory(data, size, array, error)) {
    LOOM_FUZZ_CHECK(!error.empty());
    return 0;
  }
  int64_t n = array.numElements();
  LOOM_FUZZ_CHECK(n >= 0);
  LOOM_FUZZ_CHECK(array.data.size() == size_t(n) * dtypeSize(array.dtype));
  // The shape check loom-run applies against an entry's argument type.
  std::vector<int64_t> dynamic(array.shape.size(), -1);
  LOOM_FUZZ_CHECK(checkShape(array, array.shape, error));
  LOOM_FUZZ_CHECK(checkShape(array, dynamic, error));

  std::vector<uint8_t> bytes;
  LOOM_FUZZ_CHECK(writeNpyToMemory(array, bytes, error));
  Array again;
  LOOM_FUZZ_CHECK(readNpyFromMemory(bytes.data(), bytes.size(), again, error));
  LOOM_FUZZ_CHECK(sameArray(array, again));

  checkConversions(array);
  return 0;
}
