//===- DialectTest.cpp - the loom dialect's C++ API -----------------------===//
//-------------------------===//
//
// Builds every loom op from C++ (MLIR 22 style, `OpTy::create(builder, ...)`)
// inside a func.func of a fresh module and checks, against DIALECT.md:
//  - valid forms verify, with and without their optional operands/attributes;
//  - invalid forms fail verification with one error, at the op's location,
//    whose text names the broken rule;
//  - the accessors (unit attributes, optional and default-valued attributes,
//    the typed enum views);
//  - printing then parsing round-trips to identical text;
//  - the canonicalizations (block_sparse_attention with a constant layout,
//    select_blocks folding, window and decay dropping);
//  - misspelt (unprefixed) discardable attributes are rejected.

#include "loom/Dialect/Loom/IR/LoomDialect.h"
#include "loom/Dialect/Loom/IR/LoomOps.h"
#include "loom/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace mlir;
using namespace loom;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class LoomDialectTest : public ::testing::Test {
protected:
  LoomDialectTest() : b(&context) {
    loom::registerAllDialects(context);
    context.loadDialect<LoomDialect, func::FuncDialect, arith::ArithDialect,
                        tensor::TensorDialect>();
  }

  //===--------------------------------------------------------------------===//
  // Types
  //===--------------------------------------------------------------------===//

  RankedTensorType t(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }
  Type f32() { return b.getF32Type(); }
  Type f16() { return b.getF16Type(); }
  Type bf16() { return b.getBF16Type(); }
  Type i1() { return b.getI1Type(); }
  Type i4() { return b.getIntegerType(4); }
  Type i8() { return b.getI8Type(); }
  Type i16() { return b.getIntegerType(16); }
  Type f8() { return b.getType<Float8E4M3FNType>(); }

  //===--------------------------------------------------------------------===//
  // Building: a fresh module holding `func.func @f(inputs...)`.
  //===--------------------------------------------------------------------===//

  /// Starts a fresh module with one function taking `inputs`, positions the
  /// builder in its entry block and returns the block's arguments.
  SmallVector<Value> start(ArrayRef<Type> inputs) {
    b.clearInsertionPoint();
    module = ModuleOp::create(b, loc);
    b.setInsertionPointToEnd(module->getBody());
    func = func::FuncOp::create(b, loc, "f", b.getFunctionType(inputs, {}));
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    return SmallVector<Value>(entry->getArguments());
  }

  /// Terminates the function, returning `results` (which fixes its type).
  void finish(ValueRange results = {}) {
    func::ReturnOp::create(b, loc, results);
    func.setFunctionType(
        b.getFunctionType(func.getArgumentTypes(), results.getTypes()));
  }

  //===--------------------------------------------------------------------===//
  // Verifying, with the diagnostics captured.
  //===--------------------------------------------------------------------===//

  struct Verified {
    bool ok = false;
    /// Every error diagnostic, with its location.
    std::vector<std::pair<std::string, Location>> errors;
    std::string all() const {
      std::string s;
      for (const auto &e : errors)
        s += "  error: " + e.first + "\n";
      return s;
    }
  };

  Verified verifyModule(Operation *root = nullptr) {
    Verified result;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        result.errors.emplace_back(diag.str(), diag.getLocation());
      return success();
    });
    result.ok = succeeded(verify(root ? root : module->getOperation()));
    return result;
  }

  /// The module verifies, without any error diagnostic.
  ::testing::AssertionResult verifies() {
    Verified v = verifyModule();
    if (v.ok && v.errors.empty())
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "expected the module to verify; got:\n"
           << v.all() << str(*module);
  }

  /// Verification fails with exactly one error, at the op's location
  /// (`opLoc`), whose text contains every string of `expected`.
  ::testing::AssertionResult
  failsWith(std::initializer_list<StringRef> expected) {
    Verified v = verifyModule();
    std::string wanted;
    for (StringRef e : expected)
      wanted += "\"" + e.str() + "\" ";
    if (v.ok)
      return ::testing::AssertionFailure()
             << "verification succeeded; expected an error containing "
             << wanted << "\n"
             << str(*module);
    if (v.errors.size() != 1)
      return ::testing::AssertionFailure()
             << "expected exactly one error, got " << v.errors.size() << ":\n"
             << v.all();
    const auto &[text, where] = v.errors.front();
    for (StringRef e : expected)
      if (!StringRef(text).contains(e))
        return ::testing::AssertionFailure()
               << "the error does not contain \"" << e.str() << "\":\n"
               << v.all();
    if (where != opLoc)
      return ::testing::AssertionFailure()
             << "the error is not at the op's location: " << str(where);
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult failsWith(StringRef expected) {
    return failsWith({expected});
  }

  //===--------------------------------------------------------------------===//
  // Printing and inspecting.
  //===--------------------------------------------------------------------===//

  static std::string str(Operation *op, OpPrintingFlags flags = {}) {
    std::string s;
    llvm::raw_string_ostream os(s);
    op->print(os, flags);
    return s;
  }
  static std::string str(Location l) {
    std::string s;
    llvm::raw_string_ostream os(s);
    l.print(os);
    return s;
  }

  template <typename OpTy> static int count(Operation *root) {
    int n = 0;
    root->walk([&](OpTy) { ++n; });
    return n;
  }

  template <typename OpTy> static OpTy first(Operation *root) {
    OpTy found;
    root->walk([&](OpTy op) {
      if (!found)
        found = op;
    });
    return found;
  }

  /// The values the function returns.
  SmallVector<Value> returned() {
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    return SmallVector<Value>(ret.getOperands());
  }

  static float value(std::optional<APFloat> f) {
    return f ? f->convertToFloat() : -12345.0f;
  }

  FloatAttr f32Attr(float v) { return b.getF32FloatAttr(v); }

  MLIRContext context;
  OpBuilder b;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
  Location loc = UnknownLoc::get(&context);
  /// Every op under test is built here, so that diagnostics can be checked to
  /// be reported at the op.
  Location opLoc = FileLineColLoc::get(&context, "ops.mlir", 42, 7);
};

//===----------------------------------------------------------------------===//
// loom.attention
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, AttentionValidAndAccessors) {
  // GQA: Hq = 8, Hkv = 2; Sq != Skv; Dv != D.
  auto a = start({t({2, 8, 16, 64}, bf16()), t({2, 2, 32, 64}, bf16()),
                  t({2, 2, 32, 48}, bf16())});
  auto plain = AttentionOp::create(b, opLoc, t({2, 8, 16, 48}, bf16()), a[0],
                                   a[1], a[2], /*causal=*/false, FloatAttr(),
                                   IntegerAttr(), FloatAttr());
  auto full = AttentionOp::create(b, opLoc, t({2, 8, 16, 48}, bf16()), a[0],
                                  a[1], a[2], /*causal=*/true, f32Attr(0.125f),
                                  b.getI64IntegerAttr(4), f32Attr(30.0f));
  finish({plain, full});
  EXPECT_TRUE(verifies());

  EXPECT_FALSE(plain.getCausal());
  EXPECT_FALSE(plain.getScale().has_value());
  EXPECT_FALSE(plain.getScaleAttr());
  EXPECT_FALSE(plain.getUniformWindow().has_value());
  EXPECT_FALSE(plain.getSoftcap().has_value());

  EXPECT_TRUE(full.getCausal());
  ASSERT_TRUE(full.getScale().has_value());
  EXPECT_EQ(value(full.getScale()), 0.125f);
  ASSERT_TRUE(full.getUniformWindow().has_value());
  EXPECT_EQ(*full.getUniformWindow(), 4);
  EXPECT_EQ(value(full.getSoftcap()), 30.0f);
  EXPECT_EQ(full.getQ(), a[0]);
  EXPECT_EQ(full.getK(), a[1]);
  EXPECT_EQ(full.getV(), a[2]);
  EXPECT_EQ(full.getType(), t({2, 8, 16, 48}, bf16()));
  EXPECT_TRUE(full->hasTrait<OpTrait::ZeroRegions>());
  EXPECT_TRUE(isPure(full));
}

TEST_F(LoomDialectTest, AttentionMhaMqaAndDynamicShapesVerify) {
  for (auto [hq, hkv] : {std::pair<int64_t, int64_t>{4, 4}, {4, 1}}) {
    auto a = start({t({1, hq, 8, 16}, f32()), t({1, hkv, 8, 16}, f32()),
                    t({1, hkv, 8, 16}, f32())});
    AttentionOp::create(b, opLoc, t({1, hq, 8, 16}, f32()), a[0], a[1], a[2],
                        true, FloatAttr(), IntegerAttr(), FloatAttr());
    finish();
    EXPECT_TRUE(verifies()) << "Hq=" << hq << " Hkv=" << hkv;
  }
  // Every dimension dynamic: nothing can be checked, everything is accepted.
  auto a = start({t({kDyn, kDyn, kDyn, kDyn}, f16()),
                  t({kDyn, kDyn, kDyn, kDyn}, f16()),
                  t({kDyn, kDyn, kDyn, kDyn}, f16())});
  AttentionOp::create(b, opLoc, t({kDyn, kDyn, kDyn, kDyn}, f16()), a[0], a[1],
                      a[2], true, FloatAttr(), b.getI64IntegerAttr(128),
                      FloatAttr());
  finish();
  EXPECT_TRUE(verifies());
  // Partly dynamic: Hq dynamic, Hkv static.
  a = start({t({1, kDyn, 8, 16}, f32()), t({1, 3, 8, 16}, f32()),
             t({1, 3, 8, 16}, f32())});
  AttentionOp::create(b, opLoc, t({1, kDyn, 8, 16}, f32()), a[0], a[1], a[2],
                      false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish();
  EXPECT_TRUE(verifies());
}

TEST_F(LoomDialectTest, AttentionInvalid) {
  auto build = [&](int64_t hq, int64_t hkv, bool causal, FloatAttr scale,
                   IntegerAttr window, FloatAttr softcap, Type elt,
                   int64_t kd = 64) {
    auto a = start({t({1, hq, 16, 64}, elt), t({1, hkv, 16, kd}, elt),
                    t({1, hkv, 16, 64}, elt)});
    AttentionOp::create(b, opLoc, t({1, hq, 16, 64}, elt), a[0], a[1], a[2],
                        causal, scale, window, softcap);
    finish();
  };
  build(6, 4, false, {}, {}, {}, bf16());
  EXPECT_TRUE(failsWith("query heads (Hq = 6) must be a multiple of "
                        "key/value heads (Hkv = 4)"));
  build(8, 0, false, {}, {}, {}, bf16());
  EXPECT_TRUE(failsWith("'k' dimension 1 (Hkv) must be positive, found 0"));
  build(8, 2, /*causal=*/false, {}, b.getI64IntegerAttr(16), {}, bf16());
  EXPECT_TRUE(failsWith("attribute 'window' requires 'causal'"));
  build(8, 2, true, {}, b.getI64IntegerAttr(0), {}, bf16());
  EXPECT_TRUE(failsWith("attribute 'window' must be positive, found 0"));
  build(8, 2, true, {}, b.getI64IntegerAttr(-3), {}, bf16());
  EXPECT_TRUE(failsWith("attribute 'window' must be positive, found -3"));
  build(8, 2, false, {}, {}, f32Attr(0.0f), bf16());
  EXPECT_TRUE(failsWith("attribute 'softcap' must be positive"));
  build(8, 2, false, {}, {}, f32Attr(-5.0f), bf16());
  EXPECT_TRUE(failsWith("attribute 'softcap' must be positive"));
  build(8, 2, false, f32Attr(std::numeric_limits<float>::infinity()), {}, {},
        bf16());
  EXPECT_TRUE(failsWith("attribute 'scale' must be finite, found inf"));
  build(8, 2, false, f32Attr(std::numeric_limits<float>::quiet_NaN()), {}, {},
        bf16());
  EXPECT_TRUE(failsWith("attribute 'scale' must be finite, found nan"));
  build(8, 2, false, {}, {}, {}, bf16(), /*kd=*/32);
  EXPECT_TRUE(failsWith(
      "'k' dimension 3 (D) must equal 'q' dimension 3: found 32 and 64"));
  build(8, 2, false, {}, {}, {}, i8());
  EXPECT_TRUE(
      failsWith("'q' must have an f32, f16 or bf16 element type, found i8"));

  // Mixed element types, wrong rank, wrong result shape.
  auto a = start({t({1, 8, 16, 64}, bf16()), t({1, 2, 16, 64}, f16()),
                  t({1, 2, 16, 64}, bf16())});
  AttentionOp::create(b, opLoc, t({1, 8, 16, 64}, bf16()), a[0], a[1], a[2],
                      false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish();
  EXPECT_TRUE(
      failsWith("'k' element type f16 must match 'q' element type bf16"));

  a = start({t({8, 16, 64}, f32()), t({1, 2, 16, 64}, f32()),
             t({1, 2, 16, 64}, f32())});
  AttentionOp::create(b, opLoc, t({1, 8, 16, 64}, f32()), a[0], a[1], a[2],
                      false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish();
  EXPECT_TRUE(failsWith("'q' must have rank 4 ([B, Hq, Sq, D]), found rank 3"));

  a = start({t({1, 8, 16, 64}, f32()), t({1, 2, 32, 64}, f32()),
             t({1, 2, 32, 64}, f32())});
  AttentionOp::create(b, opLoc, t({1, 8, 32, 64}, f32()), a[0], a[1], a[2],
                      false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish();
  EXPECT_TRUE(failsWith(
      "result dimension 2 (Sq) must equal 'q' dimension 2: found 32 and 16"));

  a = start({t({1, 8, 16, 64}, f32()), t({1, 2, 32, 64}, f32()),
             t({1, 2, 31, 64}, f32())});
  AttentionOp::create(b, opLoc, t({1, 8, 16, 64}, f32()), a[0], a[1], a[2],
                      false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish();
  EXPECT_TRUE(failsWith("(Skv)"));
}

//===----------------------------------------------------------------------===//
// loom.block_sparse_attention
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, BlockSparseAttentionValidAndAccessors) {
  // Sq = 100 -> NQB = ceil(100/64) = 2; Skv = 130 -> NKB = ceil(130/64) = 3.
  auto a = start({t({2, 8, 100, 64}, bf16()), t({2, 2, 130, 64}, bf16()),
                  t({2, 2, 130, 32}, bf16()), t({2, 8, 2, 3}, i1()),
                  t({1, 1, 2, 3}, i1()), t({2, 1, 2, 3}, i1()),
                  t({kDyn, kDyn, kDyn, kDyn}, i1())});
  auto rt = t({2, 8, 100, 32}, bf16());
  auto full = BlockSparseAttentionOp::create(b, opLoc, rt, a[0], a[1], a[2],
                                             a[3], 64, 64, /*causal=*/true,
                                             f32Attr(0.5f), f32Attr(50.0f));
  auto broadcast =
      BlockSparseAttentionOp::create(b, opLoc, rt, a[0], a[1], a[2], a[4], 64,
                                     64, false, FloatAttr(), FloatAttr());
  auto perBatch =
      BlockSparseAttentionOp::create(b, opLoc, rt, a[0], a[1], a[2], a[5], 64,
                                     64, false, FloatAttr(), FloatAttr());
  auto dynamic =
      BlockSparseAttentionOp::create(b, opLoc, rt, a[0], a[1], a[2], a[6], 64,
                                     64, false, FloatAttr(), FloatAttr());
  finish({full, broadcast, perBatch, dynamic});
  EXPECT_TRUE(verifies());

  EXPECT_EQ(full.getBlockQ(), 64u);
  EXPECT_EQ(full.getBlockK(), 64u);
  EXPECT_TRUE(full.getCausal());
  EXPECT_EQ(value(full.getScale()), 0.5f);
  EXPECT_EQ(value(full.getSoftcap()), 50.0f);
  EXPECT_EQ(full.getLayout(), a[3]);
  EXPECT_FALSE(broadcast.getCausal());
  EXPECT_FALSE(broadcast.getScale().has_value());
  EXPECT_FALSE(broadcast.getSoftcap().has_value());

  // Blocks that divide the lengths exactly.
  a = start({t({1, 4, 128, 16}, f32()), t({1, 4, 256, 16}, f32()),
             t({1, 4, 256, 16}, f32()), t({1, 4, 4, 4}, i1())});
  BlockSparseAttentionOp::create(b, opLoc, t({1, 4, 128, 16}, f32()), a[0],
                                 a[1], a[2], a[3], 32, 64, true, FloatAttr(),
                                 FloatAttr());
  finish();
  EXPECT_TRUE(verifies());
}

TEST_F(LoomDialectTest, BlockSparseAttentionInvalid) {
  auto build = [&](ArrayRef<int64_t> layoutShape, Type layoutElt,
                   int64_t blockQ, int64_t blockK, int64_t hkv = 2,
                   FloatAttr softcap = {}) {
    auto a = start({t({2, 8, 100, 64}, bf16()), t({2, hkv, 130, 64}, bf16()),
                    t({2, hkv, 130, 64}, bf16()), t(layoutShape, layoutElt)});
    BlockSparseAttentionOp::create(
        b, opLoc, t({2, 8, 100, 64}, bf16()), a[0], a[1], a[2], a[3],
        /*sink_logits=*/Value(), b.getI64IntegerAttr(blockQ),
        b.getI64IntegerAttr(blockK), UnitAttr(), FloatAttr(), softcap,
        /*window=*/Attribute(), /*sink=*/IntegerAttr());
    finish();
  };
  build({2, 8, 2, 2}, i1(), 64, 64);
  EXPECT_TRUE(failsWith("'layout' dimension 3 (NKB = ceil(Skv / block_k)) "
                        "must be 3, found 2"));
  build({2, 8, 1, 3}, i1(), 64, 64);
  EXPECT_TRUE(failsWith("'layout' dimension 2 (NQB = ceil(Sq / block_q)) "
                        "must be 2, found 1"));
  build({2, 4, 2, 3}, i1(), 64, 64);
  EXPECT_TRUE(failsWith("'layout' dimension 1 must be 1 or Hq (8), found 4"));
  build({3, 8, 2, 3}, i1(), 64, 64);
  EXPECT_TRUE(failsWith("'layout' dimension 0 must be 1 or B (2), found 3"));
  build({2, 8, 2, 3}, i8(), 64, 64);
  EXPECT_TRUE(
      failsWith("'layout' must have element type i1 (a block mask), found i8"));
  build({8, 2, 3}, i1(), 64, 64);
  EXPECT_TRUE(failsWith("'layout' must have rank 4 ([Lb, Lh, NQB, NKB])"));
  build({2, 8, 2, 3}, i1(), 0, 64);
  EXPECT_TRUE(failsWith("attribute 'block_q' must be positive, found 0"));
  build({2, 8, 2, 3}, i1(), 64, -64);
  EXPECT_TRUE(failsWith("attribute 'block_k' must be positive, found -64"));
  build({2, 8, 2, 3}, i1(), 64, 64, /*hkv=*/3);
  EXPECT_TRUE(failsWith("must be a multiple of key/value heads (Hkv = 3)"));
  build({2, 8, 2, 3}, i1(), 64, 64, 2, f32Attr(-1.0f));
  EXPECT_TRUE(failsWith("attribute 'softcap' must be positive"));
}

//===----------------------------------------------------------------------===//
// loom.select_blocks
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, SelectBlocksValidAndAccessors) {
  auto a = start({t({1, 8, 100, 64}, bf16()), t({1, 2, 130, 64}, bf16())});
  auto causal =
      SelectBlocksOp::create(b, opLoc, t({1, 8, 2, 3}, i1()), a[0], a[1], 64,
                             64, 2, /*causal=*/true, f32Attr(0.25f));
  auto plain = SelectBlocksOp::create(b, opLoc, t({1, 8, 2, 3}, i1()), a[0],
                                      a[1], 64, 64, 0, false, FloatAttr());
  finish({causal, plain});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(causal.getBlockQ(), 64u);
  EXPECT_EQ(causal.getBlockK(), 64u);
  EXPECT_EQ(causal.getTopk(), 2u);
  EXPECT_TRUE(causal.getCausal());
  EXPECT_EQ(value(causal.getScale()), 0.25f);
  EXPECT_FALSE(plain.getCausal());
  EXPECT_FALSE(plain.getScale().has_value());
  EXPECT_EQ(plain.getTopk(), 0u);
  EXPECT_EQ(causal.getLayout().getType(), t({1, 8, 2, 3}, i1()));
}

TEST_F(LoomDialectTest, SelectBlocksInvalid) {
  auto build = [&](ArrayRef<int64_t> layoutShape, int64_t topk, Type layoutElt,
                   int64_t kd = 64) {
    auto a = start({t({1, 8, 100, 64}, bf16()), t({1, 2, 130, kd}, bf16())});
    SelectBlocksOp::create(b, opLoc, t(layoutShape, layoutElt), a[0], a[1],
                           b.getI64IntegerAttr(64), b.getI64IntegerAttr(64),
                           b.getI64IntegerAttr(topk), b.getUnitAttr(),
                           FloatAttr());
    finish();
  };
  build({1, 8, 2, 3}, -1, i1());
  EXPECT_TRUE(failsWith("attribute 'topk' must be non-negative, found -1"));
  // A select_blocks result has Hq heads: the broadcasting Lh = 1 of
  // block_sparse_attention's layout is not a valid result.
  build({1, 1, 2, 3}, 2, i1());
  EXPECT_TRUE(failsWith(
      "result dimension 1 (Hq) must equal 'q' dimension 1: found 1 and 8"));
  build({1, 8, 2, 4}, 2, i1());
  EXPECT_TRUE(failsWith("result dimension 3 (NKB = ceil(Skv / block_k)) must "
                        "be 3, found 4"));
  build({1, 8, 2, 3}, 2, i8());
  EXPECT_TRUE(failsWith("result must have element type i1"));
  build({1, 8, 2, 3}, 2, i1(), /*kd=*/32);
  EXPECT_TRUE(failsWith("'k' dimension 3 (D) must equal 'q' dimension 3"));
}

//===----------------------------------------------------------------------===//
// loom.linear_attention
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, LinearAttentionValidAndAccessors) {
  auto a = start({t({1, 2, 256, 64}, f32()), t({1, 2, 256, 64}, f32()),
                  t({1, 2, 256, 32}, f32())});
  auto rt = t({1, 2, 256, 32}, f32());
  // No attributes at all: every default applies.
  auto plain = LinearAttentionOp::create(
      b, opLoc, rt, Type(), a[0], a[1], a[2], Value(), Value(), Value(), UnitAttr(), StringAttr(),
      DenseF32ArrayAttr(), FloatAttr(), UnitAttr());
  auto full = LinearAttentionOp::create(
      b, opLoc, rt, Type(), a[0], a[1], a[2], Value(), Value(), Value(), /*causal=*/true, "elu_plus_one",
      b.getDenseF32ArrayAttr({0.5f, 0.25f}), f32Attr(1.0f),
      /*normalize=*/true);
  auto relu =
      LinearAttentionOp::create(b, opLoc, rt, Type(), a[0], a[1], a[2], Value(), Value(), Value(), false, "relu",
                                DenseF32ArrayAttr(), FloatAttr(), false);
  finish({plain.getResult(), full.getResult(), relu.getResult()});
  EXPECT_TRUE(verifies());

  EXPECT_FALSE(plain.getCausal());
  EXPECT_EQ(plain.getFeatureMap(), "identity");
  EXPECT_EQ(plain.getFeatureMapKind(), FeatureMap::Identity);
  EXPECT_FALSE(plain.getDecay().has_value());
  EXPECT_FALSE(plain.getScale().has_value());
  EXPECT_FALSE(plain.getNormalize());

  EXPECT_TRUE(full.getCausal());
  EXPECT_EQ(full.getFeatureMap(), "elu_plus_one");
  EXPECT_EQ(full.getFeatureMapKind(), FeatureMap::EluPlusOne);
  ASSERT_TRUE(full.getDecay().has_value());
  ASSERT_EQ(full.getDecay()->size(), 2u);
  EXPECT_EQ((*full.getDecay())[0], 0.5f);
  EXPECT_EQ((*full.getDecay())[1], 0.25f);
  EXPECT_EQ(value(full.getScale()), 1.0f);
  EXPECT_TRUE(full.getNormalize());

  EXPECT_EQ(relu.getFeatureMapKind(), FeatureMap::Relu);
}

TEST_F(LoomDialectTest, LinearAttentionInvalid) {
  auto build = [&](StringRef featureMap, bool causal, DenseF32ArrayAttr decay,
                   int64_t kd = 64) {
    auto a = start({t({1, 2, 16, 64}, f32()), t({1, 2, 16, kd}, f32()),
                    t({1, 2, 16, 32}, f32())});
    LinearAttentionOp::create(b, opLoc, t({1, 2, 16, 32}, f32()), Type(), a[0], a[1],
                              a[2], Value(), Value(), Value(), causal, featureMap, decay, FloatAttr(),
                              false);
    finish();
  };
  build("softmax", false, {});
  EXPECT_TRUE(failsWith("attribute 'feature_map' must be one of \"identity\", "
                        "\"relu\", \"elu_plus_one\", found \"softmax\""));
  build("ELU_PLUS_ONE", false, {});
  EXPECT_TRUE(failsWith("found \"ELU_PLUS_ONE\""));
  build("identity", /*causal=*/false, b.getDenseF32ArrayAttr({0.5f, 0.5f}));
  EXPECT_TRUE(failsWith("attribute 'decay' requires 'causal'"));
  build("identity", true, b.getDenseF32ArrayAttr({0.5f, 0.5f, 0.5f}));
  EXPECT_TRUE(
      failsWith("attribute 'decay' must hold one value per head (2), found 3"));
  build("identity", true, b.getDenseF32ArrayAttr({0.5f}));
  EXPECT_TRUE(
      failsWith("attribute 'decay' must hold one value per head (2), found 1"));
  build("identity", true, b.getDenseF32ArrayAttr({0.5f, -0.5f}));
  EXPECT_TRUE(failsWith(
      {"attribute 'decay' must be finite and non-negative", "for head 1"}));
  build("identity", true,
        b.getDenseF32ArrayAttr({std::numeric_limits<float>::quiet_NaN(), 0}));
  EXPECT_TRUE(failsWith(
      {"attribute 'decay' must be finite and non-negative", "for head 0"}));
  build("identity", true,
        b.getDenseF32ArrayAttr({0, std::numeric_limits<float>::infinity()}));
  EXPECT_TRUE(failsWith(
      {"attribute 'decay' must be finite and non-negative", "for head 1"}));
  build("identity", false, {}, /*kd=*/48);
  EXPECT_TRUE(failsWith("'k' dimension 3 (Dk) must equal 'q' dimension 3"));

  // The sequence lengths of q, k and v must agree (no Sq != Skv here).
  auto a = start({t({1, 2, 16, 64}, f32()), t({1, 2, 8, 64}, f32()),
                  t({1, 2, 8, 32}, f32())});
  LinearAttentionOp::create(b, opLoc, t({1, 2, 16, 32}, f32()), Type(), a[0], a[1],
                            a[2], Value(), Value(), Value(), false, "identity", DenseF32ArrayAttr(),
                            FloatAttr(), false);
  finish();
  EXPECT_TRUE(failsWith(
      "'k' dimension 2 (S) must equal 'q' dimension 2: found 8 and 16"));
}

//===----------------------------------------------------------------------===//
// loom.pool_mixer
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, PoolMixerValidAndAccessors) {
  auto a = start({t({1, 16, 16, 64}, f32()), t({2, 128, 32}, bf16())});
  auto spatial = PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[0]);
  auto sequence =
      PoolMixerOp::create(b, opLoc, t({2, 128, 32}, bf16()), a[1], 7);
  auto unset = PoolMixerOp::create(b, opLoc, t({2, 128, 32}, bf16()), a[1],
                                   IntegerAttr());
  finish({spatial, sequence, unset});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(spatial.getKernel(), 3u);
  EXPECT_EQ(sequence.getKernel(), 7u);
  EXPECT_EQ(unset.getKernel(), 3u) << "default-valued 'kernel' reads as 3";
}

TEST_F(LoomDialectTest, PoolMixerInvalid) {
  auto a = start({t({1, 16, 16, 64}, f32())});
  PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[0], 4);
  finish();
  EXPECT_TRUE(failsWith("attribute 'kernel' must be odd, found 4"));

  a = start({t({1, 16, 16, 64}, f32())});
  PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[0],
                      b.getI64IntegerAttr(-3));
  finish();
  EXPECT_TRUE(failsWith("attribute 'kernel' must be positive, found -3"));

  a = start({t({16, 64}, f32())});
  PoolMixerOp::create(b, opLoc, t({16, 64}, f32()), a[0]);
  finish();
  EXPECT_TRUE(failsWith(
      "'x' must have rank 3 ([B, S, C]) or 4 ([B, H, W, C]), found rank 2"));

  a = start({t({1, 16, 16, 64}, f32())});
  PoolMixerOp::create(b, opLoc, t({1, 16, 16, 32}, f32()), a[0]);
  finish();
  EXPECT_TRUE(failsWith("result dimension 3 (same shape) must equal 'x' "
                        "dimension 3: found 32 and 64"));

  a = start({t({1, 16, 16, 64}, f32())});
  PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f16()), a[0]);
  finish();
  EXPECT_TRUE(
      failsWith("result element type f16 must match 'x' element type f32"));

  a = start({t({1, 16, 64}, i8())});
  PoolMixerOp::create(b, opLoc, t({1, 16, 64}, i8()), a[0]);
  finish();
  EXPECT_TRUE(failsWith("'x' must have an f32, f16 or bf16 element type"));
}

//===----------------------------------------------------------------------===//
// loom.dwconv
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, DwConvValidAndAccessors) {
  auto a = start({t({1, 1024, 256}, bf16()), t({7, 256}, bf16()),
                  t({1024, 256}, bf16()), t({1, 14, 14, 96}, f32()),
                  t({7, 5, 96}, f32()), t({4, 256}, bf16())});
  auto centred =
      DwConvOp::create(b, opLoc, t({1, 1024, 256}, bf16()), a[0], a[1]);
  // A long causal convolution: K = S, and an even K is fine when causal.
  auto longConv = DwConvOp::create(b, opLoc, t({1, 1024, 256}, bf16()), a[0],
                                   a[2], /*causal=*/true);
  auto shortCausal = DwConvOp::create(b, opLoc, t({1, 1024, 256}, bf16()), a[0],
                                      a[5], /*causal=*/true);
  auto spatial =
      DwConvOp::create(b, opLoc, t({1, 14, 14, 96}, f32()), a[3], a[4]);
  finish({centred, longConv, shortCausal, spatial});
  EXPECT_TRUE(verifies());
  EXPECT_FALSE(centred.getCausal());
  EXPECT_TRUE(longConv.getCausal());
  EXPECT_FALSE(spatial.getCausal());
  EXPECT_EQ(spatial.getW(), a[4]);
}

TEST_F(LoomDialectTest, DwConvInvalid) {
  auto a = start({t({1, 14, 14, 96}, f32()), t({7, 7, 96}, f32())});
  DwConvOp::create(b, opLoc, t({1, 14, 14, 96}, f32()), a[0], a[1],
                   /*causal=*/true);
  finish();
  EXPECT_TRUE(failsWith("attribute 'causal' applies to 1-D convolutions "
                        "only, found a 2-D 'x'"));

  a = start({t({1, 64, 32}, f32()), t({4, 32}, f32())});
  DwConvOp::create(b, opLoc, t({1, 64, 32}, f32()), a[0], a[1]);
  finish();
  EXPECT_TRUE(failsWith("'w' dimension 0 (kernel size) must be odd for a "
                        "centred convolution, found 4"));

  a = start({t({1, 14, 14, 96}, f32()), t({7, 6, 96}, f32())});
  DwConvOp::create(b, opLoc, t({1, 14, 14, 96}, f32()), a[0], a[1]);
  finish();
  EXPECT_TRUE(failsWith("'w' dimension 1 (kernel size) must be odd"));

  a = start({t({1, 64, 32}, f32()), t({0, 32}, f32())});
  DwConvOp::create(b, opLoc, t({1, 64, 32}, f32()), a[0], a[1], true);
  finish();
  EXPECT_TRUE(
      failsWith("'w' dimension 0 (kernel size) must be positive, found 0"));

  a = start({t({1, 64, 32}, f32()), t({3, 16}, f32())});
  DwConvOp::create(b, opLoc, t({1, 64, 32}, f32()), a[0], a[1]);
  finish();
  EXPECT_TRUE(failsWith(
      "'w' dimension 1 (C) must equal 'x' dimension 2: found 16 and 32"));

  a = start({t({1, 14, 14, 96}, f32()), t({7, 96}, f32())});
  DwConvOp::create(b, opLoc, t({1, 14, 14, 96}, f32()), a[0], a[1]);
  finish();
  EXPECT_TRUE(failsWith("'w' must have rank 3 ([Kh, Kw, C] for a 2-D 'x')"));

  a = start({t({1, 64, 32}, f32()), t({3, 32}, bf16())});
  DwConvOp::create(b, opLoc, t({1, 64, 32}, f32()), a[0], a[1]);
  finish();
  EXPECT_TRUE(
      failsWith("'w' element type bf16 must match 'x' element type f32"));
}

//===----------------------------------------------------------------------===//
// loom.linear
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, LinearValidAndAccessors) {
  auto a = start({t({1, 16, 16, 64}, f32()), t({256, 64}, f32()),
                  t({256}, f32()), t({64}, f32())});
  auto withBias =
      LinearOp::create(b, opLoc, t({1, 16, 16, 256}, f32()), a[0], a[1], a[2]);
  auto noBias = LinearOp::create(b, opLoc, t({1, 16, 16, 256}, f32()), a[0],
                                 a[1], Value());
  // Rank-1 x: no batch dimensions.
  auto vec = LinearOp::create(b, opLoc, t({256}, f32()), a[3], a[1], a[2]);
  finish({withBias, noBias, vec});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(withBias.getBias(), a[2]);
  EXPECT_FALSE(noBias.getBias());
  EXPECT_EQ(noBias->getNumOperands(), 2u);
  EXPECT_EQ(withBias->getNumOperands(), 3u);
}

TEST_F(LoomDialectTest, LinearInvalid) {
  auto build = [&](RankedTensorType x, RankedTensorType w,
                   RankedTensorType bias, RankedTensorType result) {
    SmallVector<Type> in = {x, w};
    if (bias)
      in.push_back(bias);
    auto a = start(in);
    LinearOp::create(b, opLoc, result, a[0], a[1], bias ? a[2] : Value());
    finish();
  };
  build(t({16, 64}, f32()), t({256, 64}, f32()), t({257}, f32()),
        t({16, 256}, f32()));
  EXPECT_TRUE(failsWith(
      "'bias' dimension 0 (N) must equal 'w' dimension 0: found 257 and 256"));
  build(t({16, 64}, f32()), t({256, 64}, f32()), t({1, 256}, f32()),
        t({16, 256}, f32()));
  EXPECT_TRUE(failsWith("'bias' must have rank 1 ([N]), found rank 2"));
  build(t({16, 64}, bf16()), t({256, 64}, bf16()), t({256}, f32()),
        t({16, 256}, bf16()));
  EXPECT_TRUE(failsWith("'bias' must have element type bf16"));
  build(t({16, 64}, f32()), t({256, 32}, f32()), {}, t({16, 256}, f32()));
  EXPECT_TRUE(failsWith(
      "'w' dimension 1 (K) must equal 'x' dimension 1: found 32 and 64"));
  build(t({16, 64}, f32()), t({256, 64}, f32()), {}, t({16, 128}, f32()));
  EXPECT_TRUE(failsWith(
      "result dimension 1 (N) must equal 'w' dimension 0: found 128 and 256"));
  build(t({2, 16, 64}, f32()), t({256, 64}, f32()), {}, t({16, 256}, f32()));
  EXPECT_TRUE(failsWith("result must have the rank of 'x' (3), found rank 2"));
  build(t({2, 16, 64}, f32()), t({256, 64}, f32()), {}, t({2, 8, 256}, f32()));
  EXPECT_TRUE(
      failsWith("result dimension 1 (batch) must equal 'x' dimension 1"));
  build(t({16, 64}, f32()), t({4, 256, 64}, f32()), {}, t({16, 256}, f32()));
  EXPECT_TRUE(failsWith("'w' must have rank 2 ([N, K]), found rank 3"));
  build(t({16, 64}, i8()), t({256, 64}, i8()), {}, t({16, 256}, i8()));
  EXPECT_TRUE(failsWith("'x' must have an f32, f16 or bf16 element type"));
}

//===----------------------------------------------------------------------===//
// loom.qlinear
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, QLinearValidAndAccessors) {
  // W4A16 with groups of 128, with bias.
  auto a = start({t({16, 256}, bf16()), t({64, 256}, i4()), t({64, 2}, f32()),
                  t({64}, bf16()), t({64, 256}, i8()), t({64}, f32())});
  auto grouped = QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[0], a[1],
                                   a[2], a[3], 128);
  // W8A16 per-channel, no bias; group_size left at its default.
  auto perChannel = QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[0], a[4],
                                      a[5], Value());
  auto unset = QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[0], a[4],
                                 a[5], Value(), IntegerAttr());
  finish({grouped, perChannel, unset});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(grouped.getGroupSize(), 128u);
  EXPECT_EQ(grouped.getBias(), a[3]);
  EXPECT_EQ(grouped.getWScale(), a[2]);
  EXPECT_EQ(perChannel.getGroupSize(), 0u);
  EXPECT_FALSE(perChannel.getBias());
  EXPECT_EQ(unset.getGroupSize(), 0u);

  // Dynamic K with group-wise scales: nothing to check statically.
  a = start(
      {t({kDyn, kDyn}, f16()), t({64, kDyn}, i4()), t({64, kDyn}, f32())});
  QLinearOp::create(b, opLoc, t({kDyn, 64}, f16()), a[0], a[1], a[2], Value(),
                    32);
  finish();
  EXPECT_TRUE(verifies());
}

TEST_F(LoomDialectTest, QLinearInvalid) {
  auto build = [&](int64_t k, Type wElt, ArrayRef<int64_t> scaleShape,
                   int64_t group, RankedTensorType bias = {},
                   Type scaleElt = {}) {
    SmallVector<Type> in = {t({16, k}, bf16()), t({64, k}, wElt),
                            t(scaleShape, scaleElt ? scaleElt : f32())};
    if (bias)
      in.push_back(bias);
    auto a = start(in);
    QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[0], a[1], a[2],
                      bias ? a[3] : Value(), b.getI64IntegerAttr(group));
    finish();
  };
  build(255, i4(), {64}, 0);
  EXPECT_TRUE(failsWith("'w' holds i4 values packed two per byte along its "
                        "innermost dimension, which must be even; found 255"));
  build(256, i4(), {64, 3}, 100);
  EXPECT_TRUE(failsWith("attribute 'group_size' (100) must divide K (256)"));
  build(256, i4(), {64, 3}, 128);
  EXPECT_TRUE(
      failsWith("'w_scale' dimension 1 (K / group_size) must be 2, found 3"));
  build(256, i4(), {64}, 128);
  EXPECT_TRUE(failsWith("'w_scale' must have rank 2 ([N, K / group_size] for "
                        "group-wise scales), found rank 1"));
  build(256, i8(), {64, 2}, 0);
  EXPECT_TRUE(failsWith("'w_scale' must have rank 1 ([N] for per-channel "
                        "scales), found rank 2"));
  build(256, i8(), {32}, 0);
  EXPECT_TRUE(failsWith(
      "'w_scale' dimension 0 (N) must equal 'w' dimension 0: found 32 and 64"));
  build(256, i16(), {64}, 0);
  EXPECT_TRUE(failsWith("'w' must have element type i8 or i4, found i16"));
  build(256, bf16(), {64}, 0);
  EXPECT_TRUE(failsWith("'w' must have element type i8 or i4, found bf16"));
  build(256, i8(), {64}, -2);
  EXPECT_TRUE(
      failsWith("attribute 'group_size' must be non-negative, found -2"));
  build(256, i8(), {64}, 0, t({63}, bf16()));
  EXPECT_TRUE(failsWith("'bias' dimension 0 (N) must equal 'w' dimension 0"));
  build(256, i8(), {64}, 0, t({64}, i8()));
  EXPECT_TRUE(failsWith("'bias' must have an f32, f16 or bf16 element type"));
  build(256, i8(), {64}, 0, {}, i8());
  EXPECT_TRUE(
      failsWith("'w_scale' must have an f32, f16 or bf16 element type"));
}

//===----------------------------------------------------------------------===//
// loom.quantize
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, QuantizeValidAndAccessors) {
  auto a = start({t({16, 4096}, bf16()), t({kDyn, 512}, f32())});
  auto q8 =
      QuantizeOp::create(b, opLoc, t({16, 4096}, i8()), t({16}, f32()), a[0]);
  auto qf8 = QuantizeOp::create(b, opLoc, t({kDyn, 512}, f8()),
                                t({kDyn}, f32()), a[1]);
  finish({q8.getXq(), q8.getXs(), qf8.getXq(), qf8.getXs()});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(q8->getNumResults(), 2u);
  EXPECT_EQ(q8.getXq().getType(), t({16, 4096}, i8()));
  EXPECT_EQ(q8.getXs().getType(), t({16}, f32()));
  EXPECT_EQ(q8.getX(), a[0]);
  EXPECT_TRUE(isa<Float8E4M3FNType>(qf8.getXq().getType().getElementType()));
}

TEST_F(LoomDialectTest, QuantizeInvalid) {
  auto build = [&](RankedTensorType x, RankedTensorType xq,
                   RankedTensorType xs) {
    auto a = start({x});
    QuantizeOp::create(b, opLoc, xq, xs, a[0]);
    finish();
  };
  build(t({16, 64}, bf16()), t({16, 64}, i8()), t({16}, bf16()));
  EXPECT_TRUE(failsWith(
      "'xs' must have element type f32 (per-row scales), found bf16"));
  build(t({16, 64}, bf16()), t({16, 64}, i4()), t({16}, f32()));
  EXPECT_TRUE(
      failsWith("'xq' must have element type i8 or f8E4M3FN, found i4"));
  build(t({16, 64}, bf16()), t({16, 64}, b.getType<Float8E5M2Type>()),
        t({16}, f32()));
  EXPECT_TRUE(
      failsWith("'xq' must have element type i8 or f8E4M3FN, found f8E5M2"));
  build(t({16, 64}, bf16()), t({16, 64}, i8()), t({8}, f32()));
  EXPECT_TRUE(failsWith(
      "'xs' dimension 0 (M) must equal 'x' dimension 0: found 8 and 16"));
  build(t({16, 64}, bf16()), t({16, 32}, i8()), t({16}, f32()));
  EXPECT_TRUE(failsWith(
      "'xq' dimension 1 (K) must equal 'x' dimension 1: found 32 and 64"));
  build(t({16, 64}, i8()), t({16, 64}, i8()), t({16}, f32()));
  EXPECT_TRUE(failsWith("'x' must have an f32, f16 or bf16 element type"));
  build(t({2, 16, 64}, bf16()), t({2, 16, 64}, i8()), t({2, 16}, f32()));
  EXPECT_TRUE(failsWith("'x' must have rank 2 ([M, K]), found rank 3"));
}

//===----------------------------------------------------------------------===//
// loom.qmatmul
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, QMatmulValidAndAccessors) {
  auto a = start({t({16, 4096}, i8()), t({16}, f32()), t({1024, 4096}, i8()),
                  t({1024}, f32()), t({1024}, bf16()), t({16, 4096}, f8()),
                  t({1024, 4096}, f8())});
  auto w8a8 = QMatmulOp::create(b, opLoc, t({16, 1024}, bf16()), a[0], a[1],
                                a[2], a[3], a[4]);
  auto fp8 = QMatmulOp::create(b, opLoc, t({16, 1024}, f32()), a[5], a[1], a[6],
                               a[3], Value());
  finish({w8a8, fp8});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(w8a8.getBias(), a[4]);
  EXPECT_FALSE(fp8.getBias());
  EXPECT_EQ(w8a8.getXs(), a[1]);
  EXPECT_EQ(w8a8.getWScale(), a[3]);
}

TEST_F(LoomDialectTest, QMatmulInvalid) {
  auto build = [&](Type xqElt, Type wElt, Type wsElt, Type resultElt,
                   int64_t xsLen = 16) {
    auto a = start({t({16, 64}, xqElt), t({xsLen}, f32()), t({32, 64}, wElt),
                    t({32}, wsElt)});
    QMatmulOp::create(b, opLoc, t({16, 32}, resultElt), a[0], a[1], a[2], a[3],
                      Value());
    finish();
  };
  build(i8(), f8(), f32(), bf16());
  EXPECT_TRUE(
      failsWith("'w' element type f8E4M3FN must match 'xq' element type i8"));
  build(i8(), i8(), bf16(), bf16());
  EXPECT_TRUE(failsWith(
      "'w_scale' must have element type f32 (per-channel scales), found bf16"));
  build(i4(), i4(), f32(), bf16());
  EXPECT_TRUE(
      failsWith("'xq' must have element type i8 or f8E4M3FN, found i4"));
  build(i8(), i8(), f32(), b.getI32Type());
  EXPECT_TRUE(failsWith("result must have an f32, f16 or bf16 element type"));
  build(i8(), i8(), f32(), bf16(), /*xsLen=*/8);
  EXPECT_TRUE(failsWith("'xs' dimension 0 (M) must equal 'xq' dimension 0"));

  auto a = start({t({16, 64}, i8()), t({16}, f32()), t({32, 64}, i8()),
                  t({32}, f32()), t({16}, bf16())});
  QMatmulOp::create(b, opLoc, t({16, 32}, bf16()), a[0], a[1], a[2], a[3],
                    a[4]);
  finish();
  EXPECT_TRUE(failsWith(
      "'bias' dimension 0 (N) must equal 'w' dimension 0: found 16 and 32"));
}

//===----------------------------------------------------------------------===//
// loom.rms_norm and loom.layer_norm
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, NormsValidAndAccessors) {
  auto a = start({t({128, 512}, bf16()), t({512}, bf16()),
                  t({1, 16, 16, 64}, f32()), t({64}, f32()), t({64}, f32())});
  auto rmsDefault = RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0],
                                      a[1], FloatAttr());
  auto rms = RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0], a[1],
                               APFloat(1.0e-3f));
  auto lnDefault = LayerNormOp::create(b, opLoc, t({1, 16, 16, 64}, f32()),
                                       a[2], a[3], a[4], FloatAttr());
  auto ln = LayerNormOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[2], a[3],
                                a[4], f32Attr(0.0f));
  finish({rmsDefault, rms, lnDefault, ln});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(rmsDefault.getEpsilon().convertToFloat(), 1.0e-6f);
  EXPECT_EQ(rms.getEpsilon().convertToFloat(), 1.0e-3f);
  EXPECT_EQ(lnDefault.getEpsilon().convertToFloat(), 1.0e-5f);
  EXPECT_EQ(ln.getEpsilon().convertToFloat(), 0.0f);
  EXPECT_EQ(ln.getB(), a[4]);
  EXPECT_EQ(ln.getG(), a[3]);
}

TEST_F(LoomDialectTest, NormsInvalid) {
  auto a = start({t({128, 512}, bf16()), t({256}, bf16())});
  RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0], a[1], FloatAttr());
  finish();
  EXPECT_TRUE(failsWith(
      "'g' dimension 0 (C) must equal 'x' dimension 1: found 256 and 512"));

  a = start({t({128, 512}, bf16()), t({512}, bf16())});
  RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0], a[1],
                    f32Attr(-1.0f));
  finish();
  EXPECT_TRUE(
      failsWith("attribute 'epsilon' must be finite and non-negative, found"));

  a = start({t({128, 512}, bf16()), t({512}, bf16())});
  RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0], a[1],
                    f32Attr(std::numeric_limits<float>::infinity()));
  finish();
  EXPECT_TRUE(failsWith(
      "attribute 'epsilon' must be finite and non-negative, found inf"));

  a = start({t({128, 512}, bf16()), t({512}, f32())});
  RmsNormOp::create(b, opLoc, t({128, 512}, bf16()), a[0], a[1], FloatAttr());
  finish();
  EXPECT_TRUE(
      failsWith("'g' element type f32 must match 'x' element type bf16"));

  a = start({t({4, 64}, f32()), t({64}, f32()), t({64}, f16())});
  LayerNormOp::create(b, opLoc, t({4, 64}, f32()), a[0], a[1], a[2],
                      FloatAttr());
  finish();
  EXPECT_TRUE(
      failsWith("'b' element type f16 must match 'x' element type f32"));

  a = start({t({4, 64}, f32()), t({64}, f32()), t({64, 1}, f32())});
  LayerNormOp::create(b, opLoc, t({4, 64}, f32()), a[0], a[1], a[2],
                      FloatAttr());
  finish();
  EXPECT_TRUE(failsWith("'b' must have rank 1 ([C]), found rank 2"));

  a = start({t({4, 64}, f32()), t({64}, f32()), t({64}, f32())});
  LayerNormOp::create(b, opLoc, t({4, 32}, f32()), a[0], a[1], a[2],
                      FloatAttr());
  finish();
  EXPECT_TRUE(failsWith("result dimension 1 (same shape) must equal 'x'"));

  a = start({t({4, 64}, f32()), t({64}, f32()), t({64}, f32())});
  LayerNormOp::create(b, opLoc, t({4, 64}, f32()), a[0], a[1], a[2],
                      f32Attr(-1e-5f));
  finish();
  EXPECT_TRUE(failsWith("attribute 'epsilon' must be finite and non-negative"));
}

//===----------------------------------------------------------------------===//
// loom.rope
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, RopeValidAndAccessors) {
  auto a = start(
      {t({1, 8, 128, 64}, bf16()), t({128, 32}, f32()), t({128, 32}, f32())});
  auto half =
      RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[0], a[1], a[2]);
  auto unset = RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[0], a[1],
                              a[2], StringAttr());
  auto inter = RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[0], a[1],
                              a[2], "interleaved");
  finish({half, unset, inter});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(half.getStyle(), "half");
  EXPECT_EQ(half.getStyleKind(), RopeStyle::Half);
  EXPECT_EQ(unset.getStyle(), "half");
  EXPECT_EQ(unset.getStyleKind(), RopeStyle::Half);
  EXPECT_EQ(inter.getStyle(), "interleaved");
  EXPECT_EQ(inter.getStyleKind(), RopeStyle::Interleaved);
  EXPECT_EQ(inter.getCos(), a[1]);
  EXPECT_EQ(inter.getSin(), a[2]);
}

TEST_F(LoomDialectTest, RopeInvalid) {
  auto build = [&](int64_t d, ArrayRef<int64_t> tableShape, StringRef style,
                   Type tableElt = {}) {
    Type te = tableElt ? tableElt : f32();
    auto a = start(
        {t({1, 8, 128, d}, bf16()), t(tableShape, te), t(tableShape, te)});
    RopeOp::create(b, opLoc, t({1, 8, 128, d}, bf16()), a[0], a[1], a[2],
                   style);
    finish();
  };
  build(64, {128, 32}, "neox");
  EXPECT_TRUE(failsWith("attribute 'style' must be one of \"half\", "
                        "\"interleaved\", found \"neox\""));
  build(63, {128, 31}, "half");
  EXPECT_TRUE(failsWith("'x' dimension 3 (D) must be even, found 63"));
  build(64, {128, 64}, "half");
  EXPECT_TRUE(failsWith("'cos' dimension 1 (D/2) must be 32, found 64"));
  build(64, {64, 32}, "half");
  EXPECT_TRUE(failsWith(
      "'cos' dimension 0 (S) must equal 'x' dimension 2: found 64 and 128"));
  build(64, {128, 32}, "half", i8());
  EXPECT_TRUE(failsWith("'cos' must have an f32, f16 or bf16 element type"));

  auto a = start(
      {t({1, 8, 128, 64}, bf16()), t({128, 32}, f32()), t({128, 16}, f32())});
  RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[0], a[1], a[2]);
  finish();
  EXPECT_TRUE(failsWith("'sin' dimension 1 (D/2) must be 32, found 16"));

  a = start(
      {t({8, 128, 64}, bf16()), t({128, 32}, f32()), t({128, 32}, f32())});
  RopeOp::create(b, opLoc, t({8, 128, 64}, bf16()), a[0], a[1], a[2]);
  finish();
  EXPECT_TRUE(failsWith("'x' must have rank 4 ([B, H, S, D]), found rank 3"));
}

//===----------------------------------------------------------------------===//
// loom.gelu and loom.silu
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, ActivationsValidAndAccessors) {
  auto a = start({t({128, 2048}, bf16()), t({kDyn, 7}, f16())});
  auto exact = GeluOp::create(b, opLoc, t({128, 2048}, bf16()), a[0]);
  auto unset =
      GeluOp::create(b, opLoc, t({128, 2048}, bf16()), a[0], StringAttr());
  auto approx = GeluOp::create(b, opLoc, t({128, 2048}, bf16()), a[0], "tanh");
  auto silu = SiluOp::create(b, opLoc, t({kDyn, 7}, f16()), a[1]);
  finish({exact, unset, approx, silu});
  EXPECT_TRUE(verifies());
  EXPECT_EQ(exact.getApproximate(), "none");
  EXPECT_EQ(exact.getApproximateKind(), GeluApproximation::None);
  EXPECT_EQ(unset.getApproximate(), "none");
  EXPECT_EQ(unset.getApproximateKind(), GeluApproximation::None);
  EXPECT_EQ(approx.getApproximate(), "tanh");
  EXPECT_EQ(approx.getApproximateKind(), GeluApproximation::Tanh);
  EXPECT_EQ(silu.getX(), a[1]);
}

TEST_F(LoomDialectTest, ActivationsInvalid) {
  auto a = start({t({4, 8}, f32())});
  GeluOp::create(b, opLoc, t({4, 8}, f32()), a[0], "erf");
  finish();
  EXPECT_TRUE(failsWith("attribute 'approximate' must be one of \"none\", "
                        "\"tanh\", found \"erf\""));

  a = start({t({4, 8}, f32())});
  GeluOp::create(b, opLoc, t({4, 8}, bf16()), a[0]);
  finish();
  EXPECT_TRUE(
      failsWith("result element type bf16 must match 'x' element type f32"));

  a = start({t({4, 8}, b.getI32Type())});
  GeluOp::create(b, opLoc, t({4, 8}, b.getI32Type()), a[0]);
  finish();
  EXPECT_TRUE(failsWith("'x' must have an f32, f16 or bf16 element type"));

  a = start({t({4, 8}, f32())});
  SiluOp::create(b, opLoc, t({4, 9}, f32()), a[0]);
  finish();
  EXPECT_TRUE(failsWith(
      "result dimension 1 (same shape) must equal 'x' dimension 1: found 9 "
      "and 8"));

  a = start({t({4, 8}, f32())});
  SiluOp::create(b, opLoc, t({32}, f32()), a[0]);
  finish();
  EXPECT_TRUE(failsWith("result must have the rank of 'x' (2), found rank 1"));

  a = start({t({4, 8}, b.getF64Type())});
  SiluOp::create(b, opLoc, t({4, 8}, b.getF64Type()), a[0]);
  finish();
  EXPECT_TRUE(
      failsWith("'x' must have an f32, f16 or bf16 element type, found f64"));
}

//===----------------------------------------------------------------------===//
// Misspelt attributes
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, UnknownUnprefixedAttributeIsRejected) {
  auto a = start({t({1, 4, 8, 16}, f32()), t({1, 4, 8, 16}, f32()),
                  t({1, 4, 8, 16}, f32())});
  auto op =
      AttentionOp::create(b, opLoc, t({1, 4, 8, 16}, f32()), a[0], a[1], a[2],
                          false, FloatAttr(), IntegerAttr(), FloatAttr());
  finish({op});
  ASSERT_TRUE(verifies());
  // The misspelling stays a discardable attribute, which MLIR would keep and
  // ignore; the verifier must catch it.
  op->setAttr("casual", b.getUnitAttr());
  EXPECT_FALSE(op.getCausal());
  EXPECT_TRUE(failsWith({"has unknown attribute 'casual'", "known attributes:",
                         "causal", "scale", "window", "softcap", "sink"}));

  // A dialect-prefixed attribute is deliberate metadata: accepted.
  op->removeAttr("casual");
  op->setAttr("loom.note", b.getStringAttr("keep me"));
  EXPECT_TRUE(verifies());
  EXPECT_TRUE(str(*module).find("loom.note = \"keep me\"") !=
              std::string::npos);

  // The same through the generic builder, for an op without attributes.
  a = start({t({4, 8}, f32())});
  SiluOp::create(b, opLoc, TypeRange{t({4, 8}, f32())}, ValueRange{a[0]},
                 {b.getNamedAttr("approximate", b.getStringAttr("tanh"))});
  finish();
  EXPECT_TRUE(failsWith(
      {"has unknown attribute 'approximate'", "it takes no attributes"}));

  // And through the parser: a typo in a .mlir file is an error.
  std::string diag;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diag += d.str() + "\n";
      return success();
    });
    OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(
        "func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {\n"
        "  %y = loom.gelu %x {aproximate = \"tanh\"} : (tensor<4x8xf32>) -> "
        "tensor<4x8xf32>\n"
        "  return %y : tensor<4x8xf32>\n"
        "}\n",
        &context);
    EXPECT_FALSE(parsed);
  }
  EXPECT_NE(diag.find("has unknown attribute 'aproximate'"), std::string::npos)
      << diag;
  EXPECT_NE(diag.find("known attributes: approximate"), std::string::npos)
      << diag;
}

TEST_F(LoomDialectTest, EveryOpRejectsAnUnknownAttribute) {
  // Build every op once (valid), then add the same misspelt attribute to each
  // in turn: each op's verifier must reject it.
  auto a =
      start({t({1, 4, 128, 16}, f32()), t({1, 2, 128, 16}, f32()),
             t({1, 4, 2, 2}, i1()), t({1, 16, 64}, f32()), t({3, 64}, f32()),
             t({32, 64}, f32()), t({64}, f32()), t({32, 64}, i8()),
             t({32}, f32()), t({1, 4, 128, 16}, f32()), t({128, 8}, f32()),
             t({1, 4, 128}, f32()),
             // 12..: packed queries, pages, offsets, lengths, block table,
             // new tokens' rows, slots (also positions).
             t({8, 4, 16}, f32()), t({3, 4, 2, 16}, f32()),
             t({2}, b.getI32Type()), t({1}, b.getI32Type()),
             t({1, 3}, b.getI32Type()), t({8, 2, 16}, f32()),
             t({8}, b.getI32Type())});
  SmallVector<Operation *> ops;
  ops.push_back(AttentionOp::create(b, opLoc, t({1, 4, 128, 16}, f32()), a[0],
                                    a[1], a[1], false, {}, {}, {}));
  ops.push_back(
      BlockSparseAttentionOp::create(b, opLoc, t({1, 4, 128, 16}, f32()), a[0],
                                     a[1], a[1], a[2], 64, 64, false, {}, {}));
  ops.push_back(SelectBlocksOp::create(b, opLoc, t({1, 4, 2, 2}, i1()), a[0],
                                       a[1], 64, 64, 1, false, {}));
  ops.push_back(LinearAttentionOp::create(b, opLoc, t({1, 4, 128, 16}, f32()), Type(),
                                          a[0], a[0], a[0], Value(), Value(), Value(), false, "identity",
                                          {}, {}, false));
  ops.push_back(PoolMixerOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3]));
  ops.push_back(
      DwConvOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3], a[4], false));
  ops.push_back(
      LinearOp::create(b, opLoc, t({1, 16, 32}, f32()), a[3], a[5], Value()));
  ops.push_back(QLinearOp::create(b, opLoc, t({32, 32}, f32()), a[5], a[7],
                                  a[8], Value(), 0));
  auto quant =
      QuantizeOp::create(b, opLoc, t({32, 64}, i8()), t({32}, f32()), a[5]);
  ops.push_back(quant);
  ops.push_back(QMatmulOp::create(b, opLoc, t({32, 32}, f32()), quant.getXq(),
                                  quant.getXs(), a[7], a[8], Value()));
  ops.push_back(RmsNormOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3], a[6],
                                  FloatAttr()));
  ops.push_back(LayerNormOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3], a[6],
                                    a[6], FloatAttr()));
  ops.push_back(
      RopeOp::create(b, opLoc, t({1, 4, 128, 16}, f32()), a[9], a[10], a[10]));
  ops.push_back(GeluOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3]));
  ops.push_back(SiluOp::create(b, opLoc, t({1, 16, 64}, f32()), a[3]));
  ops.push_back(MergeAttentionOp::create(b, opLoc, t({1, 4, 128, 16}, f32()),
                                         t({1, 4, 128}, f32()),
                                         ValueRange{a[0], a[11], a[0], a[11]}));
  ops.push_back(PagedAttentionOp::create(
      b, opLoc, t({8, 4, 16}, f32()), a[12], a[13], a[13], a[14], a[15],
      a[16], Value(), false, {}, {}, {}, {}));
  ops.push_back(KvCacheWriteOp::create(b, opLoc, t({3, 4, 2, 16}, f32()),
                                       a[13], a[17], a[18]));
  // The per-token form of rope (a second rope, the same op name).
  ops.push_back(RopeOp::create(b, opLoc, t({8, 4, 16}, f32()), a[12], a[10],
                               a[10], a[18], "half"));
  finish();
  ASSERT_TRUE(verifies());
  ASSERT_EQ(ops.size(), 19u) << "one of each loom op, and rope's two forms";

  llvm::StringSet<> names;
  for (Operation *op : ops) {
    names.insert(op->getName().getStringRef());
    op->setAttr("bogus", b.getUnitAttr());
    EXPECT_TRUE(failsWith("has unknown attribute 'bogus'"))
        << op->getName().getStringRef().str();
    op->removeAttr("bogus");
    op->setAttr("loom.bogus", b.getUnitAttr());
    EXPECT_TRUE(verifies()) << op->getName().getStringRef().str();
    op->removeAttr("loom.bogus");
  }
  EXPECT_EQ(names.size(), 18u);
  // Every registered loom op of the contract is covered. The fusion group
  // ops (loom.kernel, loom.yield) are Loom's own structure, not contract ops
  // with attributes to misspell; their verifier has its own tests.
  size_t registered = 0;
  for (RegisteredOperationName name : context.getRegisteredOperations())
    if (name.getDialectNamespace() == "loom" &&
        !llvm::is_contained({"loom.kernel", "loom.yield"}, name.getStringRef())) {
      ++registered;
      EXPECT_TRUE(names.contains(name.getStringRef()))
          << name.getStringRef().str() << " is not covered";
    }
  EXPECT_EQ(registered, 18u);
}

//===----------------------------------------------------------------------===//
// Printing and parsing
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, EveryOpRoundTripsThroughText) {
  auto a = start({
      t({2, 8, 100, 64}, bf16()), // 0 q
      t({2, 2, 130, 64}, bf16()), // 1 k
      t({2, 2, 130, 32}, bf16()), // 2 v
      t({1, 8, 2, 3}, i1()),      // 3 layout
      t({1, 2, 256, 64}, f32()),  // 4 linear-attention q/k/v
      t({1, 16, 16, 64}, f32()),  // 5 spatial x
      t({1, 1024, 256}, bf16()),  // 6 sequence x
      t({1024, 256}, bf16()),     // 7 long filter
      t({7, 7, 64}, f32()),       // 8 2-D filter
      t({256, 64}, f32()),        // 9 linear w
      t({256}, f32()),            // 10 linear bias
      t({16, 256}, bf16()),       // 11 qlinear x
      t({64, 256}, i4()),         // 12 qlinear w
      t({64, 2}, f32()),          // 13 qlinear w_scale
      t({64}, bf16()),            // 14 qlinear bias
      t({64, 256}, i8()),         // 15 qmatmul w
      t({64}, f32()),             // 16 w_scale
      t({256}, bf16()),           // 17 rms g
      t({64}, f32()),             // 18 ln g / b
      t({1, 8, 128, 64}, bf16()), // 19 rope x
      t({128, 32}, f32()),        // 20 cos / sin
      t({kDyn, 64, 64}, f16()),   // 21 dynamic x
      t({64, 256}, f8()),         // 22 fp8 w
  });
  SmallVector<Value> results;
  auto add = [&](Operation *op) {
    for (Value r : op->getResults())
      results.push_back(r);
  };
  add(AttentionOp::create(b, opLoc, t({2, 8, 100, 32}, bf16()), a[0], a[1],
                          a[2], false, {}, {}, {}));
  add(AttentionOp::create(b, opLoc, t({2, 8, 100, 32}, bf16()), a[0], a[1],
                          a[2], true, f32Attr(0.125f), b.getI64IntegerAttr(256),
                          f32Attr(30.0f)));
  add(BlockSparseAttentionOp::create(b, opLoc, t({2, 8, 100, 32}, bf16()), a[0],
                                     a[1], a[2], a[3], 64, 64, true,
                                     f32Attr(0.5f), {}));
  add(SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1], 64,
                             64, 2, true, {}));
  add(LinearAttentionOp::create(b, opLoc, t({1, 2, 256, 64}, f32()), Type(), a[4], a[4],
                                a[4], Value(), Value(), Value(), true, "elu_plus_one",
                                b.getDenseF32ArrayAttr({0.5f, 0.25f}),
                                f32Attr(1.0f), true));
  add(LinearAttentionOp::create(b, opLoc, t({1, 2, 256, 64}, f32()), Type(), a[4], a[4],
                                a[4], Value(), Value(), Value(), false, "relu", {}, {}, false));
  add(PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[5]));
  add(PoolMixerOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[5], 5));
  add(DwConvOp::create(b, opLoc, t({1, 1024, 256}, bf16()), a[6], a[7], true));
  add(DwConvOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[5], a[8]));
  add(LinearOp::create(b, opLoc, t({1, 16, 16, 256}, f32()), a[5], a[9],
                       a[10]));
  add(LinearOp::create(b, opLoc, t({1, 16, 16, 256}, f32()), a[5], a[9],
                       Value()));
  add(QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[11], a[12], a[13],
                        a[14], 128));
  add(QLinearOp::create(b, opLoc, t({16, 64}, bf16()), a[11], a[15], a[16],
                        Value(), 0));
  auto q8 =
      QuantizeOp::create(b, opLoc, t({16, 256}, i8()), t({16}, f32()), a[11]);
  add(q8);
  auto qf8 =
      QuantizeOp::create(b, opLoc, t({16, 256}, f8()), t({16}, f32()), a[11]);
  add(qf8);
  add(QMatmulOp::create(b, opLoc, t({16, 64}, bf16()), q8.getXq(), q8.getXs(),
                        a[15], a[16], a[14]));
  add(QMatmulOp::create(b, opLoc, t({16, 64}, f32()), qf8.getXq(), qf8.getXs(),
                        a[22], a[16], Value()));
  add(RmsNormOp::create(b, opLoc, t({16, 256}, bf16()), a[11], a[17],
                        FloatAttr()));
  add(RmsNormOp::create(b, opLoc, t({16, 256}, bf16()), a[11], a[17],
                        f32Attr(1e-5f)));
  add(LayerNormOp::create(b, opLoc, t({1, 16, 16, 64}, f32()), a[5], a[18],
                          a[18], f32Attr(1e-6f)));
  add(RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[19], a[20],
                     a[20]));
  add(RopeOp::create(b, opLoc, t({1, 8, 128, 64}, bf16()), a[19], a[20], a[20],
                     "interleaved"));
  add(GeluOp::create(b, opLoc, t({kDyn, 64, 64}, f16()), a[21], "tanh"));
  add(GeluOp::create(b, opLoc, t({kDyn, 64, 64}, f16()), a[21]));
  add(SiluOp::create(b, opLoc, t({kDyn, 64, 64}, f16()), a[21]));
  Operation *annotated =
      SiluOp::create(b, opLoc, t({kDyn, 64, 64}, f16()), a[21]);
  annotated->setAttr("loom.note", b.getStringAttr("hi"));
  add(annotated);
  finish(results);
  ASSERT_TRUE(verifies());

  std::string text = str(*module);
  // The contract's syntax: `loom.NAME operands attr-dict : functional-type`.
  for (const char *expected :
       {"loom.attention %arg0, %arg1, %arg2 : (tensor<2x8x100x64xbf16>, "
        "tensor<2x2x130x64xbf16>, tensor<2x2x130x32xbf16>) -> "
        "tensor<2x8x100x32xbf16>",
        "causal", "window = 256 : i64", "block_q = 64 : i64", "topk = 2 : i64",
        "feature_map = \"elu_plus_one\"",
        "decay = array<f32: 5.000000e-01, 2.500000e-01>", "normalize",
        "kernel = 5 : i64", "group_size = 128 : i64", "style = \"interleaved\"",
        "approximate = \"tanh\"",
        "loom.quantize %arg11 : (tensor<16x256xbf16>) -> "
        "(tensor<16x256xi8>, tensor<16xf32>)",
        "tensor<16x256xf8E4M3FN>",
        "loom.silu %arg21 : (tensor<?x64x64xf16>) "
        "-> tensor<?x64x64xf16>",
        "loom.note = \"hi\""})
    EXPECT_NE(text.find(expected), std::string::npos)
        << "missing `" << expected << "` in:\n"
        << text;

  // Custom form: print -> parse -> print is the identity.
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(parsed) << text;
  EXPECT_TRUE(verifyModule(parsed->getOperation()).ok);
  EXPECT_EQ(str(*parsed), text);

  // Generic form (properties spelt out) parses back to the same module.
  std::string generic = str(*module, OpPrintingFlags().printGenericOpForm());
  EXPECT_NE(generic.find("\"loom.attention\""), std::string::npos);
  OwningOpRef<ModuleOp> fromGeneric =
      parseSourceString<ModuleOp>(generic, &context);
  ASSERT_TRUE(fromGeneric) << generic;
  EXPECT_EQ(str(*fromGeneric), text);

  // Parsed ops expose the same attributes.
  auto attn = first<AttentionOp>(*parsed);
  ASSERT_TRUE(attn);
  EXPECT_EQ(count<AttentionOp>(*parsed), 2);
  EXPECT_EQ(count<QuantizeOp>(*parsed), 2);
  EXPECT_EQ(count<SiluOp>(*parsed), 2);
}

TEST_F(LoomDialectTest, ParsedDefaultsMatchTheContract) {
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(
      R"mlir(
func.func @f(%x: tensor<4x16x64xf32>, %g: tensor<64xf32>,
             %q: tensor<1x2x8x16xf32>, %cs: tensor<8x8xf32>) {
  %0 = loom.pool_mixer %x : (tensor<4x16x64xf32>) -> tensor<4x16x64xf32>
  %1 = loom.rms_norm %x, %g : (tensor<4x16x64xf32>, tensor<64xf32>) -> tensor<4x16x64xf32>
  %2 = loom.layer_norm %x, %g, %g : (tensor<4x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x16x64xf32>
  %3 = loom.gelu %x : (tensor<4x16x64xf32>) -> tensor<4x16x64xf32>
  %4 = loom.rope %q, %cs, %cs : (tensor<1x2x8x16xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x16xf32>
  %5 = loom.linear_attention %q, %q, %q : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %6 = loom.attention %q, %q, %q : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return
}
)mlir",
      &context);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(first<PoolMixerOp>(*parsed).getKernel(), 3u);
  EXPECT_EQ(first<RmsNormOp>(*parsed).getEpsilon().convertToFloat(), 1.0e-6f);
  EXPECT_EQ(first<LayerNormOp>(*parsed).getEpsilon().convertToFloat(), 1.0e-5f);
  EXPECT_EQ(first<GeluOp>(*parsed).getApproximateKind(),
            GeluApproximation::None);
  EXPECT_EQ(first<RopeOp>(*parsed).getStyleKind(), RopeStyle::Half);
  auto la = first<LinearAttentionOp>(*parsed);
  EXPECT_EQ(la.getFeatureMapKind(), FeatureMap::Identity);
  EXPECT_FALSE(la.getCausal());
  EXPECT_FALSE(la.getNormalize());
  EXPECT_FALSE(la.getDecay());
  auto attn = first<AttentionOp>(*parsed);
  EXPECT_FALSE(attn.getCausal());
  EXPECT_FALSE(attn.getScale());
  EXPECT_FALSE(attn.getWindow());
  EXPECT_FALSE(attn.getSoftcap());
}

TEST_F(LoomDialectTest, ParserReportsVerifierErrors) {
  std::string diag;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diag += d.str() + "\n";
    return success();
  });
  OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(
      R"mlir(
func.func @f(%x: tensor<1x16x16x8xf32>, %w: tensor<3x3x8xf32>) {
  %0 = loom.dwconv %x, %w {causal} : (tensor<1x16x16x8xf32>, tensor<3x3x8xf32>) -> tensor<1x16x16x8xf32>
  return
}
)mlir",
      &context);
  EXPECT_FALSE(parsed);
  EXPECT_NE(diag.find("'loom.dwconv' op attribute 'causal' applies to 1-D "
                      "convolutions only"),
            std::string::npos)
      << diag;
}

//===----------------------------------------------------------------------===//
// Canonicalization
//===----------------------------------------------------------------------===//

class LoomCanonicalizeTest : public LoomDialectTest {
protected:
  /// q [2, 8, 100, 64], k/v [2, 2, 130, 64]: NQB = 2, NKB = 3 with 64-blocks.
  SmallVector<Value> startAttention() {
    return start({t({2, 8, 100, 64}, bf16()), t({2, 2, 130, 64}, bf16()),
                  t({2, 2, 130, 64}, bf16())});
  }
  RankedTensorType resultType() { return t({2, 8, 100, 64}, bf16()); }

  Value constantLayout(ArrayRef<bool> values, ArrayRef<int64_t> shape) {
    auto type = t(shape, i1());
    DenseElementsAttr attr = values.size() == 1
                                 ? DenseElementsAttr::get(type, values[0])
                                 : DenseElementsAttr::get(type, values);
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(attr));
  }

  LogicalResult canonicalizeBlockSparse() {
    RewritePatternSet patterns(&context);
    BlockSparseAttentionOp::getCanonicalizationPatterns(patterns, &context);
    return applyPatternsGreedily(func, std::move(patterns));
  }

  LogicalResult runCanonicalizer() {
    PassManager pm(&context);
    pm.addPass(createCanonicalizerPass());
    return pm.run(*module);
  }
};

TEST_F(LoomCanonicalizeTest, AllTrueLayoutBecomesAttention) {
  auto a = startAttention();
  Value layout = constantLayout({true}, {1, 1, 2, 3});
  auto bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1],
                                            a[2], layout, 64, 64, true,
                                            f32Attr(0.125f), f32Attr(20.0f));
  finish({bsa});
  ASSERT_TRUE(verifies());

  ASSERT_TRUE(succeeded(canonicalizeBlockSparse()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  ASSERT_EQ(count<AttentionOp>(*module), 1);
  auto attn = first<AttentionOp>(*module);
  EXPECT_EQ(attn.getQ(), a[0]);
  EXPECT_EQ(attn.getK(), a[1]);
  EXPECT_EQ(attn.getV(), a[2]);
  EXPECT_EQ(attn.getType(), resultType());
  EXPECT_TRUE(attn.getCausal());
  EXPECT_EQ(value(attn.getScale()), 0.125f);
  EXPECT_EQ(value(attn.getSoftcap()), 20.0f);
  EXPECT_FALSE(attn.getWindow());
  EXPECT_EQ(attn.getLoc(), opLoc);
  EXPECT_EQ(returned()[0], attn.getResult());
  // The layout constant is dead and gone.
  EXPECT_EQ(count<arith::ConstantOp>(*module), 0);
}

TEST_F(LoomCanonicalizeTest,
       AllTrueNonSplatLayoutAndFullLayoutBecomeAttention) {
  auto a = startAttention();
  // Full [B, Hq, NQB, NKB] layout, written element by element.
  std::vector<bool> ones(2 * 8 * 2 * 3, true);
  SmallVector<bool> values(ones.begin(), ones.end());
  Value layout = constantLayout(values, {2, 8, 2, 3});
  auto bsa = BlockSparseAttentionOp::create(
      b, opLoc, resultType(), a[0], a[1], a[2], layout, 64, 64, false, {}, {});
  finish({bsa});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  ASSERT_EQ(count<AttentionOp>(*module), 1);
  auto attn = first<AttentionOp>(*module);
  EXPECT_FALSE(attn.getCausal());
  EXPECT_FALSE(attn.getScale());
  EXPECT_FALSE(attn.getSoftcap());
}

TEST_F(LoomCanonicalizeTest, PartialLayoutIsKept) {
  auto a = startAttention();
  SmallVector<bool> values(6, true);
  values[4] = false;
  Value layout = constantLayout(values, {1, 1, 2, 3});
  auto bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1],
                                            a[2], layout, 64, 64, true, {}, {});
  finish({bsa});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 1);
  EXPECT_EQ(count<AttentionOp>(*module), 0);

  // A layout that is not a constant is kept too.
  a = start({t({2, 8, 100, 64}, bf16()), t({2, 2, 130, 64}, bf16()),
             t({2, 2, 130, 64}, bf16()), t({1, 1, 2, 3}, i1())});
  BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2], a[3],
                                 64, 64, true, {}, {});
  finish({first<BlockSparseAttentionOp>(*module)});
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 1);
}

TEST_F(LoomCanonicalizeTest, AllFalseLayoutBecomesZeros) {
  // Static shapes.
  auto a = startAttention();
  Value layout = constantLayout({false}, {1, 1, 2, 3});
  auto bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1],
                                            a[2], layout, 64, 64, true, {}, {});
  finish({bsa});
  ASSERT_TRUE(succeeded(canonicalizeBlockSparse()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  EXPECT_EQ(count<AttentionOp>(*module), 0);
  Value ret = returned()[0];
  EXPECT_EQ(ret.getType(), resultType());
  Attribute folded;
  // Either a tensor.splat of a zero constant or a folded zero constant.
  if (auto splat = ret.getDefiningOp<tensor::SplatOp>()) {
    ASSERT_TRUE(matchPattern(splat.getInput(), m_Constant(&folded)));
    EXPECT_TRUE(cast<FloatAttr>(folded).getValue().isZero());
  } else {
    ASSERT_TRUE(matchPattern(ret, m_Constant(&folded)));
    auto dense = cast<DenseElementsAttr>(folded);
    EXPECT_TRUE(dense.isSplat());
    EXPECT_TRUE(dense.getSplatValue<APFloat>().isZero());
  }

  // Dynamic B, Sq and Dv: the zeros take their sizes from q and v.
  a = start({t({kDyn, 8, kDyn, 64}, f32()), t({kDyn, 2, 130, 64}, f32()),
             t({kDyn, 2, 130, kDyn}, f32())});
  layout = constantLayout({false}, {1, 8, 2, 3});
  auto dyn = BlockSparseAttentionOp::create(
      b, opLoc, t({kDyn, 8, kDyn, kDyn}, f32()), a[0], a[1], a[2], layout, 64,
      64, false, {}, {});
  finish({dyn});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(canonicalizeBlockSparse()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  auto splat = returned()[0].getDefiningOp<tensor::SplatOp>();
  ASSERT_TRUE(splat);
  EXPECT_EQ(splat.getType(), t({kDyn, 8, kDyn, kDyn}, f32()));
  ASSERT_EQ(splat.getDynamicSizes().size(), 3u);
  auto sizes = splat.getDynamicSizes();
  auto dim0 = sizes[0].getDefiningOp<tensor::DimOp>();
  auto dim2 = sizes[1].getDefiningOp<tensor::DimOp>();
  auto dim3 = sizes[2].getDefiningOp<tensor::DimOp>();
  ASSERT_TRUE(dim0 && dim2 && dim3);
  EXPECT_EQ(dim0.getSource(), a[0]);
  EXPECT_EQ(dim0.getConstantIndex(), 0);
  EXPECT_EQ(dim2.getSource(), a[0]);
  EXPECT_EQ(dim2.getConstantIndex(), 2);
  EXPECT_EQ(dim3.getSource(), a[2]);
  EXPECT_EQ(dim3.getConstantIndex(), 3);
}

TEST_F(LoomCanonicalizeTest, SelectBlocksSelectingEverythingFoldsAway) {
  auto a = startAttention();
  // Not causal and topk >= NKB: every block is selected, so the layout is a
  // constant all-true mask, and the block-sparse attention is plain attention.
  auto select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0],
                                       a[1], 64, 64, 3, false, {});
  auto bsa = BlockSparseAttentionOp::create(
      b, opLoc, resultType(), a[0], a[1], a[2], select, 64, 64, false, {}, {});
  finish({bsa});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<SelectBlocksOp>(*module), 0);
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  ASSERT_EQ(count<AttentionOp>(*module), 1);
  EXPECT_FALSE(first<AttentionOp>(*module).getCausal());
}

TEST_F(LoomCanonicalizeTest, SelectBlocksFoldsOnlyWhenItSelectsEverything) {
  // topk < NKB: nothing to fold.
  auto a = startAttention();
  auto select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0],
                                       a[1], 64, 64, 2, false, {});
  finish({select});
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<SelectBlocksOp>(*module), 1);

  // Folding directly: topk == NKB gives the all-true constant.
  a = startAttention();
  select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1],
                                  64, 64, 3, false, {});
  finish({select});
  SmallVector<OpFoldResult> folded;
  ASSERT_TRUE(succeeded(select->fold(folded)));
  ASSERT_EQ(folded.size(), 1u);
  auto attr = dyn_cast_if_present<DenseElementsAttr>(
      dyn_cast_if_present<Attribute>(folded[0]));
  ASSERT_TRUE(attr);
  EXPECT_EQ(attr.getType(), t({2, 8, 2, 3}, i1()));
  EXPECT_TRUE(llvm::all_of(attr.getValues<bool>(), [](bool v) { return v; }));

  // Causal: not every block is a candidate, so no fold.
  a = startAttention();
  select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1],
                                  64, 64, 8, true, {});
  finish({select});
  folded.clear();
  EXPECT_TRUE(failed(select->fold(folded)));
}

TEST_F(LoomCanonicalizeTest, CausalSelectAllBecomesCausalAttention) {
  auto a = startAttention();
  // NKB = 3: the diagonal block plus topk = 2 others covers every candidate.
  auto select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0],
                                       a[1], 64, 64, 2, true, {});
  auto bsa =
      BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                     select, 64, 64, true, f32Attr(0.25f), {});
  finish({bsa});
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  ASSERT_TRUE(verifies());
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 0);
  EXPECT_EQ(count<SelectBlocksOp>(*module), 0);
  ASSERT_EQ(count<AttentionOp>(*module), 1);
  auto attn = first<AttentionOp>(*module);
  EXPECT_TRUE(attn.getCausal());
  EXPECT_EQ(value(attn.getScale()), 0.25f);

  // topk = 1: some candidates may be left out, so the op stays.
  a = startAttention();
  select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1],
                                  64, 64, 1, true, {});
  bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                       select, 64, 64, true, {}, {});
  finish({bsa});
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 1);
  EXPECT_EQ(count<AttentionOp>(*module), 0);

  // Block sizes differing between the two ops: kept. (Sq = 100 and
  // Skv = 130 give the same 2 x 3 layout with 50-blocks as with 64-blocks.)
  a = startAttention();
  select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1],
                                  50, 50, 8, true, {});
  bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                       select, 64, 64, true, {}, {});
  finish({bsa});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 1);

  // A non-causal consumer of a causal selection is not plain attention.
  a = startAttention();
  select = SelectBlocksOp::create(b, opLoc, t({2, 8, 2, 3}, i1()), a[0], a[1],
                                  64, 64, 8, true, {});
  bsa = BlockSparseAttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                       select, 64, 64, false, {}, {});
  finish({bsa});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_EQ(count<BlockSparseAttentionOp>(*module), 1);
}

TEST_F(LoomCanonicalizeTest, CoveringWindowIsDropped) {
  auto a = startAttention(); // Skv = 130
  auto covering = AttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                      true, {}, b.getI64IntegerAttr(130), {});
  auto wider = AttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                   true, {}, b.getI64IntegerAttr(4096), {});
  auto narrow = AttentionOp::create(b, opLoc, resultType(), a[0], a[1], a[2],
                                    true, {}, b.getI64IntegerAttr(129), {});
  finish({covering, wider, narrow});
  ASSERT_TRUE(verifies());
  RewritePatternSet patterns(&context);
  AttentionOp::getCanonicalizationPatterns(patterns, &context);
  ASSERT_TRUE(succeeded(applyPatternsGreedily(func, std::move(patterns))));
  ASSERT_TRUE(verifies());
  SmallVector<Value> r = returned();
  auto c = r[0].getDefiningOp<AttentionOp>();
  auto w = r[1].getDefiningOp<AttentionOp>();
  auto n = r[2].getDefiningOp<AttentionOp>();
  ASSERT_TRUE(c && w && n);
  EXPECT_FALSE(c.getWindow());
  EXPECT_FALSE(w.getWindow());
  ASSERT_TRUE(n.getUniformWindow());
  EXPECT_EQ(*n.getUniformWindow(), 129);
  EXPECT_TRUE(c.getCausal() && w.getCausal() && n.getCausal());

  // Dynamic Skv: the window may matter, keep it.
  a = start({t({1, 2, kDyn, 8}, f32()), t({1, 2, kDyn, 8}, f32()),
             t({1, 2, kDyn, 8}, f32())});
  auto dyn =
      AttentionOp::create(b, opLoc, t({1, 2, kDyn, 8}, f32()), a[0], a[1], a[2],
                          true, {}, b.getI64IntegerAttr(1 << 20), {});
  finish({dyn});
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  EXPECT_TRUE(first<AttentionOp>(*module).getWindow());
}

TEST_F(LoomCanonicalizeTest, ZeroDecayIsDropped) {
  auto a = start({t({1, 2, 16, 8}, f32())});
  auto zero = LinearAttentionOp::create(
      b, opLoc, t({1, 2, 16, 8}, f32()), Type(), a[0], a[0], a[0], Value(), Value(), Value(), true, "relu",
      b.getDenseF32ArrayAttr({0.0f, 0.0f}), {}, true);
  auto some = LinearAttentionOp::create(
      b, opLoc, t({1, 2, 16, 8}, f32()), Type(), a[0], a[0], a[0], Value(), Value(), Value(), true, "relu",
      b.getDenseF32ArrayAttr({0.0f, 0.5f}), {}, true);
  finish({zero.getResult(), some.getResult()});
  ASSERT_TRUE(verifies());
  ASSERT_TRUE(succeeded(runCanonicalizer()));
  ASSERT_TRUE(verifies());
  SmallVector<Value> r = returned();
  auto z = r[0].getDefiningOp<LinearAttentionOp>();
  auto s = r[1].getDefiningOp<LinearAttentionOp>();
  ASSERT_TRUE(z && s);
  EXPECT_FALSE(z.getDecay());
  EXPECT_TRUE(z.getCausal());
  EXPECT_TRUE(z.getNormalize());
  EXPECT_EQ(z.getFeatureMapKind(), FeatureMap::Relu);
  ASSERT_TRUE(s.getDecay());
  EXPECT_EQ((*s.getDecay())[1], 0.5f);
}

} // namespace

//===----------------------------------------------------------------------===//
// loom.kernel (fusion groups) through the C++ API
//===----------------------------------------------------------------------===//

TEST_F(LoomDialectTest, KernelBuildsVerifiesAndInlines) {
  auto a = start({t({4, 8}, f32()), t({8}, f32())});
  // The builder makes one block argument per input; the caller fills the
  // body and ends it with loom.yield.
  auto kernel = KernelOp::create(b, opLoc, TypeRange{t({4, 8}, f32())},
                                 "rms_norm+silu", ValueRange{a[0], a[1]});
  Block &body = kernel.getBodyBlock();
  ASSERT_EQ(body.getNumArguments(), 2u);
  EXPECT_EQ(body.getArgument(0).getType(), a[0].getType());
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&body);
    auto norm = RmsNormOp::create(b, opLoc, t({4, 8}, f32()),
                                  body.getArgument(0), body.getArgument(1),
                                  FloatAttr());
    auto silu = SiluOp::create(b, opLoc, t({4, 8}, f32()), norm.getResult());
    YieldOp::create(b, opLoc, ValueRange{silu.getResult()});
  }
  auto user = SiluOp::create(b, opLoc, t({4, 8}, f32()), kernel.getResult(0));
  finish();
  ASSERT_TRUE(verifies());
  EXPECT_EQ(kernel.getLabel(), "rms_norm+silu");
  ASSERT_TRUE(kernel.getYield());
  EXPECT_EQ(kernel.getYield().getValues().size(), 1u);

  // Inlining puts the body in its place and maps every op to its clone.
  Operation *bodyNorm = &body.front();
  IRMapping map;
  kernel.inlineBody(&map);
  ASSERT_TRUE(verifies());
  Operation *clone = map.lookupOrNull(bodyNorm);
  ASSERT_NE(clone, nullptr);
  EXPECT_TRUE(isa<RmsNormOp>(clone));
  EXPECT_EQ(clone->getOperand(0), a[0]);
  auto silu = user.getX().getDefiningOp<SiluOp>();
  ASSERT_TRUE(silu);
  EXPECT_EQ(silu.getX(), clone->getResult(0));
  func.walk([](KernelOp) { ADD_FAILURE() << "a loom.kernel is left"; });
}

TEST_F(LoomDialectTest, KernelVerifierNamesTheMismatch) {
  auto a = start({t({4, 8}, f32())});
  // A result the body does not yield.
  auto kernel = KernelOp::create(b, opLoc, TypeRange{t({4, 8}, f16())}, "silu",
                                 ValueRange{a[0]});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&kernel.getBodyBlock());
    auto silu = SiluOp::create(b, opLoc, t({4, 8}, f32()),
                               kernel.getBodyBlock().getArgument(0));
    YieldOp::create(b, opLoc, ValueRange{silu.getResult()});
  }
  finish();
  EXPECT_TRUE(failsWith("result #0 has type 'tensor<4x8xf16>' but the body "
                        "yields 'tensor<4x8xf32>'"));
}
