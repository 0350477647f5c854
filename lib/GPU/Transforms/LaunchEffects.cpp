//===- LaunchEffects.cpp - memory effects of kernel launches --------------===//

#include "loom/GPU/Transforms/LaunchEffects.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace {

/// A kernel may read and write every buffer passed to it (which of them it
/// only reads is not known at the launch).
struct LaunchFuncEffects
    : public MemoryEffectOpInterface::ExternalModel<LaunchFuncEffects,
                                                    gpu::LaunchFuncOp> {
  void
  getEffects(Operation *op,
             SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                 &effects) const {
    auto launch = cast<gpu::LaunchFuncOp>(op);
    for (OpOperand &operand : launch.getKernelOperandsMutable()) {
      if (!isa<BaseMemRefType>(operand.get().getType()))
        continue;
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    }
  }
};

/// Encoding a tensor map reads only the memref's address and shape (host
/// metadata), not its data: no memory effect. The kernel that uses the map
/// reads the data, so its launch takes the memref as an argument too and
/// the launch's effects order it.
struct TmaCreateDescriptorEffects
    : public MemoryEffectOpInterface::ExternalModel<
          TmaCreateDescriptorEffects, nvgpu::TmaCreateDescriptorOp> {
  void
  getEffects(Operation *op,
             SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                 &effects) const {
    (void)op;
    (void)effects;
  }
};
} // namespace

void loom::registerGPULaunchEffects(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, gpu::GPUDialect *) {
    gpu::LaunchFuncOp::attachInterface<LaunchFuncEffects>(*context);
  });
  registry.addExtension(+[](MLIRContext *context, nvgpu::NVGPUDialect *) {
    nvgpu::TmaCreateDescriptorOp::attachInterface<TmaCreateDescriptorEffects>(
        *context);
  });
}
