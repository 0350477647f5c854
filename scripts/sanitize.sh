#!/usr/bin/env bash
# Builds Loom with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ and runs ctest there (lit suites and unit tests) with leak
# detection on. Not part of CI: a documented command (see docs/reliability.md).
#   scripts/sanitize.sh            # configure if needed, build, test
#   LOOM_JOBS=2 scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LOOM_JOBS:-$(nproc)}
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_USE_LINKER=lld \
    -DCMAKE_CXX_FLAGS="$san" -DCMAKE_C_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
fi
ninja -C build-asan -j "$jobs"
# Leaks on; suppressions cover only leaks in MLIR/LLVM global state (see the
# file). abort_on_error: a sanitizer report ends the process with SIGABRT, so
# that tests expecting exit status 1 (a diagnostic) cannot mistake one for it.
# allow_user_poisoning=0: LLVM's bump allocator poisons slabs from inline
# code in Loom's instrumented objects that uninstrumented libMLIR.so then
# allocates from (fuzz/AsanOptions.cpp says more).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allow_user_poisoning=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/test/Reliability/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Left out: embed-installed builds an outside project against the installed
# (instrumented) static libraries without the sanitizer flags, so its link
# fails on __asan_* symbols; loomrt-python loads the instrumented runtime into
# an uninstrumented python ("ASan runtime does not come first"). Neither says
# anything about Loom's code. Pass your own -E/-R to override.
ctest --test-dir build-asan -j "$jobs" --output-on-failure \
  -E '^(embed-installed|loomrt-python)$' "$@"
