#pragma once
// Reading comma-separated records, shared by the examples that parse trades
// (examples/market_data.cpp, examples/live_ticks.cpp).

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace aetherflow::examples {

// Exactly N comma-separated fields of `line`, views into it; nullopt for any other number.
template <std::size_t N>
std::optional<std::array<std::string_view, N>> split_fields(std::string_view line) {
  std::array<std::string_view, N> fields;
  for (std::size_t i = 0; i < N; ++i) {
    const auto comma = line.find(',');
    if ((comma == std::string_view::npos) != (i == N - 1)) return std::nullopt;
    fields[i] = line.substr(0, comma);
    line.remove_prefix(i == N - 1 ? line.size() : comma + 1);
  }
  return fields;
}

// A non-negative integer spanning all of `text`.
inline std::optional<std::int64_t> integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace aetherflow::examples
