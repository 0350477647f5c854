//===- CompilerTest.cpp - the compiler library (loom/Compiler/Compiler.h) --===//

#include "loom/Compiler/Compiler.h"
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
