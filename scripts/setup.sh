#!/usr/bin/env bash
# Installs what Loom needs on Debian 12 (as root) and builds it into build/.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ lld python3 python3-venv libgtest-dev
          llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
          clang-22 libclang-rt-22-dev)  # the last two: scripts/fuzz.sh
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "loom: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "loom: missing packages and not root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Python package (python/) in its environment, for its tests; scripts/
# test.sh asks for torch too (LOOM_PYTHON_ARGS=--torch).
python=$(bash scripts/python-env.sh ${LOOM_PYTHON_ARGS:-})

jobs=${LOOM_JOBS:-$(nproc)}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_USE_LINKER=lld -DLOOM_PYTHON="$python"
elif ! grep -qx "LOOM_PYTHON:FILEPATH=$python" build/CMakeCache.txt; then
  cmake -B build -DLOOM_PYTHON="$python"
fi
ninja -C build -j "$jobs"
