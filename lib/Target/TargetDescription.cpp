//===- TargetDescription.cpp - the chip table and tile overrides -----------===//

#include "loom/Target/TargetDescription.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

using namespace loom;

/// "128x64x32" -> {128, 64, 32}; every size a positive integer.
static std::optional<llvm::SmallVector<int64_t>> parseSizes(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, 'x');
  llvm::SmallVector<int64_t> sizes;
  for (llvm::StringRef part : parts) {
    int64_t size;
    if (part.getAsInteger(10, size) || size <= 0 || size > (1 << 20))
      return std::nullopt;
    sizes.push_back(size);
  }
  return sizes;
}

/// The compute capability times ten of "sm_NN" or "sm_NNa" with NN >= 80.
static std::optional<int> computeCapability(llvm::StringRef chip) {
  llvm::StringRef digits = chip;
  unsigned sm = 0;
  bool prefixed = digits.consume_front("sm_");
  digits.consume_back("a");
  if (!prefixed || digits.empty() || digits.getAsInteger(10, sm) || sm < 80 ||
      sm > 1000)
    return std::nullopt;
  return static_cast<int>(sm);
}

namespace {
/// A row of the chip table: the facts of one architecture's data-centre
/// part (CUDA C Programming Guide, "Compute Capabilities", table 21).
struct ChipFacts {
  int sm;
  int64_t smCount, sharedKiB, registersPerSM;
};
/// Known architectures, ascending. A chip between rows takes the facts of
/// the row below it (sm_87 is an sm_86 here).
constexpr ChipFacts kChips[] = {
    {80, 108, 163, 65536},  // A100
    {86, 84, 99, 65536},    // A10/A40 class (GA102)
    {89, 142, 99, 65536},   // L40S (AD102)
    {90, 132, 227, 65536},  // H100 / H200 SXM
    {100, 148, 227, 65536}, // B200
    {120, 188, 99, 65536},  // RTX PRO 6000 Blackwell (GB202)
};
} // namespace

std::string loom::toString(const AttentionTile &tile) {
  return "attention:" + std::to_string(tile.blockQ) + "x" +
         std::to_string(tile.blockKV);
}

std::string loom::toString(const GemmTile &tile) {
  std::string s = "gemm:" + std::to_string(tile.m) + "x" +
                  std::to_string(tile.n) + "x" + std::to_string(tile.k);
  if (tile.stages)
    s += "x" + std::to_string(tile.stages);
  return s;
}

std::string loom::toString(const GemvTile &tile) {
  std::string s = "gemv:" + std::to_string(tile.warps) + "x" +
                  std::to_string(tile.tiles) + "x" +
                  std::to_string(tile.unroll);
  if (tile.depth)
    s += "x" + std::to_string(tile.depth);
  return s;
}

std::string loom::rowsToString(int64_t threads) {
  return "rows:" + std::to_string(threads);
}

std::string loom::w4a16ToString(std::pair<int64_t, int64_t> shape) {
  return "w4a16:" + std::to_string(shape.first) + "x" +
         std::to_string(shape.second);
}

std::optional<TargetDescription>
TargetDescription::get(llvm::StringRef chip, llvm::StringRef tiles,
                       std::string &error) {
  TargetDescription t;
  t.chip = chip.str();
  if (chip != "cpu") {
    std::optional<int> sm = computeCapability(chip);
    if (!sm) {
      error = "unknown chip '" + chip.str() +
              "' (expected cpu, or sm_NN or sm_NNa with NN >= 80, e.g. "
              "sm_90a or sm_80)";
      return std::nullopt;
    }
    t.sm = *sm;
    t.archSpecific = chip.ends_with("a");
    const ChipFacts *facts = &kChips[0];
    for (const ChipFacts &row : kChips)
      if (row.sm <= *sm)
        facts = &row;
    t.sharedMemoryBytes = facts->sharedKiB * 1024;
    t.defaultSharedMemoryBytes = 48 * 1024;
    t.smCount = facts->smCount;
    t.registersPerSM = facts->registersPerSM;
    t.maxRegistersPerThread = 255;
    t.maxThreadsPerBlock = 1024;
  }
  if (tiles.empty())
    return t;
  llvm::SmallVector<llvm::StringRef> items;
  tiles.split(items, ',');
  for (llvm::StringRef item : items) {
    if (item.trim().empty()) {
      error = "empty tile in '" + tiles.str() +
              "' (expected a comma-separated list of attention:QxKV, "
              "gemm:MxNxK[xSTAGES], rows:THREADS, "
              "gemv:WARPSxTILESxUNROLL[xDEPTH] and "
              "w4a16:registers|shared|CONSUMERSxROWS)";
      return std::nullopt;
    }
    auto [kind, sizesText] = item.trim().split(':');
    if (kind == "w4a16") {
      if (t.w4a16Registers) {
        error = "tile kind 'w4a16' given twice in '" + tiles.str() + "'";
        return std::nullopt;
      }
      if (sizesText != "registers" && sizesText != "shared") {
        // w4a16:CxR, the register kernel with that tile.
        auto shape = parseSizes(sizesText);
        if (!shape || shape->size() != 2) {
          error = "malformed tile '" + item.trim().str() +
                  "' (expected w4a16:registers, w4a16:shared or "
                  "w4a16:CONSUMERSxROWS)";
          return std::nullopt;
        }
        t.w4a16Shape = std::pair((*shape)[0], (*shape)[1]);
      }
      t.w4a16Registers = sizesText != "shared";
      continue;
    }
    auto sizes = parseSizes(sizesText);
    auto bad = [&](llvm::StringRef expected) {
      error = "malformed tile '" + item.trim().str() + "' (expected " +
              expected.str() + " with positive sizes)";
      return std::nullopt;
    };
    auto twice = [&](bool given) {
      if (given)
        error = "tile kind '" + kind.str() + "' given twice in '" +
                tiles.str() + "'";
      return given;
    };
    if (kind == "attention") {
      if (twice(t.attention.has_value()))
        return std::nullopt;
      if (!sizes || sizes->size() != 2)
        return bad("attention:QxKV");
      t.attention = AttentionTile{(*sizes)[0], (*sizes)[1]};
    } else if (kind == "gemm") {
      if (twice(t.gemm.has_value()))
        return std::nullopt;
      if (!sizes || (sizes->size() != 3 && sizes->size() != 4))
        return bad("gemm:MxNxK or gemm:MxNxKxSTAGES");
      t.gemm = GemmTile{(*sizes)[0], (*sizes)[1], (*sizes)[2],
                        sizes->size() == 4 ? (*sizes)[3] : 0};
    } else if (kind == "gemv") {
      if (twice(t.gemv.has_value()))
        return std::nullopt;
      if (!sizes || (sizes->size() != 3 && sizes->size() != 4))
        return bad("gemv:WARPSxTILESxUNROLL or gemv:WARPSxTILESxUNROLLxDEPTH");
      t.gemv = GemvTile{(*sizes)[0], (*sizes)[1], (*sizes)[2],
                        sizes->size() == 4 ? (*sizes)[3] : 0};
    } else if (kind == "rows") {
      if (twice(t.rowThreads.has_value()))
        return std::nullopt;
      if (!sizes || sizes->size() != 1)
        return bad("rows:THREADS");
      t.rowThreads = (*sizes)[0];
    } else {
      error = "unknown tile kind '" + kind.str() +
              "' in '" + item.trim().str() +
              "' (expected attention, gemm, gemv, rows or w4a16)";
      return std::nullopt;
    }
  }
  return t;
}

std::optional<TargetDescription>
TargetDescription::getGPU(llvm::StringRef chip, llvm::StringRef tiles,
                          std::string &error) {
  if (!computeCapability(chip)) {
    error = "unknown chip '" + chip.str() +
            "' (expected sm_NN or sm_NNa with NN >= 80, e.g. sm_90a or "
            "sm_80)";
    return std::nullopt;
  }
  return get(chip, tiles, error);
}

std::string TargetDescription::tilesString() const {
  llvm::SmallVector<std::string> items;
  if (attention)
    items.push_back(toString(*attention));
  if (gemm)
    items.push_back(toString(*gemm));
  if (rowThreads)
    items.push_back(rowsToString(*rowThreads));
  if (w4a16Shape)
    items.push_back(w4a16ToString(*w4a16Shape));
  else if (w4a16Registers)
    items.push_back(*w4a16Registers ? "w4a16:registers" : "w4a16:shared");
  if (gemv)
    items.push_back(toString(*gemv));
  return llvm::join(items, ",");
}
