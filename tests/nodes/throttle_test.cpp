// throttle: the schedule of slots, on a simulated clock (no test waits for real time), and the
// node in a flow.
#include <flow/aetherflow.hpp>

#include <chrono>
#include <ranges>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using Clock = RateSchedule::Clock;

// A clock that moves only when someone sleeps.
struct SimulatedClock {
  Clock::time_point t{};
  RateSchedule schedule(double per_second, std::size_t burst) {
    return RateSchedule(
        per_second, burst, [this] { return t; },
        [this](Clock::time_point until) { t = std::max(t, until); });
  }
  // When each of n items passes, relative to the start.
  std::vector<Clock::duration> pass(RateSchedule& s, int n) {
    std::vector<Clock::duration> at;
    const Clock::time_point start = t;
    for (int i = 0; i < n; ++i) {
      s.acquire();
      at.push_back(t - start);
    }
    return at;
  }
};

TEST(Throttle, ItemsPassAtTheRateAfterABurstOfUnusedCapacity) {
  SimulatedClock clock;
  clock.t += 1h;  // long idle: a full burst is available
  RateSchedule s = clock.schedule(100.0, 3);
  const std::vector<Clock::duration> expected{0ms, 0ms, 0ms, 10ms, 20ms, 30ms, 40ms};
  EXPECT_EQ(clock.pass(s, 7), expected);
  clock.t += 15ms;  // a short pause earns one and a half slots: one item passes at once
  const std::vector<Clock::duration> after_pause{0ms, 5ms, 15ms};
  EXPECT_EQ(clock.pass(s, 3), after_pause);
}

TEST(Throttle, ABurstOfOneSpacesEveryItem) {
  SimulatedClock clock;
  clock.t += 1h;
  RateSchedule s = clock.schedule(4.0, 1);
  const std::vector<Clock::duration> expected{0ms, 250ms, 500ms, 750ms};
  EXPECT_EQ(clock.pass(s, 4), expected);
}

TEST(Throttle, RejectsANonPositiveRate) {
  EXPECT_THROW(RateSchedule(0.0, 1), std::invalid_argument);
  EXPECT_THROW(RateSchedule(10.0, 0), std::invalid_argument);
}

TEST(Throttle, PassesEveryItemUnchangedInAFlow) {
  std::vector<int> out;
  Flow flow("throttled");
  flow.source("n", std::views::iota(0, 2000)) >> flow.node("limit", throttle<int>(1e6, 100)) >>
      flow.node("keep", collect(out), {.ordered = true});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64});
  ASSERT_EQ(out.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(r.node("limit").out, 2000u);
}

}  // namespace
}  // namespace aetherflow
