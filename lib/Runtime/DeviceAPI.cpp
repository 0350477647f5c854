// The mgpu* functions that GPU modules call (include/loom/Runtime/DeviceAPI.h
// says what they do and how they differ from MLIR's runtime wrappers),
// implemented over the driver that Cuda.cpp loads with dlopen.
//
// State: a thread-local sticky error, the name of the last kernel launched
// on the thread (for messages about faults found later), a thread-local
// stream (destroyed when its thread exits), per-module records (heap objects
// owned by the module's handle) and
// the set of managed allocations. Global state lives in heap objects that
// are never destroyed, because modules call mgpuModuleUnload from their
// global destructors, possibly at exit after this file's statics would have
// been destroyed; mgpuModuleUnload touches no thread-local either.

#include "loom/Runtime/DeviceAPI.h"

#include "Cuda.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

using namespace loom::runtime;
using namespace loom::runtime::cuda;

namespace {

thread_local std::string stickyError;
thread_local std::string lastKernel;
// Trivially destructible, so that it may be read at any time, also by code
// that runs after the thread's destructors (a buffer freed by a static
// destructor at exit then uses the legacy stream).
thread_local CUstream threadStream = nullptr;

/// The context of the destination-passing call running on this thread
/// (loomCudaCallBegin to loomCudaCallEnd), if any: the caller's stream,
/// which the entry's synchronization does not wait for, and its allocator.
struct CallState {
  bool active = false;
  CUstream stream = nullptr;
  loomAllocFn alloc = nullptr;
  loomFreeFn free = nullptr;
  void *user = nullptr;
};
thread_local CallState callState;

/// The owner of `threadStream`: destroys it when the thread exits. For the
/// main thread that happens in exit() before static destructors and atexit
/// handlers, so the driver (loaded once and never unloaded) is still usable.
/// cuStreamDestroy returns at once; work still queued on the stream
/// completes before the driver releases it. Errors are ignored (a kernel
/// fault leaves the context unusable, and the thread is going away).
struct ThreadStreamOwner {
  ~ThreadStreamOwner() {
    CUstream stream = threadStream;
    threadStream = nullptr;
    std::string ignored;
    if (Driver *d = stream ? ready(ignored) : nullptr)
      (void)d->cuStreamDestroy(stream);
  }
};
thread_local ThreadStreamOwner threadStreamOwner;

bool failed() { return !stickyError.empty(); }

/// Records `message` unless an earlier failure is recorded already.
void record(const std::string &message) {
  if (stickyError.empty())
    stickyError = message.empty() ? "CUDA error" : message;
}

/// The driver with the context current, or null after recording why not.
Driver *driverOrRecord() {
  std::string error;
  Driver *d = ready(error);
  if (!d)
    record(error);
  return d;
}

CUstream streamOf(void *stream) { return static_cast<CUstream>(stream); }
CUdeviceptr address(const void *pointer) {
  return CUdeviceptr(reinterpret_cast<uintptr_t>(pointer));
}

struct Module;

/// What mgpuModuleGetFunction returns: the driver's function and the name.
struct Function {
  Module *module = nullptr;
  std::string name;
  CUfunction function = nullptr;
  /// The dynamic shared memory the kernel has been allowed so far (0: the
  /// attribute was never set). Seen on an H100 (2026-11-22): a launch with
  /// exactly 48 KiB of dynamic shared memory failed with
  /// CUDA_ERROR_INVALID_VALUE until the attribute was raised, so every launch
  /// that asks for dynamic shared memory sets it once.
  std::atomic<int32_t> sharedLimit{0};
};

/// What mgpuModuleLoad returns: the image, loaded on first use.
struct Module {
  const void *image = nullptr;
  size_t size = 0; // bytes of a cubin; 0 for PTX (NUL-terminated)
  bool jit = false;
  int optLevel = 0;
  std::mutex mutex;
  CUmodule loaded = nullptr;
  // Transparent comparison: the per-launch lookup allocates nothing.
  std::map<std::string, std::unique_ptr<Function>, std::less<>> functions;
};

/// The driver's error codes that report an asynchronous fault of a kernel
/// (the context is unusable afterwards), as opposed to a bad call.
bool isKernelFault(CUresult r) {
  switch (r) {
  case 700: // CUDA_ERROR_ILLEGAL_ADDRESS
  case 702: // CUDA_ERROR_LAUNCH_TIMEOUT
  case 710: // CUDA_ERROR_ASSERT
  case 714: // CUDA_ERROR_HARDWARE_STACK_ERROR
  case 715: // CUDA_ERROR_ILLEGAL_INSTRUCTION
  case 716: // CUDA_ERROR_MISALIGNED_ADDRESS
  case 717: // CUDA_ERROR_INVALID_ADDRESS_SPACE
  case 718: // CUDA_ERROR_INVALID_PC
  case 719: // CUDA_ERROR_LAUNCH_FAILED
    return true;
  default:
    return false;
  }
}

std::mutex &managedMutex() {
  static std::mutex *m = new std::mutex;
  return *m;
}
std::unordered_set<void *> &managedAllocations() {
  static auto *set = new std::unordered_set<void *>;
  return *set;
}

/// Loads `module`'s image (its mutex held). False after recording why not.
bool ensureLoaded(Driver &d, Module &module) {
  if (module.loaded)
    return true;
  CUresult r;
  std::string log;
  if (module.jit) {
    char buffer[4096] = {0};
    int options[] = {CU_JIT_ERROR_LOG_BUFFER,
                     CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                     CU_JIT_OPTIMIZATION_LEVEL};
    void *values[] = {buffer,
                      reinterpret_cast<void *>(uintptr_t(sizeof(buffer) - 1)),
                      reinterpret_cast<void *>(intptr_t(module.optLevel))};
    r = d.cuModuleLoadDataEx(&module.loaded, module.image, 3, options, values);
    log = buffer;
  } else {
    r = d.cuModuleLoadData(&module.loaded, module.image);
  }
  if (r == CUDA_SUCCESS)
    return true;
  module.loaded = nullptr;
  std::string message =
      module.jit ? "cannot load the module's GPU code (cuModuleLoadDataEx of "
                   "PTX): "
                 : "cannot load the module's GPU code (cuModuleLoadData of " +
                       std::to_string(module.size) + " bytes): ";
  message += describe(d, r);
  if (r == 209) // CUDA_ERROR_NO_BINARY_FOR_GPU
    message += "; the module was compiled for another GPU architecture "
               "(loom-compile --target=sm_NN must match this GPU)";
  for (char &c : log)
    if (c == '\n')
      c = ' ';
  while (!log.empty() && log.back() == ' ')
    log.pop_back();
  if (!log.empty())
    message += "; JIT log: " + log;
  record(message);
  return false;
}

CUstream threadStreamOrRecord() {
  if (threadStream)
    return threadStream;
  Driver *d = driverOrRecord();
  if (!d)
    return nullptr;
  CUstream stream = nullptr;
  if (CUresult r = d->cuStreamCreate(&stream, CU_STREAM_DEFAULT);
      r != CUDA_SUCCESS) {
    record("cuStreamCreate failed: " + describe(*d, r));
    return nullptr;
  }
  threadStream = stream;
  (void)&threadStreamOwner; // constructs the owner: registers its destructor
  return stream;
}

/// Frees what mgpuMemAlloc returned; returns the driver's verdict.
CUresult freeAllocation(Driver &d, void *pointer, CUstream stream,
                        const char *&what) {
  bool managed = false;
  {
    std::lock_guard<std::mutex> lock(managedMutex());
    managed = managedAllocations().erase(pointer) != 0;
  }
  if (managed || !d.streamOrderedAllocator) {
    what = "cuMemFree";
    return d.cuMemFree(address(pointer));
  }
  what = "cuMemFreeAsync";
  return d.cuMemFreeAsync(address(pointer), stream);
}

/// mgpuMemset32/16: `count` elements of `value` through the driver's
/// `fill` (cuMemsetD32Async or cuMemsetD16Async, named `name` in errors).
template <typename Value, typename Fill>
void fillElements(void *destination, Value value, size_t count, void *stream,
            Fill Driver::*fill, const char *name) {
  if (failed() || count == 0)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r =
          (d->*fill)(address(destination), value, count, streamOf(stream));
      r != CUDA_SUCCESS)
    record(std::string(name) + " of " + std::to_string(count) +
           " elements failed: " + describe(*d, r));
}

} // namespace

namespace loom {
namespace runtime {
namespace device {

void releaseModuleAllocation(void *pointer) {
  if (!pointer)
    return;
  std::string ignored;
  Driver *d = ready(ignored);
  if (!d)
    return;
  // The thread's stream if it has one; otherwise the legacy default stream,
  // which is ordered with every thread's (blocking) stream.
  const char *what = nullptr;
  freeAllocation(*d, pointer, threadStream, what);
}

} // namespace device
} // namespace runtime
} // namespace loom

namespace {
/// The encoded tensor maps, by everything that went into them, and the
/// device slabs their copies live in. Heap objects that are never destroyed
/// (modules may encode maps from global constructors and destructors).
struct TensorMapCache {
  std::mutex mutex;
  std::map<std::vector<uint64_t>, CUdeviceptr> maps;
  CUdeviceptr slab = 0;
  size_t slabUsed = 0;
  static constexpr size_t kSlabBytes = 64 * 1024, kMapBytes = 128;
};
TensorMapCache &tensorMapCache() {
  static auto *cache = new TensorMapCache();
  return *cache;
}
} // namespace

extern "C" {

//===----------------------------------------------------------------------===//
// Modules and launches
//===----------------------------------------------------------------------===//

void *mgpuModuleLoad(void *data, size_t size) {
  auto *module = new Module;
  module->image = data;
  module->size = size;
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  auto *module = new Module;
  module->image = data;
  module->jit = true;
  module->optLevel = optLevel;
  return module;
}

void mgpuModuleUnload(void *handle) {
  auto *module = static_cast<Module *>(handle);
  if (!module)
    return;
  if (module->loaded) {
    std::string ignored;
    if (Driver *d = ready(ignored))
      d->cuModuleUnload(module->loaded);
  }
  delete module;
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  if (!handle || !name) {
    record("mgpuModuleGetFunction: NULL module or kernel name");
    return nullptr;
  }
  if (failed())
    return nullptr;
  auto &module = *static_cast<Module *>(handle);
  std::lock_guard<std::mutex> lock(module.mutex);
  auto it = module.functions.find(std::string_view(name));
  if (it != module.functions.end())
    return it->second.get();
  Driver *d = driverOrRecord();
  if (!d || !ensureLoaded(*d, module))
    return nullptr;
  CUfunction function = nullptr;
  if (CUresult r = d->cuModuleGetFunction(&function, module.loaded, name);
      r != CUDA_SUCCESS) {
    record("kernel " + std::string(name) +
           " not found in the module's GPU code: " + describe(*d, r));
    return nullptr;
  }
  auto entry = std::make_unique<Function>();
  entry->module = &module;
  entry->name = name;
  entry->function = function;
  Function *result = entry.get();
  module.functions.emplace(name, std::move(entry));
  return result;
}

void mgpuLaunchKernel(void *handle, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)paramsCount;
  if (failed())
    return;
  auto *function = static_cast<Function *>(handle);
  if (!function) {
    record("mgpuLaunchKernel: no kernel (a NULL function handle)");
    return;
  }
  // Messages are built only on failure: this is every launch's path.
  auto where = [&] { return "CUDA error in kernel " + function->name; };
  auto dims = [](intptr_t x, intptr_t y, intptr_t z) {
    return "(" + std::to_string(x) + ", " + std::to_string(y) + ", " +
           std::to_string(z) + ")";
  };
  auto outOfRange = [](intptr_t v) {
    return v < 0 || uint64_t(v) > UINT32_MAX;
  };
  if (outOfRange(gridX) || outOfRange(gridY) || outOfRange(gridZ) ||
      outOfRange(blockX) || outOfRange(blockY) || outOfRange(blockZ) ||
      blockX == 0 || blockY == 0 || blockZ == 0 || smem < 0) {
    record(where() + " (launch): invalid grid " + dims(gridX, gridY, gridZ) +
           ", block " + dims(blockX, blockY, blockZ) + " or " +
           std::to_string(smem) + " bytes of dynamic shared memory");
    return;
  }
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return; // an empty grid: no work
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (smem > function->sharedLimit) {
    if (CUresult r = d->cuFuncSetAttribute(
            function->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            smem);
        r != CUDA_SUCCESS) {
      record(where() + " (setting " + std::to_string(smem) +
             " bytes of dynamic shared memory): " + describe(*d, r));
      return;
    }
    function->sharedLimit = smem;
  }
  if (CUresult r = d->cuLaunchKernel(
          function->function, unsigned(gridX), unsigned(gridY), unsigned(gridZ),
          unsigned(blockX), unsigned(blockY), unsigned(blockZ), unsigned(smem),
          streamOf(stream), params, extra);
      r != CUDA_SUCCESS) {
    std::string message = where() + " (launch): " + describe(*d, r);
    // A fault of an earlier kernel surfaces at the next call into the
    // driver, which may be this launch.
    if (isKernelFault(r) && !lastKernel.empty())
      message += "; a kernel launched earlier faulted (the last one was " +
                 lastKernel + ")";
    record(message);
    return;
  }
  lastKernel = function->name;
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

void *mgpuStreamCreate(void) {
  if (callState.active)
    return callState.stream;
  return threadStreamOrRecord();
}

void mgpuStreamDestroy(void *stream) {
  // Every stream handed out is the thread's cached stream, which its owner
  // destroys when the thread exits.
  (void)stream;
}

void mgpuStreamSynchronize(void *stream) {
  // A destination-passing call does not wait for the caller's stream: its
  // faults surface at the caller's next synchronization.
  if (callState.active && streamOf(stream) == callState.stream)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r = d->cuStreamSynchronize(streamOf(stream)); r != CUDA_SUCCESS)
    record((lastKernel.empty() ? std::string("CUDA error at synchronize: ")
                               : "CUDA error at synchronize after kernel " +
                                     lastKernel + ": ") +
           describe(*d, r));
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  if (failed() || !event)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r = d->cuStreamWaitEvent(streamOf(stream),
                                        static_cast<CUevent>(event), 0);
      r != CUDA_SUCCESS)
    record("cuStreamWaitEvent failed: " + describe(*d, r));
}

void *mgpuEventCreate(void) {
  Driver *d = driverOrRecord();
  if (!d)
    return nullptr;
  CUevent event = nullptr;
  if (CUresult r = d->cuEventCreate(&event, CU_EVENT_DISABLE_TIMING);
      r != CUDA_SUCCESS) {
    record("cuEventCreate failed: " + describe(*d, r));
    return nullptr;
  }
  return event;
}

void mgpuEventDestroy(void *event) {
  if (!event)
    return;
  if (Driver *d = driverOrRecord())
    d->cuEventDestroy(static_cast<CUevent>(event));
}

void mgpuEventSynchronize(void *event) {
  if (!event)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r = d->cuEventSynchronize(static_cast<CUevent>(event));
      r != CUDA_SUCCESS)
    record((lastKernel.empty()
                ? std::string("CUDA error at event synchronize: ")
                : "CUDA error at event synchronize after kernel " + lastKernel +
                      ": ") +
           describe(*d, r));
}

void mgpuEventRecord(void *event, void *stream) {
  if (failed() || !event)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r =
          d->cuEventRecord(static_cast<CUevent>(event), streamOf(stream));
      r != CUDA_SUCCESS)
    record("cuEventRecord failed: " + describe(*d, r));
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared) {
  if (failed() || bytes == 0)
    return nullptr;
  if (callState.active && callState.alloc && !isHostShared) {
    void *pointer = callState.alloc(callState.user, bytes, stream);
    if (!pointer)
      record("the caller's allocator returned no memory for " +
             std::to_string(bytes) + " bytes");
    return pointer;
  }
  Driver *d = driverOrRecord();
  if (!d)
    return nullptr;
  CUdeviceptr pointer = 0;
  CUresult r;
  const char *what;
  if (isHostShared) {
    what = "cuMemAllocManaged";
    r = d->cuMemAllocManaged(&pointer, size_t(bytes), CU_MEM_ATTACH_GLOBAL);
  } else if (d->streamOrderedAllocator) {
    what = "cuMemAllocAsync";
    r = d->cuMemAllocAsync(&pointer, size_t(bytes), streamOf(stream));
  } else {
    what = "cuMemAlloc";
    r = d->cuMemAlloc(&pointer, size_t(bytes));
  }
  if (r != CUDA_SUCCESS) {
    record(std::string(what) + " of " + std::to_string(bytes) +
           " bytes failed: " + describe(*d, r));
    return nullptr;
  }
  void *result = reinterpret_cast<void *>(uintptr_t(pointer));
  if (isHostShared) {
    std::lock_guard<std::mutex> lock(managedMutex());
    managedAllocations().insert(result);
  }
  return result;
}

void mgpuMemFree(void *pointer, void *stream) {
  if (!pointer)
    return;
  if (callState.active && callState.free) {
    callState.free(callState.user, pointer, stream);
    return;
  }
  Driver *d = driverOrRecord();
  if (!d)
    return;
  const char *what = nullptr;
  if (CUresult r = freeAllocation(*d, pointer, streamOf(stream), what);
      r != CUDA_SUCCESS)
    record(std::string(what) + " failed: " + describe(*d, r));
}


} // extern "C"

namespace {
/// Encodes (or finds in the cache) the tiled tensor map of a tensor of
/// `rank` dimensions at `base`: `dims` innermost first (elements),
/// `strides` in elements of dimensions 1 .. rank-1, and a box of `box`
/// elements per dimension (innermost first). `who` names the entry point in
/// messages.
void *encodeTensorMap(const char *who, int64_t base, uint32_t rank,
                      const int64_t *dims, const int64_t *strides,
                      const int64_t *box, int64_t dataType,
                      int64_t elementBytes, int64_t swizzle,
                      int64_t l2Promotion, int64_t oobFill) {
  if (failed())
    return nullptr;
  std::string shape;
  for (uint32_t i = rank; i-- > 0;)
    shape += std::to_string(dims[i]) + (i ? "x" : "");
  std::string boxText;
  for (uint32_t i = rank; i-- > 0;)
    boxText += std::to_string(box[i]) + (i ? "x" : "");
  bool valid = elementBytes > 0;
  for (uint32_t i = 0; i < rank; ++i) {
    valid = valid && dims[i] >= 0 && box[i] > 0 && box[i] <= 256;
    if (i > 0)
      valid = valid && strides[i - 1] >= 0;
  }
  // Each dimension's stride covers the one inside it.
  if (valid && rank > 1)
    valid = strides[0] >= dims[0];
  if (!valid) {
    std::string strideText;
    for (uint32_t i = 1; i < rank; ++i)
      strideText += (i > 1 ? ", " : "") + std::to_string(strides[i - 1]);
    record(std::string(who) + ": invalid tensor " + shape + " (strides " +
           strideText + ") or box " + boxText);
    return nullptr;
  }
  // The driver wants the innermost dimension first, and the strides in
  // bytes of every dimension but the innermost.
  uint64_t globalDim[5], globalStrides[4];
  uint32_t boxDim[5], elementStrides[5];
  std::vector<uint64_t> key{uint64_t(base), uint64_t(rank)};
  for (uint32_t i = 0; i < rank; ++i) {
    globalDim[i] = uint64_t(dims[i]);
    boxDim[i] = uint32_t(box[i]);
    elementStrides[i] = 1;
    key.push_back(uint64_t(dims[i]));
    key.push_back(uint64_t(box[i]));
    if (i > 0) {
      globalStrides[i - 1] = uint64_t(strides[i - 1] * elementBytes);
      key.push_back(uint64_t(strides[i - 1]));
    }
  }
  for (int64_t v : {dataType, elementBytes, swizzle, l2Promotion, oobFill})
    key.push_back(uint64_t(v));
  void *address = reinterpret_cast<void *>(uintptr_t(base));
  TensorMapCache &cache = tensorMapCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (auto it = cache.maps.find(key); it != cache.maps.end())
    return reinterpret_cast<void *>(uintptr_t(it->second));
  Driver *d = driverOrRecord();
  if (!d)
    return nullptr;
  if (!d->cuTensorMapEncodeTiled) {
    record(std::string(who) +
           ": the CUDA driver has no "
           "cuTensorMapEncodeTiled (a driver for CUDA 12 or later is needed "
           "for Hopper kernels)");
    return nullptr;
  }
  alignas(64) unsigned char map[TensorMapCache::kMapBytes];
  if (CUresult r = d->cuTensorMapEncodeTiled(
          map, int(dataType), rank, address, globalDim, globalStrides, boxDim,
          elementStrides, /*interleave=*/0, int(swizzle), int(l2Promotion),
          int(oobFill));
      r != CUDA_SUCCESS) {
    record("cuTensorMapEncodeTiled failed for a " + shape +
           " tensor at " + std::to_string(reinterpret_cast<uintptr_t>(address)) +
           " (TMA needs 16-byte aligned addresses and row strides): " +
           describe(*d, r));
    return nullptr;
  }
  if (!cache.slab || cache.slabUsed + TensorMapCache::kMapBytes >
                         TensorMapCache::kSlabBytes) {
    CUdeviceptr slab = 0;
    if (CUresult r = d->cuMemAlloc(&slab, TensorMapCache::kSlabBytes);
        r != CUDA_SUCCESS) {
      record("cuMemAlloc of a tensor-map slab failed: " + describe(*d, r));
      return nullptr;
    }
    cache.slab = slab;
    cache.slabUsed = 0;
  }
  CUdeviceptr slot = cache.slab + cache.slabUsed;
  if (CUresult r = d->cuMemcpyHtoD(slot, map, sizeof(map)); r != CUDA_SUCCESS) {
    record("copying a tensor map to the device failed: " + describe(*d, r));
    return nullptr;
  }
  cache.slabUsed += TensorMapCache::kMapBytes;
  cache.maps.emplace(std::move(key), slot);
  return reinterpret_cast<void *>(uintptr_t(slot));
}
} // namespace

extern "C" {

void *loomCudaTensorMap2D(int64_t base, int64_t rows, int64_t cols,
                          int64_t rowStride, int64_t dataType,
                          int64_t elementBytes, int64_t boxRows,
                          int64_t boxCols, int64_t swizzle, int64_t l2Promotion,
                          int64_t oobFill) {
  int64_t dims[2] = {cols, rows}, strides[1] = {rowStride},
          box[2] = {boxCols, boxRows};
  return encodeTensorMap("loomCudaTensorMap2D", base, 2, dims, strides, box,
                         dataType, elementBytes, swizzle, l2Promotion,
                         oobFill);
}

void *loomCudaTensorMap4D(int64_t base, int64_t n0, int64_t n1, int64_t n2,
                          int64_t n3, int64_t s0, int64_t s1, int64_t s2,
                          int64_t dataType, int64_t elementBytes,
                          int64_t boxRows, int64_t boxCols, int64_t swizzle,
                          int64_t l2Promotion, int64_t oobFill) {
  int64_t dims[4] = {n3, n2, n1, n0}, strides[3] = {s2, s1, s0},
          box[4] = {boxCols, boxRows, 1, 1};
  return encodeTensorMap("loomCudaTensorMap4D", base, 4, dims, strides, box,
                         dataType, elementBytes, swizzle, l2Promotion,
                         oobFill);
}

void mgpuMemcpy(void *destination, void *source, size_t bytes, void *stream) {
  if (failed() || bytes == 0)
    return;
  Driver *d = driverOrRecord();
  if (!d)
    return;
  if (CUresult r = d->cuMemcpyAsync(address(destination), address(source),
                                    bytes, streamOf(stream));
      r != CUDA_SUCCESS)
    record("cuMemcpyAsync of " + std::to_string(bytes) +
           " bytes failed: " + describe(*d, r));
}

void mgpuMemset32(void *destination, unsigned int value, size_t count,
                  void *stream) {
  fillElements(destination, value, count, stream, &Driver::cuMemsetD32Async,
         "cuMemsetD32Async");
}

void mgpuMemset16(void *destination, unsigned short value, size_t count,
                  void *stream) {
  fillElements(destination, value, count, stream, &Driver::cuMemsetD16Async,
         "cuMemsetD16Async");
}

void mgpuSetDefaultDevice(int32_t device) {
  if (device != 0)
    record("mgpuSetDefaultDevice(" + std::to_string(device) +
           "): the Loom runtime uses CUDA device 0 only");
}

//===----------------------------------------------------------------------===//
// For hosts
//===----------------------------------------------------------------------===//

const char *loomCudaGetStickyError(void) { return stickyError.c_str(); }

void loomCudaClearStickyError(void) {
  stickyError.clear();
  lastKernel.clear();
}

void *loomCudaGetStream(void) { return threadStreamOrRecord(); }

void *loomCudaCallBegin(const loomCallContext *context) {
  stickyError.clear();
  lastKernel.clear();
  callState = CallState();
  callState.active = true;
  if (context) {
    if (context->size < sizeof(loomCallContext)) {
      record("loomCallContext: size " + std::to_string(context->size) +
             " is smaller than this runtime's (" +
             std::to_string(sizeof(loomCallContext)) +
             " bytes): set it to sizeof(loomCallContext)");
      return nullptr;
    }
    if (!context->alloc != !context->free) {
      record("loomCallContext: an allocator needs both alloc and free");
      return nullptr;
    }
    callState.stream = streamOf(context->stream);
    callState.alloc = context->alloc;
    callState.free = context->free;
    callState.user = context->user;
  }
  // The driver (and its context) before any work: without one the call
  // fails here, with the driver's message.
  driverOrRecord();
  return callState.stream;
}

const char *loomCudaCallEnd(void) {
  callState = CallState();
  if (stickyError.empty())
    return nullptr;
  return stickyError.c_str();
}

const char *loomCudaLastKernel(void) { return lastKernel.c_str(); }

const char *loomCudaStreamSynchronize(void *stream) {
  static thread_local std::string message;
  std::string error;
  Driver *d = ready(error);
  if (!d) {
    message = error;
    return message.c_str();
  }
  CUresult r = d->cuStreamSynchronize(streamOf(stream));
  if (r == CUDA_SUCCESS)
    return nullptr;
  message = (lastKernel.empty() ? std::string("CUDA error at synchronize: ")
                                : "CUDA error at synchronize after kernel " +
                                      lastKernel + ": ") +
            describe(*d, r);
  return message.c_str();
}

} // extern "C"
