//===- RowKernelsTest.cpp - every norm and RoPE kernel config builds ------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/RowKernels.h"

#include "gtest/gtest.h"

#include <set>

using namespace mlir;

namespace {

TEST(RowKernels, EveryNormConfigVerifies) {
  int built = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (bool layer : {false, true})
      for (int threads : {32, 64, 128, 256, 512, 1024})
        for (int rows : {1, 4})
          for (int vectors : {0, 1, 2, 4, 8}) {
            if (rows > 1 && threads != 32)
              continue; // several rows a block only with a warp per row
            loom::gpu::NormKernelConfig c;
            c.elementType = t;
            c.layer = layer;
            c.threads = threads;
            c.rows = rows;
            c.vectors = vectors;
            std::string error = loom::test::buildAndCheck(
                c.kernelName(), [&](ModuleOp m, Location loc) {
                  return loom::gpu::buildNormKernel(m, loc, c);
                });
            EXPECT_EQ(error, "") << c.kernelName();
            ++built;
          }
  EXPECT_EQ(built, 3 * 2 * (6 * 5 + 5));
}

TEST(RowKernels, EveryRopeConfigVerifies) {
  for (const char *t : {"bf16", "f16", "f32"})
    for (bool interleaved : {false, true})
      for (int threads : {32, 128, 256, 1024}) {
        loom::gpu::RopeKernelConfig c;
        c.elementType = t;
        c.interleaved = interleaved;
        c.threads = threads;
        std::string error = loom::test::buildAndCheck(
            c.kernelName(), [&](ModuleOp m, Location loc) {
              return loom::gpu::buildRopeKernel(m, loc, c);
            });
        EXPECT_EQ(error, "") << c.kernelName();
      }
}

TEST(RowKernels, NamesEncodeEveryChoice) {
  // Kernels are shared by name: two configs must never share one.
  std::set<std::string> names;
  int configs = 0;
  for (const char *t : {"bf16", "f16", "f32"})
    for (bool layer : {false, true})
      for (int threads : {32, 256})
        for (int rows : {1, 4})
          for (int vectors : {0, 2}) {
            loom::gpu::NormKernelConfig c{t, layer, threads, rows, vectors};
            names.insert(c.kernelName());
            ++configs;
          }
  EXPECT_EQ(names.size(), static_cast<size_t>(configs));
}

} // namespace
