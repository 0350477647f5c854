//===- SetTarget.cpp - loom-set-target: the target description, once -----===//

#include "loom/Dialect/Loom/IR/LoomAttrs.h"
#include "loom/Transforms/Passes.h"

namespace loom {
#define GEN_PASS_DEF_LOOMSETTARGETPASS
#include "loom/Transforms/Passes.h.inc"
} // namespace loom

namespace {
struct LoomSetTargetPass
    : loom::impl::LoomSetTargetPassBase<LoomSetTargetPass> {
  using Base::Base;
  void runOnOperation() override {
    std::string error;
    std::optional<loom::TargetDescription> target =
        loom::TargetDescription::get(chip, tiles, error);
    if (!target) {
      mlir::emitError(getOperation().getLoc()) << "loom-set-target: " << error;
      return signalPassFailure();
    }
    loom::setModuleTarget(getOperation(), *target);
  }
};
} // namespace
