//===- Rows.cpp - norm and RoPE kernels ------------------------------===//
//
// loom.rms_norm, loom.layer_norm and loom.rope to launches of the
// bandwidth-bound row kernels of RowRecipes.h. Covered:
//
//   - rms_norm / layer_norm: x of any rank >= 1 (leading dims collapsed into
//     rows, static or dynamic), element type bf16, f16 or f32 for x, g, b and
//     the result alike; C static or dynamic. Static C up to 8 vectors of 16
//     bytes per thread of a 1024-thread CTA (C <= 65536 bf16/f16, 32768 f32)
//     keeps the row in registers (x read once); a longer C streams the row
//     once per pass (the re-reads mostly hit L1/L2); a dynamic C picks at run
//     time between a warp per row (C <= 128 vectors of 16 bytes) and a CTA
//     per row, both streaming.
//   - rope, half and interleaved: x [B, H, S, D] of bf16, f16 or f32 (any
//     sizes, static or dynamic), cos and sin f32. Where x is computed by
//     layout changes of one buffer (static: an expand_shape of [S, H * D]
//     and a transpose keeping D innermost, each read only by the next; q
//     and k beside the wgmma attention), the strided kernel reads x through
//     them in place and they are erased: no transpose kernel runs.
//
// A target description with a row tile (`tiles=rows:T`, docs/Design.md,
// T a multiple of 32 up to 1024) replaces the choice of threads: T threads
// per norm row (T = 32: a warp per row, 4 rows per CTA; a static C of at
// most 8 vectors per thread kept in registers, else streamed, with no
// run-time choice for a dynamic C) and T threads per RoPE block.
//
// Left alone (generic path): other element types (mixed ones, rope with
// non-f32 cos/sin), a result type whose shape differs from x's.

#include "Launch.h"
#include "loom/GPU/Kernels/RowKernels.h"
#include "StridedOperands.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <algorithm>
#include <optional>

using namespace mlir;

namespace {

std::optional<std::string> elementName(Type t) {
  if (t.isBF16())
    return std::string("bf16");
  if (t.isF16())
    return std::string("f16");
  if (t.isF32())
    return std::string("f32");
  return std::nullopt;
}

using loom::gpu::indexConst;

/// The sizes of `x2d` [rows, C] as index values.
std::pair<Value, Value> sizes2d(OpBuilder &b, Location loc, Value x2d) {
  return {b.createOrFold<tensor::DimOp>(loc, x2d, 0),
          b.createOrFold<tensor::DimOp>(loc, x2d, 1)};
}

/// The [rows, C] result buffer of the type of `x2d`.
Value allocRows(OpBuilder &b, Location loc, Value x2d) {
  auto t2 = cast<RankedTensorType>(x2d.getType());
  auto [rows, cols] = sizes2d(b, loc, x2d);
  SmallVector<Value> dyn;
  if (t2.isDynamicDim(0))
    dyn.push_back(rows);
  if (t2.isDynamicDim(1))
    dyn.push_back(cols);
  return loom::gpu::allocBuffer(b, loc, t2, dyn);
}

/// A launch of `kernel` on a 1-D grid of (blockX, blockY) blocks; the
/// kernels' reduction buffers are static, so no dynamic shared memory.
void launch(OpBuilder &b, Location loc, SymbolRefAttr kernel, Value grid,
            int64_t blockX, int64_t blockY, ValueRange args) {
  Value one = indexConst(b, loc, 1);
  Value smem = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  gpu::LaunchFuncOp::create(
      b, loc, kernel, gpu::KernelDim3{grid, one, one},
      gpu::KernelDim3{indexConst(b, loc, blockX), indexConst(b, loc, blockY),
                      one},
      smem, args);
}

/// Replaces `op` by the [rows, C] buffer `out`, reshaped like `x`.
void replaceWithRows(OpBuilder &b, Location loc, Operation *op, Value x,
                     Value x2d, Value out) {
  auto t2 = cast<RankedTensorType>(x2d.getType());
  auto rType = cast<RankedTensorType>(op->getResult(0).getType());
  Value y = loom::gpu::expandRows(b, loc, loom::gpu::tensorOf(b, loc, out, t2), x, rType);
  op->getResult(0).replaceAllUsesWith(y);
  op->erase();
}

/// The kernel configuration for a norm over rows of `c` elements (dynamic:
/// ShapedType::kDynamic, for rows longer than `kShortRow` vectors).
constexpr int64_t kShortRow = 32 * 4; // vectors a warp keeps in registers

loom::gpu::NormKernelConfig normConfig(const std::string &element, bool layer,
                                       int64_t c) {
  loom::gpu::NormKernelConfig k;
  k.elementType = element;
  k.layer = layer;
  if (ShapedType::isDynamic(c)) {
    k.threads = 256;
    k.vectors = 0;
    return k;
  }
  int64_t w = k.width();
  int64_t nv = std::max<int64_t>((c + w - 1) / w, 1);
  if (nv <= kShortRow) {
    // Short rows: a warp per row, 4 rows per CTA.
    k.threads = 32;
    k.rows = 4;
    k.vectors = static_cast<int>((nv + 31) / 32);
    return k;
  }
  // Long rows: a CTA per row, about 4 vectors per thread (measured on H100:
  // 16384 x 8192 bf16 at 92% of copy bandwidth with 256 threads x 4).
  int64_t threads = std::min<int64_t>(((nv + 3) / 4 + 31) / 32 * 32, 1024);
  int64_t vectors = (nv + threads - 1) / threads;
  k.threads = static_cast<int>(threads);
  k.vectors = vectors <= 8 ? static_cast<int>(vectors) : 0;
  if (k.vectors == 0)
    k.threads = 512;
  return k;
}

/// The kernel configuration for `threads` threads per row (the target
/// description's row tile): a warp takes a row of 4 per CTA, more threads a
/// row per CTA; a static C of at most 8 vectors per thread stays in
/// registers, anything else is streamed.
loom::gpu::NormKernelConfig requestedNormConfig(const std::string &element,
                                                bool layer, int64_t c,
                                                int64_t threads) {
  loom::gpu::NormKernelConfig k;
  k.elementType = element;
  k.layer = layer;
  k.threads = static_cast<int>(threads);
  k.rows = threads == 32 ? 4 : 1;
  k.vectors = 0;
  if (!ShapedType::isDynamic(c)) {
    int64_t nv = std::max<int64_t>((c + k.width() - 1) / k.width(), 1);
    int64_t vectors = (nv + threads - 1) / threads;
    if (vectors <= 8)
      k.vectors = static_cast<int>(vectors);
  }
  return k;
}

/// Checks the target description's row tile for `op`.
LogicalResult checkRowTile(Operation *op, const loom::gpu::Target &target) {
  int64_t threads = *target.rowThreads;
  std::string why;
  if (threads % 32 || threads > 1024)
    why = "threads must be a multiple of 32, at most 1024";
  return loom::gpu::checkTile(op, target, loom::rowsToString(threads), why, 0);
}

/// A dynamic C picks at run time between a warp per row (streamed, C up to
/// kShortRow vectors) and a CTA per row.
loom::gpu::NormKernelConfig shortDynamicConfig(const std::string &element,
                                               bool layer) {
  loom::gpu::NormKernelConfig k;
  k.elementType = element;
  k.layer = layer;
  k.threads = 32;
  k.rows = 4;
  k.vectors = 0;
  return k;
}

LogicalResult rewriteNorm(Operation *op, Value x, Value g, Value bias,
                          float eps, ModuleOp module,
                          const loom::gpu::Target &target) {
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  auto rType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!xType || !rType || xType.getRank() < 1 ||
      rType.getShape() != xType.getShape())
    return success(); // generic path
  std::optional<std::string> element = elementName(xType.getElementType());
  if (!element)
    return success();
  for (Value v : {g, bias, Value(op->getResult(0))})
    if (v && getElementTypeOrSelf(v.getType()) != xType.getElementType())
      return success();

  bool layer = static_cast<bool>(bias);
  int64_t cStatic = xType.getShape().back();
  SmallVector<loom::gpu::NormKernelConfig, 2> configs;
  if (target.rowThreads) {
    if (failed(checkRowTile(op, target)))
      return failure();
    configs.push_back(
        requestedNormConfig(*element, layer, cStatic, *target.rowThreads));
  } else {
    configs.push_back(normConfig(*element, layer, cStatic));
    if (ShapedType::isDynamic(cStatic))
      configs.push_back(shortDynamicConfig(*element, layer));
  }
  Location loc = op->getLoc();
  OpBuilder b(op);
  SmallVector<SymbolRefAttr, 2> kernels;
  for (const loom::gpu::NormKernelConfig &c : configs) {
    FailureOr<SymbolRefAttr> kernel = loom::gpu::buildNormKernel(module, loc, c);
    if (failed(kernel))
      return failure();
    kernels.push_back(*kernel);
  }
  Value x2d = loom::gpu::collapseRows(b, loc, x);
  SmallVector<Value> args{loom::gpu::bufferOf(b, loc, x2d),
                          loom::gpu::bufferOf(b, loc, g)};
  if (bias)
    args.push_back(loom::gpu::bufferOf(b, loc, bias));
  Value out = allocRows(b, loc, x2d);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  args.push_back(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(eps)));
  // Not a structured binding: the lambda below captures `rows`.
  Value rows, cols;
  std::tie(rows, cols) = sizes2d(b, loc, x2d);
  // Grid max(ceil(rows / rows per CTA), 1): rows past the end are guarded.
  auto launchConfig = [&](OpBuilder &nb, const loom::gpu::NormKernelConfig &c,
                          SymbolRefAttr kernel) {
    Value grid = arith::MaxUIOp::create(
        nb, loc, loom::gpu::ceilDiv(nb, loc, rows, c.rows),
        indexConst(nb, loc, 1));
    launch(nb, loc, kernel, grid, c.threads, c.rows, args);
  };
  if (configs.size() == 1) {
    launchConfig(b, configs[0], kernels[0]);
  } else {
    Value limit = indexConst(b, loc, kShortRow * configs[1].width());
    Value isShort =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, cols, limit);
    auto select = scf::IfOp::create(b, loc, isShort, /*withElseRegion=*/true);
    OpBuilder thenB = select.getThenBodyBuilder();
    launchConfig(thenB, configs[1], kernels[1]);
    OpBuilder elseB = select.getElseBodyBuilder();
    launchConfig(elseB, configs[0], kernels[0]);
  }
  replaceWithRows(b, loc, op, x, x2d, out);
  return success();
}

LogicalResult rewriteRope(loom::RopeOp op, ModuleOp module,
                          const loom::gpu::Target &target) {
  std::optional<loom::RopeStyle> style = op.getStyleKind();
  auto xType = dyn_cast<RankedTensorType>(op.getX().getType());
  auto rType = dyn_cast<RankedTensorType>(op.getType());
  // Per-token positions take the generic path.
  if (!style || !xType || !rType || op.getPositions() || xType.getRank() != 4 ||
      rType.getShape() != xType.getShape() ||
      rType.getElementType() != xType.getElementType())
    return success();
  std::optional<std::string> element = elementName(xType.getElementType());
  if (!element)
    return success();
  for (Value v : {op.getCos(), op.getSin()}) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || t.getRank() != 2 || !t.getElementType().isF32())
      return success();
  }
  loom::gpu::RopeKernelConfig c;
  c.elementType = *element;
  c.interleaved = *style == loom::RopeStyle::Interleaved;
  if (target.rowThreads) {
    if (failed(checkRowTile(op, target)))
      return failure();
    c.threads = static_cast<int>(*target.rowThreads);
  }

  // x computed by layout changes (an expand_shape of a [S, H * D]
  // projection and a transpose to [B, H, S, D], e.g. q and k beside the
  // wgmma attention, which does not rotate): the kernel reads it through
  // them in place, so they never run as kernels of their own.
  std::optional<loom::gpu::OperandChain> chain =
      loom::gpu::traceOperand(op.getX(), /*allowRope=*/false);
  c.strided = chain && (chain->expand || chain->transpose);

  Location loc = op.getLoc();
  OpBuilder b(op);
  FailureOr<SymbolRefAttr> kernel = loom::gpu::buildRopeKernel(module, loc, c);
  if (failed(kernel))
    return failure();
  Value x = op.getX();
  Value x2d;
  Value xArg;
  if (c.strided) {
    ArrayRef<int64_t> shape = xType.getShape();
    auto t2 = RankedTensorType::get({shape[0] * shape[1] * shape[2], shape[3]},
                                    xType.getElementType());
    // The rows' shape only: the kernel reads x through the view.
    x2d = tensor::EmptyOp::create(b, loc, t2.getShape(), t2.getElementType());
    xArg = loom::gpu::viewOf(b, loc, *chain);
  } else {
    x2d = loom::gpu::collapseRows(b, loc, x);
    xArg = loom::gpu::bufferOf(b, loc, x2d);
  }
  SmallVector<Value> args{xArg, loom::gpu::bufferOf(b, loc, op.getCos()),
                          loom::gpu::bufferOf(b, loc, op.getSin())};
  // One thread per vector of the row (interleaved) or of its first half.
  auto [rows, d] = sizes2d(b, loc, x2d);
  Value span = c.interleaved
                   ? d
                   : b.createOrFold<arith::DivUIOp>(loc, d,
                                                    indexConst(b, loc, 2));
  Value per = loom::gpu::ceilDiv(b, loc, span, c.width());
  Value total = b.createOrFold<arith::MulIOp>(loc, rows, per);
  Value grid = arith::MaxUIOp::create(
      b, loc, loom::gpu::ceilDiv(b, loc, total, c.threads),
      indexConst(b, loc, 1));
  Value out = allocRows(b, loc, x2d);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  launch(b, loc, *kernel, grid, c.threads, 1, args);
  replaceWithRows(b, loc, op, x, x2d, out);
  if (c.strided) {
    // The layout changes are dead where the rope was their only reader.
    if (x2d.use_empty())
      x2d.getDefiningOp()->erase();
    for (Operation *dead : {chain->transpose.getOperation(),
                            chain->expand.getOperation()})
      if (dead && dead->use_empty())
        dead->erase();
  }
  return success();
}

} // namespace

LogicalResult loom::rewriteRowOps(ModuleOp module, const gpu::Target &target) {
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<loom::RmsNormOp, loom::LayerNormOp, loom::RopeOp>(op) &&
        op->getParentOfType<func::FuncOp>())
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    LogicalResult r = success();
    if (auto n = dyn_cast<loom::RmsNormOp>(op))
      r = rewriteNorm(op, n.getX(), n.getG(), Value(),
                      n.getEpsilon().convertToFloat(), module, target);
    else if (auto n = dyn_cast<loom::LayerNormOp>(op))
      r = rewriteNorm(op, n.getX(), n.getG(), n.getB(),
                      n.getEpsilon().convertToFloat(), module, target);
    else
      r = rewriteRope(cast<loom::RopeOp>(op), module, target);
    if (failed(r))
      return failure();
  }
  return success();
}
