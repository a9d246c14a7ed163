// The outputs of a Profile: JSON (cereal), Chrome trace events, Prometheus text, a table, and
// the service-level check.
#include <flow/profile.hpp>

#include <algorithm>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <cereal/archives/json.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <flow/detail/counter_lines.hpp>
#include <flow/detail/duration_text.hpp>
#include <flow/errors.hpp>

namespace aetherflow {

using detail::duration_text;

// The JSON schema (docs/profiling.md): one object "profile", these fields, in this order.
template <class Archive>
void serialize(Archive& a, LatencySummary& s) {
  a(cereal::make_nvp("count", s.count), cereal::make_nvp("mean_ns", s.mean_ns),
    cereal::make_nvp("p50_ns", s.p50_ns), cereal::make_nvp("p90_ns", s.p90_ns),
    cereal::make_nvp("p99_ns", s.p99_ns), cereal::make_nvp("p999_ns", s.p999_ns),
    cereal::make_nvp("max_ns", s.max_ns));
}
template <class Archive>
void serialize(Archive& a, NodeCounter& c) {
  a(cereal::make_nvp("name", c.name), cereal::make_nvp("value", c.value));
}
template <class Archive>
void serialize(Archive& a, NodeProfile& n) {
  a(cereal::make_nvp("name", n.name), cereal::make_nvp("kind", n.kind),
    cereal::make_nvp("concurrency_limit", n.concurrency_limit),
    cereal::make_nvp("ordered", n.ordered), cereal::make_nvp("calls", n.calls),
    cereal::make_nvp("items_in", n.items_in), cereal::make_nvp("items_out", n.items_out),
    cereal::make_nvp("errors", n.errors), cereal::make_nvp("busy_ns", n.busy_ns),
    cereal::make_nvp("busy_share", n.busy_share), cereal::make_nvp("per_item_ns", n.per_item_ns),
    cereal::make_nvp("call_latency", n.call_latency), cereal::make_nvp("queue_wait", n.queue_wait),
    cereal::make_nvp("peak_concurrency", n.peak_concurrency),
    cereal::make_nvp("utilization", n.utilization),
    cereal::make_nvp("resource_waits", n.resource_waits),
    cereal::make_nvp("resource_wait_ns", n.resource_wait_ns),
    cereal::make_nvp("shared_resources", n.shared_resources),
    cereal::make_nvp("call_buckets", n.call_buckets), cereal::make_nvp("counters", n.counters));
}
template <class Archive>
void serialize(Archive& a, ThreadProfile& t) {
  a(cereal::make_nvp("index", t.index), cereal::make_nvp("busy_ns", t.busy_ns),
    cereal::make_nvp("idle_ns", t.idle_ns));
}
template <class Archive>
void serialize(Archive& a, TraceEvent& e) {
  a(cereal::make_nvp("node", e.node), cereal::make_nvp("thread", e.thread),
    cereal::make_nvp("start_ns", e.start_ns), cereal::make_nvp("duration_ns", e.duration_ns),
    cereal::make_nvp("items", e.items), cereal::make_nvp("wait_ns", e.wait_ns));
}
template <class Archive>
void serialize(Archive& a, Profile& p) {
  a(cereal::make_nvp("flow", p.flow), cereal::make_nvp("wall_ns", p.wall_ns),
    cereal::make_nvp("threads", p.threads), cereal::make_nvp("items", p.items),
    cereal::make_nvp("items_per_second", p.items_per_second), cereal::make_nvp("errors", p.errors),
    cereal::make_nvp("end_to_end", p.end_to_end), cereal::make_nvp("nodes", p.nodes),
    cereal::make_nvp("thread_profiles", p.thread_profiles),
    cereal::make_nvp("hot_spot", p.hot_spot), cereal::make_nvp("bottleneck", p.bottleneck),
    cereal::make_nvp("advice", p.advice), cereal::make_nvp("trace", p.trace),
    cereal::make_nvp("trace_dropped", p.trace_dropped));
}

namespace {

// A string as a JSON string literal.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

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

// What of the run the trace covers, in one line.
std::string trace_coverage(const Profile& p) {
  if (p.trace_dropped == 0) return fmt::format("every call ({})", p.trace.size());
  return fmt::format(
      "{} of {} calls, sampled evenly over the whole run (RunOptions::trace_events raises the "
      "cap)",
      p.trace.size(), p.trace.size() + p.trace_dropped);
}

}  // namespace

const NodeProfile& Profile::node(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return n;
  throw std::out_of_range(fmt::format("profile of flow '{}' has no node '{}'", flow, name));
}

std::string to_json(const Profile& profile) {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive archive(out);
    archive(cereal::make_nvp("profile", const_cast<Profile&>(profile)));
  }
  return out.str();
}

Profile profile_from_json(const std::string& json) {
  Profile profile;
  try {
    std::istringstream in(json);
    cereal::JSONInputArchive archive(in);
    archive(cereal::make_nvp("profile", profile));
  } catch (const std::exception& e) {
    throw Error(std::string("profile_from_json: not a profile: ") + e.what());
  }
  // The outputs index the nodes by trace events' node numbers.
  for (std::size_t i = 0; i < profile.trace.size(); ++i)
    if (profile.trace[i].node >= profile.nodes.size())
      throw Error(fmt::format(
          "profile_from_json: not a profile: trace event {} names node {}, but there are {} nodes",
          i, profile.trace[i].node, profile.nodes.size()));
  return profile;
}

std::string to_chrome_trace(const Profile& p) {
  std::string out = "{\"traceEvents\":[\n";
  out +=
      fmt::format("{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{{\"name\":{}}}}}",
                  json_string("aetherflow flow " + p.flow));
  for (const auto& t : p.thread_profiles)
    out += fmt::format(
        ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":"
        "\"worker {}\"}}}}",
        t.index, t.index);
  auto slice = [&](std::string_view name, std::string_view category, std::uint32_t thread,
                   std::uint64_t start_ns, std::uint64_t duration_ns, std::string_view args) {
    out += fmt::format(
        ",\n{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{:.3f},"
        "\"dur\":{:.3f},\"args\":{{{}}}}}",
        json_string(name), json_string(category), thread, static_cast<double>(start_ns) / 1e3,
        static_cast<double>(duration_ns) / 1e3, args);
  };
  for (const auto& e : p.trace) {
    const NodeProfile& n = p.nodes[e.node];
    slice(n.name, n.kind, e.thread, e.start_ns, e.duration_ns,
          fmt::format("\"items\":{},\"wait_ns\":{}", e.items, e.wait_ns));
    // A call's waits for locks and pools are not its work: drawn as a slice of their own
    // inside the call (at its start: a call records how long it waited, not when).
    if (e.wait_ns > 0)
      slice("waiting for " + (n.shared_resources.empty()
                                  ? std::string("a pool")
                                  : fmt::format("{}", fmt::join(n.shared_resources, ", "))),
            "wait", e.thread, e.start_ns, std::min(e.wait_ns, e.duration_ns),
            fmt::format("\"node\":{}", json_string(n.name)));
  }
  const std::uint64_t calls = p.trace.size() + p.trace_dropped;
  out += fmt::format(
      "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"flow\":{},\"calls\":{},"
      "\"traced_calls\":{},\"dropped_events\":{},\"sampling\":{}}}}}\n",
      json_string(p.flow), calls, p.trace.size(), p.trace_dropped, json_string(trace_coverage(p)));
  return out;
}

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

  const char* hist = "aetherflow_node_call_duration_seconds";
  out += fmt::format("# HELP {} Duration of node calls.\n# TYPE {} histogram\n", hist, hist);
  for (const auto& n : p.nodes) {
    for (const auto& [le, count] : n.call_buckets)
      out += fmt::format("{}_bucket{{flow=\"{}\",node=\"{}\",le=\"{}\"}} {}\n", hist, flow,
                         label(n.name), le, count);
    out += fmt::format("{}_bucket{{flow=\"{}\",node=\"{}\",le=\"+Inf\"}} {}\n", hist, flow,
                       label(n.name), n.call_latency.count);
    out += fmt::format("{}_sum{{flow=\"{}\",node=\"{}\"}} {}\n", hist, flow, label(n.name),
                       static_cast<double>(n.busy_ns) / 1e9);
    out += fmt::format("{}_count{{flow=\"{}\",node=\"{}\"}} {}\n", hist, flow, label(n.name),
                       n.call_latency.count);
  }
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
  fmt::print(os, "  threads:");
  for (const auto& t : p.thread_profiles)
    fmt::print(
        os, " #{} busy {:.0f}%", t.index,
        p.wall_ns ? 100.0 * static_cast<double>(t.busy_ns) / static_cast<double>(p.wall_ns) : 0.0);
  fmt::print(os, "\n");
  if (p.trace_dropped > 0) fmt::print(os, "  trace: {}\n", trace_coverage(p));
  for (const auto& line : p.advice) fmt::print(os, "  {}\n", line);
  return os;
}

std::vector<SlaClause> check(const Profile& p, const Sla& sla) {
  std::vector<SlaClause> clauses;
  auto clause = [&](std::string name, bool pass, double measured, double limit, std::string text) {
    clauses.push_back({std::move(name), pass, measured, limit,
                       fmt::format("{}: {} ({})", pass ? "pass" : "FAIL", text,
                                   pass ? "within the objective" : "outside the objective")});
  };
  if (sla.max_p99_latency_ns) {
    const auto measured = static_cast<double>(p.end_to_end.p99_ns);
    const auto limit = static_cast<double>(*sla.max_p99_latency_ns);
    clause("p99 latency", measured <= limit, measured, limit,
           fmt::format("end-to-end p99 {} against at most {}", duration_text(p.end_to_end.p99_ns),
                       duration_text(*sla.max_p99_latency_ns)));
  }
  if (sla.min_items_per_second)
    clause("throughput", p.items_per_second >= *sla.min_items_per_second, p.items_per_second,
           *sla.min_items_per_second,
           fmt::format("{:.0f} items/s against at least {:.0f}", p.items_per_second,
                       *sla.min_items_per_second));
  if (sla.max_error_rate) {
    const double rate = p.items ? static_cast<double>(p.errors) / static_cast<double>(p.items) : 0;
    clause("error rate", rate <= *sla.max_error_rate, rate, *sla.max_error_rate,
           fmt::format("error rate {:.4f} against at most {:.4f}", rate, *sla.max_error_rate));
  }
  return clauses;
}

}  // namespace aetherflow
