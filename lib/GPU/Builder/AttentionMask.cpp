//===- AttentionMask.cpp - windows and sinks of the attention kernels -----===//

#include "loom/GPU/Builder/AttentionMask.h"

#include <algorithm>
#include <cstdio>

using namespace mlir;

namespace loom {
namespace gpu {

std::string checkWindows(llvm::ArrayRef<int64_t> windows, int64_t sink,
                         bool causal) {
  if (!windows.empty() && !causal)
    return "a window needs causal";
  for (int64_t w : windows)
    if (w < 0)
      return "windows must be >= 0";
  if (sink < 0)
    return "the sink must be >= 0";
  return "";
}

std::string windowsNameSuffix(llvm::ArrayRef<int64_t> windows, int64_t sink) {
  std::string name;
  if (windows.size() == 1) {
    name += "_w" + std::to_string(windows[0]);
  } else if (!windows.empty()) {
    uint64_t hash = 1469598103934665603ull;
    for (int64_t w : windows) {
      hash ^= static_cast<uint64_t>(w);
      hash *= 1099511628211ull;
    }
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx",
             static_cast<unsigned long long>(hash));
    name += "_wh" + std::to_string(windows.size()) + "x" + hex;
  }
  if (!windows.empty() && sink)
    name += "_sink" + std::to_string(sink);
  return name;
}

Value layoutTileSet(KernelBuilder &b, Value inRange, Value layout, Value lb,
                    Value lh, Value qBlock, Value tile, int64_t blockN,
                    Value blockK) {
  return b.ifThenElse(
      inRange, b.getI1Type(),
      [&] {
        Value kBlock = b.divu(b.mul(tile, b.idx(blockN)), blockK);
        return b.load(layout, {lb, lh, qBlock, kBlock});
      },
      [&] { return b.i1(false); });
}

Value headWindow(KernelBuilder &b, llvm::ArrayRef<int64_t> windows, Value h) {
  Value win = b.idx(windows.back());
  for (int64_t i = static_cast<int64_t>(windows.size()) - 2; i >= 0; --i)
    if (windows[i] != windows.back())
      win = b.select(b.eq(h, b.idx(i)), b.idx(windows[i]), win);
  return win;
}

int64_t widestWindow(llvm::ArrayRef<int64_t> windows) {
  if (llvm::is_contained(windows, 0))
    return 0;
  return windows.empty() ? 0 : *std::max_element(windows.begin(), windows.end());
}

} // namespace gpu
} // namespace loom
