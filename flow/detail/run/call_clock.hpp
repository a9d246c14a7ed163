#pragma once
// The clock of node calls: the CPU's timestamp counter where there is one (about 7 ns to read),
// else steady_clock nanoseconds. Observers of calls (call_observer.hpp) get their start and end
// in its ticks; ns() converts, at a rate measured once per process.

#include <chrono>
#include <cstdint>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace aetherflow::detail {

struct CallClock {
  static std::uint64_t now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
#endif
  }
  // Nanoseconds per tick; the first call measures it (about 200 us of spinning).
  static double ns_per_tick() noexcept;
  static std::uint64_t ns(std::uint64_t ticks) noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * rate());
  }
  static std::uint64_t ticks(std::uint64_t ns) noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ns) / rate());
  }

 private:
  static double rate() noexcept {
    static const double measured = ns_per_tick();
    return measured;
  }
};

}  // namespace aetherflow::detail
