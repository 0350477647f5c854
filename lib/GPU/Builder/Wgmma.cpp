//===- Wgmma.cpp - warpgroup matrix products (Hopper) ---------------------===//

#include "loom/GPU/Builder/Wgmma.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include <cassert>
#include <string>

using namespace mlir;

namespace loom {
namespace gpu {

int64_t wgmmaElementBytes(WgmmaType type) {
  return type == WgmmaType::BF16 || type == WgmmaType::F16 ? 2 : 1;
}

Type wgmmaAccumulatorType(KernelBuilder &b, WgmmaType type, int64_t n) {
  Type element = type == WgmmaType::S8 ? Type(b.getI32Type())
                                       : Type(b.getF32Type());
  SmallVector<Type> fields(n / 2, element);
  return LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
}

Value wgmmaZeroAccumulator(KernelBuilder &b, Type accumulatorType) {
  return LLVM::ZeroOp::create(b, accumulatorType);
}

Value wgmmaDescriptor(KernelBuilder &b, Value sharedAddress) {
  // Bits 0-13: address >> 4; 16-29: leading byte offset >> 4 (unused by
  // swizzled K-major tiles, 1 by convention); 32-45: stride byte offset >> 4
  // (1024 bytes between 8-row core matrices); 62-63: 1 = 128-byte swizzle.
  Value address = b.indexCast(b.getI64Type(), sharedAddress);
  Value field = b.shru(b.andi(address, b.i64(0x3FFFF)), b.i64(4));
  constexpr int64_t fixed =
      (int64_t(1) << 16) | (int64_t(1024 >> 4) << 32) | (int64_t(1) << 62);
  return b.ori(field, b.i64(fixed));
}

Value wgmmaDescriptorNMajor(KernelBuilder &b, Value sharedAddress,
                            int64_t leadingBytes, int64_t strideBytes) {
  // The same fields as above; for N-major operands the leading byte offset
  // is the distance between the 64-element panels of N, the stride byte
  // offset the distance between 8-row groups of K.
  Value address = b.indexCast(b.getI64Type(), sharedAddress);
  Value field = b.shru(b.andi(address, b.i64(0x3FFFF)), b.i64(4));
  int64_t fixed = ((leadingBytes >> 4) << 16) |
                  (int64_t(strideBytes >> 4) << 32) | (int64_t(1) << 62);
  return b.ori(field, b.i64(fixed));
}

Value wgmmaMma(KernelBuilder &b, WgmmaType type, int64_t n, Value accumulator,
               Value descA, Value descB, bool transposeB) {
  MLIRContext *ctx = b.getContext();
  NVVM::WGMMATypes t = type == WgmmaType::BF16   ? NVVM::WGMMATypes::bf16
                       : type == WgmmaType::F16  ? NVVM::WGMMATypes::f16
                       : type == WgmmaType::E4M3 ? NVVM::WGMMATypes::e4m3
                                                 : NVVM::WGMMATypes::s8;
  bool s8 = type == WgmmaType::S8;
  int64_t k = 32 / wgmmaElementBytes(type);
  auto shape = NVVM::MMAShapeAttr::get(ctx, 64, n, k);
  auto typeAB = NVVM::WGMMATypesAttr::get(ctx, t);
  auto typeD = NVVM::WGMMATypesAttr::get(
      ctx, s8 ? NVVM::WGMMATypes::s32 : NVVM::WGMMATypes::f32);
  return NVVM::WgmmaMmaAsyncOp::create(
      b, accumulator.getType(), accumulator, descA, descB, shape, typeAB,
      typeAB, typeD, NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one),
      NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
      NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one),
      // row A and col B: both operands K-major (row B: N-major).
      NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
      NVVM::MMALayoutAttr::get(ctx, transposeB ? NVVM::MMALayout::row
                                               : NVVM::MMALayout::col),
      s8 ? NVVM::MMAIntOverflowAttr::get(ctx, NVVM::MMAIntOverflow::wrapped)
         : NVVM::MMAIntOverflowAttr());
}

Value wgmmaMmaRegisterA(KernelBuilder &b, WgmmaType type, int64_t n,
                        Value accumulator, ValueRange a, Value descB,
                        bool transposeB) {
  assert((type == WgmmaType::BF16 || type == WgmmaType::F16) && a.size() == 4);
  int64_t count = n / 2;
  // $0 .. $(count-1): the accumulator out; then the same tied in, the four
  // A registers, B's descriptor.
  // scale-d is a predicate operand: set from an i32 1 (accumulate).
  std::string asmText = "{\n.reg .pred p;\nsetp.ne.b32 p, $" +
                        std::to_string(2 * count + 5) +
                        ", 0;\nwgmma.mma_async.sync.aligned.m64n" +
                        std::to_string(n) + "k16.f32." +
                        (type == WgmmaType::BF16 ? "bf16.bf16" : "f16.f16") +
                        " {";
  std::string constraints;
  for (int64_t i = 0; i < count; ++i) {
    asmText += (i ? ", $" : "$") + std::to_string(i);
    constraints += (i ? ",=f" : "=f");
  }
  SmallVector<Value> operands;
  for (int64_t i = 0; i < count; ++i) {
    operands.push_back(wgmmaElement(b, accumulator, i));
    constraints += "," + std::to_string(i);
  }
  asmText += "}, {";
  for (int64_t i = 0; i < 4; ++i) {
    asmText += (i ? ", $" : "$") + std::to_string(2 * count + i);
    operands.push_back(a[i]);
    constraints += ",r";
  }
  operands.push_back(descB);
  constraints += ",l";
  operands.push_back(b.i32(1));
  constraints += ",r";
  asmText += "}, $" + std::to_string(2 * count + 4) + ", p, 1, 1, " +
             (transposeB ? "1" : "0") + ";\n}";
  return b.inlinePtx(accumulator.getType(), operands, asmText, constraints,
                     /*sideEffects=*/true);
}

Value wgmmaPackA(KernelBuilder &b, WgmmaType type, Value lo, Value hi) {
  Type element = type == WgmmaType::F16 ? Type(b.getF16Type())
                                        : Type(b.getBF16Type());
  Value pair = b.fromElements(VectorType::get({2}, b.getF32Type()), {lo, hi});
  Value rounded = b.truncf(VectorType::get({2}, element), pair);
  Value word = b.vbitcast(VectorType::get({1}, b.getI32Type()), rounded);
  return b.extract(word, 0);
}

void wgmmaFence(KernelBuilder &b) { NVVM::WgmmaFenceAlignedOp::create(b); }
void wgmmaCommit(KernelBuilder &b) { NVVM::WgmmaGroupSyncAlignedOp::create(b); }
void wgmmaWait(KernelBuilder &b, int64_t pending) {
  NVVM::WgmmaWaitGroupSyncOp::create(b, b.getI64IntegerAttr(pending));
}

void wgmmaWaitOrDrain(KernelBuilder &b, Value drain, int64_t pending) {
  b.ifThenElse(drain, [&] { wgmmaWait(b, 0); },
               [&] { wgmmaWait(b, pending); });
}

Value wgmmaElement(KernelBuilder &b, Value accumulator, int64_t i) {
  return LLVM::ExtractValueOp::create(b, accumulator, ArrayRef<int64_t>{i});
}

std::pair<Value, Value> wgmmaElementPosition(KernelBuilder &b, Value lane,
                                             Value warp, int64_t i) {
  int64_t block = i / 4, within = i % 4;
  Value rowBase = b.add(b.mul(warp, b.idx(16)), b.divu(lane, b.idx(4)));
  Value row = b.addConst(rowBase, within >= 2 ? 8 : 0);
  Value colBase = b.mul(b.remu(lane, b.idx(4)), b.idx(2));
  Value col = b.addConst(colBase, 8 * block + within % 2);
  return {row, col};
}

void namedBarrierSync(KernelBuilder &b, Value id, int64_t threads) {
  Value i32Id = b.indexCast(b.getI32Type(), id);
  NVVM::BarrierOp::create(b, TypeRange{}, i32Id, b.i32(threads),
                          NVVM::BarrierReductionAttr(), Value());
}

void namedBarrierArrive(KernelBuilder &b, Value id, int64_t threads) {
  Value i32Id = b.indexCast(b.getI32Type(), id);
  NVVM::BarrierArriveOp::create(b, i32Id, b.i32(threads));
}

void fenceProxyAsyncShared(KernelBuilder &b) {
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

void setMaxRegisters(KernelBuilder &b, int64_t registers, bool increase) {
  NVVM::SetMaxRegisterOp::create(
      b, b.getI32IntegerAttr(registers),
      NVVM::SetMaxRegisterActionAttr::get(
          b.getContext(), increase ? NVVM::SetMaxRegisterAction::increase
                                   : NVVM::SetMaxRegisterAction::decrease));
}

} // namespace gpu
} // namespace loom
