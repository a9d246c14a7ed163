#pragma once

#include <chrono>
#include <cstdint>

namespace aetherflow::detail {

// Waits calls spent on resources: lock waits of shared resources, lease waits of pools.
struct Waits {
  std::uint64_t count = 0;
  std::uint64_t ns = 0;
  void add(std::chrono::nanoseconds waited) {
    ++count;
    ns += static_cast<std::uint64_t>(waited.count());
  }
};

}  // namespace aetherflow::detail
