// RunOptions::drain: the sources stop as if their input ended, what they emitted is processed
// and what nodes hold is flushed, and the last checkpoint commits all of it, so that a resume
// reads on from there: together, every item exactly once (checkpoints refuse nodes that hold
// items, so the flush has a test of its own). A stop after the drain still
// cancels at once. (Signals drain through the same path: tests/signals/.)

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <tests/support/temp_file.hpp>

namespace aetherflow {
namespace {

constexpr int kItems = 200'000;

// numbers -> watch (drains once it has seen `drain_at` items, if set) -> keep, checkpointed.
struct Drained {
  std::vector<int> kept;
  RunReport report;
};
Drained run_numbers(const std::string& checkpoint, std::optional<int> drain_at) {
  Drained d;
  std::stop_source drain;
  Flow flow("drained");
  flow.source("numbers", std::views::iota(0, kItems)) >>
      flow.node("watch",
                [&, seen = 0](int x) mutable {
                  if (drain_at && ++seen == *drain_at) drain.request_stop();
                  return x;
                },
                {.concurrency = serial}) >>
      flow.node("keep", [&](int x) { d.kept.push_back(x); }, {.concurrency = serial});
  d.report = flow.run({.threads = 2,
                       .batch_size = 64,
                       .drain = drain.get_token(),
                       .checkpoint = {.path = checkpoint, .interval = std::chrono::hours(1)}});
  return d;
}

std::vector<int> range(int begin, int end) {
  std::vector<int> v(static_cast<std::size_t>(end - begin));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

TEST(Drain, ProcessesWhatTheSourcesEmittedAndTheResumeReadsOnExactlyOnce) {
  testing::TempFile checkpoint;
  Drained first = run_numbers(checkpoint.path(), 10'000);
  const RunReport& r = first.report;
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.stop_reason, "drain requested");
  const std::uint64_t emitted = r.node("numbers").out;
  EXPECT_GE(emitted, 10'000u);
  EXPECT_LT(emitted, static_cast<std::uint64_t>(kItems)) << "the source stopped early";
  for (const NodeReport& n : r.nodes) EXPECT_EQ(n.cancelled, 0u) << n.name;
  // Every item emitted reached the sink.
  std::sort(first.kept.begin(), first.kept.end());
  EXPECT_EQ(first.kept, range(0, static_cast<int>(emitted)));
  ASSERT_TRUE(r.checkpoint);
  ASSERT_EQ(r.checkpoint->sources.size(), 1u);
  EXPECT_EQ(r.checkpoint->sources[0].committed.items, emitted);
  EXPECT_FALSE(r.checkpoint->sources[0].finished) << "a resume reads on";

  Drained second = run_numbers(checkpoint.path(), std::nullopt);
  EXPECT_TRUE(second.report.stop_reason.empty());
  std::sort(second.kept.begin(), second.kept.end());
  EXPECT_EQ(second.kept, range(static_cast<int>(emitted), kItems));
}

TEST(Drain, FlushesWhatNodesHoldAsAtTheEndOfTheInput) {
  std::stop_source drain;
  std::vector<std::size_t> groups;
  Flow flow("drained_groups");
  flow.source("numbers", std::views::iota(0, kItems)) >> flow.node("watch",
                                                                   [&, seen = 0](int x) mutable {
                                                                     if (++seen == 1050)
                                                                       drain.request_stop();
                                                                     return x;
                                                                   },
                                                                   {.concurrency = serial}) >>
      flow.node("group", batch<int>(100)) >>
      flow.node("keep", [&](const std::vector<int>& g) { groups.push_back(g.size()); },
                {.concurrency = serial});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64, .drain = drain.get_token()});
  EXPECT_FALSE(r.cancelled);
  const std::uint64_t emitted = r.node("numbers").out;
  EXPECT_EQ(std::accumulate(groups.begin(), groups.end(), std::uint64_t{0}), emitted)
      << "the last partial group was flushed";
  EXPECT_EQ(r.node("group").out, (emitted + 99) / 100);
}

TEST(Drain, ASourceFailingAfterTheDrainFailsTheRunWithItsReason) {
  std::stop_source drain;
  Flow flow("drain_then_fail");
  flow.source("gen",
              [&, i = 0]() mutable -> std::optional<int> {
                if (i == 100) {
                  drain.request_stop();
                  throw std::runtime_error("device lost");
                }
                return i++;
              }) >>
      flow.node("sink", [](int) {});
  try {
    flow.run({.threads = 2, .batch_size = 1, .drain = drain.get_token()});
    FAIL() << "the source's failure should fail the run";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "gen");
    EXPECT_EQ(e.report().stop_reason, "node 'gen' failed") << "a failure replaces a drain";
    EXPECT_EQ(e.report().node("sink").in, 100u);
  }
}

TEST(Drain, AStopAfterTheDrainStillCancels) {
  std::stop_source drain, stop;
  Flow flow("drain_then_stop");
  flow.source("numbers", std::views::iota(0, kItems)) >> flow.node("watch",
                                                                   [&, seen = 0](int x) mutable {
                                                                     if (++seen == 1000) {
                                                                       drain.request_stop();
                                                                       stop.request_stop();
                                                                     }
                                                                     return x;
                                                                   },
                                                                   {.concurrency = serial}) >>
      flow.node("sink", [](int) {});
  const RunReport r = flow.run(
      {.threads = 2, .batch_size = 64, .stop = stop.get_token(), .drain = drain.get_token()});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.stop_reason, "stop requested");
  EXPECT_EQ(r.node("watch").in, r.node("numbers").out) << "every item accounted for";
}

}  // namespace
}  // namespace aetherflow
