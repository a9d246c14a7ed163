// Chains of one-to-one nodes, filters, one-to-many nodes and sinks, end to end on oneTBB.
#include <flow/aetherflow.hpp>

#include <atomic>
#include <numeric>
#include <ranges>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

TEST(Chain, TransformsEveryItemOfARange) {
  Flow flow("squares");
  std::int64_t sum = 0;
  auto numbers = flow.source("numbers", std::views::iota(1, 10001));
  auto square = flow.node("square", [](int x) { return std::int64_t{x} * x; });
  auto total = flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  numbers >> square >> total;

  const RunReport report = flow.run({.threads = 2, .batch_size = 64});

  std::int64_t expected = 0;
  for (std::int64_t x = 1; x <= 10000; ++x) expected += x * x;
  EXPECT_EQ(sum, expected);
  EXPECT_EQ(report.node("numbers").out, 10000u);
  EXPECT_EQ(report.node("square").in, 10000u);
  EXPECT_EQ(report.node("square").out, 10000u);
  EXPECT_EQ(report.node("sum").in, 10000u);
  EXPECT_EQ(report.source_items(), 10000u);
}

}  // namespace
}  // namespace aetherflow
