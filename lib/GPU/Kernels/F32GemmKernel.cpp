//===- F32GemmKernel.cpp - the fused f32 SIMT GEMM kernel -----------------===//
//
// Generates the gpu.func of one F32GemmRecipe (see F32GemmRecipe.h for the
// schedule). The arithmetic follows the CPU lowering (lib/Conversion/
// LoomToLinalg): the norms as the row kernels compute them (RowRecipes.cpp),
// f32 accumulation of the product, + bias, then the epilogue steps
// (applyEpilogueStep, shared with the tensor-core GEMM); only the summation
// order of the reductions differs.

#include "loom/GPU/Kernels/F32GemmKernel.h"
#include "RecipeText.h"

#include <sstream>

namespace loom {
namespace gpu {
namespace {

using recipe::cat;
using Emitter = recipe::IndexEmitter;

constexpr const char *kMat = "memref<?x?xf32>";
constexpr const char *kVec = "memref<?xf32>";
constexpr int64_t kSide = 16; // threads per side of the 16 x 16 block
constexpr int64_t kWarps = F32GemmRecipe::kThreads / 32;

std::string smemType(int64_t rows, int64_t cols) {
  return cat("memref<", rows, "x", cols,
             "xf32, #gpu.address_space<workgroup>>");
}

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

struct Generator {
  const F32GemmRecipe &r;
  Emitter e;
  bool norm, layer;
  std::string M, N, K, Kf, tid, tx, ty, m0, n0, W, Bias, Y;
  std::vector<std::string> partW, partBias, partY, E;

  explicit Generator(const F32GemmRecipe &recipe) : r(recipe) {
    norm = r.norm != F32GemmRecipe::Norm::None;
    layer = r.norm == F32GemmRecipe::Norm::Layer;
  }

  std::string f32(const std::string &op, const std::string &a,
                  const std::string &b) {
    return e.let(op + " " + a + ", " + b + " : f32");
  }
  std::string load(const std::string &mem, const std::string &type,
                   const std::string &indices) {
    return e.let("memref.load " + mem + "[" + indices + "] : " + type);
  }
  std::string zero() { return e.constant("%zf", "0.0 : f32"); }
  /// The shared buffers of the norm's per-row statistics.
  std::string statsType() const {
    return cat("memref<", r.bm(), "xf32, #gpu.address_space<workgroup>>");
  }

  /// `v` joined by `sep`.
  static std::string list(const std::vector<std::string> &v,
                          const std::string &sep = ", ") {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
      s += (i ? sep : "") + v[i];
    return s;
  }
  static std::string types(size_t n) {
    std::vector<std::string> t(n, "f32");
    return list(t);
  }

  /// Opens `scf.for %iv = lb to ub step s iter_args(...)` over f32 values
  /// `init`; returns the loop's result names and sets `iv` and `args`.
  std::vector<std::string> openFor(const std::string &lb, const std::string &ub,
                                   const std::string &step,
                                   const std::vector<std::string> &init,
                                   std::string &iv,
                                   std::vector<std::string> &args) {
    iv = e.fresh("iv");
    std::string res = e.fresh("for");
    args.clear();
    std::vector<std::string> inits;
    for (const std::string &v : init) {
      args.push_back(e.fresh("it"));
      inits.push_back(args.back() + " = " + v);
    }
    std::string head = init.empty() ? "scf.for "
                       : init.size() == 1
                           ? res + " = scf.for "
                           : res + cat(":", init.size()) + " = scf.for ";
    head += iv + " = " + lb + " to " + ub + " step " + step;
    if (!init.empty())
      head += " iter_args(" + list(inits) + ") -> (" + types(init.size()) + ")";
    e.line(head + " {");
    e.open();
    std::vector<std::string> results;
    for (size_t i = 0; i < init.size(); ++i)
      results.push_back(init.size() == 1 ? res : cat(res, "#", i));
    return results;
  }
  void closeFor(const std::vector<std::string> &yields) {
    if (!yields.empty())
      e.line("scf.yield " + list(yields) + " : " + types(yields.size()));
    e.close();
    e.line("}");
  }

  /// Sum over the 32 lanes of a warp (every lane gets it).
  std::string warpSum(const std::string &v) {
    std::string s = v;
    for (int off = 16; off >= 1; off /= 2) {
      std::string sh = e.fresh("sh"), ok = e.fresh("shok");
      e.line(cat(sh, ", ", ok, " = gpu.shuffle xor ", s, ", ", e.i32(off), ", ",
                 e.i32(32), " : f32"));
      s = f32("arith.addf", s, sh);
    }
    return s;
  }

  /// With several parts: the block's part decides W, the bias and Y, and
  /// `bx` becomes the block's column tile within its part.
  void pickPart(std::string &bx) {
    W = partW[0];
    Bias = r.bias ? partBias[0] : "";
    Y = partY[0];
    if (r.parts == 1)
      return;
    std::string start = e.idx(0), offset = e.idx(0);
    std::vector<std::string> starts;
    for (int64_t i = 0; i < r.parts; ++i) {
      starts.push_back(start);
      std::string n =
          e.let("memref.dim " + partW[i] + ", " + e.idx(0) + " : " + kMat);
      start = e.add(start, e.div(e.addConst(n, r.bn() - 1), r.bn()));
    }
    for (int64_t i = 1; i < r.parts; ++i) {
      std::string in =
          e.let("arith.cmpi ule, " + starts[i] + ", " + bx + " : index", "p");
      W = e.select(in, partW[i], W, kMat);
      if (r.bias)
        Bias = e.select(in, partBias[i], Bias, kVec);
      Y = e.select(in, partY[i], Y, kMat);
      offset = e.select(in, starts[i], offset, "index");
    }
    bx = e.let("arith.subi " + bx + ", " + offset + " : index");
  }

  /// The norm's statistics of the block's rows into %mean, %rr, %inv.
  void normPrologue() {
    std::string lane = e.rem(tid, 32), warp = e.div(tid, 32);
    std::string i;
    std::vector<std::string> none;
    openFor(e.idx(0), e.idx(r.bm() / kWarps), e.idx(1), {}, i, none);
    std::string rl = e.add(warp, e.mul(i, kWarps));
    std::string row = e.add(m0, rl);
    e.line("scf.if " + e.ult(row, M) + " {");
    e.open();
    std::string sl = statsType();
    // One lane-strided pass over the row: `term(x)` per element.
    auto pass = [&](auto term, size_t sums) {
      std::string k;
      std::vector<std::string> acc;
      std::vector<std::string> res = openFor(
          lane, K, e.idx(32), std::vector<std::string>(sums, zero()), k, acc);
      std::string x = load("%X", kMat, row + ", " + k);
      closeFor(term(x, acc));
      return res;
    };
    if (!layer) {
      std::string ss = pass(
          [&](const std::string &x, const std::vector<std::string> &acc) {
            return std::vector<std::string>{
                f32("arith.addf", acc[0], f32("arith.mulf", x, x))};
          },
          1)[0];
      std::string ms = f32("arith.divf", warpSum(ss), Kf);
      std::string inv =
          e.let("math.rsqrt " + f32("arith.addf", ms, "%eps") + " : f32");
      e.line("memref.store " + inv + ", %inv[" + rl + "] : " + sl);
    } else {
      std::string s = pass(
          [&](const std::string &x, const std::vector<std::string> &acc) {
            return std::vector<std::string>{f32("arith.addf", acc[0], x)};
          },
          1)[0];
      std::string mean = f32("arith.divf", warpSum(s), Kf);
      std::vector<std::string> sums = pass(
          [&](const std::string &x, const std::vector<std::string> &acc) {
            std::string d = f32("arith.subf", x, mean);
            return std::vector<std::string>{
                f32("arith.addf", acc[0], d),
                f32("arith.addf", acc[1], f32("arith.mulf", d, d))};
          },
          2);
      // The corrected two-pass (RowRecipes.cpp): r recovers the rounding of
      // the f32 mean.
      std::string rc = f32("arith.divf", warpSum(sums[0]), Kf);
      std::string var =
          f32("arith.subf", f32("arith.divf", warpSum(sums[1]), Kf),
              f32("arith.mulf", rc, rc));
      var = f32("arith.maximumf", var, zero());
      std::string inv =
          e.let("math.rsqrt " + f32("arith.addf", var, "%eps") + " : f32");
      e.line("memref.store " + mean + ", %mean[" + rl + "] : " + sl);
      e.line("memref.store " + rc + ", %rr[" + rl + "] : " + sl);
      e.line("memref.store " + inv + ", %inv[" + rl + "] : " + sl);
    }
    e.close();
    e.line("}");
    closeFor({});
    e.line("gpu.barrier");
  }

  /// Stages the `rows` x BK tile of `mem` (rows from `r0`, `limit` of them,
  /// columns from `k0`) k-major into `smem`; `transform(x, rowInTile, col)`
  /// maps a loaded element.
  template <typename Fn>
  void stage(const std::string &mem, const std::string &smem, int64_t rows,
             const std::string &r0, const std::string &limit,
             const std::string &k0, Fn transform) {
    for (int64_t s = 0; s < rows * F32GemmRecipe::kBK / F32GemmRecipe::kThreads;
         ++s) {
      std::string id = e.addConst(tid, s * F32GemmRecipe::kThreads);
      std::string rt = e.div(id, F32GemmRecipe::kBK);
      std::string kt = e.rem(id, F32GemmRecipe::kBK);
      std::string row = e.add(r0, rt), col = e.add(k0, kt);
      std::string ok = e.andi(e.ult(row, limit), e.ult(col, K));
      std::string v = e.fresh("st");
      e.line(v + " = scf.if " + ok + " -> (f32) {");
      e.open();
      std::string x = transform(load(mem, kMat, row + ", " + col), rt, col);
      e.line("scf.yield " + x + " : f32");
      e.close();
      e.line("} else {");
      e.line("  scf.yield " + zero() + " : f32");
      e.line("}");
      e.line("memref.store " + v + ", " + smem + "[" + kt + ", " + rt +
             "] : " + smemType(F32GemmRecipe::kBK, rows + 1));
    }
  }

  /// norm(x) of the element in row `rt` of the tile and column `col`.
  std::string normalize(const std::string &x, const std::string &rt,
                        const std::string &col) {
    if (!norm)
      return x;
    std::string sl = statsType();
    std::string v = x;
    if (layer) {
      v = f32("arith.subf", v, load("%mean", sl, rt));
      v = f32("arith.subf", v, load("%rr", sl, rt));
    }
    v = f32("arith.mulf", v, load("%inv", sl, rt));
    v = f32("arith.mulf", v, load("%g", kVec, col));
    if (layer)
      v = f32("arith.addf", v, load("%nb", kVec, col));
    return v;
  }

  std::vector<std::string> mainLoop() {
    int64_t t = r.tile, bk = F32GemmRecipe::kBK;
    std::vector<std::string> init(t * t, zero()), acc, inner;
    std::string kt, kk;
    std::string tiles = e.div(e.addConst(K, bk - 1), bk);
    std::vector<std::string> res =
        openFor(e.idx(0), tiles, e.idx(1), init, kt, acc);
    std::string k0 = e.mul(kt, bk);
    stage("%X", "%As", r.bm(), m0, M, k0,
          [&](const std::string &x, const std::string &rt,
              const std::string &col) { return normalize(x, rt, col); });
    stage(W, "%Bs", r.bn(), n0, N, k0,
          [](const std::string &x, const std::string &, const std::string &) {
            return x;
          });
    e.line("gpu.barrier");
    std::vector<std::string> sums =
        openFor(e.idx(0), e.idx(bk), e.idx(1), acc, kk, inner);
    std::vector<std::string> a, b, next;
    for (int64_t i = 0; i < t; ++i)
      a.push_back(load("%As", smemType(bk, r.bm() + 1),
                       kk + ", " + e.addConst(ty, i * kSide)));
    for (int64_t j = 0; j < t; ++j)
      b.push_back(load("%Bs", smemType(bk, r.bn() + 1),
                       kk + ", " + e.addConst(tx, j * kSide)));
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j)
        next.push_back(e.let("math.fma " + a[i] + ", " + b[j] + ", " +
                             inner[i * t + j] + " : f32"));
    closeFor(next);
    e.line("gpu.barrier");
    closeFor(sums);
    return res;
  }

  void epilogue(const std::vector<std::string> &acc) {
    int64_t t = r.tile;
    for (int64_t i = 0; i < t; ++i) {
      std::string row = e.add(m0, e.addConst(ty, i * kSide));
      std::string rowIn = e.ult(row, M);
      for (int64_t j = 0; j < t; ++j) {
        std::string col = e.add(n0, e.addConst(tx, j * kSide));
        e.line("scf.if " + e.andi(rowIn, e.ult(col, N)) + " {");
        e.open();
        std::string v = acc[i * t + j];
        if (r.bias)
          v = f32("arith.addf", v, load(Bias, kVec, col));
        for (size_t s = 0; s < r.epilogue.size(); ++s) {
          const EpilogueStep &step = r.epilogue[s];
          std::string operand =
              step.takesTensor() ? load(E[s], kMat, row + ", " + col) : "";
          v = applyEpilogueStep(e, step, v, operand);
        }
        e.line("memref.store " + v + ", " + Y + "[" + row + ", " + col +
               "] : " + kMat);
        e.close();
        e.line("}");
      }
    }
  }

  std::string signature() {
    std::vector<std::string> args{cat("%X: ", kMat)};
    if (norm)
      args.push_back(cat("%g: ", kVec));
    if (layer)
      args.push_back(cat("%nb: ", kVec));
    for (int64_t p = 0; p < r.parts; ++p) {
      partW.push_back(cat("%W", p));
      args.push_back(partW.back() + ": " + kMat);
    }
    if (r.bias)
      for (int64_t p = 0; p < r.parts; ++p) {
        partBias.push_back(cat("%bias", p));
        args.push_back(partBias.back() + ": " + kVec);
      }
    for (int64_t p = 0; p < r.parts; ++p) {
      partY.push_back(cat("%Y", p));
      args.push_back(partY.back() + ": " + kMat);
    }
    for (size_t s = 0; s < r.epilogue.size(); ++s) {
      E.push_back(r.epilogue[s].takesTensor() ? cat("%E", s) : "");
      if (!E.back().empty())
        args.push_back(E.back() + ": " + kMat);
    }
    if (norm)
      args.push_back("%eps: f32");
    std::string sig = list(args);
    // Shared memory: the k-major tiles, padded by a column; the norm's
    // per-row statistics. 16-byte alignment: the load/store vectorizer may
    // merge neighbouring accesses into vector ones.
    auto buffer = [](const std::string &name, const std::string &type) {
      return name + " : " + type + " {llvm.align = 16 : i64}";
    };
    std::vector<std::string> wg{
        buffer("%As", smemType(F32GemmRecipe::kBK, r.bm() + 1)),
        buffer("%Bs", smemType(F32GemmRecipe::kBK, r.bn() + 1))};
    std::string sl = statsType();
    if (layer) {
      wg.push_back(buffer("%mean", sl));
      wg.push_back(buffer("%rr", sl));
    }
    if (norm)
      wg.push_back(buffer("%inv", sl));
    return sig + ") workgroup(" + list(wg);
  }

  std::string text() {
    std::string sig = signature();
    tid = e.let("gpu.thread_id x", "tid");
    std::string bx = e.let("gpu.block_id x", "bx");
    std::string by = e.let("gpu.block_id y", "by");
    pickPart(bx);
    M = e.let(cat("memref.dim %X, ", e.idx(0), " : ", kMat), "M");
    K = e.let(cat("memref.dim %X, ", e.idx(1), " : ", kMat), "K");
    N = e.let(cat("memref.dim ", W, ", ", e.idx(0), " : ", kMat), "N");
    n0 = e.mul(bx, r.bn());
    tx = e.rem(tid, kSide);
    ty = e.div(tid, kSide);
    if (norm) {
      std::string ki = e.let("arith.index_cast " + K + " : index to i64");
      Kf = e.let("arith.uitofp " + ki + " : i64 to f32");
    }
    // The block's row tiles: by, by + gridDim.y, ... (the grid's y
    // dimension is capped at 65535 blocks).
    std::string rowTiles = e.div(e.addConst(M, r.bm() - 1), r.bm());
    std::string gy = e.let("gpu.grid_dim y", "gy");
    std::string rowTile;
    std::vector<std::string> none;
    openFor(by, rowTiles, gy, {}, rowTile, none);
    m0 = e.mul(rowTile, r.bm());
    if (norm)
      normPrologue();
    epilogue(mainLoop());
    closeFor({});
    std::ostringstream os;
    os << "gpu.module @recipe {\n  gpu.func @" << r.name() << "(" << sig
       << ") kernel attributes {known_block_size = array<i32: "
       << F32GemmRecipe::kThreads << ", 1, 1>} {\n"
       << e.text() << "    gpu.return\n  }\n}\n";
    return os.str();
  }
};

} // namespace

std::string F32GemmRecipe::name() const {
  std::string s =
      cat("loom_f32gemm_",
          norm == Norm::None  ? "nonorm"
          : norm == Norm::Rms ? "rms"
                              : "layer",
          "_", bias ? "bias" : "nobias", "_", bm(), "x", bn(), "x", kBK);
  if (parts > 1)
    s += cat("_x", parts);
  if (!epilogue.empty()) {
    s += "_ep";
    for (const EpilogueStep &step : epilogue)
      s += "_" + stepName(step);
  }
  return s;
}

std::string F32GemmRecipe::check() const {
  if (tile != 1 && tile != 2 && tile != 4)
    return "the register tile must be 1, 2 or 4";
  if (parts < 1)
    return "at least one part";
  if (parts > 1 && !epilogue.empty())
    return "epilogue steps need a single part";
  for (const EpilogueStep &step : epilogue)
    if (step.takesTensor() && step.tensorType != "f32")
      return "epilogue tensors must be f32";
  return "";
}

std::string F32GemmRecipe::text() const { return Generator(*this).text(); }

} // namespace gpu
} // namespace loom
