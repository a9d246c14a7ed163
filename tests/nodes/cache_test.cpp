// cache: LRU eviction, time-to-live on a simulated clock, statistics, concurrency, and the
// cached function as a node.
#include <flow/aetherflow.hpp>
#include <flow/testing/node_runner.hpp>

#include <atomic>
#include <chrono>
#include <ranges>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

TEST(Cache, HitsMissesAndLeastRecentlyUsedEviction) {
  int computed = 0;
  auto square = cache(
      [&computed](int x) {
        ++computed;
        return x * x;
      },
      {.capacity = 2});
  EXPECT_EQ(square(3), 9);   // miss
  EXPECT_EQ(square(4), 16);  // miss
  EXPECT_EQ(square(3), 9);   // hit: 3 is now the most recently used
  EXPECT_EQ(square(5), 25);  // miss: evicts 4, the least recently used
  EXPECT_EQ(square(3), 9);   // hit
  EXPECT_EQ(square(4), 16);  // miss again: it was evicted
  EXPECT_EQ(computed, 4);
  const CacheStats s = square.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 4u);
  EXPECT_EQ(s.evictions, 2u);  // 4, then 5
  EXPECT_EQ(square.size(), 2u);
  EXPECT_DOUBLE_EQ(s.hit_rate(), 2.0 / 6.0);
}

TEST(Cache, EntriesOlderThanTheTtlAreComputedAgain) {
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  int computed = 0;
  auto twice = cache<std::string>(
      [&computed](const std::string& s) {
        ++computed;
        return s + s;
      },
      {.capacity = 10, .ttl = 10s, .now = [&t] { return t; }});
  EXPECT_EQ(twice("ab"), "abab");
  t += 9s;
  EXPECT_EQ(twice("ab"), "abab");  // 9 s old: a hit
  t += 1s;
  EXPECT_EQ(twice("ab"), "abab");  // 10 s old: expired, computed again
  EXPECT_EQ(computed, 2);
  EXPECT_EQ(twice.stats().expired, 1u);
  EXPECT_EQ(twice.stats().hits, 1u);
  EXPECT_EQ(twice.stats().misses, 2u);
}

TEST(Cache, ConcurrentCallsAlwaysGetTheRightValue) {
  std::atomic<int> computed{0};
  auto cube = cache(
      [&computed](long x) {
        ++computed;
        return x * x * x;
      },
      {.capacity = 64});
  std::vector<std::jthread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (long i = 0; i < 20'000; ++i) {
        const long x = (i * 7 + t) % 100;  // 100 keys, 64 places: hits and evictions
        if (cube(x) != x * x * x) ++wrong;
      }
    });
  threads.clear();
  EXPECT_EQ(wrong.load(), 0);
  const CacheStats s = cube.stats();
  EXPECT_EQ(s.hits + s.misses, 80'000u);
  EXPECT_EQ(s.misses, static_cast<std::uint64_t>(computed.load()));
  EXPECT_LE(cube.size(), 64u);
}

TEST(Cache, ACachedFunctionIsANodeAndCopiesShareTheCache) {
  auto parity = cache([](int x) { return x % 2 == 0 ? std::string("even") : std::string("odd"); },
                      {.capacity = 16});
  const auto r = testing::run_node(
      "parity", parity,
      std::views::iota(0, 1000) | std::views::transform([](int i) { return i % 8; }),
      {.run = {.threads = 2, .batch_size = 32}});
  const std::vector<std::string>& out = r.outputs;
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out[3], "odd");
  EXPECT_EQ(out[8], "even");
  // The flow holds a copy of `parity`; both see one cache: 8 keys, so 8 misses at most per
  // concurrent first sight, and every other call a hit.
  const CacheStats s = parity.stats();
  EXPECT_EQ(s.hits + s.misses, 1000u);
  EXPECT_GE(s.hits, 1000u - 16u);
}

// Each run's report and profile show the hits, misses, evictions and expiries of that run, not
// the cache's totals: the second run finds every key cached.
TEST(Cache, HitsAndMissesOfEachRunAppearInItsReportAndProfile) {
  auto square = cache([](int x) { return x * x; }, {.capacity = 64});
  Flow flow("counted");
  flow.source("n",
              std::views::iota(0, 1000) | std::views::transform([](int i) { return i % 50; })) >>
      flow.node("square", square, {.concurrency = serial}) >> flow.node("drop", discard<int>());
  const std::vector<NodeCounter> first = {
      {"hits", 950}, {"misses", 50}, {"evictions", 0}, {"expired", 0}};
  const RunReport r1 = flow.run({.threads = 2, .batch_size = 32, .profile = true});
  EXPECT_EQ(r1.node("square").counters, first);
  EXPECT_EQ(r1.profile->node("square").counters, first);
  EXPECT_TRUE(r1.node("drop").counters.empty());

  const RunReport r2 = flow.run({.threads = 2, .batch_size = 32, .profile = true});
  const std::vector<NodeCounter> second = {
      {"hits", 1000}, {"misses", 0}, {"evictions", 0}, {"expired", 0}};
  EXPECT_EQ(r2.node("square").counters, second);
  EXPECT_EQ(square.stats().hits, 1950u);  // the cache's own total

  std::ostringstream table, profile;
  table << r2;
  profile << *r2.profile;
  for (const std::string& text : {table.str(), profile.str()})
    EXPECT_NE(text.find("counters of 'square': hits 1000, misses 0, evictions 0, expired 0"),
              std::string::npos)
        << text;
  EXPECT_NE(to_prometheus(*r2.profile)
                .find("aetherflow_node_events_total{flow=\"counted\",node=\"square\","
                      "event=\"hits\"} 1000"),
            std::string::npos);
  EXPECT_EQ(profile_from_json(to_json(*r2.profile)), *r2.profile);
}

TEST(Cache, RejectsAZeroCapacity) {
  EXPECT_THROW(cache([](int x) { return x; }, {.capacity = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace aetherflow
