// Error policies of one-input nodes: skip, retry (with delays that leave the worker working),
// dead letters; every item accounted for, exceptions of any type.
#include <flow/aetherflow.hpp>
#include <flow/testing/node_runner.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"
#include "../support/platform.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::expect_balanced;
using testing::expect_chain_delivers;
using testing::run_node;

constexpr int kItems = 1000;

TEST(ErrorPolicy, SkipDropsTheFailedItemsAndCountsThem) {
  const auto r =
      run_node("parse",
               [](int x) {
                 if (x % 7 == 0) throw std::runtime_error("not a number");
                 return x;
               },
               std::views::iota(0, kItems),
               {.node = {.on_error = OnError::skip}, .run = {.threads = 2, .batch_size = 16}});
  const int failing = (kItems + 6) / 7;
  EXPECT_EQ(r.outputs.size(), static_cast<std::size_t>(kItems - failing));
  for (int x : r.outputs) EXPECT_NE(x % 7, 0);
  EXPECT_EQ(r.report.failed, static_cast<std::uint64_t>(failing));
  EXPECT_EQ(r.report.skipped, static_cast<std::uint64_t>(failing));
  EXPECT_FALSE(r.run.cancelled);
  EXPECT_TRUE(r.run.stop_reason.empty());
  expect_balanced(r.run);
  expect_chain_delivers(r.run);
}

TEST(ErrorPolicy, RetryGetsItemsThroughTransientFailures) {
  auto attempts = std::make_shared<std::vector<std::atomic<int>>>(kItems);
  std::int64_t sum = 0;
  Flow flow("retries");
  auto src = flow.source("numbers", std::views::iota(0, kItems));
  auto flaky = flow.node("flaky",
                         [attempts](int x) {
                           // Every tenth item fails on its first two attempts.
                           if (x % 10 == 0 && ++(*attempts)[static_cast<std::size_t>(x)] <= 2)
                             throw std::runtime_error("timeout");
                           return x;
                         },
                         {.retry = Retry{.retries = 3, .delay = 0ms}});
  auto sink = flow.node("sink", [&sum](int x) { sum += x; });
  src >> flaky >> sink;
  const RunReport r = flow.run({.threads = 2, .batch_size = 16});
  EXPECT_EQ(sum, std::int64_t{kItems} * (kItems - 1) / 2);
  EXPECT_EQ(r.node("flaky").retries, 2u * kItems / 10);
  EXPECT_EQ(r.node("flaky").failed, 0u);
  expect_balanced(r);
}

TEST(ErrorPolicy, RetryGivesUpAfterItsRetriesAndTheItemFails) {
  std::atomic<int> calls{0};
  try {
    run_node("broken",
             [&calls](int x) {
               if (x == 5) {
                 ++calls;
                 throw std::runtime_error("still down");
               }
               return x;
             },
             std::views::iota(0, 20),
             {.node = {.retry = Retry{.retries = 2, .delay = 1ms}},
              .run = {.threads = 2, .batch_size = 4}});
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "broken");
    EXPECT_EQ(e.item(), 5u);
    EXPECT_EQ(calls.load(), 3);  // attempts = retries + 1
    EXPECT_EQ(e.report().node("broken").retries, 2u);
    EXPECT_EQ(e.report().node("broken").failed, 1u);
    expect_balanced(e.report());
  }
}

TEST(ErrorPolicy, OnlyRetryableExceptionsAreRetried) {
  std::atomic<int> logic_calls{0}, runtime_calls{0};
  Flow flow("retryable");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto node = flow.node(
      "picky",
      [&](int x) {
        if (x == 3) {
          ++logic_calls;
          throw std::logic_error("a bug: retrying will not help");
        }
        if (x == 4 && ++runtime_calls == 1) throw std::runtime_error("busy");
        return x;
      },
      {.on_error = OnError::skip,
       .retry = Retry{.retries = 5, .delay = 0ms, .retryable = retry_on<std::runtime_error>()}});
  auto sink = flow.node("sink", [](int) {});
  src >> node >> sink;
  const RunReport r = flow.run({.threads = 1, .batch_size = 4});
  EXPECT_EQ(logic_calls.load(), 1);
  EXPECT_EQ(runtime_calls.load(), 2);
  EXPECT_EQ(r.node("picky").retries, 1u);
  EXPECT_EQ(r.node("picky").skipped, 1u);
  EXPECT_EQ(r.node("sink").out, 9u);
}

TEST(ErrorPolicy, RetryDelaysBackOffUpToTheirLimit) {
  const Retry retry{.retries = 10, .delay = 10ms, .backoff = 3.0, .max_delay = 500ms};
  EXPECT_EQ(retry.delay_before(1), 10ms);
  EXPECT_EQ(retry.delay_before(2), 30ms);
  EXPECT_EQ(retry.delay_before(3), 90ms);
  EXPECT_EQ(retry.delay_before(4), 270ms);
  EXPECT_EQ(retry.delay_before(5), 500ms);
  EXPECT_EQ(retry.delay_before(60), 500ms);
}

TEST(ErrorPolicy, DeadLettersCarryTheItemTheNodeTheErrorAndTheAttempts) {
  auto r = run_node(
      "parse", [](const std::string& s) { return std::stoi(s); }, {"1", "2", "x", "4", "y"},
      {.node = {.on_error = OnError::dead_letter, .retry = Retry{.retries = 1, .delay = 0ms}},
       .run = {.threads = 1, .batch_size = 2}});
  // Dead letters arrive in any order: a retry suspends its batch while later ones go on.
  std::vector<DeadLetter<std::string>>& dead = r.dead_letters;
  std::sort(dead.begin(), dead.end(), [](auto& a, auto& b) { return a.item < b.item; });
  EXPECT_EQ(r.outputs, (std::vector<int>{1, 2, 4}));
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].item, "x");
  EXPECT_EQ(dead[1].item, "y");
  EXPECT_EQ(dead[0].node, "parse");
  EXPECT_NE(dead[0].error.find("std::invalid_argument"), std::string::npos) << dead[0].error;
  EXPECT_EQ(dead[0].attempts, 2u);
  EXPECT_EQ(r.report.dead_lettered, 2u);
  EXPECT_EQ(r.run.node("dead letters of parse").out, 2u);
  expect_balanced(r.run);
}

TEST(ErrorPolicy, ASinkSendsDeadLettersToo) {
  const auto r = run_node(
      "store",
      [](int x) {
        if (x % 10 == 9) throw std::runtime_error("disk full");
      },
      std::views::iota(0, 50),
      {.node = {.on_error = OnError::dead_letter}, .run = {.threads = 2, .batch_size = 8}});
  std::vector<int> dead;
  for (const DeadLetter<int>& d : r.dead_letters) dead.push_back(d.item);
  std::sort(dead.begin(), dead.end());
  EXPECT_EQ(dead, (std::vector<int>{9, 19, 29, 39, 49}));
  EXPECT_EQ(r.report.out, 45u);
  expect_balanced(r.run);
}

TEST(ErrorPolicy, AFailedOneToManyCallEmitsNothing) {
  auto attempts = std::make_shared<std::vector<std::atomic<int>>>(100);
  std::vector<int> got;
  Flow flow("expand_retry");
  auto src = flow.source("numbers", std::views::iota(0, 100));
  auto triple = flow.node("triple",
                          [attempts](int x, Emitter<int>& emit) {
                            emit(x);
                            emit(x);
                            if (++(*attempts)[static_cast<std::size_t>(x)] == 1)
                              throw std::runtime_error("half done");
                            emit(x);
                          },
                          {.retry = Retry{.retries = 1, .delay = 0ms}});
  auto sink = flow.node("sink", [&got](int x) { got.push_back(x); });
  src >> triple >> sink;
  const RunReport r = flow.run({.threads = 2, .batch_size = 10});
  EXPECT_EQ(got.size(), 300u);
  EXPECT_EQ(std::accumulate(got.begin(), got.end(), 0), 3 * 99 * 100 / 2);
  EXPECT_EQ(r.node("triple").retries, 100u);
}

TEST(ErrorPolicy, ExceptionsOfAnyTypeAreHandled) {
  Flow flow("throws_int");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto odd = flow.node("odd",
                       [](int x) {
                         if (x == 2) throw 42;
                         return x;
                       },
                       {.on_error = OnError::skip});
  auto strict = flow.node("strict", [](int x) {
    if (x == 7) throw 7.5;
  });
  src >> odd >> strict;
  try {
    flow.run({.threads = 1});
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "strict");
    EXPECT_NE(std::string(e.what()).find("exception of type double"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.report().node("odd").skipped, 1u);
    try {
      std::rethrow_if_nested(e);
      FAIL() << "the original exception is nested";
    } catch (double d) {
      EXPECT_EQ(d, 7.5);
    }
  }
}

TEST(ErrorPolicy, ARetryDelayLeavesTheWorkerToOtherWork) {
  if (testing::kAddressSanitizer || testing::kThreadSanitizer)
    GTEST_SKIP() << "sanitized build: retry delays block their worker (docs/errors.md)";
  // One thread. Item 0 fails once and waits an hour to retry; the sink cancels the run once
  // it has every item outside item 0's batch. Had the wait held the only worker, nothing more
  // would have reached the sink for an hour.
  constexpr int kBatch = 4, kCount = 400;
  std::stop_source stop;
  std::atomic<int> sunk{0};
  Flow flow("patient");
  auto src = flow.source("numbers", std::views::iota(0, kCount));
  auto flaky = flow.node("flaky",
                         [first = std::make_shared<std::atomic<bool>>(true)](int x) {
                           if (x == 0 && first->exchange(false))
                             throw std::runtime_error("try later");
                           return x;
                         },
                         {.retry = Retry{.retries = 1, .delay = 1h, .max_delay = 1h}});
  auto sink = flow.node("sink", [&](int) {
    if (++sunk == kCount - kBatch) stop.request_stop();
  });
  src >> flaky >> sink;
  const RunReport r = flow.run({.threads = 1, .batch_size = kBatch, .stop = stop.get_token()});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(sunk.load(), kCount - kBatch);
  EXPECT_EQ(r.node("flaky").cancelled, static_cast<std::uint64_t>(kBatch));  // item 0's batch
  expect_balanced(r);
  expect_chain_delivers(r);
}

TEST(ErrorPolicy, PoliciesAreCheckedWithTheFlow) {
  Flow flow("misdeclared");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto a = flow.node("a", [](int x) { return x; });
  auto b = flow.node("b", [](int x) { return x; }, {.on_error = OnError::dead_letter});
  auto join = flow.fan_in("join", [](int x, int y) { return x + y; }, {.on_error = OnError::skip});
  auto sink = flow.node("sink", [](int) {});
  auto failed = flow.node("failed", [](const DeadLetter<int>&) {});
  src >> fan_out(a, b) >> join >> sink;
  a.dead_letters() >> failed;
  try {
    flow.validate();
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the dead letters of 'a' are connected, but its on_error is not"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("dead letters of 'b' (aetherflow::DeadLetter<int>) goes nowhere"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("'join' (fan_in) sets on_error or retry"), std::string::npos) << what;
  }
}

// Found with the rest of the flow's problems, in its one FlowError.
TEST(ErrorPolicy, KeepingItemsForRetryNeedsACopyableType) {
  Flow flow("move_only");
  flow.node("take", [](std::unique_ptr<int> p) { return *p; }, {.retry = Retry{}}).discard();
  try {
    flow.validate();
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("node 'take': retry and dead_letter keep each item until its call "
                        "succeeds, which takes a copy, but std::unique_ptr<int"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("the flow has no source"), std::string::npos) << what;  // and the rest
  }
}

}  // namespace
}  // namespace aetherflow
