#pragma once
// What the executor records when a run is profiled, and the analysis that turns it into a
// Profile. One clock read before and one after each node call (a batch), a few relaxed
// atomics, and a trace slot: nothing per item.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
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

  // Nanoseconds since the run started.
  std::uint64_t now() const noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - start_)
                                          .count());
  }
  // A call of `node` starts: returns its start time.
  std::uint64_t begin(std::size_t node) noexcept;
  // That call ended. `ready`: when its batch became ready for the node (0: unknown).
  void end(std::size_t node, std::uint64_t start, std::uint64_t ready,
           std::uint64_t items) noexcept;
  // A sink is done with a batch whose source batch was emitted at `emitted`.
  void delivered(std::uint64_t emitted) noexcept { end_to_end_.record(now() - emitted); }

  Profile build(const FlowData& flow, const Plan& plan, const RunReport& report,
                const std::vector<std::vector<ProviderBase*>>& resources) const;

 private:
  struct NodeRecord {
    std::atomic<std::uint64_t> calls{0}, busy_ns{0};
    std::atomic<int> active{0}, peak{0};
    Histogram call_latency, queue_wait;
  };

  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::deque<NodeRecord> nodes_;
  std::vector<std::atomic<std::uint64_t>> thread_busy_;
  Histogram end_to_end_;
  std::unique_ptr<TraceEvent[]> trace_;
  std::size_t trace_capacity_;
  std::atomic<std::size_t> trace_next_{0};
};

}  // namespace aetherflow::detail
