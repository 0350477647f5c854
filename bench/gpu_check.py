#!/usr/bin/env python3
"""Loom's GPU check and benchmark: one command on the GPU machine.

    cd .gpu/bench && python3 gpu_check.py            # (bench/build.sh made this folder)

1. Correctness: every entry of every compiled case and example (modules/*.so,
   sources beside them in sources/) runs on random inputs through the Loom
   runtime's C API (libloomrt.so, ctypes) and is compared with a float64
   PyTorch reference of the same .mlir function (reference.py: the ops of
   DIALECT.md, composed as the source spells them). One line per check.
2. Timing: the timing cases (sources/timing_*.mlir) at the sizes of peers.py,
   Loom (median of host-timed loomEntryCall, which synchronizes inside the
   module) beside the peers of peers.py in the same run, as a markdown table
   with the floor (FLOPs over the tensor-core rate or bytes over the copy
   bandwidth) and Loom's fraction of it.

Each module's checks and each timing case run in a worker process; a kernel
fault, a crash or a hang fails that item only, and a fresh worker goes on.
The full log, the table and a JSON summary go to $OUT when it is set (else
to ./out). The exit code is 0 only if every check passed.

`--device=cpu` runs the same checks on CPU modules (bench/build.sh
--target=cpu), a dry run of the harness and of the references on a machine
without a GPU; timing is then skipped unless --timing-dry asks for a one-call
run of the small timing cases without peers.
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import loomrt  # noqa: E402
import reference as ref  # noqa: E402

# Matrix and memory rates for the floors: measured at the start of each run
# with timing (peers.bf16_gemm_tflops, peers.copy_bandwidth_gbs: cuBLAS bf16
# GEMM 8192^3 and a device copy) and handed to the workers through the
# environment; the H200's figures of 2026-12-04 where nothing was measured.
BF16_FLOPS = float(os.environ.get("LOOM_BENCH_BF16_FLOPS", 800e12))
INT8_FP8_FLOPS = 2 * BF16_FLOPS  # 8-bit tensor-core products run at twice the bf16 rate
COPY_BYTES_PER_S = float(os.environ.get("LOOM_BENCH_COPY_BYTES_PER_S", 4.26e12))

# Per result element type: (bound on ||out - ref|| / ||ref||,
#                           per-element |out - ref| <= a * rms(ref) + r * |ref|: (a, r)).
FLOAT_TOL = {
    "f64": (1e-12, (1e-11, 1e-11)),
    "f32": (1e-5, (1e-4, 1e-4)),
    "f16": (2e-3, (1e-2, 4e-3)),
    "bf16": (1e-2, (5e-2, 3e-2)),
}
# Integer results (quantize) may differ by 1 at rounding ties: at most this
# fraction of the elements, never by more than 1. f8E4M3FN results likewise by
# one f8 step (|d| <= 2^-3 |ref|, or the smallest subnormal step 2^-9).
TIE_FRACTION = 0.01


class Log:
    def __init__(self):
        self.lines = []

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)


log = Log()


def fmt_shape(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def role_of(func, index):
    """(op name, operand position, op) of the first use of argument `index`."""
    uses = func.uses()[index]
    if not uses:
        return None, None, None
    op, pos = uses[0]
    return op.name, pos, op


def make_value(func, index, elem, shape, gen, device="cpu", special=None):
    """Random logical values for argument `index` of `func`: never all zeros,
    integers in range, magnitudes chosen by how the argument is used (weights
    scaled by 1/sqrt(K), quantization scales so that outputs stay O(1), ...)."""
    name, pos, op = role_of(func, index)

    def randn(scale=1.0, offset=0.0):
        return torch.randn(shape, generator=gen, device=device, dtype=torch.float64) * scale + offset

    def uniform(lo, hi):
        return torch.rand(shape, generator=gen, device=device, dtype=torch.float64) * (hi - lo) + lo

    def randint(lo, hi):  # inclusive
        return torch.randint(lo, hi + 1, shape, generator=gen, device=device, dtype=torch.int64)

    if special is not None:
        return special(shape, device)
    if (name, pos) in (("loom.paged_attention", 3), ("loom.paged_attention", 4), ("loom.paged_attention", 5),
                       ("loom.kv_cache_write", 2), ("loom.rope", 3)):
        # q_offsets, kv_lens, block_table, slots, positions: random integers
        # would break the ops' requirements and check nothing meaningful.
        raise ValueError(f"argument {func.arg_names[index]} is index data of {name}: "
                         f"give it a generator in CHECK_SPECIAL")
    K = None
    if op is not None and name in ("loom.linear", "loom.qlinear", "loom.qmatmul"):
        # K from the weight [N, K] (or x); 1024 where both are dynamic (only magnitudes depend on it)
        K = op.in_types[2 if name == "loom.qmatmul" else 1].dims[-1] or op.in_types[0].dims[-1] or 1024
    if elem == "i1":
        return torch.rand(shape, generator=gen, device=device) < 0.5
    if elem == "i4":
        return randint(-8, 7)
    if elem == "i8":
        return randint(-127, 127)
    if elem in ("i32", "i64"):
        return randint(-1000, 1000)
    if elem == "f8E4M3FN":
        return randn(4.0)  # |x| <= 448 with overwhelming probability; rounded by the caller
    # Floats by role.
    if name == "loom.linear":
        if pos == 1:
            return randn(1.0 / math.sqrt(shape[-1]))
        if pos == 2:
            return randn(0.5)
    if name == "loom.qlinear":
        wq = op.in_types[1].elem
        if pos == 2:
            qmax = 8.0 if wq == "i4" else 128.0
            return uniform(0.5, 1.5) / (math.sqrt(K) * qmax / 2)
        if pos == 3:
            return randn(0.5)
    if name == "loom.qmatmul":
        q8 = op.in_types[0].elem
        if pos == 1:
            return uniform(0.5, 1.5) / (64.0 if q8 == "i8" else 4.0)
        if pos == 3:
            return uniform(0.5, 1.5) / (math.sqrt(K) * (64.0 if q8 == "i8" else 4.0))
        if pos == 4:
            return randn(0.5)
    if name == "loom.linear_attention":
        role = {i: kw for kw, i in (op.extra or {}).items()}.get(pos)
        if role == "gate":
            return uniform(-0.5, 0.0)  # log-gates: a decay per token
        if role == "beta":
            return uniform(0.0, 1.0)
        if role == "initial_state":
            return randn(0.5)
        if pos == 1 and op.attrs.get("rule") == "delta":
            # Keys of norm about 0.5: the delta rule's state stays bounded.
            return randn(0.5 / math.sqrt(shape[-1]))
    if (name, pos) in (("loom.attention", 3), ("loom.block_sparse_attention", 4), ("loom.paged_attention", 6)):
        # sink_logits [Hq]: sinks that take a sizeable share of each row, as
        # learned ones do (scores are O(1), rows sum over up to ~1000 keys).
        return uniform(3.0, 7.0)
    if name == "loom.dwconv" and pos == 1:
        taps = math.prod(shape[:-1])
        return randn(1.0 / math.sqrt(taps))
    if name in ("loom.rms_norm", "loom.layer_norm"):
        if pos == 1:
            return randn(0.2, 1.0)
        if pos == 2:
            return randn(0.2)
    if name == "loom.rope" and pos in (1, 2):
        return uniform(-1.0, 1.0)
    return randn()


def band_layout(half_width):
    """Special input: a block layout that is true on |I - J| <= half_width."""
    def make(shape, device):
        I = torch.arange(shape[-2], device=device)[:, None]
        J = torch.arange(shape[-1], device=device)[None, :]
        return ((I - J).abs() <= half_width).expand(*shape).contiguous()
    return make


class PagedBatch:
    """Special inputs of a paged-cache batch: B sequences with n_q[b] query
    tokens (packed, then `pad` padding rows) and kv_lens[b] keys, each on its
    own pages of a cache of P pages (a permutation of the pages seeded by
    `seed`: no two sequences share a page, and a sequence's pages are not in
    order). Unused block-table entries are `unused` (-1: an entry never read;
    None: the pages that follow in the permutation, valid but another's)."""

    def __init__(self, n_q, kv_lens, page, P, max_pages, seed, unused=-1):
        self.n_q, self.lens, self.page, self.P, self.max_pages = n_q, kv_lens, page, P, max_pages
        perm = torch.randperm(P, generator=torch.Generator().manual_seed(seed)).tolist()
        need = [-(-n // page) for n in kv_lens]
        if max(need) > max_pages or sum(need) > P or any(q > n for q, n in zip(n_q, kv_lens)):
            raise ValueError(f"PagedBatch: {kv_lens} keys in pages of {page} do not fit {max_pages} x {P}")
        self.table, cursor = [], 0
        for n in need:
            row = perm[cursor:cursor + n]
            cursor += n
            fill = [-1] * (max_pages - n) if unused == -1 else perm[cursor:] + perm[:cursor]
            self.table.append(row + fill[:max_pages - n])

    @staticmethod
    def _tensor(values, shape, device):
        t = torch.tensor(values, dtype=torch.int64, device=device)
        if list(t.shape) != list(shape):
            raise ValueError(f"special input of shape {list(t.shape)} for an argument of shape {list(shape)}")
        return t

    def q_offsets(self, shape, device):
        offs = [0]
        for n in self.n_q:
            offs.append(offs[-1] + n)
        return self._tensor(offs, shape, device)

    def kv_lens(self, shape, device):
        return self._tensor(self.lens, shape, device)

    def block_table(self, shape, device):
        return self._tensor(self.table, shape, device)

    def _new_tokens(self, T):
        """The packed rows' keys: sequence b's n_q[b] rows are its last n_q[b]
        keys (a prefill or a decode step appends them); then T - sum(n_q)
        padding rows."""
        keys = [(b, n - q + r) for b, (q, n) in enumerate(zip(self.n_q, self.lens)) for r in range(q)]
        if len(keys) > T:
            raise ValueError(f"{len(keys)} new tokens in {T} rows")
        return keys, T - len(keys)

    def slots(self, pad_slots):
        """The new tokens' slots (each at its key's page and offset); then the
        padding tokens' slots (negative: skipped)."""
        def make(shape, device):
            keys, pad = self._new_tokens(shape[0])
            if pad != len(pad_slots):
                raise ValueError(f"{pad} padding tokens, {len(pad_slots)} padding slots")
            real = [self.table[b][j // self.page] * self.page + j % self.page for b, j in keys]
            return self._tensor(real + list(pad_slots), shape, device)
        return make

    def positions(self, shape, device):
        """The new tokens' positions (their key indices); padding tokens at
        position 0."""
        keys, pad = self._new_tokens(shape[0])
        return self._tensor([j for _, j in keys] + [0] * pad, shape, device)

    def specials(self, **extra):
        out = {"%q_offsets": self.q_offsets, "%kv_lens": self.kv_lens, "%block_table": self.block_table}
        out.update(extra)
        return out


_decode_vllm = PagedBatch(n_q=[1, 1, 1, 1], kv_lens=[37, 200, 1, 129], page=16, P=32, max_pages=13, seed=1)
_chunked = PagedBatch(n_q=[5, 0, 1, 12], kv_lens=[70, 20, 33, 12], page=16, P=16, max_pages=5, seed=2,
                      unused=None)
_softcap_dv = PagedBatch(n_q=[3, 7], kv_lens=[100, 7], page=32, P=8, max_pages=4, seed=3, unused=None)
_decode_step = PagedBatch(n_q=[1, 1, 1], kv_lens=[45, 17, 60], page=8, P=24, max_pages=8, seed=4)
_llama_prefill = PagedBatch(n_q=[20, 17, 9], kv_lens=[20, 17, 9], page=16, P=16, max_pages=4, seed=6)
_llama_decode = PagedBatch(n_q=[1, 1, 1], kv_lens=[21, 40, 100], page=16, P=12, max_pages=8, seed=7)
_paged_b8 = PagedBatch(n_q=[1] * 8, kv_lens=[4096] * 8, page=16, P=2048, max_pages=256, seed=8)
_lengths_8192 = PagedBatch(n_q=[1, 15, 1, 5, 1, 16], kv_lens=[1, 15, 16, 17, 1000, 8192], page=16, P=584,
                           max_pages=513, seed=5)

def _hostile_table(shape, device):
    """The block table of paged_decode_hostile: sequence 0 (37 keys, 3
    pages) has page -7 second, sequence 1 (kv_lens 5000, clamped to all 13
    pages) has P + 5 and 2^30 among them, sequence 2 (no keys) garbage,
    sequence 3 (100 keys, 7 pages) valid; the rest distinct valid pages."""
    perm = torch.randperm(32, generator=torch.Generator().manual_seed(9)).tolist()
    rows = [[perm[0], -7, perm[1]] + [-1] * 10,
            perm[2:6] + [37] + perm[6:10] + [1 << 30] + perm[10:13],
            [99, -99] + [1 << 30] * 11,
            perm[13:20] + [-1] * 6]
    return PagedBatch._tensor(rows, shape, device)


_hostile = {"%q_offsets": lambda shape, device: PagedBatch._tensor([0, 1, 2, 4, 5], shape, device),
            "%kv_lens": lambda shape, device: PagedBatch._tensor([37, 5000, -3, 100], shape, device),
            "%block_table": _hostile_table}

def _steep_gates(shape, device):
    """Log-gates in [-0.5, 0) with about 3% of them -100 (a key dimension
    forgotten at once): the chunked linear-attention kernel's 16-row blocks
    that hold one take its term-by-term diagonal, where the factored form's
    factors would overflow (ChunkedLinearAttentionKernel.cpp)."""
    gen = torch.Generator(device="cpu").manual_seed(1234)
    g = torch.rand(shape, generator=gen, dtype=torch.float64) * -0.5
    spikes = torch.rand(shape, generator=gen, dtype=torch.float64) < 0.03
    return torch.where(spikes, torch.full_like(g, -100.0), g).to(device)


# Calls that a CPU module must refuse (its index checks, docs/abi.md) while
# a GPU module, which does not check, must compute what the op defines for
# such indices: "module:entry" -> a regex of the CPU module's message.
CPU_REFUSES = {
    "case_paged_attention:paged_decode_hostile": r"paged_attention .*kv_lens\[1\] = 5000",
}

# Special inputs of the correctness checks, per "module:entry": {argument
# (index or name): fn(shape, device)}, as the timing cases' "special".
CHECK_SPECIAL = {
    "case_paged_attention:paged_decode_vllm": _decode_vllm.specials(),
    "case_paged_attention:paged_decode_lse": _decode_vllm.specials(),
    "case_paged_attention:paged_chunked_prefill": _chunked.specials(),
    "case_paged_attention:paged_softcap_dv": _softcap_dv.specials(),
    "case_paged_llama:paged_llama_prefill": _llama_prefill.specials(
        **{"%slots": _llama_prefill.slots([-1, -1]), "%positions": _llama_prefill.positions}),
    "case_paged_llama:paged_llama_decode": _llama_decode.specials(
        **{"%slots": _llama_decode.slots([-1]), "%positions": _llama_decode.positions}),
    "case_paged_attention:paged_lengths_8192": _lengths_8192.specials(),
    "case_paged_attention:paged_lengths_8192_streaming": _lengths_8192.specials(),
    "case_paged_attention:paged_decode_hostile": _hostile,
    "case_linear_attention_chunked:lac_gatek_steep_bf16": {"%g": _steep_gates},
    "case_paged_attention:paged_decode_step": _decode_step.specials(
        **{"%slots": _decode_step.slots([-1, -100]), "%positions": _decode_step.positions}),
}


def special_of(specials, func, index):
    """The special generator of argument `index`, by index or by name."""
    return specials.get(index, specials.get(func.arg_names[index]))


def concrete_shape_sets(func, dims_table):
    """The argument shape sets to run: the static shapes, or the sets that
    dims.json lists for an entry with dynamic dims (checked against the
    signature)."""
    types = func.arg_types
    if all(d is not None for t in types for d in t.dims):
        return [[list(t.dims) for t in types]]
    sets = dims_table.get(func.name)
    if not sets:
        raise ValueError(f"@{func.name} has dynamic dims and no entry in dims.json")
    for s in sets:
        if len(s) != len(types):
            raise ValueError(f"dims.json @{func.name}: {len(s)} shapes for {len(types)} arguments")
        for shape, t in zip(s, types):
            if len(shape) != len(t.dims) or any(d is not None and d != x for d, x in zip(t.dims, shape)):
                raise ValueError(f"dims.json @{func.name}: {shape} does not fit {t}")
    return sets


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def compare(elem, out, want, note=None, scale=1.0):
    """(passed, message) for one result."""
    if tuple(out.shape) != tuple(want.shape):
        return False, f"shape {list(out.shape)} != reference {list(want.shape)}"
    n = out.numel()
    if n == 0:
        return True, "empty"
    if elem == "i1":
        bad = out != want
        nbad = int(bad.sum())
        if note and note[0] == "ambiguous_rows" and nbad:
            amb = note[1].to(bad.device)[..., None].expand_as(bad)
            forgiven = int((bad & amb).sum())
            hard = nbad - forgiven
            return hard == 0, f"{nbad} of {n} differ ({forgiven} in near-tie rows)"
        return nbad == 0, f"{nbad} of {n} differ (true: {int(want.sum())} ref, {int(out.sum())} out)"
    if elem in ("i4", "i8", "i32", "i64"):
        d = (out - want).abs()
        nbad, dmax = int((d > 0).sum()), int(d.max())
        ok = dmax <= 1 and nbad <= TIE_FRACTION * n
        return ok, f"{nbad} of {n} differ, max |d| {dmax}"
    out, want = out.to(torch.float64), want.to(torch.float64)
    # A log-sum-exp is -inf on rows without a visible key: exactly there,
    # and the rest is compared as usual.
    neg_inf = want == -math.inf
    if bool(neg_inf.any()):
        if not bool((out[neg_inf] == -math.inf).all()):
            return False, f"{int((out[neg_inf] != -math.inf).sum())} of {int(neg_inf.sum())} -inf rows differ"
        if bool((out[~neg_inf] == -math.inf).any()):
            return False, f"{int((out[~neg_inf] == -math.inf).sum())} unexpected -inf values"
        if bool(neg_inf.all()):
            return True, "all -inf"
        out, want = out[~neg_inf], want[~neg_inf]
        n = out.numel()
    if not bool(torch.isfinite(out).all()):
        nn = int((~torch.isfinite(out)).sum())
        return False, f"{nn} non-finite values"
    d = (out - want).abs()
    norm = float(torch.linalg.vector_norm(want))
    rel = float(torch.linalg.vector_norm(out - want)) / norm if norm > 0 else float(torch.linalg.vector_norm(out))
    if elem == "f8E4M3FN":
        step = torch.maximum(0.125 * want.abs(), torch.full_like(want, 2.0 ** -9))
        nbad = int((d > 0).sum())
        ok = bool((d <= step * 1.0001).all()) and nbad <= TIE_FRACTION * n
        return ok, f"rel {rel:.2e}, {nbad} of {n} differ by <= one f8 step"
    tol, (a, r) = FLOAT_TOL[elem]
    tol, a, r = tol * scale, a * scale, r * scale
    rms = norm / math.sqrt(n)
    viol = d > a * rms + r * want.abs()
    nviol = int(viol.sum())
    ok = rel <= tol and nviol == 0
    return ok, f"rel {rel:.2e} (tol {tol:.0e}), max|d| {float(d.max()):.2e}, rms(ref) {rms:.2e}, {nviol} elems over bound"


# Looser bounds for whole blocks, whose bf16 intermediates are each rounded
# (the reference rounds them too, but a 1-ulp difference early propagates).
TOL_SCALE = {}

# f32 results computed from 16-bit inputs through 16-bit tensor-core
# operands, per module or per entry (MODULE:ENTRY, looked up first): the
# chunked linear-attention kernel's final state, S = exp(G) S + K^T (V * w)
# with V * w (or the delta rule's U) rounded to the element type (as
# flash-linear-attention rounds them), about 1e-3 relative. The 16-bit
# results of the same cases keep their own bound.
F32_FROM_16BIT_TOL_SCALE = {"case_linear_attention_chunked": 300.0,
                            # The delta rule's state from bf16 data: U =
                            # (I + L)^-1 R with R, L, the inverted diagonal
                            # blocks and U rounded to bf16 (as
                            # chunk_gated_delta_rule rounds them), 2.2e-3 to
                            # 2.9e-3 measured on an H100: the bf16 outputs'
                            # bound (the recurrent module's f32 cases run the
                            # f32 token-by-token kernel and keep 1e-5).
                            "case_linear_attention_recurrent:lar_gated_delta_bf16": 1000.0,
                            "case_linear_attention_chunked:lac_delta_gate_states_bf16": 1000.0,
                            "case_linear_attention_chunked:lac_delta_slice64_bf16": 1000.0,
                            "case_linear_attention_chunked:lac_dyn_delta_bf16": 1000.0,
                            "case_linear_attention_chunked:lac_kda_states_bf16": 1000.0,
                            "case_linear_attention_chunked:lac_kda_dk128_bf16": 1000.0,
                            # f16 KDA on the chunked kernel (3e-4 measured
                            # for f16 delta-rule states)
                            "case_linear_attention_recurrent:lar_kda_f16": 300.0,
                            # the hybrid block's states are computed from
                            # bf16 activations (measured 2.8e-3 on the CPU)
                            "example_hybrid_block": 1000.0, "unfused_hybrid_block": 1000.0}


# ---------------------------------------------------------------------------
# Correctness checks
# ---------------------------------------------------------------------------

class Checker:
    """Runs the correctness checks of one module inside a worker."""

    def __init__(self, rt, device, args, dims_table):
        self.rt, self.device, self.args, self.dims_table = rt, device, args, dims_table
        self.torch_device = "cuda" if device == loomrt.LOOM_DEVICE_CUDA else "cpu"
        self.records = []

    def record(self, ok, case, shapes, msg):
        log(f"{'PASS' if ok else 'FAIL'} {case} [{shapes}] {msg}")
        self.records.append({"ok": ok, "case": case, "shapes": shapes, "message": msg})

    def check_module(self, name):
        src = os.path.join(HERE, "sources", name + ".mlir")
        try:
            funcs = ref.parse_module(open(src).read())
        except Exception as e:
            self.record(False, name, "-", f"cannot read {os.path.basename(src)}: {e}")
            return
        selected = [f for f in funcs.values() if not self.args.only or re.search(self.args.only, f"{name}:{f.name}")]
        lib = os.path.join(HERE, "modules", name + ".so")
        if not os.path.exists(lib):
            for f in selected:
                self.record(False, f"{name}:{f.name}", "-", "module not compiled (see compile.log)")
            return
        try:
            module = self.rt.load(lib, self.device)
        except Exception as e:
            for f in selected:
                self.record(False, f"{name}:{f.name}", "-", str(e))
            return
        try:
            for f in selected:
                self.check_entry(name, module, f)
        finally:
            module.unload()

    def check_entry(self, module_name, module, func):
        case = f"{module_name}:{func.name}"
        entry = module.entries.get(func.name)
        if entry is None:
            self.record(False, case, "-", f"no entry {func.name} in the module ({', '.join(module.entries)})")
            return
        try:
            sets = concrete_shape_sets(func, self.dims_table)
        except Exception as e:
            self.record(False, case, "-", str(e))
            return
        for si, shapes in enumerate(sets):
            shape_text = ", ".join(f"{fmt_shape(s)}x{t.elem}" for s, t in zip(shapes, func.arg_types))
            try:
                self.check_once(case, entry, func, shapes, si, shape_text)
            except Exception as e:
                self.record(False, case, shape_text, f"{type(e).__name__}: {e}")
                if self.args.verbose:
                    log(traceback.format_exc())
                if not device_alive(self.device):
                    raise DeviceLost(f"the CUDA context is unusable after {case}")

    def check_once(self, case, entry, func, shapes, si, shape_text):
        seed = (zlib.crc32(f"{func.name}:{si}".encode()) ^ self.args.seed) & 0x7FFFFFFF
        gen = torch.Generator().manual_seed(seed)
        elems = [t.elem for t in func.arg_types]
        special = CHECK_SPECIAL.get(case, {})
        values = []
        for i, (elem, shape) in enumerate(zip(elems, shapes)):
            v = make_value(func, i, elem, shape, gen, special=special_of(special, func, i))
            if elem in ref.TORCH_FLOAT:
                v = ref.round_to(v, elem)  # the exact values Loom receives
            values.append(v)
        stored = [loomrt.encode(e, v).to(self.torch_device) for e, v in zip(elems, values)]
        if self.torch_device == "cuda":
            torch.cuda.synchronize()  # Loom's stream does not wait for torch's
        refusal = CPU_REFUSES.get(case) if self.torch_device == "cpu" else None
        bufs = []
        try:
            for elem, shape, st in zip(elems, shapes, stored):
                bufs.append(self.rt.buffer_from(self.device, elem, shape, st))
            t0 = time.perf_counter()
            try:
                results = entry.call(bufs)
            except loomrt.LoomError as e:
                if refusal and re.search(refusal, str(e)):
                    self.record(True, case, shape_text, f"refused as expected: {e}")
                    return
                raise
            call_ms = (time.perf_counter() - t0) * 1e3
        finally:
            for b in bufs:
                self.rt.destroy(b)
        if refusal:
            for b in results:
                self.rt.destroy(b)
            self.record(False, case, shape_text, f"the CPU module did not refuse the call ({refusal})")
            return
        outs = []
        try:
            for (elem, _), buf in zip(entry.result_types, results):
                outs.append(loomrt.decode(elem, self.rt.to_host(buf, elem)))
        finally:
            for b in results:
                self.rt.destroy(b)
        wants, notes = func.evaluate(values)
        if len(wants) != len(outs):
            self.record(False, case, shape_text, f"{len(outs)} results, reference has {len(wants)}")
            return
        msgs, ok_all = [], True
        for ri, (out, want, t) in enumerate(zip(outs, wants, func.result_types)):
            module_name = case.split(":")[0]
            scale = TOL_SCALE.get(module_name, 1.0)
            if t.elem == "f32":
                scale *= F32_FROM_16BIT_TOL_SCALE.get(
                    case, F32_FROM_16BIT_TOL_SCALE.get(module_name, 1.0))
            ok, msg = compare(t.elem, out, want, notes.get(ri), scale)
            ok_all &= ok
            msgs.append(f"r{ri} {fmt_shape(out.shape)}x{t.elem}: {msg}")
        self.record(ok_all, case, shape_text, "; ".join(msgs) + f" ({call_ms:.1f} ms)")


class DeviceLost(Exception):
    """The CUDA context cannot be used any more (a kernel fault is sticky)."""


def device_alive(device):
    if device != loomrt.LOOM_DEVICE_CUDA:
        return True
    try:
        x = torch.ones(16, device="cuda") + 1
        torch.cuda.synchronize()
        return float(x.sum()) == 32.0
    except Exception:
        return False


def check_modules():
    """Names of the correctness modules (every source but timing_*)."""
    names = [os.path.splitext(os.path.basename(p))[0] for p in sorted(glob.glob(os.path.join(HERE, "sources", "*.mlir")))]
    return [n for n in names if not n.startswith("timing_")]


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

B, H, S, D = 4, 16, 4096, 128
ATTN_FLOPS = 4 * B * H * S * S * D
BAND = 4  # local 512 with blocks of 128
_band_blocks = S // 128
_band_density = float(((torch.arange(_band_blocks)[:, None] - torch.arange(_band_blocks)[None, :]).abs() <= BAND)
                      .float().mean())


# Decode GEMV schedules compiled besides the default one: bench/build.sh's
# gemv_schedules (--tiles=gemv:WARPSxTILESxUNROLLxDEPTH), read back from the
# names of the sources it copied (timing_gemv_W_T_U_D_w4a16.mlir).
GEMV_SCHEDULES = [os.path.basename(p)[len("timing_gemv_"):-len("_w4a16.mlir")].replace("_", "x")
                  for p in sorted(glob.glob(os.path.join(HERE, "sources", "timing_gemv_*_w4a16.mlir")))]


def _w4a16(M, N=8192, K=8192, g=128, registers=False, gemv=None, tile=None):
    # registers: the same entry compiled with --tiles=w4a16:registers; gemv:
    # with --tiles=gemv:<gemv>; tile: with --tiles=w4a16:<tile>.
    module, key, how = "timing_w4a16", {}, ""
    if registers:
        module, key, how = "timing_w4regs_w4a16", {"key": f"w4regs:t_w4a16_m{M}"}, " (weights in registers)"
    elif tile:
        module = f"timing_w4tile_{tile}_w4a16"
        key, how = {"key": f"w4tile:{tile}:t_w4a16_m{M}"}, f" (weights in registers, tile {tile})"
    elif gemv:
        module = f"timing_gemv_{gemv.replace('x', '_')}_w4a16"
        key, how = {"key": f"gemv:{gemv}:t_w4a16_m{M}"}, f" (GEMV schedule {gemv})"
    return {
        "module": module, "entry": f"t_w4a16_m{M}", **key,
        "work": f"W4A16 linear M={M}" + how,
        "shapes": f"M={M} N=K={N} g={g}, i4 x bf16",
        "flops": 2 * M * N * K, "rate": BF16_FLOPS,
        "bytes": N * K // 2 + N * (K // g) * 4 + M * K * 2 + M * N * 2,
        "peers": ("w4a16", M), "peer_keys": None,
    }


def _llama_gemm(entry, work, M, N, K, residual):
    return {
        "module": "timing_llama_gemms", "entry": entry, "work": work,
        "shapes": f"M={M} N={N} K={K} bf16" + (", + residual" if residual else ""),
        "flops": 2 * M * N * K, "rate": BF16_FLOPS,
        "bytes": (M * K + N * K + M * N * (2 if residual else 1)) * 2,
        "peers": ("gemm", M, N, K, residual), "peer_keys": None,
    }


# The Llama layer's GEMM launches (timing/llama_gemms.mlir).
_LLAMA_GEMMS = [
    ("t_llama_qkv", "Llama QKV (3 siblings)", 2048, 3072, 2048, False),
    ("t_llama_o_proj", "Llama o_proj + residual", 2048, 2048, 2048, True),
    ("t_llama_gate_up", "Llama gate/up + SiLU*up", 2048, 11264, 2048, False),
    ("t_llama_down", "Llama down + residual", 2048, 2048, 5632, True),
]


def _decode(Bd, Skv, Hq=32, Hkv=8, Dd=128, entry=None, work="decode attention", read=None, peer_skv=None):
    # The floor is the cache read (peers.decode_attention_peers); the FLOPs
    # of one token are 4 * Hq * Skv * D a sequence. `read`: the keys a
    # sequence reads (a window's), `peer_skv`: the peers' cache length.
    read = read or Skv
    return {
        "module": "timing_decode_attention", "entry": entry or f"t_decode_b{Bd}", "work": work,
        "shapes": f"B{Bd} Hq{Hq} Hkv{Hkv} Skv{Skv} D{Dd} bf16, Sq 1",
        "flops": 4 * Bd * Hq * read * Dd, "rate": BF16_FLOPS,
        "bytes": 2 * Bd * Hkv * read * Dd * 2 + 2 * Bd * Hq * Dd * 2,
        "peers": ("decode", Bd, peer_skv or Skv), "peer_keys": None,
    }


TIMING = [
    {"module": "timing_attention", "entry": "t_attn", "work": "attention fwd",
     "shapes": f"B{B} H{H} S{S} D{D} bf16", "flops": ATTN_FLOPS, "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * D * 2, "peers": ("attention", False), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_causal", "work": "attention fwd causal",
     "shapes": f"B{B} H{H} S{S} D{D} bf16", "flops": ATTN_FLOPS // 2, "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * D * 2, "peers": ("attention", True), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_d64", "work": "attention fwd, D 64",
     "shapes": f"B{B} H{H} S{S} D64 bf16", "flops": ATTN_FLOPS // 2, "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * 64 * 2, "peers": ("attention", False, 64), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_d96", "work": "attention fwd, D 96",
     "shapes": f"B{B} H{H} S{S} D96 bf16", "flops": ATTN_FLOPS * 3 // 4, "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * 96 * 2, "peers": ("attention", False, 96), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_d256", "work": "attention fwd, D 256",
     "shapes": f"B{B} H{H} S{S} D256 bf16", "flops": ATTN_FLOPS * 2, "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * 256 * 2, "peers": ("attention", False, 256), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_causal_32k", "work": "attention fwd causal, 32k",
     "shapes": "B1 H32 S32768 D128 bf16", "flops": 2 * 32 * 32768 ** 2 * 128, "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 32768 * 128 * 2, "peers": ("streaming", None), "peer_keys": None},
    {"module": "timing_attention", "entry": "t_attn_sink_window_32k", "work": "attention, 4 sinks + window 1024",
     "shapes": "B1 H32 S32768 D128 bf16", "flops": 4 * 32 * 32768 * 1028 * 128, "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 32768 * 128 * 2, "peers": ("streaming", (4, 1024)), "peer_keys": None},
    {"module": "timing_block_sparse", "entry": "t_bsa_local512", "work": "block-sparse attention, local 512",
     "shapes": f"B{B} H{H} S{S} D{D} bf16, blocks 128, density {_band_density:.3f}",
     "flops": int(ATTN_FLOPS * _band_density), "rate": BF16_FLOPS, "bytes": 4 * B * H * S * D * 2,
     "peers": ("block_sparse",), "peer_keys": None, "special": {3: band_layout(BAND)}},
    _w4a16(1), _w4a16(16), _w4a16(128), _w4a16(256), _w4a16(1024),
    *[_w4a16(M, registers=True) for M in (128, 256, 1024)],
    *[_w4a16(M, tile="2x256") for M in (256, 1024)],
    *[_w4a16(M, gemv=sched) for sched in GEMV_SCHEDULES for M in (1, 16)],
    *[_llama_gemm(*g) for g in _LLAMA_GEMMS],
    {"module": "timing_qmatmul", "entry": "t_int8_gemm", "work": "W8A8 int8 GEMM",
     "shapes": "8192^3 i8 -> bf16", "flops": 2 * 8192 ** 3, "rate": INT8_FP8_FLOPS,
     "bytes": 2 * 8192 * 8192 + 8192 * 8192 * 2, "peers": ("int8_fp8",), "peer_keys": ["int8_int_mm", "bf16_cublas"]},
    {"module": "timing_qmatmul", "entry": "t_fp8_gemm", "work": "FP8 GEMM",
     "shapes": "8192^3 f8E4M3FN -> bf16", "flops": 2 * 8192 ** 3, "rate": INT8_FP8_FLOPS,
     "bytes": 2 * 8192 * 8192 + 8192 * 8192 * 2, "peers": ("int8_fp8",), "peer_keys": ["fp8_scaled_mm", "bf16_cublas"]},
    {"module": "timing_linear", "entry": "t_linear_bf16", "work": "linear bf16",
     "shapes": "4096^3 bf16", "flops": 2 * 4096 ** 3, "rate": BF16_FLOPS,
     "bytes": 3 * 4096 * 4096 * 2, "peers": ("linear", 4096), "peer_keys": None},
    {"module": "timing_linear", "entry": "t_linear_bf16_8192", "work": "linear bf16",
     "shapes": "8192^3 bf16", "flops": 2 * 8192 ** 3, "rate": BF16_FLOPS,
     "bytes": 3 * 8192 * 8192 * 2, "peers": ("linear", 8192), "peer_keys": None},
    {"module": "timing_memory_bound", "entry": "t_rms_norm", "work": "RMSNorm",
     "shapes": "16384x8192 bf16", "flops": 0, "rate": BF16_FLOPS,
     "bytes": 2 * 16384 * 8192 * 2 + 8192 * 2, "peers": ("rms_norm",), "peer_keys": None},
    {"module": "timing_memory_bound", "entry": "t_rope_half", "work": "RoPE half",
     "shapes": "4x32x4096x128 bf16", "flops": 0, "rate": BF16_FLOPS,
     "bytes": 2 * 4 * 32 * 4096 * 128 * 2 + 2 * 4096 * 64 * 4, "peers": ("rope",), "peer_keys": None},
    *[_decode(Bd, Skv) for Bd, Skv in ((1, 8192), (8, 4096), (32, 2048))],
    # StreamingLLM decode: dense causal over 32k keys, then 4 sinks + a
    # window of 1024 over the same cache (the peers on the 1028 keys it
    # sees: what an ideal kernel reads).
    dict(_decode(8, 4096, entry="t_paged_decode_b8", work="paged decode attention, pages of 16"),
         module="timing_paged", shapes="B8 Hq32 Hkv8 kv_len 4096 D128 bf16, Sq 1, pages of 16",
         special=_paged_b8.specials()),
    _decode(1, 32768, entry="t_decode_causal_32k", work="decode attention causal, 32k"),
    _decode(1, 32768, entry="t_decode_sink_window_32k", work="decode, 4 sinks + window 1024",
            read=1028, peer_skv=1028),
    {"module": "timing_linear_attention", "entry": "t_linear_attention", "work": "linear attention causal, decay",
     "shapes": f"B{B} H{H} S{S} D{D} bf16",
     # chunked form (chunks of 64): intra-chunk products plus the D x D state update per token
     "flops": 4 * B * H * S * D * (64 + D), "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * D * 2, "peers": ("linear_attention",), "peer_keys": None},
    # A log-gate per head and token (the peer's form: chunk_simple_gla).
    {"module": "timing_linear_attention", "entry": "t_linear_attention_gate", "work": "linear attention causal, gate per head",
     "shapes": f"B{B} H{H} S{S} D{D} bf16, f32 gate",
     "flops": 4 * B * H * S * D * (64 + D), "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * D * 2 + B * H * S * 4, "peers": ("linear_attention",), "peer_keys": None},
    {"module": "timing_linear_attention", "entry": "t_linear_attention_gate_h32", "work": "linear attention causal, gate per head",
     "shapes": "B1 H32 S8192 D128 bf16, f32 gate",
     "flops": 4 * 32 * 8192 * 128 * (64 + 128), "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 8192 * 128 * 2 + 32 * 8192 * 4, "peers": ("gated_linear_attention", 1, 32, 8192, 128),
     "peer_keys": None},
    # A log-gate per key dimension and token (GLA: chunk_gla is the peer).
    {"module": "timing_linear_attention", "entry": "t_linear_attention_gatek", "work": "linear attention causal, gate per key dim",
     "shapes": f"B{B} H{H} S{S} D{D} bf16, f32 gate [B,H,S,D]",
     "flops": 4 * B * H * S * D * (64 + D), "rate": BF16_FLOPS,
     "bytes": 4 * B * H * S * D * 2 + B * H * S * D * 4, "peers": ("gated_linear_attention", B, H, S, D),
     "peer_keys": None},
    {"module": "timing_linear_attention", "entry": "t_linear_attention_gatek_h32", "work": "linear attention causal, gate per key dim",
     "shapes": "B1 H32 S8192 D128 bf16, f32 gate [B,H,S,D]",
     "flops": 4 * 32 * 8192 * 128 * (64 + 128), "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 8192 * 128 * 2 + 32 * 8192 * 128 * 4, "peers": ("gated_linear_attention", 1, 32, 8192, 128),
     "peer_keys": None},
    # The delta rule with a gate per head (Gated DeltaNet: chunk_gated_delta_rule is the peer).
    {"module": "timing_linear_attention", "entry": "t_linear_attention_delta_h32", "work": "linear attention causal, delta rule, gate per head",
     "shapes": "B1 H32 S8192 D128 bf16, f32 gate, bf16 beta",
     "flops": 4 * 32 * 8192 * 128 * (64 + 2 * 128), "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 8192 * 128 * 2 + 32 * 8192 * 6, "peers": ("gated_linear_attention", 1, 32, 8192, 128),
     "peer_keys": None},
    # The delta rule with a gate per key dimension (KDA: chunk_kda is the peer).
    {"module": "timing_linear_attention", "entry": "t_linear_attention_kda_h32", "work": "linear attention causal, delta rule, gate per key dim",
     "shapes": "B1 H32 S8192 D128 bf16, f32 gate [B,H,S,D], bf16 beta",
     "flops": 4 * 32 * 8192 * 128 * (64 + 2 * 128), "rate": BF16_FLOPS,
     "bytes": 4 * 32 * 8192 * 128 * 2 + 32 * 8192 * 128 * 4 + 32 * 8192 * 2, "peers": ("kda", 1, 32, 8192, 128),
     "peer_keys": None},
    # One decode step through the state: the floor is the f32 state read
    # and written (the peers have no single-step kernel timed here).
    {"module": "timing_linear_attention", "entry": "t_linear_attention_decode", "work": "linear attention decode step, state in and out",
     "shapes": "B8 H32 Sq1 D128 bf16, f32 state",
     "flops": 4 * 8 * 32 * 128 * 128, "rate": BF16_FLOPS,
     "bytes": 2 * 8 * 32 * 128 * 128 * 4, "peers": None, "peer_keys": None},
]

# The example blocks with and without fusion groups (bench/build.sh compiles
# examples/*.mlir twice: example_* as usual, unfused_* with --no-fusion).
# Launch-bound at these sizes: the floor is the matrix work of the
# projections and attention and the bytes a fused kernel must move
# (loom-compile's report), so the interesting figures are the kernel time
# and the call time, fused against op by op.
_MIB = 1 << 20
_BLOCKS = [
    # name, shapes, FLOPs, bytes moved fused (loom-compile's report)
    ("llama_block", "S128 hidden 512 Hq8 Hkv2 D64, W4A16, SwiGLU 1408",
     2 * 128 * (2 * 512 * 512 + 2 * 128 * 512 + 3 * 1408 * 512) + 2 * 8 * 128 * 128 * 64, int(3.52 * _MIB)),
    ("long_context_block", "S1024 hidden 512 Hq8 Hkv2 D64 bf16, top-4 of 16 blocks",
     2 * 1024 * (2 * 512 * 512 + 2 * 128 * 512 + 3 * 1408 * 512) + 4 * 8 * 1024 * 5 * 64 * 64, int(23.63 * _MIB)),
    ("poolformer_block", "1x16x16x64 f32, MLP 256",
     2 * 256 * (2 * 256 * 64), int(0.94 * _MIB)),
    ("linear_attention_block", "1x256x256 f32, H4 D64",
     2 * 256 * 4 * 256 * 256 + 4 * 4 * 256 * 64 * 128, int(3.76 * _MIB)),
]
for _name, _shapes, _flops, _bytes in _BLOCKS:
    _variants = [("unfused", "op by op"), ("example", "fused")]
    if _name == "llama_block":  # bench/build.sh: --tiles=w4a16:registers
        _variants.append(("w4regs", "fused, W4A16 weights in registers"))
    for _prefix, _how in _variants:
        TIMING.append({"module": f"{_prefix}_{_name}", "entry": _name, "key": f"{_prefix}:{_name}",
                       "work": f"{_name} ({_how})", "shapes": _shapes, "flops": _flops,
                       "rate": BF16_FLOPS, "bytes": _bytes, "peers": None, "peer_keys": None})


# The hybrid block (examples/hybrid_block.mlir): its entries are named for
# the phase, not the block. FLOPs: the projections, and the two linear-
# attention layers counted as the gated timing cases count them; bytes moved
# fused from loom-compile's report.
for _prefix, _how in (("unfused", "op by op"), ("example", "fused")):
    for _entry, _s, _mib in (("hybrid_prefill", 200, 6.47), ("hybrid_decode", 1, 2.28)):
        TIMING.append({"module": f"{_prefix}_hybrid_block", "entry": _entry, "key": f"{_prefix}:{_entry}",
                       "work": f"hybrid_block {_entry[7:]} ({_how})",
                       "shapes": f"S{_s} hidden 256 H4 D64 bf16, GLA + Gated DeltaNet + SwiGLU 512, f32 states",
                       "flops": 2 * _s * (10 * 256 * 256 + 2 * 4 * 256 + 3 * 512 * 256)
                       + 2 * 4 * 4 * _s * 64 * (64 + 64),
                       "rate": BF16_FLOPS, "bytes": int(_mib * _MIB), "peers": None, "peer_keys": None})


def _key(case):
    """A timing case's name: its entry, or its key where entries repeat."""
    return case.get("key", case["entry"])


class Peers:
    """peers.py's functions, each called once per shape and cached."""

    def __init__(self):
        import peers  # noqa: F401  (needs CUDA)
        self.p = peers
        self.cache = {}
        log(f"peers: device {torch.cuda.get_device_name(0)}, torch {torch.__version__}")

    def sdpa_only(self, causal, d=D):
        from torch.nn.attention import SDPBackend, sdpa_kernel
        q, k, v = (torch.randn(B, H, S, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        out = {}
        for name, be in [("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION), ("sdpa_flash2", SDPBackend.FLASH_ATTENTION)]:
            try:
                with sdpa_kernel([be]):
                    out[name] = self.p.time_ms(
                        lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal))
            except RuntimeError as e:
                out[name] = f"{type(e).__name__}: {str(e)[:60]}"
        return out

    def get(self, spec):
        if spec in self.cache:
            return self.cache[spec]
        p, kind = self.p, spec[0]
        try:
            if kind == "attention":
                d = spec[2] if len(spec) > 2 else D
                try:
                    r = p.attention_peers(B, H, H, S, d, causal=spec[1])
                except Exception as e:  # FlexAttention's compile failed: keep the SDPA backends
                    r = self.sdpa_only(spec[1], d)
                    r["flex"] = f"{type(e).__name__}: {str(e)[:60]}"
            elif kind == "block_sparse":
                nb = S // 128
                idx = torch.arange(nb)
                lay = ((idx[:, None] - idx[None, :]).abs() <= BAND)[None]
                r = p.block_sparse_peers(B, H, S, D, lay, block=128)
            elif kind == "w4a16":
                r = p.w4a16_peers(spec[1], 8192, 8192)
            elif kind == "int8_fp8":
                r = p.int8_fp8_peers(8192, 8192, 8192)
            elif kind == "linear":
                n = spec[1]
                x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
                w = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
                r = {"bf16_cublas": p.time_ms(lambda: x @ w.t())}
            elif kind == "gemm":
                # cuBLAS on the same M, N, K (bf16, w [N, K] as torch's
                # Linear stores it); with a residual, addmm (one call, beta
                # 1), as torch.compile's Llama layer calls it. A gated pair
                # is timed as one product of width N (its SiLU and product
                # not included: a lower bound for the peer).
                _, m, n, k, residual = spec
                x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
                w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
                if residual:
                    res = torch.randn(m, n, device="cuda", dtype=torch.bfloat16)
                    r = {"bf16_cublas": p.time_ms(lambda: torch.addmm(res, x, w.t()))}
                else:
                    r = {"bf16_cublas": p.time_ms(lambda: x @ w.t())}
                del x, w
            elif kind == "rms_norm":
                x = torch.randn(16384, 8192, device="cuda", dtype=torch.bfloat16)
                g = torch.randn(8192, device="cuda", dtype=torch.bfloat16)
                r = {"torch_copy": p.time_ms(lambda: x.clone())}
                if hasattr(torch.nn.functional, "rms_norm"):
                    r["torch_rms_norm"] = p.time_ms(lambda: torch.nn.functional.rms_norm(x, (8192,), g, 1e-6))
            elif kind == "rope":
                x = torch.randn(4, 32, 4096, 128, device="cuda", dtype=torch.bfloat16)
                c = torch.randn(4096, 64, device="cuda")
                s = torch.randn(4096, 64, device="cuda")

                def rope_eager():
                    x1, x2 = x[..., :64].float(), x[..., 64:].float()
                    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1).to(torch.bfloat16)
                r = {"torch_copy": p.time_ms(lambda: x.clone()), "torch_eager": p.time_ms(rope_eager)}
            elif kind == "streaming":
                # B1 H32 S32768 D128 bf16: dense causal (cuDNN, flex), or 4
                # sinks and a window (flex with that block mask).
                Sl = 32768
                q, k, v = (torch.randn(1, 32, Sl, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
                if spec[1] is None:
                    from torch.nn.attention import SDPBackend, sdpa_kernel
                    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                        r = {"sdpa_cudnn": p.time_ms(
                            lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True))}
                    r["flex"] = p.flex_attention_ms(q, k, v, lambda b, h, i, j: j <= i)
                else:
                    sink, win = spec[1]
                    r = {"flex": p.flex_attention_ms(
                        q, k, v, lambda b, h, i, j: (j <= i) & ((j > i - win) | (j < sink)))}
                del q, k, v
            elif kind == "decode":
                r = p.decode_attention_peers(spec[1], 32, 8, spec[2], 128)
            elif kind == "linear_attention":
                r = p.linear_attention_peers(B, H, S, D)
            elif kind == "gated_linear_attention":
                r = p.gated_linear_attention_peers(*spec[1:])
            elif kind == "kda":
                r = kda_peer(p, *spec[1:])
            else:
                r = {}
        except Exception as e:  # a peer that fails is reported, not fatal
            r = {"error": f"{type(e).__name__}: {str(e)[:80]}"}
        torch.cuda.empty_cache()
        self.cache[spec] = r
        return r


def kda_peer(p, B, H, S, D):
    """flash-linear-attention's chunk_kda (the delta rule with a log-gate per
    key dimension; q, k, v as [B, S, H, D], keys L2-normalized as Kimi
    Linear's), when installed; inputs drawn as gated_linear_attention_peers
    draws them."""
    try:
        from fla.ops.kda import chunk_kda
    except ImportError:
        return {}
    F = torch.nn.functional
    q = torch.randn(B, S, H, D, device="cuda", dtype=torch.bfloat16)
    k = F.normalize(torch.randn_like(q), dim=-1)
    v = torch.randn_like(q)
    g = F.logsigmoid(torch.randn(B, S, H, D, device="cuda", dtype=torch.float32))
    beta = torch.rand(B, S, H, device="cuda", dtype=torch.bfloat16)
    return {"fla_kda": p.time_ms(lambda: chunk_kda(q, k, v, g=g, beta=beta))}


def time_loom(rt, entry, sets, first_s, budget_s, max_iters):
    """Median milliseconds of loomEntryCall (host clock; the call synchronizes
    inside the module), rotating through the input sets. `first_s` is the
    duration of a call already made (the warm-up): a second warm-up call is
    made when calls are short, and the number of timed calls fits the budget."""
    if first_s < budget_s / 10:
        res = entry.call(sets[1 % len(sets)])
        for b in res:
            rt.destroy(b)
    iters = max(1, min(max_iters, int(budget_s / max(first_s, 1e-6))))
    times = []
    for i in range(iters):
        bufs = sets[i % len(sets)]
        t0 = time.perf_counter()
        res = entry.call(bufs)
        times.append((time.perf_counter() - t0) * 1e3)
        for b in res:
            rt.destroy(b)
    return statistics.median(times), iters


def kernel_ms(rt, entry, sets, calls=5):
    """Device time per call of the work Loom's call puts on the GPU (kernels,
    memsets, copies), from a CUPTI trace through torch.profiler: the call's
    own host overhead (allocation, launch, the synchronize at its end) is
    left out, which the host-clock time above includes. None if the
    profiler is unavailable."""
    try:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for i in range(calls):
                res = entry.call(sets[i % len(sets)])
                for b in res:
                    rt.destroy(b)
            torch.cuda.synchronize()
        total_us = 0.0
        for evt in prof.events():
            if evt.device_type == torch.autograd.DeviceType.CUDA:
                total_us += getattr(evt, "device_time", None) or getattr(evt, "cuda_time", 0.0)
        return total_us / calls / 1e3 if total_us > 0 else None
    except Exception as e:  # the trace is an extra; its absence is not a failure
        log(f"  (no kernel trace: {type(e).__name__}: {str(e)[:100]})")
        return None


def time_case(case, rt, device, args, dims_table, modules, peers):
    """One timing row: Loom's median time, the peers' and the floor."""
    tdev = "cuda" if device == loomrt.LOOM_DEVICE_CUDA else "cpu"
    floor_s = max(case["flops"] / case["rate"], case["bytes"] / COPY_BYTES_PER_S)
    row = {"work": case["work"], "shapes": case["shapes"], "entry": _key(case),
           "floor_ms": floor_s * 1e3, "loom_ms": None, "peers": {}, "note": ""}
    if device == loomrt.LOOM_DEVICE_CPU and case["flops"] + case["bytes"] > args.dry_limit:
        row["note"] = "skipped on cpu (too large)"
        log(f"TIME {case['entry']}: {row['note']}")
        return row
    log(f"TIME {case['entry']} ({case['shapes']}) ...")
    sets_bufs, keep = [], []
    try:
        src = os.path.join(HERE, "sources", case["module"] + ".mlir")
        func = ref.parse_module(open(src).read())[case["entry"]]
        if case["module"] not in modules:
            modules[case["module"]] = rt.load(os.path.join(HERE, "modules", case["module"] + ".so"), device)
        entry = modules[case["module"]].entries[case["entry"]]
        shapes = concrete_shape_sets(func, dims_table)[0]
        elems = [t.elem for t in func.arg_types]
        in_bytes = sum(math.prod(loomrt.storage_shape(e, s)) * torch.empty(0, dtype=loomrt.STORAGE[e]).element_size()
                       for e, s in zip(elems, shapes))
        # Rotate input sets while they are small enough to stay in the 50 MB L2.
        nsets = 1 if in_bytes >= 64 << 20 else min(8, math.ceil((192 << 20) / max(in_bytes, 1)))
        if device == loomrt.LOOM_DEVICE_CPU:
            nsets = 1
        special = case.get("special", {})
        for si in range(nsets):
            gen = torch.Generator(device=tdev).manual_seed(1000 + si)
            stored = []
            for i, (e, s) in enumerate(zip(elems, shapes)):
                v = make_value(func, i, e, s, gen, device=tdev, special=special_of(special, func, i))
                stored.append(loomrt.encode(e, v))
                del v
            keep.append(stored)
            sets_bufs.append([rt.buffer_from(device, e, s, st) for e, s, st in zip(elems, shapes, stored)])
        if tdev == "cuda":
            torch.cuda.synchronize()  # the inputs are ready before Loom's stream reads them
        # The warm-up call, checked: results must be finite.
        t0 = time.perf_counter()
        res = entry.call(sets_bufs[0])
        first_s = time.perf_counter() - t0
        finite = True
        for (e, _), b in zip(entry.result_types, res):
            if e in ref.TORCH_FLOAT:
                finite &= bool(torch.isfinite(loomrt.decode(e, rt.to_host(b, e))).all())
            rt.destroy(b)
        if device == loomrt.LOOM_DEVICE_CPU:
            ms, iters = time_loom(rt, entry, sets_bufs, first_s, 0.0, 1)
        else:
            ms, iters = time_loom(rt, entry, sets_bufs, first_s, args.budget, args.iters)
        row["loom_ms"] = ms
        row["kernel_ms"] = kernel_ms(rt, entry, sets_bufs) if tdev == "cuda" else None
        row["note"] = f"{iters} calls, {nsets} input set(s)" + ("" if finite else ", NON-FINITE OUTPUT")
        kt = f", kernels {row['kernel_ms']:.3f} ms" if row.get("kernel_ms") else ""
        log(f"TIME {case['entry']}: Loom {ms:.3f} ms{kt}, floor {row['floor_ms']:.3f} ms ({row['note']})")
    except Exception as e:
        row["note"] = f"error: {type(e).__name__}: {str(e)[:160]}"
        log(f"TIME {case['entry']}: {row['note']}")
        if not device_alive(device):
            raise DeviceLost(f"the CUDA context is unusable after {case['entry']}")
    finally:
        for bufs in sets_bufs:
            for b in bufs:
                rt.destroy(b)
        del keep
        if tdev == "cuda":
            torch.cuda.empty_cache()
    if peers is not None and case["peers"]:
        pr = peers.get(case["peers"])
        keys = case["peer_keys"] or list(pr)
        row["peers"] = {k: pr[k] for k in keys if k in pr}
        log(f"PEERS {case['entry']}: " + (", ".join(f"{k} {v:.3f} ms" if isinstance(v, float) else f"{k} {v}"
                                                    for k, v in row["peers"].items()) or "none"))
    return row


def table(rows):
    out = ["| work | shapes | Loom call ms | Loom kernels ms | peers ms | Loom time / peer time | floor ms | floor / Loom | note |",
           "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | --- |"]
    for r in rows:
        km = r.get("kernel_ms")
        # Ratios and the floor fraction use the kernels' device time when the
        # trace has it (the peers are timed with CUDA events, which also leave
        # the host out), else the call's host-clock time.
        lm = km or r["loom_ms"]
        peers = [(k, v) for k, v in r["peers"].items() if isinstance(v, float)]
        errs = [f"{k}: {v}" for k, v in r["peers"].items() if not isinstance(v, float)]
        peer_txt = "<br>".join([f"{k} {v:.3f}" for k, v in peers] + errs) or "-"
        ratio_txt = "<br>".join(f"{k} {lm / v:.2f}" for k, v in peers) if lm and peers else "-"
        frac = f"{r['floor_ms'] / lm * 100:.0f}%" if lm else "-"
        lm_txt = f"{r['loom_ms']:.3f}" if r["loom_ms"] else "-"
        km_txt = f"{km:.3f}" if km else "-"
        out.append(f"| {r['work']} | {r['shapes']} | {lm_txt} | {km_txt} | {peer_txt} | {ratio_txt} | {r['floor_ms']:.3f} | {frac} | {r['note']} |")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Worker and supervisor
# ---------------------------------------------------------------------------
#
# The checks and timings run in a worker process that reports each item's
# results as a JSON line in a progress file. A kernel fault leaves the CUDA
# context unusable for the rest of the process, a crash kills it, a hang
# stalls it: the supervisor then records the item as failed and starts a
# fresh worker at the next item, so that one bad kernel costs one item.

def work_items(args):
    items = []
    if not args.no_checks:
        items += [("check", n) for n in check_modules()
                  if not args.only or any(re.search(args.only, f"{n}:{f}") for f in _entries_of(n))]
    if not args.no_timing and (args.device == "cuda" or args.timing_dry):
        items += [("time", _key(c)) for c in TIMING
                  if not args.only or re.search(args.only, f"{c['module']}:{c['entry']}")]
    return items


def _entries_of(name):
    try:
        return list(ref.parse_module(open(os.path.join(HERE, "sources", name + ".mlir")).read()))
    except Exception:
        return [""]


def worker_main(args, items):
    progress = open(args.progress, "a")

    def report(obj):
        progress.write(json.dumps(obj) + "\n")
        progress.flush()

    device = loomrt.LOOM_DEVICE_CUDA if args.device == "cuda" else loomrt.LOOM_DEVICE_CPU
    rt = loomrt.Runtime(args.lib)  # RTLD_GLOBAL, before any module
    rt.device_init(device)
    dims_path = os.path.join(HERE, "dims.json")
    dims_table = json.load(open(dims_path)) if os.path.exists(dims_path) else {}
    peers, modules = None, {}
    for index in range(args.start, len(items)):
        kind, name = items[index]
        if kind == "time" and time.time() > args.deadline:
            report({"index": index, "start": True})
            log(f"TIME {name}: skipped, past the run's time budget")
            case = next(c for c in TIMING if _key(c) == name)
            report({"index": index, "row": {"work": case["work"], "shapes": case["shapes"], "entry": name,
                                            "floor_ms": 0.0, "loom_ms": None, "peers": {},
                                            "note": "skipped: past the run's time budget (--deadline-s)"}})
            continue
        report({"index": index, "start": True})
        try:
            if kind == "check":
                checker = Checker(rt, device, args, dims_table)
                try:
                    checker.check_module(name)
                finally:
                    report({"index": index, "records": checker.records})
            else:
                if peers is None and device == loomrt.LOOM_DEVICE_CUDA and not args.no_peers:
                    try:
                        peers = Peers()
                    except Exception as e:
                        log(f"peers unavailable: {type(e).__name__}: {e}")
                        peers = False
                case = next(c for c in TIMING if _key(c) == name)
                row = time_case(case, rt, device, args, dims_table, modules, peers or None)
                report({"index": index, "row": row})
        except DeviceLost as e:
            log(f"FATAL {e}; a fresh worker continues with the next item")
            report({"index": index, "fatal": str(e)})
            progress.close()
            os._exit(3)
    for m in modules.values():
        m.unload()
    progress.close()
    return 0


def supervise(args, items, out_dir):
    """Runs the items in workers; returns (records, rows)."""
    progress = os.path.join(out_dir, "progress.jsonl")
    open(progress, "w").close()
    records, rows = [], []
    done = set()
    start = 0
    deadline = time.time() + args.deadline_s
    while start < len(items):
        cmd = [sys.executable, "-u", os.path.abspath(__file__), "--worker", f"--start={start}",
               f"--progress={progress}", f"--deadline={deadline}"] + args.passthrough
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        reader = threading.Thread(target=_echo, args=(proc.stdout,), daemon=True)
        reader.start()
        starts_before = sum(1 for e in _read_progress(progress) if e.get("start"))
        current, since = None, time.time()
        while proc.poll() is None:
            time.sleep(0.5)
            events = _read_progress(progress)
            started = [e["index"] for e in events if e.get("start")]
            if started and started[-1] != current:
                current, since = started[-1], time.time()
            limit = args.item_timeout
            if current is not None and time.time() - since > limit:
                log(f"FATAL item {items[current][0]} {items[current][1]} ran over {limit:.0f} s; killing the worker")
                proc.kill()
                proc.wait()
                break
        reader.join(timeout=5)
        events = _read_progress(progress)
        last_started = None
        for e in events:
            i = e["index"]
            if e.get("start"):
                last_started = i
            elif i not in done:
                if "records" in e:
                    records += e["records"]
                if e.get("row"):
                    rows.append(e["row"])
                if "records" in e or "row" in e:
                    done.add(i)
        if proc.returncode == 0:
            break  # the worker went through every item
        if sum(1 for e in events if e.get("start")) == starts_before:
            log(f"FAIL the worker exited with {proc.returncode} before starting an item; giving up")
            for i in range(start, len(items)):
                if items[i][0] == "check":
                    records.append({"ok": False, "case": items[i][1], "shapes": "-", "message": "not run (worker failed)"})
            break
        if True:
            kind, name = items[last_started]
            why = {3: "the CUDA context was lost"}.get(proc.returncode, f"the worker exited with {proc.returncode}")
            if last_started not in done:
                if kind == "check":
                    records.append({"ok": False, "case": name, "shapes": "-",
                                    "message": f"worker died during this module ({why}); its later entries did not run"})
                    log(f"FAIL {name} [-] worker died during this module ({why})")
                else:
                    rows.append({"work": name, "shapes": "-", "entry": name, "floor_ms": 0.0, "loom_ms": None,
                                 "peers": {}, "note": f"worker died ({why})"})
                done.add(last_started)
            start = last_started + 1
            if start < len(items):
                log(f"-- restarting the worker at item {start} of {len(items)}")
    return records, rows


def _echo(stream):
    for line in stream:
        line = line.rstrip("\n")
        print(line, flush=True)
        log.lines.append(line)


def _read_progress(path):
    events = []
    with open(path) as f:
        for line in f:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass  # a line being written
    return events


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--lib", default=os.path.join(HERE, "libloomrt.so"), help="the Loom runtime shared library")
    ap.add_argument("--only", default="", help="regex on MODULE:ENTRY to select checks and timing cases")
    ap.add_argument("--seed", type=int, default=0, help="mixed into every check's seed")
    ap.add_argument("--no-checks", action="store_true", help="skip the correctness checks")
    ap.add_argument("--no-timing", action="store_true", help="skip the timing part")
    ap.add_argument("--timing-dry", action="store_true", help="on the cpu: time the small timing cases once, no peers")
    ap.add_argument("--dry-limit", type=float, default=2e9, help="largest FLOPs + bytes a cpu timing case may have")
    ap.add_argument("--no-peers", action="store_true", help="time Loom only")
    ap.add_argument("--budget", type=float, default=3.0, help="seconds of timed Loom calls per timing case")
    ap.add_argument("--iters", type=int, default=30, help="most timed Loom calls per timing case")
    ap.add_argument("--deadline-s", type=float, default=300.0,
                    help="timing cases that would start later than this many seconds into the run are skipped")
    ap.add_argument("--item-timeout", type=float, default=240.0,
                    help="seconds one module's checks or one timing case may take before its worker is killed")
    ap.add_argument("--verbose", action="store_true", help="print tracebacks of failed checks")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--progress", default="", help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args()

    items = work_items(args)
    if args.worker:
        return worker_main(args, items)
    # What the workers get: the options that concern them.
    args.passthrough = [f"--device={args.device}", f"--lib={args.lib}", f"--only={args.only}", f"--seed={args.seed}",
                        f"--dry-limit={args.dry_limit}", f"--budget={args.budget}", f"--iters={args.iters}"]
    args.passthrough += [flag for flag, on in [("--no-checks", args.no_checks), ("--no-timing", args.no_timing),
                                               ("--timing-dry", args.timing_dry), ("--no-peers", args.no_peers),
                                               ("--verbose", args.verbose)] if on]

    start = time.time()
    out_dir = os.environ.get("OUT") or os.path.join(HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    log(f"loom gpu_check: device={args.device}, torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    if args.device == "cuda":
        # The supervisor itself never touches CUDA; nvidia-smi names the device.
        try:
            gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception as e:
            gpu = f"(nvidia-smi: {e})"
        log(f"gpu: {gpu}")
    log(f"{len(items)} items: {sum(k == 'check' for k, _ in items)} modules to check, "
        f"{sum(k == 'time' for k, _ in items)} timing cases")
    if not args.no_checks:
        log("== correctness: Loom against the float64 PyTorch reference, then timing beside peers.py ==")
    if not args.no_timing and not args.no_peers and args.device == "cuda":
        try:
            import peers as _peers
            flops = _peers.bf16_gemm_tflops() * 1e12
            copy = _peers.copy_bandwidth_gbs() * 1e9
            os.environ["LOOM_BENCH_BF16_FLOPS"] = repr(flops)
            os.environ["LOOM_BENCH_COPY_BYTES_PER_S"] = repr(copy)
            log(f"measured: cuBLAS bf16 GEMM 8192^3 {flops / 1e12:.0f} TFLOP/s, "
                f"device copy {copy / 1e12:.2f} TB/s (the floors use these)")
        except Exception as e:
            log(f"measuring the floors' rates failed ({e}); using the defaults")
    records, rows = supervise(args, items, out_dir)

    passed = sum(r["ok"] for r in records)
    failed = len(records) - passed
    log(f"checks: {passed} passed, {failed} failed")
    for r in records:
        if not r["ok"]:
            log(f"  failed: {r['case']} [{r['shapes']}] {r['message']}")
    if rows:
        order = {_key(c): i for i, c in enumerate(TIMING)}
        rows.sort(key=lambda r: order.get(r["entry"], len(order)))
        md = table(rows)
        log("")
        log(md)
        with open(os.path.join(out_dir, "perf_table.md"), "w") as f:
            f.write(f"{time.strftime('%Y-%m-%d')}, device {args.device}\n\n{md}\n")
    elif not args.no_timing and args.device == "cpu":
        log("timing skipped on the cpu (--timing-dry runs the small cases once)")
    timing_errors = [r for r in rows if r["note"].startswith(("error", "worker died"))]
    if timing_errors:
        log(f"timing: {len(timing_errors)} case(s) failed: " + ", ".join(r["entry"] for r in timing_errors))
    if not args.no_checks and not records:
        log("FAIL no check ran")
        failed += 1
    log(f"total {time.time() - start:.0f} s; {passed} passed, {failed} failed")
    with open(os.path.join(out_dir, "gpu_check.log"), "w") as f:
        f.write("\n".join(log.lines) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"device": args.device, "passed": passed, "failed": failed, "checks": records,
                   "timing": rows}, f, indent=1)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
