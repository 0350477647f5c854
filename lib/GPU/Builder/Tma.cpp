//===- Tma.cpp - TMA copies and mbarrier pipelines (Hopper) ---------------===//

#include "loom/GPU/Builder/Tma.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

nvgpu::TensorMapDescriptorType tmaDescriptorType(MLIRContext *ctx,
                                                 int64_t rows, int64_t columns,
                                                 Type elementType,
                                                 bool swizzle128) {
  return tmaDescriptorType(ctx, {rows, columns}, elementType, swizzle128);
}

nvgpu::TensorMapDescriptorType tmaDescriptorType(MLIRContext *ctx,
                                                 ArrayRef<int64_t> box,
                                                 Type elementType,
                                                 bool swizzle128) {
  return nvgpu::TensorMapDescriptorType::get(
      ctx, sharedMemRefType(box, elementType),
      swizzle128 ? nvgpu::TensorMapSwizzleKind::SWIZZLE_128B
                 : nvgpu::TensorMapSwizzleKind::SWIZZLE_NONE,
      nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
}

Value createBarriers(KernelBuilder &b, int64_t count) {
  auto space = mlir::gpu::AddressSpaceAttr::get(
      b.getContext(), mlir::gpu::GPUDialect::getWorkgroupAddressSpace());
  auto type = nvgpu::MBarrierGroupType::get(b.getContext(), space,
                                            static_cast<unsigned>(count));
  return nvgpu::MBarrierCreateOp::create(b, type);
}

void initBarrier(KernelBuilder &b, Value barriers, Value index,
                 int64_t arrivals) {
  nvgpu::MBarrierInitOp::create(b, barriers, b.idx(arrivals), index,
                                /*predicate=*/Value());
}

void fenceBarrierInit(KernelBuilder &b) { NVVM::FenceMbarrierInitOp::create(b); }

void arriveExpectBytes(KernelBuilder &b, Value barriers, Value index,
                       int64_t bytes) {
  nvgpu::MBarrierArriveExpectTxOp::create(b, barriers, b.idx(bytes), index,
                                          /*predicate=*/Value());
}

void arriveBarrier(KernelBuilder &b, Value barriers, Value index) {
  nvgpu::MBarrierArriveOp::create(b, barriers, index);
}

void waitBarrier(KernelBuilder &b, Value barriers, Value index, Value parity) {
  // The tick count only bounds one hardware try; the op loops until the
  // phase completes.
  nvgpu::MBarrierTryWaitParityOp::create(b, barriers, parity,
                                         b.idx(10000000), index);
}

std::pair<Value, Value> stagePhase(KernelBuilder &b, Value it, int64_t stages) {
  Value stage = b.remu(it, b.idx(stages));
  Value round = b.divu(it, b.idx(stages));
  Value odd = b.remu(round, b.idx(2));
  Value parity = b.indexCast(b.getI1Type(), odd);
  return {stage, parity};
}

void tmaLoad(KernelBuilder &b, Value descriptor, ValueRange coordinates,
             Value dst, Value barriers, Value index) {
  nvgpu::TmaAsyncLoadOp::create(b, dst, barriers, descriptor, coordinates,
                                index, /*multicastMask=*/Value(),
                                /*predicate=*/Value());
}

void tmaPrefetch(KernelBuilder &b, Value descriptor) {
  nvgpu::TmaPrefetchOp::create(b, descriptor, /*predicate=*/Value());
}

SwizzleAlignedShared swizzleAlignedSharedMemory(KernelBuilder &b) {
  SwizzleAlignedShared shared;
  shared.memref = b.dynamicSharedMemory();
  shared.base = b.alignedPointer(shared.memref);
  Value misalignment = b.remu(shared.base, b.idx(1024));
  shared.pad = b.remu(b.sub(b.idx(1024), misalignment), b.idx(1024));
  return shared;
}

Value createRingBarriers(KernelBuilder &b, Value tid, int64_t stages,
                         int64_t consumers) {
  Value barriers = createBarriers(b, 2 * stages);
  b.ifThen(b.eq(tid, b.idx(0)), [&] {
    for (int64_t s = 0; s < stages; ++s) {
      initBarrier(b, barriers, b.idx(s), 1);
      initBarrier(b, barriers, b.idx(stages + s), consumers);
    }
    fenceBarrierInit(b);
  });
  b.barrier();
  return barriers;
}

void releaseRingStage(KernelBuilder &b, Value barriers, Value it,
                      int64_t stages, Value arriver) {
  b.ifThen(b.eq(arriver, b.idx(0)), [&] {
    auto [s, parity] = stagePhase(b, it, stages);
    (void)parity;
    arriveBarrier(b, barriers, b.addConst(s, stages));
  });
}

} // namespace gpu
} // namespace loom
