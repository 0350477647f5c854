// SHA-256 (FIPS 180-4), for the integrity record of compiled modules.
//
// Internal to the runtime library, loom-compile (which writes the record),
// their tests and fuzz/. A small implementation of our own: the runtime
// links neither LLVM nor a crypto library.
#ifndef LOOM_LIB_RUNTIME_SHA256_H
#define LOOM_LIB_RUNTIME_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {
namespace runtime {

using Sha256Digest = std::array<uint8_t, 32>;

/// Incremental SHA-256: update() any number of times, then final() once.
class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  Sha256Digest final();

private:
  void compress(const uint8_t block[64]);

  uint32_t state[8];
  uint8_t buffer[64];
  size_t buffered = 0;
  uint64_t totalBytes = 0;
};

Sha256Digest sha256(const void *data, size_t size);

/// Lower-case hexadecimal, 64 characters.
std::string toHex(const Sha256Digest &digest);

} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_SHA256_H
