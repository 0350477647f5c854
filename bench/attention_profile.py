#!/usr/bin/env python3
"""One call of each prefill attention kernel, Loom's and cuDNN's, for Nsight
Compute (issue 14's evidence: where the wgmma kernels' time goes against the
peer's).

    cd .gpu/bench && ncu --profile-from-start off --section SpeedOfLight \\
        --section WarpStateStats --section Occupancy --section LaunchStats \\
        --section ComputeWorkloadAnalysis python3 attention_profile.py

It loads modules/timing_attention.so with the package, warms up Loom's
entries t_attn_d64, t_attn (D 128) and t_attn_d256 and torch SDPA's cuDNN
backend on the same shapes (B4 H16 S4096 bf16, not causal), then calls each
once between cudaProfilerStart and cudaProfilerStop, so that ncu (with
--profile-from-start off) sees one launch of each kernel. Without ncu it
prints each call's time (peers.time_ms) and exits 0.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("LOOM_RUNTIME", os.path.join(HERE, "libloomrt.so"))

import torch  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import loom  # noqa: E402
from profiling import time_then_profile  # noqa: E402

B, H, S = 4, 16, 4096


def main():
    module = loom.load(os.path.join(HERE, "modules", "timing_attention.so"))
    gen = torch.Generator(device="cuda").manual_seed(0)
    calls = []
    for name, D in (("t_attn_d64", 64), ("t_attn", 128), ("t_attn_d256", 256)):
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16, generator=gen)
                   for _ in range(3))
        entry = module.entries[name]
        calls.append((f"loom D{D}", lambda e=entry, q=q, k=k, v=v: e(q, k, v)))

        def cudnn(q=q, k=k, v=v):
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                return torch.nn.functional.scaled_dot_product_attention(q, k, v)
        calls.append((f"cuDNN D{D}", cudnn))
    time_then_profile(calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
