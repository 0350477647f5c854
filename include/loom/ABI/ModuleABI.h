//===- ModuleABI.h - entry signatures and the exported ABI of modules -*- C++ -*-===//
//
// A compiled module exports `loom_module_signature` and one
// `loom_entry_<name>` per public function (docs/abi.md). The signature is
// read from the tensor-level functions before lowering erases their types;
// the exported functions are added to the LLVM-dialect module after it.

#ifndef LOOM_ABI_MODULEABI_H
#define LOOM_ABI_MODULEABI_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace loom {
namespace abi {

/// Version written on the signature's first line (`abi 4`).
constexpr int kABIVersion = 4;

/// The message prefix of the asserts of loom-entry-size-asserts, followed by
/// "argument N" or "value", a space and the tensor type; loom-entry-checks
/// words the check from it.
constexpr llvm::StringLiteral kSizeAssertPrefix = "loom-size: ";

/// A public entry: its name and its logical argument and result types (i4
/// tensors with their logical shape, before loom-pack-i4-abi packs them).
struct EntrySignature {
  std::string name;
  llvm::SmallVector<mlir::RankedTensorType> args;
  llvm::SmallVector<mlir::RankedTensorType> results;
};

/// True for element types the ABI carries: f64, f32, f16, bf16, f8E4M3FN,
/// i1, i4, i8, i32, i64.
bool isABIElementType(mlir::Type type);

/// Every public `func.func` with a body is an entry. Reports an error at the
/// function for anything the ABI cannot carry (a name that is not a C
/// identifier, a non-tensor or unranked argument or result, an unsupported
/// element type, an i4 tensor that cannot be packed) and fails.
mlir::FailureOr<llvm::SmallVector<EntrySignature>>
collectEntries(mlir::ModuleOp module);

/// `tensor<128x?xbf16>`: the spelling the runtime parses (MLIR's own).
std::string formatTensorType(mlir::RankedTensorType type);

/// The text returned by `loom_module_signature`: `abi 4`, `target <target>`,
/// then `entry name(T, ...) -> (T, ...)` per entry, one line each.
std::string formatSignature(llvm::ArrayRef<EntrySignature> entries,
                            llvm::StringRef target);

/// Fails with an error at the first op that the pipeline left outside the
/// LLVM dialect (an op with no lowering on this path). Conversions to LLVM
/// are partial, so without this check such an op would surface only as an
/// unrealized cast that LLVM IR translation rejects. With `gpu`, the
/// GPU pipeline's `gpu.binary` ops (the compiled kernels) and the
/// `gpu.launch_func` ops of host functions are expected too: LLVM IR
/// translation lowers them to runtime calls.
mlir::LogicalResult checkLoweredToLLVM(mlir::ModuleOp module,
                                       bool gpu = false);

/// Fails with an error at each function declaration: a module is a
/// self-contained library, and a call to an undefined function could not be
/// resolved when it is loaded.
mlir::LogicalResult checkNoDeclarations(mlir::ModuleOp module);

/// The argument checks of every entry of the tensor-level `module`
/// (docs/abi.md, "Entry checks"), in an LLVM-dialect module of their own:
/// runs convert-loom-to-linalg, upstream generate-runtime-verification and
/// loom-entry-checks on a clone of `module` and lowers the resulting
/// `__loom_check_<entry>` functions and their messages. Needs the passes
/// registered (loom::registerAllPasses). With `indexChecks` (CPU modules,
/// whose arguments are host memory), also the `__loom_index_check_<entry>`
/// functions of loom-entry-index-checks. Fails with a diagnostic.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildEntryChecks(mlir::ModuleOp module, bool indexChecks);

/// On the LLVM-dialect module produced by the CPU or GPU pipeline: moves in
/// the check and shape functions of buildEntryChecks (`checks`, emptied),
/// adds `loom_module_signature` returning `signature` and
/// `loom_module_input_hints` returning `inputHints` (InputHints.h), and for
/// every entry
/// (docs/abi.md):
/// - `const char *loom_entry_<name>(void **args, int64_t nargs)`: checks
///   `nargs` and the argument sizes with `__loom_check_<name>`, returns the
///   failed check's message, or calls `_mlir_ciface_<name>` and returns NULL;
/// - `const char *loom_shape_<name>(void **args, int64_t nargs, int64_t
///   *dims)`: the same checks, then every result's sizes into `dims`;
/// - `const char *loom_call_<name>(void **args, int64_t nargs, const
///   loomCallContext *context)`: destination passing (args[0] points to the
///   caller's result descriptors); with `gpu`, on the context's stream and
///   allocator and without a synchronization (loomCudaCallBegin/End).
/// Every other function definition gets internal linkage, so that a module
/// exports nothing but its ABI. Fails (with a diagnostic) on a missing C
/// interface, check or shape function, or a user symbol with a name the ABI
/// reserves.
mlir::LogicalResult addModuleABI(mlir::ModuleOp module,
                                 llvm::ArrayRef<EntrySignature> entries,
                                 llvm::StringRef signature,
                                 llvm::StringRef inputHints,
                                 mlir::ModuleOp checks, bool gpu);

} // namespace abi
} // namespace loom

#endif // LOOM_ABI_MODULEABI_H
