// The file-level checks of a compiled module before dlopen: its ELF headers
// against its size and this host, and its integrity record (docs/abi.md,
// "Integrity record"); and the sealing that loom-compile does after linking.
//
// Internal to the runtime library, loom-compile, the runtime's tests and
// fuzz/. Needs neither LLVM nor MLIR.
#ifndef LOOM_LIB_RUNTIME_MODULEFILE_H
#define LOOM_LIB_RUNTIME_MODULEFILE_H

#include "IntegrityNote.h"
#include "Sha256.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace runtime {

/// Where the integrity record of a module image is: the file offset of its
/// 32 digest bytes.
struct IntegrityRecord {
  size_t digestOffset = 0;
  Sha256Digest recorded{};
};

/// Checks that `image` (a whole file) is a 64-bit ELF shared library for
/// this host whose program and section headers lie within its `size` bytes,
/// and finds its integrity record. On failure `error` says what is wrong,
/// without naming the file ("the file is truncated: ...").
bool inspectModuleImage(const uint8_t *image, size_t size,
                        IntegrityRecord &record, std::string &error);

/// The digest the record must hold: SHA-256 of `image` with the 32 bytes at
/// `digestOffset` counted as zeros.
Sha256Digest moduleDigest(const uint8_t *image, size_t size,
                          size_t digestOffset);

/// inspectModuleImage, then compares the digest with the recorded one.
bool verifyModuleImage(const uint8_t *image, size_t size, std::string &error);

/// Reads the whole regular file open as `fd` into `bytes`.
bool readWholeFile(int fd, std::vector<uint8_t> &bytes, std::string &error);

/// Writes the digest of the linked module at `path` into its integrity
/// record (loom-compile, after linking). The file must carry the record
/// that LOOM_INTEGRITY_NOTE_ASM reserves.
bool sealModuleFile(const std::string &path, std::string &error);

} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_MODULEFILE_H
