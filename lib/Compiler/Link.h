//===- Link.h - the host side of a compilation: object and link -*- C++ -*-===//

#ifndef LOOM_LIB_COMPILER_LINK_H
#define LOOM_LIB_COMPILER_LINK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace loom::detail {

/// A host TargetMachine producing position-independent code for `cpu`
/// (empty: generic; "native": this machine's, with its features).
std::unique_ptr<llvm::TargetMachine> hostTargetMachine(llvm::StringRef cpu,
                                                       std::string &error);

/// The C compiler driver that links the library: $LOOM_CC, else `cc` on
/// PATH.
std::optional<std::string> findLinker(std::string &error);

/// MLIR's makeOptimizingTransformer at `optLevel`, with the SLP vectorizer
/// only if `slpVectorize` (a GPU module's host code, which only moves
/// descriptors and launches kernels, gains nothing from it).
llvm::Error optimizeHostModule(llvm::Module &module, llvm::TargetMachine &tm,
                               unsigned optLevel, bool slpVectorize);

/// Writes `module` as an object file to `path`.
bool emitObject(llvm::TargetMachine &tm, llvm::Module &module,
                llvm::StringRef path, std::string &error);

/// Links `object` into the shared library `output` with `linker` (docs/abi.md,
/// "Linking"); a GPU module's mgpu* and loomCuda* calls stay undefined.
bool linkSharedLibrary(llvm::StringRef linker, llvm::StringRef object,
                       llvm::StringRef output, bool gpu, std::string &error);

} // namespace loom::detail

#endif // LOOM_LIB_COMPILER_LINK_H
