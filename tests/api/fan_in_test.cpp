// Fan-out then fan-in: every joined tuple comes from one upstream item, whatever order and
// speed the branches run at; items a branch dropped neither hang the join nor stay in memory.
#include <flow/aetherflow.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

// A short, item-dependent pause, so that branches finish items in scrambled order.
void jitter(int x, int salt) {
  const auto us = std::hash<int>{}(x * 31 + salt) % 50;
  if (us > 40) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

TEST(FanIn, PairsResultsOfTheSameItemWhateverTheBranchTimes) {
  Flow flow("pairs");
  std::mutex m;
  std::vector<std::tuple<int, int, std::string>> joined;
  auto src = flow.source("numbers", std::views::iota(0, 3000));
  auto doubled = flow.node("doubled", [](int x) {
    jitter(x, 1);
    return 2 * x;
  });
  auto text = flow.node("text", [](int x) {
    jitter(x, 2);
    return std::to_string(x);
  });
  auto join = flow.fan_in("join", [](int d, const std::string& t) { return std::tuple{d, t}; });
  auto sink = flow.node("collect", [&](std::tuple<int, std::string> p) {
    std::lock_guard lock(m);
    joined.emplace_back(std::get<0>(p) / 2, std::get<0>(p), std::get<1>(p));
  });
  src >> fan_out(doubled, text) >> join >> sink;

  const RunReport report = flow.run({.threads = 4, .batch_size = 16});

  ASSERT_EQ(joined.size(), 3000u);
  std::set<int> seen;
  for (const auto& [x, d, t] : joined) {
    EXPECT_EQ(d, 2 * x);
    EXPECT_EQ(t, std::to_string(x)) << "joined values of different items";
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 3000u);
  EXPECT_EQ(report.node("join").in, 3000u);
  EXPECT_EQ(report.node("join").out, 3000u);
}

TEST(FanIn, PlainFanInSkipsAndCountsItemsABranchFiltered) {
  Flow flow("half");
  std::vector<std::pair<int, int>> got;
  auto src = flow.source("numbers", std::views::iota(0, 1000));
  auto odd_only = flow.node("odd_only", [](int x) -> std::optional<int> {
    if (x % 2 == 0) return std::nullopt;
    return x;
  });
  auto negate = flow.node("negate", [](int x) { return -x; });
  auto join = flow.fan_in("join", [](int odd, int neg) { return std::pair{odd, neg}; });
  auto sink =
      flow.node("collect", [&got](std::pair<int, int> p) { got.push_back(p); }, {.ordered = true});
  src >> fan_out(odd_only, negate) >> join >> sink;

  const RunReport report = flow.run({.batch_size = 32});

  ASSERT_EQ(got.size(), 500u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, static_cast<int>(2 * i + 1));
    EXPECT_EQ(got[i].second, -got[i].first);
  }
  EXPECT_EQ(report.node("join").in, 1000u);
  EXPECT_EQ(report.node("join").out, 500u);
  EXPECT_EQ(report.node("join").filtered, 500u);  // incomplete: the odd_only branch dropped them
}

TEST(FanIn, OptionalParametersSeeWhichBranchProducedAValue) {
  Flow flow("partial");
  std::vector<std::string> got;
  auto src = flow.source("numbers", std::views::iota(0, 12));
  auto fizz = flow.node("fizz", [](int x) -> std::optional<std::string> {
    if (x % 3) return std::nullopt;
    return "fizz";
  });
  auto buzz = flow.node("buzz", [](int x) -> std::optional<std::string> {
    if (x % 5) return std::nullopt;
    return "buzz";
  });
  auto join = flow.fan_in("join", [](std::optional<std::string> f, std::optional<std::string> b) {
    return f.value_or("") + b.value_or("");
  });
  auto sink = flow.node("collect", [&got](std::string s) { got.push_back(s); }, {.ordered = true});
  src >> fan_out(fizz, buzz) >> join >> sink;

  const RunReport report = flow.run({.batch_size = 5});

  // Items that reached no branch at all (1, 2, 4, 7, 8, 11) are not the join's to see.
  EXPECT_EQ(got, (std::vector<std::string>{"fizzbuzz", "fizz", "buzz", "fizz", "fizz", "buzz"}));
  EXPECT_EQ(report.node("join").out, 6u);
}

TEST(FanIn, JoinsThreeBranchesIntoASink) {
  Flow flow("three");
  long total = 0;
  auto src = flow.source("numbers", std::views::iota(1, 101));
  auto a = flow.node("a", [](int x) { return x; });
  auto b = flow.node("b", [](int x) { return 10L * x; });
  auto c = flow.node("c", [](int x) { return 100.0 * x; });
  auto join = flow.fan_in("join", [&total](int x, long y, double z) {
    EXPECT_EQ(y, 10L * x);
    EXPECT_DOUBLE_EQ(z, 100.0 * x);
    total += x;
  });
  src >> fan_out(a, b, c) >> join;
  const RunReport report = flow.run({.threads = 2, .batch_size = 8, .profile = true});
  EXPECT_EQ(total, 5050);
  EXPECT_EQ(report.node("join").out, 100u);
  // A fan-in into nothing is a sink: serial unless told otherwise, so `total` needs no lock.
  EXPECT_EQ(report.profile->node("join").concurrency_limit, serial);
}

TEST(FanIn, RerunAfterAFailedRunStartsClean) {
  Flow flow("rerun_join");
  std::atomic<bool> fail{true};
  std::atomic<int> joined{0};
  auto src = flow.source("numbers", std::views::iota(0, 2000));
  auto slow = flow.node("slow", [&fail](int x) {
    if (fail && x == 1234) throw std::runtime_error("boom");
    return x;
  });
  auto fast = flow.node("fast", [](int x) { return x; });
  auto join = flow.fan_in("join", [&joined](int a, int b) {
    EXPECT_EQ(a, b);
    ++joined;
  });
  src >> fan_out(slow, fast) >> join;
  EXPECT_THROW(flow.run({.batch_size = 10}), NodeError);
  fail = false;
  joined = 0;
  flow.run({.batch_size = 10});
  EXPECT_EQ(joined, 2000);
}

}  // namespace
}  // namespace aetherflow

namespace aetherflow {
namespace {

// Many runs, each failing at a random node and item while batches are in flight everywhere:
// no run may hang, and a clean run afterwards must see every item exactly once.
TEST(FanInStress, RandomFailuresNeverHangAndRerunsStayExact) {
  Flow flow("random_failures");
  std::atomic<int> fail_node{-1};
  std::atomic<int> fail_item{-1};
  std::atomic<long> joined{0};
  constexpr int kItems = 20000;
  auto maybe_fail = [&](int node, int x) {
    if (fail_node == node && fail_item == x) throw std::runtime_error("injected");
  };
  auto src = flow.source("numbers", std::views::iota(0, kItems));
  auto left = flow.node("left", [&](int x) {
    maybe_fail(0, x);
    return x;
  });
  auto right = flow.node("right", [&](int x) -> std::optional<long> {
    maybe_fail(1, x);
    return long{x};
  });
  auto join = flow.fan_in("join", [&](int a, long b) {
    maybe_fail(2, a);
    EXPECT_EQ(a, b);
    return a;
  });
  auto sink = flow.node("sink", [&](int x) {
    maybe_fail(3, x);
    joined += 1;
  });
  src >> fan_out(left, right) >> join >> sink;

  std::mt19937 random(7);
  const char* names[] = {"left", "right", "join", "sink"};
  for (int round = 0; round < 40; ++round) {
    fail_node = static_cast<int>(random() % 4);
    fail_item = static_cast<int>(random() % kItems);
    try {
      flow.run({.threads = 4, .batch_size = 1 + random() % 64});
      ADD_FAILURE() << "round " << round << " did not fail";
    } catch (const NodeError& e) {
      // The failed node and item exactly, and every item counted, whichever node failed.
      EXPECT_EQ(e.node(), names[fail_node]);
      EXPECT_EQ(e.item(), static_cast<std::uint64_t>(fail_item.load()));
      EXPECT_EQ(e.report().node(names[fail_node]).failed, 1u);
      testing::expect_balanced(e.report());
      EXPECT_EQ(e.report().node("join").out, e.report().node("sink").in);
    }
  }
  fail_node = -1;
  joined = 0;
  const RunReport report = flow.run({.threads = 4, .batch_size = 37});
  EXPECT_EQ(joined, kItems);
  EXPECT_EQ(report.node("join").out, static_cast<std::uint64_t>(kItems));
}

}  // namespace
}  // namespace aetherflow
