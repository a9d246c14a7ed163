#pragma once
// The RunReport of a run: every node's counts, the callables' own counters, where concurrency
// ranges ended, what the run chose and how it ended.

#include <chrono>
#include <optional>
#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/plan.hpp>
#include <flow/detail/run/run_state.hpp>
#include <flow/detail/run/wiring.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

// The callables' counters (NodeImpl::counters) when the run began, by node id: a report gives
// how much each grew during the run.
class CountersBefore {
 public:
  explicit CountersBefore(const FlowData& flow);
  std::vector<NodeCounter> grown(std::size_t id, std::vector<NodeCounter> now) const;

 private:
  std::vector<std::vector<NodeCounter>> before_;
};

// What the run knows besides its nodes.
struct RunFacts {
  std::size_t threads = 0, threads_requested = 0;
  std::size_t batch_size = 0;  // 0: chosen by the run
  std::optional<std::size_t> chosen_batch_size;
  std::optional<Checkpoint> resumed_from, checkpoint;
};

RunReport make_report(const FlowData& flow, const Plan& plan, const RunState& state,
                      const Wiring& wiring, const CountersBefore& counters, const RunFacts& facts);

}  // namespace aetherflow::detail
