//===- Mma.cpp - warp-level matrix products (ldmatrix, mma.sync) ----------===//

#include "loom/GPU/Builder/Mma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

Type mmaRegisterType(KernelBuilder &b, MmaType type) {
  if (type == MmaType::F16)
    return VectorType::get({2}, b.getF16Type());
  return b.getI32Type();
}

Value ldmatrix(KernelBuilder &b, Value smem, ValueRange indices,
               int64_t numTiles, bool transpose, VectorType resultType) {
  return nvgpu::LdMatrixOp::create(b, resultType, smem, indices, transpose,
                                   numTiles);
}

Value packRegister(KernelBuilder &b, Value v) {
  Value word = b.vbitcast(VectorType::get({1}, b.getI32Type()), v);
  return b.extract(word, 0);
}

Value ldmatrixRegister(KernelBuilder &b, Value ldmatrixResult, int64_t i,
                       MmaType type) {
  Value row = b.extract(ldmatrixResult, i);
  if (type == MmaType::F16)
    return row;
  return packRegister(b, row);
}

Value mmaOperand(KernelBuilder &b, Value v, MmaType type) {
  if (type == MmaType::F16)
    return v;
  return packRegister(b, v);
}

Value registerOperand(KernelBuilder &b, Value word, MmaType type) {
  if (type != MmaType::F16)
    return word;
  Value v = b.broadcast(VectorType::get({1}, b.getI32Type()), word);
  return b.vbitcast(mmaRegisterType(b, type), v);
}

Value fp8PairToF16x2(KernelBuilder &b, Value word, int64_t half) {
  Value w = half ? b.shru(word, b.i32(16)) : word;
  Value pair = b.trunci(b.getI16Type(), w);
  Value f16x2 = b.inlinePtx(b.getI32Type(), ValueRange{pair},
                            "cvt.rn.f16x2.e4m3x2 $0, $1;", "=r,h");
  return registerOperand(b, f16x2, MmaType::F16);
}

Value packPair(KernelBuilder &b, Value lo, Value hi, MmaType type) {
  Type element = type == MmaType::F16 ? Type(b.getF16Type())
                                      : Type(b.getBF16Type());
  Value pair = b.fromElements(VectorType::get({2}, b.getF32Type()), {lo, hi});
  Value rounded = b.truncf(VectorType::get({2}, element), pair);
  if (type == MmaType::F16)
    return rounded;
  return packRegister(b, rounded);
}

SmallVector<Value, 4> mmaSync(KernelBuilder &b, MmaType type, ValueRange a,
                              ValueRange bRegs, ValueRange c) {
  MLIRContext *ctx = b.getContext();
  bool s8 = type == MmaType::S8;
  Type acc = s8 ? Type(b.getI32Type()) : Type(b.getF32Type());
  auto result = LLVM::LLVMStructType::getLiteral(ctx, {acc, acc, acc, acc});
  NVVM::MMATypes ptxType = type == MmaType::BF16 ? NVVM::MMATypes::bf16
                           : type == MmaType::F16 ? NVVM::MMATypes::f16
                                                  : NVVM::MMATypes::s8;
  auto op = NVVM::MmaOp::create(
      b, result, a, bRegs, c, ArrayRef<int64_t>{16, 8, s8 ? 32 : 16},
      /*b1Op=*/std::nullopt,
      s8 ? std::optional<NVVM::MMAIntOverflow>(NVVM::MMAIntOverflow::wrapped)
         : std::nullopt,
      std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value, 4> d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, op, ArrayRef<int64_t>{i}));
  return d;
}

} // namespace gpu
} // namespace loom
