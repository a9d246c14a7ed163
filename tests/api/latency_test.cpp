// The latency bound (RunOptions::max_batch_delay): a slow source's items leave without waiting
// for a full batch, the first batch of a run included; switched off, batches leave full again.
// Counted with a latch: the generator's next call waits until the sink has seen the item
// before it, which only a batch that left early lets happen.
#include <flow/aetherflow.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

// A generator of `items` items whose every call takes at least `work`, and whose call for
// item i first waits until the sink has items 0..i-1 (or until `patience` has passed): the
// waits end in time only if each item left its batch before the next call.
struct LockStep {
  explicit LockStep(int items = 1, std::chrono::microseconds work = {})
      : items(items), work(work) {}

  const int items;
  const std::chrono::microseconds work;
  std::mutex mutex;
  std::condition_variable seen;
  int sunk = 0;
  bool every_wait_ended_in_time = true;

  bool run(const RunOptions& options, std::chrono::milliseconds patience) {
    Flow flow("lock_step");
    flow.source("ticks",
                [this, patience, calls = 0]() mutable -> std::optional<int> {
                  const int i = calls++;
                  std::this_thread::sleep_for(work);
                  std::unique_lock lock(mutex);
                  if (!seen.wait_for(lock, patience, [&] { return sunk == i; }))
                    every_wait_ended_in_time = false;
                  if (i == items) return std::nullopt;
                  return i;
                }) >>
        flow.node("sink", [this](int) {
          const std::lock_guard lock(mutex);
          ++sunk;
          seen.notify_all();
        });
    RunOptions run = options;
    run.threads = 2;  // the sink needs a thread while the generator waits
    const RunReport report = flow.run(run);
    EXPECT_EQ(report.node("sink").in, static_cast<std::uint64_t>(items));
    return every_wait_ended_in_time;
  }
};

TEST(LatencyBound, ASourcesFirstItemLeavesWithoutWaitingForItsSecond) {
  // Made at once, so nothing says yet that the source is slow: the run's first item still
  // leaves alone, whether the run chooses the batch size (64 items before it measures) or
  // it is fixed.
  LockStep chosen_size;
  EXPECT_TRUE(chosen_size.run({}, 60s));
  LockStep fixed_size;
  EXPECT_TRUE(fixed_size.run({.batch_size = 1000}, 60s));
}

TEST(LatencyBound, EachItemOfASourceSlowerThanTheBoundLeavesAlone) {
  // 1 ms a call, ten times the default bound: no item waits for the next call.
  LockStep slow(5, 1ms);
  EXPECT_TRUE(slow.run({}, 60s));
}

TEST(LatencyBound, SwitchedOffTheBatchWaitsForItsItems) {
  // The item cannot reach the sink while its batch waits for the second call, which waits for
  // the sink: that wait always runs out.
  LockStep off;
  EXPECT_FALSE(off.run({.max_batch_delay = 0us}, 50ms));
}

TEST(LatencyBound, ItemsOfAFastSourceStillTravelInBatches) {
  // Cheap items fill their batch long before its first item has waited 100 us: far fewer
  // calls than items (a batch of 1000 takes a few microseconds to make).
  Flow flow("fast_source");
  flow.source("numbers",
              [i = 0]() mutable -> std::optional<int> {
                if (i == 100'000) return std::nullopt;
                return i++;
              }) >>
      flow.node("sink", [](int) {});
  const RunReport report = flow.run({.threads = 2, .batch_size = 1000, .profile = true});
  EXPECT_EQ(report.node("sink").in, 100'000u);
  EXPECT_LT(report.profile->node("sink").calls, 10'000u) << "batches of 10 items or fewer";
}

}  // namespace
}  // namespace aetherflow
