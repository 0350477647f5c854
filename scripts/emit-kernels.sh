#!/usr/bin/env bash
# Writes what one loom-compile makes of every example and bench case into
# OUT_DIR: the PTX and the cubin for sm_90a and sm_80 (with and without fusion
# groups for the examples) and the CPU's host LLVM IR. Run it with two
# loom-compile builds and `diff -r` the folders to show that a change to the
# compiler leaves the kernels byte for byte the same (docs/compile-time.md).
#   scripts/emit-kernels.sh LOOM_COMPILE OUT_DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 LOOM_COMPILE OUT_DIR" >&2; exit 2; }
compile=$1
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
sources=(examples/*.mlir bench/cases/*.mlir bench/cases/timing/*.mlir)
count=0
for src in "${sources[@]}"; do
  name=$(echo "${src%.mlir}" | tr / _)
  variants=("")
  case "$src" in examples/*) variants+=(--no-fusion) ;; esac
  for variant in "${variants[@]}"; do
    suffix=${variant:+_unfused}
    for chip in sm_90a sm_80; do
      "$compile" "$src" --target=$chip --emit=ptx $variant -o "$out/$name$suffix.$chip.ptx" >/dev/null
      "$compile" "$src" --target=$chip --emit=cubin $variant -o "$out/$name$suffix.$chip.cubin" >/dev/null
      count=$((count + 2))
    done
    "$compile" "$src" --target=cpu --emit=llvm $variant -o "$out/$name$suffix.cpu.ll" >/dev/null
    count=$((count + 1))
  done
done
echo "$0: $count files in $out"
