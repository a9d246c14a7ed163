#include <flow/detail/run/call_clock.hpp>

namespace aetherflow::detail {

double CallClock::ns_per_tick() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  using Steady = std::chrono::steady_clock;
  const auto began = Steady::now();
  const std::uint64_t first = now();
  Steady::time_point until = began;
  while (until - began < std::chrono::microseconds(200)) until = Steady::now();
  const std::uint64_t ticks = now() - first;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until - began).count();
  return ticks ? static_cast<double>(ns) / static_cast<double>(ticks) : 1.0;
#else
  return 1.0;
#endif
}

}  // namespace aetherflow::detail
