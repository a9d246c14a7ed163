// ObjectPool: bounded, RAII leases, reset hook, statistics.
#include <contexts/object_pool.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

TEST(ObjectPool, ReusesObjectsAndCountsWhatItDid) {
  std::atomic<int> made{0};
  ObjectPool<std::vector<int>> pool(
      2,
      [&] {
        ++made;
        return std::make_unique<std::vector<int>>();
      },
      [](std::vector<int>& v) { v.clear(); });
  {
    auto a = pool.acquire();
    a->push_back(1);
    auto b = pool.acquire();
    EXPECT_EQ(pool.stats().in_use, 2u);
  }
  auto c = pool.acquire();
  EXPECT_TRUE(c->empty()) << "the reset hook runs before an object is leased again";
  const PoolStats s = pool.stats();
  EXPECT_EQ(s.created, 2u);
  EXPECT_EQ(s.reused, 1u);
  EXPECT_EQ(s.peak_in_use, 2u);
  EXPECT_EQ(made.load(), 2);
}

TEST(ObjectPool, FailsWhenEmptyIfAskedTo) {
  ObjectPool<int> pool(1, [] { return std::make_unique<int>(7); }, {},
                       {.when_empty = PoolOptions::WhenEmpty::fail});
  auto held = pool.acquire();
  EXPECT_THROW(pool.acquire(), PoolExhausted);
}

TEST(ObjectPool, WaitsUntilTimeoutThenFails) {
  ObjectPool<int> pool(1, [] { return std::make_unique<int>(7); }, {},
                       {.timeout = std::chrono::milliseconds(5)});
  auto held = pool.acquire();
  EXPECT_THROW(pool.acquire(), PoolExhausted);
  EXPECT_EQ(pool.stats().waits, 1u);
}

TEST(ObjectPool, DiscardedObjectsAreReplaced) {
  ObjectPool<int> pool(1, [] { return std::make_unique<int>(7); });
  pool.acquire().discard();
  auto again = pool.acquire();
  EXPECT_EQ(*again, 7);
  EXPECT_EQ(pool.stats().created, 2u);
  EXPECT_EQ(pool.stats().discarded, 1u);
}

TEST(ObjectPool, NeverMoreThanCapacityUnderStress) {
  constexpr std::size_t capacity = 3;
  ObjectPool<int> pool(capacity, [] { return std::make_unique<int>(0); });
  std::atomic<int> in_use{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = pool.acquire();
        const int now = ++in_use;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        ++*lease;
        --in_use;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), static_cast<int>(capacity));
  const PoolStats s = pool.stats();
  EXPECT_LE(s.created, capacity);
  EXPECT_LE(s.peak_in_use, capacity);
  EXPECT_EQ(s.created + s.reused, 16000u);
  EXPECT_EQ(s.in_use, 0u);
}

}  // namespace
}  // namespace aetherflow
