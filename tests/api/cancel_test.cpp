// Cancellation: from another thread with a stop token, and by a deadline. The run returns with
// a report saying so, every item is accounted for, and the same flow runs again.
#include <flow/aetherflow.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <ranges>
#include <stop_token>
#include <thread>

#include <gtest/gtest.h>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::expect_balanced;
using testing::expect_chain_delivers;

// An endless source through two nodes into a counting sink, which may request a stop itself.
struct EndlessFlow {
  std::atomic<std::uint64_t> sunk{0};
  std::uint64_t stop_after = 0;  // 0: never
  std::stop_source stop;
  Flow flow{"endless"};
  explicit EndlessFlow(std::optional<int> items = std::nullopt) {
    auto src = flow.source("numbers", [i = 0, items]() mutable -> std::optional<int> {
      if (items && i == *items) return std::nullopt;
      return i++;
    });
    auto square = flow.node("square", [](int x) { return (x % 1000) * (x % 1000); });
    auto even = flow.node("even", [](int x) -> std::optional<int> {
      if (x % 2) return std::nullopt;
      return x;
    });
    auto sink = flow.node("sink", [this](int) {
      if (++sunk == stop_after) stop.request_stop();
    });
    src >> square >> even >> sink;
  }
};

TEST(Cancel, AStopFromAnotherThreadEndsTheRunWithEveryItemAccountedFor) {
  EndlessFlow f;
  std::stop_source stop;
  std::jthread canceller([&] {
    while (f.sunk.load() < 10'000) std::this_thread::yield();
    stop.request_stop();
  });
  const RunReport r = f.flow.run({.threads = 2, .batch_size = 64, .stop = stop.get_token()});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.stop_reason, "stop requested");
  EXPECT_GE(r.node("sink").out, 10'000u);
  EXPECT_EQ(r.node("sink").out, f.sunk.load());
  expect_balanced(r);
  expect_chain_delivers(r);  // nothing vanished between nodes
}

TEST(Cancel, ADeadlineEndsAnEndlessRun) {
  EndlessFlow f;
  const RunReport r = f.flow.run({.threads = 2, .deadline = 50ms});
  EXPECT_TRUE(r.cancelled);
  EXPECT_NE(r.stop_reason.find("deadline of 50.00 ms passed"), std::string::npos) << r.stop_reason;
  EXPECT_GT(r.source_items(), 0u);
  expect_balanced(r);
  expect_chain_delivers(r);
}

TEST(Cancel, AStopRequestedBeforeTheRunStartsItNoFurther) {
  EndlessFlow f;
  std::stop_source stop;
  stop.request_stop();
  const RunReport r = f.flow.run({.threads = 2, .stop = stop.get_token()});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.node("sink").out, 0u);
  expect_balanced(r);
  expect_chain_delivers(r);
}

TEST(Cancel, TheSameFlowRunsAgainAfterACancelledRun) {
  EndlessFlow f(100'000);
  f.stop_after = 1'000;
  EXPECT_TRUE(f.flow.run({.threads = 2, .stop = f.stop.get_token()}).cancelled);
  f.sunk = 0;
  const RunReport r = f.flow.run({.threads = 2});
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.source_items(), 100'000u);
  EXPECT_EQ(f.sunk.load(), 50'000u);
  expect_balanced(r);
}

TEST(Cancel, ADeadlineThatIsNotReachedChangesNothing) {
  EndlessFlow f(10'000);
  const RunReport r = f.flow.run({.threads = 2, .deadline = 1h});
  EXPECT_FALSE(r.cancelled);
  EXPECT_TRUE(r.stop_reason.empty());
  EXPECT_EQ(f.sunk.load(), 5'000u);
}

}  // namespace
}  // namespace aetherflow
