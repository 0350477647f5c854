//===- Launch.cpp - what the op-to-kernel rewrites share -----------------===//

#include "Launch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace loom {
namespace gpu {

LogicalResult checkTile(Operation *op, const Target &target, StringRef tile,
                        StringRef why, int64_t sharedMemoryBytes) {
  if (!why.empty())
    return op->emitError() << "tile '" << tile << "' is not supported on "
                           << target.chip << ": " << why;
  if (sharedMemoryBytes > target.sharedMemoryBytes)
    return op->emitError() << "tile '" << tile << "' needs "
                           << llvm::divideCeil(sharedMemoryBytes, 1024)
                           << " KiB of shared memory, " << target.chip
                           << " has " << target.sharedMemoryBytes / 1024
                           << " KiB";
  return success();
}

Value bufferOf(OpBuilder &b, Location loc, Value tensor, bool dynamic) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                                   /*read_only=*/true);
  return dynamic ? dynamicBuffer(b, loc, buffer) : buffer;
}

Value allocBuffer(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes) {
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return memref::AllocOp::create(b, loc, memrefType, dynamicSizes,
                                 b.getI64IntegerAttr(64));
}

Value dynamicBuffer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> dyn(type.getRank(), ShapedType::kDynamic);
  auto dynType = MemRefType::get(dyn, type.getElementType());
  if (dynType == type)
    return buffer;
  return memref::CastOp::create(b, loc, dynType, buffer);
}

Value tensorOf(OpBuilder &b, Location loc, Value buffer,
               RankedTensorType type) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

Value ceilDiv(OpBuilder &b, Location loc, Value a, int64_t d) {
  Value dm1 = arith::ConstantIndexOp::create(b, loc, d - 1);
  Value dv = arith::ConstantIndexOp::create(b, loc, d);
  return arith::DivUIOp::create(b, loc, arith::AddIOp::create(b, loc, a, dm1),
                                dv);
}

Value dim(OpBuilder &b, Location loc, Value tensor, int64_t d) {
  return b.createOrFold<tensor::DimOp>(loc, tensor, d);
}

std::string elementTypeName(Type t) {
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  if (t.isF32())
    return "f32";
  if (t.isSignlessInteger(8))
    return "i8";
  if (t.isSignlessInteger(4))
    return "i4";
  if (isa<Float8E4M3FNType>(t))
    return "f8E4M3FN";
  return "";
}

Value packedI4Source(Value w) {
  auto generic = w.getDefiningOp<linalg::GenericOp>();
  if (!generic || !generic->hasAttr("loom.unpack_i4") ||
      generic.getNumDpsInputs() != 1 || generic->getNumResults() != 1)
    return {};
  Value packed = generic.getDpsInputOperand(0)->get();
  auto type = dyn_cast<RankedTensorType>(packed.getType());
  if (!type || type.getRank() != 2 || !type.getElementType().isSignlessInteger(8))
    return {};
  return packed;
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

void launchPerHead(OpBuilder &b, Location loc, Operation *op,
                   SymbolRefAttr kernel, Value batch, Value heads, Value rows,
                   int64_t rowsPerBlock, int64_t threads,
                   int64_t sharedMemoryBytes, ValueRange args, Value out,
                   ValueRange moreOuts) {
  launchPerHeadGrid(b, loc, kernel, batch, heads, rows, rowsPerBlock, threads,
                    sharedMemoryBytes, args);
  replaceByOutputs(b, loc, op, out, moreOuts);
}

Value callTensorMapEncoder(OpBuilder &b, Location loc, ModuleOp module,
                           StringRef name, ValueRange operands) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  Type pointer = LLVM::LLVMPointerType::get(ctx);
  auto type = LLVM::LLVMFunctionType::get(
      pointer, SmallVector<Type>(operands.size(), i64));
  if (!module.lookupSymbol(name)) {
    OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
    LLVM::LLVMFuncOp::create(top, loc, name, type);
  }
  SmallVector<Value> args;
  for (Value v : operands)
    args.push_back(v.getType().isIndex()
                       ? arith::IndexCastOp::create(b, loc, i64, v).getResult()
                       : v);
  return LLVM::CallOp::create(b, loc, type, FlatSymbolRefAttr::get(ctx, name),
                              args)
      .getResult();
}

void launchPerHeadGrid(OpBuilder &b, Location loc, SymbolRefAttr kernel,
                       Value batch, Value heads, Value rows,
                       int64_t rowsPerBlock, int64_t threads,
                       int64_t sharedMemoryBytes, ValueRange args) {
  Value one = indexConst(b, loc, 1);
  Value gx = arith::MaxUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batch, heads), one);
  Value gy = arith::MaxUIOp::create(b, loc, ceilDiv(b, loc, rows, rowsPerBlock),
                                    one);
  Value blockX = indexConst(b, loc, threads);
  Value smem = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(static_cast<int32_t>(sharedMemoryBytes)));
  mlir::gpu::LaunchFuncOp::create(b, loc, kernel,
                                  mlir::gpu::KernelDim3{gx, gy, one},
                                  mlir::gpu::KernelDim3{blockX, one, one}, smem,
                                  args);
}

void replaceByOutputs(OpBuilder &b, Location loc, Operation *op, Value out,
                      ValueRange moreOuts) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  op->getResult(0).replaceAllUsesWith(tensorOf(b, loc, out, type));
  for (auto [i, more] : llvm::enumerate(moreOuts)) {
    Value result = op->getResult(i + 1);
    result.replaceAllUsesWith(tensorOf(
        b, loc, more, cast<RankedTensorType>(result.getType())));
  }
  op->erase();
}

template <typename Op> static AttentionMasks masksOf(Op op) {
  AttentionMasks m;
  if (std::optional<ArrayRef<int64_t>> ws = op.getHeadWindows())
    m.windows.assign(ws->begin(), ws->end());
  else if (std::optional<int64_t> w = op.getUniformWindow())
    m.windows = {*w};
  if (!m.windows.empty() && op.getSinkAttr())
    m.sink = op.getSinkAttr().getInt();
  m.sinkLogits = static_cast<bool>(op.getSinkLogits());
  return m;
}
AttentionMasks attentionMasksOf(loom::AttentionOp op) { return masksOf(op); }
AttentionMasks attentionMasksOf(loom::PagedAttentionOp op) {
  return masksOf(op);
}

} // namespace gpu
} // namespace loom

Value loom::gpu::collapseRows(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (rank == 2)
    return x;
  if (rank == 1) {
    SmallVector<OpFoldResult> shape{b.getIndexAttr(1),
                                    tensor::getMixedSize(b, loc, x, 0)};
    auto t2 = RankedTensorType::get({1, type.getDimSize(0)},
                                    type.getElementType());
    return tensor::ExpandShapeOp::create(
        b, loc, t2, x, ArrayRef<ReassociationIndices>{{0, 1}}, shape);
  }
  ReassociationIndices lead;
  for (int64_t i = 0; i + 1 < rank; ++i)
    lead.push_back(i);
  return tensor::CollapseShapeOp::create(
      b, loc, x, ArrayRef<ReassociationIndices>{lead, {rank - 1}});
}

Value loom::gpu::expandRows(OpBuilder &b, Location loc, Value y, Value like,
                            RankedTensorType type) {
  int64_t rank = type.getRank();
  if (rank == 2)
    return y;
  if (rank == 1)
    return tensor::CollapseShapeOp::create(
        b, loc, type, y, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices lead;
  SmallVector<OpFoldResult> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (i + 1 < rank)
      lead.push_back(i);
    shape.push_back(tensor::getMixedSize(b, loc, i + 1 < rank ? like : y,
                                         i + 1 < rank ? i : 1));
  }
  return tensor::ExpandShapeOp::create(
      b, loc, type, y, ArrayRef<ReassociationIndices>{lead, {rank - 1}},
      shape);
}
