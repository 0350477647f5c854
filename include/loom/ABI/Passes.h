//===- Passes.h - passes that give compiled modules their ABI ----*- C++ -*-===//

#ifndef LOOM_ABI_PASSES_H
#define LOOM_ABI_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace loom {

#define GEN_PASS_DECL
#include "loom/ABI/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "loom/ABI/Passes.h.inc"

} // namespace loom

#endif // LOOM_ABI_PASSES_H
