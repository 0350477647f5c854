#!/usr/bin/env python3
"""Writes the seed corpora of Loom's fuzz targets from the repository.

usage: make_seeds.py SOURCE_DIR OUT_DIR [LOOM_COMPILE]

OUT_DIR/mlir/       every test/**/*.mlir split at `// -----`, and examples/*.mlir
                    (loom-fuzz-parse and loom-fuzz-cpu-pipeline)
OUT_DIR/npy/        small .npy images: every dtype the reader knows, versions
                    1.0/2.0/3.0, C and Fortran order, scalars, empty and ragged
                    shapes, and broken ones (truncated, bad magic, big-endian)
OUT_DIR/signature/  the signatures (docs/abi.md) of the public functions of
                    examples/ and test/ modules, one module per file
                    (loom-fuzz-module)
OUT_DIR/modules/    compiled modules (loom-fuzz-module-file): small test
                    inputs compiled with LOOM_COMPILE for the CPU and, where
                    a CUDA toolkit is found, for sm_90a
OUT_DIR/limits/     a few byte strings for the generators of loom-fuzz-limits
                    (which read choices, not text, from their input)

Deterministic (same repository, same seeds; the modules are the same for the
same loom-compile and system linker); files are named by content hash, so
duplicates collapse. The directories are rewritten from scratch.
"""
import glob
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile


def write_all(out_dir, items):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    return len(os.listdir(out_dir))


def mlir_files(src):
    files = sorted(glob.glob(os.path.join(src, "test", "**", "*.mlir"), recursive=True))
    files += sorted(glob.glob(os.path.join(src, "examples", "*.mlir")))
    return files


def mlir_seeds(src):
    for path in mlir_files(src):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for chunk in re.split(r"^// -----\s*$", text, flags=re.M):
            # RUN/CHECK lines are comments to the parser; drop them to keep
            # seeds small.
            lines = [l for l in chunk.splitlines()
                     if not re.match(r"\s*//\s*(RUN|CHECK|expected-)", l)]
            body = "\n".join(lines).strip()
            if body:
                yield body + "\n"


NPY_FORMATS = {"<f2": "e", "<f4": "f", "<f8": "d", "|i1": "b", "|u1": "B",
               "<i4": "i", "<i8": "q", "|b1": "?"}


def npy(descr, shape, values, version=1, fortran=False, fmt=None):
    shape_text = "(" + "".join("%d, " % d for d in shape).rstrip(" ")
    if len(shape) > 1:
        shape_text = shape_text.rstrip(",")
    shape_text += ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    size_bytes = 2 if version == 1 else 4
    total = 6 + 2 + size_bytes + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    fmt = fmt or NPY_FORMATS.get("<" + descr[1:], NPY_FORMATS.get(descr, "B"))
    byte_order = ">" if descr.startswith(">") else "<"
    data = struct.pack(byte_order + fmt * len(values), *values) if values else b""
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin1") + data


def npy_seeds():
    def count(shape):
        n = 1
        for d in shape:
            n *= d
        return n

    shapes = [(), (0,), (1,), (5,), (2, 3), (3, 0, 2), (1, 1, 1, 1), (3, 7)]
    for descr, fmt in NPY_FORMATS.items():
        for shape in shapes:
            n = count(shape)
            if fmt in "efd":
                values = [(-1) ** i * (i * 0.37 + 0.5) for i in range(n)]
            elif fmt == "?":
                values = [i % 2 == 0 for i in range(n)]
            elif fmt == "B":
                values = [(i * 37) % 256 for i in range(n)]
            else:
                values = [((i * 5) % 16) - 8 for i in range(n)]
            yield npy(descr, shape, values)
    yield npy("<f4", (2, 3), [float(i) for i in range(6)], fortran=True)
    yield npy("<f4", (2, 2), [1.0, 2.0, 3.0, 4.0], version=2)
    yield npy("<f4", (2, 2), [1.0, 2.0, 3.0, 4.0], version=3)
    yield npy(">f4", (3,), [1.0, 2.0, 3.0])
    yield npy("<f4", (4,), [float("nan"), float("inf"), -0.0, 1e-40])
    yield npy("|i1", (2, 4), [-8, 7, 0, 1, -1, 3, 5, -7])  # an i4 argument
    good = npy("<f8", (2, 3), [0.5] * 6)
    yield good[:len(good) - 5]            # truncated data
    yield good[:20]                       # truncated header
    yield b"\x93NUMPX" + good[6:]         # bad magic
    yield npy("<c8", (2,), [1, 2, 3, 4, 5, 6, 7, 8], fmt="B")  # unsupported dtype


TENSOR = re.compile(r"tensor<([0-9?x]*)([a-zA-Z0-9]+)>")


def types_of(text):
    return ["tensor<%s%s>" % m.groups() for m in TENSOR.finditer(text)]


def split_top(text):
    """Splits at commas outside brackets."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


FUNC = re.compile(r"func\.func\s+@([A-Za-z_][A-Za-z0-9_]*)\s*\(", re.S)


def abi_version(src):
    """The version the runtime reads (kABIVersion in lib/Runtime/Signature.h)."""
    with open(os.path.join(src, "lib", "Runtime", "Signature.h")) as f:
        return int(re.search(r"kABIVersion\s*=\s*(\d+)", f.read()).group(1))


def signature_seeds(src):
    abi = abi_version(src)
    for path in mlir_files(src):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for chunk in re.split(r"^// -----\s*$", text, flags=re.M):
            entries = []
            for m in FUNC.finditer(chunk):
                # The argument list up to its closing parenthesis.
                depth, i = 1, m.end()
                while i < len(chunk) and depth:
                    depth += {"(": 1, ")": -1}.get(chunk[i], 0)
                    i += 1
                args = chunk[m.end():i - 1]
                rest = chunk[i:chunk.find("{", i) if "{" in chunk[i:] else len(chunk)]
                arg_types = [t for a in split_top(args) for t in types_of(a)[:1]]
                result_types = types_of(rest.split("attributes")[0]) if "->" in rest else []
                entries.append("entry %s(%s) -> (%s)" % (
                    m.group(1), ", ".join(arg_types), ", ".join(result_types)))
            if entries:
                for target in ("cpu", "sm_90a"):
                    yield "abi %d\ntarget %s\n%s\n" % (abi, target, "\n".join(entries[:8]))
    # The documented example and a few broken ones.
    yield ("abi %d\ntarget cpu\nentry llama_block(tensor<128x512xbf16>, "
           "tensor<512x512xi4>) -> (tensor<128x512xbf16>)\nentry none() -> ()\n" % abi)
    yield "abi %d\ntarget cpu\n" % (abi + 1)
    yield "abi %d\ntarget cpu\nentry f_missing(tensor<?xf32>) -> ()\n" % abi
    yield "abi %d\ntarget sm_90a\nentry g(tensor<3xi4>) -> (tensor<?x?xf8E4M3FN>)\n" % abi


# Small modules, so that the fuzzer's mutations stay cheap (each input is
# hashed and written to a file): the largest is under 128 KiB.
MODULE_INPUTS = ["test/Tools/loom-run/Inputs/block.mlir",
                 "test/Tools/loom-run/Inputs/dynamic.mlir",
                 "unittests/Runtime/Inputs/block.mlir"]


def module_seeds(src, loom_compile):
    if not loom_compile:
        return
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODULE_INPUTS:
            for target in ("cpu", "sm_90a"):
                out = os.path.join(tmp, "m.so")
                p = subprocess.run([loom_compile, os.path.join(src, name),
                                    "--target=" + target, "-o", out],
                                   capture_output=True, text=True, env=env)
                if p.returncode != 0:
                    if target == "cpu":
                        sys.exit("make_seeds.py: loom-compile failed on %s:\n%s"
                                 % (name, p.stderr))
                    continue  # no CUDA toolkit here
                with open(out, "rb") as f:
                    data = f.read()
                if len(data) <= 128 * 1024:
                    yield data


def limits_seeds():
    # FuzzedDataProvider reads integers from the end: a few patterns that
    # reach both generators and the deep cases.
    for first in range(8):
        yield bytes([first]) * 16
        yield bytes([first, 0xFF, 0x01, 0x80] * 8)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    loom_compile = sys.argv[3] if len(sys.argv) == 4 else None
    counts = {
        "mlir": write_all(os.path.join(out, "mlir"), mlir_seeds(src)),
        "npy": write_all(os.path.join(out, "npy"), npy_seeds()),
        "signature": write_all(os.path.join(out, "signature"), signature_seeds(src)),
        "modules": write_all(os.path.join(out, "modules"), module_seeds(src, loom_compile)),
        "limits": write_all(os.path.join(out, "limits"), limits_seeds()),
    }
    print("seeds: " + ", ".join("%s %d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main()
