//===- F32GemmKernel.cpp - the fused f32 SIMT GEMM kernel -----------------===//
//
// Builds the gpu.func of one F32GemmKernelConfig (see F32GemmKernel.h for
// the schedule). The arithmetic follows the CPU lowering (lib/Conversion/
// LoomToLinalg): the norm statistics of NormStats.h (as the row kernels
// compute them), f32 accumulation of the product, + bias, then the epilogue
// steps of Epilogue.h (shared with the tensor-core GEMM); only the summation
// order of the reductions differs.

#include "loom/GPU/Kernels/F32GemmKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"
#include "loom/GPU/Builder/NormStats.h"
#include "loom/GPU/Builder/Reduce.h"

using namespace mlir;

namespace loom {
namespace gpu {
namespace {

using Values = KernelBuilder::Values;
using Config = F32GemmKernelConfig;

constexpr int64_t kSide = 16; // threads per side of the 16 x 16 block
constexpr int64_t kWarps = Config::kThreads / 32;

std::string stepName(const EpilogueStep &s) {
  using Kind = EpilogueStep::Kind;
  switch (s.kind) {
  case Kind::AddTensor:
    return "add";
  case Kind::MulTensor:
    return "mul";
  case Kind::Silu:
    return "silu";
  case Kind::Gelu:
    return "gelu";
  case Kind::GeluTanh:
    return "gelutanh";
  }
  return "?";
}

/// The kernel's arguments and workgroup buffers, in the order of the
/// signature (see buildF32GemmKernel).
struct Layout {
  std::vector<unsigned> w, scale, bias, y;
  /// Per epilogue step, its tensor argument (-1: none).
  std::vector<int> epilogue;
  unsigned g = 0, nb = 0, eps = 0, group = 0;
  /// Workgroup buffers: the A and B tiles (gated: B of the up product in
  /// bs2), then [mean, rr], [inv].
  unsigned as = 0, bs = 1, bs2 = 0, mean = 0, rr = 0, inv = 0;
};

bool quantized(const Config &c) { return c.weights != "f32"; }

Layout layoutOf(MLIRContext *ctx, const Config &c,
                SmallVectorImpl<Type> &arguments,
                SmallVectorImpl<std::pair<MemRefType, int64_t>> &workgroup) {
  bool norm = c.norm != Config::Norm::None;
  bool layer = c.norm == Config::Norm::Layer;
  Type f32 = Float32Type::get(ctx);
  auto matOf = [&](const std::string &t) {
    return dynamicMemRefType(2, parseElementType(ctx, t));
  };
  auto vecOf = [&](const std::string &t) {
    return dynamicMemRefType(1, parseElementType(ctx, t));
  };
  Type wMat = quantized(c) ? dynamicMemRefType(2, IntegerType::get(ctx, 8))
                           : matOf(c.xType);
  Layout l;
  auto add = [&](Type t) {
    arguments.push_back(t);
    return static_cast<unsigned>(arguments.size() - 1);
  };
  add(matOf(c.xType)); // X
  if (norm)
    l.g = add(vecOf(c.xType));
  if (layer)
    l.nb = add(vecOf(c.xType));
  for (int64_t p = 0; p < c.parts; ++p)
    l.w.push_back(add(wMat));
  if (quantized(c))
    for (int64_t p = 0; p < c.parts; ++p)
      l.scale.push_back(add(c.grouped ? matOf(c.scaleType)
                                      : vecOf(c.scaleType)));
  if (c.bias)
    for (int64_t p = 0; p < c.parts; ++p)
      l.bias.push_back(add(vecOf(c.biasType)));
  for (int64_t p = 0; p < (c.gated ? 1 : c.parts); ++p)
    l.y.push_back(add(matOf(c.yType)));
  l.epilogue = appendEpilogueArguments(ctx, c.epilogue, arguments);
  if (norm)
    l.eps = add(f32);
  if (quantized(c) && c.grouped)
    l.group = add(IndexType::get(ctx));
  // Shared memory: the k-major tiles, padded by a column; the norm's
  // per-row statistics. 16-byte alignment: the load/store vectorizer may
  // merge neighbouring accesses into vector ones.
  auto buffer = [&](ArrayRef<int64_t> shape) {
    workgroup.push_back({sharedMemRefType(shape, f32), 16});
    return static_cast<unsigned>(workgroup.size() - 1);
  };
  l.as = buffer({Config::kBK, c.bm() + 1});
  l.bs = buffer({Config::kBK, c.bn() + 1});
  if (c.gated)
    l.bs2 = buffer({Config::kBK, c.bn() + 1});
  if (layer) {
    l.mean = buffer({c.bm()});
    l.rr = buffer({c.bm()});
  }
  if (norm)
    l.inv = buffer({c.bm()});
  return l;
}

struct Generator {
  KernelBuilder &b;
  const Config &r;
  const Layout &l;
  bool norm, layer;
  Value M, N, K, Kf, tid, tx, ty, m0, n0, W, Scale, Bias, Y;

  Generator(KernelBuilder &b, const Config &c, const Layout &l)
      : b(b), r(c), l(l) {
    norm = r.norm != Config::Norm::None;
    layer = r.norm == Config::Norm::Layer;
  }

  Value zero() { return b.f32(0.0); }

  /// With several parts: the block's part decides W, the bias and Y, and
  /// `bx` becomes the block's column tile within its part.
  void pickPart(Value &bx) {
    W = b.arg(l.w[0]);
    Scale = quantized(r) ? b.arg(l.scale[0]) : Value();
    Bias = r.bias ? b.arg(l.bias[0]) : Value();
    Y = b.arg(l.y[0]);
    if (r.parts == 1 || r.gated)
      return;
    Value start = b.idx(0), offset = b.idx(0);
    Values starts;
    for (int64_t i = 0; i < r.parts; ++i) {
      starts.push_back(start);
      Value n = b.dim(b.arg(l.w[i]), 0);
      start = b.add(start, b.divuConst(b.addConst(n, r.bn() - 1), r.bn()));
    }
    for (int64_t i = 1; i < r.parts; ++i) {
      Value in = b.ule(starts[i], bx);
      W = b.select(in, b.arg(l.w[i]), W);
      if (quantized(r))
        Scale = b.select(in, b.arg(l.scale[i]), Scale);
      if (r.bias)
        Bias = b.select(in, b.arg(l.bias[i]), Bias);
      Y = b.select(in, b.arg(l.y[i]), Y);
      offset = b.select(in, starts[i], offset);
    }
    bx = b.sub(bx, offset);
  }

  /// The norm's statistics of the block's rows into the mean, rr and inv
  /// buffers.
  void normPrologue() {
    Value X = b.arg(0), eps = b.arg(l.eps);
    Value lane = b.remuConst(tid, 32), warp = b.divuConst(tid, 32);
    b.forLoop(b.idx(0), b.idx(r.bm() / kWarps), b.idx(1), [&](Value i) {
      Value rl = b.add(warp, b.mulConst(i, kWarps));
      Value row = b.add(m0, rl);
      b.ifThen(b.ult(row, M), [&] {
        // One lane-strided pass over the row: `term(x, acc)` returns the
        // next sums.
        auto pass = [&](size_t sums,
                        llvm::function_ref<Values(Value, ValueRange)> term) {
          Values init(sums, zero());
          return b.forLoop(lane, K, b.idx(32), init,
                           [&](Value k, ValueRange acc) {
                             return term(b.load(X, {row, k}), acc);
                           });
        };
        if (!layer) {
          Value ss = pass(1, [&](Value x, ValueRange acc) {
            return Values{b.fadd(acc[0], b.fmul(x, x))};
          })[0];
          Value total = warpAllReduce(b, ss, ReduceKind::Add);
          b.store(rmsInverse(b, total, Kf, eps), b.workgroup(l.inv), rl);
          return;
        }
        Value s = pass(1, [&](Value x, ValueRange acc) {
          return Values{b.fadd(acc[0], x)};
        })[0];
        Value mean = b.fdiv(warpAllReduce(b, s, ReduceKind::Add), Kf);
        Values sums = pass(2, [&](Value x, ValueRange acc) {
          Value d = b.fsub(x, mean);
          Value sumD = b.fadd(acc[0], d);
          return Values{sumD, b.fadd(acc[1], b.fmul(d, d))};
        });
        Value sumD = warpAllReduce(b, sums[0], ReduceKind::Add);
        Value sumDD = warpAllReduce(b, sums[1], ReduceKind::Add);
        LayerNormStats stats = layerNormStats(b, sumD, sumDD, Kf, eps);
        b.store(mean, b.workgroup(l.mean), rl);
        b.store(stats.r, b.workgroup(l.rr), rl);
        b.store(stats.inv, b.workgroup(l.inv), rl);
      });
    });
    b.barrier();
  }

  /// Stages the `rows` x BK tile (rows from `r0`, `limit` of them, columns
  /// from `k0`) k-major into `smem`; `element(row, rowInTile, col)` loads
  /// the f32 value of an element inside the bounds.
  void stage(Value smem, int64_t rows, Value r0, Value limit, Value k0,
             llvm::function_ref<Value(Value, Value, Value)> element) {
    for (int64_t s = 0; s < rows * Config::kBK / Config::kThreads; ++s) {
      Value id = b.addConst(tid, s * Config::kThreads);
      Value rt = b.divuConst(id, Config::kBK);
      Value kt = b.remuConst(id, Config::kBK);
      Value row = b.add(r0, rt), col = b.add(k0, kt);
      Value colIn = b.ult(col, K);
      Value ok = b.andi(b.ult(row, limit), colIn);
      Value v = b.ifThenElse(
          ok, b.getF32Type(),
          [&] { return element(row, rt, col); },
          [&] { return zero(); });
      b.store(v, smem, {kt, rt});
    }
  }

  /// norm(x) of the element in row `rt` of the tile and column `col`.
  Value normalize(Value x, Value rt, Value col) {
    if (!norm)
      return x;
    Value v = x;
    if (layer) {
      v = b.fsub(v, b.load(b.workgroup(l.mean), rt));
      v = b.fsub(v, b.load(b.workgroup(l.rr), rt));
    }
    v = b.fmul(v, b.load(b.workgroup(l.inv), rt));
    v = b.fmul(v, b.load(b.arg(l.g), col));
    if (layer)
      v = b.fadd(v, b.load(b.arg(l.nb), col));
    return v;
  }

  /// W[n, k] of `w` (scales `scale`) as f32: dequantized for i8 and i4.
  Value weight(Value w, Value scale, Value n, Value k) {
    if (!quantized(r))
      return b.toF32(b.load(w, {n, k}));
    Value q;
    if (r.weights == "i4") {
      // Byte k / 2, even k in the low nibble: shift the nibble to the top,
      // then arithmetic-shift it back (sign extension).
      Value byte = b.load(w, {n, b.divuConst(k, 2)});
      Value odd = b.indexCast(b.getI8Type(), b.remuConst(k, 2));
      Value left = b.sub(b.i8(4), b.mul(odd, b.i8(4))); // 4 even, 0 odd
      q = b.shrs(b.shl(byte, left), b.i8(4));
    } else {
      q = b.load(w, {n, k});
    }
    Value s = b.toF32(r.grouped
                          ? b.load(scale, {n, b.divu(k, b.arg(l.group))})
                          : b.load(scale, n));
    return b.fmul(b.sitofp(b.getF32Type(), q), s);
  }

  Values mainLoop() {
    int64_t t = r.tile, bk = Config::kBK;
    Value as = b.workgroup(l.as), bs = b.workgroup(l.bs);
    Value bs2 = r.gated ? b.workgroup(l.bs2) : Value();
    int64_t products = r.gated ? 2 : 1;
    Values init(products * t * t, zero());
    Value tiles = b.divuConst(b.addConst(K, bk - 1), bk);
    Value W2 = r.gated ? b.arg(l.w[1]) : Value();
    Value Scale2 = r.gated && quantized(r) ? b.arg(l.scale[1]) : Value();
    return b.forLoop(
        b.idx(0), tiles, b.idx(1), init, [&](Value kt, ValueRange acc) {
          Value k0 = b.mulConst(kt, bk);
          stage(as, r.bm(), m0, M, k0, [&](Value row, Value rt, Value col) {
            return normalize(b.toF32(b.load(b.arg(0), {row, col})), rt,
                             col);
          });
          stage(bs, r.bn(), n0, N, k0, [&](Value row, Value, Value col) {
            return weight(W, Scale, row, col);
          });
          if (r.gated)
            stage(bs2, r.bn(), n0, N, k0, [&](Value row, Value, Value col) {
              return weight(W2, Scale2, row, col);
            });
          b.barrier();
          Values sums = b.forLoop(
              b.idx(0), b.idx(bk), b.idx(1), acc,
              [&](Value kk, ValueRange inner) {
                Values a, next;
                for (int64_t i = 0; i < t; ++i)
                  a.push_back(b.load(as, {kk, b.addConst(ty, i * kSide)}));
                for (int64_t p = 0; p < products; ++p) {
                  Value tile = p == 0 ? bs : bs2;
                  Values bv;
                  for (int64_t j = 0; j < t; ++j)
                    bv.push_back(
                        b.load(tile, {kk, b.addConst(tx, j * kSide)}));
                  for (int64_t i = 0; i < t; ++i)
                    for (int64_t j = 0; j < t; ++j)
                      next.push_back(b.fma(a[i], bv[j],
                                           inner[(p * t + i) * t + j]));
                }
                return next;
              });
          b.barrier();
          return sums;
        });
  }

  void epilogue(const Values &acc) {
    int64_t t = r.tile;
    for (int64_t i = 0; i < t; ++i) {
      Value row = b.add(m0, b.addConst(ty, i * kSide));
      Value rowIn = b.ult(row, M);
      for (int64_t j = 0; j < t; ++j) {
        Value col = b.add(n0, b.addConst(tx, j * kSide));
        b.ifThen(b.andi(rowIn, b.ult(col, N)), [&] {
          Value v = acc[i * t + j];
          if (r.bias)
            v = b.fadd(v, b.toF32(b.load(Bias, col)));
          if (r.gated) {
            Value up = acc[(t + i) * t + j];
            if (r.bias)
              up = b.fadd(up, b.toF32(b.load(b.arg(l.bias[1]), col)));
            v = b.fmul(applyEpilogueStep(b, EpilogueStep{r.act, ""}, v), up);
          }
          v = applyEpilogue(b, r.epilogue, l.epilogue, v, row, col);
          b.store(b.roundTo(parseElementType(b.getContext(), r.yType), v),
                  Y, {row, col});
        });
      }
    }
  }

  void run() {
    tid = b.threadId();
    Value bx = b.blockId(mlir::gpu::Dimension::x);
    Value by = b.blockId(mlir::gpu::Dimension::y);
    pickPart(bx);
    M = b.dim(b.arg(0), 0);
    K = b.dim(b.arg(0), 1);
    N = b.dim(W, 0);
    n0 = b.mulConst(bx, r.bn());
    tx = b.remuConst(tid, kSide);
    ty = b.divuConst(tid, kSide);
    if (norm)
      Kf = b.uitofp(b.getF32Type(), b.indexCast(b.getI64Type(), K));
    // The block's row tiles: by, by + gridDim.y, ... (the grid's y
    // dimension is capped at 65535 blocks).
    Value rowTiles = b.divuConst(b.addConst(M, r.bm() - 1), r.bm());
    Value gy = b.gridDim(mlir::gpu::Dimension::y);
    b.forLoop(by, rowTiles, gy, [&](Value rowTile) {
      m0 = b.mulConst(rowTile, r.bm());
      if (norm)
        normPrologue();
      epilogue(mainLoop());
    });
  }
};

} // namespace

std::string F32GemmKernelConfig::kernelName() const {
  std::string s = "loom_f32gemm_" +
                  std::string(norm == Norm::None  ? "nonorm"
                              : norm == Norm::Rms ? "rms"
                                                  : "layer") +
                  "_" + (bias ? "bias" : "nobias") + "_" +
                  std::to_string(bm()) + "x" + std::to_string(bn()) + "x" +
                  std::to_string(kBK);
  if (xType != "f32" || yType != "f32" || biasType != "f32" ||
      scaleType != "f32")
    s += "_t" + xType + "_" + yType + "_" + biasType + "_" + scaleType;
  if (weights != "f32")
    s += std::string("_w") + weights + (grouped ? "g" : "c");
  if (parts > 1)
    s += "_x" + std::to_string(parts);
  if (gated)
    s += "_gate_" + stepName(EpilogueStep{act, ""});
  if (!epilogue.empty()) {
    s += "_ep";
    for (const EpilogueStep &step : epilogue)
      s += "_" + stepName(step);
  }
  return s;
}

std::string F32GemmKernelConfig::check() const {
  if (tile != 1 && tile != 2 && tile != 4)
    return "the register tile must be 1, 2 or 4";
  if (parts < 1)
    return "at least one part";
  if (parts > 1 && !epilogue.empty())
    return "epilogue steps need a single part";
  if (weights != "f32" && weights != "i8" && weights != "i4")
    return "weights must be f32, i8 or i4";
  for (const std::string *t : {&xType, &yType, &biasType, &scaleType})
    if (*t != "f32" && *t != "bf16" && *t != "f16")
      return "operand types must be f32, bf16 or f16";
  if (weights == "f32" && xType != "f32")
    return "unquantized (f32) weights need f32 X";
  if (xType != "f32" || yType != "f32")
    if (norm != Norm::None || !epilogue.empty())
      return "a norm prologue and epilogue steps need f32 X and Y";
  if (grouped && weights == "f32")
    return "group-wise scales need i8 or i4 weights";
  if (gated && parts != 2)
    return "a gated pair has two parts";
  if (gated && act != EpilogueStep::Kind::Silu &&
      act != EpilogueStep::Kind::Gelu && act != EpilogueStep::Kind::GeluTanh)
    return "the gating activation must be SiLU or GELU";
  for (const EpilogueStep &step : epilogue)
    if (step.takesTensor() && step.tensorType != "f32")
      return "epilogue tensors must be f32";
  return "";
}

FailureOr<SymbolRefAttr> buildF32GemmKernel(ModuleOp module, Location loc,
                                            const F32GemmKernelConfig &c) {
  KernelSignature sig;
  Layout l = layoutOf(module.getContext(), c, sig.arguments, sig.workgroup);
  sig.blockSize = {static_cast<int32_t>(Config::kThreads), 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(b, c, l).run(); });
}

} // namespace gpu
} // namespace loom
