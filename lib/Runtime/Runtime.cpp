// The Loom runtime's C API: modules (dlopen), entries, buffers and calls.
//
// Calls follow the packed convention of docs/abi.md: the runtime builds one
// memref descriptor per argument, a results area with room for one
// descriptor per result, and calls loom_entry_<name>(args, nargs). What the
// descriptors cannot say is checked against the module's signature first
// (argument count, device, element type, rank); the module checks the sizes
// itself (static dimensions and the relations between dynamic ones) and
// returns a message when they do not fit, which becomes the call's error.
//
// A CUDA module (target sm_NN) is called the same way with device
// descriptors; its failures arrive through the sticky error of the mgpu*
// functions it calls (DeviceAPI.cpp), after which the results it produced are
// freed and the call fails.

#include "loom/Runtime/Runtime.h"
#include "loom/Runtime/DeviceAPI.h"

#include "Cuda.h"
#include "ModuleFile.h"
#include "ModuleLoader.h"
#include "Signature.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace loom::runtime;

namespace {

thread_local std::string lastError;

loomStatus fail(const std::string &message) {
  lastError = message;
  return LOOM_FAILURE;
}

template <typename T> T *failNull(const std::string &message) {
  lastError = message;
  return nullptr;
}

/// `const char *loom_entry_<name>(void **args, int64_t nargs)`: NULL, or the
/// message of the argument check that failed (docs/abi.md).
using EntryFn = const char *(*)(void **, int64_t);
/// ABI 4: `loom_shape_<name>(args, nargs, int64_t *dims)` and
/// `loom_call_<name>(args, nargs, const loomCallContext *)`.
using ShapeFn = const char *(*)(void **, int64_t, int64_t *);
using CallFn = const char *(*)(void **, int64_t, const loomCallContext *);

} // namespace

struct loomEntry {
  const loomModule *module = nullptr;
  const EntrySignature *signature = nullptr;
  EntryFn function = nullptr;
  ShapeFn shape = nullptr; // null before ABI 4
  CallFn call = nullptr;
  int64_t numResultDims = 0;
};

struct loomModule {
  void *handle = nullptr;
  std::string path;
  std::string signatureText;
  ModuleSignature signature;
  std::optional<std::string> inputHints; // loom_module_input_hints
  loomDevice device = LOOM_DEVICE_CPU;
  std::vector<std::unique_ptr<loomEntry>> entries;
};

/// Who frees a buffer's memory, and how.
enum class Memory {
  Host,      // loomHostAlloc'd (or a CPU module's malloc): free(allocation)
  Device,    // loomBufferCreate's cuMemAlloc: cuMemFree(allocation)
  Module,    // a CUDA module's mgpuMemAlloc: mgpuMemFree(allocation)
  Borrowed,  // loomBufferWrap: the caller's, never freed here
};

struct loomBuffer {
  loomDevice device = LOOM_DEVICE_CPU;
  loomDType dtype = LOOM_DTYPE_F32;
  std::vector<int64_t> shape;
  size_t bytes = 0;
  void *data = nullptr;       // host pointer, or the device address
  void *allocation = nullptr; // what is freed (may differ from data)
  Memory memory = Memory::Host;

  uint64_t deviceAddress() const { return uint64_t(uintptr_t(data)); }
};

namespace {

/// A CUDA target: "sm_" then the compute capability and an optional
/// feature suffix ("sm_80", "sm_90a", "sm_100f").
bool isCudaTarget(const std::string &target) {
  if (target.compare(0, 3, "sm_") != 0)
    return false;
  size_t i = 3;
  while (i < target.size() && std::isdigit((unsigned char)target[i]))
    ++i;
  if (i < 5) // at least two digits
    return false;
  return i == target.size() ||
         (i + 1 == target.size() && std::islower((unsigned char)target[i]));
}

bool validDType(loomDType dtype) {
  return dtype >= LOOM_DTYPE_F32 && dtype <= LOOM_DTYPE_I64;
}

/// Storage size with the rules of loomStorageSize, as a C++ helper.
bool storageSize(loomDType dtype, const std::vector<int64_t> &shape,
                 size_t &bytes, std::string &error) {
  if (!validDType(dtype)) {
    error = "invalid dtype " + std::to_string(int(dtype));
    return false;
  }
  if (shape.size() > LOOM_MAX_RANK) {
    error = "rank " + std::to_string(shape.size()) + " is above " +
            std::to_string(LOOM_MAX_RANK);
    return false;
  }
  uint64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      error = "negative dimension " + std::to_string(d);
      return false;
    }
    if (d != 0 && elements > (UINT64_C(1) << 60) / uint64_t(d)) {
      error = "buffer size overflows";
      return false;
    }
    elements *= uint64_t(d);
  }
  // The descriptor's contiguous strides are products of the trailing
  // dimensions; with a 0 before them (an empty buffer) the size check above
  // does not bound them.
  uint64_t stride = 1;
  for (size_t i = shape.size(); i-- > 1;) {
    uint64_t d = uint64_t(shape[i]);
    if (d != 0 && stride > (UINT64_C(1) << 60) / d) {
      error = "buffer strides overflow (the dimensions after the first "
              "multiply past 2^60)";
      return false;
    }
    stride *= d;
  }
  if (dtype == LOOM_DTYPE_I4) {
    int64_t inner = shape.empty() ? 1 : shape.back();
    if (inner % 2 != 0) {
      error = "an i4 buffer needs an even innermost dimension (i4 is packed "
              "two per byte along it), got " +
              std::to_string(inner);
      return false;
    }
    bytes = size_t(elements / 2);
    return true;
  }
  bytes = size_t(elements * storageElementBytes(dtype));
  return true;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The memref the module sees: i4 tensors are i8 memrefs with the innermost
/// dimension halved.
std::vector<int64_t> memrefSizes(loomDType dtype,
                                 const std::vector<int64_t> &shape) {
  std::vector<int64_t> sizes = shape;
  if (dtype == LOOM_DTYPE_I4 && !sizes.empty())
    sizes.back() /= 2;
  return sizes;
}

std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (int64_t d = int64_t(sizes.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * sizes[d + 1];
  return strides;
}

loomBuffer *newHostBuffer(loomDType dtype, const std::vector<int64_t> &shape,
                          std::string &error) {
  size_t bytes = 0;
  if (!storageSize(dtype, shape, bytes, error))
    return nullptr;
  void *memory = loomHostAlloc(bytes);
  if (!memory) {
    error = "out of host memory allocating " + std::to_string(bytes) +
            " bytes";
    return nullptr;
  }
  std::memset(memory, 0, bytes);
  auto *buffer = new loomBuffer;
  buffer->device = LOOM_DEVICE_CPU;
  buffer->dtype = dtype;
  buffer->shape = shape;
  buffer->bytes = bytes;
  buffer->data = memory;
  buffer->allocation = memory;
  buffer->memory = Memory::Host;
  return buffer;
}

/// Elements from a strided memref's first element to its last, plus one
/// (0 when it is empty): false when a stride is negative or the span does
/// not fit in 64 bits. The module's descriptor says these; a broken one must
/// be an error, not an overflowing offset.
bool stridedSpan(const std::vector<int64_t> &sizes,
                 const std::vector<int64_t> &strides, int64_t &span) {
  span = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) {
      span = 0;
      return true;
    }
  }
  for (size_t d = 0; d < sizes.size(); ++d) {
    int64_t reach;
    if (strides[d] < 0 ||
        __builtin_mul_overflow(sizes[d] - 1, strides[d], &reach) ||
        __builtin_add_overflow(span, reach, &span))
      return false;
  }
  return true;
}

/// Copies a strided memref (element size `eb`) into contiguous `out`; its
/// span (stridedSpan) times `eb` fits in 64 bits.
void gatherStrided(const uint8_t *base, const std::vector<int64_t> &sizes,
                   const std::vector<int64_t> &strides, size_t eb,
                   uint8_t *out) {
  int64_t rank = int64_t(sizes.size());
  int64_t total = 1;
  for (int64_t s : sizes)
    total *= s;
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < total; ++e) {
    int64_t offset = 0;
    for (int64_t d = 0; d < rank; ++d)
      offset += index[d] * strides[d];
    std::memcpy(out + e * eb, base + offset * int64_t(eb), eb);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}

/// A CUDA result that a module returned strided or aliasing other memory
/// (what compiled modules never do): copies its elements into a fresh
/// mgpuMemAlloc allocation, contiguous, through the host when strided. Uses
/// the mgpu* functions on this thread's stream, so failures arrive as the
/// sticky error (clear when this is called).
bool copyDeviceResult(const uint8_t *data, const std::vector<int64_t> &sizes,
                      const std::vector<int64_t> &strides, size_t eb,
                      size_t bytes, void *&copy, std::string &error) {
  copy = nullptr;
  if (bytes == 0)
    return true;
  bool contiguous = true;
  std::vector<int64_t> expected = contiguousStrides(sizes);
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] != 1 && strides[d] != expected[d])
      contiguous = false;
  int64_t span, spanBytes;
  if (!stridedSpan(sizes, strides, span) ||
      __builtin_mul_overflow(span, int64_t(eb), &spanBytes)) {
    error = "its strides are negative or reach past 2^63 bytes";
    return false;
  }
  void *stream = loomCudaGetStream();
  copy = mgpuMemAlloc(bytes, stream, false);
  if (contiguous) {
    mgpuMemcpy(copy, const_cast<uint8_t *>(data), bytes, stream);
  } else {
    std::vector<uint8_t> whole(static_cast<size_t>(spanBytes)), gathered(bytes);
    mgpuMemcpy(whole.data(), const_cast<uint8_t *>(data), whole.size(),
               stream);
    mgpuStreamSynchronize(stream);
    if (!*loomCudaGetStickyError()) {
      gatherStrided(whole.data(), sizes, strides, eb, gathered.data());
      mgpuMemcpy(copy, gathered.data(), bytes, stream);
    }
  }
  mgpuStreamSynchronize(stream);
  if (*loomCudaGetStickyError()) {
    error = loomCudaGetStickyError();
    device::releaseModuleAllocation(copy);
    copy = nullptr;
    return false;
  }
  return true;
}

} // namespace

loomModule *loom::runtime::openModule(const std::string &file,
                                      loomDevice device,
                                      const SymbolLookup &lookup) {
  auto fail = [](const std::string &message) {
    return failNull<loomModule>(message);
  };
  auto module = std::make_unique<loomModule>();
  module->path = file;
  module->device = device;
  using SignatureFn = const char *(*)();
  auto signatureFn =
      reinterpret_cast<SignatureFn>(lookup("loom_module_signature"));
  if (!signatureFn)
    return fail("'" + file +
                "' is not a Loom module: it has no "
                "loom_module_signature function");
  const char *text = signatureFn();
  if (!text)
    return fail("module '" + file + "' returned no signature");
  module->signatureText = text;
  // Optional (modules of older compilers lack it): loom-run's ranges for
  // random inputs.
  if (auto hintsFn =
          reinterpret_cast<SignatureFn>(lookup("loom_module_input_hints")))
    if (const char *hints = hintsFn())
      module->inputHints = hints;
  std::string error;
  if (!parseSignature(module->signatureText, module->signature, error)) {
    int abi = module->signature.abi;
    if (abi != 0 && (abi < kOldestABIVersion || abi > kABIVersion))
      return fail("module '" + file + "' was compiled for ABI version " +
                  std::to_string(abi) + ", but this runtime reads versions " +
                  std::to_string(kOldestABIVersion) + " to " +
                  std::to_string(kABIVersion) +
                  " (recompile it with a matching loom-compile)");
    return fail("malformed signature in module '" + file + "': " + error);
  }
  const std::string &target = module->signature.target;
  bool cudaTarget = isCudaTarget(target);
  if (target != "cpu" && !cudaTarget)
    return fail("module '" + file + "' was compiled for target '" + target +
                "', which this runtime cannot run (it runs cpu and "
                "CUDA sm_NN targets)");
  loomDevice targetDevice = cudaTarget ? LOOM_DEVICE_CUDA : LOOM_DEVICE_CPU;
  if (device != targetDevice)
    return fail("module '" + file + "' was compiled for target '" + target +
                "', which runs on " + loomDeviceName(targetDevice) +
                "; it cannot run on " + loomDeviceName(device));
  for (const EntrySignature &sig : module->signature.entries) {
    std::string symbol = "loom_entry_" + sig.name;
    auto fn = reinterpret_cast<EntryFn>(lookup(symbol.c_str()));
    if (!fn)
      return fail("module '" + file + "' lists entry '" + sig.name +
                  "' in its signature but lacks " + symbol);
    auto entry = std::make_unique<loomEntry>();
    entry->module = module.get();
    entry->signature = &sig;
    entry->function = fn;
    for (const TensorType &type : sig.results)
      entry->numResultDims += int64_t(type.dims.size());
    if (module->signature.abi >= 4) {
      std::string shape = "loom_shape_" + sig.name;
      std::string call = "loom_call_" + sig.name;
      entry->shape = reinterpret_cast<ShapeFn>(lookup(shape.c_str()));
      entry->call = reinterpret_cast<CallFn>(lookup(call.c_str()));
      if (!entry->shape || !entry->call)
        return fail("module '" + file + "' (ABI " +
                    std::to_string(module->signature.abi) + ") lacks " +
                    (entry->shape ? call : shape) + " for entry '" +
                    sig.name + "'");
    }
    module->entries.push_back(std::move(entry));
  }
  return module.release();
}

extern "C" {

const char *loomGetLastError(void) { return lastError.c_str(); }

const char *loomDTypeName(loomDType dtype) { return dtypeName(dtype); }

const char *loomDeviceName(loomDevice device) {
  switch (device) {
  case LOOM_DEVICE_CPU:
    return "cpu";
  case LOOM_DEVICE_CUDA:
    return "cuda";
  }
  return "<invalid device>";
}

loomStatus loomStorageSize(loomDType dtype, int64_t rank, const int64_t *shape,
                           size_t *bytes) {
  if (rank < 0 || (rank > 0 && !shape) || !bytes)
    return fail("loomStorageSize: invalid arguments");
  std::string error;
  if (!storageSize(dtype, std::vector<int64_t>(shape, shape + rank), *bytes,
                   error))
    return fail(error);
  return LOOM_SUCCESS;
}

loomStatus loomDeviceInit(loomDevice device) {
  switch (device) {
  case LOOM_DEVICE_CPU:
    return LOOM_SUCCESS;
  case LOOM_DEVICE_CUDA: {
    std::string error;
    if (!cuda::init(error))
      return fail(error);
    return LOOM_SUCCESS;
  }
  }
  return fail("invalid device " + std::to_string(int(device)));
}

void *loomHostAlloc(size_t bytes) {
  void *p = nullptr;
  // 64 bytes: a cache line, and the alignment the CPU lowering gives its own
  // allocations, so that vectorized code sees the same on arguments.
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded < bytes || posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
    return nullptr;
  return p;
}

void loomHostFree(void *pointer) { std::free(pointer); }

//===----------------------------------------------------------------------===//
// Modules
//===----------------------------------------------------------------------===//

loomModule *loomModuleLoad(const char *path, loomDevice device) {
  if (!path || !*path)
    return failNull<loomModule>("no module path given");
  if (device != LOOM_DEVICE_CPU && device != LOOM_DEVICE_CUDA)
    return failNull<loomModule>("invalid device " +
                                std::to_string(int(device)));
  std::string file = path;
  struct stat st;
  if (stat(file.c_str(), &st) != 0)
    return failNull<loomModule>("cannot open module '" + file +
                                "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    return failNull<loomModule>("cannot open module '" + file +
                                "': it is a directory");
  // The file is checked before dlopen maps it (ModuleFile.h): a truncated or
  // corrupted module would fault or run garbage inside the loader. A broken
  // file is reported as such on any machine, before the driver is asked.
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return failNull<loomModule>("cannot open module '" + file +
                                "': " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  {
    std::vector<uint8_t> image;
    std::string error;
    if (!readWholeFile(fd, image, error) ||
        !verifyModuleImage(image.data(), image.size(), error))
      return failNull<loomModule>("cannot load module '" + file +
                                  "': " + error);
  }
  // Then the driver, before dlopen: on a machine without one, asking for
  // CUDA says so for any sound module, whatever its target.
  if (device == LOOM_DEVICE_CUDA) {
    std::string error;
    if (!cuda::init(error))
      return failNull<loomModule>(error);
  }
  // dlopen searches the library path for a bare name; a module is a file.
  std::string openPath = file.find('/') == std::string::npos ? "./" + file
                                                             : file;
  // A GPU module's global constructor runs here: it only records its GPU
  // code (mgpuModuleLoad), so this works without a driver.
  void *handle = dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    std::string message = why ? why : "dlopen failed";
    if (message.find("undefined symbol: mgpu") != std::string::npos)
      message += " (a GPU module calls the runtime's mgpu* functions, which "
                 "the process must export: link the host with LoomRuntime "
                 "through CMake, or load libloomrt.so with RTLD_GLOBAL "
                 "before the module)";
    return failNull<loomModule>("cannot load module '" + file +
                                "': " + message);
  }
  // dlopen opened the path again: it must still be the file checked above
  // (a copy that replaced it in between would go unchecked).
  struct stat checked, loaded;
  if (fstat(fd, &checked) != 0 || stat(openPath.c_str(), &loaded) != 0 ||
      checked.st_dev != loaded.st_dev || checked.st_ino != loaded.st_ino ||
      checked.st_size != loaded.st_size ||
      checked.st_mtim.tv_sec != loaded.st_mtim.tv_sec ||
      checked.st_mtim.tv_nsec != loaded.st_mtim.tv_nsec) {
    dlclose(handle);
    return failNull<loomModule>("cannot load module '" + file +
                                "': the file changed while it was being "
                                "loaded");
  }
  loomModule *module = openModule(
      file, device,
      [handle](const char *symbol) { return dlsym(handle, symbol); });
  if (!module) {
    dlclose(handle);
    return nullptr;
  }
  module->handle = handle;
  return module;
}

void loomModuleUnload(loomModule *module) {
  if (!module)
    return;
  if (module->handle)
    dlclose(module->handle);
  delete module;
}

const char *loomModuleSignature(const loomModule *module) {
  return module ? module->signatureText.c_str() : "";
}

const char *loomModuleInputHints(const loomModule *module) {
  return module && module->inputHints ? module->inputHints->c_str()
                                      : nullptr;
}

const char *loomModuleTarget(const loomModule *module) {
  return module ? module->signature.target.c_str() : "";
}

loomDevice loomModuleDevice(const loomModule *module) {
  return module ? module->device : LOOM_DEVICE_CPU;
}

int64_t loomModuleNumEntries(const loomModule *module) {
  return module ? int64_t(module->entries.size()) : 0;
}

const loomEntry *loomModuleGetEntry(const loomModule *module, int64_t index) {
  if (!module || index < 0 || index >= int64_t(module->entries.size()))
    return failNull<const loomEntry>("entry index " + std::to_string(index) +
                                     " out of range");
  return module->entries[index].get();
}

const loomEntry *loomModuleLookupEntry(const loomModule *module,
                                       const char *name) {
  if (!module || !name)
    return failNull<const loomEntry>("loomModuleLookupEntry: NULL argument");
  for (const auto &entry : module->entries)
    if (entry->signature->name == name)
      return entry.get();
  std::string names;
  for (const auto &entry : module->entries)
    names += (names.empty() ? "" : ", ") + entry->signature->name;
  return failNull<const loomEntry>(
      "no entry '" + std::string(name) + "' in module '" + module->path +
      "' (" + (names.empty() ? "it has no entries" : "entries: " + names) +
      ")");
}

const char *loomEntryName(const loomEntry *entry) {
  return entry ? entry->signature->name.c_str() : "";
}

int64_t loomEntryNumArgs(const loomEntry *entry) {
  return entry ? int64_t(entry->signature->args.size()) : 0;
}

int64_t loomEntryNumResults(const loomEntry *entry) {
  return entry ? int64_t(entry->signature->results.size()) : 0;
}

static loomStatus typeAt(const std::vector<TensorType> &types, int64_t index,
                         const char *what, loomTensorType *type) {
  if (!type)
    return fail("NULL type pointer");
  if (index < 0 || index >= int64_t(types.size()))
    return fail(std::string(what) + " index " + std::to_string(index) +
                " out of range");
  type->dtype = types[index].dtype;
  type->rank = int64_t(types[index].dims.size());
  type->dims = types[index].dims.data();
  return LOOM_SUCCESS;
}

loomStatus loomEntryArgType(const loomEntry *entry, int64_t index,
                            loomTensorType *type) {
  if (!entry)
    return fail("NULL entry");
  return typeAt(entry->signature->args, index, "argument", type);
}

loomStatus loomEntryResultType(const loomEntry *entry, int64_t index,
                               loomTensorType *type) {
  if (!entry)
    return fail("NULL entry");
  return typeAt(entry->signature->results, index, "result", type);
}

const char *loomEntrySignature(const loomEntry *entry) {
  return entry ? entry->signature->text.c_str() : "";
}

size_t loomFormatTensorType(const loomTensorType *type, char *buffer,
                            size_t size) {
  std::string text = "<null>";
  if (type && type->rank >= 0 && (type->rank == 0 || type->dims)) {
    TensorType t;
    t.dtype = type->dtype;
    t.dims.assign(type->dims, type->dims + type->rank);
    text = formatTensorType(t);
  }
  if (buffer && size > 0) {
    size_t n = text.size() < size - 1 ? text.size() : size - 1;
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  return text.size();
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

loomBuffer *loomBufferCreate(loomDevice device, loomDType dtype, int64_t rank,
                             const int64_t *shape) {
  if (rank < 0 || rank > LOOM_MAX_RANK || (rank > 0 && !shape))
    return failNull<loomBuffer>("loomBufferCreate: invalid rank or shape");
  std::vector<int64_t> dims(shape, shape + rank);
  std::string error;
  if (device == LOOM_DEVICE_CPU) {
    loomBuffer *buffer = newHostBuffer(dtype, dims, error);
    return buffer ? buffer : failNull<loomBuffer>(error);
  }
  if (device != LOOM_DEVICE_CUDA)
    return failNull<loomBuffer>("invalid device " +
                                std::to_string(int(device)));
  size_t bytes = 0;
  if (!storageSize(dtype, dims, bytes, error))
    return failNull<loomBuffer>(error);
  uint64_t pointer = 0;
  if (!cuda::allocate(bytes, pointer, error))
    return failNull<loomBuffer>(error);
  // Zero-filled like host buffers.
  if (!cuda::fillZero(pointer, bytes, error)) {
    cuda::release(pointer);
    return failNull<loomBuffer>(error);
  }
  auto *buffer = new loomBuffer;
  buffer->device = LOOM_DEVICE_CUDA;
  buffer->dtype = dtype;
  buffer->shape = dims;
  buffer->bytes = bytes;
  buffer->data = reinterpret_cast<void *>(uintptr_t(pointer));
  buffer->allocation = buffer->data;
  buffer->memory = Memory::Device;
  return buffer;
}

loomBuffer *loomBufferWrap(loomDevice device, loomDType dtype, int64_t rank,
                           const int64_t *shape, void *data) {
  if (rank < 0 || rank > LOOM_MAX_RANK || (rank > 0 && !shape))
    return failNull<loomBuffer>("loomBufferWrap: invalid rank or shape");
  if (device != LOOM_DEVICE_CPU && device != LOOM_DEVICE_CUDA)
    return failNull<loomBuffer>("invalid device " +
                                std::to_string(int(device)));
  std::vector<int64_t> dims(shape, shape + rank);
  size_t bytes = 0;
  std::string error;
  if (!storageSize(dtype, dims, bytes, error))
    return failNull<loomBuffer>(error);
  if (!data && bytes > 0)
    return failNull<loomBuffer>("loomBufferWrap: NULL data for a buffer of " +
                                std::to_string(bytes) + " bytes");
  auto *buffer = new loomBuffer;
  buffer->device = device;
  buffer->dtype = dtype;
  buffer->shape = dims;
  buffer->bytes = bytes;
  buffer->data = data;
  buffer->memory = Memory::Borrowed;
  return buffer;
}

void loomBufferDestroy(loomBuffer *buffer) {
  if (!buffer)
    return;
  switch (buffer->memory) {
  case Memory::Host:
    std::free(buffer->allocation);
    break;
  case Memory::Device:
    cuda::release(uint64_t(uintptr_t(buffer->allocation)));
    break;
  case Memory::Module:
    device::releaseModuleAllocation(buffer->allocation);
    break;
  case Memory::Borrowed:
    break;
  }
  delete buffer;
}

loomDevice loomBufferDevice(const loomBuffer *buffer) {
  return buffer ? buffer->device : LOOM_DEVICE_CPU;
}
loomDType loomBufferDType(const loomBuffer *buffer) {
  return buffer ? buffer->dtype : LOOM_DTYPE_F32;
}
int64_t loomBufferRank(const loomBuffer *buffer) {
  return buffer ? int64_t(buffer->shape.size()) : 0;
}
const int64_t *loomBufferShape(const loomBuffer *buffer) {
  return buffer ? buffer->shape.data() : nullptr;
}
size_t loomBufferSizeInBytes(const loomBuffer *buffer) {
  return buffer ? buffer->bytes : 0;
}
void *loomBufferData(loomBuffer *buffer) {
  return buffer ? buffer->data : nullptr;
}

loomStatus loomBufferCopyFromHost(loomBuffer *buffer, const void *source,
                                  size_t bytes) {
  if (!buffer || (!source && bytes))
    return fail("loomBufferCopyFromHost: NULL argument");
  if (bytes != buffer->bytes)
    return fail("copy of " + std::to_string(bytes) + " bytes into a buffer of " +
                std::to_string(buffer->bytes) + " bytes");
  if (buffer->device == LOOM_DEVICE_CUDA) {
    std::string error;
    if (!cuda::copyToDevice(buffer->deviceAddress(), source, bytes, error))
      return fail(error);
    return LOOM_SUCCESS;
  }
  if (bytes)
    std::memcpy(buffer->data, source, bytes);
  return LOOM_SUCCESS;
}

loomStatus loomBufferCopyToHost(const loomBuffer *buffer, void *destination,
                                size_t bytes) {
  if (!buffer || (!destination && bytes))
    return fail("loomBufferCopyToHost: NULL argument");
  if (bytes != buffer->bytes)
    return fail("copy of a buffer of " + std::to_string(buffer->bytes) +
                " bytes into " + std::to_string(bytes) + " bytes");
  if (buffer->device == LOOM_DEVICE_CUDA) {
    std::string error;
    if (!cuda::copyToHost(destination, buffer->deviceAddress(), bytes,
                          error))
      return fail(error);
    return LOOM_SUCCESS;
  }
  if (bytes)
    std::memcpy(destination, buffer->data, bytes);
  return LOOM_SUCCESS;
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

/// The packed call's argument descriptors, after checking each buffer's
/// device, dtype and rank against the signature: `packed[1 + i]` points to
/// `descriptors[i]`; `packed[0]` is left for the results area.
static loomStatus packArguments(const loomEntry *entry, loomBuffer *const *args,
                                int64_t numArgs,
                                std::vector<std::vector<int64_t>> &descriptors,
                                std::vector<void *> &packed) {
  const EntrySignature &sig = *entry->signature;
  const std::string where = "entry '" + sig.name + "'";
  const loomDevice device = entry->module->device;
  const bool onCuda = device == LOOM_DEVICE_CUDA;
  // One descriptor per argument: {allocated, aligned, offset, sizes,
  // strides}, 64-bit words.
  descriptors.assign(numArgs, {});
  packed.assign(1 + numArgs, nullptr);
  for (int64_t i = 0; i < numArgs; ++i) {
    const loomBuffer *buffer = args[i];
    const TensorType &type = sig.args[i];
    std::string arg = "argument " + std::to_string(i) + " of " + where +
                      " (" + formatTensorType(type) + ")";
    if (!buffer)
      return fail(arg + " is NULL");
    if (buffer->device != device)
      return fail(arg + " is a " + loomDeviceName(buffer->device) +
                  " buffer; the module runs on " +
                  (onCuda ? "cuda" : "the cpu"));
    if (buffer->dtype != type.dtype)
      return fail(arg + ": the buffer's dtype is " +
                  dtypeName(buffer->dtype));
    if (buffer->shape.size() != type.dims.size())
      return fail(arg + ": the buffer has rank " +
                  std::to_string(buffer->shape.size()) + " (shape " +
                  shapeText(buffer->shape) + ")");
    // The sizes, static ones included, are the module's to check.
    std::vector<int64_t> sizes = memrefSizes(buffer->dtype, buffer->shape);
    std::vector<int64_t> strides = contiguousStrides(sizes);
    auto pointer = int64_t(reinterpret_cast<intptr_t>(buffer->data));
    std::vector<int64_t> &desc = descriptors[i];
    desc = {pointer, pointer, 0};
    desc.insert(desc.end(), sizes.begin(), sizes.end());
    desc.insert(desc.end(), strides.begin(), strides.end());
    packed[1 + i] = desc.data();
  }
  return LOOM_SUCCESS;
}

loomStatus loomEntryCall(const loomEntry *entry, loomBuffer *const *args,
                         int64_t numArgs, loomBuffer **results,
                         int64_t numResults) {
  if (!entry)
    return fail("loomEntryCall: NULL entry");
  const EntrySignature &sig = *entry->signature;
  const std::string where = "entry '" + sig.name + "'";
  if (numArgs != int64_t(sig.args.size()))
    return fail(where + " takes " + std::to_string(sig.args.size()) +
                " argument(s), given " + std::to_string(numArgs));
  if (numResults != int64_t(sig.results.size()))
    return fail(where + " returns " + std::to_string(sig.results.size()) +
                " result(s), room given for " + std::to_string(numResults));
  if ((numArgs > 0 && !args) || (numResults > 0 && !results))
    return fail("loomEntryCall: NULL argument or result array");
  const loomDevice device = entry->module->device;
  const bool onCuda = device == LOOM_DEVICE_CUDA;

  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> packed;
  if (packArguments(entry, args, numArgs, descriptors, packed) != LOOM_SUCCESS)
    return LOOM_FAILURE;
  size_t words = 0;
  for (const TensorType &type : sig.results)
    words += 3 + 2 * type.dims.size();
  std::vector<int64_t> resultArea(words ? words : 1, 0);
  packed[0] = numResults ? resultArea.data() : nullptr;

  // A CUDA module reports failures through the sticky error of the mgpu*
  // functions it calls (DeviceAPI.h), on this thread.
  if (onCuda)
    loomCudaClearStickyError();
  if (const char *refused = entry->function(packed.data(), numArgs))
    // The module checked its arguments before doing any work: it wrote no
    // result and allocated nothing.
    return fail(std::string(refused));

  // Memory that must never be freed as a result's: the arguments'. Every
  // allocation taken or freed below joins it, so nothing is freed twice.
  std::vector<void *> seenAllocations;
  for (int64_t i = 0; i < numArgs; ++i) {
    seenAllocations.push_back(args[i]->data);
    if (args[i]->allocation)
      seenAllocations.push_back(args[i]->allocation);
  }
  auto seen = [&](void *p) {
    for (void *s : seenAllocations)
      if (s == p)
        return true;
    return false;
  };
  auto releaseModuleMemory = [&](void *p) {
    if (onCuda)
      device::releaseModuleAllocation(p);
    else
      std::free(p);
  };
  std::vector<void *> toRelease; // module allocations to free on failure
  {
    size_t w = 0;
    for (const TensorType &type : sig.results) {
      toRelease.push_back(reinterpret_cast<void *>(resultArea[w]));
      w += 3 + 2 * type.dims.size();
    }
  }
  // Frees what the module allocated for the results not yet taken, unless
  // it is an argument's memory or was already taken by another result.
  auto releaseUntaken = [&] {
    for (void *p : toRelease)
      if (p && !seen(p)) {
        seenAllocations.push_back(p);
        releaseModuleMemory(p);
      }
  };
  if (onCuda) {
    std::string sticky = loomCudaGetStickyError();
    if (!sticky.empty()) {
      releaseUntaken();
      return fail(sticky);
    }
  }

  // Results: validate each descriptor against the signature, then take
  // ownership of its memory (or copy it where the module broke the ABI's
  // promise of fresh, contiguous allocations).
  std::vector<loomBuffer *> made;
  std::string error;
  size_t word = 0;
  for (int64_t r = 0; r < numResults && error.empty(); ++r) {
    const TensorType &type = sig.results[r];
    size_t rank = type.dims.size();
    void *allocated = reinterpret_cast<void *>(resultArea[word]);
    auto *aligned = reinterpret_cast<uint8_t *>(resultArea[word + 1]);
    int64_t offset = resultArea[word + 2];
    std::vector<int64_t> sizes(resultArea.begin() + word + 3,
                               resultArea.begin() + word + 3 + rank);
    std::vector<int64_t> strides(resultArea.begin() + word + 3 + rank,
                                 resultArea.begin() + word + 3 + 2 * rank);
    word += 3 + 2 * rank;
    std::string res = "result " + std::to_string(r) + " of " + where + " (" +
                      formatTensorType(type) + ")";
    std::vector<int64_t> shape = sizes;
    bool shapeOk = true;
    // The packed innermost size of an i4 result, doubled, must fit too.
    if (type.dtype == LOOM_DTYPE_I4 && !shape.empty() &&
        __builtin_mul_overflow(shape.back(), int64_t(2), &shape.back())) {
      shape.back() = sizes.back();
      shapeOk = false;
    }
    for (size_t d = 0; d < rank; ++d)
      if (sizes[d] < 0 ||
          (type.dims[d] != LOOM_DYNAMIC && type.dims[d] != shape[d]))
        shapeOk = false;
    size_t bytes = 0;
    if (!shapeOk || !storageSize(type.dtype, shape, bytes, error)) {
      error = "the module returned a malformed " + res + ": shape " +
              shapeText(shape);
      break;
    }
    size_t eb = storageElementBytes(type.dtype);
    bool contiguous = true;
    std::vector<int64_t> expected = contiguousStrides(sizes);
    for (size_t d = 0; d < rank; ++d)
      if (sizes[d] != 1 && strides[d] != expected[d])
        contiguous = false;
    bool aliased = allocated && seen(allocated);
    int64_t offsetBytes = 0, span = 0, spanBytes = 0;
    if (offset < 0 ||
        __builtin_mul_overflow(offset, int64_t(eb), &offsetBytes) ||
        (!contiguous &&
         (!stridedSpan(sizes, strides, span) ||
          __builtin_mul_overflow(span, int64_t(eb), &spanBytes)))) {
      error = "the module returned a malformed " + res +
              ": its offset or strides are negative or reach past 2^63 bytes";
      break;
    }
    uint8_t *data = aligned ? aligned + offsetBytes : nullptr;
    if (bytes > 0 && !aligned) {
      error = "the module returned a NULL " + res;
      break;
    }
    auto *buffer = new loomBuffer;
    buffer->device = device;
    buffer->dtype = type.dtype;
    buffer->shape = shape;
    buffer->bytes = bytes;
    if (contiguous && !aliased) {
      buffer->data = data;
      buffer->allocation = allocated;
      buffer->memory = onCuda ? Memory::Module : Memory::Host;
      seenAllocations.push_back(allocated);
    } else {
      void *copy = nullptr;
      if (onCuda) {
        if (!copyDeviceResult(data, sizes, strides, eb, bytes, copy, error)) {
          delete buffer;
          error = "cannot copy " + res + ": " + error;
          break;
        }
      } else {
        copy = loomHostAlloc(bytes);
        if (!copy) {
          delete buffer;
          error = "out of host memory copying " + res;
          break;
        }
        if (bytes)
          gatherStrided(data, sizes, strides, eb,
                        static_cast<uint8_t *>(copy));
      }
      buffer->data = copy;
      buffer->allocation = copy;
      buffer->memory = onCuda ? Memory::Module : Memory::Host;
      if (!aliased) {
        seenAllocations.push_back(allocated);
        releaseModuleMemory(allocated);
      }
    }
    toRelease[r] = nullptr; // now owned by `buffer` (or freed)
    made.push_back(buffer);
  }
  if (!error.empty()) {
    for (loomBuffer *b : made)
      loomBufferDestroy(b);
    releaseUntaken();
    return fail(error);
  }
  for (int64_t r = 0; r < numResults; ++r)
    results[r] = made[r];
  return LOOM_SUCCESS;
}

/// The counts and the ABI version that a destination-passing call needs.
static loomStatus checkDestinationCall(const loomEntry *entry,
                                       const char *function, int64_t numArgs,
                                       loomBuffer *const *args) {
  if (!entry)
    return fail(std::string(function) + ": NULL entry");
  const EntrySignature &sig = *entry->signature;
  if (!entry->call)
    return fail("entry '" + sig.name + "' of module '" + entry->module->path +
                "' (ABI " + std::to_string(entry->module->signature.abi) +
                ") has no destination-passing call: recompile it with a "
                "loom-compile of ABI 4 or later");
  if (numArgs != int64_t(sig.args.size()))
    return fail("entry '" + sig.name + "' takes " +
                std::to_string(sig.args.size()) + " argument(s), given " +
                std::to_string(numArgs));
  if (numArgs > 0 && !args)
    return fail(std::string(function) + ": NULL argument array");
  return LOOM_SUCCESS;
}

int64_t loomEntryNumResultDims(const loomEntry *entry) {
  return entry ? entry->numResultDims : 0;
}

loomStatus loomEntryResultShapes(const loomEntry *entry,
                                 loomBuffer *const *args, int64_t numArgs,
                                 int64_t *dims, int64_t numDims) {
  if (checkDestinationCall(entry, "loomEntryResultShapes", numArgs, args) !=
      LOOM_SUCCESS)
    return LOOM_FAILURE;
  if (numDims != entry->numResultDims || (numDims > 0 && !dims))
    return fail("entry '" + entry->signature->name + "' has " +
                std::to_string(entry->numResultDims) +
                " result dimension(s), room given for " +
                std::to_string(numDims));
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> packed;
  if (packArguments(entry, args, numArgs, descriptors, packed) != LOOM_SUCCESS)
    return LOOM_FAILURE;
  std::vector<int64_t> out(numDims ? numDims : 1);
  if (const char *refused = entry->shape(packed.data(), numArgs, out.data()))
    return fail(refused);
  std::copy(out.begin(), out.begin() + numDims, dims);
  return LOOM_SUCCESS;
}

void *loomEntryShapeFunction(const loomEntry *entry) {
  return entry ? reinterpret_cast<void *>(entry->shape) : nullptr;
}

void *loomEntryCallFunction(const loomEntry *entry) {
  return entry ? reinterpret_cast<void *>(entry->call) : nullptr;
}

loomStatus loomEntryCallInto(const loomEntry *entry, loomBuffer *const *args,
                             int64_t numArgs, loomBuffer *const *results,
                             int64_t numResults,
                             const loomCallContext *context) {
  if (checkDestinationCall(entry, "loomEntryCallInto", numArgs, args) !=
      LOOM_SUCCESS)
    return LOOM_FAILURE;
  const EntrySignature &sig = *entry->signature;
  const std::string where = "entry '" + sig.name + "'";
  if (numResults != int64_t(sig.results.size()))
    return fail(where + " returns " + std::to_string(sig.results.size()) +
                " result(s), given " + std::to_string(numResults) +
                " destination(s)");
  if (numResults > 0 && !results)
    return fail("loomEntryCallInto: NULL destination array");
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> packed;
  if (packArguments(entry, args, numArgs, descriptors, packed) != LOOM_SUCCESS)
    return LOOM_FAILURE;
  // The result shapes, to name a wrong destination precisely (the module
  // checks them again).
  std::vector<int64_t> dims(entry->numResultDims ? entry->numResultDims : 1);
  if (const char *refused = entry->shape(packed.data(), numArgs, dims.data()))
    return fail(refused);
  const loomDevice device = entry->module->device;
  std::vector<int64_t> area;
  size_t k = 0;
  for (int64_t r = 0; r < numResults; ++r) {
    const loomBuffer *buffer = results[r];
    const TensorType &type = sig.results[r];
    std::vector<int64_t> shape(dims.begin() + k,
                               dims.begin() + k + type.dims.size());
    k += type.dims.size();
    std::string res = "destination " + std::to_string(r) + " of " + where +
                      " (" + formatTensorType(type) + ", shape " +
                      shapeText(shape) + " for these arguments)";
    if (!buffer)
      return fail(res + " is NULL");
    if (buffer->device != device)
      return fail(res + " is a " + loomDeviceName(buffer->device) +
                  " buffer; the module runs on " + loomDeviceName(device));
    if (buffer->dtype != type.dtype)
      return fail(res + ": the buffer's dtype is " + dtypeName(buffer->dtype));
    if (buffer->shape != shape)
      return fail(res + ": the buffer's shape is " +
                  shapeText(buffer->shape));
    for (int64_t s = 0; s < r; ++s)
      if (results[s] == buffer ||
          (buffer->bytes > 0 && results[s]->data == buffer->data))
        return fail(res + " is the same memory as destination " +
                    std::to_string(s));
    std::vector<int64_t> sizes = memrefSizes(buffer->dtype, buffer->shape);
    std::vector<int64_t> strides = contiguousStrides(sizes);
    auto pointer = int64_t(reinterpret_cast<intptr_t>(buffer->data));
    area.insert(area.end(), {pointer, pointer, 0});
    area.insert(area.end(), sizes.begin(), sizes.end());
    area.insert(area.end(), strides.begin(), strides.end());
  }
  if (area.empty())
    area.push_back(0);
  packed[0] = numResults ? area.data() : nullptr;
  if (const char *refused = entry->call(packed.data(), numArgs, context))
    return fail(refused);
  return LOOM_SUCCESS;
}

loomStatus loomSynchronize(loomDevice device) {
  if (device == LOOM_DEVICE_CPU)
    return LOOM_SUCCESS;
  if (device == LOOM_DEVICE_CUDA) {
    std::string error;
    if (!cuda::synchronize(error))
      return fail(error);
    return LOOM_SUCCESS;
  }
  return fail("invalid device " + std::to_string(int(device)));
}

} // extern "C"
