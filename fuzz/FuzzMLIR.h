//===- FuzzMLIR.h - parsing fuzz inputs as MLIR modules -----------*- C++ -*-===//
//
// Shared by loom-fuzz-parse and loom-fuzz-cpu-pipeline: every input gets a
// fresh MLIRContext (so that no input depends on what an earlier one left
// uniqued in the context, and a crash reproduces from its input alone) with
// the dialects loom-opt registers, loaded lazily as the input names them.
// Diagnostics are swallowed. Inputs are parsed as the tools parse them,
// with Loom's input limits.

#ifndef LOOM_FUZZ_FUZZMLIR_H
#define LOOM_FUZZ_FUZZMLIR_H

#include "loom/InitAll.h"
#include "loom/Support/InputLimits.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace loom {
namespace fuzz {

/// The registry of loom-opt (built once per process, with the passes
/// registered too: Loom's pipelines are built from pass names).
inline const mlir::DialectRegistry &registry() {
  static const mlir::DialectRegistry *registry = [] {
    loom::registerAllPasses();
    auto *r = new mlir::DialectRegistry;
    loom::registerAllDialects(*r);
    return r;
  }();
  return *registry;
}

/// A context for one input: loom-opt's dialects, no threads, diagnostics
/// swallowed.
inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  auto context = std::make_unique<mlir::MLIRContext>(
      registry(), mlir::MLIRContext::Threading::DISABLED);
  context->getDiagEngine().registerHandler(
      [](mlir::Diagnostic &) { return mlir::success(); });
  return context;
}

/// True where `text` may reach a crash in upstream MLIR 22's parser that
/// Loom cannot avoid (docs/reliability.md, "Fuzzing", open issues): the
/// custom parsers of linalg.transpose, linalg.broadcast and linalg.reduce
/// store a null attribute when the integer list after `permutation =` or
/// `dimensions =` is malformed (`[1, 0` without its `]`, or `array< 1, 3]`,
/// which the fuzzer found on 2026-12-06). Every input with such a keyword
/// followed by `=` and anything but a plain list `[1, -2]` is skipped, and
/// nothing else.
inline bool mayHitUpstreamDenseArrayCrash(llvm::StringRef text) {
  for (llvm::StringRef keyword : {"permutation", "dimensions"}) {
    for (size_t at = text.find(keyword); at != llvm::StringRef::npos;
         at = text.find(keyword, at + 1)) {
      llvm::StringRef rest = text.substr(at + keyword.size()).ltrim();
      if (!rest.consume_front("="))
        continue;
      rest = rest.ltrim();
      if (!rest.consume_front("["))
        return true;
      rest = rest.ltrim();
      if (rest.consume_front("]"))
        continue;
      while (true) {
        rest.consume_front("-");
        size_t digits = rest.find_first_not_of("0123456789");
        if (digits == 0 || digits == llvm::StringRef::npos)
          return true;
        rest = rest.drop_front(digits).ltrim();
        if (rest.consume_front("]"))
          break;
        if (!rest.consume_front(","))
          return true;
        rest = rest.ltrim();
      }
    }
  }
  return false;
}

/// Parses and verifies `text` as a module with the input limits of the
/// tools (loom/Support/InputLimits.h: nesting depth before, region depth and
/// 64-bit sizes after); null where any of it fails, or where the input may
/// hit the upstream crash above.
inline mlir::OwningOpRef<mlir::ModuleOp>
parseModuleText(llvm::StringRef text, mlir::MLIRContext &context) {
  if (mayHitUpstreamDenseArrayCrash(text))
    return nullptr;
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  // A copy: MLIR's lexer needs the terminating NUL that a MemoryBuffer adds.
  sourceMgr->AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz-input"),
      llvm::SMLoc());
  return loom::parseSourceFileWithLimits(sourceMgr, &context);
}

inline mlir::OwningOpRef<mlir::ModuleOp>
parseModule(const uint8_t *data, size_t size, mlir::MLIRContext &context) {
  return parseModuleText(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), context);
}

} // namespace fuzz
} // namespace loom

#endif // LOOM_FUZZ_FUZZMLIR_H
