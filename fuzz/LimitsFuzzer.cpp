//===- LimitsFuzzer.cpp - loom-fuzz-limits --------------------------------===//
//
// IR generators for the input limits (docs/Design.md, "Input limits"): the
// input bytes choose a program, not its text, so that every run is an
// extreme case rather than a syntax error.
//
// - Depth: one of several nesting constructs (regions of scf.execute_region
//   and scf.if, parentheses of affine expressions, array and dictionary
//   attributes, tuple types, or random brackets) nested from 0 to 200,000
//   levels. Parsed as the tools parse it: where the text nests at most
//   kMaxNestingDepth levels the module must parse, and is then printed and
//   canonicalized (recursive walks); deeper, parsing must stop with the
//   nesting diagnostic. Never a crash.
// - Sizes: a function of one to three ops (loom.silu, loom.rms_norm,
//   loom.linear, loom.attention, arith.addf) whose dimensions are drawn from
//   0, 1, 2, 2^k - 1, 2^k, 2^k + 1 for k = 31..62 and 2^63 - 1, or dynamic,
//   in f32, bf16 or f16. A module that verifies must have only types whose
//   sizes fit in 64 bits; it then goes through the fusion report (no
//   negative byte count), the entry-check derivation and the CPU pipeline
//   under ASan and UBSan, each of which may fail with a diagnostic only.

#include "FuzzCheck.h"
#include "FuzzMLIR.h"

#include "loom/ABI/ModuleABI.h"
#include "loom/Dialect/Loom/IR/ShapeSizes.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Transforms/FusionReport.h"
#include "loom/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;

namespace {

/// A context like FuzzMLIR.h's that keeps the errors' messages.
struct Context {
  std::unique_ptr<MLIRContext> context =
      std::make_unique<MLIRContext>(loom::fuzz::registry(),
                                    MLIRContext::Threading::DISABLED);
  std::vector<std::string> errors;
  Context() {
    context->printOpOnDiagnostic(false);
    context->getDiagEngine().registerHandler([this](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        errors.push_back(d.str());
      return success();
    });
  }
};

std::string repeat(const std::string &s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

/// The text of a nest of `depth` levels of `kind`, and how deep its
/// brackets go in all (what the scan counts).
std::string nest(unsigned kind, size_t depth, FuzzedDataProvider &fdp,
                 size_t &brackets) {
  switch (kind) {
  case 0: // regions
    brackets = depth + 1;
    return "func.func @f() {\n" + repeat("scf.execute_region {\n", depth) +
           repeat("scf.yield\n}\n", depth) + "return\n}\n";
  case 1: // scf.if regions
    brackets = depth + 1;
    return "func.func @f(%c: i1) {\n" + repeat("scf.if %c {\n", depth) +
           repeat("}\n", depth) + "return\n}\n";
  case 2: // affine parentheses, inside affine_map<( ... )>
    brackets = depth + 2;
    return "#m = affine_map<(d0) -> (" + repeat("(", depth) + "d0" +
           repeat(")", depth) + ")>\nfunc.func @f() attributes {m = #m} {\n"
           "return\n}\n";
  case 3: // arrays in an attribute dictionary
    brackets = depth + 1;
    return "func.func @f() attributes {a = " + repeat("[", depth) + "0" +
           repeat("]", depth) + "} {\nreturn\n}\n";
  case 4: // dictionaries
    brackets = depth + 1;
    return "func.func @f() attributes {a = " + repeat("{a = ", depth) +
           "unit" + repeat("}", depth) + "} {\nreturn\n}\n";
  case 5: // tuple types
    brackets = depth + 1;
    return "func.func @f(%a: " + repeat("tuple<", depth) + "i32" +
           repeat(">", depth) + ") {\nreturn\n}\n";
  default: { // random brackets: the scan must not be fooled into a crash
    brackets = 0;
    std::string text = "func.func @f() attributes {a = ";
    static const char pieces[] = "{}()[]<>\"";
    for (size_t i = 0; i < depth && fdp.remaining_bytes(); ++i)
      text.push_back(pieces[fdp.ConsumeIntegralInRange<size_t>(0, 8)]);
    return text + "} {\nreturn\n}\n";
  }
  }
}

void fuzzDepth(FuzzedDataProvider &fdp) {
  unsigned kind = fdp.ConsumeIntegralInRange<unsigned>(0, 6);
  size_t depth;
  switch (fdp.ConsumeIntegralInRange<unsigned>(0, 3)) {
  case 0:
    depth = fdp.ConsumeIntegralInRange<size_t>(0, 300);
    break;
  case 1:
    depth = loom::kMaxNestingDepth - 3 + fdp.ConsumeIntegralInRange<size_t>(0, 5);
    break;
  case 2:
    depth = fdp.PickValueInArray<size_t>({1000, 20000, 100000, 200000});
    break;
  default:
    depth = fdp.ConsumeIntegralInRange<size_t>(0, 1 << 18);
    break;
  }
  size_t brackets = 0;
  std::string text = nest(kind, depth, fdp, brackets);
  Context c;
  OwningOpRef<ModuleOp> module =
      loom::fuzz::parseModuleText(text, *c.context);
  if (std::getenv("LOOM_FUZZ_LIMITS_TRACE"))
    llvm::errs() << "depth kind " << kind << ", " << depth << " levels, "
                 << brackets << " brackets => "
                 << (module ? "parsed" : c.errors.empty() ? "?" : c.errors.front())
                 << "\n";
  if (kind <= 5) {
    // The constructs are valid: only the limit may refuse them.
    bool fits = brackets <= loom::kMaxNestingDepth;
    LOOM_FUZZ_CHECK(fits == bool(module));
    if (!fits)
      LOOM_FUZZ_CHECK(!c.errors.empty() &&
                      c.errors.front().find("nesting deeper than") !=
                          std::string::npos);
  }
  if (!module)
    return;
  llvm::raw_null_ostream os;
  module->print(os);
  PassManager pm(c.context.get());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  (void)pm.run(*module);
}

/// 0, 1, 2, 2^k - 1, 2^k, 2^k + 1 (k = 31..62), 2^63 - 1, or dynamic.
std::string dim(FuzzedDataProvider &fdp) {
  switch (fdp.ConsumeIntegralInRange<unsigned>(0, 4)) {
  case 0:
    return std::to_string(fdp.ConsumeIntegralInRange<int64_t>(0, 3));
  case 1:
    return "?";
  case 2:
    return std::to_string(INT64_MAX);
  default: {
    int64_t power = int64_t(1) << fdp.ConsumeIntegralInRange<unsigned>(31, 62);
    return std::to_string(power + fdp.ConsumeIntegralInRange<int64_t>(-1, 1));
  }
  }
}

std::string tensor(const std::vector<std::string> &dims,
                   const std::string &element) {
  std::string t = "tensor<";
  for (const std::string &d : dims)
    t += d + "x";
  return t + element + ">";
}

void fuzzSizes(FuzzedDataProvider &fdp) {
  std::string element = fdp.PickValueInArray<std::string>({"f32", "bf16", "f16"});
  std::string m = dim(fdp), n = dim(fdp), k = dim(fdp), b = dim(fdp),
              h = dim(fdp);
  std::string x = tensor({m, n}, element);
  std::string args = "%x: " + x, body, result = "%x", type = x;
  unsigned ops = fdp.ConsumeIntegralInRange<unsigned>(1, 3);
  for (unsigned i = 0; i < ops; ++i) {
    std::string v = "%v" + std::to_string(i);
    switch (fdp.ConsumeIntegralInRange<unsigned>(0, 4)) {
    case 0:
      body += v + " = loom.silu " + result + " : (" + type + ") -> " + type +
              "\n";
      break;
    case 1:
      body += v + " = arith.addf " + result + ", " + result + " : " + type +
              "\n";
      break;
    case 2: {
      if (type != x)
        continue;
      std::string g = tensor({n}, element);
      args += ", %g" + std::to_string(i) + ": " + g;
      body += v + " = loom.rms_norm " + result + ", %g" + std::to_string(i) +
              " {epsilon = 1.0e-05 : f32} : (" + type + ", " + g + ") -> " +
              type + "\n";
      break;
    }
    case 3: {
      if (type != x)
        continue;
      std::string w = tensor({k, n}, element), y = tensor({m, k}, element);
      args += ", %w" + std::to_string(i) + ": " + w;
      body += v + " = loom.linear " + result + ", %w" + std::to_string(i) +
              " : (" + type + ", " + w + ") -> " + y + "\n";
      type = y;
      break;
    }
    default: {
      std::string q = tensor({b, h, m, n}, element),
                  kv = tensor({b, h, k, n}, element);
      args += ", %q" + std::to_string(i) + ": " + q + ", %k" +
              std::to_string(i) + ": " + kv + ", %a" + std::to_string(i) +
              ": " + kv;
      body += "%o" + std::to_string(i) + " = loom.attention %q" +
              std::to_string(i) + ", %k" + std::to_string(i) + ", %a" +
              std::to_string(i) + " : (" + q + ", " + kv + ", " + kv +
              ") -> " + q + "\n";
      continue;
    }
    }
    result = v;
  }
  std::string text = "func.func @f(" + args + ") -> " + type + " {\n" + body +
                     "return " + result + " : " + type + "\n}\n";
  Context c;
  OwningOpRef<ModuleOp> module =
      loom::fuzz::parseModuleText(text, *c.context);
  // LOOM_FUZZ_LIMITS_TRACE=1 (replaying inputs): what was generated and how
  // it ended.
  if (std::getenv("LOOM_FUZZ_LIMITS_TRACE"))
    llvm::errs() << text << "=> "
                 << (module ? "verified" : c.errors.empty() ? "?" : c.errors.front())
                 << "\n\n";
  if (!module) {
    LOOM_FUZZ_CHECK(!c.errors.empty());
    return;
  }
  // What verified fits in 64 bits, every type of it.
  module->walk([](Operation *op) {
    for (Type t : op->getResultTypes())
      if (auto shaped = dyn_cast<ShapedType>(t))
        LOOM_FUZZ_CHECK(loom::staticSizeBound(shaped).has_value());
  });
  auto nonNegative = [](loom::ByteCount count) {
    LOOM_FUZZ_CHECK(!count.value() || *count.value() >= 0);
  };
  nonNegative(loom::describeUnfusedProgram(*module).bytes);
  {
    OwningOpRef<ModuleOp> fused = module->clone();
    PassManager pm(c.context.get());
    pm.addNestedPass<func::FuncOp>(loom::createLoomFusePass());
    if (succeeded(pm.run(*fused)))
      for (const loom::FusionGroupReport &g :
           loom::describeFusionGroups(*fused)) {
        nonNegative(g.bytes);
        nonNegative(g.unfusedBytes);
      }
  }
  if (succeeded(loom::abi::collectEntries(*module)))
    (void)loom::abi::buildEntryChecks(*module, /*indexChecks=*/true);
  PassManager pm(c.context.get());
  loom::buildLoomCPUPipeline(pm, loom::LoomCPUPipelineOptions());
  (void)pm.run(*module);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  // The tools' own stack: the depth that passes the limit must work on it.
  loom::runWithToolStack([&] {
    if (fdp.ConsumeBool())
      fuzzDepth(fdp);
    else
      fuzzSizes(fdp);
    return 0;
  });
  return 0;
}
