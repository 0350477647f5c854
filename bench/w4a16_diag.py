#!/usr/bin/env python3
"""Diagnosis of a W4A16 module's wrong results (docs/perf.md, 2026-12-07,
seventh session): calls W4A16 cases of bench/cases/quant.mlir several
times on the same inputs and fits each call's error on the per-K-step
partial products, so that a wrong step, a lost or doubled group, or a race
(an error that changes between calls) shows.

    python3 w4a16_diag.py [--module modules/w4regs_quant.so] [--device cuda|cpu] [--calls 3]

Run from the folder bench/build.sh makes (it needs libloomrt.so and
loomrt.py there).
"""
import argparse
import os

import torch

import loomrt

HERE = os.path.dirname(os.path.abspath(__file__))
# entry: (M, K, N, group, scale type), as in bench/cases/quant.mlir.
CASES = {"ql_i4_g128_ragged": (77, 384, 333, 128, "f32"),
         "ql_w4_wgmma_odd_k_m128": (128, 448, 8192, 64, "bf16"),
         "ql_w4_wgmma_g64_f16_scales": (2000, 256, 1100, 64, "f16"),
         "ql_w4_wgmma_dyn": (333, 512, 260, 128, "f32")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default=os.path.join(HERE, "modules", "w4regs_quant.so"))
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--calls", type=int, default=3)
    args = ap.parse_args()
    device = loomrt.LOOM_DEVICE_CUDA if args.device == "cuda" else loomrt.LOOM_DEVICE_CPU
    rt = loomrt.Runtime(os.path.join(HERE, "libloomrt.so"))
    mod = rt.load(args.module, device)
    gen = torch.Generator().manual_seed(5)
    for name, (M, K, N, G, st) in CASES.items():
        entry = mod.entries[name]
        x = torch.randn(M, K, generator=gen, dtype=torch.float64).to(torch.bfloat16).to(torch.float64)
        w = torch.randint(-8, 8, (N, K), generator=gen)
        s = (torch.rand(N, (K + G - 1) // G, generator=gen, dtype=torch.float64) + 0.5)
        s = s.to(loomrt.STORAGE[st]).to(torch.float64)
        bufs, keep = [], []
        for elem, v in (("bf16", x), ("i4", w), (st, s)):
            stored = loomrt.encode(elem, v)
            if args.device == "cuda":
                stored = stored.cuda()
            keep.append(stored)
            bufs.append(rt.buffer_from(device, elem, list(v.shape), stored))
        ws = w.to(torch.float64) * s.repeat_interleave(G, dim=1)[:, :K]
        ref = x @ ws.T
        steps = torch.stack([(x[:, j:j + 64] @ ws[:, j:j + 64].T).flatten() for j in range(0, K, 64)], 1)
        for call in range(args.calls):
            r = entry.call(bufs)[0]
            y = loomrt.decode("bf16", rt.to_host(r, "bf16")).to(torch.float64)
            rt.destroy(r)
            err = y - ref
            coef = torch.linalg.lstsq(steps, err.flatten().unsqueeze(1)).solution.flatten()
            left = (err.flatten() - steps @ coef).norm() / ref.norm()
            bad = err.abs() > 0.05 * ref.abs().mean()
            rows = bad.any(1).nonzero().flatten()
            cols = bad.any(0).nonzero().flatten()
            # Each wrong element's nearest simple story: one K step missing
            # (ref - step_j), only the first j steps (prefix_j), or another
            # row's result in the same column (a row mix-up).
            if bool(bad.any()):
                mi, ni = bad.nonzero(as_tuple=True)
                pick = torch.randperm(len(mi), generator=gen)[:512]
                mi, ni = mi[pick], ni[pick]
                yv = y[mi, ni]
                S = steps.shape[1]
                st = steps.view(M, N, S)[mi, ni]  # [e, S]
                cands = {f"miss{j}": ref[mi, ni] - st[:, j] for j in range(S)}
                pre = torch.cumsum(st, 1)
                cands.update({f"prefix{j + 1}": pre[:, j] for j in range(S - 1)})
                cands["zero"] = torch.zeros_like(yv)
                tol = 0.02 * ref.abs().mean()
                story = {}
                for e in range(len(yv)):
                    best = min(cands, key=lambda k: abs(float(cands[k][e] - yv[e])))
                    if abs(float(cands[best][e] - yv[e])) > tol:
                        rowm = (ref[:, ni[e]] - yv[e]).abs().argmin().item()
                        best = "otherrow" if abs(float(ref[rowm, ni[e]] - yv[e])) <= tol else "none"
                    story[best] = story.get(best, 0) + 1
                print(f"  {name} call {call}: wrong elements' stories {dict(sorted(story.items(), key=lambda kv: -kv[1]))}")
            print(f"{name} call {call}: rel {err.norm() / ref.norm():.3e}, "
                  f"error = sum_j c_j * step_j with c = {[round(c, 3) for c in coef.tolist()]} "
                  f"(unexplained rel {left:.3e}); wrong rows {len(rows)}/{M} "
                  f"(count by m % 64: {dict((i, c) for i, c in enumerate(torch.bincount(rows % 64, minlength=64).tolist()) if c)}); "
                  f"wrong columns {len(cols)}/{N} (64-column tiles {torch.unique(cols // 64).tolist()[:24]})")
        for b in bufs:
            rt.destroy(b)


if __name__ == "__main__":
    main()
