// The profile as a table: nodes by busy time, then the threads, the trace's coverage and the
// advice.
#include <flow/profile.hpp>

#include <algorithm>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <flow/detail/counter_lines.hpp>
#include <flow/detail/duration_text.hpp>
#include <flow/detail/trace_coverage.hpp>

namespace aetherflow {

using detail::duration_text;

std::ostream& operator<<(std::ostream& os, const Profile& p) {
  fmt::print(os,
             "profile of flow '{}': {} wall, {} threads, {:.0f} items/s; end to end: p50 {}, "
             "p99 {}, max {}\n",
             p.flow, duration_text(p.wall_ns), p.threads, p.items_per_second,
             duration_text(p.end_to_end.p50_ns), duration_text(p.end_to_end.p99_ns),
             duration_text(p.end_to_end.max_ns));
  std::vector<const NodeProfile*> by_busy;
  std::size_t width = 4;
  for (const auto& n : p.nodes) {
    by_busy.push_back(&n);
    width = std::max(width, n.name.size());
  }
  std::sort(by_busy.begin(), by_busy.end(),
            [](auto* a, auto* b) { return a->busy_ns > b->busy_ns; });
  constexpr auto row =
      "  {:<{}}  {:<9} {:>10} {:>6} {:>10} {:>8} {:>10} {:>10} {:>10} {:>5} {:>6} {:>6}\n";
  fmt::print(os, row, "node", width, "kind", "busy", "share", "per item", "calls", "p50 call",
             "p99 call", "queue p99", "util", "peak", "waits");
  for (const NodeProfile* n : by_busy) {
    const std::string peak = fmt::format(
        "{}/{}", n->peak_concurrency,
        n->concurrency_limit == 0 ? std::string("*") : std::to_string(n->concurrency_limit));
    fmt::print(os, row, n->name, width, n->kind, duration_text(n->busy_ns),
               fmt::format("{:.0f}%", n->busy_share * 100), duration_text(n->per_item_ns), n->calls,
               duration_text(n->call_latency.p50_ns), duration_text(n->call_latency.p99_ns),
               duration_text(n->queue_wait.p99_ns), fmt::format("{:.0f}%", n->utilization * 100),
               peak, n->resource_waits);
  }
  detail::print_counters(os, p.nodes);
  detail::print_shards(os, p.nodes);
  detail::print_operations(os, p.nodes);
  fmt::print(os, "  threads:");
  for (const auto& t : p.thread_profiles)
    fmt::print(
        os, " #{} busy {:.0f}%", t.index,
        p.wall_ns ? 100.0 * static_cast<double>(t.busy_ns) / static_cast<double>(p.wall_ns) : 0.0);
  fmt::print(os, "\n");
  if (p.trace_dropped > 0) fmt::print(os, "  trace: {}\n", detail::trace_coverage(p));
  for (const auto& line : p.advice) fmt::print(os, "  {}\n", line);
  return os;
}

}  // namespace aetherflow
