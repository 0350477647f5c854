//===- Compiler.h - compile a Loom module to a shared library -----*- C++ -*-===//
//
// What loom-compile does, as a library: parse and verify a module, run the
// CPU or GPU pipeline, add the module ABI (docs/abi.md), lower the host code
// to an object and link it, with the kernels embedded, into a shared library
// that the runtime (loom/Runtime/Runtime.h) loads. Every failure comes back
// as an llvm::Error holding a CompileError; nothing is printed and nothing
// exits. Deeply nested input needs a deep stack: run on
// loom::runWithToolStack (loom/Support/InputLimits.h) to accept everything
// the tools accept.

#ifndef LOOM_COMPILER_COMPILER_H
#define LOOM_COMPILER_COMPILER_H

#include "loom/ABI/ModuleABI.h"
#include "loom/Transforms/FusionReport.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace loom {

/// What a compilation produces.
enum class EmitKind {
  Library, // a shared library, written to CompileOptions::output
  MLIR,    // the LLVM-dialect module after the pipeline, as text
  LLVM,    // the host LLVM IR, as text
  PTX,     // GPU targets: the kernels' PTX, one section per gpu.module
  Cubin,   // GPU targets: the kernels' binary, as the CUDA driver loads it
};

/// "lib", "mlir", "llvm", "ptx" or "cubin"; nullopt for anything else.
std::optional<EmitKind> parseEmitKind(llvm::StringRef name);

struct CompileOptions {
  /// "cpu", or a GPU: sm_NN or sm_NNa with NN >= 80 (sm_90a, sm_80, ...).
  std::string target = "cpu";
  EmitKind emit = EmitKind::Library;
  /// EmitKind::Library: the shared library to write. It is linked under a
  /// unique name beside it and renamed into place, so that a failure leaves
  /// neither a partial nor a stale file.
  std::string output;
  /// GPU targets: the CUDA toolkit (bin/ptxas, nvvm/libdevice); empty:
  /// $LOOM_CUDA_PATH, else /usr/local/cuda, else the toolkit of ptxas on
  /// PATH.
  std::string cudaPath;
  /// GPU targets: tile sizes that replace the chip's own choice
  /// (attention:QxKV, gemm:MxNxK[xSTAGES], rows:THREADS,
  /// gemv:WARPSxTILESxUNROLL[xDEPTH], w4a16:registers|shared|CxR; docs/Design.md).
  std::string tiles;
  /// Form fusion groups (loom-fuse); false lowers every op on its own.
  bool fuse = true;
  /// The host CPU: empty for the generic baseline of the host architecture
  /// (the library runs on other machines), "native" for this machine's, or
  /// a name LLVM knows.
  std::string cpu;
  /// The host code's LLVM optimization level, 0 to 3.
  unsigned optLevel = 2;
  /// The name of the input in messages (compileFile uses the path).
  std::string inputName = "<module>";
  /// Verify the IR after every pass, as loom-opt does (for debugging a
  /// pass). By default it is verified once after each stage of the pipeline
  /// (the loom pipeline, the kernels, the host, the binary): about 20% less
  /// time for a GPU block (docs/compile-time.md).
  bool verifyEach = false;
};

/// What a GPU module launches: distinct kernels and launch sites in host
/// code.
struct KernelCounts {
  unsigned kernels = 0;
  unsigned launches = 0;
};

/// What loom-fuse decides for the module: the op-by-op traffic of the
/// source and the groups (docs/fusion.md).
struct FusionSummary {
  ProgramTraffic unfused;
  std::vector<FusionGroupReport> groups;
};

/// The wall time of one phase of a compilation.
struct PhaseTime {
  std::string name;
  double seconds = 0;
};

struct CompileResult {
  /// The public functions, as the module signature lists them.
  llvm::SmallVector<abi::EntrySignature> entries;
  /// The module signature (docs/abi.md), as the runtime reads it.
  std::string signature;
  /// GPU targets only.
  std::optional<KernelCounts> kernels;
  /// Unless CompileOptions::fuse is false.
  std::optional<FusionSummary> fusion;
  /// EmitKind::MLIR, LLVM, PTX: the text; Cubin: the bytes. Empty for a
  /// library, which is in CompileOptions::output.
  std::string artifact;
  /// Warnings and remarks that did not stop the compilation, rendered as
  /// `file:line:col: warning: ...` lines.
  std::string diagnostics;
  /// The phases in the order they ran, one after the other (parse, entry
  /// signatures, loom pipeline, kernels to the LLVM dialect, host to the
  /// LLVM dialect, kernels to LLVM IR, to PTX, to a cubin, host LLVM IR,
  /// object, link; only those that ran). Their sum is the compilation's
  /// wall time but for creating the context.
  std::vector<PhaseTime> phases;
};

/// Why a compilation failed: the diagnostics at the input's locations, as
/// loom-compile prints them (`file:line:col: error: ...` with the source
/// line), and/or a one-line message naming the problem. llvm::toString of
/// the error gives both.
class CompileError : public llvm::ErrorInfo<CompileError> {
public:
  static char ID;
  CompileError(std::string diagnostics, std::string message)
      : diagnosticText(std::move(diagnostics)), messageText(std::move(message)) {}
  const std::string &diagnostics() const { return diagnosticText; }
  /// The one-line message; empty when the diagnostics say it all.
  const std::string &summary() const { return messageText; }
  /// The diagnostics, then the message.
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string diagnosticText;
  std::string messageText;
};

/// Checks `options` before anything is compiled: the target, what to emit
/// for it, the GPU-only options and (for a GPU target) that the CUDA
/// toolkit is there, so that a missing ptxas is one message up front.
llvm::Error checkOptions(const CompileOptions &options);

/// Compiles `module`, which is lowered in place (clone it to keep it).
/// Diagnostics of its context are captured into the result or the error
/// while this runs. The module must have been verified.
llvm::Expected<CompileResult> compileModule(mlir::ModuleOp module,
                                            const CompileOptions &options);

/// compileModule with EmitKind::Library into `output`.
llvm::Expected<CompileResult>
compileToSharedLibrary(mlir::ModuleOp module, llvm::StringRef output,
                       CompileOptions options = {});

/// Parses `source` (MLIR text or bytecode) in a context of its own, with
/// the input limits of the tools, and compiles it.
llvm::Expected<CompileResult> compileSource(llvm::StringRef source,
                                            const CompileOptions &options);

/// compileSource on the file at `path` ("-" for stdin); inputName defaults
/// to `path`.
llvm::Expected<CompileResult> compileFile(llvm::StringRef path,
                                          const CompileOptions &options);

/// FILE.mlir -> FILE.so, anything else -> FILE.so appended.
std::string defaultLibraryName(llvm::StringRef input);

} // namespace loom

#endif // LOOM_COMPILER_COMPILER_H
