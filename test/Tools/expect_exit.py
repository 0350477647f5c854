#!/usr/bin/env python3
"""Run a command and check how it ends: its exit status, that a failure says
something on stderr (with a file:line:col location when asked), and that it
never crashed (no signal, no LLVM stack dump).

usage: expect_exit.py STATUS [--stderr REGEX]... [--empty-stdout] -- CMD...
"""
import re
import subprocess
import sys


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[1:sep], argv[sep + 1:]
    want = int(opts[0])
    patterns, empty_stdout = [], False
    i = 1
    while i < len(opts):
        if opts[i] == "--stderr":
            patterns.append(opts[i + 1])
            i += 2
        elif opts[i] == "--empty-stdout":
            empty_stdout = True
            i += 1
        else:
            sys.exit(f"expect_exit.py: unknown option {opts[i]}")
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    problems = []
    if p.returncode < 0:
        problems.append(f"killed by signal {-p.returncode}")
    if p.returncode != want:
        problems.append(f"exit status {p.returncode}, expected {want}")
    if "Stack dump" in p.stderr or "PLEASE submit a bug report" in p.stderr:
        problems.append("crashed (stack dump on stderr)")
    if want != 0 and not p.stderr.strip():
        problems.append("failed without a message on stderr")
    for pat in patterns:
        if not re.search(pat, p.stderr, re.M):
            problems.append(f"stderr does not match {pat!r}")
    if empty_stdout and p.stdout:
        problems.append("wrote to stdout after an error")
    if problems:
        sys.stderr.write("command: " + " ".join(cmd) + "\n" + "\n".join(problems) +
                         "\n--- stderr ---\n" + p.stderr[-4000:] + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
