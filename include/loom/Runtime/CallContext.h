/* Loom: the call context of destination-passing entries (ABI 4). */
/*
 * `const char *loom_call_<name>(void **args, int64_t nargs,
 *                               const loomCallContext *context)` (docs/abi.md,
 * "Destination-passing calls") takes one of these, or NULL for the defaults.
 * Plain C, so that a host without the runtime's headers can lay it out.
 */
#ifndef LOOM_RUNTIME_CALLCONTEXT_H
#define LOOM_RUNTIME_CALLCONTEXT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Allocates `bytes` (> 0) of device memory usable in stream order on
 * `stream`; NULL on failure (the call then fails with a message naming the
 * size). */
typedef void *(*loomAllocFn)(void *user, uint64_t bytes, void *stream);
/* Releases what the allocator returned, in stream order on `stream`: work
 * already queued on the stream may still use it. */
typedef void (*loomFreeFn)(void *user, void *pointer, void *stream);

typedef struct loomCallContext {
  /* sizeof(loomCallContext), so that later versions can add fields. */
  uint64_t size;
  /* The CUstream the entry queues its work on (NULL: the legacy default
   * stream). Ignored by CPU modules, which run synchronously. */
  void *stream;
  /* Scratch (and every intermediate buffer) of a GPU entry; both NULL: the
   * runtime's stream-ordered pool (cuMemAllocAsync). Either both or neither.
   * CPU modules take their scratch from malloc and ignore these. */
  loomAllocFn alloc;
  loomFreeFn free;
  void *user;
} loomCallContext;

#ifdef __cplusplus
}
#endif

#endif /* LOOM_RUNTIME_CALLCONTEXT_H */
