//===- MixerKernel.cpp - fused norm -> pool_mixer/dwconv -> epilogue kernel ===//
//
// One kernel for loom-fuse's mixer groups, y = epilogue(mixer(norm(x))) with
// the mixer pool_mixer or dwconv, over channels-last x [B, H, W, C] (rank 3
// [B, S, C] comes as [B, 1, S, C] with a 1 x K window). Window position
// (dh, dw) of output (h, w) reads input (h + dh - oh, w + dw - ow), with
// o = (K - 1) / 2 (centred) or ow = K - 1 (a causal dwconv). A CTA of
// `threads` threads computes a tile of tileH x tileW output tokens of one
// image b (a 1-D grid over b, the H tiles and the W tiles):
//
//   1. (with a norm) the statistics of every token of the tile and of the
//      window's halo around it, (tileH + kh - 1) x (tileW + kw - 1) tokens,
//      one warp per token (lanes stride over C, warp shuffles; the
//      statistics from NormStats.h, as every norm computes them), into shared
//      memory: layer_norm keeps mean, r and inv (the corrected two-pass of
//      the CPU lowering: mean = sum x / C, d = x - mean, r = sum d / C,
//      var = max(sum d^2 / C - r^2, 0), inv = rsqrt(var + eps)), rms_norm
//      keeps inv = rsqrt(sum x^2 / C + eps). Tokens outside the image are
//      skipped (no window reads them). Then a barrier.
//   2. every thread computes output elements (token, c), c fastest
//      (coalesced), in a loop over the tile: the normalized neighbours are
//      recomputed from x, the statistics and g/b (layer:
//      (((x - mean) - r) * inv) * g + b; rms: (x * inv) * g), summed over the
//      in-bounds window positions (rows outer, columns inner, as the CPU
//      lowering's windowed sum), divided by the number of in-bounds
//      positions (the product over the axes of min(p + r, P - 1) -
//      max(p - r, 0) + 1), minus the normalized centre (pool_mixer); or
//      each position weighted by w[dh, dw, c] (w * x) and summed (dwconv).
//      Then the epilogue steps with their operands read at the same
//      element, all in f32, and one rounding to the element type at the
//      store.
//
// Sizes come from memref.dim (static and dynamic shapes alike); every access
// is guarded, so any B, H, W and C are right. The normalized values are
// rounded to the element type, as the norm's result would be (the window
// sums of a bf16 image otherwise drift from the op-by-op program's by more
// than one rounding: MEASURED on a 7 x 7 window), so the only difference
// from the op-by-op path is the summation order of the norm statistics.

#include "loom/GPU/Kernels/MixerKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/NormStats.h"
#include "loom/GPU/Builder/Reduce.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;

/// The kernel's body (see the file comment).
void buildMixer(KernelBuilder &b, const MixerKernelConfig &c) {
  Type t = parseElementType(b.getContext(), c.elementType);
  Type f32 = b.getF32Type();
  const bool layer = c.norm == MixerKernelConfig::Norm::Layer;
  const bool norm = c.norm != MixerKernelConfig::Norm::None;
  const int64_t halo = c.haloTokens();
  const int64_t haloW = c.tileW + c.kw - 1;
  const int rh = c.offsetH(), rw = c.offsetW();
  // Arguments: x, [g, [b]], [w], e0 .., y, eps.
  unsigned next = 0;
  Value x = b.arg(next++);
  Value g = norm ? b.arg(next++) : Value();
  Value bias = layer ? b.arg(next++) : Value();
  Value weights = c.dwconv ? b.arg(next++) : Value();
  Values e;
  for (size_t k = 0; k < c.steps.size(); ++k)
    e.push_back(b.arg(next++));
  Value y = b.arg(next++), eps = b.arg(next++);
  Value stats = norm ? b.workgroup(0) : Value();

  Value c0 = b.idx(0), c1 = b.idx(1);
  Value zf = b.f32(0.0);
  // 0 <= pos < size (pos may be "negative").
  auto inside = [&](Value pos, Value size) {
    Value lo = b.sge(pos, c0);
    Value hi = b.slt(pos, size);
    return b.andi(lo, hi);
  };
  auto indexToF32 = [&](Value index) {
    return b.sitofp(f32, b.indexCast(b.getI64Type(), index));
  };

  Value tid = b.threadId();
  Value bx = b.blockId();
  Value B = b.dim(x, 0);
  Value H = b.dim(x, 1);
  Value W = b.dim(x, 2);
  Value C = b.dim(x, 3);
  // CTA (b * hTiles + the H tile) * wTiles + the W tile (tile counts at
  // least 1, as on the host).
  Value wTiles = b.maxu(b.divuConst(b.addConst(W, c.tileW - 1), c.tileW), c1);
  Value hTiles = b.maxu(b.divuConst(b.addConst(H, c.tileH - 1), c.tileH), c1);
  Value w0 = b.mulConst(b.remu(bx, wTiles), c.tileW);
  Value rest = b.divu(bx, wTiles);
  Value h0 = b.mulConst(b.remu(rest, hTiles), c.tileH);
  Value bi = b.divu(rest, hTiles);
  Value bOk = b.ult(bi, B);
  Value Cf = indexToF32(C);
  // Element [bi, h, w, ch] of a [B, H, W, C] operand, as f32.
  auto load4 = [&](Value mem, Value h, Value w, Value ch) {
    return b.toF32(b.load(mem, {bi, h, w, ch}));
  };

  // ---- 1. norm statistics of the tile and its halo, a warp per token ----
  if (norm) {
    Value lane = b.remuConst(tid, 32), warp = b.divuConst(tid, 32);
    b.forLoop(warp, b.idx(halo), b.idx(c.threads / 32), [&](Value tok) {
      Value hh = b.addConst(b.add(h0, b.divuConst(tok, haloW)), -rh);
      Value ww = b.addConst(b.add(w0, b.remuConst(tok, haloW)), -rw);
      Value okW = inside(ww, W);
      Value okH = inside(hh, H);
      Value ok = b.andi(bOk, b.andi(okH, okW));
      b.ifThen(ok, [&] {
        // Sums over the token's channels (lanes stride by 32) of
        // `terms(x)`, each summed over the warp.
        auto channelSums = [&](size_t n,
                               llvm::function_ref<Values(Value)> terms) {
          Values inits(n, zf);
          Values sums = b.forLoop(
              lane, C, b.idx(32), inits, [&](Value ch, ValueRange acc) {
                Values ts = terms(load4(x, hh, ww, ch));
                Values next;
                for (size_t i = 0; i < n; ++i)
                  next.push_back(b.fadd(acc[i], ts[i]));
                return next;
              });
          for (Value &s : sums)
            s = warpAllReduce(b, s, ReduceKind::Add);
          return sums;
        };
        Values tokenStats;
        if (layer) {
          Value sum = channelSums(1, [&](Value xv) { return Values{xv}; })[0];
          Value mean = b.fdiv(sum, Cf);
          Values d = channelSums(2, [&](Value xv) {
            Value dx = b.fsub(xv, mean);
            return Values{dx, b.fmul(dx, dx)};
          });
          LayerNormStats ln = layerNormStats(b, d[0], d[1], Cf, eps);
          tokenStats = {mean, ln.r, ln.inv};
        } else {
          Value ss = channelSums(1, [&](Value xv) {
            return Values{b.fmul(xv, xv)};
          })[0];
          tokenStats = {rmsInverse(b, ss, Cf, eps)};
        }
        b.ifThen(b.eq(lane, c0), [&] {
          for (size_t s = 0; s < tokenStats.size(); ++s)
            b.store(tokenStats[s], stats,
                    b.addConst(tok, int64_t(s) * halo));
        });
      });
    });
    b.barrier();
  }

  // ---- 2. the outputs of the tile, c fastest ----
  Value n = b.mulConst(C, int64_t(c.tileH) * c.tileW);
  b.forLoop(tid, n, b.idx(c.threads), [&](Value i) {
    Value tok = b.divu(i, C), ch = b.remu(i, C);
    Value th = b.divuConst(tok, c.tileW), tw = b.remuConst(tok, c.tileW);
    Value h = b.add(h0, th), w = b.add(w0, tw);
    Value wIn = b.ult(w, W);
    Value hIn = b.ult(h, H);
    Value ok = b.andi(bOk, b.andi(hIn, wIn));
    b.ifThen(ok, [&] {
      Value gv, bv;
      if (norm)
        gv = b.toF32(b.load(g, ch));
      if (layer)
        bv = b.toF32(b.load(bias, ch));
      // The mixer's input at (hh, ww, ch): x normalized with the statistics
      // of halo token `slot`.
      auto input = [&](Value hh, Value ww, Value slot) {
        Value xv = load4(x, hh, ww, ch);
        if (!norm)
          return xv;
        auto stat = [&](int s) {
          return b.load(stats, b.addConst(slot, int64_t(s) * halo));
        };
        Value v;
        if (layer) {
          v = b.fsub(xv, stat(0));
          v = b.fsub(v, stat(1));
          v = b.fmul(v, stat(2));
          v = b.fmul(v, gv);
          v = b.fadd(v, bv);
        } else {
          v = b.fmul(xv, stat(0));
          v = b.fmul(v, gv);
        }
        // Rounded to the element type, as the norm's result would be.
        return b.toF32(b.roundTo(t, v));
      };
      // The halo slot of the token (th + dh, tw + dw) of the tile.
      auto slotOf = [&](Value dh, Value dw) {
        Value col = b.add(tw, dw);
        Value row = b.mulConst(b.add(th, dh), haloW);
        return b.add(row, col);
      };

      // Window sum, rows outer, columns inner, in-bounds positions only.
      Value sum = b.forLoop(
          c0, b.idx(c.kh), c1, ValueRange{zf},
          [&](Value dh, ValueRange rowAcc) {
            Value hh = b.addConst(b.add(h, dh), -rh);
            Value okH = inside(hh, H);
            return b.forLoop(
                c0, b.idx(c.kw), c1, rowAcc, [&](Value dw, ValueRange acc) {
                  Value ww = b.addConst(b.add(w, dw), -rw);
                  Value okHW = b.andi(okH, inside(ww, W));
                  Value tap = b.ifThenElse(
                      okHW, f32,
                      [&] {
                        Value slot = norm ? slotOf(dh, dw) : Value();
                        Value v = input(hh, ww, slot);
                        if (c.dwconv) {
                          Value wv = b.toF32(b.load(weights, {dh, dw, ch}));
                          v = b.fmul(wv, v);
                        }
                        return b.fadd(acc[0], v);
                      },
                      [&] { return acc[0]; });
                  return Values{tap};
                });
          })[0];

      Value out = sum;
      if (!c.dwconv) {
        // In-bounds positions: per axis min(p + r, P - 1) - max(p - r, 0) + 1.
        auto countOf = [&](Value p, int r, Value size) {
          Value lo = b.maxs(b.addConst(p, -r), c0);
          Value last = b.addConst(size, -1);
          Value hi = b.mins(b.addConst(p, r), last);
          return b.addConst(b.sub(hi, lo), 1);
        };
        Value countW = countOf(w, rw, W);
        Value countH = countOf(h, rh, H);
        Value count = b.mul(countH, countW);
        Value avg = b.fdiv(sum, indexToF32(count));
        Value slot = norm ? slotOf(b.idx(rh), b.idx(rw)) : Value();
        Value centre = input(h, w, slot);
        out = b.fsub(avg, centre);
      }
      for (size_t k = 0; k < c.steps.size(); ++k) {
        Value other = load4(e[k], h, w, ch);
        switch (static_cast<MixerKernelConfig::Step>(c.steps[k])) {
        case MixerKernelConfig::Step::Add:
          out = b.fadd(out, other);
          break;
        case MixerKernelConfig::Step::Mul:
          out = b.fmul(out, other);
          break;
        case MixerKernelConfig::Step::Sub:
          out = b.fsub(out, other);
          break;
        case MixerKernelConfig::Step::SubFrom:
          out = b.fsub(other, out);
          break;
        }
      }
      b.store(b.roundTo(t, out), y, {bi, h, w, ch});
    });
  });
}

} // namespace

std::string MixerKernelConfig::kernelName() const {
  const char *n = norm == Norm::Layer ? "layer_norm_"
                  : norm == Norm::Rms ? "rms_norm_"
                                      : "";
  return "loom_mixer_" + std::string(n) +
         (dwconv ? (causal ? "dwcausal" : "dw") : "pool") +
         std::to_string(kh) + "x" + std::to_string(kw) + "_" + elementType +
         "_t" + std::to_string(tileH) + "x" + std::to_string(tileW) + "_b" +
         std::to_string(threads) + (steps.empty() ? "" : "_e" + steps);
}

FailureOr<SymbolRefAttr> buildMixerKernel(ModuleOp module, Location loc,
                                          const MixerKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type image = dynamicMemRefType(4, t);
  KernelSignature sig;
  sig.arguments.push_back(image);
  if (c.norm != MixerKernelConfig::Norm::None)
    sig.arguments.push_back(dynamicMemRefType(1, t));
  if (c.norm == MixerKernelConfig::Norm::Layer)
    sig.arguments.push_back(dynamicMemRefType(1, t));
  if (c.dwconv)
    sig.arguments.push_back(dynamicMemRefType(3, t));
  for (size_t k = 0; k < c.steps.size(); ++k)
    sig.arguments.push_back(image);
  sig.arguments.push_back(image);
  sig.arguments.push_back(Float32Type::get(ctx));
  // The statistics of the halo tokens: [stat][token] f32. 16-byte aligned:
  // the load/store vectorizer may merge neighbouring slots.
  if (c.statsPerToken() > 0)
    sig.workgroup.push_back(
        {sharedMemRefType({c.haloTokens() * c.statsPerToken()},
                          Float32Type::get(ctx)),
         16});
  sig.blockSize = {c.threads, 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { buildMixer(b, c); });
}

} // namespace gpu
} // namespace loom
