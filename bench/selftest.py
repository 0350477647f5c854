#!/usr/bin/env python3
"""Self-test of the GPU check's harness, on the CPU (needs torch).

    bench/build.sh --target=cpu && python3 bench/selftest.py [.gpu/bench-cpu]

1. The comparison: NaN, a wrong shape, an integer off by 2, a bf16 result off
   by 5% fail; ties of quantize (off by 1, rarely) and exact results pass.
2. The i4 packing of the ABI: even index in the low nibble, signed.
3. The reference evaluator reads every case and example.
4. Wrong semantics are caught: each mutation of a reference op (or of the
   i4 packing, or of the paged ops' index handling) must make the checks of
   the CPU modules fail, and the unmutated references must pass. This shows
   that a PASS on the GPU means the kernels agree with DIALECT.md, not
   merely with themselves.
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
folder = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".gpu", "bench-cpu"))
sys.path.insert(0, folder)
sys.argv = sys.argv[:1]

import torch  # noqa: E402

import gpu_check as G  # noqa: E402
import loomrt  # noqa: E402
import reference as ref  # noqa: E402

passed = failed = 0


def expect(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {what}", flush=True)
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)


# 1. compare ------------------------------------------------------------------
x = torch.randn(64, 64, dtype=torch.float64)
expect(G.compare("f32", x.clone(), x)[0], "identical f32 passes")
y = x.clone(); y[3, 4] = math.nan
expect(not G.compare("f32", y, x)[0], "a NaN fails")
expect(not G.compare("bf16", x * 1.05, x)[0], "bf16 off by 5% fails")
expect(G.compare("bf16", ref.round_to(x, "bf16"), x)[0], "bf16 rounding passes")
expect(not G.compare("f32", ref.round_to(x, "bf16"), x)[0], "bf16 rounding fails an f32 result")
expect(not G.compare("f32", x[:32], x)[0], "a wrong shape fails")
q = torch.randint(-127, 128, (64, 64))
q1 = q.clone(); q1[0, 0] += 1
expect(G.compare("i8", q1, q)[0], "one quantize tie (off by 1) passes")
q2 = q.clone(); q2[0, 0] += 2
expect(not G.compare("i8", q2, q)[0], "an integer off by 2 fails")
q3 = q + 1
expect(not G.compare("i8", q3, q)[0], "every integer off by 1 fails")
l = torch.rand(2, 4, 8, 8) < 0.5
l1 = l.clone(); l1[0, 0, 0, 0] ^= True
expect(not G.compare("i1", l1, l)[0], "a flipped layout bit fails")
amb = torch.zeros(2, 4, 8, dtype=torch.bool); amb[0, 0, 0] = True
expect(G.compare("i1", l1, l, ("ambiguous_rows", amb))[0], "a flipped bit in a near-tie row passes")

# 2. i4 packing -----------------------------------------------------------------
v = torch.tensor([[1, -2, 7, -8]])
expect(loomrt.pack_i4(v).tolist() == [[0xE1, 0x87]], "i4 packs the even index into the low nibble")
w = torch.randint(-8, 8, (5, 12))
expect(torch.equal(loomrt.unpack_i4(loomrt.pack_i4(w)), w), "i4 pack/unpack round trip")

# 3. the evaluator reads every source ------------------------------------------------
srcs = sorted(os.listdir(os.path.join(folder, "sources")))
for s in srcs:
    try:
        funcs = ref.parse_module(open(os.path.join(folder, "sources", s)).read())
        expect(len(funcs) > 0, f"reads {s} ({len(funcs)} functions)")
    except Exception as e:
        expect(False, f"reads {s}: {e}")

# 4. mutations --------------------------------------------------------------------
rt = loomrt.Runtime(os.path.join(folder, "libloomrt.so"))
dims = json.load(open(os.path.join(folder, "dims.json")))


class Args:
    only, seed, verbose = "", 0, False


def run(module, only):
    Args.only = only
    c = G.Checker(rt, loomrt.LOOM_DEVICE_CPU, Args, dims)
    G.log.lines.clear()
    import io, contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        c.check_module(module)
    return sum(r["ok"] for r in c.records), sum(not r["ok"] for r in c.records)


def mutation(what, module, only, target, attr, replacement):
    orig = getattr(target, attr)
    setattr(target, attr, replacement(orig))
    try:
        p, f = run(module, only)
    finally:
        setattr(target, attr, orig)
    expect(f > 0, f"caught: {what} ({f} of {p + f} checks fail)")


def top_left_causal(orig):
    def att(q, k, v, causal=False, **kw):
        if causal and q.shape[2] != k.shape[2]:  # pretend the key axis starts where the queries do
            return orig(q, k[:, :, :q.shape[2]], v[:, :, :q.shape[2]], causal=True, **kw)
        return orig(q, k, v, causal=causal, **kw)
    return att


mutation("causal aligned top-left instead of bottom-right", "case_attention", "mqa_cross_causal",
         ref, "attention", top_left_causal)
mutation("softcap ignored", "case_attention", "window_softcap", ref, "attention",
         lambda o: lambda *a, softcap=None, **kw: o(*a, **kw))
mutation("window off by one", "case_attention", "window_gqa", ref, "attention",
         lambda o: lambda *a, window=None, **kw: o(*a, window=window + 1 if window else None, **kw))
mutation("GQA heads interleaved instead of grouped", "case_attention", "causal_gqa", ref, "_expand_kv_heads",
         lambda o: lambda t, Hq: t.repeat(1, Hq // t.shape[1], 1, 1))
mutation("causal mask dropped (Sq > Skv)", "case_attention", "sq_gt_skv", ref, "attention",
         lambda o: lambda q, k, v, causal=False, **kw: o(q, k, v, causal=False, **kw) if causal else o(q, k, v, **kw))
mutation("block layout ignored", "case_sparse", "bsa_bf16_causal", ref, "block_sparse_attention",
         lambda o: lambda q, k, v, layout, **kw: o(q, k, v, torch.ones_like(layout), **kw))
mutation("sink logits ignored", "case_attention_serving", "gpt_oss_full_lse", ref, "attention",
         lambda o: lambda *a, sink_logits=None, **kw: o(*a, **kw))
mutation("sinks ignored", "case_attention_serving", "bsa_head_windows", ref, "block_sparse_attention",
         lambda o: lambda *a, sink=None, **kw: o(*a, **kw))
mutation("per-head windows read per kv head", "case_attention_serving", "bsa_head_windows", ref,
         "block_sparse_attention",
         lambda o: lambda *a, window=None, **kw: o(*a, window=[window[h // 2 * 2] for h in range(len(window))]
                                                   if isinstance(window, list) else window, **kw))
mutation("select_blocks without the forced diagonal", "case_sparse", "sel_bf16_causal", ref, "select_blocks",
         lambda o: lambda q, k, block_q=64, block_k=64, topk=8, causal=False, scale=None:
         o(q, k, block_q, block_k, topk + 1, False, scale))
mutation("decay 10% off", "case_linear_attention", "decay_elu", ref, "linear_attention",
         lambda o: lambda *a, decay=None, **kw: o(*a, decay=[d * 1.1 for d in decay] if decay else None, **kw))
mutation("normalize dropped", "case_linear_attention", "relu_causal_norm", ref,
         "linear_attention", lambda o: lambda *a, normalize=False, **kw: o(*a, normalize=False, **kw))
mutation("per-key gate ignored", "case_linear_attention_recurrent", "key_gate_final", ref,
         "linear_attention_recurrent", lambda o: lambda *a, gate=None, **kw: o(*a, **kw))
mutation("delta rule replaced by the additive rule", "case_linear_attention_recurrent", "gated_delta", ref,
         "linear_attention_recurrent", lambda o: lambda *a, beta=None, rule="additive", **kw: o(*a, **kw))
mutation("initial state ignored", "case_linear_attention_recurrent", "decay_states", ref,
         "linear_attention_recurrent", lambda o: lambda *a, initial_state=None, **kw: o(*a, **kw))
mutation("pool_mixer counts padding", "case_mixers", "pool2d_bf16_ragged", ref, "pool_mixer",
         lambda o: lambda x, kernel=3: torch.nn.functional.avg_pool2d(
             x.permute(0, 3, 1, 2), kernel, 1, kernel // 2, count_include_pad=True).permute(0, 2, 3, 1) - x)
mutation("causal dwconv kernel reversed", "case_mixers", "dw1d_causal", ref, "dwconv",
         lambda o: lambda x, w, causal=False: o(x, w.flip(0), causal))
mutation("qlinear group scales in the wrong order", "case_quant", "ql_i4_g128_ragged", ref, "qlinear",
         lambda o: lambda x, w, s, bias=None, group_size=0: o(x, w, s.flip(-1) if group_size else s, bias, group_size))
mutation("i4 nibbles swapped", "case_quant", "ql_i4_g32", loomrt, "pack_i4",
         lambda o: lambda v: o(torch.stack([v[..., 1::2], v[..., 0::2]], -1).reshape(v.shape)))
mutation("quantize scale max/128", "case_quant", "qz_i8_bf16", ref, "quantize",
         lambda o: lambda x, e: (lambda r: (torch.clamp(torch.round(x / (x.abs().amax(-1, keepdim=True) / 128)), -127, 127), r[1]))(o(x, e)))
mutation("qmatmul bias dropped", "case_quant", "qm_i8_bias", ref, "qmatmul",
         lambda o: lambda xq, xs, w, ws, bias=None: o(xq, xs, w, ws))
mutation("rms_norm by mean |x| instead of the root mean square", "case_pieces", "rms_bf16", ref, "rms_norm",
         lambda o: lambda x, g, epsilon=1e-6: x / x.abs().mean(-1, keepdim=True) * g)
mutation("rope interleaved read as half", "case_pieces", "rope_interleaved", ref, "rope",
         lambda o: lambda x, c, s, style="half": o(x, c, s, "half"))
mutation("gelu tanh read as erf", "case_pieces", "gelu_tanh", ref, "gelu",
         lambda o: lambda x, approximate="none": o(x, "none"))
mutation("paged: GQA heads interleaved instead of grouped", "case_paged_attention", "paged_decode_vllm", ref,
         "_expand_kv_heads", lambda o: lambda t, Hq: t.repeat(1, Hq // t.shape[1], 1, 1))
mutation("paged: causal aligned top-left per sequence", "case_paged_attention", "paged_chunked_prefill",
         ref, "attention", top_left_causal)
mutation("paged: block table ignored (each sequence's pages read in order)", "case_paged_attention",
         "paged_decode_vllm", ref, "paged_attention",
         lambda o: lambda q, k, v, offs, lens, table, **kw: o(
             q, k, v, offs, lens, torch.arange(table.numel()).reshape(table.shape) % k.shape[0], **kw))
mutation("paged: the last key of each sequence dropped", "case_paged_attention", "paged_decode_vllm", ref,
         "paged_attention", lambda o: lambda q, k, v, offs, lens, table, **kw: o(q, k, v, offs, lens - 1, table, **kw))
mutation("paged: per-head windows and sink logits ignored", "case_paged_attention", "paged_chunked_prefill", ref,
         "paged_attention", lambda o: lambda *a, window=None, sink_logits=None, **kw: o(*a, **kw))
mutation("paged: softcap ignored", "case_paged_attention", "paged_softcap_dv", ref, "paged_attention",
         lambda o: lambda *a, softcap=None, **kw: o(*a, **kw))
mutation("kv_cache_write: negative slots wrap instead of being skipped", "case_paged_attention",
         "paged_decode_step", ref, "kv_cache_write",
         lambda o: lambda c, n, s: o(c, n, torch.where(s < 0, s + c.shape[0] * c.shape[1], s)))
mutation("rope: positions ignored (token index as position)", "case_paged_attention", "paged_decode_step", ref,
         "rope_at_positions", lambda o: lambda x, c, s, pos, style="half": o(x, c, s, torch.arange(len(pos)), style))
p, f = run("case_sparse", "")
expect(f == 0 and p > 0, f"unmutated references pass ({p} checks)")
p, f = run("case_paged_attention", "")
expect(f == 0 and p > 0, f"unmutated paged references pass ({p} checks)")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
