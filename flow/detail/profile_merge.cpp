#include <flow/detail/profile_merge.hpp>

#include <algorithm>

#include <flow/detail/advice.hpp>

namespace aetherflow::detail {
namespace {

// The count and mean over every rank; the percentiles and maximum the worst rank's.
void add_latency(LatencySummary& into, const LatencySummary& more) {
  const std::uint64_t count = into.count + more.count;
  if (count) into.mean_ns = (into.mean_ns * into.count + more.mean_ns * more.count) / count;
  into.count = count;
  into.p50_ns = std::max(into.p50_ns, more.p50_ns);
  into.p90_ns = std::max(into.p90_ns, more.p90_ns);
  into.p99_ns = std::max(into.p99_ns, more.p99_ns);
  into.p999_ns = std::max(into.p999_ns, more.p999_ns);
  into.max_ns = std::max(into.max_ns, more.max_ns);
}

// Cumulative counts at the same bounds (every rank's profiler uses the same ones).
void add_buckets(std::vector<std::pair<double, std::uint64_t>>& into,
                 const std::vector<std::pair<double, std::uint64_t>>& more) {
  if (into.empty()) {
    into = more;
    return;
  }
  for (std::size_t b = 0; b < into.size() && b < more.size(); ++b) into[b].second += more[b].second;
}

void add_node(NodeProfile& into, const NodeProfile& more, std::uint32_t rank) {
  into.calls += more.calls;
  into.items_in += more.items_in;
  into.items_out += more.items_out;
  into.errors += more.errors;
  into.busy_ns += more.busy_ns;
  add_latency(into.call_latency, more.call_latency);
  add_latency(into.queue_wait, more.queue_wait);
  into.peak_concurrency += more.peak_concurrency;  // the ranks run at once
  into.utilization += more.utilization;            // averaged below
  into.resource_waits += more.resource_waits;
  into.resource_wait_ns += more.resource_wait_ns;
  add_buckets(into.call_buckets, more.call_buckets);
  add_counters(into.counters, more.counters);
  add_shards(into.shards, more.shards, rank);
  add_operations(into.operations, more.operations);
  add_latency(into.operation_latency, more.operation_latency);
  add_buckets(into.operation_buckets, more.operation_buckets);
}

}  // namespace

void add_counters(std::vector<NodeCounter>& into, const std::vector<NodeCounter>& more) {
  for (const auto& c : more) {
    const auto it = std::find_if(into.begin(), into.end(),
                                 [&](const NodeCounter& x) { return x.name == c.name; });
    if (it == into.end())
      into.push_back(c);
    else
      it->value += c.value;
  }
}

void add_shards(std::vector<ShardLoad>& into, const std::vector<ShardLoad>& more,
                std::uint32_t rank) {
  for (ShardLoad shard : more) {
    shard.rank = rank;
    into.push_back(shard);
  }
}

void add_operations(std::optional<OperationsReport>& into,
                    const std::optional<OperationsReport>& more) {
  if (!more) return;
  if (!into) {
    into = more;
    return;
  }
  into->max_in_flight += more->max_in_flight;
  into->peak_in_flight += more->peak_in_flight;
  into->started += more->started;
  into->completed += more->completed;
  into->timed_out += more->timed_out;
  into->abandoned += more->abandoned;
  into->late += more->late;
}

Profile merge_profiles(const std::vector<Profile>& ranks) {
  Profile job;
  if (ranks.empty()) return job;
  job.flow = ranks.front().flow;
  for (const NodeProfile& n : ranks.front().nodes) {
    NodeProfile empty;
    empty.name = n.name;
    empty.kind = n.kind;
    empty.concurrency_limit = n.concurrency_limit;
    empty.ordered = n.ordered;
    empty.shared_resources = n.shared_resources;
    job.nodes.push_back(std::move(empty));
  }
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const Profile& p = ranks[r];
    job.wall_ns = std::max(job.wall_ns, p.wall_ns);
    job.threads += p.threads;
    job.items += p.items;
    job.errors += p.errors;
    add_latency(job.end_to_end, p.end_to_end);
    for (std::size_t i = 0; i < job.nodes.size() && i < p.nodes.size(); ++i)
      add_node(job.nodes[i], p.nodes[i], static_cast<std::uint32_t>(r));
    const auto base = static_cast<std::uint32_t>(r * kThreadsPerRank);
    for (ThreadProfile t : p.thread_profiles) {
      t.index += base;
      job.thread_profiles.push_back(t);
    }
    for (TraceEvent e : p.trace) {
      e.thread += base;
      job.trace.push_back(e);
    }
    job.trace_dropped += p.trace_dropped;
  }
  const double seconds = static_cast<double>(job.wall_ns) / 1e9;
  job.items_per_second = seconds > 0 ? static_cast<double>(job.items) / seconds : 0;
  std::uint64_t busy = 0;
  for (const auto& n : job.nodes) busy += n.busy_ns;
  for (auto& n : job.nodes) {
    n.utilization /= static_cast<double>(ranks.size());
    n.busy_share = busy ? static_cast<double>(n.busy_ns) / static_cast<double>(busy) : 0;
    const std::uint64_t items = n.kind == "source" ? n.items_out : n.items_in;
    n.per_item_ns = items ? n.busy_ns / items : 0;
  }
  advise(job);
  return job;
}

}  // namespace aetherflow::detail
