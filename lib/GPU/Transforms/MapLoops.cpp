//===- MapLoops.cpp - loom-gpu-map-loops: host loops to gpu.launch --------===//
//
// After bufferization and convert-linalg-to-parallel-loops, the generic path
// is host code over buffers that live in device memory. This pass puts every
// memory access into a gpu.launch: outermost scf.parallel loops become
// launches with one thread per iteration; any other op that reads or writes
// memory runs, as a whole, in a 1x1 launch. See Passes.td for the contract.

#include "loom/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include <limits>

using namespace mlir;

namespace loom {
#define GEN_PASS_DEF_LOOMGPUMAPLOOPSPASS
#include "loom/GPU/Transforms/Passes.h.inc"
} // namespace loom

namespace {

/// True for ops that stay on the host although they touch buffers: they only
/// manage memory or move it as a whole (later runtime calls).
bool isHostMemoryManagement(Operation *op) {
  if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
          memref::GetGlobalOp>(op))
    return true;
  // Identity-layout copies become gpu.memcpy (loom-gpu-host-memory); others
  // were turned into loops by loom-strided-copy-to-linalg, and one left over
  // has to run in a kernel.
  if (auto copy = dyn_cast<memref::CopyOp>(op)) {
    auto source = dyn_cast<MemRefType>(copy.getSource().getType());
    auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
    return source && target && source.getLayout().isIdentity() &&
           target.getLayout().isIdentity();
  }
  return false;
}

/// True if `op` itself (not its regions) may read or write memory through a
/// buffer, so that on the GPU path it must run on the device.
bool dereferencesMemory(Operation *op) {
  if (isa_and_present<gpu::GPUDialect>(op->getDialect()) ||
      isa<func::CallOp>(op) || isHostMemoryManagement(op))
    return false;
  if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    return false; // Its nested ops are looked at one by one.
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    // Unknown effects: assume the worst, except for terminators and ops
    // without operands or regions of memref type.
    return !op->hasTrait<OpTrait::IsTerminator>() &&
           (llvm::any_of(op->getOperandTypes(), llvm::IsaPred<MemRefType>) ||
            op->getNumRegions() != 0);
  return effects.hasEffect<MemoryEffects::Read>() ||
         effects.hasEffect<MemoryEffects::Write>();
}

/// Control flow that may stay on the host when its bodies only launch
/// kernels (their loads and stores are all in nested parallel loops).
bool isHostControlFlow(Operation *op) {
  return isa<scf::ForOp, scf::IfOp, scf::WhileOp, scf::ExecuteRegionOp,
             scf::IndexSwitchOp>(op);
}

/// An scf.parallel that becomes a launch of its own.
bool isMappableParallel(Operation *op) {
  auto parallel = dyn_cast<scf::ParallelOp>(op);
  return parallel && parallel.getInitVals().empty();
}

/// The first op that makes `op`, an op of host code, need to run on the
/// device as a whole (`op` itself or a nested op), or null. Host control
/// flow needs the device only for what its bodies do outside the parallel
/// loops and launches nested in them; any other op with regions needs it
/// for any access or parallel loop inside.
Operation *needsDevice(Operation *op) {
  if (dereferencesMemory(op))
    return op;
  if (op->getNumRegions() == 0 || isa<gpu::LaunchOp>(op))
    return nullptr;
  bool hostFlow = isHostControlFlow(op);
  for (Region &region : op->getRegions())
    for (Block &block : region)
      for (Operation &nested : block) {
        if (isa<gpu::LaunchOp>(nested))
          continue;
        if (isMappableParallel(&nested)) {
          if (hostFlow)
            continue;
          return &nested;
        }
        if (Operation *culprit = needsDevice(&nested))
          return culprit;
      }
  return nullptr;
}

struct LoomGPUMapLoopsPass
    : loom::impl::LoomGPUMapLoopsPassBase<LoomGPUMapLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError()
          << "loom-gpu-map-loops: block-size must be in [1, 1024] (got "
          << blockSize << ")";
      return signalPassFailure();
    }
    if (getOperation().isDeclaration())
      return;
    if (failed(processRegion(getOperation().getBody())))
      signalPassFailure();
  }

  LogicalResult processRegion(Region &region) {
    for (Block &block : region)
      for (Operation &op : llvm::make_early_inc_range(block))
        if (failed(processOp(&op)))
          return failure();
    return success();
  }

  /// Decides where `op`, an op of host code, runs.
  LogicalResult processOp(Operation *op) {
    if (isa<gpu::LaunchOp>(op))
      return success();
    if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
      if (!parallel.getInitVals().empty())
        return op->emitError()
               << "loom-gpu-map-loops: scf.parallel with reductions (init "
                  "values) cannot be mapped onto threads; lower the "
                  "reduction to an scf.for inside a parallel loop over its "
                  "output";
      return mapParallel(parallel);
    }
    Operation *culprit = needsDevice(op);
    if (!culprit) {
      // Host control flow stays and launches the kernels of its bodies.
      if (isHostControlFlow(op))
        for (Region &region : op->getRegions())
          if (failed(processRegion(region)))
            return failure();
      return success();
    }
    return wrapSerial(op, culprit);
  }

  /// Clones the memref.get_global ops that `launch`'s body uses from the host
  /// into the body, so that the kernel reads the constant from its own GPU
  /// module (gpu-kernel-outlining copies the global there).
  void sinkGlobals(gpu::LaunchOp launch) {
    llvm::SetVector<Value> captured;
    launch.getBody().walk([&](Operation *op) {
      for (Value operand : op->getOperands())
        if (auto global = operand.getDefiningOp<memref::GetGlobalOp>();
            global && !launch->isAncestor(global))
          captured.insert(operand);
    });
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    for (Value value : captured) {
      Operation *clone = b.clone(*value.getDefiningOp());
      replaceAllUsesInRegionWith(value, clone->getResult(0), launch.getBody());
    }
  }

  /// The `gpu.launch` skeleton: `grid` x 1 x 1 blocks of `threads` x 1 x 1.
  gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, Value grid,
                             Value threads) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto launch =
        gpu::LaunchOp::create(b, loc, grid, one, one, threads, one, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    return launch;
  }

  LogicalResult mapParallel(scf::ParallelOp parallel) {
    Location loc = parallel.getLoc();
    OpBuilder b(parallel);
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value zero = cst(0), one = cst(1);

    // Trip counts, clamped at zero for empty ranges (scf.parallel steps are
    // positive), and their product. Index is 64-bit on the host and in the
    // kernels (convert-gpu-to-nvvm's default).
    SmallVector<Value> counts;
    Value total = one;
    for (auto [lb, ub, step] :
         llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(),
                   parallel.getStep())) {
      Value extent = b.createOrFold<arith::SubIOp>(loc, ub, lb);
      Value count = b.createOrFold<arith::CeilDivSIOp>(loc, extent, step);
      count = b.createOrFold<arith::MaxSIOp>(loc, count, zero);
      counts.push_back(count);
      total = b.createOrFold<arith::MulIOp>(loc, total, count);
    }
    Value threads = cst(blockSize);
    Value grid = b.createOrFold<arith::CeilDivUIOp>(loc, total, threads);
    grid = b.createOrFold<arith::MaxUIOp>(loc, grid, one);
    grid = b.createOrFold<arith::MinUIOp>(
        loc, grid, cst(std::numeric_limits<int32_t>::max()));

    gpu::LaunchOp launch = createLaunch(b, loc, grid, threads);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value first = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, threads),
        launch.getThreadIds().x);
    Value stride =
        arith::MulIOp::create(b, loc, launch.getGridSize().x, threads);
    auto loop = scf::ForOp::create(b, loc, first, total, stride);

    // Delinearize the linear index, the last dimension fastest.
    b.setInsertionPointToStart(loop.getBody());
    Value rest = loop.getInductionVar();
    unsigned rank = parallel.getNumLoops();
    SmallVector<Value> ivs(rank);
    for (int d = rank - 1; d >= 0; --d) {
      Value position = rest;
      if (d > 0) {
        position = arith::RemUIOp::create(b, loc, rest, counts[d]);
        rest = arith::DivUIOp::create(b, loc, rest, counts[d]);
      }
      Value scaled =
          b.createOrFold<arith::MulIOp>(loc, position, parallel.getStep()[d]);
      ivs[d] = b.createOrFold<arith::AddIOp>(loc, scaled,
                                             parallel.getLowerBound()[d]);
    }

    // Move the body; its scf.reduce terminator (no operands) goes away.
    Block *body = parallel.getBody();
    body->getTerminator()->erase();
    loop.getBody()->getOperations().splice(std::prev(loop.getBody()->end()),
                                           body->getOperations());
    for (auto [arg, iv] : llvm::zip(body->getArguments(), ivs))
      arg.replaceAllUsesWith(iv);
    parallel.erase();
    sinkGlobals(launch);
    return success();
  }

  LogicalResult wrapSerial(Operation *op, Operation *deref) {
    if (op->getNumResults() != 0) {
      InFlightDiagnostic diag =
          op->emitError()
          << "loom-gpu-map-loops: '" << op->getName()
          << "' reads or writes a buffer, so it must run on the GPU, but "
             "its results are used by host code";
      if (deref != op)
        diag.attachNote(deref->getLoc()) << "the access is here";
      return diag;
    }
    Operation *allocation = nullptr;
    op->walk([&](Operation *nested) {
      if (isa<memref::AllocOp, memref::DeallocOp>(nested)) {
        allocation = nested;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (allocation) {
      InFlightDiagnostic diag =
          op->emitError()
          << "loom-gpu-map-loops: '" << op->getName()
          << "' reads or writes a buffer, so it must run on the GPU, but it "
             "also allocates or frees memory, which kernels cannot do";
      diag.attachNote(allocation->getLoc()) << "the allocation is here";
      return diag;
    }
    Location loc = op->getLoc();
    OpBuilder b(op);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    gpu::LaunchOp launch = createLaunch(b, loc, one, one);
    op->moveBefore(launch.getBody().front().getTerminator());
    sinkGlobals(launch);
    if (reportSerial)
      op->emitRemark() << "loom-gpu-map-loops: '" << op->getName()
                       << "' runs sequentially, in a 1x1 kernel";
    return success();
  }
};

} // namespace
