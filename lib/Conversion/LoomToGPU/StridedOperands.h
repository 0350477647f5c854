//===- StridedOperands.h - fused operands as strided views -------*- C++ -*-===//
//
// What the fused kernels (attention, select_blocks, linear attention) share
// to read a
// [B, H, S, D] operand straight from a fusion group's [S, H*D] buffer (the
// chain of layout changes, expand_shape and a transpose keeping D
// innermost, and the RoPE that compute the operand, and the operand as a
// strided memref view of the buffer, no copy), and to write the result the
// same way.

#ifndef LOOM_LIB_CONVERSION_LOOMTOGPU_STRIDEDOPERANDS_H
#define LOOM_LIB_CONVERSION_LOOMTOGPU_STRIDEDOPERANDS_H

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace loom {
namespace gpu {

/// How a fusion group computes an operand from one of its buffers: base,
/// then an optional expand_shape, an optional transpose that keeps D
/// innermost and an optional RoPE, each read only by the next. All static
/// (dynamic sizes take the op-by-op path).
struct OperandChain {
  mlir::Value base;
  mlir::tensor::ExpandShapeOp expand;
  mlir::linalg::TransposeOp transpose;
  loom::RopeOp rope;
};

/// Whether `v` is a ranked tensor of static shape.
bool isStatic(mlir::Value v);

/// The chain that computes `v` (its RoPE only when `allowRope`), or nothing
/// when `v` or its base is not static or a transpose moves D.
std::optional<OperandChain> traceOperand(mlir::Value v, bool allowRope);

/// The kernels' type for a fused [B, H, S, D] operand of type `t`:
/// memref<?x?x?x?xT, strided<[?, ?, ?, 1], offset: ?>>.
mlir::MemRefType stridedType(mlir::RankedTensorType t);

/// The operand as a strided view of its base buffer: the chain's layout
/// changes applied to memrefs (no copy). The RoPE, if any, is left to the
/// kernel.
mlir::Value viewOf(mlir::OpBuilder &b, mlir::Location loc, OperandChain ch);

/// The layout changes of a fused op's [B, H, S, D] result, each read only by
/// the next: an optional transpose (D innermost) and an optional
/// collapse_shape after it; `last` is the last of them (or the op).
struct ResultChain {
  mlir::linalg::TransposeOp transpose;
  mlir::tensor::CollapseShapeOp collapse;
  mlir::Operation *last = nullptr;
};

/// The result chain of `op` (its result static), or nothing.
std::optional<ResultChain> traceResult(mlir::Operation *op);

/// The view of the group's result buffer `out` that the kernel writes as
/// [B, H, S, D]: the result chain undone on memrefs.
mlir::Value outputView(mlir::OpBuilder &b, mlir::Location loc, mlir::Value out,
                       ResultChain ch);

/// Erases what a launch that replaced `o.last` left dead: `op` and the
/// transpose of its result chain, and the RoPE, transpose and expand_shape
/// of each operand chain, where nothing reads them any more.
void eraseFusedChains(mlir::Operation *op, ResultChain o,
                      llvm::ArrayRef<OperandChain> operands);

} // namespace gpu
} // namespace loom

#endif // LOOM_LIB_CONVERSION_LOOMTOGPU_STRIDEDOPERANDS_H
