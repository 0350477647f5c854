//===- InputHints.h - ranges for random inputs, by role -------*- C++ -*-===//
//
// `loom-run --random-inputs` fills a block's arguments with random values.
// Uniform values in [-1, 1) for every float make a block's output grow with
// its widths (a W4A16 projection with scales in [-1, 1) multiplies by about
// sqrt(K) * 4), so a compiled module records, per entry argument, the range
// that keeps each op's output O(1), chosen from how the argument is first
// used (the same roles as bench/gpu_check.py's inputs). The module exports
// the text as `loom_module_input_hints` (docs/abi.md, "Input hints").

#ifndef LOOM_ABI_INPUTHINTS_H
#define LOOM_ABI_INPUTHINTS_H

#include "loom/ABI/ModuleABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace loom {
namespace abi {

/// One argument's range for random inputs.
struct InputHint {
  enum Kind {
    /// No hint: the generator's default for the element type.
    None,
    /// Floats uniform in [lo, hi).
    Float,
    /// Integers uniform in [lo, hi] (both ends integers).
    Integer,
    /// A nondecreasing 1-D integer tensor from 0 to `hi` (`paged_attention`'s
    /// q_offsets over hi packed query rows).
    Offsets,
  };
  Kind kind = None;
  double lo = 0, hi = 0;
};

/// The hint of every argument of the tensor-level entry `fn`: the role of
/// its first use by a loom op, looking through reshapes, casts and
/// transposes (e.g. `qlinear`'s scales, `rms_norm`'s gain, `paged_attention`'s
/// block table). None where no role applies or a size it needs is dynamic.
llvm::SmallVector<InputHint> inputHints(mlir::func::FuncOp fn);

/// The text returned by `loom_module_input_hints`: one line per entry,
/// `entry NAME: H; H; ...` with one hint per argument, each `-`, `f LO HI`,
/// `i LO HI` or `offsets N` (numbers as `%.9g`).
std::string formatInputHints(mlir::ModuleOp module,
                             llvm::ArrayRef<EntrySignature> entries);

} // namespace abi
} // namespace loom

#endif // LOOM_ABI_INPUTHINTS_H
