//===- MergeModules.cpp - loom-gpu-merge-modules: one gpu.module ----------===//
//
// gpu-kernel-outlining makes one gpu.module per kernel, and each gpu.module
// is compiled on its own by gpu-module-to-binary (an NVPTX back-end run and a
// ptxas process each). Gathering the kernels into one gpu.module makes that
// one compilation, and one cubin per compiled module.

#include "loom/GPU/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMGPUMERGEMODULESPASS
#include "loom/GPU/Transforms/Passes.h.inc"
} // namespace loom

namespace {

struct LoomGPUMergeModulesPass
    : loom::impl::LoomGPUMergeModulesPassBase<LoomGPUMergeModulesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    if (gpuModules.size() < 2)
      return;
    // Loom's kernel library module first, if there is one.
    auto target = llvm::find_if(gpuModules, [](gpu::GPUModuleOp m) {
      return m.getSymName() == "loom_kernels";
    });
    gpu::GPUModuleOp into =
        target != gpuModules.end() ? *target : gpuModules.front();
    // A target attribute or an offloading handler decides how a module is
    // compiled; modules that disagree cannot be merged.
    for (gpu::GPUModuleOp other : gpuModules)
      if (other != into && (other.getTargetsAttr() != into.getTargetsAttr() ||
                            other.getOffloadingHandlerAttr() !=
                                into.getOffloadingHandlerAttr())) {
        other.emitError() << "loom-gpu-merge-modules: gpu.module @"
                          << other.getSymName() << " has other targets than @"
                          << into.getSymName()
                          << "; merge before nvvm-attach-target";
        return signalPassFailure();
      }

    SymbolTable intoTable(into);
    // Renamed symbols of each merged module: old name -> new name.
    for (gpu::GPUModuleOp from : gpuModules) {
      if (from == into)
        continue;
      llvm::DenseMap<StringAttr, StringAttr> renamed;
      SmallVector<Operation *> moved;
      for (Operation &op :
           llvm::make_early_inc_range(from.getBody()->without_terminator())) {
        auto symbol = dyn_cast<SymbolOpInterface>(&op);
        if (!symbol) {
          op.emitError() << "loom-gpu-merge-modules: cannot move a '"
                         << op.getName() << "' between gpu.modules";
          return signalPassFailure();
        }
        StringAttr name = symbol.getNameAttr();
        Operation *existing = intoTable.lookup(name);
        if (existing && !isa<gpu::GPUFuncOp>(op) &&
            OperationEquivalence::isEquivalentTo(
                existing, &op, OperationEquivalence::ignoreValueEquivalence,
                nullptr, OperationEquivalence::IgnoreLocations)) {
          // The same constant or declaration: share it.
          op.erase();
          continue;
        }
        op.remove();
        moved.push_back(&op);
        // Inserting renames on a clash (a unique suffix).
        StringAttr newName = intoTable.insert(&op);
        if (newName != name)
          renamed[name] = newName;
      }
      // Uses inside the moved ops (a kernel's get_global of a renamed
      // constant, calls to renamed functions); the ops that were there
      // before refer to their own symbols.
      for (auto [oldName, newName] : renamed)
        for (Operation *op : moved)
          if (failed(SymbolTable::replaceAllSymbolUses(oldName, newName, op))) {
            op->emitError() << "loom-gpu-merge-modules: cannot rename uses "
                               "of @"
                            << oldName.getValue();
            return signalPassFailure();
          }
      // Launches: @from::@f -> @into::@f (or its new name).
      StringAttr fromName = from.getSymNameAttr();
      WalkResult walk = module.walk([&](gpu::LaunchFuncOp launch) {
        SymbolRefAttr kernel = launch.getKernel();
        if (kernel.getRootReference() != fromName)
          return WalkResult::advance();
        StringAttr leaf = kernel.getLeafReference();
        if (auto it = renamed.find(leaf); it != renamed.end())
          leaf = it->second;
        launch.setKernelAttr(SymbolRefAttr::get(
            into.getSymNameAttr(), {FlatSymbolRefAttr::get(leaf)}));
        return WalkResult::advance();
      });
      (void)walk;
      if (!SymbolTable::symbolKnownUseEmpty(from, module)) {
        from.emitError() << "loom-gpu-merge-modules: gpu.module @"
                         << from.getSymName()
                         << " is referenced by something other than a "
                            "gpu.launch_func";
        return signalPassFailure();
      }
      from.erase();
    }
  }
};

} // namespace
