// GoogleTest tests of the Loom runtime: signatures, module loading, buffers, calls, the no-CUDA path.
//
// Modules come from two places (see CMakeLists.txt): hand-written C libraries
// with the ABI (TestModule.c, in good and broken variants) and a module that
// loom-compile builds from Inputs/block.mlir.

#include "loom/Runtime/DeviceAPI.h"
#include "loom/Runtime/Runtime.h"
#include "TestUtil.h"

#include "ModuleLoader.h"
#include "Signature.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace loom::runtime;

namespace {

using namespace loom::testing;

/// A buffer holding `values`, on the CPU.
loomBuffer *hostBuffer(loomDType dtype, std::vector<int64_t> shape,
                       const void *values, size_t bytes) {
  return bufferWith(LOOM_DEVICE_CPU, dtype, std::move(shape), values, bytes);
}

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

TEST(Signature, ParsesEntries) {
  ModuleSignature sig;
  std::string error;
  ASSERT_TRUE(parseSignature(
      "abi 3\n"
      "target cpu\n"
      "entry llama_block(tensor<128x512xbf16>, tensor<512x512xi4>) -> "
      "(tensor<128x512xbf16>)\n"
      "entry dyn(tensor<?x8xf32>, tensor<f8E4M3FN>) -> (tensor<?xi1>, "
      "tensor<2x?xi64>)\n"
      "entry none() -> ()\n",
      sig, error))
      << error;
  EXPECT_EQ(sig.abi, 3);
  EXPECT_EQ(sig.target, "cpu");
  ASSERT_EQ(sig.entries.size(), 3u);
  const EntrySignature &llama = sig.entries[0];
  EXPECT_EQ(llama.name, "llama_block");
  ASSERT_EQ(llama.args.size(), 2u);
  EXPECT_EQ(llama.args[0].dtype, LOOM_DTYPE_BF16);
  EXPECT_EQ(llama.args[0].dims, (std::vector<int64_t>{128, 512}));
  EXPECT_EQ(llama.args[1].dtype, LOOM_DTYPE_I4);
  EXPECT_EQ(llama.results.size(), 1u);
  EXPECT_EQ(llama.text, "llama_block(tensor<128x512xbf16>, "
                        "tensor<512x512xi4>) -> (tensor<128x512xbf16>)");
  const EntrySignature &dyn = sig.entries[1];
  EXPECT_EQ(dyn.args[0].dims, (std::vector<int64_t>{LOOM_DYNAMIC, 8}));
  EXPECT_TRUE(dyn.args[1].dims.empty());
  EXPECT_EQ(dyn.args[1].dtype, LOOM_DTYPE_F8E4M3FN);
  EXPECT_EQ(dyn.results[0].dtype, LOOM_DTYPE_I1);
  EXPECT_EQ(dyn.results[1].dtype, LOOM_DTYPE_I64);
  EXPECT_TRUE(sig.entries[2].args.empty());
  EXPECT_TRUE(sig.entries[2].results.empty());
}

TEST(Signature, TypesRoundTrip) {
  for (const char *text :
       {"tensor<4x?xbf16>", "tensor<f32>", "tensor<0xi8>", "tensor<?xi4>",
        "tensor<1x2x3x4xf16>", "tensor<8xf64>", "tensor<2xi32>"}) {
    TensorType type;
    std::string error;
    ASSERT_TRUE(parseTensorType(text, type, error)) << text << ": " << error;
    EXPECT_EQ(formatTensorType(type), text);
  }
}

struct MalformedCase {
  const char *text;
  const char *error; // a substring of the expected message
};

TEST(Signature, RejectsMalformed) {
  const MalformedCase cases[] = {
      {"", "empty signature"},
      {"target cpu\n", "line 1: expected 'abi 4' first"},
      {"abi 5\ntarget cpu\n", "line 1: unsupported ABI version '5'"},
      {"abi 2\ntarget cpu\n", "line 1: unsupported ABI version '2'"},
      {"abi 3\n", "no 'target' line"},
      {"abi 3\nentry f() -> ()\n", "line 2: 'entry' before the 'target'"},
      {"abi 3\ntarget cpu\ntarget cpu\n", "line 3: a second 'target' line"},
      {"abi 3\ntarget c-p-u\n", "malformed target"},
      {"abi 3\ntarget cpu\nentri f() -> ()\n", "line 3: unknown line"},
      {"abi 3\ntarget cpu\nentry 9f() -> ()\n", "expected an entry name"},
      {"abi 3\ntarget cpu\nentry f(tensor<4xf33>) -> ()\n",
       "unknown element type 'f33'"},
      {"abi 3\ntarget cpu\nentry f(tensor<4x>) -> ()\n",
       "expected an element type"},
      {"abi 3\ntarget cpu\nentry f(tensor<4f32>) -> ()\n", "expected 'x'"},
      {"abi 3\ntarget cpu\nentry f(tensor<4xf32) -> ()\n", "expected '>'"},
      {"abi 3\ntarget cpu\nentry f(memref<4xf32>) -> ()\n",
       "expected a tensor type"},
      {"abi 3\ntarget cpu\nentry f(tensor<4xf32>)\n", "expected '->'"},
      {"abi 3\ntarget cpu\nentry f() -> tensor<4xf32>\n", "expected '('"},
      {"abi 3\ntarget cpu\nentry f() -> () extra\n", "after the results"},
      {"abi 3\ntarget cpu\nentry f(tensor<4xf32> tensor<4xf32>) -> ()\n",
       "expected ',' or ')'"},
      {"abi 3\ntarget cpu\nentry f(tensor<3xi4>) -> ()\n",
       "even innermost dimension"},
      {"abi 3\ntarget cpu\nentry f(tensor<i4>) -> ()\n",
       "even innermost dimension"},
      {"abi 3\ntarget cpu\nentry f(tensor<99999999999999999999xf32>) -> ()\n",
       "dimension too large"},
      {"abi 3\ntarget cpu\nentry f(tensor<1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>)"
       " -> ()\n",
       "rank above 16"},
      {"abi 3\ntarget cpu\nentry f() -> ()\nentry f() -> ()\n",
       "line 4: a second entry named 'f'"},
  };
  for (const MalformedCase &c : cases) {
    ModuleSignature sig;
    std::string error;
    EXPECT_FALSE(parseSignature(c.text, sig, error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos)
        << "signature:\n"
        << c.text << "\nerror: " << error << "\nexpected: " << c.error;
  }
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST(Module, MissingFile) {
  EXPECT_EQ(loomModuleLoad("/nonexistent/dir/module.so", LOOM_DEVICE_CPU),
            nullptr);
  EXPECT_EQ(lastError(), "cannot open module '/nonexistent/dir/module.so': "
                         "No such file or directory");
  EXPECT_EQ(loomModuleLoad(nullptr, LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "no module path given");
  EXPECT_EQ(loomModuleLoad(LOOM_TEST_MODULE_DIR, LOOM_DEVICE_CPU), nullptr);
  EXPECT_NE(lastError().find("it is a directory"), std::string::npos);
}

TEST(Module, NotALibrary) {
  std::string path = ::testing::TempDir() + "/loom-not-a-library.so";
  std::ofstream(path) << "this is text, not ELF\n";
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_NE(lastError().find("cannot load module '" + path + "'"),
            std::string::npos)
      << lastError();
  std::remove(path.c_str());
}

TEST(Module, BrokenModules) {
  std::string path = modulePath("test_module_no_signature.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "'" + path +
                             "' is not a Loom module: it has no "
                             "loom_module_signature function");

  path = modulePath("test_module_malformed.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "malformed signature in module '" + path +
                             "': line 3: unknown element type 'f33'");

  path = modulePath("test_module_future_abi.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' was compiled for ABI version 5, but this "
                             "runtime reads versions 3 to 4 (recompile it "
                             "with a "
                             "matching loom-compile)");

  // A module of an older ABI (sealed like a current one, so that the
  // signature is what refuses it).
  path = modulePath("test_module_old_abi.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' was compiled for ABI version 2, but this "
                             "runtime reads versions 3 to 4 (recompile it "
                             "with a "
                             "matching loom-compile)");

  path = modulePath("test_module_missing_entry.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' lists entry 'ghost' in its signature but "
                             "lacks loom_entry_ghost");

  path = modulePath("test_module_unknown_target.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' was compiled for target 'gfx90a', which this "
                             "runtime cannot run (it runs cpu and CUDA sm_NN "
                             "targets)");

  path = modulePath("test_module_gpu_target.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' was compiled for target 'sm_90a', which runs "
                             "on cuda; it cannot run on cpu");
}

TEST(Module, ListsEntries) {
  loomModule *m = loomModuleLoad(modulePath("test_module_good.so").c_str(),
                                 LOOM_DEVICE_CPU);
  ASSERT_NE(m, nullptr) << lastError();
  EXPECT_STREQ(loomModuleTarget(m), "cpu");
  EXPECT_EQ(loomModuleDevice(m), LOOM_DEVICE_CPU);
  // A module without loom_module_input_hints (optional) has none.
  EXPECT_EQ(loomModuleInputHints(m), nullptr);
  ASSERT_EQ(loomModuleNumEntries(m), 6);
  const loomEntry *add = loomModuleGetEntry(m, 0);
  ASSERT_NE(add, nullptr);
  EXPECT_STREQ(loomEntryName(add), "add");
  EXPECT_EQ(loomEntryNumArgs(add), 2);
  EXPECT_EQ(loomEntryNumResults(add), 1);
  EXPECT_STREQ(loomEntrySignature(add),
               "add(tensor<?xf32>, tensor<?xf32>) -> (tensor<?xf32>)");
  loomTensorType type;
  ASSERT_EQ(loomEntryArgType(add, 1, &type), LOOM_SUCCESS);
  EXPECT_EQ(type.dtype, LOOM_DTYPE_F32);
  ASSERT_EQ(type.rank, 1);
  EXPECT_EQ(type.dims[0], LOOM_DYNAMIC);
  char text[8];
  EXPECT_EQ(loomFormatTensorType(&type, text, sizeof(text)),
            strlen("tensor<?xf32>"));
  EXPECT_STREQ(text, "tensor<"); // truncated, NUL-terminated
  EXPECT_EQ(loomEntryArgType(add, 2, &type), LOOM_FAILURE);
  EXPECT_EQ(loomModuleGetEntry(m, 6), nullptr);

  EXPECT_EQ(loomModuleLookupEntry(m, "transpose"), loomModuleGetEntry(m, 3));
  EXPECT_EQ(loomModuleLookupEntry(m, "nope"), nullptr);
  EXPECT_NE(lastError().find("no entry 'nope' in module"), std::string::npos);
  EXPECT_NE(lastError().find("entries: add, echo, twice, transpose, nibbles, "
                             "nothing"),
            std::string::npos)
      << lastError();
  loomModuleUnload(m);
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

TEST(Buffer, SizesAndCopies) {
  int64_t shape[] = {3, 4};
  size_t bytes = 0;
  ASSERT_EQ(loomStorageSize(LOOM_DTYPE_BF16, 2, shape, &bytes), LOOM_SUCCESS);
  EXPECT_EQ(bytes, 24u);
  ASSERT_EQ(loomStorageSize(LOOM_DTYPE_I4, 2, shape, &bytes), LOOM_SUCCESS);
  EXPECT_EQ(bytes, 6u); // packed two per byte
  ASSERT_EQ(loomStorageSize(LOOM_DTYPE_I1, 2, shape, &bytes), LOOM_SUCCESS);
  EXPECT_EQ(bytes, 12u);
  int64_t odd[] = {4, 3};
  EXPECT_EQ(loomStorageSize(LOOM_DTYPE_I4, 2, odd, &bytes), LOOM_FAILURE);
  EXPECT_NE(lastError().find("even innermost dimension"), std::string::npos);
  int64_t negative[] = {-2};
  EXPECT_EQ(loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, negative),
            nullptr);
  EXPECT_NE(lastError().find("negative dimension"), std::string::npos);

  loomBuffer *b = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, shape);
  ASSERT_NE(b, nullptr) << lastError();
  EXPECT_EQ(loomBufferSizeInBytes(b), 48u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(loomBufferData(b)) % 64, 0u);
  std::vector<float> zeros = floats(b);
  for (float v : zeros)
    EXPECT_EQ(v, 0.0f);
  std::vector<float> small(5);
  EXPECT_EQ(loomBufferCopyFromHost(b, small.data(), 20), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "copy of 20 bytes into a buffer of 48 bytes");
  loomBufferDestroy(b);
  loomBufferDestroy(nullptr);

  void *p = loomHostAlloc(0);
  EXPECT_NE(p, nullptr);
  loomHostFree(p);
}

// Found by loom-fuzz-module (fuzz/regressions/loom-fuzz-module/): an empty
// buffer whose other dimensions multiply past int64 passed the size check
// (0 elements) and loomEntryCall's contiguous strides overflowed.
TEST(Buffer, EmptyShapeWithOverflowingStridesIsRefused) {
  int64_t huge[] = {0, 2, 3, INT64_C(272057594037927936), 8};
  size_t bytes = 0;
  EXPECT_EQ(loomStorageSize(LOOM_DTYPE_F32, 5, huge, &bytes), LOOM_FAILURE);
  EXPECT_NE(lastError().find("strides overflow"), std::string::npos);
  EXPECT_EQ(loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 5, huge),
            nullptr);
  EXPECT_NE(lastError().find("strides overflow"), std::string::npos);
  // Empty buffers whose strides fit are fine, whatever their outer sizes.
  int64_t wide[] = {INT64_C(1) << 50, 0, INT64_C(1) << 40};
  ASSERT_EQ(loomStorageSize(LOOM_DTYPE_F32, 3, wide, &bytes), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(bytes, 0u);
  loomBuffer *b = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 3, wide);
  ASSERT_NE(b, nullptr) << lastError();
  loomBufferDestroy(b);
}

// A module whose one entry returns the descriptor in `badResult`, loaded
// through the loader's pure-data part (ModuleLoader.h), for the runtime's own
// checks of result descriptors.
int64_t badResult[3 + 2 * 2];
const char *badSignature() {
  return "abi 3\ntarget cpu\nentry bad() -> (tensor<?x?xf32>)\n";
}
const char *badEntry(void **args, int64_t) {
  void *memory = std::malloc(64);
  badResult[0] = badResult[1] = int64_t(reinterpret_cast<intptr_t>(memory));
  std::memcpy(args[0], badResult, sizeof(badResult));
  return nullptr;
}

// Offsets and strides whose byte counts overflow are a malformed result (the
// module's allocation freed), never an offset computed past 2^63.
TEST(Call, ResultDescriptorsThatOverflowAreRefused) {
  loomModule *m = openModule("bad.so", LOOM_DEVICE_CPU, [](const char *name) {
    std::string symbol = name;
    return symbol == "loom_module_signature"
               ? reinterpret_cast<void *>(&badSignature)
               : symbol == "loom_entry_bad" ? reinterpret_cast<void *>(&badEntry)
                                            : nullptr;
  });
  ASSERT_NE(m, nullptr) << lastError();
  const loomEntry *entry = loomModuleGetEntry(m, 0);
  auto call = [&](std::array<int64_t, 5> descriptor) {
    std::copy(descriptor.begin(), descriptor.end(), badResult + 2);
    loomBuffer *result = nullptr;
    EXPECT_EQ(loomEntryCall(entry, nullptr, 0, &result, 1), LOOM_FAILURE);
    EXPECT_EQ(result, nullptr);
    return lastError();
  };
  const std::string malformed =
      "the module returned a malformed result 0 of entry 'bad' "
      "(tensor<?x?xf32>): its offset or strides are negative or reach past "
      "2^63 bytes";
  // offset, sizes[2], strides[2]
  EXPECT_EQ(call({INT64_MAX / 2, 2, 2, 2, 1}), malformed);
  EXPECT_EQ(call({-1, 2, 2, 2, 1}), malformed);
  EXPECT_EQ(call({0, 2, 2, INT64_MAX / 2, 1}), malformed);
  EXPECT_EQ(call({0, 2, 2, 1, -2}), malformed);
  // loomModuleUnload leaves the fake's functions alone: it has no handle.
  loomModuleUnload(m);
}

//===----------------------------------------------------------------------===//
// Calls into the hand-written module
//===----------------------------------------------------------------------===//

class HandWritten : public ::testing::Test {
protected:
  void SetUp() override {
    module = loomModuleLoad(modulePath("test_module_good.so").c_str(),
                            LOOM_DEVICE_CPU);
    ASSERT_NE(module, nullptr) << lastError();
  }
  void TearDown() override { loomModuleUnload(module); }
  const loomEntry *entry(const char *name) {
    return loomModuleLookupEntry(module, name);
  }
  loomModule *module = nullptr;
};

TEST_F(HandWritten, DynamicAdd) {
  float a[] = {1, 2, 3}, b[] = {10, 20, 30};
  loomBuffer *args[] = {hostBuffer(LOOM_DTYPE_F32, {3}, a, sizeof(a)),
                        hostBuffer(LOOM_DTYPE_F32, {3}, b, sizeof(b))};
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("add"), args, 2, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{3}));
  EXPECT_EQ(floats(result), (std::vector<float>{11, 22, 33}));
  // The arguments are untouched.
  EXPECT_EQ(floats(args[0]), (std::vector<float>{1, 2, 3}));
  loomBufferDestroy(result);
  for (loomBuffer *arg : args)
    loomBufferDestroy(arg);
}

TEST_F(HandWritten, ChecksArguments) {
  float a[4] = {1, 2, 3, 4};
  loomBuffer *x = hostBuffer(LOOM_DTYPE_F32, {4}, a, sizeof(a));
  loomBuffer *result = nullptr;
  EXPECT_EQ(loomEntryCall(entry("add"), &x, 1, &result, 1), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "entry 'add' takes 2 argument(s), given 1");
  loomBuffer *two[] = {x, x};
  EXPECT_EQ(loomEntryCall(entry("add"), two, 2, &result, 2), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "entry 'add' returns 1 result(s), room given for 2");

  int8_t ints[4] = {};
  loomBuffer *wrongType = hostBuffer(LOOM_DTYPE_I8, {4}, ints, sizeof(ints));
  EXPECT_EQ(loomEntryCall(entry("echo"), &wrongType, 1, &result, 1),
            LOOM_FAILURE);
  EXPECT_EQ(lastError(), "argument 0 of entry 'echo' (tensor<4xf32>): the "
                         "buffer's dtype is i8");
  loomBuffer *wrongShape = hostBuffer(LOOM_DTYPE_F32, {2, 2}, a, sizeof(a));
  EXPECT_EQ(loomEntryCall(entry("echo"), &wrongShape, 1, &result, 1),
            LOOM_FAILURE);
  EXPECT_EQ(lastError(), "argument 0 of entry 'echo' (tensor<4xf32>): the "
                         "buffer has rank 2 (shape [2, 2])");
  loomBuffer *wrongDim = hostBuffer(LOOM_DTYPE_F32, {3}, a, 12);
  EXPECT_EQ(loomEntryCall(entry("echo"), &wrongDim, 1, &result, 1),
            LOOM_FAILURE);
  // Sizes are the module's to check (the runtime passes them through).
  EXPECT_EQ(lastError(), "echo: argument 0 dimension 0 must be 4");
  EXPECT_EQ(result, nullptr);
  float b[3] = {1, 2, 3};
  loomBuffer *shorter = hostBuffer(LOOM_DTYPE_F32, {3}, b, sizeof(b));
  loomBuffer *mismatched[] = {x, shorter};
  EXPECT_EQ(loomEntryCall(entry("add"), mismatched, 2, &result, 1),
            LOOM_FAILURE);
  EXPECT_EQ(lastError(), "add: argument 1 dimension 0 (?) must equal argument "
                         "0 dimension 0");
  EXPECT_EQ(result, nullptr);
  loomBufferDestroy(shorter);
  loomBuffer *null = nullptr;
  EXPECT_EQ(loomEntryCall(entry("echo"), &null, 1, &result, 1), LOOM_FAILURE);
  EXPECT_EQ(result, nullptr);
  for (loomBuffer *b : {x, wrongType, wrongShape, wrongDim})
    loomBufferDestroy(b);
}

TEST_F(HandWritten, ResultAliasingAnArgumentIsCopied) {
  float a[4] = {1, 2, 3, 4};
  loomBuffer *x = hostBuffer(LOOM_DTYPE_F32, {4}, a, sizeof(a));
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("echo"), &x, 1, &result, 1), LOOM_SUCCESS);
  EXPECT_NE(loomBufferData(result), loomBufferData(x));
  EXPECT_EQ(floats(result), (std::vector<float>{1, 2, 3, 4}));
  // Destroying both frees two distinct allocations (ASan/valgrind would
  // report a double free otherwise).
  loomBufferDestroy(result);
  loomBufferDestroy(x);
}

TEST_F(HandWritten, OneAllocationReturnedTwice) {
  float a[2] = {1.5f, -2};
  loomBuffer *x = hostBuffer(LOOM_DTYPE_F32, {2}, a, sizeof(a));
  loomBuffer *results[2] = {};
  ASSERT_EQ(loomEntryCall(entry("twice"), &x, 1, results, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_NE(loomBufferData(results[0]), loomBufferData(results[1]));
  EXPECT_EQ(floats(results[0]), (std::vector<float>{3, -4}));
  EXPECT_EQ(floats(results[1]), (std::vector<float>{3, -4}));
  loomBufferDestroy(results[0]);
  loomBufferDestroy(results[1]);
  loomBufferDestroy(x);
}

TEST_F(HandWritten, StridedResultIsGathered) {
  float a[6] = {1, 2, 3, 4, 5, 6};
  loomBuffer *x = hostBuffer(LOOM_DTYPE_F32, {2, 3}, a, sizeof(a));
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("transpose"), &x, 1, &result, 1),
            LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(floats(result), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  loomBufferDestroy(result);
  loomBufferDestroy(x);
}

TEST_F(HandWritten, PackedI4) {
  // Logical [[1, -2, 7, -8], [0, 3, -1, 5]], packed low nibble first.
  auto pack = [](int lo, int hi) {
    return uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
  };
  uint8_t packed[4] = {pack(1, -2), pack(7, -8), pack(0, 3), pack(-1, 5)};
  loomBuffer *x = hostBuffer(LOOM_DTYPE_I4, {2, 4}, packed, sizeof(packed));
  ASSERT_EQ(loomBufferSizeInBytes(x), 4u);
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("nibbles"), &x, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{2, 4}));
  uint8_t out[4];
  ASSERT_EQ(loomBufferCopyToHost(result, out, 4), LOOM_SUCCESS);
  // -(-8) wraps to -8 in four bits.
  EXPECT_EQ(out[0], pack(-1, 2));
  EXPECT_EQ(out[1], pack(-7, -8));
  EXPECT_EQ(out[2], pack(0, -3));
  EXPECT_EQ(out[3], pack(1, -5));
  loomBufferDestroy(result);
  loomBufferDestroy(x);
}

TEST_F(HandWritten, NoArgumentsNoResults) {
  ASSERT_EQ(loomEntryCall(entry("nothing"), nullptr, 0, nullptr, 0),
            LOOM_SUCCESS)
      << lastError();
}

//===----------------------------------------------------------------------===//
// A module compiled by loom-compile
//===----------------------------------------------------------------------===//

class Compiled : public ::testing::Test {
protected:
  void SetUp() override {
    module = loomModuleLoad(modulePath("compiled_block.so").c_str(),
                            LOOM_DEVICE_CPU);
    ASSERT_NE(module, nullptr) << lastError();
  }
  void TearDown() override { loomModuleUnload(module); }
  loomModule *module = nullptr;
};

TEST_F(Compiled, Signature) {
  EXPECT_STREQ(loomModuleSignature(module),
               "abi 4\n"
               "target cpu\n"
               "entry block(tensor<4x8xf32>, tensor<8xf32>) -> "
               "(tensor<4x8xf32>)\n"
               "entry negate_i4(tensor<2x4xi4>) -> (tensor<2x4xi4>, "
               "tensor<2x4xi8>)\n"
               "entry constant_and_arg(tensor<3xf32>) -> (tensor<3xf32>, "
               "tensor<3xf32>)\n"
               "entry norm_linear(tensor<?x?xf32>, tensor<?xf32>, "
               "tensor<?x?xf32>) -> (tensor<?x?xf32>)\n"
               "entry attention_dyn(tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, "
               "tensor<1x1x?x8xf32>) -> (tensor<1x1x?x8xf32>)\n"
               "entry widen_i4(tensor<2x?xi4>) -> (tensor<2x?xi8>)\n");
}

/// Random floats in [-1, 1).
std::vector<float> randomFloats(std::mt19937 &rng, size_t n) {
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> v(n);
  for (float &f : v)
    f = uniform(rng);
  return v;
}

// Dynamic sizes that fit: the result of rms_norm then linear, against a
// double-precision reference, for ragged sizes.
TEST_F(Compiled, DynamicSizesThatFitRun) {
  const loomEntry *entry = loomModuleLookupEntry(module, "norm_linear");
  ASSERT_NE(entry, nullptr) << lastError();
  std::mt19937 rng(7);
  for (auto [m, k, n] : {std::array<int64_t, 3>{3, 5, 7},
                         std::array<int64_t, 3>{1, 13, 2},
                         std::array<int64_t, 3>{0, 4, 3}}) {
    std::vector<float> x = randomFloats(rng, m * k), g = randomFloats(rng, k),
                       w = randomFloats(rng, n * k);
    loomBuffer *args[] = {
        hostBuffer(LOOM_DTYPE_F32, {m, k}, x.data(), x.size() * 4),
        hostBuffer(LOOM_DTYPE_F32, {k}, g.data(), g.size() * 4),
        hostBuffer(LOOM_DTYPE_F32, {n, k}, w.data(), w.size() * 4)};
    loomBuffer *result = nullptr;
    ASSERT_EQ(loomEntryCall(entry, args, 3, &result, 1), LOOM_SUCCESS)
        << lastError();
    EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{m, n}));
    std::vector<float> y = floats(result);
    for (int64_t r = 0; r < m; ++r) {
      double ms = 0;
      for (int64_t c = 0; c < k; ++c)
        ms += double(x[r * k + c]) * x[r * k + c];
      double inv = 1.0 / std::sqrt(ms / k + 1e-6);
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t c = 0; c < k; ++c)
          want += x[r * k + c] * inv * g[c] * w[j * k + c];
        EXPECT_NEAR(y[r * n + j], want, 1e-4) << m << "x" << k << "x" << n;
      }
    }
    loomBufferDestroy(result);
    for (loomBuffer *a : args)
      loomBufferDestroy(a);
  }
}

// Sizes that do not fit: the module's own check fails before any work, with
// a message naming the entry, the arguments and the dimensions; no result.
TEST_F(Compiled, MismatchedSizesAreRefusedByTheModule) {
  const loomEntry *entry = loomModuleLookupEntry(module, "norm_linear");
  ASSERT_NE(entry, nullptr) << lastError();
  auto zeros = [](std::vector<int64_t> shape) {
    return loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32,
                            int64_t(shape.size()), shape.data());
  };
  auto call = [&](std::vector<int64_t> xs, std::vector<int64_t> gs,
                  std::vector<int64_t> ws) {
    loomBuffer *args[] = {zeros(xs), zeros(gs), zeros(ws)};
    loomBuffer *result = nullptr;
    EXPECT_EQ(loomEntryCall(entry, args, 3, &result, 1), LOOM_FAILURE);
    EXPECT_EQ(result, nullptr);
    for (loomBuffer *a : args)
      loomBufferDestroy(a);
    return lastError();
  };
  EXPECT_EQ(call({3, 5}, {4}, {7, 5}),
            "norm_linear: argument 1 dimension 0 (?) must equal argument 0 "
            "dimension 1 (required at block.mlir:27:8)");
  EXPECT_EQ(call({3, 5}, {5}, {7, 6}),
            "norm_linear: argument 2 dimension 1 (?) must equal argument 0 "
            "dimension 1 (required at block.mlir:28:8)");
  // Static dimensions are checked by the module too.
  const loomEntry *block = loomModuleLookupEntry(module, "block");
  loomBuffer *args[] = {zeros({4, 9}), zeros({8})};
  loomBuffer *result = nullptr;
  EXPECT_EQ(loomEntryCall(block, args, 2, &result, 1), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "block: argument 0 dimension 1 must be 8");
  EXPECT_EQ(result, nullptr);
  for (loomBuffer *a : args)
    loomBufferDestroy(a);
}

// Sizes whose byte counts pass 2^63 - 1 are refused by the module before it
// allocates anything (issue 18). The buffers wrap a few bytes: the module
// must not read them.
TEST_F(Compiled, SizesThatOverflowAreRefusedByTheModule) {
  const loomEntry *entry = loomModuleLookupEntry(module, "attention_dyn");
  ASSERT_NE(entry, nullptr) << lastError();
  alignas(64) static float scratch[16];
  auto call = [&](int64_t s) {
    int64_t shape[] = {1, 1, s, 8};
    loomBuffer *args[3];
    for (loomBuffer *&a : args) {
      a = loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 4, shape, scratch);
      EXPECT_NE(a, nullptr) << lastError();
    }
    loomBuffer *result = nullptr;
    loomStatus status = loomEntryCall(entry, args, 3, &result, 1);
    std::string error = lastError();
    if (status == LOOM_SUCCESS)
      loomBufferDestroy(result);
    for (loomBuffer *a : args)
      loomBufferDestroy(a);
    return status == LOOM_SUCCESS ? std::string("ran") : error;
  };
  // S = 2^31: q, k and v fit (2^36 bytes each), the S x S f32 scores of the
  // reference lowering (2^64 bytes) do not.
  EXPECT_EQ(call(int64_t(1) << 31),
            "attention_dyn: the argument sizes make a tensor<1x1x?x?xf32> "
            "value larger than 2^63 - 1 bytes (required at block.mlir:36:8)");
  // The smallest S that overflows: 4 * 1518500250^2 > 2^63 - 1 >= 4 *
  // 1518500249^2.
  EXPECT_EQ(call(1518500250),
            "attention_dyn: the argument sizes make a tensor<1x1x?x?xf32> "
            "value larger than 2^63 - 1 bytes (required at block.mlir:36:8)");
  // S = 2: it runs (over the scratch bytes).
  EXPECT_EQ(call(2), "ran");

  // A host calling the entry without the runtime (docs/abi.md) with an
  // argument of 2^62 x 8 f32 elements: the module's own check.
  void *handle = dlopen(modulePath("compiled_block.so").c_str(), RTLD_NOW);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto fn = reinterpret_cast<const char *(*)(void **, int64_t)>(
      dlsym(handle, "loom_entry_attention_dyn"));
  ASSERT_NE(fn, nullptr);
  struct {
    void *allocated, *aligned;
    int64_t offset, sizes[4], strides[4];
  } q = {scratch, scratch, 0, {1, 1, int64_t(1) << 62, 8}, {0, 0, 8, 1}};
  int64_t results[3 + 2 * 4] = {};
  void *packed[] = {results, &q, &q, &q};
  const char *refused = fn(packed, 3);
  ASSERT_NE(refused, nullptr);
  EXPECT_STREQ(refused, "attention_dyn: the argument sizes make argument 0 "
                        "(tensor<1x1x?x8xf32>) larger than 2^63 - 1 bytes");

  // A packed i4 size whose double wraps around, and one just below.
  auto widen = reinterpret_cast<const char *(*)(void **, int64_t)>(
      dlsym(handle, "loom_entry_widen_i4"));
  ASSERT_NE(widen, nullptr);
  struct {
    void *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  } w = {scratch, scratch, 0, {2, int64_t(1) << 62}, {0, 1}};
  void *widenArgs[] = {results, &w};
  EXPECT_STREQ(widen(widenArgs, 1),
               "widen_i4: argument 0 dimension 1 (?) is too large: twice its "
               "packed i4 size passes 2^63 - 1");
  w.sizes[1] = (int64_t(1) << 62) - 1;
  EXPECT_STREQ(widen(widenArgs, 1),
               "widen_i4: the argument sizes make argument 0 "
               "(tensor<2x?xi4>) larger than 2^63 - 1 bytes");
  dlclose(handle);
}

TEST_F(Compiled, NormBlockMatchesReference) {
  std::vector<float> x(32), g(8);
  for (int i = 0; i < 32; ++i)
    x[i] = std::sin(0.7 * i) * 2;
  for (int i = 0; i < 8; ++i)
    g[i] = 0.5f + 0.125f * i;
  loomBuffer *args[] = {hostBuffer(LOOM_DTYPE_F32, {4, 8}, x.data(), 128),
                        hostBuffer(LOOM_DTYPE_F32, {8}, g.data(), 32)};
  loomBuffer *result = nullptr;
  const loomEntry *entry = loomModuleLookupEntry(module, "block");
  ASSERT_NE(entry, nullptr) << lastError();
  ASSERT_EQ(loomEntryCall(entry, args, 2, &result, 1), LOOM_SUCCESS)
      << lastError();
  std::vector<float> y = floats(result);
  ASSERT_EQ(y.size(), 32u);
  for (int r = 0; r < 4; ++r) {
    double ms = 0;
    for (int c = 0; c < 8; ++c)
      ms += double(x[r * 8 + c]) * x[r * 8 + c];
    double inv = 1.0 / std::sqrt(ms / 8 + 1e-6);
    for (int c = 0; c < 8; ++c) {
      double n = x[r * 8 + c] * inv * g[c];
      double want = n / (1 + std::exp(-n)) + x[r * 8 + c];
      EXPECT_NEAR(y[r * 8 + c], want, 1e-5) << "row " << r << " col " << c;
    }
  }
  EXPECT_EQ(floats(args[0]), x); // inputs are read-only
  loomBufferDestroy(result);
  for (loomBuffer *a : args)
    loomBufferDestroy(a);
}

TEST_F(Compiled, I4IsPackedAtTheBoundary) {
  auto pack = [](int lo, int hi) {
    return uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
  };
  // Logical [[1, -2, 7, -8], [0, 3, -1, 5]].
  uint8_t packed[4] = {pack(1, -2), pack(7, -8), pack(0, 3), pack(-1, 5)};
  loomBuffer *w = hostBuffer(LOOM_DTYPE_I4, {2, 4}, packed, 4);
  loomBuffer *results[2] = {};
  const loomEntry *entry = loomModuleLookupEntry(module, "negate_i4");
  ASSERT_EQ(loomEntryCall(entry, &w, 1, results, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(loomBufferDType(results[0]), LOOM_DTYPE_I4);
  EXPECT_EQ(shapeOf(results[0]), (std::vector<int64_t>{2, 4}));
  ASSERT_EQ(loomBufferSizeInBytes(results[0]), 4u);
  uint8_t negated[4];
  ASSERT_EQ(loomBufferCopyToHost(results[0], negated, 4), LOOM_SUCCESS);
  EXPECT_EQ(negated[0], pack(-1, 2));
  EXPECT_EQ(negated[1], pack(-7, -8));
  EXPECT_EQ(negated[2], pack(0, -3));
  EXPECT_EQ(negated[3], pack(1, -5));
  int8_t widened[8];
  ASSERT_EQ(loomBufferCopyToHost(results[1], widened, 8), LOOM_SUCCESS);
  const int8_t want[8] = {1, -2, 7, -8, 0, 3, -1, 5};
  EXPECT_EQ(std::memcmp(widened, want, 8), 0);
  for (loomBuffer *b : {results[0], results[1], w})
    loomBufferDestroy(b);
}

TEST_F(Compiled, ConstantAndArgumentResultsAreFresh) {
  float x[3] = {7, 8, 9};
  loomBuffer *arg = hostBuffer(LOOM_DTYPE_F32, {3}, x, sizeof(x));
  const loomEntry *entry = loomModuleLookupEntry(module, "constant_and_arg");
  // Twice: a result that were the global constant itself would be freed by
  // the first round and garbage (or a crash) in the second.
  for (int round = 0; round < 2; ++round) {
    loomBuffer *results[2] = {};
    ASSERT_EQ(loomEntryCall(entry, &arg, 1, results, 2), LOOM_SUCCESS)
        << lastError();
    EXPECT_EQ(floats(results[0]), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(floats(results[1]), (std::vector<float>{7, 8, 9}));
    EXPECT_NE(loomBufferData(results[1]), loomBufferData(arg));
    loomBufferDestroy(results[0]);
    loomBufferDestroy(results[1]);
  }
  loomBufferDestroy(arg);
}

//===----------------------------------------------------------------------===//
// Destination passing (ABI 4): loomEntryResultShapes, loomEntryCallInto
//===----------------------------------------------------------------------===//

// The result shapes come from the argument sizes alone (the module's
// loom_shape_<name>), and the call into caller-made buffers gives what
// loomEntryCall gives, for dynamic and static entries.
TEST_F(Compiled, ResultShapesBeforeTheCall) {
  const loomEntry *entry = loomModuleLookupEntry(module, "norm_linear");
  ASSERT_EQ(loomEntryNumResultDims(entry), 2);
  std::vector<float> x(3 * 5), g(5), w(7 * 5);
  loomBuffer *args[] = {hostBuffer(LOOM_DTYPE_F32, {3, 5}, x.data(), 60),
                        hostBuffer(LOOM_DTYPE_F32, {5}, g.data(), 20),
                        hostBuffer(LOOM_DTYPE_F32, {7, 5}, w.data(), 140)};
  int64_t dims[2] = {-1, -1};
  ASSERT_EQ(loomEntryResultShapes(entry, args, 3, dims, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(dims[0], 3);
  EXPECT_EQ(dims[1], 7);
  // The module's checks run first: a mismatch is refused, no shape given.
  loomBuffer *wrong = hostBuffer(LOOM_DTYPE_F32, {4}, g.data(), 16);
  loomBuffer *bad[] = {args[0], wrong, args[2]};
  EXPECT_EQ(loomEntryResultShapes(entry, bad, 3, dims, 2), LOOM_FAILURE);
  EXPECT_NE(lastError().find("norm_linear: argument 1 dimension 0 (?) must "
                             "equal argument 0 dimension 1"),
            std::string::npos)
      << lastError();
  EXPECT_EQ(loomEntryResultShapes(entry, args, 3, dims, 1), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "entry 'norm_linear' has 2 result dimension(s), room "
                         "given for 1");
  // The i4 innermost size is the logical one; attention's S follows q.
  const loomEntry *widen = loomModuleLookupEntry(module, "widen_i4");
  uint8_t packed[6] = {};
  loomBuffer *wbuf = hostBuffer(LOOM_DTYPE_I4, {2, 6}, packed, 6);
  ASSERT_EQ(loomEntryResultShapes(widen, &wbuf, 1, dims, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(dims[0], 2);
  EXPECT_EQ(dims[1], 6);
  for (loomBuffer *b : {args[0], args[1], args[2], wrong, wbuf})
    loomBufferDestroy(b);
}

TEST_F(Compiled, CallIntoMatchesCall) {
  const loomEntry *entry = loomModuleLookupEntry(module, "norm_linear");
  std::mt19937 rng(11);
  for (auto [m, k, n] : {std::array<int64_t, 3>{3, 5, 7},
                         std::array<int64_t, 3>{0, 4, 3}}) {
    std::vector<float> x = randomFloats(rng, m * k), g = randomFloats(rng, k),
                       w = randomFloats(rng, n * k);
    loomBuffer *args[] = {
        hostBuffer(LOOM_DTYPE_F32, {m, k}, x.data(), x.size() * 4),
        hostBuffer(LOOM_DTYPE_F32, {k}, g.data(), g.size() * 4),
        hostBuffer(LOOM_DTYPE_F32, {n, k}, w.data(), w.size() * 4)};
    loomBuffer *fresh = nullptr;
    ASSERT_EQ(loomEntryCall(entry, args, 3, &fresh, 1), LOOM_SUCCESS)
        << lastError();
    int64_t shape[2] = {m, n};
    loomBuffer *into = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, shape);
    // Garbage first: the call must write every element.
    std::vector<float> junk(m * n, 1e30f);
    ASSERT_EQ(loomBufferCopyFromHost(into, junk.data(), junk.size() * 4),
              LOOM_SUCCESS);
    ASSERT_EQ(loomEntryCallInto(entry, args, 3, &into, 1, nullptr),
              LOOM_SUCCESS)
        << lastError();
    EXPECT_EQ(floats(into), floats(fresh));
    for (loomBuffer *b : {args[0], args[1], args[2], fresh, into})
      loomBufferDestroy(b);
  }
  // Several results, i4 among them, into memory the caller owns.
  auto pack = [](int lo, int hi) {
    return uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
  };
  uint8_t packed[4] = {pack(1, -2), pack(7, -8), pack(0, 3), pack(-1, 5)};
  loomBuffer *wi = hostBuffer(LOOM_DTYPE_I4, {2, 4}, packed, 4);
  uint8_t negated[4] = {};
  int8_t widened[8] = {};
  int64_t shape[2] = {2, 4};
  loomBuffer *outs[2] = {
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_I4, 2, shape, negated),
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_I8, 2, shape, widened)};
  ASSERT_EQ(loomEntryCallInto(loomModuleLookupEntry(module, "negate_i4"), &wi,
                              1, outs, 2, nullptr),
            LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(negated[0], pack(-1, 2));
  EXPECT_EQ(negated[3], pack(1, -5));
  const int8_t want[8] = {1, -2, 7, -8, 0, 3, -1, 5};
  EXPECT_EQ(std::memcmp(widened, want, 8), 0);
  for (loomBuffer *b : {wi, outs[0], outs[1]})
    loomBufferDestroy(b);
}

// Every destination the call cannot write is refused before the call, with
// a message naming it; the module also checks the sizes itself.
TEST_F(Compiled, BadDestinationsAreRefused) {
  const loomEntry *entry = loomModuleLookupEntry(module, "block");
  std::vector<float> x(32, 0.5f), g(8, 1.0f);
  loomBuffer *args[] = {hostBuffer(LOOM_DTYPE_F32, {4, 8}, x.data(), 128),
                        hostBuffer(LOOM_DTYPE_F32, {8}, g.data(), 32)};
  int64_t good[2] = {4, 8}, bad[2] = {8, 4};
  loomBuffer *out = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, good);
  loomBuffer *transposed =
      loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, bad);
  loomBuffer *halves = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F16, 2, good);
  EXPECT_EQ(loomEntryCallInto(entry, args, 2, &transposed, 1, nullptr),
            LOOM_FAILURE);
  EXPECT_EQ(lastError(), "destination 0 of entry 'block' (tensor<4x8xf32>, "
                         "shape [4, 8] for these arguments): the buffer's "
                         "shape is [8, 4]");
  EXPECT_EQ(loomEntryCallInto(entry, args, 2, &halves, 1, nullptr),
            LOOM_FAILURE);
  EXPECT_NE(lastError().find("the buffer's dtype is f16"), std::string::npos);
  EXPECT_EQ(loomEntryCallInto(entry, args, 2, nullptr, 1, nullptr),
            LOOM_FAILURE);
  EXPECT_EQ(loomEntryCallInto(entry, args, 2, &out, 0, nullptr), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "entry 'block' returns 1 result(s), given 0 "
                         "destination(s)");
  EXPECT_EQ(loomEntryCallInto(entry, args, 1, &out, 1, nullptr), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "entry 'block' takes 2 argument(s), given 1");
  // Two destinations over the same memory.
  const loomEntry *pair = loomModuleLookupEntry(module, "constant_and_arg");
  loomBuffer *three = hostBuffer(LOOM_DTYPE_F32, {3}, x.data(), 12);
  loomBuffer *twice[2] = {three, three};
  EXPECT_EQ(loomEntryCallInto(pair, &three, 1, twice, 2, nullptr),
            LOOM_FAILURE);
  EXPECT_NE(lastError().find("is the same memory as destination 0"),
            std::string::npos)
      << lastError();

  // The module's own check of the destinations, through its loom_call_
  // directly: a descriptor of the wrong size is refused before any work.
  auto call = reinterpret_cast<const char *(*)(void **, int64_t,
                                               const loomCallContext *)>(
      loomEntryCallFunction(entry));
  ASSERT_NE(call, nullptr);
  float dst[32];
  int64_t xd[7] = {int64_t(intptr_t(x.data())), int64_t(intptr_t(x.data())),
                   0, 4, 8, 8, 1};
  int64_t gd[5] = {int64_t(intptr_t(g.data())), int64_t(intptr_t(g.data())),
                   0, 8, 1};
  int64_t dd[7] = {int64_t(intptr_t(dst)), int64_t(intptr_t(dst)), 0, 4, 9,
                   9, 1};
  void *packedArgs[3] = {dd, xd, gd};
  EXPECT_STREQ(call(packedArgs, 2, nullptr),
               "block: destination 0 dimension 1 does not match the result's "
               "size (loom_shape_block computes it)");
  dd[4] = 8;
  dd[5] = 8;
  EXPECT_EQ(call(packedArgs, 2, nullptr), nullptr);
  EXPECT_STREQ(call(packedArgs, 3, nullptr),
               "block: called with the wrong number of arguments (it takes 2)");
  for (loomBuffer *b : {args[0], args[1], out, transposed, halves, three})
    loomBufferDestroy(b);
}

// A module of ABI 3 has no destination-passing call: it says so.
TEST_F(HandWritten, OldModulesHaveNoCallInto) {
  const loomEntry *entry = loomModuleLookupEntry(module, "add");
  ASSERT_NE(entry, nullptr) << lastError();
  EXPECT_EQ(loomEntryCallFunction(entry), nullptr);
  EXPECT_EQ(loomEntryCallInto(entry, nullptr, 0, nullptr, 0, nullptr),
            LOOM_FAILURE);
  EXPECT_NE(lastError().find("(ABI 3) has no destination-passing call: "
                             "recompile it"),
            std::string::npos)
      << lastError();
}

//===----------------------------------------------------------------------===//
// CUDA without a driver
//===----------------------------------------------------------------------===//

// The driver is loaded once per process; pointing LOOM_CUDA_DRIVER at a
// missing file makes the outcome the same on machines with and without one.
void forceNoDriver() {
  setenv("LOOM_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
}

TEST(Cuda, NoDriverFailsClearly) {
  forceNoDriver();
  EXPECT_EQ(loomDeviceInit(LOOM_DEVICE_CUDA), LOOM_FAILURE);
  EXPECT_EQ(lastError().rfind("CUDA driver /nonexistent/libcuda.so.1 not "
                              "found: ",
                              0),
            0u)
      << lastError();
  int64_t shape[] = {4};
  EXPECT_EQ(loomBufferCreate(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 1, shape),
            nullptr);
  EXPECT_NE(lastError().find("not found"), std::string::npos);
  EXPECT_EQ(loomModuleLoad(modulePath("test_module_good.so").c_str(),
                           LOOM_DEVICE_CUDA),
            nullptr);
  EXPECT_NE(lastError().find("CUDA driver"), std::string::npos);
  EXPECT_EQ(loomSynchronize(LOOM_DEVICE_CUDA), LOOM_FAILURE);
  // The CPU is unaffected.
  EXPECT_EQ(loomDeviceInit(LOOM_DEVICE_CPU), LOOM_SUCCESS);
  EXPECT_EQ(loomSynchronize(LOOM_DEVICE_CPU), LOOM_SUCCESS);
}

TEST(Cuda, NoDriverCudaModule) {
  forceNoDriver();
  // Loading runs the module's constructor (mgpuModuleLoad, which needs no
  // driver) and binds its mgpu* references to this executable's exports;
  // for CUDA the missing driver is reported first.
  std::string path = modulePath("test_module_cuda.so");
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CUDA), nullptr);
  EXPECT_EQ(lastError().rfind("CUDA driver /nonexistent/libcuda.so.1 not "
                              "found: ",
                              0),
            0u)
      << lastError();
  EXPECT_EQ(loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU), nullptr);
  EXPECT_EQ(lastError(), "module '" + path +
                             "' was compiled for target 'sm_90a', which runs "
                             "on cuda; it cannot run on cpu");
}

TEST(Cuda, NoDriverDeviceFunctions) {
  forceNoDriver();
  loomCudaClearStickyError();
  // What a module's constructor and entry would call: nothing crashes, the
  // sticky error says why nothing ran, and it is the first failure's.
  char image[] = "cubin";
  void *module = mgpuModuleLoad(image, sizeof(image));
  ASSERT_NE(module, nullptr);
  EXPECT_STREQ(loomCudaGetStickyError(), "");
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  std::string first = loomCudaGetStickyError();
  EXPECT_EQ(first.rfind("CUDA driver /nonexistent/libcuda.so.1 not found: ",
                        0),
            0u)
      << first;
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), nullptr);
  EXPECT_EQ(mgpuModuleGetFunction(module, "k"), nullptr);
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr,
                   0);
  mgpuStreamSynchronize(nullptr);
  mgpuMemFree(nullptr, nullptr);
  EXPECT_EQ(loomCudaGetStream(), nullptr);
  EXPECT_EQ(loomCudaGetStickyError(), first);
  mgpuModuleUnload(module);
  loomCudaClearStickyError();
  EXPECT_STREQ(loomCudaGetStickyError(), "");
}

TEST(Cuda, WrapNeedsNoDriver) {
  forceNoDriver();
  int64_t shape[] = {2, 2};
  float host[4] = {1, 2, 3, 4};
  loomBuffer *cpu =
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, shape, host);
  ASSERT_NE(cpu, nullptr) << lastError();
  EXPECT_EQ(loomBufferData(cpu), host);
  EXPECT_EQ(floats(cpu), (std::vector<float>{1, 2, 3, 4}));
  loomBufferDestroy(cpu); // never frees `host`
  EXPECT_EQ(host[0], 1);
  loomBuffer *cuda = loomBufferWrap(
      LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 2, shape,
      reinterpret_cast<void *>(uintptr_t(0x7f0000000000)));
  ASSERT_NE(cuda, nullptr) << lastError();
  EXPECT_EQ(loomBufferDevice(cuda), LOOM_DEVICE_CUDA);
  float out[4];
  EXPECT_EQ(loomBufferCopyToHost(cuda, out, sizeof(out)), LOOM_FAILURE);
  EXPECT_NE(lastError().find("not found"), std::string::npos);
  loomBufferDestroy(cuda);
}

TEST_F(HandWritten, WrappedHostArguments) {
  float a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
  int64_t shape[] = {3};
  loomBuffer *args[] = {
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, shape, a),
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, shape, b)};
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("add"), args, 2, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(floats(result), (std::vector<float>{11, 22, 33}));
  loomBufferDestroy(result);
  for (loomBuffer *arg : args)
    loomBufferDestroy(arg);
  // A result that is a wrapped argument's memory is copied, not adopted.
  float x[4] = {5, 6, 7, 8};
  int64_t four[] = {4};
  loomBuffer *wrapped =
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, four, x);
  ASSERT_EQ(loomEntryCall(entry("echo"), &wrapped, 1, &result, 1),
            LOOM_SUCCESS);
  EXPECT_NE(loomBufferData(result), static_cast<void *>(x));
  loomBufferDestroy(result);
  loomBufferDestroy(wrapped);
}

TEST(Names, DTypesAndDevices) {
  EXPECT_STREQ(loomDTypeName(LOOM_DTYPE_F8E4M3FN), "f8E4M3FN");
  EXPECT_STREQ(loomDTypeName(LOOM_DTYPE_I4), "i4");
  EXPECT_STREQ(loomDeviceName(LOOM_DEVICE_CUDA), "cuda");
}

} // namespace
