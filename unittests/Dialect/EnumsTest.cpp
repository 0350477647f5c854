//===- EnumsTest.cpp - the generated helpers of loom's enums --------------===//
//----------------===//
//
// The ops store their enum options as strings (DIALECT.md writes
// `feature_map = "relu"`); these helpers are what the verifiers and the
// get*Kind() accessors use to interpret them, so the spellings tested here are
// the contract's.

// LoomEnums.h on its own: the header must be self-contained.
#include "loom/Dialect/Loom/IR/LoomEnums.h"

#include "gtest/gtest.h"

#include <string>
#include <utility>
#include <vector>

using namespace loom;

namespace {

TEST(LoomEnums, FeatureMapRoundTripsEveryCase) {
  const std::vector<std::pair<FeatureMap, std::string>> cases = {
      {FeatureMap::Identity, "identity"},
      {FeatureMap::Relu, "relu"},
      {FeatureMap::EluPlusOne, "elu_plus_one"}};
  ASSERT_EQ(cases.size(), getMaxEnumValForFeatureMap() + 1u);
  for (const auto &[value, spelling] : cases) {
    EXPECT_EQ(stringifyFeatureMap(value).str(), spelling);
    EXPECT_EQ(stringifyEnum(value).str(), spelling);
    std::optional<FeatureMap> parsed = symbolizeFeatureMap(spelling);
    ASSERT_TRUE(parsed.has_value()) << spelling;
    EXPECT_EQ(*parsed, value);
    EXPECT_EQ(symbolizeEnum<FeatureMap>(spelling), value);
    // The integer view: each case's value symbolizes back to it.
    EXPECT_EQ(symbolizeFeatureMap(static_cast<uint32_t>(value)), value);
  }
}

TEST(LoomEnums, FeatureMapRejectsUnknownSpellings) {
  for (const char *bad : {"", "softmax", "Relu", "RELU", "elu", "elu+1",
                          "elu_plus_one ", "identity\n", "EluPlusOne"})
    EXPECT_EQ(symbolizeFeatureMap(bad), std::nullopt) << '"' << bad << '"';
  EXPECT_EQ(symbolizeFeatureMap(getMaxEnumValForFeatureMap() + 1u),
            std::nullopt);
}

TEST(LoomEnums, FeatureMapValuesAreStable) {
  EXPECT_EQ(static_cast<uint32_t>(FeatureMap::Identity), 0u);
  EXPECT_EQ(static_cast<uint32_t>(FeatureMap::Relu), 1u);
  EXPECT_EQ(static_cast<uint32_t>(FeatureMap::EluPlusOne), 2u);
  EXPECT_EQ(getMaxEnumValForFeatureMap(), 2u);
  static_assert(getMaxEnumValForFeatureMap() == 2, "constexpr helper");
}

TEST(LoomEnums, RopeStyleRoundTripsEveryCase) {
  const std::vector<std::pair<RopeStyle, std::string>> cases = {
      {RopeStyle::Half, "half"}, {RopeStyle::Interleaved, "interleaved"}};
  ASSERT_EQ(cases.size(), getMaxEnumValForRopeStyle() + 1u);
  for (const auto &[value, spelling] : cases) {
    EXPECT_EQ(stringifyRopeStyle(value).str(), spelling);
    EXPECT_EQ(stringifyEnum(value).str(), spelling);
    EXPECT_EQ(symbolizeRopeStyle(spelling), value);
    EXPECT_EQ(symbolizeEnum<RopeStyle>(spelling), value);
    EXPECT_EQ(symbolizeRopeStyle(static_cast<uint32_t>(value)), value);
  }
}

TEST(LoomEnums, RopeStyleRejectsUnknownSpellings) {
  for (const char *bad :
       {"", "neox", "gptj", "Half", "HALF", "interleave", "Interleaved"})
    EXPECT_EQ(symbolizeRopeStyle(bad), std::nullopt) << '"' << bad << '"';
  EXPECT_EQ(symbolizeRopeStyle(getMaxEnumValForRopeStyle() + 1u), std::nullopt);
  EXPECT_EQ(getMaxEnumValForRopeStyle(), 1u);
  EXPECT_EQ(static_cast<uint32_t>(RopeStyle::Half), 0u);
  EXPECT_EQ(static_cast<uint32_t>(RopeStyle::Interleaved), 1u);
}

TEST(LoomEnums, GeluApproximationRoundTripsEveryCase) {
  const std::vector<std::pair<GeluApproximation, std::string>> cases = {
      {GeluApproximation::None, "none"}, {GeluApproximation::Tanh, "tanh"}};
  ASSERT_EQ(cases.size(), getMaxEnumValForGeluApproximation() + 1u);
  for (const auto &[value, spelling] : cases) {
    EXPECT_EQ(stringifyGeluApproximation(value).str(), spelling);
    EXPECT_EQ(stringifyEnum(value).str(), spelling);
    EXPECT_EQ(symbolizeGeluApproximation(spelling), value);
    EXPECT_EQ(symbolizeEnum<GeluApproximation>(spelling), value);
    EXPECT_EQ(symbolizeGeluApproximation(static_cast<uint32_t>(value)), value);
  }
}

TEST(LoomEnums, GeluApproximationRejectsUnknownSpellings) {
  for (const char *bad :
       {"", "erf", "exact", "None", "TANH", "tanh ", "sigmoid"})
    EXPECT_EQ(symbolizeGeluApproximation(bad), std::nullopt)
        << '"' << bad << '"';
  EXPECT_EQ(
      symbolizeGeluApproximation(getMaxEnumValForGeluApproximation() + 1u),
      std::nullopt);
  EXPECT_EQ(getMaxEnumValForGeluApproximation(), 1u);
  EXPECT_EQ(static_cast<uint32_t>(GeluApproximation::None), 0u);
  EXPECT_EQ(static_cast<uint32_t>(GeluApproximation::Tanh), 1u);
}

} // namespace
