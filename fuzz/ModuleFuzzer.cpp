//===- ModuleFuzzer.cpp - loom-fuzz-module -------------------------------===//
//
// The compiled-module loader without dlopen (glibc's ELF loader is not
// Loom's code): the input is the text a module's loom_module_signature
// returns. It goes through loom::runtime::openModule, the part of
// loomModuleLoad after dlopen (signature parser, target and device checks,
// entry binding), for both devices, with symbols from a fake module that
// lacks every loom_entry_<name> whose name ends in "_missing" (its
// loom_module_input_hints returns the input too). A module that
// loads is then used through the C API as a host program would: entries and
// their types are listed and looked up, and every CPU entry is called with
// buffers of its argument types, through a fake entry function that returns
// fresh results of its result types as a compiled module does, so that
// loomEntryCall's checks run on every signature the loader accepts.

#include "FuzzCheck.h"
#include "ModuleLoader.h"
#include "Signature.h"

#include "loom/Runtime/Runtime.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace loom::runtime;

namespace {

/// Bytes of a buffer the fuzzer allocates at most; a dynamic dimension gets
/// size 2 (even, so i4 types are valid).
constexpr size_t kMaxBufferBytes = size_t(1) << 20;
constexpr int64_t kDynamicSize = 2;

std::string signatureText;
const char *fakeSignature() { return signatureText.c_str(); }

/// The signature of the entry being called, for fakeEntry.
const loomEntry *calledEntry = nullptr;

std::vector<int64_t> concreteShape(const loomTensorType &type) {
  std::vector<int64_t> shape(type.dims, type.dims + type.rank);
  for (int64_t &d : shape)
    if (d == LOOM_DYNAMIC)
      d = kDynamicSize;
  return shape;
}

/// A compiled module's entry (docs/abi.md): args[0] points at one memref
/// descriptor per result, which it fills with a fresh malloc'd, contiguous
/// buffer of the result's type. It accepts every argument (NULL: no error).
const char *fakeEntry(void **args, int64_t numArgs) {
  LOOM_FUZZ_CHECK(numArgs == loomEntryNumArgs(calledEntry));
  auto *word = static_cast<int64_t *>(args[0]);
  for (int64_t r = 0; r < loomEntryNumResults(calledEntry); ++r) {
    loomTensorType type;
    LOOM_FUZZ_CHECK(loomEntryResultType(calledEntry, r, &type) ==
                    LOOM_SUCCESS);
    std::vector<int64_t> sizes = concreteShape(type);
    size_t bytes = 0;
    void *data = nullptr;
    if (loomStorageSize(type.dtype, int64_t(sizes.size()), sizes.data(),
                        &bytes) == LOOM_SUCCESS &&
        bytes <= kMaxBufferBytes)
      data = std::malloc(bytes ? bytes : 1);
    if (type.dtype == LOOM_DTYPE_I4 && !sizes.empty())
      sizes.back() /= 2;
    word[0] = word[1] = int64_t(reinterpret_cast<intptr_t>(data));
    word[2] = 0;
    int64_t stride = 1;
    for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
      word[3 + d] = data ? sizes[d] : 0;
      word[3 + sizes.size() + d] = stride;
      stride *= data ? sizes[d] : 1;
    }
    word += 3 + 2 * sizes.size();
  }
  return nullptr;
}

/// loom_module_input_hints: the loader keeps the text as it is (loom-run
/// parses it), so the fuzz input serves as the hints too.
const char *fakeInputHints() { return signatureText.c_str(); }

void *lookup(const char *symbol) {
  if (std::strcmp(symbol, "loom_module_signature") == 0)
    return reinterpret_cast<void *>(&fakeSignature);
  if (std::strcmp(symbol, "loom_module_input_hints") == 0)
    return reinterpret_cast<void *>(&fakeInputHints);
  size_t n = std::strlen(symbol);
  const char suffix[] = "_missing";
  if (n >= sizeof(suffix) - 1 &&
      std::strcmp(symbol + n - (sizeof(suffix) - 1), suffix) == 0)
    return nullptr;
  return reinterpret_cast<void *>(&fakeEntry);
}

void checkType(const loomTensorType &type) {
  char text[256];
  size_t length = loomFormatTensorType(&type, text, sizeof(text));
  LOOM_FUZZ_CHECK(length < sizeof(text));
  // What the runtime prints must parse back to the same type.
  TensorType parsed;
  std::string error;
  LOOM_FUZZ_CHECK(parseTensorType(text, parsed, error));
  LOOM_FUZZ_CHECK(parsed.dtype == type.dtype);
  LOOM_FUZZ_CHECK(parsed.dims ==
                  std::vector<int64_t>(type.dims, type.dims + type.rank));
}

/// Calls a CPU entry with buffers of its argument types (where they are
/// small enough to allocate); the fake entry returns valid results, so the
/// call must succeed.
void callEntry(const loomEntry *entry) {
  std::vector<loomBuffer *> args;
  bool allocated = true;
  for (int64_t i = 0; i < loomEntryNumArgs(entry); ++i) {
    loomTensorType type;
    LOOM_FUZZ_CHECK(loomEntryArgType(entry, i, &type) == LOOM_SUCCESS);
    std::vector<int64_t> shape = concreteShape(type);
    size_t bytes = 0;
    if (loomStorageSize(type.dtype, type.rank, shape.data(), &bytes) !=
            LOOM_SUCCESS ||
        bytes > kMaxBufferBytes) {
      allocated = false;
      break;
    }
    loomBuffer *buffer = loomBufferCreate(LOOM_DEVICE_CPU, type.dtype,
                                          type.rank, shape.data());
    LOOM_FUZZ_CHECK(buffer);
    args.push_back(buffer);
  }
  if (allocated) {
    int64_t numResults = loomEntryNumResults(entry);
    std::vector<loomBuffer *> results(numResults, nullptr);
    calledEntry = entry;
    loomStatus status = loomEntryCall(entry, args.data(), int64_t(args.size()),
                                      results.data(), numResults);
    calledEntry = nullptr;
    // Fails only where a result was too large for the fake entry to make.
    if (status == LOOM_SUCCESS)
      for (loomBuffer *result : results) {
        LOOM_FUZZ_CHECK(result);
        loomBufferDestroy(result);
      }
  }
  for (loomBuffer *buffer : args)
    loomBufferDestroy(buffer);
}

void useModule(loomModule *module) {
  LOOM_FUZZ_CHECK(std::strcmp(loomModuleSignature(module),
                              signatureText.c_str()) == 0);
  LOOM_FUZZ_CHECK(loomModuleInputHints(module) &&
                  std::strcmp(loomModuleInputHints(module),
                              signatureText.c_str()) == 0);
  for (int64_t e = 0; e < loomModuleNumEntries(module); ++e) {
    const loomEntry *entry = loomModuleGetEntry(module, e);
    LOOM_FUZZ_CHECK(entry);
    LOOM_FUZZ_CHECK(loomModuleLookupEntry(module, loomEntryName(entry)) ==
                    entry);
    for (int64_t i = 0; i < loomEntryNumArgs(entry); ++i) {
      loomTensorType type;
      LOOM_FUZZ_CHECK(loomEntryArgType(entry, i, &type) == LOOM_SUCCESS);
      checkType(type);
    }
    for (int64_t i = 0; i < loomEntryNumResults(entry); ++i) {
      loomTensorType type;
      LOOM_FUZZ_CHECK(loomEntryResultType(entry, i, &type) == LOOM_SUCCESS);
      checkType(type);
    }
    LOOM_FUZZ_CHECK(!loomModuleLookupEntry(module, "no such entry"));
    if (loomModuleDevice(module) == LOOM_DEVICE_CPU)
      callEntry(entry);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  signatureText.assign(reinterpret_cast<const char *>(data), size);
  for (loomDevice device : {LOOM_DEVICE_CPU, LOOM_DEVICE_CUDA}) {
    loomModule *module = openModule("fuzz.so", device, lookup);
    if (!module) {
      LOOM_FUZZ_CHECK(*loomGetLastError());
      continue;
    }
    useModule(module);
    loomModuleUnload(module);
  }
  return 0;
}
