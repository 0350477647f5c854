#!/usr/bin/env python3
"""Host overhead of one call of a compiled entry from Python (issue 17):
`entry(*arrays)` through the package (python/loom) against the module's bare
C call (`loom_call_<name>` through ctypes, with descriptors, destinations
and context built once), per call, for numpy arrays, CPU torch tensors and
CUDA torch tensors.

    # Here (CPU): compiles a block with the Llama example's signature (19
    # arguments: bf16, packed i4, f32; one result) and a trivial body, so that
    # the C call is short and the difference is the package's overhead.
    python3 bench/python_overhead.py
    python3 bench/python_overhead.py --source python/tests/blocks.mlir --entry block

    # The GPU machine (no loom-compile there): bench/build.sh's folder holds
    # this script, the package, the runtime and the Llama example compiled
    # for sm_90a.
    cd .gpu/bench && LOOM_RUNTIME=$PWD/libloomrt.so \
        python3 python_overhead.py --module modules/example_llama_block.so --target sm_90a

How: (a) the package's call and (b) the C call are timed in alternating
rounds of --calls calls each; the table gives the median per call of each
over --rounds rounds and their difference, (a) - (b): the host time the
package adds to one call. On CUDA each round first queues a long sleep kernel
so that the GPU stays busy: the times are those of queueing the calls
(Python, ctypes, the module's launches), not of running them. --breakdown
adds the costs of the pieces a torch call is made of (tensor attribute
reads, the result allocation, the stream lookup), to see where time goes.

The runtime and the compiler are found as the package finds them
($LOOM_RUNTIME, $LOOM_COMPILE, else this checkout's build/); PYTHONPATH
picks the package (default: this checkout's python/). --json writes the
numbers.
"""
import argparse
import ctypes
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for var, path in (("LOOM_RUNTIME", os.path.join(ROOT, "build", "lib", "libloomrt.so")),
                  ("LOOM_COMPILE", os.path.join(ROOT, "build", "bin", "loom-compile"))):
    if var not in os.environ and os.path.exists(path):
        os.environ[var] = path
try:
    import loom
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import loom
from loom import _runtime  # noqa: E402

# The Llama example's signature with a trivial body: the C call costs little
# more than its checks and one small copy, so the package's overhead shows.
LLAMA_SIGNATURE_BLOCK = """\
func.func @llama_signature(
    %x: tensor<128x512xbf16>,
    %attn_norm_w: tensor<512xbf16>,
    %wq: tensor<512x512xi4>, %wq_scale: tensor<512x4xf32>,
    %wk: tensor<128x512xi4>, %wk_scale: tensor<128x4xf32>,
    %wv: tensor<128x512xi4>, %wv_scale: tensor<128x4xf32>,
    %wo: tensor<512x512xi4>, %wo_scale: tensor<512x4xf32>,
    %mlp_norm_w: tensor<512xbf16>,
    %w_gate: tensor<1408x512xi4>, %w_gate_scale: tensor<1408x4xf32>,
    %w_up: tensor<1408x512xi4>, %w_up_scale: tensor<1408x4xf32>,
    %w_down: tensor<512x1408xi4>, %w_down_scale: tensor<512x11xf32>,
    %cos: tensor<128x32xf32>, %sin: tensor<128x32xf32>) -> tensor<512xbf16> {
  %y = arith.addf %attn_norm_w, %mlp_norm_w : tensor<512xbf16>
  return %y : tensor<512xbf16>
}
"""


def stored_shape(elem, dims, dim):
    return tuple(loom._storage_dims(elem, [dim if d == _runtime.LOOM_DYNAMIC else d for d in dims]))


def torch_inputs(entry, device, dim, seed=0):
    import torch
    gen = torch.Generator().manual_seed(seed)
    dtypes = loom._torch_dtypes()
    xs = []
    for elem, dims in entry.args:
        shape = stored_shape(elem, dims, dim)
        dtype = dtypes[elem]
        if dtype.is_floating_point:
            x = (torch.randn(shape, generator=gen) * 0.1).to(dtype)
        elif dtype is torch.bool:
            x = torch.randint(0, 2, shape, generator=gen).bool()
        else:
            x = torch.randint(0, 16, shape, generator=gen).to(dtype)
        xs.append(x.to(device))
    return xs


def numpy_inputs(entry, dim, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    dtypes = loom._numpy_dtypes()
    xs = []
    for elem, dims in entry.args:
        shape = stored_shape(elem, dims, dim)
        dtype = dtypes[elem]
        if elem == "bf16" and dtype == np.uint16:
            x = np.full(shape, 0x3F80, np.uint16)  # 1.0 as bf16 bits
        elif dtype.kind == "f":
            x = (rng.standard_normal(shape) * 0.1).astype(dtype)
        else:
            x = rng.integers(0, 2 if dtype.kind == "b" else 16, shape).astype(dtype)
        xs.append(x)
    return xs


def pointer_of(x):
    if hasattr(x, "data_ptr"):
        return x.data_ptr()
    return x.__array_interface__["data"][0]


def c_call_arguments(entry, xs, outs, stream):
    """The bare call's arguments, built once: one descriptor per argument
    and per destination (pointer, pointer, 0, sizes, contiguous strides),
    the packed array, the context (the stream) for a GPU module."""
    c_int64 = ctypes.c_int64

    def descriptor(x):
        shape = tuple(x.shape)
        strides = [1] * len(shape)
        for d in range(len(shape) - 2, -1, -1):
            strides[d] = strides[d + 1] * shape[d + 1]
        p = pointer_of(x)
        return [p, p, 0, *shape, *strides]

    descs = []
    for x in xs:
        words = descriptor(x)
        descs.append((c_int64 * len(words))(*words))
    area_words = [w for o in outs for w in descriptor(o)]
    area = (c_int64 * max(len(area_words), 1))(*area_words)
    packed = (ctypes.c_void_p * (1 + len(xs)))(
        ctypes.addressof(area) if outs else None, *[ctypes.addressof(d) for d in descs])
    context = None
    if stream is not None:
        context = _runtime.CallContext()
        context.size = ctypes.sizeof(_runtime.CallContext)
        context.stream = stream
    args = (ctypes.c_void_p(ctypes.addressof(packed)), c_int64(len(xs)),
            ctypes.c_void_p(ctypes.addressof(context)) if context is not None else None)
    keep = (descs, area, packed, context)
    return args, keep


def as_tuple(r):
    return () if r is None else r if isinstance(r, tuple) else (r,)


def time_loop(fn, calls):
    """Seconds per call of fn(), or of fn[0](), fn[1](), ... in turn."""
    if isinstance(fn, (list, tuple)):
        fns, k = fn, len(fn)
        t0 = time.perf_counter()
        for i in range(calls):
            fns[i % k]()
        return (time.perf_counter() - t0) / calls
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def measure_cpu(py, c, calls, rounds):
    for _ in range(3):  # warm-up
        time_loop(py, max(calls // 10, 1))
        time_loop(c, max(calls // 10, 1))
    tp, tc = [], []
    for _ in range(rounds):
        tp.append(time_loop(py, calls))
        tc.append(time_loop(c, calls))
    return tp, tc


def measure_cuda(py, c, calls, rounds, sleep_cycles):
    import torch
    sync = torch.cuda.synchronize

    def queued(fn):
        torch.cuda._sleep(sleep_cycles)  # keeps the GPU busy: we time the queueing
        t = time_loop(fn, calls)
        sync()
        return t

    for _ in range(2):
        queued(py)
        queued(c)
    tp, tc = [], []
    for _ in range(rounds):
        tp.append(queued(py))
        tc.append(queued(c))
    return tp, tc


def check_cuda(entry, xs, outs, cargs):
    """What the timed calls rely on, on the GPU: the package's call gives what
    the bare C call writes (bit for bit), on a side stream too, and under a
    CUDA graph; a CPU tensor and a wrong dtype are refused. Returns the
    failures."""
    import torch
    failures = []
    same = lambda a, b: all(torch.equal(x.view(torch.uint8), y.view(torch.uint8))  # noqa: E731
                            for x, y in zip(a, b))
    message = entry._call(*cargs)  # writes `outs`
    torch.cuda.synchronize()
    if message:
        failures.append(f"C call: {message.decode()}")
    ys = as_tuple(entry(*xs))
    torch.cuda.synchronize()
    if not same(ys, outs):
        failures.append("the package's call differs from the bare C call")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        zs = as_tuple(entry(*xs))
    side.synchronize()
    if not same(zs, outs):
        failures.append("the call on a side stream differs")
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            entry(*xs)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            gs = as_tuple(entry(*xs))
        g.replay()
        torch.cuda.synchronize()
        if not same(gs, outs):
            failures.append("the CUDA graph's replay differs")
    except Exception as e:  # noqa: BLE001
        failures.append(f"CUDA graph: {type(e).__name__}: {e}")
    for bad, error, text in ((lambda: entry(*[x.cpu() for x in xs]), ValueError, "runs on cuda"),
                             (lambda: entry(xs[0].float(), *xs[1:]), TypeError, "has dtype")):
        try:
            bad()
            failures.append(f"not refused: {text}")
        except error as e:
            if text not in str(e):
                failures.append(f"unexpected message: {e}")
    ys = as_tuple(entry(*xs))  # and a good call after the refusals
    torch.cuda.synchronize()
    if not same(ys, outs):
        failures.append("a call after refused ones differs")
    return failures


def breakdown(xs, outs, cuda, iters):
    """Per-call costs of the pieces of a torch call, in us, timed alone."""
    import torch
    rows = []

    def t(name, fn):
        fn()
        best = min(time_loop(fn, iters) for _ in range(5))
        rows.append((name, best * 1e6))

    dp = torch.Tensor.data_ptr

    def five_reads():
        for a in xs:
            a.dtype, a.shape, a.is_contiguous(), a.get_device(), a.data_ptr()

    t(f"5 attribute reads x {len(xs)} tensors (Python loop)", five_reads)
    t(f"data_ptr x {len(xs)} tensors (map)", lambda: list(map(dp, xs)))
    guards = getattr(getattr(torch._C, "_dynamo", None), "guards", None)
    if guards is not None and hasattr(guards, "TensorGuards"):
        try:
            g = guards.TensorGuards(*xs, dynamic_dims_sizes=[list(a.shape) for a in xs],
                                    dynamic_dims_strides=[list(a.stride()) for a in xs]).check
            t(f"TensorGuards.check of {len(xs)} tensors", lambda: g(*xs))
        except Exception as e:  # noqa: BLE001
            rows.append((f"TensorGuards: {type(e).__name__}: {e}", float("nan")))
    device = outs[0].device if outs else torch.device("cuda" if cuda else "cpu")
    specs = [(tuple(o.shape), o.stride(), o.dtype) for o in outs]
    t(f"torch.empty x {len(outs)} results on {device}",
      lambda: [torch.empty(s, dtype=d, device=device) for s, _, d in specs])
    fast = getattr(guards, "_empty_strided_cuda" if cuda else "_empty_strided_cpu", None)
    if fast is not None:
        t(f"torch._C._dynamo.guards._empty_strided_{'cuda' if cuda else 'cpu'} x {len(outs)}",
          lambda: [fast(s, st, d) for s, st, d in specs])
    if cuda:
        t("torch.cuda.current_stream().cuda_stream", lambda: torch.cuda.current_stream().cuda_stream)
        t("torch._C._cuda_getCurrentRawStream(0)", lambda: torch._C._cuda_getCurrentRawStream(0))
        t("torch._C._cuda_getDevice()", torch._C._cuda_getDevice)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--module", help="a prebuilt module (.so); else --source is compiled")
    p.add_argument("--source", help="MLIR to compile (default: the Llama signature with a "
                   "trivial body for cpu, examples/llama_block.mlir for a GPU target)")
    p.add_argument("--target", default="cpu", help="cpu (default) or a GPU such as sm_90a")
    p.add_argument("--entry", help="the entry (default: the module's first)")
    p.add_argument("--kinds", help="comma-separated: numpy, torch, cuda (default: numpy,torch "
                   "for a CPU module, cuda for a GPU one)")
    p.add_argument("--dim", type=int, default=16, help="the value of dynamic sizes (default 16)")
    p.add_argument("--calls", type=int, help="calls per timed round (default 2000 on the CPU, "
                   "20 on CUDA: all queued behind one sleep kernel)")
    p.add_argument("--rounds", type=int, default=31, help="timed rounds (default 31)")
    p.add_argument("--sleep-cycles", type=int, default=100_000_000,
                   help="GPU clock cycles of the sleep kernel queued before each CUDA round")
    p.add_argument("--alternate", action="store_true",
                   help="alternate between two copies of argument 0 (a new activation each call, "
                   "as in a model) in both the package's and the C call")
    p.add_argument("--breakdown", action="store_true",
                   help="also time the pieces of a torch call alone")
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()

    if args.module:
        module = loom.load(args.module)
    else:
        source = args.source
        if source is None:
            source = (LLAMA_SIGNATURE_BLOCK if args.target == "cpu"
                      else os.path.join(ROOT, "examples", "llama_block.mlir"))
        out = os.path.join(tempfile.mkdtemp(prefix="loom-overhead-"), f"block.{args.target}.so")
        module = loom.compile(source, target=args.target, output=out)
    if args.target != "cpu" and not module.target.startswith("sm_"):
        print(f"note: --target {args.target}, but the module's target is {module.target}")
    entry = module[args.entry] if args.entry else next(iter(module.entries.values()))
    cuda_module = module.target.startswith("sm_")
    kinds = (args.kinds.split(",") if args.kinds else ["cuda"] if cuda_module else ["numpy", "torch"])

    info = {"module": module.path, "target": module.target, "entry": entry.name,
            "signature": entry.signature, "nargs": len(entry.args), "nresults": len(entry.results),
            "python": platform.python_version(), "package": os.path.dirname(loom.__file__),
            "rounds": args.rounds, "rows": []}
    try:
        import torch
        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        torch = None
    helpers = getattr(loom, "_torch_helpers", None)
    if torch is not None and helpers is not None:
        h = helpers(torch)
        info["torch_internals"] = {"TensorGuards": h.guard is not None,
                                   "_empty_strided_cpu": h.empty_cpu is not None}
    print(f"{entry.signature}\n  module {module.path} ({module.target}); {len(entry.args)} "
          f"arguments, {len(entry.results)} result(s)")
    print(f"  python {info['python']}, torch {info.get('torch', '-')}, package {info['package']}"
          + (f", torch internals {info['torch_internals']}" if "torch_internals" in info else ""))

    print(f"\n{'kind':8} {'python call':>12} {'C call':>10} {'overhead':>10}   (us per call; "
          f"median of {args.rounds} rounds, [min])")
    for kind in kinds:
        if kind == "numpy":
            if cuda_module:
                continue
            xs = numpy_inputs(entry, args.dim)
            stream = None
        elif kind in ("torch", "cuda"):
            if torch is None:
                print(f"{kind:8} skipped: no torch")
                continue
            if kind == "cuda" and not (cuda_module and torch.cuda.is_available()):
                print(f"{kind:8} skipped: " + ("no CUDA device" if cuda_module else "a CPU module"))
                continue
            if kind == "torch" and cuda_module:
                continue
            xs = torch_inputs(entry, "cuda" if kind == "cuda" else "cpu", args.dim)
            stream = torch.cuda.current_stream().cuda_stream if kind == "cuda" else None
        else:
            raise SystemExit(f"unknown kind {kind!r} (numpy, torch, cuda)")
        outs = as_tuple(entry(*xs))  # warm-up; its results are the C call's destinations
        cargs, keep = c_call_arguments(entry, xs, outs, stream)
        message = entry._call(*cargs)
        if message:
            raise SystemExit(f"the bare C call failed: {message.decode()}")
        if kind == "cuda":
            failures = check_cuda(entry, xs, outs, cargs)
            info.setdefault("failures", []).extend(failures)
            for f in failures:
                print(f"  FAIL  {f}")
            if not failures:
                print("  (checked: the call equals the bare C call, on a side stream and in a "
                      "CUDA graph; refusals)")
        py = functools.partial(entry, *xs)
        c = functools.partial(entry._call, *cargs)
        if args.alternate and xs:
            xs2 = [xs[0].clone() if hasattr(xs[0], "clone") else xs[0].copy(), *xs[1:]]
            outs2 = as_tuple(entry(*xs2))
            cargs2, keep2 = c_call_arguments(entry, xs2, outs2, stream)
            py = [py, functools.partial(entry, *xs2)]
            c = [c, functools.partial(entry._call, *cargs2)]
        if kind == "cuda":
            calls = args.calls or 20
            tp, tc = measure_cuda(py, c, calls, args.rounds, args.sleep_cycles)
        else:
            calls = args.calls or 2000
            tp, tc = measure_cpu(py, c, calls, args.rounds)
        mp, mc = statistics.median(tp) * 1e6, statistics.median(tc) * 1e6
        row = {"kind": kind, "calls": calls, "alternate": args.alternate, "python_us": mp, "c_us": mc, "overhead_us": mp - mc,
               "python_min_us": min(tp) * 1e6, "c_min_us": min(tc) * 1e6}
        print(f"{kind:8} {mp:12.2f} {mc:10.2f} {mp - mc:10.2f}   "
              f"[{min(tp) * 1e6:.2f} {min(tc) * 1e6:.2f}]")
        if args.breakdown and kind != "numpy":
            row["breakdown_us"] = breakdown(xs, outs, kind == "cuda", max(calls * 10, 2000))
            for name, us in row.get("breakdown_us", ()):
                print(f"           {us:8.2f}  {name}")
        info["rows"].append(row)
        del keep
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=1)
    return 1 if info.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
