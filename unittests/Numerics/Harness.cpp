//===- Harness.cpp - run loom functions on the CPU for numerics tests ------===//

#include "Harness.h"

#include "loom/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Runtime/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
namespace npy = loom::npy;

namespace loom::test {

double roundTo(llvm::StringRef type, double x) {
  if (type == "f32")
    return static_cast<double>(static_cast<float>(x));
  if (type == "f16")
    return npy::f16ToFloat(npy::doubleToF16(x));
  if (type == "bf16")
    return npy::bf16ToFloat(npy::doubleToBF16(x));
  if (type == "f8E4M3FN")
    return npy::f8E4M3FNToFloat(npy::doubleToF8E4M3FN(x));
  return x;
}

Tensor roundedTo(llvm::StringRef type, Tensor t) {
  for (double &v : t.data)
    v = roundTo(type, v);
  return t;
}

Tensor randomTensor(llvm::StringRef type, std::vector<int64_t> shape,
                    uint64_t seed, double lo, double hi) {
  Tensor t(std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : t.data)
    v = roundTo(type, dist(rng));
  return t;
}

Tensor randomInts(std::vector<int64_t> shape, uint64_t seed, int64_t lo,
                  int64_t hi) {
  Tensor t(std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (double &v : t.data)
    v = static_cast<double>(dist(rng));
  return t;
}

double relativeError(const Tensor &a, const Tensor &b) {
  if (a.data.size() != b.data.size())
    return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    double d = a.data[i] - b.data[i];
    if (std::isnan(d))
      return INFINITY;
    num += d * d;
    den += b.data[i] * b.data[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

double maxAbsError(const Tensor &a, const Tensor &b) {
  if (a.data.size() != b.data.size())
    return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    double d = std::fabs(a.data[i] - b.data[i]);
    if (std::isnan(d))
      return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

namespace {

/// Bytes per element as the CPU lowering lays memrefs out: sub-byte and i1
/// elements take a whole byte each.
int64_t elementBytes(Type t) {
  if (t.isF32() || t.isInteger(32))
    return 4;
  if (t.isF16() || t.isBF16())
    return 2;
  if (t.isInteger(64) || t.isF64())
    return 8;
  return 1;
}

bool supported(Type t) {
  return t.isF32() || t.isF16() || t.isBF16() || t.isF64() ||
         isa<Float8E4M3FNType>(t) || t.isInteger(1) || t.isInteger(4) ||
         t.isInteger(8) || t.isInteger(32) || t.isInteger(64);
}

void store(Type t, double v, uint8_t *p) {
  if (t.isF32()) {
    float f = static_cast<float>(v);
    std::memcpy(p, &f, 4);
  } else if (t.isF64()) {
    std::memcpy(p, &v, 8);
  } else if (t.isF16()) {
    uint16_t h = npy::doubleToF16(v);
    std::memcpy(p, &h, 2);
  } else if (t.isBF16()) {
    uint16_t h = npy::doubleToBF16(v);
    std::memcpy(p, &h, 2);
  } else if (isa<Float8E4M3FNType>(t)) {
    *p = npy::doubleToF8E4M3FN(v);
  } else if (t.isInteger(1)) {
    *p = v != 0.0;
  } else if (t.isInteger(32)) {
    int32_t i = static_cast<int32_t>(v);
    std::memcpy(p, &i, 4);
  } else if (t.isInteger(64)) {
    int64_t i = static_cast<int64_t>(v);
    std::memcpy(p, &i, 8);
  } else { // i4 (low nibble, two's complement) and i8
    *p = static_cast<uint8_t>(static_cast<int8_t>(v));
  }
}

double load(Type t, const uint8_t *p) {
  if (t.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (t.isF64()) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  if (t.isF16() || t.isBF16()) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return t.isF16() ? npy::f16ToFloat(h) : npy::bf16ToFloat(h);
  }
  if (isa<Float8E4M3FNType>(t))
    return npy::f8E4M3FNToFloat(*p);
  if (t.isInteger(1))
    return (*p & 1) != 0;
  if (t.isInteger(32)) {
    int32_t i;
    std::memcpy(&i, p, 4);
    return i;
  }
  if (t.isInteger(64)) {
    int64_t i;
    std::memcpy(&i, p, 8);
    return static_cast<double>(i);
  }
  if (t.isInteger(4)) {
    int v = *p & 0xF;
    return v >= 8 ? v - 16 : v;
  }
  return static_cast<int8_t>(*p);
}

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

llvm::Expected<std::vector<Tensor>> runOnCPU(llvm::StringRef source,
                                             llvm::StringRef function,
                                             const std::vector<Tensor> &inputs) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    loom::registerAllPasses();
    return true;
  }();
  (void)initialized;

  DialectRegistry registry;
  loom::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return success();
  });

  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  if (!module)
    return fail("parse failed:\n" + diagnostics);
  auto func = module->lookupSymbol<func::FuncOp>(function);
  if (!func)
    return fail("no function @" + function);

  // The signature, read before lowering erases it.
  SmallVector<RankedTensorType> argTypes, resultTypes;
  for (Type t : func.getArgumentTypes()) {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !supported(rt.getElementType()))
      return fail("unsupported argument type");
    argTypes.push_back(rt);
  }
  for (Type t : func.getResultTypes()) {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !supported(rt.getElementType()))
      return fail("unsupported result type");
    resultTypes.push_back(rt);
  }
  if (inputs.size() != argTypes.size())
    return fail("@" + function + " takes " + llvm::Twine(argTypes.size()) +
                " arguments, given " + llvm::Twine(inputs.size()));

  PassManager pm(&context);
  loom::buildLoomCPUPipeline(pm, loom::LoomCPUPipelineOptions());
  if (failed(pm.run(*module)))
    return fail("the CPU pipeline failed:\n" + diagnostics);

  ExecutionEngineOptions options;
  options.transformer = makeOptimizingTransformer(2, 0, nullptr);
  auto engine = ExecutionEngine::create(*module, options);
  if (!engine)
    return engine.takeError();

  // Memref descriptors: {allocated, aligned, offset, sizes..., strides...},
  // all 64-bit words.
  std::vector<std::vector<uint8_t>> storage(inputs.size());
  std::vector<std::vector<int64_t>> descriptors(inputs.size());
  std::vector<void *> descriptorPtrs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    RankedTensorType type = argTypes[i];
    const Tensor &in = inputs[i];
    if (static_cast<int64_t>(in.shape.size()) != type.getRank())
      return fail("input " + llvm::Twine(i) + " has rank " +
                  llvm::Twine(in.shape.size()) + ", the argument has rank " +
                  llvm::Twine(type.getRank()));
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d) && type.getDimSize(d) != in.shape[d])
        return fail("input " + llvm::Twine(i) + " dimension " +
                    llvm::Twine(d) + " is " + llvm::Twine(in.shape[d]) +
                    ", the argument needs " +
                    llvm::Twine(type.getDimSize(d)));
    Type et = type.getElementType();
    int64_t eb = elementBytes(et);
    storage[i].resize(std::max<int64_t>(1, in.numel() * eb));
    for (int64_t e = 0; e < in.numel(); ++e)
      store(et, in.data[e], storage[i].data() + e * eb);
    auto ptr = reinterpret_cast<int64_t>(storage[i].data());
    std::vector<int64_t> &desc = descriptors[i];
    desc = {ptr, ptr, 0};
    desc.insert(desc.end(), in.shape.begin(), in.shape.end());
    std::vector<int64_t> strides(in.shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(in.shape.size()) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * in.shape[d + 1];
    desc.insert(desc.end(), strides.begin(), strides.end());
    descriptorPtrs[i] = desc.data();
  }
  size_t resultWords = 0;
  for (RankedTensorType t : resultTypes)
    resultWords += 3 + 2 * t.getRank();
  std::vector<int64_t> resultArea(std::max<size_t>(1, resultWords), 0);
  void *resultPtr = resultArea.data();

  SmallVector<void *> args;
  if (!resultTypes.empty())
    args.push_back(&resultPtr);
  for (void *&p : descriptorPtrs)
    args.push_back(&p);
  if (llvm::Error err =
          (*engine)->invokePacked(("_mlir_ciface_" + function).str(), args))
    return std::move(err);

  std::vector<Tensor> results;
  size_t word = 0;
  for (RankedTensorType type : resultTypes) {
    int64_t rank = type.getRank();
    auto *aligned = reinterpret_cast<uint8_t *>(resultArea[word + 1]);
    int64_t offset = resultArea[word + 2];
    std::vector<int64_t> shape(resultArea.begin() + word + 3,
                               resultArea.begin() + word + 3 + rank);
    std::vector<int64_t> strides(resultArea.begin() + word + 3 + rank,
                                 resultArea.begin() + word + 3 + 2 * rank);
    word += 3 + 2 * rank;
    Tensor out(shape);
    Type et = type.getElementType();
    int64_t eb = elementBytes(et);
    for (int64_t e = 0; e < out.numel(); ++e) {
      int64_t rem = e, index = offset;
      for (int64_t d = rank - 1; d >= 0; --d) {
        index += (rem % shape[d]) * strides[d];
        rem /= shape[d];
      }
      out.data[e] = load(et, aligned + index * eb);
    }
    // Result buffers are the module's allocations (malloc); the harness
    // leaks them rather than guess whether one aliases a global constant.
    results.push_back(std::move(out));
  }
  return results;
}

} // namespace loom::test
