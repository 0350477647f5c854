//===- InputLimits.h - what every tool checks before and after parsing ---*- C++ -*-===//
//
// docs/Design.md, "Input limits". MLIR's parser, printer, walks and many
// passes recurse once per level of nesting (regions, attribute and type
// brackets, parentheses of affine expressions), so deep enough input
// overflows the stack: 20,000 nested regions crash loom-opt on an 8 MiB
// stack. Every tool that parses IR (loom-opt, loom-compile, and through it
// loom-run; the fuzz targets) therefore
//
//  - scans the text before parsing and stops at the first bracket nested
//    deeper than kMaxNestingDepth, with an error at that bracket;
//  - after parsing (bytecode is not scanned), checks the region nesting and
//    that every shaped type's size fits in 64 bits (ShapeSizes.h), with an
//    error at the op;
//  - does its work on a thread of its own with kToolStackBytes of stack, so
//    that the limit holds whatever the shell's stack limit is.

#ifndef LOOM_SUPPORT_INPUTLIMITS_H
#define LOOM_SUPPORT_INPUTLIMITS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"

#include <cstddef>
#include <memory>
#include <optional>

namespace loom {

/// The deepest nesting the tools accept: of brackets `{ ( [ <` in the text,
/// and of regions in parsed IR.
constexpr unsigned kMaxNestingDepth = 256;

/// The stack the tools run on (runWithToolStack), reserved rather than
/// committed: far more than a nest at the limit needs (upstream mlir-opt
/// parses, canonicalizes and prints 255 nested regions in 768 KiB), so that
/// sanitizer builds and small shell stack limits are covered too.
constexpr unsigned kToolStackBytes = 256u << 20;

/// The byte offset in `text` of the first bracket nested deeper than `limit`,
/// outside strings and comments; nullopt when there is none. A `>` closes a
/// `<` only where it is not part of `->`; a closer without its opener is
/// skipped, so that malformed text is left to the parser.
std::optional<size_t> findTooDeepNesting(llvm::StringRef text,
                                         unsigned limit = kMaxNestingDepth);

/// The error of findTooDeepNesting, for the location it returns.
std::string tooDeepMessage(unsigned limit = kMaxNestingDepth);
/// "Loom's tools accept at most N levels ...".
std::string limitText(unsigned limit = kMaxNestingDepth);

/// Scans the main buffer of `sourceMgr` (unless it is bytecode) and emits
/// the error through `context`'s diagnostics at the bracket that crosses
/// the limit.
mlir::LogicalResult checkTextNesting(const llvm::SourceMgr &sourceMgr,
                                     mlir::MLIRContext *context);

/// The same for a tool that has no context yet (loom-opt before
/// MlirOptMain): prints `file:line:col: error: ...` with the source line.
mlir::LogicalResult checkTextNesting(llvm::SourceMgr &sourceMgr);

/// After parsing: region nesting at most kMaxNestingDepth, and every shaped
/// type of every op (results, block arguments, attributes) within 64-bit
/// sizes. Emits one error at the first op that breaks either. Iterative, so
/// it runs on IR of any depth.
mlir::LogicalResult checkParsedInput(mlir::Operation *root);

/// parseSourceFile<ModuleOp> between the two checks; null after an error.
mlir::OwningOpRef<mlir::ModuleOp>
parseSourceFileWithLimits(const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
                          mlir::MLIRContext *context);

/// A pass that runs checkParsedInput on its op (loom-opt puts it before
/// every pipeline, since MlirOptMain parses for it).
std::unique_ptr<mlir::Pass> createCheckInputLimitsPass();

/// Runs `work` on a new thread with kToolStackBytes of stack and returns
/// what it returns.
int runWithToolStack(llvm::function_ref<int()> work);

} // namespace loom

#endif // LOOM_SUPPORT_INPUTLIMITS_H
