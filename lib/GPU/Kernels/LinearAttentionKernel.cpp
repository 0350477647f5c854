//===- LinearAttentionKernel.cpp - chunked linear attention ---------------===//
//
// loom.linear_attention on CUDA cores in f32: one CTA of 256 threads per
// (batch, head, 64-column slice of Dv), walking the sequence in chunks of 64
// rows with the state Ss = sum_j phi(k_j) v_j^T (a Dk x 64 slice) and the key
// sum z = sum_j phi(k_j) in shared memory:
//
//   load phi(q), phi(k) of the chunk (transposed, f32) and its v slice
//   causal:  As[i][j] = scale phi(q_i).phi(k_j) exp(-lambda (i - j)), j <= i
//            o_i = As V + scale exp(-lambda i) phi(q_i) Ss      (i, j local)
//            den_i = sum_j As[i][j] + scale exp(-lambda i) phi(q_i).z
//            Ss = exp(-64 lambda) Ss + sum_j exp(-lambda (64 - j)) phi(k_j) v_j^T
//            z  = exp(-64 lambda) z  + sum_j exp(-lambda (64 - j)) phi(k_j)
//   otherwise: Ss, z over all chunks first (lambda = 0), then
//            o_i = scale phi(q_i) Ss, den_i = scale phi(q_i).z
//   with normalize o_i / (den_i + 1e-6), rounded once to T.
//
// Causal: step t of the chunk loop is chunk t, its outputs then its state
// update. Otherwise steps 0..n-1 accumulate the state over all chunks and
// steps n..2n-1 write the outputs of chunk t - n: one loop either way, so the
// choice is a constant the pipeline folds.
//
// All decay exponents are non-positive (no overflow). A thread owns a 4 x 4
// register tile (rows r0..r0+3 = 4 (tid / 16), columns cc..cc+3 = 4 (tid %
// 16)) of each 64 x 64 product and accumulates it as outer products of
// 16-byte shared-memory vectors. Qt, Kt and As have rows of 68 floats so
// that their column-wise accesses (the transposed stores of phi(q), phi(k);
// the reads of As four rows apart) spread over the banks. lambda is
// decay[min(h, last)] (as on the CPU for a dynamic H), a chain of selects
// over the rates.
//
// Shared memory (f32), 804 * roundup(Dk, 64) + 34560 bytes: Qt, Kt
// (phi(q), phi(k) of the chunk, [d][row], rows beyond Dk zero), Vs (the
// chunk's v slice [row][col]), Ss ([d][col]), As ([i][j]), zs, dens (the
// normalizers), gs[i] = exp(-lambda i), ws[j] = exp(-lambda (64 - j)). It is
// viewed in the numeric address space 3 so that vector.load/store of it lower
// before convert-gpu-to-nvvm runs.
//
// The feature map, causality and normalization are i1 constants that select
// between the variants' values and regions; the pipeline's canonicalization
// folds them.

#include "loom/GPU/Kernels/LinearAttentionKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;
using FeatureMap = LinearAttentionKernelConfig::FeatureMap;

uint32_t bitsOf(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

/// The f32 array `shape` at `byteOffset` of the dynamic shared memory, in
/// address space 3 (see the file comment).
Value sharedArray(KernelBuilder &b, Value smem, int64_t byteOffset,
                  ArrayRef<int64_t> shape) {
  Type f32 = b.getF32Type();
  Value view = b.view(smem, byteOffset, sharedMemRefType(shape, f32));
  auto numeric = MemRefType::get(shape, f32, MemRefLayoutAttrInterface(),
                                 b.getI64IntegerAttr(3));
  return memref::MemorySpaceCastOp::create(b, numeric, view);
}

/// The four elements of a vector<4xf32>.
Values elementsOf(KernelBuilder &b, Value v) {
  Values out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(b.extract(v, i));
  return out;
}

/// One step of a 4 x 4 register tile's outer-product accumulation:
/// acc[i] + scalars[i] * row (vector.fma) for the tile's four rows.
Values outerProductStep(KernelBuilder &b, ArrayRef<Value> scalars, Value row,
                        ValueRange acc) {
  Values splats, next;
  for (Value s : scalars)
    splats.push_back(b.broadcast(row.getType(), s));
  for (auto [s, a] : llvm::zip_equal(splats, acc))
    next.push_back(vector::FMAOp::create(b, s, row, a));
  return next;
}

/// The kernel's body (see the file comment).
void buildLinearAttention(KernelBuilder &b,
                          const LinearAttentionKernelConfig &c) {
  constexpr int64_t chunk = LinearAttentionKernelConfig::kChunk;
  constexpr int64_t threads = LinearAttentionKernelConfig::kThreads;
  static_assert(chunk == 64 && LinearAttentionKernelConfig::kSlice == 64 &&
                    threads == 256,
                "the 4 x 4 register tiles of 256 threads cover 64 x 64");
  Type t = parseElementType(b.getContext(), c.elementType);
  Type f32 = b.getF32Type();
  auto vec4 = VectorType::get({4}, f32);
  const int64_t p = c.paddedDk();
  SmallVector<int64_t> off = c.sharedOffsets();
  Value q = b.arg(0), k = b.arg(1), v = b.arg(2), out = b.arg(3);
  Value scale = b.arg(4);

  Value c0 = b.idx(0), c1 = b.idx(1), c4 = b.idx(4), c64 = b.idx(chunk);
  Value cThreads = b.idx(threads), cP = b.idx(p);
  Value f0 = b.f32(0.0), f1 = b.f32(1.0), f64 = b.f32(64.0);
  Value eps = b.f32(1.0e-6);
  Value v0 = b.zero(vec4);
  Value iota = b.constant(DenseElementsAttr::get(
      vec4, ArrayRef<float>{0.0f, 1.0f, 2.0f, 3.0f}));
  Value causal = b.i1(c.causal), normalize = b.i1(c.normalize);
  Value fmRelu = b.i1(c.featureMap == FeatureMap::Relu);
  Value fmElu = b.i1(c.featureMap == FeatureMap::EluPlusOne);
  Value intraN = b.select(causal, c64, c0);

  Value smem = b.dynamicSharedMemory();
  Value Qt = sharedArray(b, smem, off[0], {p, 68});
  Value Kt = sharedArray(b, smem, off[1], {p, 68});
  Value Vs = sharedArray(b, smem, off[2], {64, 64});
  Value Ss = sharedArray(b, smem, off[3], {p, 64});
  Value As = sharedArray(b, smem, off[4], {64, 68});
  Value zs = sharedArray(b, smem, off[5], {p});
  Value dens = sharedArray(b, smem, off[6], {64});
  Value gs = sharedArray(b, smem, off[7], {64});
  Value ws = sharedArray(b, smem, off[8], {64});

  Value B = b.dim(q, 0);
  Value H = b.dim(q, 1);
  Value S = b.dim(q, 2);
  Value Dv = b.dim(v, 3);
  Value bh = b.blockId(mlir::gpu::Dimension::x);
  Value slice = b.blockId(mlir::gpu::Dimension::y);
  Value e0 = b.mul(slice, c64);
  Value BH = b.mul(B, H);
  Value p0 = b.ult(bh, BH);
  Value p1 = b.ult(e0, Dv);
  Value p2 = b.cmpi(arith::CmpIPredicate::ugt, S, c0);
  Value p01 = b.andi(p0, p1);
  Value live = b.andi(p01, p2);
  b.ifThen(live, [&] {
    Value bi = b.divu(bh, H);
    Value h = b.remu(bh, H);
    Value tid = b.threadId();
    Value ti = b.divu(tid, b.idx(16));
    Value tj = b.remu(tid, b.idx(16));
    Value r0 = b.mul(ti, c4);
    Value r[4] = {r0};
    for (int64_t i = 1; i < 4; ++i)
      r[i] = b.add(r0, b.idx(i));
    Value cc = b.mul(tj, c4);
    Value Sm1 = b.sub(S, c1);
    Value Dvm1 = b.sub(Dv, c1);

    // lambda = decay[min(h, last)] (0 without decay).
    Value lambda = f0;
    if (!c.decay.empty()) {
      Value chosen = headDecayRate(b, c.decay, h);
      lambda = b.fadd(chosen, f0);
    }
    Value negl = b.fneg(lambda);
    Value nlC = b.fmul(negl, f64);
    Value decC = b.exp(nlC);
    Value nchunks = arith::CeilDivUIOp::create(b, S, c64);
    Value twice = b.mul(nchunks, b.idx(2));
    Value steps = b.select(causal, nchunks, twice);

    // The state and the key sum start at zero; gs and ws once.
    b.forLoop(tid, b.idx(p * 64), cThreads, [&](Value x) {
      Value d = b.divu(x, c64);
      Value e = b.remu(x, c64);
      b.store(f0, Ss, {d, e});
    });
    b.forLoop(tid, cP, cThreads, [&](Value x) { b.store(f0, zs, x); });
    Value tidLt64 = b.ult(tid, c64);
    b.ifThen(tidLt64, [&] {
      Value ti32 = b.indexCast(b.getI32Type(), tid);
      Value tf = b.sitofp(f32, ti32);
      Value ga = b.fmul(negl, tf);
      Value g = b.exp(ga);
      b.store(g, gs, tid);
      Value rem = b.fsub(f64, tf);
      Value wa = b.fmul(negl, rem);
      Value w = b.exp(wa);
      b.store(w, ws, tid);
    });

    b.forLoop(c0, steps, c1, [&](Value step) {
      Value second = b.cmpi(arith::CmpIPredicate::uge, step, nchunks);
      Value tmn = b.sub(step, nchunks);
      Value chunkIdx = b.select(second, tmn, step);
      Value isOut = b.ori(causal, second);
      Value notSecond = b.ult(step, nchunks);
      Value isUpd = b.ori(causal, notSecond);
      Value s0 = b.mul(chunkIdx, c64);
      b.barrier();

      // phi(q), phi(k) (transposed) and the v slice, zero out of range; q
      // and k side by side, op for op.
      b.forLoop(tid, b.idx(64 * p), cThreads, [&](Value x) {
        Value row = b.divu(x, cP);
        Value col = b.remu(x, cP);
        Value s = b.add(s0, row);
        Value sok = b.ult(s, S);
        Value dok = b.ult(col, b.idx(c.dk));
        Value ok = b.andi(sok, dok);
        Value sc = b.minu(s, Sm1);
        Value dc = b.minu(col, b.idx(c.dk - 1));
        Values raw;
        for (Value m : {q, k})
          raw.push_back(b.load(m, {bi, h, sc, dc}));
        auto each = [&](llvm::function_ref<Value(size_t)> fn) {
          Values r;
          for (size_t i = 0; i < raw.size(); ++i)
            r.push_back(fn(i));
          return r;
        };
        Values xs = each([&](size_t i) { return b.toF32(raw[i]); });
        Values pos = each([&](size_t i) {
          return b.cmpf(arith::CmpFPredicate::OGT, xs[i], f0);
        });
        Values relu =
            each([&](size_t i) { return b.select(pos[i], xs[i], f0); });
        Values plus1 = each([&](size_t i) { return b.fadd(xs[i], f1); });
        Values ex = each([&](size_t i) { return b.exp(xs[i]); });
        Values elu =
            each([&](size_t i) { return b.select(pos[i], plus1[i], ex[i]); });
        Values mapA =
            each([&](size_t i) { return b.select(fmRelu, relu[i], xs[i]); });
        Values mapB =
            each([&](size_t i) { return b.select(fmElu, elu[i], mapA[i]); });
        Values phi = each([&](size_t i) { return b.select(ok, mapB[i], f0); });
        b.store(phi[0], Qt, {col, row});
        b.store(phi[1], Kt, {col, row});
      });
      b.forLoop(tid, b.idx(64 * 64), cThreads, [&](Value x) {
        Value row = b.divu(x, c64);
        Value col = b.remu(x, c64);
        Value s = b.add(s0, row);
        Value e = b.add(e0, col);
        Value sok = b.ult(s, S);
        Value eok = b.ult(e, Dv);
        Value ok = b.andi(sok, eok);
        Value sc = b.minu(s, Sm1);
        Value ec = b.minu(e, Dvm1);
        Value raw = b.load(v, {bi, h, sc, ec});
        Value vx = b.toF32(raw);
        Value vv = b.select(ok, vx, f0);
        b.store(vv, Vs, {row, col});
      });
      b.barrier();

      b.ifThen(isOut, [&] {
        b.ifThen(causal, [&] {
          // As[i][j] = scale phi(q_i).phi(k_j) exp(-lambda (i - j)) for
          // j <= i, else 0.
          Values a = b.forLoop(
              c0, cP, c1, {v0, v0, v0, v0}, [&](Value d, ValueRange acc) {
                Value qv = b.vectorLoad(vec4, Qt, {d, r0});
                Value kv = b.vectorLoad(vec4, Kt, {d, cc});
                return outerProductStep(b, elementsOf(b, qv), kv, acc);
              });
          Value cc32 = b.indexCast(b.getI32Type(), cc);
          Value ccf = b.sitofp(f32, cc32);
          Value ccb = b.broadcast(vec4, ccf);
          Value jv = b.fadd(ccb, iota);
          Value scv = b.broadcast(vec4, scale);
          Value nlv = b.broadcast(vec4, negl);
          for (int64_t i = 0; i < 4; ++i) {
            Value ri = b.indexCast(b.getI32Type(), r[i]);
            Value rf = b.sitofp(f32, ri);
            Value rb = b.broadcast(vec4, rf);
            Value dist = b.fsub(rb, jv);
            Value ex = b.fmul(nlv, dist);
            Value dc = b.exp(ex);
            Value sw = b.fmul(a[i], scv);
            Value dw = b.fmul(sw, dc);
            Value visible = b.cmpf(arith::CmpFPredicate::OGE, dist, v0);
            Value m = b.select(visible, dw, v0);
            b.vectorStore(m, As, {r[i], cc});
          }
          b.barrier();
        });
        b.ifThen(normalize, [&] {
          // dens[i] = sum_j As[i][j] + scale g_i phi(q_i).z + eps
          b.ifThen(tidLt64, [&] {
            Value sa = b.forLoop(c0, intraN, c1, {f0},
                                 [&](Value j, ValueRange acc) {
                                   Value x = b.load(As, {tid, j});
                                   return Values{b.fadd(acc[0], x)};
                                 })[0];
            Value sq = b.forLoop(c0, cP, c1, {f0},
                                 [&](Value d, ValueRange acc) {
                                   Value x = b.load(Qt, {d, tid});
                                   Value z = b.load(zs, d);
                                   return Values{b.fma(x, z, acc[0])};
                                 })[0];
            Value g = b.load(gs, tid);
            Value sg = b.fmul(scale, g);
            Value inter = b.fmul(sg, sq);
            Value den = b.fadd(sa, inter);
            Value dene = b.fadd(den, eps);
            b.store(dene, dens, tid);
          });
          b.barrier();
        });
        // This thread's outputs: intra = As V, inter = phi(Q) Ss.
        Values intra = b.forLoop(
            c0, intraN, c1, {v0, v0, v0, v0}, [&](Value j, ValueRange acc) {
              Value vv = b.vectorLoad(vec4, Vs, {j, cc});
              Values w;
              for (int64_t i = 0; i < 4; ++i)
                w.push_back(b.load(As, {r[i], j}));
              return outerProductStep(b, w, vv, acc);
            });
        Values inter = b.forLoop(
            c0, cP, c1, {v0, v0, v0, v0}, [&](Value d, ValueRange acc) {
              Value qv = b.vectorLoad(vec4, Qt, {d, r0});
              Value sv = b.vectorLoad(vec4, Ss, {d, cc});
              return outerProductStep(b, elementsOf(b, qv), sv, acc);
            });
        Value ecol = b.add(e0, cc);
        Value left = b.sub(Dv, ecol);
        Value leftp = b.maxs(left, c0);
        Value ncol = b.mins(leftp, c4);
        // o = intra + scale g inter (normalized), rounded once, stored
        // under a mask of the rows below S and the columns below Dv.
        for (int64_t i = 0; i < 4; ++i) {
          Value g = b.load(gs, r[i]);
          Value sg = b.fmul(scale, g);
          Value sgv = b.broadcast(vec4, sg);
          Value o = vector::FMAOp::create(b, sgv, inter[i], intra[i]);
          if (c.normalize) {
            Value dn = b.load(dens, r[i]);
            Value dnv = b.broadcast(vec4, dn);
            o = b.fdiv(o, dnv);
          }
          Value rounded = b.roundTo(t, o);
          Value srow = b.add(s0, r[i]);
          Value rowOk = b.ult(srow, S);
          Value nc = b.select(rowOk, ncol, c0);
          Value mask = vector::CreateMaskOp::create(
              b, VectorType::get({4}, b.getI1Type()), ValueRange{nc});
          vector::MaskedStoreOp::create(b, out, ValueRange{bi, h, srow, ecol},
                                        mask, rounded);
        }
      });

      b.ifThen(isUpd, [&] {
        b.barrier();
        // Ss = exp(-64 lambda) Ss + sum_j ws[j] phi(k_j) v_j^T, this
        // thread's tile in each 64-row block of Ss.
        b.forLoop(c0, cP, c64, [&](Value rb) {
          Value d[4];
          for (int64_t i = 0; i < 4; ++i)
            d[i] = b.add(rb, r[i]);
          Values u = b.forLoop(
              c0, c64, c1, {v0, v0, v0, v0}, [&](Value j, ValueRange acc) {
                Value vRow = b.vectorLoad(vec4, Vs, {j, cc});
                Value wj = b.load(ws, j);
                Value wb = b.broadcast(vec4, wj);
                Value vv = b.fmul(vRow, wb);
                Values kd;
                for (int64_t i = 0; i < 4; ++i)
                  kd.push_back(b.load(Kt, {d[i], j}));
                return outerProductStep(b, kd, vv, acc);
              });
          Value decv = b.broadcast(vec4, decC);
          for (int64_t i = 0; i < 4; ++i) {
            Value so = b.vectorLoad(vec4, Ss, {d[i], cc});
            Value sn = vector::FMAOp::create(b, so, decv, u[i]);
            b.vectorStore(sn, Ss, {d[i], cc});
          }
        });
        // z = exp(-64 lambda) z + sum_j ws[j] phi(k_j).
        b.forLoop(tid, cP, cThreads, [&](Value x) {
          Value sk = b.forLoop(c0, c64, c1, {f0},
                               [&](Value j, ValueRange acc) {
                                 Value kx = b.load(Kt, {x, j});
                                 Value wj = b.load(ws, j);
                                 return Values{b.fma(kx, wj, acc[0])};
                               })[0];
          Value zo = b.load(zs, x);
          Value zn = b.fma(zo, decC, sk);
          b.store(zn, zs, x);
        });
      });
    });
  });
}

} // namespace

SmallVector<int64_t> LinearAttentionKernelConfig::sharedOffsets() const {
  int64_t p = paddedDk();
  int64_t sizes[] = {p * 68 * 4, p * 68 * 4, 64 * 64 * 4, p * 64 * 4,
                     64 * 68 * 4, p * 4,      64 * 4,      64 * 4,
                     64 * 4};
  SmallVector<int64_t> offsets = {0};
  for (int64_t s : sizes)
    offsets.push_back(offsets.back() + s);
  return offsets;
}

const char *LinearAttentionKernelConfig::featureMapName(FeatureMap f) {
  switch (f) {
  case FeatureMap::Identity:
    return "identity";
  case FeatureMap::Relu:
    return "relu";
  case FeatureMap::EluPlusOne:
    return "elu_plus_one";
  }
  llvm_unreachable("unknown feature map");
}

std::string LinearAttentionKernelConfig::kernelName() const {
  std::string name = "loom_linear_attention_" + elementType + "_dk" +
                     std::to_string(dk) + (causal ? "_causal" : "") +
                     (normalize ? "_norm" : "") + "_" +
                     featureMapName(featureMap) + (strided ? "_strided" : "");
  if (!decay.empty())
    name += decayNameSuffix(decay);
  return name;
}

Value headDecayRate(KernelBuilder &b, ArrayRef<float> rates, Value h) {
  Value hcl = b.minu(h, b.idx(rates.size() - 1));
  Value chosen = b.f32Bits(bitsOf(rates[0]));
  for (size_t i = 1; i < rates.size(); ++i) {
    Value rate = b.f32Bits(bitsOf(rates[i]));
    Value isHead = b.eq(hcl, b.idx(i));
    chosen = b.select(isHead, rate, chosen);
  }
  return chosen;
}

std::string decayNameSuffix(ArrayRef<float> rates) {
  std::string name = "_decay";
  for (float d : rates)
    name += "_" + llvm::utohexstr(bitsOf(d), /*LowerCase=*/true, /*Width=*/8);
  return name;
}

FailureOr<SymbolRefAttr>
buildLinearAttentionKernel(ModuleOp module, Location loc,
                           const LinearAttentionKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  int64_t dyn = ShapedType::kDynamic;
  MemRefLayoutAttrInterface layout;
  if (c.strided)
    layout = StridedLayoutAttr::get(ctx, dyn, {dyn, dyn, dyn, 1});
  auto global = MemRefType::get({dyn, dyn, dyn, dyn}, t, layout);
  KernelSignature sig;
  sig.arguments = {global, global, global, global, Float32Type::get(ctx)};
  sig.blockSize = {LinearAttentionKernelConfig::kThreads, 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { buildLinearAttention(b, c); });
}

} // namespace gpu
} // namespace loom
