// Chains of one-to-one nodes, filters, one-to-many nodes and sinks, end to end on oneTBB.
#include <flow/aetherflow.hpp>
#include <flow/testing/node_runner.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../support/platform.hpp"

namespace aetherflow {
namespace {

using testing::run_node;

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

TEST(Chain, FilterDropsAndCountsItems) {
  const auto r = run_node("even",
                          [](int x) -> std::optional<int> {
                            if (x % 2) return std::nullopt;
                            return x;
                          },
                          std::views::iota(0, 1000), {.run = {.batch_size = 7}});

  const std::vector<int>& kept = r.outputs;
  ASSERT_EQ(kept.size(), 500u);
  for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i], static_cast<int>(2 * i));
  EXPECT_EQ(r.report.in, 1000u);
  EXPECT_EQ(r.report.out, 500u);
  EXPECT_EQ(r.report.filtered, 500u);
}

TEST(Chain, OneToManyEmitsEveryItemInOrder) {
  const std::vector<std::string> lines{"a b c", "", "d e", "f"};
  const auto r = run_node("split",
                          [](const std::string& line, Emitter<std::string>& emit) {
                            std::string word;
                            for (char c : line + ' ') {
                              if (c != ' ') {
                                word += c;
                              } else if (!word.empty()) {
                                emit(word);
                                word.clear();
                              }
                            }
                          },
                          lines, {.run = {.batch_size = 2}});

  EXPECT_EQ(r.outputs, (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(r.report.in, 4u);
  EXPECT_EQ(r.report.out, 6u);
  EXPECT_EQ(r.report.filtered, 1u);  // the empty line emitted nothing
}

TEST(Chain, GeneratorSourceStartsOverOnEveryRun) {
  Flow flow("generated");
  std::atomic<int> count{0};
  auto gen = flow.source("count_to_1000", [i = 0]() mutable -> std::optional<int> {
    if (i == 1000) return std::nullopt;
    return i++;
  });
  auto sink = flow.node("count", [&count](int) { ++count; });
  gen >> sink;

  flow.run();
  EXPECT_EQ(count, 1000);
  flow.run();
  EXPECT_EQ(count, 2000);
}

TEST(Chain, GenericLambdaNamesItsInputType) {
  const auto r = run_node<int>("half", [](const auto& x) { return x / 2.0; }, {1, 2, 3});
  EXPECT_DOUBLE_EQ(std::accumulate(r.outputs.begin(), r.outputs.end(), 0.0), 3.0);
}

TEST(Chain, ConvertibleTypesMeetOnAnEdge) {
  Flow flow("convert");
  std::vector<std::string> got;
  auto names = flow.source("names", std::vector<const char*>{"x", "y"});
  auto sink =
      flow.node("collect", [&got](const std::string& s) { got.push_back(s); }, {.ordered = true});
  names >> sink;  // const char* converts to std::string on the edge
  flow.run();
  EXPECT_EQ(got, (std::vector<std::string>{"x", "y"}));
}

// std::string converts to std::string_view on the edge: the views point into the strings of
// the batch before the conversion, which must live as long as the converted batch. (It did
// not: the views dangled once that batch was released; found by write_lines' test.)
TEST(Chain, AnEdgeConvertingToAViewKeepsTheViewedItemsAlive) {
  Flow flow("views");
  std::vector<std::string> got;
  auto src = flow.source("n", std::views::iota(0, 5000));
  auto text = flow.node("text", [](int x) { return "item " + std::to_string(x); });
  auto sink =
      flow.node("collect", [&got](std::string_view s) { got.emplace_back(s); }, {.ordered = true});
  text >> sink;
  src >> text;
  flow.run({.threads = 2, .batch_size = 64});
  ASSERT_EQ(got.size(), 5000u);
  for (int i = 0; i < 5000; ++i)
    EXPECT_EQ(got[static_cast<std::size_t>(i)], "item " + std::to_string(i));
}

TEST(Chain, EmptySourceRunsToTheEnd) {
  Flow flow("empty");
  int calls = 0;
  auto none = flow.source("none", std::vector<int>{});
  auto sink = flow.node("sink", [&calls](int) { ++calls; });
  none >> sink;
  const RunReport report = flow.run();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(report.source_items(), 0u);
}

// Counts copies, so that tests can see when the framework copies an item.
struct Tracked {
  static inline std::atomic<int> copies{0};
  int value = 0;
  explicit Tracked(int v) : value(v) {}
  Tracked(const Tracked& o) : value(o.value) { ++copies; }
  Tracked(Tracked&&) noexcept = default;
  Tracked& operator=(const Tracked& o) {
    value = o.value;
    ++copies;
    return *this;
  }
  Tracked& operator=(Tracked&&) noexcept = default;
};

TEST(Chain, ItemsMoveAlongAChainWithoutCopies) {
  Flow flow("moves");
  long sum = 0;
  auto src = flow.source("make", [i = 0]() mutable -> std::optional<Tracked> {
    if (i == 1000) return std::nullopt;
    return Tracked(i++);
  });
  auto bump = flow.node("bump", [](Tracked t) {
    ++t.value;
    return t;
  });
  auto total = flow.node("sum", [&sum](Tracked t) { sum += t.value; });
  src >> bump >> total;
  Tracked::copies = 0;
  flow.run();
  EXPECT_EQ(sum, 1000L * 1001 / 2);
  EXPECT_EQ(Tracked::copies, 0);
}

TEST(Chain, FanOutSharesItemsWithConstReferenceBranches) {
  Flow flow("shared");
  std::atomic<long> a{0}, b{0};
  auto src = flow.source("make", [i = 0]() mutable -> std::optional<Tracked> {
    if (i == 500) return std::nullopt;
    return Tracked(i++);
  });
  auto left =
      flow.node("left", [&a](const Tracked& t) { a += t.value; }, {.concurrency = unlimited});
  auto right =
      flow.node("right", [&b](const Tracked& t) { b += t.value; }, {.concurrency = unlimited});
  src >> fan_out(left, right);
  Tracked::copies = 0;
  flow.run();
  EXPECT_EQ(a, 500L * 499 / 2);
  EXPECT_EQ(b, 500L * 499 / 2);
  EXPECT_EQ(Tracked::copies, 0);
}

TEST(Chain, SameResultsOnOneThreadAndOnAllThreads) {
  auto run_with = [](std::size_t threads) {
    Flow flow("deterministic");
    std::vector<std::string> out;
    auto src = flow.source("numbers", std::views::iota(0, 20000));
    auto text = flow.node("text", [](int x) { return std::to_string(x * 7 % 1000); });
    auto longer = flow.node("long", [](std::string s) -> std::optional<std::string> {
      if (s.size() < 3) return std::nullopt;
      return s + "!";
    });
    auto sink = flow.node("collect", [&out](std::string s) { out.push_back(std::move(s)); },
                          {.ordered = true});
    src >> text >> longer >> sink;
    const RunReport report = flow.run({.threads = threads, .batch_size = 100});
    EXPECT_EQ(report.threads_requested, threads);
    EXPECT_EQ(report.threads, std::min(threads, testing::max_threads()));
    return out;
  };
  const auto one = run_with(1);
  const auto all = run_with(std::max(2u, std::thread::hardware_concurrency()));
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(one, all);
}

TEST(Chain, ConcurrencyLimitIsNeverExceeded) {
  Flow flow("limited");
  std::atomic<int> now{0}, peak{0};
  auto src = flow.source("numbers", std::views::iota(0, 4000));
  auto work = flow.node("work",
                        [&](int x) {
                          const int in = ++now;
                          int seen = peak.load();
                          while (in > seen && !peak.compare_exchange_weak(seen, in)) {
                          }
                          volatile int spin = 0;
                          for (int i = 0; i < 2000; ++i) spin = spin + i;
                          --now;
                          return x;
                        },
                        {.concurrency = 2});
  auto sink = flow.node("sink", [](int) {});
  src >> work >> sink;
  flow.run({.threads = 4, .batch_size = 1});
  EXPECT_LE(peak.load(), 2);
  EXPECT_GE(peak.load(), 1);
}

}  // namespace
}  // namespace aetherflow
