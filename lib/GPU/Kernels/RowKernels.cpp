//===- RowKernels.cpp - bandwidth-bound row kernels (norms, RoPE) ---------===//
//
// Norms (rms_norm, layer_norm), one row per `threads` threads (a warp or a
// CTA; `rows` warps of one CTA take a row each when threads == 32):
//
//   every thread owns the 16-byte vectors j = tid + k * threads of its row;
//   register variant (vectors = V > 0, static C <= threads * V * width):
//     load the V vectors once (ld.global.v4), widen to f32, keep them
//   streaming variant (vectors = 0, any C): loop over the vectors per pass
//   rms:   ss = sum x^2 (warp shuffles, then one shared-memory slot per warp)
//          inv = rsqrt(ss / C + eps); y = (x * inv) * g
//   layer: mean = sum x / C; d = x - mean (masked to the row);
//          r = sum d / C; var = max(sum d^2 / C - r^2, 0) (the corrected
//          two-pass: r recovers the rounding of the f32 mean)
//          inv = rsqrt(var + eps); y = (((x - mean) - r) * inv) * g + b
//   y rounded once to the element type, stored with st.global.v4.
//
// A vector is loaded and stored whole only where the whole vector lies in the
// row and every base pointer is 16-byte aligned with C a multiple of the
// width (checked at run time); elsewhere element by element under guards,
// zero-filled, so any C and any alignment are right.
//
// RoPE: one thread per 16-byte vector of output (half style: per vector pair
// d, d + D/2, sharing the cos/sin vector), cos/sin read as f32 vectors;
// element by element under guards where D/2 is not a multiple of the width
// or a pointer is misaligned.
//
// The arithmetic follows the CPU lowering (lib/Conversion/LoomToLinalg/
// Elementwise.cpp) operation for operation; only the summation order of the
// reductions differs.

#include "loom/GPU/Kernels/RowKernels.h"
#include "RecipeText.h"

#include <sstream>
#include <vector>

namespace loom {
namespace gpu {

namespace {

using recipe::cat;
using Emitter = recipe::TextEmitter;

/// Element-type-dependent helpers shared by both recipes.
struct Types {
  explicit Types(const std::string &t, int w) : t(t), w(w) {}
  std::string t;
  int w;
  bool isF32() const { return t == "f32"; }
  std::string vec() const { return cat("vector<", w, "x", t, ">"); }
  std::string vecF() const { return cat("vector<", w, "xf32>"); }
};

std::string andAll(Emitter &e, const std::string &a, const std::string &b) {
  return e.op("and", cat("arith.andi ", a, ", ", b, " : i1"));
}

/// The 16-byte vector of `mem` at `[prefix e]` as f32: whole when `full`, else
/// element by element where `ok(i)` holds, zero elsewhere.
template <typename OkFn>
std::string loadVector(Emitter &e, const Types &ty, const std::string &mem,
                       const std::string &memType, const std::string &prefix,
                       const std::string &elem, const std::string &full,
                       OkFn ok, int align = 16, int width = 0,
                       const std::string &elemType = "") {
  int w = width ? width : ty.w;
  std::string t = elemType.empty() ? ty.t : elemType;
  std::string vt = cat("vector<", w, "x", t, ">");
  std::string zeroV = e.constant(cat("%zv_", w, t), cat("dense<0.0> : ", vt));
  std::string zero = e.constant(cat("%z_", t), cat("0.0 : ", t));
  std::string v = e.fresh("v");
  e.line(cat(v, " = scf.if ", full, " -> (", vt, ") {"));
  e.open();
  std::string l = e.op("l", cat("vector.load ", mem, "[", prefix, elem,
                                "] {alignment = ", align, "} : ", memType,
                                ", ", vt));
  e.line("scf.yield " + l + " : " + vt);
  e.close();
  e.line("} else {");
  e.open();
  std::string acc = zeroV;
  for (int i = 0; i < w; ++i) {
    std::string ei = e.op("ei", cat("arith.addi ", elem, ", ", e.idx(i), " : index"));
    std::string c = ok(ei);
    std::string s = e.fresh("s");
    e.line(cat(s, " = scf.if ", c, " -> (", t, ") {"));
    e.open();
    std::string m = e.op("m", cat("memref.load ", mem, "[", prefix, ei, "] : ", memType));
    e.line("scf.yield " + m + " : " + t);
    e.close();
    e.line("} else {");
    e.line("  scf.yield " + zero + " : " + t);
    e.line("}");
    acc = e.op("ins", cat("vector.insert ", s, ", ", acc, " [", i, "] : ", t,
                         " into ", vt));
  }
  e.line("scf.yield " + acc + " : " + vt);
  e.close();
  e.line("}");
  if (t == "f32")
    return v;
  return e.op("f", cat("arith.extf ", v, " : ", vt, " to vector<", w, "xf32>"));
}

/// Stores the f32 vector `v` rounded to the element type, like loadVector.
template <typename OkFn>
void storeVector(Emitter &e, const Types &ty, const std::string &v,
                 const std::string &mem, const std::string &memType,
                 const std::string &prefix, const std::string &elem,
                 const std::string &full, OkFn ok) {
  std::string r = v;
  if (!ty.isF32())
    r = e.op("r", cat("arith.truncf ", v, " : ", ty.vecF(), " to ", ty.vec()));
  e.line(cat("scf.if ", full, " {"));
  e.open();
  e.line(cat("vector.store ", r, ", ", mem, "[", prefix, elem,
             "] {alignment = 16} : ", memType, ", ", ty.vec()));
  e.close();
  e.line("} else {");
  e.open();
  for (int i = 0; i < ty.w; ++i) {
    std::string ei = e.op("ei", cat("arith.addi ", elem, ", ", e.idx(i), " : index"));
    std::string c = ok(ei);
    e.line(cat("scf.if ", c, " {"));
    e.open();
    std::string s = e.op("s", cat("vector.extract ", r, "[", i, "] : ", ty.t,
                                  " from ", ty.vec()));
    e.line(cat("memref.store ", s, ", ", mem, "[", prefix, ei, "] : ", memType));
    e.close();
    e.line("}");
  }
  e.close();
  e.line("}");
}

} // namespace

std::string NormKernelConfig::kernelName() const {
  return cat("loom_", layer ? "layer_norm" : "rms_norm", "_", elementType, "_t",
             threads, "_r", rows, "_v", vectors);
}

std::string normKernelText(const NormKernelConfig &c) {
  Types ty(c.elementType, c.width());
  Emitter e;
  const int warps = c.threads / 32;
  std::string xT = cat("memref<?x?x", ty.t, ">"), gT = cat("memref<?x", ty.t, ">");
  std::string idx0 = e.idx(0), idx1 = e.idx(1);
  std::string zf = e.constant("%zf", "0.0 : f32");
  std::string zvf = e.constant(cat("%zv_", ty.w, "f32"), cat("dense<0.0> : ", ty.vecF()));

  std::string tid = e.op("tid", "gpu.thread_id x");
  std::string ty_ = e.op("ty", "gpu.thread_id y");
  std::string bid = e.op("bid", "gpu.block_id x");
  std::string rows = e.op("rows", cat("memref.dim %x, ", idx0, " : ", xT));
  std::string C = e.op("C", cat("memref.dim %x, ", idx1, " : ", xT));
  std::string row = e.op("row", cat("arith.muli ", bid, ", ", e.idx(c.rows), " : index"));
  row = e.op("row", cat("arith.addi ", row, ", ", ty_, " : index"));
  std::string rowOk = e.op("rowok", cat("arith.cmpi ult, ", row, ", ", rows, " : index"));
  // Whole vectors need every base 16-byte aligned and C a multiple of width.
  std::string ptrs = e.op("p", cat("memref.extract_aligned_pointer_as_index %x : ", xT, " -> index"));
  for (const char *m : {"%g", "%y", "%b"}) {
    if (std::string(m) == "%b" && !c.layer)
      continue;
    std::string p = e.op("p", cat("memref.extract_aligned_pointer_as_index ", m,
                                  " : ", std::string(m) == "%y" ? xT : gT, " -> index"));
    ptrs = e.op("p", cat("arith.ori ", ptrs, ", ", p, " : index"));
  }
  std::string rem = e.op("rem", cat("arith.remui ", C, ", ", e.idx(ty.w), " : index"));
  std::string pm = e.op("pm", cat("arith.remui ", ptrs, ", ", e.idx(16), " : index"));
  std::string any = e.op("any", cat("arith.ori ", rem, ", ", pm, " : index"));
  std::string aligned = e.op("aligned", cat("arith.cmpi eq, ", any, ", ", idx0, " : index"));
  std::string alignedRow = andAll(e, aligned, rowOk);
  std::string Ci = e.op("Ci", cat("arith.index_cast ", C, " : index to i64"));
  std::string Cf = e.op("Cf", cat("arith.uitofp ", Ci, " : i64 to f32"));

  auto elemOk = [&](const std::string &ei) {
    std::string in = e.op("in", cat("arith.cmpi ult, ", ei, ", ", C, " : index"));
    return andAll(e, in, rowOk);
  };
  auto gOk = [&](const std::string &ei) {
    return e.op("in", cat("arith.cmpi ult, ", ei, ", ", C, " : index"));
  };
  // The first element and the whole-vector condition of vector j.
  auto vectorAt = [&](const std::string &j, std::string &elem, std::string &full,
                      std::string &gFull) {
    elem = e.op("e", cat("arith.muli ", j, ", ", e.idx(ty.w), " : index"));
    std::string end = e.op("end", cat("arith.addi ", elem, ", ", e.idx(ty.w), " : index"));
    std::string fits = e.op("fits", cat("arith.cmpi ule, ", end, ", ", C, " : index"));
    gFull = andAll(e, aligned, fits);
    full = andAll(e, alignedRow, fits);
  };
  // Elements of vector `elem` inside the row (as a mask), for layer_norm's
  // centred squares.
  auto maskOf = [&](const std::string &elem) {
    std::string left = e.op("left", cat("arith.subi ", C, ", ", elem, " : index"));
    std::string n = e.op("n", cat("arith.minsi ", left, ", ", e.idx(ty.w), " : index"));
    n = e.op("n", cat("arith.select ", rowOk, ", ", n, ", ", idx0, " : index"));
    return e.op("mask", cat("vector.create_mask ", n, " : vector<", ty.w, "xi1>"));
  };
  // Sum over the row's threads; every thread gets the same value.
  int reductions = 0;
  auto rowSum = [&](const std::string &v) {
    std::string s = v;
    for (int off = 16; off >= 1; off /= 2) {
      std::string r = e.fresh("sh");
      std::string okName = e.fresh("shok");
      e.line(cat(r, ", ", okName, " = gpu.shuffle xor ", s, ", ", e.i32(off), ", ",
                 e.i32(32), " : f32"));
      s = e.op("sum", cat("arith.addf ", s, ", ", r, " : f32"));
    }
    if (warps == 1)
      return s;
    std::string buf = cat("%red", reductions++);
    std::string lane = e.op("lane", cat("arith.remui ", tid, ", ", e.idx(32), " : index"));
    std::string warp = e.op("warp", cat("arith.divui ", tid, ", ", e.idx(32), " : index"));
    std::string first = e.op("first", cat("arith.cmpi eq, ", lane, ", ", idx0, " : index"));
    std::string wt = cat("memref<", warps, "xf32, #gpu.address_space<workgroup>>");
    e.line(cat("scf.if ", first, " {"));
    e.line(cat("  memref.store ", s, ", ", buf, "[", warp, "] : ", wt));
    e.line("}");
    e.line("gpu.barrier");
    std::string t = e.op("tot", cat("memref.load ", buf, "[", idx0, "] : ", wt));
    for (int w = 1; w < warps; ++w) {
      std::string l = e.op("part", cat("memref.load ", buf, "[", e.idx(w), "] : ", wt));
      t = e.op("tot", cat("arith.addf ", t, ", ", l, " : f32"));
    }
    return t;
  };
  auto reduceVec = [&](const std::string &v) {
    return e.op("rs", cat("vector.reduction <add>, ", v, " : ", ty.vecF(), " into f32"));
  };
  auto sq = [&](const std::string &v) {
    return e.op("sq", cat("arith.mulf ", v, ", ", v, " : ", ty.vecF()));
  };
  auto perC = [&](const std::string &sum) {
    return e.op("mean", cat("arith.divf ", sum, ", ", Cf, " : f32"));
  };
  auto invOf = [&](const std::string &var) {
    std::string d = e.op("den", cat("arith.addf ", var, ", %eps : f32"));
    return e.op("inv", cat("math.rsqrt ", d, " : f32"));
  };
  auto splat = [&](const std::string &s) {
    return e.op("splat", cat("vector.broadcast ", s, " : f32 to ", ty.vecF()));
  };
  // layer_norm's second pass, per vector: d = x - mean inside the row (zero
  // elsewhere), contributing to sum d and sum d^2.
  auto centredSums = [&](const std::string &x, const std::string &elem,
                         const std::string &meanV) {
    std::string d = e.op("d", cat("arith.subf ", x, ", ", meanV, " : ", ty.vecF()));
    d = e.op("d", cat("arith.select ", maskOf(elem), ", ", d, ", ", zvf, " : vector<",
                      ty.w, "xi1>, ", ty.vecF()));
    return std::vector<std::string>{reduceVec(d), reduceVec(sq(d))};
  };
  // The corrected two-pass of the CPU lowering: the f32 mean is off by up to
  // half an ulp of itself (5e-4 for a mean of 1e4, against a unit
  // deviation), d = x - mean is exact near the mean, so r = sum d / C
  // recovers that error and var = max(sum d^2 / C - r^2, 0) loses nothing.
  // Sets rV (the output centres by (x - mean) - r) and returns inv.
  auto layerInv = [&](const std::string &sumD, const std::string &sumDD,
                      std::string &rV) {
    std::string r = perC(sumD);
    rV = splat(r);
    std::string rr = e.op("rr", cat("arith.mulf ", r, ", ", r, " : f32"));
    std::string var = e.op("var", cat("arith.subf ", perC(sumDD), ", ", rr, " : f32"));
    var = e.op("var", cat("arith.maximumf ", var, ", ", zf, " : f32"));
    return invOf(var);
  };
  // y = ((x [- mean - r]) * inv) * g [+ b] for one vector.
  auto output = [&](const std::string &x, const std::string &meanV,
                    const std::string &rV, const std::string &invV,
                    const std::string &elem, const std::string &full,
                    const std::string &gFull) {
    std::string v = x;
    if (c.layer) {
      v = e.op("cent", cat("arith.subf ", v, ", ", meanV, " : ", ty.vecF()));
      v = e.op("cent", cat("arith.subf ", v, ", ", rV, " : ", ty.vecF()));
    }
    v = e.op("nrm", cat("arith.mulf ", v, ", ", invV, " : ", ty.vecF()));
    std::string g = loadVector(e, ty, "%g", gT, "", elem, gFull, gOk);
    v = e.op("yv", cat("arith.mulf ", v, ", ", g, " : ", ty.vecF()));
    if (c.layer) {
      std::string b = loadVector(e, ty, "%b", gT, "", elem, gFull, gOk);
      v = e.op("yv", cat("arith.addf ", v, ", ", b, " : ", ty.vecF()));
    }
    storeVector(e, ty, v, "%y", xT, row + ", ", elem, full, elemOk);
  };

  if (c.vectors > 0) {
    std::vector<std::string> xs, elems, fulls, gFulls;
    std::string acc = zf;
    for (int k = 0; k < c.vectors; ++k) {
      std::string j = e.op("j", cat("arith.addi ", tid, ", ", e.idx(k * c.threads), " : index"));
      std::string elem, full, gFull;
      vectorAt(j, elem, full, gFull);
      std::string x = loadVector(e, ty, "%x", xT, row + ", ", elem, full, elemOk);
      xs.push_back(x);
      elems.push_back(elem);
      fulls.push_back(full);
      gFulls.push_back(gFull);
      acc = e.op("acc", cat("arith.addf ", acc, ", ", reduceVec(c.layer ? x : sq(x)), " : f32"));
    }
    std::string total = rowSum(acc);
    std::string meanV, rV, invV;
    if (c.layer) {
      meanV = splat(perC(total));
      std::string accD = zf, accDD = zf;
      for (int k = 0; k < c.vectors; ++k) {
        std::vector<std::string> sums = centredSums(xs[k], elems[k], meanV);
        accD = e.op("acc", cat("arith.addf ", accD, ", ", sums[0], " : f32"));
        accDD = e.op("acc", cat("arith.addf ", accDD, ", ", sums[1], " : f32"));
      }
      std::string sumD = rowSum(accD);
      invV = splat(layerInv(sumD, rowSum(accDD), rV));
    } else {
      invV = splat(invOf(perC(total)));
    }
    for (int k = 0; k < c.vectors; ++k)
      output(xs[k], meanV, rV, invV, elems[k], fulls[k], gFulls[k]);
  } else {
    std::string nv = e.op("nv", cat("arith.addi ", C, ", ", e.idx(ty.w - 1), " : index"));
    nv = e.op("nv", cat("arith.divui ", nv, ", ", e.idx(ty.w), " : index"));
    std::string step = e.idx(c.threads);
    // One pass over the row: `body(x, elem, full, gFull)` per vector
    // returns its terms of `sums` running sums; the pass returns the sums.
    auto pass = [&](auto bodyFn, int sums) {
      std::string j = e.fresh("j"), res = e.fresh("pass");
      std::vector<std::string> acc, out;
      std::string iters, types;
      for (int i = 0; i < sums; ++i) {
        acc.push_back(e.fresh("a"));
        out.push_back(cat(res, "#", i));
        iters += cat(i ? ", " : "", acc[i], " = ", zf);
        types += cat(i ? ", " : "", "f32");
      }
      if (sums)
        e.line(cat(res, ":", sums, " = scf.for ", j, " = ", tid, " to ", nv, " step ",
                   step, " iter_args(", iters, ") -> (", types, ") {"));
      else
        e.line(cat("scf.for ", j, " = ", tid, " to ", nv, " step ", step, " {"));
      e.open();
      std::string elem, full, gFull;
      vectorAt(j, elem, full, gFull);
      std::string x = loadVector(e, ty, "%x", xT, row + ", ", elem, full, elemOk);
      std::vector<std::string> terms = bodyFn(x, elem, full, gFull);
      if (sums) {
        std::string next;
        for (int i = 0; i < sums; ++i)
          next += cat(i ? ", " : "",
                      e.op("acc", cat("arith.addf ", acc[i], ", ", terms[i], " : f32")));
        e.line(cat("scf.yield ", next, " : ", types));
      }
      e.close();
      e.line("}");
      return out;
    };
    using Terms = std::vector<std::string>;
    std::string meanV, rV, invV;
    if (c.layer) {
      Terms total = pass([&](const std::string &x, const std::string &,
                             const std::string &, const std::string &) {
        return Terms{reduceVec(x)};
      }, 1);
      meanV = splat(perC(rowSum(total[0])));
      Terms centred = pass([&](const std::string &x, const std::string &elem,
                               const std::string &, const std::string &) {
        return centredSums(x, elem, meanV);
      }, 2);
      std::string sumD = rowSum(centred[0]);
      invV = splat(layerInv(sumD, rowSum(centred[1]), rV));
    } else {
      Terms total = pass([&](const std::string &x, const std::string &,
                             const std::string &, const std::string &) {
        return Terms{reduceVec(sq(x))};
      }, 1);
      invV = splat(invOf(perC(rowSum(total[0]))));
    }
    pass([&](const std::string &x, const std::string &elem, const std::string &full,
             const std::string &gFull) {
      output(x, meanV, rV, invV, elem, full, gFull);
      return Terms{};
    }, 0);
  }

  std::ostringstream os;
  os << "gpu.module @recipe {\n  gpu.func @" << c.kernelName() << "(%x: " << xT
     << ", %g: " << gT;
  if (c.layer)
    os << ", %b: " << gT;
  os << ", %y: " << xT << ", %eps: f32)";
  // One f32 slot per warp and reduction. The 16-byte alignment matters: the
  // NVPTX load/store vectorizer merges the reads of the slots into
  // ld.shared.v4, which faults (misaligned address, seen on H100) on the
  // default 4-byte-aligned buffer.
  if (warps > 1) {
    os << " workgroup(";
    for (int r = 0; r < (c.layer ? 3 : 1); ++r)
      os << (r ? ", " : "") << "%red" << r << " : memref<" << warps
         << "xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}";
    os << ")";
  }
  os << " kernel attributes {known_block_size = array<i32: " << c.threads << ", "
     << c.rows << ", 1>} {\n"
     << e.text() << "    gpu.return\n  }\n}\n";
  return os.str();
}

std::string RopeKernelConfig::kernelName() const {
  // The default block size is left out of the name.
  return cat("loom_rope_", interleaved ? "interleaved" : "half", "_", elementType,
             threads == 256 ? std::string() : cat("_t", threads));
}

std::string ropeKernelText(const RopeKernelConfig &c) {
  Types ty(c.elementType, c.width());
  Emitter e;
  const int w = ty.w;
  std::string xT = cat("memref<?x?x", ty.t, ">"), csT = "memref<?x?xf32>";
  std::string idx0 = e.idx(0), idx1 = e.idx(1);
  std::string tid = e.op("tid", "gpu.thread_id x");
  std::string bid = e.op("bid", "gpu.block_id x");
  std::string t = e.op("t", cat("arith.muli ", bid, ", ", e.idx(c.threads), " : index"));
  t = e.op("t", cat("arith.addi ", t, ", ", tid, " : index"));
  std::string rows = e.op("rows", cat("memref.dim %x, ", idx0, " : ", xT));
  std::string D = e.op("D", cat("memref.dim %x, ", idx1, " : ", xT));
  std::string S = e.op("S", cat("memref.dim %cos, ", idx0, " : ", csT));
  std::string half = e.op("half", cat("arith.divui ", D, ", ", e.idx(2), " : index"));
  // Vectors per row: of the first half (half style) or of the row.
  std::string span = c.interleaved ? D : half;
  std::string per = e.op("per", cat("arith.addi ", span, ", ", e.idx(w - 1), " : index"));
  per = e.op("per", cat("arith.divui ", per, ", ", e.idx(w), " : index"));
  std::string total = e.op("total", cat("arith.muli ", rows, ", ", per, " : index"));
  std::string inRange = e.op("live", cat("arith.cmpi ult, ", t, ", ", total, " : index"));
  e.line(cat("scf.if ", inRange, " {"));
  e.open();
  std::string row = e.op("row", cat("arith.divui ", t, ", ", per, " : index"));
  std::string u = e.op("u", cat("arith.remui ", t, ", ", per, " : index"));
  std::string s = e.op("s", cat("arith.remui ", row, ", ", S, " : index"));
  // Whole vectors: every base 16-byte aligned and D a multiple of 2 * width.
  std::string ptrs = e.op("p", cat("memref.extract_aligned_pointer_as_index %x : ", xT, " -> index"));
  for (const char *m : {"%cos", "%sin", "%y"}) {
    std::string p = e.op("p", cat("memref.extract_aligned_pointer_as_index ", m, " : ",
                                  std::string(m) == "%y" ? xT : csT, " -> index"));
    ptrs = e.op("p", cat("arith.ori ", ptrs, ", ", p, " : index"));
  }
  std::string pm = e.op("pm", cat("arith.remui ", ptrs, ", ", e.idx(16), " : index"));
  std::string dm = e.op("dm", cat("arith.remui ", D, ", ", e.idx(2 * w), " : index"));
  std::string any = e.op("any", cat("arith.ori ", pm, ", ", dm, " : index"));
  std::string aligned = e.op("aligned", cat("arith.cmpi eq, ", any, ", ", idx0, " : index"));
  std::string elem = e.op("e", cat("arith.muli ", u, ", ", e.idx(w), " : index"));
  std::string end = e.op("end", cat("arith.addi ", elem, ", ", e.idx(w), " : index"));
  std::string fits = e.op("fits", cat("arith.cmpi ule, ", end, ", ", span, " : index"));
  std::string full = andAll(e, aligned, fits);
  std::string prefix = row + ", ";
  std::string vf = ty.vecF();

  if (!c.interleaved) {
    std::string elem2 = e.op("e2", cat("arith.addi ", elem, ", ", half, " : index"));
    auto ok = [&](const std::string &ei) {
      return e.op("in", cat("arith.cmpi ult, ", ei, ", ", half, " : index"));
    };
    // Partner elements: their offsets within the first half decide the guard.
    auto ok2 = [&](const std::string &ei) {
      std::string lo = e.op("lo", cat("arith.subi ", ei, ", ", half, " : index"));
      return e.op("in", cat("arith.cmpi ult, ", lo, ", ", half, " : index"));
    };
    std::string x1 = loadVector(e, ty, "%x", xT, prefix, elem, full, ok);
    std::string x2 = loadVector(e, ty, "%x", xT, prefix, elem2, full, ok2);
    std::string co = loadVector(e, ty, "%cos", csT, s + ", ", elem, full, ok, 16, w, "f32");
    std::string si = loadVector(e, ty, "%sin", csT, s + ", ", elem, full, ok, 16, w, "f32");
    // first: x1 c - x2 s; second: x2 c + x1 s.
    std::string a = e.op("a", cat("arith.mulf ", x1, ", ", co, " : ", vf));
    std::string b = e.op("b", cat("arith.mulf ", x2, ", ", si, " : ", vf));
    std::string y1 = e.op("y", cat("arith.subf ", a, ", ", b, " : ", vf));
    std::string c2 = e.op("a", cat("arith.mulf ", x2, ", ", co, " : ", vf));
    std::string d2 = e.op("b", cat("arith.mulf ", x1, ", ", si, " : ", vf));
    std::string y2 = e.op("y", cat("arith.addf ", c2, ", ", d2, " : ", vf));
    storeVector(e, ty, y1, "%y", xT, prefix, elem, full, ok);
    storeVector(e, ty, y2, "%y", xT, prefix, elem2, full, ok2);
  } else {
    // Pairs (2i, 2i + 1) of the vector; cos/sin columns elem/2 ... elem/2 + w/2.
    auto ok = [&](const std::string &ei) {
      // Both members of the pair must lie in the row.
      std::string base = e.op("pb", cat("arith.ori ", ei, ", ", idx1, " : index"));
      return e.op("in", cat("arith.cmpi ult, ", base, ", ", D, " : index"));
    };
    std::string x = loadVector(e, ty, "%x", xT, prefix, elem, full, ok);
    int hw = w / 2;
    std::string col = e.op("col", cat("arith.divui ", elem, ", ", e.idx(2), " : index"));
    auto okc = [&](const std::string &ci) {
      std::string d = e.op("cd", cat("arith.muli ", ci, ", ", e.idx(2), " : index"));
      return ok(d);
    };
    int calign = hw * 4 < 16 ? hw * 4 : 16;
    std::string co = loadVector(e, ty, "%cos", csT, s + ", ", col, full, okc, calign, hw, "f32");
    std::string si = loadVector(e, ty, "%sin", csT, s + ", ", col, full, okc, calign, hw, "f32");
    std::string hvf = cat("vector<", hw, "xf32>");
    std::string evenIdx, oddIdx, inter;
    for (int i = 0; i < hw; ++i) {
      evenIdx += cat(i ? ", " : "", 2 * i);
      oddIdx += cat(i ? ", " : "", 2 * i + 1);
      inter += cat(i ? ", " : "", i, ", ", hw + i);
    }
    std::string x1 = e.op("x1", cat("vector.shuffle ", x, ", ", x, " [", evenIdx, "] : ", vf, ", ", vf));
    std::string x2 = e.op("x2", cat("vector.shuffle ", x, ", ", x, " [", oddIdx, "] : ", vf, ", ", vf));
    std::string a = e.op("a", cat("arith.mulf ", x1, ", ", co, " : ", hvf));
    std::string b = e.op("b", cat("arith.mulf ", x2, ", ", si, " : ", hvf));
    std::string y1 = e.op("y", cat("arith.subf ", a, ", ", b, " : ", hvf));
    std::string c2 = e.op("a", cat("arith.mulf ", x2, ", ", co, " : ", hvf));
    std::string d2 = e.op("b", cat("arith.mulf ", x1, ", ", si, " : ", hvf));
    std::string y2 = e.op("y", cat("arith.addf ", c2, ", ", d2, " : ", hvf));
    std::string y = e.op("y", cat("vector.shuffle ", y1, ", ", y2, " [", inter, "] : ", hvf, ", ", hvf));
    storeVector(e, ty, y, "%y", xT, prefix, elem, full, ok);
  }
  e.close();
  e.line("}");

  std::ostringstream os;
  os << "gpu.module @recipe {\n  gpu.func @" << c.kernelName() << "(%x: " << xT
     << ", %cos: " << csT << ", %sin: " << csT << ", %y: " << xT
     << ") kernel attributes {known_block_size = array<i32: " << c.threads
     << ", 1, 1>} {\n"
     << e.text() << "    gpu.return\n  }\n}\n";
  return os.str();
}

} // namespace gpu
} // namespace loom
