// Keyed aggregation (aggregate_by_key, count_by, sum_by) and top_k: exact results against a
// single-threaded computation on 1, 2 and 4 threads, many keys and one hot key, views into
// read_lines chunks as keys, error policies, cancellation, reruns and checkpoints.
#include <flow/aetherflow.hpp>
#include <nodes/keyed.hpp>
#include <nodes/top_k.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../support/balance.hpp"
#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using Counts = std::unordered_map<std::uint64_t, std::uint64_t>;

// `n` keys drawn from `distinct` values; with `hot`, that share of them is key 7.
std::vector<std::uint64_t> draw_keys(std::size_t n, std::uint64_t distinct, double hot = 0) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> key(0, distinct - 1);
  std::bernoulli_distribution is_hot(hot);
  std::vector<std::uint64_t> keys(n);
  for (auto& k : keys) k = is_hot(rng) ? 7 : key(rng);
  return keys;
}

Counts count_plainly(const std::vector<std::uint64_t>& keys) {
  Counts c;
  for (auto k : keys) ++c[k];
  return c;
}

// Runs count_by over `keys` and returns what the node emitted, as a map.
Counts count_in_flow(const std::vector<std::uint64_t>& keys, RunOptions options,
                     RunReport* report = nullptr) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
  Flow flow("count");
  auto src = flow.source("keys", keys);
  auto count = flow.node("count", count_by([](std::uint64_t k) { return k; }));
  auto keep = flow.node("keep", collect(pairs));
  src >> count >> keep;
  const RunReport r = flow.run(options);
  testing::expect_balanced(r);
  if (report) *report = r;
  Counts c;
  for (const auto& [k, n] : pairs) EXPECT_TRUE(c.emplace(k, n).second) << "key " << k << " twice";
  return c;
}

TEST(Keyed, CountsExactlyOnOneTwoAndFourThreadsWithFixedAndChosenBatchSizes) {
  const auto keys = draw_keys(200'000, 50'000);
  const Counts expected = count_plainly(keys);
  for (std::size_t threads : {1u, 2u, 4u})
    for (std::size_t batch_size : {0u, 1u, 777u}) {
      SCOPED_TRACE(::testing::Message() << threads << " threads, batch " << batch_size);
      RunReport r;
      EXPECT_EQ(count_in_flow(keys, {.threads = threads, .batch_size = batch_size}, &r), expected);
      const NodeReport& n = r.node("count");
      EXPECT_EQ(n.out, expected.size());
      ASSERT_EQ(n.shards.size(), 8 * r.threads);  // eight shards per thread of the run
      std::uint64_t held = 0, items = 0;
      for (const ShardLoad& s : n.shards) {
        held += s.keys;
        items += s.items;
      }
      EXPECT_EQ(held, expected.size());
      EXPECT_EQ(items, keys.size());
    }
}

TEST(Keyed, CountsAMillionKeys) {
  const auto keys = draw_keys(2'000'000, 1'000'000);
  EXPECT_EQ(count_in_flow(keys, {.threads = 2}), count_plainly(keys));
}

TEST(Keyed, OneHotKeyIsCountedExactlyAndNamedByTheAdvice) {
  const auto keys = draw_keys(400'000, 10'000, 0.9);
  RunReport r;
  EXPECT_EQ(count_in_flow(keys, {.threads = 4, .profile = true}, &r), count_plainly(keys));
  const auto& shards = r.node("count").shards;
  EXPECT_GE(largest_shard_share(shards), 0.9);
  // The hot-shard rule is tested on constructed profiles in advice_test; here, that the
  // profile carries the shards for it.
  EXPECT_EQ(r.profile->node("count").shards, shards);
}

// The words of a line, as views into it.
void split_on_spaces(std::string_view line, Emitter<std::string_view>& emit) {
  for (std::size_t start = 0; start < line.size();) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    emit(line.substr(start, end - start));
    start = end + 1;
  }
}

// The words of every line of a file read in small chunks, counted by views into the chunks:
// the keys stored must own their characters, or they would point into recycled chunks
// (AddressSanitizer sees it).
TEST(Keyed, ViewsIntoReadLinesChunksAreCopiedIntoTheState) {
  std::string text;
  std::unordered_map<std::string, std::uint64_t> expected;
  std::mt19937 rng(7);
  for (int line = 0; line < 20'000; ++line) {
    for (int w = 0; w < 6; ++w) {
      const std::string word = fmt::format("w{}", rng() % 5000);
      text += word + (w < 5 ? " " : "\n");
      ++expected[word];
    }
  }
  const testing::TempFile file(text);
  std::unordered_map<std::string, std::uint64_t> got;
  Flow flow("words");
  auto lines = flow.source("lines", read_lines(file.path(), {.chunk_size = 4096}));
  auto words = flow.node("split", split_on_spaces);
  auto count = flow.node("count", count_by([](std::string_view w) { return w; }));
  auto keep = flow.node("keep", [&](std::pair<std::string, std::uint64_t> p) {
    got.emplace(std::move(p.first), p.second);
  });
  lines >> words >> count >> keep;
  testing::expect_balanced(flow.run({.threads = 2, .batch_size = 64}));
  EXPECT_EQ(got, expected);
}

// The same with lines from a range of std::string, converted to views on the edge into the
// split: the words point into the source's strings, which their batches keep alive.
TEST(Keyed, ViewsOfLinesConvertedOnTheEdgeStayValid) {
  std::vector<std::string> lines;
  std::unordered_map<std::string, std::uint64_t> expected;
  for (int line = 0; line < 5000; ++line) {
    std::string text;
    for (int w = 0; w < 4; ++w) {
      const std::string word = fmt::format("word{}", (line * 7 + w * 13) % 611);
      text += (w ? " " : "") + word;
      ++expected[word];
    }
    lines.push_back(std::move(text));
  }
  std::unordered_map<std::string, std::uint64_t> got;
  Flow flow("converted");
  auto src = flow.source("lines", lines);
  auto words = flow.node("split", split_on_spaces);
  auto count = flow.node("count", count_by([](std::string_view w) { return w; }));
  src >> words >> count >> flow.node("keep", [&](std::pair<std::string, std::uint64_t> p) {
    got.emplace(std::move(p.first), p.second);
  });
  flow.run({.threads = 2, .batch_size = 3});
  EXPECT_EQ(got, expected);
}

struct Span {
  std::uint64_t first = ~std::uint64_t{0}, last = 0, n = 0;
};

TEST(Keyed, SumByAndAggregateByKeyWithAStateOfItsOwn) {
  std::vector<std::pair<std::string, int>> sales;
  for (int i = 0; i < 10'000; ++i) sales.emplace_back(fmt::format("shop{}", i % 13), i);
  std::map<std::string, long> sums;
  std::map<std::string, std::pair<int, int>> ranges;
  for (const auto& [shop, amount] : sales) {
    sums[shop] += amount;
    auto [it, added] = ranges.try_emplace(shop, amount, amount);
    it->second.first = std::min(it->second.first, amount);
    it->second.second = std::max(it->second.second, amount);
  }
  using Sale = std::pair<std::string, int>;
  std::map<std::string, long> got_sums;
  std::map<std::string, std::pair<int, int>> got_ranges;
  Flow flow("shops");
  auto src = flow.source("sales", sales);
  auto sum = flow.node("sum", sum_by([](const Sale& s) -> const std::string& { return s.first; },
                                     [](const Sale& s) { return long{s.second}; }));
  auto range = flow.node(
      "range",
      aggregate_by_key<Sale>([](const auto& s) -> const std::string& { return s.first; },
                             [] {
                               return std::pair{INT32_MAX, INT32_MIN};
                             },
                             [](std::pair<int, int>& r, const Sale& s) {
                               r = {std::min(r.first, s.second), std::max(r.second, s.second)};
                             }));
  src >> fan_out(sum, range);
  sum >> flow.node("keep_sums", [&](std::pair<std::string, long> p) { got_sums.insert(p); });
  range >> flow.node("keep_ranges",
                     [&](std::pair<std::string, std::pair<int, int>> p) { got_ranges.insert(p); });
  testing::expect_balanced(flow.run({.threads = 2, .batch_size = 100}));
  EXPECT_EQ(got_sums, sums);
  EXPECT_EQ(got_ranges, ranges);
}

// A key type of its own, with a hash and equality of its own, in a number of shards of its own.
struct Point {
  int x = 0, y = 0;
};
struct PointHash {
  std::size_t operator()(const Point& p) const { return std::hash<int>{}(p.x * 1000 + p.y); }
};
struct SamePoint {
  bool operator()(const Point& a, const Point& b) const { return a.x == b.x && a.y == b.y; }
};

TEST(Keyed, TakesAHashAndEqualityOfItsOwnAndAShardCount) {
  std::vector<Point> points;
  for (int i = 0; i < 5000; ++i) points.push_back({i % 10, i % 7});
  std::map<std::pair<int, int>, std::uint64_t> got;
  Flow flow("points");
  auto src = flow.source("points", points);
  auto count = flow.node(
      "count",
      count_by([](const Point& p) { return p; }).hash_by(PointHash{}, SamePoint{}).shards(5));
  auto keep = flow.node("keep", [&](std::pair<Point, std::uint64_t> p) {
    got[{p.first.x, p.first.y}] = p.second;
  });
  src >> count >> keep;
  const RunReport r = flow.run({.threads = 2});
  EXPECT_EQ(r.node("count").shards.size(), 5u);
  ASSERT_EQ(got.size(), 70u);  // 10 x 7 combinations, as 5000 items cycle through all of them
  std::uint64_t total = 0;
  for (const auto& [p, n] : got) total += n;
  EXPECT_EQ(total, points.size());
}

// Items whose update throws: skipped, sent to the dead letters, retried until they pass.
TEST(Keyed, ErrorPoliciesApplyPerItem) {
  const auto keys = draw_keys(20'000, 100);
  auto bad = [](std::uint64_t k) { return k % 10 == 3; };
  Counts expected;
  std::uint64_t bad_items = 0;
  for (auto k : keys) bad(k) ? (void)++bad_items : (void)++expected[k];

  auto update = [&bad](std::uint64_t& n, const std::uint64_t& k) {
    if (bad(k)) throw std::runtime_error(fmt::format("bad key {}", k));
    ++n;
  };
  {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
    Flow flow("skip");
    auto count = flow.node(
        "count", aggregate_by_key([](std::uint64_t k) { return k; }, std::uint64_t{0}, update),
        {.on_error = OnError::skip});
    flow.source("keys", keys) >> count >> flow.node("keep", collect(pairs));
    const RunReport r = flow.run({.threads = 2, .batch_size = 256});
    testing::expect_balanced(r);
    EXPECT_EQ(r.node("count").skipped, bad_items);
    // A key whose every item failed is no key at all.
    EXPECT_EQ(Counts(pairs.begin(), pairs.end()), expected);
  }
  {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
    std::vector<DeadLetter<std::uint64_t>> dead;
    Flow flow("dead");
    auto count = flow.node(
        "count", aggregate_by_key([](std::uint64_t k) { return k; }, std::uint64_t{0}, update),
        {.on_error = OnError::dead_letter});
    flow.source("keys", keys) >> count >> flow.node("keep", collect(pairs));
    count.dead_letters() >> flow.node("dead", collect(dead));
    const RunReport r = flow.run({.threads = 2, .batch_size = 256});
    testing::expect_balanced(r);
    EXPECT_EQ(dead.size(), bad_items);
    for (const auto& d : dead) {
      EXPECT_TRUE(bad(d.item));
      EXPECT_EQ(d.node, "count");
      EXPECT_NE(d.error.find("bad key"), std::string::npos);
    }
    EXPECT_EQ(Counts(pairs.begin(), pairs.end()), expected);
  }
  {
    std::atomic<int> failures_left{50};  // the first 50 updates fail once, then pass
    std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
    Flow flow("retry");
    auto count = flow.node("count",
                           aggregate_by_key([](std::uint64_t k) { return k; }, std::uint64_t{0},
                                            [&](std::uint64_t& n, const std::uint64_t&) {
                                              if (failures_left.fetch_sub(1) > 0)
                                                throw std::runtime_error("flaky");
                                              ++n;
                                            }),
                           {.retry = Retry{.retries = 2, .delay = std::chrono::milliseconds(0)}});
    flow.source("keys", keys) >> count >> flow.node("keep", collect(pairs));
    const RunReport r = flow.run({.threads = 2, .batch_size = 256});
    testing::expect_balanced(r);
    EXPECT_EQ(r.node("count").retries, 50u);
    EXPECT_EQ(r.node("count").failed, 0u);
    EXPECT_EQ(Counts(pairs.begin(), pairs.end()), count_plainly(keys));
  }
}

TEST(Keyed, AFailingUpdateFailsTheRunNamingTheNodeAndItem) {
  const auto keys = draw_keys(5000, 100);
  Flow flow("fail");
  auto count =
      flow.node("count", aggregate_by_key([](std::uint64_t k) { return k; }, std::uint64_t{0},
                                          [](std::uint64_t& n, const std::uint64_t& k) {
                                            if (k == 42) throw std::runtime_error("the answer");
                                            ++n;
                                          }));
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
  flow.source("keys", keys) >> count >> flow.node("keep", collect(pairs));
  try {
    flow.run({.threads = 2});
    FAIL() << "the run should have failed";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "count");
    EXPECT_EQ(keys[e.item()], 42u);
    EXPECT_NE(std::string(e.what()).find("the answer"), std::string::npos);
    testing::expect_balanced(e.report());
  }
  EXPECT_TRUE(pairs.empty());  // a failed run emits nothing
}

TEST(Keyed, ACancelledRunEmitsNothingAndTheNextRunStartsEmpty) {
  const auto keys = draw_keys(100'000, 1000);
  std::stop_source stop;
  std::atomic<std::uint64_t> seen{0};
  bool cancel = true;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
  Flow flow("cancel");
  auto watch = flow.node("watch", [&](std::uint64_t k) {
    if (cancel && seen.fetch_add(1) == 30'000) stop.request_stop();
    return k;
  });
  auto count = flow.node("count", count_by([](std::uint64_t k) { return k; }));
  flow.source("keys", keys) >> watch >> count >> flow.node("keep", collect(pairs));
  const RunReport first = flow.run({.threads = 2, .batch_size = 100, .stop = stop.get_token()});
  EXPECT_TRUE(first.cancelled);
  EXPECT_EQ(first.stop_reason, "stop requested");
  EXPECT_TRUE(pairs.empty());
  EXPECT_EQ(first.node("count").out, 0u);
  EXPECT_GT(first.node("count").cancelled, 0u);
  testing::expect_balanced(first);

  cancel = false;
  for (int run = 0; run < 2; ++run) {  // each run's state starts empty
    pairs.clear();
    const RunReport again = flow.run({.threads = 2, .batch_size = 100});
    EXPECT_FALSE(again.cancelled);
    EXPECT_EQ(Counts(pairs.begin(), pairs.end()), count_plainly(keys));
  }
}

TEST(Keyed, CheckpointsRefuseTheNodeNamingIt) {
  const testing::TempFile checkpoint;
  std::vector<std::uint64_t> keys{1, 2, 3};
  Flow flow("checkpointed");
  auto count = flow.node("count", count_by([](std::uint64_t k) { return k; }));
  flow.source("keys", keys) >> count >>
      flow.node("keep", discard<std::pair<std::uint64_t, std::uint64_t>>());
  try {
    flow.run({.checkpoint = {.path = checkpoint.path()}});
    FAIL() << "checkpoints should be refused";
  } catch (const FlowError& e) {
    EXPECT_NE(std::string(e.what()).find("node 'count' holds items between calls (a keyed "
                                         "aggregation node)"),
              std::string::npos)
        << e.what();
  }
}

TEST(TopK, KeepsTheLargestWithTiesBrokenByKey) {
  // Counts 0..99 for keys k0..k99, and five keys tied at 1000.
  std::vector<std::pair<std::string, std::uint64_t>> pairs;
  for (int i = 0; i < 100; ++i) pairs.emplace_back(fmt::format("k{}", i), i);
  for (const char* tied : {"tie-e", "tie-a", "tie-d", "tie-b", "tie-c"})
    pairs.emplace_back(tied, 1000);
  std::shuffle(pairs.begin(), pairs.end(), std::mt19937(3));
  using Pair = std::pair<std::string, std::uint64_t>;
  for (std::size_t threads : {1u, 2u, 4u}) {
    std::vector<Pair> top;
    Flow flow("top");
    auto best = flow.node("top", top_k<Pair>(7));
    flow.source("pairs", pairs) >> best >> flow.node("keep", collect(top));
    const RunReport r = flow.run({.threads = threads, .batch_size = 9});
    testing::expect_balanced(r);
    const std::vector<Pair> expected{{"tie-a", 1000}, {"tie-b", 1000}, {"tie-c", 1000},
                                     {"tie-d", 1000}, {"tie-e", 1000}, {"k99", 99},
                                     {"k98", 98}};
    EXPECT_EQ(top, expected);
    EXPECT_EQ(r.node("top").out, 7u);
    EXPECT_EQ(r.node("top").filtered, pairs.size() - 7);
  }
}

TEST(TopK, ByAScoreOfItsOwnAndFewerItemsThanK) {
  std::vector<std::string> words{"a", "ccc", "bb", "dddd"};
  std::vector<std::string> top;
  Flow flow("longest");
  auto best = flow.node("longest", top_k(10, [](const std::string& w) { return w.size(); }));
  flow.source("words", words) >> best >> flow.node("keep", collect(top));
  flow.run();
  EXPECT_EQ(top, (std::vector<std::string>{"dddd", "ccc", "bb", "a"}));
}

// A word count end to end: count_by into top_k, checked against a plain count.
TEST(Keyed, FeedsTopK) {
  const auto keys = draw_keys(100'000, 5000);
  const Counts expected = count_plainly(keys);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranked(expected.begin(), expected.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  ranked.resize(5);
  using Pair = std::pair<std::uint64_t, std::uint64_t>;
  std::vector<Pair> top;
  Flow flow("ranked");
  auto count = flow.node("count", count_by([](std::uint64_t k) { return k; }));
  auto best = flow.node("top", top_k<decltype(count)::output_type>(5));
  flow.source("keys", keys) >> count >> best >> flow.node("keep", collect(top));
  testing::expect_balanced(flow.run({.threads = 2}));
  EXPECT_EQ(top, ranked);
}

}  // namespace
}  // namespace aetherflow
