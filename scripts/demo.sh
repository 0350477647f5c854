#!/usr/bin/env bash
# Loom's main job on a bundled example: set up, then parse and verify the
# Llama-style decoder block and print it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
example=examples/llama_block.mlir
build/bin/loom-opt "$example" -canonicalize
ops=$(build/bin/loom-opt "$example" | grep -o 'loom\.[a-z_]*' | sort | uniq -c | awk '{printf "%s x%s, ", $2, $1}')
echo "loom: $example verified: ${ops%, }"
