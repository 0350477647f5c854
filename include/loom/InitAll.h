//===- InitAll.h - registration of everything a Loom tool needs ---*- C++ -*-===//
//
// Every tool (loom-opt, loom-compile) and every embedding program registers
// through these functions, so they all see the same dialects and passes.

#ifndef LOOM_INITALL_H
#define LOOM_INITALL_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace loom {

/// Adds the loom dialect and the upstream dialects (with their interface
/// extensions) that Loom programs and pipelines use.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers Loom's passes and pipelines and the upstream ones, so that
/// `--pass-pipeline` strings can name them. Safe to call more than once.
void registerAllPasses();

/// Convenience for embedders: a registry with everything above, appended to
/// `context` (dialects still load lazily).
void registerAllDialects(mlir::MLIRContext &context);

} // namespace loom

#endif // LOOM_INITALL_H
