/* A fake CUDA driver (libcuda.so.1 stand-in) for the runtime's tests on machines without a GPU. */
/*
 * The runtime loads it through LOOM_CUDA_DRIVER. It implements every cu*
 * entry point the runtime resolves, on the host:
 *
 * - device memory is malloc'd host memory (so copies are memcpy); every
 *   live allocation is tracked, and freeing an unknown pointer fails with
 *   CUDA_ERROR_INVALID_VALUE and counts as a bad free (double frees show);
 * - cuModuleLoadData accepts any image and counts loads; cuModuleGetFunction
 *   knows a few kernels by name, which cuLaunchKernel runs on the host over
 *   the whole grid, so that results can be checked;
 * - launches are recorded (kernel, grid, block, shared memory); like the
 *   real driver, one with more than 48 KiB of dynamic shared memory fails
 *   unless cuFuncSetAttribute raised the kernel's limit first;
 * - failures are injected through the fakeCuda* control functions below
 *   (tests dlopen this library too: the same path gives the same instance)
 *   or, for processes such as loom-run, environment variables read by
 *   cuInit: LOOM_FAKE_CUDA_FAIL_LAUNCH=<CUresult>,
 *   LOOM_FAKE_CUDA_FAIL_ALLOC=<CUresult>, LOOM_FAKE_CUDA_FAIL_SYNC=<CUresult>,
 *   LOOM_FAKE_CUDA_NO_DEVICE=1. Each injected failure happens once;
 * - cuGetErrorName and cuGetErrorString return the real driver's texts for
 *   the codes used here.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_FOUND = 500,
};

#define EXPORT __attribute__((visibility("default")))

/*===--------------------------------------------------------------------===*
 * State
 *===--------------------------------------------------------------------===*/

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void **live;
static size_t numLive, capLive;
static int badFrees, asyncAllocs, syncAllocs, managedAllocs, moduleLoads,
    jitLoads, launches, streamsCreated, streamsLive, eventsLive, memsets;
static uint64_t poolThreshold;

static CUresult failLaunch, failAlloc, failSync, failModuleLoad;
static int failAllocAfter; /* successful allocations before failAlloc hits */
static int noDevice;

typedef struct {
  char kernel[64];
  unsigned grid[3], block[3], smem;
} Launch;
static Launch lastLaunch;

/* Kernels run on the host: params are pointers to the arguments' values. */
typedef void (*HostKernel)(unsigned index, void **params);

/* out[i] = 2 * in[i] for i < n; params (float *in, float *out, int64_t n). */
static void scaleF32(unsigned i, void **params) {
  const float *in = *(const float **)params[0];
  float *out = *(float **)params[1];
  int64_t n = *(const int64_t *)params[2];
  if (i < n)
    out[i] = 2 * in[i];
}

/* out[i] = in[i]; params (float *in, float *out, int64_t n). */
static void copyF32(unsigned i, void **params) {
  const float *in = *(const float **)params[0];
  float *out = *(float **)params[1];
  int64_t n = *(const int64_t *)params[2];
  if (i < n)
    out[i] = in[i];
}

static void nothing(unsigned i, void **params) {
  (void)i;
  (void)params;
}

typedef struct {
  const char *name;
  HostKernel body;
  int sharedLimit; /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */
} Function;

static Function functions[] = {
    {"scale_f32", scaleF32, 48 * 1024},
    {"copy_f32", copyF32, 48 * 1024},
    {"noop", nothing, 48 * 1024},
};
#define NUM_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

static int context, pool;

static void track(void *p) {
  if (numLive == capLive) {
    capLive = capLive ? 2 * capLive : 64;
    live = (void **)realloc(live, capLive * sizeof(void *));
  }
  live[numLive++] = p;
}

static int untrack(void *p) {
  for (size_t i = 0; i < numLive; ++i)
    if (live[i] == p) {
      live[i] = live[--numLive];
      return 1;
    }
  return 0;
}

static CUresult allocate(CUdeviceptr *out, size_t bytes, int *counter) {
  pthread_mutex_lock(&lock);
  CUresult r = CUDA_SUCCESS;
  if (failAlloc && failAllocAfter-- <= 0) {
    r = failAlloc;
    failAlloc = 0;
  } else {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
      r = CUDA_ERROR_OUT_OF_MEMORY;
    } else {
      track(p);
      ++*counter;
      *out = (CUdeviceptr)(uintptr_t)p;
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}

static CUresult release(CUdeviceptr pointer) {
  void *p = (void *)(uintptr_t)pointer;
  pthread_mutex_lock(&lock);
  int known = untrack(p);
  if (!known)
    ++badFrees;
  pthread_mutex_unlock(&lock);
  if (!known)
    return CUDA_ERROR_INVALID_VALUE;
  free(p);
  return CUDA_SUCCESS;
}

static CUresult oneShot(CUresult *failure) {
  pthread_mutex_lock(&lock);
  CUresult r = *failure;
  *failure = 0;
  pthread_mutex_unlock(&lock);
  return r;
}

/*===--------------------------------------------------------------------===*
 * Controls, for the tests
 *===--------------------------------------------------------------------===*/

EXPORT void fakeCudaReset(void) {
  pthread_mutex_lock(&lock);
  failLaunch = failAlloc = failSync = failModuleLoad = 0;
  failAllocAfter = 0;
  badFrees = 0;
  pthread_mutex_unlock(&lock);
}
EXPORT void fakeCudaFailLaunch(CUresult r) { failLaunch = r; }
/* The allocation after `after` successful ones fails with `r`. */
EXPORT void fakeCudaFailAllocation(CUresult r, int after) {
  failAlloc = r;
  failAllocAfter = after;
}
EXPORT void fakeCudaFailSynchronize(CUresult r) { failSync = r; }
EXPORT void fakeCudaFailModuleLoad(CUresult r) { failModuleLoad = r; }
EXPORT int fakeCudaLiveAllocations(void) { return (int)numLive; }
EXPORT int fakeCudaBadFrees(void) { return badFrees; }
EXPORT int fakeCudaAsyncAllocations(void) { return asyncAllocs; }
EXPORT int fakeCudaSyncAllocations(void) { return syncAllocs; }
EXPORT int fakeCudaManagedAllocations(void) { return managedAllocs; }
EXPORT int fakeCudaModuleLoads(void) { return moduleLoads; }
EXPORT int fakeCudaJitLoads(void) { return jitLoads; }
EXPORT int fakeCudaLaunches(void) { return launches; }
static int tensorMapEncodes;
EXPORT int fakeCudaTensorMapEncodes(void) { return tensorMapEncodes; }
EXPORT int fakeCudaStreamsCreated(void) { return streamsCreated; }
EXPORT int fakeCudaLiveStreams(void) { return streamsLive; }
EXPORT int fakeCudaLiveEvents(void) { return eventsLive; }
EXPORT int fakeCudaMemsets(void) { return memsets; }
EXPORT uint64_t fakeCudaPoolThreshold(void) { return poolThreshold; }
/* The last launch: its kernel's name, grid and block sizes, shared memory. */
EXPORT const char *fakeCudaLastKernel(void) { return lastLaunch.kernel; }
EXPORT unsigned fakeCudaLastGridX(void) { return lastLaunch.grid[0]; }
EXPORT unsigned fakeCudaLastBlockX(void) { return lastLaunch.block[0]; }
EXPORT unsigned fakeCudaLastSharedBytes(void) { return lastLaunch.smem; }
/* The dynamic shared memory limit of kernel `name` (-1 if unknown). */
EXPORT int fakeCudaSharedLimit(const char *name) {
  for (size_t i = 0; i < NUM_FUNCTIONS; ++i)
    if (!strcmp(functions[i].name, name))
      return functions[i].sharedLimit;
  return -1;
}

/*===--------------------------------------------------------------------===*
 * The driver API
 *===--------------------------------------------------------------------===*/

static CUresult envCode(const char *name) {
  const char *v = getenv(name);
  return v && *v ? (CUresult)atoi(v) : 0;
}

EXPORT CUresult cuInit(unsigned flags) {
  (void)flags;
  failLaunch = envCode("LOOM_FAKE_CUDA_FAIL_LAUNCH");
  failAlloc = envCode("LOOM_FAKE_CUDA_FAIL_ALLOC");
  failSync = envCode("LOOM_FAKE_CUDA_FAIL_SYNC");
  noDevice = envCode("LOOM_FAKE_CUDA_NO_DEVICE");
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetCount(int *count) {
  *count = noDevice ? 0 : 1;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGet(int *d, int ordinal) {
  *d = ordinal;
  return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) {
  (void)d;
  *ctx = &context;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSetCurrent(void *ctx) {
  return ctx == &context ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  return allocate(p, bytes, &syncAllocs);
}
EXPORT CUresult cuMemAllocAsync(CUdeviceptr *p, size_t bytes, void *stream) {
  (void)stream;
  return allocate(p, bytes, &asyncAllocs);
}
EXPORT CUresult cuMemAllocManaged(CUdeviceptr *p, size_t bytes,
                                  unsigned flags) {
  (void)flags;
  return allocate(p, bytes, &managedAllocs);
}
EXPORT CUresult cuMemFree_v2(CUdeviceptr p) { return release(p); }
EXPORT CUresult cuMemFreeAsync(CUdeviceptr p, void *stream) {
  (void)stream;
  return release(p);
}
EXPORT CUresult cuDeviceGetDefaultMemPool(void **out, int d) {
  (void)d;
  *out = &pool;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemPoolSetAttribute(void *p, int attribute, void *value) {
  if (p != &pool)
    return CUDA_ERROR_INVALID_VALUE;
  if (attribute == 4) /* CU_MEMPOOL_ATTR_RELEASE_THRESHOLD */
    poolThreshold = *(uint64_t *)value;
  return CUDA_SUCCESS;
}

/* Like the real driver, refuses addresses and row strides that are not
 * multiples of 16 bytes; the map holds the address and the dimensions. */
EXPORT CUresult cuTensorMapEncodeTiled(void *map, int dataType, uint32_t rank,
                                       void *address, const uint64_t *dims,
                                       const uint64_t *strides,
                                       const uint32_t *box,
                                       const uint32_t *elementStrides,
                                       int interleave, int swizzle, int l2,
                                       int oob) {
  (void)dataType, (void)elementStrides, (void)interleave,
      (void)swizzle, (void)l2, (void)oob;
  if ((uintptr_t)address % 16)
    return CUDA_ERROR_INVALID_VALUE;
  for (uint32_t i = 0; i + 1 < rank; ++i)
    if (strides[i] % 16)
      return CUDA_ERROR_INVALID_VALUE;
  memset(map, 0, 128);
  /* What the tests read back: the address, dims (innermost first) in words
     1..5, byte strides in 6..9, the box in 10..14, the rank in 15. */
  uint64_t words[16] = {(uint64_t)(uintptr_t)address};
  for (uint32_t i = 0; i < rank && i < 5; ++i) {
    words[1 + i] = dims[i];
    words[10 + i] = box[i];
    if (i + 1 < rank)
      words[6 + i] = strides[i];
  }
  words[15] = rank;
  memcpy(map, words, sizeof(words));
  ++tensorMapEncodes;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
  memcpy((void *)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n,
                              void *stream) {
  (void)stream;
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value,
                              size_t n) {
  memset((void *)(uintptr_t)dst, value, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n,
                                 void *stream) {
  (void)stream;
  uint32_t *p = (uint32_t *)(uintptr_t)dst;
  for (size_t i = 0; i < n; ++i)
    p[i] = value;
  ++memsets;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value,
                                 size_t n, void *stream) {
  (void)stream;
  uint16_t *p = (uint16_t *)(uintptr_t)dst;
  for (size_t i = 0; i < n; ++i)
    p[i] = value;
  ++memsets;
  return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = malloc(1);
  pthread_mutex_lock(&lock);
  ++streamsCreated;
  ++streamsLive;
  pthread_mutex_unlock(&lock);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamDestroy_v2(void *stream) {
  free(stream);
  pthread_mutex_lock(&lock);
  --streamsLive;
  pthread_mutex_unlock(&lock);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return oneShot(&failSync);
}
EXPORT CUresult cuStreamWaitEvent(void *stream, void *event, unsigned f) {
  (void)stream;
  (void)f;
  return event ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuEventCreate(void **event, unsigned flags) {
  (void)flags;
  *event = malloc(1);
  ++eventsLive;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuEventDestroy_v2(void *event) {
  free(event);
  --eventsLive;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuEventSynchronize(void *event) {
  return event ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuEventRecord(void *event, void *stream) {
  (void)stream;
  return event ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

static int moduleHandle;
EXPORT CUresult cuModuleLoadData(void **module, const void *image) {
  (void)image;
  CUresult r = oneShot(&failModuleLoad);
  if (r)
    return r;
  ++moduleLoads;
  *module = &moduleHandle;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleLoadDataEx(void **module, const void *image,
                                   unsigned numOptions, int *options,
                                   void **values) {
  CUresult r = oneShot(&failModuleLoad);
  if (r) {
    /* Like ptxas: a message in the error log buffer (option 5). */
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == 5)
        strcpy((char *)values[i], "ptxas fatal   : fake failure\n");
    return r;
  }
  (void)image;
  ++jitLoads;
  *module = &moduleHandle;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleUnload(void *module) {
  return module == &moduleHandle ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuModuleGetFunction(void **function, void *module,
                                    const char *name) {
  if (module != &moduleHandle)
    return CUDA_ERROR_INVALID_VALUE;
  for (size_t i = 0; i < NUM_FUNCTIONS; ++i)
    if (!strcmp(functions[i].name, name)) {
      *function = &functions[i];
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}
EXPORT CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  Function *f = (Function *)function;
  if (attribute != 8 || value < 0 || value > 227 * 1024)
    return CUDA_ERROR_INVALID_VALUE;
  f->sharedLimit = value;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy,
                               unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned smem, void *stream,
                               void **params, void **extra) {
  (void)stream;
  (void)extra;
  Function *f = (Function *)function;
  CUresult r = oneShot(&failLaunch);
  if (r)
    return r;
  if (!f || !gx || !gy || !gz || !bx || !by || !bz)
    return CUDA_ERROR_INVALID_VALUE;
  if ((int)smem > f->sharedLimit)
    return CUDA_ERROR_INVALID_VALUE;
  ++launches;
  strncpy(lastLaunch.kernel, f->name, sizeof(lastLaunch.kernel) - 1);
  lastLaunch.grid[0] = gx;
  lastLaunch.grid[1] = gy;
  lastLaunch.grid[2] = gz;
  lastLaunch.block[0] = bx;
  lastLaunch.block[1] = by;
  lastLaunch.block[2] = bz;
  lastLaunch.smem = smem;
  /* One-dimensional kernels: thread index block * bx + thread. */
  for (unsigned b = 0; b < gx; ++b)
    for (unsigned t = 0; t < bx; ++t)
      f->body(b * bx + t, params);
  return CUDA_SUCCESS;
}

typedef struct {
  CUresult code;
  const char *name, *text;
} ErrorInfo;

/* The real driver's names and descriptions. */
static const ErrorInfo errors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};

static const ErrorInfo *lookup(CUresult r) {
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); ++i)
    if (errors[i].code == r)
      return &errors[i];
  return NULL;
}
EXPORT CUresult cuGetErrorName(CUresult r, const char **name) {
  const ErrorInfo *e = lookup(r);
  *name = e ? e->name : NULL;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuGetErrorString(CUresult r, const char **text) {
  const ErrorInfo *e = lookup(r);
  *text = e ? e->text : NULL;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
