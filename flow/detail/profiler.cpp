#include <flow/detail/profiler.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <contexts/detail/provider.hpp>
#include <flow/detail/advice.hpp>
#include <flow/detail/operations.hpp>
#include <flow/detail/resource_args.hpp>
#include <flow/detail/type_name.hpp>

namespace aetherflow::detail {
void Profiler::start(std::size_t nodes, std::size_t threads, std::size_t max_trace_events) {
  slots_.resize(threads);
  for (Slot& s : slots_) {
    s.nodes.assign(nodes, NodeRecord{});
    s.end_to_end = {};
    s.trace.clear();
    s.calls = 0;
    s.stride = 1;
    // Each slot may come near the cap: build() then samples the slots' events evenly. Pages
    // are touched only as events arrive.
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
    n.concurrency_limit = impl.shape() == Shape::source ? serial
                          : counted.adaptive            ? counted.adaptive->limit
                                                        : impl.concurrency();
    n.ordered = impl.options().ordered;
    n.calls = r.call_latency.count();
    n.items_in = counted.in;
    n.items_out = counted.out;
    n.errors = counted.failed + counted.errors;
    // A suspended async call's awaited time is not busy: its thread ran other calls meanwhile.
    const auto awaited = static_cast<std::uint64_t>(counted.awaited.count());
    n.busy_ns = ns(r.call_latency.sum());
    n.busy_ns -= std::min(n.busy_ns, awaited);
    const std::uint64_t items = impl.shape() == Shape::source ? counted.out : counted.in;
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
    n.call_buckets = r.call_latency.cumulative(ns_per_tick / 1e9);  // in seconds
    n.counters = counted.counters;
    n.shards = counted.shards;
    n.operations = counted.operations;
    if (const OperationGate* ops = impl.operations()) {
      const Histogram latency = ops->latency();
      n.operation_latency = latency.summary();
      n.operation_buckets = latency.cumulative(1e-9);  // in seconds
      n.in_flight = ops->in_flight();
    }
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
    std::uint64_t busy = ns(ticks);
    busy -= std::min(busy, slots_[t].awaited_ns);
    p.thread_profiles.push_back({t, busy, p.wall_ns > busy ? p.wall_ns - busy : 0});
  }
  std::size_t events = 0;
  for (const Slot& s : slots_) events += s.trace.size();
  p.trace.resize(events);
  TraceEvent* out = p.trace.data();
  for (const Slot& s : slots_)
    for (const TraceEvent& e : s.trace)
      *out++ = {static_cast<std::uint32_t>(index_of[e.node]),
                e.thread,
                ns(e.start_ns - std::min(e.start_ns, start_ticks_)),
                ns(e.duration_ns),
                e.items,
                e.wait_ns};
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

  // Trace viewers order events themselves: only over the cap are they sorted, to keep events
  // evenly spaced in time over the whole run.
  std::uint64_t calls = 0;
  for (const Slot& s : slots_) calls += s.calls;
  if (p.trace.size() > trace_capacity_) {
    std::sort(p.trace.begin(), p.trace.end(),
              [](const TraceEvent& a, const TraceEvent& b) { return a.start_ns < b.start_ns; });
    const double step = static_cast<double>(p.trace.size()) / static_cast<double>(trace_capacity_);
    for (std::size_t i = 0; i < trace_capacity_; ++i)
      p.trace[i] = p.trace[static_cast<std::size_t>(static_cast<double>(i) * step)];
    p.trace.resize(trace_capacity_);
  }
  p.trace_dropped = calls - p.trace.size();

  advise(p);
  return p;
}

}  // namespace aetherflow::detail
