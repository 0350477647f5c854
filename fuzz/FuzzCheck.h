//===- FuzzCheck.h - invariants checked by the fuzz targets -------*- C++ -*-===//
//
// A broken invariant is a bug even where no sanitizer fires (a silently wrong
// answer): LOOM_FUZZ_CHECK reports it once and aborts, so that libFuzzer
// records the input as a crash.

#ifndef LOOM_FUZZ_FUZZCHECK_H
#define LOOM_FUZZ_FUZZCHECK_H

#include <cstdio>
#include <cstdlib>

#define LOOM_FUZZ_CHECK(condition)                                             \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__,    \
                   __LINE__, #condition);                                      \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

#endif // LOOM_FUZZ_FUZZCHECK_H
