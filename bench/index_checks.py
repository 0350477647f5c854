#!/usr/bin/env python3
"""What the index checks of a CPU module cost (docs/abi.md, "Index checks").

Compiles one paged decode step twice with loom-compile --target=cpu: once as
users write it (the page table, lengths and offsets are entry arguments, so
the entry checks them before the body), and once with each index tensor
passed through `arith.maxsi %x, %x`, which the pipeline folds away but which
hides the arguments from loom-entry-index-checks (no check). The kernels are
the same, so both give the same result. Two measures of the checks' cost:
- a refused call whose only bad index is the table's last entry: it scans
  every index and runs nothing else, so its time (with the Python call
  around it) bounds the checks' time from above; less the time of a call
  refused at `q_offsets[0]` (which scans only the offsets), it is the
  scan's time. Interleaved with the full calls, the index data is often
  out of cache; the same two refusals back to back give the scan's time
  with the data in cache ("warm");
- the checked and unchecked calls, interleaved, medians (on a 2-core
  machine their difference is mostly noise).
Also run for a nearly empty cache, where the attention does the least work
per index.

    python3 bench/index_checks.py        (needs the build and numpy)
"""
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import loom  # noqa: E402

HQ, HKV, D, PAGE = 8, 2, 64, 16


def source(b, pages, max_pages, checked):
    q = f"tensor<{b}x{HQ}x{D}xf32>"
    kv = f"tensor<{pages}x{PAGE}x{HKV}x{D}xf32>"
    off, lens, bt = f"tensor<{b + 1}xi32>", f"tensor<{b}xi32>", f"tensor<{b}x{max_pages}xi32>"
    hide = "" if checked else (
        f"  %o1 = arith.maxsi %off, %off : {off}\n"
        f"  %l1 = arith.maxsi %len, %len : {lens}\n"
        f"  %b1 = arith.maxsi %bt, %bt : {bt}\n")
    o, l, t = ("%off", "%len", "%bt") if checked else ("%o1", "%l1", "%b1")
    return (f"func.func @step(%q: {q}, %k: {kv}, %v: {kv}, %off: {off}, %len: {lens}, %bt: {bt}) -> {q} {{\n"
            f"{hide}"
            f"  %r = loom.paged_attention %q, %k, %v, {o}, {l}, {t} {{causal}}\n"
            f"      : ({q}, {kv}, {kv}, {off}, {lens}, {bt}) -> {q}\n"
            f"  return %r : {q}\n}}\n")


def inputs(b, kv_len, max_pages, rng):
    pages = b * max_pages
    table = rng.permutation(pages).astype(np.int32).reshape(b, max_pages)
    return [rng.standard_normal((b, HQ, D), dtype=np.float32),
            rng.standard_normal((pages, PAGE, HKV, D), dtype=np.float32),
            rng.standard_normal((pages, PAGE, HKV, D), dtype=np.float32),
            np.arange(b + 1, dtype=np.int32),
            np.full(b, kv_len, dtype=np.int32), table]


def main():
    rng = np.random.default_rng(0)
    rows = []
    for b, kv_len, rounds in ((32, 2048, 40), (32, 16, 400)):
        max_pages = -(-kv_len // PAGE)
        args = inputs(b, kv_len, max_pages, rng)
        mods = [loom.compile(source(b, b * max_pages, max_pages, c), target="cpu") for c in (True, False)]
        want = mods[1].step(*args)
        assert np.array_equal(mods[0].step(*args), want), "the two modules disagree"
        bad = [a.copy() for a in args]
        bad[5][b - 1, max_pages - 1] = b * max_pages

        early = [a.copy() for a in args]
        early[3][0] = 1

        def refuse(inputs, index):
            try:
                mods[0].step(*inputs)
            except Exception as error:  # the runtime's error names the index
                assert index in str(error), error
                return
            raise SystemExit("the checked module ran on a bad index")

        def refused():
            refuse(bad, f"block_table[{b - 1}, {max_pages - 1}]")

        def refused_early():
            refuse(early, "q_offsets[0] = 1")

        mods[1].step(*bad)  # unchecked: runs (in bounds, unspecified values)
        times = [[], [], [], []]
        for _ in range(rounds):
            for i, call in enumerate((lambda: mods[0].step(*args),
                                      lambda: mods[1].step(*args), refused,
                                      refused_early)):
                t0 = time.perf_counter()
                call()
                times[i].append(time.perf_counter() - t0)
        c, u, r, e = (statistics.median(t) * 1e3 for t in times)
        # The same two refusals back to back (the index data in cache).
        warm = []
        for call in (refused, refused_early):
            t0 = time.perf_counter()
            for _ in range(2000):
                call()
            warm.append((time.perf_counter() - t0) / 2000 * 1e3)
        rows.append(f"| {b} | {kv_len} | {b * max_pages} | {c:.4f} | {u:.4f} | {r:.4f} | {e:.4f} "
                    f"| {(r - e) / c * 100:.3f}% | {(warm[0] - warm[1]) * 1e3:.2f} us "
                    f"| {(warm[0] - warm[1]) / c * 100:.3f}% |")
    print("| B | n_kv | table entries | call, checked (ms) | call, unchecked (ms) "
          "| refused call, full scan (ms) | refused at q_offsets[0] (ms) "
          "| scan / call | scan, warm | warm scan / call |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
