//===- LoomAttrs.cpp - the loom dialect's attributes ----------------------===//

#include "loom/Dialect/Loom/IR/LoomAttrs.h"
#include "loom/Dialect/Loom/IR/LoomDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

#define GET_ATTRDEF_CLASSES
#include "loom/Dialect/Loom/IR/LoomAttrs.cpp.inc"

void loom::LoomDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "loom/Dialect/Loom/IR/LoomAttrs.cpp.inc"
      >();
}

LogicalResult
loom::TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         StringRef chip, StringRef tiles) {
  std::string error;
  if (!TargetDescription::get(chip, tiles, error))
    return emitError() << error;
  return success();
}

loom::TargetDescription loom::TargetAttr::getDescription() const {
  std::string error;
  return *TargetDescription::get(getChip(), getTiles(), error);
}

std::optional<loom::TargetDescription>
loom::getModuleTarget(ModuleOp module) {
  auto attr = module->getAttrOfType<TargetAttr>(TargetAttr::getAttrName());
  if (!attr)
    return std::nullopt;
  return attr.getDescription();
}

void loom::setModuleTarget(ModuleOp module, const TargetDescription &target) {
  module->setAttr(TargetAttr::getAttrName(),
                  TargetAttr::get(module.getContext(), target.chip,
                                  target.tilesString()));
}

std::optional<loom::TargetDescription>
loom::resolveTarget(ModuleOp module, StringRef chip, StringRef tiles,
                    StringRef defaultChip, std::string &error) {
  auto attr = module ? module->getAttrOfType<TargetAttr>(TargetAttr::getAttrName())
                     : TargetAttr();
  std::string chosen = !chip.empty() ? chip.str()
                       : attr        ? attr.getChip().str()
                                     : defaultChip.str();
  std::string chosenTiles = tiles.str();
  if (tiles.empty() && attr && attr.getChip() == chosen)
    chosenTiles = attr.getTiles().str();
  return TargetDescription::get(chosen, chosenTiles, error);
}
