#!/usr/bin/env python3
"""The Python package (python/loom) on the GPU: destination-passing calls on
torch's stream, CUDA graphs, torch.compile, per-call overhead (issue 17).

    bench/build.sh && cd .gpu/bench && python3 torch_check.py        # on the GPU machine
    bench/build.sh --target=cpu && python3 .gpu/bench-cpu/torch_check.py --device=cpu   # dry run

For each example module (modules/example_*.so; --modules=NAME,... picks) it
1. calls the entry through the package on random inputs scaled as the GPU
   check scales them, on torch's current stream and then on a side stream,
   and checks the outputs against gpu_check's float64 reference evaluator
   (reference.py), and bit for bit against the old call (loomrt.py, ABI 3's
   loom_entry: results allocated by the module, synchronized);
2. times, in one run: the old call (host clock, it synchronizes), the
   package's call (host clock for N queued calls then one synchronize), the
   host time to queue one call (Python + ctypes + launches, GPU kept busy),
   the C call alone (loom_call_<name> with descriptors prepared once), the
   kernels' device time (torch.profiler/CUPTI), and a CUDA graph of the call
   replayed (CUDA events), whose ratio to the kernels' time should be within
   1.05;
3. registers the entry as a torch custom op (loom.torch.register) and runs
   it in a torch.compile'd function with fullgraph=True, checking the
   output against the eager call.
The table goes to stdout and to $OUT/torch_check.json (else ./out). Exit
code 0 only if every check passed.
"""
import argparse
import json
import os
import statistics
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("LOOM_RUNTIME", os.path.join(HERE, "libloomrt.so"))

import torch  # noqa: E402

import gpu_check  # noqa: E402  (inputs, comparisons)
import loom  # noqa: E402
import loom.torch  # noqa: E402
import loomrt  # noqa: E402
import reference as ref  # noqa: E402


def inputs_for(func, device, seed=1):
    gen = torch.Generator().manual_seed(seed)
    shapes = gpu_check.concrete_shape_sets(func, {})[0]
    values, stored = [], []
    for i, (t, shape) in enumerate(zip(func.arg_types, shapes)):
        v = gpu_check.make_value(func, i, t.elem, shape, gen)
        if t.elem in ref.TORCH_FLOAT:
            v = ref.round_to(v, t.elem)
        values.append(v)
        stored.append(loomrt.encode(t.elem, v).to(device))
    return values, stored, shapes


def host_ms(fn, iters, sync):
    """Median of 5 rounds of `iters` calls, in ms per call."""
    rounds = []
    for _ in range(5):
        sync()
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        rounds.append((time.perf_counter() - t0) * 1e3 / iters)
    return statistics.median(rounds)


def kernels_ms(fn, calls=20):
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    total_us = 0.0
    names = {}
    for evt in prof.events():
        if evt.device_type == torch.autograd.DeviceType.CUDA:
            us = getattr(evt, "device_time", None) or getattr(evt, "cuda_time", 0.0)
            total_us += us
            names[evt.name] = names.get(evt.name, 0.0) + us / calls
    return total_us / calls / 1e3, names


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--modules", default="example_llama_block",
                   help="comma-separated module names under modules/ (default: example_llama_block)")
    p.add_argument("--iters", type=int, default=200)
    args = p.parse_args()
    cuda = args.device == "cuda"
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    rt = loomrt.Runtime(os.path.join(HERE, "libloomrt.so"))
    rtdev = loomrt.LOOM_DEVICE_CUDA if cuda else loomrt.LOOM_DEVICE_CPU
    if cuda:
        rt.device_init(rtdev)
    out_dir = os.environ.get("OUT") or os.path.join(HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    rows, ok_all = [], True

    def check(ok, what):
        nonlocal ok_all
        ok_all &= bool(ok)
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")

    for name in args.modules.split(","):
        path = os.path.join(HERE, "modules", f"{name}.so")
        with open(os.path.join(HERE, "sources", f"{name}.mlir")) as f:
            funcs = ref.parse_module(f.read())
        module = loom.load(path)
        print(f"== {name} ({module.target})")
        for fname, func in funcs.items():
            if fname not in module.entries:
                continue
            entry = module.entries[fname]
            seed = zlib.crc32(fname.encode()) & 0x7FFFFFFF
            values, stored, shapes = inputs_for(func, dev, seed)
            row = {"module": name, "entry": fname}
            # 1. numerics: the package on the current stream, on a side
            # stream, against the reference and the old call.
            outs = entry(*stored)
            outs = outs if isinstance(outs, tuple) else (outs,)
            sync()
            wants, notes = func.evaluate(values)
            for ri, (out, want, t) in enumerate(zip(outs, wants, func.result_types)):
                decoded = loomrt.decode(t.elem, out.cpu())
                ok, msg = gpu_check.compare(t.elem, decoded, want, notes.get(ri))
                check(ok, f"{fname} result {ri} against the float64 reference: {msg}")
            bufs = [rt.buffer_from(rtdev, t.elem, s, st) for t, s, st in zip(func.arg_types, shapes, stored)]
            old = entry_old = module_old = None
            module_old = rt.load(path, rtdev)
            entry_old = module_old.entries[fname]
            res = entry_old.call(bufs)
            old = [rt.to_host(b, t.elem) for b, t in zip(res, func.result_types)]
            for b in res:
                rt.destroy(b)
            same = all(torch.equal(o.cpu().view(torch.uint8), n.cpu().contiguous().view(torch.uint8))
                       for o, n in zip(old, outs))
            check(same, f"{fname}: the destination-passing call equals the old call bit for bit")
            if cuda:
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    outs2 = entry(*stored)
                outs2 = outs2 if isinstance(outs2, tuple) else (outs2,)
                side.synchronize()
                check(all(torch.equal(a, b) for a, b in zip(outs, outs2)),
                      f"{fname}: on a side stream, the same results")
                # An argument on the CPU is refused before any work.
                try:
                    entry(*[s.cpu() for s in stored])
                    check(False, "a CPU tensor to a GPU module is refused")
                except ValueError as e:
                    check("runs on cuda" in str(e), f"a CPU tensor is refused: {e}")

            # 2. timing, in one run.
            iters = args.iters if cuda else max(3, args.iters // 50)

            def old_call():
                for b in entry_old.call(bufs):
                    rt.destroy(b)

            row["old_call_ms"] = host_ms(old_call, iters, sync)
            row["call_ms"] = host_ms(lambda: entry(*stored), iters, sync)
            # The C call alone: descriptors as the package left them, the
            # destinations of one earlier call reused.
            b = entry._buffers()
            keep = entry(*stored)  # its results stay alive: the C call writes them
            stream = torch.cuda.current_stream().cuda_stream if cuda else None
            if cuda:
                b.context.stream = stream
            ctx = b.context_address if cuda else None
            row["c_call_ms"] = host_ms(lambda: entry._call(b.packed_address, entry._nargs, ctx), iters, sync)
            if cuda:
                # Host time to queue one call while the GPU is busy (a long
                # kernel queued first): Python + ctypes + launches.
                big = torch.empty(1 << 26, device=dev)
                host = []
                for _ in range(5):
                    torch.cuda._sleep(50_000_000)
                    t0 = time.perf_counter()
                    for _ in range(20):
                        entry(*stored)
                    host.append((time.perf_counter() - t0) * 1e3 / 20)
                    sync()
                row["queue_call_ms"] = statistics.median(host)
                keep = entry(*stored)  # the destinations the C calls below write
                host = []
                for _ in range(5):
                    torch.cuda._sleep(50_000_000)
                    t0 = time.perf_counter()
                    for _ in range(20):
                        entry._call(b.packed_address, entry._nargs, ctx)
                    host.append((time.perf_counter() - t0) * 1e3 / 20)
                    sync()
                row["queue_c_call_ms"] = statistics.median(host)
                row["python_overhead_us"] = (row["queue_call_ms"] - row["queue_c_call_ms"]) * 1e3
                del big
                row["kernels_ms"], kern = kernels_ms(lambda: entry(*stored))
                for k, us in sorted(kern.items(), key=lambda kv: -kv[1])[:12]:
                    print(f"    kernel {us / 1e3:.4f} ms  {k[:100]}")
                # CUDA graph: capture one call (after the warm-up above:
                # code loaded, tensor maps encoded), replay it.
                g = torch.cuda.CUDAGraph()
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    entry(*stored)
                torch.cuda.current_stream().wait_stream(s)
                with torch.cuda.graph(g):
                    gout = entry(*stored)
                g.replay()
                sync()
                gout = gout if isinstance(gout, tuple) else (gout,)
                check(all(torch.equal(a, c) for a, c in zip(outs, gout)),
                      f"{fname}: CUDA graph replay gives the same results")
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                reps = []
                for _ in range(5):
                    start.record()
                    for _ in range(iters):
                        g.replay()
                    end.record()
                    sync()
                    reps.append(start.elapsed_time(end) / iters)
                row["graph_replay_ms"] = statistics.median(reps)
                row["graph_over_kernels"] = row["graph_replay_ms"] / row["kernels_ms"]
                check(row["graph_over_kernels"] <= 1.05,
                      f"{fname}: graph replay {row['graph_replay_ms']:.4f} ms is within 5% of its kernels "
                      f"{row['kernels_ms']:.4f} ms ({row['graph_over_kernels']:.3f})")
            # 3. torch.compile, fullgraph, with the entry as a custom op.
            op = loom.torch.register(entry, f"loombench::{name}_{fname}")

            def model(*xs):
                return op(*xs)

            try:
                compiled = torch.compile(model, fullgraph=True)
                got = compiled(*stored)
                got = got if isinstance(got, tuple) else (got,)
                sync()
                check(all(torch.equal(a, c) for a, c in zip(outs, got)),
                      f"{fname}: torch.compile(fullgraph=True) runs the op, same results")
                row["compiled_call_ms"] = host_ms(lambda: compiled(*stored), iters, sync)
            except Exception as e:
                check(False, f"{fname}: torch.compile: {type(e).__name__}: {str(e)[:300]}")
            for bb in bufs:
                rt.destroy(bb)
            del keep
            rows.append(row)
            print("  " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in row.items()))
    print("| module | entry | old call ms | call ms | C call ms | queue one call ms | Python overhead us "
          "| kernels ms | graph replay ms | replay / kernels | torch.compile call ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        def f(k, fmt="{:.4f}"):
            return fmt.format(r[k]) if k in r and r[k] is not None else "-"
        print(f"| {r['module']} | {r['entry']} | {f('old_call_ms')} | {f('call_ms')} | {f('c_call_ms')} | "
              f"{f('queue_call_ms')} | {f('python_overhead_us', '{:.1f}')} | {f('kernels_ms')} | "
              f"{f('graph_replay_ms')} | {f('graph_over_kernels', '{:.3f}')} | {f('compiled_call_ms')} |")
    with open(os.path.join(out_dir, "torch_check.json"), "w") as fh:
        json.dump(rows, fh, indent=1)
    print("torch_check:", "all checks passed" if ok_all else "SOME CHECKS FAILED")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
