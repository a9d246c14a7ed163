// The reliability stress test (label `stress`: run by CI, left out of the default test run).
// Eight rounds of ten million items through a fan-out/fan-in flow with injected exceptions,
// retries, dead letters, and cancellations at random moments. Every round must end (a watchdog
// aborts the process if one hangs) with every item accounted for; a round that was not cancelled
// must deliver exactly what a single-threaded computation of the same faults predicts.
//
// The same for a keyed aggregation: rounds of many keys on changing threads, shards and batch
// sizes, with skipped updates and cancellations, against a single-threaded count.
//
// AETHERFLOW_STRESS_ITEMS overrides the items per round (for a quick local run).
#include <flow/aetherflow.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

std::uint64_t items_per_round() {
  const char* env = std::getenv("AETHERFLOW_STRESS_ITEMS");
  return env ? std::strtoull(env, nullptr, 10) : 10'000'000;
}

struct TransientError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Which items fail where, per round: deterministic, so a round's outcome can be predicted.
struct Faults {
  std::uint64_t seed;
  static constexpr std::uint64_t kPerMillion = 200;
  bool hit(std::uint64_t x, std::uint64_t salt) const {
    return HashRing::mix(x ^ HashRing::mix(seed + salt)) % 1'000'000 < kPerMillion;
  }
  // "prepare" fails an item's first failures() attempts with a TransientError: 0 for most,
  // 1 to 3 for some. With two retries, three failures mean the item is skipped.
  unsigned failures(std::uint64_t x) const {
    return hit(x, 1) ? 1 + static_cast<unsigned>(HashRing::mix(x + seed) % 3) : 0;
  }
  bool left_fails(std::uint64_t x) const { return hit(x, 2); }   // dead-lettered
  bool right_fails(std::uint64_t x) const { return hit(x, 3); }  // skipped
  static bool right_filters(std::uint64_t x) { return x % 5 == 0; }
};

struct Outcome {
  std::uint64_t skipped = 0, retries = 0, dead = 0, joined = 0, sum = 0;
};

Outcome predict(const Faults& f, std::uint64_t items) {
  Outcome o;
  for (std::uint64_t x = 0; x < items; ++x) {
    const unsigned failures = f.failures(x);
    o.retries += std::min(failures, 2u);
    if (failures == 3) {
      ++o.skipped;
      continue;
    }
    if (f.left_fails(x)) ++o.dead;
    if (f.left_fails(x) || f.right_fails(x) || Faults::right_filters(x)) continue;
    ++o.joined;
    o.sum += 3 * x;
  }
  return o;
}

// Aborts the process if a round does not end in time: a hang fails loudly, never silently.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread_([this, limit](std::stop_token) {
          std::unique_lock lock(mutex_);
          if (!ended_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "reliability stress: a round ran past %lld s: deadlock?\n",
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ended_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ended_;
  bool done_ = false;
  std::jthread thread_;  // last: joined before the members it uses go
};

TEST(ReliabilityStress, TenMillionItemsWithFaultsAndCancellationsStayExactlyAccounted) {
  const std::uint64_t items = items_per_round();
  std::vector<std::atomic<std::uint8_t>> attempts(items);
  Faults faults{0};
  std::atomic<std::uint64_t> sum{0}, joined{0}, dead{0};
  std::atomic<std::uint64_t> cancel_at{0};  // the sink requests a stop at this many items
  std::stop_source stop;

  Flow flow("stress");
  auto src = flow.source("numbers", std::views::iota(std::uint64_t{0}, items));
  auto prepare = flow.node(
      "prepare",
      [&](std::uint64_t x) {
        if (attempts[x].fetch_add(1, std::memory_order_relaxed) < faults.failures(x))
          throw TransientError("transient");
        return x;
      },
      {.on_error = OnError::skip,
       .retry = Retry{.retries = 2, .delay = 0ms, .retryable = retry_on<TransientError>()}});
  auto left = flow.node("left",
                        [&](std::uint64_t x) {
                          if (faults.left_fails(x)) throw std::runtime_error("left");
                          return 2 * x;
                        },
                        {.on_error = OnError::dead_letter});
  auto right = flow.node("right",
                         [&](std::uint64_t x) -> std::optional<std::uint64_t> {
                           if (faults.right_fails(x)) throw 42;  // not a std::exception
                           if (Faults::right_filters(x)) return std::nullopt;
                           return x;
                         },
                         {.on_error = OnError::skip});
  auto join = flow.fan_in("join", [](std::uint64_t a, std::uint64_t b) { return a + b; });
  auto sink = flow.node("sum", [&](std::uint64_t v) {
    sum.fetch_add(v, std::memory_order_relaxed);
    if (joined.fetch_add(1, std::memory_order_relaxed) + 1 == cancel_at.load()) stop.request_stop();
  });
  auto dead_sink = flow.node("dead", [&](const DeadLetter<std::uint64_t>&) { dead.fetch_add(1); });
  src >> prepare >> fan_out(left, right) >> join >> sink;
  left.dead_letters() >> dead_sink;

  std::mt19937_64 random(2026);
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    faults.seed = random();
    for (auto& a : attempts) a.store(0, std::memory_order_relaxed);
    sum = joined = dead = 0;
    stop = std::stop_source();
    // Odd rounds are cancelled: by the sink at a random item (1, 5), or from another thread
    // at a random moment (3, 7). Even rounds run to the end.
    const bool sink_cancels = round % 4 == 1, thread_cancels = round % 4 == 3;
    cancel_at = sink_cancels ? 1 + random() % (items / 2 + 1) : 0;
    std::optional<std::jthread> canceller;
    if (thread_cancels)
      canceller.emplace([&, delay = std::chrono::milliseconds(random() % 500)] {
        std::this_thread::sleep_for(delay);
        stop.request_stop();
      });
    const RunOptions options{
        .threads = 1 + random() % std::max(2u, std::thread::hardware_concurrency()),
        .batch_size = std::size_t{16} << (random() % 6),
        .stop = stop.get_token()};

    RunReport r;
    {
      const Watchdog watchdog(300s);
      r = flow.run(options);
    }
    canceller.reset();

    testing::expect_balanced(r);
    EXPECT_EQ(r.node("numbers").out, r.node("prepare").in);
    EXPECT_EQ(r.node("prepare").out, r.node("left").in);
    EXPECT_EQ(r.node("prepare").out, r.node("right").in);
    EXPECT_EQ(r.node("left").dead_lettered, r.node("dead").in);
    EXPECT_EQ(r.node("join").out, r.node("sum").in);
    EXPECT_EQ(r.node("sum").out, joined.load());
    EXPECT_EQ(r.node("dead").out, dead.load());

    if (sink_cancels || thread_cancels) {
      // The thread may come after the end; a sink's threshold may never be reached.
      if (r.cancelled) {
        EXPECT_EQ(r.stop_reason, "stop requested");
      }
      continue;
    }
    EXPECT_FALSE(r.cancelled);
    const Outcome expected = predict(faults, items);
    EXPECT_EQ(r.node("numbers").out, items);
    EXPECT_EQ(r.node("prepare").skipped, expected.skipped);
    EXPECT_EQ(r.node("prepare").retries, expected.retries);
    EXPECT_EQ(dead.load(), expected.dead);
    EXPECT_EQ(joined.load(), expected.joined);
    EXPECT_EQ(sum.load(), expected.sum);
  }
}

TEST(ReliabilityStress, KeyedCountsStayExactUnderCancellationsAndSkips) {
  const std::uint64_t n = items_per_round() / 4;
  std::mt19937_64 rng(17);
  for (int round = 0; round < 8; ++round) {
    const std::uint64_t distinct = round % 2 ? 1'000'000 : 1000;
    std::vector<std::uint64_t> keys(n);
    for (auto& k : keys) k = rng() % distinct;
    auto bad = [](std::uint64_t k) { return k % 97 == 5; };  // their updates throw: skipped
    std::vector<std::uint64_t> expected(distinct, 0);
    for (auto k : keys)
      if (!bad(k)) ++expected[k];

    const std::size_t threads = 1 + rng() % 4;
    const std::size_t batch = std::array<std::size_t, 3>{0, 1, 5000}[rng() % 3];
    std::vector<std::uint64_t> got(distinct, 0);
    Flow flow("keyed_stress");
    auto count = flow.node("count",
                           aggregate_by_key([](std::uint64_t k) { return k; }, std::uint64_t{0},
                                            [&bad](std::uint64_t& c, const std::uint64_t& k) {
                                              if (bad(k)) throw std::runtime_error("bad key");
                                              ++c;
                                            })
                               .shards(1 + rng() % 64),
                           {.on_error = OnError::skip});
    flow.source("keys", keys) >> count >>
        flow.node("keep",
                  [&](std::pair<std::uint64_t, std::uint64_t> p) { got[p.first] = p.second; });
    std::stop_source stop;
    const bool cancel = round % 4 == 3;  // rounds 3 and 7: from another thread, at random
    std::jthread canceller;
    if (cancel)
      canceller = std::jthread([&stop, delay = std::chrono::milliseconds(rng() % 200)] {
        std::this_thread::sleep_for(delay);
        stop.request_stop();
      });
    const Watchdog watchdog(300s);
    const RunReport r =
        flow.run({.threads = threads, .batch_size = batch, .stop = stop.get_token()});
    testing::expect_balanced(r);
    SCOPED_TRACE(::testing::Message() << "round " << round << ", " << threads << " threads");
    if (r.cancelled) {  // nothing emitted, or stopped while emitting: what left is right
      for (std::uint64_t k = 0; k < distinct; ++k)
        if (got[k]) {
          EXPECT_EQ(got[k], expected[k]) << "key " << k;
        }
      continue;
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(r.node("count").skipped,
              n - std::accumulate(expected.begin(), expected.end(), std::uint64_t{0}));
  }
}

}  // namespace
}  // namespace aetherflow
