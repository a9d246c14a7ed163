// The job profile of a cluster run, from every rank's (flow/detail/profile_merge.hpp).

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <flow/detail/profile_merge.hpp>
#include <flow/profile.hpp>

namespace aetherflow::detail {
namespace {

Profile rank_profile(std::uint64_t items, std::uint64_t busy, std::uint64_t p99,
                     std::uint64_t wall) {
  Profile p;
  p.flow = fmt::format("{}", "ranked");
  p.wall_ns = wall;
  p.threads = 2;
  p.items = items;
  for (const bool source : {true, false}) {
    NodeProfile n;
    n.name.assign(source ? "source" : "work");
    n.kind.assign(source ? "source" : "transform");
    n.calls = items / 10;
    n.items_in = source ? 0 : items;
    n.items_out = items;
    n.busy_ns = source ? busy / 10 : busy;
    n.call_latency = {n.calls, 100, 90, 95, p99, p99, p99};
    n.call_buckets = {{1e-6, 1}, {1e-3, n.calls}};
    n.counters = {{"hits", items / 2}};
    p.nodes.push_back(n);
  }
  p.thread_profiles = {{0, busy / 2, 0}, {1, busy / 2, 0}};
  p.trace = {{1, 1, 0, 50, 10, 0}};
  return p;
}

TEST(ProfileMerge, SumsCountsAndHistogramsKeepsTheWorstLatencyAndEachRanksThreads) {
  const Profile job = merge_profiles({rank_profile(1000, 4'000'000, 900, 10'000'000),
                                      rank_profile(3000, 12'000'000, 500, 20'000'000)});
  EXPECT_EQ(job.items, 4000u);
  EXPECT_EQ(job.threads, 4u);
  EXPECT_EQ(job.wall_ns, 20'000'000u) << "the longest rank";
  EXPECT_DOUBLE_EQ(job.items_per_second, 4000 / 0.02);
  const NodeProfile& work = job.node("work");
  EXPECT_EQ(work.items_in, 4000u);
  EXPECT_EQ(work.calls, 400u);
  EXPECT_EQ(work.busy_ns, 16'000'000u);
  EXPECT_EQ(work.per_item_ns, 4000u);
  EXPECT_EQ(work.call_latency.count, 400u);
  EXPECT_EQ(work.call_latency.p99_ns, 900u) << "the worst rank's";
  ASSERT_EQ(work.call_buckets.size(), 2u);
  EXPECT_EQ(work.call_buckets[1].second, 400u) << "histograms add up";
  EXPECT_EQ(work.counters.at(0).value, 2000u);
  EXPECT_NEAR(work.busy_share, 16.0 / 17.6, 1e-9);
  EXPECT_EQ(job.hot_spot, "work");
  ASSERT_EQ(job.thread_profiles.size(), 4u);
  EXPECT_EQ(job.thread_profiles[3].index, kThreadsPerRank + 1);
  ASSERT_EQ(job.trace.size(), 2u);
  EXPECT_EQ(job.trace[1].thread, kThreadsPerRank + 1);
}

TEST(ProfileMerge, TheChromeTraceHasAProcessPerRank) {
  const std::string trace = to_chrome_trace(
      merge_profiles({rank_profile(10, 100, 1, 1000), rank_profile(10, 100, 1, 1000)}));
  EXPECT_NE(trace.find("\"name\":\"process_name\",\"ph\":\"M\",\"pid\":2"), std::string::npos)
      << trace;
  EXPECT_NE(trace.find("aetherflow flow ranked, rank 1"), std::string::npos);
  EXPECT_NE(trace.find("\"ph\":\"X\",\"pid\":2,\"tid\":1"), std::string::npos) << trace;
  const std::string alone = to_chrome_trace(rank_profile(10, 100, 1, 1000));
  EXPECT_EQ(alone.find("\"pid\":2"), std::string::npos) << "one process: pid 1 only";
}

}  // namespace
}  // namespace aetherflow::detail

namespace aetherflow::detail {
namespace {

TEST(ProfileMerge, TheAdviceNamesTheRankOfAHotShard) {
  Profile a = rank_profile(1000, 4'000'000, 900, 10'000'000);
  Profile b = rank_profile(1000, 4'000'000, 900, 10'000'000);
  for (Profile* p : {&a, &b}) p->nodes[1].kind.assign("keyed");
  a.nodes[1].shards = {{10, 100, 0}, {10, 100, 0}};
  b.nodes[1].shards = {{10, 5000, 0}, {10, 100, 0}};  // each rank numbers its own from 0
  const Profile job = merge_profiles({a, b});
  ASSERT_EQ(job.nodes[1].shards.size(), 4u);
  EXPECT_EQ(job.nodes[1].shards[2].rank, 1u);
  EXPECT_EQ(shard_label(job.nodes[1].shards, 2), "rank 1's shard 0");
  EXPECT_EQ(shard_label(a.nodes[1].shards, 1), "shard 1") << "one rank: no rank named";
  bool named = false;
  for (const auto& line : job.advice)
    named = named || line.find("rank 1's shard 0 of keyed node 'work'") != std::string::npos;
  EXPECT_TRUE(named) << fmt::format("{}", fmt::join(job.advice, "\n"));
}

}  // namespace
}  // namespace aetherflow::detail
