// The profile in Prometheus' text exposition format.
#include <flow/profile.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace aetherflow {
namespace {

// A Prometheus label value: backslash, quote and newline escaped.
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string to_prometheus(const Profile& p) {
  std::string out;
  const std::string flow = label(p.flow);
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                    auto value_of) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& n : p.nodes)
      out +=
          fmt::format("{}{{flow=\"{}\",node=\"{}\"}} {}\n", name, flow, label(n.name), value_of(n));
  };
  metric("aetherflow_node_calls_total", "counter", "Node calls (one batch each).",
         [](const NodeProfile& n) { return n.calls; });
  metric("aetherflow_node_items_in_total", "counter", "Items a node received.",
         [](const NodeProfile& n) { return n.items_in; });
  metric("aetherflow_node_items_out_total", "counter", "Items a node emitted (sinks: consumed).",
         [](const NodeProfile& n) { return n.items_out; });
  metric("aetherflow_node_errors_total", "counter", "Failed items and recovered exceptions.",
         [](const NodeProfile& n) { return n.errors; });
  metric("aetherflow_node_busy_seconds_total", "counter", "Time spent in the node's calls.",
         [](const NodeProfile& n) { return static_cast<double>(n.busy_ns) / 1e9; });
  metric("aetherflow_node_resource_wait_seconds_total", "counter",
         "Time calls waited for shared resources and pools.",
         [](const NodeProfile& n) { return static_cast<double>(n.resource_wait_ns) / 1e9; });
  metric("aetherflow_node_utilization_ratio", "gauge",
         "Busy time over wall time times usable concurrency.",
         [](const NodeProfile& n) { return n.utilization; });

  const char* events = "aetherflow_node_events_total";
  if (std::any_of(p.nodes.begin(), p.nodes.end(), [](auto& n) { return !n.counters.empty(); }))
    out += fmt::format(
        "# HELP {} Counts a node's callable keeps of its own (a cache's hits, say).\n"
        "# TYPE {} counter\n",
        events, events);
  for (const auto& n : p.nodes)
    for (const auto& c : n.counters)
      out += fmt::format("{}{{flow=\"{}\",node=\"{}\",event=\"{}\"}} {}\n", events, flow,
                         label(n.name), label(c.name), c.value);

  auto shard_metric = [&](std::string_view name, std::string_view type, std::string_view help,
                          std::uint64_t ShardLoad::*value) {
    if (std::none_of(p.nodes.begin(), p.nodes.end(), [](auto& n) { return !n.shards.empty(); }))
      return;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& n : p.nodes)
      for (std::size_t s = 0; s < n.shards.size(); ++s)
        out += fmt::format("{}{{flow=\"{}\",node=\"{}\",shard=\"{}\"}} {}\n", name, flow,
                           label(n.name), s, n.shards[s].*value);
  };
  shard_metric("aetherflow_node_shard_keys", "gauge", "Keys a shard of a keyed node held.",
               &ShardLoad::keys);
  shard_metric("aetherflow_node_shard_items_total", "counter",
               "Items a shard of a keyed node aggregated.", &ShardLoad::items);

  // Async nodes: their operations, and each one's latency as a summary.
  auto operations_metric = [&](std::string_view name, std::string_view type, std::string_view help,
                               auto value_of) {
    if (std::none_of(p.nodes.begin(), p.nodes.end(), [](auto& n) { return n.operations; })) return;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& n : p.nodes)
      if (n.operations)
        out += fmt::format("{}{{flow=\"{}\",node=\"{}\"}} {}\n", name, flow, label(n.name),
                           value_of(*n.operations));
  };
  operations_metric("aetherflow_node_operations_started_total", "counter",
                    "Operations an async node started, retries included.",
                    [](const OperationsReport& o) { return o.started; });
  operations_metric("aetherflow_node_operations_timed_out_total", "counter",
                    "Operations that did not complete within the node's operation_timeout.",
                    [](const OperationsReport& o) { return o.timed_out; });
  operations_metric("aetherflow_node_operations_late_total", "counter",
                    "Completions that came after their operation was given up on.",
                    [](const OperationsReport& o) { return o.late; });
  operations_metric("aetherflow_node_operations_in_flight_peak", "gauge",
                    "Most operations an async node had in flight at once.",
                    [](const OperationsReport& o) { return o.peak_in_flight; });
  // A real Prometheus histogram per node, of `buckets` (cumulative counts at `le` seconds).
  auto histogram = [&](std::string_view name, std::string_view help, auto has, auto buckets,
                       auto count, auto sum_seconds) {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    for (const auto& n : p.nodes) {
      if (!has(n)) continue;
      const std::string labels = fmt::format("flow=\"{}\",node=\"{}\"", flow, label(n.name));
      for (const auto& [le, c] : buckets(n))
        out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, le, c);
      out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count(n));
      out += fmt::format("{}_sum{{{}}} {}\n", name, labels, sum_seconds(n));
      out += fmt::format("{}_count{{{}}} {}\n", name, labels, count(n));
    }
  };
  if (std::any_of(p.nodes.begin(), p.nodes.end(), [](auto& n) { return n.operations; }))
    histogram(
        "aetherflow_node_operation_duration_seconds",
        "Time from an async node's operation's start to its completion.",
        [](const NodeProfile& n) { return n.operations.has_value(); },
        [](const NodeProfile& n) -> const auto& { return n.operation_buckets; },
        [](const NodeProfile& n) { return n.operation_latency.count; },
        [](const NodeProfile& n) {
          return static_cast<double>(n.operation_latency.mean_ns) *
                 static_cast<double>(n.operation_latency.count) / 1e9;
        });
  histogram(
      "aetherflow_node_call_duration_seconds", "Duration of node calls.",
      [](const NodeProfile&) { return true; },
      [](const NodeProfile& n) -> const auto& { return n.call_buckets; },
      [](const NodeProfile& n) { return n.call_latency.count; },
      [](const NodeProfile& n) { return static_cast<double>(n.busy_ns) / 1e9; });
  out += fmt::format(
      "# HELP aetherflow_flow_wall_seconds Wall time of the run.\n"
      "# TYPE aetherflow_flow_wall_seconds gauge\n"
      "aetherflow_flow_wall_seconds{{flow=\"{}\"}} {}\n"
      "# HELP aetherflow_flow_items_per_second Source items per second over the run.\n"
      "# TYPE aetherflow_flow_items_per_second gauge\n"
      "aetherflow_flow_items_per_second{{flow=\"{}\"}} {}\n",
      flow, static_cast<double>(p.wall_ns) / 1e9, flow, p.items_per_second);
  return out;
}

}  // namespace aetherflow
