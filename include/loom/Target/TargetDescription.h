//===- TargetDescription.h - what tiling needs to know about a chip -*- C++ -*-===//
//
// The target description drives tiling: the chip, its shared memory per
// block and the tile sizes per op kind. A new chip is a new description,
// not new constants in patterns. Pipelines and passes take it as a `chip`
// plus an optional `tiles` string that overrides the chip's defaults, e.g.
// `--loom-gpu-pipeline="chip=sm_90a tiles=attention:128x64,gemm:128x128x32x4"`
// (docs/Design.md, "The target description").

#ifndef LOOM_TARGET_TARGETDESCRIPTION_H
#define LOOM_TARGET_TARGETDESCRIPTION_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace loom {

/// A tile of attention: query rows per block and keys per key/value tile.
struct AttentionTile {
  int64_t blockQ = 0, blockKV = 0;
};

/// A GEMM block tile M x N x K and its pipeline depth (stages; 0: the
/// recipe's default).
struct GemmTile {
  int64_t m = 0, n = 0, k = 0, stages = 0;
};

/// The tiles as written in a `tiles` string: "attention:128x64",
/// "gemm:128x128x32" or "gemm:128x128x32x4", "rows:256".
std::string toString(const AttentionTile &tile);
std::string toString(const GemmTile &tile);
std::string rowsToString(int64_t threads);

struct TargetDescription {
  /// "cpu" or a CUDA architecture "sm_NN[a]".
  std::string chip = "cpu";
  /// Compute capability times ten (0 for the CPU).
  int sm = 0;
  /// Shared memory one block may use, in bytes (0 for the CPU).
  int64_t sharedMemoryBytes = 0;
  /// Set only where `tiles` names them; unset means the chip's own choice
  /// (which may depend on the shapes, as the GPU recipes' heuristics do).
  std::optional<AttentionTile> attention;
  std::optional<GemmTile> gemm;
  /// Threads that cooperate on one row of a norm or RoPE.
  std::optional<int64_t> rowThreads;

  /// The description of `chip` ("cpu", "sm_90a", "sm_80", any "sm_NN[a]"
  /// with NN >= 80) with the overrides in `tiles` applied: a comma-separated
  /// list of `attention:QxKV`, `gemm:MxNxK[xSTAGES]`, `rows:THREADS`. On
  /// a malformed chip or list, returns nullopt and says why in `error`.
  static std::optional<TargetDescription>
  get(llvm::StringRef chip, llvm::StringRef tiles, std::string &error);

  /// As get(), for a GPU: "cpu" is an unknown chip too, and the error names
  /// only the GPU chips.
  static std::optional<TargetDescription>
  getGPU(llvm::StringRef chip, llvm::StringRef tiles, std::string &error);

  bool isGPU() const { return sm != 0; }
  /// The `tiles` string that reproduces the overrides ("" for none).
  std::string tilesString() const;
};

} // namespace loom

#endif // LOOM_TARGET_TARGETDESCRIPTION_H
