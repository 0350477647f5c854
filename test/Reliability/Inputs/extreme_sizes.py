#!/usr/bin/env python3
"""Sizes from 2^31 to 2^63 - 1 through loom-opt and loom-compile.

usage: extreme_sizes.py --loom-opt BIN --loom-compile BIN --out DIR
                        [--ks 31,32,...] [--templates A,B,...]
                        [--compile cpu|gpu|none] [--jobs J] [--list]

For each k (default 31..63) and each N in 2^k - 1, 2^k, 2^k + 1 (up to
2^63 - 1), writes one module per template with the dimension N:

  A  loom.silu of tensor<Nx2xf32> (the issue's shape)
  B  loom.rms_norm of tensor<2xNxf32> with weights tensor<Nxf32>
  C  arith.addf of tensor<2xNxbf16> (upstream ops only)
  D  loom.linear of tensor<4x8xf32> and weights tensor<Nx8xf32>
  E  loom.silu of tensor<0xNxNxf32> (empty, strides past 2^63)
  F  loom.silu of tensor<?xNxf32> (a dynamic dimension: entry checks)

Each must behave as docs/Design.md ("Input limits") says: loom-opt accepts
it exactly when every type's size (0 counted as 1, dynamic as 1) times its
element's bytes is at most 2^63 - 1, and otherwise stops with "is too
large" at a location; loom-compile (--emit=llvm for cpu, --emit=mlir for
sm_90a) compiles what loom-opt accepts or stops with a located error, its
report never shows a negative figure; nothing ever crashes. Prints the
counts per tool; exit status 1 on any failure (each printed with its
command).
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

MAX = 2**63 - 1

TEMPLATES = {
    # name: (function text, the shaped types with their element bytes)
    "A": ("func.func @f(%x: tensor<{N}x2xf32>) -> tensor<{N}x2xf32> {{\n"
          "  %y = loom.silu %x : (tensor<{N}x2xf32>) -> tensor<{N}x2xf32>\n"
          "  return %y : tensor<{N}x2xf32>\n}}\n",
          [(("N", 2), 4)]),
    "B": ("func.func @f(%x: tensor<2x{N}xf32>, %g: tensor<{N}xf32>) -> tensor<2x{N}xf32> {{\n"
          "  %y = loom.rms_norm %x, %g {{epsilon = 1.0e-05 : f32}} : (tensor<2x{N}xf32>, tensor<{N}xf32>) -> tensor<2x{N}xf32>\n"
          "  return %y : tensor<2x{N}xf32>\n}}\n",
          [((2, "N"), 4), (("N",), 4)]),
    "C": ("func.func @f(%x: tensor<2x{N}xbf16>) -> tensor<2x{N}xbf16> {{\n"
          "  %y = arith.addf %x, %x : tensor<2x{N}xbf16>\n"
          "  return %y : tensor<2x{N}xbf16>\n}}\n",
          [((2, "N"), 2)]),
    "D": ("func.func @f(%x: tensor<4x8xf32>, %w: tensor<{N}x8xf32>) -> tensor<4x{N}xf32> {{\n"
          "  %y = loom.linear %x, %w : (tensor<4x8xf32>, tensor<{N}x8xf32>) -> tensor<4x{N}xf32>\n"
          "  return %y : tensor<4x{N}xf32>\n}}\n",
          [(("N", 8), 4), ((4, "N"), 4)]),
    "E": ("func.func @f(%x: tensor<0x{N}x{N}xf32>) -> tensor<0x{N}x{N}xf32> {{\n"
          "  %y = loom.silu %x : (tensor<0x{N}x{N}xf32>) -> tensor<0x{N}x{N}xf32>\n"
          "  return %y : tensor<0x{N}x{N}xf32>\n}}\n",
          [((0, "N", "N"), 4)]),
    "F": ("func.func @f(%x: tensor<?x{N}xf32>) -> tensor<?x{N}xf32> {{\n"
          "  %y = loom.silu %x : (tensor<?x{N}xf32>) -> tensor<?x{N}xf32>\n"
          "  return %y : tensor<?x{N}xf32>\n}}\n",
          [(("?", "N"), 4)]),
}


def fits(types, n):
    for dims, eb in types:
        size = eb
        for d in dims:
            d = n if d == "N" else d
            if d == "?" or d == 0:
                continue
            size *= d
        if size > MAX:
            return False
    return True


def run(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, errors="replace")
    return p.returncode, p.stdout, p.stderr


def check(case, tool, cmd, should_fit):
    """'accepted', 'too large', 'diagnosed' or a failure text."""
    status, out, err = run(cmd)
    where = "%s %s: %s" % (case, tool, " ".join(cmd))
    if status < 0 or "PLEASE submit a bug report" in err or "Stack dump" in err:
        return "FAIL (crash, status %d) %s\n%s" % (status, where, err[-800:])
    if status == 0:
        if tool == "loom-opt" and not should_fit:
            return "FAIL (accepted a size that does not fit) " + where
        if re.search(r"(moved|op by op)[^\n]*-\d", out + err):
            return "FAIL (a negative figure) %s\n%s" % (where, out)
        return "accepted"
    if status != 1:
        return "FAIL (exit status %d) %s\n%s" % (status, where, err[-800:])
    if not re.search(r":\d+:\d+: error: ", err):
        return "FAIL (no located error) %s\n%s" % (where, err[-800:])
    if "is too large" in err:
        if should_fit:
            return "FAIL (refused a size that fits) %s\n%s" % (where, err[-800:])
        return "too large"
    if tool == "loom-opt":
        return "FAIL (loom-opt refused a valid module) %s\n%s" % (where, err[-800:])
    return "diagnosed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom-opt", required=True)
    ap.add_argument("--loom-compile", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ks", default=",".join(str(k) for k in range(31, 64)))
    ap.add_argument("--templates", default=",".join(TEMPLATES))
    ap.add_argument("--compile", default="cpu", choices=["cpu", "gpu", "none"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sizes = sorted({n for k in map(int, args.ks.split(","))
                    for n in (2**k - 1, 2**k, 2**k + 1) if 0 < n <= MAX})
    jobs = []
    for t in args.templates.split(","):
        text, types = TEMPLATES[t]
        for n in sizes:
            case = "%s N=%d" % (t, n)
            path = os.path.join(args.out, "%s_%d.mlir" % (t, n))
            with open(path, "w") as f:
                f.write(text.format(N=n))
            should_fit = fits(types, n)
            jobs.append((case, "loom-opt", [args.loom_opt, path], should_fit))
            if args.compile == "cpu":
                jobs.append((case, "loom-compile cpu", [args.loom_compile, path,
                             "--emit=llvm", "-o", os.devnull], should_fit))
            elif args.compile == "gpu":
                jobs.append((case, "loom-compile sm_90a", [args.loom_compile, path,
                             "--target=sm_90a", "--emit=mlir", "-o", os.devnull],
                             should_fit))
    counts, failures = {}, 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for (case, tool, cmd, should_fit), outcome in zip(
                jobs, pool.map(lambda j: check(*j), jobs)):
            if outcome.startswith("FAIL"):
                failures += 1
                print(outcome)
                continue
            counts.setdefault(tool, {}).setdefault(outcome, 0)
            counts[tool][outcome] += 1
            if args.list:
                print("%s, %s: %s" % (case, tool, outcome))
    for tool in sorted(counts):
        print("%s: %s" % (tool, ", ".join("%s %d" % kv for kv in sorted(counts[tool].items()))))
    print("extreme_sizes: %d cases, %d failures" % (len(jobs), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
