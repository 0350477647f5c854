#!/usr/bin/env bash
# Measures how long loom-compile takes to compile every example to a shared
# library, for the CPU and sm_90a (docs/compile-time.md): the median wall
# time of RUNS compilations each and, where the compiler has --time-phases,
# the phases of the last one.
#   scripts/compile-time.sh [LOOM_COMPILE] [RUNS]     (default build/bin/loom-compile, 3)
# Run it on an otherwise idle machine; note its cores (nproc) beside the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
compile=${1:-build/bin/loom-compile}
runs=${2:-3}
[ -x "$compile" ] || { echo "$0: no $compile (build first)" >&2; exit 1; }
targets=(cpu sm_90a)
phases=0
flags=()
if "$compile" --help 2>/dev/null | grep -q -- --time-phases; then
  phases=1
  flags=(--time-phases)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "$0: $compile, $(nproc) cores, median of $runs runs"
for src in examples/*.mlir; do
  for target in "${targets[@]}"; do
    times=()
    for ((i = 0; i < runs; ++i)); do
      t0=$(date +%s.%N)
      "$compile" "$src" --target="$target" -o "$scratch/out.so" "${flags[@]}" \
        >/dev/null 2>"$scratch/phases"
      t1=$(date +%s.%N)
      times+=("$(echo "$t1 - $t0" | bc)")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
    printf '%-40s %-7s %6.3f s  (runs: %s)\n' "$src" "$target" "$median" "${times[*]}"
    if ((phases)); then sed 's/^/    /' "$scratch/phases"; fi
  done
done
