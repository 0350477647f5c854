#!/usr/bin/env python3
"""One call of each GEMM launch of the transformers Llama layer, Loom's and
cuBLAS's on the same shapes, for Nsight Compute (issue 13's evidence: where
the wgmma GEMM's time goes against the peer's).

    cd .gpu/bench && ncu --profile-from-start off --section SpeedOfLight \\
        --section WarpStateStats --section LaunchStats python3 gemm_profile.py

It loads modules/timing_llama_gemms.so (bench/cases/timing/llama_gemms.mlir)
with the package and builds the inputs of each entry (S 2048, hidden 2048,
QKV 2048 + 512 + 512, SwiGLU 5632; weights scaled by 1/sqrt(K)), times each
Loom call and its cuBLAS counterpart with the peers' timer (peers.time_ms,
CUDA events), then calls each once between cudaProfilerStart and
cudaProfilerStop, so that ncu (with --profile-from-start off) sees one
launch of each kernel. `--dir=D` loads D/modules/timing_llama_gemms.so
instead (an A/B build); without ncu it prints the times and exits 0.
"""
import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("LOOM_RUNTIME", os.path.join(HERE, "libloomrt.so"))

import torch  # noqa: E402

import loom  # noqa: E402
from profiling import time_then_profile  # noqa: E402

M, HID, KV, INTER = 2048, 2048, 512, 5632


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=HERE, help="the bench folder whose module to load")
    args = ap.parse_args()
    module = loom.load(os.path.join(args.dir, "modules", "timing_llama_gemms.so"))
    gen = torch.Generator(device="cuda").manual_seed(0)

    def act(*shape):
        return torch.randn(*shape, device="cuda", dtype=torch.bfloat16, generator=gen)

    def weight(n, k):
        return (torch.randn(n, k, device="cuda", generator=gen) / math.sqrt(k)).to(torch.bfloat16)

    x, a, h, p = act(M, HID), act(M, HID), act(M, HID), act(M, INTER)
    wq, wk, wv, wo = weight(HID, HID), weight(KV, HID), weight(KV, HID), weight(HID, HID)
    wg, wu, wd = weight(INTER, HID), weight(INTER, HID), weight(HID, INTER)
    wqkv, wgu = torch.cat([wq, wk, wv]), torch.cat([wg, wu])
    e = module.entries
    calls = [
        ("loom qkv", lambda: e["t_llama_qkv"](x, wq, wk, wv)),
        ("cuBLAS qkv (N 3072)", lambda: x @ wqkv.t()),
        ("loom o_proj + residual", lambda: e["t_llama_o_proj"](a, wo, x)),
        ("cuBLAS addmm o_proj", lambda: torch.addmm(x, a, wo.t())),
        ("loom gate/up + SiLU*up", lambda: e["t_llama_gate_up"](h, wg, wu)),
        ("cuBLAS gate/up (N 11264, no SiLU)", lambda: h @ wgu.t()),
        ("loom down + residual", lambda: e["t_llama_down"](p, wd, x)),
        ("cuBLAS addmm down", lambda: torch.addmm(x, p, wd.t())),
    ]
    # Loom's results against torch's (bf16 products, f32 accumulation).
    ref_qkv = x.float() @ wqkv.float().t()
    got = torch.cat([t.float() for t in e["t_llama_qkv"](x, wq, wk, wv)], 1)
    err = ((got - ref_qkv).norm() / ref_qkv.norm()).item()
    print(f"qkv relative error {err:.2e}", flush=True)
    if not err < 1e-2:
        print("FAIL: Loom's QKV does not match", flush=True)
        return 1
    time_then_profile(calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
