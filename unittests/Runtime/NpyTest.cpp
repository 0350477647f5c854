// Tests of the .npy reader/writer, the small-float conversions and the loom-run array conversion rules.
#include "loom/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

using namespace loom::npy;

namespace {

using Bytes = std::vector<uint8_t>;

// Builds a .npy image by hand so that the reader is tested against the format
// itself, not against our own writer.
Bytes npyImage(int major, int minor, const std::string &header,
               const Bytes &data = {}) {
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major),
               static_cast<uint8_t>(minor)};
  size_t len = header.size();
  if (major == 1) {
    out.push_back(len & 0xff);
    out.push_back((len >> 8) & 0xff);
  } else {
    for (int i = 0; i < 4; ++i)
      out.push_back((len >> (8 * i)) & 0xff);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string dict(const std::string &descr, const std::string &shape,
                 const std::string &fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }\n";
}

template <typename T> Bytes bytesOf(const std::vector<T> &values) {
  Bytes out(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T> std::vector<T> valuesOf(const Array &a) {
  std::vector<T> out(a.data.size() / sizeof(T));
  if (!out.empty())
    std::memcpy(out.data(), a.data.data(), out.size() * sizeof(T));
  return out;
}

// Reads an image expecting failure; returns the error.
std::string readError(const Bytes &image, const std::string &name = "in.npy") {
  Array a;
  std::string error;
  bool ok = readNpyFromMemory(image.data(), image.size(), a, error, name);
  EXPECT_FALSE(ok) << "unexpectedly parsed";
  EXPECT_NE(error.find(name), std::string::npos) << error;
  return error;
}

Array readOk(const Bytes &image) {
  Array a;
  std::string error;
  EXPECT_TRUE(readNpyFromMemory(image.data(), image.size(), a, error, "in.npy"))
      << error;
  return a;
}

#define EXPECT_HAS(haystack, needle)                                           \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)             \
      << "'" << (haystack) << "' lacks '" << (needle) << "'"

double bitsToDouble(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof(d));
  return d;
}

float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

std::string tempPath(const std::string &leaf) {
  return ::testing::TempDir() + "/loom_npy_" + std::to_string(getpid()) + "_" +
         leaf;
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

Array makeArray(DType dtype, std::vector<int64_t> shape) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  int64_t n = a.numElements();
  a.data.resize(static_cast<size_t>(n) * dtypeSize(dtype));
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] = static_cast<uint8_t>(i * 37 + 11);
  if (dtype == DType::Bool)
    for (size_t i = 0; i < a.data.size(); ++i)
      a.data[i] = i % 3 == 0;
  return a;
}

TEST(NpyRoundTrip, EveryDTypeAndShapeKind) {
  const DType dtypes[] = {DType::F16, DType::F32, DType::F64, DType::I8,
                          DType::U8,  DType::I32, DType::I64, DType::Bool};
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {5}, {2, 3}, {2, 0, 3}, {2, 3, 4, 1}};
  for (DType dtype : dtypes) {
    for (const auto &shape : shapes) {
      Array a = makeArray(dtype, shape);
      Bytes image;
      std::string error;
      ASSERT_TRUE(writeNpyToMemory(a, image, error)) << error;
      // NumPy aligns the data to 64 bytes.
      EXPECT_EQ((image.size() - a.data.size()) % 64, 0u);
      EXPECT_EQ(image[6], 1);
      Array b = readOk(image);
      EXPECT_EQ(b.dtype, dtype) << dtypeName(dtype);
      EXPECT_EQ(b.shape, shape) << shapeToString(shape);
      EXPECT_EQ(b.data, a.data);
    }
  }
}

TEST(NpyRoundTrip, HeaderTextIsNumpys) {
  Array a = makeArray(DType::F32, {2, 3});
  Bytes image;
  std::string error;
  ASSERT_TRUE(writeNpyToMemory(a, image, error)) << error;
  // The familiar 128-byte header of files written by np.save.
  ASSERT_EQ(image.size(), 128u + 24u);
  EXPECT_EQ(image[8] | (image[9] << 8), 128 - 10);
  std::string header(image.begin() + 10, image.begin() + 128);
  std::string expected =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(header.substr(0, expected.size()), expected);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(header.find_first_not_of(' ', expected.size()), header.size() - 1);

  Array s = makeArray(DType::I8, {7});
  ASSERT_TRUE(writeNpyToMemory(s, image, error));
  EXPECT_HAS(std::string(image.begin(), image.begin() + 128), "'|i1'");
  EXPECT_HAS(std::string(image.begin(), image.begin() + 128), "(7,)");
  Array z = makeArray(DType::Bool, {});
  ASSERT_TRUE(writeNpyToMemory(z, image, error));
  EXPECT_HAS(std::string(image.begin(), image.begin() + 128), "'shape': ()");
}

TEST(NpyRoundTrip, HugeHeaderUsesVersion2) {
  Array a = makeArray(DType::I32, std::vector<int64_t>(30000, 1));
  Bytes image;
  std::string error;
  ASSERT_TRUE(writeNpyToMemory(a, image, error)) << error;
  EXPECT_EQ(image[6], 2);
  EXPECT_EQ((image.size() - a.data.size()) % 64, 0u);
  Array b = readOk(image);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
}

TEST(NpyRoundTrip, Files) {
  Array a = makeArray(DType::F64, {3, 2});
  std::string path = tempPath("roundtrip.npy");
  std::string error;
  ASSERT_TRUE(writeNpy(path, a, error)) << error;
  Array b;
  ASSERT_TRUE(readNpy(path, b, error)) << error;
  EXPECT_EQ(b.dtype, DType::F64);
  EXPECT_EQ(b.shape, a.shape);
  EXPECT_EQ(b.data, a.data);
  std::remove(path.c_str());
}

TEST(NpyRead, Versions2And3) {
  Bytes data = bytesOf<float>({1.5f, -2.0f});
  for (int major : {2, 3}) {
    Array a = readOk(npyImage(major, 0, dict("<f4", "(2,)"), data));
    EXPECT_EQ(a.shape, std::vector<int64_t>{2});
    EXPECT_EQ(valuesOf<float>(a), (std::vector<float>{1.5f, -2.0f}));
  }
}

TEST(NpyRead, HeaderSpellings) {
  Bytes data = bytesOf<int32_t>({1, 2, 3, 4, 5, 6});
  const char *headers[] = {
      "{'descr':'<i4','fortran_order':False,'shape':(2,3)}",
      "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2, 3)}\n",
      "  { 'shape' : ( 2 , 3 , ) , 'descr' : '<i4' , 'fortran_order' : False , }   \n",
      "{'fortran_order': False, 'shape': (2L, 3L), 'descr': '<i4'}",
  };
  for (const char *h : headers) {
    Array a = readOk(npyImage(1, 0, h, data));
    EXPECT_EQ(a.dtype, DType::I32) << h;
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3})) << h;
    EXPECT_EQ(valuesOf<int32_t>(a), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  }
  // Byte order does not matter for one-byte types.
  for (const char *d : {"|i1", "<i1", ">i1", "=i1"})
    EXPECT_EQ(readOk(npyImage(1, 0, dict(d, "(1,)"), {0xff})).dtype, DType::I8);
  EXPECT_EQ(readOk(npyImage(1, 0, dict("|u1", "()"), {7})).dtype, DType::U8);
  EXPECT_EQ(readOk(npyImage(1, 0, dict("|b1", "()"), {1})).dtype, DType::Bool);
  EXPECT_EQ(readOk(npyImage(1, 0, dict("<f2", "()"), {0, 0x3c})).dtype,
            DType::F16);
  EXPECT_EQ(readOk(npyImage(1, 0, dict("<i8", "(0,)"))).dtype, DType::I64);
}

TEST(NpyRead, MissingFile) {
  Array a;
  std::string error;
  std::string path = tempPath("does_not_exist.npy");
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_HAS(error, path);
  EXPECT_HAS(error, "cannot open");
}

TEST(NpyRead, ErrorNamesTheFile) {
  std::string path = tempPath("garbage.npy");
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("hello", f);
  std::fclose(f);
  Array a;
  std::string error;
  EXPECT_FALSE(readNpy(path, a, error));
  EXPECT_HAS(error, path);
  EXPECT_HAS(error, "bad magic");
  std::remove(path.c_str());
}

//===----------------------------------------------------------------------===//
// Malformed input
//===----------------------------------------------------------------------===//

TEST(NpyMalformed, Magic) {
  EXPECT_HAS(readError({}), "bad magic");
  EXPECT_HAS(readError({0x93, 'N', 'U', 'M'}), "bad magic");
  EXPECT_HAS(readError({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}), "bad magic");
  Array a;
  std::string error;
  EXPECT_FALSE(readNpyFromMemory(nullptr, 0, a, error, "null"));
  EXPECT_HAS(error, "null: ");
}

TEST(NpyMalformed, Version) {
  EXPECT_HAS(readError({0x93, 'N', 'U', 'M', 'P', 'Y', 1}), "truncated header");
  EXPECT_HAS(readError(npyImage(1, 1, dict("<f4", "()"), Bytes(4))),
             "unsupported .npy format version 1.1");
  EXPECT_HAS(readError(npyImage(4, 0, dict("<f4", "()"), Bytes(4))),
             "version 4.0");
  EXPECT_HAS(readError(npyImage(0, 0, dict("<f4", "()"), Bytes(4))),
             "version 0.0");
}

TEST(NpyMalformed, TruncatedHeaderLength) {
  EXPECT_HAS(readError({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 5}),
             "truncated header");
  EXPECT_HAS(readError({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 5, 0, 0}),
             "truncated header");
}

TEST(NpyMalformed, HeaderLengthPastEnd) {
  Bytes image = npyImage(1, 0, dict("<f4", "()"));
  image.resize(image.size() - 3);
  EXPECT_HAS(readError(image), "runs past the end");
  // A 32-bit length near 4 GiB must not wrap an offset computation.
  Bytes big = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff,
               '{'};
  EXPECT_HAS(readError(big), "runs past the end");
}

TEST(NpyMalformed, DictSyntax) {
  struct Case {
    const char *header;
    const char *message;
  } cases[] = {
      {"", "expected '{'"},
      {"'descr': '<f4'}", "expected '{'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': ()}", "expected ':'"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': ()}",
       "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), ,}",
       "expected a quoted string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()", "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x",
       "unexpected characters after"},
      {"{descr: '<f4', 'fortran_order': False, 'shape': ()}",
       "expected a quoted string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}",
       "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
       "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, 'fortran_order': False, "
       "'shape': ()}",
       "duplicate key 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'shape': ()}",
       "duplicate key 'shape'"},
      {"{'fortran_order': False, 'shape': ()}", "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': ()}", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': ()}",
       "True or False"},
      {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': ()}",
       "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 3}",
       "shape must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [3]}",
       "shape must be a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}",
       "trailing comma"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,,)}",
       "expected an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}",
       "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}",
       "expected an integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,", "expected an integer"},
      {"{'descr': '<\\x66\\x34', 'fortran_order': False, 'shape': ()}",
       "escape sequences"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}",
       "structured dtypes"},
      {"{'descr': '<f4", "unterminated string"},
  };
  for (const Case &c : cases) {
    std::string error = readError(npyImage(1, 0, c.header, Bytes(4)));
    EXPECT_HAS(error, c.message);
    EXPECT_HAS(error, "malformed header");
  }
}

TEST(NpyMalformed, DTypes) {
  EXPECT_HAS(readError(npyImage(1, 0, dict("<c8", "()"), Bytes(8))),
             "unsupported dtype '<c8'");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<U3", "()"), Bytes(12))),
             "unsupported dtype '<U3'");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<u4", "()"), Bytes(4))),
             "unsupported dtype '<u4'");
  EXPECT_HAS(readError(npyImage(1, 0, dict("float32", "()"), Bytes(4))),
             "unsupported dtype 'float32'");
  EXPECT_HAS(readError(npyImage(1, 0, dict("", "()"), Bytes(4))),
             "unsupported dtype ''");
  EXPECT_HAS(readError(npyImage(1, 0, dict(">f4", "()"), Bytes(4))),
             "big-endian dtype '>f4'");
  EXPECT_HAS(readError(npyImage(1, 0, dict(">i8", "()"), Bytes(8))),
             "big-endian");
  EXPECT_HAS(readError(npyImage(1, 0, dict("|f4", "()"), Bytes(4))),
             "byte order");
}

TEST(NpyMalformed, FortranOrder) {
  EXPECT_HAS(
      readError(npyImage(1, 0, dict("<f4", "(2, 2)", "True"), Bytes(16))),
      "fortran_order is True");
}

TEST(NpyMalformed, Shapes) {
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f4", "(-1,)"))),
             "negative dimension -1");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f4", "(2, -3)"))),
             "negative dimension -3");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f4", "(99999999999999999999,)"))),
             "too large");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f4", "(9223372036854775808,)"))),
             "too large");
  // Element count overflows int64.
  EXPECT_HAS(readError(npyImage(
                 1, 0, dict("<f4", "(4294967296, 4294967296)"))),
             "too many elements");
  // Element count fits, byte count does not.
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f8", "(4611686018427387904,)"))),
             "too many elements");
  // Rejected even with a 0 dimension, so that strides always fit in int64.
  EXPECT_HAS(
      readError(npyImage(1, 0,
                         dict("|i1", "(4294967296, 4294967296, 0, 2)"), {})),
      "too many elements");
  EXPECT_HAS(readError(npyImage(
                 1, 0, dict("|i1", "(0, 1099511627776, 1099511627776)"))),
             "too many elements");
  Array empty = readOk(npyImage(1, 0, dict("|i1", "(0, 1099511627776)")));
  EXPECT_EQ(empty.numElements(), 0);
  EXPECT_TRUE(empty.data.empty());
}

TEST(NpyMalformed, DataSize) {
  std::string error =
      readError(npyImage(1, 0, dict("<f4", "(2, 3)"), Bytes(23)));
  EXPECT_HAS(error, "data is truncated");
  EXPECT_HAS(error, "(2, 3)");
  EXPECT_HAS(error, "needs 24 bytes, found 23");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<f4", "(2, 3)"), Bytes(25))),
             "trailing bytes");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<i8", "()"), Bytes(4))),
             "data is truncated");
  EXPECT_HAS(readError(npyImage(1, 0, dict("<i8", "(0,)"), Bytes(1))),
             "trailing bytes");
}

// Every prefix of a valid image is rejected cleanly, and so is every single
// byte corruption in the header (a cheap stand-in for the fuzzer).
TEST(NpyMalformed, PrefixesAndCorruptions) {
  Array a = makeArray(DType::F32, {2, 3});
  Bytes image;
  std::string error;
  ASSERT_TRUE(writeNpyToMemory(a, image, error));
  for (size_t n = 0; n < image.size(); ++n) {
    Bytes prefix(image.begin(), image.begin() + n);
    Array out;
    EXPECT_FALSE(readNpyFromMemory(prefix.data(), prefix.size(), out, error));
    EXPECT_FALSE(error.empty());
  }
  for (size_t i = 0; i < 64; ++i) {
    for (int v : {0, 0x20, int('('), int(')'), int(','), int('\''), 0x7f, 0xff}) {
      Bytes c = image;
      c[i] = static_cast<uint8_t>(v);
      Array out;
      error.clear();
      if (!readNpyFromMemory(c.data(), c.size(), out, error))
        EXPECT_FALSE(error.empty());
      else
        EXPECT_EQ(out.data.size(),
                  static_cast<size_t>(out.numElements()) *
                      dtypeSize(out.dtype));
    }
  }
}

TEST(NpyWrite, InconsistentArrays) {
  Array a;
  a.dtype = DType::F32;
  a.shape = {2, 3};
  a.data.resize(20);
  Bytes image;
  std::string error;
  EXPECT_FALSE(writeNpyToMemory(a, image, error));
  EXPECT_HAS(error, "needs 24 bytes");
  a.shape = {-2, 3};
  EXPECT_FALSE(writeNpyToMemory(a, image, error));
  EXPECT_HAS(error, "invalid shape");
  EXPECT_EQ(a.numElements(), -1);
  a.shape = {INT64_MAX, 2};
  EXPECT_EQ(a.numElements(), -1);
  std::string path = tempPath("no_such_dir/x.npy");
  a.shape = {5};
  EXPECT_FALSE(writeNpy(path, a, error));
  EXPECT_HAS(error, path);
}

//===----------------------------------------------------------------------===//
// Small floats
//===----------------------------------------------------------------------===//

TEST(F16, KnownValues) {
  EXPECT_EQ(doubleToF16(0.0), 0x0000);
  EXPECT_EQ(doubleToF16(-0.0), 0x8000);
  EXPECT_EQ(doubleToF16(1.0), 0x3c00);
  EXPECT_EQ(doubleToF16(-2.0), 0xc000);
  EXPECT_EQ(doubleToF16(65504.0), 0x7bff);
  EXPECT_EQ(doubleToF16(0.333251953125), 0x3555);
  // Ties go to the even significand.
  EXPECT_EQ(doubleToF16(1.0 + std::ldexp(1, -11)), 0x3c00);
  EXPECT_EQ(doubleToF16(1.0 + 3 * std::ldexp(1, -11)), 0x3c02);
  EXPECT_EQ(doubleToF16(1.0 + std::ldexp(1, -11) + std::ldexp(1, -40)), 0x3c01);
  // Overflow: 65520 is the tie between 65504 and 2^16, so it rounds to Inf.
  EXPECT_EQ(doubleToF16(65519.99), 0x7bff);
  EXPECT_EQ(doubleToF16(65520.0), 0x7c00);
  EXPECT_EQ(doubleToF16(-1e10), 0xfc00);
  EXPECT_EQ(doubleToF16(std::numeric_limits<double>::infinity()), 0x7c00);
  EXPECT_EQ(doubleToF16(-std::numeric_limits<double>::infinity()), 0xfc00);
  EXPECT_EQ(doubleToF16(std::nan("")), 0x7e00);
  EXPECT_EQ(doubleToF16(-std::nan("")), 0xfe00);
  // Subnormals.
  EXPECT_EQ(doubleToF16(std::ldexp(1, -24)), 0x0001);
  EXPECT_EQ(doubleToF16(std::ldexp(1, -25)), 0x0000); // tie to even zero
  EXPECT_EQ(doubleToF16(std::ldexp(1.0000001, -25)), 0x0001);
  EXPECT_EQ(doubleToF16(std::ldexp(3, -25)), 0x0002); // tie to even 2
  EXPECT_EQ(doubleToF16(std::ldexp(1023, -24)), 0x03ff);
  EXPECT_EQ(doubleToF16(std::ldexp(1023.5, -24)), 0x0400); // up to normal
  EXPECT_EQ(doubleToF16(std::ldexp(1, -14)), 0x0400);
  EXPECT_EQ(doubleToF16(std::numeric_limits<double>::denorm_min()), 0x0000);
  EXPECT_EQ(doubleToF16(-std::numeric_limits<double>::denorm_min()), 0x8000);
  EXPECT_EQ(doubleToF16(std::numeric_limits<double>::max()), 0x7c00);

  EXPECT_EQ(f16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16ToFloat(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(f16ToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(f16ToFloat(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16ToFloat(0x7c01)));
  EXPECT_TRUE(std::signbit(f16ToFloat(0x8000)));
}

TEST(F16, EveryValueRoundTrips) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = f16ToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) {
      EXPECT_EQ(doubleToF16(f) & 0x7fff, 0x7e00);
      continue;
    }
    EXPECT_EQ(doubleToF16(f), b) << std::hex << b;
    // Midpoints between neighbours tie to the even one.
    if ((b & 0x7fff) < 0x7bff) {
      float g = f16ToFloat(static_cast<uint16_t>(b + 1));
      double mid = (static_cast<double>(f) + g) / 2;
      uint16_t even = (b & 1) ? static_cast<uint16_t>(b + 1) : b;
      EXPECT_EQ(doubleToF16(mid), even) << std::hex << b;
    }
  }
}

#ifdef __FLT16_MAX__
// GCC's _Float16 conversions round directly from double to half in software.
TEST(F16, AgreesWithCompilerFloat16) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    double d = bitsToDouble(rng());
    int e = static_cast<int>(rng() % 50) - 30;
    d = std::ldexp(std::fmod(d, 2.0), e);
    if (std::isnan(d))
      continue;
    _Float16 h = static_cast<_Float16>(d);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(doubleToF16(d), expected) << d;
  }
}
#endif

TEST(BF16, KnownValues) {
  EXPECT_EQ(doubleToBF16(1.0), 0x3f80);
  EXPECT_EQ(doubleToBF16(-1.0), 0xbf80);
  EXPECT_EQ(doubleToBF16(-0.0), 0x8000);
  EXPECT_EQ(doubleToBF16(1.0 + std::ldexp(1, -8)), 0x3f80); // tie to even
  EXPECT_EQ(doubleToBF16(1.0 + 3 * std::ldexp(1, -8)), 0x3f82);
  EXPECT_EQ(doubleToBF16(3.140625), 0x4049);
  // float64 rounds once: via float32 this would tie and go to 0x3f80.
  EXPECT_EQ(doubleToBF16(1.0 + std::ldexp(1, -8) + std::ldexp(1, -30)),
            0x3f81);
  EXPECT_EQ(doubleToBF16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(doubleToBF16(bf16ToFloat(0x7f7f)), 0x7f7f);
  EXPECT_EQ(doubleToBF16(std::numeric_limits<double>::infinity()), 0x7f80);
  EXPECT_EQ(doubleToBF16(-std::numeric_limits<double>::infinity()), 0xff80);
  EXPECT_EQ(doubleToBF16(std::nan("")), 0x7fc0);
  EXPECT_EQ(doubleToBF16(std::ldexp(1, -133)), 0x0001); // min subnormal
  EXPECT_EQ(doubleToBF16(std::ldexp(1, -134)), 0x0000); // tie to zero
  EXPECT_EQ(doubleToBF16(std::ldexp(3, -134)), 0x0002);
  EXPECT_EQ(doubleToBF16(std::numeric_limits<float>::min()), 0x0080);
  EXPECT_EQ(bf16ToFloat(0x0001), std::ldexp(1.0f, -133));
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
  EXPECT_TRUE(std::isnan(bf16ToFloat(0xffc1)));
}

TEST(BF16, EveryValueRoundTrips) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16ToFloat(static_cast<uint16_t>(b));
    EXPECT_EQ(floatBits(f) & 0xffff, 0u);
    if (std::isnan(f))
      continue;
    EXPECT_EQ(floatBits(f) >> 16, b);
    EXPECT_EQ(doubleToBF16(f), b) << std::hex << b;
  }
}

// The well-known bit trick for float32 -> bf16 with ties to even, as an
// independent check over random float32 values.
TEST(BF16, AgreesWithBitTrick) {
  std::mt19937 rng(2);
  for (int i = 0; i < 500000; ++i) {
    uint32_t u = rng();
    float f = bitsToFloat(u);
    if (std::isnan(f))
      continue;
    uint32_t expected = (u + 0x7fff + ((u >> 16) & 1)) >> 16;
    ASSERT_EQ(doubleToBF16(f), expected) << std::hex << u;
  }
}

TEST(F8E4M3FN, KnownValues) {
  EXPECT_EQ(doubleToF8E4M3FN(0.0), 0x00);
  EXPECT_EQ(doubleToF8E4M3FN(-0.0), 0x80);
  EXPECT_EQ(doubleToF8E4M3FN(1.0), 0x38);
  EXPECT_EQ(doubleToF8E4M3FN(-1.5), 0xbc);
  EXPECT_EQ(doubleToF8E4M3FN(448.0), 0x7e);
  EXPECT_EQ(doubleToF8E4M3FN(-448.0), 0xfe);
  // Ties to even: 1 + 1/16 lies between 1.0 (0x38) and 1.125 (0x39).
  EXPECT_EQ(doubleToF8E4M3FN(1.0625), 0x38);
  EXPECT_EQ(doubleToF8E4M3FN(1.1875), 0x3a);
  EXPECT_EQ(doubleToF8E4M3FN(1.0626), 0x39);
  // Beyond 448: saturating by default; 464 is the tie between 448 (even) and
  // the NaN slot 480, so it stays 448 in both modes.
  EXPECT_EQ(doubleToF8E4M3FN(464.0), 0x7e);
  EXPECT_EQ(doubleToF8E4M3FN(464.0, false), 0x7e);
  EXPECT_EQ(doubleToF8E4M3FN(465.0), 0x7e);
  EXPECT_EQ(doubleToF8E4M3FN(465.0, false), 0x7f);
  EXPECT_EQ(doubleToF8E4M3FN(-1e6), 0xfe);
  EXPECT_EQ(doubleToF8E4M3FN(-1e6, false), 0xff);
  EXPECT_EQ(doubleToF8E4M3FN(std::numeric_limits<double>::infinity()), 0x7e);
  EXPECT_EQ(doubleToF8E4M3FN(-std::numeric_limits<double>::infinity()), 0xfe);
  EXPECT_EQ(doubleToF8E4M3FN(std::numeric_limits<double>::infinity(), false),
            0x7f);
  EXPECT_EQ(doubleToF8E4M3FN(std::nan("")), 0x7f);
  EXPECT_EQ(doubleToF8E4M3FN(-std::nan("")), 0xff);
  EXPECT_EQ(doubleToF8E4M3FN(std::nan(""), false), 0x7f);
  // Subnormals: quantum 2^-9.
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(1, -9)), 0x01);
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(1, -10)), 0x00);
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(3, -10)), 0x02);
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(7, -9)), 0x07);
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(7.5, -9)), 0x08); // up to 2^-6
  EXPECT_EQ(doubleToF8E4M3FN(std::ldexp(1, -6)), 0x08);
  EXPECT_EQ(doubleToF8E4M3FN(1e-30), 0x00);

  EXPECT_EQ(f8E4M3FNToFloat(0x7e), 448.0f);
  EXPECT_EQ(f8E4M3FNToFloat(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(f8E4M3FNToFloat(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(f8E4M3FNToFloat(0x78), 256.0f); // exponent 15 is a number here
  EXPECT_TRUE(std::isnan(f8E4M3FNToFloat(0x7f)));
  EXPECT_TRUE(std::isnan(f8E4M3FNToFloat(0xff)));
}

TEST(F8E4M3FN, EveryValue) {
  int nans = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    float f = f8E4M3FNToFloat(static_cast<uint8_t>(b));
    if (std::isnan(f)) {
      ++nans;
      continue;
    }
    EXPECT_FALSE(std::isinf(f));
    EXPECT_LE(std::fabs(f), 448.0f);
    EXPECT_EQ(doubleToF8E4M3FN(f), b) << b;
    EXPECT_EQ(doubleToF8E4M3FN(f, false), b) << b;
    // Halfway to the next larger magnitude ties to the even code.
    if ((b & 0x7f) < 0x7e) {
      float g = f8E4M3FNToFloat(static_cast<uint8_t>(b + 1));
      double mid = (static_cast<double>(f) + g) / 2;
      EXPECT_EQ(doubleToF8E4M3FN(mid), (b & 1) ? b + 1 : b) << b;
    }
  }
  EXPECT_EQ(nans, 2);
}

//===----------------------------------------------------------------------===//
// Array <-> buffer conversion rules
//===----------------------------------------------------------------------===//

template <typename T>
Array arrayOf(DType dtype, std::vector<int64_t> shape,
              const std::vector<T> &values) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.data = bytesOf(values);
  return a;
}

TEST(Convert, FloatArraysFeedEveryFloatKind) {
  Array f32 = arrayOf<float>(DType::F32, {3}, {1.0f, -2.5f, 1.00390625f});
  std::vector<uint8_t> buf;
  std::string error;

  ASSERT_TRUE(arrayToBuffer(f32, ElementKind::F32, buf, error)) << error;
  EXPECT_EQ(buf, f32.data);

  ASSERT_TRUE(arrayToBuffer(f32, ElementKind::BF16, buf, error)) << error;
  // 1.00390625 = 1 + 2^-8 ties to even 1.0 in bf16.
  EXPECT_EQ(buf, bytesOf<uint16_t>({0x3f80, 0xc020, 0x3f80}));

  ASSERT_TRUE(arrayToBuffer(f32, ElementKind::F16, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<uint16_t>({0x3c00, 0xc100, 0x3c04}));

  ASSERT_TRUE(arrayToBuffer(f32, ElementKind::F64, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<double>({1.0, -2.5, 1.00390625}));

  ASSERT_TRUE(arrayToBuffer(f32, ElementKind::F8E4M3FN, buf, error)) << error;
  EXPECT_EQ(buf, (Bytes{0x38, 0xc2, 0x38}));

  Array big = arrayOf<float>(DType::F32, {2}, {1000.0f, -1e30f});
  ASSERT_TRUE(arrayToBuffer(big, ElementKind::F8E4M3FN, buf, error));
  EXPECT_EQ(buf, (Bytes{0x7e, 0xfe})); // saturates

  Array f16 = arrayOf<uint16_t>(DType::F16, {2}, {0x3c00, 0x0001});
  ASSERT_TRUE(arrayToBuffer(f16, ElementKind::F32, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<float>({1.0f, std::ldexp(1.0f, -24)}));
  ASSERT_TRUE(arrayToBuffer(f16, ElementKind::BF16, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<uint16_t>({0x3f80, 0x3380}));

  // float64 arrays round once, directly to the target.
  double d = 1.0 + std::ldexp(1, -8) + std::ldexp(1, -30);
  Array f64 = arrayOf<double>(DType::F64, {}, {d});
  ASSERT_TRUE(arrayToBuffer(f64, ElementKind::BF16, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<uint16_t>({0x3f81}));
  ASSERT_TRUE(arrayToBuffer(f64, ElementKind::F32, buf, error)) << error;
  EXPECT_EQ(buf, bytesOf<float>({static_cast<float>(d)}));

  // float64 -> float32 at the edges of the float32 range.
  const float fmax = std::numeric_limits<float>::max();
  const float inf = std::numeric_limits<float>::infinity();
  Array edges = arrayOf<double>(
      DType::F64, {7},
      // FLT_MAX + half an ulp is a tie; FLT_MAX's odd significand sends it up.
      {1e300, -1e300, std::nextafter(3.4028235677973366e38, 0.0),
       3.4028235677973366e38,
       std::ldexp(1.0, -149), std::ldexp(1.0, -150), std::nan("")});
  ASSERT_TRUE(arrayToBuffer(edges, ElementKind::F32, buf, error)) << error;
  std::vector<float> f(7);
  std::memcpy(f.data(), buf.data(), 28);
  EXPECT_EQ(f[0], inf);
  EXPECT_EQ(f[1], -inf);
  EXPECT_EQ(f[2], fmax);
  EXPECT_EQ(f[3], inf);
  EXPECT_EQ(f[4], std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(f[5], 0.0f); // tie to even zero
  EXPECT_TRUE(std::isnan(f[6]));
  // Random float64 values round as the hardware conversion does.
  std::mt19937_64 rng(3);
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    double x = std::ldexp(bitsToDouble(rng() >> 12 | 0x3ff0000000000000ull),
                          static_cast<int>(rng() % 300) - 150);
    values.push_back(i % 2 ? -x : x);
  }
  Array many = arrayOf<double>(DType::F64, {20000}, values);
  ASSERT_TRUE(arrayToBuffer(many, ElementKind::F32, buf, error)) << error;
  for (size_t i = 0; i < values.size(); ++i) {
    float got;
    std::memcpy(&got, buf.data() + 4 * i, 4);
    ASSERT_EQ(got, static_cast<float>(values[i])) << values[i];
  }
}

TEST(Convert, IntegerKindsTakeExactlyTheirDType) {
  std::vector<uint8_t> buf;
  std::string error;
  Array i8 = arrayOf<int8_t>(DType::I8, {2, 2}, {1, -2, 127, -128});
  Array i32 = arrayOf<int32_t>(DType::I32, {2}, {70000, -1});
  Array i64 = arrayOf<int64_t>(DType::I64, {1}, {int64_t(1) << 40});
  Array b = arrayOf<uint8_t>(DType::Bool, {3}, {0, 1, 5});
  Array f32 = arrayOf<float>(DType::F32, {2}, {1.0f, 2.0f});
  Array u8 = arrayOf<uint8_t>(DType::U8, {2}, {1, 2});

  ASSERT_TRUE(arrayToBuffer(i8, ElementKind::I8, buf, error));
  EXPECT_EQ(buf, i8.data);
  ASSERT_TRUE(arrayToBuffer(i32, ElementKind::I32, buf, error));
  EXPECT_EQ(buf, i32.data);
  ASSERT_TRUE(arrayToBuffer(i64, ElementKind::I64, buf, error));
  EXPECT_EQ(buf, i64.data);
  ASSERT_TRUE(arrayToBuffer(b, ElementKind::I1, buf, error));
  EXPECT_EQ(buf, (Bytes{0, 1, 1}));

  struct Bad {
    const Array &array;
    ElementKind kind;
    const char *message;
  } bad[] = {
      {i32, ElementKind::I8,
       "an argument of type i8 needs an int8 array, got dtype int32"},
      {i8, ElementKind::I32, "needs an int32 array, got dtype int8"},
      {i32, ElementKind::I64, "needs an int64 array"},
      {i8, ElementKind::I1, "needs a bool array"},
      {u8, ElementKind::I8, "got dtype uint8"},
      {f32, ElementKind::I32, "got dtype float32"},
      {b, ElementKind::I8, "got dtype bool"},
      {i32, ElementKind::F32, "needs a float array"},
      {i8, ElementKind::BF16, "needs a float array"},
      {b, ElementKind::F16, "needs a float array"},
      {f32, ElementKind::I4, "needs an int8 array of its logical shape"},
      {i32, ElementKind::I4, "int8"},
  };
  for (const Bad &c : bad) {
    EXPECT_FALSE(arrayToBuffer(c.array, c.kind, buf, error, "arg.npy"));
    EXPECT_HAS(error, "arg.npy: ");
    EXPECT_HAS(error, c.message);
  }
}

TEST(Convert, I4Packing) {
  std::vector<uint8_t> buf;
  std::string error;
  Array w = arrayOf<int8_t>(DType::I8, {2, 4}, {1, -1, 7, -8, 0, 3, -3, 2});
  ASSERT_TRUE(arrayToBuffer(w, ElementKind::I4, buf, error)) << error;
  // Even index in the low nibble.
  EXPECT_EQ(buf, (Bytes{0xf1, 0x87, 0x30, 0x2d}));

  Array back;
  ASSERT_TRUE(bufferToArray(buf.data(), buf.size(), ElementKind::I4, w.shape,
                            back, error))
      << error;
  EXPECT_EQ(back.dtype, DType::I8);
  EXPECT_EQ(back.shape, w.shape);
  EXPECT_EQ(back.data, w.data);

  // Every nibble value survives the round trip.
  std::vector<int8_t> all;
  for (int v = -8; v <= 7; ++v)
    all.push_back(static_cast<int8_t>(v));
  Array a = arrayOf<int8_t>(DType::I8, {16}, all);
  ASSERT_TRUE(arrayToBuffer(a, ElementKind::I4, buf, error));
  ASSERT_EQ(buf.size(), 8u);
  ASSERT_TRUE(bufferToArray(buf.data(), buf.size(), ElementKind::I4, a.shape,
                            back, error));
  EXPECT_EQ(back.data, a.data);

  Array out8 = arrayOf<int8_t>(DType::I8, {2}, {3, 8});
  EXPECT_FALSE(arrayToBuffer(out8, ElementKind::I4, buf, error, "w.npy"));
  EXPECT_HAS(error, "w.npy: i4 values must lie in [-8, 7]; element 1 is 8");
  Array outNeg = arrayOf<int8_t>(DType::I8, {2}, {-9, 0});
  EXPECT_FALSE(arrayToBuffer(outNeg, ElementKind::I4, buf, error));
  EXPECT_HAS(error, "element 0 is -9");

  Array odd = arrayOf<int8_t>(DType::I8, {2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_FALSE(arrayToBuffer(odd, ElementKind::I4, buf, error, "w.npy"));
  EXPECT_HAS(error, "w.npy: ");
  EXPECT_HAS(error, "must be even");
  Array scalar = arrayOf<int8_t>(DType::I8, {}, {1});
  EXPECT_FALSE(arrayToBuffer(scalar, ElementKind::I4, buf, error));
  EXPECT_HAS(error, "must be even");
  Array empty = arrayOf<int8_t>(DType::I8, {3, 0}, {});
  EXPECT_TRUE(arrayToBuffer(empty, ElementKind::I4, buf, error)) << error;
  EXPECT_TRUE(buf.empty());
}

TEST(Convert, ResultsToArrays) {
  Array out;
  std::string error;

  Bytes bf = bytesOf<uint16_t>({0x3f80, 0xc049, 0x7f80});
  ASSERT_TRUE(bufferToArray(bf.data(), bf.size(), ElementKind::BF16, {3}, out,
                            error));
  EXPECT_EQ(out.dtype, DType::F32);
  EXPECT_EQ(out.shape, std::vector<int64_t>{3});
  EXPECT_EQ(valuesOf<float>(out),
            (std::vector<float>{1.0f, -3.140625f,
                                std::numeric_limits<float>::infinity()}));

  Bytes h = bytesOf<uint16_t>({0x3c00, 0x0001});
  ASSERT_TRUE(
      bufferToArray(h.data(), h.size(), ElementKind::F16, {1, 2}, out, error));
  EXPECT_EQ(out.dtype, DType::F32);
  EXPECT_EQ(valuesOf<float>(out),
            (std::vector<float>{1.0f, std::ldexp(1.0f, -24)}));

  Bytes f8 = {0x38, 0xfe, 0x01};
  ASSERT_TRUE(bufferToArray(f8.data(), f8.size(), ElementKind::F8E4M3FN, {3},
                            out, error));
  EXPECT_EQ(out.dtype, DType::F32);
  EXPECT_EQ(valuesOf<float>(out),
            (std::vector<float>{1.0f, -448.0f, std::ldexp(1.0f, -9)}));

  Bytes f32 = bytesOf<float>({0.5f});
  ASSERT_TRUE(
      bufferToArray(f32.data(), f32.size(), ElementKind::F32, {}, out, error));
  EXPECT_EQ(out.dtype, DType::F32);
  EXPECT_TRUE(out.shape.empty());
  EXPECT_EQ(out.data, f32);

  Bytes f64 = bytesOf<double>({0.1});
  ASSERT_TRUE(
      bufferToArray(f64.data(), f64.size(), ElementKind::F64, {1}, out, error));
  EXPECT_EQ(out.dtype, DType::F64);
  EXPECT_EQ(out.data, f64);

  Bytes i32 = bytesOf<int32_t>({-5, 6});
  ASSERT_TRUE(
      bufferToArray(i32.data(), i32.size(), ElementKind::I32, {2}, out, error));
  EXPECT_EQ(out.dtype, DType::I32);
  EXPECT_EQ(out.data, i32);

  Bytes i8 = {0x80, 0x7f};
  ASSERT_TRUE(
      bufferToArray(i8.data(), i8.size(), ElementKind::I8, {2}, out, error));
  EXPECT_EQ(out.dtype, DType::I8);
  EXPECT_EQ(out.data, i8);

  Bytes i64 = bytesOf<int64_t>({-1});
  ASSERT_TRUE(
      bufferToArray(i64.data(), i64.size(), ElementKind::I64, {1}, out, error));
  EXPECT_EQ(out.dtype, DType::I64);

  Bytes i1 = {0, 1, 1, 0};
  ASSERT_TRUE(
      bufferToArray(i1.data(), i1.size(), ElementKind::I1, {2, 2}, out, error));
  EXPECT_EQ(out.dtype, DType::Bool);
  EXPECT_EQ(out.data, i1);

  // The arrays made here write and read back as NumPy would see them.
  Bytes image;
  ASSERT_TRUE(writeNpyToMemory(out, image, error));
  Array again = readOk(image);
  EXPECT_EQ(again.dtype, DType::Bool);
  EXPECT_EQ(again.shape, (std::vector<int64_t>{2, 2}));
}

TEST(Convert, ResultBufferErrors) {
  Array out;
  std::string error;
  Bytes b(5);
  EXPECT_FALSE(
      bufferToArray(b.data(), b.size(), ElementKind::F32, {2}, out, error, "r0"));
  EXPECT_HAS(error, "r0: a buffer of type f32 and shape (2,) needs 8 bytes, got 5");
  EXPECT_FALSE(
      bufferToArray(b.data(), 1, ElementKind::I4, {1, 3}, out, error, "r1"));
  EXPECT_HAS(error, "r1: ");
  EXPECT_HAS(error, "must be even");
  EXPECT_FALSE(
      bufferToArray(b.data(), 1, ElementKind::I8, {-1}, out, error, "r2"));
  EXPECT_HAS(error, "invalid shape");
  EXPECT_FALSE(bufferToArray(nullptr, 4, ElementKind::F32, {1}, out, error));
  EXPECT_HAS(error, "null");
  EXPECT_TRUE(bufferToArray(nullptr, 0, ElementKind::F32, {0, 3}, out, error))
      << error;
}

TEST(Convert, InconsistentInputArray) {
  Array a;
  a.dtype = DType::F32;
  a.shape = {4};
  a.data.resize(3);
  std::vector<uint8_t> buf;
  std::string error;
  EXPECT_FALSE(arrayToBuffer(a, ElementKind::F32, buf, error, "x.npy"));
  EXPECT_HAS(error, "x.npy: ");
  EXPECT_HAS(error, "needs 16 bytes");
}

TEST(Convert, StorageSizeAndShapeCheck) {
  int64_t bytes = 0;
  std::string error;
  EXPECT_TRUE(storageSize(ElementKind::BF16, {3, 5}, bytes, error));
  EXPECT_EQ(bytes, 30);
  EXPECT_TRUE(storageSize(ElementKind::I4, {3, 6}, bytes, error));
  EXPECT_EQ(bytes, 9);
  EXPECT_TRUE(storageSize(ElementKind::I1, {}, bytes, error));
  EXPECT_EQ(bytes, 1);
  EXPECT_TRUE(storageSize(ElementKind::F8E4M3FN, {7}, bytes, error));
  EXPECT_EQ(bytes, 7);
  EXPECT_FALSE(storageSize(ElementKind::I4, {4, 5}, bytes, error));
  EXPECT_FALSE(
      storageSize(ElementKind::F64, {int64_t(1) << 61, 2}, bytes, error));
  EXPECT_FALSE(storageSize(ElementKind::F64, {int64_t(1) << 61}, bytes, error));
  EXPECT_HAS(error, "too many elements");

  Array a = makeArray(DType::F32, {2, 3});
  EXPECT_TRUE(checkShape(a, {2, 3}, error));
  EXPECT_TRUE(checkShape(a, {-1, 3}, error));
  EXPECT_FALSE(checkShape(a, {3, -1}, error, "q.npy"));
  EXPECT_EQ(error, "q.npy: expected shape (3, ?), got (2, 3)");
  EXPECT_FALSE(checkShape(a, {6}, error, "q.npy"));
  EXPECT_EQ(error, "q.npy: expected shape (6,), got (2, 3)");
  EXPECT_EQ(std::string(elementKindName(ElementKind::F8E4M3FN)), "f8E4M3FN");
  EXPECT_TRUE(isFloatKind(ElementKind::BF16));
  EXPECT_FALSE(isFloatKind(ElementKind::I4));
}

} // namespace
