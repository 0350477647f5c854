#!/usr/bin/env bash
# Writes the PTX of every bench case and example (sm_90a and sm_80, fused and
# --no-fusion, default and two non-default tile sets) into one folder, so that
# a refactoring of the kernel builders can be checked byte for byte:
#
#   scripts/ptx-snapshot.sh OUT [BUILD_DIR]        # BUILD_DIR defaults to build
#   diff -r OUT_BEFORE OUT_AFTER
#
# A source a target does not compile is recorded as NAME.failed with its
# diagnostics, so that a change in what compiles shows in the diff too.
# LOOM_PTX_ONLY=REGEX keeps the outputs whose name (e.g.
# cases_attention_sm_90a_tiles1) matches an extended regex.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/ptx-snapshot.sh OUT [BUILD_DIR]}
build=${2:-$root/build}
compile=$build/bin/loom-compile
[ -x "$compile" ] || { echo "ptx-snapshot: no $compile" >&2; exit 1; }
mkdir -p "$out"
jobs=${LOOM_JOBS:-2}
one() {  # NAME SOURCE ARGS...
  local name=$1 src=$2; shift 2
  if "$compile" "$src" --emit=ptx -o "$out/$name.ptx" "$@" >"$out/$name.log" 2>&1; then
    rm -f "$out/$name.log"
  else
    rm -f "$out/$name.ptx"; mv "$out/$name.log" "$out/$name.failed"
    sed -i "s|$root/||g" "$out/$name.failed"
  fi
}
tiles1="attention:64x32,gemm:64x64x32x3,rows:64"
tiles2="attention:128x128,gemm:64x256x32x2,rows:1024"
for src in "$root"/bench/cases/*.mlir "$root"/bench/cases/timing/*.mlir "$root"/examples/*.mlir; do
  base=$(basename "$(dirname "$src")")_$(basename "$src" .mlir)
  for chip in sm_90a sm_80; do
    for variant in default nofusion tiles1 tiles2; do
      case $variant in
        default) args=() ;;
        nofusion) args=(--no-fusion) ;;
        tiles1) args=(--tiles=$tiles1) ;;
        tiles2) args=(--tiles=$tiles2) ;;
      esac
      if [ -n "${LOOM_PTX_ONLY:-}" ] && ! [[ "${base}_${chip}_${variant}" =~ $LOOM_PTX_ONLY ]]; then
        continue
      fi
      while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
      one "${base}_${chip}_${variant}" "$src" --target=$chip "${args[@]}" &
    done
  done
done
wait
echo "ptx-snapshot: $(ls "$out"/*.ptx 2>/dev/null | wc -l) PTX files, $(ls "$out"/*.failed 2>/dev/null | wc -l) failed, in $out"
