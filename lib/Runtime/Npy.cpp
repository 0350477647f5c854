// NumPy .npy reader and writer, small-float conversions, and the loom-run array conversion rules.
#include "loom/Runtime/Npy.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "Npy.cpp copies little-endian .npy data as host values");
#endif

// The library must never let an exception escape (the reader is fuzzed and
// loom-run reports one line and exits), yet it must also build where the
// surrounding project compiles with -fno-exceptions; there allocation failure
// aborts, which is the best that can be done.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define LOOM_NPY_TRY try {
#define LOOM_NPY_CATCH(error)                                                  \
  }                                                                            \
  catch (const std::bad_alloc &) {                                             \
    error = "out of memory";                                                   \
    return false;                                                              \
  }                                                                            \
  catch (...) {                                                                \
    error = "internal error";                                                  \
    return false;                                                              \
  }
#else
#define LOOM_NPY_TRY {
#define LOOM_NPY_CATCH(error) }
#endif

namespace loom {
namespace npy {

//===----------------------------------------------------------------------===//
// DTypes and shapes
//===----------------------------------------------------------------------===//

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return 2;
  case DType::F32:
    return 4;
  case DType::F64:
    return 8;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  case DType::I32:
    return 4;
  case DType::I64:
    return 8;
  }
  return 1;
}

const char *dtypeDescr(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "<f2";
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  case DType::Bool:
    return "|b1";
  }
  return "?";
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "float16";
  case DType::F32:
    return "float32";
  case DType::F64:
    return "float64";
  case DType::I8:
    return "int8";
  case DType::U8:
    return "uint8";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  case DType::Bool:
    return "bool";
  }
  return "?";
}

static bool isFloatDType(DType dtype) {
  return dtype == DType::F16 || dtype == DType::F32 || dtype == DType::F64;
}

bool checkedNumElements(const std::vector<int64_t> &shape, int64_t &result) {
  // The product of the nonzero dimensions must fit even when another
  // dimension is 0, so that every stride computed from a valid shape fits.
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > std::numeric_limits<int64_t>::max() / d)
      return false;
    n *= d;
  }
  result = empty ? 0 : n;
  return true;
}

int64_t Array::numElements() const {
  int64_t n;
  return checkedNumElements(shape, n) ? n : -1;
}

std::string shapeToString(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  s += ")";
  return s;
}

// Byte count of `n` elements of `elementSize`, false on overflow.
static bool checkedBytes(int64_t n, size_t elementSize, int64_t &bytes) {
  int64_t size = static_cast<int64_t>(elementSize);
  if (n < 0 || (size != 0 && n > std::numeric_limits<int64_t>::max() / size))
    return false;
  bytes = n * size;
  return true;
}

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

namespace {

// A recursive-descent parser for the one dict form a .npy header may hold:
// {'descr': STR, 'fortran_order': BOOL, 'shape': TUPLE}, keys in any order,
// Python's optional trailing commas and whitespace. Anything else is an error
// rather than a guess, because a misread header silently scrambles data.
class HeaderParser {
public:
  HeaderParser(const char *headerText, size_t headerSize)
      : text(headerText), size(headerSize) {}

  bool parse(DType &dtype, std::vector<int64_t> &shape, std::string &error) {
    skipSpace();
    if (!consume('{'))
      return fail("expected '{' at the start of the header dict", error);
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    while (!peekIs('}')) {
      std::string key;
      if (!parseString(key, error))
        return false;
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + key + "'", error);
      skipSpace();
      if (key == "descr") {
        if (haveDescr)
          return fail("duplicate key 'descr'", error);
        haveDescr = true;
        if (!parseDescr(dtype, error))
          return false;
      } else if (key == "fortran_order") {
        if (haveOrder)
          return fail("duplicate key 'fortran_order'", error);
        haveOrder = true;
        bool fortran = false;
        if (!parseBool(fortran, error))
          return false;
        if (fortran) {
          error = "fortran_order is True; only C-order arrays are supported";
          return false;
        }
      } else if (key == "shape") {
        if (haveShape)
          return fail("duplicate key 'shape'", error);
        haveShape = true;
        if (!parseShape(shape, error))
          return false;
      } else {
        return fail("unexpected key '" + key + "'", error);
      }
      skipSpace();
      if (consume(',')) {
        skipSpace();
        continue;
      }
      if (!peekIs('}'))
        return fail("expected ',' or '}' after the value of '" + key + "'",
                    error);
    }
    ++pos; // '}'
    skipSpace();
    if (pos != size)
      return fail("unexpected characters after the header dict", error);
    if (!haveDescr)
      return fail("missing key 'descr'", error);
    if (!haveOrder)
      return fail("missing key 'fortran_order'", error);
    if (!haveShape)
      return fail("missing key 'shape'", error);
    return true;
  }

private:
  bool fail(const std::string &message, std::string &error) {
    error = "malformed header: " + message + " (header offset " +
            std::to_string(pos) + ")";
    return false;
  }

  bool peekIs(char c) const { return pos < size && text[pos] == c; }
  bool consume(char c) {
    if (!peekIs(c))
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < size && (text[pos] == ' ' || text[pos] == '\t' ||
                          text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool consumeWord(const char *word) {
    size_t n = std::strlen(word);
    if (size - pos < n || std::memcmp(text + pos, word, n) != 0)
      return false;
    // "Trueish" is not True.
    if (pos + n < size && (std::isalnum(static_cast<unsigned char>(
                               text[pos + n])) ||
                           text[pos + n] == '_'))
      return false;
    pos += n;
    return true;
  }

  // Python string literal without escapes; no valid header needs one.
  bool parseString(std::string &out, std::string &error) {
    if (pos >= size || (text[pos] != '\'' && text[pos] != '"'))
      return fail("expected a quoted string", error);
    char quote = text[pos++];
    size_t start = pos;
    while (pos < size && text[pos] != quote) {
      if (text[pos] == '\\')
        return fail("escape sequences are not supported in header strings",
                    error);
      if (text[pos] == '\n')
        return fail("newline inside a header string", error);
      ++pos;
    }
    if (pos >= size)
      return fail("unterminated string", error);
    out.assign(text + start, pos - start);
    ++pos;
    return true;
  }

  bool parseDescr(DType &dtype, std::string &error) {
    if (pos < size && text[pos] == '[')
      return fail("structured dtypes are not supported", error);
    std::string descr;
    if (!parseString(descr, error))
      return false;
    if (descr.size() != 3) {
      error = "unsupported dtype '" + descr + "'";
      return false;
    }
    char order = descr[0];
    std::string code = descr.substr(1);
    struct Known {
      const char *code;
      DType dtype;
    };
    static const Known known[] = {
        {"f2", DType::F16}, {"f4", DType::F32}, {"f8", DType::F64},
        {"i1", DType::I8},  {"u1", DType::U8},  {"i4", DType::I32},
        {"i8", DType::I64}, {"b1", DType::Bool}};
    for (const Known &k : known) {
      if (code != k.code)
        continue;
      bool singleByte = dtypeSize(k.dtype) == 1;
      // Byte order is meaningless for one-byte types, so NumPy writes '|'
      // there but accepts any marker; for wider types only '<' is our order.
      if (singleByte && (order == '|' || order == '<' || order == '>' ||
                         order == '='))
        break;
      if (!singleByte && order == '<')
        break;
      if (!singleByte && order == '>') {
        error = "big-endian dtype '" + descr + "' is not supported";
        return false;
      }
      error = "dtype '" + descr + "' has no explicit little-endian byte order";
      return false;
    }
    for (const Known &k : known) {
      if (code == k.code) {
        dtype = k.dtype;
        return true;
      }
    }
    error = "unsupported dtype '" + descr + "'";
    return false;
  }

  bool parseBool(bool &value, std::string &error) {
    if (consumeWord("True")) {
      value = true;
      return true;
    }
    if (consumeWord("False")) {
      value = false;
      return true;
    }
    return fail("fortran_order must be True or False", error);
  }

  bool parseDim(int64_t &value, std::string &error) {
    bool negative = consume('-');
    if (pos >= size || !std::isdigit(static_cast<unsigned char>(text[pos])))
      return fail("expected an integer dimension in the shape", error);
    uint64_t v = 0;
    const uint64_t limit =
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    while (pos < size && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
      if (v > (limit - digit) / 10) {
        error = "shape dimension is too large";
        return false;
      }
      v = v * 10 + digit;
      ++pos;
    }
    // Headers written by Python 2 spell longs as "3L".
    consume('L');
    if (negative && v != 0) {
      error = "negative dimension -" + std::to_string(v) + " in shape";
      return false;
    }
    value = static_cast<int64_t>(v);
    return true;
  }

  bool parseShape(std::vector<int64_t> &shape, std::string &error) {
    shape.clear();
    if (!consume('('))
      return fail("shape must be a tuple", error);
    skipSpace();
    if (consume(')'))
      return true;
    bool sawComma = false;
    while (true) {
      int64_t d;
      if (!parseDim(d, error))
        return false;
      shape.push_back(d);
      skipSpace();
      if (consume(',')) {
        sawComma = true;
        skipSpace();
        if (consume(')'))
          break;
        continue;
      }
      if (consume(')')) {
        // "(3)" is the integer 3 in Python, not a tuple.
        if (!sawComma)
          return fail("shape must be a tuple: a 1-tuple needs a trailing "
                      "comma, as in (3,)",
                      error);
        break;
      }
      return fail("expected ',' or ')' in the shape", error);
    }
    return true;
  }

  const char *text;
  size_t size;
  size_t pos = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static bool fail(std::string &error, const std::string &message) {
  error = message;
  return false;
}

static bool readImpl(const unsigned char *bytes, size_t size, Array &out,
                     std::string &error) {
  if (size < sizeof(kMagic) || std::memcmp(bytes, kMagic, sizeof(kMagic)))
    return fail(error, "not a .npy file (bad magic)");
  if (size < 8)
    return fail(error, "truncated header (no version bytes)");
  unsigned major = bytes[6], minor = bytes[7];
  size_t lengthBytes;
  if (major == 1 && minor == 0)
    lengthBytes = 2;
  else if ((major == 2 || major == 3) && minor == 0)
    lengthBytes = 4; // 3.0 differs from 2.0 only in allowing UTF-8 text
  else
    return fail(error, "unsupported .npy format version " +
                           std::to_string(major) + "." +
                           std::to_string(minor));
  size_t headerStart = 8 + lengthBytes;
  if (size < headerStart)
    return fail(error, "truncated header (no header length)");
  uint64_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= static_cast<uint64_t>(bytes[8 + i]) << (8 * i);
  if (headerLength > size - headerStart)
    return fail(error, "header length " + std::to_string(headerLength) +
                           " runs past the end of the data (" +
                           std::to_string(size) + " bytes in all)");

  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  HeaderParser parser(reinterpret_cast<const char *>(bytes + headerStart),
                      static_cast<size_t>(headerLength));
  if (!parser.parse(dtype, shape, error))
    return false;

  int64_t n, expected;
  if (!checkedNumElements(shape, n) ||
      !checkedBytes(n, dtypeSize(dtype), expected))
    return fail(error,
                "shape " + shapeToString(shape) + " has too many elements");
  size_t dataStart = headerStart + static_cast<size_t>(headerLength);
  uint64_t available = size - dataStart;
  uint64_t needed = static_cast<uint64_t>(expected);
  if (available != needed)
    return fail(error, std::string(available < needed
                                       ? "data is truncated"
                                       : "trailing bytes after the data") +
                           ": shape " + shapeToString(shape) + " of " +
                           dtypeName(dtype) + " needs " +
                           std::to_string(expected) + " bytes, found " +
                           std::to_string(available));

  out.dtype = dtype;
  out.shape = std::move(shape);
  out.data.assign(bytes + dataStart, bytes + size);
  return true;
}

bool readNpyFromMemory(const void *bytes, size_t size, Array &out,
                       std::string &error, const std::string &name) {
  LOOM_NPY_TRY
  std::string message;
  if (!bytes && size != 0) {
    error = name + ": null data";
    return false;
  }
  static const unsigned char empty = 0;
  const unsigned char *p =
      bytes ? static_cast<const unsigned char *>(bytes) : &empty;
  if (!readImpl(p, size, out, message)) {
    error = name + ": " + message;
    return false;
  }
  return true;
  LOOM_NPY_CATCH(error)
}

namespace {
// Closes the file on every path out.
struct FileCloser {
  std::FILE *file;
  ~FileCloser() {
    if (file)
      std::fclose(file);
  }
};
} // namespace

bool readNpy(const std::string &path, Array &out, std::string &error) {
  LOOM_NPY_TRY
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  FileCloser closer{file};
  // Read in chunks rather than trusting a seek-reported size, so pipes and
  // files that change under us behave.
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  while (true) {
    size_t got = std::fread(chunk, 1, sizeof(chunk), file);
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (got < sizeof(chunk))
      break;
  }
  if (std::ferror(file)) {
    error = path + ": read error: " + std::strerror(errno);
    return false;
  }
  return readNpyFromMemory(bytes.data(), bytes.size(), out, error, path);
  LOOM_NPY_CATCH(error)
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

static bool validateArray(const Array &array, std::string &error,
                          const std::string &name) {
  int64_t n, bytes;
  if (!checkedNumElements(array.shape, n) ||
      !checkedBytes(n, dtypeSize(array.dtype), bytes)) {
    error = name + ": invalid shape " + shapeToString(array.shape);
    return false;
  }
  if (static_cast<uint64_t>(bytes) != array.data.size()) {
    error = name + ": shape " + shapeToString(array.shape) + " of " +
            dtypeName(array.dtype) + " needs " + std::to_string(bytes) +
            " bytes, the array holds " + std::to_string(array.data.size());
    return false;
  }
  return true;
}

bool writeNpyToMemory(const Array &array, std::vector<uint8_t> &out,
                      std::string &error) {
  LOOM_NPY_TRY
  if (!validateArray(array, error, "cannot write .npy"))
    return false;
  std::string dict = std::string("{'descr': '") + dtypeDescr(array.dtype) +
                     "', 'fortran_order': False, 'shape': " +
                     shapeToString(array.shape) + ", }";
  // NumPy aligns the data to 64 bytes and switches to version 2.0 only when
  // the header no longer fits a 16-bit length.
  size_t prefix = 10;
  size_t total = prefix + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  if (padded - prefix > 0xffff) {
    prefix = 12;
    total = prefix + dict.size() + 1;
    padded = (total + 63) / 64 * 64;
  }
  uint64_t headerLength = padded - prefix;
  if (headerLength > 0xffffffffull) {
    error = "cannot write .npy: header too long";
    return false;
  }
  out.clear();
  out.reserve(padded + array.data.size());
  out.insert(out.end(), kMagic, kMagic + sizeof(kMagic));
  out.push_back(prefix == 10 ? 1 : 2);
  out.push_back(0);
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<uint8_t>(headerLength >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), padded - total, ' ');
  out.push_back('\n');
  out.insert(out.end(), array.data.begin(), array.data.end());
  return true;
  LOOM_NPY_CATCH(error)
}

bool writeNpy(const std::string &path, const Array &array,
              std::string &error) {
  LOOM_NPY_TRY
  std::vector<uint8_t> bytes;
  if (!writeNpyToMemory(array, bytes, error)) {
    error = path + ": " + error;
    return false;
  }
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file) {
    error = path + ": cannot open for writing: " + std::strerror(errno);
    return false;
  }
  size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  int writeErrno = errno;
  int closeResult = std::fclose(file);
  if (written != bytes.size() || closeResult != 0) {
    error = path + ": write error: " +
            std::strerror(written != bytes.size() ? writeErrno : errno);
    return false;
  }
  return true;
  LOOM_NPY_CATCH(error)
}

//===----------------------------------------------------------------------===//
// Small floats
//===----------------------------------------------------------------------===//

namespace {

// A binary format with a sign bit, `expBits` exponent bits (bias
// 2^(expBits-1) - 1) and `mantBits` fraction bits. IEEE formats reserve the
// top exponent for Inf/NaN; "FN" formats (E4M3FN) have no Inf and only the
// all-ones pattern is NaN.
struct SmallFloat {
  int expBits;
  int mantBits;
  bool ieee;

  int bias() const { return (1 << (expBits - 1)) - 1; }
  uint32_t signBit() const { return 1u << (expBits + mantBits); }
  uint32_t expMax() const { return (1u << expBits) - 1; }
  uint32_t mantMask() const { return (1u << mantBits) - 1; }
  uint32_t inf() const { return expMax() << mantBits; }
  uint32_t nan() const {
    return ieee ? inf() | (1u << (mantBits - 1)) : (signBit() - 1);
  }
  uint32_t maxFinite() const {
    return ieee ? inf() - 1 : (signBit() - 2);
  }
};

constexpr SmallFloat kF16{5, 10, true};
constexpr SmallFloat kBF16{8, 7, true};
constexpr SmallFloat kF8E4M3FN{4, 3, false};
// Narrowing float64 -> float32 by hand too: a cast of an out-of-range double
// is undefined behaviour in C++, and such values come straight from files.
constexpr SmallFloat kF32{8, 23, true};

uint32_t encode(double value, const SmallFloat &f, bool saturate) {
  uint64_t u;
  std::memcpy(&u, &value, sizeof(u));
  uint32_t sign = (u >> 63) ? f.signBit() : 0;
  int exp = static_cast<int>((u >> 52) & 0x7ff);
  uint64_t mant = u & ((uint64_t(1) << 52) - 1);
  if (exp == 0x7ff) {
    if (mant != 0)
      return sign | f.nan();
    if (f.ieee)
      return sign | f.inf();
    return sign | (saturate ? f.maxFinite() : f.nan());
  }
  if (exp == 0 && mant == 0)
    return sign;

  // value = M * 2^(e - 52). The target's quantum at this magnitude is
  // 2^(max(e, emin) - mantBits); dividing M by the ratio of the two quanta
  // with round-to-nearest-even gives the target significand, subnormals
  // included.
  int e = exp == 0 ? -1022 : exp - 1023;
  uint64_t m = exp == 0 ? mant : (mant | (uint64_t(1) << 52));
  int emin = 1 - f.bias();
  int eq = e > emin ? e : emin;
  int shift = eq - e + 52 - f.mantBits; // > 0: the target is narrower
  uint64_t q;
  if (shift >= 60) {
    q = 0; // below half the smallest subnormal
  } else {
    q = m >> shift;
    uint64_t rem = m & ((uint64_t(1) << shift) - 1);
    uint64_t half = uint64_t(1) << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
      ++q;
  }
  // Adding q (which includes the implicit bit) to exponent field eq+bias-1
  // both places normal numbers and carries a rounded-up subnormal or a
  // rounded-up 1.11..1 into the next binade.
  uint64_t bits =
      (static_cast<uint64_t>(eq + f.bias() - 1) << f.mantBits) + q;
  if (bits > f.maxFinite()) {
    if (f.ieee)
      return sign | f.inf();
    return sign | (saturate ? f.maxFinite() : f.nan());
  }
  return sign | static_cast<uint32_t>(bits);
}

double decode(uint32_t bits, const SmallFloat &f) {
  bool negative = (bits & f.signBit()) != 0;
  uint32_t e = (bits >> f.mantBits) & f.expMax();
  uint32_t mant = bits & f.mantMask();
  double v;
  if (f.ieee && e == f.expMax())
    v = mant ? std::numeric_limits<double>::quiet_NaN()
             : std::numeric_limits<double>::infinity();
  else if (!f.ieee && e == f.expMax() && mant == f.mantMask())
    v = std::numeric_limits<double>::quiet_NaN();
  else if (e == 0)
    v = std::ldexp(static_cast<double>(mant), 1 - f.bias() - f.mantBits);
  else
    v = std::ldexp(static_cast<double>(mant | (1u << f.mantBits)),
                   static_cast<int>(e) - f.bias() - f.mantBits);
  return negative ? -v : v;
}

} // namespace

static float doubleToF32(double value) {
  uint32_t bits = encode(value, kF32, false);
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

uint16_t doubleToF16(double value) {
  return static_cast<uint16_t>(encode(value, kF16, false));
}
float f16ToFloat(uint16_t bits) {
  return static_cast<float>(decode(bits, kF16));
}
uint16_t doubleToBF16(double value) {
  return static_cast<uint16_t>(encode(value, kBF16, false));
}
float bf16ToFloat(uint16_t bits) {
  return static_cast<float>(decode(bits, kBF16));
}
uint8_t doubleToF8E4M3FN(double value, bool saturate) {
  return static_cast<uint8_t>(encode(value, kF8E4M3FN, saturate));
}
float f8E4M3FNToFloat(uint8_t bits) {
  return static_cast<float>(decode(bits, kF8E4M3FN));
}

//===----------------------------------------------------------------------===//
// Array <-> buffer conversion
//===----------------------------------------------------------------------===//

const char *elementKindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
    return "f64";
  case ElementKind::F32:
    return "f32";
  case ElementKind::F16:
    return "f16";
  case ElementKind::BF16:
    return "bf16";
  case ElementKind::F8E4M3FN:
    return "f8E4M3FN";
  case ElementKind::I1:
    return "i1";
  case ElementKind::I4:
    return "i4";
  case ElementKind::I8:
    return "i8";
  case ElementKind::I32:
    return "i32";
  case ElementKind::I64:
    return "i64";
  }
  return "?";
}

bool isFloatKind(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
  case ElementKind::F32:
  case ElementKind::F16:
  case ElementKind::BF16:
  case ElementKind::F8E4M3FN:
    return true;
  default:
    return false;
  }
}

static size_t kindSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
  case ElementKind::I64:
    return 8;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::F16:
  case ElementKind::BF16:
    return 2;
  default:
    return 1; // F8E4M3FN, I1, I8; I4 is handled apart
  }
}

bool storageSize(ElementKind kind, const std::vector<int64_t> &shape,
                 int64_t &bytes, std::string &error) {
  int64_t n;
  if (!checkedNumElements(shape, n)) {
    error = "invalid shape " + shapeToString(shape);
    return false;
  }
  if (kind == ElementKind::I4) {
    int64_t inner = shape.empty() ? 1 : shape.back();
    if (inner % 2 != 0) {
      error = "an i4 buffer packs two values per byte along the innermost "
              "dimension, which must be even; shape " +
              shapeToString(shape) + " has " + std::to_string(inner);
      return false;
    }
    bytes = n / 2;
    return true;
  }
  if (!checkedBytes(n, kindSize(kind), bytes)) {
    error = "shape " + shapeToString(shape) + " has too many elements";
    return false;
  }
  return true;
}

bool checkShape(const Array &array, const std::vector<int64_t> &expected,
                std::string &error, const std::string &name) {
  bool ok = array.shape.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == array.shape[i];
  if (ok)
    return true;
  std::string want = "(";
  for (size_t i = 0; i < expected.size(); ++i) {
    if (i)
      want += ", ";
    want += expected[i] < 0 ? std::string("?") : std::to_string(expected[i]);
  }
  want += expected.size() == 1 ? ",)" : ")";
  error = name + ": expected shape " + want + ", got " +
          shapeToString(array.shape);
  return false;
}

template <typename T> static T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T> static void store(uint8_t *p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Two's complement reading of a byte without relying on narrowing casts.
static int toSigned(uint8_t b) { return b >= 128 ? int(b) - 256 : int(b); }

static double loadFloat(const Array &a, int64_t i) {
  const uint8_t *p = a.data.data() + i * static_cast<int64_t>(dtypeSize(a.dtype));
  switch (a.dtype) {
  case DType::F16:
    return f16ToFloat(load<uint16_t>(p));
  case DType::F32:
    return load<float>(p);
  default:
    return load<double>(p);
  }
}

static bool arrayToBufferImpl(const Array &array, ElementKind kind,
                              std::vector<uint8_t> &out, std::string &error,
                              const std::string &name) {
  if (!validateArray(array, error, name))
    return false;
  int64_t n = array.numElements();
  auto mismatch = [&](const char *want) {
    error = name + ": an argument of type " +
            std::string(elementKindName(kind)) + " needs " + want +
            ", got dtype " + dtypeName(array.dtype);
    return false;
  };

  if (isFloatKind(kind)) {
    if (!isFloatDType(array.dtype))
      return mismatch("a float array (float16, float32 or float64)");
    size_t size = kindSize(kind);
    out.assign(static_cast<size_t>(n) * size, 0);
    for (int64_t i = 0; i < n; ++i) {
      double v = loadFloat(array, i);
      uint8_t *p = out.data() + i * static_cast<int64_t>(size);
      switch (kind) {
      case ElementKind::F64:
        store<double>(p, v);
        break;
      case ElementKind::F32:
        store<float>(p, doubleToF32(v));
        break;
      case ElementKind::F16:
        store<uint16_t>(p, doubleToF16(v));
        break;
      case ElementKind::BF16:
        store<uint16_t>(p, doubleToBF16(v));
        break;
      default:
        store<uint8_t>(p, doubleToF8E4M3FN(v, /*saturate=*/true));
        break;
      }
    }
    return true;
  }

  switch (kind) {
  case ElementKind::I8:
    if (array.dtype != DType::I8)
      return mismatch("an int8 array");
    out = array.data;
    return true;
  case ElementKind::I32:
    if (array.dtype != DType::I32)
      return mismatch("an int32 array");
    out = array.data;
    return true;
  case ElementKind::I64:
    if (array.dtype != DType::I64)
      return mismatch("an int64 array");
    out = array.data;
    return true;
  case ElementKind::I1:
    if (array.dtype != DType::Bool)
      return mismatch("a bool array");
    // NumPy reads any nonzero byte as True; compiled code expects 0 or 1.
    out.resize(array.data.size());
    for (size_t i = 0; i < array.data.size(); ++i)
      out[i] = array.data[i] ? 1 : 0;
    return true;
  case ElementKind::I4: {
    if (array.dtype != DType::I8)
      return mismatch("an int8 array of its logical shape");
    int64_t bytes;
    if (!storageSize(kind, array.shape, bytes, error)) {
      error = name + ": " + error;
      return false;
    }
    for (int64_t i = 0; i < n; ++i) {
      int v = toSigned(array.data[static_cast<size_t>(i)]);
      if (v < -8 || v > 7) {
        error = name + ": i4 values must lie in [-8, 7]; element " +
                std::to_string(i) + " is " + std::to_string(v);
        return false;
      }
    }
    // Rows have an even length, so consecutive flat pairs never straddle rows.
    out.assign(static_cast<size_t>(bytes), 0);
    for (int64_t i = 0; i < bytes; ++i) {
      uint8_t lo = array.data[static_cast<size_t>(2 * i)] & 0xf;
      uint8_t hi = array.data[static_cast<size_t>(2 * i + 1)] & 0xf;
      out[static_cast<size_t>(i)] = static_cast<uint8_t>(lo | (hi << 4));
    }
    return true;
  }
  default:
    break;
  }
  error = name + ": unsupported element kind";
  return false;
}

bool arrayToBuffer(const Array &array, ElementKind kind,
                   std::vector<uint8_t> &out, std::string &error,
                   const std::string &name) {
  LOOM_NPY_TRY
  return arrayToBufferImpl(array, kind, out, error, name);
  LOOM_NPY_CATCH(error)
}

static bool bufferToArrayImpl(const uint8_t *data, size_t size,
                              ElementKind kind,
                              const std::vector<int64_t> &shape, Array &out,
                              std::string &error, const std::string &name) {
  int64_t bytes;
  if (!storageSize(kind, shape, bytes, error)) {
    error = name + ": " + error;
    return false;
  }
  if (static_cast<uint64_t>(bytes) != size) {
    error = name + ": a buffer of type " + std::string(elementKindName(kind)) +
            " and shape " + shapeToString(shape) + " needs " +
            std::to_string(bytes) + " bytes, got " + std::to_string(size);
    return false;
  }
  if (!data && size != 0) {
    error = name + ": null buffer";
    return false;
  }
  int64_t n;
  checkedNumElements(shape, n);
  Array result;
  result.shape = shape;
  auto toF32 = [&](auto decodeOne, size_t width) {
    result.dtype = DType::F32;
    result.data.resize(static_cast<size_t>(n) * 4);
    for (int64_t i = 0; i < n; ++i)
      store<float>(result.data.data() + 4 * i,
                   decodeOne(data + i * static_cast<int64_t>(width)));
  };
  switch (kind) {
  case ElementKind::F64:
    result.dtype = DType::F64;
    result.data.assign(data, data + size);
    break;
  case ElementKind::F32:
    result.dtype = DType::F32;
    result.data.assign(data, data + size);
    break;
  case ElementKind::F16:
    toF32([](const uint8_t *p) { return f16ToFloat(load<uint16_t>(p)); }, 2);
    break;
  case ElementKind::BF16:
    toF32([](const uint8_t *p) { return bf16ToFloat(load<uint16_t>(p)); }, 2);
    break;
  case ElementKind::F8E4M3FN:
    toF32([](const uint8_t *p) { return f8E4M3FNToFloat(*p); }, 1);
    break;
  case ElementKind::I8:
    result.dtype = DType::I8;
    result.data.assign(data, data + size);
    break;
  case ElementKind::I32:
    result.dtype = DType::I32;
    result.data.assign(data, data + size);
    break;
  case ElementKind::I64:
    result.dtype = DType::I64;
    result.data.assign(data, data + size);
    break;
  case ElementKind::I1:
    result.dtype = DType::Bool;
    result.data.resize(size);
    for (size_t i = 0; i < size; ++i)
      result.data[i] = data[i] ? 1 : 0;
    break;
  case ElementKind::I4:
    result.dtype = DType::I8;
    result.data.resize(static_cast<size_t>(n));
    for (size_t i = 0; i < size; ++i) {
      int lo = data[i] & 0xf, hi = data[i] >> 4;
      result.data[2 * i] = static_cast<uint8_t>(lo >= 8 ? lo - 16 : lo);
      result.data[2 * i + 1] = static_cast<uint8_t>(hi >= 8 ? hi - 16 : hi);
    }
    break;
  }
  out = std::move(result);
  return true;
}

bool bufferToArray(const void *data, size_t size, ElementKind kind,
                   const std::vector<int64_t> &shape, Array &out,
                   std::string &error, const std::string &name) {
  LOOM_NPY_TRY
  return bufferToArrayImpl(static_cast<const uint8_t *>(data), size, kind,
                           shape, out, error, name);
  LOOM_NPY_CATCH(error)
}

} // namespace npy
} // namespace loom
