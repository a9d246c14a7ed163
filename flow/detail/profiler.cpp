#include <flow/detail/profiler.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <oneapi/tbb/task_arena.h>

#include <contexts/detail/provider.hpp>
#include <flow/detail/resource_args.hpp>

namespace aetherflow::detail {
namespace {

// Prometheus bucket bounds for call latency, in seconds.
constexpr double kBucketBounds[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};

std::string duration_text(std::uint64_t ns) {
  if (ns >= 1'000'000'000) return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(ns) / 1e6);
  if (ns >= 1'000) return fmt::format("{:.2f} us", static_cast<double>(ns) / 1e3);
  return fmt::format("{} ns", ns);
}

std::string percent(double share) {
  return fmt::format("{:.0f}%", share * 100);
}

// The hot spot: the largest share of all busy time.
void name_hot_spot(Profile& p) {
  const auto hot = std::max_element(p.nodes.begin(), p.nodes.end(),
                                    [](auto& a, auto& b) { return a.busy_share < b.busy_share; });
  if (hot == p.nodes.end() || hot->busy_ns == 0) return;
  p.hot_spot = hot->name;
  p.advice.push_back(
      fmt::format("hot spot: '{}' does {} of all the work ({} per item): the place "
                  "to optimise",
                  hot->name, percent(hot->busy_share), duration_text(hot->per_item_ns)));
}

// The bottleneck, in order of evidence: a limited node that is saturated; a node waiting on
// shared resources; the node before which batches queue longest.
void name_bottleneck(Profile& p) {
  const NodeProfile* saturated = nullptr;
  const NodeProfile* waiting = nullptr;
  const NodeProfile* queued = nullptr;
  for (const auto& n : p.nodes) {
    const bool limited = n.concurrency_limit != 0 && n.concurrency_limit < p.threads;
    if (limited && n.kind != "source" && n.utilization >= 0.75 &&
        (!saturated || n.utilization > saturated->utilization))
      saturated = &n;
    const double wait_ratio = n.busy_ns ? static_cast<double>(n.resource_wait_ns) / n.busy_ns : 0;
    if (wait_ratio >= 0.2 &&
        (!waiting ||
         wait_ratio > static_cast<double>(waiting->resource_wait_ns) / waiting->busy_ns))
      waiting = &n;
    if (n.kind != "source" && n.queue_wait.mean_ns > 0 &&
        (!queued || n.queue_wait.mean_ns > queued->queue_wait.mean_ns))
      queued = &n;
  }
  auto resources_hint = [](const NodeProfile& n) {
    std::string hint;
    for (const auto& r : n.shared_resources) hint += fmt::format(" or bind its {} per_thread", r);
    return hint;
  };
  if (saturated) {
    p.bottleneck = saturated->name;
    p.advice.push_back(fmt::format(
        "bottleneck: {} node '{}' is busy {} of the run at concurrency {}: raise its "
        "concurrency{}",
        saturated->concurrency_limit == 1 ? "serial" : "limited", saturated->name,
        percent(saturated->utilization), saturated->concurrency_limit, resources_hint(*saturated)));
  } else if (waiting) {
    p.bottleneck = waiting->name;
    p.advice.push_back(fmt::format(
        "bottleneck: '{}' spends {} of its time waiting for shared resources or pools: bind "
        "them per_thread, or give the pool more instances",
        waiting->name, percent(static_cast<double>(waiting->resource_wait_ns) / waiting->busy_ns)));
  } else if (queued) {
    p.bottleneck = queued->name;
    p.advice.push_back(fmt::format(
        "bottleneck: batches wait longest before '{}' ({} on average, p99 {}): it limits "
        "throughput; make it cheaper or give it more concurrency",
        queued->name, duration_text(queued->queue_wait.mean_ns),
        duration_text(queued->queue_wait.p99_ns)));
  }
}

}  // namespace

Profiler::Profiler(std::size_t nodes, std::size_t threads, std::size_t max_trace_events)
    : nodes_(nodes),
      thread_busy_(threads),
      trace_(std::make_unique_for_overwrite<TraceEvent[]>(max_trace_events)),
      trace_capacity_(max_trace_events) {}

std::uint64_t Profiler::begin(std::size_t node) noexcept {
  NodeRecord& r = nodes_[node];
  const int active = r.active.fetch_add(1, std::memory_order_relaxed) + 1;
  int peak = r.peak.load(std::memory_order_relaxed);
  while (active > peak && !r.peak.compare_exchange_weak(peak, active, std::memory_order_relaxed)) {
  }
  return now();
}

void Profiler::end(std::size_t node, std::uint64_t start, std::uint64_t ready,
                   std::uint64_t items) noexcept {
  const std::uint64_t stop = now();
  const std::uint64_t busy = stop - start;
  NodeRecord& r = nodes_[node];
  r.active.fetch_sub(1, std::memory_order_relaxed);
  r.calls.fetch_add(1, std::memory_order_relaxed);
  r.busy_ns.fetch_add(busy, std::memory_order_relaxed);
  r.call_latency.record(busy);
  if (ready != 0 && start >= ready) r.queue_wait.record(start - ready);
  const int slot = oneapi::tbb::this_task_arena::current_thread_index();
  const auto thread = static_cast<std::size_t>(slot < 0 ? 0 : slot) % thread_busy_.size();
  thread_busy_[thread].fetch_add(busy, std::memory_order_relaxed);
  const std::size_t at = trace_next_.fetch_add(1, std::memory_order_relaxed);
  if (at < trace_capacity_)
    trace_[at] = {static_cast<std::uint32_t>(node), static_cast<std::uint32_t>(thread), start, busy,
                  static_cast<std::uint32_t>(items)};
}

Profile Profiler::build(const FlowData& flow, const Plan& plan, const RunReport& report,
                        const std::vector<std::vector<ProviderBase*>>& resources) const {
  Profile p;
  p.flow = flow.name;
  p.wall_ns = static_cast<std::uint64_t>(report.wall.count());
  p.threads = report.threads;
  p.items = report.source_items();
  p.items_per_second = report.items_per_second();
  p.end_to_end = end_to_end_.summary();

  std::vector<std::size_t> index_of(flow.nodes.size());
  std::uint64_t total_busy = 0;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    const std::size_t id = plan.order[i];
    index_of[id] = i;
    const NodeImpl& impl = *flow.nodes[id].impl;
    const NodeRecord& r = nodes_[id];
    const NodeReport& counted = report.nodes[i];
    NodeProfile n;
    n.name = impl.name();
    n.kind = counted.kind;
    n.concurrency_limit = impl.kind() == NodeKind::source ? serial : impl.concurrency();
    n.calls = r.calls.load();
    n.items_in = counted.in;
    n.items_out = counted.out;
    n.errors = counted.failed + counted.errors;
    n.busy_ns = r.busy_ns.load();
    const std::uint64_t items = impl.kind() == NodeKind::source ? counted.out : counted.in;
    n.per_item_ns = items ? n.busy_ns / items : 0;
    n.call_latency = r.call_latency.summary();
    n.queue_wait = r.queue_wait.summary();
    n.peak_concurrency = static_cast<std::size_t>(r.peak.load());
    const std::size_t usable = n.concurrency_limit == unlimited
                                   ? p.threads
                                   : std::min<std::size_t>(n.concurrency_limit, p.threads);
    n.utilization = p.wall_ns ? static_cast<double>(n.busy_ns) /
                                    (static_cast<double>(p.wall_ns) * static_cast<double>(usable))
                              : 0;
    n.resource_waits = counted.waits;
    n.resource_wait_ns = static_cast<std::uint64_t>(counted.wait_time.count());
    for (const ProviderBase* provider : resources[id])
      if (provider->kind() == ProviderKind::shared)
        n.shared_resources.push_back(type_name(provider->type()));
    for (double bound : kBucketBounds)
      n.call_buckets.emplace_back(
          bound, r.call_latency.count_at_most(static_cast<std::uint64_t>(bound * 1e9)));
    p.errors += n.errors;
    total_busy += n.busy_ns;
    p.nodes.push_back(std::move(n));
  }
  for (auto& n : p.nodes)
    n.busy_share =
        total_busy ? static_cast<double>(n.busy_ns) / static_cast<double>(total_busy) : 0;

  for (std::size_t t = 0; t < thread_busy_.size(); ++t) {
    const std::uint64_t busy = thread_busy_[t].load();
    p.thread_profiles.push_back({t, busy, p.wall_ns > busy ? p.wall_ns - busy : 0});
  }
  const std::size_t recorded = std::min(trace_next_.load(), trace_capacity_);
  p.trace.assign(trace_.get(), trace_.get() + recorded);
  for (auto& e : p.trace) e.node = static_cast<std::uint32_t>(index_of[e.node]);
  p.trace_dropped = trace_next_.load() - recorded;

  name_hot_spot(p);
  name_bottleneck(p);
  return p;
}

}  // namespace aetherflow::detail
