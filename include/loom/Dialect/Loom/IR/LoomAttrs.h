//===- LoomAttrs.h - the loom dialect's attributes ----------------*- C++ -*-===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMATTRS_H
#define LOOM_DIALECT_LOOM_IR_LOOMATTRS_H

#include "loom/Target/TargetDescription.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#define GET_ATTRDEF_CLASSES
#include "loom/Dialect/Loom/IR/LoomAttrs.h.inc"

namespace loom {

/// The target description of `module`: its `loom.target` attribute, else
/// nullopt.
std::optional<TargetDescription> getModuleTarget(mlir::ModuleOp module);

/// The target description a pass with `chip` and `tiles` options runs
/// with: `chip` where given, else the chip of the module's loom.target, else
/// `defaultChip`; `tiles` where given, else the module's (when its chip is
/// the one chosen). Nullopt with `error` set when that does not parse.
std::optional<TargetDescription>
resolveTarget(mlir::ModuleOp module, llvm::StringRef chip,
              llvm::StringRef tiles, llvm::StringRef defaultChip,
              std::string &error);

/// Attaches `target` to `module` as its `loom.target` attribute.
void setModuleTarget(mlir::ModuleOp module, const TargetDescription &target);

} // namespace loom

#endif // LOOM_DIALECT_LOOM_IR_LOOMATTRS_H
