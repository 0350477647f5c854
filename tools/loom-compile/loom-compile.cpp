//===- loom-compile.cpp - ahead-of-time compiler from .mlir to a module ----===//
//
// loom-compile FILE.mlir --target=cpu|sm_90a|sm_80 [-o out]
//              [--emit=mlir|llvm|ptx|cubin|lib] [--cuda-path=DIR]
//              [--tiles=attention:QxKV,gemm:MxNxK[xSTAGES],rows:THREADS,
//                       gemv:WARPSxTILESxUNROLL[xDEPTH],
//                       w4a16:registers|shared|CxR]
//
// A thin main over the compiler library (loom/Compiler/Compiler.h), which
// parses and verifies FILE, runs the CPU or GPU pipeline, adds the module ABI
// (docs/abi.md: loom_module_signature and one loom_entry_<name> per public
// function), translates to LLVM IR, compiles for the host and links a shared
// library with the system C compiler driver. For a GPU target the kernels are
// compiled by the pipeline (NVPTX, then ptxas from the CUDA toolkit) and
// embedded in the library, whose host code calls the mgpu* functions of
// Loom's runtime. The tool writes the artifact and a short report of what
// was fused into which kernel. Every failure is a diagnostic on stderr and
// exit status 1; no partial output is left behind.

#include "loom/Compiler/Compiler.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Support/InputLimits.h"

#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <unistd.h>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory loomCategory("loom-compile options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .mlir file>"),
                                          cl::Required, cl::cat(loomCategory));
static cl::opt<std::string>
    targetName("target",
               cl::desc("Target: cpu, or a GPU: sm_90a, sm_80 (any sm_NN or "
                        "sm_NNa with NN >= 80)"),
               cl::init("cpu"), cl::cat(loomCategory));
static cl::opt<std::string>
    outputFilename("o",
                   cl::desc("Output file (default: the input with .so for "
                            "--emit=lib, stdout otherwise)"),
                   cl::value_desc("filename"), cl::cat(loomCategory));
static cl::opt<std::string> emitKind(
    "emit",
    cl::desc("What to produce: lib (a shared library, default), mlir (the "
             "LLVM-dialect module after the pipeline), llvm (host LLVM IR); "
             "for GPU targets also ptx (the PTX of the kernels) and cubin "
             "(the kernels' binary, as loaded by the CUDA driver)"),
    cl::init("lib"), cl::cat(loomCategory));
static cl::opt<std::string>
    cudaPath("cuda-path",
             cl::desc("The CUDA toolkit for GPU targets (ptxas, "
                      "nvvm/libdevice); default: $LOOM_CUDA_PATH, else "
                      "/usr/local/cuda, else the toolkit of ptxas on PATH"),
             cl::value_desc("dir"), cl::init(""), cl::cat(loomCategory));
static cl::opt<std::string> tilesList(
    "tiles",
    cl::desc("GPU targets: tile sizes that replace the chip's own choice, a "
             "comma-separated list of attention:QxKV (query rows x keys per "
             "CTA), gemm:MxNxK[xSTAGES] (the tensor-core GEMM's block tile "
             "and pipeline depth), rows:THREADS (threads per norm row, per "
             "RoPE block), gemv:WARPSxTILESxUNROLL[xDEPTH] (the decode GEMV's "
             "schedule) and w4a16:registers|shared|CxR (the sm_90a W4A16 "
             "kernel: weights dequantized into registers or, the default, "
             "into shared memory), e.g. --tiles=attention:64x64,gemm:128x64x32x3 "
             "(docs/Design.md); a tile a kernel cannot use is an error"),
    cl::value_desc("list"), cl::init(""), cl::cat(loomCategory));
static cl::opt<bool> noFusion(
    "no-fusion",
    cl::desc("Do not form fusion groups: every op is lowered on its own (to "
             "measure what fusion gains; docs/fusion.md)"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<std::string>
    cpuName("mcpu",
            cl::desc("CPU to compile for: a name LLVM knows, or 'native' for "
                     "this machine's (default: the generic baseline of the "
                     "host architecture, so that the library runs on other "
                     "machines)"),
            cl::init(""), cl::cat(loomCategory));
static cl::opt<bool> verifyEach(
    "verify-each",
    cl::desc("Verify the IR after every pass (for debugging a pass; by "
             "default it is verified once after each stage of the pipeline)"),
    cl::init(false), cl::cat(loomCategory));
static cl::opt<bool> timePhases(
    "time-phases",
    cl::desc("Print the wall time of each phase of the compilation to stderr "
             "(parse, loom pipeline, kernels, host lowering, object, link; "
             "docs/compile-time.md)"),
    cl::init(false), cl::cat(loomCategory));

namespace {

int failWith(const llvm::Twine &message) {
  llvm::errs() << "loom-compile: " << message << "\n";
  return 1;
}

std::string formatBytes(loom::ByteCount count) {
  if (count.isDynamic())
    return "? (dynamic sizes)";
  if (count.isTooLarge())
    return "more than 8 EiB (too many bytes to count)";
  int64_t bytes = *count.value();
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = bytes / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.1f %s" : "%.2f %s", value,
                units[unit]);
  return text;
}

void printFusion(llvm::raw_ostream &os, const loom::FusionSummary &fusion) {
  loom::ByteCount fused;
  for (const loom::FusionGroupReport &g : fusion.groups)
    fused += g.bytes;
  os << "  fusion: " << fusion.unfused.ops << " ops in "
     << fusion.groups.size()
     << (fusion.groups.size() == 1 ? " group" : " groups") << "; moved "
     << formatBytes(fused) << " fused, " << formatBytes(fusion.unfused.bytes)
     << " op by op";
  if (fused.value() && fusion.unfused.bytes.value() && *fused.value() > 0)
    os << llvm::format(" (%.1fx less)",
                       double(*fusion.unfused.bytes.value()) /
                           double(*fused.value()));
  os << "\n";
  for (const loom::FusionGroupReport &g : fusion.groups)
    os << "    @" << g.function << " " << g.label << ": "
       << formatBytes(g.bytes) << " (op by op " << formatBytes(g.unfusedBytes)
       << ")\n";
}

void printReport(llvm::raw_ostream &os, llvm::StringRef output,
                 const loom::CompileResult &result) {
  llvm::ArrayRef<loom::abi::EntrySignature> entries = result.entries;
  llvm::StringRef signature = result.signature;
  const std::optional<loom::KernelCounts> &kernels = result.kernels;
  const std::optional<loom::FusionSummary> &fusion = result.fusion;
  os << "loom-compile: " << (output == "-" ? "stdout" : output)
     << " (target " << targetName
     << (tilesList.empty() ? "" : ", tiles " + tilesList) << "): "
     << entries.size() << (entries.size() == 1 ? " entry" : " entries")
     << "\n";
  // The signature's entry lines, as the runtime will read them.
  llvm::SmallVector<llvm::StringRef> lines;
  signature.split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines)
    if (line.consume_front("entry "))
      os << "  " << line << "\n";
  if (fusion)
    printFusion(os, *fusion);
  if (kernels)
    os << "  kernels: " << kernels->kernels << " ("
       << kernels->launches << (kernels->launches == 1 ? " launch" : " launches")
       << " in host code)\n";
}

/// Prints a failed compilation: the diagnostics as they are, then the
/// message.
int failWith(llvm::Error error) {
  int status = 0;
  llvm::handleAllErrors(
      std::move(error),
      [&](const loom::CompileError &e) {
        llvm::errs() << e.diagnostics();
        status = e.summary().empty() ? 1 : failWith(e.summary());
      },
      [&](const llvm::ErrorInfoBase &e) { status = failWith(e.message()); });
  return status;
}

/// --time-phases: one line per phase, then the total.
void printPhases(llvm::raw_ostream &os, llvm::ArrayRef<loom::PhaseTime> phases,
                 double total) {
  os << "loom-compile: phases of " << inputFilename << " (target "
     << targetName << ", wall time)\n";
  double sum = 0;
  for (const loom::PhaseTime &phase : phases) {
    os << llvm::format("  %-44s %8.3f s\n", phase.name.c_str(), phase.seconds);
    sum += phase.seconds;
  }
  os << llvm::format("  %-44s %8.3f s\n", "other (context, registration)",
                     total - sum);
  os << llvm::format("  %-44s %8.3f s\n", "total", total);
}

/// Writes `text` to `output` (a file or "-"), all or nothing.
int writeOutput(llvm::StringRef output, llvm::StringRef text) {
  std::string errorMessage;
  auto out = openOutputFile(output, &errorMessage);
  if (!out)
    return failWith(errorMessage);
  out->os() << text;
  out->os().flush();
  if (out->os().has_error())
    return failWith("cannot write " + output);
  out->keep();
  return 0;
}

} // namespace

/// Everything after the command line, on the tool's own stack.
static int compile() {
  auto start = std::chrono::steady_clock::now();
  loom::CompileOptions options;
  options.target = targetName;
  options.cudaPath = cudaPath;
  options.tiles = tilesList;
  options.fuse = !noFusion;
  options.verifyEach = verifyEach;
  options.cpu = cpuName;
  options.inputName = inputFilename;
  std::optional<loom::EmitKind> emit = loom::parseEmitKind(emitKind);
  if (!emit) {
    // An unknown target is reported before an unknown --emit.
    if (options.target != "cpu" && !loom::parseGPUChip(options.target))
      return failWith(loom::checkOptions(options));
    return failWith("unknown --emit=" + emitKind +
                    " (expected lib, mlir, llvm, ptx or cubin)");
  }
  options.emit = *emit;
  if (llvm::Error error = loom::checkOptions(options))
    return failWith(std::move(error));

  bool lib = options.emit == loom::EmitKind::Library;
  std::string output = outputFilename;
  if (output.empty())
    output = lib ? (inputFilename == "-"
                        ? std::string()
                        : loom::defaultLibraryName(inputFilename))
                 : "-";
  if (lib && (output.empty() || output == "-"))
    return failWith("a shared library cannot go to stdout; name it with -o");
  if (options.emit == loom::EmitKind::Cubin && output == "-" &&
      ::isatty(STDOUT_FILENO))
    return failWith("a cubin is binary; name it with -o (or redirect stdout)");
  options.output = lib ? output : "";

  llvm::Expected<loom::CompileResult> result =
      loom::compileFile(inputFilename, options);
  if (!result)
    return failWith(result.takeError());
  llvm::errs() << result->diagnostics;
  if (!lib)
    if (int status = writeOutput(output, result->artifact))
      return status;
  if (timePhases)
    printPhases(llvm::errs(), result->phases,
                std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count());
  // The report goes to stdout unless the artifact itself does.
  printReport(output == "-" ? llvm::errs() : llvm::outs(), output, *result);
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(loomCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "loom-compile: compile a .mlir file of loom and upstream ops into a "
      "shared library for the CPU or an NVIDIA GPU (docs/abi.md)\n");
  return loom::runWithToolStack(compile);
}
