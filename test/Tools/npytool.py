#!/usr/bin/env python3
"""Write, show and check .npy files for the tool tests, without NumPy.

The test machines need not have NumPy, so this reads and writes the format
(version 1.0, C order, little-endian) with `struct`.

usage:
  npytool.py write FILE DTYPE SHAPE VALUES    e.g. write x.npy f4 2,3 1,2,3,4,5,6
  npytool.py show FILE                        dtype, shape and every value
  npytool.py check FILE DTYPE SHAPE VALUES [--atol A] [--rtol R]
  npytool.py same FILE FILE                   byte-identical arrays
  npytool.py range FILE LO HI                 every value in [LO, HI]; prints min and max
  npytool.py header FILE DTYPE SHAPE          write only a header (a truncated file)

DTYPE is a NumPy descr without byte order: f2 f4 f8 i1 u1 i4 i8 b1.
SHAPE is comma-separated ("" or "scalar" for a 0-d array).
VALUES is comma-separated; "@FILE" reads them (whitespace or comma
separated, lines starting with '#' ignored) from FILE; "rangeN" is
0, 1, ..., N-1.
"""
import ast
import math
import struct
import sys

FORMATS = {"f2": "e", "f4": "f", "f8": "d", "i1": "b", "u1": "B", "i4": "i",
           "i8": "q", "b1": "?"}
SIZES = {"f2": 2, "f4": 4, "f8": 8, "i1": 1, "u1": 1, "i4": 4, "i8": 8, "b1": 1}


def descr(dtype):
    return ("|" if SIZES[dtype] == 1 else "<") + dtype


def parse_shape(text):
    if text in ("", "scalar", "()"):
        return ()
    return tuple(int(d) for d in text.split(","))


def parse_values(text, dtype):
    if text.startswith("@"):
        with open(text[1:]) as f:
            lines = [l for l in f.read().splitlines() if not l.startswith("#")]
        text = ",".join(lines).replace(" ", ",")
    if text.startswith("range"):
        return [convert(v, dtype) for v in range(int(text[5:]))]
    return [convert(v, dtype) for v in text.split(",") if v.strip() != ""]


def convert(v, dtype):
    if dtype[0] == "f":
        return float(v)
    if dtype == "b1":
        return v in (True, 1, "1", "true", "True")
    return int(v)


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def header_bytes(dtype, shape):
    shape_text = "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr(dtype), shape_text)
    total = 10 + len(text) + 1
    text += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def write(path, dtype, shape, values):
    if len(values) != count(shape):
        sys.exit(f"npytool: {len(values)} values for shape {shape}")
    with open(path, "wb") as f:
        f.write(header_bytes(dtype, shape))
        f.write(struct.pack("<%d%s" % (len(values), FORMATS[dtype]), *values))


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"npytool: {path} is not a .npy file")
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        start = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    d = header["descr"]
    dtype = d[1:]
    if d[0] == ">" or dtype not in FORMATS or header["fortran_order"]:
        sys.exit(f"npytool: unsupported array {header}")
    shape = tuple(header["shape"])
    n = count(shape)
    body = data[start + hlen:]
    values = list(struct.unpack("<%d%s" % (n, FORMATS[dtype]), body[:n * SIZES[dtype]]))
    return dtype, shape, values


def fmt(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return "%.6g" % v
    return str(v)


def main(argv):
    cmd = argv[1]
    if cmd == "write":
        write(argv[2], argv[3], parse_shape(argv[4]), parse_values(argv[5], argv[3]))
    elif cmd == "header":
        with open(argv[2], "wb") as f:
            f.write(header_bytes(argv[3], parse_shape(argv[4])))
    elif cmd == "show":
        dtype, shape, values = read(argv[2])
        print(f"dtype {dtype} shape {list(shape)}")
        print("values " + " ".join(fmt(v) for v in values))
    elif cmd == "range":
        _, _, values = read(argv[2])
        lo, hi = float(argv[3]), float(argv[4])
        if not values or any(not (lo <= v <= hi) for v in values):
            sys.exit(f"npytool: {argv[2]}: values outside [{lo}, {hi}]: "
                     f"min {fmt(min(values, default=0))}, max {fmt(max(values, default=0))}")
        print(f"min {fmt(min(values))} max {fmt(max(values))}")
    elif cmd == "same":
        a, b = read(argv[2]), read(argv[3])
        if a != b:
            sys.exit(f"npytool: {argv[2]} and {argv[3]} differ")
    elif cmd == "check":
        dtype, shape, values = read(argv[2])
        want_dtype, want_shape = argv[3], parse_shape(argv[4])
        want = parse_values(argv[5], want_dtype)
        atol, rtol = 0.0, 0.0
        rest = argv[6:]
        while rest:
            if rest[0] == "--atol":
                atol = float(rest[1])
            elif rest[0] == "--rtol":
                rtol = float(rest[1])
            else:
                sys.exit(f"npytool: unknown option {rest[0]}")
            rest = rest[2:]
        problems = []
        if dtype != want_dtype:
            problems.append(f"dtype {dtype}, expected {want_dtype}")
        if shape != want_shape:
            problems.append(f"shape {list(shape)}, expected {list(want_shape)}")
        if len(values) != len(want):
            problems.append(f"{len(values)} values, expected {len(want)}")
        else:
            for i, (got, exp) in enumerate(zip(values, want)):
                if isinstance(exp, float):
                    ok = got == exp or (math.isnan(got) and math.isnan(exp)) or abs(got - exp) <= atol + rtol * abs(exp)
                else:
                    ok = got == exp
                if not ok:
                    problems.append(f"element {i}: {fmt(got)}, expected {fmt(exp)}")
                    if len(problems) > 10:
                        break
        if problems:
            sys.exit(f"npytool: {argv[2]}:\n  " + "\n  ".join(problems))
    else:
        sys.exit(f"npytool: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
