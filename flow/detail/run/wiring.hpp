#pragma once
// Builds a run's oneTBB graph: each node wired by its shape (NodeImpl::shape), fused chains
// of one-to-one nodes run by one oneTBB node (fusion.hpp), conversions on edges, and limiters
// in front of nodes with a concurrency range. It asks each node what it is; it never asks which
// kind it is.

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/plan.hpp>
#include <flow/detail/run/call.hpp>
#include <flow/detail/run/graph_nodes.hpp>
#include <flow/detail/run/holders.hpp>
#include <flow/detail/run/observers.hpp>
#include <flow/detail/run/sources.hpp>

namespace aetherflow::detail {

// What the wiring is given for a run.
struct WiringInputs {
  const FlowData& flow;
  const Plan& plan;
  const std::vector<std::vector<ProviderBase*>>& resources;  // per node (bind_resources)
  bool fuse;                                                 // RunOptions::fuse
  std::vector<CallObserver*> node_calls;                     // observers of every node's calls
  std::vector<CallObserver*> edge_calls;  // observers of the conversions on edges
  // Per node id, what runs in the node's place on this rank of a cluster (a gathered sink's
  // sender); empty, or null for a node: the flow's own.
  std::vector<const NodeImpl*> stand_ins = {};
};

class Wiring {
 public:
  Wiring(WiringInputs in, RunState& state, Calls& calls, Sources& sources, Holders& holders);

  void build(GraphNodes& graph);
  // After the run: what an ordered sink held back when the run stopped, released while the
  // sources' gates still exist.
  void release_held_back() noexcept;
  // Where a node with a concurrency range ended (null: none).
  const AdaptiveGate* adaptive(std::size_t id) const { return adaptive_of_[id]; }
  // How node `id` is called, once built: for calls the run makes outside the graph.
  const NodeRuntime& runtime(std::size_t id) const { return runtimes_[id]; }

 private:
  using Chain = std::vector<const NodeRuntime*>;  // a node, or a fused chain of them
  // Ordered sink state: the parts of each sequence number that arrived ahead of their turn.
  struct Reorder {
    std::uint64_t next = 0;
    std::map<std::uint64_t, std::vector<Msg>> pending;
  };

  Wired wire(GraphNodes& graph, std::size_t id, const Chain& chain);
  template <class Out>
  tf::function_node<Msg, Out>& step(GraphNodes& graph, const Chain& chain, std::size_t concurrency);
  Wired ordered(GraphNodes& graph, const NodeRuntime& rt, std::size_t parts);
  Wired routes(GraphNodes& graph, const NodeRuntime& rt);
  template <std::size_t N>
  Wired join_of(GraphNodes& graph, const NodeRuntime& rt);
  Wired join(GraphNodes& graph, const NodeRuntime& rt);

  WiringInputs in_;
  RunState& state_;
  Calls& calls_;
  Sources& sources_;
  Holders& holders_;
  const std::vector<std::vector<std::size_t>> degree_;  // edges per output port, per node
  std::deque<NodeRuntime> runtimes_;  // per node id, then conversions; stable addresses
  std::deque<Chain> chains_;          // what each step's oneTBB node calls; stable addresses
  std::deque<Reorder> reorders_;
  std::deque<AdaptiveGate> adaptive_;
  std::vector<const AdaptiveGate*> adaptive_of_;  // per node id
};

}  // namespace aetherflow::detail
