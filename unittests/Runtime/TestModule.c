/* A hand-written module with the Loom module ABI (docs/abi.md), for the runtime tests. */
/*
 * Built in several variants (one LOOM_TEST_* macro each) so that the tests
 * can load good and broken modules without a compiler. The GOOD variant also
 * breaks the ABI's promises on purpose (a result that is an argument's
 * buffer, one allocation returned twice, a strided result), to check that
 * the runtime copies rather than double-frees or misreads.
 *
 * The CUDA variant is a module for target sm_90a that calls the runtime's
 * mgpu* functions the way MLIR's gpu-to-llvm output does: a global
 * constructor registers its "cubin" with mgpuModuleLoad (a destructor
 * unloads it), and each entry takes a stream, allocates its results with
 * mgpuMemAlloc, launches kernels by name, synchronizes and returns device
 * descriptors. Its kernels are the ones the fake driver (FakeCuda.c) runs on
 * the host.
 */
/* Included only to check, on every build, that the runtime headers are C
 * (the CUDA variant uses DeviceAPI.h's declarations). */
#include "loom/Runtime/DeviceAPI.h"
#include "loom/Runtime/Runtime.h"

#include "IntegrityNote.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Memref descriptors of rank 1 and 2: 64-bit words, back to back. */
typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} Desc1;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} Desc2;

#if defined(LOOM_TEST_GOOD)
#define SIGNATURE                                                              \
  "abi 3\n"                                                                    \
  "target cpu\n"                                                               \
  "entry add(tensor<?xf32>, tensor<?xf32>) -> (tensor<?xf32>)\n"               \
  "entry echo(tensor<4xf32>) -> (tensor<4xf32>)\n"                             \
  "entry twice(tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>)\n"             \
  "entry transpose(tensor<2x3xf32>) -> (tensor<3x2xf32>)\n"                    \
  "entry nibbles(tensor<2x4xi4>) -> (tensor<2x4xi4>)\n"                        \
  "entry nothing() -> ()\n"
#elif defined(LOOM_TEST_MALFORMED)
#define SIGNATURE "abi 3\ntarget cpu\nentry add(tensor<4xf33>) -> ()\n"
#elif defined(LOOM_TEST_MISSING_ENTRY)
#define SIGNATURE "abi 3\ntarget cpu\nentry ghost() -> ()\n"
#elif defined(LOOM_TEST_GPU_TARGET)
#define SIGNATURE "abi 3\ntarget sm_90a\nentry add() -> ()\n"
#elif defined(LOOM_TEST_CUDA)
#define SIGNATURE                                                              \
  "abi 3\n"                                                                    \
  "target sm_90a\n"                                                            \
  "entry scale(tensor<?xf32>) -> (tensor<?xf32>)\n"                            \
  "entry scale8(tensor<8xf32>) -> (tensor<8xf32>)\n"                           \
  "entry pair(tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)\n"              \
  "entry big_smem(tensor<4xf32>) -> (tensor<4xf32>)\n"                         \
  "entry fill(tensor<4xi32>) -> (tensor<4xi32>, tensor<4xf16>)\n"              \
  "entry echo(tensor<4xf32>) -> (tensor<4xf32>)\n"                             \
  "entry transpose(tensor<2x3xf32>) -> (tensor<3x2xf32>)\n"                    \
  "entry missing_kernel(tensor<4xf32>) -> (tensor<4xf32>)\n"
#elif defined(LOOM_TEST_UNKNOWN_TARGET)
#define SIGNATURE "abi 3\ntarget gfx90a\n"
#elif defined(LOOM_TEST_FUTURE_ABI)
#define SIGNATURE "abi 5\ntarget cpu\n"
#elif defined(LOOM_TEST_UNSEALED)
#define SIGNATURE "abi 3\ntarget cpu\nentry nothing() -> ()\n"
#elif defined(LOOM_TEST_OLD_ABI)
#define SIGNATURE "abi 2\ntarget cpu\nentry nothing() -> ()\n"
#endif

/* The integrity record loom-compile adds to every module, sealed after
 * linking (loom-test-seal). The UNSEALED variant lacks it, like a module from
 * a loom-compile before ABI 3 or a library from another tool. */
#if !defined(LOOM_TEST_UNSEALED)
__asm__(LOOM_INTEGRITY_NOTE_ASM);
#endif

/* Input hints (docs/abi.md) for loom-run --random-inputs: scale8's argument
 * in [10, 12); echo's an integer range for a float argument and pair's a
 * bound short, which loom-run refuses as malformed. The other variants have
 * none, like modules from compilers before hints. */
#ifdef LOOM_TEST_CUDA
const char *loom_module_input_hints(void) {
  return "entry scale8: f 10 12\n"
         "entry echo: i 0 1\n"
         "entry pair: f 1\n";
}
#endif

#ifdef SIGNATURE
const char *loom_module_signature(void) { return SIGNATURE; }
#else
/* LOOM_TEST_NO_SIGNATURE: a shared library, but not a Loom module. */
int not_a_loom_module(void) { return 0; }
#endif


/* The ABI 3 entries: like a compiled module's, each checks its argument
 * count and the argument sizes it relies on before doing any work, and
 * returns the failed check's message (or NULL after running). */
#define LOOM_ENTRY(name, count, refused)                                       \
  const char *loom_entry_##name(void **args, int64_t nargs) {                  \
    if (nargs != (count))                                                      \
      return #name ": called with the wrong number of arguments";              \
    const char *message = (refused);                                           \
    if (message)                                                               \
      return message;                                                          \
    impl_##name(args);                                                         \
    return NULL;                                                               \
  }

/* Dimension `d` of argument `i`'s descriptor. */
#define SIZE(i, d) (((const int64_t *)args[1 + (i)])[3 + (d)])

#ifdef LOOM_TEST_CUDA

/* What gpu-to-llvm emits: a global holding the module handle, set by a
 * constructor from the embedded binary and unloaded by a destructor. */
static char cubin[] = "fake cubin: the fake driver accepts anything";
static void *gpuModule;

__attribute__((constructor)) static void loadGpuModule(void) {
  gpuModule = mgpuModuleLoad(cubin, sizeof(cubin));
}

__attribute__((destructor)) static void unloadGpuModule(void) {
  mgpuModuleUnload(gpuModule);
}

/* A 1-D launch of `kernel` (float *in, float *out, int64_t n) over n
 * elements, 256 threads a block, as the GPU pipeline's mapping does. */
static void launch(const char *kernel, const float *in, float *out, int64_t n,
                   int32_t smem, void *stream) {
  void *params[] = {&in, &out, &n};
  mgpuLaunchKernel(mgpuModuleGetFunction(gpuModule, kernel), (n + 255) / 256,
                   1, 1, 256, 1, 1, smem, stream, params, NULL, 3);
}

static void setResult1(Desc1 *out, void *p, int64_t n) {
  out->allocated = out->aligned = p;
  out->offset = 0;
  out->sizes[0] = n;
  out->strides[0] = 1;
}

static const float *data1(const Desc1 *d) {
  return (const float *)d->aligned + d->offset;
}

/* scale: 2 * x, for any length (0 launches nothing). */
static void impl_scale(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *x = (const Desc1 *)args[1];
  int64_t n = x->sizes[0];
  void *stream = mgpuStreamCreate();
  float *p = (float *)mgpuMemAlloc((uint64_t)n * sizeof(float), stream, 0);
  launch("scale_f32", data1(x), p, n, 0, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  setResult1(out, p, n);
}

static void impl_scale8(void **args) { impl_scale(args); }

/* pair: (4x, 4x) through an intermediate (2x) that is freed, with an event
 * and a device-to-device copy for the second result. */
static void impl_pair(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *x = (const Desc1 *)args[1];
  void *stream = mgpuStreamCreate();
  float *tmp = (float *)mgpuMemAlloc(16, stream, 0);
  float *r0 = (float *)mgpuMemAlloc(16, stream, 0);
  float *r1 = (float *)mgpuMemAlloc(16, stream, 0);
  launch("scale_f32", data1(x), tmp, 4, 0, stream);
  launch("scale_f32", tmp, r0, 4, 0, stream);
  void *event = mgpuEventCreate();
  mgpuEventRecord(event, stream);
  mgpuStreamWaitEvent(stream, event);
  mgpuMemcpy(r1, r0, 16, stream);
  mgpuEventSynchronize(event);
  mgpuEventDestroy(event);
  mgpuMemFree(tmp, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  setResult1(&out[0], r0, 4);
  setResult1(&out[1], r1, 4);
}

/* big_smem: 2 * x with 100 KiB of dynamic shared memory. */
static void impl_big_smem(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *x = (const Desc1 *)args[1];
  void *stream = mgpuStreamCreate();
  float *p = (float *)mgpuMemAlloc(16, stream, 0);
  launch("scale_f32", data1(x), p, 4, 100 * 1024, stream);
  mgpuStreamSynchronize(stream);
  setResult1(out, p, 4);
}

/* fill: memsets, (7, 7, 7, 7) as i32 and (1.0, ...) as f16. */
static void impl_fill(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  void *stream = mgpuStreamCreate();
  void *ints = mgpuMemAlloc(16, stream, 0);
  void *halves = mgpuMemAlloc(8, stream, 0);
  mgpuMemset32(ints, 7, 4, stream);
  mgpuMemset16(halves, 0x3C00, 4, stream);
  mgpuStreamSynchronize(stream);
  setResult1(&out[0], ints, 4);
  setResult1(&out[1], halves, 4);
}

/* echo: returns its argument's own memory (what the ABI forbids). */
static void impl_echo(void **args) { memcpy(args[0], args[1], sizeof(Desc1)); }

/* transpose: copies x into a fresh allocation at offset 1 and returns a
 * transposed (non-contiguous) view of it. */
static void impl_transpose(void **args) {
  Desc2 *out = (Desc2 *)args[0];
  const Desc2 *x = (const Desc2 *)args[1];
  void *stream = mgpuStreamCreate();
  float *p = (float *)mgpuMemAlloc(7 * sizeof(float), stream, 0);
  launch("copy_f32", (const float *)x->aligned + x->offset, p + 1, 6, 0,
         stream);
  mgpuStreamSynchronize(stream);
  out->allocated = out->aligned = p;
  out->offset = 1;
  out->sizes[0] = 3;
  out->sizes[1] = 2;
  out->strides[0] = 1;
  out->strides[1] = 3;
}

/* missing_kernel: allocates its result, then asks for a kernel the GPU
 * code lacks. */
static void impl_missing_kernel(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *x = (const Desc1 *)args[1];
  void *stream = mgpuStreamCreate();
  float *p = (float *)mgpuMemAlloc(16, stream, 0);
  launch("no_such_kernel", data1(x), p, 4, 0, stream);
  mgpuStreamSynchronize(stream);
  setResult1(out, p, 4);
}

LOOM_ENTRY(scale, 1, NULL)
LOOM_ENTRY(scale8, 1,
           SIZE(0, 0) != 8 ? "scale8: argument 0 dimension 0 must be 8" : NULL)
LOOM_ENTRY(pair, 1, NULL)
LOOM_ENTRY(big_smem, 1, NULL)
LOOM_ENTRY(fill, 1, NULL)
LOOM_ENTRY(echo, 1, NULL)
LOOM_ENTRY(transpose, 1, NULL)
LOOM_ENTRY(missing_kernel, 1, NULL)

#else /* the CPU variants */

static float *element1(const Desc1 *d, int64_t i) {
  return (float *)d->aligned + d->offset + i * d->strides[0];
}

/* add: elementwise sum of two dynamic vectors, into a fresh allocation. */
static void impl_add(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *a = (const Desc1 *)args[1], *b = (const Desc1 *)args[2];
  int64_t n = a->sizes[0];
  float *p = (float *)malloc(n * sizeof(float) + 1);
  for (int64_t i = 0; i < n; ++i)
    p[i] = *element1(a, i) + *element1(b, i);
  out->allocated = out->aligned = p;
  out->offset = 0;
  out->sizes[0] = n;
  out->strides[0] = 1;
}

/* echo: returns its argument's own buffer (what the ABI forbids). */
static void impl_echo(void **args) {
  memcpy(args[0], args[1], sizeof(Desc1));
}

/* twice: one allocation returned as both results (what the ABI forbids). */
static void impl_twice(void **args) {
  Desc1 *out = (Desc1 *)args[0];
  const Desc1 *a = (const Desc1 *)args[1];
  float *p = (float *)malloc(2 * sizeof(float));
  p[0] = *element1(a, 0) * 2;
  p[1] = *element1(a, 1) * 2;
  for (int r = 0; r < 2; ++r) {
    out[r].allocated = out[r].aligned = p;
    out[r].offset = 0;
    out[r].sizes[0] = 2;
    out[r].strides[0] = 1;
  }
}

/* transpose: a fresh allocation holding the input, returned through a
 * transposed (non-contiguous) view with an offset. */
static void impl_transpose(void **args) {
  Desc2 *out = (Desc2 *)args[0];
  const Desc2 *x = (const Desc2 *)args[1];
  float *p = (float *)malloc(7 * sizeof(float));
  p[0] = -1;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      p[1 + i * 3 + j] = ((const float *)x->aligned)[x->offset + i * x->strides[0] + j * x->strides[1]];
  out->allocated = out->aligned = p;
  out->offset = 1;
  out->sizes[0] = 3;
  out->sizes[1] = 2;
  out->strides[0] = 1;
  out->strides[1] = 3;
}

/* nibbles: copies a packed i4 tensor (2x4 elements, 2x2 bytes), negating
 * each element, to check the packed layout end to end. */
static void impl_nibbles(void **args) {
  Desc2 *out = (Desc2 *)args[0];
  const Desc2 *x = (const Desc2 *)args[1];
  uint8_t *p = (uint8_t *)malloc(4);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      uint8_t byte = ((const uint8_t *)x->aligned)[x->offset + i * x->strides[0] + j * x->strides[1]];
      int lo = (int8_t)(byte << 4) >> 4, hi = (int8_t)byte >> 4;
      lo = -lo;
      hi = -hi;
      p[i * 2 + j] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
    }
  out->allocated = out->aligned = p;
  out->offset = 0;
  out->sizes[0] = 2;
  out->sizes[1] = 2;
  out->strides[0] = 2;
  out->strides[1] = 1;
}

int nothingCalls = 0;
static void impl_nothing(void **args) {
  (void)args;
  ++nothingCalls;
}

LOOM_ENTRY(add, 2,
           SIZE(1, 0) != SIZE(0, 0)
               ? "add: argument 1 dimension 0 (?) must equal argument 0 "
                 "dimension 0"
               : NULL)
LOOM_ENTRY(echo, 1,
           SIZE(0, 0) != 4 ? "echo: argument 0 dimension 0 must be 4" : NULL)
LOOM_ENTRY(twice, 1, NULL)
LOOM_ENTRY(transpose, 1, NULL)
LOOM_ENTRY(nibbles, 1, NULL)
LOOM_ENTRY(nothing, 0, NULL)

#endif /* LOOM_TEST_CUDA */
