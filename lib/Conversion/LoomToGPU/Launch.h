//===- Launch.h - what the op-to-kernel rewrites share ------------*- C++ -*-===//
//
// loom-gpu-kernels replaces ops (and fusion groups), at tensor level, by
// launches of kernels that lib/GPU/Kernels builds into the module's
// `gpu.module @loom_kernels`: buffers of the operands (to_buffer), a fresh
// buffer for the result, the gpu.launch_func, and the result's tensor. The
// helpers for those steps, and the rewrites' entry points, are here.

#ifndef LOOM_LIB_CONVERSION_LOOMTOGPU_LAUNCH_H
#define LOOM_LIB_CONVERSION_LOOMTOGPU_LAUNCH_H

#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/Target/TargetDescription.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <utility>
#include <vector>

namespace loom {
namespace gpu {

/// What the kernels are generated for: the target description of a GPU
/// (its chip, the shared memory a block may use once the kernel's dynamic
/// limit is raised, which the runtime does at launch for a kernel that asks
/// for more than 48 KiB, and the tiles that `tiles` asks for).
using Target = loom::TargetDescription;

/// Checks a tile that the target description asks for (`tile`, as written
/// in `tiles`) for `op`: a non-empty `why` (the kernel cannot build the
/// tile) or `sharedMemoryBytes` beyond the chip's is an error at `op`.
mlir::LogicalResult checkTile(mlir::Operation *op, const Target &target,
                              llvm::StringRef tile, llvm::StringRef why,
                              int64_t sharedMemoryBytes);

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

/// x [..., C] as [rows, C]: its leading dims collapsed (rank 1: [1, C]).
mlir::Value collapseRows(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// y [rows, N] back to `type`: the leading dims of `like` (what
/// collapseRows took them from), then N (rank 1: [N]).
mlir::Value expandRows(mlir::OpBuilder &b, mlir::Location loc, mlir::Value y,
                       mlir::Value like, mlir::RankedTensorType type);

/// Replaces loom.linear (f32) or loom.qlinear (f32, bf16 or f16
/// activations; i8 or i4 weights; any group size) `op` by a launch of the
/// f32 SIMT GEMM (F32GemmKernel.h): the products no tensor-core kernel
/// takes, op by op. False (nothing changed) for anything else.
mlir::FailureOr<bool> rewriteSimtGemm(mlir::Operation *op,
                                      const Target &target);
/// The packed [N, K/2] x i8 bytes behind an i4 weight, when the weight is
/// the unpacking that loom-pack-i4-abi put after an entry argument; null
/// otherwise.
mlir::Value packedI4Source(mlir::Value w);
/// An index constant.
mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// Launches `kernel` with `args` on a grid (max(batch * heads, 1),
/// max(ceil(rows / rowsPerBlock), 1), 1) of blocks of `threads` threads with
/// `sharedMemoryBytes` of dynamic shared memory, replaces the result of `op`
/// by the tensor of `out` (written by the kernel), its further results (if
/// any) by the tensors of `moreOuts`, and erases `op`.
void launchPerHead(mlir::OpBuilder &b, mlir::Location loc, mlir::Operation *op,
                   mlir::SymbolRefAttr kernel, mlir::Value batch,
                   mlir::Value heads, mlir::Value rows, int64_t rowsPerBlock,
                   int64_t threads, int64_t sharedMemoryBytes,
                   mlir::ValueRange args, mlir::Value out,
                   mlir::ValueRange moreOuts = {});
/// A call of the runtime's tensor-map encoder `name` (loomCudaTensorMap2D
/// or loomCudaTensorMap4D, DeviceAPI.h) with `operands`, index or i64 values
/// (index ones are cast), returning the device pointer to the map; the
/// encoder is declared in `module` on first use (as an llvm.func: a
/// func.func would get a C-interface wrapper name from the host lowering).
mlir::Value callTensorMapEncoder(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::ModuleOp module, llvm::StringRef name,
                                 mlir::ValueRange operands);

/// launchPerHead's two halves: the launch alone (e.g. one of two kernels
/// chosen at run time), and the replacement of `op`.
void launchPerHeadGrid(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::SymbolRefAttr kernel, mlir::Value batch,
                       mlir::Value heads, mlir::Value rows,
                       int64_t rowsPerBlock, int64_t threads,
                       int64_t sharedMemoryBytes, mlir::ValueRange args);
void replaceByOutputs(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Operation *op, mlir::Value out,
                      mlir::ValueRange moreOuts = {});

/// Replaces the GEMM op `gemm` and the elementwise ops `chain` after it
/// (each the only reader of the value before it: SiLU, GELU, or an add or
/// multiply with a tensor of the result's shape) by one launch of the GEMM
/// kernel (the GEMV kernel for decode-sized M) with a fused epilogue; a
/// linear's leading batch dims ([..., N]) are collapsed into M, the
/// epilogue's tensors with them. False (nothing changed) when no kernel
/// covers them: a GEMM without a tensor-core kernel, a result of rank 1,
/// or a chain op of another kind.
mlir::FailureOr<bool> rewriteGemmWithEpilogue(mlir::Operation *gemm,
                                              llvm::ArrayRef<mlir::Operation *> chain,
                                              const Target &target);

/// The elementwise chain after the GEMM in `ops` (a fusion group's body
/// without its terminator `yield`) when the body is exactly a GEMM
/// (loom.linear, qlinear, qmatmul), then ops each reading the previous
/// result and otherwise only the group's inputs, the last one yielded;
/// nothing otherwise.
std::optional<llvm::SmallVector<mlir::Operation *>>
epilogueChain(llvm::ArrayRef<mlir::Operation *> ops, loom::YieldOp yield);

/// The kernels' name of an element type ("bf16", "f16", "f32", "i8", "i4",
/// "f8E4M3FN"), or "" for a type no kernel takes.
std::string elementTypeName(mlir::Type type);

/// Replaces the attention op `op` (loom.attention or
/// loom.block_sparse_attention) of an inlined fusion group, with the RoPE
/// and layout changes that compute its q, k and v from the group's buffers
/// and the layout changes of its result, by one launch of the attention
/// kernel that reads and writes those buffers through strided views and
/// rotates q and k in shared memory. False (nothing changed) when the
/// kernel does not cover them (shapes must be static).
mlir::FailureOr<bool> rewriteAttentionGroup(mlir::Operation *op,
                                            const Target &target);

/// Replaces loom.attention `op` with few query rows per kv head (decode:
/// Sq <= 4 and (Hq / Hkv) * Sq <= 16, static) by the split-KV decode kernels
/// (DecodeAttentionKernel.h): the keys split across CTAs to fill the GPU,
/// each GQA group's rows in one tile, the splits combined by a second
/// launch. False (nothing changed) when they do not cover it.
mlir::FailureOr<bool> rewriteDecodeAttention(mlir::Operation *op,
                                             const Target &target);
/// Whether rewriteDecodeAttention would replace `op`.
bool decodeAttentionApplies(mlir::Operation *op, const Target &target);

/// Replaces loom.attention `op`, of any query length, by the split-KV
/// decode kernels in their chunked form (a fused SIMT kernel for f32,
/// which the tensor-core kernels do not take). False when they do not
/// cover it.
mlir::FailureOr<bool> rewriteChunkedAttention(loom::AttentionOp op,
                                              const Target &target);

/// Replaces loom.paged_attention `op` by the split-KV decode kernels in
/// their paged form (DecodeAttentionKernel.h): a CTA per (token, kv head,
/// split), its rows the token's GQA group, its keys those of the token's
/// sequence through the block table. False when they do not cover it
/// (element type, head dims, a dynamic page size, Dv != D, more than 16
/// query heads a kv head).
mlir::FailureOr<bool> rewritePagedAttention(loom::PagedAttentionOp op,
                                            const Target &target);

/// The same for loom.linear_attention `op` of an inlined fusion group: its
/// q, k, v and result read and written in place through strided views of
/// the group's buffers (no RoPE). False when the kernel does not cover
/// them (shapes must be static).
mlir::FailureOr<bool> rewriteLinearAttentionGroup(mlir::Operation *op,
                                                  const Target &target);

/// The gating of a gate/up pair that its launch computes too (SwiGLU,
/// GeGLU): `mul` = `act`(gate) * up, with `act` a loom.silu or loom.gelu.
struct GemmGating {
  mlir::Operation *act = nullptr, *mul = nullptr;
};

/// Replaces the GEMM ops `gemms` (the same op with the same configuration,
/// reading the same input; horizontal siblings such as QKV) by one launch
/// that computes every product. With `gating` (two GEMMs, the gate first,
/// each read only by the gating), the launch computes `gating->mul` instead
/// and replaces it. M must be static and > 16 (a linear's leading batch
/// dims collapsed into it). False (nothing changed) when no kernel covers
/// them together (as above, and the parts must share one kernel: all with
/// a bias or none, the same types).
mlir::FailureOr<bool> rewriteGemmSiblings(llvm::ArrayRef<mlir::Operation *> gemms,
                                          const Target &target,
                                          const GemmGating *gating = nullptr);

/// loom.attention's window and sink attributes as the attention kernels'
/// configs take them: the windows (empty, the one `window = W`, or one per
/// query head), the sink (0 without a window, where it means nothing) and
/// whether sink logits are given.
struct AttentionMasks {
  std::vector<int64_t> windows;
  int64_t sink = 0;
  bool sinkLogits = false;
};
AttentionMasks attentionMasksOf(loom::AttentionOp op);
AttentionMasks attentionMasksOf(loom::PagedAttentionOp op);

} // namespace gpu

/// The kernel rewrites that loom-gpu-kernels runs, in this order. Each
/// replaces the ops it has a kernel for and leaves the others alone; failure
/// means an internal error, already diagnosed.
mlir::LogicalResult rewriteAttentionOps(mlir::ModuleOp module,
                                        const gpu::Target &target);
mlir::LogicalResult rewriteLinearAttentionOps(mlir::ModuleOp module,
                                              const gpu::Target &target);
mlir::LogicalResult rewriteGemmOps(mlir::ModuleOp module,
                                   const gpu::Target &target);
mlir::LogicalResult rewriteRowOps(mlir::ModuleOp module,
                                  const gpu::Target &target);

/// Fused kernels for fusion groups (loom.kernel, docs/fusion.md), tried
/// before the rewrites above. Each returns true when it replaced `group`
/// by the launch of one kernel, false when the group is outside its reach
/// (nothing changed; the group is then inlined and its ops lowered one by
/// one), failure on an internal error (diagnosed).
mlir::FailureOr<bool> rewriteFusedAttention(loom::KernelOp group,
                                            const gpu::Target &target);
mlir::FailureOr<bool> rewriteFusedGemm(loom::KernelOp group,
                                       const gpu::Target &target);
mlir::FailureOr<bool> rewriteFusedMixer(loom::KernelOp group,
                                        const gpu::Target &target);
mlir::FailureOr<bool> rewriteFusedSelectBlocks(loom::KernelOp group,
                                               const gpu::Target &target);
mlir::FailureOr<bool> rewriteFusedF32Gemm(loom::KernelOp group,
                                          const gpu::Target &target);

} // namespace loom

#endif // LOOM_LIB_CONVERSION_LOOMTOGPU_LAUNCH_H
