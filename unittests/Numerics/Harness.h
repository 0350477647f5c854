//===- Harness.h - run loom functions on the CPU for numerics tests -*- C++ -*-===//
//
// Compiles a .mlir source through --loom-cpu-pipeline with MLIR's JIT and calls
// one function on reference tensors, so that each op's lowering can be checked
// against the double-precision code of unittests/Reference.

#ifndef LOOM_UNITTESTS_NUMERICS_HARNESS_H
#define LOOM_UNITTESTS_NUMERICS_HARNESS_H

#include "Reference.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom::test {

using loom::ref::Tensor;

/// `x` rounded to what an element of MLIR type `type` holds ("f32", "f16",
/// "bf16", "f8E4M3FN": nearest even; integer and i1 types: unchanged).
double roundTo(llvm::StringRef type, double x);

/// Every element of `t` rounded as by roundTo.
Tensor roundedTo(llvm::StringRef type, Tensor t);

/// A tensor of `shape` with uniform values in [lo, hi) from `seed`, rounded to
/// `type` so that the reference sees exactly what the compiled code sees.
Tensor randomTensor(llvm::StringRef type, std::vector<int64_t> shape,
                    uint64_t seed, double lo = -1.0, double hi = 1.0);

/// A tensor of uniform integers in [lo, hi] (weights, masks).
Tensor randomInts(std::vector<int64_t> shape, uint64_t seed, int64_t lo,
                  int64_t hi);

/// The MLIR spelling of a ranked tensor type; -1 in `shape` is a dynamic dim.
std::string tensorType(const std::vector<int64_t> &shape,
                       const std::string &elementType);

/// Relative 2-norm error allowed for a result rounded once into `type` after
/// f32 arithmetic (inputs already in that type): bf16 8e-3, f16 1e-3, f32 1e-5.
double tolerance(const std::string &type);

/// ||a - b|| / max(||b||, tiny): the relative error in the 2-norm.
double relativeError(const Tensor &a, const Tensor &b);

/// Largest |a - b| over elements.
double maxAbsError(const Tensor &a, const Tensor &b);

/// Whether some element of `t` is NaN.
bool hasNaN(const Tensor &t);

/// Whether every element of `t` is finite (no NaN, no infinity).
bool allFinite(const Tensor &t);

/// One function @f around one op:
/// `%r = <op> %a0, %a1, ... <attrs> : (<args>) -> <resultType>`.
std::string oneOp(const std::string &op, const std::vector<std::string> &args,
                  const std::string &attrs, const std::string &resultType);
/// The same with several results `%r0, %r1, ...`, all returned.
std::string oneOp(const std::string &op, const std::vector<std::string> &args,
                  const std::string &attrs,
                  const std::vector<std::string> &resultTypes);

/// Compiles `source` (a module) with the CPU pipeline and calls `function` on
/// `inputs`, one per argument, each converted to the argument's element type
/// (floats rounded to nearest even; integers and i1 taken as they are).
/// Returns the results converted to double. An error carries the compiler's
/// diagnostics or says which input does not fit the signature.
llvm::Expected<std::vector<Tensor>> runOnCPU(llvm::StringRef source,
                                             llvm::StringRef function,
                                             const std::vector<Tensor> &inputs);

/// The same through the ahead-of-time path users take: `loom-compile
/// --target=cpu` writes a shared library, which the runtime loads and calls
/// (the module ABI of docs/abi.md: packed i4, fresh result buffers).
llvm::Expected<std::vector<Tensor>>
runCompiled(llvm::StringRef source, llvm::StringRef function,
            const std::vector<Tensor> &inputs);

} // namespace loom::test

#endif // LOOM_UNITTESTS_NUMERICS_HARNESS_H
