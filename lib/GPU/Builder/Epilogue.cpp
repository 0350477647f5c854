//===- Epilogue.cpp - elementwise epilogues fused into kernels ------------===//

#include "loom/GPU/Builder/Epilogue.h"

using namespace mlir;

namespace loom {
namespace gpu {

std::string epilogueSuffix(const std::vector<EpilogueStep> &epilogue) {
  if (epilogue.empty())
    return "";
  std::string s = "_ep";
  for (const EpilogueStep &step : epilogue) {
    switch (step.kind) {
    case EpilogueStep::Kind::AddTensor: s += "_add" + step.tensorType; break;
    case EpilogueStep::Kind::MulTensor: s += "_mul" + step.tensorType; break;
    case EpilogueStep::Kind::Silu: s += "_silu"; break;
    case EpilogueStep::Kind::Gelu: s += "_gelu"; break;
    case EpilogueStep::Kind::GeluTanh: s += "_gelutanh"; break;
    }
  }
  return s;
}

std::vector<int> appendEpilogueArguments(MLIRContext *ctx,
                                         const std::vector<EpilogueStep> &epilogue,
                                         SmallVectorImpl<Type> &arguments) {
  std::vector<int> index;
  for (const EpilogueStep &step : epilogue) {
    if (!step.takesTensor()) {
      index.push_back(-1);
      continue;
    }
    index.push_back(static_cast<int>(arguments.size()));
    arguments.push_back(
        dynamicMemRefType(2, parseElementType(ctx, step.tensorType)));
  }
  return index;
}

Value applyEpilogueStep(KernelBuilder &b, const EpilogueStep &step, Value v,
                        Value operand) {
  using Kind = EpilogueStep::Kind;
  switch (step.kind) {
  case Kind::AddTensor:
    return b.fadd(v, operand);
  case Kind::MulTensor:
    return b.fmul(v, operand);
  case Kind::Silu: {
    // v / (1 + exp(-v)) as v * rcp(1 + ex2(-v log2 e)): two approximate
    // SFU instructions (relative error about 2^-22) instead of libdevice's
    // expf and an IEEE division, which made the SwiGLU epilogue of the
    // wgmma GEMM a tenth of its tile's time. Very negative v: ex2 gives
    // +inf, rcp 0, the result -0 (SiLU's limit); NaN stays NaN.
    Value e = b.exp2Approx(b.fmul(v, b.f32(-1.4426950408889634)));
    return b.fmul(v, b.rcpApprox(b.fadd(e, b.f32(1.0))));
  }
  case Kind::Gelu: {
    Value t = b.fmul(v, b.f32(0.70710678118654752));
    Value one = b.fadd(b.erf(t), b.f32(1.0));
    return b.fmul(b.fmul(v, b.f32(0.5)), one);
  }
  case Kind::GeluTanh: {
    Value x3 = b.fmul(b.fmul(v, v), v);
    Value inner = b.fadd(v, b.fmul(x3, b.f32(0.044715)));
    Value th = b.tanh(b.fmul(inner, b.f32(0.79788456080286536)));
    Value one = b.fadd(th, b.f32(1.0));
    return b.fmul(b.fmul(v, b.f32(0.5)), one);
  }
  }
  return v;
}

Value applyEpilogue(KernelBuilder &b, const std::vector<EpilogueStep> &epilogue,
                    const std::vector<int> &argumentIndex, Value v, Value row,
                    Value col) {
  for (size_t i = 0; i < epilogue.size(); ++i) {
    Value operand;
    if (epilogue[i].takesTensor())
      operand = b.toF32(b.load(b.arg(argumentIndex[i]), {row, col}));
    v = applyEpilogueStep(b, epilogue[i], v, operand);
  }
  return v;
}

std::array<Value, 2>
applyEpiloguePair(KernelBuilder &b, const std::vector<EpilogueStep> &epilogue,
                  const std::vector<int> &argumentIndex, std::array<Value, 2> v,
                  Value row, Value col) {
  for (size_t i = 0; i < epilogue.size(); ++i) {
    std::array<Value, 2> operand;
    if (epilogue[i].takesTensor()) {
      Value tensor = b.arg(argumentIndex[i]);
      Type element = cast<MemRefType>(tensor.getType()).getElementType();
      int64_t bytes = element.getIntOrFloatBitWidth() / 8;
      Value pair = b.vectorLoad(VectorType::get({2}, element), tensor,
                                {row, col}, 2 * bytes);
      for (int j = 0; j < 2; ++j)
        operand[j] = b.toF32(b.extract(pair, j));
    }
    for (int j = 0; j < 2; ++j)
      v[j] = applyEpilogueStep(b, epilogue[i], v[j], operand[j]);
  }
  return v;
}

Value epilogueTensorsAligned(KernelBuilder &b,
                             const std::vector<EpilogueStep> &epilogue,
                             const std::vector<int> &argumentIndex) {
  Value ok = b.i1(true);
  for (size_t i = 0; i < epilogue.size(); ++i) {
    if (!epilogue[i].takesTensor())
      continue;
    Value tensor = b.arg(argumentIndex[i]);
    Type element = cast<MemRefType>(tensor.getType()).getElementType();
    int64_t bytes = element.getIntOrFloatBitWidth() / 8;
    Value misaligned = b.remu(b.alignedPointer(tensor), b.idx(2 * bytes));
    ok = b.andi(ok, b.eq(misaligned, b.idx(0)));
  }
  return ok;
}

} // namespace gpu
} // namespace loom
