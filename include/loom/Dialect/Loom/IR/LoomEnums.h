//===- LoomEnums.h - typed views of loom's string options ---------*- C++ -*-===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMENUMS_H
#define LOOM_DIALECT_LOOM_IR_LOOMENUMS_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>

#include "loom/Dialect/Loom/IR/LoomEnums.h.inc"

#endif // LOOM_DIALECT_LOOM_IR_LOOMENUMS_H
