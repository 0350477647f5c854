#!/usr/bin/env python3
"""Checks the SASS of a cubin's wgmma kernels for register accesses that
race with their asynchronous products (issue 13's build guard).

    wgmma_sass_check.py CUOBJDUMP CUBIN [--expect-hazard]
    wgmma_sass_check.py --sass=FILE [--expect-hazard]

A wgmma (HGMMA, IGMMA or QGMMA in SASS: bf16/f16, s8, FP8) writes its
accumulator and reads its A fragments (when A comes from registers)
asynchronously, until the WARPGROUP.DEPBAR that retires its group. PTX
says so, and ptxas is meant to keep every other access to those registers
after the retiring wait; ptxas 13.0 did not once (it scheduled the W4A16
register kernel's epilogue conversions above the wait_group 0 after its K
loop; docs/perf.md, 2026-12-08). This script
disassembles CUBIN with CUOBJDUMP and walks each function's instructions
in address order, keeping the groups in flight: a GMMA adds its
accumulator registers and its A registers (a register second operand) to
the open group, one marked gsb0 closes it, and DEPBAR.LE gsb0, N
retires all but the newest N groups. Any other instruction that reads or
writes an in-flight accumulator register, or writes an in-flight A
register, is reported with its function and address.

--sass=FILE reads the output of `cuobjdump -sass` from FILE instead (the
script's own test uses a recorded excerpt).

The walk is linear: it follows the code in address order, not its
branches. A loop's back edge is not followed (an access at the top of a
loop to registers of products issued at its bottom is not seen), and a
wait on one side of a branch counts for the code after both.

Exit 0 when no function has such an access (and at least one has a
wgmma), 1 when one has, 2 on a usage or tool error. With --expect-hazard
the first two are swapped (the test of the script itself).
"""
import os
import re
import subprocess
import sys

INSTRUCTION = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
PREDICATE = re.compile(r"^@!?U?P[T0-9]+\s+")
REGISTER = re.compile(r"\bR(\d+)\b")


def registers(first, count):
    return {first + i for i in range(count)}


def check_function(name, body):
    """The hazards of one function: (address, message) pairs."""
    groups, open_group = [], set()
    accumulators = {}  # register -> True for accumulators, False for A
    hazards = []
    hgmmas = 0
    for match in INSTRUCTION.finditer(body):
        address, text = match.group(1), PREDICATE.sub("", match.group(2).strip())
        op = text.split()[0]
        operands = [o.strip() for o in text[len(op):].split(",")]
        if re.match(r"[HIQ]GMMA\.", op):
            hgmmas += 1
            shape = re.search(r"\.64x(\d+)x\d+", op)
            d = REGISTER.fullmatch(operands[0])
            if shape and d:
                # The accumulator: N/2 registers per thread (f32 or s32).
                for r in registers(int(d.group(1)), int(shape.group(1)) // 2):
                    accumulators[r] = True
                    open_group.add(r)
            a = REGISTER.fullmatch(operands[1]) if len(operands) > 1 else None
            if a:
                for r in registers(int(a.group(1)), 4):
                    accumulators.setdefault(r, False)
                    open_group.add(r)
            if "gsb0" in text:
                groups.append(open_group)
                open_group = set()
            continue
        if op.startswith("WARPGROUP.DEPBAR"):
            keep = int(operands[-1], 16)
            while len(groups) > keep:
                groups.pop(0)
            continue
        in_flight = set(open_group).union(*groups) if groups else set(open_group)
        if not in_flight:
            continue
        used = [int(r) for r in REGISTER.findall(text)]
        # Wide operands (R4.64, LDS.128 destinations) cover more registers.
        width = 4 if ".128" in op else 2 if ".64" in op or "WIDE" in op else 1
        destination = REGISTER.fullmatch(operands[0]) if operands and operands[0] else None
        written = set()
        if destination and not op.startswith(("ST", "RED", "ATOM", "SYNCS", "BRA", "ISETP", "FSETP")):
            written = registers(int(destination.group(1)), width)
        for r in sorted(set(used) | written):
            if r not in in_flight:
                continue
            if accumulators.get(r):
                hazards.append((address, f"R{r} (accumulator of a product in flight) in: {text}"))
            elif r in written:
                hazards.append((address, f"R{r} (A fragment of a product in flight) written by: {text}"))
    return hgmmas, hazards


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    expect = "--expect-hazard" in argv
    given = [a[len("--sass="):] for a in argv[1:] if a.startswith("--sass=")]
    if len(args) != (0 if given else 2):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    if given:
        cubin = given[0]
        try:
            with open(cubin) as f:
                sass = f.read()
        except OSError as e:
            print(f"wgmma_sass_check: cannot read {cubin}: {e}", file=sys.stderr)
            return 2
    else:
        cuobjdump, cubin = args
        # cuobjdump runs nvdisasm: PyPI's wheels put it beside cuobjdump.
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(os.path.abspath(cuobjdump)) + os.pathsep + env.get("PATH", "")
        try:
            sass = subprocess.run([cuobjdump, "-sass", cubin], check=True, env=env,
                                  capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            detail = getattr(e, "stderr", "") or ""
            print(f"wgmma_sass_check: cannot disassemble {cubin}: {e} {detail.strip()}", file=sys.stderr)
            return 2
    total, bad = 0, 0
    for chunk in re.split(r"\n\s*Function : ", sass)[1:]:
        name = chunk.split("\n", 1)[0].strip()
        hgmmas, hazards = check_function(name, chunk)
        if not hgmmas:
            continue
        total += 1
        if hazards:
            bad += 1
            for address, message in hazards[:8]:
                print(f"{name} /*{address}*/: {message}")
            if len(hazards) > 8:
                print(f"{name}: {len(hazards) - 8} more")
        else:
            print(f"{name}: ok")
    if total == 0:
        print(f"wgmma_sass_check: no function of {cubin} has a wgmma", file=sys.stderr)
        return 2
    print(f"wgmma_sass_check: {total} wgmma kernels, {bad} with accesses to registers in flight")
    failed = bad > 0
    return 0 if failed == expect else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
