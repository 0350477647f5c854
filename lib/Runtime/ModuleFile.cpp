// A compiled module's file checked before dlopen: ELF headers against the
// file's size and the host, then the integrity record's SHA-256.
//
// dlopen trusts the file: glibc maps the segments its program headers name,
// so a truncated module faults (SIGBUS) on the first page past the end, and a
// corrupted one runs whatever its bytes now say. Every check here reads the
// image through bounds-checked copies, so that any byte string gives a
// message, never a fault.

#include "ModuleFile.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <limits>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

using namespace loom::runtime;

namespace {

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr uint16_t kHostMachine = EM_PPC64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint16_t kHostMachine = EM_RISCV;
#else
#error "the module checks know the ELF machine of x86-64, AArch64, PPC64 and RISC-V 64 hosts"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kHostData = ELFDATA2LSB;
#else
constexpr unsigned char kHostData = ELFDATA2MSB;
#endif

// The record's note, as LOOM_INTEGRITY_NOTE_ASM lays it out.
constexpr uint32_t kNoteNameSize = 5;
constexpr uint32_t kNoteDescSize = 40;
constexpr uint32_t kNoteType = 1;
constexpr uint32_t kRecordVersion = 1;
constexpr uint32_t kAlgorithmSha256 = 1;
constexpr size_t kNoteHeaderBytes = 12 + 8; // namesz, descsz, type, "Loom\0"+pad
constexpr size_t kNoteBytes = kNoteHeaderBytes + kNoteDescSize;
constexpr size_t kDigestInNote = kNoteHeaderBytes + 8;

std::string machineName(uint16_t machine) {
  switch (machine) {
  case EM_386:
    return "x86 (32-bit)";
  case EM_X86_64:
    return "x86-64";
  case EM_ARM:
    return "ARM (32-bit)";
  case EM_AARCH64:
    return "AArch64";
  case EM_PPC64:
    return "PowerPC 64";
  case EM_RISCV:
    return "RISC-V";
  case EM_CUDA:
    return "an NVIDIA GPU (a cubin, not a module)";
  case EM_AMDGPU:
    return "an AMD GPU";
  }
  return "ELF machine " + std::to_string(machine);
}

std::string typeName(uint32_t type) {
  switch (type) {
  case PT_LOAD:
    return "PT_LOAD";
  case PT_DYNAMIC:
    return "PT_DYNAMIC";
  case PT_INTERP:
    return "PT_INTERP";
  case PT_NOTE:
    return "PT_NOTE";
  case PT_TLS:
    return "PT_TLS";
  case PT_GNU_EH_FRAME:
    return "PT_GNU_EH_FRAME";
  case PT_GNU_RELRO:
    return "PT_GNU_RELRO";
  }
  return "type " + std::to_string(type);
}

/// A bounds-checked view of the image: every read copies, so that
/// misaligned or out-of-range fields are errors, never faults.
class Image {
public:
  Image(const uint8_t *data, size_t size) : data(data), size(size) {}

  /// True when [offset, offset + length) lies within the image.
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size && length <= size - offset;
  }
  template <typename T> bool read(uint64_t offset, T &value) const {
    if (!contains(offset, sizeof(T)))
      return false;
    std::memcpy(&value, data + offset, sizeof(T));
    return true;
  }
  const uint8_t *at(uint64_t offset) const { return data + offset; }

  const uint8_t *data;
  size_t size;
  /// Whether the section header table ends exactly where the file does, as
  /// linkers write it: then a header pointing past the end is corrupted,
  /// not cut short.
  bool endsWithSectionHeaders = false;
};

/// "ends at byte E, past the end of the file (N bytes)", or "covers more
/// than 2^64 bytes" when offset + length wraps.
std::string pastTheEnd(uint64_t offset, uint64_t length, size_t size) {
  std::string where;
  if (length > std::numeric_limits<uint64_t>::max() - offset)
    where = "ends past byte 2^64";
  else
    where = "ends at byte " + std::to_string(offset + length);
  return where + ", past the end of the file (" + std::to_string(size) +
         " bytes)";
}

/// Where the header fields say the file continues but it stops: a copy cut
/// short, or headers overwritten.
std::string truncated(const Image &image, const std::string &what) {
  if (image.endsWithSectionHeaders)
    return "the file is corrupted: " + what;
  return "the file is truncated (or its ELF headers are corrupted): " + what;
}

std::string corrupted(const std::string &what) {
  return "the file is corrupted: " + what;
}

bool checkHeader(const Image &image, Elf64_Ehdr &header, std::string &error) {
  if (image.size == 0) {
    error = "the file is empty";
    return false;
  }
  if (image.size < SELFMAG || std::memcmp(image.at(0), ELFMAG, SELFMAG) != 0) {
    error = "it is not an ELF shared library (it does not start with the ELF "
            "magic bytes 7f 45 4c 46)";
    return false;
  }
  if (image.size < EI_NIDENT || image.at(0)[EI_CLASS] != ELFCLASS64) {
    if (image.size >= EI_NIDENT && image.at(0)[EI_CLASS] == ELFCLASS32)
      error = "it is a 32-bit ELF file; modules are 64-bit";
    else if (image.size < EI_NIDENT)
      error = truncated(image, "it ends inside its ELF identification (" +
                        std::to_string(image.size) + " bytes)");
    else
      error = corrupted("its ELF class is " +
                        std::to_string(image.at(0)[EI_CLASS]) +
                        " (neither 32- nor 64-bit)");
    return false;
  }
  if (!image.read(0, header)) {
    error = truncated(image, "it ends inside its ELF header (" +
                      std::to_string(image.size) + " of " +
                      std::to_string(sizeof(Elf64_Ehdr)) + " bytes)");
    return false;
  }
  const unsigned char *ident = header.e_ident;
  if (ident[EI_DATA] != kHostData) {
    error = ident[EI_DATA] == ELFDATA2MSB || ident[EI_DATA] == ELFDATA2LSB
                ? std::string("its ELF byte order is ") +
                      (ident[EI_DATA] == ELFDATA2MSB ? "big" : "little") +
                      "-endian, unlike this machine's"
                : corrupted("its ELF byte order is " +
                            std::to_string(ident[EI_DATA]) +
                            " (neither little- nor big-endian)");
    return false;
  }
  if (ident[EI_VERSION] != EV_CURRENT || header.e_version != EV_CURRENT) {
    error = corrupted("its ELF version is " +
                      std::to_string(ident[EI_VERSION] != EV_CURRENT
                                         ? ident[EI_VERSION]
                                         : header.e_version) +
                      " (expected 1)");
    return false;
  }
  if (ident[EI_OSABI] != ELFOSABI_SYSV && ident[EI_OSABI] != ELFOSABI_GNU) {
    error = "its ELF OS/ABI is " + std::to_string(ident[EI_OSABI]) +
            "; this runtime loads System V (0) and GNU/Linux (3) libraries";
    return false;
  }
  if (ident[EI_ABIVERSION] != 0) {
    error = "its ELF ABI version is " + std::to_string(ident[EI_ABIVERSION]) +
            "; this runtime loads version 0";
    return false;
  }
  for (int i = EI_PAD; i < EI_NIDENT; ++i)
    if (ident[i] != 0) {
      error = corrupted("byte " + std::to_string(i) +
                        " of its ELF identification (padding) is not zero");
      return false;
    }
  if (header.e_type != ET_DYN) {
    const char *kind = header.e_type == ET_EXEC   ? "an executable"
                       : header.e_type == ET_REL  ? "an object file"
                       : header.e_type == ET_CORE ? "a core dump"
                                                  : nullptr;
    error = kind ? std::string("it is ") + kind + ", not a shared library"
                 : corrupted("its ELF file type is " +
                             std::to_string(header.e_type) +
                             " (expected a shared library, 3)");
    return false;
  }
  if (header.e_machine != kHostMachine) {
    error = "it was built for " + machineName(header.e_machine) +
            ", but this machine is " + machineName(kHostMachine);
    return false;
  }
  if (header.e_ehsize != sizeof(Elf64_Ehdr) ||
      header.e_phentsize != sizeof(Elf64_Phdr) ||
      (header.e_shnum != 0 && header.e_shentsize != sizeof(Elf64_Shdr))) {
    error = corrupted("its ELF header gives entry sizes " +
                      std::to_string(header.e_ehsize) + "/" +
                      std::to_string(header.e_phentsize) + "/" +
                      std::to_string(header.e_shentsize) +
                      " (expected 64/56/64)");
    return false;
  }
  return true;
}

bool checkProgramHeaders(const Image &image, const Elf64_Ehdr &header,
                         std::string &error) {
  if (header.e_phnum == 0 || header.e_phnum == PN_XNUM) {
    error = corrupted(header.e_phnum ? "it has more program headers than "
                                       "the ELF header can count"
                                     : "it has no program headers");
    return false;
  }
  uint64_t tableBytes = uint64_t(header.e_phnum) * sizeof(Elf64_Phdr);
  if (!image.contains(header.e_phoff, tableBytes)) {
    error = truncated(image, "its program header table " +
                      pastTheEnd(header.e_phoff, tableBytes, image.size));
    return false;
  }
  unsigned loads = 0, dynamics = 0;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    image.read(header.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr), ph);
    std::string which =
        "program header " + std::to_string(i) + " (" + typeName(ph.p_type) + ")";
    if (!image.contains(ph.p_offset, ph.p_filesz)) {
      error = truncated(image, which + " " +
                        pastTheEnd(ph.p_offset, ph.p_filesz, image.size));
      return false;
    }
    if (ph.p_type == PT_LOAD) {
      ++loads;
      if (ph.p_filesz > ph.p_memsz) {
        error = corrupted(which + " has more bytes in the file (" +
                          std::to_string(ph.p_filesz) + ") than in memory (" +
                          std::to_string(ph.p_memsz) + ")");
        return false;
      }
      if (ph.p_align > 1 && ((ph.p_align & (ph.p_align - 1)) != 0 ||
                             (ph.p_vaddr - ph.p_offset) % ph.p_align != 0)) {
        error = corrupted(which + " is misaligned (alignment " +
                          std::to_string(ph.p_align) + ")");
        return false;
      }
    }
    if (ph.p_type == PT_DYNAMIC)
      ++dynamics;
  }
  if (loads == 0 || dynamics != 1) {
    error = corrupted(loads == 0 ? "it has no loadable segment (PT_LOAD)"
                                 : "it has " + std::to_string(dynamics) +
                                       " dynamic segments (PT_DYNAMIC), not 1");
    return false;
  }
  return true;
}

/// The name of section `sh` in the section name table, or nullptr when it
/// does not lie within it.
const char *sectionName(const Image &image, const Elf64_Shdr &names,
                        const Elf64_Shdr &sh) {
  if (sh.sh_name >= names.sh_size)
    return nullptr;
  const auto *start =
      reinterpret_cast<const char *>(image.at(names.sh_offset + sh.sh_name));
  size_t room = names.sh_size - sh.sh_name;
  if (!std::memchr(start, '\0', room))
    return nullptr;
  return start;
}

/// The note's bytes as LOOM_INTEGRITY_NOTE_ASM writes them (digest zero).
void expectedNote(uint8_t note[kNoteBytes]) {
  auto put = [&](size_t at, uint32_t v) { std::memcpy(note + at, &v, 4); };
  std::memset(note, 0, kNoteBytes);
  put(0, kNoteNameSize);
  put(4, kNoteDescSize);
  put(8, kNoteType);
  std::memcpy(note + 12, "Loom", 5);
  put(20, kRecordVersion);
  put(24, kAlgorithmSha256);
}

/// Whether the record's header (everything before the digest) is somewhere
/// in the image: then the file was a module, and what hides the record from
/// the section headers is corruption.
bool containsRecordHeader(const Image &image) {
  uint8_t note[kNoteBytes];
  expectedNote(note);
  if (image.size < kNoteBytes)
    return false;
  for (size_t at = 0; at + kNoteBytes <= image.size; at += 4)
    if (std::memcmp(image.at(at), note, kDigestInNote) == 0)
      return true;
  return false;
}

bool findRecord(const Image &image, const Elf64_Ehdr &header,
                IntegrityRecord &record, std::string &error) {
  if (header.e_shnum == 0) {
    error = "it has no section headers (stripped?), so its integrity record "
            "(section " LOOM_INTEGRITY_SECTION ") cannot be found";
    return false;
  }
  uint64_t tableBytes = uint64_t(header.e_shnum) * sizeof(Elf64_Shdr);
  if (!image.contains(header.e_shoff, tableBytes)) {
    error = truncated(image, "its section header table " +
                      pastTheEnd(header.e_shoff, tableBytes, image.size));
    return false;
  }
  auto section = [&](unsigned i) {
    Elf64_Shdr sh;
    image.read(header.e_shoff + uint64_t(i) * sizeof(Elf64_Shdr), sh);
    return sh;
  };
  for (unsigned i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr sh = section(i);
    if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
        !image.contains(sh.sh_offset, sh.sh_size)) {
      error = truncated(image, "section " + std::to_string(i) + " " +
                        pastTheEnd(sh.sh_offset, sh.sh_size, image.size));
      return false;
    }
  }
  if (header.e_shstrndx == SHN_UNDEF || header.e_shstrndx >= header.e_shnum ||
      section(header.e_shstrndx).sh_type != SHT_STRTAB) {
    error = corrupted("its ELF header names no section name table (index " +
                      std::to_string(header.e_shstrndx) + ")");
    return false;
  }
  Elf64_Shdr names = section(header.e_shstrndx);
  int found = -1;
  for (unsigned i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr sh = section(i);
    const char *name = sectionName(image, names, sh);
    if (!name) {
      error = corrupted("the name of section " + std::to_string(i) +
                        " lies outside the section name table");
      return false;
    }
    if (std::strcmp(name, LOOM_INTEGRITY_SECTION) != 0)
      continue;
    if (found >= 0) {
      error = corrupted("it has two integrity records (sections " +
                        std::to_string(found) + " and " + std::to_string(i) +
                        ")");
      return false;
    }
    found = int(i);
  }
  if (found < 0) {
    error = containsRecordHeader(image)
                ? corrupted("its section headers no longer lead to its "
                            "integrity record (section " LOOM_INTEGRITY_SECTION
                            ")")
                : "it has no Loom integrity record (section "
                  LOOM_INTEGRITY_SECTION "): it was not compiled by "
                  "loom-compile, or by one older than ABI 3 (recompile it)";
    return false;
  }
  Elf64_Shdr sh = section(unsigned(found));
  uint8_t expected[kNoteBytes];
  expectedNote(expected);
  if (sh.sh_type != SHT_NOTE || sh.sh_size != kNoteBytes ||
      std::memcmp(image.at(sh.sh_offset), expected, 20) != 0) {
    error = corrupted("its integrity record (section " LOOM_INTEGRITY_SECTION
                      ") is not the note loom-compile writes");
    return false;
  }
  uint32_t version = 0, algorithm = 0;
  image.read(sh.sh_offset + 20, version);
  image.read(sh.sh_offset + 24, algorithm);
  if (version != kRecordVersion || algorithm != kAlgorithmSha256) {
    error = "its integrity record has version " + std::to_string(version) +
            " and algorithm " + std::to_string(algorithm) +
            "; this runtime reads version 1, algorithm 1 (SHA-256): "
            "corrupted, or from a newer loom-compile";
    return false;
  }
  record.digestOffset = sh.sh_offset + kDigestInNote;
  std::memcpy(record.recorded.data(), image.at(record.digestOffset), 32);
  return true;
}

} // namespace

bool loom::runtime::inspectModuleImage(const uint8_t *data, size_t size,
                                       IntegrityRecord &record,
                                       std::string &error) {
  Image image(data, size);
  Elf64_Ehdr header;
  if (!checkHeader(image, header, error))
    return false;
  image.endsWithSectionHeaders =
      header.e_shnum != 0 &&
      header.e_shoff <= size &&
      uint64_t(header.e_shnum) * sizeof(Elf64_Shdr) == size - header.e_shoff;
  return checkProgramHeaders(image, header, error) &&
         findRecord(image, header, record, error);
}

Sha256Digest loom::runtime::moduleDigest(const uint8_t *image, size_t size,
                                         size_t digestOffset) {
  static const uint8_t zeros[32] = {};
  Sha256 hash;
  hash.update(image, digestOffset);
  hash.update(zeros, sizeof(zeros));
  hash.update(image + digestOffset + 32, size - digestOffset - 32);
  return hash.final();
}

bool loom::runtime::verifyModuleImage(const uint8_t *image, size_t size,
                                      std::string &error) {
  IntegrityRecord record;
  if (!inspectModuleImage(image, size, record, error))
    return false;
  Sha256Digest actual = moduleDigest(image, size, record.digestOffset);
  if (actual != record.recorded) {
    error = corrupted("its SHA-256 is " + toHex(actual).substr(0, 16) +
                      "..., but loom-compile recorded " +
                      toHex(record.recorded).substr(0, 16) + "...");
    return false;
  }
  return true;
}

bool loom::runtime::readWholeFile(int fd, std::vector<uint8_t> &bytes,
                                  std::string &error) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = std::string("cannot read it: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "it is not a regular file";
    return false;
  }
  try {
    bytes.resize(size_t(st.st_size));
  } catch (const std::bad_alloc &) {
    error = "cannot read it: out of memory for its " +
            std::to_string(st.st_size) + " bytes";
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(fd, bytes.data() + done, bytes.size() - done,
                      off_t(done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::string("cannot read it: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) {
      // Shorter than fstat said: something is truncating it right now.
      error = "the file shrank while it was being read (from " +
              std::to_string(bytes.size()) + " to " + std::to_string(done) +
              " bytes)";
      return false;
    }
    done += size_t(n);
  }
  return true;
}

bool loom::runtime::sealModuleFile(const std::string &path,
                                   std::string &error) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::vector<uint8_t> bytes;
  IntegrityRecord record;
  bool ok = readWholeFile(fd, bytes, error) &&
            inspectModuleImage(bytes.data(), bytes.size(), record, error);
  if (ok) {
    Sha256Digest digest =
        moduleDigest(bytes.data(), bytes.size(), record.digestOffset);
    ok = pwrite(fd, digest.data(), digest.size(),
                off_t(record.digestOffset)) == ssize_t(digest.size());
    if (!ok)
      error = "cannot write the integrity record of '" + path +
              "': " + std::strerror(errno);
  } else {
    error = "cannot seal '" + path + "': " + error;
  }
  if (close(fd) != 0 && ok) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    ok = false;
  }
  return ok;
}
