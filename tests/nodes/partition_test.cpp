// partition: replicas behind a router; consistent hashing keeps keys in place as replicas are
// added, round robin spreads items evenly, and each replica is counted in the report.
#include <flow/aetherflow.hpp>
#include <nodes/partition.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ranges>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

TEST(HashRing, AddingAReplicaMovesAboutOneNthOfTheKeysAllToTheNewReplica) {
  const HashRing four(4), five(5);
  constexpr int kKeys = 20'000;
  std::vector<int> per_replica(4, 0);
  int moved = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::uint64_t h = HashRing::hash(k);
    const std::size_t before = four.replica_for(h), after = five.replica_for(h);
    EXPECT_EQ(four.replica_for(h), before) << "the same key, the same replica";
    ++per_replica[before];
    if (before != after) {
      ++moved;
      EXPECT_EQ(after, 4u) << "key " << k << " moved between old replicas";
    }
  }
  // The ideal is 1/5 of the keys; 64 points per replica keep it within a few percent.
  EXPECT_GT(moved, kKeys * 15 / 100);
  EXPECT_LT(moved, kKeys * 25 / 100);
  for (int n : per_replica) {
    EXPECT_GT(n, kKeys * 18 / 100);  // the ideal is 25% each
    EXPECT_LT(n, kKeys * 32 / 100);
  }
}

TEST(Partition, ConsistentHashSendsEveryItemOfAKeyToOneReplica) {
  constexpr int kReplicas = 4, kItems = 20'000, kKeys = 100;
  // Per replica, the keys it saw: written without a lock, each replica being serial.
  std::vector<std::set<int>> keys_seen(kReplicas);
  std::map<int, long> totals;
  Flow flow("partitioned");
  auto src = flow.source("items", std::views::iota(0, kItems));
  auto p = partition(flow, "count", kReplicas,
                     [&keys_seen](std::size_t r) {
                       return [&seen = keys_seen[r]](int x) {
                         seen.insert(x % kKeys);
                         return x;
                       };
                     },
                     consistent_hash([](int x) { return x % kKeys; }), {.concurrency = serial});
  auto sink = flow.node("sum", [&totals](int x) { totals[x % kKeys] += x; });
  src >> p.router;
  for (auto& replica : p.replicas) replica >> sink;
  const RunReport r = flow.run({.threads = 2, .batch_size = 64});

  std::set<int> all;
  std::uint64_t replica_items = 0;
  for (int i = 0; i < kReplicas; ++i) {
    for (int k : keys_seen[static_cast<std::size_t>(i)])
      EXPECT_TRUE(all.insert(k).second) << "key " << k << " reached two replicas";
    const NodeReport& n = r.node("count[" + std::to_string(i) + "]");
    EXPECT_GT(n.in, 0u);
    replica_items += n.in;
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(replica_items, static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(r.node("count.route").in, static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(totals.size(), static_cast<std::size_t>(kKeys));
}

TEST(Partition, RoundRobinGivesEveryReplicaTheSameShare) {
  Flow flow("round_robin");
  auto src = flow.source("items", std::views::iota(0, 1000));
  auto p = partition(
      flow, "work", 4, [](std::size_t) { return [](int x) { return x; }; }, round_robin());
  std::vector<int> out;
  auto sink = flow.node("keep", collect(out), {.ordered = true});
  src >> p.router;
  for (auto& replica : p.replicas) replica >> sink;
  const RunReport r = flow.run({.threads = 2, .batch_size = 16});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.node("work[" + std::to_string(i) + "]").in, 250u);
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_TRUE(std::ranges::is_sorted(out)) << "an ordered sink restores the source order";
}

TEST(Partition, LeastLoadedPicksTheReplicaWithFewestItemsInFlight) {
  LeastLoaded policy;
  auto route = policy.router<int>(3);
  auto replica1 = policy.wrap(1, [](int x) { return x; });
  EXPECT_EQ(route(0), 0u);  // all idle: the lowest number
  EXPECT_EQ(route(0), 1u);
  EXPECT_EQ(route(0), 2u);
  EXPECT_EQ(route(0), 0u);  // one in flight each: 0 again, now with two
  replica1(7);              // replica 1 finishes an item
  EXPECT_EQ(route(0), 1u);
  EXPECT_EQ(policy.loads()[0].load(), 2);
  EXPECT_EQ(policy.loads()[1].load(), 1);
  replica1.finish();  // the end of a run: what never arrived is forgotten
  EXPECT_EQ(policy.loads()[1].load(), 0);
}

TEST(Partition, LeastLoadedDeliversEveryItemInAFlow) {
  Flow flow("least_loaded");
  auto policy = least_loaded();
  auto p = partition(
      flow, "work", 3, [](std::size_t) { return [](const int& x) { return x * 2; }; }, policy);
  long total = 0;
  auto sink = flow.node("sum", [&total](int x) { total += x; });
  flow.source("items", std::views::iota(0, 3000)) >> p.router;
  for (auto& replica : p.replicas) replica >> sink;
  const RunReport r = flow.run({.threads = 2, .batch_size = 32});
  EXPECT_EQ(total, 2L * (2999L * 3000L / 2));
  std::uint64_t items = 0;
  for (int i = 0; i < 3; ++i) items += r.node("work[" + std::to_string(i) + "]").out;
  EXPECT_EQ(items, 3000u);
}

TEST(Partition, NeedsAReplica) {
  Flow flow("none");
  EXPECT_THROW(
      partition(
          flow, "x", 0, [](std::size_t) { return [](int x) { return x; }; }, round_robin()),
      Error);
}

}  // namespace
}  // namespace aetherflow
