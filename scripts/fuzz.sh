#!/usr/bin/env bash
# Builds Loom's libFuzzer targets (fuzz/) into build-fuzz/ with clang-22
# (coverage + ASan + UBSan on every Loom library) and runs them
# (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh --ci               # the bounded, reproducible run of CI
#   scripts/fuzz.sh --long SECONDS     # each target SECONDS, one at a time,
#                                      # growing build-fuzz/corpus/<target>
#   scripts/fuzz.sh --build            # configure and build only
#   ... [TARGET...]                    # only these (loom-fuzz-npy, ...)
#
# --ci first replays every reproducer under fuzz/regressions/<target>/, then
# fuzzes each target from the seeds (fuzz/make_seeds.py, regenerated from
# test/ and examples/ every run) with a fixed -seed for a fixed number of
# runs (about 60 s each here; -max_total_time caps a slow machine), two
# targets at a time. Any crash, leak, timeout or out-of-memory fails the
# script, with the reproducer's path and the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-fuzz
jobs=${LOOM_JOBS:-$(nproc)}

mode=ci
seconds=0
targets=()
while (($#)); do
  case $1 in
    --ci) mode=ci ;;
    --build) mode=build ;;
    --long)
      mode=long
      seconds=${2:?--long needs a number of seconds}
      [[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --long wants seconds, got '$seconds'" >&2; exit 2; }
      shift ;;
    loom-fuzz-*) targets+=("$1") ;;
    *) echo "fuzz.sh: unknown argument '$1' (--ci, --long SECONDS, --build, loom-fuzz-*)" >&2; exit 2 ;;
  esac
  shift
done
all=(loom-fuzz-parse loom-fuzz-npy loom-fuzz-cpu-pipeline loom-fuzz-module
     loom-fuzz-module-file loom-fuzz-limits)
((${#targets[@]})) || targets=("${all[@]}")

# --- build -------------------------------------------------------------------
for tool in clang-22 clang++-22; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (scripts/setup.sh installs clang-22 and libclang-rt-22-dev)" >&2; exit 1; }
done
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_USE_LINKER=lld \
    -DLOOM_ENABLE_FUZZERS=ON -DLOOM_BUILD_TESTS=OFF
fi
start=$(date +%s)
# loom-compile (instrumented like the rest) compiles the module seeds.
ninja -C build-fuzz -j "$jobs" loom-fuzzers loom-compile
echo "fuzz.sh: build took $(($(date +%s) - start)) s"
[ "$mode" = build ] && exit 0

python3 fuzz/make_seeds.py "$root" "$build/seeds" "$build/bin/loom-compile"

# --- per-target settings -------------------------------------------------------
# The limits bound what is not Loom's bug (a huge constant folded): inputs up
# to 16 KiB (the largest seed is 14 KiB; 128 KiB for whole modules), 2 GiB of
# memory, and -timeout seconds per input. Deep nests are Loom's to refuse
# (docs/Design.md, "Input limits"); loom-fuzz-limits generates them.
seeds_of() {
  case $1 in
    loom-fuzz-parse|loom-fuzz-cpu-pipeline) echo mlir ;;
    loom-fuzz-npy) echo npy ;;
    loom-fuzz-module) echo signature ;;
    loom-fuzz-module-file) echo modules ;;
    loom-fuzz-limits) echo limits ;;
  esac
}
options_of() {
  case $1 in
    loom-fuzz-parse) echo "-dict=$root/fuzz/mlir.dict -max_len=16384 -timeout=30" ;;
    loom-fuzz-cpu-pipeline) echo "-dict=$root/fuzz/mlir.dict -max_len=16384 -timeout=60" ;;
    loom-fuzz-npy) echo "-dict=$root/fuzz/npy.dict -max_len=4096 -timeout=10" ;;
    loom-fuzz-module) echo "-dict=$root/fuzz/signature.dict -max_len=4096 -timeout=10" ;;
    loom-fuzz-module-file) echo "-max_len=131072 -timeout=10" ;;
    loom-fuzz-limits) echo "-max_len=256 -timeout=60" ;;
  esac
}
# --ci: runs per target, about 60 s each on the 2-core CI machine.
ci_runs_of() {
  case $1 in
    loom-fuzz-parse) echo 40000 ;;
    loom-fuzz-cpu-pipeline) echo 10000 ;;
    loom-fuzz-npy) echo 12000000 ;;
    loom-fuzz-module) echo 1200000 ;;
    loom-fuzz-module-file) echo 50000 ;;
    loom-fuzz-limits) echo 1000 ;;
  esac
}
common=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1)
# abort_on_error: a sanitizer report is a crash to libFuzzer (and to us).
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# Prints how to replay what a failed run left in $1 (its artifact directory).
report() {
  local target=$1 dir=$2 found=0
  for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
    [ -e "$f" ] || continue
    found=1
    echo "fuzz.sh: $target: reproducer $f"
    echo "fuzz.sh:   replay: build-fuzz/bin/$target $(options_of "$target") $f"
  done
  ((found)) || echo "fuzz.sh: $target: failed without a reproducer; see $dir/log"
}

# Replays the kept reproducers of a target; each must now run clean.
replay() {
  local target=$1 dir=$root/fuzz/regressions/$1 opts
  local files=("$dir"/*)
  [ -e "${files[0]}" ] || return 0
  read -ra opts <<< "$(options_of "$target")"
  if ! "$build/bin/$target" "${opts[@]}" "${common[@]}" "${files[@]}" \
        > "$build/ci/$target/replay.log" 2>&1; then
    tail -n 40 "$build/ci/$target/replay.log"
    echo "fuzz.sh: $target: a kept reproducer under fuzz/regressions/$target fails again; see $build/ci/$target/replay.log"
    return 1
  fi
  echo "fuzz.sh: $target: replayed ${#files[@]} reproducer(s) from fuzz/regressions/$target"
}

# libFuzzer keys its comparison tables on code addresses, so a run is
# reproducible only without address-space randomization: --ci turns it off
# for the fuzzers where the system lets it.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  norandom=(setarch "$(uname -m)" -R)
fi

# Fuzzes one target with the extra options $3...; its log and artifacts go
# to $2.
fuzz_one() {
  local target=$1 dir=$2 opts t0 status=0
  shift 2
  mkdir -p "$dir/new"
  read -ra opts <<< "$(options_of "$target")"
  t0=$(date +%s)
  "${norandom[@]}" "$build/bin/$target" "${opts[@]}" "${common[@]}" "$@" \
      -artifact_prefix="$dir/" \
      "$dir/new" "$build/seeds/$(seeds_of "$target")" > "$dir/log" 2>&1 || status=$?
  local stats
  stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$dir/log" | tail -n 2 | tr -s ' \n' ' ')
  echo "fuzz.sh: $target: $(($(date +%s) - t0)) s, exit $status, $stats"
  if ((status)); then
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz invariant failed' "$dir/log" | head -5 || true
    report "$target" "$dir"
    return 1
  fi
}

failed=0
case $mode in
  ci)
    start=$(date +%s)
    rm -rf "$build/ci"
    for t in "${targets[@]}"; do
      mkdir -p "$build/ci/$t"
      replay "$t" || failed=1
    done
    # Two at a time (2 cores): each pair runs in the background together.
    pids=()
    for ((i = 0; i < ${#targets[@]}; i += 2)); do
      pids=()
      for t in "${targets[@]:i:2}"; do
        fuzz_one "$t" "$build/ci/$t" -runs="$(ci_runs_of "$t")" -max_total_time=150 \
            -seed=1 -reload=0 &
        pids+=($!)
      done
      for p in "${pids[@]}"; do wait "$p" || failed=1; done
    done
    echo "fuzz.sh: --ci took $(($(date +%s) - start)) s"
    ;;
  long)
    for t in "${targets[@]}"; do
      mkdir -p "$build/corpus/$t" "$build/long/$t"
      # The kept corpus is the first directory: new inputs go there.
      read -ra opts <<< "$(options_of "$t")"
      nice -n 19 "$build/bin/$t" "${opts[@]}" "${common[@]}" \
          -artifact_prefix="$build/long/$t/" -max_total_time="$seconds" \
          "$build/corpus/$t" "$build/seeds/$(seeds_of "$t")" \
          > "$build/long/$t/log" 2>&1 || { failed=1; report "$t" "$build/long/$t"; }
      echo "fuzz.sh: $t: $(grep -E '^stat::number_of_executed_units' "$build/long/$t/log" || true)," \
           "corpus $(find "$build/corpus/$t" -type f | wc -l) files"
    done
    ;;
esac
if ((failed)); then
  echo "fuzz.sh: FAILED" >&2
  exit 1
fi
echo "fuzz.sh: OK"
