//===- AsyncCopy.cpp - asynchronous copies into shared memory -------------===//

#include "loom/GPU/Builder/AsyncCopy.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

using namespace mlir;

namespace loom {
namespace gpu {

void asyncCopy(KernelBuilder &b, Value dst, ValueRange dstIndices, Value src,
               ValueRange srcIndices, int64_t elements, Value validElements,
               bool bypassL1) {
  nvgpu::DeviceAsyncCopyOp::create(
      b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst, dstIndices,
      src, srcIndices, b.getIndexAttr(elements), validElements,
      bypassL1 ? b.getUnitAttr() : UnitAttr());
}

void commitAsyncCopies(KernelBuilder &b) { NVVM::CpAsyncCommitGroupOp::create(b); }

void waitAsyncCopies(KernelBuilder &b, int64_t pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, pending);
}

} // namespace gpu
} // namespace loom
