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

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/NormStats.h"
#include "loom/GPU/Builder/Reduce.h"
#include "loom/GPU/Builder/Rope.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;
/// Whether element `ei` (an index) of a vector lies where it may be read or
/// written.
using ElementOk = llvm::function_ref<Value(Value)>;

/// The 16-byte vector of `mem` at [prefix..., elem] as f32: whole when
/// `full`, else element by element where `ok(i)` holds, zero elsewhere.
Value loadVector(KernelBuilder &b, Value mem, ValueRange prefix, Value elem,
                 Value full, ElementOk ok, int64_t align, int64_t width,
                 Type elementType) {
  auto vt = VectorType::get({width}, elementType);
  auto at = [&](Value e) {
    Values indices(prefix);
    indices.push_back(e);
    return indices;
  };
  Value v = b.ifThenElse(
      full, vt, [&] { return b.vectorLoad(vt, mem, at(elem), align); },
      [&] {
        Value acc = b.zero(vt);
        for (int64_t i = 0; i < width; ++i) {
          Value ei = b.add(elem, b.idx(i));
          Value s = b.ifThenElse(
              ok(ei), elementType, [&] { return b.load(mem, at(ei)); },
              [&] { return b.zero(elementType); });
          acc = b.insert(s, acc, i);
        }
        return acc;
      });
  return b.toF32(v);
}

/// Stores the f32 vector `v` rounded to `elementType` at [prefix..., elem],
/// like loadVector.
void storeVector(KernelBuilder &b, Value v, Type elementType, Value mem,
                 ValueRange prefix, Value elem, Value full, ElementOk ok) {
  Value r = b.roundTo(elementType, v);
  int64_t width = cast<VectorType>(v.getType()).getNumElements();
  auto at = [&](Value e) {
    Values indices(prefix);
    indices.push_back(e);
    return indices;
  };
  b.ifThenElse(
      full, [&] { b.vectorStore(r, mem, at(elem), 16); },
      [&] {
        for (int64_t i = 0; i < width; ++i) {
          Value ei = b.add(elem, b.idx(i));
          b.ifThen(ok(ei), [&] { b.store(b.extract(r, i), mem, at(ei)); });
        }
      });
}

/// The norm kernel's body (see the file comment).
void buildNorm(KernelBuilder &b, const NormKernelConfig &c) {
  Type t = parseElementType(b.getContext(), c.elementType);
  const int64_t w = c.width(), warps = c.threads / 32;
  auto vecF = VectorType::get({w}, b.getF32Type());
  Value x = b.arg(0), g = b.arg(1), bias = c.layer ? b.arg(2) : Value();
  Value y = b.arg(c.layer ? 3 : 2), eps = b.arg(c.layer ? 4 : 3);
  Value idx0 = b.idx(0);
  Value zf = b.f32(0.0);
  Value zvf = b.zero(vecF);

  Value tid = b.threadId(mlir::gpu::Dimension::x);
  Value tidY = b.threadId(mlir::gpu::Dimension::y);
  Value bid = b.blockId(mlir::gpu::Dimension::x);
  Value rows = b.dim(x, 0);
  Value C = b.dim(x, 1);
  Value row = b.add(b.mul(bid, b.idx(c.rows)), tidY);
  Value rowOk = b.ult(row, rows);
  // Whole vectors need every base 16-byte aligned and C a multiple of width.
  Value ptrs = b.alignedPointer(x);
  for (Value m : {g, y, bias})
    if (m)
      ptrs = b.ori(ptrs, b.alignedPointer(m));
  Value rem = b.remu(C, b.idx(w));
  Value pm = b.remu(ptrs, b.idx(16));
  Value aligned = b.eq(b.ori(rem, pm), idx0);
  Value alignedRow = b.andi(aligned, rowOk);
  Value Cf = b.uitofp(b.getF32Type(), b.indexCast(b.getI64Type(), C));

  auto elemOk = [&](Value ei) { return b.andi(b.ult(ei, C), rowOk); };
  auto gOk = [&](Value ei) { return b.ult(ei, C); };
  // The first element and the whole-vector conditions of vector j.
  struct At {
    Value elem, full, gFull;
  };
  auto vectorAt = [&](Value j) {
    At a;
    a.elem = b.mul(j, b.idx(w));
    Value fits = b.ule(b.add(a.elem, b.idx(w)), C);
    a.gFull = b.andi(aligned, fits);
    a.full = b.andi(alignedRow, fits);
    return a;
  };
  auto loadX = [&](const At &a) {
    return loadVector(b, x, row, a.elem, a.full, elemOk, 16, w, t);
  };
  // Elements of the vector at `elem` inside the row, as a mask (for
  // layer_norm's centred sums).
  auto maskOf = [&](Value elem) {
    Value n = b.mins(b.sub(C, elem), b.idx(w));
    n = b.select(rowOk, n, idx0);
    return vector::CreateMaskOp::create(
        b, VectorType::get({w}, b.getI1Type()), ValueRange{n});
  };
  // Sum over the row's threads; every thread gets the same value.
  unsigned reductions = 0;
  auto rowSum = [&](Value v) {
    if (warps == 1)
      return warpAllReduce(b, v, ReduceKind::Add);
    return blockAllReduce(b, v, ReduceKind::Add, tid, warps,
                          b.workgroup(reductions++));
  };
  auto sq = [&](Value v) { return b.fmul(v, v); };
  auto splat = [&](Value s) { return b.broadcast(vecF, s); };
  // layer_norm's second pass, per vector: d = x - mean inside the row (zero
  // elsewhere), contributing to sum d and sum d^2.
  auto centredSums = [&](Value xv, Value elem, Value meanV) {
    Value d = b.fsub(xv, meanV);
    d = b.select(maskOf(elem), d, zvf);
    Value sum = b.reduceAdd(d);
    return Values{sum, b.reduceAdd(sq(d))};
  };
  // y = ((x [- mean - r]) * inv) * g [+ b] for one vector.
  auto output = [&](Value xv, Value meanV, Value rV, Value invV, const At &a) {
    Value v = xv;
    if (c.layer)
      v = b.fsub(b.fsub(v, meanV), rV);
    v = b.fmul(v, invV);
    v = b.fmul(v, loadVector(b, g, {}, a.elem, a.gFull, gOk, 16, w, t));
    if (c.layer)
      v = b.fadd(v, loadVector(b, bias, {}, a.elem, a.gFull, gOk, 16, w, t));
    storeVector(b, v, t, y, row, a.elem, a.full, elemOk);
  };
  auto layerInv = [&](Value sumD, Value sumDD, Value &rV) {
    LayerNormStats stats = layerNormStats(b, sumD, sumDD, Cf, eps);
    rV = splat(stats.r);
    return stats.inv;
  };

  Value meanV, rV, invV;
  if (c.vectors > 0) {
    Values xs;
    SmallVector<At> ats;
    Value acc = zf;
    for (int64_t k = 0; k < c.vectors; ++k) {
      At a = vectorAt(b.add(tid, b.idx(k * c.threads)));
      Value xv = loadX(a);
      xs.push_back(xv);
      ats.push_back(a);
      acc = b.fadd(acc, b.reduceAdd(c.layer ? xv : sq(xv)));
    }
    Value total = rowSum(acc);
    if (c.layer) {
      meanV = splat(b.fdiv(total, Cf));
      Value accD = zf, accDD = zf;
      for (int64_t k = 0; k < c.vectors; ++k) {
        Values sums = centredSums(xs[k], ats[k].elem, meanV);
        accD = b.fadd(accD, sums[0]);
        accDD = b.fadd(accDD, sums[1]);
      }
      Value sumD = rowSum(accD);
      Value sumDD = rowSum(accDD);
      invV = splat(layerInv(sumD, sumDD, rV));
    } else {
      invV = splat(rmsInverse(b, total, Cf, eps));
    }
    for (int64_t k = 0; k < c.vectors; ++k)
      output(xs[k], meanV, rV, invV, ats[k]);
    return;
  }

  // Streaming: one loop over the row's vectors per pass; `terms(x, at)`
  // returns a vector's terms of the pass's running sums.
  Value nv = b.divu(b.add(C, b.idx(w - 1)), b.idx(w));
  Value step = b.idx(c.threads);
  auto pass = [&](size_t sums,
                  llvm::function_ref<Values(Value, const At &)> terms) {
    Values inits(sums, zf);
    return b.forLoop(tid, nv, step, inits, [&](Value j, ValueRange acc) {
      At a = vectorAt(j);
      Values ts = terms(loadX(a), a);
      Values next;
      for (size_t i = 0; i < sums; ++i)
        next.push_back(b.fadd(acc[i], ts[i]));
      return next;
    });
  };
  if (c.layer) {
    Values total = pass(1, [&](Value xv, const At &) {
      return Values{b.reduceAdd(xv)};
    });
    meanV = splat(b.fdiv(rowSum(total[0]), Cf));
    Values centred = pass(2, [&](Value xv, const At &a) {
      return centredSums(xv, a.elem, meanV);
    });
    Value sumD = rowSum(centred[0]);
    Value sumDD = rowSum(centred[1]);
    invV = splat(layerInv(sumD, sumDD, rV));
  } else {
    Values total = pass(1, [&](Value xv, const At &) {
      return Values{b.reduceAdd(sq(xv))};
    });
    invV = splat(rmsInverse(b, rowSum(total[0]), Cf, eps));
  }
  pass(0, [&](Value xv, const At &a) {
    output(xv, meanV, rV, invV, a);
    return Values{};
  });
}

/// The RoPE kernel's body (see the file comment).
void buildRope(KernelBuilder &b, const RopeKernelConfig &c) {
  Type t = parseElementType(b.getContext(), c.elementType);
  Type f32 = b.getF32Type();
  const int64_t w = c.width();
  Value x = b.arg(0), cosT = b.arg(1), sinT = b.arg(2), y = b.arg(3);
  Value idx0 = b.idx(0), idx1 = b.idx(1);
  Value tid = b.threadId();
  Value bid = b.blockId();
  Value th = b.add(b.mul(bid, b.idx(c.threads)), tid);
  // Strided: x [B, H, S, D] read in place, its rows in (b, h, s) order.
  Value rows, D, S, heads;
  if (c.strided) {
    heads = b.dim(x, 1);
    S = b.dim(x, 2);
    D = b.dim(x, 3);
    rows = b.mul(b.mul(b.dim(x, 0), heads), S);
  } else {
    rows = b.dim(x, 0);
    D = b.dim(x, 1);
    S = b.dim(cosT, 0);
  }
  Value half = b.divu(D, b.idx(2));
  // Vectors per row: of the first half (half style) or of the row.
  Value span = c.interleaved ? D : half;
  Value per = b.divu(b.add(span, b.idx(w - 1)), b.idx(w));
  Value total = b.mul(rows, per);
  b.ifThen(b.ult(th, total), [&] {
    Value row = b.divu(th, per);
    Value u = b.remu(th, per);
    Value s = b.remu(row, S);
    // Where x's row lies: [row] or [b, h, s].
    Values xAt{row};
    if (c.strided) {
      Value bh = b.divu(row, S);
      xAt = {b.divu(bh, heads), b.remu(bh, heads), s};
    }
    // Whole vectors: every base 16-byte aligned and D a multiple of 2 * width
    // (strided: x's start and its strides too).
    Value ptrs = b.alignedPointer(x);
    Value strideMiss = idx0;
    if (c.strided) {
      auto meta = memref::ExtractStridedMetadataOp::create(b, x);
      int64_t bytes = t.getIntOrFloatBitWidth() / 8;
      ptrs = b.add(ptrs, b.mul(meta.getOffset(), b.idx(bytes)));
      for (int i = 0; i < 3; ++i)
        strideMiss = b.ori(strideMiss, b.remu(meta.getStrides()[i], b.idx(w)));
    }
    for (Value m : {cosT, sinT, y})
      ptrs = b.ori(ptrs, b.alignedPointer(m));
    Value pm = b.ori(b.remu(ptrs, b.idx(16)), strideMiss);
    Value dm = b.remu(D, b.idx(2 * w));
    Value aligned = b.eq(b.ori(pm, dm), idx0);
    Value elem = b.mul(u, b.idx(w));
    Value fits = b.ule(b.add(elem, b.idx(w)), span);
    Value full = b.andi(aligned, fits);

    if (!c.interleaved) {
      Value elem2 = b.add(elem, half);
      auto ok = [&](Value ei) { return b.ult(ei, half); };
      // Partner elements: their offsets within the first half decide the
      // guard.
      auto ok2 = [&](Value ei) { return b.ult(b.sub(ei, half), half); };
      Value x1 = loadVector(b, x, xAt, elem, full, ok, 16, w, t);
      Value x2 = loadVector(b, x, xAt, elem2, full, ok2, 16, w, t);
      Value co = loadVector(b, cosT, s, elem, full, ok, 16, w, f32);
      Value si = loadVector(b, sinT, s, elem, full, ok, 16, w, f32);
      auto [y1, y2] = rotatePair(b, x1, x2, co, si);
      storeVector(b, y1, t, y, row, elem, full, ok);
      storeVector(b, y2, t, y, row, elem2, full, ok2);
      return;
    }
    // Pairs (2i, 2i + 1) of the vector; cos/sin columns elem/2 ...
    // elem/2 + w/2.
    auto ok = [&](Value ei) {
      // Both members of the pair must lie in the row.
      return b.ult(b.ori(ei, idx1), D);
    };
    Value xv = loadVector(b, x, xAt, elem, full, ok, 16, w, t);
    const int64_t hw = w / 2;
    Value col = b.divu(elem, b.idx(2));
    auto okc = [&](Value ci) { return ok(b.mul(ci, b.idx(2))); };
    int64_t calign = hw * 4 < 16 ? hw * 4 : 16;
    Value co = loadVector(b, cosT, s, col, full, okc, calign, hw, f32);
    Value si = loadVector(b, sinT, s, col, full, okc, calign, hw, f32);
    SmallVector<int64_t> even, odd, interleave;
    for (int64_t i = 0; i < hw; ++i) {
      even.push_back(2 * i);
      odd.push_back(2 * i + 1);
      interleave.append({i, hw + i});
    }
    Value x1 = b.vshuffle(xv, xv, even);
    Value x2 = b.vshuffle(xv, xv, odd);
    auto [y1, y2] = rotatePair(b, x1, x2, co, si);
    storeVector(b, b.vshuffle(y1, y2, interleave), t, y, row, elem, full, ok);
  });
}

} // namespace

std::string NormKernelConfig::kernelName() const {
  return "loom_" + std::string(layer ? "layer_norm" : "rms_norm") + "_" +
         elementType + "_t" + std::to_string(threads) + "_r" +
         std::to_string(rows) + "_v" + std::to_string(vectors);
}

FailureOr<SymbolRefAttr> buildNormKernel(ModuleOp module, Location loc,
                                         const NormKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  KernelSignature sig;
  sig.arguments = {dynamicMemRefType(2, t), dynamicMemRefType(1, t)};
  if (c.layer)
    sig.arguments.push_back(dynamicMemRefType(1, t));
  sig.arguments.push_back(dynamicMemRefType(2, t));
  sig.arguments.push_back(Float32Type::get(ctx));
  // One f32 slot per warp and reduction. The 16-byte alignment matters: the
  // NVPTX load/store vectorizer merges the reads of the slots into
  // ld.shared.v4, which faults (misaligned address, seen on H100) on the
  // default 4-byte-aligned buffer.
  if (c.threads > 32)
    for (int r = 0; r < (c.layer ? 3 : 1); ++r)
      sig.workgroup.push_back(
          {sharedMemRefType({c.threads / 32}, Float32Type::get(ctx)), 16});
  sig.blockSize = {c.threads, c.rows, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { buildNorm(b, c); });
}

std::string RopeKernelConfig::kernelName() const {
  // The default block size is left out of the name.
  return "loom_rope_" + std::string(interleaved ? "interleaved" : "half") +
         "_" + elementType +
         (threads == 256 ? std::string() : "_t" + std::to_string(threads)) +
         (strided ? "_strided" : "");
}

FailureOr<SymbolRefAttr> buildRopeKernel(ModuleOp module, Location loc,
                                         const RopeKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type table = dynamicMemRefType(2, Float32Type::get(ctx));
  KernelSignature sig;
  MemRefType x = dynamicMemRefType(2, t);
  if (c.strided) {
    int64_t dyn = ShapedType::kDynamic;
    x = MemRefType::get({dyn, dyn, dyn, dyn}, t,
                        StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1}));
  }
  sig.arguments = {x, table, table, dynamicMemRefType(2, t)};
  sig.blockSize = {c.threads, 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { buildRope(b, c); });
}

} // namespace gpu
} // namespace loom
