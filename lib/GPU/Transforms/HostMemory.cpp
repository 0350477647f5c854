//===- HostMemory.cpp - loom-gpu-host-memory: buffers in device memory ----===//
//
// After loom-gpu-map-loops and gpu-kernel-outlining, host functions only
// manage buffers (allocate, free, copy as a whole) and launch kernels. On the
// GPU every buffer lives in device memory: this pass turns the memref
// allocation, deallocation and copy ops of host functions into their gpu
// dialect counterparts (later runtime calls), gives host-side constants a
// device copy, and checks that no host op dereferences a buffer.

#include "loom/GPU/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMGPUHOSTMEMORYPASS
#include "loom/GPU/Transforms/Passes.h.inc"
} // namespace loom

namespace {

/// gpu.alloc, gpu.memcpy and their lowering (gpu-to-llvm) take buffers with
/// the identity layout in the default memory space.
LogicalResult checkDeviceBufferType(Operation *op, Type type, StringRef what) {
  auto memref = dyn_cast<MemRefType>(type);
  if (memref && memref.getLayout().isIdentity() && !memref.getMemorySpace())
    return success();
  return op->emitError() << "loom-gpu-host-memory: " << what << " of type "
                         << type
                         << " cannot live in device memory (only "
                            "identity-layout memrefs in the default memory "
                            "space can)";
}

/// The ops that end `func` (its returns).
SmallVector<Operation *> returnsOf(func::FuncOp func) {
  SmallVector<Operation *> returns;
  for (Block &block : func.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
      returns.push_back(ret);
  return returns;
}

struct LoomGPUHostMemoryPass
    : loom::impl::LoomGPUHostMemoryPassBase<LoomGPUHostMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool ok = true;
    // Host functions are the module's func.func ops (kernels are gpu.func
    // in gpu.module ops).
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isDeclaration() &&
          (failed(convertFunction(func)) || failed(checkNoHostAccess(func))))
        ok = false;
    if (!ok)
      signalPassFailure();
  }

  LogicalResult convertFunction(func::FuncOp func) {
    // Bodies of gpu.launch ops not outlined yet are device code.
    SmallVector<Operation *> ops;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
              memref::CopyOp, memref::GetGlobalOp>(op))
        ops.push_back(op);
      return WalkResult::advance();
    });
    // One device copy per global per function, made at entry.
    llvm::DenseMap<Attribute, Value> globalCopies;
    SmallVector<Value> entryBuffers; // Freed before every return.
    for (Operation *op : ops) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (failed(checkDeviceBufferType(op, alloc.getType(), "a buffer")))
          return failure();
        auto device = gpu::AllocOp::create(
            b, loc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        alloc.replaceAllUsesWith(device.getMemref());
        alloc.erase();
        continue;
      }
      if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
        if (failed(checkDeviceBufferType(op, alloca.getType(), "a buffer")))
          return failure();
        if (alloca->getBlock() != &func.getBody().front())
          return op->emitError()
                 << "loom-gpu-host-memory: a memref.alloca outside the "
                    "entry block of a host function is not supported (its "
                    "buffer must be freed before the function returns)";
        auto device = gpu::AllocOp::create(
            b, loc, alloca.getType(), Type(), ValueRange(),
            alloca.getDynamicSizes(), alloca.getSymbolOperands(), false);
        alloca.replaceAllUsesWith(device.getMemref());
        alloca.erase();
        entryBuffers.push_back(device.getMemref());
        continue;
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        if (failed(checkDeviceBufferType(op, dealloc.getMemref().getType(),
                                         "a freed buffer")))
          return failure();
        gpu::DeallocOp::create(b, loc, /*asyncToken=*/Type(), ValueRange(),
                               dealloc.getMemref());
        dealloc.erase();
        continue;
      }
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        if (failed(checkDeviceBufferType(op, copy.getSource().getType(),
                                         "the source of a copy")) ||
            failed(checkDeviceBufferType(op, copy.getTarget().getType(),
                                         "the target of a copy")))
          return failure();
        gpu::MemcpyOp::create(b, loc, /*asyncToken=*/Type(), ValueRange(),
                              copy.getTarget(), copy.getSource());
        copy.erase();
        continue;
      }
      auto global = cast<memref::GetGlobalOp>(op);
      if (global.getResult().use_empty()) {
        global.erase();
        continue;
      }
      if (failed(checkDeviceBufferType(op, global.getType(), "a constant")))
        return failure();
      Value &copyOf = globalCopies[global.getNameAttr()];
      if (!copyOf) {
        OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
        Value host = memref::GetGlobalOp::create(entry, loc, global.getType(),
                                                 global.getNameAttr());
        auto device = gpu::AllocOp::create(entry, loc, global.getType(), Type(),
                                           ValueRange(), ValueRange(),
                                           ValueRange(), false);
        gpu::MemcpyOp::create(entry, loc, Type(), ValueRange(),
                              device.getMemref(), host);
        copyOf = device.getMemref();
        entryBuffers.push_back(copyOf);
      }
      global.replaceAllUsesWith(copyOf);
      global.erase();
    }
    for (Operation *ret : returnsOf(func)) {
      OpBuilder b(ret);
      for (Value buffer : entryBuffers)
        gpu::DeallocOp::create(b, ret->getLoc(), Type(), ValueRange(), buffer);
    }
    return success();
  }

  /// Host code must not read or write through a memref: its buffers are in
  /// device memory. Everything that does was put in a kernel by
  /// loom-gpu-map-loops; anything left is a defect upstream of here, better
  /// reported than run.
  LogicalResult checkNoHostAccess(func::FuncOp func) {
    Operation *culprit = nullptr;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (isa_and_present<gpu::GPUDialect>(op->getDialect()) ||
          op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
          isa<func::CallOp>(op))
        return WalkResult::advance();
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      bool touches = effects ? (effects.hasEffect<MemoryEffects::Read>() ||
                                effects.hasEffect<MemoryEffects::Write>())
                             : (!op->hasTrait<OpTrait::IsTerminator>() &&
                                llvm::any_of(op->getOperandTypes(),
                                             llvm::IsaPred<MemRefType>));
      if (!touches)
        return WalkResult::advance();
      culprit = op;
      return WalkResult::interrupt();
    });
    if (!culprit)
      return success();
    return culprit->emitError()
           << "loom-gpu-host-memory: '" << culprit->getName()
           << "' reads or writes a buffer in host code, but on the GPU path "
              "buffers are in device memory (run loom-gpu-map-loops first "
              "to put memory accesses in kernels)";
  }
};

} // namespace
