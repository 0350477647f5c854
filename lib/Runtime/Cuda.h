// The runtime's CUDA part: the driver API, loaded with dlopen on first use.
//
// No CUDA header or library is needed to build: the few driver types and
// entry points used are declared here and resolved at run time, so the
// runtime builds and its CPU path runs on machines without a GPU or driver.
// Internal to the runtime library (Runtime.cpp, DeviceAPI.cpp) and its tests.
#ifndef LOOM_LIB_RUNTIME_CUDA_H
#define LOOM_LIB_RUNTIME_CUDA_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {
namespace runtime {
namespace cuda {

// From cuda.h, declared here so that no CUDA toolkit is needed to build.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUstream_st;
struct CUevent_st;
struct CUmod_st;
struct CUfunc_st;
struct CUmemPoolHandle_st;
using CUcontext = CUctx_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUmemoryPool = CUmemPoolHandle_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr unsigned CU_STREAM_DEFAULT = 0;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
constexpr int CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr int CU_JIT_OPTIMIZATION_LEVEL = 7;
/// Dynamic shared memory a kernel may use without opting in.
constexpr int32_t kDefaultDynamicSharedBytes = 48 * 1024;

/// The driver's entry points, resolved by name (the `_v2` names are the ones
/// libcuda exports for the 64-bit API; the unsuffixed names are macros in
/// cuda.h). Optional ones may be null: the stream-ordered allocator
/// (cuMemAllocAsync and the pool functions) falls back to cuMemAlloc.
struct Driver {
  void *handle = nullptr;
  std::string path;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t) = nullptr;
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t,
                            CUstream) = nullptr;
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t,
                               CUstream) = nullptr;
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t,
                               CUstream) = nullptr;
  CUresult (*cuStreamCreate)(CUstream *, unsigned) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream) = nullptr;
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned) = nullptr;
  CUresult (*cuEventCreate)(CUevent *, unsigned) = nullptr;
  CUresult (*cuEventDestroy)(CUevent) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent) = nullptr;
  CUresult (*cuEventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule,
                                  const char *) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  // Optional: the stream-ordered allocator.
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream) = nullptr;
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream) = nullptr;
  CUresult (*cuDeviceGetDefaultMemPool)(CUmemoryPool *, CUdevice) = nullptr;
  CUresult (*cuMemPoolSetAttribute)(CUmemoryPool, int, void *) = nullptr;
  // Optional: TMA tensor maps (CUDA 12 drivers and later).
  CUresult (*cuTensorMapEncodeTiled)(void *tensorMap, int dataType,
                                     uint32_t rank, void *globalAddress,
                                     const uint64_t *globalDim,
                                     const uint64_t *globalStrides,
                                     const uint32_t *boxDim,
                                     const uint32_t *elementStrides,
                                     int interleave, int swizzle,
                                     int l2Promotion, int oobFill) = nullptr;

  CUdevice device = 0;
  CUcontext context = nullptr;
  /// True when allocations go through cuMemAllocAsync on the device's
  /// default pool (whose release threshold was raised so that freed memory
  /// stays cached); false when the driver or device lacks it.
  bool streamOrderedAllocator = false;
  bool ready = false;
  std::string error; // why the driver is unusable, when !ready
};

/// Loads the driver (once; later calls return the first outcome), calls
/// cuInit, checks that there is a GPU and makes device 0's primary context
/// current on this thread. The driver's path is libcuda.so.1, or the
/// LOOM_CUDA_DRIVER environment variable when set (tests use it to point at
/// a missing file, or at a fake driver, on machines that have a driver).
bool init(std::string &error);

/// The driver, ready, with device 0's primary context current on the calling
/// thread; null with `error` saying why not.
Driver *ready(std::string &error);

/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)": the driver's name and
/// description of `result`.
std::string describe(const Driver &driver, CUresult result);

/// Synchronous helpers for buffers the runtime itself allocates
/// (loomBufferCreate): cuMemAlloc / cuMemFree, outside the stream-ordered
/// pool that modules use.
bool allocate(size_t bytes, uint64_t &pointer, std::string &error);
void release(uint64_t pointer);
bool fillZero(uint64_t pointer, size_t bytes, std::string &error);
bool copyToDevice(uint64_t destination, const void *source, size_t bytes,
                  std::string &error);
bool copyToHost(void *destination, uint64_t source, size_t bytes,
                std::string &error);
bool synchronize(std::string &error);

} // namespace cuda

/// What DeviceAPI.cpp offers the rest of the runtime besides the mgpu*
/// functions.
namespace device {
/// Frees memory that mgpuMemAlloc returned, on the calling thread's stream,
/// whatever this thread's sticky error (and without recording one).
void releaseModuleAllocation(void *pointer);
} // namespace device

} // namespace runtime
} // namespace loom

#endif // LOOM_LIB_RUNTIME_CUDA_H
