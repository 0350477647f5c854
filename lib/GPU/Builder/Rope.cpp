//===- Rope.cpp - the RoPE rotation of one pair ---------------------------===//

#include "loom/GPU/Builder/Rope.h"

using namespace mlir;

namespace loom {
namespace gpu {

std::pair<Value, Value> rotatePair(KernelBuilder &b, Value x1, Value x2,
                                   Value c, Value s) {
  Value x1c = b.fmul(x1, c);
  Value x2s = b.fmul(x2, s);
  Value y1 = b.fsub(x1c, x2s);
  Value x2c = b.fmul(x2, c);
  Value x1s = b.fmul(x1, s);
  Value y2 = b.fadd(x2c, x1s);
  return {y1, y2};
}

} // namespace gpu
} // namespace loom
