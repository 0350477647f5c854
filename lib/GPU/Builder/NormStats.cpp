//===- NormStats.cpp - the statistics of rms_norm and layer_norm ----------===//

#include "loom/GPU/Builder/NormStats.h"

using namespace mlir;

namespace loom {
namespace gpu {

Value rmsInverse(KernelBuilder &b, Value sumSquares, Value count, Value eps) {
  Value meanSquare = b.fdiv(sumSquares, count);
  return b.rsqrt(b.fadd(meanSquare, eps));
}

LayerNormStats layerNormStats(KernelBuilder &b, Value sumD, Value sumDD,
                              Value count, Value eps) {
  Value r = b.fdiv(sumD, count);
  Value rr = b.fmul(r, r);
  Value var = b.fsub(b.fdiv(sumDD, count), rr);
  var = b.fmax(var, b.f32(0.0));
  return {r, b.rsqrt(b.fadd(var, eps))};
}

} // namespace gpu
} // namespace loom
