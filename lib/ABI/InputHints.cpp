//===- InputHints.cpp - ranges for random inputs, by role ------------------===//

#include "loom/ABI/InputHints.h"

#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace loom {
namespace abi {

namespace {

/// A float hint with the mean and standard deviation of a normal
/// distribution of the same spread: uniform in mean +- sqrt(3) * std.
InputHint spread(double std, double mean = 0.0) {
  double half = std::sqrt(3.0) * std;
  return {InputHint::Float, mean - half, mean + half};
}

InputHint uniform(double lo, double hi) { return {InputHint::Float, lo, hi}; }

InputHint integers(int64_t lo, int64_t hi) {
  return {InputHint::Integer, double(lo), double(hi)};
}

int64_t staticDim(Value value, int64_t dim) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return ShapedType::kDynamic;
  if (dim < 0)
    dim += type.getRank();
  if (dim < 0 || dim >= type.getRank())
    return ShapedType::kDynamic;
  return type.getDimSize(dim);
}

/// The reduction length K of a linear layer: the weight's last dimension,
/// else the input's, else 1024 (only the magnitude depends on it).
double reductionLength(Value x, Value w) {
  int64_t k = staticDim(w, -1);
  if (ShapedType::isDynamic(k))
    k = staticDim(x, -1);
  return ShapedType::isDynamic(k) || k <= 0 ? 1024.0 : double(k);
}

/// The hint of `value` (an argument or a view of one) used as an operand of
/// the loom op `op`.
InputHint roleHint(Operation *op, Value value) {
  if (auto linear = dyn_cast<LinearOp>(op)) {
    double k = reductionLength(linear.getX(), linear.getW());
    if (value == linear.getW())
      return spread(1.0 / std::sqrt(k));
    if (value == linear.getBias())
      return spread(0.5);
    return {};
  }
  if (auto qlinear = dyn_cast<QLinearOp>(op)) {
    double k = reductionLength(qlinear.getX(), qlinear.getW());
    if (value == qlinear.getWScale()) {
      // Weights uniform in [-7, 7] (i4) or [-127, 127] (i8): a scale of
      // about 2 / (sqrt(K) qmax) keeps x W^T's magnitude that of x.
      bool i4 = getElementTypeOrSelf(qlinear.getW().getType())
                    .isSignlessInteger(4);
      double denominator = std::sqrt(k) * (i4 ? 8.0 : 128.0) / 2.0;
      return uniform(0.5 / denominator, 1.5 / denominator);
    }
    if (value == qlinear.getBias())
      return spread(0.5);
    // i4 weights symmetric about 0, as symmetric quantization makes them:
    // [-8, 7] has mean -1/2, which adds a row-wide offset to x W^T that the
    // next layers grow (a Llama block's output drifts to std 3.5 from 1.1).
    if (value == qlinear.getW() &&
        getElementTypeOrSelf(qlinear.getW().getType()).isSignlessInteger(4))
      return integers(-7, 7);
    return {};
  }
  if (auto qmatmul = dyn_cast<QMatmulOp>(op)) {
    double k = reductionLength(qmatmul.getXq(), qmatmul.getW());
    // i8 values spread about 64 wide, f8 ones (drawn about 4 wide) 4.
    double width =
        getElementTypeOrSelf(qmatmul.getXq().getType()).isSignlessInteger(8)
            ? 64.0
            : 4.0;
    if (value == qmatmul.getXs())
      return uniform(0.5 / width, 1.5 / width);
    if (value == qmatmul.getWScale())
      return uniform(0.5 / (std::sqrt(k) * width),
                     1.5 / (std::sqrt(k) * width));
    if (value == qmatmul.getBias())
      return spread(0.5);
    return {};
  }
  if (auto la = dyn_cast<LinearAttentionOp>(op)) {
    if (value == la.getGate())
      return uniform(-0.5, 0.0); // log-gates: a decay per token
    if (value == la.getBeta())
      return uniform(0.0, 1.0);
    if (value == la.getInitialState())
      return spread(0.5);
    if (value == la.getK() && la.getRule() == "delta") {
      // Keys of norm about 0.5: the delta rule's state stays bounded.
      int64_t dk = staticDim(la.getK(), -1);
      return ShapedType::isDynamic(dk) || dk <= 0
                 ? InputHint{}
                 : spread(0.5 / std::sqrt(double(dk)));
    }
    return {};
  }
  // Sink logits: sinks that take a sizeable share of each row, as learned
  // ones do.
  if (auto attention = dyn_cast<AttentionOp>(op))
    return value == attention.getSinkLogits() ? uniform(3.0, 7.0)
                                              : InputHint{};
  if (auto bsa = dyn_cast<BlockSparseAttentionOp>(op))
    return value == bsa.getSinkLogits() ? uniform(3.0, 7.0) : InputHint{};
  if (auto paged = dyn_cast<PagedAttentionOp>(op)) {
    if (value == paged.getSinkLogits())
      return uniform(3.0, 7.0);
    // Index data within the op's requirements, so that the entry's index
    // checks accept it: offsets over the packed query rows, lengths up to
    // the table's pages, page indices of the cache.
    int64_t rows = staticDim(paged.getQ(), 0);
    int64_t pages = staticDim(paged.getK(), 0);
    int64_t pageSize = staticDim(paged.getK(), 1);
    int64_t maxPages = staticDim(paged.getBlockTable(), 1);
    if (value == paged.getQOffsets())
      return ShapedType::isDynamic(rows)
                 ? InputHint{}
                 : InputHint{InputHint::Offsets, 0.0, double(rows)};
    if (value == paged.getKvLens())
      return ShapedType::isDynamic(pageSize) || ShapedType::isDynamic(maxPages)
                 ? InputHint{}
                 : integers(0, pageSize * maxPages);
    if (value == paged.getBlockTable())
      return ShapedType::isDynamic(pages) || pages <= 0
                 ? InputHint{}
                 : integers(0, pages - 1);
    return {};
  }
  if (auto write = dyn_cast<KvCacheWriteOp>(op)) {
    int64_t pages = staticDim(write.getCache(), 0);
    int64_t pageSize = staticDim(write.getCache(), 1);
    // -1 is padding (skipped).
    if (value == write.getSlots() && !ShapedType::isDynamic(pages) &&
        !ShapedType::isDynamic(pageSize))
      return integers(-1, pages * pageSize - 1);
    return {};
  }
  if (auto rope = dyn_cast<RopeOp>(op)) {
    int64_t rows = staticDim(rope.getCos(), 0);
    if (value == rope.getPositions() && !ShapedType::isDynamic(rows) &&
        rows > 0)
      return integers(0, rows - 1);
    return {};
  }
  if (auto dwconv = dyn_cast<DwConvOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(dwconv.getW().getType());
    if (value != dwconv.getW() || !type || !type.hasStaticShape())
      return {};
    int64_t taps = 1;
    for (int64_t d : type.getShape().drop_back())
      taps *= d;
    return taps > 0 ? spread(1.0 / std::sqrt(double(taps))) : InputHint{};
  }
  if (auto norm = dyn_cast<RmsNormOp>(op))
    return value == norm.getG() ? spread(0.2, 1.0) : InputHint{};
  if (auto norm = dyn_cast<LayerNormOp>(op)) {
    if (value == norm.getG())
      return spread(0.2, 1.0);
    if (value == norm.getB())
      return spread(0.2);
    return {};
  }
  return {};
}

/// Ops that only reshape, reorder or retype their first operand.
Value viewResult(Operation *op, Value operand) {
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(op))
    return op->getResult(0);
  if (auto reshape = dyn_cast<tensor::ReshapeOp>(op))
    return reshape.getSource() == operand ? reshape.getResult() : Value();
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op))
    return transpose.getInput() == operand && transpose->getNumResults() == 1
               ? transpose->getResult(0)
               : Value();
  return {};
}

} // namespace

SmallVector<InputHint> inputHints(func::FuncOp fn) {
  unsigned numArgs = fn.getNumArguments();
  SmallVector<InputHint> hints(numArgs);
  if (fn.isExternal())
    return hints;
  // Every argument and view of one, to the argument's index; one walk in
  // program order: the first op that uses one of an argument's values and is
  // not itself a view decides that argument's hint.
  llvm::DenseMap<Value, unsigned> argumentOf;
  for (unsigned i = 0; i < numArgs; ++i)
    argumentOf[fn.getArgument(i)] = i;
  SmallVector<bool> decided(numArgs, false);
  fn.walk<WalkOrder::PreOrder>([&](Operation *op) {
    for (Value operand : op->getOperands()) {
      auto it = argumentOf.find(operand);
      if (it == argumentOf.end() || decided[it->second])
        continue;
      unsigned index = it->second;
      if (Value view = viewResult(op, operand)) {
        argumentOf.try_emplace(view, index);
        continue;
      }
      if (op->getDialect() && isa<LoomDialect>(op->getDialect()))
        hints[index] = roleHint(op, operand);
      decided[index] = true;
    }
  });
  for (unsigned i = 0; i < numArgs; ++i) {
    Type element = getElementTypeOrSelf(fn.getArgument(i).getType());
    InputHint &hint = hints[i];
    // f8 values are drawn wider than [-1, 1): e4m3 has 3 mantissa bits, and
    // qmatmul's scales above expect values about 4 wide.
    if (hint.kind == InputHint::None && isa<Float8E4M3FNType>(element))
      hint = spread(4.0);
    // A float range for an integer argument, or the reverse, is no hint.
    bool isFloat = isa<FloatType>(element);
    if (hint.kind != InputHint::None &&
        (hint.kind == InputHint::Float) != isFloat)
      hint = InputHint();
  }
  return hints;
}

std::string formatInputHints(ModuleOp module, ArrayRef<EntrySignature> entries) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (const EntrySignature &entry : entries) {
    auto fn = module.lookupSymbol<func::FuncOp>(entry.name);
    if (!fn)
      continue;
    os << "entry " << entry.name << ":";
    for (auto [i, hint] : llvm::enumerate(inputHints(fn))) {
      os << (i ? "; " : " ");
      switch (hint.kind) {
      case InputHint::None:
        os << "-";
        break;
      case InputHint::Float:
        os << llvm::format("f %.9g %.9g", hint.lo, hint.hi);
        break;
      case InputHint::Integer:
        os << llvm::format("i %.0f %.0f", hint.lo, hint.hi);
        break;
      case InputHint::Offsets:
        os << llvm::format("offsets %.0f", hint.hi);
        break;
      }
    }
    os << "\n";
  }
  return text;
}

} // namespace abi
} // namespace loom
