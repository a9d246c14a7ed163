#pragma once
// The profile of a run: per node busy time, call latency, queue wait and utilisation; per
// flow end-to-end latency and per-thread busy time; the hot spot, the bottleneck, and what to
// do about them. Produced when RunOptions::profile is set (or AETHERFLOW_PROFILE names a
// directory), in RunReport::profile.
//
//   auto report = flow.run({.profile = true});
//   std::cout << *report.profile;                       // the table, hot spot first
//   write(to_chrome_trace(*report.profile));            // open in Perfetto / chrome://tracing

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <flow/report.hpp>

namespace aetherflow {

// A latency distribution, in nanoseconds, read from fixed log-scaled buckets (8 per power of
// two: a percentile is the upper bound of its bucket, within 12.5% of the true value).
struct LatencySummary {
  std::uint64_t count = 0;
  std::uint64_t mean_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  bool operator==(const LatencySummary&) const = default;
};

// An async node's operations in flight at one moment of the run (flow/async.hpp).
struct InFlightSample {
  std::uint64_t at_ns = 0;  // since the run started
  std::uint32_t in_flight = 0;
  bool operator==(const InFlightSample&) const = default;
};

struct NodeProfile {
  std::string name;
  std::string kind;
  std::size_t concurrency_limit = 0;  // 0: unlimited
  bool ordered = false;               // an ordered sink: one call at a time, whatever its limit
  std::uint64_t calls = 0;            // node calls; a call processes one batch
  std::uint64_t items_in = 0, items_out = 0;
  std::uint64_t errors = 0;          // failed items and recovered exceptions
  std::uint64_t busy_ns = 0;         // time spent in the node's calls, less their awaited time
  double busy_share = 0;             // of all nodes' busy time: the hot-spot ranking
  std::uint64_t per_item_ns = 0;     // busy time / items in (sources: items out)
  LatencySummary call_latency;       // one call: one batch
  LatencySummary queue_wait;         // a batch ready for the node -> the call starts
  std::size_t peak_concurrency = 0;  // most calls running at once
  double utilization = 0;            // busy / (wall x usable concurrency)
  std::uint64_t resource_waits = 0;  // calls that waited for a shared lock or a pool
  std::uint64_t resource_wait_ns = 0;
  std::vector<std::string> shared_resources;  // types bound `shared` that the node uses
  // Cumulative call counts at the Prometheus bucket bounds (le, in seconds).
  std::vector<std::pair<double, std::uint64_t>> call_buckets;
  std::vector<NodeCounter> counters;  // the callable's own, as in the run report
  std::vector<ShardLoad> shards;      // keyed nodes: keys and items per shard, as in the report
  // Async nodes: as in the report, each operation's latency (started -> completed), and the
  // operations in flight over the run, a sample at most every millisecond or so (fewer on a
  // long run: at most 4096, spread over all of it).
  std::optional<OperationsReport> operations;
  LatencySummary operation_latency;
  std::vector<std::pair<double, std::uint64_t>> operation_buckets;  // as call_buckets
  std::vector<InFlightSample> in_flight;
  bool operator==(const NodeProfile&) const = default;
};

// On a cluster run's job profile (rank 0's, docs/distributed.md), threads are numbered
// rank x kThreadsPerRank + worker, in ThreadProfile::index and TraceEvent::thread: the Chrome
// trace gives each rank a pid of its own.
inline constexpr std::uint32_t kThreadsPerRank = 1u << 16;

struct ThreadProfile {
  std::size_t index = 0;  // worker slot in the run's task_arena
  std::uint64_t busy_ns = 0, idle_ns = 0;
  bool operator==(const ThreadProfile&) const = default;
};

// One node call on one thread: a slice of the Chrome trace.
struct TraceEvent {
  std::uint32_t node = 0;  // index into Profile::nodes
  std::uint32_t thread = 0;
  std::uint64_t start_ns = 0;  // since the run started
  std::uint64_t duration_ns = 0;
  std::uint32_t items = 0;
  // Of the duration, the time the call waited for shared resources' locks and pools, or an
  // async node's call for its operations (ItemCounts::awaited): it is not work, and the trace
  // draws it apart from the call's work.
  std::uint64_t wait_ns = 0;
  bool operator==(const TraceEvent&) const = default;
};

struct Profile {
  std::string flow;
  std::uint64_t wall_ns = 0;
  std::size_t threads = 0;
  std::uint64_t items = 0;  // emitted by the sources
  double items_per_second = 0;
  std::uint64_t errors = 0;        // over all nodes
  LatencySummary end_to_end;       // a source batch emitted -> a sink done with its items
  std::vector<NodeProfile> nodes;  // in flow order
  std::vector<ThreadProfile> thread_profiles;
  std::string hot_spot;             // the node with the largest busy share
  std::string bottleneck;           // the node that limits throughput; empty if none stands out
  std::vector<std::string> advice;  // one line for the hot spot, one for the bottleneck
  // At most RunOptions::trace_events calls: every call, or when the run made more, a sample
  // spread evenly over the whole run.
  std::vector<TraceEvent> trace;
  std::uint64_t trace_dropped = 0;  // calls left out of the trace

  const NodeProfile& node(std::string_view name) const;  // std::out_of_range if none
  bool operator==(const Profile&) const = default;
};

// A service-level objective, checked clause by clause against a profile.
struct Sla {
  std::optional<std::uint64_t> max_p99_latency_ns = std::nullopt;  // end to end
  std::optional<double> min_items_per_second = std::nullopt;
  std::optional<double> max_error_rate = std::nullopt;  // errors / items
};
struct SlaClause {
  std::string name;  // "p99 latency", "throughput", "error rate"
  bool pass = false;
  double measured = 0, limit = 0;
  std::string text;  // one line, pass or fail with both numbers
};
std::vector<SlaClause> check(const Profile& profile, const Sla& sla);

// The outputs. JSON (cereal) loads back into an equal Profile; the schema is in
// docs/profiling.md.
std::string to_json(const Profile& profile);
Profile profile_from_json(const std::string& json);  // aetherflow::Error if malformed
std::string to_chrome_trace(
    const Profile& profile);                        // trace-event JSON: Perfetto, chrome://tracing
std::string to_prometheus(const Profile& profile);  // text exposition format
// The table, nodes by busy time, then the hot spot, the bottleneck and the advice.
std::ostream& operator<<(std::ostream& os, const Profile& profile);

}  // namespace aetherflow
