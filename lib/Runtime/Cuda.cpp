// The CUDA driver API reached through dlopen, with its types declared here.
//
// Only the handful of entry points that the runtime uses are resolved. The
// `_v2` names are the ones libcuda exports for the 64-bit memory API (the
// unsuffixed names are macros in cuda.h).

#include "Cuda.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace loom {
namespace runtime {
namespace cuda {

namespace {

// From cuda.h, declared here so that no CUDA toolkit is needed to build.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
using CUcontext = CUctx_st *;
constexpr CUresult CUDA_SUCCESS = 0;

struct Driver {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  CUcontext context = nullptr;
  bool ready = false;
  std::string error; // why the driver is unusable, when !ready
};

std::string describe(const Driver &d, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName)
    d.cuGetErrorName(result, &name);
  if (d.cuGetErrorString)
    d.cuGetErrorString(result, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(result);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

template <typename F> bool resolve(void *handle, const char *name, F &fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  return fn != nullptr;
}

void load(Driver &d) {
  const char *override = std::getenv("LOOM_CUDA_DRIVER");
  std::string path = override && *override ? override : "libcuda.so.1";
  d.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!d.handle) {
    const char *why = dlerror();
    d.error = "CUDA driver " + path + " not found: " +
              (why ? why : "dlopen failed") +
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
  LOOM_RESOLVE(cuMemFree, "cuMemFree_v2")
  LOOM_RESOLVE(cuMemcpyHtoD, "cuMemcpyHtoD_v2")
  LOOM_RESOLVE(cuMemcpyDtoH, "cuMemcpyDtoH_v2")
  LOOM_RESOLVE(cuGetErrorName, "cuGetErrorName")
  LOOM_RESOLVE(cuGetErrorString, "cuGetErrorString")
#undef LOOM_RESOLVE
  if (missing) {
    d.error = "CUDA driver " + path + " lacks " + missing +
              " (a driver too old for Loom, or not a CUDA driver)";
    return;
  }
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
  CUdevice device = 0;
  if (CUresult r = d.cuDeviceGet(&device, 0); r != CUDA_SUCCESS) {
    d.error = "cannot open CUDA device 0: " + describe(d, r);
    return;
  }
  if (CUresult r = d.cuDevicePrimaryCtxRetain(&d.context, device);
      r != CUDA_SUCCESS) {
    d.error = "cannot create a CUDA context: " + describe(d, r);
    return;
  }
  d.ready = true;
}

Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] { load(d); });
  return d;
}

/// The driver, ready, with the context current on the calling thread.
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

} // namespace

bool init(std::string &error) { return ready(error) != nullptr; }

bool allocate(size_t bytes, uint64_t &pointer, std::string &error) {
  Driver *d = ready(error);
  if (!d)
    return false;
  CUdeviceptr p = 0;
  if (CUresult r = d->cuMemAlloc(&p, bytes ? bytes : 1); r != CUDA_SUCCESS) {
    error = "cuMemAlloc of " + std::to_string(bytes) +
            " bytes failed: " + describe(*d, r);
    return false;
  }
  pointer = p;
  return true;
}

void release(uint64_t pointer) {
  std::string ignored;
  if (Driver *d = ready(ignored))
    d->cuMemFree(pointer);
}

bool copyToDevice(uint64_t destination, const void *source, size_t bytes,
                  std::string &error) {
  Driver *d = ready(error);
  if (!d)
    return false;
  if (CUresult r = d->cuMemcpyHtoD(destination, source, bytes);
      r != CUDA_SUCCESS) {
    error = "cuMemcpyHtoD failed: " + describe(*d, r);
    return false;
  }
  return true;
}

bool copyToHost(void *destination, uint64_t source, size_t bytes,
                std::string &error) {
  Driver *d = ready(error);
  if (!d)
    return false;
  if (CUresult r = d->cuMemcpyDtoH(destination, source, bytes);
      r != CUDA_SUCCESS) {
    error = "cuMemcpyDtoH failed: " + describe(*d, r);
    return false;
  }
  return true;
}

bool synchronize(std::string &error) {
  Driver *d = ready(error);
  if (!d)
    return false;
  if (CUresult r = d->cuCtxSynchronize(); r != CUDA_SUCCESS) {
    error = "cuCtxSynchronize failed: " + describe(*d, r);
    return false;
  }
  return true;
}

} // namespace cuda
} // namespace runtime
} // namespace loom
