#pragma once
// What the run records when it is profiled, as an observer of every node's calls
// (run/call_observer.hpp), and the analysis that turns it into a
// Profile. Per node call (a batch): two reads of the CPU's timestamp counter, and plain
// counters and a trace event in the calling worker's own slot: nothing shared, no atomics.
// Slots are merged, ticks converted to nanoseconds, and peak concurrency found from the trace's
// intervals when the run ends.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/histogram.hpp>
#include <flow/detail/plan.hpp>
#include <flow/detail/run/call_clock.hpp>
#include <flow/detail/run/call_observer.hpp>
#include <flow/profile.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

class ProviderBase;

class Profiler final : public CallObserver {
 public:
  // Readies the profiler for a new run: counters zeroed, trace emptied, buffers kept.
  void start(std::size_t nodes, std::size_t threads, std::size_t max_trace_events);

  // A timestamp in ticks: the clock observers of calls are given (call_clock.hpp).
  static std::uint64_t now() noexcept { return CallClock::now(); }

  // A call ended: its latency, its queue wait (from when its input became ready), for a sink
  // the end-to-end latency of its source batch, and maybe a trace event.
  void call_ended(const ObservedCall& call) noexcept override {
    Slot& s = slot();
    NodeRecord& r = s.nodes[call.node];
    r.call_latency.record(call.end - call.start);  // also the node's calls and busy time
    if (call.ready != 0 && call.start >= call.ready) r.queue_wait.record(call.start - call.ready);
    s.awaited_ns += static_cast<std::uint64_t>(call.counts.awaited.count());
    const bool sink = call.impl.output_type() == nullptr;
    if (sink && call.emitted != 0 && call.end >= call.emitted)
      s.end_to_end.record(call.end - call.emitted);
    if (s.sampled_call() && trace_capacity_ != 0) {
      const std::uint64_t items = std::max(call.counts.in, call.counts.out);
      s.trace.push_back(
          {static_cast<std::uint32_t>(call.node), static_cast<std::uint32_t>(&s - slots_.data()),
           call.start, call.end - call.start, static_cast<std::uint32_t>(items),
           static_cast<std::uint64_t>((call.counts.wait_time + call.counts.awaited).count())});
      if (s.trace.size() >= trace_capacity_) s.thin();
    }
  }

  Profile build(const FlowData& flow, const Plan& plan, const RunReport& report,
                const std::vector<std::vector<ProviderBase*>>& resources) const;

 private:
  struct NodeRecord {
    Histogram call_latency, queue_wait;
  };
  // Everything one worker thread records; only that thread writes it during the run. Each on
  // its own cache lines: adjacent slots sharing one made the workers stall on each other.
  // The trace keeps a sample spread over the whole run, not its first calls: each slot records
  // every `stride`-th call of its thread, and when it reaches the cap it keeps every other
  // event and doubles the stride. So a slot holds fewer than cap events, evenly spaced in its
  // thread's calls, with memory bounded however long the run.
  struct alignas(64) Slot {
    std::vector<NodeRecord> nodes;
    Histogram end_to_end;
    std::vector<TraceEvent> trace;  // times in ticks until build()
    std::uint64_t calls = 0;        // this thread's calls so far
    std::uint64_t awaited_ns = 0;   // of its calls' time, suspended (async nodes): not busy
    std::uint64_t stride = 1;       // a power of two
    bool sampled_call() noexcept { return (calls++ & (stride - 1)) == 0; }
    void thin() noexcept {
      std::size_t kept = 0;
      for (std::size_t i = 0; i < trace.size(); i += 2) trace[kept++] = trace[i];
      trace.resize(kept);
      stride *= 2;
    }
  };
  Slot& slot() noexcept {
    const int index = oneapi::tbb::this_task_arena::current_thread_index();
    return slots_[static_cast<std::size_t>(index < 0 ? 0 : index) % slots_.size()];
  }

  std::uint64_t start_ticks_ = 0;
  std::chrono::steady_clock::time_point start_time_;
  std::vector<Slot> slots_;
  std::size_t trace_capacity_ = 0;
};

}  // namespace aetherflow::detail
