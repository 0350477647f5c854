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
//      one warp per token (lanes stride over C, warp shuffles), into shared
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
#include "RecipeText.h"

#include <sstream>
#include <vector>

namespace loom {
namespace gpu {

namespace {
using recipe::cat;
using recipe::IndexEmitter;
} // namespace

std::string MixerKernelConfig::kernelName() const {
  const char *n = norm == Norm::Layer ? "layer_norm_"
                  : norm == Norm::Rms ? "rms_norm_"
                                      : "";
  return cat("loom_mixer_", n, dwconv ? (causal ? "dwcausal" : "dw") : "pool",
             kh, "x", kw, "_", elementType, "_t",
             tileH, "x", tileW, "_b", threads,
             steps.empty() ? std::string() : cat("_e", steps));
}

std::string mixerKernelText(const MixerKernelConfig &c) {
  IndexEmitter e;
  const std::string T = c.elementType;
  const std::string xT = cat("memref<?x?x?x?x", T, ">");
  const std::string gT = cat("memref<?x", T, ">");
  const bool layer = c.norm == MixerKernelConfig::Norm::Layer;
  const bool norm = c.norm != MixerKernelConfig::Norm::None;
  const int64_t halo = c.haloTokens();
  const int64_t haloW = c.tileW + c.kw - 1;
  const int rh = c.offsetH(), rw = c.offsetW();
  const std::string sT =
      cat("memref<", halo * c.statsPerToken(),
          "xf32, #gpu.address_space<workgroup>>");

  std::string c0 = e.idx(0), c1 = e.idx(1);
  std::string zf = e.constant("%zf", "0.0 : f32");
  auto f = [&](const std::string &opName, const std::string &a,
               const std::string &b) {
    return e.let(cat("arith.", opName, " ", a, ", ", b, " : f32"), "f");
  };
  auto ix = [&](const std::string &opName, const std::string &a,
                const std::string &b) {
    return e.let(cat("arith.", opName, " ", a, ", ", b, " : index"));
  };
  // 0 <= pos < size (pos may be "negative").
  auto inside = [&](const std::string &pos, const std::string &size) {
    std::string lo = e.let(cat("arith.cmpi sge, ", pos, ", ", c0, " : index"), "p");
    std::string hi = e.let(cat("arith.cmpi slt, ", pos, ", ", size, " : index"), "p");
    return e.andi(lo, hi);
  };
  auto toF32 = [&](const std::string &index) {
    return e.let(cat("arith.sitofp ",
                     e.let(cat("arith.index_cast ", index, " : index to i64")),
                     " : i64 to f32"), "f");
  };
  // Element `b, h, w, c` of a [B, H, W, C] operand, as f32.
  auto load4 = [&](const std::string &mem, const std::string &b,
                   const std::string &h, const std::string &w,
                   const std::string &ch) {
    std::string v = e.let(cat("memref.load ", mem, "[", b, ", ", h, ", ", w,
                              ", ", ch, "] : ", xT), "x");
    return recipe::toF32(e, v, T);
  };

  std::string tid = e.let("gpu.thread_id x", "tid");
  std::string bx = e.let("gpu.block_id x", "bid");
  std::string B = e.let(cat("memref.dim %x, ", c0, " : ", xT), "B");
  std::string H = e.let(cat("memref.dim %x, ", c1, " : ", xT), "H");
  std::string W = e.let(cat("memref.dim %x, ", e.idx(2), " : ", xT), "W");
  std::string C = e.let(cat("memref.dim %x, ", e.idx(3), " : ", xT), "C");
  // CTA (b * hTiles + the H tile) * wTiles + the W tile (tile counts at
  // least 1, as on the host).
  std::string wTiles = ix("maxui", e.div(e.addConst(W, c.tileW - 1), c.tileW), c1);
  std::string hTiles = ix("maxui", e.div(e.addConst(H, c.tileH - 1), c.tileH), c1);
  std::string w0 = e.mul(ix("remui", bx, wTiles), c.tileW);
  std::string rest = ix("divui", bx, wTiles);
  std::string h0 = e.mul(ix("remui", rest, hTiles), c.tileH);
  std::string bi = ix("divui", rest, hTiles);
  std::string bOk = e.ult(bi, B);
  std::string Cf = toF32(C);

  // ---- 1. norm statistics of the tile and its halo, a warp per token ----
  std::string eps = "%eps";
  if (norm) {
    std::string lane = e.rem(tid, 32), warp = e.div(tid, 32);
    auto warpSum = [&](std::string s) {
      for (int off = 16; off >= 1; off /= 2) {
        std::string r = e.fresh("sh"), ok = e.fresh("shok");
        e.line(cat(r, ", ", ok, " = gpu.shuffle xor ", s, ", ", e.i32(off),
                   ", ", e.i32(32), " : f32"));
        s = f("addf", s, r);
      }
      return s;
    };
    std::string t = e.fresh("t");
    e.line(cat("scf.for ", t, " = ", warp, " to ", e.idx(halo), " step ",
               e.idx(c.threads / 32), " {"));
    e.open();
    std::string hh = e.addConst(e.add(h0, e.div(t, haloW)), -rh);
    std::string ww = e.addConst(e.add(w0, e.rem(t, haloW)), -rw);
    std::string ok = e.andi(bOk, e.andi(inside(hh, H), inside(ww, W)));
    e.line(cat("scf.if ", ok, " {"));
    e.open();
    // Sums over the token's channels (lanes stride by 32) of `terms(x)`.
    auto channelSums = [&](int n, auto terms) {
      std::string res = e.fresh("sums"), ch = e.fresh("ch");
      std::vector<std::string> acc, out;
      std::string iters, types;
      for (int i = 0; i < n; ++i) {
        acc.push_back(e.fresh("a"));
        out.push_back(cat(res, "#", i));
        iters += cat(i ? ", " : "", acc[i], " = ", zf);
        types += cat(i ? ", " : "", "f32");
      }
      e.line(cat(res, ":", n, " = scf.for ", ch, " = ", lane, " to ", C,
                 " step ", e.idx(32), " iter_args(", iters, ") -> (", types,
                 ") {"));
      e.open();
      std::vector<std::string> ts = terms(load4("%x", bi, hh, ww, ch));
      std::string next;
      for (int i = 0; i < n; ++i)
        next += cat(i ? ", " : "", f("addf", acc[i], ts[i]));
      e.line(cat("scf.yield ", next, " : ", types));
      e.close();
      e.line("}");
      for (std::string &o : out)
        o = warpSum(o);
      return out;
    };
    auto invOf = [&](const std::string &var) {
      return e.let(cat("math.rsqrt ", f("addf", var, eps), " : f32"), "f");
    };
    std::vector<std::string> stats;
    if (layer) {
      std::string mean = f("divf", channelSums(1, [&](const std::string &x) {
                             return std::vector<std::string>{x};
                           })[0], Cf);
      std::vector<std::string> d = channelSums(2, [&](const std::string &x) {
        std::string dx = f("subf", x, mean);
        return std::vector<std::string>{dx, f("mulf", dx, dx)};
      });
      std::string r = f("divf", d[0], Cf);
      std::string var = f("subf", f("divf", d[1], Cf), f("mulf", r, r));
      var = f("maximumf", var, zf);
      stats = {mean, r, invOf(var)};
    } else {
      std::string ss = channelSums(1, [&](const std::string &x) {
        return std::vector<std::string>{f("mulf", x, x)};
      })[0];
      stats = {invOf(f("divf", ss, Cf))};
    }
    std::string first = e.let(cat("arith.cmpi eq, ", lane, ", ", c0, " : index"), "p");
    e.line(cat("scf.if ", first, " {"));
    e.open();
    for (size_t s = 0; s < stats.size(); ++s)
      e.line(cat("memref.store ", stats[s], ", %stats[",
                 e.addConst(t, int64_t(s) * halo), "] : ", sT));
    e.close();
    e.line("}");
    e.close();
    e.line("}");
    e.close();
    e.line("}");
    e.line("gpu.barrier");
  }

  // ---- 2. the outputs of the tile, c fastest ----
  std::string n = e.mul(C, int64_t(c.tileH) * c.tileW);
  std::string i = e.fresh("i");
  e.line(cat("scf.for ", i, " = ", tid, " to ", n, " step ", e.idx(c.threads),
             " {"));
  e.open();
  std::string tok = ix("divui", i, C), ch = ix("remui", i, C);
  std::string th = e.div(tok, c.tileW), tw = e.rem(tok, c.tileW);
  std::string h = e.add(h0, th), w = e.add(w0, tw);
  std::string ok = e.andi(bOk, e.andi(e.ult(h, H), e.ult(w, W)));
  e.line(cat("scf.if ", ok, " {"));
  e.open();
  std::string g, bias;
  if (norm)
    g = recipe::toF32(e, e.let(cat("memref.load %g[", ch, "] : ", gT), "x"), T);
  if (layer)
    bias = recipe::toF32(e, e.let(cat("memref.load %b[", ch, "] : ", gT), "x"), T);
  // The mixer's input at (hh, ww, ch): x normalized with the statistics of
  // halo token `slot`.
  auto input = [&](const std::string &hh, const std::string &ww,
                   const std::string &slot) {
    std::string x = load4("%x", bi, hh, ww, ch);
    if (!norm)
      return x;
    auto stat = [&](int s) {
      return e.let(cat("memref.load %stats[", e.addConst(slot, int64_t(s) * halo),
                       "] : ", sT), "f");
    };
    std::string v;
    if (layer) {
      v = f("subf", x, stat(0));
      v = f("subf", v, stat(1));
      v = f("mulf", f("mulf", v, stat(2)), g);
      v = f("addf", v, bias);
    } else {
      v = f("mulf", f("mulf", x, stat(0)), g);
    }
    // Rounded to the element type, as the norm's result would be.
    if (T == "f32")
      return v;
    v = e.let(cat("arith.truncf ", v, " : f32 to ", T), "y");
    return e.let(cat("arith.extf ", v, " : ", T, " to f32"), "f");
  };
  // The halo slot of the token (th + dh, tw + dw) of the tile.
  auto slotOf = [&](const std::string &dh, const std::string &dw) {
    return e.add(e.mul(e.add(th, dh), haloW), e.add(tw, dw));
  };

  // Window sum, rows outer, columns inner, in-bounds positions only.
  std::string dh = e.fresh("dh"), s0 = e.fresh("s"), rowsSum = e.fresh("win");
  e.line(cat(rowsSum, " = scf.for ", dh, " = ", c0, " to ", e.idx(c.kh),
             " step ", c1, " iter_args(", s0, " = ", zf, ") -> (f32) {"));
  e.open();
  std::string hh = e.addConst(e.add(h, dh), -rh);
  std::string okH = inside(hh, H);
  std::string dw = e.fresh("dw"), s1 = e.fresh("s"), colsSum = e.fresh("win");
  e.line(cat(colsSum, " = scf.for ", dw, " = ", c0, " to ", e.idx(c.kw),
             " step ", c1, " iter_args(", s1, " = ", s0, ") -> (f32) {"));
  e.open();
  std::string ww = e.addConst(e.add(w, dw), -rw);
  std::string okHW = e.andi(okH, inside(ww, W));
  std::string tap = e.fresh("tap");
  e.line(cat(tap, " = scf.if ", okHW, " -> (f32) {"));
  e.open();
  std::string v = input(hh, ww, norm ? slotOf(dh, dw) : "");
  if (c.dwconv) {
    std::string wv = e.let(cat("memref.load %w[", dh, ", ", dw, ", ", ch,
                               "] : memref<?x?x?x", T, ">"), "x");
    v = f("mulf", recipe::toF32(e, wv, T), v);
  }
  e.line(cat("scf.yield ", f("addf", s1, v), " : f32"));
  e.close();
  e.line("} else {");
  e.line(cat("  scf.yield ", s1, " : f32"));
  e.line("}");
  e.line(cat("scf.yield ", tap, " : f32"));
  e.close();
  e.line("}");
  e.line(cat("scf.yield ", colsSum, " : f32"));
  e.close();
  e.line("}");

  std::string y = rowsSum;
  if (!c.dwconv) {
    // In-bounds positions: per axis min(p + r, P - 1) - max(p - r, 0) + 1.
    auto countOf = [&](const std::string &p, int r, const std::string &size) {
      std::string lo = ix("maxsi", e.addConst(p, -r), c0);
      std::string hi = ix("minsi", e.addConst(p, r), e.addConst(size, -1));
      return e.addConst(ix("subi", hi, lo), 1);
    };
    std::string count = e.mul(countOf(h, rh, H), countOf(w, rw, W));
    std::string avg = f("divf", rowsSum, toF32(count));
    std::string centre =
        input(h, w, norm ? slotOf(e.idx(rh), e.idx(rw)) : "");
    y = f("subf", avg, centre);
  }
  for (size_t k = 0; k < c.steps.size(); ++k) {
    std::string other = load4(cat("%e", k), bi, h, w, ch);
    switch (static_cast<MixerKernelConfig::Step>(c.steps[k])) {
    case MixerKernelConfig::Step::Add:
      y = f("addf", y, other);
      break;
    case MixerKernelConfig::Step::Mul:
      y = f("mulf", y, other);
      break;
    case MixerKernelConfig::Step::Sub:
      y = f("subf", y, other);
      break;
    case MixerKernelConfig::Step::SubFrom:
      y = f("subf", other, y);
      break;
    }
  }
  if (T != "f32")
    y = e.let(cat("arith.truncf ", y, " : f32 to ", T), "y");
  e.line(cat("memref.store ", y, ", %y[", bi, ", ", h, ", ", w, ", ", ch,
             "] : ", xT));
  e.close();
  e.line("}");
  e.close();
  e.line("}");

  std::ostringstream os;
  os << "gpu.module @recipe {\n  gpu.func @" << c.kernelName() << "(%x: " << xT;
  if (norm)
    os << ", %g: " << gT;
  if (layer)
    os << ", %b: " << gT;
  if (c.dwconv)
    os << ", %w: memref<?x?x?x" << T << ">";
  for (size_t k = 0; k < c.steps.size(); ++k)
    os << ", %e" << k << ": " << xT;
  os << ", %y: " << xT << ", %eps: f32)";
  if (norm)
    os << " workgroup(%stats : " << sT << " {llvm.align = 16 : i64})";
  os << " kernel attributes {known_block_size = array<i32: " << c.threads
     << ", 1, 1>} {\n"
     << e.text() << "    gpu.return\n  }\n}\n";
  return os.str();
}

} // namespace gpu
} // namespace loom
