#!/usr/bin/env python3
"""Truncates and corrupts compiled modules and runs loom-run on each copy.

usage: corrupt_modules.py LOOM_RUN WORKDIR [--truncations N] [--corruptions N]
                          [--seed S] [--jobs J] [--list]
                          MODULE:ENTRY:TARGET...

For each MODULE (a .so from loom-compile; ENTRY one of its entries, TARGET cpu
or cuda, the --target loom-run gets), writes N copies cut at a random length
(0 to size - 1) and N copies with 2 to 16 random bytes overwritten (scattered,
or as one run), each different from the module, and runs
`loom-run COPY --entry=ENTRY --target=TARGET --random-inputs` on it. Every
copy must be refused the way docs/abi.md says: exit status 1, nothing on
stdout, and exactly one line on stderr,
`loom-run: cannot load module 'COPY': <what is wrong>`. A signal, another
status, another message or a copy that runs is a failure, printed with the
command that reproduces it. Prints counts per kind of refusal (--list: every
outcome). Exit status 0 when every copy was refused.
"""
import argparse
import collections
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import time


def copies(data, truncations, corruptions, rng):
    for _ in range(truncations):
        n = rng.randrange(len(data))
        yield "truncated to %d bytes" % n, data[:n]
    for _ in range(corruptions):
        while True:
            b = bytearray(data)
            count = rng.randint(2, 16)
            if rng.random() < 0.5:
                where = "scattered"
                for _ in range(count):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            else:
                at = rng.randrange(len(b) - count)
                where = "run at %d" % at
                b[at:at + count] = bytes(rng.randrange(256) for _ in range(count))
            if bytes(b) != data:
                break
        yield "%d bytes overwritten (%s)" % (count, where), bytes(b)


def kind_of(reason):
    """The refusal without its numbers: 'the file is truncated (...): program
    header N (PT_LOAD) ends at byte N, ...'."""
    reason = re.sub(r"[0-9a-f]{16}\.\.\.", "H...", reason)
    return re.sub(r"\b(?<!SHA-)(?<!x86-)\d+\b", "N", reason)


def run(loom_run, path, entry, target):
    cmd = [loom_run, path, "--entry=" + entry, "--target=" + target, "--random-inputs"]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, errors="replace")
    lines = p.stderr.splitlines()
    prefix = "loom-run: cannot load module '%s': " % path
    if (p.returncode == 1 and not p.stdout and len(lines) == 1 and
            lines[0].startswith(prefix)):
        return True, kind_of(lines[0][len(prefix):]), cmd
    what = ("signal %d" % -p.returncode if p.returncode < 0
            else "exit status %d" % p.returncode)
    return False, "%s, stderr %r" % (what, p.stderr[-500:]), cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("loom_run")
    ap.add_argument("workdir")
    ap.add_argument("modules", nargs="+")
    ap.add_argument("--truncations", type=int, default=20)
    ap.add_argument("--corruptions", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    rng = random.Random(args.seed)
    failures = 0
    start = time.time()
    for spec in args.modules:
        module, entry, target = spec.rsplit(":", 2)
        with open(module, "rb") as f:
            data = f.read()
        jobs = []
        for k, (how, blob) in enumerate(
                copies(data, args.truncations, args.corruptions, rng)):
            path = os.path.join(args.workdir, "%s.%d.so" % (os.path.basename(module), k))
            with open(path, "wb") as f:
                f.write(blob)
            jobs.append((how, path))
        kinds = collections.Counter()
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = pool.map(lambda j: (j, run(args.loom_run, j[1], entry, target)), jobs)
            for (how, path), (ok, what, cmd) in results:
                if ok:
                    kinds[what] += 1
                    if args.list:
                        print("%s: %s: refused: %s" % (path, how, what))
                    os.remove(path)
                else:
                    failures += 1
                    if failures > 20:
                        continue
                    print("FAIL %s (%s): %s\n  replay: %s" % (path, how, what, " ".join(cmd)))
        print("%s (%s, %d bytes): %d truncations, %d corruptions: %d refused, %d not" % (
            os.path.basename(module), target, len(data), args.truncations,
            args.corruptions, sum(kinds.values()), len(jobs) - sum(kinds.values())))
        for what, n in kinds.most_common():
            print("  %5d  %s" % (n, what))
    print("corrupt_modules: %d failures, %.1f s" % (failures, time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
