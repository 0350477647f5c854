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

/// A number of bytes moved: known, unknown (a size is dynamic), or too large
/// to count in 64 bits. Sums are checked: each tensor fits (ShapeSizes.h),
/// but a program's total need not.
class ByteCount {
public:
  ByteCount() = default;
  static ByteCount of(int64_t bytes) { return ByteCount(Kind::Known, bytes); }
  static ByteCount dynamic() { return ByteCount(Kind::Dynamic, 0); }
  static ByteCount tooLarge() { return ByteCount(Kind::TooLarge, 0); }

  /// A dynamic operand makes the sum dynamic; otherwise an overflow makes
  /// it too large.
  ByteCount &operator+=(ByteCount other);

  bool isDynamic() const { return kind == Kind::Dynamic; }
  bool isTooLarge() const { return kind == Kind::TooLarge; }
  /// The count when it is known.
  std::optional<int64_t> value() const {
    return kind == Kind::Known ? std::optional<int64_t>(bytes) : std::nullopt;
  }

private:
  enum class Kind { Known, Dynamic, TooLarge };
  ByteCount(Kind kind, int64_t bytes) : kind(kind), bytes(bytes) {}
  Kind kind = Kind::Known;
  int64_t bytes = 0;
};

struct FusionGroupReport {
  std::string function;
  std::string label;
  /// The ops that compute something, in order (views and empties left out).
  std::vector<std::string> ops;
  /// Bytes read and written by the group as one kernel: its tensor operands
  /// and results.
  ByteCount bytes;
  /// Bytes the same ops read and write run one kernel each: every compute
  /// op's tensor inputs (not its destination operands) and results.
  ByteCount unfusedBytes;
};

/// One entry per loom.kernel in `module`, in order.
std::vector<FusionGroupReport> describeFusionGroups(mlir::ModuleOp module);

/// Bytes moved by the ops of `module` (before fusion) run one kernel each,
/// and their number.
struct ProgramTraffic {
  int64_t ops = 0;
  ByteCount bytes;
};
ProgramTraffic describeUnfusedProgram(mlir::ModuleOp module);

/// Bytes of a ranked tensor as the ABI stores it (i4 packed two per byte,
/// i1 one byte): dynamic for a dynamic shape or a non-tensor, too large
/// past 2^63 - 1 (which the verifiers reject).
ByteCount tensorBytes(mlir::Type type);

} // namespace loom

#endif // LOOM_TRANSFORMS_FUSIONREPORT_H
