//===- KernelTestUtil.h - building kernels in a test's own module -*- C++ -*-===//

#ifndef LOOM_UNITTESTS_GPU_KERNELTESTUTIL_H
#define LOOM_UNITTESTS_GPU_KERNELTESTUTIL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>

namespace loom {
namespace test {

/// A context with every dialect a kernel builds ops of, and an empty module.
struct KernelModule {
  KernelModule();
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The messages of the diagnostics emitted while building.
  std::string diagnostics;
};

/// Builds one kernel with `build` into a fresh module and checks it: the
/// build succeeds, no diagnostic is emitted, the gpu.func `name` exists,
/// the whole module verifies, and its printed form parses back. Returns an
/// empty string on success, else what went wrong (with the IR).
std::string buildAndCheck(
    llvm::StringRef name,
    llvm::function_ref<mlir::FailureOr<mlir::SymbolRefAttr>(
        mlir::ModuleOp, mlir::Location)>
        build);

} // namespace test
} // namespace loom

#endif // LOOM_UNITTESTS_GPU_KERNELTESTUTIL_H
