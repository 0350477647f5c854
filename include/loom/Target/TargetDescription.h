//===- TargetDescription.h - the facts of a chip, and tile overrides -*- C++ -*-===//
//
// The target description is where every hardware fact the compiler uses
// lives: the chip, what its tensor cores and copy engines can do, its shared
// memory, SM count and register file, and the tile sizes per op kind that
// the user asked for. A new chip is a new row of the chip table
// (TargetDescription.cpp), not constants in patterns. Kernels and
// conversions ask the description (`hasWgmma()`, `sharedMemoryBytes`, ...)
// and never test chip names.
//
// A pipeline parses it once, from a `chip` and an optional `tiles` string
// (`--loom-gpu-pipeline="chip=sm_90a tiles=attention:128x64,gemm:128x128x32x4"`,
// docs/Design.md "The target description"), into the module attribute
// `loom.target = #loom.target<chip = "sm_90a", tiles = "...">` that later
// passes read (loom-set-target).

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

/// The decode GEMV's schedule (GemvKernel.h): warps per block, n8 tiles
/// per block, K blocks per loop iteration and register pipeline depth (0:
/// the recipe's default, 1 or 2).
struct GemvTile {
  int64_t warps = 0, tiles = 0, unroll = 0, depth = 0;
};

/// The tiles as written in a `tiles` string: "attention:128x64",
/// "gemm:128x128x32" or "gemm:128x128x32x4", "rows:256" (and the W4A16
/// kernel choice, "w4a16:registers" or "w4a16:shared"; the GEMV's
/// "gemv:4x2x2" or "gemv:4x2x2x2").
std::string toString(const AttentionTile &tile);
std::string toString(const GemmTile &tile);
std::string toString(const GemvTile &tile);
std::string rowsToString(int64_t threads);
/// "w4a16:CxR", the W4A16 register kernel's tile override.
std::string w4a16ToString(std::pair<int64_t, int64_t> shape);

struct TargetDescription {
  /// "cpu" or a CUDA architecture "sm_NN[a]".
  std::string chip = "cpu";
  /// Compute capability times ten (0 for the CPU).
  int sm = 0;
  /// Architecture-specific features ("sm_90a": wgmma, setmaxnreg).
  bool archSpecific = false;
  /// Shared memory one block may use once its dynamic limit is raised, in
  /// bytes (0 for the CPU).
  int64_t sharedMemoryBytes = 0;
  /// Shared memory a block may use without raising its limit.
  int64_t defaultSharedMemoryBytes = 0;
  /// Streaming multiprocessors of the chip's data-centre part (H100/H200
  /// SXM: 132; the count differs between products of one architecture, so
  /// a kernel that must match the device asks the runtime instead).
  int64_t smCount = 0;
  /// 32-bit registers per SM, and at most per thread.
  int64_t registersPerSM = 0, maxRegistersPerThread = 0;
  int64_t maxThreadsPerBlock = 0;
  int64_t warpSize = 32;
  /// Set only where `tiles` names them; unset means the chip's own choice
  /// (which may depend on the shapes, as the GPU recipes' heuristics do).
  std::optional<AttentionTile> attention;
  std::optional<GemmTile> gemm;
  /// Threads that cooperate on one row of a norm or RoPE.
  std::optional<int64_t> rowThreads;
  /// The W4A16 kernel on wgmma targets (`w4a16:registers` or
  /// `w4a16:shared`): true for the weights dequantized into the wgmma's
  /// registers (HopperW4A16Kernel.h), false or unset for the wgmma GEMM
  /// with the weights dequantized in shared memory.
  std::optional<bool> w4a16Registers;
  /// That kernel's tile (`w4a16:CONSUMERSxROWS`, which implies
  /// `w4a16:registers`): consumer warpgroups (64 weight rows each) and rows
  /// of x, in place of the choice per shape.
  std::optional<std::pair<int64_t, int64_t>> w4a16Shape;
  /// The decode GEMV's schedule (`gemv:WARPSxTILESxUNROLL[xDEPTH]`), for
  /// every GEMV kernel of the module in place of the one chosen per weight
  /// type.
  std::optional<GemvTile> gemv;
  /// The description of `chip` ("cpu", "sm_90a", "sm_80", any "sm_NN[a]"
  /// with NN >= 80) with the overrides in `tiles` applied: a comma-separated
  /// list of `attention:QxKV`, `gemm:MxNxK[xSTAGES]`, `rows:THREADS`,
  /// `w4a16:registers|shared|CONSUMERSxROWS`,
  /// `gemv:WARPSxTILESxUNROLL[xDEPTH]`. On
  /// a malformed chip or list, returns nullopt and says why in `error`.
  static std::optional<TargetDescription>
  get(llvm::StringRef chip, llvm::StringRef tiles, std::string &error);

  /// As get(), for a GPU: "cpu" is an unknown chip too, and the error names
  /// only the GPU chips.
  static std::optional<TargetDescription>
  getGPU(llvm::StringRef chip, llvm::StringRef tiles, std::string &error);

  bool isGPU() const { return sm != 0; }

  /// Capabilities, as the kernels ask for them.
  /// cp.async, ldmatrix and bf16 mma.sync (Ampere and later).
  bool hasCpAsync() const { return sm >= 80; }
  /// mma.sync on e4m3/e5m2 operands (Ada and later).
  bool hasFp8Mma() const { return sm >= 89; }
  /// The tensor memory accelerator, mbarrier transaction counts, clusters
  /// (Hopper and later).
  bool hasTma() const { return sm >= 90; }
  /// Warpgroup MMA (wgmma.mma_async) and setmaxnreg: sm_90a only (later
  /// architectures have other tensor-core instructions).
  bool hasWgmma() const { return sm == 90 && archSpecific; }
  /// The PTX ISA feature the NVPTX backend needs for the chip ("+ptx80"
  /// below sm_100, which covers sm_80 to sm_90a; "" lets LLVM choose).
  std::string ptxFeatures() const { return sm && sm < 100 ? "+ptx80" : ""; }
  /// The `tiles` string that reproduces the overrides ("" for none).
  std::string tilesString() const;
};

} // namespace loom

#endif // LOOM_TARGET_TARGETDESCRIPTION_H
