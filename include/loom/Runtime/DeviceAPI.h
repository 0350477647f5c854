/* Loom runtime: the mgpu* device functions that compiled GPU modules call. */
/*
 * A GPU module from `loom-compile --target=sm_90a` is host code produced by
 * MLIR's `gpu-to-llvm` conversion, with the kernels embedded as a cubin. That
 * host code does not call CUDA itself: it calls the functions below, which
 * MLIR's runtime wrappers (mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp)
 * define upstream, with exactly these C signatures (as gpu-to-llvm declares
 * them, e.g. `declare ptr @mgpuMemAlloc(i64, ptr, i8)`). A module references
 * them as undefined symbols, so the process that loads it must export them:
 * linking LoomRuntime through CMake does (an INTERFACE link option exports
 * mgpu* from the executable), and so does loading libloomrt.so with
 * RTLD_GLOBAL before any module (what language bindings do).
 *
 * Loom's definitions differ from upstream's where it matters for a runtime
 * that compiled modules call on every entry call:
 *
 * - mgpuModuleLoad only records the image: it runs from the module's global
 *   constructor, when the module is dlopen'd, possibly on a machine without
 *   a GPU. The image is loaded (cuModuleLoadData) on the first
 *   mgpuModuleGetFunction, which returns a handle that remembers the
 *   kernel's name (for error messages) and is cached per name.
 * - mgpuStreamCreate returns one stream per thread, created on first use and
 *   destroyed when the thread exits; mgpuStreamDestroy does nothing. It is a
 *   blocking stream (CU_STREAM_DEFAULT): it synchronizes with the legacy
 *   default stream, on which loomBufferCopyFromHost copies and PyTorch's
 *   default stream runs.
 * - mgpuMemAlloc uses the stream-ordered allocator (cuMemAllocAsync on the
 *   device's default memory pool, whose release threshold the runtime raises
 *   to UINT64_MAX so that freed memory stays cached); mgpuMemFree uses
 *   cuMemFreeAsync. isHostShared allocates managed memory instead. A
 *   0-byte allocation returns NULL and is no error.
 * - Errors: none of these functions can return one, so the runtime keeps a
 *   thread-local *sticky error*: the first failure since the last
 *   loomCudaClearStickyError() is recorded with what failed ("CUDA error in
 *   kernel K (launch): CUDA_ERROR_INVALID_VALUE (invalid argument)",
 *   "cuMemAllocAsync of 1073741824 bytes failed: CUDA_ERROR_OUT_OF_MEMORY
 *   (out of memory)", "CUDA error at synchronize after kernel K:
 *   CUDA_ERROR_ILLEGAL_ADDRESS (...)"). Once it is set, the functions that
 *   would queue work do nothing (no launch, copy, memset or allocation;
 *   mgpuMemAlloc returns NULL), while frees, synchronizations and event and
 *   module clean-up still run. loomEntryCall clears it before calling an
 *   entry and fails with it afterwards; nothing is printed.
 * - A grid with a zero dimension launches nothing (no work) instead of
 *   failing; negative or oversized dimensions are errors. A launch with
 *   more than 48 KiB of dynamic shared memory first raises the kernel's
 *   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.
 * - Only device 0 is used: mgpuSetDefaultDevice accepts 0 and records an
 *   error for any other device.
 *
 * Handles are opaque pointers here (CUstream, CUevent, CUmodule and
 * CUfunction in upstream's declarations; the same at the ABI).
 */
#ifndef LOOM_RUNTIME_DEVICEAPI_H
#define LOOM_RUNTIME_DEVICEAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loom/Runtime/CallContext.h"

#ifdef __cplusplus
extern "C" {
#endif

/*===--------------------------------------------------------------------===*
 * What gpu-to-llvm emits calls to
 *===--------------------------------------------------------------------===*/

/* Records a cubin image of `size` bytes (not copied: it lives in the
 * module's read-only data until mgpuModuleUnload). Never touches the
 * driver. */
void *mgpuModuleLoad(void *data, size_t size);
/* The same for a NUL-terminated PTX image, JIT-compiled at the given
 * optimization level on first use. */
void *mgpuModuleLoadJIT(void *data, int optLevel);
/* Unloads the code (if it was loaded) and forgets the module; records no
 * error (it runs from global destructors). */
void mgpuModuleUnload(void *module);
/* The kernel `name` of `module`, loading the module's code on first use. */
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);

void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *destination, void *source, size_t bytes, void *stream);
void mgpuMemset32(void *destination, unsigned int value, size_t count,
                  void *stream);
void mgpuMemset16(void *destination, unsigned short value, size_t count,
                  void *stream);
void mgpuSetDefaultDevice(int32_t device);
/* A 2-D tensor map (CUtensorMap, 128 bytes) for TMA copies of boxes of
 * `boxRows` x `boxCols` elements of the row-major matrix at `base` (rows x
 * cols elements of `elementBytes` bytes, rows `rowStride` elements apart),
 * with the CUtensorMap data type, swizzle, L2 promotion and out-of-bounds
 * fill enums; returns a device pointer to it. Compiled Hopper kernels (the
 * wgmma GEMM) call it from their host code before each launch. The maps are
 * encoded once per (address, shape, stride, box, options) and cached for the
 * life of the process, in device memory carved from 64 KiB slabs: a call
 * with a seen key costs a hash lookup. Failures (a misaligned address or
 * stride, a driver without cuTensorMapEncodeTiled) are sticky errors; the
 * call then returns NULL and the launch that would use it is skipped. */
void *loomCudaTensorMap2D(int64_t base, int64_t rows, int64_t cols,
                          int64_t rowStride, int64_t dataType,
                          int64_t elementBytes, int64_t boxRows,
                          int64_t boxCols, int64_t swizzle, int64_t l2Promotion,
                          int64_t oobFill);
/* The same for a 4-D tensor [n0][n1][n2][n3] at `base` whose dimensions 0,
 * 1 and 2 are `s0`, `s1`, `s2` elements apart (dimension 3 is contiguous),
 * e.g. the [B, H, S, D] operands of attention, strided views included; the
 * box is [1][1][boxRows][boxCols]. Out-of-bounds rows of a box (past n2)
 * read as zero without touching the next head's rows. */
void *loomCudaTensorMap4D(int64_t base, int64_t n0, int64_t n1, int64_t n2,
                          int64_t n3, int64_t s0, int64_t s1, int64_t s2,
                          int64_t dataType, int64_t elementBytes,
                          int64_t boxRows, int64_t boxCols, int64_t swizzle,
                          int64_t l2Promotion, int64_t oobFill);

/*===--------------------------------------------------------------------===*
 * The sticky error and the stream, for hosts
 *===--------------------------------------------------------------------===*/

/* This thread's sticky error ("" if none); valid until the next mgpu* or
 * loomCuda* call on this thread. */
const char *loomCudaGetStickyError(void);
void loomCudaClearStickyError(void);
/* The calling thread's stream (what mgpuStreamCreate returns), as a
 * CUstream; NULL if the driver is unusable (then the sticky error says
 * why). Hosts order their own work with a module's through it, e.g.
 * torch.cuda.ExternalStream. */
void *loomCudaGetStream(void);

/*===--------------------------------------------------------------------===*
 * Destination-passing calls (ABI 4, docs/abi.md)
 *===--------------------------------------------------------------------===*/

/* What a GPU module's loom_call_<name> calls around its body. Begin clears
 * the sticky error and, until End, makes this thread's mgpu* functions use
 * the caller's `context` (NULL: the defaults): mgpuStreamCreate returns its
 * stream (NULL: the legacy default stream), mgpuStreamSynchronize of that
 * stream returns at once (the call does not wait for its kernels), and
 * mgpuMemAlloc/mgpuMemFree go to its allocator when it has one. Returns
 * the stream. A context whose size is too small or that has only one of
 * alloc and free is a sticky error (the body then queues nothing). End
 * leaves the context and returns the sticky error, or NULL if the call
 * queued its work without one (valid until the next mgpu* or loomCuda* call
 * on this thread). */
void *loomCudaCallBegin(const loomCallContext *context);
const char *loomCudaCallEnd(void);
/* The last kernel launched on this thread ("" if none since the last
 * loomCudaCallBegin or loomCudaClearStickyError): a host that finds a fault
 * at its own synchronization names it with this. */
const char *loomCudaLastKernel(void);
/* Waits for `stream` (a CUstream; NULL: the legacy default stream). NULL
 * when its work completed; otherwise the failure, naming the last kernel
 * this thread launched ("CUDA error at synchronize after kernel K: ..."),
 * valid until the next call on this thread. Sets no sticky error. */
const char *loomCudaStreamSynchronize(void *stream);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_RUNTIME_DEVICEAPI_H */
