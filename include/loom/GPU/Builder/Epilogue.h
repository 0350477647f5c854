//===- Epilogue.h - elementwise epilogues fused into kernels -----*- C++ -*-===//
//
// The elementwise steps a fusion group applies after a product (docs/
// fusion.md: SiLU, GELU, a residual add, a gating multiply), in f32, before
// the result's one rounding. The step list is part of a kernel's config (no
// MLIR in it); the functions below build it into any kernel's store loop.

#ifndef LOOM_GPU_BUILDER_EPILOGUE_H
#define LOOM_GPU_BUILDER_EPILOGUE_H

#include "loom/GPU/Builder/KernelBuilder.h"

#include <string>
#include <array>
#include <vector>

namespace loom {
namespace gpu {

/// An elementwise step of a fused epilogue, applied in f32 to the product
/// (after scales and bias, before the rounding to the result's type).
struct EpilogueStep {
  enum class Kind {
    /// + E[m, n], an [M, N] tensor argument (the residual add).
    AddTensor,
    /// * E[m, n], an [M, N] tensor argument.
    MulTensor,
    /// x * sigmoid(x).
    Silu,
    /// 0.5 x (1 + erf(x / sqrt(2))).
    Gelu,
    /// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
    GeluTanh,
  };
  Kind kind;
  /// The element type of E ("bf16", "f16", "f32") for the tensor steps.
  std::string tensorType;

  bool takesTensor() const {
    return kind == Kind::AddTensor || kind == Kind::MulTensor;
  }
};

/// The kernel-name suffix of an epilogue (`_ep_addbf16_silu` and the like;
/// empty without steps).
std::string epilogueSuffix(const std::vector<EpilogueStep> &epilogue);

/// Appends the epilogue's tensor arguments (memref<?x?xE>, one per tensor
/// step, in order) to `arguments`; returns, per step, the index of its
/// argument in `arguments` (-1 for the steps without one).
std::vector<int> appendEpilogueArguments(
    mlir::MLIRContext *ctx, const std::vector<EpilogueStep> &epilogue,
    llvm::SmallVectorImpl<mlir::Type> &arguments);

/// `step` applied to the f32 value `v`; `operand` is the f32 value of
/// E[m, n] for the tensor steps (unused otherwise).
mlir::Value applyEpilogueStep(KernelBuilder &b, const EpilogueStep &step,
                              mlir::Value v, mlir::Value operand = {});

/// The steps of `epilogue` applied to the f32 value `v` of the result at
/// [row, col], each tensor step's operand loaded from the kernel argument
/// `argumentIndex[i]` (as appendEpilogueArguments returned it) at
/// [row, col].
mlir::Value applyEpilogue(KernelBuilder &b,
                          const std::vector<EpilogueStep> &epilogue,
                          const std::vector<int> &argumentIndex, mlir::Value v,
                          mlir::Value row, mlir::Value col);

/// applyEpilogue on the two adjacent results `v[0]` at [row, col] and
/// `v[1]` at [row, col + 1], each tensor step's two operands read with one
/// vector load: the caller guarantees both columns are inside the tensors
/// and the pair is aligned to its size (col even, the rows an even number
/// of elements and the base aligned; epilogueTensorsAligned checks the
/// base).
std::array<mlir::Value, 2>
applyEpiloguePair(KernelBuilder &b, const std::vector<EpilogueStep> &epilogue,
                  const std::vector<int> &argumentIndex,
                  std::array<mlir::Value, 2> v, mlir::Value row,
                  mlir::Value col);

/// True (i1) where the base of every tensor operand of `epilogue` is aligned
/// to two of its elements (the pairs of applyEpiloguePair).
mlir::Value epilogueTensorsAligned(KernelBuilder &b,
                                   const std::vector<EpilogueStep> &epilogue,
                                   const std::vector<int> &argumentIndex);

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_EPILOGUE_H
