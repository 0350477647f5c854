//===- HopperGemm.h - launching the wgmma GEMM -------------------*- C++ -*-===//

#ifndef LOOM_LIB_CONVERSION_LOOMTOGPU_HOPPERGEMM_H
#define LOOM_LIB_CONVERSION_LOOMTOGPU_HOPPERGEMM_H

#include "Launch.h"
#include "loom/GPU/Kernels/HopperGemmKernel.h"
#include "loom/GPU/Kernels/HopperW4A16Kernel.h"

namespace loom {
namespace gpu {

/// The wgmma GEMM's config for Y [M, N] = X [M, K] W [N, K]^T with these
/// element types ("" bias: none) and epilogue on `target`, or nullopt where
/// it does not apply: a target without wgmma, other element types, or a
/// static K whose rows are not a multiple of 16 bytes (the tensor maps need
/// them; hopperGemmApplies checks a dynamic K at run time). i8 and
/// f8E4M3FN operands (qmatmul) are scaled by xs[m] * w_scale[n].
std::optional<HopperGemmConfig>
hopperGemmConfig(const Target &target, llvm::StringRef abType,
                 llvm::StringRef biasType, llvm::StringRef yType,
                 const std::vector<EpilogueStep> &epilogue, int64_t staticK);

/// The wgmma GEMM's config for W4A16 with the weights dequantized in shared
/// memory (the default until the register kernel is checked on a GPU): loom.qlinear with bf16 x [M, K], i4
/// weights [N, K] as their packed bytes, scales of `scaleType` per column
/// (`group` 0) or in groups of a multiple of 64, or nullopt where it does
/// not apply (no wgmma, x not bf16, a static K not a multiple of 32). Tiles
/// of 128 x 128, or 64 x 128 where static M and N give fewer 128-row tiles
/// than SMs.
std::optional<HopperGemmConfig>
hopperGemmW4A16Config(const Target &target, llvm::StringRef xType,
                  llvm::StringRef scaleType, int64_t group,
                  llvm::StringRef biasType, llvm::StringRef yType,
                  const std::vector<EpilogueStep> &epilogue, int64_t staticM,
                  int64_t staticN, int64_t staticK);

/// The W4A16 kernel's config (HopperW4A16Kernel.h): loom.qlinear with bf16
/// x [M, K], i4 weights [N, K] as their packed bytes, scales of
/// `scaleType` per column (`group` 0) or in groups of a multiple of 64, or
/// nullopt where it does not apply (no wgmma, x not bf16, group scales with
/// an f32 result, a static K not a multiple of 32); one part per entry of
/// `staticNs` (siblings sharing x: no epilogue), or with `gate` a gated
/// pair (two parts, one output of N staticNs[0]). The tile: two consumer
/// warpgroups (128 weight rows) on 128 rows of x, or one consumer on 128 or
/// 64 rows of x where static M and Ns make that less work in the grid's
/// waves; the tile override `w4a16:CxR` (target.w4a16Shape) instead. Where
/// the kernel applies but that tile is invalid (or exceeds shared memory),
/// returns nullopt and says why in `why`.
std::optional<HopperW4A16Config>
hopperW4A16Config(const Target &target, llvm::StringRef xType,
                  llvm::StringRef scaleType, int64_t group,
                  llvm::StringRef biasType, llvm::StringRef yType,
                  const std::vector<EpilogueStep> &epilogue, int64_t staticM,
                  llvm::ArrayRef<int64_t> staticNs, int64_t staticK,
                  std::optional<EpilogueStep::Kind> gate, std::string &why);

/// The tile width for products of M x N_p (static sizes; dynamic ones keep
/// `c.bn`): the BN of {256, 128} whose persistent grid leaves the fewest SM
/// slots idle in its last wave, counting a 128-wide tile as 1.1 times half
/// a 256-wide one (it reads more operand bytes per product). A gated pair
/// keeps its 128.
void chooseHopperTileWidth(HopperGemmConfig &c, const Target &target,
                           int64_t staticM, llvm::ArrayRef<int64_t> staticNs);

/// Launches the kernel of `c` for ys[p] [M, N_p] (buffers, written) =
/// x [M, K] ws[p] [N_p, K]^T (+ biases[p]) (a gated pair: one y from both
/// ws) with the epilogue's tensor operands: tensor maps of x and each w
/// encoded on the host (calls of the runtime's loomCudaTensorMap2D, which
/// caches them), a persistent grid of min(tiles, SMs) CTAs. `x` and the ws are
/// identity-layout buffers with a unit inner stride; `ns` are the N_p.
mlir::LogicalResult
launchHopperGemm(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                 const Target &target, const HopperGemmConfig &c, mlir::Value x,
                 mlir::ValueRange ws, mlir::ValueRange ys,
                 mlir::ValueRange scales, mlir::ValueRange biases,
                 mlir::ValueRange epilogueTensors, mlir::Value m,
                 mlir::ValueRange ns, mlir::Value k);

/// The run-time condition under which the kernel's tensor maps can describe
/// the operands: rows of K elements a multiple of 16 bytes (packed i4 B: K a
/// multiple of 32) and every buffer 16-byte aligned.
mlir::Value hopperGemmApplies(mlir::OpBuilder &b, mlir::Location loc,
                              const HopperGemmConfig &c, mlir::Value k,
                              mlir::ValueRange buffers);

/// Launches the W4A16 kernel of `c` for ys[p] [M, N_p] (buffers, written) =
/// x [M, K] dequant(ws[p])^T (each w the packed bytes [N_p, K/2]; a gated
/// pair: one y from both ws, `ns` its one N) with
/// `scales`, `biases` (one per part, or none) and the epilogue's tensors:
/// the tensor maps of each w and of x (loomCudaTensorMap2D, cached), a
/// persistent grid of min(tiles, SMs).
mlir::LogicalResult
launchHopperW4A16(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                  const Target &target, const HopperW4A16Config &c,
                  mlir::Value x, mlir::ValueRange ws, mlir::ValueRange ys,
                  mlir::ValueRange scales, mlir::ValueRange biases,
                  mlir::ValueRange epilogueTensors, mlir::Value m,
                  mlir::ValueRange ns, mlir::Value k);

/// The run-time condition under which the W4A16 kernel's tensor maps can
/// describe x and the ws (`buffers`): K a multiple of 32, every buffer
/// 16-byte aligned.
mlir::Value hopperW4A16Applies(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value k, mlir::ValueRange buffers);

} // namespace gpu
} // namespace loom

#endif // LOOM_LIB_CONVERSION_LOOMTOGPU_HOPPERGEMM_H
