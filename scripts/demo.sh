#!/usr/bin/env bash
# Loom's main job on a bundled example: set up, verify the Llama-style decoder
# block, compile it for the CPU into a shared library, and run it on random
# inputs, printing a summary of the result and the median time of 3 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
example=examples/llama_block.mlir
ops=$(build/bin/loom-opt "$example" | grep -o 'loom\.[a-z_]*' | sort | uniq -c | awk '{printf "%s x%s, ", $2, $1}')
echo "loom: $example verified: ${ops%, }"
build/bin/loom-compile "$example" --target=cpu -o build/llama_block.so
build/bin/loom-run build/llama_block.so --entry=llama_block --random-inputs --seed=0 --bench=3
