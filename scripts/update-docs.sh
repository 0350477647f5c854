#!/usr/bin/env bash
# Regenerates the dialect reference (docs/Dialects/Loom.md) from the ODS in
# include/loom/Dialect/Loom/IR. Run after changing an op's summary or description.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
ninja -C "$build" loom-doc
mkdir -p docs/Dialects
cp "$build/docs/Dialects/Loom.md" docs/Dialects/Loom.md
echo "docs/Dialects/Loom.md updated"
