//===- HopperW4A16KernelsTest.cpp - every W4A16 wgmma config builds -------===//

#include "KernelTestUtil.h"

#include "loom/GPU/Kernels/HopperW4A16Kernel.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>

using namespace mlir;
using loom::gpu::EpilogueStep;
using loom::gpu::HopperW4A16Config;

namespace {

TEST(HopperW4A16Kernels, EveryConfigVerifies) {
  // Scales per row (in the epilogue) or per group of 64 or more (in the
  // weights as they are dequantized), every tile shape, scale type, result
  // type, bias and epilogue: each built gpu.func verifies, and the names
  // differ.
  using K = EpilogueStep::Kind;
  std::vector<std::vector<EpilogueStep>> epilogues = {
      {}, {{K::Silu, ""}}, {{K::Gelu, ""}, {K::AddTensor, "bf16"}}};
  std::set<std::string> names;
  int built = 0;
  for (const char *scale : {"f32", "bf16", "f16"})
    for (int group : {0, 64, 128})
      for (const char *y : {"bf16", "f16", "f32"})
        for (const char *bias : {"", "f16"})
          for (auto [consumers, xRows] :
               {std::pair{2, 128}, std::pair{1, 128}, std::pair{1, 64},
                std::pair{2, 64}, std::pair{1, 256}})
            for (const auto &epilogue : epilogues) {
              HopperW4A16Config c;
              c.scaleType = scale;
              c.group = group;
              c.yType = y;
              c.biasType = bias;
              c.consumers = consumers;
              c.xRows = xRows;
              c.stages = xRows == 256 ? 6 : 8;
              c.epilogue = epilogue;
              ASSERT_EQ(c.check(), "") << c.kernelName();
              EXPECT_EQ(c.stageBytes(), xRows * 128 + 64 * consumers * 32);
              EXPECT_LE(c.sharedMemoryBytes(), 227 * 1024) << c.kernelName();
              names.insert(c.kernelName());
              // The epilogue and bias code is the same for every tile:
              // build those variants on one tile shape.
              if ((!epilogue.empty() || *bias) && consumers != 2)
                continue;
              std::string error = loom::test::buildAndCheck(
                  c.kernelName(), [&](ModuleOp m, Location loc) {
                    return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
                  });
              EXPECT_EQ(error, "") << c.kernelName();
              ++built;
            }
  EXPECT_EQ(names.size(), static_cast<size_t>(3 * 3 * 3 * 2 * 5 * 3));
  EXPECT_GT(built, 3 * 3 * 3 * 5);
}

TEST(HopperW4A16Kernels, SiblingsVerify) {
  // QKV with i4 weights: two to four parts, each its own weights, scales,
  // bias and output.
  std::set<std::string> names;
  for (int parts : {2, 3, 4})
    for (int group : {0, 128})
      for (const char *bias : {"", "bf16"}) {
        HopperW4A16Config c;
        c.parts = parts;
        c.group = group;
        c.biasType = bias;
        c.consumers = 1;
        c.xRows = 64;
        ASSERT_EQ(c.check(), "") << c.kernelName();
        names.insert(c.kernelName());
        std::string error = loom::test::buildAndCheck(
            c.kernelName(), [&](ModuleOp m, Location loc) {
              return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
            });
        EXPECT_EQ(error, "") << c.kernelName();
      }
  EXPECT_EQ(names.size(), 12u);
}

TEST(HopperW4A16Kernels, GatedPairsVerify) {
  // SwiGLU / GeGLU with i4 weights: gate and up of 32 output columns per
  // consumer, with or without biases, group scales and an epilogue.
  using K = EpilogueStep::Kind;
  for (K gate : {K::Silu, K::Gelu, K::GeluTanh})
    for (int group : {0, 64})
      for (auto [consumers, xRows] : {std::pair{2, 128}, std::pair{1, 64}}) {
        HopperW4A16Config c;
        c.parts = 2;
        c.gate = gate;
        c.group = group;
        c.biasType = group ? "f32" : "";
        c.epilogue = {{K::AddTensor, "bf16"}};
        c.consumers = consumers;
        c.xRows = xRows;
        ASSERT_EQ(c.check(), "") << c.kernelName();
        EXPECT_EQ(c.outputs(), 1);
        EXPECT_EQ(c.tileColumns(), 32 * consumers);
        std::string error = loom::test::buildAndCheck(
            c.kernelName(), [&](ModuleOp m, Location loc) {
              return loom::gpu::buildHopperW4A16Kernel(m, loc, c);
            });
        EXPECT_EQ(error, "") << c.kernelName();
      }
}

TEST(HopperW4A16Kernels, InvalidConfigsSayWhy) {
  auto why = [](auto change) {
    HopperW4A16Config c;
    change(c);
    return c.check();
  };
  EXPECT_EQ(why([](HopperW4A16Config &) {}), "");
  EXPECT_NE(why([](HopperW4A16Config &c) { c.group = 32; }).find("multiple of 64"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.scaleType = "i8"; }).find("scales"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.yType = "i8"; }).find("Y must"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.consumers = 3; }).find("consumer"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.xRows = 96; }).find("rows"),
            std::string::npos);
  // Two consumers on 256 rows of x (128 accumulators a thread) are valid:
  // ptxas 13.0 assembles them without spills (test/GPU/wgmma-sass.test).
  EXPECT_EQ(why([](HopperW4A16Config &c) { c.xRows = 256; }), "");
  EXPECT_NE(why([](HopperW4A16Config &c) { c.stages = 1; }).find("stages"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.parts = 5; }).find("parts"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 2;
              c.epilogue = {{EpilogueStep::Kind::Silu, ""}};
            }).find("no epilogue"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 3;
              c.gate = EpilogueStep::Kind::Silu;
            }).find("gated"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.parts = 2;
              c.gate = EpilogueStep::Kind::AddTensor;
            }).find("gated"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) { c.consumerRegisters = 248; })
                .find("64K"),
            std::string::npos);
  EXPECT_NE(why([](HopperW4A16Config &c) {
              c.consumers = 1;
              c.xRows = 256;
              c.consumerRegisters = 160;
            }).find("accumulators"),
            std::string::npos);
}

} // namespace

//===----------------------------------------------------------------------===//
// The dequantization's PTX, interpreted
//===----------------------------------------------------------------------===//

namespace dequant {

float bf16ToFloat(uint32_t bits) {
  uint32_t f = (bits & 0xFFFFu) << 16;
  float out;
  std::memcpy(&out, &f, 4);
  return out;
}

/// Round to nearest even (the values here are finite).
uint32_t floatToBf16(float v) {
  uint32_t f;
  std::memcpy(&f, &v, 4);
  uint32_t lsb = (f >> 16) & 1u;
  return ((f + 0x7FFFu + lsb) >> 16) & 0xFFFFu;
}

/// Applies `op` to both bf16 halves, each rounded once (the products and
/// differences of these operands are exact in f32).
template <typename Op> uint32_t bf16x2(uint32_t a, uint32_t b, Op op) {
  uint32_t out = 0;
  for (int h = 0; h < 2; ++h) {
    float x = bf16ToFloat(a >> (16 * h)), y = bf16ToFloat(b >> (16 * h));
    out |= floatToBf16(op(x, y)) << (16 * h);
  }
  return out;
}

/// PTX prmt.b32 d, a, b, c (default mode; selector values < 8 only).
uint32_t prmt(uint32_t a, uint32_t b, uint32_t c) {
  uint64_t bytes = (uint64_t(b) << 32) | a;
  uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    uint32_t sel = (c >> (4 * i)) & 7u;
    out |= uint32_t((bytes >> (8 * sel)) & 0xFFu) << (8 * i);
  }
  return out;
}

/// Runs the instructions of `ptx` (the subset the dequantization uses) with
/// $i bound to operands[i]; returns $0.
uint32_t interpret(const std::string &ptx, std::vector<uint32_t> operands) {
  std::map<std::string, uint32_t> regs;
  for (size_t i = 0; i < operands.size(); ++i)
    regs["$" + std::to_string(i)] = operands[i];
  auto value = [&](const std::string &s) -> uint32_t {
    if (regs.count(s))
      return regs[s];
    EXPECT_TRUE(!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])))
        << "unknown operand " << s;
    return static_cast<uint32_t>(std::stoul(s, nullptr, 0));
  };
  std::istringstream lines(ptx);
  std::string line;
  int executed = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line == "{" || line == "}" ||
        line.rfind(".reg", 0) == 0)
      continue;
    std::string opcode = line.substr(0, line.find(' '));
    std::vector<std::string> args;
    std::string rest = line.substr(opcode.size() + 1);
    rest = rest.substr(0, rest.find(';'));
    std::istringstream parts(rest);
    for (std::string a; std::getline(parts, a, ',');) {
      a.erase(0, a.find_first_not_of(' '));
      args.push_back(a);
    }
    uint32_t r;
    if (opcode == "prmt.b32" && args.size() == 4)
      r = prmt(value(args[1]), value(args[2]), value(args[3]));
    else if (opcode == "shr.b32" && args.size() == 3)
      r = value(args[1]) >> value(args[2]);
    else if (opcode == "and.b32" && args.size() == 3)
      r = value(args[1]) & value(args[2]);
    else if (opcode == "or.b32" && args.size() == 3)
      r = value(args[1]) | value(args[2]);
    else if (opcode == "xor.b32" && args.size() == 3)
      r = value(args[1]) ^ value(args[2]);
    else if (opcode == "sub.rn.bf16x2" && args.size() == 3)
      r = bf16x2(value(args[1]), value(args[2]),
                 [](float x, float y) { return x - y; });
    else if (opcode == "mul.rn.bf16x2" && args.size() == 3)
      r = bf16x2(value(args[1]), value(args[2]),
                 [](float x, float y) { return x * y; });
    else {
      ADD_FAILURE() << "instruction outside the interpreted subset: " << line;
      return 0;
    }
    regs[args[0]] = r;
    ++executed;
  }
  EXPECT_GT(executed, 0);
  return regs["$0"];
}

/// The signed nibble (two's complement) of `byte`: the low one is the even
/// k (the module ABI's packing).
int nibble(uint32_t byte, int high) {
  int n = (byte >> (4 * high)) & 0xF;
  return n >= 8 ? n - 16 : n;
}

} // namespace dequant

// Every byte, at every position of its word, decodes to its two signed
// nibbles exactly (per-column scales), and to round_bf16(n * s) with
// group scales, for random bf16 scales.
TEST(HopperW4A16Kernels, DequantizationPtxDecodesEveryByte) {
  std::mt19937 rng(11);
  for (bool grouped : {false, true}) {
    std::string ptx = loom::gpu::w4a16DequantizePtx(grouped);
    int checked = 0;
    for (uint32_t t = 0; t < 4; ++t)
      for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t word = rng();
        word = (word & ~(0xFFu << (8 * t))) | (byte << (8 * t));
        uint32_t selector = t | (t << 8);
        float s = 1.0f;
        std::vector<uint32_t> operands = {0, word, selector, 0x43084308u};
        if (grouped) {
          s = dequant::bf16ToFloat(dequant::floatToBf16(
              std::ldexp(std::uniform_real_distribution<float>(0.5f, 1.0f)(rng),
                         std::uniform_int_distribution<int>(-12, 4)(rng))));
          uint32_t sb = dequant::floatToBf16(s);
          operands.push_back(sb | (sb << 16));
        }
        uint32_t pair = dequant::interpret(ptx, operands);
        for (int h = 0; h < 2; ++h) {
          float want = dequant::bf16ToFloat(dequant::floatToBf16(
              static_cast<float>(dequant::nibble(byte, h)) * s));
          float got = dequant::bf16ToFloat(pair >> (16 * h));
          ASSERT_EQ(got, want) << "byte " << byte << " at " << t << ", half "
                               << h << ", grouped " << grouped << ", s " << s;
          ++checked;
        }
      }
    EXPECT_EQ(checked, 2 * 4 * 256);
  }
}
