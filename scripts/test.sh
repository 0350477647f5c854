#!/usr/bin/env bash
# Runs every Loom test (lit, GoogleTest, the installed-tree consumer, the docs
# check) after setting up and building.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "${LOOM_JOBS:-$(nproc)}"
