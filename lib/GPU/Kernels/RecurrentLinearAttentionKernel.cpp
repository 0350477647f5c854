//===- RecurrentLinearAttentionKernel.cpp - decode, token by token --------===//
//
// Causal loom.linear_attention for the few tokens of a decode step: the
// recurrence itself, in f32, as the CPU path computes it. One CTA of 8 warps
// per (batch, head, 128 columns of Dv); lane l owns columns l, l + 32,
// l + 64, l + 96 of the slice (each load or store of a warp is 128
// contiguous bytes) and warp w the state rows R w .. R w + R - 1 (R =
// ceil(Dk / 8)), so the state, R x 4 values a thread, stays in registers
// from the initial state (or zeros) to the final one, read and written
// once: a decode step moves the state's bytes and little else. For each
// token t, with a_d = exp(g_t) (per key dimension, per head, -decay[h] or
// 1), phi the feature map:
//
//   additive: S_d = a_d S_d + phi(k)_d v
//   delta:    S_d = a_d S_d;  u = sum_d phi(k)_d S_d  (over the warps)
//             S_d = S_d + beta phi(k)_d (v - u)
//   o = scale sum_d phi(q)_d S_d                      (over the warps)
//
// The sums over d add a warp's rows in its registers, then the 8 warps'
// partial sums through shared memory (a barrier, then every thread adds
// the 8 partials of its columns in warp order). The two sums have a
// buffer each per token parity, so that token t + 1 writes while token t's
// readers may still be reading the other one. q, k, the gate and beta are
// read per token (the same address across a warp: one transaction), v and
// o as the lane's 4 columns.

#include "loom/GPU/Kernels/RecurrentLinearAttentionKernel.h"

#include "loom/GPU/Builder/KernelBuilder.h"

using namespace mlir;

namespace loom {
namespace gpu {

namespace {

using Values = KernelBuilder::Values;
using Config = RecurrentLinearAttentionKernelConfig;
using FeatureMap = Config::FeatureMap;
using Gate = Config::Gate;

constexpr int64_t kW = Config::kWarps;
constexpr int64_t kN = Config::kSlice;

class Generator {
public:
  Generator(KernelBuilder &b, const Config &c)
      : b(b), c(c), t(parseElementType(b.getContext(), c.elementType)),
        rows(c.rowsPerWarp()) {}
  void run();

private:
  KernelBuilder &b;
  const Config &c;
  Type t;
  const int64_t rows;

  Value q, k, v, o, gateArg, betaArg, initArg, finalArg, scale;
  Value sumO, sumU; // shared [2][kW][kN] f32: per parity, warp, column
  Value lane, warp, bi, h, S, Dv, col0, headRate;
  /// Column j (0..3) of this lane: col0 + 32 j, so that each of a warp's
  /// four loads and stores of a state row is 128 contiguous bytes.
  Value colOf(int64_t j) { return b.addConst(col0, 32 * j); }
  Values d;    // this thread's state rows
  Values dIn;  // i1: the row is < Dk
  Values cIn;  // i1: column col0 + j is < Dv (per j of 4)

  /// phi(x) of an f32 value.
  Value phi(Value x);
  /// The sum over d of x_d (4 columns) across the warps: this warp's
  /// partials into `buf` at `parity`, a barrier, the 8 partials added.
  Values crossWarpSum(Value buf, Value parity, ArrayRef<Value> partial);
  /// The body of token `tok`; returns the state.
  Values token(Value tok, ValueRange state);
};

Value Generator::phi(Value x) {
  Value zero = b.f32(0.0);
  switch (c.featureMap) {
  case FeatureMap::Identity:
    return x;
  case FeatureMap::Relu: {
    Value pos = b.cmpf(arith::CmpFPredicate::OGT, x, zero);
    return b.select(pos, x, zero);
  }
  case FeatureMap::EluPlusOne: {
    Value pos = b.cmpf(arith::CmpFPredicate::OGT, x, zero);
    Value plus1 = b.fadd(x, b.f32(1.0));
    Value ex = b.exp(x);
    return b.select(pos, plus1, ex);
  }
  }
  return x;
}

Values Generator::crossWarpSum(Value buf, Value parity,
                               ArrayRef<Value> partial) {
  for (int64_t j = 0; j < 4; ++j) {
    Value colJ = b.addConst(lane, 32 * j);
    b.store(partial[j], buf, {parity, warp, colJ});
  }
  b.barrier();
  Values total;
  for (int64_t j = 0; j < 4; ++j) {
    Value colJ = b.addConst(lane, 32 * j);
    Value sum = b.load(buf, {parity, b.idx(0), colJ});
    for (int64_t w = 1; w < kW; ++w) {
      Value x = b.load(buf, {parity, b.idx(w), colJ});
      sum = b.fadd(sum, x);
    }
    total.push_back(sum);
  }
  return total;
}

Values Generator::token(Value tok, ValueRange state) {
  Value zero = b.f32(0.0);
  Value parity = b.remu(tok, b.idx(2));
  // phi(q)_d, phi(k)_d and the gate a_d of this thread's rows (0 past Dk).
  Values qd(rows), kd(rows), ad(rows);
  Value headGate;
  if (c.gate == Gate::PerHead) {
    Value g = b.load(gateArg, {bi, h, tok});
    headGate = b.exp(b.toF32(g));
  } else if (c.gate == Gate::Decay) {
    headGate = b.exp(headRate);
  }
  for (int64_t i = 0; i < rows; ++i) {
    Value dc = b.minu(d[i], b.idx(c.dk - 1));
    Value qRaw = b.load(q, {bi, h, tok, dc});
    Value kRaw = b.load(k, {bi, h, tok, dc});
    Value qPhi = phi(b.toF32(qRaw));
    Value kPhi = phi(b.toF32(kRaw));
    qd[i] = b.select(dIn[i], qPhi, zero);
    kd[i] = b.select(dIn[i], kPhi, zero);
    if (c.gate == Gate::PerKey) {
      Value g = b.load(gateArg, {bi, h, tok, dc});
      ad[i] = b.exp(b.toF32(g));
    } else {
      ad[i] = headGate;
    }
  }
  // v: this lane's 4 columns (0 past Dv).
  Values vj(4);
  for (int64_t j = 0; j < 4; ++j) {
    Value colJ = colOf(j);
    Value cc = b.minu(colJ, b.sub(Dv, b.idx(1)));
    Value raw = b.load(v, {bi, h, tok, cc});
    vj[j] = b.select(cIn[j], b.toF32(raw), zero);
  }

  Values s(state.begin(), state.end()); // s[4 i + j]
  if (ad[0])
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < 4; ++j)
        s[4 * i + j] = b.fmul(s[4 * i + j], ad[i]);
  if (c.delta) {
    Values part(4);
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t i = 0; i < rows; ++i)
        part[j] = i ? b.fma(kd[i], s[4 * i + j], part[j])
                    : b.fmul(kd[i], s[4 * i + j]);
    Values u = crossWarpSum(sumU, parity, part);
    Value beta = b.toF32(b.load(betaArg, {bi, h, tok}));
    for (int64_t i = 0; i < rows; ++i) {
      Value bk = b.fmul(beta, kd[i]);
      for (int64_t j = 0; j < 4; ++j) {
        Value diff = b.fsub(vj[j], u[j]);
        s[4 * i + j] = b.fma(bk, diff, s[4 * i + j]);
      }
    }
  } else {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < 4; ++j)
        s[4 * i + j] = b.fma(kd[i], vj[j], s[4 * i + j]);
  }
  // o = scale * sum_d phi(q)_d S_d, written by warp 0.
  Values part(4);
  for (int64_t j = 0; j < 4; ++j)
    for (int64_t i = 0; i < rows; ++i)
      part[j] = i ? b.fma(qd[i], s[4 * i + j], part[j])
                  : b.fmul(qd[i], s[4 * i + j]);
  Values total = crossWarpSum(sumO, parity, part);
  b.ifThen(b.eq(warp, b.idx(0)), [&] {
    for (int64_t j = 0; j < 4; ++j)
      b.ifThen(cIn[j], [&] {
        Value y = b.fmul(total[j], scale);
        Value rounded = b.roundTo(t, y);
        Value colJ = colOf(j);
        b.store(rounded, o, {bi, h, tok, colJ});
      });
  });
  return s;
}

void Generator::run() {
  unsigned argNo = 0;
  q = b.arg(argNo++);
  k = b.arg(argNo++);
  v = b.arg(argNo++);
  o = b.arg(argNo++);
  if (c.gate == Gate::PerHead || c.gate == Gate::PerKey)
    gateArg = b.arg(argNo++);
  if (c.delta)
    betaArg = b.arg(argNo++);
  if (c.initialState)
    initArg = b.arg(argNo++);
  if (c.finalState)
    finalArg = b.arg(argNo++);
  scale = b.arg(argNo++);
  sumO = b.workgroup(0);
  sumU = b.workgroup(1);

  Value tid = b.threadId();
  lane = b.remu(tid, b.idx(32));
  warp = b.divu(tid, b.idx(32));
  Value B = b.dim(q, 0);
  Value H = b.dim(q, 1);
  S = b.dim(q, 2);
  Dv = b.dim(v, 3);
  Value bh = b.blockId(mlir::gpu::Dimension::x);
  Value slice = b.blockId(mlir::gpu::Dimension::y);
  Value e0 = b.mul(slice, b.idx(kN));
  col0 = b.add(e0, lane);
  Value BH = b.mul(B, H);
  Value bhIn = b.ult(bh, BH);
  Value sliceIn = b.ult(e0, Dv);
  Value live = b.andi(bhIn, sliceIn);
  b.ifThen(live, [&] {
    bi = b.divu(bh, H);
    h = b.remu(bh, H);
    if (c.gate == Gate::Decay)
      headRate = b.fneg(headDecayRate(b, c.decay, h));
    Value warpRow = b.mul(warp, b.idx(rows));
    for (int64_t i = 0; i < rows; ++i) {
      d.push_back(b.addConst(warpRow, i));
      dIn.push_back(b.ult(d.back(), b.idx(c.dk)));
    }
    for (int64_t j = 0; j < 4; ++j) {
      Value colJ = colOf(j);
      cIn.push_back(b.ult(colJ, Dv));
    }

    // The state: the initial one's rows and columns of this thread, or 0.
    Value zero = b.f32(0.0);
    Values state(4 * rows, zero);
    // Every load is issued unconditionally from an address clamped into
    // the state (and the rows and columns outside it zeroed after), so
    // that a thread's 4 R loads are in flight together rather than one
    // branch at a time.
    if (c.initialState) {
      Value lastCol = b.sub(Dv, b.idx(1));
      for (int64_t i = 0; i < rows; ++i) {
        Value dc = b.minu(d[i], b.idx(c.dk - 1));
        for (int64_t j = 0; j < 4; ++j) {
          Value colJ = colOf(j);
          Value cc = b.minu(colJ, lastCol);
          Value x = b.load(initArg, {bi, h, dc, cc});
          Value in = b.andi(dIn[i], cIn[j]);
          state[4 * i + j] = b.select(in, x, zero);
        }
      }
    }
    Values last = b.forLoop(b.idx(0), S, b.idx(1), state,
                            [&](Value tok, ValueRange carried) {
                              return token(tok, carried);
                            });
    if (c.finalState)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          Value in = b.andi(dIn[i], cIn[j]);
          b.ifThen(in, [&] {
            Value colJ = colOf(j);
            b.store(last[4 * i + j], finalArg, {bi, h, d[i], colJ});
          });
        }
  });
}

} // namespace

std::string RecurrentLinearAttentionKernelConfig::kernelName() const {
  std::string name = "loom_linear_attention_rec_" + elementType + "_dk" +
                     std::to_string(dk) + "_" +
                     LinearAttentionKernelConfig::featureMapName(featureMap);
  switch (gate) {
  case Gate::None:
    break;
  case Gate::Decay:
    name += decayNameSuffix(decay);
    break;
  case Gate::PerHead:
    name += "_gate_" + gateType;
    break;
  case Gate::PerKey:
    name += "_keygate_" + gateType;
    break;
  }
  if (delta)
    name += "_delta_" + betaType;
  if (initialState)
    name += "_init";
  if (finalState)
    name += "_final";
  return name;
}

FailureOr<SymbolRefAttr> buildRecurrentLinearAttentionKernel(
    ModuleOp module, Location loc,
    const RecurrentLinearAttentionKernelConfig &c) {
  MLIRContext *ctx = module.getContext();
  Type t = parseElementType(ctx, c.elementType);
  Type f32 = Float32Type::get(ctx);
  using Gate = RecurrentLinearAttentionKernelConfig::Gate;
  KernelSignature sig;
  MemRefType global = dynamicMemRefType(4, t);
  sig.arguments = {global, global, global, global};
  if (c.gate == Gate::PerHead)
    sig.arguments.push_back(
        dynamicMemRefType(3, parseElementType(ctx, c.gateType)));
  if (c.gate == Gate::PerKey)
    sig.arguments.push_back(
        dynamicMemRefType(4, parseElementType(ctx, c.gateType)));
  if (c.delta)
    sig.arguments.push_back(
        dynamicMemRefType(3, parseElementType(ctx, c.betaType)));
  if (c.initialState)
    sig.arguments.push_back(dynamicMemRefType(4, f32));
  if (c.finalState)
    sig.arguments.push_back(dynamicMemRefType(4, f32));
  sig.arguments.push_back(f32);
  MemRefType sums = sharedMemRefType({2, kW, kN}, f32);
  sig.workgroup = {{sums, 16}, {sums, 16}};
  sig.blockSize = {RecurrentLinearAttentionKernelConfig::kThreads, 1, 1};
  return getOrBuildKernel(module, loc, c.kernelName(), sig,
                          [&](KernelBuilder &b) { Generator(b, c).run(); });
}

} // namespace gpu
} // namespace loom
