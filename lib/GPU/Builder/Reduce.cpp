//===- Reduce.cpp - warp and block reductions -----------------------------===//

#include "loom/GPU/Builder/Reduce.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

static Value combine(KernelBuilder &b, ReduceKind kind, Value x, Value y) {
  return kind == ReduceKind::Add ? b.fadd(x, y) : b.fmax(x, y);
}

Value warpAllReduce(KernelBuilder &b, Value v, ReduceKind kind, int64_t lanes,
                    bool descending) {
  auto step = [&](int64_t distance) {
    Value other = mlir::gpu::ShuffleOp::create(b, v, b.i32(distance), b.i32(32),
                                               mlir::gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    v = combine(b, kind, v, other);
  };
  if (descending)
    for (int64_t d = lanes / 2; d >= 1; d /= 2)
      step(d);
  else
    for (int64_t d = 1; d < lanes; d *= 2)
      step(d);
  return v;
}

Value warpInclusiveAdd(KernelBuilder &b, Value v, Value lane) {
  for (int64_t d = 1; d < 32; d *= 2) {
    Value other = mlir::gpu::ShuffleOp::create(b, v, b.i32(d), b.i32(32),
                                               mlir::gpu::ShuffleMode::UP)
                      .getShuffleResult();
    Value sum = b.fadd(v, other);
    Value has = b.sge(lane, b.idx(d));
    v = b.select(has, sum, v);
  }
  return v;
}

WarpCount warpCount(KernelBuilder &b, Value keep, Value lane) {
  Value mask = NVVM::VoteSyncOp::create(b, b.getI32Type(), b.i32(-1), keep,
                                        NVVM::VoteSyncKind::ballot);
  Value lane32 = b.indexCast(b.getI32Type(), lane);
  Value lower = b.sub(b.shl(b.i32(1), lane32), b.i32(1));
  WarpCount count;
  count.below = LLVM::CtPopOp::create(b, b.andi(mask, lower));
  count.total = LLVM::CtPopOp::create(b, mask);
  return count;
}

Value blockAllReduce(KernelBuilder &b, Value v, ReduceKind kind, Value tid,
                     int64_t warps, Value scratch) {
  v = warpAllReduce(b, v, kind);
  if (warps == 1)
    return v;
  Value lane = b.remu(tid, b.idx(32));
  Value warp = b.divu(tid, b.idx(32));
  b.ifThen(b.eq(lane, b.idx(0)), [&] { b.store(v, scratch, warp); });
  b.barrier();
  Value total = b.load(scratch, b.idx(0));
  for (int64_t w = 1; w < warps; ++w)
    total = combine(b, kind, total, b.load(scratch, b.idx(w)));
  return total;
}

Value rowLogSumExp(KernelBuilder &b, Value mLog2, Value l) {
  Value none = b.cmpf(arith::CmpFPredicate::OEQ, l, b.f32(0.0));
  Value safeL = b.select(none, b.f32(1.0), l);
  Value value = b.fmul(b.f32(0.69314718055994530942),
                       b.fadd(mLog2, b.log2Approx(safeL)));
  return b.select(none, b.f32Bits(0xFF800000u), value);
}

} // namespace gpu
} // namespace loom
