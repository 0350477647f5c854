#!/usr/bin/env python3
"""A real client: transformers' own LlamaDecoderLayer against Loom's, called
through the Python package (python/loom).

    cd .gpu/bench && python3 llama_layer.py        # (bench/build.sh made this folder)

peers.llama_layer_peers builds Hugging Face's LlamaDecoderLayer (bf16, SDPA,
S = 2048 tokens, hidden 2048, GQA 16/4, SwiGLU 5632) with random weights and
times it eager and under torch.compile. This script loads Loom's block of
the same layer (sources/timing_llama_layer.mlir, compiled by bench/build.sh
into modules/timing_llama_layer.so) with `loom.load`, and calls it the way a
PyTorch user would: `entry(*tensors)` on the layer's own parameters, input
and RoPE tables (torch tensors, zero-copy, on torch's current stream). It
checks Loom's output and transformers' bf16 output against the layer run in
float32 (||out - ref|| / ||ref||; Loom must be at least as close as
transformers is, within 1.5x, and under 2e-2), then times, in the same run
and with the peers' own timer (peers.time_ms: CUDA events around each call):
- Loom's call (Python, the package's checks, the launches: what a caller
  pays);
- the call captured in a torch.cuda.CUDAGraph and replayed;
- the entry as a torch custom op (loom.torch.register) inside a
  torch.compile(fullgraph=True) function, output checked against the call;
- Loom's kernels alone (torch.profiler, CUPTI).
The table goes to stdout and to $OUT/llama_layer.json (else ./out). Exit
code 0 only if every check passed.
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("LOOM_RUNTIME", os.path.join(HERE, "libloomrt.so"))

import torch  # noqa: E402

import loom  # noqa: E402
import loom.torch  # noqa: E402
import peers  # noqa: E402

S = 2048


def rel(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def kernels_ms(fn, calls=20):
    """Device time per call of fn's kernels, and the time of each kernel."""
    from torch.profiler import profile, ProfilerActivity
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    total, names = 0.0, {}
    for evt in prof.events():
        if evt.device_type == torch.autograd.DeviceType.CUDA:
            us = getattr(evt, "device_time", None) or getattr(evt, "cuda_time", 0.0)
            total += us
            names[evt.name] = names.get(evt.name, 0.0) + us / calls / 1e3
    return total / calls / 1e3, names


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

    # The package: load the compiled block and call it on the layer's own
    # tensors. HF's RoPE tables are [1, S, 128] with both halves equal
    # ("half" style); Loom's block takes [S, 64] f32.
    block = loom.load(os.path.join(HERE, "modules", "timing_llama_layer.so"))
    entry = block.entries["llama_layer"]
    a, m = layer.self_attn, layer.mlp
    args = [x[0], layer.input_layernorm.weight, a.q_proj.weight, a.k_proj.weight, a.v_proj.weight,
            a.o_proj.weight, layer.post_attention_layernorm.weight, m.gate_proj.weight, m.up_proj.weight,
            m.down_proj.weight, cos[0, :, :64].float().contiguous(), sin[0, :, :64].float().contiguous()]
    args = [t.detach() for t in args]
    ok_all = True

    def check(ok, what):
        nonlocal ok_all
        ok_all &= bool(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {what}")

    out = entry(*args)
    torch.cuda.synchronize()
    err_loom, err_hf = rel(out.float().reshape(1, S, -1), ref), rel(hf.float(), ref)
    check(err_loom < 2e-2 and err_loom <= 1.5 * err_hf,
          f"||loom - fp32|| / ||fp32|| = {err_loom:.2e}, transformers bf16: {err_hf:.2e}")

    # The same call, as the peers are timed.
    call_ms = peers.time_ms(lambda: entry(*args), iters=50)
    # A CUDA graph of the call (captured after the warm-up above).
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        entry(*args)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        graph_out = entry(*args)
    graph.replay()
    torch.cuda.synchronize()
    check(torch.equal(graph_out, out), "the CUDA graph's replay gives the call's output")
    graph_ms = peers.time_ms(graph.replay, iters=50)
    # A torch custom op in a torch.compile'd function, no graph break.
    op = loom.torch.register(entry, "loombench::llama_layer")
    compiled = torch.compile(lambda *t: op(*t), fullgraph=True)
    compiled_out = compiled(*args)
    torch.cuda.synchronize()
    check(torch.equal(compiled_out, out), "torch.compile(fullgraph=True) over the custom op gives the call's output")
    compiled_ms = peers.time_ms(lambda: compiled(*args), iters=50)
    kern_ms, kernels = kernels_ms(lambda: entry(*args))
    for name, ms in sorted(kernels.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  kernel {ms:.4f} ms  {name[:110]}")

    eager, tc = times["hf_eager"], times["hf_torch_compile"]
    rows = {"loom_call_ms": call_ms, "loom_graph_replay_ms": graph_ms, "loom_in_torch_compile_ms": compiled_ms,
            "loom_kernels_ms": kern_ms, "kernels": kernels, **times,
            "error_loom": err_loom, "error_transformers_bf16": err_hf, "check": ok_all}
    print("| work | Loom call ms | Loom graph replay ms | Loom in torch.compile ms | Loom kernels ms "
          "| transformers eager ms | torch.compile ms | Loom call / torch.compile | Loom kernels / torch.compile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| LlamaDecoderLayer S{S} hidden 2048 GQA 16/4 SwiGLU 5632 bf16 | {call_ms:.3f} | {graph_ms:.3f} | "
          f"{compiled_ms:.3f} | {kern_ms:.3f} | {eager:.3f} | {tc:.3f} | {call_ms / tc:.2f} | {kern_ms / tc:.2f} |")
    with open(os.path.join(out_dir, "llama_layer.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
