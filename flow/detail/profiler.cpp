#include <flow/detail/profiler.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <contexts/detail/provider.hpp>
#include <flow/detail/duration_text.hpp>
#include <flow/detail/resource_args.hpp>

namespace aetherflow::detail {
namespace {

// Prometheus bucket bounds for call latency, in seconds.
constexpr double kBucketBounds[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};

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
// shared resources; a node before which batches wait longer than it takes to run them; else
// the hot spot, if it keeps the threads busy (its cost then bounds throughput).
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
    // Batches waiting longer than the node takes to run them: work piles up before it.
    if (n.kind != "source" && n.queue_wait.mean_ns > 0 &&
        n.queue_wait.mean_ns >= n.call_latency.mean_ns &&
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
    const std::string what =
        waiting->shared_resources.empty()
            ? std::string("an empty pool: give the pool more instances")
            : fmt::format("the lock of its shared {}: bind it per_thread (or pooled)",
                          fmt::join(waiting->shared_resources, ", "));
    p.advice.push_back(fmt::format("bottleneck: '{}' spends {} of its time waiting for {}",
                                   waiting->name,
                                   percent(static_cast<double>(waiting->resource_wait_ns) /
                                           static_cast<double>(waiting->busy_ns)),
                                   what));
  } else if (queued) {
    p.bottleneck = queued->name;
    p.advice.push_back(fmt::format(
        "bottleneck: batches wait longest before '{}' ({} on average, p99 {}): it limits "
        "throughput; make it cheaper or give it more concurrency",
        queued->name, duration_text(queued->queue_wait.mean_ns),
        duration_text(queued->queue_wait.p99_ns)));
  } else if (const NodeProfile* hot = p.hot_spot.empty() ? nullptr : &p.node(p.hot_spot);
             hot && hot->utilization >= 0.5) {
    p.bottleneck = hot->name;
    p.advice.push_back(fmt::format(
        "bottleneck: '{}' keeps its threads busy {} of the run: throughput is bounded by its "
        "cost per item; make it cheaper, or run on more cores",
        hot->name, percent(hot->utilization)));
  }
}

}  // namespace

void Profiler::start(std::size_t nodes, std::size_t threads, std::size_t max_trace_events) {
  slots_.resize(threads);
  for (Slot& s : slots_) {
    s.nodes.assign(nodes, NodeRecord{});
    s.end_to_end = {};
    s.trace.clear();
    s.trace_dropped = 0;
    // Each slot may fill the whole cap: the earliest events over all slots are kept. Pages are
    // touched only as events arrive.
    s.trace.reserve(max_trace_events);
  }
  trace_capacity_ = max_trace_events;
  start_ticks_ = now();
  start_time_ = std::chrono::steady_clock::now();
}

Profile Profiler::build(const FlowData& flow, const Plan& plan, const RunReport& report,
                        const std::vector<std::vector<ProviderBase*>>& resources) const {
  Profile p;
  p.flow = flow.name;
  p.wall_ns = static_cast<std::uint64_t>(report.wall.count());
  p.threads = report.threads;
  p.items = report.source_items();
  p.items_per_second = report.items_per_second();

  // Ticks to nanoseconds, from the run's own wall time (the timestamp counter's rate).
  const std::uint64_t elapsed_ticks = now() - start_ticks_;
  const auto elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - start_time_)
                              .count();
  const double ns_per_tick =
      elapsed_ticks ? static_cast<double>(elapsed_ns) / static_cast<double>(elapsed_ticks) : 1.0;
  // Through signed integers: x86 converts those to and from double in one instruction each.
  // Tick counts within a run are far below 2^63.
  auto ns = [ns_per_tick](std::uint64_t ticks) {
    const auto scaled = static_cast<double>(static_cast<std::int64_t>(ticks)) * ns_per_tick;
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(scaled));
  };

  Histogram end_to_end;
  for (const Slot& s : slots_) end_to_end.merge(s.end_to_end);
  p.end_to_end = end_to_end.summary(ns_per_tick);

  std::vector<std::size_t> index_of(flow.nodes.size());
  std::uint64_t total_busy = 0;
  for (std::size_t i = 0; i < plan.order.size(); ++i) {
    const std::size_t id = plan.order[i];
    index_of[id] = i;
    const NodeImpl& impl = *flow.nodes[id].impl;
    NodeRecord r;
    for (const Slot& s : slots_) {
      r.call_latency.merge(s.nodes[id].call_latency);
      r.queue_wait.merge(s.nodes[id].queue_wait);
    }
    const NodeReport& counted = report.nodes[i];
    NodeProfile n;
    n.name = impl.name();
    n.kind = counted.kind;
    n.concurrency_limit = impl.kind() == NodeKind::source ? serial
                          : counted.adaptive              ? counted.adaptive->limit
                                                          : impl.concurrency();
    n.calls = r.call_latency.count();
    n.items_in = counted.in;
    n.items_out = counted.out;
    n.errors = counted.failed + counted.errors;
    n.busy_ns = ns(r.call_latency.sum());
    const std::uint64_t items = impl.kind() == NodeKind::source ? counted.out : counted.in;
    n.per_item_ns = items ? n.busy_ns / items : 0;
    n.call_latency = r.call_latency.summary(ns_per_tick);
    n.queue_wait = r.queue_wait.summary(ns_per_tick);
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
          bound,
          r.call_latency.count_at_most(static_cast<std::uint64_t>(bound * 1e9 / ns_per_tick)));
    n.counters = counted.counters;
    p.errors += n.errors;
    total_busy += n.busy_ns;
    p.nodes.push_back(std::move(n));
  }
  for (auto& n : p.nodes)
    n.busy_share =
        total_busy ? static_cast<double>(n.busy_ns) / static_cast<double>(total_busy) : 0;

  for (std::size_t t = 0; t < slots_.size(); ++t) {
    std::uint64_t ticks = 0;
    for (const NodeRecord& r : slots_[t].nodes) ticks += r.call_latency.sum();
    const std::uint64_t busy = ns(ticks);
    p.thread_profiles.push_back({t, busy, p.wall_ns > busy ? p.wall_ns - busy : 0});
  }
  std::size_t events = 0;
  for (const Slot& s : slots_) events += s.trace.size();
  p.trace.resize(events);
  TraceEvent* out = p.trace.data();
  for (const Slot& s : slots_)
    for (const TraceEvent& e : s.trace)
      *out++ = {static_cast<std::uint32_t>(index_of[e.node]), e.thread,
                ns(e.start_ns - std::min(e.start_ns, start_ticks_)), ns(e.duration_ns), e.items};
  // Peak concurrency per node: the most workers in it at once, which is reached when one of
  // them starts a call. Each worker's calls are recorded in order and never overlap, so for
  // each call start one cursor per other worker, only ever moving forward, finds what that
  // worker was doing then: linear in the events for each pair of workers. A serial node's peak
  // is 1 once it was called; no sweep needed. Exact while every call is in the trace; over the
  // cap, the peak among the calls recorded.
  {
    std::vector<std::size_t> peak(flow.nodes.size(), 0);
    std::vector<bool> swept(flow.nodes.size());
    for (std::size_t id = 0; id < flow.nodes.size(); ++id) {
      const NodeProfile& n = p.nodes[index_of[id]];
      swept[id] = n.concurrency_limit != serial;
      if (!swept[id]) peak[id] = n.calls ? 1 : 0;
    }
    std::vector<const TraceEvent*> cursor(slots_.size());
    for (std::size_t w = 0; w < slots_.size(); ++w) {
      for (std::size_t v = 0; v < slots_.size(); ++v) cursor[v] = slots_[v].trace.data();
      for (const TraceEvent& e : slots_[w].trace) {
        if (!swept[e.node]) continue;
        std::size_t inside = 1;
        for (std::size_t v = 0; v < slots_.size(); ++v) {
          if (v == w) continue;
          const TraceEvent*& c = cursor[v];
          const TraceEvent* const last = slots_[v].trace.data() + slots_[v].trace.size();
          while (c != last && c->start_ns + c->duration_ns <= e.start_ns) ++c;  // ended by then
          inside += c != last && c->start_ns <= e.start_ns && c->node == e.node;
        }
        peak[e.node] = std::max(peak[e.node], inside);
      }
    }
    for (std::size_t id = 0; id < flow.nodes.size(); ++id)
      p.nodes[index_of[id]].peak_concurrency = peak[id];
  }

  // Trace viewers order events themselves: only over the cap are the earliest picked out.
  for (const Slot& s : slots_) p.trace_dropped += s.trace_dropped;
  if (p.trace.size() > trace_capacity_) {
    std::nth_element(
        p.trace.begin(), p.trace.begin() + static_cast<std::ptrdiff_t>(trace_capacity_),
        p.trace.end(),
        [](const TraceEvent& a, const TraceEvent& b) { return a.start_ns < b.start_ns; });
    p.trace_dropped += p.trace.size() - trace_capacity_;
    p.trace.resize(trace_capacity_);
  }

  name_hot_spot(p);
  name_bottleneck(p);
  return p;
}

}  // namespace aetherflow::detail
