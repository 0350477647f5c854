//===- Gemm.cpp - loom.linear/qlinear/qmatmul on the tensor cores ---===//
//
// Replaces, at tensor level, the linear layers it has a tensor-core kernel for
// (GemmKernel.h) by a launch of that kernel:
//
// - loom.linear with bf16 or f16 operands (any rank of x >= 1: the leading
//   dims are collapsed into M and expanded back on the result);
// - loom.qlinear with bf16/f16 x, i8 weights or i4 weights that come straight
//   from the module ABI's unpacking (loom-pack-i4-abi marks that
//   linalg.generic `loom.unpack_i4`; the kernel then reads the packed bytes),
//   f32/bf16/f16 scales, per channel or in groups of a multiple of 32;
// - loom.qmatmul with i8 x i8 operands, and f8E4M3FN x f8E4M3FN on sm_89 and
//   later (multiplied as f16 after an exact conversion in registers);
//
// with an optional bias and a bf16, f16 or f32 result. Everything else stays
// for the generic path: f32/f64 linear layers, i4 weights from anywhere but
// an entry argument, group sizes that are not a multiple of 32, fp8 below
// sm_89, element types of scales/bias/result other than bf16/f16/f32.
//
// Two tile shapes per product: 128 x 128 (128 x 64 with group-wise scales)
// with 8 warps, and, for decode-sized M <= 16, 16 x 64 with 4 warps and a
// deeper K tile. A static M picks one; a dynamic M picks at run time. A
// target description with a GEMM tile (`tiles=gemm:MxNxK[xSTAGES]`,
// docs/Design.md) replaces the first for every product: M x N x K with
// 2 x 4 warps (1 where M is not a multiple of 32, 2 or 1 where N is not one
// of 64), STAGES or 4 stages; a tile the kernel cannot build, or one that
// needs more shared memory than the chip has, is an error at the op.
//
// For M <= 16, loom.linear (bf16/f16) and loom.qlinear (per-channel scales or
// groups of a multiple of 128) go instead to the GEMV kernel (GemvKernel.h:
// weights streamed with 16-byte loads, dequantized in registers, K split
// across a block's warps) when K is a multiple of 32 (checked at run time
// when K is dynamic; otherwise the 16 x 64 tiles). M <= 8 known at compile
// time skips the mma's rows 8..15.

#include "loom/GPU/Kernels/GemmKernel.h"
#include "loom/GPU/Kernels/GemvKernel.h"
#include "HopperGemm.h"
#include "Launch.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using loom::gpu::GemmKind;
using loom::gpu::GemmKernelConfig;
using loom::gpu::GemvKernelConfig;

namespace {

std::string elementName(Value v) {
  return loom::gpu::elementTypeName(
      cast<RankedTensorType>(v.getType()).getElementType());
}

bool isFloatName(const std::string &s) {
  return s == "bf16" || s == "f16" || s == "f32";
}

using loom::gpu::dim;
using loom::gpu::indexConst;

using loom::gpu::packedI4Source;

/// What one op needs from the rewrite: the kernel configs (large tiles and
/// decode-sized tiles), the 2-D operands in kernel order and M, N.
struct GemmPlan {
  GemmKernelConfig large, small;
  /// The GEMV kernel that replaces `small` where K allows, if any.
  std::optional<GemvKernelConfig> gemv;
  Value x2d;                  // [M, K] (tensor)
  SmallVector<Value> inputs;  // tensors, in the kernel's argument order
  RankedTensorType resultType; // [M, N]
};

/// Tile shapes of the two kernels (kind and types set).
void setTiles(GemmKernelConfig &large, GemmKernelConfig &small,
              int64_t bytesA) {
  // Large: 128 x 128 x 64 bytes of A, 2 x 4 warps, 4 stages (80 KiB).
  large.bm = 128;
  large.bn = 128;
  large.bk = 64 / bytesA;
  large.warpsM = 2;
  large.warpsN = 4;
  large.stages = 4;
  // Decode: 16 x 64 x 128 bytes of A, 1 x 4 warps, 4 stages.
  small.bm = 16;
  small.bn = 64;
  small.bk = 128 / bytesA;
  small.warpsM = 1;
  small.warpsN = 4;
  small.stages = 4;
}

std::optional<GemmPlan> planLinear(loom::LinearOp op) {
  auto xType = cast<RankedTensorType>(op.getX().getType());
  std::string t = elementName(op.getX());
  if (t != "bf16" && t != "f16")
    return std::nullopt;
  GemmPlan p;
  p.large.kind = GemmKind::Linear;
  p.large.aType = p.large.bType = p.large.yType = t;
  if (op.getBias())
    p.large.biasType = t;
  p.small = p.large;
  setTiles(p.large, p.small, 2);
  p.gemv.emplace();
  p.gemv->xType = p.gemv->wType = p.gemv->yType = t;
  p.gemv->biasType = p.large.biasType;
  // [..., K] -> [M, K].
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = op.getX();
  int64_t rank = xType.getRank();
  if (rank == 1) {
    SmallVector<OpFoldResult> shape{b.getIndexAttr(1),
                                    tensor::getMixedSize(b, loc, x, 0)};
    auto type = RankedTensorType::get({1, xType.getDimSize(0)},
                                      xType.getElementType());
    x = tensor::ExpandShapeOp::create(b, loc, type, x,
                                      ArrayRef<ReassociationIndices>{{0, 1}},
                                      shape);
  } else if (rank > 2) {
    ReassociationIndices batch;
    for (int64_t i = 0; i + 1 < rank; ++i)
      batch.push_back(i);
    x = tensor::CollapseShapeOp::create(
        b, loc, x, ArrayRef<ReassociationIndices>{batch, {rank - 1}});
  }
  p.x2d = x;
  p.inputs = {x, op.getW()};
  if (op.getBias())
    p.inputs.push_back(op.getBias());
  auto x2 = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(op.getW().getType());
  p.resultType = RankedTensorType::get({x2.getDimSize(0), wType.getDimSize(0)},
                                       xType.getElementType());
  return p;
}

std::optional<GemmPlan> planQLinear(loom::QLinearOp op) {
  std::string x = elementName(op.getX()), w = elementName(op.getW()),
              s = elementName(op.getWScale()), y = elementName(op.getResult());
  std::string bias = op.getBias() ? elementName(op.getBias()) : "";
  if ((x != "bf16" && x != "f16") || !isFloatName(s) || !isFloatName(y) ||
      (op.getBias() && !isFloatName(bias)))
    return std::nullopt;
  Value weights = op.getW();
  if (w == "i4") {
    weights = packedI4Source(op.getW());
    if (!weights)
      return std::nullopt;
  } else if (w != "i8") {
    return std::nullopt;
  }
  int64_t group = static_cast<int64_t>(op.getGroupSize());
  if (group < 0 || group % 32)
    return std::nullopt;
  GemmPlan p;
  p.large.kind = GemmKind::QLinear;
  p.large.aType = x;
  p.large.bType = w;
  p.large.scaleType = s;
  p.large.biasType = bias;
  p.large.yType = y;
  p.large.group = group;
  p.small = p.large;
  setTiles(p.large, p.small, 2);
  if (group) {
    // Partial sums and totals both live in registers: half the columns.
    p.large.bn = 64;
    // A K tile must not straddle two groups.
    if (group % p.small.bk)
      p.small.bk = 32;
  }
  if (group % GemvKernelConfig::kBlockK == 0) {
    p.gemv.emplace();
    p.gemv->qlinear = true;
    p.gemv->xType = x;
    p.gemv->wType = w;
    p.gemv->scaleType = s;
    p.gemv->biasType = bias;
    p.gemv->yType = y;
    p.gemv->group = group;
  }
  p.x2d = op.getX();
  p.inputs = {op.getX(), weights, op.getWScale()};
  if (op.getBias())
    p.inputs.push_back(op.getBias());
  p.resultType = op.getType();
  return p;
}

std::optional<GemmPlan> planQMatmul(loom::QMatmulOp op,
                                    const loom::gpu::Target &target) {
  std::string q = elementName(op.getXq()), y = elementName(op.getResult());
  std::string bias = op.getBias() ? elementName(op.getBias()) : "";
  if (q != "i8" && !(q == "f8E4M3FN" && target.hasFp8Mma()))
    return std::nullopt;
  if (!isFloatName(y) || (op.getBias() && !isFloatName(bias)))
    return std::nullopt;
  GemmPlan p;
  p.large.kind = GemmKind::QMatmul;
  p.large.aType = p.large.bType = q;
  p.large.biasType = bias;
  p.large.yType = y;
  p.small = p.large;
  setTiles(p.large, p.small, 1);
  p.x2d = op.getXq();
  p.inputs = {op.getXq(), op.getXs(), op.getW(), op.getWScale()};
  if (op.getBias())
    p.inputs.push_back(op.getBias());
  p.resultType = op.getType();
  return p;
}

/// Launches the kernel of `config` on `args` with `columnTiles` blocks along
/// x (the column tiles of every part) and ceil(M / bm) along y.
LogicalResult launchTiles(OpBuilder &b, Location loc, ModuleOp module,
                          const GemmKernelConfig &config, Value m,
                          Value columnTiles, ValueRange args) {
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildGemmKernel(module, loc, config);
  if (failed(kernel))
    return failure();
  Value one = indexConst(b, loc, 1);
  Value gy = loom::gpu::ceilDiv(b, loc, m, config.bm);
  Value threads = indexConst(b, loc, config.threads());
  Value smem = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(static_cast<int32_t>(config.sharedBytes())));
  gpu::LaunchFuncOp::create(b, loc, *kernel,
                            gpu::KernelDim3{columnTiles, gy, one},
                            gpu::KernelDim3{threads, one, one}, smem, args);
  return success();
}

/// Launches the kernel of `config` on `args` for an M x N result.
LogicalResult launch(OpBuilder &b, Location loc, ModuleOp module,
                     const GemmKernelConfig &config, Value m, Value n,
                     ValueRange args) {
  return launchTiles(b, loc, module, config, m,
                     loom::gpu::ceilDiv(b, loc, n, config.bn), args);
}

/// Launches the GEMV kernel of `config` on `args` for an M x N result
/// (1 <= M <= 16, K % 32 == 0).
LogicalResult launchGemv(OpBuilder &b, Location loc, ModuleOp module,
                         const GemvKernelConfig &config, Value n,
                         ValueRange args) {
  FailureOr<SymbolRefAttr> kernel =
      loom::gpu::buildGemvKernel(module, loc, config);
  if (failed(kernel))
    return failure();
  Value one = indexConst(b, loc, 1);
  Value gx = loom::gpu::ceilDiv(b, loc, n, config.columns());
  Value threads = indexConst(b, loc, config.threads());
  gpu::LaunchFuncOp::create(b, loc, *kernel, gpu::KernelDim3{gx, one, one},
                            gpu::KernelDim3{threads, one, one}, Value(),
                            args);
  return success();
}

/// Launches the decode-sized kernel (1 <= M <= 16): the GEMV kernel where K
/// is a multiple of 32 (decided at run time for a dynamic K), else the GEMM
/// kernel's small tiles.
LogicalResult launchDecode(OpBuilder &b, Location loc, ModuleOp module,
                           const GemmPlan &p, Value m, Value n,
                           ValueRange args) {
  if (!p.gemv)
    return launch(b, loc, module, p.small, m, n, args);
  int64_t staticK = cast<RankedTensorType>(p.x2d.getType()).getDimSize(1);
  if (!ShapedType::isDynamic(staticK)) {
    if (staticK % GemvKernelConfig::kAlignK)
      return launch(b, loc, module, p.small, m, n, args);
    return launchGemv(b, loc, module, *p.gemv, n, args);
  }
  OpBuilder::InsertionGuard guard(b);
  Value k = dim(b, loc, p.x2d, 1);
  Value rem = arith::RemUIOp::create(
      b, loc, k, indexConst(b, loc, GemvKernelConfig::kAlignK));
  Value aligned = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                        indexConst(b, loc, 0));
  auto select = scf::IfOp::create(b, loc, aligned, true);
  b.setInsertionPointToStart(&select.getThenRegion().front());
  if (failed(launchGemv(b, loc, module, *p.gemv, n, args)))
    return failure();
  b.setInsertionPointToStart(&select.getElseRegion().front());
  return launch(b, loc, module, p.small, m, n, args);
}

/// The most f32 accumulators per thread a requested tile may keep in
/// registers (the default tiles keep 64).
constexpr int64_t kMaxAccumulators = 128;

/// The block tile the target description asks for, given to the kernel for
/// products with M > 16 (`large`; decode-sized products keep their GEMV and
/// 16 x 64 kernels) with the default 2 x 4 warps, or fewer where the tile is
/// too narrow for them. A tile the kernel cannot build is an error at `op`.
LogicalResult applyRequestedTile(Operation *op,
                                 const loom::gpu::Target &target,
                                 GemmKernelConfig &r) {
  const loom::GemmTile &tile = *target.gemm;
  r.bm = tile.m;
  r.bn = tile.n;
  r.bk = tile.k;
  if (tile.stages)
    r.stages = tile.stages;
  r.warpsM = tile.m % 32 == 0 ? 2 : 1;
  r.warpsN = tile.n % 64 == 0 ? 4 : tile.n % 32 == 0 ? 2 : 1;
  // A warp's m16 x n8 fragments, 4 f32 per thread each; group-wise scales
  // keep the partial sums beside the totals.
  int64_t accumulators = (r.bm / r.warpsM / 16) * (r.bn / r.warpsN / 8) * 4 *
                         (r.group ? 2 : 1);
  std::string why;
  if (tile.m % 16 || tile.n % 16)
    why = "M and N must be multiples of 16";
  else if (accumulators > kMaxAccumulators)
    why = "a warp's " + std::to_string(r.bm / r.warpsM) + "x" +
          std::to_string(r.bn / r.warpsN) + " sub-tile needs " +
          std::to_string(accumulators) +
          " f32 accumulators per thread (at most " +
          std::to_string(kMaxAccumulators) + ")";
  else
    why = r.check();
  return loom::gpu::checkTile(op, target, loom::toString(tile), why,
                              why.empty() ? r.sharedBytes() : 0);
}

/// Elementwise ops after a GEMM that its launch computes too (a fusion
/// group's epilogue): the steps, their [M, N] tensor operands in order, and
/// the ops, each the only reader of the previous value.
struct FusedEpilogue {
  std::vector<loom::gpu::EpilogueStep> steps;
  SmallVector<Value> tensors;
  SmallVector<Operation *> ops;
};

/// Replaces `op` according to `p`; with `epilogue`, the launch computes the
/// epilogue's ops too and replaces the last of them.
LogicalResult rewrite(Operation *op, GemmPlan &p, ModuleOp module,
                      const loom::gpu::Target &target,
                      const FusedEpilogue *epilogue = nullptr) {
  if (epilogue) {
    p.large.epilogue = p.small.epilogue = epilogue->steps;
    if (p.gemv)
      p.gemv->epilogue = epilogue->steps;
  }
  if (target.gemm && failed(applyRequestedTile(op, target, p.large)))
    return failure();
  for (const GemmKernelConfig *r : {&p.large, &p.small}) {
    std::string why = r->check();
    if (!why.empty() || r->sharedBytes() > target.sharedMemoryBytes)
      return op->emitError() << "internal error: GEMM kernel "
                             << r->kernelName()
                             << " is invalid: "
                             << (why.empty() ? "too much shared memory" : why);
  }
  if (p.gemv) {
    p.gemv->chooseSchedule();
    // Rows 8..15 of the mma are known empty when M <= 8.
    int64_t staticM = p.resultType.getDimSize(0);
    if (!ShapedType::isDynamic(staticM) && staticM <= 8)
      p.gemv->rowHalves = 1;
    if (target.gemv) {
      p.gemv->warps = target.gemv->warps;
      p.gemv->tiles = target.gemv->tiles;
      p.gemv->unroll = target.gemv->unroll;
      if (target.gemv->depth)
        p.gemv->depth = target.gemv->depth;
      // The partial sums' buffer is static shared memory.
      std::string why = p.gemv->check();
      if (why.empty() &&
          p.gemv->sharedBytes() > target.defaultSharedMemoryBytes)
        why = "warps x tiles needs " +
              std::to_string(llvm::divideCeil(p.gemv->sharedBytes(), 1024)) +
              " KiB of static shared memory, at most " +
              std::to_string(target.defaultSharedMemoryBytes / 1024);
      if (failed(loom::gpu::checkTile(op, target, loom::toString(*target.gemv),
                                      why, 0)))
        return failure();
    }
    std::string why = p.gemv->check();
    if (!why.empty())
      return op->emitError() << "internal error: GEMV kernel "
                             << p.gemv->kernelName() << " is invalid: " << why;
  }
  Location loc = op->getLoc();
  OpBuilder b(op);
  Value m = dim(b, loc, p.x2d, 0);
  Value n = dim(b, loc, p.inputs[p.large.kind == GemmKind::QMatmul ? 2 : 1], 0);
  SmallVector<Value> args;
  for (Value v : p.inputs)
    args.push_back(loom::gpu::bufferOf(b, loc, v));
  SmallVector<Value> dynSizes;
  if (p.resultType.isDynamicDim(0))
    dynSizes.push_back(m);
  if (p.resultType.isDynamicDim(1))
    dynSizes.push_back(n);
  Value out = loom::gpu::allocBuffer(b, loc, p.resultType, dynSizes);
  args.push_back(loom::gpu::dynamicBuffer(b, loc, out));
  if (epilogue)
    for (Value t : epilogue->tensors) // [..., N] as [M, N], as x
      args.push_back(
          loom::gpu::bufferOf(b, loc, loom::gpu::collapseRows(b, loc, t)));

  // An empty grid is an invalid launch: skip it when M or N is 0 (the result
  // is then empty too).
  int64_t staticM = p.resultType.getDimSize(0);
  int64_t staticN = p.resultType.getDimSize(1);
  bool mayBeEmpty = staticM == 0 || staticN == 0 ||
                    ShapedType::isDynamic(staticM) ||
                    ShapedType::isDynamic(staticN);
  // Products with M > 16 on a target with wgmma take the warp-specialized
  // wgmma GEMM (HopperGemmKernel.h) where its tensor maps can describe the
  // operands (16-byte aligned rows and bases, checked at run time), the
  // mma.sync kernel otherwise. A requested gemm tile keeps the latter.
  // W4A16 (qlinear, bf16 x, i4 weights, per-channel scales or groups of a
  // multiple of 64) takes it with the weights dequantized in shared memory,
  // or with the tile override `w4a16:registers` the W4A16 kernel
  // (HopperW4A16Kernel.h: the weights dequantized into the wgmma's
  // registers) on the same terms.
  std::optional<loom::gpu::HopperGemmConfig> hopper;
  std::optional<loom::gpu::HopperW4A16Config> w4Kernel;
  bool scaled = p.large.kind == GemmKind::QMatmul;
  bool w4a16 = p.large.kind == GemmKind::QLinear && p.large.bType == "i4";
  int64_t staticK = cast<RankedTensorType>(p.x2d.getType()).getDimSize(1);
  if ((p.large.kind == GemmKind::Linear || scaled) && !target.gemm)
    hopper = loom::gpu::hopperGemmConfig(target, p.large.aType, p.large.biasType,
                              p.large.yType, p.large.epilogue, staticK);
  if (w4a16 && !target.gemm && target.w4a16Registers.value_or(false)) {
    std::string why;
    w4Kernel = loom::gpu::hopperW4A16Config(
        target, p.large.aType, p.large.scaleType, p.large.group,
        p.large.biasType, p.large.yType, p.large.epilogue, staticM, {staticN},
        staticK, std::nullopt, why);
    if (!why.empty())
      return loom::gpu::checkTile(op, target,
                                  loom::w4a16ToString(*target.w4a16Shape),
                                  why, 0);
  } else if (w4a16 && !target.gemm)
    hopper = loom::gpu::hopperGemmW4A16Config(
        target, p.large.aType, p.large.scaleType, p.large.group,
        p.large.biasType, p.large.yType, p.large.epilogue, staticM, staticN,
        staticK);
  if (hopper && !hopper->packedB())
    loom::gpu::chooseHopperTileWidth(*hopper, target,
                                     p.resultType.getDimSize(0),
                                     {p.resultType.getDimSize(1)});
  auto launchLarge = [&]() -> LogicalResult {
    if (!hopper && !w4Kernel)
      return launch(b, loc, module, p.large, m, n, args);
    // Arguments of the mma.sync kernel: A, [xs], B, [w_scale], [bias], Y,
    // the epilogue's tensors.
    unsigned i = 0;
    Value xArg = args[i++];
    Value xsArg = scaled ? args[i++] : Value();
    Value wArg = args[i++];
    Value wsArg = scaled || w4a16 ? args[i++] : Value();
    Value biasArg = p.large.biasType.empty() ? Value() : args[i++];
    Value yArg = args[i++];
    ValueRange tensors = ValueRange(args).drop_front(i);
    Value k = dim(b, loc, p.x2d, 1);
    Value ok = w4Kernel
                   ? loom::gpu::hopperW4A16Applies(b, loc, k, {xArg, wArg})
                   : loom::gpu::hopperGemmApplies(b, loc, *hopper, k,
                                                  {xArg, wArg});
    auto choice = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&choice.getThenRegion().front());
    if (w4Kernel) {
      SmallVector<Value> biases;
      if (biasArg)
        biases.push_back(biasArg);
      if (failed(loom::gpu::launchHopperW4A16(b, loc, module, target,
                                              *w4Kernel, xArg, wArg, yArg,
                                              wsArg, biases, tensors, m, n,
                                              k)))
        return failure();
    } else {
      SmallVector<Value> biases, scales;
      if (biasArg)
        biases.push_back(biasArg);
      if (scaled)
        scales = {xsArg, wsArg};
      else if (w4a16)
        scales = {wsArg};
      if (failed(loom::gpu::launchHopperGemm(b, loc, module, target, *hopper,
                                             xArg, wArg, yArg, scales, biases,
                                             tensors, m, n, k)))
        return failure();
    }
    b.setInsertionPointToStart(&choice.getElseRegion().front());
    return launch(b, loc, module, p.large, m, n, args);
  };
  if (staticM == 0 || staticN == 0) {
    // Nothing to compute.
  } else {
    OpBuilder::InsertionGuard guard(b);
    if (mayBeEmpty) {
      Value zero = indexConst(b, loc, 0);
      Value mIn = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, m,
                                        zero);
      Value nIn = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, n,
                                        zero);
      auto nonEmpty = scf::IfOp::create(
          b, loc, arith::AndIOp::create(b, loc, mIn, nIn), false);
      b.setInsertionPointToStart(&nonEmpty.getThenRegion().front());
    }
    if (!ShapedType::isDynamic(staticM)) {
      if (staticM <= p.small.bm) {
        if (failed(launchDecode(b, loc, module, p, m, n, args)))
          return failure();
      } else if (failed(launchLarge())) {
        return failure();
      }
    } else {
      Value decode = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                           m, indexConst(b, loc, p.small.bm));
      auto select = scf::IfOp::create(b, loc, decode, true);
      b.setInsertionPointToStart(&select.getThenRegion().front());
      if (failed(launchDecode(b, loc, module, p, m, n, args)))
        return failure();
      b.setInsertionPointToStart(&select.getElseRegion().front());
      if (failed(launchLarge()))
        return failure();
    }
  }
  Value y = loom::gpu::tensorOf(b, loc, out, p.resultType);

  // [M, N] -> the op's result shape (linear with x of rank != 2).
  auto rType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t rank = rType.getRank();
  if (rank == 1) {
    y = tensor::CollapseShapeOp::create(b, loc, rType, y,
                                        ArrayRef<ReassociationIndices>{{0, 1}});
  } else if (rank > 2) {
    ReassociationIndices batch;
    SmallVector<OpFoldResult> shape;
    Value x = op->getOperand(0);
    for (int64_t i = 0; i + 1 < rank; ++i) {
      batch.push_back(i);
      shape.push_back(tensor::getMixedSize(b, loc, x, i));
    }
    shape.push_back(tensor::getMixedSize(b, loc, p.inputs[1], 0));
    y = tensor::ExpandShapeOp::create(
        b, loc, rType, y, ArrayRef<ReassociationIndices>{batch, {rank - 1}},
        shape);
  }
  // The i4 unpacking this replaces reading, if nothing else reads it.
  Operation *unpack = nullptr;
  if (auto q = dyn_cast<loom::QLinearOp>(op))
    if (p.large.bType == "i4")
      unpack = q.getW().getDefiningOp();
  if (epilogue) {
    epilogue->ops.back()->getResult(0).replaceAllUsesWith(y);
    for (Operation *e : llvm::reverse(epilogue->ops))
      e->erase();
  } else {
    op->getResult(0).replaceAllUsesWith(y);
  }
  op->erase();
  if (unpack && unpack->use_empty())
    unpack->erase();
  return success();
}

/// The plan for a GEMM op, or nothing when no kernel takes it.
std::optional<GemmPlan> planGemm(Operation *op, const loom::gpu::Target &target) {
  if (auto linear = dyn_cast<loom::LinearOp>(op))
    return planLinear(linear);
  if (auto qlinear = dyn_cast<loom::QLinearOp>(op))
    return planQLinear(qlinear);
  return planQMatmul(cast<loom::QMatmulOp>(op), target);
}

/// The epilogue step `op` is, reading `value`, or nothing. Tensor operands
/// must have the [M, N] result's type up to the element type.
std::optional<loom::gpu::EpilogueStep> epilogueStep(Operation *op, Value value,
                                                    Value &tensor) {
  using Kind = loom::gpu::EpilogueStep::Kind;
  tensor = Value();
  if (isa<loom::SiluOp>(op))
    return loom::gpu::EpilogueStep{Kind::Silu, ""};
  if (auto gelu = dyn_cast<loom::GeluOp>(op))
    return loom::gpu::EpilogueStep{
        gelu.getApproximate() == "tanh" ? Kind::GeluTanh : Kind::Gelu, ""};
  if (!isa<arith::AddFOp, arith::MulFOp>(op) || op->getNumOperands() != 2)
    return std::nullopt;
  Value other = op->getOperand(0) == value ? op->getOperand(1) : op->getOperand(0);
  if (other == value)
    return std::nullopt; // x + x: not a tensor step
  auto type = dyn_cast<RankedTensorType>(other.getType());
  std::string name =
      type ? loom::gpu::elementTypeName(type.getElementType()) : "";
  if (!type || !isFloatName(name) ||
      type.getShape() != cast<RankedTensorType>(value.getType()).getShape())
    return std::nullopt;
  tensor = other;
  return loom::gpu::EpilogueStep{
      isa<arith::AddFOp>(op) ? Kind::AddTensor : Kind::MulTensor, name};
}

/// M of a product whose result is `type` ([..., N], the leading dims
/// collapsed into M as planLinear collapses x): dynamic where one of them
/// is.
int64_t staticRows(RankedTensorType type) {
  int64_t m = 1;
  for (int64_t d : type.getShape().drop_back()) {
    if (ShapedType::isDynamic(d))
      return ShapedType::kDynamic;
    m *= d;
  }
  return m;
}

/// Erases the reshapes of x that planning `gemms` built (planLinear's
/// [..., K] -> [M, K]) and that nothing reads.
void eraseUnusedReshapes(ArrayRef<Operation *> gemms,
                         ArrayRef<GemmPlan> plans) {
  for (auto [op, p] : llvm::zip(gemms, plans)) {
    Operation *def = p.x2d.getDefiningOp();
    if (p.x2d != op->getOperand(0) && def &&
        isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def) &&
        def->use_empty())
      def->erase();
  }
}

} // namespace

FailureOr<bool> loom::gpu::rewriteGemmSiblings(ArrayRef<Operation *> gemms,
                                               const Target &target,
                                               const GemmGating *gating) {
  if (gemms.size() < 2)
    return false;
  // The launch goes where the last product was: no reader of a product
  // may come before that.
  for (Operation *op : gemms)
    for (Operation *user : op->getResult(0).getUsers())
      if (user->getBlock() != gemms.back()->getBlock() ||
          user->isBeforeInBlock(gemms.back()))
        return false;
  // A gated pair: gate -> act -> mul <- up, each read only there, and both
  // products of one type.
  std::optional<EpilogueStep> gate;
  if (gating) {
    auto onlyReader = [](Operation *op, Operation *reader) {
      return op->getResult(0).hasOneUse() &&
             *op->getResult(0).getUsers().begin() == reader;
    };
    Value unused;
    gate = epilogueStep(gating->act, gemms[0]->getResult(0), unused);
    if (gemms.size() != 2 || !gate || unused ||
        !onlyReader(gemms[0], gating->act) ||
        !onlyReader(gating->act, gating->mul) ||
        !onlyReader(gemms[1], gating->mul) ||
        gemms[0]->getResult(0).getType() != gemms[1]->getResult(0).getType() ||
        gating->mul->getResult(0).getType() != gemms[0]->getResult(0).getType())
      return false;
  }
  // A static M > 16 (GEMV has no parts), the leading dims of x (linear's
  // batch dims, e.g. [1, S, C]) collapsed into M, as op by op.
  for (Operation *op : gemms) {
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || type.getRank() < 2 || ShapedType::isDynamic(staticRows(type)) ||
        staticRows(type) <= 16 || op->getOperand(0) != gemms[0]->getOperand(0))
      return false;
  }
  std::vector<GemmPlan> plans;
  for (Operation *op : gemms) {
    std::optional<GemmPlan> plan = planGemm(op, target);
    // One kernel for every part.
    if (!plan ||
        (!plans.empty() && plans[0].large.kernelName() != plan->large.kernelName())) {
      if (plan)
        plans.push_back(std::move(*plan));
      eraseUnusedReshapes(ArrayRef(gemms).take_front(plans.size()), plans);
      return false;
    }
    plans.push_back(std::move(*plan));
  }
  GemmKernelConfig config = plans[0].large;
  if (target.gemm) {
    GemmPlan &p = plans[0];
    if (failed(applyRequestedTile(gemms[0], target, p.large)))
      return failure();
    config = p.large;
  }
  config.parts = static_cast<int64_t>(gemms.size());
  if (gate) {
    config.gate = gate->kind;
    // Two sets of accumulators live at once: the default tile halves its
    // columns (and its rows where M is small, for more blocks).
    if (!target.gemm) {
      config.bn = 64;
      if (cast<RankedTensorType>(gemms[0]->getResult(0).getType()).getDimSize(0) <= 512)
        config.bm = 64;
    }
  }
  std::string why = config.check();
  if (!why.empty() || config.sharedBytes() > target.sharedMemoryBytes)
    return gemms[0]->emitError()
           << "internal error: GEMM kernel " << config.kernelName()
           << " is invalid: "
           << (why.empty() ? "too much shared memory" : why);

  // Arguments: A, [xs], then each operand kind for every part in turn.
  Operation *first = gemms[0];
  Location loc = first->getLoc();
  OpBuilder b(gemms.back()); // every operand is defined by now
  bool qmatmul = config.kind == GemmKind::QMatmul;
  size_t shared = qmatmul ? 2 : 1; // A and xs are common to all parts
  SmallVector<Value> args;
  for (size_t i = 0; i < shared; ++i)
    args.push_back(loom::gpu::bufferOf(b, loc, plans[0].inputs[i]));
  size_t perPart = plans[0].inputs.size() - shared;
  for (size_t k = 0; k < perPart; ++k)
    for (GemmPlan &p : plans)
      args.push_back(loom::gpu::bufferOf(b, loc, p.inputs[shared + k]));
  SmallVector<Value> outs;
  Value m = dim(b, loc, plans[0].x2d, 0);
  Value tiles = indexConst(b, loc, 0);
  // One result per part, or the gated product's one.
  for (const GemmPlan &p : gate ? ArrayRef(plans).take_front() : ArrayRef(plans)) {
    Value n = dim(b, loc, p.inputs[qmatmul ? 2 : 1], 0);
    SmallVector<Value> dynSizes;
    if (p.resultType.isDynamicDim(1))
      dynSizes.push_back(n);
    outs.push_back(loom::gpu::allocBuffer(b, loc, p.resultType, dynSizes));
    args.push_back(loom::gpu::dynamicBuffer(b, loc, outs.back()));
    tiles = arith::AddIOp::create(b, loc, tiles,
                                  loom::gpu::ceilDiv(b, loc, n, config.bn));
  }
  // An empty grid is an invalid launch (every part with N = 0).
  Value zero = indexConst(b, loc, 0);
  Value nonEmpty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, tiles, zero);
  {
    OpBuilder::InsertionGuard guard(b);
    auto ifOp = scf::IfOp::create(b, loc, nonEmpty, false);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    ModuleOp module = first->getParentOfType<ModuleOp>();
    // On wgmma targets, linear siblings and gated pairs take the wgmma GEMM
    // (parts, or both products of the pair per tile) where the tensor maps
    // can describe the operands; the mma.sync kernel otherwise.
    std::optional<loom::gpu::HopperGemmConfig> hopper;
    if (config.kind == GemmKind::Linear && !target.gemm)
      hopper = loom::gpu::hopperGemmConfig(
          target, config.aType, config.biasType, config.yType, {},
          cast<RankedTensorType>(plans[0].x2d.getType()).getDimSize(1));
    if (hopper) {
      hopper->parts = config.parts;
      if (gate) {
        hopper->gate = gate->kind;
        hopper->bn = 128;
      }
      SmallVector<int64_t> staticNs;
      for (const GemmPlan &p : plans)
        staticNs.push_back(p.resultType.getDimSize(1));
      loom::gpu::chooseHopperTileWidth(*hopper, target,
                                       plans[0].resultType.getDimSize(0),
                                       staticNs);
      if (!hopper->check().empty() ||
          hopper->sharedMemoryBytes() > target.sharedMemoryBytes)
        hopper.reset();
    }
    // The plans of the outputs (a gated pair's one), and what a wgmma
    // kernel's launch needs of them: each output's N, K and x with the ws
    // (args: x, each part's w, then the other operands part by part, then
    // the outputs).
    size_t parts = plans.size();
    ArrayRef<GemmPlan> outPlans =
        gate ? ArrayRef(plans).take_front() : ArrayRef(plans);
    ValueRange ys = ValueRange(args).take_back(outs.size());
    ValueRange ws = ValueRange(args).slice(1, parts);
    auto outputNs = [&] {
      SmallVector<Value> ns;
      for (const GemmPlan &p : outPlans)
        ns.push_back(dim(b, loc, p.inputs[1], 0));
      return ns;
    };
    auto xAndWs = [&] {
      SmallVector<Value> operands{args[0]};
      llvm::append_range(operands, ws);
      return operands;
    };
    // scf.if (ok): the insertion point in its then region; the caller moves
    // to the else region (the mma.sync kernel) after the launch.
    auto thenElse = [&](Value ok) {
      auto choice = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
      b.setInsertionPointToStart(&choice.getThenRegion().front());
      return choice;
    };
    if (hopper) {
      ValueRange biases = config.biasType.empty()
                              ? ValueRange()
                              : ValueRange(args).slice(1 + parts, parts);
      SmallVector<Value> ns = outputNs();
      Value k = dim(b, loc, plans[0].x2d, 1);
      Value ok = loom::gpu::hopperGemmApplies(b, loc, *hopper, k, xAndWs());
      scf::IfOp choice = thenElse(ok);
      if (failed(loom::gpu::launchHopperGemm(b, loc, module, target, *hopper,
                                             args[0], ws, ys, {}, biases, {},
                                             m, ns, k)))
        return failure();
      b.setInsertionPointToStart(&choice.getElseRegion().front());
    }
    // With `w4a16:registers`, W4A16 siblings and gated pairs (bf16 x, i4
    // weights: QKV, SwiGLU) take the W4A16 kernel's parts or its gated pair
    // on the same terms.
    std::optional<loom::gpu::HopperW4A16Config> w4Kernel;
    if (config.kind == GemmKind::QLinear && config.bType == "i4" &&
        !target.gemm && target.w4a16Registers.value_or(false)) {
      SmallVector<int64_t> staticNs;
      for (const GemmPlan &p : outPlans)
        staticNs.push_back(p.resultType.getDimSize(1));
      std::string why;
      w4Kernel = loom::gpu::hopperW4A16Config(
          target, config.aType, config.scaleType, config.group,
          config.biasType, config.yType, {},
          plans[0].resultType.getDimSize(0), staticNs,
          cast<RankedTensorType>(plans[0].x2d.getType()).getDimSize(1),
          gate ? std::optional(gate->kind) : std::nullopt, why);
      if (!why.empty()) {
        (void)loom::gpu::checkTile(gemms.front(), target,
                                   loom::w4a16ToString(*target.w4a16Shape),
                                   why, 0);
        return failure();
      }
    }
    if (w4Kernel) {
      // qlinear: each part's scales, then [each bias].
      ValueRange scales = ValueRange(args).slice(1 + parts, parts);
      ValueRange biases = config.biasType.empty()
                              ? ValueRange()
                              : ValueRange(args).slice(1 + 2 * parts, parts);
      SmallVector<Value> ns = outputNs();
      Value k = dim(b, loc, plans[0].x2d, 1);
      Value ok = loom::gpu::hopperW4A16Applies(b, loc, k, xAndWs());
      scf::IfOp choice = thenElse(ok);
      if (failed(loom::gpu::launchHopperW4A16(b, loc, module, target,
                                              *w4Kernel, args[0], ws, ys,
                                              scales, biases, {}, m, ns, k)))
        return failure();
      b.setInsertionPointToStart(&choice.getElseRegion().front());
    }
    if (failed(launchTiles(b, loc, module, config, m, tiles, args)))
      return failure();
  }
  // [M, N] -> the results' shapes ([..., N] where x has batch dims).
  Value x = first->getOperand(0);
  auto resultOf = [&](size_t i, RankedTensorType type) {
    return loom::gpu::expandRows(
        b, loc, loom::gpu::tensorOf(b, loc, outs[i], plans[i].resultType), x,
        type);
  };
  if (gate) {
    Value mul = gating->mul->getResult(0);
    mul.replaceAllUsesWith(resultOf(0, cast<RankedTensorType>(mul.getType())));
    gating->mul->erase();
    gating->act->erase();
  }
  for (auto [i, op] : llvm::enumerate(gemms)) {
    Operation *unpack = nullptr;
    if (auto q = dyn_cast<loom::QLinearOp>(op))
      if (config.bType == "i4")
        unpack = q.getW().getDefiningOp();
    if (!gate)
      op->getResult(0).replaceAllUsesWith(resultOf(
          i, cast<RankedTensorType>(op->getResult(0).getType())));
    op->erase();
    if (unpack && unpack->use_empty())
      unpack->erase();
  }
  // The parts share A: the other parts' reshapes of x are unused.
  eraseUnusedReshapes(gemms, plans);
  return true;
}

FailureOr<bool> loom::gpu::rewriteGemmWithEpilogue(
    Operation *gemm, ArrayRef<Operation *> chain, const Target &target) {
  auto resultType = dyn_cast<RankedTensorType>(gemm->getResult(0).getType());
  // Rank 2, or linear's leading batch dims collapsed into M (the tensor
  // steps' operands, of the result's shape, collapsed alike to [M, N]); any
  // M: decode-sized products take the GEMV kernel with the same epilogue.
  if (!resultType || resultType.getRank() < 2)
    return false;
  FusedEpilogue epilogue;
  Value value = gemm->getResult(0);
  for (Operation *op : chain) {
    Value tensor;
    std::optional<EpilogueStep> step = epilogueStep(op, value, tensor);
    if (!step || !value.hasOneUse() || *value.getUsers().begin() != op)
      return false;
    epilogue.steps.push_back(*step);
    if (tensor)
      epilogue.tensors.push_back(tensor);
    epilogue.ops.push_back(op);
    value = op->getResult(0);
  }
  std::optional<GemmPlan> plan = planGemm(gemm, target);
  if (!plan)
    return false;
  auto module = gemm->getParentOfType<ModuleOp>();
  if (failed(rewrite(gemm, *plan, module, target, &epilogue)))
    return failure();
  return true;
}

LogicalResult loom::rewriteGemmOps(ModuleOp module, const gpu::Target &target) {
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<loom::LinearOp, loom::QLinearOp, loom::QMatmulOp>(op) &&
        op->getParentOfType<func::FuncOp>())
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    std::optional<GemmPlan> plan = planGemm(op, target);
    if (!plan) {
      // No tensor-core kernel: the SIMT GEMM where it takes the op, else
      // the generic path.
      if (failed(gpu::rewriteSimtGemm(op, target)))
        return failure();
      continue;
    }
    if (failed(rewrite(op, *plan, module, target)))
      return failure();
  }
  return success();
}
