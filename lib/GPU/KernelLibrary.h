//===- KernelLibrary.h - instantiating Loom's kernel recipes -----*- C++ -*-===//
//
// Kernel recipes are written as MLIR text (a gpu.module holding gpu.funcs in
// the gpu, nvgpu, nvvm, vector, memref, scf and arith dialects) with ${KEY}
// placeholders for what is fixed at compile time (element types, tile sizes,
// head dimension). loom-gpu-kernels instantiates the recipes an op needs
// into the module's `gpu.module @loom_kernels` and replaces the op, at tensor
// level, by a launch of the instantiated kernel.

#ifndef LOOM_LIB_GPU_KERNELLIBRARY_H
#define LOOM_LIB_GPU_KERNELLIBRARY_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <utility>

namespace loom {
namespace gpu {

/// What the kernels are generated for.
struct Target {
  std::string chip; // "sm_90a", "sm_80", ...
  int sm = 90;      // compute capability times ten
  /// Shared memory a block may use (bytes) once the kernel's dynamic limit is
  /// raised (the runtime raises it at launch when a kernel asks for more than
  /// 48 KiB).
  int64_t sharedMemoryBytes = 227 * 1024;

  /// "sm_90a" -> {sm 90, 227 KiB}, "sm_80" -> {sm 80, 163 KiB}, other
  /// "sm_NN[a]" with NN >= 80 accepted as generic; anything else fails.
  static mlir::FailureOr<Target> parse(llvm::StringRef chip);
};

/// Returns `text` with every `${KEY}` replaced by its value. A placeholder
/// left without a value is an internal error (returned as failure with the
/// key in `missing`).
mlir::FailureOr<std::string>
substitute(llvm::StringRef text,
           llvm::ArrayRef<std::pair<llvm::StringRef, std::string>> values,
           std::string &missing);

/// Instantiates the gpu.func `name` from `templateText` (the text of one
/// gpu.module, after substitution) into `gpu.module @loom_kernels` of
/// `module`, creating that module and marking `module` as a
/// gpu.container_module on first use. A kernel of that name already present
/// is reused (names must encode every substituted value). Returns
/// @loom_kernels::@name; on a malformed recipe (an internal error) emits a
/// diagnostic at `loc` and fails.
mlir::FailureOr<mlir::SymbolRefAttr> instantiateKernel(
    mlir::ModuleOp module, mlir::Location loc, llvm::StringRef name,
    llvm::StringRef templateText,
    llvm::ArrayRef<std::pair<llvm::StringRef, std::string>> substitutions);

/// A read-only buffer of `tensor` (bufferization.to_buffer), cast to the
/// fully dynamic identity-layout type memref<?x...?xT> when `dynamic`.
mlir::Value bufferOf(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::Value tensor, bool dynamic = true);

/// A fresh buffer for a result of `type` (memref.alloc), its dynamic sizes
/// taken from `dynamicSizes` in order.
mlir::Value allocBuffer(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        mlir::ValueRange dynamicSizes);

/// `buffer` cast to the fully dynamic identity-layout type.
mlir::Value dynamicBuffer(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value buffer);

/// The tensor of a buffer written by a kernel (bufferization.to_tensor
/// restrict writable), of `type`.
mlir::Value tensorOf(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::Value buffer, mlir::RankedTensorType type);

/// Ceiling division of index values, `(a + d - 1) / d`.
mlir::Value ceilDiv(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a,
                    int64_t d);

/// A size of `tensor` as an index value (a constant where static).
mlir::Value dim(mlir::OpBuilder &b, mlir::Location loc, mlir::Value tensor,
                int64_t d);

/// An index constant.
mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// Launches `kernel` with `args` on a grid (max(batch * heads, 1),
/// max(ceil(rows / rowsPerBlock), 1), 1) of blocks of `threads` threads with
/// `sharedMemoryBytes` of dynamic shared memory, replaces the result of `op`
/// by the tensor of `out` (written by the kernel) and erases `op`.
void launchPerHead(mlir::OpBuilder &b, mlir::Location loc, mlir::Operation *op,
                   mlir::SymbolRefAttr kernel, mlir::Value batch,
                   mlir::Value heads, mlir::Value rows, int64_t rowsPerBlock,
                   int64_t threads, int64_t sharedMemoryBytes,
                   mlir::ValueRange args, mlir::Value out);

} // namespace gpu

/// The kernel rewrites that loom-gpu-kernels runs, in this order. Each
/// replaces the ops it has a recipe for and leaves the others alone; failure
/// means an internal error, already diagnosed.
mlir::LogicalResult rewriteAttentionOps(mlir::ModuleOp module,
                                        const gpu::Target &target);
mlir::LogicalResult rewriteLinearAttentionOps(mlir::ModuleOp module,
                                              const gpu::Target &target);
mlir::LogicalResult rewriteGemmOps(mlir::ModuleOp module,
                                   const gpu::Target &target);
mlir::LogicalResult rewriteRowOps(mlir::ModuleOp module,
                                  const gpu::Target &target);

} // namespace loom

#endif // LOOM_LIB_GPU_KERNELLIBRARY_H
