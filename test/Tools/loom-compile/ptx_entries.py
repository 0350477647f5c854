#!/usr/bin/env python3
"""Check the PTX that `loom-compile --emit=ptx` wrote against its report.

usage: ptx_entries.py CHIP REPORT PTX

The PTX must have one section per gpu.module (a `// loom-compile: gpu.module`
header, `.target CHIP`, `.version`), and exactly one `.entry` per kernel the
report counts ("kernels: N (...)"), with distinct names.
"""
import re
import sys


def main(chip, report_path, ptx_path):
    report = open(report_path).read()
    ptx = open(ptx_path).read()
    problems = []
    m = re.search(r"^  kernels: (\d+) \(", report, re.M)
    if not m:
        problems.append("the report has no 'kernels: N' line")
    sections = re.findall(r"^// loom-compile: gpu\.module @(\w+) \((\w+)\)$", ptx, re.M)
    if not sections:
        problems.append("no '// loom-compile: gpu.module' section header")
    for name, target in sections:
        if target != chip:
            problems.append(f"gpu.module @{name} is for {target}, not {chip}")
    targets = re.findall(r"^\.target (\S+)$", ptx, re.M)
    if targets != [chip] * len(sections):
        problems.append(f".target lines {targets}, expected {chip} once per section")
    if len(re.findall(r"^\.version \d+\.\d+$", ptx, re.M)) != len(sections):
        problems.append("not one .version per section")
    entries = re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.M)
    if len(set(entries)) != len(entries):
        problems.append("duplicate .entry names")
    if m and len(entries) != int(m.group(1)):
        problems.append(f"{len(entries)} .entry in the PTX, the report counts {m.group(1)} kernels")
    if problems:
        sys.stderr.write(f"{ptx_path}: " + "; ".join(problems) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
