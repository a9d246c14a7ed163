// Adaptive concurrency: the rule converges on a simulated slow resource, and a run holds a node
// to the limit the rule sets.
#include <flow/aetherflow.hpp>
#include <flow/detail/adaptive_limit.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using detail::AdaptiveLimit;

// A service that serves `capacity` callers at full speed: beyond that, callers queue (time per
// item grows with the callers), and beyond `breaks_above` some calls fail.
struct SimulatedResource {
  std::size_t capacity;
  std::size_t breaks_above;
  std::chrono::nanoseconds per_item{1'000'000};

  std::chrono::nanoseconds time_per_item(std::size_t callers) const {
    if (callers <= capacity) return per_item;
    return per_item * static_cast<long>(callers) / static_cast<long>(capacity);
  }
  std::uint64_t failures(std::size_t callers, std::uint64_t items) const {
    return callers > breaks_above ? items * 3 / 10 : 0;
  }
};

// Drives the rule with `calls` calls of 10 items, each made at the limit of the moment, and
// returns the limit after each call.
std::vector<std::size_t> drive(AdaptiveLimit& rule, const SimulatedResource& resource,
                               std::size_t calls) {
  std::vector<std::size_t> limits;
  for (std::size_t i = 0; i < calls; ++i) {
    const std::size_t callers = rule.limit();
    rule.call_done(10, resource.failures(callers, 10), 10 * resource.time_per_item(callers));
    limits.push_back(rule.limit());
  }
  return limits;
}

TEST(Adaptive, ClimbsFromOneAndSettlesJustBelowWhereErrorsStart) {
  // Full speed up to 6 callers, failures above 8: the rule must find and keep 7 to 9.
  const SimulatedResource resource{.capacity = 6, .breaks_above = 8};
  AdaptiveLimit rule({.min = 1, .max = 64, .window = 8});
  const auto limits = drive(rule, resource, 4000);
  EXPECT_EQ(limits.front(), 1u);
  const auto settled = std::vector<std::size_t>(limits.begin() + 400, limits.end());
  EXPECT_GE(*std::min_element(settled.begin(), settled.end()), 7u);  // 9 x 0.8, rounded down
  EXPECT_LE(*std::max_element(settled.begin(), settled.end()), 9u);  // 9 is tried, then cut
  EXPECT_EQ(*std::max_element(limits.begin(), limits.end()), 9u);
}

TEST(Adaptive, BacksOffWhenLatencyGrowsWithoutErrors) {
  // Never fails, but beyond 4 callers each waits its turn: with a tolerance of 1.5 the limit
  // rises to 6 (time per item 1.5x the best), tries 7 (1.75x) and falls back.
  const SimulatedResource resource{.capacity = 4, .breaks_above = 1000};
  AdaptiveLimit rule({.min = 1, .max = 64, .window = 8, .latency_tolerance = 1.5});
  const auto limits = drive(rule, resource, 4000);
  const auto settled = std::vector<std::size_t>(limits.begin() + 400, limits.end());
  EXPECT_GE(*std::min_element(settled.begin(), settled.end()), 6u);
  EXPECT_LE(*std::max_element(settled.begin(), settled.end()), 7u);
}

TEST(Adaptive, StaysInsideTheRange) {
  const SimulatedResource healthy{.capacity = 1000, .breaks_above = 1000};
  AdaptiveLimit up({.min = 2, .max = 5, .window = 4});
  EXPECT_EQ(drive(up, healthy, 200).back(), 5u);  // flat latency, no errors: up to max

  const SimulatedResource broken{.capacity = 1, .breaks_above = 0};
  AdaptiveLimit down({.min = 2, .max = 5, .initial = 5, .window = 4});
  const auto limits = drive(down, broken, 200);
  EXPECT_EQ(limits.back(), 2u);  // errors at any limit: down to min, not below
  EXPECT_EQ(*std::min_element(limits.begin(), limits.end()), 2u);
}

// Slots: a call's end releases its own slot, plus one when the limit rose; after a decrease
// the calls still running pay back the slots above the new limit.
TEST(Adaptive, SlotsReleasedFollowTheLimit) {
  AdaptiveLimit rule({.min = 1, .max = 8, .initial = 4, .window = 1});
  EXPECT_EQ(rule.call_done(10, 0, 10ms), 2u);  // first window: up to 5, one more slot
  EXPECT_EQ(rule.limit(), 5u);
  EXPECT_EQ(rule.call_done(10, 10, 10ms), 0u);  // all failed: 5 x 0.8 = 4, its slot withheld
  EXPECT_EQ(rule.limit(), 4u);
  EXPECT_EQ(rule.call_done(10, 10, 10ms), 0u);  // 4 x 0.8 = 3: withheld again
  EXPECT_EQ(rule.call_done(10, 0, 10ms), 2u);   // healthy: up to 4
  EXPECT_EQ(rule.changes(), 4u);
}

// Every item fails, so the limit falls from 4 to 1 within a few windows; from then on the
// executor lets one call in at a time, though two threads could run two. Counted, not timed: each
// call notes how many calls were inside the node when it began.
TEST(Adaptive, ARunHoldsTheNodeToTheLimit) {
  std::mutex mutex;
  std::vector<int> inside_at_start;
  std::atomic<int> inside{0};
  Flow flow("adaptive");
  auto src = flow.source("n", std::vector<int>(300, 1));
  auto call =
      flow.node("call",
                [&](int) -> int {
                  const int now = ++inside;
                  {
                    std::lock_guard lock(mutex);
                    inside_at_start.push_back(now);
                  }
                  std::this_thread::sleep_for(200us);
                  --inside;
                  throw std::runtime_error("service unavailable");
                },
                {.on_error = OnError::skip,
                 .adaptive = AdaptiveConcurrency{.min = 1, .max = 4, .initial = 4, .window = 2}});
  src >> call >> flow.node("sink", discard<int>());
  const RunReport r = flow.run({.threads = 2, .batch_size = 1});
  ASSERT_EQ(inside_at_start.size(), 300u);
  // Three windows take the limit to 1; the calls admitted before then are long done by the
  // 50th call.
  EXPECT_TRUE(std::all_of(inside_at_start.begin() + 50, inside_at_start.end(),
                          [](int n) { return n == 1; }));
  ASSERT_TRUE(r.node("call").adaptive);
  EXPECT_EQ(r.node("call").adaptive->limit, 1u);
  EXPECT_EQ(r.node("call").adaptive->changes, 3u);
  EXPECT_EQ(r.node("call").skipped, 300u);
  EXPECT_FALSE(r.node("sink").adaptive);
}

TEST(Adaptive, MisuseIsAFlowErrorNamingTheNode) {
  Flow flow("misuse");
  auto src = flow.source("n", std::vector<int>{1, 2, 3});
  auto both = flow.node("both", [](int x) { return x; },
                        {.concurrency = 2, .adaptive = AdaptiveConcurrency{}});
  auto inverted = flow.node("inverted", [](int x) { return x; },
                            {.adaptive = AdaptiveConcurrency{.min = 5, .max = 2}});
  auto ordered =
      flow.node("ordered", [](int) {}, {.ordered = true, .adaptive = AdaptiveConcurrency{}});
  src >> both >> inverted >> ordered;
  try {
    flow.validate();
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'both' sets both concurrency and adaptive"), std::string::npos) << what;
    EXPECT_NE(what.find("'inverted': an adaptive range needs 1 <= min <= max (here 5 to 2)"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("'ordered' (sink, ordered) cannot adapt its concurrency"),
              std::string::npos)
        << what;
  }
}

}  // namespace
}  // namespace aetherflow
