#!/usr/bin/env bash
# Regenerates the dialect reference (docs/Dialects/Loom.md) from the ODS in
# include/loom/Dialect/Loom/IR and the pass references (docs/Passes/*.md)
# from include/loom/**/Passes.td. Run after changing an op's or a pass's
# summary or description.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
ninja -C "$build" loom-doc
mkdir -p docs/Dialects
cp "$build/docs/Dialects/Loom.md" docs/Dialects/Loom.md
mkdir -p docs/Passes
cp "$build"/docs/Passes/*.md docs/Passes/
echo "docs/Dialects/Loom.md and docs/Passes/*.md updated"
