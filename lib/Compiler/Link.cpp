//===- Link.cpp - the host object and the link of the shared library ------===//

#include "Link.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>

/// A host TargetMachine producing position-independent code.
std::unique_ptr<llvm::TargetMachine>
loom::detail::hostTargetMachine(llvm::StringRef cpuName, std::string &error) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = cpuName.str();
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
std::optional<std::string> loom::detail::findLinker(std::string &error) {
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
static bool undefinedRuntimeSymbols(llvm::StringRef object,
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
static bool runLinker(llvm::StringRef linker, llvm::ArrayRef<llvm::StringRef> args,
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
bool loom::detail::linkSharedLibrary(llvm::StringRef linker,
                                     llvm::StringRef object,
                                     llvm::StringRef output, bool gpu,
                                     std::string &error) {
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

bool loom::detail::emitObject(llvm::TargetMachine &tm, llvm::Module &module,
                              llvm::StringRef path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream stream(path, ec);
  if (ec) {
    error = "cannot write the object file " + path.str() + ": " + ec.message();
    return false;
  }
  llvm::legacy::PassManager codegen;
  if (tm.addPassesToEmitFile(codegen, stream, nullptr,
                             llvm::CodeGenFileType::ObjectFile)) {
    error = "the host target cannot emit object files";
    return false;
  }
  codegen.run(module);
  stream.flush();
  if (stream.has_error()) {
    stream.clear_error();
    error = "cannot write the object file " + path.str();
    return false;
  }
  return true;
}

llvm::Error loom::detail::optimizeHostModule(llvm::Module &module,
                                             llvm::TargetMachine &tm,
                                             unsigned optLevel,
                                             bool slpVectorize) {
  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  if (optLevel > 3)
    return llvm::createStringError("invalid optimization level " +
                                   std::to_string(optLevel));
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // MLIR's makeOptimizingTransformer, with the SLP vectorizer optional.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = slpVectorize;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  mpm.addPass(pb.buildPerModuleDefaultPipeline(levels[optLevel]));
  mpm.run(module, mam);
  return llvm::Error::success();
}
