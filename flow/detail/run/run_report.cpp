#include <flow/detail/run/run_report.hpp>

#include <flow/detail/operations.hpp>

namespace aetherflow::detail {

CountersBefore::CountersBefore(const FlowData& flow) {
  for (const auto& n : flow.nodes) before_.push_back(n.impl->counters());
}

// A counter new since the run began counts whole.
std::vector<NodeCounter> CountersBefore::grown(std::size_t id, std::vector<NodeCounter> now) const {
  for (NodeCounter& c : now)
    for (const NodeCounter& b : before_[id])
      if (b.name == c.name) c.value = c.value >= b.value ? c.value - b.value : c.value;
  return now;
}

namespace {
std::optional<AdaptiveReport> adaptive_report(const NodeImpl& node, const AdaptiveGate* gate) {
  if (!gate) return std::nullopt;
  const auto& range = *node.options().adaptive;
  return AdaptiveReport{gate->limit().limit(), range.min, range.max, gate->limit().changes()};
}
}  // namespace

RunReport make_report(const FlowData& flow, const Plan& plan, const RunState& state,
                      const Wiring& wiring, const CountersBefore& counters, const RunFacts& facts) {
  RunReport r;
  r.flow = flow.name;
  r.threads = facts.threads;
  r.threads_requested = facts.threads_requested;
  r.batch_size = facts.batch_size;
  r.batch_size_chosen = facts.batch_size == 0;
  if (r.batch_size_chosen && facts.chosen_batch_size) r.batch_size = *facts.chosen_batch_size;
  r.wall = state.elapsed();
  const RunState::Ending ending = state.ending();
  r.cancelled = ending.cancelled;
  r.stop_reason = ending.reason;
  r.resumed_from = facts.resumed_from;
  r.checkpoint = facts.checkpoint;
  for (auto id : plan.order) {
    const NodeImpl& node = *flow.nodes[id].impl;
    NodeReport& n = r.nodes.emplace_back();
    static_cast<ItemCounts&>(n) = state.counts(id).load();
    n.name = node.name();
    n.kind = node.traits().label;
    n.counters = counters.grown(id, node.counters());
    n.adaptive = adaptive_report(node, wiring.adaptive(id));
    n.shards = node.shard_loads();
    if (const OperationGate* ops = node.operations()) n.operations = ops->report();
  }
  return r;
}

}  // namespace aetherflow::detail
