// Numerics of the recurrent forms of linear_attention on the CPU path (a
// log-gate per head or per key dimension, the delta rule with beta, an
// initial state, a final state) against the float64 recurrence of
// unittests/Reference, on random inputs with fixed seeds: ragged S, Dk != Dv,
// dynamic dims, f32, f16 and bf16; and state continuity: a sequence run in
// two calls through the state gives bitwise the result of one call.
#include "Harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

using namespace loom::test;
namespace ref = loom::ref;

namespace {

std::string fmtFloat(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9e", v);
  return buf;
}

double asF32(double v) { return static_cast<double>(static_cast<float>(v)); }

enum class Gate { None, Head, Key };

struct RecCase {
  std::string name;
  std::string type;
  std::string featureMap = "identity";
  Gate gate = Gate::None;
  bool delta = false;
  bool initialState = false;
  bool finalState = false;
  std::vector<double> decay; // empty: none
  double scale = 0.0;        // 0: attribute absent (default 1)
  bool normalize = false;
  std::vector<int64_t> qShape = {2, 3, 37, 5}; // [B, H, S, Dk]
  int64_t dv = 7;
  std::string dynamic; // per dim of q/k/v, e.g. "sdds"
  std::string gateType = "f32";
  double kLo = -1.0, kHi = 1.0;
  bool unitKeys = false; // L2-normalize each key (delta-rule stability)
};

void PrintTo(const RecCase &c, std::ostream *os) { *os << c.name; }

/// `shape` with dim i made dynamic where `dynamic[map[i]]` is 'd'.
std::vector<int64_t> declare(std::vector<int64_t> shape,
                             const std::string &dynamic,
                             const std::vector<size_t> &map) {
  for (size_t i = 0; i < shape.size() && i < map.size(); ++i)
    if (map[i] < dynamic.size() && dynamic[map[i]] == 'd')
      shape[i] = -1;
  return shape;
}

struct Built {
  std::string source;
  std::vector<Tensor> inputs;
  ref::RecurrentOptions options;
};

/// The test function and its inputs for `c`.
Built build(const RecCase &c, uint64_t seed = 40) {
  Built r;
  std::vector<int64_t> qShape = c.qShape, vShape = c.qShape;
  vShape[3] = c.dv;
  int64_t B = qShape[0], H = qShape[1], S = qShape[2], Dk = qShape[3];
  std::vector<int64_t> stateShape = {B, H, Dk, c.dv};
  std::string qt = tensorType(declare(qShape, c.dynamic, {0, 1, 2, 3}), c.type);
  std::string vt = tensorType(declare(vShape, c.dynamic, {0, 1, 2, 3}), c.type);
  std::string st =
      tensorType(declare(stateShape, c.dynamic, {0, 1, 3, 3}), "f32");

  Tensor q = randomTensor(c.type, qShape, seed + 1, -1.0, 1.0);
  Tensor k = randomTensor(c.type, qShape, seed + 2, c.kLo, c.kHi);
  if (c.unitKeys) {
    for (int64_t row = 0; row < B * H * S; ++row) {
      double n = 0;
      for (int64_t d = 0; d < Dk; ++d)
        n += k.data[static_cast<size_t>(row * Dk + d)] *
             k.data[static_cast<size_t>(row * Dk + d)];
      n = std::sqrt(n) + 1e-3;
      for (int64_t d = 0; d < Dk; ++d)
        k.data[static_cast<size_t>(row * Dk + d)] /= n;
    }
    k = roundedTo(c.type, k);
  }
  Tensor v = randomTensor(c.type, vShape, seed + 3);
  r.inputs = {q, k, v};
  std::string args = "%q: " + qt + ", %k: " + qt + ", %v: " + vt;
  std::string types = qt + ", " + qt + ", " + vt;
  std::string operands;
  if (c.gate != Gate::None) {
    std::vector<int64_t> gShape = {B, H, S};
    if (c.gate == Gate::Key)
      gShape.push_back(Dk);
    std::string gt =
        tensorType(declare(gShape, c.dynamic, {0, 1, 2, 3}), c.gateType);
    r.options.gate = randomTensor(c.gateType, gShape, seed + 4, -0.7, 0.0);
    r.inputs.push_back(r.options.gate);
    args += ", %g: " + gt;
    types += ", " + gt;
    operands += " gate(%g)";
  }
  if (c.delta) {
    std::string bt =
        tensorType(declare({B, H, S}, c.dynamic, {0, 1, 2}), c.gateType);
    r.options.beta = randomTensor(c.gateType, {B, H, S}, seed + 5, 0.0, 1.0);
    r.options.rule = ref::UpdateRule::Delta;
    r.inputs.push_back(r.options.beta);
    args += ", %b: " + bt;
    types += ", " + bt;
    operands += " beta(%b)";
  }
  if (c.initialState) {
    r.options.initialState = randomTensor("f32", stateShape, seed + 6);
    r.inputs.push_back(r.options.initialState);
    args += ", %s: " + st;
    types += ", " + st;
    operands += " initial_state(%s)";
  }

  std::string attrs = "causal";
  if (c.featureMap != "identity")
    attrs += ", feature_map = \"" + c.featureMap + "\"";
  if (c.delta)
    attrs += ", rule = \"delta\"";
  if (!c.decay.empty()) {
    attrs += ", decay = array<f32: ";
    for (size_t i = 0; i < c.decay.size(); ++i)
      attrs += (i ? ", " : "") + fmtFloat(c.decay[i]);
    attrs += ">";
  }
  if (c.scale != 0.0)
    attrs += ", scale = " + fmtFloat(c.scale) + " : f32";
  if (c.normalize)
    attrs += ", normalize";

  std::string results = c.finalState ? "(" + vt + ", " + st + ")" : vt;
  std::string lhs = c.finalState ? "%o, %fs" : "%o";
  std::string ret = c.finalState ? "%o, %fs : " + vt + ", " + st : "%o : " + vt;
  r.source = "func.func @f(" + args + ") -> " + results + " {\n  " + lhs +
             " = loom.linear_attention %q, %k, %v" + operands + " {" + attrs +
             "} : (" + types + ") -> " + results + "\n  return " + ret +
             "\n}\n";

  r.options.featureMap = c.featureMap == "relu" ? ref::FeatureMap::Relu
                         : c.featureMap == "elu_plus_one"
                             ? ref::FeatureMap::EluPlusOne
                             : ref::FeatureMap::Identity;
  for (double d : c.decay)
    r.options.decay.push_back(asF32(d));
  r.options.scale = c.scale != 0.0 ? asF32(c.scale) : 1.0;
  r.options.normalize = c.normalize;
  return r;
}

class LinearAttentionRecurrent : public ::testing::TestWithParam<RecCase> {};

TEST_P(LinearAttentionRecurrent, MatchesFloat64Recurrence) {
  const RecCase &c = GetParam();
  Built t = build(c);
  auto out = runOnCPU(t.source, "f", t.inputs);
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError()) << "\n"
                                      << t.source;
  ASSERT_EQ(out->size(), c.finalState ? 2u : 1u);
  ref::RecurrentResult want = ref::linearAttentionRecurrent(
      t.inputs[0], t.inputs[1], t.inputs[2], t.options);
  EXPECT_EQ((*out)[0].shape, want.output.shape);
  EXPECT_LT(relativeError((*out)[0], want.output), tolerance(c.type))
      << t.source;
  if (c.finalState) {
    EXPECT_EQ((*out)[1].shape, want.finalState.shape);
    // The state is f32 whatever the element type.
    EXPECT_LT(relativeError((*out)[1], want.finalState), tolerance("f32"))
        << t.source;
  }
}

RecCase with(RecCase c, std::string name) {
  c.name = std::move(name);
  return c;
}

std::vector<RecCase> cases() {
  std::vector<RecCase> all;
  RecCase c;
  c.type = "f32";
  c.gate = Gate::Head;
  all.push_back(with(c, "HeadGateF32"));
  c.gate = Gate::Key;
  all.push_back(with(c, "KeyGateF32"));
  c.finalState = true;
  all.push_back(with(c, "KeyGateFinalState"));
  c.initialState = true;
  c.scale = 0.3;
  all.push_back(with(c, "KeyGateBothStatesScaled"));
  // The delta rule, with unit keys (as Gated DeltaNet normalizes them).
  RecCase d;
  d.type = "f32";
  d.delta = true;
  d.unitKeys = true;
  all.push_back(with(d, "DeltaNoGate"));
  d.gate = Gate::Head;
  d.finalState = true;
  all.push_back(with(d, "GatedDeltaNetHeadGate"));
  d.gate = Gate::Key;
  d.initialState = true;
  all.push_back(with(d, "KdaKeyGateStates"));
  d.featureMap = "relu";
  d.scale = 0.125;
  all.push_back(with(d, "DeltaReluScaled"));
  // elu(x) + 1 keys far below 0 keep beta * |phi(k)|^2 small.
  d.featureMap = "elu_plus_one";
  d.unitKeys = false;
  d.kLo = -5.0;
  d.kHi = -2.0;
  all.push_back(with(d, "DeltaEluPlusOne"));
  // decay is the constant gate: with the delta rule, with states.
  RecCase e;
  e.type = "f32";
  e.decay = {0.3, 0.0, 1.5};
  e.finalState = true;
  all.push_back(with(e, "DecayFinalState"));
  e.delta = true;
  e.unitKeys = true;
  e.initialState = true;
  all.push_back(with(e, "DecayDeltaStates"));
  // normalize with gates (additive rule, no state).
  RecCase n;
  n.type = "f32";
  n.featureMap = "elu_plus_one";
  n.normalize = true;
  n.gate = Gate::Key;
  n.scale = 0.5;
  all.push_back(with(n, "NormalizeKeyGate"));
  n.gate = Gate::Head;
  n.featureMap = "relu";
  all.push_back(with(n, "NormalizeHeadGateRelu"));
  // Element types: bf16 and f16 data with bf16 or f32 gates.
  RecCase b;
  b.type = "bf16";
  b.gateType = "bf16";
  b.gate = Gate::Key;
  b.delta = true;
  b.unitKeys = true;
  b.initialState = true;
  b.finalState = true;
  all.push_back(with(b, "Bf16DeltaKeyGate"));
  b.type = "f16";
  b.gateType = "f32";
  b.gate = Gate::Head;
  b.delta = false;
  b.unitKeys = false;
  all.push_back(with(b, "F16HeadGate"));
  // Dynamic sizes, odd shapes, one token, Dv = 1.
  RecCase y;
  y.type = "f32";
  y.gate = Gate::Key;
  y.delta = true;
  y.unitKeys = true;
  y.initialState = true;
  y.finalState = true;
  y.dynamic = "dddd";
  all.push_back(with(y, "AllDynamic"));
  y.dynamic = "sdds";
  y.qShape = {1, 2, 1, 3};
  y.dv = 1;
  all.push_back(with(y, "OneTokenDv1"));
  // One static token of one sequence (a decode step, B = S = 1): a
  // rank-reducing token slice of such a tensor was miscanonicalized by
  // MLIR 22 (Mixers.cpp, tokenSlice).
  y.dynamic = "";
  y.qShape = {1, 2, 1, 8};
  y.dv = 4;
  all.push_back(with(y, "DecodeStepOneSequence"));
  y.qShape = {3, 1, 29, 16};
  y.dv = 9;
  all.push_back(with(y, "WideKeys"));
  return all;
}

INSTANTIATE_TEST_SUITE_P(Mixers, LinearAttentionRecurrent,
                         ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<RecCase> &info) {
                           return info.param.name;
                         });

/// The recurrent lowering against the quadratic definition (the existing
/// constant-decay semantics): decay with a final state requested (which
/// selects the recurrent lowering), and, for normalize (which takes no
/// state), a per-head gate holding -decay[h].
TEST(LinearAttentionRecurrentForm, AgreesWithQuadraticForm) {
  const std::vector<double> decay = {0.25, 0.0, 0.9};
  std::vector<double> decayF32;
  for (double d : decay)
    decayF32.push_back(asF32(d));
  for (bool normalize : {false, true}) {
    RecCase c;
    c.type = "f32";
    c.featureMap = "elu_plus_one";
    c.scale = 0.7;
    c.normalize = normalize;
    if (normalize)
      c.gate = Gate::Head;
    else {
      c.decay = decay;
      c.finalState = true;
    }
    Built t = build(c);
    if (normalize) {
      Tensor &g = t.inputs[3];
      for (int64_t b = 0; b < g.shape[0]; ++b)
        for (int64_t h = 0; h < g.shape[1]; ++h)
          for (int64_t s = 0; s < g.shape[2]; ++s)
            g.at({b, h, s}) = -decayF32[static_cast<size_t>(h)];
    }
    auto out = runOnCPU(t.source, "f", t.inputs);
    ASSERT_TRUE(static_cast<bool>(out))
        << llvm::toString(out.takeError()) << "\n"
        << t.source;
    Tensor want = ref::linearAttention(t.inputs[0], t.inputs[1], t.inputs[2],
                                       true, ref::FeatureMap::EluPlusOne,
                                       decayF32, asF32(0.7), normalize);
    EXPECT_LT(relativeError((*out)[0], want), tolerance("f32")) << t.source;
  }
}

//===----------------------------------------------------------------------===//
// State continuity
//===----------------------------------------------------------------------===//

/// t[:, :, lo:hi, ...] of a tensor of rank >= 3.
Tensor sliceTokens(const Tensor &t, int64_t lo, int64_t hi) {
  std::vector<int64_t> shape = t.shape;
  shape[2] = hi - lo;
  Tensor out(shape);
  int64_t inner = 1;
  for (size_t i = 3; i < t.shape.size(); ++i)
    inner *= t.shape[i];
  int64_t S = t.shape[2];
  for (int64_t bh = 0; bh < t.shape[0] * t.shape[1]; ++bh)
    for (int64_t s = lo; s < hi; ++s)
      for (int64_t e = 0; e < inner; ++e)
        out.data[static_cast<size_t>((bh * (hi - lo) + (s - lo)) * inner + e)] =
            t.data[static_cast<size_t>((bh * S + s) * inner + e)];
  return out;
}

struct ContinuityCase {
  std::string name;
  RecCase rec;
};

void PrintTo(const ContinuityCase &c, std::ostream *os) { *os << c.name; }

class StateContinuity : public ::testing::TestWithParam<ContinuityCase> {};

/// run(x1 ++ x2) == run(x2, initial_state = run(x1).final_state), bitwise,
/// for several split points; both with and without an initial state for the
/// whole sequence.
TEST_P(StateContinuity, SplitAnywhereIsBitwiseEqual) {
  RecCase c = GetParam().rec;
  c.dynamic = "ssds"; // one function for every length
  c.finalState = true;
  for (bool startWithState : {false, true}) {
    RecCase first = c, rest = c;
    first.initialState = startWithState;
    rest.initialState = true;
    Built whole = build(first);
    Built next = build(rest); // the source of the continuation
    auto all = runOnCPU(whole.source, "f", whole.inputs);
    ASSERT_TRUE(static_cast<bool>(all))
        << llvm::toString(all.takeError()) << "\n"
        << whole.source;
    int64_t S = c.qShape[2];
    size_t numTokenInputs = whole.inputs.size() - (startWithState ? 1 : 0);
    for (int64_t split : {int64_t(1), int64_t(7), S / 2, S - 1}) {
      std::vector<Tensor> in1, in2;
      for (size_t i = 0; i < numTokenInputs; ++i) {
        in1.push_back(sliceTokens(whole.inputs[i], 0, split));
        in2.push_back(sliceTokens(whole.inputs[i], split, S));
      }
      if (startWithState)
        in1.push_back(whole.inputs.back());
      auto out1 = runOnCPU(whole.source, "f", in1);
      ASSERT_TRUE(static_cast<bool>(out1)) << llvm::toString(out1.takeError());
      in2.push_back((*out1)[1]);
      auto out2 = runOnCPU(next.source, "f", in2);
      ASSERT_TRUE(static_cast<bool>(out2)) << llvm::toString(out2.takeError());
      EXPECT_EQ((*out1)[0].data, sliceTokens((*all)[0], 0, split).data)
          << "split " << split;
      EXPECT_EQ((*out2)[0].data, sliceTokens((*all)[0], split, S).data)
          << "split " << split;
      EXPECT_EQ((*out2)[1].data, (*all)[1].data) << "split " << split;
    }
  }
}

std::vector<ContinuityCase> continuityCases() {
  RecCase a;
  a.type = "f32";
  a.qShape = {2, 2, 23, 6};
  a.dv = 5;
  a.gate = Gate::Head;
  a.featureMap = "elu_plus_one";
  a.scale = 0.25;
  RecCase d = a;
  d.type = "bf16";
  d.gateType = "bf16";
  d.featureMap = "identity";
  d.gate = Gate::Key;
  d.delta = true;
  d.unitKeys = true;
  RecCase e = a;
  e.gate = Gate::None;
  e.decay = {0.5, 0.05};
  return {{"GatedAdditive", a}, {"Bf16KeyGateDelta", d}, {"Decay", e}};
}

INSTANTIATE_TEST_SUITE_P(
    Mixers, StateContinuity, ::testing::ValuesIn(continuityCases()),
    [](const ::testing::TestParamInfo<ContinuityCase> &info) {
      return info.param.name;
    });

} // namespace
