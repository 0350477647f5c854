/* A hand-written module with the Loom module ABI (docs/abi.md), for the runtime tests. */
/*
 * Built in several variants (one LOOM_TEST_* macro each) so that the tests
 * can load good and broken modules without a compiler. The GOOD variant also
 * breaks the ABI's promises on purpose (a result that is an argument's
 * buffer, one allocation returned twice, a strided result), to check that
 * the runtime copies rather than double-frees or misreads.
 */
/* Included only to check, on every build, that the runtime header is C. */
#include "loom/Runtime/Runtime.h"

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
  "abi 1\n"                                                                    \
  "target cpu\n"                                                               \
  "entry add(tensor<?xf32>, tensor<?xf32>) -> (tensor<?xf32>)\n"               \
  "entry echo(tensor<4xf32>) -> (tensor<4xf32>)\n"                             \
  "entry twice(tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>)\n"             \
  "entry transpose(tensor<2x3xf32>) -> (tensor<3x2xf32>)\n"                    \
  "entry nibbles(tensor<2x4xi4>) -> (tensor<2x4xi4>)\n"                        \
  "entry nothing() -> ()\n"
#elif defined(LOOM_TEST_MALFORMED)
#define SIGNATURE "abi 1\ntarget cpu\nentry add(tensor<4xf33>) -> ()\n"
#elif defined(LOOM_TEST_MISSING_ENTRY)
#define SIGNATURE "abi 1\ntarget cpu\nentry ghost() -> ()\n"
#elif defined(LOOM_TEST_GPU_TARGET)
#define SIGNATURE "abi 1\ntarget sm_90a\nentry add() -> ()\n"
#elif defined(LOOM_TEST_FUTURE_ABI)
#define SIGNATURE "abi 2\ntarget cpu\n"
#endif

#ifdef SIGNATURE
const char *loom_module_signature(void) { return SIGNATURE; }
#else
/* LOOM_TEST_NO_SIGNATURE: a shared library, but not a Loom module. */
int not_a_loom_module(void) { return 0; }
#endif

static float *element1(const Desc1 *d, int64_t i) {
  return (float *)d->aligned + d->offset + i * d->strides[0];
}

/* add: elementwise sum of two dynamic vectors, into a fresh allocation. */
void loom_entry_add(void **args) {
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
void loom_entry_echo(void **args) {
  memcpy(args[0], args[1], sizeof(Desc1));
}

/* twice: one allocation returned as both results (what the ABI forbids). */
void loom_entry_twice(void **args) {
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
void loom_entry_transpose(void **args) {
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
void loom_entry_nibbles(void **args) {
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
void loom_entry_nothing(void **args) {
  (void)args;
  ++nothingCalls;
}
