#pragma once
// Poisoning of recycled buffers, so that a use of memory past its lifetime is caught instead
// of silently reading the next user's data. A std::string_view from read_lines kept past its
// item points into a chunk that went back to its BufferPool (docs/streaming.md):
//   - under AddressSanitizer the idle buffer is poisoned (ASan manual poisoning) and never
//     handed out again: a read through the stale view is reported as a use-after-poison while
//     the buffer waits on its shelf, and as a heap-use-after-free once the shelf is full and
//     later buffers are freed instead (ASan's quarantine keeps freed memory poisoned). Reuse
//     would unpoison it for the next chunk, and the stale view would silently read that;
//   - in other debug builds (no NDEBUG) it is filled with kPoisonByte, so the stale view reads
//     garbage that shows;
//   - in release builds nothing is done: it costs nothing there.

#include <cstddef>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define AETHERFLOW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AETHERFLOW_ASAN 1
#endif
#endif
#ifdef AETHERFLOW_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace aetherflow::detail {

inline constexpr unsigned char kPoisonByte = 0xDB;

// Whether a pool hands idle buffers out again (not under AddressSanitizer: see above).
#ifdef AETHERFLOW_ASAN
inline constexpr bool kReusesIdleBuffers = false;
#else
inline constexpr bool kReusesIdleBuffers = true;
#endif

// `bytes` is idle from now on: nothing may read it until unpoison_for_reuse().
inline void poison_idle(std::byte* bytes, std::size_t n) noexcept {
#ifdef AETHERFLOW_ASAN
  ASAN_POISON_MEMORY_REGION(bytes, n);
#elif !defined(NDEBUG)
  std::memset(bytes, kPoisonByte, n);
#else
  (void)bytes;
  (void)n;
#endif
}

// `bytes` is freed (or, where pools reuse buffers, handed out again).
inline void unpoison_for_reuse([[maybe_unused]] std::byte* bytes,
                               [[maybe_unused]] std::size_t n) noexcept {
#ifdef AETHERFLOW_ASAN
  ASAN_UNPOISON_MEMORY_REGION(bytes, n);
#endif
}

}  // namespace aetherflow::detail
