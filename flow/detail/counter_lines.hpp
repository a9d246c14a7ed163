#pragma once
// The callables' own counters (NodeCounter) under the run report's and the profile's tables:
// one line per node that has any.
//
//   counters of 'geo': hits 990, misses 10, evictions 0, expired 0

#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace aetherflow::detail {

// `nodes`: NodeReports or NodeProfiles, anything with a name and counters.
template <class Nodes>
void print_counters(std::ostream& os, const Nodes& nodes) {
  for (const auto& n : nodes) {
    if (n.counters.empty()) continue;
    fmt::print(os, "  counters of '{}':", n.name);
    const char* separator = " ";
    for (const auto& c : n.counters) {
      fmt::print(os, "{}{} {}", separator, c.name, c.value);
      separator = ", ";
    }
    fmt::print(os, "\n");
  }
}

}  // namespace aetherflow::detail
