// Cluster runs on ranks inside one process (tests/support/local_cluster.hpp): the exchange
// of keyed items, top-k and gathered sinks, and failures told to every rank, under the
// sanitizers too. tests/mpi/ runs the same under mpirun with Open MPI.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <ranges>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <tests/support/local_cluster.hpp>
#include <tests/support/temp_file.hpp>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::LocalCluster;
using Pair = std::pair<std::uint64_t, std::uint64_t>;

// Counts of n numbers by key (many keys: the exchange fills and waits), and the 5 largest
// keys by count; on a cluster, gathered on rank 0.
struct Counted {
  std::vector<Pair> counts, best;
  RunReport report;
};
Counted count_numbers(std::uint64_t n, std::uint64_t keys, std::shared_ptr<Cluster> cluster) {
  Counted c;
  Flow flow("numbers");
  auto count = flow.node("count", count_by([keys](std::uint64_t x) { return x * 7919 % keys; }));
  auto top = flow.node("top", top_k<Pair>(5, [](const Pair& p) { return p.second; }));
  flow.source("numbers", std::views::iota(std::uint64_t{0}, n)) >> count >>
      fan_out(flow.node("keep", collect(c.counts), {.gathered = true}), top);
  top >> flow.node("best", collect(c.best), {.gathered = true});
  c.report =
      flow.run({.threads = 2, .batch_size = 512, .profile = true, .cluster = std::move(cluster)});
  std::sort(c.counts.begin(), c.counts.end());
  return c;
}

TEST(ClusterRun, KeyedCountsAndTopKOnFourRanksEqualOneProcess) {
  const Counted alone = count_numbers(400'000, 150'000, nullptr);
  LocalCluster cluster(4);
  std::vector<Counted> ranks(4);
  cluster.run_each(
      [&](std::size_t r) { ranks[r] = count_numbers(400'000, 150'000, cluster.rank(r)); });
  EXPECT_EQ(ranks[0].counts, alone.counts);
  EXPECT_EQ(ranks[0].best, alone.best);
  for (std::size_t r = 1; r < 4; ++r) {
    EXPECT_TRUE(ranks[r].counts.empty()) << "gathered on rank 0 only";
    EXPECT_EQ(ranks[r].report.rank, r);
  }
  const RunReport& job = ranks[0].report;
  EXPECT_EQ(job.ranks, 4u);
  EXPECT_EQ(job.per_rank.size(), 4u);
  const NodeReport& count = job.node("count");
  EXPECT_EQ(count.in, 400'000u);
  EXPECT_EQ(count.out, 150'000u);
  EXPECT_EQ(count.sent, count.received);
  EXPECT_GT(count.sent, 250'000u) << "about 3 items in 4 belong to another rank";
  EXPECT_EQ(count.cancelled + count.failed, 0u);
  ASSERT_FALSE(count.shards.empty());
  EXPECT_EQ(count.shards.front().rank, 0u);
  EXPECT_EQ(count.shards.back().rank, 3u) << "the job's shards are every rank's, in rank order";
  // The job's profile: every rank's calls, each rank a process of the trace.
  ASSERT_TRUE(job.profile);
  EXPECT_EQ(job.profile->node("count").items_in, 400'000u);
  EXPECT_EQ(job.profile->thread_profiles.size(), 8u);
  EXPECT_NE(to_chrome_trace(*job.profile).find("\"pid\":4"), std::string::npos);
  ASSERT_TRUE(job.per_rank[3].profile);
  EXPECT_LT(job.per_rank[3].profile->node("count").items_in, 400'000u);
  // Each rank's row balances with what it sent and received.
  for (const RunReport& r : job.per_rank) {
    const NodeReport& c = r.node("count");
    std::uint64_t aggregated = 0;
    for (const ShardLoad& s : c.shards) aggregated += s.items;
    EXPECT_EQ(c.in + c.received, aggregated + c.sent) << "rank " << r.rank;
  }
}

std::vector<std::string> lines(const std::string& path, std::shared_ptr<Cluster> cluster) {
  Flow flow("lines");
  std::vector<std::string> out;
  flow.source("read", read_lines(path, {.chunk_size = 16})) >>
      flow.node("copy", [](std::string_view l) { return std::string(l); }) >>
      flow.node("keep", collect(out), {.ordered = true, .gathered = true});
  flow.run({.batch_size = 2, .cluster = std::move(cluster)});
  return out;
}

TEST(ClusterRun, OrderedGatheredSinkGetsTheFileInOrderFromThreeRanks) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += std::string(static_cast<std::size_t>(i % 23), 'a' + i % 26) + "\n";
  const testing::TempFile file(text + "no newline at the end");
  const auto alone = lines(file.path(), nullptr);
  LocalCluster cluster(3);
  std::vector<std::vector<std::string>> got(3);
  cluster.run_each([&](std::size_t r) { got[r] = lines(file.path(), cluster.rank(r)); });
  EXPECT_EQ(got[0], alone);
  EXPECT_EQ(alone.size(), 201u);
}

TEST(ClusterRun, AFailureOnOneRankStopsEveryRankWithItsError) {
  LocalCluster cluster(3);
  std::vector<std::string> errors(3);
  std::vector<std::optional<std::size_t>> failed_on(3);
  cluster.run_each([&](std::size_t r) {
    Flow flow("failing");
    flow.source("numbers", std::views::iota(0, 2'000'000)) >>
        flow.node("check",
                  [r](int x) {
                    if (r == 2 && x % 500 == 499)
                      throw std::invalid_argument("bad " + std::to_string(x));
                    return x;
                  }) >>
        flow.node("count", count_by([](int x) { return x % 100; })) >>
        flow.node("drop", [](std::pair<int, std::uint64_t>) {});
    try {
      flow.run({.threads = 2, .batch_size = 100, .cluster = cluster.rank(r)});
    } catch (const NodeError& e) {
      errors[r] = e.what();
      failed_on[r] = e.rank();
    }
  });
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(failed_on[r], 2u) << "rank " << r << ": " << errors[r];
    EXPECT_NE(errors[r].find("rank 2: node 'check' failed on item"), std::string::npos)
        << errors[r];
    EXPECT_NE(errors[r].find("std::invalid_argument: bad"), std::string::npos) << errors[r];
  }
}

// A source failing on one rank: that rank drains what the source made (its items are not
// cancelled there) while the others stop at once, and every rank throws the source's error.
TEST(ClusterRun, ASourceFailingOnOneRankFailsEveryRankAndDrainsWhatItMade) {
  LocalCluster cluster(3);
  std::vector<std::string> errors(3);
  std::vector<std::uint64_t> items(3), sums(3), cancelled(3);
  cluster.run_each([&](std::size_t r) {
    Flow flow("failing_source");
    std::uint64_t sum = 0;
    flow.source("gen",
                [r, i = 0]() mutable -> std::optional<int> {
                  if (r == 1 && i == 5000) throw std::runtime_error("device lost");
                  return i++;
                },
                {.on_ranks = OnRanks::each_rank}) >>
        flow.node("add", [&sum](int x) { sum += static_cast<std::uint64_t>(x); });
    try {
      flow.run({.threads = 2, .batch_size = 64, .cluster = cluster.rank(r)});
    } catch (const NodeError& e) {
      errors[r] = e.what();
      items[r] = e.item();
      cancelled[r] = e.report().node("add").cancelled;
    }
    sums[r] = sum;
  });
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_NE(errors[r].find("rank 1: node 'gen' failed on item 5000"), std::string::npos)
        << "rank " << r << ": " << errors[r];
    EXPECT_EQ(items[r], 5000u);
  }
  EXPECT_EQ(cancelled[1], 0u);
  EXPECT_EQ(sums[1], 5000u * 4999u / 2) << "rank 1 processed every item its source made";
}

// A stop asked of one rank (its stop token) cancels every rank: without it, the others'
// endless sources would run until their deadline, which names another rank.
TEST(ClusterRun, AStopOnOneRankCancelsEveryRank) {
  LocalCluster cluster(3);
  std::vector<RunReport> reports(3);
  std::stop_source stop;
  cluster.run_each([&](std::size_t r) {
    Flow flow("endless");
    flow.source("gen", [i = 0]() mutable -> std::optional<int> { return i++ % 1000; },
                {.on_ranks = OnRanks::each_rank}) >>
        flow.node("seen",
                  [&stop, r, n = 0](int x) mutable {
                    if (r == 1 && ++n == 5000) stop.request_stop();
                    return x;
                  },
                  {.concurrency = serial}) >>
        flow.node("count", count_by([](int x) { return x % 100; })) >>
        flow.node("drop", [](std::pair<int, std::uint64_t>) {});
    RunOptions options{.threads = 2, .batch_size = 64, .cluster = cluster.rank(r)};
    if (r == 1) options.stop = stop.get_token();
    options.deadline = 60s;  // a bound on the test if the stop does not reach every rank
    reports[r] = flow.run(options);
  });
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(reports[r].cancelled) << "rank " << r;
    EXPECT_EQ(reports[r].stop_reason, "rank 1: stop requested") << "rank " << r;
    const RunReport& mine = r == 0 ? reports[0].per_rank[0] : reports[r];
    EXPECT_EQ(mine.node("seen").in, mine.node("gen").out) << "rank " << r;
  }
  EXPECT_GE(reports[0].per_rank[1].node("seen").in, 5000u);
  EXPECT_TRUE(reports[0].cancelled) << "the job's report";
}

// A stop told as a run ends may still be on its way when the next run starts: it is that
// run's, not the next one's, which runs whole.
TEST(ClusterRun, AStopLeftOnItsWayByOneRunDoesNotStopTheNext) {
  LocalCluster cluster(3);
  std::vector<RunReport> first(3), second(3);
  cluster.hold(true);
  cluster.run_each([&](std::size_t r) {
    std::stop_source stop;
    if (r == 1) stop.request_stop();  // told to the others, and held on its way
    Flow one("first");
    one.source("numbers", std::views::iota(0, 1000), {.on_ranks = OnRanks::each_rank}) >>
        one.node("sink", [](int) {});
    first[r] = one.run({.threads = 2, .stop = stop.get_token(), .cluster = cluster.rank(r)});
    Flow two("second");
    two.source("numbers", std::views::iota(0, 1000), {.on_ranks = OnRanks::each_rank}) >>
        two.node(
            "sink",
            [&cluster, r, n = 0](int) mutable {
              if (r == 0 && ++n == 1) {  // the second run is under way: let the stop arrive now
                cluster.hold(false);
                cluster.wait_delivered();
              }
            },
            {.concurrency = serial});
    second[r] = two.run({.threads = 2, .cluster = cluster.rank(r)});
  });
  EXPECT_TRUE(first[1].cancelled);
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_FALSE(second[r].cancelled) << "rank " << r << ": " << second[r].stop_reason;
    const RunReport& mine = r == 0 ? second[0].per_rank[0] : second[r];
    EXPECT_EQ(mine.node("sink").in, 1000u) << "rank " << r;
  }
}

TEST(ClusterRun, CheckpointsAreRefusedWithAGatheredSink) {
  LocalCluster cluster(2);
  std::vector<std::string> errors(2);
  const std::string checkpoint = testing::temp_path("gathered_checkpoint");
  cluster.run_each([&](std::size_t r) {
    Flow flow("checkpointed");
    std::vector<int> kept;
    flow.source("numbers", std::views::iota(0, 10)) >>
        flow.node("keep", collect(kept), {.gathered = true});
    try {
      flow.run({.checkpoint = {.path = checkpoint}, .cluster = cluster.rank(r)});
    } catch (const FlowError& e) {
      errors[r] = e.what();
    }
  });
  for (const auto& e : errors) EXPECT_NE(e.find("gathered sink 'keep'"), std::string::npos) << e;
}

// Each rank keeps a checkpoint file of its own: after a failure on one rank fails the job,
// the job run again resumes every rank from its own committed point, and the two runs
// deliver every line, those committed once (at-least-once after the commit).
TEST(ClusterRun, EachRankResumesFromItsOwnCheckpointAfterAFailedJob) {
  std::string text;
  for (int i = 0; i < 6000; ++i) text += "line " + std::to_string(i) + "\n";
  const testing::TempFile input(text);
  const std::string checkpoint = testing::temp_path("cluster_checkpoint");
  LocalCluster cluster(2);
  std::vector<std::map<std::string, int>> delivered(2);
  std::vector<std::uint64_t> committed(2);
  auto run = [&](std::size_t r, bool fail) {
    Flow flow("resumed");
    std::uint64_t seen = 0;
    flow.source("lines", read_lines(input.path(), {.chunk_size = 256})) >>
        flow.node("tag", [](std::string_view l) { return std::string(l); }) >>
        flow.node("sink", [&, r, fail](const std::string& line) {
          if (fail && r == 1 && ++seen == 2000) throw std::runtime_error("injected");
          ++delivered[r][line];
        });
    return flow.run({.threads = 2,
                     .batch_size = 50,
                     .checkpoint = {.path = checkpoint, .interval = std::chrono::milliseconds(0)},
                     .cluster = cluster.rank(r)});
  };
  cluster.run_each([&](std::size_t r) {
    try {
      run(r, true);
      ADD_FAILURE() << "rank " << r << ": the job should fail";
    } catch (const NodeError& e) {
      EXPECT_EQ(e.rank(), 1u);
      committed[r] = e.report().checkpoint.value().sources.at(0).committed.items;
    }
  });
  EXPECT_LT(committed[1], 2000u) << "nothing committed at or after the failed item";
  std::vector<RunReport> second(2);
  cluster.run_each([&](std::size_t r) { second[r] = run(r, false); });
  std::map<std::string, int> all;
  for (std::size_t r = 0; r < 2; ++r) {
    ASSERT_TRUE(second[r].resumed_from) << "rank " << r;
    EXPECT_EQ(second[r].resumed_from->sources.at(0).committed.items, committed[r]);
    for (const auto& [line, n] : delivered[r]) all[line] += n;
  }
  ASSERT_EQ(all.size(), 6000u) << "every line delivered";
  for (const auto& [line, n] : all) EXPECT_GE(n, 1) << line;
  for (std::size_t r = 0; r < 2; ++r)
    EXPECT_TRUE(std::filesystem::exists(checkpoint + ".rank" + std::to_string(r) + "-of-2"));
  for (std::size_t r = 0; r < 2; ++r)
    std::filesystem::remove(checkpoint + ".rank" + std::to_string(r) + "-of-2");
}

}  // namespace
}  // namespace aetherflow
