//===- TestUtil.h - helpers shared by the runtime's unit tests --*- C++ -*-===//

#ifndef LOOM_UNITTESTS_RUNTIME_TESTUTIL_H
#define LOOM_UNITTESTS_RUNTIME_TESTUTIL_H

#include "loom/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loom {
namespace testing {

inline std::string lastError() { return loomGetLastError(); }

/// A test module built by unittests/Runtime/CMakeLists.txt.
inline std::string modulePath(const std::string &name) {
  return std::string(LOOM_TEST_MODULE_DIR) + "/" + name;
}

/// A buffer on `device` holding `values`.
inline loomBuffer *bufferWith(loomDevice device, loomDType dtype,
                              std::vector<int64_t> shape, const void *values,
                              size_t bytes) {
  loomBuffer *b =
      loomBufferCreate(device, dtype, int64_t(shape.size()), shape.data());
  EXPECT_NE(b, nullptr) << lastError();
  if (b) {
    EXPECT_EQ(loomBufferCopyFromHost(b, values, bytes), LOOM_SUCCESS)
        << lastError();
  }
  return b;
}

/// The contents of an f32 buffer, copied to the host.
inline std::vector<float> floats(const loomBuffer *b) {
  std::vector<float> v(loomBufferSizeInBytes(b) / sizeof(float));
  EXPECT_EQ(loomBufferCopyToHost(b, v.data(), v.size() * sizeof(float)),
            LOOM_SUCCESS)
      << lastError();
  return v;
}

inline std::vector<int64_t> shapeOf(const loomBuffer *b) {
  return std::vector<int64_t>(loomBufferShape(b),
                              loomBufferShape(b) + loomBufferRank(b));
}

} // namespace testing
} // namespace loom

#endif // LOOM_UNITTESTS_RUNTIME_TESTUTIL_H
