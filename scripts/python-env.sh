#!/usr/bin/env bash
# Makes the Python environment of the package (python/): a virtual
# environment at $LOOM_VENV (default ~/.cache/loom/venv, kept between runs)
# with numpy, pytest and the package installed from python/ in editable mode
# (it finds loom-compile and libloomrt.so in build/; wheel too, which the
# editable install needs under Debian's setuptools 66). With --torch, also
# torch (the PyPI wheel: about 2.5 minutes and 5 GB the first time, nothing
# after), for the torch tests; and cuobjdump (below). Prints the environment's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LOOM_VENV:-$HOME/.cache/loom/venv}
base=python3
[ -x /usr/bin/python3 ] && base=/usr/bin/python3
if [ ! -x "$venv/bin/python" ]; then
  echo "loom: making the Python environment $venv" >&2
  "$base" -m venv "$venv" >&2
fi
py="$venv/bin/python"
want=(numpy pytest wheel)
[ "${1:-}" = "--torch" ] && want+=(torch)
missing=()
for m in "${want[@]}"; do
  "$py" -c "import $m" 2>/dev/null || missing+=("$m")
done
if ((${#missing[@]})); then
  echo "loom: installing ${missing[*]} into $venv" >&2
  start=$SECONDS
  "$py" -m pip install -q --disable-pip-version-check "${missing[@]}" >&2
  echo "loom: installed ${missing[*]} in $((SECONDS - start)) s" >&2
fi
# cuobjdump and the nvdisasm it runs (PyPI's nvidia-cuda-cuobjdump and
# nvidia-cuda-nvdisasm, 6 MB), which the SASS checks of the wgmma kernels use
# (test/GPU/wgmma-sass.test; the CUDA toolkit here has neither). Without
# them those checks are reported unsupported.
if ! ls "$venv"/lib/python3*/site-packages/nvidia/cu*/bin/nvdisasm >/dev/null 2>&1; then
  "$py" -m pip install -q --disable-pip-version-check nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm >&2 ||
    echo "loom: could not install cuobjdump and nvdisasm: the SASS checks will not run" >&2
fi
# The package itself, editable: python/loom is what runs.
if ! "$py" -c "import loom, os, sys; sys.exit(os.path.realpath(loom.__file__) != os.path.realpath('python/loom/__init__.py'))" 2>/dev/null; then
  "$py" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e python >&2
fi
echo "$py"
