//===- GemmKernel.h - Loom's tensor-core GEMM kernels ------------*- C++ -*-===//
//
// One kernel schedule covers every product loom-gpu-kernels gives to the
// tensor cores: Y[M, N] = epilogue(sum_k A[m, k] * B[n, k]) with A and B both
// K-major (B holds out-features first, as `w` does), so the product maps onto
// mma.sync's row.col form without a transpose.
//
// The schedule (see lib/GPU/Kernels/GemmKernel.cpp for the details):
// - a block computes a BM x BN tile of Y with WARPS_M x WARPS_N warps, each a
//   (BM / WARPS_M) x (BN / WARPS_N) sub-tile as m16 x n8 mma.sync fragments;
// - K is walked in tiles of BK, staged through shared memory (dynamic shared
//   memory; rows padded by 16 bytes so that ldmatrix is free of bank
//   conflicts) by STAGES-deep cp.async pipelines (16-byte copies that zero-fill
//   what lies outside the operands), or, when a row of an operand is not
//   16-byte aligned, by guarded element loads into the same tiles;
// - fragments come from shared memory through ldmatrix; integer weights
//   (qlinear) are converted to bf16/f16 in registers, fp8 operands to f16 in
//   registers (both exact), and go to the f32-accumulating mma;
// - the epilogue applies scales and bias in f32, rounds once to Y's element
//   type and stores with a bounds check per element.
//
// The kernel is built op by op for each config (its fragment loops
// unrolled, its accumulators carried through the K loops as values), since
// its code depends on the tile shape: a config struct, and the function that
// builds its gpu.func.

#ifndef LOOM_GPU_KERNELS_GEMMKERNEL_H
#define LOOM_GPU_KERNELS_GEMMKERNEL_H

#include "loom/GPU/Builder/Epilogue.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom {
namespace gpu {

/// What a GEMM kernel computes.
enum class GemmKind {
  /// loom.linear: A, B bf16/f16; Y = acc + bias[n].
  Linear,
  /// loom.qlinear: A bf16/f16, B i8 or i4 (two per byte, even k in the low
  /// nibble); Y = acc * scale[n] + bias[n] (per channel), or with the scale of
  /// group k / G applied to the f32 partial sums of every group.
  QLinear,
  /// loom.qmatmul: A, B both i8 (i32 accumulation) or both f8E4M3FN;
  /// Y = acc * xs[m] * w_scale[n] + bias[n].
  QMatmul,
};

struct GemmKernelConfig {
  GemmKind kind = GemmKind::Linear;
  /// MLIR element types: A ("bf16", "f16", "i8", "f8E4M3FN"), B (the same, or
  /// "i8"/"i4" for qlinear), scales ("f32", "bf16", "f16"), bias ("" when
  /// absent) and Y ("f32", "bf16", "f16").
  std::string aType, bType, scaleType = "f32", biasType, yType;
  /// qlinear: 0 (per channel) or the group size (a multiple of BK).
  int64_t group = 0;
  /// Horizontal fusion: products that share A, computed by one launch. With
  /// parts > 1 the kernel takes `parts` of each of B, the scales, the bias
  /// and Y (B_0 .. B_{parts-1}, then the scales, ...), each part its own N;
  /// the grid's x dimension covers the sum of the parts' column tiles, and
  /// a block picks its part from its x index.
  int64_t parts = 1;
  /// Gated product (SwiGLU, GeGLU; needs parts == 2): a block computes the
  /// same tile of both parts, the gate P_0 and the up projection P_1 (each
  /// with its scales and bias), and stores gate(P_0) * P_1 in f32 before the
  /// epilogue, into one Y; the grid covers one part's column tiles. The
  /// activation is Silu, Gelu or GeluTanh.
  std::optional<EpilogueStep::Kind> gate;
  /// Applied to the product before it is stored, in order; every tensor
  /// step adds an argument after Y.
  std::vector<EpilogueStep> epilogue;
  /// The tile shape.
  int64_t bm = 128, bn = 128, bk = 32, warpsM = 2, warpsN = 4, stages = 4;

  /// A name that encodes every parameter, e.g.
  /// loom_gemm_linear_bf16_bf16_nobias_bf16_128x128x32_w2x4_s4.
  std::string kernelName() const;
  int64_t threads() const { return 32 * warpsM * warpsN; }
  /// Dynamic shared memory of a block, in bytes.
  int64_t sharedBytes() const;
  /// Empty when the parameters make a valid kernel, else why not.
  std::string check() const;
};

/// The kernel of `c` (which must check()) in `module`'s gpu.module
/// @loom_kernels (built on first use). Its arguments are, in order:
/// A memref<?x?xA>, [QMatmul: xs memref<?xf32>], B memref<?x?xB> (i4:
/// memref<?x?xi8>, K/2 bytes per row), [QLinear: scale memref<?xS> or
/// memref<?x?xS>; QMatmul: w_scale memref<?xf32>], [bias memref<?xBias>],
/// Y memref<?x?xY>, then one memref<?x?xE> per tensor step of the epilogue
/// (with parts: each of B, the scales, the bias and Y once per part in turn;
/// a gated product has one Y). It is launched with threads() x 1 x 1
/// threads, a ceil(N / bn) x ceil(M / bm) grid and sharedBytes() of dynamic
/// shared memory.
mlir::FailureOr<mlir::SymbolRefAttr>
buildGemmKernel(mlir::ModuleOp module, mlir::Location loc,
                const GemmKernelConfig &c);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_KERNELS_GEMMKERNEL_H
