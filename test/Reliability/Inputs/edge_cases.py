#!/usr/bin/env python3
"""Edge-size sweep for loom-compile: every loom op with each named dimension
set to 0, to 1 and to a huge size (2^31 + 1), plus every dimension dynamic.

Writes one small module per case and compiles it for one target. A case the
verifier rejects is skipped (only inputs the verifier accepts are in scope).
Every other case must either compile (exit 0) or stop with a diagnostic
("error:" on stderr, exit 1); a signal, another status, an LLVM stack dump or
an exit 1 without "error:" is a failure.

usage: edge_cases.py --loom-opt PATH --loom-compile PATH --out DIR -- ARGS...
  ARGS are passed to loom-compile (e.g. --target=cpu --emit=llvm).
  --list prints the cases and their outcome; --only SUBSTR filters cases.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys

HUGE = 2**31 + 1


def t(shape, ty):
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{ty}>" if shape else f"tensor<{ty}>"


def cdiv(a, b):
    return None if a is None else -(-a // b)


# Each op: base dims, and a function from dims to (operand types, op text, result types).
def attention(d, attrs=""):
    q = t([d["B"], d["Hq"], d["S"], d["D"]], "bf16")
    k = t([d["B"], d["Hkv"], d["T"], d["D"]], "bf16")
    v = t([d["B"], d["Hkv"], d["T"], d["Dv"]], "bf16")
    r = t([d["B"], d["Hq"], d["S"], d["Dv"]], "bf16")
    return [q, k, v], f"loom.attention %a0, %a1, %a2 {attrs}", [r]


def select_blocks(d):
    q = t([d["B"], d["Hq"], d["S"], d["D"]], "f32")
    k = t([d["B"], d["Hkv"], d["T"], d["D"]], "f32")
    r = t([d["B"], d["Hq"], cdiv(d["S"], 4), cdiv(d["T"], 4)], "i1")
    return [q, k], "loom.select_blocks %a0, %a1 {block_q = 4 : i64, block_k = 4 : i64, topk = 1 : i64, causal}", [r]


def block_sparse(d):
    q = t([d["B"], d["Hq"], d["S"], d["D"]], "bf16")
    k = t([d["B"], d["Hkv"], d["T"], d["D"]], "bf16")
    v = t([d["B"], d["Hkv"], d["T"], d["D"]], "bf16")
    l = t([d["B"], d["Hq"], cdiv(d["S"], 4), cdiv(d["T"], 4)], "i1")
    return [q, k, v, l], "loom.block_sparse_attention %a0, %a1, %a2, %a3 {block_q = 4 : i64, block_k = 4 : i64, causal}", [q]


def linear_attention(d, attrs=""):
    q = t([d["B"], d["H"], d["S"], d["D"]], "f32")
    v = t([d["B"], d["H"], d["S"], d["Dv"]], "f32")
    return [q, q, v], f"loom.linear_attention %a0, %a1, %a2 {attrs}", [v]


def pool_mixer(d):
    x = t([d["B"], d["H"], d["W"], d["C"]], "f32")
    return [x], "loom.pool_mixer %a0 {kernel = 3 : i64}", [x]


def pool_mixer1d(d):
    x = t([d["B"], d["L"], d["C"]], "bf16")
    return [x], "loom.pool_mixer %a0 {kernel = 3 : i64}", [x]


def dwconv1d(d, attrs=""):
    x = t([d["B"], d["L"], d["C"]], "bf16")
    w = t([d["K"], d["C"]], "bf16")
    return [x, w], f"loom.dwconv %a0, %a1 {attrs}", [x]


def dwconv2d(d):
    x = t([d["B"], d["H"], d["W"], d["C"]], "f32")
    w = t([d["KH"], d["KW"], d["C"]], "f32")
    return [x, w], "loom.dwconv %a0, %a1", [x]


def linear(d):
    x = t([d["B"], d["M"], d["K"]], "f32")
    w = t([d["N"], d["K"]], "f32")
    b = t([d["N"]], "f32")
    return [x, w, b], "loom.linear %a0, %a1, %a2", [t([d["B"], d["M"], d["N"]], "f32")]


def qlinear8(d):
    x = t([d["M"], d["K"]], "bf16")
    w = t([d["N"], d["K"]], "i8")
    s = t([d["N"]], "f32")
    return [x, w, s], "loom.qlinear %a0, %a1, %a2", [t([d["M"], d["N"]], "bf16")]


def qlinear4(d):
    x = t([d["M"], d["K"]], "bf16")
    w = t([d["N"], d["K"]], "i4")
    s = t([d["N"], cdiv(d["K"], 32)], "f32")
    b = t([d["N"]], "bf16")
    return [x, w, s, b], "loom.qlinear %a0, %a1, %a2, %a3 {group_size = 32 : i64}", [t([d["M"], d["N"]], "bf16")]


def quantize(d, ty="i8"):
    x = t([d["M"], d["K"]], "bf16")
    return [x], "loom.quantize %a0", [t([d["M"], d["K"]], ty), t([d["M"]], "f32")]


def qmatmul(d, ty="i8"):
    xq = t([d["M"], d["K"]], ty)
    xs = t([d["M"]], "f32")
    w = t([d["N"], d["K"]], ty)
    ws = t([d["N"]], "f32")
    b = t([d["N"]], "bf16")
    return [xq, xs, w, ws, b], "loom.qmatmul %a0, %a1, %a2, %a3, %a4", [t([d["M"], d["N"]], "bf16")]


def rms_norm(d):
    x = t([d["M"], d["N"]], "bf16")
    return [x, t([d["N"]], "bf16")], "loom.rms_norm %a0, %a1", [x]


def layer_norm(d):
    x = t([d["M"], d["N"]], "f32")
    g = t([d["N"]], "f32")
    return [x, g, g], "loom.layer_norm %a0, %a1, %a2", [x]


def rope(d, attrs=""):
    x = t([d["B"], d["H"], d["S"], d["D"]], "bf16")
    c = t([d["S"], None if d["D"] is None else d["D"] // 2], "f32")
    return [x, c, c], f"loom.rope %a0, %a1, %a2 {attrs}", [x]


def unary(name, ty, attrs=""):
    def f(d):
        x = t([d["M"], d["N"]], ty)
        return [x], f"loom.{name} %a0 {attrs}", [x]
    return f


ATT = dict(B=2, Hq=4, Hkv=2, S=8, T=8, D=16, Dv=16)
LIN = dict(B=1, H=2, S=8, D=16, Dv=8)
OPS = {
    "attention": (ATT, attention),
    "attention_causal": (ATT, lambda d: attention(d, "{causal, window = 4 : i64, softcap = 30.0 : f32}")),
    "select_blocks": (dict(B=1, Hq=4, Hkv=2, S=8, T=8, D=16), select_blocks),
    "block_sparse_attention": (dict(B=1, Hq=4, Hkv=2, S=8, T=8, D=16), block_sparse),
    "linear_attention": (LIN, linear_attention),
    "linear_attention_causal": (LIN, lambda d: linear_attention(
        d, '{causal, feature_map = "elu_plus_one", decay = array<f32: 0.5, 0.25>, normalize}')),
    "pool_mixer": (dict(B=1, H=4, W=4, C=8), pool_mixer),
    "pool_mixer1d": (dict(B=2, L=10, C=8), pool_mixer1d),
    "dwconv": (dict(B=2, L=10, C=8, K=3), dwconv1d),
    "dwconv_causal": (dict(B=2, L=10, C=8, K=10), lambda d: dwconv1d(d, "{causal}")),
    "dwconv2d": (dict(B=1, H=4, W=4, C=8, KH=3, KW=3), dwconv2d),
    "linear": (dict(B=2, M=3, K=16, N=8), linear),
    "qlinear_i8": (dict(M=4, K=64, N=8), qlinear8),
    "qlinear_i4": (dict(M=4, K=64, N=8), qlinear4),
    "quantize_i8": (dict(M=4, K=64), quantize),
    "quantize_f8": (dict(M=4, K=64), lambda d: quantize(d, "f8E4M3FN")),
    "qmatmul_i8": (dict(M=4, K=64, N=8), qmatmul),
    "qmatmul_f8": (dict(M=4, K=64, N=8), lambda d: qmatmul(d, "f8E4M3FN")),
    "rms_norm": (dict(M=4, N=64), rms_norm),
    "layer_norm": (dict(M=4, N=64), layer_norm),
    "rope": (dict(B=1, H=2, S=8, D=16), rope),
    "rope_interleaved": (dict(B=1, H=2, S=8, D=16), lambda d: rope(d, '{style = "interleaved"}')),
    "gelu": (dict(M=4, N=64), unary("gelu", "bf16")),
    "gelu_tanh": (dict(M=4, N=64), unary("gelu", "f32", '{approximate = "tanh"}')),
    "silu": (dict(M=4, N=64), unary("silu", "f16")),
}


def module(types, op, results):
    args = ", ".join(f"%a{i}: {ty}" for i, ty in enumerate(types))
    res = ", ".join(f"%r{i}" for i in range(len(results)))
    sig = "(" + ", ".join(results) + ")"
    rtys = ", ".join(results)
    return (f"func.func @f({args}) -> {sig} {{\n"
            f"  {res} = {op} : ({', '.join(types)}) -> {sig if len(results) > 1 else results[0]}\n"
            f"  return {res} : {rtys}\n}}\n")


def cases():
    for name, (base, fn) in OPS.items():
        for dim in base:
            for val, tag in ((0, "0"), (1, "1"), (HUGE, "huge")):
                d = dict(base)
                d[dim] = val
                yield f"{name}.{dim}={tag}", module(*fn(d))
        yield f"{name}.all=1", module(*fn({k: 1 for k in base}))
        yield f"{name}.all=0", module(*fn({k: 0 for k in base}))
        yield f"{name}.dynamic", module(*fn({k: None for k in base}))


def run(cmd):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")


def check(name, path, opts):
    v = run([opts.loom_opt, path, "-o", os.devnull])
    if v.returncode != 0:
        return name, "rejected-by-verifier", None
    p = run([opts.loom_compile, path, "-o", path + ".out"] + opts.args)
    err = p.stderr
    if p.returncode < 0 or p.returncode >= 128:
        return name, "CRASH", f"signal/status {p.returncode}\n{err[-3000:]}"
    if "Stack dump" in err or "PLEASE submit a bug report" in err or "Assertion" in err:
        return name, "CRASH", f"stack dump, status {p.returncode}\n{err[-3000:]}"
    if "runtime error:" in err or "AddressSanitizer" in err or "LeakSanitizer" in err:
        return name, "SANITIZER", f"status {p.returncode}\n{err[-3000:]}"
    if p.returncode == 0:
        return name, "compiled", None
    if p.returncode == 1 and "error:" in err:
        return name, "diagnosed", err.strip().splitlines()[0]
    return name, "BAD-EXIT", f"status {p.returncode} without a diagnostic\n{err[-3000:]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom-opt", required=True)
    ap.add_argument("--loom-compile", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("args", nargs="*")
    opts = ap.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    jobs = []
    for name, text in cases():
        if opts.only not in name:
            continue
        path = os.path.join(opts.out, name + ".mlir")
        with open(path, "w") as f:
            f.write(text)
        jobs.append((name, path))
    failures = 0
    counts = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts.j) as ex:
        for name, status, detail in ex.map(lambda j: check(j[0], j[1], opts), jobs):
            counts[status] = counts.get(status, 0) + 1
            bad = status in ("CRASH", "SANITIZER", "BAD-EXIT")
            failures += bad
            if opts.list or bad:
                print(f"{status}: {name}" + (f": {detail}" if detail and (bad or opts.list) else ""))
    print("edge cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
