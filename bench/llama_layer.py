#!/usr/bin/env python3
"""A real client: transformers' own LlamaDecoderLayer against Loom's.

    cd .gpu/bench && python3 llama_layer.py        # (bench/build.sh made this folder)

peers.llama_layer_peers builds Hugging Face's LlamaDecoderLayer (bf16, SDPA,
S = 2048 tokens, hidden 2048, GQA 16/4, SwiGLU 5632) with random weights and
times it eager and under torch.compile. This script feeds the same weights,
the same input and the same RoPE tables to Loom's block of the same layer
(sources/timing_llama_layer.mlir, modules/timing_llama_layer.so), checks
Loom's output and transformers' bf16 output against the layer run in float32
(||out - ref|| / ||ref||; Loom must be at least as close as transformers is,
within 1.5x, and under 2e-2), and times Loom's call (host clock, median) and
its kernels (CUPTI), in the same run. The table goes to stdout and to
$OUT/llama_layer.json (else ./out). Exit code 0 only if the check passed.
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import gpu_check  # noqa: E402  (its timing helpers)
import loomrt  # noqa: E402
import peers  # noqa: E402

S = 2048


def rel(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def main():
    out_dir = os.environ.get("OUT") or os.path.join(HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    times, layer, (x, cos, sin, pos) = peers.llama_layer_peers(S)
    with torch.no_grad():
        hf = layer(x, attention_mask=None, position_ids=pos, position_embeddings=(cos, sin), use_cache=False)
        hf = hf[0] if isinstance(hf, tuple) else hf
        ref_layer = copy.deepcopy(layer).float()
        ref = ref_layer(x.float(), attention_mask=None, position_ids=pos,
                        position_embeddings=(cos.float(), sin.float()), use_cache=False)
        ref = ref[0] if isinstance(ref, tuple) else ref

    rt = loomrt.Runtime(os.path.join(HERE, "libloomrt.so"))
    rt.device_init(loomrt.LOOM_DEVICE_CUDA)
    module = rt.load(os.path.join(HERE, "modules", "timing_llama_layer.so"), loomrt.LOOM_DEVICE_CUDA)
    entry = module.entries["llama_layer"]
    a, m = layer.self_attn, layer.mlp
    # HF's tables are [S, 128] with both halves equal ("half" style): Loom
    # takes [S, 64] f32.
    inputs = [x[0], layer.input_layernorm.weight, a.q_proj.weight, a.k_proj.weight, a.v_proj.weight,
              a.o_proj.weight, layer.post_attention_layernorm.weight, m.gate_proj.weight, m.up_proj.weight,
              m.down_proj.weight, cos[0, :, :64].float(), sin[0, :, :64].float()]
    keep = [t.detach().contiguous() for t in inputs]
    bufs = [rt.buffer_from(loomrt.LOOM_DEVICE_CUDA, e, list(t.shape), t)
            for (e, _), t in zip(entry.arg_types, keep)]
    torch.cuda.synchronize()
    res = entry.call(bufs)
    loom = loomrt.decode("bf16", rt.to_host(res[0], "bf16")).float().reshape(1, S, -1)
    for b in res:
        rt.destroy(b)
    err_loom, err_hf = rel(loom, ref.cpu()), rel(hf.float().cpu(), ref.cpu())
    ok = err_loom < 2e-2 and err_loom <= 1.5 * err_hf
    print(f"check: ||loom - fp32|| / ||fp32|| = {err_loom:.2e}, transformers bf16: {err_hf:.2e} "
          f"({'PASS' if ok else 'FAIL'})")

    call_ms, iters = gpu_check.time_loom(rt, entry, [bufs], 0.001, 2.0, 200)
    kern_ms = gpu_check.kernel_ms(rt, entry, [bufs], calls=20)
    # Where the kernel time goes: device time per call of each kernel.
    breakdown = {}
    try:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(10):
                for b in entry.call(bufs):
                    rt.destroy(b)
            torch.cuda.synchronize()
        for evt in prof.key_averages():
            us = getattr(evt, "device_time_total", None) or getattr(evt, "cuda_time_total", 0.0)
            if us > 0:
                breakdown[evt.key] = us / 10 / 1e3
        for name, ms in sorted(breakdown.items(), key=lambda kv: -kv[1])[:12]:
            print(f"  kernel {ms:.4f} ms  {name[:110]}")
    except Exception as e:
        print(f"  (no breakdown: {e})")
    rows = {"loom_call_ms": call_ms, "loom_kernels_ms": kern_ms, "kernels": breakdown, **times,
            "error_loom": err_loom, "error_transformers_bf16": err_hf, "check": ok}
    print(f"| work | Loom call ms | Loom kernels ms | transformers eager ms | torch.compile ms | "
          f"Loom kernels / torch.compile | Loom call / torch.compile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    tc = times["hf_torch_compile"]
    print(f"| LlamaDecoderLayer S{S} hidden 2048 GQA 16/4 SwiGLU 5632 bf16 | {call_ms:.3f} | {kern_ms:.3f} | "
          f"{times['hf_eager']:.3f} | {tc:.3f} | {kern_ms / tc:.2f} | {call_ms / tc:.2f} |")
    for b in bufs:
        rt.destroy(b)
    with open(os.path.join(out_dir, "llama_layer.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
