// The CUDA driver API reached through dlopen, with its types declared in
// Cuda.h.
//
// The driver is loaded once per process. Its state is a heap object that is
// never destroyed: GPU modules unload their code from global destructors
// (mgpuModuleUnload), which may run at exit after this file's static objects
// would have been destroyed.

#include "Cuda.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace loom {
namespace runtime {
namespace cuda {

namespace {

template <typename F> bool resolve(void *handle, const char *name, F &fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  return fn != nullptr;
}

void load(Driver &d) {
  const char *override = std::getenv("LOOM_CUDA_DRIVER");
  d.path = override && *override ? override : "libcuda.so.1";
  d.handle = dlopen(d.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!d.handle) {
    const char *why = dlerror();
    d.error = "CUDA driver " + d.path +
              " not found: " + (why ? why : "dlopen failed") +
              " (the CPU target needs no driver)";
    return;
  }
  const char *missing = nullptr;
#define LOOM_RESOLVE(field, symbol)                                            \
  if (!missing && !resolve(d.handle, symbol, d.field))                         \
    missing = symbol;
  LOOM_RESOLVE(cuInit, "cuInit")
  LOOM_RESOLVE(cuDeviceGetCount, "cuDeviceGetCount")
  LOOM_RESOLVE(cuDeviceGet, "cuDeviceGet")
  LOOM_RESOLVE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  LOOM_RESOLVE(cuCtxSetCurrent, "cuCtxSetCurrent")
  LOOM_RESOLVE(cuCtxSynchronize, "cuCtxSynchronize")
  LOOM_RESOLVE(cuMemAlloc, "cuMemAlloc_v2")
  LOOM_RESOLVE(cuMemAllocManaged, "cuMemAllocManaged")
  LOOM_RESOLVE(cuMemFree, "cuMemFree_v2")
  LOOM_RESOLVE(cuMemcpyHtoD, "cuMemcpyHtoD_v2")
  LOOM_RESOLVE(cuMemcpyDtoH, "cuMemcpyDtoH_v2")
  LOOM_RESOLVE(cuMemsetD8, "cuMemsetD8_v2")
  LOOM_RESOLVE(cuMemcpyAsync, "cuMemcpyAsync")
  LOOM_RESOLVE(cuMemsetD32Async, "cuMemsetD32Async")
  LOOM_RESOLVE(cuMemsetD16Async, "cuMemsetD16Async")
  LOOM_RESOLVE(cuStreamCreate, "cuStreamCreate")
  LOOM_RESOLVE(cuStreamDestroy, "cuStreamDestroy_v2")
  LOOM_RESOLVE(cuStreamSynchronize, "cuStreamSynchronize")
  LOOM_RESOLVE(cuStreamWaitEvent, "cuStreamWaitEvent")
  LOOM_RESOLVE(cuEventCreate, "cuEventCreate")
  LOOM_RESOLVE(cuEventDestroy, "cuEventDestroy_v2")
  LOOM_RESOLVE(cuEventSynchronize, "cuEventSynchronize")
  LOOM_RESOLVE(cuEventRecord, "cuEventRecord")
  LOOM_RESOLVE(cuModuleLoadData, "cuModuleLoadData")
  LOOM_RESOLVE(cuModuleLoadDataEx, "cuModuleLoadDataEx")
  LOOM_RESOLVE(cuModuleUnload, "cuModuleUnload")
  LOOM_RESOLVE(cuModuleGetFunction, "cuModuleGetFunction")
  LOOM_RESOLVE(cuFuncSetAttribute, "cuFuncSetAttribute")
  LOOM_RESOLVE(cuLaunchKernel, "cuLaunchKernel")
  LOOM_RESOLVE(cuGetErrorName, "cuGetErrorName")
  LOOM_RESOLVE(cuGetErrorString, "cuGetErrorString")
#undef LOOM_RESOLVE
  if (missing) {
    d.error = "CUDA driver " + d.path + " lacks " + missing +
              " (a driver too old for Loom, or not a CUDA driver)";
    return;
  }
  // The stream-ordered allocator (CUDA 11.2+) is optional.
  resolve(d.handle, "cuMemAllocAsync", d.cuMemAllocAsync);
  resolve(d.handle, "cuMemFreeAsync", d.cuMemFreeAsync);
  resolve(d.handle, "cuDeviceGetDefaultMemPool", d.cuDeviceGetDefaultMemPool);
  resolve(d.handle, "cuMemPoolSetAttribute", d.cuMemPoolSetAttribute);
  resolve(d.handle, "cuTensorMapEncodeTiled", d.cuTensorMapEncodeTiled);

  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS) {
    d.error = "CUDA driver initialization failed: " + describe(d, r);
    return;
  }
  int count = 0;
  if (CUresult r = d.cuDeviceGetCount(&count); r != CUDA_SUCCESS) {
    d.error = "cannot count CUDA devices: " + describe(d, r);
    return;
  }
  if (count == 0) {
    d.error = "no CUDA device found (the driver is installed)";
    return;
  }
  if (CUresult r = d.cuDeviceGet(&d.device, 0); r != CUDA_SUCCESS) {
    d.error = "cannot open CUDA device 0: " + describe(d, r);
    return;
  }
  if (CUresult r = d.cuDevicePrimaryCtxRetain(&d.context, d.device);
      r != CUDA_SUCCESS) {
    d.error = "cannot create a CUDA context: " + describe(d, r);
    return;
  }
  // Modules allocate their intermediates and results on every call: keep
  // freed memory in the pool (threshold UINT64_MAX) instead of returning it
  // to the system at every synchronization.
  if (d.cuMemAllocAsync && d.cuMemFreeAsync && d.cuDeviceGetDefaultMemPool &&
      d.cuMemPoolSetAttribute) {
    CUmemoryPool pool = nullptr;
    uint64_t threshold = UINT64_MAX;
    d.streamOrderedAllocator =
        d.cuCtxSetCurrent(d.context) == CUDA_SUCCESS &&
        d.cuDeviceGetDefaultMemPool(&pool, d.device) == CUDA_SUCCESS &&
        d.cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                &threshold) == CUDA_SUCCESS;
  }
  d.ready = true;
}

Driver &driver() {
  static Driver *d = new Driver; // never destroyed (see the file comment)
  static std::once_flag once;
  std::call_once(once, [] { load(*d); });
  return *d;
}

} // namespace

std::string describe(const Driver &d, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName && d.cuGetErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (d.cuGetErrorString && d.cuGetErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  std::string s = name ? name : "CUDA error " + std::to_string(result);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

Driver *ready(std::string &error) {
  Driver &d = driver();
  if (!d.ready) {
    error = d.error;
    return nullptr;
  }
  if (CUresult r = d.cuCtxSetCurrent(d.context); r != CUDA_SUCCESS) {
    error = "cannot make the CUDA context current: " + describe(d, r);
    return nullptr;
  }
  return &d;
}

bool init(std::string &error) { return ready(error) != nullptr; }

namespace {
/// Runs `call` with the ready driver. On failure `error` says what failed
/// (`what()`, built only then) and why.
template <typename Call, typename What>
bool run(std::string &error, Call call, What what) {
  Driver *d = ready(error);
  if (!d)
    return false;
  if (CUresult r = call(*d); r != CUDA_SUCCESS) {
    error = what() + " failed: " + describe(*d, r);
    return false;
  }
  return true;
}

/// "NAME of N bytes", the subject of a failed memory operation.
std::string ofBytes(const char *name, size_t bytes) {
  return std::string(name) + " of " + std::to_string(bytes) + " bytes";
}
} // namespace

bool allocate(size_t bytes, uint64_t &pointer, std::string &error) {
  CUdeviceptr p = 0;
  if (!run(
          error, [&](Driver &d) { return d.cuMemAlloc(&p, bytes ? bytes : 1); },
          [&] { return ofBytes("cuMemAlloc", bytes); }))
    return false;
  pointer = p;
  return true;
}

void release(uint64_t pointer) {
  std::string ignored;
  if (Driver *d = ready(ignored))
    d->cuMemFree(pointer);
}

bool fillZero(uint64_t pointer, size_t bytes, std::string &error) {
  if (bytes == 0)
    return init(error);
  return run(
      error, [&](Driver &d) { return d.cuMemsetD8(pointer, 0, bytes); },
      [&] { return ofBytes("cuMemsetD8", bytes); });
}

bool copyToDevice(uint64_t destination, const void *source, size_t bytes,
                  std::string &error) {
  if (bytes == 0)
    return init(error);
  return run(
      error,
      [&](Driver &d) { return d.cuMemcpyHtoD(destination, source, bytes); },
      [&] { return ofBytes("cuMemcpyHtoD", bytes); });
}

bool copyToHost(void *destination, uint64_t source, size_t bytes,
                std::string &error) {
  if (bytes == 0)
    return init(error);
  return run(
      error,
      [&](Driver &d) { return d.cuMemcpyDtoH(destination, source, bytes); },
      [&] { return ofBytes("cuMemcpyDtoH", bytes); });
}

bool synchronize(std::string &error) {
  return run(
      error, [](Driver &d) { return d.cuCtxSynchronize(); },
      [] { return std::string("cuCtxSynchronize"); });
}

} // namespace cuda
} // namespace runtime
} // namespace loom
