//===- Harness.cpp - run loom functions on the CPU for numerics tests ------===//

#include "Harness.h"

#include "loom/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Runtime/Npy.h"
#include "loom/Runtime/Runtime.h"

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
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/TargetSelect.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <unistd.h>

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

std::string tensorType(const std::vector<int64_t> &shape,
                       const std::string &elementType) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + elementType + ">";
}

double tolerance(const std::string &type) {
  if (type == "bf16")
    return 8e-3;
  if (type == "f16")
    return 1e-3;
  return 1e-5;
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

bool hasNaN(const Tensor &t) {
  return llvm::any_of(t.data, [](double v) { return std::isnan(v); });
}

bool allFinite(const Tensor &t) {
  return llvm::all_of(t.data, [](double v) { return std::isfinite(v); });
}

std::string oneOp(const std::string &op, const std::vector<std::string> &args,
                  const std::string &attrs,
                  const std::vector<std::string> &resultTypes) {
  auto list = [](const std::vector<std::string> &items,
                 const std::string &prefix) {
    std::string r;
    for (size_t i = 0; i < items.size(); ++i)
      r += (i ? ", " : "") + prefix + items[i];
    return r;
  };
  std::vector<std::string> argNames, resultNames;
  for (size_t i = 0; i < args.size(); ++i)
    argNames.push_back("%a" + std::to_string(i));
  for (size_t i = 0; i < resultTypes.size(); ++i)
    resultNames.push_back("%r" + std::to_string(i));
  std::string types = list(resultTypes, "");
  std::string paren = resultTypes.size() == 1 ? types : "(" + types + ")";
  std::string s = "func.func @f(";
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", " : "") + argNames[i] + ": " + args[i];
  return s + ") -> " + paren + " {\n  " + list(resultNames, "") + " = " + op +
         " " + list(argNames, "") + " " + attrs + " : (" + list(args, "") +
         ") -> " + paren + "\n  return " + list(resultNames, "") + " : " +
         types + "\n}\n";
}

std::string oneOp(const std::string &op, const std::vector<std::string> &args,
                  const std::string &attrs, const std::string &resultType) {
  return oneOp(op, args, attrs, std::vector<std::string>{resultType});
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

  // `transformer` is a function_ref: the std::function it refers to must
  // outlive ExecutionEngine::create (a temporary here was a
  // stack-use-after-scope under AddressSanitizer).
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(2, 0, nullptr);
  ExecutionEngineOptions options;
  options.transformer = transformer;
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

  // Every result is a fresh malloc of the module (loom-fresh-entry-results,
  // docs/abi.md) that the caller owns: freed once read. A pointer returned
  // twice would be a pipeline bug (a double free), so it is an error.
  struct FreeResults {
    SmallVector<void *> pointers;
    ~FreeResults() {
      for (void *p : pointers)
        std::free(p);
    }
  } owned;
  for (size_t word = 0, r = 0; r < resultTypes.size();
       word += 3 + 2 * resultTypes[r].getRank(), ++r) {
    auto *allocated = reinterpret_cast<void *>(resultArea[word]);
    if (!allocated)
      continue;
    if (llvm::is_contained(owned.pointers, allocated))
      return fail("result " + llvm::Twine(r) +
                  " shares its allocation with an earlier result");
    owned.pointers.push_back(allocated);
  }

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
    results.push_back(std::move(out));
  }
  return results;
}

namespace {

/// The .npy-level element kind of a runtime dtype, and the array dtype that
/// the loom-run conversion rules accept for it.
bool kindOf(loomDType d, npy::ElementKind &kind, npy::DType &arrayType) {
  switch (d) {
  case LOOM_DTYPE_F32: kind = npy::ElementKind::F32; break;
  case LOOM_DTYPE_F16: kind = npy::ElementKind::F16; break;
  case LOOM_DTYPE_BF16: kind = npy::ElementKind::BF16; break;
  case LOOM_DTYPE_F64: kind = npy::ElementKind::F64; break;
  case LOOM_DTYPE_F8E4M3FN: kind = npy::ElementKind::F8E4M3FN; break;
  case LOOM_DTYPE_I1: kind = npy::ElementKind::I1; arrayType = npy::DType::Bool; return true;
  case LOOM_DTYPE_I4: kind = npy::ElementKind::I4; arrayType = npy::DType::I8; return true;
  case LOOM_DTYPE_I8: kind = npy::ElementKind::I8; arrayType = npy::DType::I8; return true;
  case LOOM_DTYPE_I32: kind = npy::ElementKind::I32; arrayType = npy::DType::I32; return true;
  case LOOM_DTYPE_I64: kind = npy::ElementKind::I64; arrayType = npy::DType::I64; return true;
  default: return false;
  }
  arrayType = npy::DType::F64;
  return true;
}

/// A reference tensor as a .npy array of `dtype` (values already fit it).
npy::Array toArray(const Tensor &t, npy::DType dtype) {
  npy::Array a;
  a.dtype = dtype;
  a.shape = t.shape;
  for (double v : t.data) {
    uint8_t bytes[8];
    size_t n = 0;
    switch (dtype) {
    case npy::DType::F64: std::memcpy(bytes, &v, n = 8); break;
    case npy::DType::Bool: bytes[0] = v != 0.0; n = 1; break;
    case npy::DType::I8: bytes[0] = static_cast<uint8_t>(static_cast<int8_t>(v)); n = 1; break;
    case npy::DType::I32: { int32_t i = static_cast<int32_t>(v); std::memcpy(bytes, &i, n = 4); break; }
    default: { int64_t i = static_cast<int64_t>(v); std::memcpy(bytes, &i, n = 8); break; }
    }
    a.data.insert(a.data.end(), bytes, bytes + n);
  }
  return a;
}

/// An array written by bufferToArray (float32, float64 or an integer/bool
/// type) as doubles.
Tensor fromArray(const npy::Array &a) {
  Tensor t(a.shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint8_t *p = a.data.data();
    switch (a.dtype) {
    case npy::DType::F32: { float f; std::memcpy(&f, p + 4 * i, 4); t.data[i] = f; break; }
    case npy::DType::F64: std::memcpy(&t.data[i], p + 8 * i, 8); break;
    case npy::DType::Bool: t.data[i] = p[i] != 0; break;
    case npy::DType::I8: t.data[i] = static_cast<int8_t>(p[i]); break;
    case npy::DType::I32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); t.data[i] = v; break; }
    default: { int64_t v; std::memcpy(&v, p + 8 * i, 8); t.data[i] = static_cast<double>(v); break; }
    }
  }
  return t;
}

/// Removes a file when it goes out of scope.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty())
      std::remove(path.c_str());
  }
};

} // namespace

llvm::Expected<std::vector<Tensor>>
runCompiled(llvm::StringRef source, llvm::StringRef function,
            const std::vector<Tensor> &inputs) {
  char dir[] = "/tmp/loom-harness-XXXXXX";
  if (!mkdtemp(dir))
    return fail("cannot create a temporary directory");
  TempFile mlir{std::string(dir) + "/module.mlir"};
  TempFile lib{std::string(dir) + "/module.so"};
  TempFile log{std::string(dir) + "/compile.log"};
  struct RemoveDir {
    const char *d;
    ~RemoveDir() { rmdir(d); }
  } removeDir{dir};
  {
    std::ofstream out(mlir.path);
    out << source.str();
  }
  std::string command = std::string(LOOM_COMPILE_PATH) + " " + mlir.path +
                        " --target=cpu -o " + lib.path + " > " + log.path +
                        " 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log.path);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    return fail("loom-compile failed:\n" + text);
  }

  loomModule *module = loomModuleLoad(lib.path.c_str(), LOOM_DEVICE_CPU);
  if (!module)
    return fail(loomGetLastError());
  struct Unload {
    loomModule *m;
    ~Unload() { loomModuleUnload(m); }
  } unload{module};
  const loomEntry *entry =
      loomModuleLookupEntry(module, function.str().c_str());
  if (!entry)
    return fail(loomGetLastError());
  if (loomEntryNumArgs(entry) != static_cast<int64_t>(inputs.size()))
    return fail("wrong number of inputs");

  std::vector<loomBuffer *> args, results(loomEntryNumResults(entry), nullptr);
  struct Destroy {
    std::vector<loomBuffer *> &a, &r;
    ~Destroy() {
      for (loomBuffer *b : a)
        loomBufferDestroy(b);
      for (loomBuffer *b : r)
        loomBufferDestroy(b);
    }
  } destroy{args, results};
  for (size_t i = 0; i < inputs.size(); ++i) {
    loomTensorType type;
    if (loomEntryArgType(entry, i, &type) != LOOM_SUCCESS)
      return fail(loomGetLastError());
    npy::ElementKind kind;
    npy::DType arrayType;
    if (!kindOf(type.dtype, kind, arrayType))
      return fail("unsupported argument dtype");
    std::vector<uint8_t> bytes;
    std::string error;
    if (!npy::arrayToBuffer(toArray(inputs[i], arrayType), kind, bytes, error))
      return fail(error);
    loomBuffer *b = loomBufferCreate(LOOM_DEVICE_CPU, type.dtype,
                                     inputs[i].rank(), inputs[i].shape.data());
    if (!b)
      return fail(loomGetLastError());
    args.push_back(b);
    if (loomBufferCopyFromHost(b, bytes.data(), bytes.size()) != LOOM_SUCCESS)
      return fail(loomGetLastError());
  }
  if (loomEntryCall(entry, args.data(), args.size(), results.data(),
                    results.size()) != LOOM_SUCCESS)
    return fail(loomGetLastError());

  std::vector<Tensor> out;
  for (loomBuffer *r : results) {
    npy::ElementKind kind;
    npy::DType arrayType;
    if (!kindOf(loomBufferDType(r), kind, arrayType))
      return fail("unsupported result dtype");
    std::vector<uint8_t> bytes(loomBufferSizeInBytes(r));
    if (loomBufferCopyToHost(r, bytes.data(), bytes.size()) != LOOM_SUCCESS)
      return fail(loomGetLastError());
    std::vector<int64_t> shape(loomBufferShape(r),
                               loomBufferShape(r) + loomBufferRank(r));
    npy::Array array;
    std::string error;
    if (!npy::bufferToArray(bytes.data(), bytes.size(), kind, shape, array,
                            error))
      return fail(error);
    out.push_back(fromArray(array));
  }
  return out;
}

} // namespace loom::test
