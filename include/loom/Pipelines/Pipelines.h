//===- Pipelines.h - Loom's named pass pipelines ------------------*- C++ -*-===//

#ifndef LOOM_PIPELINES_PIPELINES_H
#define LOOM_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace loom {

/// Options of --loom-cpu-pipeline.
struct LoomCPUPipelineOptions
    : public mlir::PassPipelineOptions<LoomCPUPipelineOptions> {
  Option<bool> toLLVM{*this, "to-llvm",
                      llvm::cl::desc("Lower to the LLVM dialect (false: stop "
                                     "after bufferization at scf loops)"),
                      llvm::cl::init(true)};
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("Form fusion groups (loom-fuse); false: "
                                   "every op is lowered on its own, to "
                                   "compare with"),
                    llvm::cl::init(true)};
};

/// loom ops -> linalg on tensors -> one-shot bufferization -> loops -> LLVM
/// dialect, with C interfaces (`_mlir_ciface_<name>`) on every function.
/// Upstream tensor, linalg and arith ops beside loom ops go the same way.
/// Public functions return fresh allocations that the caller frees, and the
/// result needs only libc and libm (docs/abi.md).
void buildLoomCPUPipeline(mlir::OpPassManager &pm,
                          const LoomCPUPipelineOptions &options);

/// buildLoomCPUPipeline in two pass managers, for callers that time them
/// (loom::compileModule): `graph` takes everything up to loops on buffers,
/// `host` (with `to-llvm`) the lowering to the LLVM dialect. Running `graph`
/// then `host` is the same as running the whole pipeline.
void buildLoomCPUPipelineStages(const LoomCPUPipelineOptions &options,
                                mlir::OpPassManager &graph,
                                mlir::OpPassManager &host);

/// Options of --loom-gpu-pipeline.
struct LoomGPUPipelineOptions
    : public mlir::PassPipelineOptions<LoomGPUPipelineOptions> {
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("The GPU: sm_NN or sm_NNa with NN >= 80 (sm_90a, sm_80, "
                     "...)"),
      llvm::cl::init("sm_90a")};
  Option<std::string> tiles{
      *this, "tiles",
      llvm::cl::desc("Tile sizes that replace the chip's own choice: a "
                     "comma-separated list of attention:QxKV, "
                     "gemm:MxNxK[xSTAGES], rows:THREADS, "
                     "gemv:WARPSxTILESxUNROLL[xDEPTH] and "
                     "w4a16:registers|shared|CxR (docs/Design.md, 'The target "
                     "description'); empty: the chip's"),
      llvm::cl::init("")};
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("Form fusion groups (loom-fuse) and give "
                                   "them to the fused recipes; false: every "
                                   "op is lowered on its own, to compare with"),
                    llvm::cl::init(true)};
  Option<bool> toLLVM{
      *this, "to-llvm",
      llvm::cl::desc("Lower to the LLVM dialect with the kernels compiled "
                     "(false: stop after kernel outlining, with host "
                     "functions launching gpu.func kernels)"),
      llvm::cl::init(true)};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("The CUDA toolkit (ptxas, nvvm/libdevice); empty: "
                     "$LOOM_CUDA_PATH, else /usr/local/cuda, else the "
                     "toolkit of ptxas on PATH"),
      llvm::cl::init("")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu-module-to-binary embeds: bin (a cubin, "
                     "assembled by ptxas) or isa (the PTX text)"),
      llvm::cl::init("bin")};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the kernels made from parallel "
                     "loops"),
      llvm::cl::init(256)};
};

/// The parts of a CUDA toolkit the GPU pipeline uses.
struct CUDAToolkit {
  std::string root;      // the toolkit directory
  std::string ptxas;     // <root>/bin/ptxas
  std::string libdevice; // <root>/nvvm/libdevice/libdevice.10.bc
};

/// True if `ptxas` takes `--split-compile` (it compiles the kernels of one
/// PTX file on several threads; CUDA 12.x and later): asks `ptxas --help`
/// once per path and process.
bool ptxasHasSplitCompile(llvm::StringRef ptxas);

/// Finds the CUDA toolkit at `path` if it is not empty, else at
/// $LOOM_CUDA_PATH, else at /usr/local/cuda, else as the parent of the
/// directory of `ptxas` on PATH. On failure returns nullopt with `error`
/// naming what is missing and how to point at it (one line).
std::optional<CUDAToolkit> findCUDAToolkit(llvm::StringRef path,
                                           std::string &error);

/// The compute capability of `chip` times ten ("sm_90a" -> 90), or nullopt
/// if it is not sm_NN or sm_NNa with NN >= 80 (the chips Loom supports;
/// TargetDescription::getGPU decides).
std::optional<int> parseGPUChip(llvm::StringRef chip);

/// The front half of --loom-cpu-pipeline, then loom-gpu-kernels at tensor
/// level, then bufferization, parallel loops mapped onto blocks and threads
/// (loom-gpu-map-loops), kernel outlining into one gpu.module
/// (loom-gpu-merge-modules), device buffers on the host
/// (loom-gpu-host-memory); with `to-llvm`, an async region per function,
/// NVVM lowering of the kernels, gpu-to-llvm and the CPU pipeline's host
/// lowering, and gpu-module-to-binary. The result is an LLVM-dialect module
/// whose functions take and return device memref descriptors and call the
/// runtime's mgpu* functions, with the kernels embedded in a gpu.binary.
/// Fails, with a one-line `error` and nothing added to `pm`, on an unknown
/// chip, a malformed `tiles` list, a block size outside [1, 1024], an
/// unknown format, or (with `to-llvm`, which needs it) a CUDA toolkit that
/// cannot be found. (Tiles that are well formed but that a recipe cannot
/// build are errors at the ops, from loom-gpu-kernels.)
mlir::LogicalResult buildLoomGPUPipeline(mlir::OpPassManager &pm,
                                         const LoomGPUPipelineOptions &options,
                                         std::string &error);

/// buildLoomGPUPipeline in four pass managers, for callers that time or
/// reorder them (loom::compileModule): `graph` up to the kernels outlined
/// and the async regions; `kernels` (with `to-llvm`) the NVVM target and
/// the kernels' lowering to the LLVM dialect; `host` the host code's;
/// `binary` gpu-module-to-binary (NVPTX and ptxas). Running them in this
/// order is the same as running the whole pipeline; `binary` may also run
/// before `host`, which does not touch the lowered kernels.
mlir::LogicalResult buildLoomGPUPipelineStages(
    const LoomGPUPipelineOptions &options, mlir::OpPassManager &graph,
    mlir::OpPassManager &kernels, mlir::OpPassManager &host,
    mlir::OpPassManager &binary, std::string &error);

/// Registers --loom-cpu-pipeline and --loom-gpu-pipeline.
void registerLoomPipelines();

} // namespace loom

#endif // LOOM_PIPELINES_PIPELINES_H
