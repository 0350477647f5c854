// GoogleTest tests of the runtime's CUDA path, against a fake driver.
//
// Covered: the mgpu* functions, CUDA modules through loomEntryCall (a
// hand-written one and one lowered by MLIR's gpu-to-llvm), loom-run
// --target=cuda.
//
// The fake driver (FakeCuda.c) keeps device memory in host memory, runs a
// few named kernels on the host and fails on request, so everything here
// runs on machines without a GPU. main() points LOOM_CUDA_DRIVER at it
// before the runtime loads a driver (once per process); the tests reach its
// control functions by dlopen'ing the same file, which gives the same
// instance.

#include "loom/Runtime/DeviceAPI.h"
#include "loom/Runtime/Npy.h"
#include "loom/Runtime/Runtime.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace loom::testing;

std::string sticky() { return loomCudaGetStickyError(); }

/// The fake driver's control functions.
struct Fake {
  void (*reset)();
  void (*failLaunch)(int);
  void (*failAllocation)(int, int);
  void (*failSynchronize)(int);
  void (*failModuleLoad)(int);
  int (*liveAllocations)();
  int (*badFrees)();
  int (*asyncAllocations)();
  int (*syncAllocations)();
  int (*managedAllocations)();
  int (*moduleLoads)();
  int (*jitLoads)();
  int (*launches)();
  int (*streamsCreated)();
  int (*liveStreams)();
  int (*liveEvents)();
  int (*memsets)();
  int (*tensorMapEncodes)();
  uint64_t (*poolThreshold)();
  const char *(*lastKernel)();
  unsigned (*lastGridX)();
  unsigned (*lastBlockX)();
  unsigned (*lastSharedBytes)();
  int (*sharedLimit)(const char *);
};

Fake &fake() {
  static Fake f = [] {
    Fake f{};
    void *h = dlopen(LOOM_FAKE_CUDA, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      ADD_FAILURE() << "cannot open the fake driver: " << dlerror();
      std::abort();
    }
    auto get = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(h, name));
      if (!fn) {
        ADD_FAILURE() << "the fake driver lacks " << name;
        std::abort();
      }
    };
    get(f.reset, "fakeCudaReset");
    get(f.failLaunch, "fakeCudaFailLaunch");
    get(f.failAllocation, "fakeCudaFailAllocation");
    get(f.failSynchronize, "fakeCudaFailSynchronize");
    get(f.failModuleLoad, "fakeCudaFailModuleLoad");
    get(f.liveAllocations, "fakeCudaLiveAllocations");
    get(f.badFrees, "fakeCudaBadFrees");
    get(f.asyncAllocations, "fakeCudaAsyncAllocations");
    get(f.syncAllocations, "fakeCudaSyncAllocations");
    get(f.managedAllocations, "fakeCudaManagedAllocations");
    get(f.moduleLoads, "fakeCudaModuleLoads");
    get(f.jitLoads, "fakeCudaJitLoads");
    get(f.launches, "fakeCudaLaunches");
    get(f.tensorMapEncodes, "fakeCudaTensorMapEncodes");
    get(f.streamsCreated, "fakeCudaStreamsCreated");
    get(f.liveStreams, "fakeCudaLiveStreams");
    get(f.liveEvents, "fakeCudaLiveEvents");
    get(f.memsets, "fakeCudaMemsets");
    get(f.poolThreshold, "fakeCudaPoolThreshold");
    get(f.lastKernel, "fakeCudaLastKernel");
    get(f.lastGridX, "fakeCudaLastGridX");
    get(f.lastBlockX, "fakeCudaLastBlockX");
    get(f.lastSharedBytes, "fakeCudaLastSharedBytes");
    get(f.sharedLimit, "fakeCudaSharedLimit");
    return f;
  }();
  return f;
}

/// Every test starts with the driver ready, no injected failure and no
/// sticky error, and ends with no leaked or doubly freed device memory.
class Cuda : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(loomDeviceInit(LOOM_DEVICE_CUDA), LOOM_SUCCESS) << lastError();
    fake().reset();
    loomCudaClearStickyError();
    liveBefore = fake().liveAllocations();
  }
  void TearDown() override {
    EXPECT_EQ(fake().liveAllocations(), liveBefore) << "leaked device memory";
    EXPECT_EQ(fake().badFrees(), 0) << "freed unknown device memory";
  }
  int liveBefore = 0;
};

/// A CUDA buffer holding `values`.
loomBuffer *deviceBuffer(loomDType dtype, std::vector<int64_t> shape,
                         const void *values, size_t bytes) {
  return bufferWith(LOOM_DEVICE_CUDA, dtype, std::move(shape), values, bytes);
}

//===----------------------------------------------------------------------===//
// The driver and buffers
//===----------------------------------------------------------------------===//

TEST_F(Cuda, TensorMapsAreEncodedOncePerKey) {
  alignas(16) static char matrix[64 * 256];
  int64_t base = int64_t(reinterpret_cast<uintptr_t>(matrix));
  int before = fake().tensorMapEncodes();
  // bf16 (9), 2 bytes, box 64 x 64, 128-byte swizzle, L2 256, zero fill.
  void *map = loomCudaTensorMap2D(base, 64, 128, 128, 9, 2, 64, 64, 3, 3, 0);
  ASSERT_NE(map, nullptr) << loomCudaGetStickyError();
  // The slab the maps live in stays for the process.
  liveBefore = fake().liveAllocations();
  uint64_t words[3];
  std::memcpy(words, map, sizeof(words)); // the fake's device memory is host memory
  EXPECT_EQ(words[0], uint64_t(base));
  EXPECT_EQ(words[1], 128u); // innermost first
  EXPECT_EQ(words[2], 64u);
  EXPECT_EQ(loomCudaTensorMap2D(base, 64, 128, 128, 9, 2, 64, 64, 3, 3, 0), map);
  EXPECT_EQ(fake().tensorMapEncodes(), before + 1);
  void *other = loomCudaTensorMap2D(base, 64, 128, 128, 9, 2, 128, 64, 3, 3, 0);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other, map);
  EXPECT_EQ(fake().tensorMapEncodes(), before + 2);
  EXPECT_STREQ(loomCudaGetStickyError(), "");
}

TEST_F(Cuda, TensorMapOfAMisalignedMatrixIsAnError) {
  alignas(16) static char matrix[64 * 256];
  int64_t base = int64_t(reinterpret_cast<uintptr_t>(matrix)) + 2;
  EXPECT_EQ(loomCudaTensorMap2D(base, 64, 100, 100, 9, 2, 64, 64, 3, 3, 0),
            nullptr);
  std::string error = loomCudaGetStickyError();
  EXPECT_NE(error.find("cuTensorMapEncodeTiled failed for a 64x100 tensor"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("16-byte aligned"), std::string::npos) << error;
  loomCudaClearStickyError();
  EXPECT_EQ(loomCudaTensorMap2D(base, -1, 100, 100, 9, 2, 64, 64, 3, 3, 0),
            nullptr);
  EXPECT_NE(std::string(loomCudaGetStickyError()).find("invalid tensor"),
            std::string::npos);
  loomCudaClearStickyError();
}

TEST_F(Cuda, FourDimensionalTensorMaps) {
  // A [B 2, H 3, S 40, D 64] bf16 tensor viewed as [B, S, H, D] (strides
  // S*H*D, D, H*D: the layout change of an attention fusion group), boxes
  // of 32 rows x 64 columns.
  alignas(16) static char data[2 * 3 * 40 * 64 * 2];
  int64_t base = int64_t(reinterpret_cast<uintptr_t>(data));
  int before = fake().tensorMapEncodes();
  void *map = loomCudaTensorMap4D(base, 2, 3, 40, 64, 40 * 3 * 64, 64, 3 * 64,
                                  9, 2, 32, 64, 3, 3, 0);
  ASSERT_NE(map, nullptr) << loomCudaGetStickyError();
  liveBefore = fake().liveAllocations(); // the maps' slab stays
  uint64_t words[16];
  std::memcpy(words, map, sizeof(words));
  EXPECT_EQ(words[0], uint64_t(base));
  // Innermost first: D, S, H, B; byte strides of S, H, B; box 64 x 32 x 1 x 1.
  EXPECT_EQ(std::vector<uint64_t>(words + 1, words + 5),
            (std::vector<uint64_t>{64, 40, 3, 2}));
  EXPECT_EQ(std::vector<uint64_t>(words + 6, words + 9),
            (std::vector<uint64_t>{3 * 64 * 2, 64 * 2, 40 * 3 * 64 * 2}));
  EXPECT_EQ(std::vector<uint64_t>(words + 10, words + 14),
            (std::vector<uint64_t>{64, 32, 1, 1}));
  EXPECT_EQ(words[15], 4u);
  // Cached per key; another box is another map.
  EXPECT_EQ(loomCudaTensorMap4D(base, 2, 3, 40, 64, 40 * 3 * 64, 64, 3 * 64,
                                9, 2, 32, 64, 3, 3, 0),
            map);
  EXPECT_EQ(fake().tensorMapEncodes(), before + 1);
  EXPECT_NE(loomCudaTensorMap4D(base, 2, 3, 40, 64, 40 * 3 * 64, 64, 3 * 64,
                                9, 2, 64, 64, 3, 3, 0),
            map);
  EXPECT_STREQ(loomCudaGetStickyError(), "");
  // A row stride shorter than a row, a box past 256: sticky errors naming
  // the tensor.
  EXPECT_EQ(loomCudaTensorMap4D(base, 2, 3, 40, 64, 40 * 3 * 64, 64, 32, 9, 2,
                                32, 64, 3, 3, 0),
            nullptr);
  std::string error = loomCudaGetStickyError();
  EXPECT_NE(error.find("loomCudaTensorMap4D: invalid tensor 2x3x40x64"),
            std::string::npos)
      << error;
  loomCudaClearStickyError();
  EXPECT_EQ(loomCudaTensorMap4D(base, 2, 3, 40, 64, 40 * 3 * 64, 64, 3 * 64, 9,
                                2, 512, 64, 3, 3, 0),
            nullptr);
  EXPECT_NE(std::string(loomCudaGetStickyError()).find("box 1x1x512x64"),
            std::string::npos);
  loomCudaClearStickyError();
}

TEST_F(Cuda, PoolKeepsFreedMemory) {
  EXPECT_EQ(fake().poolThreshold(), UINT64_MAX);
}

TEST_F(Cuda, BuffersAreZeroFilledAndFreed) {
  int64_t shape[] = {2, 3};
  loomBuffer *b = loomBufferCreate(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 2, shape);
  ASSERT_NE(b, nullptr) << lastError();
  EXPECT_EQ(loomBufferDevice(b), LOOM_DEVICE_CUDA);
  EXPECT_EQ(fake().liveAllocations(), liveBefore + 1);
  EXPECT_EQ(floats(b), std::vector<float>(6, 0.0f));
  float values[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_EQ(loomBufferCopyFromHost(b, values, sizeof(values)), LOOM_SUCCESS);
  EXPECT_EQ(floats(b), std::vector<float>(values, values + 6));
  loomBufferDestroy(b);
}

TEST_F(Cuda, WrappedMemoryIsNeverFreed) {
  float storage[4] = {1, 2, 3, 4};
  int64_t shape[] = {4};
  loomBuffer *w =
      loomBufferWrap(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 1, shape, storage);
  ASSERT_NE(w, nullptr) << lastError();
  EXPECT_EQ(loomBufferData(w), storage);
  EXPECT_EQ(loomBufferSizeInBytes(w), 16u);
  EXPECT_EQ(floats(w), (std::vector<float>{1, 2, 3, 4}));
  loomBufferDestroy(w); // a free of `storage` would count as a bad free
  EXPECT_EQ(storage[3], 4);

  EXPECT_EQ(loomBufferWrap(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 1, shape, nullptr),
            nullptr);
  EXPECT_EQ(lastError(), "loomBufferWrap: NULL data for a buffer of 16 bytes");
  int64_t odd[] = {3};
  EXPECT_EQ(loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_I4, 1, odd, storage),
            nullptr);
  EXPECT_NE(lastError().find("even innermost dimension"), std::string::npos);
  int64_t empty[] = {0};
  loomBuffer *none =
      loomBufferWrap(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, empty, nullptr);
  ASSERT_NE(none, nullptr) << lastError();
  loomBufferDestroy(none);
}

//===----------------------------------------------------------------------===//
// The mgpu* functions directly
//===----------------------------------------------------------------------===//

const char kImage[] = "a cubin";

TEST_F(Cuda, OneStreamPerThread) {
  void *stream = mgpuStreamCreate();
  ASSERT_NE(stream, nullptr) << sticky();
  EXPECT_EQ(mgpuStreamCreate(), stream);
  EXPECT_EQ(loomCudaGetStream(), stream);
  mgpuStreamDestroy(stream); // a no-op for the cached stream
  EXPECT_EQ(mgpuStreamCreate(), stream);
  void *other = nullptr;
  int live = fake().liveStreams();
  std::thread([&] {
    other = mgpuStreamCreate();
    EXPECT_EQ(fake().liveStreams(), live + 1);
  }).join();
  EXPECT_NE(other, nullptr);
  EXPECT_NE(other, stream);
  // The other thread's stream was destroyed when that thread exited.
  EXPECT_EQ(fake().liveStreams(), live);
  EXPECT_EQ(sticky(), "");
}

TEST_F(Cuda, HappyPath) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *stream = mgpuStreamCreate();
  int asyncBefore = fake().asyncAllocations();
  float host[300];
  for (int i = 0; i < 300; ++i)
    host[i] = float(i);
  auto *in = static_cast<float *>(mgpuMemAlloc(sizeof(host), stream, false));
  auto *out = static_cast<float *>(mgpuMemAlloc(sizeof(host), stream, false));
  EXPECT_EQ(fake().asyncAllocations(), asyncBefore + 2);
  mgpuMemcpy(in, host, sizeof(host), stream);
  void *function = mgpuModuleGetFunction(module, "scale_f32");
  ASSERT_NE(function, nullptr) << sticky();
  int64_t n = 300;
  void *params[] = {&in, &out, &n};
  mgpuLaunchKernel(function, 2, 1, 1, 256, 1, 1, 0, stream, params, nullptr, 3);
  EXPECT_STREQ(fake().lastKernel(), "scale_f32");
  EXPECT_EQ(fake().lastGridX(), 2u);
  EXPECT_EQ(fake().lastBlockX(), 256u);
  float back[300];
  mgpuMemcpy(back, out, sizeof(back), stream);
  mgpuStreamSynchronize(stream);
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(back[i], 2.0f * i) << i;
  int memsetsBefore = fake().memsets();
  mgpuMemset32(out, 0x40000000, 300, stream); // 2.0f
  mgpuMemset16(in, 0x3C00, 2, stream);
  EXPECT_EQ(fake().memsets(), memsetsBefore + 2);
  EXPECT_EQ(out[299], 2.0f);
  void *event = mgpuEventCreate();
  ASSERT_NE(event, nullptr);
  mgpuEventRecord(event, stream);
  mgpuStreamWaitEvent(stream, event);
  mgpuEventSynchronize(event);
  mgpuEventDestroy(event);
  EXPECT_EQ(fake().liveEvents(), 0);
  mgpuMemFree(in, stream);
  mgpuMemFree(out, stream);
  EXPECT_EQ(mgpuMemAlloc(0, stream, false), nullptr); // no memory, no error
  mgpuSetDefaultDevice(0);
  EXPECT_EQ(sticky(), "");
  mgpuModuleUnload(module);
}

TEST_F(Cuda, ManagedMemory) {
  void *stream = mgpuStreamCreate();
  int before = fake().managedAllocations();
  void *p = mgpuMemAlloc(64, stream, true);
  ASSERT_NE(p, nullptr) << sticky();
  EXPECT_EQ(fake().managedAllocations(), before + 1);
  mgpuMemFree(p, stream); // cuMemFree, not cuMemFreeAsync
  EXPECT_EQ(sticky(), "");
}

TEST_F(Cuda, ModuleLoadsLazilyOnce) {
  int loadsBefore = fake().moduleLoads();
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  EXPECT_EQ(fake().moduleLoads(), loadsBefore); // recorded only
  void *f = mgpuModuleGetFunction(module, "scale_f32");
  ASSERT_NE(f, nullptr) << sticky();
  EXPECT_EQ(fake().moduleLoads(), loadsBefore + 1);
  EXPECT_EQ(mgpuModuleGetFunction(module, "scale_f32"), f); // cached
  EXPECT_NE(mgpuModuleGetFunction(module, "noop"), nullptr);
  EXPECT_EQ(fake().moduleLoads(), loadsBefore + 1);
  mgpuModuleUnload(module);
  // A module that is never used is never loaded.
  mgpuModuleUnload(mgpuModuleLoad(const_cast<char *>(kImage), 8));
  EXPECT_EQ(fake().moduleLoads(), loadsBefore + 1);
  EXPECT_EQ(sticky(), "");

  char ptx[] = ".version 8.0";
  int jitBefore = fake().jitLoads();
  void *jit = mgpuModuleLoadJIT(ptx, 2);
  EXPECT_EQ(fake().jitLoads(), jitBefore);
  EXPECT_NE(mgpuModuleGetFunction(jit, "noop"), nullptr) << sticky();
  EXPECT_EQ(fake().jitLoads(), jitBefore + 1);
  mgpuModuleUnload(jit);
}

TEST_F(Cuda, ModuleLoadFailure) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  fake().failModuleLoad(209);
  EXPECT_EQ(mgpuModuleGetFunction(module, "scale_f32"), nullptr);
  EXPECT_EQ(sticky(),
            "cannot load the module's GPU code (cuModuleLoadData of 8 "
            "bytes): CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is "
            "available for execution on the device); the module was "
            "compiled for another GPU architecture (loom-compile "
            "--target=sm_NN must match this GPU)");
  // Not cached: a later call loads it.
  loomCudaClearStickyError();
  EXPECT_NE(mgpuModuleGetFunction(module, "scale_f32"), nullptr) << sticky();
  mgpuModuleUnload(module);

  char ptx[] = ".version 8.0";
  void *jit = mgpuModuleLoadJIT(ptx, 2);
  fake().failModuleLoad(218);
  loomCudaClearStickyError();
  EXPECT_EQ(mgpuModuleGetFunction(jit, "noop"), nullptr);
  EXPECT_EQ(sticky(), "cannot load the module's GPU code (cuModuleLoadDataEx "
                      "of PTX): CUDA_ERROR_INVALID_PTX (a PTX JIT compilation "
                      "failed); JIT log: ptxas fatal   : fake failure");
  mgpuModuleUnload(jit);
}

TEST_F(Cuda, UnknownKernel) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  EXPECT_EQ(mgpuModuleGetFunction(module, "nope"), nullptr);
  EXPECT_EQ(sticky(), "kernel nope not found in the module's GPU code: "
                      "CUDA_ERROR_NOT_FOUND (named symbol not found)");
  mgpuModuleUnload(module);
}

TEST_F(Cuda, FailedLaunchNamesTheKernelAndStopsLaterWork) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *stream = mgpuStreamCreate();
  void *p = mgpuMemAlloc(16, stream, false);
  void *f = mgpuModuleGetFunction(module, "noop");
  fake().failLaunch(1);
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(sticky(), "CUDA error in kernel noop (launch): "
                      "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  // Nothing more is queued: no launch, allocation, copy or memset.
  int launches = fake().launches(), allocations = fake().asyncAllocations(),
      memsets = fake().memsets();
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(mgpuMemAlloc(16, stream, false), nullptr);
  float host[4] = {9, 9, 9, 9};
  mgpuMemcpy(host, p, 16, stream);
  mgpuMemset32(p, 0, 4, stream);
  EXPECT_EQ(host[0], 9);
  EXPECT_EQ(fake().launches(), launches);
  EXPECT_EQ(fake().asyncAllocations(), allocations);
  EXPECT_EQ(fake().memsets(), memsets);
  // The first error stays; frees and synchronizations still happen.
  mgpuStreamSynchronize(stream);
  mgpuMemFree(p, stream);
  EXPECT_EQ(fake().liveAllocations(), liveBefore);
  EXPECT_EQ(sticky(), "CUDA error in kernel noop (launch): "
                      "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  // A kernel fault reported by a later launch names the earlier kernel.
  loomCudaClearStickyError();
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  fake().failLaunch(700);
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(sticky(), "CUDA error in kernel noop (launch): "
                      "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access "
                      "was encountered); a kernel launched earlier faulted "
                      "(the last one was noop)");
  mgpuModuleUnload(module);
}

TEST_F(Cuda, OutOfMemoryNamesTheSize) {
  void *stream = mgpuStreamCreate();
  fake().failAllocation(2, 0);
  EXPECT_EQ(mgpuMemAlloc(uint64_t(1) << 30, stream, false), nullptr);
  EXPECT_EQ(sticky(), "cuMemAllocAsync of 1073741824 bytes failed: "
                      "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
}

TEST_F(Cuda, FaultAtSynchronizeNamesTheLastKernel) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *stream = mgpuStreamCreate();
  fake().failSynchronize(700);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(sticky(), "CUDA error at synchronize: CUDA_ERROR_ILLEGAL_ADDRESS "
                      "(an illegal memory access was encountered)");
  loomCudaClearStickyError();
  void *f = mgpuModuleGetFunction(module, "noop");
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  fake().failSynchronize(719);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(sticky(), "CUDA error at synchronize after kernel noop: "
                      "CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)");
  mgpuModuleUnload(module);
}

TEST_F(Cuda, CallContextStreamAllocatorNoSync) {
  // What a GPU module's loom_call_<name> does around its body
  // (loomCudaCallBegin/End), with the caller's stream and allocator.
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *callerStream = nullptr;
  ASSERT_EQ(fake().streamsCreated() >= 0, true);
  callerStream = loomCudaGetStream(); // any stream the caller owns
  struct Pool {
    int allocs = 0, frees = 0;
    void *lastStream = nullptr;
  } pool;
  loomCallContext context{};
  context.size = sizeof(loomCallContext);
  context.stream = callerStream;
  context.user = &pool;
  context.alloc = [](void *user, uint64_t bytes, void *stream) -> void * {
    auto *p = static_cast<Pool *>(user);
    ++p->allocs;
    p->lastStream = stream;
    return loomHostAlloc(bytes); // the fake driver's memory is host memory
  };
  context.free = [](void *user, void *pointer, void *stream) {
    auto *p = static_cast<Pool *>(user);
    ++p->frees;
    p->lastStream = stream;
    loomHostFree(pointer);
  };
  int asyncBefore = fake().asyncAllocations();
  EXPECT_EQ(loomCudaCallBegin(&context), callerStream);
  void *stream = mgpuStreamCreate();
  EXPECT_EQ(stream, callerStream);
  float host[4] = {1, 2, 3, 4};
  auto *in = static_cast<float *>(mgpuMemAlloc(sizeof(host), stream, false));
  auto *out = static_cast<float *>(mgpuMemAlloc(sizeof(host), stream, false));
  EXPECT_EQ(pool.allocs, 2);
  EXPECT_EQ(pool.lastStream, callerStream);
  EXPECT_EQ(fake().asyncAllocations(), asyncBefore); // none from the pool
  mgpuMemcpy(in, host, sizeof(host), stream);
  int64_t n = 4;
  void *params[] = {&in, &out, &n};
  mgpuLaunchKernel(mgpuModuleGetFunction(module, "scale_f32"), 1, 1, 1, 256, 1,
                   1, 0, stream, params, nullptr, 3);
  // The entry's closing synchronization does not reach the driver: an
  // injected fault there would be seen, and is not.
  fake().failSynchronize(700);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(out[3], 8.0f);
  mgpuMemFree(in, stream);
  mgpuMemFree(out, stream);
  EXPECT_EQ(pool.frees, 2);
  EXPECT_EQ(loomCudaCallEnd(), nullptr);
  // The fault surfaces at the caller's synchronization, naming the kernel.
  EXPECT_STREQ(loomCudaStreamSynchronize(callerStream),
               "CUDA error at synchronize after kernel scale_f32: "
               "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was "
               "encountered)");
  EXPECT_STREQ(loomCudaLastKernel(), "scale_f32");
  EXPECT_EQ(loomCudaStreamSynchronize(callerStream), nullptr);
  // Outside a call, synchronizations reach the driver again.
  fake().failSynchronize(700);
  mgpuStreamSynchronize(stream);
  EXPECT_NE(sticky(), "");
  loomCudaClearStickyError();
  mgpuModuleUnload(module);
}

TEST_F(Cuda, CallContextErrors) {
  // A launch failure inside a call comes back from loomCudaCallEnd at once.
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  EXPECT_EQ(loomCudaCallBegin(nullptr), nullptr); // the legacy stream
  fake().failLaunch(1);
  mgpuLaunchKernel(mgpuModuleGetFunction(module, "noop"), 1, 1, 1, 32, 1, 1, 0,
                   nullptr, nullptr, nullptr, 0);
  const char *error = loomCudaCallEnd();
  ASSERT_NE(error, nullptr);
  EXPECT_STREQ(error, "CUDA error in kernel noop (launch): "
                      "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  // Begin clears it; a context of the wrong size or with half an allocator
  // is refused, and the allocator's failure names the size.
  loomCallContext small{};
  small.size = 8;
  loomCudaCallBegin(&small);
  EXPECT_NE(std::string(loomCudaCallEnd()).find("loomCallContext: size 8"),
            std::string::npos);
  loomCallContext half{};
  half.size = sizeof(half);
  half.alloc = [](void *, uint64_t, void *) -> void * { return nullptr; };
  loomCudaCallBegin(&half);
  EXPECT_STREQ(loomCudaCallEnd(),
               "loomCallContext: an allocator needs both alloc and free");
  loomCallContext empty{};
  empty.size = sizeof(empty);
  empty.alloc = [](void *, uint64_t, void *) -> void * { return nullptr; };
  empty.free = [](void *, void *, void *) {};
  loomCudaCallBegin(&empty);
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), nullptr);
  EXPECT_STREQ(loomCudaCallEnd(),
               "the caller's allocator returned no memory for 64 bytes");
  loomCudaClearStickyError();
  mgpuModuleUnload(module);
}

TEST_F(Cuda, LargeSharedMemorySetsTheAttribute) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *stream = mgpuStreamCreate();
  void *f = mgpuModuleGetFunction(module, "noop");
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 48 * 1024, stream, nullptr, nullptr,
                   0);
  EXPECT_EQ(fake().sharedLimit("noop"), 48 * 1024); // set even at 48 KiB
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 200 * 1024, stream, nullptr, nullptr,
                   0);
  EXPECT_EQ(sticky(), "");
  EXPECT_EQ(fake().sharedLimit("noop"), 200 * 1024);
  EXPECT_EQ(fake().lastSharedBytes(), 200u * 1024);
  // Beyond what the device allows: the attribute fails, named.
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 300 * 1024, stream, nullptr, nullptr,
                   0);
  EXPECT_EQ(sticky(), "CUDA error in kernel noop (setting 307200 bytes of "
                      "dynamic shared memory): CUDA_ERROR_INVALID_VALUE "
                      "(invalid argument)");
  mgpuModuleUnload(module);
}

TEST_F(Cuda, GridChecks) {
  void *module = mgpuModuleLoad(const_cast<char *>(kImage), sizeof(kImage));
  void *stream = mgpuStreamCreate();
  void *f = mgpuModuleGetFunction(module, "noop");
  int launches = fake().launches();
  mgpuLaunchKernel(f, 0, 1, 1, 256, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(fake().launches(), launches); // an empty grid: no work
  EXPECT_EQ(sticky(), "");
  mgpuLaunchKernel(f, -1, 1, 1, 256, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(sticky(), "CUDA error in kernel noop (launch): invalid grid (-1, "
                      "1, 1), block (256, 1, 1) or 0 bytes of dynamic shared "
                      "memory");
  loomCudaClearStickyError();
  mgpuLaunchKernel(f, 1, 1, 1, 0, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_NE(sticky().find("invalid grid"), std::string::npos);
  loomCudaClearStickyError();
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, stream, nullptr, nullptr, 0);
  EXPECT_EQ(sticky(), "mgpuLaunchKernel: no kernel (a NULL function handle)");
  loomCudaClearStickyError();
  mgpuSetDefaultDevice(1);
  EXPECT_EQ(sticky(), "mgpuSetDefaultDevice(1): the Loom runtime uses CUDA "
                      "device 0 only");
  mgpuModuleUnload(module);
}

//===----------------------------------------------------------------------===//
// A CUDA module through loomEntryCall
//===----------------------------------------------------------------------===//

class CudaModule : public Cuda {
protected:
  void SetUp() override {
    Cuda::SetUp();
    module = loomModuleLoad(modulePath("test_module_cuda.so").c_str(),
                            LOOM_DEVICE_CUDA);
    ASSERT_NE(module, nullptr) << lastError();
  }
  void TearDown() override {
    loomModuleUnload(module);
    Cuda::TearDown();
  }
  const loomEntry *entry(const char *name) {
    const loomEntry *e = loomModuleLookupEntry(module, name);
    EXPECT_NE(e, nullptr) << lastError();
    return e;
  }
  loomModule *module = nullptr;
};

TEST_F(CudaModule, Loads) {
  EXPECT_STREQ(loomModuleTarget(module), "sm_90a");
  EXPECT_STREQ(loomModuleInputHints(module),
               "entry scale8: f 10 12\nentry echo: i 0 1\nentry pair: f 1\n");
  EXPECT_EQ(loomModuleDevice(module), LOOM_DEVICE_CUDA);
  EXPECT_EQ(loomModuleNumEntries(module), 8);
  // For the CPU: a clear refusal, no crash.
  EXPECT_EQ(loomModuleLoad(modulePath("test_module_cuda.so").c_str(),
                           LOOM_DEVICE_CPU),
            nullptr);
  EXPECT_EQ(lastError(), "module '" + modulePath("test_module_cuda.so") +
                             "' was compiled for target 'sm_90a', which runs "
                             "on cuda; it cannot run on cpu");
  // And a CPU module for CUDA.
  EXPECT_EQ(loomModuleLoad(modulePath("test_module_good.so").c_str(),
                           LOOM_DEVICE_CUDA),
            nullptr);
  EXPECT_EQ(lastError(), "module '" + modulePath("test_module_good.so") +
                             "' was compiled for target 'cpu', which runs on "
                             "cpu; it cannot run on cuda");
}

TEST_F(CudaModule, ScaleEndToEnd) {
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 0.5f * float(i) - 3;
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {1000}, x.data(), 4000);
  int live = fake().liveAllocations();
  for (int round = 0; round < 2; ++round) {
    loomBuffer *result = nullptr;
    ASSERT_EQ(loomEntryCall(entry("scale"), &arg, 1, &result, 1), LOOM_SUCCESS)
        << lastError();
    EXPECT_EQ(loomBufferDevice(result), LOOM_DEVICE_CUDA);
    EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{1000}));
    EXPECT_EQ(fake().lastGridX(), 4u); // ceil(1000 / 256)
    std::vector<float> y = floats(result);
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(y[i], 2 * x[i]) << i;
    EXPECT_EQ(fake().liveAllocations(), live + 1);
    loomBufferDestroy(result); // cuMemFreeAsync of the module's memory
    EXPECT_EQ(fake().liveAllocations(), live);
  }
  EXPECT_EQ(floats(arg), x); // arguments are only read
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, LoadsItsCodeOnFirstCall) {
  // A fresh load of the same file does not run the constructor again (the
  // library stays mapped), so count from the first call of this module.
  int loads = fake().moduleLoads();
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {8}, x, sizeof(x));
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("scale8"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  loomBufferDestroy(result);
  ASSERT_EQ(loomEntryCall(entry("scale8"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  loomBufferDestroy(result);
  EXPECT_LE(fake().moduleLoads(), loads + 1);
  EXPECT_GE(fake().moduleLoads(), 1);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, WrappedArguments) {
  // Arguments wrapping caller-owned device memory (a torch tensor's
  // data_ptr(), here the fake's host memory).
  float storage[3] = {1, -2, 4};
  int64_t shape[] = {3};
  loomBuffer *arg =
      loomBufferWrap(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 1, shape, storage);
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("scale"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(floats(result), (std::vector<float>{2, -4, 8}));
  loomBufferDestroy(result);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, EmptyTensorLaunchesNothing) {
  int64_t shape[] = {0};
  loomBuffer *arg =
      loomBufferWrap(LOOM_DEVICE_CUDA, LOOM_DTYPE_F32, 1, shape, nullptr);
  int launches = fake().launches();
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("scale"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(fake().launches(), launches);
  EXPECT_EQ(loomBufferSizeInBytes(result), 0u);
  EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{0}));
  loomBufferDestroy(result);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, CpuArgumentIsAnError) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1,
                                     std::vector<int64_t>{4}.data());
  ASSERT_EQ(loomBufferCopyFromHost(arg, x, sizeof(x)), LOOM_SUCCESS);
  loomBuffer *result = nullptr;
  EXPECT_EQ(loomEntryCall(entry("scale"), &arg, 1, &result, 1), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "argument 0 of entry 'scale' (tensor<?xf32>) is a "
                         "cpu buffer; the module runs on cuda");
  EXPECT_EQ(result, nullptr);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, TwoResultsAndAnIntermediate) {
  float x[4] = {1, 2, 3, -4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  int live = fake().liveAllocations();
  loomBuffer *results[2] = {};
  ASSERT_EQ(loomEntryCall(entry("pair"), &arg, 1, results, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(floats(results[0]), (std::vector<float>{4, 8, 12, -16}));
  EXPECT_EQ(floats(results[1]), (std::vector<float>{4, 8, 12, -16}));
  EXPECT_EQ(fake().liveAllocations(), live + 2); // the intermediate is freed
  EXPECT_EQ(fake().liveEvents(), 0);
  loomBufferDestroy(results[0]);
  loomBufferDestroy(results[1]);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, Memsets) {
  int32_t zeros[4] = {};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_I32, {4}, zeros, sizeof(zeros));
  loomBuffer *results[2] = {};
  ASSERT_EQ(loomEntryCall(entry("fill"), &arg, 1, results, 2), LOOM_SUCCESS)
      << lastError();
  int32_t ints[4];
  uint16_t halves[4];
  ASSERT_EQ(loomBufferCopyToHost(results[0], ints, 16), LOOM_SUCCESS);
  ASSERT_EQ(loomBufferCopyToHost(results[1], halves, 8), LOOM_SUCCESS);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ints[i], 7);
    EXPECT_EQ(halves[i], 0x3C00);
  }
  EXPECT_EQ(loomBufferDType(results[1]), LOOM_DTYPE_F16);
  for (loomBuffer *b : {results[0], results[1], arg})
    loomBufferDestroy(b);
}

TEST_F(CudaModule, LargeSharedMemory) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("big_smem"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_GE(fake().sharedLimit("scale_f32"), 100 * 1024);
  EXPECT_EQ(fake().lastSharedBytes(), 100u * 1024);
  EXPECT_EQ(floats(result), (std::vector<float>{2, 4, 6, 8}));
  loomBufferDestroy(result);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, AliasedAndStridedResultsAreCopied) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry("echo"), &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_NE(loomBufferData(result), loomBufferData(arg));
  EXPECT_EQ(floats(result), (std::vector<float>{1, 2, 3, 4}));
  loomBufferDestroy(result);
  EXPECT_EQ(floats(arg), (std::vector<float>{1, 2, 3, 4}));
  loomBufferDestroy(arg);

  float m[6] = {1, 2, 3, 4, 5, 6};
  arg = deviceBuffer(LOOM_DTYPE_F32, {2, 3}, m, sizeof(m));
  ASSERT_EQ(loomEntryCall(entry("transpose"), &arg, 1, &result, 1),
            LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(shapeOf(result), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(floats(result), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  loomBufferDestroy(result);
  loomBufferDestroy(arg);
}

/// Calls `name` expecting a failure with `message`: no results stored, and
/// (checked by TearDown) everything the entry allocated freed.
void expectFailure(const loomEntry *entry, loomBuffer *arg, int numResults,
                   const std::string &message) {
  loomBuffer *results[2] = {};
  EXPECT_EQ(loomEntryCall(entry, &arg, 1, results, numResults), LOOM_FAILURE);
  EXPECT_EQ(lastError(), message);
  EXPECT_EQ(results[0], nullptr);
  EXPECT_EQ(results[1], nullptr);
}

TEST_F(CudaModule, FailedLaunch) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  int live = fake().liveAllocations();
  fake().failLaunch(1);
  expectFailure(entry("pair"), arg, 2,
                "CUDA error in kernel scale_f32 (launch): "
                "CUDA_ERROR_INVALID_VALUE (invalid argument)");
  EXPECT_EQ(fake().liveAllocations(), live);
  // The next call starts clean.
  loomBuffer *results[2] = {};
  ASSERT_EQ(loomEntryCall(entry("pair"), &arg, 1, results, 2), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(floats(results[1]), (std::vector<float>{4, 8, 12, 16}));
  loomBufferDestroy(results[0]);
  loomBufferDestroy(results[1]);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, OutOfMemory) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  int live = fake().liveAllocations();
  // The third allocation (the second result) fails: the intermediate and
  // the first result were allocated and must be freed.
  fake().failAllocation(2, 2);
  expectFailure(entry("pair"), arg, 2,
                "cuMemAllocAsync of 16 bytes failed: CUDA_ERROR_OUT_OF_MEMORY "
                "(out of memory)");
  EXPECT_EQ(fake().liveAllocations(), live);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, FaultAtSynchronize) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  int live = fake().liveAllocations();
  fake().failSynchronize(700);
  expectFailure(entry("pair"), arg, 2,
                "CUDA error at synchronize after kernel scale_f32: "
                "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was "
                "encountered)");
  EXPECT_EQ(fake().liveAllocations(), live);
  loomBufferDestroy(arg);
}

TEST_F(CudaModule, MissingKernel) {
  float x[4] = {1, 2, 3, 4};
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {4}, x, sizeof(x));
  expectFailure(entry("missing_kernel"), arg, 1,
                "kernel no_such_kernel not found in the module's GPU code: "
                "CUDA_ERROR_NOT_FOUND (named symbol not found)");
  loomBufferDestroy(arg);
}

//===----------------------------------------------------------------------===//
// A module as MLIR's gpu-to-llvm lowers it
//===----------------------------------------------------------------------===//

TEST_F(Cuda, GpuToLLVMOutput) {
  int jitLoads = fake().jitLoads();
  loomModule *m = loomModuleLoad(
      modulePath("test_module_gpu_to_llvm.so").c_str(), LOOM_DEVICE_CUDA);
  ASSERT_NE(m, nullptr) << lastError();
  EXPECT_EQ(fake().jitLoads(), jitLoads); // the constructor only records
  const loomEntry *scale = loomModuleLookupEntry(m, "scale");
  ASSERT_NE(scale, nullptr) << lastError();
  std::vector<float> x(700);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i) * 0.25f - 7;
  loomBuffer *arg = deviceBuffer(LOOM_DTYPE_F32, {700}, x.data(), 2800);
  int live = fake().liveAllocations();
  int async = fake().asyncAllocations();
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(scale, &arg, 1, &result, 1), LOOM_SUCCESS)
      << lastError();
  EXPECT_EQ(fake().jitLoads(), jitLoads + 1);      // PTX, JIT-compiled on use
  EXPECT_EQ(fake().asyncAllocations(), async + 2); // result + intermediate
  EXPECT_EQ(fake().liveAllocations(), live + 1);   // the intermediate freed
  EXPECT_STREQ(fake().lastKernel(), "scale_f32");
  EXPECT_EQ(fake().lastGridX(), 3u);
  EXPECT_EQ(fake().lastBlockX(), 256u);
  std::vector<float> y = floats(result);
  ASSERT_EQ(y.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(y[i], 2 * x[i]) << i;
  loomBufferDestroy(result);

  // A failing launch: no result, and the module's memory is freed.
  fake().failLaunch(701);
  result = nullptr;
  EXPECT_EQ(loomEntryCall(scale, &arg, 1, &result, 1), LOOM_FAILURE);
  EXPECT_EQ(lastError(), "CUDA error in kernel copy_f32 (launch): "
                         "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (too many "
                         "resources requested for launch)");
  EXPECT_EQ(result, nullptr);
  EXPECT_EQ(fake().liveAllocations(), live);
  loomBufferDestroy(arg);
  loomModuleUnload(m);
}

//===----------------------------------------------------------------------===//
// loom-run --target=cuda
//===----------------------------------------------------------------------===//

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs loom-run with the fake driver and extra environment assignments.
RunResult loomRun(const std::string &args, const std::string &env = "") {
  // ctest runs each test in its own process, in parallel: the files are
  // named after the test and the process so that tests do not read each
  // other's output.
  std::string dir = ::testing::TempDir();
  std::string stem =
      dir + "/loom-run-" +
      ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
      std::to_string(getpid());
  std::string out = stem + ".out", err = stem + ".err";
  std::string command = "env LOOM_CUDA_DRIVER='" + std::string(LOOM_FAKE_CUDA) +
                        "' " + env + " '" + LOOM_RUN + "' " + args + " >'" +
                        out + "' 2>'" + err + "'";
  RunResult r;
  int status = std::system(command.c_str());
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

class LoomRun : public ::testing::Test {
protected:
  void SetUp() override {
    dir = ::testing::TempDir();
    std::string stem =
        dir + "/loom-run-" +
        ::testing::UnitTest::GetInstance()->current_test_info()->name() +
        "-" + std::to_string(getpid());
    input = stem + "-x.npy";
    output = stem + "-y.npy";
    std::remove(output.c_str());
    loom::npy::Array x;
    x.dtype = loom::npy::DType::F32;
    x.shape = {8};
    x.data.resize(32);
    for (int i = 0; i < 8; ++i) {
      float v = 1.5f * i - 4;
      std::memcpy(x.data.data() + 4 * i, &v, 4);
    }
    std::string error;
    ASSERT_TRUE(loom::npy::writeNpy(input, x, error)) << error;
  }
  std::string dir, input, output;
  std::string cudaModule = modulePath("test_module_cuda.so");
};

TEST_F(LoomRun, RunsOnTheFakeGpu) {
  RunResult r =
      loomRun(cudaModule + " --entry=scale8 --target=cuda --input=" + input +
              " --output=" + output);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  loom::npy::Array y;
  std::string error;
  ASSERT_TRUE(loom::npy::readNpy(output, y, error)) << error;
  ASSERT_EQ(y.shape, (std::vector<int64_t>{8}));
  for (int i = 0; i < 8; ++i) {
    float v;
    std::memcpy(&v, y.data.data() + 4 * i, 4);
    EXPECT_EQ(v, 2 * (1.5f * i - 4)) << i;
  }
}

TEST_F(LoomRun, Bench) {
  RunResult r =
      loomRun(cudaModule + " --entry=scale8 --target=cuda --random-inputs "
                           "--bench=3");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("result 0: tensor<8xf32>, shape (8,), float32"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("bench: scale8 on cuda, 3 runs, median "),
            std::string::npos)
      << r.out;
}

TEST_F(LoomRun, RandomInputsFollowTheModulesHints) {
  // scale8 doubles its argument, which the module's hints draw from [10, 12).
  RunResult r = loomRun(cudaModule + " --entry=scale8 --target=cuda "
                                     "--random-inputs --seed=5 --output=" +
                        output);
  ASSERT_EQ(r.status, 0) << r.err;
  loom::npy::Array y;
  std::string error;
  ASSERT_TRUE(loom::npy::readNpy(output, y, error)) << error;
  ASSERT_EQ(y.shape, std::vector<int64_t>{8});
  float lo = 1e30f, hi = -1e30f;
  for (int i = 0; i < 8; ++i) {
    float v;
    std::memcpy(&v, y.data.data() + 4 * i, 4);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, 20.0f);
  EXPECT_LT(hi, 24.0f);
  EXPECT_GT(hi - lo, 0.1f); // not one value

  // Hints that do not fit the arguments: the module is corrupt.
  r = loomRun(cudaModule + " --entry=echo --target=cuda --random-inputs");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: malformed input hints for entry 'echo' in the "
                   "module (argument 0: an integer range that is empty or "
                   "outside tensor<4xf32>)\n");
  r = loomRun(cudaModule + " --entry=pair --target=cuda --random-inputs");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: malformed input hints for entry 'pair' in the "
                   "module (argument 0: unknown hint 'f 1')\n");
  // Hints are read only for --random-inputs: echo's 4 elements refuse the
  // 8 of the input, not the hints.
  r = loomRun(cudaModule + " --entry=echo --target=cuda --input=" + input);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find("input hints"), std::string::npos) << r.err;
  // An entry without a line (fill) keeps the default ranges.
  r = loomRun(cudaModule + " --entry=fill --target=cuda --random-inputs");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(LoomRun, KernelFailureIsOneLine) {
  RunResult r =
      loomRun(cudaModule + " --entry=scale8 --target=cuda --input=" + input +
                  " --output=" + output,
              "LOOM_FAKE_CUDA_FAIL_LAUNCH=719");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: CUDA error in kernel scale_f32 (launch): "
                   "CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_NE(access(output.c_str(), F_OK), 0) << "no output after a failure";

  r = loomRun(cudaModule + " --entry=scale8 --target=cuda --random-inputs",
              "LOOM_FAKE_CUDA_FAIL_SYNC=700");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: CUDA error at synchronize after kernel "
                   "scale_f32: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory "
                   "access was encountered)\n");

  r = loomRun(cudaModule + " --entry=scale8 --target=cuda --random-inputs",
              "LOOM_FAKE_CUDA_NO_DEVICE=1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: no CUDA device found (the driver is "
                   "installed)\n");
}

TEST_F(LoomRun, TargetMismatch) {
  RunResult r = loomRun(cudaModule + " --entry=scale8 --random-inputs");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: module '" + cudaModule +
                       "' was compiled for target 'sm_90a', which runs on "
                       "cuda; it cannot run on cpu\n");
  std::string cpuModule = modulePath("test_module_good.so");
  r = loomRun(cpuModule + " --entry=nothing --target=cuda");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: module '" + cpuModule +
                       "' was compiled for target 'cpu', which runs on cpu; "
                       "it cannot run on cuda\n");
  r = loomRun(cudaModule + " --entry=scale8 --target=cuda --chip=sm_80 "
                           "--random-inputs");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: --chip applies to a .mlir FILE, which loom-run "
                   "compiles; '" +
                       cudaModule + "' is compiled already\n");
  r = loomRun(cudaModule + " --entry=scale8 --chip=sm_80 --random-inputs");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "loom-run: --chip=sm_80 needs --target=cuda\n");
}

} // namespace

int main(int argc, char **argv) {
  // Before anything loads a driver.
  setenv("LOOM_CUDA_DRIVER", LOOM_FAKE_CUDA, 1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
