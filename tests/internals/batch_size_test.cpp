// A batch size chosen by the run (RunOptions::batch_size = 0, flow/detail/batch_sizer.hpp):
// the rule on given costs, and runs whose item cost has a known lower or upper bound.
#include <flow/aetherflow.hpp>
#include <flow/detail/batch_sizer.hpp>

#include <chrono>
#include <cstdint>
#include <ranges>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using detail::BatchCost;
using detail::BatchSizer;

TEST(BatchSize, TheRuleSizesACallToItsTargetWithinTheRange) {
  BatchSizer sizer({.min = 2, .max = 1000, .initial = 64, .call_target = 50us});
  EXPECT_EQ(sizer.size(), 64u);  // nothing measured yet
  // 100 items, 2 calls, 20 us in all: 100 ns an item a call, so 500 items make 50 us.
  sizer.batch_done({.items = 100, .calls = 2, .busy_ns = 20'000});
  EXPECT_EQ(sizer.size(), 500u);
  // Items become 4 times dearer: the estimate moves a quarter of the way (100 -> 175 ns).
  sizer.batch_done({.items = 100, .calls = 2, .busy_ns = 80'000});
  EXPECT_EQ(sizer.size(), 286u);  // 50'000 / 175
  for (int i = 0; i < 50; ++i) sizer.batch_done({.items = 10, .calls = 1, .busy_ns = 10'000'000});
  EXPECT_EQ(sizer.size(), 2u);  // 1 ms an item: the minimum
  for (int i = 0; i < 100; ++i) sizer.batch_done({.items = 1000, .calls = 5, .busy_ns = 1000});
  EXPECT_EQ(sizer.size(), 1000u);                            // nearly free: the maximum
  sizer.batch_done({.items = 0, .calls = 0, .busy_ns = 0});  // nothing measured: no change
  EXPECT_EQ(sizer.size(), 1000u);
}

// Items that take at least 300 us each in one node: a call on one item already exceeds the
// 50 us target, so the run soon emits batches of one item.
TEST(BatchSize, SlowItemsGetTheSmallestBatches) {
  Flow flow("slow");
  auto source = flow.source("numbers", std::views::iota(0, 400));
  auto slow = flow.node("slow", [](int x) {
    std::this_thread::sleep_for(300us);
    return x;
  });
  std::int64_t sum = 0;
  source >> slow >> flow.node("sum", [&sum](int x) { sum += x; });
  const RunReport report = flow.run({.threads = 2});
  EXPECT_EQ(sum, 399 * 400 / 2);
  EXPECT_TRUE(report.batch_size_chosen);
  EXPECT_EQ(report.batch_size, 1u);
}

// Items far cheaper than 1 ms each (a call target of 1 s over at most 1000 items): the run
// grows its batches to the maximum.
TEST(BatchSize, CheapItemsGrowToTheLargestBatches) {
  Flow flow("cheap");
  auto source = flow.source("numbers", std::views::iota(0, 200'000));
  std::int64_t sum = 0;
  source >> flow.node("twice", [](int x) { return std::int64_t{x} * 2; }) >>
      flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  const RunReport report = flow.run({.auto_batch_size = {.max = 1000, .call_target = 1s}});
  EXPECT_EQ(sum, std::int64_t{199'999} * 200'000);
  EXPECT_EQ(report.batch_size, 1000u);
  EXPECT_EQ(report.node("sum").in, 200'000u);
}

// Batches of changing sizes still name a failed item by its number in the source.
TEST(BatchSize, AFailedItemIsNamedByItsNumberWhateverTheBatchSizes) {
  Flow flow("failing");
  auto source = flow.source("numbers", std::views::iota(0, 100'000));
  auto parse = flow.node("parse", [](int x) {
    if (x == 54'321) throw std::invalid_argument("bad");
    return x;
  });
  source >> parse >> flow.node("sink", [](int) {});
  try {
    flow.run({.threads = 2, .auto_batch_size = {.min = 7, .max = 3000, .initial = 13}});
    FAIL() << "the run should fail";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "parse");
    EXPECT_EQ(e.item(), 54'321u);
  }
}

}  // namespace
}  // namespace aetherflow
