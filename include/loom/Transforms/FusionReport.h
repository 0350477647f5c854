//===- FusionReport.h - what each fusion group runs and moves ------*- C++ -*-===//
//
// For loom-compile's report (docs/fusion.md): the fusion groups that
// loom-fuse forms, the ops in each and the bytes each moves through memory,
// compared with running the same ops one kernel each.

#ifndef LOOM_TRANSFORMS_FUSIONREPORT_H
#define LOOM_TRANSFORMS_FUSIONREPORT_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom {

struct FusionGroupReport {
  std::string function;
  std::string label;
  /// The ops that compute something, in order (views and empties left out).
  std::vector<std::string> ops;
  /// Bytes read and written by the group as one kernel: its tensor operands
  /// and results. nullopt when a size is dynamic.
  std::optional<int64_t> bytes;
  /// Bytes the same ops read and write run one kernel each: every compute
  /// op's tensor inputs (not its destination operands) and results.
  std::optional<int64_t> unfusedBytes;
};

/// One entry per loom.kernel in `module`, in order.
std::vector<FusionGroupReport> describeFusionGroups(mlir::ModuleOp module);

/// Bytes moved by the ops of `module` (before fusion) run one kernel each,
/// and their number; the bytes are nullopt when a size is dynamic.
struct ProgramTraffic {
  int64_t ops = 0;
  std::optional<int64_t> bytes = 0;
};
ProgramTraffic describeUnfusedProgram(mlir::ModuleOp module);

/// Bytes of a ranked tensor as the ABI stores it (i4 packed two per byte,
/// i1 one byte); nullopt for a dynamic shape or a non-tensor.
std::optional<int64_t> tensorBytes(mlir::Type type);

} // namespace loom

#endif // LOOM_TRANSFORMS_FUSIONREPORT_H
