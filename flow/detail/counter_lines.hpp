#pragma once
// The lines under the run report's and the profile's tables: the callables' own counters
// (NodeCounter), the shards of keyed nodes (ShardLoad) and async nodes' operations
// (OperationsReport), one line per node that has any.
//
//   counters of 'geo': hits 990, misses 10, evictions 0, expired 0
//   shards of 'count': 4, 3600000 keys (largest 25%), 48000000 items (largest 90%, shard 2)

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <vector>

#include <flow/detail/duration_text.hpp>
#include <flow/report.hpp>

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

template <class Nodes>
void print_shards(std::ostream& os, const Nodes& nodes) {
  for (const auto& n : nodes) {
    if (n.shards.empty()) continue;
    std::uint64_t keys = 0, items = 0, most_keys = 0;
    std::size_t hottest = 0;
    for (std::size_t s = 0; s < n.shards.size(); ++s) {
      keys += n.shards[s].keys;
      items += n.shards[s].items;
      most_keys = std::max(most_keys, n.shards[s].keys);
      if (n.shards[s].items > n.shards[hottest].items) hottest = s;
    }
    auto share = [](std::uint64_t part, std::uint64_t whole) {
      return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
    };
    fmt::print(os,
               "  shards of '{}': {}, {} keys (largest {:.0f}%), {} items (largest {:.0f}%, "
               "{})\n",
               n.name, n.shards.size(), keys, share(most_keys, keys), items,
               share(n.shards[hottest].items, items), shard_label(n.shards, hottest));
  }
}

// Async nodes: how their operations went, and in a profile how long they took.
//   operations of 'enrich': 20000 started, 20000 completed, 0 timed out, 0 abandoned, 0 late;
//   at most 500 in flight (limit 500); latency p50 5.24 ms, p99 6.01 ms, max 7.2 ms
template <class Nodes>
void print_operations(std::ostream& os, const Nodes& nodes) {
  for (const auto& n : nodes) {
    if (!n.operations) continue;
    const OperationsReport& o = *n.operations;
    fmt::print(os,
               "  operations of '{}': {} started, {} completed, {} timed out, {} abandoned, {} "
               "late; at most {} in flight (limit {})",
               n.name, o.started, o.completed, o.timed_out, o.abandoned, o.late, o.peak_in_flight,
               o.max_in_flight);
    if constexpr (requires { n.operation_latency; }) {
      if (n.operation_latency.count)
        fmt::print(
            os, "; latency p50 {}, p99 {}, max {}", duration_text(n.operation_latency.p50_ns),
            duration_text(n.operation_latency.p99_ns), duration_text(n.operation_latency.max_ns));
    }
    fmt::print(os, "\n");
  }
}

}  // namespace aetherflow::detail
