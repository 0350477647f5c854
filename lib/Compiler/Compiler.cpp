//===- Compiler.cpp - a Loom module to a shared library, as a library ------===//
//
// The phases of a compilation (docs/Design.md, "The compiler library"): parse
// and verify; the loom pipeline (fusion, kernels, bufferization, outlining);
// for a GPU target the kernels' lowering to NVVM and gpu-module-to-binary
// (NVPTX, then ptxas); the host code's lowering to the LLVM dialect; LLVM IR
// and its optimization; the object; the link (Link.cpp). Diagnostics are
// rendered into strings, never printed.

#include "loom/Compiler/Compiler.h"

#include "Link.h"

#include "loom/ABI/InputHints.h"
#include "loom/ABI/Passes.h"
#include "loom/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Support/InputLimits.h"
#include "loom/Target/TargetDescription.h"
#include "loom/Transforms/Passes.h"

#include "ModuleFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <chrono>
#include <unistd.h>

using namespace mlir;

char loom::CompileError::ID = 0;

void loom::CompileError::log(llvm::raw_ostream &os) const {
  os << diagnosticText;
  if (!diagnosticText.empty() && !messageText.empty() &&
      !llvm::StringRef(diagnosticText).ends_with("\n"))
    os << "\n";
  os << messageText;
}

std::error_code loom::CompileError::convertToErrorCode() const {
  return llvm::inconvertibleErrorCode();
}

std::optional<loom::EmitKind> loom::parseEmitKind(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<EmitKind>>(name)
      .Case("lib", EmitKind::Library)
      .Case("mlir", EmitKind::MLIR)
      .Case("llvm", EmitKind::LLVM)
      .Case("ptx", EmitKind::PTX)
      .Case("cubin", EmitKind::Cubin)
      .Default(std::nullopt);
}

static llvm::StringRef emitName(loom::EmitKind kind) {
  switch (kind) {
  case loom::EmitKind::Library:
    return "lib";
  case loom::EmitKind::MLIR:
    return "mlir";
  case loom::EmitKind::LLVM:
    return "llvm";
  case loom::EmitKind::PTX:
    return "ptx";
  case loom::EmitKind::Cubin:
    return "cubin";
  }
  return "lib";
}

std::string loom::defaultLibraryName(llvm::StringRef input) {
  llvm::SmallString<256> path(input);
  if (llvm::sys::path::extension(path) == ".mlir")
    llvm::sys::path::replace_extension(path, ".so");
  else
    path += ".so";
  return path.str().str();
}

namespace {

llvm::Error fail(std::string diagnostics, const llvm::Twine &message) {
  return llvm::make_error<loom::CompileError>(std::move(diagnostics),
                                              message.str());
}

/// Diagnostics of a context rendered into a string while it lives, with the
/// source line where the file can be read (as loom-compile prints them).
class DiagnosticCapture {
public:
  DiagnosticCapture(MLIRContext *context,
                    llvm::SourceMgr *sourceMgr = nullptr)
      : stream(text), handler(sourceMgr ? *sourceMgr : ownSourceMgr, context,
                              stream) {}
  std::string take() { return std::move(text); }
  const std::string &str() const { return text; }

private:
  std::string text;
  llvm::raw_string_ostream stream;
  llvm::SourceMgr ownSourceMgr;
  SourceMgrDiagnosticHandler handler;
};

/// Times the phases of one compilation.
class PhaseTimer {
public:
  explicit PhaseTimer(std::vector<loom::PhaseTime> &phases) : phases(phases) {}
  /// Ends the current phase as `name`; the next one starts now.
  void end(llvm::StringRef name) {
    auto now = std::chrono::steady_clock::now();
    phases.push_back(
        {name.str(), std::chrono::duration<double>(now - start).count()});
    start = now;
  }

private:
  std::vector<loom::PhaseTime> &phases;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

loom::KernelCounts countKernels(ModuleOp module) {
  loom::KernelCounts counts;
  llvm::DenseSet<SymbolRefAttr> kernels;
  module.walk([&](gpu::LaunchFuncOp launch) {
    ++counts.launches;
    kernels.insert(launch.getKernel());
  });
  counts.kernels = kernels.size();
  return counts;
}

/// Runs loom-fuse on a copy of `module`, as the pipelines will.
std::optional<loom::FusionSummary> summarizeFusion(ModuleOp module) {
  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager pm(module.getContext());
  pm.addNestedPass<func::FuncOp>(loom::createLoomFusePass());
  if (failed(pm.run(*copy)))
    return std::nullopt;
  return loom::FusionSummary{loom::describeUnfusedProgram(module),
                             loom::describeFusionGroups(*copy)};
}

/// The compiled kernels of a GPU module after the pipeline: one object per
/// gpu.binary (the pipeline gathers the kernels into one gpu.module, so
/// there is at most one unless recipes asked for their own).
struct KernelObject {
  std::string module;  // the gpu.module's name
  std::string chip;    // its target chip
  std::string content; // PTX text or cubin bytes
};

llvm::SmallVector<KernelObject> kernelObjects(ModuleOp module) {
  llvm::SmallVector<KernelObject> objects;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      KernelObject result;
      result.module = binary.getSymName().str();
      if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
        result.chip = nvvm.getChip().str();
      result.content = object.getObject().getValue().str();
      objects.push_back(std::move(result));
    }
  return objects;
}

/// checkOptions, returning the CUDA toolkit of a GPU target.
llvm::Expected<std::optional<loom::CUDAToolkit>>
checkOptionsAndFindToolkit(const loom::CompileOptions &options) {
  llvm::StringRef target = options.target;
  bool gpu = target != "cpu";
  if (gpu && !loom::parseGPUChip(target))
    return fail("", "unknown target '" + target +
                        "' (expected cpu, sm_90a or sm_80; GPUs are sm_NN or "
                        "sm_NNa with NN >= 80)");
  if (!gpu && (options.emit == loom::EmitKind::PTX ||
               options.emit == loom::EmitKind::Cubin))
    return fail("", "--emit=" + emitName(options.emit) +
                        " needs a GPU target (--target=sm_90a or sm_80)");
  if (!gpu && !options.cudaPath.empty())
    return fail("", "--cuda-path is for GPU targets (--target=sm_90a or "
                    "sm_80)");
  if (!gpu && !options.tiles.empty())
    return fail("", "--tiles is for GPU targets (--target=sm_90a or sm_80)");
  if (options.optLevel > 3)
    return fail("", "optimization level " + llvm::Twine(options.optLevel) +
                        " is out of range (0 to 3)");
  if (!gpu)
    return std::nullopt;
  std::string error;
  if (!loom::TargetDescription::getGPU(target, options.tiles, error))
    return fail("", "--tiles: " + error);
  // The toolkit is checked before anything is compiled: a missing ptxas
  // or libdevice is one line, not a failure deep in the pipeline.
  std::optional<loom::CUDAToolkit> toolkit =
      loom::findCUDAToolkit(options.cudaPath, error);
  if (!toolkit)
    return fail("", error);
  return toolkit;
}

/// Everything after parsing. `phases` holds the parse phase, if any.
llvm::Expected<loom::CompileResult>
compileParsed(ModuleOp module, const loom::CompileOptions &options,
              DiagnosticCapture &diagnostics,
              std::vector<loom::PhaseTime> phases) {
  llvm::Expected<std::optional<loom::CUDAToolkit>> toolkit =
      checkOptionsAndFindToolkit(options);
  if (!toolkit)
    return toolkit.takeError();
  PhaseTimer timer(phases);
  llvm::StringRef target = options.target;
  bool gpu = target != "cpu";
  loom::EmitKind emit = options.emit;
  if (emit == loom::EmitKind::Library && options.output.empty())
    return fail("", "no output file named for the shared library");
  auto failHere = [&](const llvm::Twine &message) {
    return fail(diagnostics.take(), message);
  };

  loom::CompileResult result;
  FailureOr<llvm::SmallVector<loom::abi::EntrySignature>> entries =
      loom::abi::collectEntries(module);
  if (failed(entries) || failed(loom::abi::checkNoDeclarations(module)))
    return failHere("");
  result.entries = *entries;
  result.signature = loom::abi::formatSignature(*entries, target);
  std::string inputHints = loom::abi::formatInputHints(module, *entries);
  // The entries' argument checks come from the tensor-level source, before
  // either pipeline changes it (docs/abi.md, "Entry checks").
  FailureOr<OwningOpRef<ModuleOp>> checks =
      loom::abi::buildEntryChecks(module, /*indexChecks=*/!gpu);
  if (failed(checks))
    return failHere("");
  if (options.fuse)
    result.fusion = summarizeFusion(module);

  MLIRContext *context = module.getContext();
  PassManager graph(context), kernels(context), host(context),
      binary(context);
  graph.addPass(loom::createLoomReadOnlyEntryArgsPass());
  graph.addPass(loom::createLoomPackI4ABIPass());
  if (gpu) {
    loom::LoomGPUPipelineOptions pipeline;
    pipeline.chip = target.str();
    pipeline.tiles = options.tiles;
    pipeline.fuse = options.fuse;
    pipeline.cudaPath = (*toolkit)->root;
    pipeline.format = emit == loom::EmitKind::PTX ? "isa" : "bin";
    std::string pipelineError;
    if (failed(loom::buildLoomGPUPipelineStages(pipeline, graph, kernels,
                                                host, binary, pipelineError)))
      return failHere(pipelineError);
  } else {
    loom::LoomCPUPipelineOptions pipeline;
    pipeline.fuse = options.fuse;
    loom::buildLoomCPUPipelineStages(pipeline, graph, host);
  }
  std::string pipelineFailed = "the " + std::string(gpu ? "GPU" : "CPU") +
                               " pipeline failed on " + options.inputName;
  for (PassManager *pm : {&graph, &kernels, &host, &binary})
    pm->enableVerifier(options.verifyEach);
  // Runs one stage; without verifyEach, the IR is verified once after it.
  auto runStage = [&](PassManager &pm) {
    return success(succeeded(pm.run(module)) &&
                   (options.verifyEach || succeeded(mlir::verify(module))));
  };
  timer.end("entry signatures and fusion report");
  if (failed(runStage(graph)))
    return failHere(pipelineFailed);
  timer.end("loom pipeline");
  if (gpu) {
    if (failed(runStage(kernels)))
      return failHere(pipelineFailed);
    timer.end("kernels to LLVM dialect");
  }
  if (failed(runStage(host)))
    return failHere(pipelineFailed);
  timer.end("host to LLVM dialect");
  if (gpu) {
    // The host lowering runs before gpu-module-to-binary and sweeps the
    // kernels too: its greedy rewrites fold and erase dead LLVM ops in them,
    // which the PTX shows (docs/compile-time.md), so the kernels cannot be
    // compiled before it, nor beside it on their own.
    if (failed(runStage(binary)))
      return failHere(pipelineFailed);
    // gpu-module-to-binary records its NVPTX and ptxas times on the objects;
    // the rest is the kernels' translation to LLVM IR and its optimization.
    int64_t isaMs = 0, binaryMs = 0;
    for (auto binaryOp : module.getOps<gpu::BinaryOp>())
      for (Attribute attr : binaryOp.getObjects())
        if (DictionaryAttr properties =
                cast<gpu::ObjectAttr>(attr).getProperties()) {
          if (auto ms = properties.getAs<IntegerAttr>("LLVMIRToISATimeInMs"))
            isaMs += ms.getInt();
          if (auto ms = properties.getAs<IntegerAttr>("ISAToBinaryTimeInMs"))
            binaryMs += ms.getInt();
        }
    timer.end("kernels to LLVM IR (libdevice, optimization)");
    double isa = isaMs / 1000.0, bin = binaryMs / 1000.0;
    loom::PhaseTime &rest = phases.back();
    rest.seconds = std::max(0.0, rest.seconds - isa - bin);
    phases.push_back({"kernels to PTX (NVPTX backend)", isa});
    if (emit != loom::EmitKind::PTX)
      phases.push_back({"PTX to cubin (ptxas)", bin});
  }
  if (failed(loom::abi::checkLoweredToLLVM(module, gpu)) ||
      failed(loom::abi::addModuleABI(module, *entries, result.signature,
                                     inputHints, **checks, gpu)))
    return failHere("");
  if (gpu)
    result.kernels = countKernels(module);

  if (emit == loom::EmitKind::MLIR) {
    llvm::raw_string_ostream os(result.artifact);
    module.print(os);
    result.diagnostics = diagnostics.take();
    result.phases = std::move(phases);
    return result;
  }

  if (emit == loom::EmitKind::PTX || emit == loom::EmitKind::Cubin) {
    llvm::SmallVector<KernelObject> objects = kernelObjects(module);
    if (objects.empty())
      return failHere(options.inputName + " has no GPU kernels (nothing to "
                      "emit with --emit=" + emitName(emit) + ")");
    if (emit == loom::EmitKind::PTX) {
      // One section per gpu.module, each starting with a comment line.
      for (const KernelObject &object : objects)
        result.artifact += "// loom-compile: gpu.module @" + object.module +
                           " (" + object.chip + ")\n" + object.content + "\n";
    } else {
      // The pipeline gathers every kernel into one gpu.module, so the
      // cubin is that module's; several would need several files.
      if (objects.size() != 1)
        return failHere("--emit=cubin needs the kernels in one gpu.module, "
                        "but there are " + llvm::Twine(objects.size()) +
                        "; use --emit=ptx or --emit=lib");
      result.artifact = objects.front().content;
    }
    result.diagnostics = diagnostics.take();
    result.phases = std::move(phases);
    return result;
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // The integrity record is module-level assembly (below).
  llvm::InitializeNativeTargetAsmParser();
  std::string tmError;
  std::unique_ptr<llvm::TargetMachine> tm =
      loom::detail::hostTargetMachine(options.cpu, tmError);
  if (!tm)
    return failHere(tmError);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, options.inputName);
  if (!llvmModule)
    return failHere("translation to LLVM IR failed");
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  // The host code of a GPU module moves descriptors and launches kernels:
  // the SLP vectorizer costs time there and gains nothing.
  if (llvm::Error err = loom::detail::optimizeHostModule(
          *llvmModule, *tm, options.optLevel, /*slpVectorize=*/!gpu))
    return failHere("LLVM optimization failed: " +
                    llvm::toString(std::move(err)));
  timer.end("host LLVM IR and optimization");

  if (emit == loom::EmitKind::LLVM) {
    llvm::raw_string_ostream os(result.artifact);
    llvmModule->print(os, nullptr);
    result.diagnostics = diagnostics.take();
    result.phases = std::move(phases);
    return result;
  }

  // The object goes to a temporary file; the library is linked next to its
  // destination under a unique name and renamed into place, so that a
  // failure at any step leaves neither a partial nor a stale library.
  std::string linkError;
  std::optional<std::string> linker = loom::detail::findLinker(linkError);
  if (!linker)
    return failHere(linkError);
  // The integrity record (docs/abi.md): reserved here, in a note section of
  // the object, and filled in below once the library is linked.
  llvmModule->appendModuleInlineAsm(LOOM_INTEGRITY_NOTE_ASM);
  llvm::SmallString<128> objectPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "loom-compile", "o", objectPath))
    return failHere("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  std::string objectError;
  if (!loom::detail::emitObject(*tm, *llvmModule, objectPath, objectError))
    return failHere(objectError);
  timer.end("host object");

  const std::string &output = options.output;
  llvm::SmallString<256> absoluteOutput(output);
  llvm::sys::fs::make_absolute(absoluteOutput);
  llvm::SmallString<256> staging;
  int stagingFd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          absoluteOutput + "-%%%%%%.tmp", stagingFd, staging))
    return failHere("cannot write '" + output + "': " + ec.message());
  ::close(stagingFd);
  llvm::FileRemover removeStaging(staging);
  if (!loom::detail::linkSharedLibrary(*linker, objectPath, staging, gpu,
                                       linkError))
    return failHere(linkError);
  std::string sealError;
  if (!loom::runtime::sealModuleFile(staging.str().str(), sealError))
    return failHere(sealError);
  if (std::error_code ec = llvm::sys::fs::rename(staging, output))
    return failHere("cannot write '" + output + "': " + ec.message());
  removeStaging.releaseFile();
  timer.end("link");
  result.diagnostics = diagnostics.take();
  result.phases = std::move(phases);
  return result;
}

/// The registry of every tool: Loom's and upstream dialects with the LLVM
/// IR translations of the builtin, LLVM, GPU and NVVM dialects.
DialectRegistry fullRegistry() {
  DialectRegistry registry;
  loom::registerAllDialects(registry);
  return registry;
}

/// Parses `buffer` with the input limits and compiles it.
llvm::Expected<loom::CompileResult>
compileBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
              const loom::CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  loom::registerAllPasses();
  MLIRContext context(fullRegistry());
  // Diagnostics name the file position; the generic form of the whole op
  // that MLIR would append helps nobody reading a compiler error.
  context.printOpOnDiagnostic(false);
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  DiagnosticCapture diagnostics(&context, sourceMgr.get());
  // Parsing verifies the module; the input limits (nesting depth, 64-bit
  // sizes) are checked before and after.
  OwningOpRef<ModuleOp> module =
      loom::parseSourceFileWithLimits(sourceMgr, &context);
  if (!module)
    return fail(diagnostics.take(), "");
  std::vector<loom::PhaseTime> phases = {
      {"parse", std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count()}};
  return compileParsed(*module, options, diagnostics, std::move(phases));
}

} // namespace

llvm::Error loom::checkOptions(const CompileOptions &options) {
  llvm::Expected<std::optional<CUDAToolkit>> toolkit =
      checkOptionsAndFindToolkit(options);
  return toolkit ? llvm::Error::success() : toolkit.takeError();
}

llvm::Expected<loom::CompileResult>
loom::compileModule(ModuleOp module, const CompileOptions &options) {
  loom::registerAllPasses();
  // The pipelines' passes and the LLVM IR translation need Loom's registry,
  // which the caller's context may lack.
  module.getContext()->appendDialectRegistry(fullRegistry());
  DiagnosticCapture diagnostics(module.getContext());
  return compileParsed(module, options, diagnostics, {});
}

llvm::Expected<loom::CompileResult>
loom::compileToSharedLibrary(ModuleOp module, llvm::StringRef output,
                             CompileOptions options) {
  options.emit = EmitKind::Library;
  options.output = output.str();
  return compileModule(module, options);
}

llvm::Expected<loom::CompileResult>
loom::compileSource(llvm::StringRef source, const CompileOptions &options) {
  if (llvm::Error error = checkOptions(options))
    return std::move(error);
  return compileBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, options.inputName),
      options);
}

llvm::Expected<loom::CompileResult>
loom::compileFile(llvm::StringRef path, const CompileOptions &options) {
  if (llvm::Error error = checkOptions(options))
    return std::move(error);
  CompileOptions named = options;
  if (named.inputName == CompileOptions().inputName)
    named.inputName = path.str();
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(path, &errorMessage);
  if (!file)
    return fail("", errorMessage);
  return compileBuffer(std::move(file), named);
}
