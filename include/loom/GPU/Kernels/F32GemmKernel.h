//===- F32GemmKernel.h - the fused f32 SIMT GEMM kernel ---------*- C++ -*-===//
//
// f32 products have no tensor-core kernel (GemmKernel.h covers bf16, f16,
// integer and fp8 operands). This kernel computes an f32 loom.linear fusion
// group on the CUDA cores (and, with 16-bit operand types, the products that
// no tensor-core kernel takes, such as qlinear with groups that are not a
// multiple of 32):
//
//   Y[m, n] = chain(norm(X)[m, :] . W[n, :] + bias[n])
//
// with an optional rms_norm / layer_norm prologue over X's rows (its full K)
// and the epilogue steps of the tensor-core GEMM (EpilogueStep, Epilogue.h:
// residual add, gating multiply, SiLU, GELU) applied in f32 before the one
// store.
//
// The schedule: blocks of 256 threads, seen as 16 x 16 (tx = tid % 16,
// ty = tid / 16); a block computes a BM x BN tile of Y (BM = BN = 16 * T,
// T in {1, 2, 4}), each thread a T x T register tile of rows ty + 16 i and
// columns tx + 16 j.
// - Norm prologue: the block's 8 warps take its BM rows in turn; a warp sums
//   a row over K (lane-strided loads, shuffle-xor reduction) and writes the
//   row's statistics to shared memory (NormStats.h): rms: inv = rsqrt(sum
//   x^2 / K + eps); layer_norm: mean = sum x / K, r = sum (x - mean) / K,
//   inv = rsqrt(max(sum (x - mean)^2 / K - r^2, 0) + eps) (the corrected
//   two-pass variance of the CPU lowering and the row kernels).
// - Main loop over K in tiles of BK = 16: every thread stages BM * BK / 256
//   elements of X (normalized on the way: (x * inv) * g, or
//   (((x - mean) - r) * inv) * g + b) and BN * BK / 256 of W into shared
//   memory, k-major and padded by one column (conflict-free stores of the
//   k-contiguous global reads); then BK rank-1 updates of the register tile
//   with math.fma. Elements outside M, N or K are staged as zeros.
// - Epilogue: per element inside M x N: + bias[n], the steps, one store.
// A block walks the row tiles y, y + gridDim.y, ... (the grid's y dimension
// is capped at 65535), so any M is covered.
//
// Horizontal siblings (`parts` > 1): products sharing X (and its norm), each
// with its own W, bias and Y; the grid's x dimension covers the sum of the
// parts' column tiles and a block picks its part from its x index (as in the
// tensor-core GEMM). Epilogue steps need parts == 1.
//
// Quantized weights (loom.qlinear with f32 activations): W is i8, or i4
// packed two to a byte along K (byte k / 2, even k in the low nibble, as the
// entry ABI passes it), and is dequantized as it is staged:
// w[n, k] * scale[n] (per channel) or w[n, k] * scale[n, k / group]
// (groups of any size), in f32, as the CPU lowering does.
//
// A gated pair (`gated`, parts == 2: gate then up): a block computes the same
// tile of both products (two W tiles staged per K tile, two register tiles)
// and stores act(gate + bias_0) * (up + bias_1) once (SwiGLU, GeGLU).

#ifndef LOOM_GPU_KERNELS_F32GEMMKERNEL_H
#define LOOM_GPU_KERNELS_F32GEMMKERNEL_H

#include "loom/GPU/Builder/Epilogue.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

struct F32GemmKernelConfig {
  enum class Norm { None, Rms, Layer };
  Norm norm = Norm::None;
  bool bias = false;
  int64_t parts = 1;
  /// The weights' element type: "f32" (loom.linear), "i8" or "i4"
  /// (loom.qlinear).
  std::string weights = "f32";
  /// Element types of X (and the norm's weights), the result, the bias and
  /// the scales: "f32", "bf16" or "f16". Every operand is converted to f32
  /// as it is loaded and the result rounded once at the store. Types other
  /// than f32 take no norm prologue and no epilogue steps (the fallback for
  /// 16-bit products that no tensor-core kernel takes, op by op).
  std::string xType = "f32", yType = "f32", biasType = "f32",
              scaleType = "f32";
  /// Quantized weights: group-wise scales [N, K / group] (the group size a
  /// kernel argument), else per-channel scales [N].
  bool grouped = false;
  /// A gated pair: parts == 2 (gate, up), one result act(gate) * up; `act`
  /// is Silu, Gelu or GeluTanh.
  bool gated = false;
  EpilogueStep::Kind act = EpilogueStep::Kind::Silu;
  std::vector<EpilogueStep> epilogue;
  /// The register tile of a thread is tile x tile; BM = BN = 16 * tile.
  int64_t tile = 4;
  static constexpr int64_t kThreads = 256;
  static constexpr int64_t kBK = 16;
  /// The most blocks a grid may have along y.
  static constexpr int64_t kMaxGridY = 65535;

  int64_t bm() const { return 16 * tile; }
  int64_t bn() const { return 16 * tile; }
  /// A name that encodes every parameter, e.g.
  /// loom_f32gemm_layer_bias_64x64x16_ep_gelu.
  std::string kernelName() const;
  /// Empty when the parameters make a valid kernel, else why not.
  std::string check() const;
};

/// The kernel of `c` (which must pass check()) in `module`'s gpu.module
/// @loom_kernels (built on first use). Arguments, in order (f32 standing for
/// the config's element type of each operand): X
/// memref<?x?xf32>, [norm: g memref<?xf32>, [layer: b memref<?xf32>]], W_0 ..
/// W_{parts-1} memref<?x?xf32> (i8 weights: memref<?x?xi8>, [N, K]; i4:
/// memref<?x?xi8>, [N, K / 2]), [quantized: scale_0 .. memref<?xf32> (per
/// channel) or memref<?x?xf32> (grouped)], [bias_0 .. memref<?xf32>], Y_0 ..
/// memref<?x?xf32> (gated: one Y), one memref<?x?xf32> per tensor step,
/// [norm: eps f32], [grouped: group size index]. K is X's second size.
/// Launched with kThreads x 1 x 1 threads on a (sum of ceil(N_p / bn())) x
/// min(ceil(M / bm()), kMaxGridY) grid (a block takes the row tiles y,
/// y + gridDim.y, ...); static shared memory.
mlir::FailureOr<mlir::SymbolRefAttr>
buildF32GemmKernel(mlir::ModuleOp module, mlir::Location loc,
                   const F32GemmKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_F32GEMMKERNEL_H
