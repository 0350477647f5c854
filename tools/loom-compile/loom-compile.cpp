//===- loom-compile.cpp - ahead-of-time compiler from .mlir to a module ----===//
//
// loom-compile FILE.mlir --target=cpu [-o out] [--emit=mlir|llvm|lib]
//
// Parses and verifies FILE, runs the CPU pipeline, adds the module ABI
// (docs/abi.md: loom_module_signature and one loom_entry_<name> per public
// function), translates to LLVM IR, compiles for the host and links a shared
// library with the system C compiler driver. Every failure is a diagnostic on
// stderr and exit status 1; no partial output is left behind.

#include "loom/ABI/ModuleABI.h"
#include "loom/ABI/Passes.h"
#include "loom/InitAll.h"
#include "loom/Pipelines/Pipelines.h"

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
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
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
               cl::desc("Target: cpu (sm_90a and sm_80 are not implemented "
                        "yet)"),
               cl::init("cpu"), cl::cat(loomCategory));
static cl::opt<std::string>
    outputFilename("o",
                   cl::desc("Output file (default: the input with .so for "
                            "--emit=lib, stdout otherwise)"),
                   cl::value_desc("filename"), cl::cat(loomCategory));
static cl::opt<std::string>
    emitKind("emit",
             cl::desc("What to produce: lib (a shared library, default), "
                      "mlir (the LLVM-dialect module), llvm (LLVM IR)"),
             cl::init("lib"), cl::cat(loomCategory));
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

void printReport(llvm::raw_ostream &os, llvm::StringRef output,
                 llvm::ArrayRef<loom::abi::EntrySignature> entries,
                 llvm::StringRef signature) {
  os << "loom-compile: " << (output == "-" ? "stdout" : output)
     << " (target " << targetName << "): "
     << entries.size() << (entries.size() == 1 ? " entry" : " entries")
     << "\n";
  // The signature's entry lines, as the runtime will read them.
  llvm::SmallVector<llvm::StringRef> lines;
  signature.split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines)
    if (line.consume_front("entry "))
      os << "  " << line << "\n";
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

/// Links `object` into the shared library `output` with `cc -shared`. The
/// library must be self-contained apart from libc and libm: -z defs turns a
/// call into any other library (e.g. MLIR's runner utilities) into a link
/// error here rather than a load error on the machine that runs it.
bool linkSharedLibrary(llvm::StringRef linker, llvm::StringRef object,
                       llvm::StringRef output, std::string &error) {
  llvm::SmallString<128> logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("loom-compile-link", "log",
                                             logPath)) {
    error = "cannot create a temporary file: " + ec.message();
    return false;
  }
  llvm::FileRemover removeLog(logPath);
  llvm::SmallVector<llvm::StringRef> args = {
      linker, "-shared", "-o", output, object, "-Wl,-z,defs", "-lm"};
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

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(loomCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "loom-compile: compile a .mlir file of loom and upstream ops into a "
      "shared library (docs/abi.md)\n");

  llvm::StringRef target = targetName;
  if (target == "sm_90a" || target == "sm_80" || target.starts_with("sm_"))
    return failWith("GPU targets are not implemented yet (--target=" + target +
                    "); use --target=cpu");
  if (target != "cpu")
    return failWith("unknown target '" + target +
                    "' (expected cpu, sm_90a or sm_80)");
  llvm::StringRef emit = emitKind;
  if (emit == "ptx" || emit == "cubin")
    return failWith("--emit=" + emit +
                    " needs a GPU target, and GPU targets are not implemented "
                    "yet");
  if (emit != "lib" && emit != "mlir" && emit != "llvm")
    return failWith("unknown --emit=" + emit + " (expected lib, mlir or llvm)");

  std::string output = outputFilename;
  if (output.empty())
    output = emit == "lib" ? (inputFilename == "-"
                                  ? std::string()
                                  : defaultLibraryName(inputFilename))
                           : "-";
  if (emit == "lib" && (output.empty() || output == "-"))
    return failWith("a shared library cannot go to stdout; name it with -o");

  DialectRegistry registry;
  loom::registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
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

  // Parsing verifies the module.
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  FailureOr<llvm::SmallVector<loom::abi::EntrySignature>> entries =
      loom::abi::collectEntries(*module);
  if (failed(entries) || failed(loom::abi::checkNoDeclarations(*module)))
    return 1;
  std::string signature = loom::abi::formatSignature(*entries, target);

  PassManager pm(&context);
  pm.addPass(loom::createLoomReadOnlyEntryArgsPass());
  pm.addPass(loom::createLoomPackI4ABIPass());
  loom::buildLoomCPUPipeline(pm, loom::LoomCPUPipelineOptions());
  if (failed(pm.run(*module)))
    return failWith("the CPU pipeline failed on " + inputFilename);
  if (failed(loom::abi::checkLoweredToLLVM(*module)) ||
      failed(loom::abi::addModuleABI(*module, *entries, signature)))
    return 1;

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
    printReport(reportStream, output, *entries, signature);
    return 0;
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
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
    printReport(reportStream, output, *entries, signature);
    return 0;
  }

  // The object goes to a temporary file; the library is linked next to its
  // destination under a unique name and renamed into place, so that a
  // failure at any step leaves neither a partial nor a stale library.
  std::string linkError;
  std::optional<std::string> linker = findLinker(linkError);
  if (!linker)
    return failWith(linkError);
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
  if (!linkSharedLibrary(*linker, objectPath, staging, linkError))
    return failWith(linkError);
  if (std::error_code ec = llvm::sys::fs::rename(staging, output))
    return failWith("cannot write '" + output + "': " + ec.message());
  removeStaging.releaseFile();
  printReport(reportStream, output, *entries, signature);
  return 0;
}
