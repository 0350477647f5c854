//===- loom-compile.cpp - ahead-of-time compiler from .mlir to a module ----===//
//
// loom-compile FILE.mlir --target=cpu|sm_90a|sm_80 [-o out]
//              [--emit=mlir|llvm|ptx|cubin|lib] [--cuda-path=DIR]
//              [--tiles=attention:QxKV,gemm:MxNxK[xSTAGES],rows:THREADS]
//
// Parses and verifies FILE, runs the CPU or GPU pipeline, adds the module ABI
// (docs/abi.md: loom_module_signature and one loom_entry_<name> per public
// function), translates to LLVM IR, compiles for the host and links a shared
// library with the system C compiler driver. For a GPU target the kernels are
// compiled by the pipeline (NVPTX, then ptxas from the CUDA toolkit) and
// embedded in the library, whose host code calls the mgpu* functions of
// Loom's runtime. Every failure is a diagnostic on stderr and exit status 1;
// no partial output is left behind.

#include "loom/ABI/ModuleABI.h"
#include "loom/ABI/Passes.h"
#include "loom/InitAll.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Support/InputLimits.h"
#include "loom/Target/TargetDescription.h"
#include "loom/Transforms/FusionReport.h"
#include "loom/Transforms/Passes.h"

#include "ModuleFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <optional>
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
             "and pipeline depth) and rows:THREADS (threads per norm row, per "
             "RoPE block), e.g. --tiles=attention:64x64,gemm:128x64x32x3 "
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

namespace {

int failWith(const llvm::Twine &message) {
  llvm::errs() << "loom-compile: " << message << "\n";
  return 1;
}

/// The default library name: FILE.mlir -> FILE.so.
std::string defaultLibraryName(llvm::StringRef input) {
  llvm::SmallString<256> path(input);
  if (llvm::sys::path::extension(path) == ".mlir")
    llvm::sys::path::replace_extension(path, ".so");
  else
    path += ".so";
  return path.str().str();
}

/// What a GPU module launches, for the report: the number of distinct
/// kernels and of launch sites in host code.
struct KernelCounts {
  unsigned kernels = 0;
  unsigned launches = 0;
};

KernelCounts countKernels(ModuleOp module) {
  KernelCounts counts;
  llvm::DenseSet<SymbolRefAttr> kernels;
  module.walk([&](gpu::LaunchFuncOp launch) {
    ++counts.launches;
    kernels.insert(launch.getKernel());
  });
  counts.kernels = kernels.size();
  return counts;
}

/// What loom-fuse decides for the module, for the report: the op-by-op
/// traffic of the source and the groups (docs/fusion.md).
struct FusionSummary {
  loom::ProgramTraffic unfused;
  std::vector<loom::FusionGroupReport> groups;
};

/// Runs loom-fuse on a copy of `module`, as the pipelines will.
std::optional<FusionSummary> summarizeFusion(ModuleOp module) {
  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager pm(module.getContext());
  pm.addNestedPass<func::FuncOp>(loom::createLoomFusePass());
  if (failed(pm.run(*copy)))
    return std::nullopt;
  return FusionSummary{loom::describeUnfusedProgram(module),
                       loom::describeFusionGroups(*copy)};
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

void printFusion(llvm::raw_ostream &os, const FusionSummary &fusion) {
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
                 llvm::ArrayRef<loom::abi::EntrySignature> entries,
                 llvm::StringRef signature,
                 std::optional<KernelCounts> kernels,
                 const std::optional<FusionSummary> &fusion) {
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

/// A host TargetMachine producing position-independent code.
std::unique_ptr<llvm::TargetMachine> hostTargetMachine(std::string &error) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = cpuName;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
    for (auto &feature : hostFeatures)
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  } else if (cpu.empty()) {
    cpu = "generic";
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    error = "cannot create a target machine for " + triple.str() + " (cpu " +
            cpu + ")";
  return tm;
}

/// The C compiler driver that links the library: $LOOM_CC, else `cc` on PATH.
std::optional<std::string> findLinker(std::string &error) {
  std::string name = "cc";
  if (const char *env = std::getenv("LOOM_CC"); env && *env)
    name = env;
  if (llvm::sys::path::is_absolute(name) ||
      llvm::StringRef(name).contains('/')) {
    if (llvm::sys::fs::can_execute(name))
      return name;
    error = "the C compiler driver '" + name + "' (from LOOM_CC) is not an "
            "executable file";
    return std::nullopt;
  }
  llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name);
  if (!path) {
    error = "no C compiler driver '" + name +
            "' on PATH; it links the shared library (install gcc or clang, "
            "set LOOM_CC, or use --emit=llvm)";
    return std::nullopt;
  }
  return *path;
}

/// The mgpu* functions (MLIR's GPU runtime interface, implemented by Loom's
/// runtime and exported by the processes that load GPU modules) and Loom's
/// own loomCuda* device functions (DeviceAPI.h) that `object` references
/// without defining.
bool undefinedRuntimeSymbols(llvm::StringRef object,
                             llvm::SmallVectorImpl<std::string> &symbols,
                             std::string &error) {
  llvm::Expected<llvm::object::OwningBinary<llvm::object::ObjectFile>> file =
      llvm::object::ObjectFile::createObjectFile(object);
  if (!file) {
    error = "cannot read the object file " + object.str() + ": " +
            llvm::toString(file.takeError());
    return false;
  }
  for (const llvm::object::SymbolRef &symbol : file->getBinary()->symbols()) {
    llvm::Expected<uint32_t> flags = symbol.getFlags();
    llvm::Expected<llvm::StringRef> name = symbol.getName();
    if (!flags || !name) {
      if (!flags)
        llvm::consumeError(flags.takeError());
      if (!name)
        llvm::consumeError(name.takeError());
      continue;
    }
    if ((*flags & llvm::object::SymbolRef::SF_Undefined) &&
        (name->starts_with("mgpu") || name->starts_with("loomCuda")))
      symbols.push_back(name->str());
  }
  return true;
}

/// Runs `linker` with `args`; on failure sets `error` with its output.
bool runLinker(llvm::StringRef linker, llvm::ArrayRef<llvm::StringRef> args,
               std::string &error) {
  llvm::SmallString<128> logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("loom-compile-link", "log",
                                             logPath)) {
    error = "cannot create a temporary file: " + ec.message();
    return false;
  }
  llvm::FileRemover removeLog(logPath);
  std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""),
                                                llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string execError;
  int status = llvm::sys::ExecuteAndWait(linker, args, std::nullopt, redirects,
                                         /*SecondsToWait=*/0,
                                         /*MemoryLimit=*/0, &execError);
  if (status == 0)
    return true;
  std::string log;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    log = (*buffer)->getBuffer().rtrim().str();
  error = "linking with '" + linker.str() + "' failed (" +
          (status < 0 ? execError : "exit status " + std::to_string(status)) +
          ")" + (log.empty() ? "" : ":\n" + log);
  return false;
}

/// Links `object` into the shared library `output` with `cc -shared`. The
/// library must be self-contained apart from libc and libm: -z defs turns a
/// call into any other library (e.g. MLIR's runner utilities) into a link
/// error here rather than a load error on the machine that runs it.
///
/// A GPU module also calls the runtime's mgpu* functions, which the process
/// that loads it exports (docs/abi.md), so they stay undefined in the
/// library. It is linked twice: once with -z defs and every mgpu* symbol the
/// object uses defined as an absolute 0 (--defsym), into a scratch file,
/// which fails exactly when anything else is undefined; then for real,
/// without -z defs. No stub library is recorded as needed.
bool linkSharedLibrary(llvm::StringRef linker, llvm::StringRef object,
                       llvm::StringRef output, bool gpu, std::string &error) {
  if (!gpu)
    return runLinker(linker,
                     {linker, "-shared", "-o", output, object, "-Wl,-z,defs",
                      "-lm"},
                     error);
  llvm::SmallVector<std::string> runtimeSymbols;
  if (!undefinedRuntimeSymbols(object, runtimeSymbols, error))
    return false;
  llvm::SmallString<128> checkPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "loom-compile-check", "so", checkPath)) {
    error = "cannot create a temporary file: " + ec.message();
    return false;
  }
  llvm::FileRemover removeCheck(checkPath);
  llvm::SmallVector<std::string> defsyms;
  for (const std::string &symbol : runtimeSymbols)
    defsyms.push_back("-Wl,--defsym=" + symbol + "=0");
  llvm::SmallVector<llvm::StringRef> check = {
      linker, "-shared", "-o", checkPath, object, "-Wl,-z,defs", "-lm"};
  for (const std::string &defsym : defsyms)
    check.push_back(defsym);
  if (!runLinker(linker, check, error))
    return false;
  return runLinker(linker, {linker, "-shared", "-o", output, object, "-lm"},
                   error);
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
  llvm::StringRef target = targetName;
  bool gpu = target != "cpu";
  if (gpu && !loom::parseGPUChip(target))
    return failWith("unknown target '" + target +
                    "' (expected cpu, sm_90a or sm_80; GPUs are sm_NN or "
                    "sm_NNa with NN >= 80)");
  llvm::StringRef emit = emitKind;
  if (emit != "lib" && emit != "mlir" && emit != "llvm" && emit != "ptx" &&
      emit != "cubin")
    return failWith("unknown --emit=" + emit +
                    " (expected lib, mlir, llvm, ptx or cubin)");
  if (!gpu && (emit == "ptx" || emit == "cubin"))
    return failWith("--emit=" + emit +
                    " needs a GPU target (--target=sm_90a or sm_80)");
  if (!gpu && !cudaPath.empty())
    return failWith("--cuda-path is for GPU targets (--target=sm_90a or "
                    "sm_80)");
  if (!gpu && !tilesList.empty())
    return failWith("--tiles is for GPU targets (--target=sm_90a or sm_80)");
  std::string tilesError;
  if (gpu && !loom::TargetDescription::getGPU(target, tilesList, tilesError))
    return failWith("--tiles: " + tilesError);
  // The toolkit is checked before anything is compiled: a missing ptxas
  // or libdevice is one line, not a failure deep in the pipeline.
  std::optional<loom::CUDAToolkit> toolkit;
  if (gpu) {
    std::string toolkitError;
    toolkit = loom::findCUDAToolkit(cudaPath, toolkitError);
    if (!toolkit)
      return failWith(toolkitError);
  }

  std::string output = outputFilename;
  if (output.empty())
    output = emit == "lib" ? (inputFilename == "-"
                                  ? std::string()
                                  : defaultLibraryName(inputFilename))
                           : "-";
  if (emit == "lib" && (output.empty() || output == "-"))
    return failWith("a shared library cannot go to stdout; name it with -o");
  if (emit == "cubin" && output == "-" && ::isatty(STDOUT_FILENO))
    return failWith("a cubin is binary; name it with -o (or redirect stdout)");

  // The registry includes the LLVM IR translations of the builtin, LLVM,
  // GPU and NVVM dialects (the GPU path's kernels and launches).
  DialectRegistry registry;
  loom::registerAllDialects(registry);
  loom::registerAllPasses();
  MLIRContext context(registry);
  // Diagnostics name the file position; the generic form of the whole op
  // that MLIR would append helps nobody reading a compiler error.
  context.printOpOnDiagnostic(false);

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, &errorMessage);
  if (!file)
    return failWith(errorMessage);
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(*sourceMgr, &context);

  // Parsing verifies the module; the input limits (nesting depth, 64-bit
  // sizes) are checked before and after.
  OwningOpRef<ModuleOp> module =
      loom::parseSourceFileWithLimits(sourceMgr, &context);
  if (!module)
    return 1;
  FailureOr<llvm::SmallVector<loom::abi::EntrySignature>> entries =
      loom::abi::collectEntries(*module);
  if (failed(entries) || failed(loom::abi::checkNoDeclarations(*module)))
    return 1;
  std::string signature = loom::abi::formatSignature(*entries, target);
  // The entries' argument checks come from the tensor-level source, before
  // either pipeline changes it (docs/abi.md, "Entry checks").
  FailureOr<OwningOpRef<ModuleOp>> checks =
      loom::abi::buildEntryChecks(*module);
  if (failed(checks))
    return 1;

  std::optional<FusionSummary> fusion;
  if (!noFusion)
    fusion = summarizeFusion(*module);

  PassManager pm(&context);
  pm.addPass(loom::createLoomReadOnlyEntryArgsPass());
  pm.addPass(loom::createLoomPackI4ABIPass());
  if (gpu) {
    loom::LoomGPUPipelineOptions options;
    options.chip = target.str();
    options.tiles = tilesList;
    options.fuse = !noFusion;
    options.cudaPath = toolkit->root;
    options.format = emit == "ptx" ? "isa" : "bin";
    std::string pipelineError;
    if (failed(loom::buildLoomGPUPipeline(pm, options, pipelineError)))
      return failWith(pipelineError);
  } else {
    loom::LoomCPUPipelineOptions options;
    options.fuse = !noFusion;
    loom::buildLoomCPUPipeline(pm, options);
  }
  if (failed(pm.run(*module)))
    return failWith("the " + std::string(gpu ? "GPU" : "CPU") +
                    " pipeline failed on " + inputFilename);
  if (failed(loom::abi::checkLoweredToLLVM(*module, gpu)) ||
      failed(loom::abi::addModuleABI(*module, *entries, signature,
                                     **checks)))
    return 1;
  std::optional<KernelCounts> kernels;
  if (gpu)
    kernels = countKernels(*module);

  // The report goes to stdout unless the artifact itself does.
  llvm::raw_ostream &reportStream =
      output == "-" ? llvm::errs() : llvm::outs();

  if (emit == "mlir") {
    auto out = openOutputFile(output, &errorMessage);
    if (!out)
      return failWith(errorMessage);
    module->print(out->os());
    out->os().flush();
    if (out->os().has_error())
      return failWith("cannot write " + output);
    out->keep();
    printReport(reportStream, output, *entries, signature, kernels, fusion);
    return 0;
  }

  if (emit == "ptx" || emit == "cubin") {
    llvm::SmallVector<KernelObject> objects = kernelObjects(*module);
    if (objects.empty())
      return failWith(inputFilename + " has no GPU kernels (nothing to "
                      "emit with --emit=" + emit + ")");
    std::string text;
    if (emit == "ptx") {
      // One section per gpu.module, each starting with a comment line.
      for (const KernelObject &object : objects)
        text += "// loom-compile: gpu.module @" + object.module + " (" +
                object.chip + ")\n" + object.content + "\n";
    } else {
      // The pipeline gathers every kernel into one gpu.module, so the
      // cubin is that module's; several would need several files.
      if (objects.size() != 1)
        return failWith("--emit=cubin needs the kernels in one gpu.module, "
                        "but there are " + std::to_string(objects.size()) +
                        "; use --emit=ptx or --emit=lib");
      text = objects.front().content;
    }
    if (int status = writeOutput(output, text))
      return status;
    printReport(reportStream, output, *entries, signature, kernels, fusion);
    return 0;
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // The integrity record is module-level assembly (below).
  llvm::InitializeNativeTargetAsmParser();
  std::string tmError;
  std::unique_ptr<llvm::TargetMachine> tm = hostTargetMachine(tmError);
  if (!tm)
    return failWith(tmError);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*module, llvmContext, inputFilename);
  if (!llvmModule)
    return failWith("translation to LLVM IR failed");
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  if (llvm::Error err =
          makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                    tm.get())(llvmModule.get()))
    return failWith("LLVM optimization failed: " +
                    llvm::toString(std::move(err)));

  if (emit == "llvm") {
    auto out = openOutputFile(output, &errorMessage);
    if (!out)
      return failWith(errorMessage);
    llvmModule->print(out->os(), nullptr);
    out->os().flush();
    if (out->os().has_error())
      return failWith("cannot write " + output);
    out->keep();
    printReport(reportStream, output, *entries, signature, kernels, fusion);
    return 0;
  }

  // The object goes to a temporary file; the library is linked next to its
  // destination under a unique name and renamed into place, so that a
  // failure at any step leaves neither a partial nor a stale library.
  std::string linkError;
  std::optional<std::string> linker = findLinker(linkError);
  if (!linker)
    return failWith(linkError);
  // The integrity record (docs/abi.md): reserved here, in a note section of
  // the object, and filled in below once the library is linked.
  llvmModule->appendModuleInlineAsm(LOOM_INTEGRITY_NOTE_ASM);
  llvm::SmallString<128> objectPath;
  int objectFd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "loom-compile", "o", objectFd, objectPath))
    return failWith("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  {
    llvm::raw_fd_ostream objectStream(objectFd, /*shouldClose=*/true);
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, objectStream, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return failWith("the host target cannot emit object files");
    codegen.run(*llvmModule);
    objectStream.flush();
    if (objectStream.has_error())
      return failWith("cannot write the object file " + objectPath);
  }

  llvm::SmallString<256> absoluteOutput(output);
  llvm::sys::fs::make_absolute(absoluteOutput);
  llvm::SmallString<256> staging;
  int stagingFd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          absoluteOutput + "-%%%%%%.tmp", stagingFd, staging))
    return failWith("cannot write '" + output + "': " + ec.message());
  ::close(stagingFd);
  llvm::FileRemover removeStaging(staging);
  if (!linkSharedLibrary(*linker, objectPath, staging, gpu, linkError))
    return failWith(linkError);
  std::string sealError;
  if (!loom::runtime::sealModuleFile(staging.str().str(), sealError))
    return failWith(sealError);
  if (std::error_code ec = llvm::sys::fs::rename(staging, output))
    return failWith("cannot write '" + output + "': " + ec.message());
  removeStaging.releaseFile();
  printReport(reportStream, output, *entries, signature, kernels, fusion);
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
