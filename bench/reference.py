#!/usr/bin/env python3
"""Reference semantics of the loom dialect in PyTorch float64, and a small
evaluator of .mlir functions written with them.

Every op follows /work/shared/DIALECT.md (the contract) and is written here
independently of Loom's lowerings: float64 arithmetic throughout, then each
op's results rounded once to their element type (as the contract says Loom
does: accumulate in f32 whatever the element type, round the result once to
nearest even). Values are float64 tensors for float types (including
f8E4M3FN), int64 tensors for integer types and bool tensors for i1.

`parse_module(text)` reads the functions of a .mlir file (the ops of the loom
dialect, linear_attention's keyword operands `gate(%g)` included, plus the
upstream ops the examples use: tensor.empty,
tensor.expand_shape, tensor.collapse_shape, linalg.transpose,
arith.addf/subf/mulf/divf and splat arith.constant, with which the guard cases
scale or offset their random inputs, and the elementwise arith.negf,
arith.extf/truncf and math.exp/log/log1p with which hybrid_block computes its
gates); `Function.evaluate(inputs)` runs one of them on
logical input values and returns its results. The evaluator knows nothing of
Loom's compiler: a case's reference is the composition of the ops its source
spells out.
"""
import math
import re

import torch

F64 = torch.float64

FLOAT_TYPES = ("f32", "f16", "bf16", "f64", "f8E4M3FN")
INT_TYPES = ("i4", "i8", "i32", "i64")
TORCH_FLOAT = {
    "f32": torch.float32,
    "f16": torch.float16,
    "bf16": torch.bfloat16,
    "f64": torch.float64,
    "f8E4M3FN": torch.float8_e4m3fn,
}


class EvalError(Exception):
    """A construct the evaluator cannot read or an op it does not know."""


# ---------------------------------------------------------------------------
# Types and rounding
# ---------------------------------------------------------------------------

class TensorType:
    """`tensor<2x?x64xbf16>`: dims (None for `?`) and the element type name."""

    def __init__(self, dims, elem):
        self.dims = dims
        self.elem = elem

    @staticmethod
    def parse(text):
        m = re.fullmatch(r"\s*tensor<([^>]*)>\s*", text)
        if not m:
            raise EvalError(f"not a ranked tensor type: {text.strip()}")
        parts = m.group(1).split("x")
        dims = [None if p == "?" else int(p) for p in parts[:-1]]
        return TensorType(dims, parts[-1])

    def __repr__(self):
        return "tensor<" + "".join(("?" if d is None else str(d)) + "x" for d in self.dims) + self.elem + ">"


def round_to(x, elem):
    """Rounds a float64/int/bool value to element type `elem` (to nearest even
    for floats), returned in the evaluator's representation."""
    if elem in TORCH_FLOAT:
        x = x.to(F64)
        if elem == "f8E4M3FN":
            # Saturation is not part of the contract; every producer keeps |x| <= 448.
            return x.to(torch.float8_e4m3fn).to(F64)
        return x.to(TORCH_FLOAT[elem]).to(F64)
    if elem in INT_TYPES:
        return x.to(torch.int64)
    if elem == "i1":
        return x.to(torch.bool)
    raise EvalError(f"unsupported element type {elem}")


# ---------------------------------------------------------------------------
# The ops (DIALECT.md), float64
# ---------------------------------------------------------------------------

def _visibility(Sq, Skv, causal, window, device, sink=0):
    """[Sq, Skv] bool: key j visible to query i under the causal/window rules
    with bottom-right alignment i' = i + (Skv - Sq); keys j < sink are
    exempt from the window (not from causal). window 0 or None: no window."""
    i = torch.arange(Sq, device=device)[:, None] + (Skv - Sq)
    j = torch.arange(Skv, device=device)[None, :]
    mask = torch.ones(Sq, Skv, dtype=torch.bool, device=device)
    if causal:
        mask &= j <= i
    if window:
        mask &= (j > i - window) | (j < sink)
    return mask


def _expand_kv_heads(t, Hq):
    Hkv = t.shape[1]
    if Hq % Hkv:
        raise EvalError(f"Hq={Hq} is not a multiple of Hkv={Hkv}")
    return t.repeat_interleave(Hq // Hkv, dim=1)  # query head h reads kv head h // (Hq/Hkv)


# Score elements (B * heads * Sq * Skv) per slice of heads that attention()
# materializes at once: 2^27 float64 values, 1 GiB per [.., Sq, Skv] tensor,
# so that long sequences (the serving cases, S = 8192 and 32 heads) fit.
ATTENTION_CHUNK = 1 << 27


def attention(q, k, v, causal=False, scale=None, window=None, softcap=None,
              layout=None, block_q=None, block_k=None, with_lse=False,
              sink=None, sink_logits=None):
    """loom.attention, and loom.block_sparse_attention when `layout` is given;
    with `with_lse`, (o, lse) as the op's two-result form. `window` is one
    value or a list of one per query head (0: no window for that head);
    `sink` exempts keys j < sink from the window; `sink_logits` [Hq] is a
    virtual key per head of score sink_h (no scale, no softcap) and value 0
    in every row's softmax denominator (issue 16)."""
    q, k, v = q.to(F64), k.to(F64), v.to(F64)
    B, Hq, Sq, D = q.shape
    Skv = k.shape[2]
    windows = list(window) if isinstance(window, (list, tuple)) else [window] * Hq
    if len(windows) != Hq:
        raise EvalError(f"{len(windows)} windows for {Hq} query heads")
    if any(w is not None for w in windows) and not causal:
        raise EvalError("window requires causal")
    if scale is None:
        scale = 1.0 / math.sqrt(D)
    k = _expand_kv_heads(k, Hq)
    v = _expand_kv_heads(v, Hq)
    if layout is not None:
        lay = layout.to(torch.bool)
        nqb, nkb = -(-Sq // block_q), -(-Skv // block_k)
        if tuple(lay.shape[2:]) != (nqb, nkb):
            raise EvalError(f"layout blocks {tuple(lay.shape[2:])} != ({nqb}, {nkb})")
        lay = lay.expand(B, Hq, nqb, nkb)
        qi = torch.arange(Sq, device=q.device) // block_q
        kj = torch.arange(Skv, device=q.device) // block_k
    sinks = None
    if sink_logits is not None:
        sinks = sink_logits.to(F64).reshape(1, Hq, 1, 1).expand(B, Hq, Sq, 1)
    outs, lses = [], []
    step = max(1, ATTENTION_CHUNK // max(1, B * Sq * Skv))
    for h0 in range(0, Hq, step):
        h1 = min(Hq, h0 + step)
        s = scale * torch.matmul(q[:, h0:h1], k[:, h0:h1].transpose(-1, -2))
        if softcap is not None:
            s = softcap * torch.tanh(s / softcap)
        mask = torch.stack([_visibility(Sq, Skv, causal, w, q.device, sink or 0)
                            for w in windows[h0:h1]]).expand(B, h1 - h0, Sq, Skv)
        if layout is not None:
            mask = mask & lay[:, h0:h1][:, :, qi][:, :, :, kj]
        s = s.masked_fill(~mask, -math.inf)
        m = s.amax(dim=-1, keepdim=True)
        if sinks is not None:
            m = torch.maximum(m, sinks[:, h0:h1])
        m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
        p = torch.exp(s - m) * mask
        del s
        den = p.sum(dim=-1, keepdim=True)
        if sinks is not None:  # the sink joins the denominator only
            den = den + torch.exp(sinks[:, h0:h1] - m)
        o = torch.matmul(p, v[:, h0:h1]) / torch.where(den > 0, den, torch.ones_like(den))
        del p  # a row without a visible key: p = 0, o = 0 (with a sink: lse = sink_h)
        outs.append(o)
        if with_lse:  # log of the sum of exp over the visible scores; -inf for none
            lses.append(torch.where(den > 0, m + torch.log(den),
                                    torch.full_like(den, -math.inf)).squeeze(-1))
    o = torch.cat(outs, dim=1)
    if with_lse:
        return o, torch.cat(lses, dim=1)
    return o  # rows with no visible key: p = 0, o = 0


def block_sparse_attention(q, k, v, layout, block_q=64, block_k=64, causal=False,
                           scale=None, softcap=None, with_lse=False, window=None,
                           sink=None, sink_logits=None):
    return attention(q, k, v, causal=causal, scale=scale, softcap=softcap,
                     layout=layout, block_q=block_q, block_k=block_k, with_lse=with_lse,
                     window=window, sink=sink, sink_logits=sink_logits)


def merge_attention(*pairs):
    """loom.merge_attention of (o_0, lse_0, o_1, lse_1, ...): (o, lse)."""
    os_ = [t.to(F64) for t in pairs[0::2]]
    ls = [t.to(F64) for t in pairs[1::2]]
    if len(os_) == 1:
        return os_[0], ls[0]
    lse = torch.stack(ls)                       # [n, B, H, S]
    m = lse.amax(dim=0)
    empty = m == -math.inf
    msafe = torch.where(empty, torch.zeros_like(m), m)
    total = msafe + torch.log(torch.exp(lse - msafe).sum(dim=0))
    total = torch.where(empty, torch.full_like(m, -math.inf), total)
    o = torch.zeros_like(os_[0])
    for oi, li in zip(os_, ls):
        w = torch.where(li == -math.inf, torch.zeros_like(li), torch.exp(li - total))
        w = torch.where(empty, torch.zeros_like(w), w)
        o = o + w[..., None] * torch.where(li[..., None] == -math.inf, torch.zeros_like(oi), oi)
    return o, total


def _index_list(t):
    return [int(x) for x in t.reshape(-1).tolist()]


def paged_attention(q, k, v, q_offsets, kv_lens, block_table, causal=False, scale=None,
                    window=None, softcap=None, sink=None, sink_logits=None, with_lse=False):
    """loom.paged_attention: q [T, Hq, D] packed, k [P, page, Hkv, D], v [P,
    page, Hkv, Dv], q_offsets [B + 1], kv_lens [B], block_table [B, maxPages].
    The rows of sequence b are attention() (bottom-right causal, windows,
    sink, softcap, sink_logits as there) of q[q_offsets[b]:q_offsets[b+1]]
    over its kv_lens[b] keys K_b[j] = k[block_table[b, j // page], j % page];
    rows that no sequence covers are 0. As the op defines for index data
    outside the requirements: kv_lens is clamped to [0, maxPages * page] and
    a key whose page is outside [0, P) is not visible. q_offsets that break
    the requirements give unspecified rows: EvalError. With `with_lse`, (o,
    lse [T, Hq]): each covered row's lse as attention() gives it (sink_h or
    -inf for a row without a visible key), -inf for rows of no sequence."""
    q, k, v = q.to(F64), k.to(F64), v.to(F64)
    T, Hq, D = q.shape
    P, page, Hkv, _ = k.shape
    Dv = v.shape[-1]
    B, max_pages = block_table.shape
    offs, lens, table = _index_list(q_offsets), _index_list(kv_lens), block_table.to(torch.int64)
    if len(offs) != B + 1 or len(lens) != B:
        raise EvalError(f"paged_attention: {len(offs)} q_offsets and {len(lens)} kv_lens for B={B}")
    if offs[0] != 0 or offs[B] > T or any(a > b for a, b in zip(offs, offs[1:])):
        raise EvalError(f"paged_attention: q_offsets {offs} break the requirements (T={T}): rows unspecified")
    o = torch.zeros(T, Hq, Dv, dtype=F64, device=q.device)
    lse = torch.full((T, Hq), float("-inf"), dtype=F64, device=q.device)
    for b in range(B):
        start, end = offs[b], offs[b + 1]
        nkv = min(max(lens[b], 0), max_pages * page)
        if end > start and nkv == 0 and sink_logits is not None:
            lse[start:end] = sink_logits.to(F64).to(q.device)[None, :]
        if end == start or nkv == 0:
            continue  # no rows, or no key: zeros (with sink logits too)
        j = torch.arange(nkv, device=q.device)
        pages = table[b].to(q.device)[j // page]
        valid = (pages >= 0) & (pages < P)
        safe = torch.where(valid, pages, torch.zeros_like(pages))
        kb = k[safe, j % page].permute(1, 0, 2)[None]   # [1, Hkv, nkv, D]
        vb = v[safe, j % page].permute(1, 0, 2)[None]
        qb = q[start:end].permute(1, 0, 2)[None]          # [1, Hq, nq, D]
        if bool(valid.all()):
            ob = attention(qb, kb, vb, causal=causal, scale=scale, window=window,
                           softcap=softcap, sink=sink, sink_logits=sink_logits, with_lse=True)
        else:  # keys on pages outside the cache are not visible: a block layout of 1x1 blocks
            lay = valid[None, None, None, :].expand(1, 1, end - start, nkv)
            ob = attention(qb, kb, vb, causal=causal, scale=scale, window=window, softcap=softcap,
                           sink=sink, sink_logits=sink_logits, layout=lay, block_q=1, block_k=1,
                           with_lse=True)
        o[start:end] = ob[0][0].permute(1, 0, 2)
        lse[start:end] = ob[1][0].permute(1, 0)
    return (o, lse) if with_lse else o


def kv_cache_write(cache, new, slots):
    """loom.kv_cache_write: cache [P, page, Hkv, D], new [T, Hkv, D], slots
    [T]: the cache with new[t] at page slots[t] // page, offset slots[t] %
    page; a slot < 0 (padding) or >= P * page is skipped. Two tokens with the
    same slot leave which one is written unspecified: EvalError."""
    P, page = cache.shape[0], cache.shape[1]
    out = cache.clone()
    seen = set()
    for t, slot in enumerate(_index_list(slots)):
        if slot < 0 or slot >= P * page:
            continue
        if slot in seen:
            raise EvalError(f"kv_cache_write: slot {slot} written twice (which token wins is unspecified)")
        seen.add(slot)
        out[slot // page, slot % page] = new[t]
    return out


def rope_at_positions(x, cos, sin, positions, style="half"):
    """loom.rope with positions: x [T, H, D], cos/sin [N, D/2]; token t uses
    table row positions[t], clamped into [0, N - 1] (N = 0: y = x)."""
    N = cos.shape[0]
    if N == 0:
        return x.to(F64)
    pos = positions.to(torch.int64).clamp(0, N - 1).to(cos.device)
    return rope(x, cos[pos][:, None, :], sin[pos][:, None, :], style=style)


def _block_means(t, block):
    """Mean over consecutive blocks of dim 2 (the last block may be short)."""
    S = t.shape[2]
    nb = -(-S // block)
    return torch.stack([t[:, :, b * block:min((b + 1) * block, S)].mean(dim=2) for b in range(nb)], dim=2)


def select_blocks(q, k, block_q=64, block_k=64, topk=8, causal=False, scale=None,
                  tie_rtol=1e-4):
    """loom.select_blocks. Returns (layout, ambiguous): `ambiguous[b, h, I]` is
    true when the last selected and the first rejected candidate of that row
    score within tie_rtol of each other (relative to the row's largest
    |score|), where float32 and float64 may legitimately choose differently."""
    q, k = q.to(F64), k.to(F64)
    B, Hq, Sq, D = q.shape
    Skv = k.shape[2]
    if scale is None:
        scale = 1.0 / math.sqrt(D)
    qb = _block_means(q, block_q)
    kb = _expand_kv_heads(_block_means(k, block_k), Hq)
    s = scale * torch.matmul(qb, kb.transpose(-1, -2)).cpu()
    nqb, nkb = s.shape[2], s.shape[3]
    layout = torch.zeros(B, Hq, nqb, nkb, dtype=torch.bool)
    ambiguous = torch.zeros(B, Hq, nqb, dtype=torch.bool)
    for I in range(nqb):
        last = min((I + 1) * block_q, Sq) - 1
        ip = last + (Skv - Sq)  # the diagonal of the block's last query row
        if causal:
            if ip < 0:
                continue  # no key visible to any query of the block
            cands = [J for J in range(nkb) if J * block_k <= ip]
            forced = [ip // block_k]
        else:
            cands = list(range(nkb))
            forced = []
        others = [J for J in cands if J not in forced]
        for b in range(B):
            for h in range(Hq):
                row = s[b, h, I]
                order = sorted(others, key=lambda J: (-row[J].item(), J))
                chosen = forced + order[:topk]
                layout[b, h, I, chosen] = True
                if 0 < topk < len(order):
                    gap = row[order[topk - 1]].item() - row[order[topk]].item()
                    if gap <= tie_rtol * (row.abs().max().item() + 1e-300):
                        ambiguous[b, h, I] = True
    return layout.to(q.device), ambiguous


def _feature_map(x, name):
    if name == "identity":
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "elu_plus_one":
        return torch.where(x > 0, x + 1.0, torch.exp(torch.clamp(x, max=0.0)))
    raise EvalError(f"unknown feature_map {name!r}")


def linear_attention(q, k, v, causal=False, feature_map="identity", decay=None,
                     scale=1.0, normalize=False):
    q, k, v = q.to(F64), k.to(F64), v.to(F64)
    B, H, S, _ = q.shape
    pq, pk = _feature_map(q, feature_map), _feature_map(k, feature_map)
    w = scale * torch.matmul(pq, pk.transpose(-1, -2))  # [B, H, S, S]
    i = torch.arange(S, device=q.device)[:, None]
    j = torch.arange(S, device=q.device)[None, :]
    if decay is not None and any(d != 0 for d in decay):
        if not causal:
            raise EvalError("decay requires causal")
        if len(decay) != H:
            raise EvalError(f"decay has {len(decay)} values for {H} heads")
        d = torch.tensor(decay, dtype=F64, device=q.device)[:, None, None]
        dist = torch.clamp(i - j, min=0).to(F64)
        w = w * torch.exp(-d * dist)
    if causal:
        w = w * (j <= i)
    o = torch.matmul(w, v)
    if normalize:
        o = o / (w.sum(dim=-1, keepdim=True) + 1e-6)
    return o


def linear_attention_recurrent(q, k, v, gate=None, beta=None, initial_state=None, rule="additive",
                               feature_map="identity", decay=None, scale=1.0, normalize=False):
    """The recurrent forms of loom.linear_attention (always causal), token by
    token in float64: a_t = exp(g_t) with g_t the log-gate ([B, H, S] per
    head, [B, H, S, Dk] per key dimension, or -decay[h]); additive
    S_t = Diag(a_t) S_{t-1} + k_t v_t^T, delta
    S_t = (I - beta_t k_t k_t^T) Diag(a_t) S_{t-1} + beta_t k_t v_t^T;
    o_t = scale S_t^T q_t (q, k after the feature map); normalize divides by
    scale q_t . z_t + 1e-6 with z_t = Diag(a_t) z_{t-1} + k_t.
    Returns (o, final_state)."""
    q, k, v = q.to(F64), k.to(F64), v.to(F64)
    B, H, S, Dk = q.shape
    Dv = v.shape[-1]
    if rule not in ("additive", "delta"):
        raise EvalError(f"unknown rule {rule!r}")
    if (rule == "delta") != (beta is not None):
        raise EvalError("beta is given exactly with rule = \"delta\"")
    if gate is not None and decay is not None:
        raise EvalError("gate and decay are exclusive")
    if normalize and (rule == "delta" or initial_state is not None):
        raise EvalError("normalize excludes the delta rule and an initial state")
    pq, pk = _feature_map(q, feature_map), _feature_map(k, feature_map)
    if gate is not None:
        g = gate.to(F64)
        g = g[..., None].expand(B, H, S, Dk) if g.dim() == 3 else g
    elif decay is not None:
        if len(decay) != H:
            raise EvalError(f"decay has {len(decay)} values for {H} heads")
        d = torch.tensor(decay, dtype=F64, device=q.device)
        g = (-d)[None, :, None, None].expand(B, H, S, Dk)
    else:
        g = torch.zeros(B, H, S, Dk, dtype=F64, device=q.device)
    a = torch.exp(g)
    state = (initial_state.to(F64).clone() if initial_state is not None
             else torch.zeros(B, H, Dk, Dv, dtype=F64, device=q.device))
    z = torch.zeros(B, H, Dk, dtype=F64, device=q.device)
    eye = torch.eye(Dk, dtype=F64, device=q.device)
    o = torch.empty(B, H, S, Dv, dtype=F64, device=q.device)
    for t in range(S):
        kt, vt, qt, at = pk[:, :, t], v[:, :, t], pq[:, :, t], a[:, :, t]
        decayed = at[..., None] * state
        write = kt[..., :, None] * vt[..., None, :]
        if rule == "delta":
            bt = beta.to(F64)[:, :, t][..., None, None]
            m = eye - bt * kt[..., :, None] * kt[..., None, :]
            state = m @ decayed + bt * write
        else:
            state = decayed + write
        ot = scale * (state * qt[..., None]).sum(dim=-2)
        if normalize:
            z = at * z + kt
            ot = ot / (scale * (qt * z).sum(dim=-1, keepdim=True) + 1e-6)
        o[:, :, t] = ot
    return o, state


def pool_mixer(x, kernel=3):
    x = x.to(F64)
    if kernel % 2 == 0:
        raise EvalError("pool_mixer kernel must be odd")
    pad = kernel // 2
    if x.dim() == 4:  # [B, H, W, C]: average over kernel x kernel in-bounds tokens
        xt = x.permute(0, 3, 1, 2)
        avg = torch.nn.functional.avg_pool2d(xt, kernel, stride=1, padding=pad,
                                             count_include_pad=False).permute(0, 2, 3, 1)
    elif x.dim() == 3:  # [B, S, C]
        xt = x.permute(0, 2, 1)
        avg = torch.nn.functional.avg_pool1d(xt, kernel, stride=1, padding=pad,
                                             count_include_pad=False).permute(0, 2, 1)
    else:
        raise EvalError(f"pool_mixer on rank {x.dim()}")
    return avg - x


def dwconv(x, w, causal=False):
    x, w = x.to(F64), w.to(F64)
    if x.dim() == 3:  # [B, S, C], w [K, C]
        K, S = w.shape[0], x.shape[1]
        if causal:
            left, right = K - 1, 0           # y[s] = sum_t w[t] x[s - (K-1) + t]
        else:
            if K % 2 == 0:
                raise EvalError("non-causal dwconv needs an odd kernel")
            left = right = (K - 1) // 2     # y[s] = sum_t w[t] x[s + t - (K-1)/2]
        xp = torch.nn.functional.pad(x, (0, 0, left, right))
        y = torch.zeros_like(x)
        for t in range(K):
            y += w[t] * xp[:, t:t + S]
        return y
    if x.dim() == 4:  # [B, H, W, C], w [Kh, Kw, C], centred on both axes
        if causal:
            raise EvalError("2-D dwconv is not causal")
        Kh, Kw = w.shape[0], w.shape[1]
        H, W = x.shape[1], x.shape[2]
        ph, pw = (Kh - 1) // 2, (Kw - 1) // 2
        xp = torch.nn.functional.pad(x, (0, 0, pw, pw, ph, ph))
        y = torch.zeros_like(x)
        for a in range(Kh):
            for b in range(Kw):
                y += w[a, b] * xp[:, a:a + H, b:b + W]
        return y
    raise EvalError(f"dwconv on rank {x.dim()}")


def linear(x, w, bias=None):
    y = torch.matmul(x.to(F64), w.to(F64).t())
    if bias is not None:
        y = y + bias.to(F64)
    return y


def qlinear(x, w, w_scale, bias=None, group_size=0):
    N, K = w.shape
    s = w_scale.to(F64)
    if group_size == 0:
        wd = w.to(F64) * s[:, None]
    else:
        if K % group_size:
            raise EvalError(f"K={K} is not a multiple of group_size={group_size}")
        wd = w.to(F64) * s.repeat_interleave(group_size, dim=1)
    return linear(x, wd, bias)


def quantize(x, elem):
    """Returns (xq unrounded-then-rounded per the contract, xs)."""
    x = x.to(F64)
    Q = {"i8": 127.0, "f8E4M3FN": 448.0}[elem]
    s = x.abs().amax(dim=-1) / Q
    safe = torch.where(s > 0, s, torch.ones_like(s))
    r = torch.where(s[..., None] > 0, x / safe[..., None], torch.zeros_like(x))
    if elem == "i8":
        xq = torch.clamp(torch.round(r), -127, 127)  # torch.round: half to even
    else:
        xq = r.to(torch.float8_e4m3fn).to(F64)
    return xq, s


def qmatmul(xq, xs, w, w_scale, bias=None):
    acc = torch.matmul(xq.to(F64), w.to(F64).t())  # exact for i8 (|sum| < 2^53)
    y = acc * xs.to(F64)[:, None] * w_scale.to(F64)[None, :]
    if bias is not None:
        y = y + bias.to(F64)
    return y


def rms_norm(x, g, epsilon=1e-6):
    x = x.to(F64)
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + epsilon) * g.to(F64)


def layer_norm(x, g, b, epsilon=1e-5):
    x = x.to(F64)
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + epsilon) * g.to(F64) + b.to(F64)


def rope(x, cos, sin, style="half"):
    x, c, s = x.to(F64), cos.to(F64), sin.to(F64)  # c, s: [S, D/2] broadcast over B, H
    D = x.shape[-1]
    if style == "half":
        x1, x2 = x[..., :D // 2], x[..., D // 2:]
        return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)
    if style == "interleaved":
        x1, x2 = x[..., 0::2], x[..., 1::2]
        y = torch.empty_like(x)
        y[..., 0::2] = x1 * c - x2 * s
        y[..., 1::2] = x2 * c + x1 * s
        return y
    raise EvalError(f"unknown rope style {style!r}")


def gelu(x, approximate="none"):
    x = x.to(F64)
    if approximate == "none":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    raise EvalError(f"unknown gelu approximation {approximate!r}")


def silu(x):
    x = x.to(F64)
    return x * torch.sigmoid(x)


# ---------------------------------------------------------------------------
# Reading .mlir text
# ---------------------------------------------------------------------------

def _split_top(text, sep=","):
    """Splits at `sep` outside (), [], {}, <> and quotes."""
    parts, depth, cur, quote = [], 0, [], False
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([{<":
            depth += 1
        elif not quote and ch in ")]}>":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return [p.strip() for p in parts]


def _matching(text, start, open_ch, close_ch):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    raise EvalError(f"unbalanced {open_ch}{close_ch} in: {text[start:start + 80]}")


def parse_attrs(text):
    """`{causal, scale = 0.125 : f32, style = "half", decay = array<f32: 0.5, 0.25>}`."""
    text = text.strip()
    if not text:
        return {}
    assert text[0] == "{" and text[-1] == "}"
    attrs = {}
    for item in _split_top(text[1:-1]):
        if "=" not in item:
            attrs[item] = True
            continue
        key, value = (s.strip() for s in item.split("=", 1))
        if value.startswith('"'):
            attrs[key] = value.strip('"')
        elif value.startswith("array<"):
            body = value[len("array<"):-1]
            _, nums = body.split(":", 1)
            attrs[key] = [float(n) for n in nums.split(",") if n.strip()]
        else:
            num, _, typ = value.partition(":")
            typ = typ.strip()
            attrs[key] = int(num) if typ.startswith("i") or typ == "index" else float(num)
    return attrs


def _tensor_types(text):
    return [TensorType.parse(t) for t in re.findall(r"tensor<[^>]*>", text)]


class Op:
    def __init__(self, results, name, operands, attrs, extra, in_types, out_types, text):
        self.results = results      # ["%a", ...]
        self.name = name            # "loom.attention"
        self.operands = operands    # ["%q", ...]
        self.attrs = attrs          # dict
        self.extra = extra          # op-specific (reassociation, permutation)
        self.in_types = in_types
        self.out_types = out_types
        self.text = text


# An SSA value: `%x`, or `%o#1` (a result of `%o:2 = ...`).
VALUE = r"%[\w.$-]+(?:#\d+)?"


def _parse_stmt(stmt):
    m = re.match(r"\s*((?:%[\w.$-]+\s*,\s*)*%[\w.$-]+(?::\d+)?)\s*=\s*([\w.]+)(.*)$", stmt, re.S)
    if not m:
        if re.match(r"\s*(func\.)?return\b", stmt):
            body = re.sub(r"^\s*(func\.)?return", "", stmt).split(":", 1)[0]
            return Op([], "return", re.findall(VALUE, body), {}, None, [], [], stmt)
        raise EvalError(f"cannot read statement: {stmt.strip()[:120]}")
    results = [r.strip() for r in m.group(1).split(",")]
    packed = re.fullmatch(r"(%[\w.$-]+):(\d+)", results[0])
    if packed:  # `%o:2 = ...`: the results are %o#0, %o#1
        results = [f"{packed.group(1)}#{i}" for i in range(int(packed.group(2)))]
    name, rest = m.group(2), m.group(3)
    if name == "linalg.transpose":
        ins = re.search(r"ins\(\s*(%[\w.$-]+)\s*:\s*(tensor<[^>]*>)\s*\)", rest)
        outs = re.search(r"outs\(\s*(%[\w.$-]+)\s*:\s*(tensor<[^>]*>)\s*\)", rest)
        perm = re.search(r"permutation\s*=\s*\[([^\]]*)\]", rest)
        if not (ins and outs and perm):
            raise EvalError(f"cannot read linalg.transpose: {stmt.strip()[:120]}")
        return Op(results, name, [ins.group(1)], {}, [int(p) for p in perm.group(1).split(",")],
                  [TensorType.parse(ins.group(2))], [TensorType.parse(outs.group(2))], stmt)
    if name in ("tensor.expand_shape", "tensor.collapse_shape"):
        src = re.match(r"\s*(%[\w.$-]+)\s*(\[.*?\]\])", rest, re.S)
        types = re.search(r":\s*(tensor<[^>]*>)\s*into\s*(tensor<[^>]*>)", rest)
        if not (src and types):
            raise EvalError(f"cannot read {name}: {stmt.strip()[:120]}")
        reassoc = [[int(i) for i in re.findall(r"\d+", g)] for g in re.findall(r"\[([\d,\s]*)\]", src.group(2))]
        return Op(results, name, [src.group(1)], {}, reassoc,
                  [TensorType.parse(types.group(1))], [TensorType.parse(types.group(2))], stmt)
    if name == "tensor.empty":
        return Op(results, name, [], {}, None, [], _tensor_types(rest.split(":", 1)[1]), stmt)
    # Generic forms: `%a, %b {attrs} : (types) -> types` and `%a, %b : type`.
    brace = rest.find("{")
    colon = rest.find(":")
    if brace != -1 and (colon == -1 or brace < colon):
        end = _matching(rest, brace, "{", "}")
        operand_text, attr_text, type_text = rest[:brace], rest[brace:end + 1], rest[end + 1:]
    else:
        operand_text, attr_text, type_text = rest[:colon], "", rest[colon:]
    operands = re.findall(VALUE, operand_text)
    extra = None
    if name == "loom.linear_attention":
        # Optional operands by keyword: `gate(%g) beta(%b) initial_state(%s)`.
        extra = {kw: operands.index(v)
                 for kw, v in re.findall(r"(\w+)\(\s*(%[\w.$-]+)\s*\)", operand_text)}
    type_text = type_text.strip()
    if not type_text.startswith(":"):
        raise EvalError(f"no type in: {stmt.strip()[:120]}")
    type_text = type_text[1:]
    if "->" in type_text:
        ins, outs = type_text.split("->", 1)
        in_types, out_types = _tensor_types(ins), _tensor_types(outs)
    elif re.search(r"\bto\b", type_text):  # arith.extf %a : tensor<...xbf16> to tensor<...xf32>
        src, dst = re.split(r"\bto\b", type_text, maxsplit=1)
        in_types, out_types = _tensor_types(src), _tensor_types(dst)
    else:  # arith.addf %a, %b : tensor<...>
        t = _tensor_types(type_text)
        in_types, out_types = t * len(operands), t
    return Op(results, name, operands, parse_attrs(attr_text), extra, in_types, out_types, stmt)


class Function:
    def __init__(self, name, arg_names, arg_types, result_types, ops):
        self.name = name
        self.arg_names = arg_names
        self.arg_types = arg_types
        self.result_types = result_types
        self.ops = ops

    def uses(self):
        """{arg index: [(op, operand index), ...]} in program order."""
        index = {n: i for i, n in enumerate(self.arg_names)}
        out = {i: [] for i in range(len(self.arg_names))}
        for op in self.ops:
            for pos, v in enumerate(op.operands):
                if v in index:
                    out[index[v]].append((op, pos))
        return out

    def evaluate(self, inputs):
        """Runs the function on logical values (float64 / int64 / bool
        tensors, one per argument). Returns (results, notes) where notes maps
        a result index to side information from its producer (the ambiguous
        rows of loom.select_blocks)."""
        if len(inputs) != len(self.arg_names):
            raise EvalError(f"{self.name}: {len(inputs)} inputs for {len(self.arg_names)} arguments")
        env = dict(zip(self.arg_names, inputs))
        notes = {}
        for op in self.ops:
            if op.name == "return":
                results = [env[v] for v in op.operands]
                out_notes = {i: notes[v] for i, v in enumerate(op.operands) if v in notes}
                return results, out_notes
            args = [env[v] for v in op.operands]
            vals = _apply(op, args, notes)
            if len(vals) != len(op.results):
                raise EvalError(f"{op.name}: {len(vals)} values for {len(op.results)} results")
            for name, val, typ in zip(op.results, vals, op.out_types):
                if val is not None:
                    val = round_to(val, typ.elem)
                    _check_shape(op, val, typ)
                env[name] = val
            if op.name == "loom.select_blocks":
                notes[op.results[0]] = ("ambiguous_rows", _apply.last_ambiguous)
        raise EvalError(f"{self.name}: no return")


def _check_shape(op, val, typ):
    if len(val.shape) != len(typ.dims) or any(d is not None and d != s for d, s in zip(typ.dims, val.shape)):
        raise EvalError(f"{op.name}: reference shape {tuple(val.shape)} does not match {typ}")


def _window_attr(a):
    """`window = W : i64` (an int) or `window = array<i64: ...>` (parsed as
    floats: one int per query head), or None."""
    w = a.get("window")
    if isinstance(w, list):
        return [int(x) for x in w]
    return w


def _apply(op, args, notes):
    a, n = op.attrs, op.name
    if n == "loom.attention":
        # Optional fourth operand: sink_logits [Hq].
        r = attention(*args[:3], causal=a.get("causal", False), scale=a.get("scale"),
                      window=_window_attr(a), softcap=a.get("softcap"),
                      with_lse=len(op.results) == 2, sink=a.get("sink"),
                      sink_logits=args[3] if len(args) > 3 else None)
        return list(r) if len(op.results) == 2 else [r]
    if n == "loom.block_sparse_attention":
        # Optional fifth operand: sink_logits [Hq].
        r = block_sparse_attention(*args[:4], block_q=a.get("block_q", 64), block_k=a.get("block_k", 64),
                                   causal=a.get("causal", False), scale=a.get("scale"),
                                   softcap=a.get("softcap"), with_lse=len(op.results) == 2,
                                   window=_window_attr(a), sink=a.get("sink"),
                                   sink_logits=args[4] if len(args) > 4 else None)
        return list(r) if len(op.results) == 2 else [r]
    if n == "loom.paged_attention":
        # Optional seventh operand: sink_logits [Hq].
        r = paged_attention(*args[:6], causal=a.get("causal", False), scale=a.get("scale"),
                            window=_window_attr(a), softcap=a.get("softcap"), sink=a.get("sink"),
                            sink_logits=args[6] if len(args) > 6 else None,
                            with_lse=len(op.results) == 2)
        return list(r) if len(op.results) == 2 else [r]
    if n == "loom.kv_cache_write":
        return [kv_cache_write(*args)]
    if n == "loom.merge_attention":
        return list(merge_attention(*args))
    if n == "loom.select_blocks":
        layout, amb = select_blocks(*args, block_q=a.get("block_q", 64), block_k=a.get("block_k", 64),
                                    topk=a.get("topk", 8), causal=a.get("causal", False), scale=a.get("scale"))
        _apply.last_ambiguous = amb
        return [layout]
    if n == "loom.linear_attention":
        named = op.extra or {}
        if named or len(op.results) == 2:  # the recurrent forms
            if not a.get("causal", False):
                raise EvalError("the recurrent forms of linear_attention require causal")
            q, k, v = args[:3]
            extra = {key: args[i] for key, i in named.items()}
            o, state = linear_attention_recurrent(
                q, k, v, gate=extra.get("gate"), beta=extra.get("beta"),
                initial_state=extra.get("initial_state"), rule=a.get("rule", "additive"),
                feature_map=a.get("feature_map", "identity"), decay=a.get("decay"),
                scale=a.get("scale", 1.0), normalize=a.get("normalize", False))
            return [o, state] if len(op.results) == 2 else [o]
        return [linear_attention(*args, causal=a.get("causal", False),
                                 feature_map=a.get("feature_map", "identity"), decay=a.get("decay"),
                                 scale=a.get("scale", 1.0), normalize=a.get("normalize", False))]
    if n == "loom.pool_mixer":
        return [pool_mixer(*args, kernel=a.get("kernel", 3))]
    if n == "loom.dwconv":
        return [dwconv(*args, causal=a.get("causal", False))]
    if n == "loom.linear":
        return [linear(*args)]
    if n == "loom.qlinear":
        return [qlinear(*args, group_size=a.get("group_size", 0))]
    if n == "loom.quantize":
        xq, xs = quantize(args[0], op.out_types[0].elem)
        return [xq, xs]
    if n == "loom.qmatmul":
        return [qmatmul(*args)]
    if n == "loom.rms_norm":
        return [rms_norm(*args, epsilon=a.get("epsilon", 1e-6))]
    if n == "loom.layer_norm":
        return [layer_norm(*args, epsilon=a.get("epsilon", 1e-5))]
    if n == "loom.rope":
        if len(args) == 4:  # the fourth operand: per-token positions
            return [rope_at_positions(*args, style=a.get("style", "half"))]
        return [rope(*args, style=a.get("style", "half"))]
    if n == "loom.gelu":
        return [gelu(*args, approximate=a.get("approximate", "none"))]
    if n == "loom.silu":
        return [silu(*args)]
    if n == "arith.constant":
        return [_splat_constant(op)]
    if n in ("arith.addf", "arith.subf", "arith.mulf", "arith.divf"):
        x, y = args[0].to(F64), args[1].to(F64)
        return [{"arith.addf": x + y, "arith.subf": x - y, "arith.mulf": x * y, "arith.divf": x / y}[n]]
    if n in ("arith.extf", "arith.truncf"):
        return [args[0].to(F64)]  # rounded to the result type by the caller
    if n == "arith.negf":
        return [-args[0].to(F64)]
    if n in ("math.exp", "math.log", "math.log1p"):
        return [{"math.exp": torch.exp, "math.log": torch.log, "math.log1p": torch.log1p}[n](args[0].to(F64))]
    if n == "tensor.empty":
        return [None]  # only ever an init of linalg.transpose, whose outs we ignore
    if n == "linalg.transpose":
        return [args[0].permute(*op.extra).contiguous()]
    if n == "tensor.collapse_shape":
        x = args[0]
        shape = [math.prod(x.shape[i] for i in group) for group in op.extra]
        return [x.reshape(shape)]
    if n == "tensor.expand_shape":
        out = op.out_types[0]
        if any(d is None for d in out.dims):
            raise EvalError("tensor.expand_shape to a dynamic shape is not supported by the evaluator")
        return [args[0].reshape(out.dims)]
    raise EvalError(f"the reference evaluator does not know {n}")


_apply.last_ambiguous = None


def _splat_constant(op):
    """`arith.constant dense<V> : tensor<...>` of a static shape: every element V
    (rounded to the element type by the caller, as every result)."""
    m = re.search(r"dense<\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*>", op.text)
    t = op.out_types[0] if op.out_types else None
    if not m or t is None or any(d is None for d in t.dims):
        raise EvalError(f"only splat float constants of a static shape are supported: {op.text.strip()[:120]}")
    return torch.full(t.dims, float(m.group(1)), dtype=F64)


def parse_module(text):
    """{function name: Function} for every func.func with a body in `text`."""
    text = re.sub(r"//[^\n]*", "", text)
    funcs = {}
    for m in re.finditer(r"func\.func\s+(?:(?:public|private)\s+)?@([\w$.-]+)\s*\(", text):
        name = m.group(1)
        args_open = m.end() - 1
        args_close = _matching(text, args_open, "(", ")")
        body_open = text.index("{", args_close)
        header_rest = text[args_close + 1:body_open]
        body_close = _matching(text, body_open, "{", "}")
        arg_names, arg_types = [], []
        for item in _split_top(text[args_open + 1:args_close]):
            am = re.match(r"(%[\w.$-]+)\s*:\s*(tensor<[^>]*>)", item)
            if not am:
                raise EvalError(f"@{name}: cannot read argument {item!r}")
            arg_names.append(am.group(1))
            arg_types.append(TensorType.parse(am.group(2)))
        result_types = _tensor_types(header_rest)
        # Statements: a line starting with `%x =` or `return` opens one; other lines continue it.
        stmts = []
        for line in text[body_open + 1:body_close].splitlines():
            s = line.strip()
            if not s:
                continue
            if re.match(r"(%[\w.$-]+\s*,\s*)*%[\w.$-]+(:\d+)?\s*=", s) or re.match(r"(func\.)?return\b", s):
                stmts.append(s)
            elif stmts:
                stmts[-1] += " " + s
            else:
                raise EvalError(f"@{name}: cannot read {s!r}")
        funcs[name] = Function(name, arg_names, arg_types, result_types, [_parse_stmt(s) for s in stmts])
    return funcs
