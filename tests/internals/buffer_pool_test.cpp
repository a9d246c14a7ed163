// BufferPool (tiered shelves), and what it does with idle buffers in sanitizer and debug
// builds (contexts/detail/poison.hpp). ObjectPool: tests/api/object_pool_test.cpp.
#include <contexts/buffer_pool.hpp>
#include <contexts/detail/poison.hpp>
#include <flow/errors.hpp>

#include <cstring>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

TEST(BufferPool, RoundsUpToAClassAndReusesReturnedBuffers) {
  if (!detail::kReusesIdleBuffers)
    GTEST_SKIP() << "under AddressSanitizer pools never reuse a buffer (poison.hpp)";
  BufferPool pool;
  EXPECT_EQ(pool.class_size(1), 256u);
  EXPECT_EQ(pool.class_size(1000), 1024u);
  EXPECT_EQ(pool.class_size(1 << 20), std::size_t{1} << 20);
  const std::byte* first = nullptr;
  {
    Buffer b = pool.acquire(1000);
    EXPECT_EQ(b.capacity(), 1024u);
    EXPECT_EQ(b.size(), 1000u);
    std::memset(b.data(), 'x', b.capacity());
    first = b.data();
  }
  Buffer again = pool.acquire(900);  // same class: the same memory comes back
  EXPECT_EQ(again.data(), first);
  const BufferPoolStats s = pool.stats();
  EXPECT_EQ(s.allocated, 1u);
  EXPECT_EQ(s.reused, 1u);
}

TEST(BufferPool, SteadyStreamingAllocatesNothingAfterWarmUp) {
  if (!detail::kReusesIdleBuffers)
    GTEST_SKIP() << "under AddressSanitizer pools never reuse a buffer (poison.hpp)";
  BufferPool pool;
  for (int chunk = 0; chunk < 1000; ++chunk) {
    Buffer a = pool.acquire(1 << 20);
    Buffer b = pool.acquire(1 << 20);  // two chunks in flight at a time
  }
  EXPECT_EQ(pool.stats().allocated, 2u);
  EXPECT_EQ(pool.stats().reused, 1998u);
}

TEST(BufferPool, KeepsAtMostItsBudgetAndPassesLargeRequestsThrough) {
  BufferPool pool({.smallest_class = 256, .largest_class = 4096, .idle_bytes_per_class = 8192});
  {
    std::vector<Buffer> many;
    for (int i = 0; i < 5; ++i) many.push_back(pool.acquire(4096));
  }
  EXPECT_EQ(pool.stats().idle_bytes, 8192u);  // two of five kept, three freed
  EXPECT_EQ(pool.stats().released, 3u);
  Buffer huge = pool.acquire(10000);
  EXPECT_EQ(huge.capacity(), 10000u);
  EXPECT_THROW(huge.resize(10001), std::length_error);
  EXPECT_THROW(BufferPool({.smallest_class = 300}), Error);
}

// An idle buffer is poisoned (AddressSanitizer: and never reused) or filled (debug, reused):
// a view kept into it is caught, a new user sees nothing amiss.
TEST(BufferPool, IdleBuffersArePoisonedInSanitizerAndDebugBuilds) {
#if !defined(AETHERFLOW_ASAN) && defined(NDEBUG)
  GTEST_SKIP() << "release builds do not poison idle buffers";
#else
  BufferPool pool;
  const std::byte* idle = nullptr;
  {
    Buffer b = pool.acquire(1000);
    std::memset(b.data(), 'x', b.capacity());
    idle = b.data();
  }
#ifdef AETHERFLOW_ASAN
  EXPECT_TRUE(__asan_address_is_poisoned(idle));
  EXPECT_TRUE(__asan_address_is_poisoned(idle + 999));
#else
  EXPECT_EQ(static_cast<unsigned char>(idle[0]), detail::kPoisonByte);
  EXPECT_EQ(static_cast<unsigned char>(idle[999]), detail::kPoisonByte);
#endif
  Buffer again = pool.acquire(1000);
#ifdef AETHERFLOW_ASAN
  EXPECT_NE(again.data(), idle) << "a poisoned buffer is never handed out again";
  EXPECT_TRUE(__asan_address_is_poisoned(idle));
  EXPECT_FALSE(__asan_address_is_poisoned(again.data()));
#else
  ASSERT_EQ(again.data(), idle) << "the idle buffer is reused";
#endif
  std::memset(again.data(), 'y', again.capacity());  // no report: a fresh or unpoisoned buffer
  EXPECT_EQ(static_cast<char>(again.data()[999]), 'y');
#endif
}

TEST(BufferPool, ABufferMayOutliveItsPool) {
  Buffer survivor;
  {
    BufferPool pool;
    survivor = pool.acquire(512);
  }
  survivor.chars()[0] = 'a';  // the shelves live on until the last buffer is back
  EXPECT_EQ(survivor.capacity(), 512u);
}

}  // namespace
}  // namespace aetherflow
