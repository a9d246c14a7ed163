#pragma once
// What the executor records when a run is profiled, and the analysis that turns it into a
// Profile. Per node call (a batch): two reads of the CPU's timestamp counter, and plain
// counters and a trace event in the calling worker's own slot: nothing shared, no atomics.
// Slots are merged, ticks converted to nanoseconds, and peak concurrency found from the trace's
// intervals when the run ends.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/histogram.hpp>
#include <flow/detail/plan.hpp>
#include <flow/profile.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

class ProviderBase;

class Profiler {
 public:
  Profiler(std::size_t nodes, std::size_t threads, std::size_t max_trace_events);

  // A timestamp in ticks: the CPU's timestamp counter where there is one (about 7 ns to read),
  // else steady_clock nanoseconds.
  static std::uint64_t now() noexcept;

  // That call ended; returns the end time, which is also when its outputs became ready.
  // `ready`: when its batch became ready for the node (0: unknown). `emitted`: for a sink,
  // when the source emitted the batch (0: not a sink), for end-to-end latency.
  std::uint64_t end(std::size_t node, std::uint64_t start, std::uint64_t ready,
                    std::uint64_t emitted, std::uint64_t items) noexcept;

  Profile build(const FlowData& flow, const Plan& plan, const RunReport& report,
                const std::vector<std::vector<ProviderBase*>>& resources) const;

 private:
  struct NodeRecord {
    std::uint64_t calls = 0, busy = 0;
    Histogram call_latency, queue_wait;
  };
  // Everything one worker thread records; only that thread writes it during the run. Each on
  // its own cache lines: adjacent slots sharing one made the workers stall on each other.
  struct alignas(64) Slot {
    std::vector<NodeRecord> nodes;
    Histogram end_to_end;
    std::uint64_t busy = 0;
    std::vector<TraceEvent> trace;  // times in ticks until build()
  };
  Slot& slot() noexcept;

  std::uint64_t start_ticks_ = now();
  std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
  std::vector<Slot> slots_;
  std::size_t trace_capacity_;
  std::size_t trace_per_slot_;
  std::atomic<std::uint64_t> trace_dropped_{0};
};

}  // namespace aetherflow::detail
