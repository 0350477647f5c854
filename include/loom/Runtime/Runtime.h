/* Loom runtime C API: load compiled modules, list and call their entries, manage buffers. */
/*
 * This is the interface that loom-run and embedding programs use to run what
 * loom-compile produced (docs/abi.md describes the module ABI underneath).
 * It is plain C so that any language can bind it, and the library behind it
 * links neither MLIR nor LLVM: a module compiled on one machine runs on
 * another that has only this runtime.
 *
 * Conventions:
 * - Functions returning loomStatus return LOOM_SUCCESS (0) or LOOM_FAILURE;
 *   functions returning pointers return NULL on failure. After a failure,
 *   loomGetLastError() describes it in one line (thread-local). Nothing
 *   throws across this interface and nothing aborts on bad input.
 * - Shapes are int64_t arrays; LOOM_DYNAMIC (-1) marks a dynamic dimension in
 *   entry signatures. Buffers always have concrete shapes.
 * - i4 buffers hold their elements packed two per byte along the innermost
 *   dimension (the even index in the low nibble), so their shape's innermost
 *   dimension must be even; i1 buffers hold one byte (0 or 1) per element.
 * - CUDA is reached through the driver API, loaded at run time with
 *   dlopen("libcuda.so.1") on first use (LOOM_CUDA_DRIVER overrides the
 *   path); on a machine without it every CUDA request fails with
 *   "CUDA driver libcuda.so.1 not found: ..." and the CPU path is unaffected.
 *   Only device 0 is used, through its primary context (the one the CUDA
 *   runtime and PyTorch use too).
 * - A module compiled for a CUDA target (signature `target sm_90a`, any
 *   `sm_NN[a]`) is a CUDA module: it is loaded for LOOM_DEVICE_CUDA, takes
 *   CUDA buffers and returns CUDA buffers. It calls the runtime's mgpu*
 *   functions (loom/Runtime/DeviceAPI.h), which the process must export: a
 *   host linked with LoomRuntime through CMake does; bindings load
 *   libloomrt.so (the runtime as a shared library) with RTLD_GLOBAL first.
 */
#ifndef LOOM_RUNTIME_RUNTIME_H
#define LOOM_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "loom/Runtime/CallContext.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOOM_DYNAMIC ((int64_t)-1)
/* Ranks above this are rejected by the signature parser and buffers. */
#define LOOM_MAX_RANK 16

typedef enum loomStatus { LOOM_SUCCESS = 0, LOOM_FAILURE = 1 } loomStatus;

typedef enum loomDevice {
  LOOM_DEVICE_CPU = 0,
  LOOM_DEVICE_CUDA = 1,
} loomDevice;

/* Element types of entry arguments and results (the MLIR spelling is
 * loomDTypeName's). */
typedef enum loomDType {
  LOOM_DTYPE_F32 = 0,
  LOOM_DTYPE_F16,
  LOOM_DTYPE_BF16,
  LOOM_DTYPE_F64,
  LOOM_DTYPE_F8E4M3FN,
  LOOM_DTYPE_I1,
  LOOM_DTYPE_I4,
  LOOM_DTYPE_I8,
  LOOM_DTYPE_I32,
  LOOM_DTYPE_I64,
} loomDType;

/* A tensor type of an entry's signature; `dims` has `rank` elements, each a
 * size or LOOM_DYNAMIC, and lives as long as the module. */
typedef struct loomTensorType {
  loomDType dtype;
  int64_t rank;
  const int64_t *dims;
} loomTensorType;

typedef struct loomModule loomModule;
typedef struct loomEntry loomEntry;
typedef struct loomBuffer loomBuffer;

/*===--------------------------------------------------------------------===*
 * Errors, types, devices
 *===--------------------------------------------------------------------===*/

/* The message of this thread's last failure ("" if none); valid until the
 * next runtime call on this thread. */
const char *loomGetLastError(void);

/* "f32", "bf16", "i4", "f8E4M3FN", ... */
const char *loomDTypeName(loomDType dtype);
/* "cpu" or "cuda". */
const char *loomDeviceName(loomDevice device);

/* Bytes a buffer of `dtype` and `shape` occupies (i4 packed). Fails on a
 * negative dimension, an overflow (of the size, or of a contiguous stride
 * past 2^60, even in an empty buffer) or an i4 shape with an odd innermost
 * dimension (a rank-0 i4 counts as odd). */
loomStatus loomStorageSize(loomDType dtype, int64_t rank, const int64_t *shape,
                           size_t *bytes);

/* LOOM_SUCCESS if `device` can be used now. For CUDA this loads the driver,
 * initializes it and checks that a GPU is present; otherwise the error says
 * why (no driver, no device, ...). The CPU is always available. */
loomStatus loomDeviceInit(loomDevice device);

/*===--------------------------------------------------------------------===*
 * Host memory
 *===--------------------------------------------------------------------===*/

/* 64-byte aligned host memory (at least one byte is allocated for size 0);
 * NULL on failure. Free with loomHostFree. */
void *loomHostAlloc(size_t bytes);
void loomHostFree(void *pointer);

/*===--------------------------------------------------------------------===*
 * Modules and entries
 *===--------------------------------------------------------------------===*/

/* Loads the module at `path` (a shared library from loom-compile) for
 * `device`: opens it, reads and parses its signature and resolves every
 * entry. A path without '/' is taken relative to the working directory (not
 * searched for like a system library). */
loomModule *loomModuleLoad(const char *path, loomDevice device);
/* Unloads `module` (NULL is ignored). Buffers returned by its entries stay
 * valid: they are plain heap memory, or device memory of the runtime's
 * allocator for a CUDA module. */
void loomModuleUnload(loomModule *module);

/* The signature text exactly as the module returns it. */
const char *loomModuleSignature(const loomModule *module);
/* The ranges `loom-run --random-inputs` draws the entries' arguments from,
 * as the module's loom_module_input_hints returns them (docs/abi.md, "Input
 * hints"); NULL for a module without them (compiled before they existed). */
const char *loomModuleInputHints(const loomModule *module);
/* The target the module was compiled for ("cpu", ...). */
const char *loomModuleTarget(const loomModule *module);
loomDevice loomModuleDevice(const loomModule *module);
int64_t loomModuleNumEntries(const loomModule *module);
/* The index-th entry, in signature order; NULL if out of range. */
const loomEntry *loomModuleGetEntry(const loomModule *module, int64_t index);
/* The entry called `name`; NULL with an error naming the available entries
 * if there is none. */
const loomEntry *loomModuleLookupEntry(const loomModule *module,
                                       const char *name);

const char *loomEntryName(const loomEntry *entry);
int64_t loomEntryNumArgs(const loomEntry *entry);
int64_t loomEntryNumResults(const loomEntry *entry);
/* The type of argument or result `index`; fails if out of range. */
loomStatus loomEntryArgType(const loomEntry *entry, int64_t index,
                            loomTensorType *type);
loomStatus loomEntryResultType(const loomEntry *entry, int64_t index,
                               loomTensorType *type);
/* The signature line's text for the entry: "name(T, ...) -> (T, ...)". */
const char *loomEntrySignature(const loomEntry *entry);

/* Writes the MLIR spelling of `type` ("tensor<4x?xbf16>") into `buffer`
 * (always NUL-terminated when size > 0) and returns the length the full text
 * needs, as snprintf does. */
size_t loomFormatTensorType(const loomTensorType *type, char *buffer,
                            size_t size);

/*===--------------------------------------------------------------------===*
 * Buffers
 *===--------------------------------------------------------------------===*/

/* A zero-filled buffer of `dtype` and `shape` on `device`. */
loomBuffer *loomBufferCreate(loomDevice device, loomDType dtype, int64_t rank,
                             const int64_t *shape);
/* A buffer over memory the caller owns and keeps alive while the buffer is
 * used: a host pointer for the CPU, a device address (CUdeviceptr, e.g. a
 * torch tensor's data_ptr()) for CUDA, of loomStorageSize bytes, contiguous
 * and row-major. NULL `data` is allowed only when that size is 0. The memory
 * is never freed by the runtime; no driver is needed to wrap. */
loomBuffer *loomBufferWrap(loomDevice device, loomDType dtype, int64_t rank,
                           const int64_t *shape, void *data);
/* Frees the buffer and its memory (NULL is ignored): free() for host
 * memory, cuMemFree for loomBufferCreate's CUDA memory, the stream-ordered
 * cuMemFreeAsync on the calling thread's runtime stream for the results of
 * CUDA modules (the caller must not have work that still reads them queued
 * on another stream), nothing for loomBufferWrap's memory. */
void loomBufferDestroy(loomBuffer *buffer);

loomDevice loomBufferDevice(const loomBuffer *buffer);
loomDType loomBufferDType(const loomBuffer *buffer);
int64_t loomBufferRank(const loomBuffer *buffer);
const int64_t *loomBufferShape(const loomBuffer *buffer);
size_t loomBufferSizeInBytes(const loomBuffer *buffer);
/* The host pointer of a CPU buffer; for a CUDA buffer, its device address
 * (a CUdeviceptr) cast to a pointer, not dereferenceable on the host. */
void *loomBufferData(loomBuffer *buffer);

/* Copies exactly loomBufferSizeInBytes(buffer) bytes; `bytes` must equal it.
 * For CUDA buffers the copy is synchronous (cuMemcpyHtoD / cuMemcpyDtoH on
 * the legacy default stream, which is ordered with the runtime's streams). */
loomStatus loomBufferCopyFromHost(loomBuffer *buffer, const void *source,
                                  size_t bytes);
loomStatus loomBufferCopyToHost(const loomBuffer *buffer, void *destination,
                                size_t bytes);

/*===--------------------------------------------------------------------===*
 * Calls
 *===--------------------------------------------------------------------===*/

/* Calls `entry` with `numArgs` argument buffers and, on success, stores
 * `numResults` new buffers (owned by the caller, freed with
 * loomBufferDestroy) into `results`. Checks before calling: the counts, each
 * argument's device (the module's: CUDA buffers for a CUDA module), dtype
 * and rank against the signature. The module then checks the sizes itself
 * (static dimensions, and the relations between dynamic ones that its body
 * relies on, docs/abi.md "Entry checks"): a mismatch returns LOOM_FAILURE
 * with the module's message, e.g. "f: argument 1 dimension 0 (?) must equal
 * argument 0 dimension 1 (required at f.mlir:3:8)", before the module did
 * any work; no results are stored. Arguments are only read.
 *
 * A CUDA module's entry runs its kernels on the calling thread's runtime
 * stream and synchronizes it before returning, so results are ready when
 * this returns. A CUDA failure inside the call (a launch, an allocation, a
 * fault found at the synchronization) makes it return LOOM_FAILURE with the
 * runtime's sticky-error message, e.g. "CUDA error in kernel K (launch):
 * ...", after freeing every result the entry produced: no results are
 * stored. After a kernel fault the CUDA context is unusable for the rest of
 * the process (a CUDA property). */
loomStatus loomEntryCall(const loomEntry *entry, loomBuffer *const *args,
                         int64_t numArgs, loomBuffer **results,
                         int64_t numResults);

/*===--------------------------------------------------------------------===*
 * Destination-passing calls (ABI 4, docs/abi.md)
 *===--------------------------------------------------------------------===*/

/* The number of result dimensions of `entry`, all results together (the
 * length of loomEntryResultShapes's `dims`). */
int64_t loomEntryNumResultDims(const loomEntry *entry);

/* The shapes of the results that `entry` returns for these arguments,
 * before any call: every result's logical dimensions one after the other
 * (i4 unpacked), `numDims` = loomEntryNumResultDims(entry) of them. Checks
 * the arguments as loomEntryCall does (the module's size checks included)
 * and reads only their sizes, never their memory. Fails for a module of
 * ABI 3, and for a result size that the module cannot compute from the
 * argument sizes (the message names it). */
loomStatus loomEntryResultShapes(const loomEntry *entry,
                                 loomBuffer *const *args, int64_t numArgs,
                                 int64_t *dims, int64_t numDims);

/* Calls `entry` with destination passing: its results are written into
 * `results` (buffers the caller made, of the module's device, each of its
 * result's dtype and of exactly the shape loomEntryResultShapes gives; no
 * two the same memory), nothing is returned. A GPU module queues its work
 * on `context`'s stream with its allocator for scratch (NULL: the legacy
 * default stream and the runtime's stream-ordered pool) and returns without
 * waiting: the results are ready in stream order. Errors found without a
 * synchronization (counts, devices, dtypes, shapes, the module's size
 * checks, a failed launch or allocation) fail the call at once, before any
 * work is queued for the first ones; a kernel's fault surfaces at the
 * caller's next synchronization of the stream (loomCudaStreamSynchronize
 * names the last kernel launched). A CPU module ignores the context and
 * has finished when this returns. */
loomStatus loomEntryCallInto(const loomEntry *entry, loomBuffer *const *args,
                             int64_t numArgs, loomBuffer *const *results,
                             int64_t numResults,
                             const loomCallContext *context);

/* The module's own loom_shape_<name> and loom_call_<name> (docs/abi.md),
 * for bindings that build the descriptors themselves; NULL before ABI 4. */
void *loomEntryShapeFunction(const loomEntry *entry);
void *loomEntryCallFunction(const loomEntry *entry);

/* Waits for all work queued on `device` (a no-op on the CPU, whose calls are
 * synchronous). */
loomStatus loomSynchronize(loomDevice device);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_RUNTIME_RUNTIME_H */
