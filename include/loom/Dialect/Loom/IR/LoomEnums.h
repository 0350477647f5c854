//===- LoomEnums.h - typed views of loom's string options ---------*- C++ -*-===//

#ifndef LOOM_DIALECT_LOOM_IR_LOOMENUMS_H
#define LOOM_DIALECT_LOOM_IR_LOOMENUMS_H

// The generated code also declares mlir::FieldParser specializations (which
// use FailureOr), raw_ostream printers and DenseMapInfo traits: include what
// they need so that this header stands on its own.
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMapInfo.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdint>
#include <optional>

#include "loom/Dialect/Loom/IR/LoomEnums.h.inc"

#endif // LOOM_DIALECT_LOOM_IR_LOOMENUMS_H
