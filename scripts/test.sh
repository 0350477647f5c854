#!/usr/bin/env bash
# Runs every Loom test (lit, GoogleTest, the installed-tree consumer, the docs
# check, the Python package's pytest suite with torch) after setting up and
# building, then builds the fuzz targets into build-fuzz/ and runs their
# bounded CI pass (scripts/fuzz.sh --ci).
set -euo pipefail
cd "$(dirname "$0")/.."
LOOM_PYTHON_ARGS=--torch bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "${LOOM_JOBS:-$(nproc)}"
bash scripts/fuzz.sh --ci
