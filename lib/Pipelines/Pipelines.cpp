//===- Pipelines.cpp - Loom's named pass pipelines --------------------------===//

#include "loom/Pipelines/Pipelines.h"
#include "loom/ABI/Passes.h"
#include "loom/Conversion/LoomToGPU/Passes.h"
#include "loom/GPU/Transforms/Passes.h"
#include "loom/Target/TargetDescription.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;

/// Appends a textual pipeline; the text is fixed, so failing to parse it is a
/// build defect (a pass renamed upstream), not a user error.
static void append(OpPassManager &pm, StringRef text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("loom: malformed built-in pipeline: " + text);
}

/// What the CPU and GPU pipelines share: loom ops to linalg on tensors,
/// one-shot bufferization with identity-layout function boundaries,
/// deallocation, fresh results for public functions and strided copies as
/// linalg.copy (docs/abi.md explains each). With `fuseElementwise`, chains
/// of elementwise linalg ops merge into one (upstream
/// loom-fuse-elementwise-chains: the bodies are composed, every intermediate
/// rounding kept), so that each chain is one kernel on the GPU.
static void buildBufferizationPipeline(OpPassManager &pm,
                                       bool fuseElementwise) {
  // Elementwise arith on tensors (residual adds, gating) becomes linalg too,
  // since one-shot bufferization does not take arith ops on tensors.
  append(pm, "convert-loom-to-linalg,func.func(convert-elementwise-to-linalg),"
             "canonicalize,cse");
  if (fuseElementwise)
    append(pm, "loom-fuse-elementwise-chains,canonicalize,cse");
  // The constants' globals in program order first (MLIR 22's module
  // bufferization visits the functions in an order that changes between
  // runs, and with it the globals' order and names).
  append(pm, "loom-constant-globals,"
             "one-shot-bufferize{bufferize-function-boundaries "
             "function-boundary-type-conversion=identity-layout-map},"
             "buffer-deallocation-pipeline");
  // The module ABI (docs/abi.md): the caller frees every result, so a public
  // function must not return an argument's buffer, a global constant or one
  // allocation twice. The deallocation pipeline returns bufferization.clone
  // for some of these, which convert-bufferization-to-memref lowers (nothing
  // later does). Copies between non-contiguous buffers become loops, not
  // calls to memrefCopy from MLIR's runner utilities, which modules must not
  // need.
  pm.addPass(loom::createLoomFreshEntryResultsPass());
  append(pm, "convert-bufferization-to-memref");
  pm.addNestedPass<func::FuncOp>(loom::createLoomStridedCopyToLinalgPass());
}

/// Host code from loops to the LLVM dialect, with C interfaces on every
/// function. `beforeConversion` runs just before convert-to-llvm (the GPU
/// pipeline's gpu-to-llvm).
static void buildHostLowering(OpPassManager &pm, StringRef beforeConversion) {
  // bf16 arithmetic is done in f32 and every bf16 <-> f32 conversion becomes
  // integer code, and bf16 selects select i16 bit patterns: LLVM would
  // otherwise round through __truncsfbf2, which libgcc before GCC 13 lacks,
  // and compiled modules may need nothing beyond libc and libm.
  // loom-dynamic-expand-shape works around a crash of
  // expand-strided-metadata in MLIR 22 (an expand_shape into several dynamic
  // sizes).
  append(pm, "loom-dynamic-expand-shape,expand-strided-metadata,lower-affine,"
             "convert-scf-to-cf,"
             "arith-emulate-unsupported-floats{source-types=bf16 "
             "target-type=f32},"
             "arith-expand{include-bf16=true}");
  pm.addPass(loom::createLoomBF16SelectAsI16Pass());
  append(pm, "func.func(llvm-request-c-wrappers)");
  if (!beforeConversion.empty())
    append(pm, beforeConversion);
  // Math ops with LLVM intrinsics go first (math.rsqrt would otherwise become
  // a call to rsqrtf, which libm lacks); erf and tanh then become libm calls.
  append(pm, "convert-math-to-llvm,convert-math-to-libm,"
             "convert-to-llvm,reconcile-unrealized-casts");
}

/// The graph-level passes both paths share: the fusion decision
/// (docs/fusion.md).
static void buildGraphPipeline(OpPassManager &pm, bool fuse) {
  if (fuse)
    append(pm, "func.func(loom-fuse)");
}

void loom::buildLoomCPUPipelineStages(const LoomCPUPipelineOptions &options,
                                      OpPassManager &graph,
                                      OpPassManager &host) {
  buildGraphPipeline(graph, options.fuse);
  append(graph, "func.func(loom-tile)");
  // The CPU lowers op by op: the groups' ops take their place again (the
  // program is the same with and without them).
  append(graph, "loom-inline-kernels");
  buildBufferizationPipeline(graph, /*fuseElementwise=*/false);
  append(graph, "func.func(convert-linalg-to-loops),canonicalize");
  if (!options.toLLVM)
    return;
  buildHostLowering(host, "");
}

void loom::buildLoomCPUPipeline(OpPassManager &pm,
                                const LoomCPUPipelineOptions &options) {
  buildLoomCPUPipelineStages(options, pm, pm);
}

std::optional<int> loom::parseGPUChip(StringRef chip) {
  std::string error;
  std::optional<TargetDescription> target =
      TargetDescription::getGPU(chip, "", error);
  if (!target)
    return std::nullopt;
  return target->sm;
}

std::optional<loom::CUDAToolkit> loom::findCUDAToolkit(StringRef path,
                                                       std::string &error) {
  auto at = [](StringRef root) {
    CUDAToolkit toolkit;
    toolkit.root = root.str();
    llvm::SmallString<256> p(root);
    llvm::sys::path::append(p, "bin", "ptxas");
    toolkit.ptxas = p.str().str();
    p = root;
    llvm::sys::path::append(p, "nvvm", "libdevice", "libdevice.10.bc");
    toolkit.libdevice = p.str().str();
    return toolkit;
  };
  // What a chosen toolkit lacks, or "" if it has everything.
  auto lacks = [](const CUDAToolkit &toolkit) -> std::string {
    if (!llvm::sys::fs::can_execute(toolkit.ptxas))
      return toolkit.ptxas;
    if (!llvm::sys::fs::exists(toolkit.libdevice))
      return toolkit.libdevice;
    return "";
  };
  const char *hint = "point --cuda-path (or LOOM_CUDA_PATH) at a CUDA "
                     "toolkit that has bin/ptxas and "
                     "nvvm/libdevice/libdevice.10.bc";
  std::string origin;
  std::string root;
  if (!path.empty()) {
    root = path.str();
    origin = "--cuda-path";
  } else if (const char *env = std::getenv("LOOM_CUDA_PATH"); env && *env) {
    root = env;
    origin = "LOOM_CUDA_PATH";
  }
  if (!root.empty()) {
    CUDAToolkit toolkit = at(root);
    std::string missing = lacks(toolkit);
    if (missing.empty())
      return toolkit;
    error = "the CUDA toolkit at '" + root + "' (from " + origin +
            ") has no " + missing + "; " + hint;
    return std::nullopt;
  }
  if (CUDAToolkit toolkit = at("/usr/local/cuda"); lacks(toolkit).empty())
    return toolkit;
  if (llvm::ErrorOr<std::string> ptxas = llvm::sys::findProgramByName("ptxas")) {
    // <root>/bin/ptxas, through symbolic links (/usr/bin/ptxas ->
    // /opt/cuda/bin/ptxas).
    llvm::SmallString<256> real;
    if (llvm::sys::fs::real_path(*ptxas, real))
      real = *ptxas;
    StringRef bin = llvm::sys::path::parent_path(real);
    CUDAToolkit toolkit = at(llvm::sys::path::parent_path(bin));
    if (lacks(toolkit).empty())
      return toolkit;
    error = "no libdevice beside ptxas (" + *ptxas + "): " +
            toolkit.libdevice + " is missing; " + hint;
    return std::nullopt;
  }
  error = std::string("no CUDA toolkit found (no /usr/local/cuda/bin/ptxas "
                      "and no ptxas on PATH); ") +
          hint;
  return std::nullopt;
}

bool loom::ptxasHasSplitCompile(StringRef ptxas) {
  static std::mutex mutex;
  static llvm::StringMap<bool> known;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = known.find(ptxas);
  if (it != known.end())
    return it->second;
  bool has = false;
  llvm::SmallString<128> help;
  if (!llvm::sys::fs::createTemporaryFile("loom-ptxas-help", "txt", help)) {
    std::optional<StringRef> redirects[] = {std::nullopt, help.str(),
                                            help.str()};
    if (llvm::sys::ExecuteAndWait(ptxas, {ptxas, "--help"}, std::nullopt,
                                  redirects, /*SecondsToWait=*/10) == 0)
      if (llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
              llvm::MemoryBuffer::getFile(help))
        has = (*text)->getBuffer().contains("--split-compile");
    llvm::sys::fs::remove(help);
  }
  known[ptxas] = has;
  return has;
}

LogicalResult loom::buildLoomGPUPipeline(OpPassManager &pm,
                                         const LoomGPUPipelineOptions &options,
                                         std::string &error) {
  return buildLoomGPUPipelineStages(options, pm, pm, pm, pm, error);
}

LogicalResult loom::buildLoomGPUPipelineStages(
    const LoomGPUPipelineOptions &options, OpPassManager &graph,
    OpPassManager &kernels, OpPassManager &host, OpPassManager &binary,
    std::string &error) {
  std::optional<TargetDescription> target =
      TargetDescription::getGPU(options.chip, options.tiles, error);
  if (!target)
    return failure();
  if (options.blockSize < 1 || options.blockSize > 1024) {
    error = "block-size must be in [1, 1024] (got " +
            std::to_string(options.blockSize) + ")";
    return failure();
  }
  if (options.format != "bin" && options.format != "isa") {
    error = "unknown format '" + options.format + "' (expected bin or isa)";
    return failure();
  }
  std::optional<CUDAToolkit> toolkit;
  if (options.toLLVM) {
    toolkit = findCUDAToolkit(options.cudaPath, error);
    if (!toolkit)
      return failure();
  }

  // The target description, parsed once here, is the module's loom.target
  // from now on. Kernels replace attention, GEMM and row ops while they are
  // still ops on tensors; the rest takes the generic path.
  std::string tiles = target->tilesString();
  append(graph, "loom-set-target{chip=" + target->chip +
                 (tiles.empty() ? "" : " tiles=" + tiles) + "}");
  buildGraphPipeline(graph, options.fuse);
  append(graph, "loom-gpu-kernels");
  buildBufferizationPipeline(graph, /*fuseElementwise=*/options.fuse);
  // Parallel loops become launches with a thread per iteration; any other
  // memory access runs in a kernel too, so that the host only manages
  // device buffers. A bufferized scf.forall (kv_cache_write's scatter) is a
  // parallel loop too.
  append(graph, "func.func(scf-forall-to-parallel),"
             "func.func(convert-linalg-to-parallel-loops),"
             "func.func(loom-gpu-map-loops{block-size=" +
                 std::to_string(options.blockSize) +
                 "}),"
                 "func.func(gpu-launch-sink-index-computations),"
                 "gpu-kernel-outlining,loom-gpu-merge-modules,"
                 "loom-gpu-host-memory,canonicalize,cse");
  if (!options.toLLVM)
    return success();

  // One stream per function call, ending with a synchronization: every
  // result is ready when an entry returns (docs/abi.md).
  append(graph, "func.func(gpu-async-region)");
  // PTX ISA 8.0 covers sm_80 to sm_90a (sm_90a needs it); later chips take
  // LLVM's minimum for the chip.
  std::string features = target->ptxFeatures();
  if (!features.empty())
    features = " features=" + features;
  // ptxas compiles the kernels on every core (--split-compile=0): the same
  // machine code per kernel as one thread gives (docs/compile-time.md), in
  // about 60% of the time on 2 cores.
  std::string ptxasOptions;
  if (ptxasHasSplitCompile(toolkit->ptxas))
    ptxasOptions = " ptxas-cmd-options=--split-compile=0";
  append(kernels, "nvvm-attach-target{chip=" + options.chip + features +
                 " O=3 l=" + toolkit->libdevice + ptxasOptions + "}");
  // The kernels: bf16 arithmetic in f32 as on the CPU (one rounding per op,
  // the same numbers on both paths), then NVVM.
  append(kernels, "gpu.module(convert-nvgpu-to-nvvm,loom-dynamic-expand-shape,"
             "expand-strided-metadata,"
             "lower-affine,convert-scf-to-cf,"
             "arith-emulate-unsupported-floats{source-types=bf16 "
             "target-type=f32},"
             "convert-vector-to-llvm,convert-gpu-to-nvvm,convert-nvvm-to-llvm,"
             "canonicalize,cse,"
             "reconcile-unrealized-casts)");
  buildHostLowering(host, "gpu-to-llvm");
  append(binary, "gpu-module-to-binary{format=" + options.format +
                 " toolkit=" + toolkit->root + "}");
  return success();
}

void loom::registerLoomPipelines() {
  PassPipelineRegistration<LoomCPUPipelineOptions>(
      "loom-cpu-pipeline",
      "Lower loom programs for the CPU: linalg, bufferization, loops, LLVM",
      buildLoomCPUPipeline);
  // Registered by hand to report a bad chip or a missing toolkit as the
  // pipeline's error rather than as a failure of some pass later.
  registerPassPipeline(
      "loom-gpu-pipeline",
      "Lower loom programs for NVIDIA GPUs: kernel recipes, linalg, "
      "bufferization, parallel loops on blocks and threads, NVVM, cubin",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        LoomGPUPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        std::string error;
        if (failed(buildLoomGPUPipeline(pm, options, error)))
          return errorHandler("loom-gpu-pipeline: " + error);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(LoomGPUPipelineOptions());
      });
}
