#pragma once
// What the executor records when a run is profiled, and the analysis that turns it into a
// Profile. Per node call (a batch): two reads of the CPU's timestamp counter, and plain
// counters and a trace event in the calling worker's own slot: nothing shared, no atomics.
// Slots are merged, ticks converted to nanoseconds, and peak concurrency found from the trace's
// intervals when the run ends.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <oneapi/tbb/task_arena.h>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/histogram.hpp>
#include <flow/detail/plan.hpp>
#include <flow/profile.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

class ProviderBase;

class Profiler {
 public:
  // Readies the profiler for a new run: counters zeroed, trace emptied, buffers kept.
  void start(std::size_t nodes, std::size_t threads, std::size_t max_trace_events);

  // A timestamp in ticks: the CPU's timestamp counter where there is one (about 7 ns to read),
  // else steady_clock nanoseconds.
  static std::uint64_t now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
#endif
  }

  // That call ended; returns the end time, which is also when its outputs became ready.
  // `ready`: when its batch became ready for the node (0: unknown). `emitted`: for a sink,
  // when the source emitted the batch (0: not a sink), for end-to-end latency. `waited_ns`:
  // how long the call waited for shared resources' locks and pools.
  std::uint64_t end(std::size_t node, std::uint64_t start, std::uint64_t ready,
                    std::uint64_t emitted, std::uint64_t items, std::uint64_t waited_ns) noexcept {
    const std::uint64_t stop = now();
    Slot& s = slot();
    NodeRecord& r = s.nodes[node];
    r.call_latency.record(stop - start);  // also the node's calls and busy time
    if (ready != 0 && start >= ready) r.queue_wait.record(start - ready);
    if (emitted != 0 && stop >= emitted) s.end_to_end.record(stop - emitted);
    if (s.sampled_call() && trace_capacity_ != 0) {
      s.trace.push_back({static_cast<std::uint32_t>(node),
                         static_cast<std::uint32_t>(&s - slots_.data()), start, stop - start,
                         static_cast<std::uint32_t>(items), waited_ns});
      if (s.trace.size() >= trace_capacity_) s.thin();
    }
    return stop;
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
