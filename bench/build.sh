#!/usr/bin/env bash
# Builds Loom and compiles the GPU check's artifacts into one folder that
# travels to the GPU machine (docs/perf.md):
#
#   bench/build.sh                  # sm_90a modules into .gpu/bench/
#   bench/build.sh --target=cpu     # CPU modules into .gpu/bench-cpu/ (local dry run)
#
# Options: --target=sm_90a|sm_80|cpu, --build-dir=DIR (default build/, made
# as scripts/setup.sh makes it), --no-build (use the build dir's binaries as
# they are), --out=DIR.
#
# The folder holds: modules/NAME.so (one per source, compiled with
# loom-compile), sources/NAME.mlir (the sources, which gpu_check.py's
# reference evaluator reads), libloomrt.so, gpu_check.py, reference.py,
# loomrt.py, llama_layer.py, torch_check.py, python_overhead.py,
# attention_profile.py, gemm_profile.py, w4a16_profile.py, profiling.py, w4a16_diag.py, the Python
# package (loom/), dims.json, peers.py, wheels/ (flash-linear-attention,
# when the shared folder has them) and compile.log. NAME is case_FILE for
# bench/cases/FILE.mlir, timing_FILE for bench/cases/timing/FILE.mlir and
# example_FILE for examples/FILE.mlir (unfused_FILE: the same compiled with
# --no-fusion, for the before/after timing of docs/fusion.md; w4regs_quant,
# timing_w4regs_w4a16 and w4regs_llama_block: the quant cases, the W4A16
# timing cases and the Llama example with --tiles=w4a16:registers;
# timing_gemv_W_T_U_D_w4a16 and gemv_W_T_U_D_quant: the W4A16 timing cases
# and the quant cases with --tiles=gemv:WxTxUxD).
#
# Exits non-zero if anything failed to compile (the folder is still complete
# otherwise: gpu_check.py reports the missing modules as failures).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

target=sm_90a
build_dir=build
out=
do_build=1
for arg in "$@"; do
  case "$arg" in
    --target=*) target=${arg#--target=} ;;
    --build-dir=*) build_dir=${arg#--build-dir=} ;;
    --out=*) out=${arg#--out=} ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/build.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
case "$target" in
  sm_90a|sm_80|cpu) ;;
  *) echo "bench/build.sh: unknown target $target (sm_90a, sm_80 or cpu)" >&2; exit 2 ;;
esac
if [ -z "$out" ]; then
  if [ "$target" = cpu ]; then out=.gpu/bench-cpu; else out=.gpu/bench; fi
fi

# ---- build -----------------------------------------------------------------
if [ "$do_build" = 1 ]; then
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S . -B "$build_dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_USE_LINKER=lld
  fi
  targets=(loom-compile)
  if ninja -C "$build_dir" -t targets all 2>/dev/null | grep -q '^loomrt:'; then
    targets+=(loomrt)
  fi
  ninja -C "$build_dir" -j "${LOOM_JOBS:-$(nproc)}" "${targets[@]}"
fi
compile="$build_dir/bin/loom-compile"
[ -x "$compile" ] || { echo "bench/build.sh: no $compile (build first, or drop --no-build)" >&2; exit 1; }

mkdir -p "$out"
rm -rf "$out/modules" "$out/sources"
mkdir -p "$out/modules" "$out/sources"

# ---- the runtime as a shared library ----------------------------------------
# The build's own (not a copy that a test installed elsewhere in the build
# dir, which may be older).
lib="$build_dir/lib/libloomrt.so"
if [ ! -f "$lib" ]; then
  echo "bench/build.sh: no $lib (build the loomrt target)" >&2
  exit 1
fi
cp -L "$lib" "$out/libloomrt.so"

# ---- modules -----------------------------------------------------------------
# One loom-compile per source, LOOM_JOBS (default: the cores) at a time; each
# writes its diagnostics to logs/NAME.log, gathered into compile.log.
jobs=${LOOM_JOBS:-$(nproc)}
mkdir -p "$out/logs"
rm -f "$out"/logs/*
compile_one() {  # NAME SOURCE [loom-compile options]
  local name=$1 src=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  if "$compile" "$src" --target="$target" "$@" -o "$out/modules/$name.so" >"$out/logs/$name.log" 2>&1; then
    t1=$(date +%s.%N)
    printf '  %-36s %6.1f s  %s\n' "$name" "$(echo "$t1 - $t0" | bc)" \
      "$(du -h "$out/modules/$name.so" | cut -f1)"
  else
    rm -f "$out/modules/$name.so"
    touch "$out/logs/$name.failed"
    printf '  %-36s FAILED (see %s)\n' "$name" "$out/compile.log"
  fi
}
names=()
sources=()
for src in bench/cases/*.mlir; do names+=("case_$(basename "$src" .mlir)"); sources+=("$src"); done
for src in bench/cases/timing/*.mlir; do names+=("timing_$(basename "$src" .mlir)"); sources+=("$src"); done
for src in examples/*.mlir; do names+=("example_$(basename "$src" .mlir)"); sources+=("$src"); done
# The examples once more without fusion groups, for the before/after timing
# (their checks run too).
for src in examples/*.mlir; do names+=("unfused_$(basename "$src" .mlir)"); sources+=("$src"); done
# W4A16 with the weights dequantized in registers (the tile override
# w4a16:registers, not yet the default): the quant cases, the W4A16 timing
# cases and the Llama example once more (on the CPU target, which has no
# such kernel, compiled as they are, so that the dry run has them).
names+=(w4regs_quant timing_w4regs_w4a16 w4regs_llama_block)
sources+=(bench/cases/quant.mlir bench/cases/timing/w4a16.mlir examples/llama_block.mlir)
# The W4A16 timing cases with two consumers on 256 rows of x
# (--tiles=w4a16:2x256), which the choice per shape does not take yet.
names+=(timing_w4tile_2x256_w4a16)
sources+=(bench/cases/timing/w4a16.mlir)
# The W4A16 timing cases under other decode GEMV schedules (the tile
# override gemv:WARPSxTILESxUNROLLxDEPTH), timed beside the default one to
# choose it (timing_gemv_W_T_U_D_w4a16; the quant cases once with the first
# of them, so that the schedule is checked as well as timed).
gemv_schedules=(4x1x2x1 4x1x4x1 4x1x2x2 8x1x2x1 4x2x2x2)
for sched in "${gemv_schedules[@]}"; do
  names+=("timing_gemv_${sched//x/_}_w4a16"); sources+=(bench/cases/timing/w4a16.mlir)
done
names+=("gemv_${gemv_schedules[0]//x/_}_quant"); sources+=(bench/cases/quant.mlir)
echo "bench/build.sh: compiling ${#names[@]} sources for $target with $compile into $out/modules ($jobs at a time)"
for i in "${!names[@]}"; do
  cp "${sources[$i]}" "$out/sources/${names[$i]}.mlir"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  case "${names[$i]}" in
    unfused_*) compile_one "${names[$i]}" "${sources[$i]}" --no-fusion & ;;
    *w4regs_*)
      if [ "$target" = cpu ]; then compile_one "${names[$i]}" "${sources[$i]}" &
      else compile_one "${names[$i]}" "${sources[$i]}" --tiles=w4a16:registers &
      fi ;;
    *w4tile_*)
      tile=${names[$i]#*w4tile_}; tile=${tile%%_*}
      if [ "$target" = cpu ]; then compile_one "${names[$i]}" "${sources[$i]}" &
      else compile_one "${names[$i]}" "${sources[$i]}" "--tiles=w4a16:$tile" &
      fi ;;
    *gemv_*)
      sched=${names[$i]#*gemv_}; sched=${sched%_*}; sched=${sched//_/x}
      if [ "$target" = cpu ]; then compile_one "${names[$i]}" "${sources[$i]}" &
      else compile_one "${names[$i]}" "${sources[$i]}" "--tiles=gemv:$sched" &
      fi ;;
    *) compile_one "${names[$i]}" "${sources[$i]}" & ;;
  esac
done
wait
log="$out/compile.log"
: > "$log"
failed=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  { echo "== ${sources[$i]} -> modules/$name.so"; cat "$out/logs/$name.log"; } >>"$log"
  [ -f "$out/logs/$name.failed" ] && failed+=("$name")
done
rm -rf "$out/logs"
count=${#names[@]}

# ---- scripts -------------------------------------------------------------------
cp bench/gpu_check.py bench/reference.py bench/loomrt.py bench/llama_layer.py bench/torch_check.py bench/attention_profile.py bench/gemm_profile.py bench/w4a16_profile.py bench/profiling.py bench/w4a16_diag.py \
  bench/python_overhead.py bench/cases/dims.json "$out/"
# The Python package, for torch_check.py (it finds ./libloomrt.so through
# LOOM_RUNTIME).
rm -rf "$out/loom"
mkdir -p "$out/loom"
cp python/loom/*.py "$out/loom/"
peers=""
for p in "$root/../shared/gpu/peers.py" /work/shared/gpu/peers.py; do
  if [ -f "$p" ]; then peers=$p; break; fi
done
if [ -n "$peers" ]; then
  cp "$peers" "$out/peers.py"
else
  echo "bench/build.sh: warning: peers.py not found (shared/gpu/peers.py); the timing part will run without peers" >&2
fi

# flash-linear-attention, the linear-attention peer, as wheels (the GPU
# machine has no network): gpu_check's caller installs them with
#   pip install --no-deps --no-index --target=pylib wheels/*.whl
# and puts pylib on PYTHONPATH (docs/perf.md). fla needs einops too.
rm -rf "$out/wheels"
for w in "$root/../shared/gpu/wheels" /work/shared/gpu/wheels; do
  if [ -d "$w" ]; then
    mkdir -p "$out/wheels"
    cp "$w"/*.whl "$out/wheels/"
    break
  fi
done

size_kb=$(du -sk "$out" | cut -f1)
echo "bench/build.sh: $out holds $((size_kb / 1024)) MB ($count modules, ${#failed[@]} failed)"
if [ "$size_kb" -gt $((60 * 1024)) ]; then
  echo "bench/build.sh: $out is over 60 MB, too large to carry to the GPU machine" >&2
  exit 1
fi
if ((${#failed[@]})); then
  echo "bench/build.sh: failed to compile: ${failed[*]}" >&2
  exit 1
fi
if [ "$target" = cpu ]; then
  echo "next: python3 $out/gpu_check.py --device=cpu"
else
  echo "next, on the GPU machine: cd $out && python3 gpu_check.py"
fi
