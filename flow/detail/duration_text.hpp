#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace aetherflow::detail {

// A duration for people: "412 ns", "35.3 us", "8.87 ms", "2.31 s".
inline std::string duration_text(std::uint64_t ns) {
  if (ns >= 1'000'000'000) return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
  if (ns >= 1'000) return fmt::format("{:.1f} us", static_cast<double>(ns) / 1e3);
  return fmt::format("{} ns", ns);
}

}  // namespace aetherflow::detail
