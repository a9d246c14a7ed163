// RunOptions::max_items runs a flow on the head of its input; tune() measures every
// configuration of a grid on such a sample and picks by its rule.
#include <flow/aetherflow.hpp>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <ranges>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

TEST(Sample, MaxItemsEndsEachSourceAfterItsHeadAsIfTheInputEndedThere) {
  std::vector<int> kept;
  Flow flow("head");
  flow.source("n", std::views::iota(0, 1'000'000)) >>
      flow.node("keep", collect(kept), {.ordered = true});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64, .max_items = 1000});
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.node("n").out, 1000u);
  std::vector<int> head(1000);
  std::iota(head.begin(), head.end(), 0);
  EXPECT_EQ(kept, head);

  std::ostringstream text;
  for (int i = 0; i < 5000; ++i) text << "line " << i << "\n";
  testing::TempFile file(text.str());
  std::vector<std::string> lines;
  Flow reader("head_of_file");
  reader.source("lines", read_lines(file.path())) >>
      reader.node("keep", [&](std::string_view l) { lines.emplace_back(l); }, {.ordered = true});
  reader.run({.threads = 2, .batch_size = 100, .max_items = 1234});
  ASSERT_EQ(lines.size(), 1234u);
  EXPECT_EQ(lines.front(), "line 0");
  EXPECT_EQ(lines.back(), "line 1233");
}

TEST(Tune, MeasuresEveryConfigurationOnTheSampleAndPicksByTheRule) {
  std::atomic<std::uint64_t> seen{0};
  Flow flow("tuned");
  flow.source("n", std::views::iota(0, 10'000'000)) >>
      flow.node("square", [](int x) { return std::int64_t{x} * x; }) >>
      flow.node("count", [&](std::int64_t) { seen.fetch_add(1, std::memory_order_relaxed); });
  const TuneGrid grid{.threads = {1, 2}, .batch_sizes = {16, 256}, .sample_items = 5000};
  const TuneResult best = tune(flow, grid);

  // One warm-up run, then 3 repetitions of 4 configurations, each on exactly the sample.
  EXPECT_EQ(seen.load(), (1 + 4 * 3) * 5000u);
  ASSERT_EQ(best.table.size(), 4u);
  const std::vector<std::pair<std::size_t, std::size_t>> order = {
      {1, 16}, {1, 256}, {2, 16}, {2, 256}};
  double fastest = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const TuneTrial& row = best.table[i];
    EXPECT_EQ(std::pair(row.threads, row.batch_size), order[i]);
    ASSERT_EQ(row.runs.size(), 3u);
    std::vector<double> sorted = row.runs;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(row.items_per_second, sorted[1]);  // the median
    EXPECT_GT(row.items_per_second, 0);
    fastest = std::max(fastest, row.items_per_second);
  }
  // The choice: within 3% of the fastest, and no such configuration has fewer threads or, with
  // as many, a smaller batch.
  EXPECT_GE(best.items_per_second, fastest * 0.97);
  for (const TuneTrial& row : best.table) {
    if (row.items_per_second < fastest * 0.97) continue;
    EXPECT_FALSE(row.threads < best.threads ||
                 (row.threads == best.threads && row.batch_size < best.batch_size));
  }
  EXPECT_EQ(best.options().threads, best.threads);
  EXPECT_EQ(best.options().batch_size, best.batch_size);
  std::ostringstream table;
  table << best;
  EXPECT_NE(table.str().find("<- chosen"), std::string::npos);
}

TEST(Tune, AnEmptyOrZeroGridIsAnError) {
  Flow flow("nothing");
  flow.source("n", std::views::iota(0, 10)) >> flow.node("drop", discard<int>());
  EXPECT_THROW(tune(flow, {.threads = {1}, .batch_sizes = {}}), Error);
  EXPECT_THROW(tune(flow, {.threads = {0}}), Error);
  EXPECT_THROW(tune(flow, {.threads = {1}, .sample_items = 0}), Error);
}

}  // namespace
}  // namespace aetherflow
