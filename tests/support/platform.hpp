#pragma once
// What the tests run on, found the way a user would find it, so that black-box tests need not
// ask flow/detail/: the sanitizer the build uses (some documented behaviour differs under one:
// a retry delay blocks its worker under AddressSanitizer and ThreadSanitizer, docs/errors.md),
// and the threads oneTBB runs at most.

#include <cstddef>

#include <oneapi/tbb/global_control.h>

#if defined(__SANITIZE_ADDRESS__)
#define AETHERFLOW_TESTS_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define AETHERFLOW_TESTS_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AETHERFLOW_TESTS_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define AETHERFLOW_TESTS_TSAN 1
#endif
#endif

namespace aetherflow::testing {

#ifdef AETHERFLOW_TESTS_ASAN
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#ifdef AETHERFLOW_TESTS_TSAN
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// The most threads a run gets: oneTBB's max_allowed_parallelism, which caps
// RunOptions::threads (docs/getting-started.md).
inline std::size_t max_threads() {
  return oneapi::tbb::global_control::active_value(
      oneapi::tbb::global_control::max_allowed_parallelism);
}

}  // namespace aetherflow::testing
