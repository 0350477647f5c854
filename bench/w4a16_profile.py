#!/usr/bin/env python3
"""One call of each W4A16 linear of bench/cases/timing/w4a16.mlir (N = K =
8192, groups of 128) for Nsight Compute: issue 13's evidence of what limits
the decode GEMV (M = 1, 16) and the wgmma kernels (M = 128 to 1024).

    cd .gpu/bench && ncu --profile-from-start off --section SpeedOfLight \\
        --section MemoryWorkloadAnalysis --section WarpStateStats \\
        --section LaunchStats --section Occupancy python3 w4a16_profile.py

It loads modules/timing_w4a16.so, or `--module=NAME` (the same entries
built with other tiles, e.g. timing_w4regs_w4a16 or
timing_gemv_4_1_2_1_w4a16), takes the rows `--m=1,16` (the default), checks
each result against torch's (dequantized weights, f32), prints each call's
time with the peers' timer, with the bytes it reads as a fraction of the
device-to-device copy bandwidth and its products as a fraction of bf16
cuBLAS's time on the same M (both measured in the same run), then calls
each once between cudaProfilerStart and cudaProfilerStop. Under ncu the
printed times include its replays (take them from a run without it). It
exits 1 when a result is wrong (after profiling it).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("LOOM_RUNTIME", os.path.join(HERE, "libloomrt.so"))

import torch  # noqa: E402

import loom  # noqa: E402
import peers  # noqa: E402
from profiling import time_then_profile  # noqa: E402

N = K = 8192
G = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", default="timing_w4a16", help="the module (in modules/) to load")
    ap.add_argument("--m", default="1,16", help="the entries' M, comma-separated (1, 16, 128, 256, 1024)")
    args = ap.parse_args()
    ms = [int(m) for m in args.m.split(",")]
    module = loom.load(os.path.join(HERE, "modules", args.module + ".so"))
    gen = torch.Generator(device="cuda").manual_seed(0)
    w = torch.randint(-8, 8, (N, K), device="cuda", dtype=torch.int8, generator=gen)
    wp = loom.pack_i4(w)
    s = (torch.rand(N, K // G, device="cuda", generator=gen) + 0.5) / (K ** 0.5 * 4)
    e = module.entries
    xs = {m: torch.randn(m, K, device="cuda", dtype=torch.bfloat16, generator=gen) for m in ms}
    wf = (w.float().view(N, K // G, G) * s[:, :, None]).view(N, K)
    wrong = []
    for m in ms:
        ref = xs[m].float() @ wf.t()
        got = e[f"t_w4a16_m{m}"](xs[m], wp, s).float()
        err = ((got - ref).norm() / ref.norm()).item()
        print(f"M={m} relative error {err:.2e}", flush=True)
        if not err < 2e-2:
            # Still profiled (a wrong kernel's time is worth knowing while
            # it is being fixed), but the run fails.
            print(f"FAIL: the W4A16 linear at M={m} does not match", flush=True)
            wrong.append(m)
    bw = peers.copy_bandwidth_gbs()
    print(f"copy bandwidth {bw:.0f} GB/s", flush=True)
    wb = wf.to(torch.bfloat16)
    cublas = {m: peers.time_ms(lambda m=m: xs[m] @ wb.t()) for m in ms}
    calls = [(f"loom W4A16 M={m}", (lambda m=m: e[f"t_w4a16_m{m}"](xs[m], wp, s))) for m in ms]
    times = time_then_profile(calls)
    for m in ms:
        nbytes = N * K // 2 + N * (K // G) * 4 + m * K * 2 + m * N * 2
        t = times[f"loom W4A16 M={m}"]
        print(f"M={m}: {nbytes / t / 1e6:.0f} GB/s = {nbytes / t / 1e6 / bw:.0%} of copy; "
              f"bf16 cuBLAS {cublas[m]:.4f} ms, ratio {t / cublas[m]:.2f}", flush=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
