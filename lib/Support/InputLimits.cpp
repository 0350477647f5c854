//===- InputLimits.cpp - nesting depth and size checks around parsing ----===//

#include "loom/Support/InputLimits.h"

#include "loom/Dialect/Loom/IR/ShapeSizes.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/thread.h"

using namespace mlir;

std::optional<size_t> loom::findTooDeepNesting(llvm::StringRef text,
                                               unsigned limit) {
  llvm::SmallVector<char, 64> open;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    char c = text[i];
    switch (c) {
    case '"':
      // A string ends at its closing quote or, malformed, at the line's end.
      for (++i; i < n && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/':
      if (i + 1 < n && text[i + 1] == '/')
        while (i < n && text[i] != '\n')
          ++i;
      break;
    case '{':
    case '(':
    case '[':
    case '<':
      open.push_back(c);
      if (open.size() > limit)
        return i;
      break;
    case '}':
    case ')':
    case ']': {
      char opener = c == '}' ? '{' : c == ')' ? '(' : '[';
      // A `<` left open was not a bracket (nothing in MLIR's syntax closes
      // across one): look past those for the opener.
      size_t k = open.size();
      while (k > 0 && open[k - 1] == '<')
        --k;
      if (k > 0 && open[k - 1] == opener)
        open.resize(k - 1);
      break;
    }
    case '>':
      if (i > 0 && text[i - 1] == '-')
        break; // `->`
      if (!open.empty() && open.back() == '<')
        open.pop_back();
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

std::string loom::tooDeepMessage(unsigned limit) {
  return "nesting deeper than " + std::to_string(limit) + " levels: " +
         limitText(limit);
}

std::string loom::limitText(unsigned limit) {
  return "Loom's tools accept at most " + std::to_string(limit) +
         " levels of nested regions, attribute and type brackets and "
         "parentheses (docs/Design.md, \"Input limits\")";
}

/// The buffer's bracket that crosses the limit, or nullopt.
static std::optional<llvm::SMLoc> tooDeepAt(const llvm::SourceMgr &sourceMgr) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  if (isBytecode(buffer->getMemBufferRef()))
    return std::nullopt;
  std::optional<size_t> at = loom::findTooDeepNesting(buffer->getBuffer());
  if (!at)
    return std::nullopt;
  return llvm::SMLoc::getFromPointer(buffer->getBufferStart() + *at);
}

LogicalResult loom::checkTextNesting(const llvm::SourceMgr &sourceMgr,
                                     MLIRContext *context) {
  std::optional<llvm::SMLoc> at = tooDeepAt(sourceMgr);
  if (!at)
    return success();
  auto [line, column] = sourceMgr.getLineAndColumn(*at);
  llvm::StringRef file =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferIdentifier();
  return emitError(FileLineColLoc::get(context, file, line, column),
                   tooDeepMessage());
}

LogicalResult loom::checkTextNesting(llvm::SourceMgr &sourceMgr) {
  std::optional<llvm::SMLoc> at = tooDeepAt(sourceMgr);
  if (!at)
    return success();
  sourceMgr.PrintMessage(*at, llvm::SourceMgr::DK_Error, tooDeepMessage());
  return failure();
}

/// The first shaped type within `type` that is too large, or null.
static ShapedType firstTooLarge(Type type) {
  ShapedType found;
  type.walk([&](ShapedType shaped) {
    if (loom::staticSizeBound(shaped))
      return WalkResult::advance();
    found = shaped;
    return WalkResult::interrupt();
  });
  return found;
}

static ShapedType firstTooLarge(Attribute attr) {
  ShapedType found;
  attr.walk([&](Type type) {
    if (!found)
      found = firstTooLarge(type);
  });
  return found;
}

/// The sizes of `op`'s results, block arguments and attributes.
static LogicalResult checkSizes(Operation *op) {
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (ShapedType bad = firstTooLarge(type))
      return op->emitOpError() << "result #" << i << " type "
                               << loom::shapeTooLargeMessage(bad);
  for (auto [r, region] : llvm::enumerate(op->getRegions()))
    for (Block &block : region)
      for (BlockArgument arg : block.getArguments())
        if (ShapedType bad = firstTooLarge(arg.getType()))
          return op->emitOpError()
                 << "region #" << r << " argument #" << arg.getArgNumber()
                 << " type " << loom::shapeTooLargeMessage(bad);
  for (NamedAttribute attr : op->getAttrs())
    if (ShapedType bad = firstTooLarge(attr.getValue()))
      return op->emitOpError() << "attribute '" << attr.getName().getValue()
                               << "': " << loom::shapeTooLargeMessage(bad);
  return success();
}

LogicalResult loom::checkParsedInput(Operation *root) {
  // Depth-first with an explicit stack: the IR may come from bytecode, which
  // is not scanned, and be deeper than a recursive walk could go.
  llvm::SmallVector<std::pair<Operation *, unsigned>> work = {{root, 0}};
  while (!work.empty()) {
    auto [op, depth] = work.pop_back_val();
    if (depth > kMaxNestingDepth)
      // Not op->emitError: the note printing the op would recurse through
      // everything nested in it.
      return emitError(op->getLoc())
             << "operation nested " << depth
             << " regions deep: " << limitText();
    if (failed(checkSizes(op)))
      return failure();
    // The root's region (the module) is not written as a bracket in the
    // text: its ops are at depth 0, as in the text's count.
    unsigned innerDepth = op == root ? 0 : depth + 1;
    for (Region &region : llvm::reverse(op->getRegions()))
      for (Block &block : llvm::reverse(region))
        for (Operation &inner : llvm::reverse(block))
          work.push_back({&inner, innerDepth});
  }
  return success();
}

OwningOpRef<ModuleOp> loom::parseSourceFileWithLimits(
    const std::shared_ptr<llvm::SourceMgr> &sourceMgr, MLIRContext *context) {
  if (failed(checkTextNesting(*sourceMgr, context)))
    return nullptr;
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, context);
  if (!module || failed(checkParsedInput(*module)))
    return nullptr;
  return module;
}

namespace {
struct CheckInputLimitsPass
    : public PassWrapper<CheckInputLimitsPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckInputLimitsPass)

  llvm::StringRef getArgument() const override {
    return "loom-check-input-limits";
  }
  llvm::StringRef getDescription() const override {
    return "Check the region nesting and the 64-bit sizes of every shaped "
           "type (docs/Design.md, \"Input limits\")";
  }
  void runOnOperation() override {
    if (failed(loom::checkParsedInput(getOperation())))
      signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace

std::unique_ptr<Pass> loom::createCheckInputLimitsPass() {
  return std::make_unique<CheckInputLimitsPass>();
}

int loom::runWithToolStack(llvm::function_ref<int()> work) {
  int result = 1;
  llvm::thread worker(std::optional<unsigned>(kToolStackBytes),
                      [&] { result = work(); });
  worker.join();
  return result;
}
