//===- KernelBuilder.h - building Loom's kernels as typed IR -----*- C++ -*-===//
//
// Every Loom kernel is a gpu.func built op by op with this builder: an
// ImplicitLocOpBuilder with the index, integer and f32 arithmetic the kernels
// use, constants created once each in the entry block, structured control
// flow taking C++ callbacks for its regions, and the memory and thread-index
// ops of the gpu, memref and vector dialects. Hardware mechanisms (MMA,
// asynchronous copies, reductions, ...) are built on top of it in the other
// headers of this folder, one implementation each.
//
// The builder never folds: what a kernel asks for is what it gets, in that
// order, so that a kernel's IR reads like its schedule; the pipeline's
// canonicalization folds afterwards. C++ leaves the order in which a call's
// arguments are evaluated unspecified (GCC and Clang differ), so a kernel
// never creates two ops in the arguments of one call: it names the values
// first. Constants are exempt: the entry block's constants are put in a
// canonical order once the kernel is built.

#ifndef LOOM_GPU_BUILDER_KERNELBUILDER_H
#define LOOM_GPU_BUILDER_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Support/LLVM.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <array>
#include <string>

namespace loom {
namespace gpu {

/// The MLIR type of an element type as kernel configs name it ("bf16",
/// "f16", "f32", "f64", "i1", "i4", "i8", "ui8", "i16", "i32", "i64", "index",
/// "f8E4M3FN", "f8E5M2"); null for any other name.
mlir::Type parseElementType(mlir::MLIRContext *ctx, llvm::StringRef name);

/// memref<shape x T, #gpu.address_space<workgroup>> (a shared-memory buffer).
mlir::MemRefType sharedMemRefType(llvm::ArrayRef<int64_t> shape,
                                  mlir::Type elementType);

/// memref<?x...x?xT> of the given rank (a kernel's global-memory argument).
mlir::MemRefType dynamicMemRefType(int64_t rank, mlir::Type elementType);

/// What a kernel takes and how it is launched.
struct KernelSignature {
  /// The kernel's arguments, in order.
  llvm::SmallVector<mlir::Type> arguments;
  /// Statically sized shared buffers (gpu.func workgroup attributions), each
  /// with its alignment in bytes (0: the type's own).
  llvm::SmallVector<std::pair<mlir::MemRefType, int64_t>> workgroup;
  /// The block size every launch uses (known_block_size; all 0: unknown).
  std::array<int32_t, 3> blockSize = {0, 0, 0};
  /// The CTAs per SM the kernel is compiled for (nvvm.minctasm, PTX's
  /// .minnctapersm; 0: none). Kernels that move registers between
  /// warpgroups (setmaxnreg) give 1: ptxas must know the register count at
  /// entry to honour setmaxnreg, which .maxntid alone does not always fix
  /// (warning C7508, "setmaxnreg ignored").
  int32_t minBlocksPerSM = 0;
};

/// Builds the body of one gpu.func (see the file comment).
class KernelBuilder : public mlir::ImplicitLocOpBuilder {
public:
  /// Builds at the end of the entry block of `func`, which has no
  /// terminator yet (getOrBuildKernel adds the gpu.return).
  explicit KernelBuilder(mlir::gpu::GPUFuncOp func);

  mlir::gpu::GPUFuncOp function() { return func; }
  /// The kernel's argument `i`.
  mlir::Value arg(unsigned i) { return func.getArgument(i); }
  /// The kernel's workgroup attribution `i` (KernelSignature::workgroup).
  mlir::Value workgroup(unsigned i) {
    return func.getWorkgroupAttributions()[i];
  }

  //===--------------------------------------------------------------------===//
  // Constants: one op per value, created in the entry block (in the order of
  // first use), so that any region may use them.
  //===--------------------------------------------------------------------===//

  mlir::Value constant(mlir::TypedAttr value);
  mlir::Value idx(int64_t v);
  mlir::Value i1(bool v);
  mlir::Value i8(int64_t v);
  mlir::Value i16(int64_t v);
  mlir::Value i32(int64_t v);
  mlir::Value i64(int64_t v);
  mlir::Value f32(double v);
  /// An f32 constant given by its bits (0xFF800000 is -inf).
  mlir::Value f32Bits(uint32_t bits);
  /// Zero of `type`: a float, integer or index scalar, or a vector of them.
  mlir::Value zero(mlir::Type type);
  /// A float scalar or vector of `type` with every element `v`.
  mlir::Value splatF(mlir::Type type, double v);

  //===--------------------------------------------------------------------===//
  // Integer and index arithmetic (operands of one type).
  //===--------------------------------------------------------------------===//

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value divu(mlir::Value a, mlir::Value b);
  mlir::Value divs(mlir::Value a, mlir::Value b);
  mlir::Value remu(mlir::Value a, mlir::Value b);
  mlir::Value rems(mlir::Value a, mlir::Value b);
  mlir::Value minu(mlir::Value a, mlir::Value b);
  mlir::Value maxu(mlir::Value a, mlir::Value b);
  mlir::Value mins(mlir::Value a, mlir::Value b);
  mlir::Value maxs(mlir::Value a, mlir::Value b);
  mlir::Value andi(mlir::Value a, mlir::Value b);
  mlir::Value ori(mlir::Value a, mlir::Value b);
  mlir::Value xori(mlir::Value a, mlir::Value b);
  mlir::Value shl(mlir::Value a, mlir::Value b);
  mlir::Value shrs(mlir::Value a, mlir::Value b);
  mlir::Value shru(mlir::Value a, mlir::Value b);
  mlir::Value cmpi(mlir::arith::CmpIPredicate predicate, mlir::Value a,
                   mlir::Value b);
  mlir::Value eq(mlir::Value a, mlir::Value b);
  mlir::Value ne(mlir::Value a, mlir::Value b);
  mlir::Value ult(mlir::Value a, mlir::Value b);
  mlir::Value ule(mlir::Value a, mlir::Value b);
  mlir::Value slt(mlir::Value a, mlir::Value b);
  mlir::Value sle(mlir::Value a, mlir::Value b);
  mlir::Value sgt(mlir::Value a, mlir::Value b);
  mlir::Value sge(mlir::Value a, mlir::Value b);
  mlir::Value select(mlir::Value condition, mlir::Value a, mlir::Value b);
  /// `values[i]` for the index value `i` < values.size(), as a chain of
  /// selects (e.g. a horizontal sibling's operands by its part).
  mlir::Value pick(mlir::Value i, llvm::ArrayRef<mlir::Value> values);

  /// Index forms with a constant operand. addConst and mulConst return `a`
  /// itself for c = 0 and c = 1; the others always create the op.
  mlir::Value addConst(mlir::Value a, int64_t c);
  mlir::Value mulConst(mlir::Value a, int64_t c);
  /// a + b * c (a itself for c = 0, a + b for c = 1).
  mlir::Value addMul(mlir::Value a, mlir::Value b, int64_t c);
  mlir::Value divuConst(mlir::Value a, int64_t c);
  mlir::Value remuConst(mlir::Value a, int64_t c);
  /// ceil(a / c) for a non-negative a: (a + c - 1) / c.
  mlir::Value ceilDivConst(mlir::Value a, int64_t c);

  /// Casts between integer types and index.
  mlir::Value indexCast(mlir::Type to, mlir::Value v);
  mlir::Value indexCastUI(mlir::Type to, mlir::Value v);
  mlir::Value trunci(mlir::Type to, mlir::Value v);
  mlir::Value extsi(mlir::Type to, mlir::Value v);
  mlir::Value extui(mlir::Type to, mlir::Value v);

  //===--------------------------------------------------------------------===//
  // Float arithmetic (scalars or vectors).
  //===--------------------------------------------------------------------===//

  mlir::Value fadd(mlir::Value a, mlir::Value b);
  mlir::Value fsub(mlir::Value a, mlir::Value b);
  mlir::Value fmul(mlir::Value a, mlir::Value b);
  mlir::Value fdiv(mlir::Value a, mlir::Value b);
  /// arith.maximumf / minimumf (NaN-propagating).
  mlir::Value fmax(mlir::Value a, mlir::Value b);
  mlir::Value fmin(mlir::Value a, mlir::Value b);
  mlir::Value fneg(mlir::Value a);
  /// a * b + c, fused (llvm.intr.fma: one fma.rn instruction).
  mlir::Value fma(mlir::Value a, mlir::Value b, mlir::Value c);
  mlir::Value cmpf(mlir::arith::CmpFPredicate predicate, mlir::Value a,
                   mlir::Value b);
  mlir::Value exp(mlir::Value a);
  mlir::Value erf(mlir::Value a);
  mlir::Value tanh(mlir::Value a);
  mlir::Value rsqrt(mlir::Value a);
  mlir::Value sqrt(mlir::Value a);
  /// 2^a through the SFU's ex2.approx.ftz (2^-inf = 0; relative error about
  /// 2^-22). f32 only.
  mlir::Value exp2Approx(mlir::Value a);
  /// log2(a) through the SFU's lg2.approx.ftz (log2(0) = -inf; absolute
  /// error about 2^-22 for a in [0.5, 2], relative elsewhere). f32 only.
  /// 1 / a (f32) in one `rcp.approx.ftz.f32` (relative error within 1
  /// ulp; denormals flush to zero).
  mlir::Value rcpApprox(mlir::Value a);
  mlir::Value log2Approx(mlir::Value a);

  /// Float conversions; `to` is the scalar or vector result type.
  mlir::Value extf(mlir::Type to, mlir::Value v);
  mlir::Value truncf(mlir::Type to, mlir::Value v);
  mlir::Value sitofp(mlir::Type to, mlir::Value v);
  mlir::Value uitofp(mlir::Type to, mlir::Value v);
  mlir::Value fptosi(mlir::Type to, mlir::Value v);
  mlir::Value bitcast(mlir::Type to, mlir::Value v);
  /// `v` as f32 (itself when it is f32 already; a vector of the same shape
  /// for a vector).
  mlir::Value toF32(mlir::Value v);
  /// `v` (f32 or a vector of f32) rounded to `elementType` once (itself for
  /// f32).
  mlir::Value roundTo(mlir::Type elementType, mlir::Value v);

  //===--------------------------------------------------------------------===//
  // Vectors.
  //===--------------------------------------------------------------------===//

  mlir::Value extract(mlir::Value vector, int64_t position);
  mlir::Value insert(mlir::Value scalar, mlir::Value vector, int64_t position);
  mlir::Value broadcast(mlir::Type vectorType, mlir::Value scalar);
  mlir::Value fromElements(mlir::Type vectorType, mlir::ValueRange elements);
  mlir::Value vshuffle(mlir::Value a, mlir::Value b,
                       llvm::ArrayRef<int64_t> mask);
  mlir::Value vbitcast(mlir::Type to, mlir::Value v);
  /// The sum of a float vector's elements.
  mlir::Value reduceAdd(mlir::Value vector);

  //===--------------------------------------------------------------------===//
  // Memory.
  //===--------------------------------------------------------------------===//

  mlir::Value load(mlir::Value memref, mlir::ValueRange indices);
  void store(mlir::Value value, mlir::Value memref, mlir::ValueRange indices);
  /// vector.load / vector.store, with an alignment in bytes (0: none given).
  mlir::Value vectorLoad(mlir::Type vectorType, mlir::Value memref,
                         mlir::ValueRange indices, int64_t alignment = 0);
  void vectorStore(mlir::Value value, mlir::Value memref,
                   mlir::ValueRange indices, int64_t alignment = 0);
  /// Size `d` of a memref (memref.dim).
  mlir::Value dim(mlir::Value memref, int64_t d);
  /// The aligned base pointer of a memref as an index.
  mlir::Value alignedPointer(mlir::Value memref);
  /// The kernel's dynamic shared memory, memref<?xi8, workgroup>.
  mlir::Value dynamicSharedMemory();
  /// `type` (static, identity layout) viewed at `byteOffset` of an i8 buffer
  /// (memref.view).
  mlir::Value view(mlir::Value bytes, int64_t byteOffset, mlir::MemRefType type);
  /// The same at a byte offset computed at run time (an index).
  mlir::Value view(mlir::Value bytes, mlir::Value byteOffset,
                   mlir::MemRefType type);
  /// The workgroup memref `view` in the numeric address space 3, for
  /// vector.load / vector.store: they lower before convert-gpu-to-nvvm,
  /// which maps the workgroup space (on the workgroup type they report an
  /// error).
  mlir::Value numericShared(mlir::Value view);
  /// Inline PTX `text` (operands $0.. as LLVM inline asm numbers them, the
  /// results first) with `constraints`, giving one value of `result`:
  /// instructions NVVM has no op for.
  mlir::Value inlinePtx(mlir::Type result, mlir::ValueRange operands,
                        llvm::StringRef text, llvm::StringRef constraints,
                        bool sideEffects = false);

  //===--------------------------------------------------------------------===//
  // Threads.
  //===--------------------------------------------------------------------===//

  mlir::Value threadId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  mlir::Value blockId(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  mlir::Value gridDim(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  mlir::Value blockDim(mlir::gpu::Dimension d = mlir::gpu::Dimension::x);
  /// gpu.barrier: every thread of the block, and its shared-memory writes.
  void barrier();
  /// nvvm.bar.warp.sync with a full mask: every lane of the warp, and its
  /// shared-memory writes (the warp must be converged: call it under a
  /// condition that is uniform across the warp).
  void warpBarrier();

  //===--------------------------------------------------------------------===//
  // Structured control flow. Each callback builds one region with this
  // builder; the builder's insertion point is restored afterwards.
  //===--------------------------------------------------------------------===//

  using Values = llvm::SmallVector<mlir::Value>;

  /// scf.for iv = lb to ub step `step` with iter_args `inits`; `body(iv,
  /// args)` returns the values to yield. Returns the loop's results.
  Values forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
                 mlir::ValueRange inits,
                 llvm::function_ref<Values(mlir::Value, mlir::ValueRange)> body);
  /// The same without iter_args.
  void forLoop(mlir::Value lb, mlir::Value ub, mlir::Value step,
               llvm::function_ref<void(mlir::Value)> body);
  /// scf.if without results or else.
  void ifThen(mlir::Value condition, llvm::function_ref<void()> then);
  /// scf.if with an else region and no results.
  void ifThenElse(mlir::Value condition, llvm::function_ref<void()> then,
                  llvm::function_ref<void()> otherwise);
  /// scf.if with results of `types`; each callback returns its yields.
  Values ifThenElse(mlir::Value condition, mlir::TypeRange types,
                    llvm::function_ref<Values()> then,
                    llvm::function_ref<Values()> otherwise);
  /// scf.if with one result of `type`.
  mlir::Value ifThenElse(mlir::Value condition, mlir::Type type,
                         llvm::function_ref<mlir::Value()> then,
                         llvm::function_ref<mlir::Value()> otherwise);
  /// scf.while with loop-carried values `inits`: `before(args)` returns the
  /// condition followed by the values passed on (to `after`, or out of the
  /// loop when the condition is false; of the types of `inits`), and
  /// `after(args)` returns the next iteration's values. Returns the results.
  Values whileLoop(mlir::ValueRange inits,
                   llvm::function_ref<Values(mlir::ValueRange)> before,
                   llvm::function_ref<Values(mlir::ValueRange)> after);

private:
  mlir::gpu::GPUFuncOp func;
  /// The entry block's constants, by value, and where the next one goes.
  llvm::DenseMap<mlir::Attribute, mlir::Value> constants;
  mlir::Operation *lastConstant = nullptr;
};

/// The kernel `name` of `gpu.module @loom_kernels` in `module` (created, and
/// `module` marked a gpu.container_module, on first use). On first use the
/// gpu.func is created with `signature` and its body built by `body`; later
/// calls with the same name return it as it is, so a name must encode every
/// choice that shapes the kernel. A kernel that does not verify is an
/// internal error, reported at `loc` with the verifier's messages (and
/// removed). Returns @loom_kernels::@name.
mlir::FailureOr<mlir::SymbolRefAttr>
getOrBuildKernel(mlir::ModuleOp module, mlir::Location loc,
                 llvm::StringRef name, const KernelSignature &signature,
                 llvm::function_ref<void(KernelBuilder &)> body);

/// The name of the gpu.module that holds Loom's kernels.
constexpr llvm::StringLiteral kKernelModuleName = "loom_kernels";

} // namespace gpu
} // namespace loom

#endif // LOOM_GPU_BUILDER_KERNELBUILDER_H
