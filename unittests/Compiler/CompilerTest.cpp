//===- CompilerTest.cpp - the compiler library (loom/Compiler/Compiler.h) --===//

#include "loom/Compiler/Compiler.h"
#include "loom/ABI/InputHints.h"
#include "loom/InitAll.h"
#include "loom/Runtime/Runtime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

const char *kBlock = R"mlir(
func.func @block(%x: tensor<2x4xf32>, %g: tensor<4xf32>) -> tensor<2x4xf32> {
  %n = loom.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %s = arith.addf %n, %x : tensor<2x4xf32>
  return %s : tensor<2x4xf32>
}
)mlir";

/// A fresh path for a library, removed at the end of the test.
struct ScratchLibrary {
  ScratchLibrary() {
    EXPECT_FALSE(
        llvm::sys::fs::createTemporaryFile("loom-compiler-test", "so", path));
    llvm::sys::fs::remove(path);
  }
  ~ScratchLibrary() { llvm::sys::fs::remove(path); }
  std::string str() const { return path.str().str(); }
  llvm::SmallString<128> path;
};

/// The message of a failed compilation (diagnostics, then the message).
template <typename T>
std::string errorText(llvm::Expected<T> &result) {
  EXPECT_FALSE(bool(result));
  if (result)
    return "";
  return llvm::toString(result.takeError());
}

/// Calls `block` of the library at `path` on x = [1..8], g = 1 and checks
/// rms_norm(x) + x.
void callBlock(const std::string &path) {
  loomModule *module = loomModuleLoad(path.c_str(), LOOM_DEVICE_CPU);
  ASSERT_NE(module, nullptr) << loomGetLastError();
  // The module records loom-run's ranges: rms_norm's gain about 1.
  ASSERT_NE(loomModuleInputHints(module), nullptr);
  EXPECT_STREQ(loomModuleInputHints(module),
               "entry block: -; f 0.653589838 1.34641016\n");
  const loomEntry *entry = loomModuleLookupEntry(module, "block");
  ASSERT_NE(entry, nullptr) << loomGetLastError();
  int64_t xShape[] = {2, 4}, gShape[] = {4};
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8}, g = {1, 1, 1, 1};
  loomBuffer *args[] = {
      loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 2, xShape),
      loomBufferCreate(LOOM_DEVICE_CPU, LOOM_DTYPE_F32, 1, gShape)};
  ASSERT_EQ(loomBufferCopyFromHost(args[0], x.data(), x.size() * 4),
            LOOM_SUCCESS);
  ASSERT_EQ(loomBufferCopyFromHost(args[1], g.data(), g.size() * 4),
            LOOM_SUCCESS);
  loomBuffer *result = nullptr;
  ASSERT_EQ(loomEntryCall(entry, args, 2, &result, 1), LOOM_SUCCESS)
      << loomGetLastError();
  std::vector<float> y(8);
  ASSERT_EQ(loomBufferCopyToHost(result, y.data(), y.size() * 4),
            LOOM_SUCCESS);
  for (int row = 0; row < 2; ++row) {
    double sum = 0;
    for (int i = 0; i < 4; ++i)
      sum += double(x[row * 4 + i]) * x[row * 4 + i];
    double rms = std::sqrt(sum / 4 + 1e-6);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(y[row * 4 + i], x[row * 4 + i] / rms + x[row * 4 + i], 1e-5)
          << "row " << row << " column " << i;
  }
  loomBufferDestroy(result);
  loomBufferDestroy(args[0]);
  loomBufferDestroy(args[1]);
  loomModuleUnload(module);
}

TEST(Compiler, SourceToSharedLibraryOnTheCPU) {
  ScratchLibrary library;
  loom::CompileOptions options;
  options.output = library.str();
  options.inputName = "block.mlir";
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(kBlock, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  EXPECT_EQ(result->entries.size(), 1u);
  EXPECT_NE(result->signature.find("entry block(tensor<2x4xf32>, "
                                   "tensor<4xf32>) -> (tensor<2x4xf32>)"),
            std::string::npos)
      << result->signature;
  EXPECT_TRUE(result->artifact.empty());
  EXPECT_FALSE(result->kernels);
  // Every phase from parsing to the link ran and was timed.
  ASSERT_FALSE(result->phases.empty());
  EXPECT_EQ(result->phases.front().name, "parse");
  EXPECT_EQ(result->phases.back().name, "link");
  callBlock(library.str());
}

TEST(Compiler, ModuleOfTheCallersContextToSharedLibrary) {
  // A context with only the dialects the caller needs: the compiler adds
  // the rest (passes, LLVM IR translations) itself.
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kBlock, &context);
  ASSERT_TRUE(module);
  ScratchLibrary library;
  llvm::Expected<loom::CompileResult> result =
      loom::compileToSharedLibrary(*module, library.str());
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  callBlock(library.str());
}

/// Every role that InputHints.cpp knows, each argument first used by one op
/// (through a transpose or expand_shape where it says so), beside arguments
/// without a role or with a dynamic size the role needs.
const char *kRoles = R"mlir(
func.func @roles(%x: tensor<4x64xbf16>, %w: tensor<64x16xbf16>, %b: tensor<16xbf16>,
                 %w4: tensor<8x64xi4>, %s4: tensor<8x1xf32>, %w8: tensor<8x64xi8>, %s8: tensor<8x1xf32>,
                 %xq: tensor<4x64xi8>, %xs: tensor<4xf32>, %wq: tensor<8x64xi8>, %ws: tensor<8xf32>,
                 %fq: tensor<4x64xf8E4M3FN>, %fs: tensor<4xf32>, %fw: tensor<8x64xf8E4M3FN>, %fws: tensor<8xf32>,
                 %g: tensor<64xbf16>, %lg: tensor<64xbf16>, %lb: tensor<64xbf16>,
                 %dw: tensor<3x64xbf16>, %unused: tensor<2xf32>, %dyn: tensor<?x64xbf16>)
    -> (tensor<4x16xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>,
        tensor<4x64xbf16>, tensor<4x64xbf16>, tensor<1x4x64xbf16>, tensor<?x16xbf16>) {
  %e = tensor.empty() : tensor<16x64xbf16>
  %wt = linalg.transpose ins(%w : tensor<64x16xbf16>) outs(%e : tensor<16x64xbf16>) permutation = [1, 0]
  %y0 = loom.linear %x, %wt, %b : (tensor<4x64xbf16>, tensor<16x64xbf16>, tensor<16xbf16>) -> tensor<4x16xbf16>
  %y1 = loom.qlinear %x, %w4, %s4 {group_size = 64 : i64} : (tensor<4x64xbf16>, tensor<8x64xi4>, tensor<8x1xf32>) -> tensor<4x8xbf16>
  %y2 = loom.qlinear %x, %w8, %s8 {group_size = 64 : i64} : (tensor<4x64xbf16>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xbf16>
  %y3 = loom.qmatmul %xq, %xs, %wq, %ws : (tensor<4x64xi8>, tensor<4xf32>, tensor<8x64xi8>, tensor<8xf32>) -> tensor<4x8xbf16>
  %y4 = loom.qmatmul %fq, %fs, %fw, %fws : (tensor<4x64xf8E4M3FN>, tensor<4xf32>, tensor<8x64xf8E4M3FN>, tensor<8xf32>) -> tensor<4x8xbf16>
  %y5 = loom.rms_norm %x, %g {epsilon = 1.0e-05 : f32} : (tensor<4x64xbf16>, tensor<64xbf16>) -> tensor<4x64xbf16>
  %y6 = loom.layer_norm %x, %lg, %lb {epsilon = 1.0e-05 : f32} : (tensor<4x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<4x64xbf16>
  %x3 = tensor.expand_shape %x [[0, 1], [2]] output_shape [1, 4, 64] : tensor<4x64xbf16> into tensor<1x4x64xbf16>
  %y7 = loom.dwconv %x3, %dw {causal} : (tensor<1x4x64xbf16>, tensor<3x64xbf16>) -> tensor<1x4x64xbf16>
  %y8 = loom.linear %dyn, %wt : (tensor<?x64xbf16>, tensor<16x64xbf16>) -> tensor<?x16xbf16>
  return %y0, %y1, %y2, %y3, %y4, %y5, %y6, %y7, %y8 : tensor<4x16xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x64xbf16>, tensor<4x64xbf16>, tensor<1x4x64xbf16>, tensor<?x16xbf16>
}

func.func @serving(%q: tensor<6x2x16xf32>, %kc: tensor<4x8x1x16xf32>, %vc: tensor<4x8x1x16xf32>,
                   %off: tensor<3xi32>, %lens: tensor<2xi32>, %bt: tensor<2x3xi32>, %sinks: tensor<2xf32>,
                   %new: tensor<6x1x16xf32>, %slots: tensor<6xi32>,
                   %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>, %pos: tensor<6xi32>)
    -> (tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<6x2x16xf32>) {
  %o = loom.paged_attention %q, %kc, %vc, %off, %lens, %bt, %sinks {causal}
      : (tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<4x8x1x16xf32>, tensor<3xi32>, tensor<2xi32>, tensor<2x3xi32>, tensor<2xf32>) -> tensor<6x2x16xf32>
  %c = loom.kv_cache_write %kc, %new, %slots : (tensor<4x8x1x16xf32>, tensor<6x1x16xf32>, tensor<6xi32>) -> tensor<4x8x1x16xf32>
  %r = loom.rope %q, %cos, %sin, %pos : (tensor<6x2x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>, tensor<6xi32>) -> tensor<6x2x16xf32>
  return %o, %c, %r : tensor<6x2x16xf32>, tensor<4x8x1x16xf32>, tensor<6x2x16xf32>
}

func.func @recurrent(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>,
                     %gate: tensor<1x2x8xf32>, %beta: tensor<1x2x8xf32>, %s0: tensor<1x2x16x16xf32>,
                     %aq: tensor<1x2x8x16xbf16>, %sl: tensor<2xf32>)
    -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x8x16xbf16>) {
  %o, %s = loom.linear_attention %q, %k, %v gate(%gate) beta(%beta) initial_state(%s0) {causal, rule = "delta"}
      : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x16x16xf32>) -> (tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>)
  %a = loom.attention %aq, %aq, %aq, %sl {causal} : (tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<1x2x8x16xbf16>, tensor<2xf32>) -> tensor<1x2x8x16xbf16>
  return %o, %s, %a : tensor<1x2x8x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x8x16xbf16>
}
)mlir";

TEST(InputHints, RangesByRoleOfTheFirstUse) {
  mlir::DialectRegistry registry;
  loom::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kRoles, &context);
  ASSERT_TRUE(module);
  auto entries = loom::abi::collectEntries(*module);
  ASSERT_TRUE(mlir::succeeded(entries));
  // @roles: x none; linear's weight (through a transpose, K 64) 1/8 spread
  // as uniform +- sqrt(3)/8, its bias +- sqrt(3)/2; qlinear's i4 weight
  // symmetric [-7, 7] and its scales [0.5, 1.5] / (sqrt(64) * 4), the i8
  // ones / (8 * 64); qmatmul's i8 scales / 64 and / (8 * 64), the f8 values
  // +- 4 sqrt(3) and scales / 4, / 32; the norms' gains 1 +- 0.2 sqrt(3), the
  // shift +- 0.2 sqrt(3); dwconv's 3 taps +- 1; an unused argument and the
  // dynamic input of a linear none.
  // @serving: q_offsets over 6 rows, kv_lens up to 3 pages of 8, page
  // indices of 4 pages, sink logits [3, 7], slots -1..31, positions of 32
  // table rows. @recurrent: the delta rule's keys +- sqrt(3) / 8, log-gates
  // [-0.5, 0], beta [0, 1], the initial state +- 0.5 sqrt(3), sink logits.
  EXPECT_EQ(loom::abi::formatInputHints(*module, *entries),
            "entry roles: -; f -0.216506351 0.216506351; f -0.866025404 "
            "0.866025404; i -7 7; f 0.015625 0.046875; -; f 0.0009765625 "
            "0.0029296875; -; f 0.0078125 0.0234375; -; f 0.0009765625 "
            "0.0029296875; f -6.92820323 6.92820323; f 0.125 0.375; f "
            "-6.92820323 6.92820323; f 0.015625 0.046875; f 0.653589838 "
            "1.34641016; f 0.653589838 1.34641016; f -0.346410162 "
            "0.346410162; f -1 1; -; -\n"
            "entry serving: -; -; -; offsets 6; i 0 24; i 0 3; f 3 7; -; "
            "i -1 31; -; -; i 0 31\n"
            "entry recurrent: -; f -0.216506351 0.216506351; -; f -0.5 0; "
            "f 0 1; f -0.866025404 0.866025404; -; f 3 7\n");
}

TEST(Compiler, EmitsTextWithoutWritingFiles) {
  loom::CompileOptions options;
  options.emit = loom::EmitKind::LLVM;
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(kBlock, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());
  EXPECT_NE(result->artifact.find("define"), std::string::npos);
  EXPECT_NE(result->artifact.find("loom_entry_block"), std::string::npos);
}

TEST(Compiler, BadModuleNamesTheProblemAndItsLocation) {
  // The GQA check of loom.attention: 3 query heads over 2 kv heads.
  const char *bad = R"mlir(
func.func @f(%q: tensor<1x3x8x4xf32>, %k: tensor<1x2x8x4xf32>) -> tensor<1x3x8x4xf32> {
  %o = loom.attention %q, %k, %k : (tensor<1x3x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x3x8x4xf32>
  return %o : tensor<1x3x8x4xf32>
}
)mlir";
  ScratchLibrary library;
  loom::CompileOptions options;
  options.output = library.str();
  options.inputName = "bad.mlir";
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(bad, options);
  std::string text = errorText(result);
  EXPECT_NE(text.find("bad.mlir:3:"), std::string::npos) << text;
  EXPECT_NE(text.find("error: "), std::string::npos) << text;
  EXPECT_NE(text.find("must be a multiple of key/value heads"),
            std::string::npos)
      << text;
  EXPECT_FALSE(llvm::sys::fs::exists(library.path));

  const char *syntax = "func.func @f() {\n  return %x : f32\n}\n";
  result = loom::compileSource(syntax, options);
  text = errorText(result);
  EXPECT_NE(text.find("bad.mlir:2:"), std::string::npos) << text;
  EXPECT_NE(text.find("undeclared SSA value name"), std::string::npos) << text;
}

TEST(Compiler, MissingToolkitForAGPUTarget) {
  loom::CompileOptions options;
  options.target = "sm_90a";
  options.cudaPath = "/nonexistent/cuda";
  options.output = "/nonexistent/out.so";
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(kBlock, options);
  std::string text = errorText(result);
  EXPECT_NE(text.find("the CUDA toolkit at '/nonexistent/cuda' (from "
                      "--cuda-path) has no /nonexistent/cuda/bin/ptxas"),
            std::string::npos)
      << text;
  // checkOptions finds the same without compiling anything.
  llvm::Error error = loom::checkOptions(options);
  EXPECT_TRUE(bool(error));
  llvm::consumeError(std::move(error));
}

TEST(Compiler, UnreadableFileIsNamed) {
  loom::CompileOptions options;
  options.output = "/nonexistent/out.so";
  llvm::Expected<loom::CompileResult> result =
      loom::compileFile("/nonexistent/block.mlir", options);
  std::string text = errorText(result);
  EXPECT_NE(text.find("/nonexistent/block.mlir"), std::string::npos) << text;
}

TEST(Compiler, OptionsAreCheckedFirst) {
  loom::CompileOptions options;
  options.target = "sm_70";
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(kBlock, options);
  EXPECT_NE(errorText(result).find("unknown target 'sm_70'"),
            std::string::npos);
  options.target = "cpu";
  options.emit = loom::EmitKind::PTX;
  result = loom::compileSource(kBlock, options);
  EXPECT_NE(errorText(result).find("needs a GPU target"), std::string::npos);
  options.emit = loom::EmitKind::Library;
  result = loom::compileSource(kBlock, options);
  EXPECT_NE(errorText(result).find("no output file"), std::string::npos);
  EXPECT_EQ(loom::parseEmitKind("cubin"), loom::EmitKind::Cubin);
  EXPECT_EQ(loom::parseEmitKind("so"), std::nullopt);
  EXPECT_EQ(loom::defaultLibraryName("a/b.mlir"), "a/b.so");
}

TEST(Compiler, UnwritableOutputLeavesNothing) {
  loom::CompileOptions options;
  options.output = "/nonexistent/dir/out.so";
  llvm::Expected<loom::CompileResult> result =
      loom::compileSource(kBlock, options);
  EXPECT_NE(errorText(result).find("cannot write '/nonexistent/dir/out.so'"),
            std::string::npos);
}

} // namespace
