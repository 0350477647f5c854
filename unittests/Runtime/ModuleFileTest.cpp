// GoogleTest tests of SHA-256 and of the module file checks before dlopen (truncated, corrupted and foreign files).
//
// The modules are the sealed test modules of CMakeLists.txt (a CPU one that
// loom-compile builds, the hand-written CUDA one) and copies of them cut or
// overwritten here; every broken copy goes through loomModuleLoad, as a host
// program (or a binding) loads a module.

#include "loom/Runtime/Runtime.h"
#include "TestUtil.h"

#include "ModuleFile.h"
#include "Sha256.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace loom::runtime;
using namespace loom::testing;

namespace {

//===----------------------------------------------------------------------===//
// SHA-256 against the FIPS 180-4 / NIST CAVP examples
//===----------------------------------------------------------------------===//

std::string hexOf(const std::string &text) {
  return toHex(sha256(text.data(), text.size()));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(hexOf(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hexOf("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijkl"
                  "mnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(hexOf(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding's edge cases (length in the same
  // block, in the next one, a whole block of message).
  EXPECT_EQ(hexOf(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(hexOf(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(hexOf(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string text;
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i)
    text.push_back(char(rng()));
  Sha256Digest whole = sha256(text.data(), text.size());
  for (size_t chunk : {1, 3, 63, 64, 65, 200}) {
    Sha256 hash;
    for (size_t at = 0; at < text.size(); at += chunk)
      hash.update(text.data() + at, std::min(chunk, text.size() - at));
    EXPECT_EQ(hash.final(), whole) << "chunk " << chunk;
  }
}

//===----------------------------------------------------------------------===//
// Module files
//===----------------------------------------------------------------------===//

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string writeTemp(const std::string &name,
                      const std::vector<uint8_t> &bytes) {
  std::string path = ::testing::TempDir() + "/loom-modulefile-" + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()),
             std::streamsize(bytes.size()));
  return path;
}

/// Loads `bytes` as a module file through the C API; returns the error, or
/// "" when it loaded.
std::string loadError(const std::vector<uint8_t> &bytes, loomDevice device,
                      const std::string &name = "broken.so") {
  std::string path = writeTemp(name, bytes);
  loomModule *m = loomModuleLoad(path.c_str(), device);
  std::string error = m ? "" : lastError();
  loomModuleUnload(m);
  std::remove(path.c_str());
  return error;
}

/// The refusal of a broken file: one line that names the file and starts as
/// every load failure does.
void expectRefusal(const std::string &error, const std::string &name,
                   const std::string &what) {
  std::string path = ::testing::TempDir() + "/loom-modulefile-" + name;
  EXPECT_EQ(error.rfind("cannot load module '" + path + "': ", 0), 0u)
      << what << ": " << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << what << ": " << error;
}

template <typename T> void put(std::vector<uint8_t> &bytes, size_t at, T v) {
  std::memcpy(bytes.data() + at, &v, sizeof(T));
}
template <typename T> T get(const std::vector<uint8_t> &bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

class ModuleFile : public ::testing::Test {
protected:
  void SetUp() override {
    cpu = readBytes(modulePath("compiled_block.so"));
    cuda = readBytes(modulePath("test_module_cuda.so"));
    ASSERT_GT(cpu.size(), 4096u);
    ASSERT_GT(cuda.size(), 4096u);
  }
  std::vector<uint8_t> cpu, cuda;
};

TEST_F(ModuleFile, SealedModulesVerifyAndLoad) {
  std::string error;
  EXPECT_TRUE(verifyModuleImage(cpu.data(), cpu.size(), error)) << error;
  EXPECT_TRUE(verifyModuleImage(cuda.data(), cuda.size(), error)) << error;
  EXPECT_EQ(loadError(cpu, LOOM_DEVICE_CPU, "intact.so"), "");
  // The digest covers the whole file but its own 32 bytes.
  IntegrityRecord record;
  ASSERT_TRUE(inspectModuleImage(cpu.data(), cpu.size(), record, error));
  std::vector<uint8_t> zeroed = cpu;
  std::fill_n(zeroed.begin() + record.digestOffset, 32, 0);
  EXPECT_EQ(sha256(zeroed.data(), zeroed.size()), record.recorded);
}

TEST_F(ModuleFile, EveryTruncationIsRefused) {
  for (const std::vector<uint8_t> *module : {&cpu, &cuda}) {
    // Every length through the headers, then every 61st byte, then the end.
    std::vector<size_t> lengths;
    for (size_t n = 0; n < 4096; ++n)
      lengths.push_back(n);
    for (size_t n = 4096; n < module->size(); n += 61)
      lengths.push_back(n);
    for (size_t n = module->size() - 64; n < module->size(); ++n)
      lengths.push_back(n);
    for (size_t n : lengths) {
      std::string error;
      EXPECT_FALSE(verifyModuleImage(module->data(), n, error)) << n;
      EXPECT_FALSE(error.empty()) << n;
    }
    // Through loomModuleLoad, the 1,000 and 5,000 bytes and a few
    // more.
    for (size_t n : {size_t(0), size_t(1), size_t(63), size_t(1000),
                     size_t(5000), module->size() / 2, module->size() - 1}) {
      std::vector<uint8_t> cut(module->begin(), module->begin() + n);
      std::string error = loadError(cut, LOOM_DEVICE_CPU, "cut.so");
      expectRefusal(error, "cut.so", std::to_string(n) + " bytes");
      if (n >= 64) {
        EXPECT_NE(error.find("truncated"), std::string::npos) << error;
      }
    }
  }
  std::vector<uint8_t> cut(cpu.begin(), cpu.begin() + 1000);
  std::string error = loadError(cut, LOOM_DEVICE_CPU, "cut.so");
  EXPECT_NE(error.find("past the end of the file (1000 bytes)"),
            std::string::npos)
      << error;
  EXPECT_EQ(loadError({}, LOOM_DEVICE_CPU, "empty.so"),
            "cannot load module '" + ::testing::TempDir() +
                "/loom-modulefile-empty.so': the file is empty");
}

TEST_F(ModuleFile, CorruptionsAreRefused) {
  std::mt19937_64 rng(2026);
  for (const std::vector<uint8_t> *module : {&cpu, &cuda}) {
    // Every single bit, at a stride, flipped alone.
    for (size_t at = 0; at < module->size(); at += 7) {
      std::vector<uint8_t> bytes = *module;
      bytes[at] ^= uint8_t(1u << (at % 8));
      std::string error;
      EXPECT_FALSE(verifyModuleImage(bytes.data(), bytes.size(), error))
          << "bit " << at % 8 << " of byte " << at;
    }
    // 8 random bytes overwritten (the case), through the C API.
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<uint8_t> bytes = *module;
      for (int k = 0; k < 8; ++k)
        bytes[rng() % bytes.size()] = uint8_t(rng());
      if (bytes == *module)
        continue;
      expectRefusal(loadError(bytes, LOOM_DEVICE_CPU, "bytes.so"), "bytes.so",
                    "trial " + std::to_string(trial));
    }
  }
  // A change the headers do not show is the digest's to find.
  std::vector<uint8_t> bytes = cpu;
  bytes[bytes.size() / 3] ^= 0x40;
  std::string error = loadError(bytes, LOOM_DEVICE_CPU, "flip.so");
  EXPECT_NE(error.find("the file is corrupted: its SHA-256 is "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(", but loom-compile recorded "), std::string::npos)
      << error;
}

TEST_F(ModuleFile, HeadersAreCheckedAgainstTheHostAndTheSize) {
  auto refusal = [&](std::vector<uint8_t> bytes) {
    std::string error = loadError(bytes, LOOM_DEVICE_CPU, "header.so");
    expectRefusal(error, "header.so", "header");
    return error;
  };
  auto header = get<Elf64_Ehdr>(cpu, 0);
  {
    std::vector<uint8_t> b = cpu;
    put<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
    EXPECT_NE(refusal(b).find("it was built for AArch64, but this machine is "
                              "x86-64"),
              std::string::npos);
    put<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_CUDA);
    EXPECT_NE(refusal(b).find("an NVIDIA GPU (a cubin, not a module)"),
              std::string::npos);
  }
  {
    std::vector<uint8_t> b = cpu;
    b[EI_ABIVERSION] = 1;
    EXPECT_NE(refusal(b).find("its ELF ABI version is 1; this runtime loads "
                              "version 0"),
              std::string::npos);
    b = cpu;
    b[EI_OSABI] = ELFOSABI_FREEBSD;
    EXPECT_NE(refusal(b).find("its ELF OS/ABI is 9"), std::string::npos);
    b = cpu;
    b[EI_CLASS] = ELFCLASS32;
    EXPECT_NE(refusal(b).find("it is a 32-bit ELF file"), std::string::npos);
    b = cpu;
    b[EI_DATA] = ELFDATA2MSB;
    EXPECT_NE(refusal(b).find("big-endian"), std::string::npos);
    b = cpu;
    put<uint16_t>(b, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
    EXPECT_NE(refusal(b).find("it is an executable, not a shared library"),
              std::string::npos);
  }
  {
    // A loadable segment that runs past the end of an untruncated file: the
    // section headers still end the file, so it is corruption.
    std::vector<uint8_t> b = cpu;
    for (unsigned i = 0; i < header.e_phnum; ++i) {
      size_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
      auto ph = get<Elf64_Phdr>(b, at);
      if (ph.p_type != PT_LOAD)
        continue;
      ph.p_filesz = b.size() - ph.p_offset + 1;
      ph.p_memsz = ph.p_filesz;
      put(b, at, ph);
      std::string error = refusal(b);
      EXPECT_NE(error.find("the file is corrupted: program header " +
                           std::to_string(i) + " (PT_LOAD) ends at byte"),
                std::string::npos)
          << error;
      EXPECT_NE(error.find("past the end of the file (" +
                           std::to_string(b.size()) + " bytes)"),
                std::string::npos)
          << error;
      break;
    }
    // An offset so large that offset + size wraps around.
    b = cpu;
    put<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), ~uint64_t(0) - 8);
    EXPECT_NE(refusal(b).find("its program header table ends past byte 2^64"),
              std::string::npos);
    b = cpu;
    put<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), b.size());
    EXPECT_NE(refusal(b).find("its section header table ends at byte"),
              std::string::npos);
  }
}

TEST_F(ModuleFile, ForeignFilesAreRefused) {
  std::string text = "this is text, not ELF\n";
  std::string error = loadError(std::vector<uint8_t>(text.begin(), text.end()),
                                LOOM_DEVICE_CPU, "text.so");
  expectRefusal(error, "text.so", "text");
  EXPECT_NE(error.find("it is not an ELF shared library"), std::string::npos);

  // A shared library without the record: an older module, or another tool's.
  std::string path = modulePath("test_module_unsealed.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(),
            "cannot load module '" + path +
                "': it has no Loom integrity record (section "
                ".note.loom.integrity): it was not compiled by loom-compile, "
                "or by one older than ABI 3 (recompile it)");

  // The record renamed in the section name table: the file still holds it,
  // so this is a damaged module, not a foreign one.
  std::vector<uint8_t> b = cpu;
  std::string name = ".note.loom.integrity";
  auto at = std::search(b.begin(), b.end(), name.begin(), name.end());
  ASSERT_NE(at, b.end());
  at[1] = 'N';
  error = loadError(b, LOOM_DEVICE_CPU, "renamed.so");
  EXPECT_NE(error.find("the file is corrupted: its section headers no longer "
                       "lead to its integrity record"),
            std::string::npos)
      << error;
}

TEST_F(ModuleFile, BrokenFilesAreReportedBeforeTheDriver) {
  // On a machine without a CUDA driver, a broken GPU module is reported as
  // broken (not as a missing driver); a sound one reaches the driver check.
  setenv("LOOM_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  std::vector<uint8_t> cut(cuda.begin(), cuda.begin() + 5000);
  std::string error = loadError(cut, LOOM_DEVICE_CUDA, "cut-gpu.so");
  expectRefusal(error, "cut-gpu.so", "cut GPU module");
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  error = loadError(cuda, LOOM_DEVICE_CUDA, "gpu.so");
  EXPECT_NE(error.find("CUDA driver"), std::string::npos) << error;
}

TEST_F(ModuleFile, SealingWritesTheDigest) {
  std::vector<uint8_t> b = cpu;
  IntegrityRecord record;
  std::string error;
  ASSERT_TRUE(inspectModuleImage(b.data(), b.size(), record, error)) << error;
  std::fill_n(b.begin() + record.digestOffset, 32, 0);
  std::string path = writeTemp("unsealed-copy.so", b);
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  ASSERT_TRUE(sealModuleFile(path, error)) << error;
  EXPECT_EQ(readBytes(path), cpu);
  std::remove(path.c_str());
  EXPECT_FALSE(sealModuleFile(modulePath("test_module_unsealed.so"), error));
  EXPECT_NE(error.find("no Loom integrity record"), std::string::npos)
      << error;
}

} // namespace
