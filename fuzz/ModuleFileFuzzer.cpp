//===- ModuleFileFuzzer.cpp - loom-fuzz-module-file -----------------------===//
//
// Whole compiled modules (seeds: CPU and GPU modules from loom-compile),
// truncated, bit-flipped, overwritten and spliced by a custom mutator, and
// loaded as a host program loads them: the input is written to a file and
// given to loomModuleLoad (file checks, then dlopen only for a file whose
// digest matches). Every refusal must be one line naming the file; a module
// that loads must be one that verifies, and is used and unloaded.
//
// The file checks are also run on the input with its integrity record
// rewritten to match (when the record can be found): that is a corruption
// the digest cannot see, so the ELF header checks alone must hold up. Such
// a copy is never given to dlopen (glibc's loader trusts its headers: a
// library with valid-looking but wrong headers is as dangerous as a
// malicious one, docs/abi.md).

#include "FuzzCheck.h"
#include "ModuleFile.h"

#include "loom/Runtime/Runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace loom::runtime;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size,
                                   size_t maxSize);

namespace {

const std::string &scratchPath() {
  static const std::string path = [] {
    const char *dir = std::getenv("TMPDIR");
    std::string p = std::string(dir && *dir ? dir : "/tmp") +
                    "/loom-fuzz-module-file-" + std::to_string(getpid()) +
                    ".so";
    std::atexit([] { std::remove(scratchPath().c_str()); });
    return p;
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The file checks on memory, and again with the digest made to match.
  std::string error;
  bool verifies = verifyModuleImage(data, size, error);
  LOOM_FUZZ_CHECK(verifies == error.empty());
  IntegrityRecord record;
  if (inspectModuleImage(data, size, record, error)) {
    std::vector<uint8_t> resealed(data, data + size);
    Sha256Digest digest =
        moduleDigest(resealed.data(), resealed.size(), record.digestOffset);
    std::memcpy(resealed.data() + record.digestOffset, digest.data(), 32);
    LOOM_FUZZ_CHECK(verifyModuleImage(resealed.data(), resealed.size(), error));
  }

  // Loaded through the C API, as a file.
  const std::string &path = scratchPath();
  FILE *file = std::fopen(path.c_str(), "wb");
  LOOM_FUZZ_CHECK(file);
  LOOM_FUZZ_CHECK(std::fwrite(data, 1, size, file) == size);
  LOOM_FUZZ_CHECK(std::fclose(file) == 0);
  loomModule *module = loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU);
  if (!module) {
    std::string message = loomGetLastError();
    std::string prefix = "cannot load module '" + path + "': ";
    if (!verifies) {
      // A refusal by the file checks: one line, naming the file.
      LOOM_FUZZ_CHECK(message.compare(0, prefix.size(), prefix) == 0);
      LOOM_FUZZ_CHECK(message.size() > prefix.size());
    }
    LOOM_FUZZ_CHECK(message.find('\n') == std::string::npos);
    return 0;
  }
  LOOM_FUZZ_CHECK(verifies);
  for (int64_t i = 0; i < loomModuleNumEntries(module); ++i)
    LOOM_FUZZ_CHECK(loomModuleGetEntry(module, i) != nullptr);
  loomModuleUnload(module);
  return 0;
}

/// Damage as it happens to files: cut short, bits flipped, a run of bytes
/// overwritten, a block copied over another; else libFuzzer's own.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  std::minstd_rand rng(seed);
  if (size == 0)
    return LLVMFuzzerMutate(data, size, maxSize);
  switch (rng() % 5) {
  case 0: // truncated
    return rng() % size;
  case 1: { // 1 to 16 bits flipped
    for (unsigned n = 1 + rng() % 16; n > 0; --n)
      data[rng() % size] ^= uint8_t(1u << (rng() % 8));
    return size;
  }
  case 2: { // a run of 2 to 64 bytes overwritten
    size_t length = std::min<size_t>(size, 2 + rng() % 63);
    size_t at = rng() % (size - length + 1);
    for (size_t i = 0; i < length; ++i)
      data[at + i] = uint8_t(rng());
    return size;
  }
  case 3: { // a block copied over another (a splice within the file)
    size_t length = std::min<size_t>(size, 1 + rng() % 4096);
    size_t from = rng() % (size - length + 1), to = rng() % (size - length + 1);
    std::memmove(data + to, data + from, length);
    return size;
  }
  default:
    return LLVMFuzzerMutate(data, size, maxSize);
  }
}

/// Two modules spliced: the start of one, the rest of the other.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                            const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t maxOutSize,
                                            unsigned seed) {
  std::minstd_rand rng(seed);
  size_t cut = size1 ? rng() % (size1 + 1) : 0;
  size_t rest = size2 > cut ? size2 - cut : 0;
  size_t total = std::min(maxOutSize, cut + rest);
  size_t head = std::min(cut, total);
  std::memcpy(out, data1, head);
  if (total > head)
    std::memcpy(out + head, data2 + cut, total - head);
  return total;
}
