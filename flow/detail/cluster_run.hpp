#pragma once
// What a run on a cluster (RunOptions::cluster, docs/distributed.md) adds to a run of one
// process, in the order the run meets it:
//   - each source's share of its input (share_of, flow/cluster.hpp), each node's ClusterPlace;
//   - start(): the ranks compare their plans, every channel being open, so that no message
//     is sent before every rank listens (Cluster::open);
//   - a failure on this rank is told to the others at once, which stop and drain; so is a
//     stop asked of this rank (its stop token, its deadline), and every rank cancels;
//   - gathered sinks: on ranks other than 0 a sender stands in for the sink (replacement());
//     after the graph, rank 0 consumes every other rank's items, rank by rank;
//   - finish(): the ranks gather how each ended and its report; rank 0's report holds the
//     whole job, and every rank throws the first rank's failure.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <flow/cluster.hpp>
#include <flow/detail/flow_data.hpp>
#include <flow/detail/plan.hpp>
#include <flow/detail/run/call.hpp>
#include <flow/detail/run/run_state.hpp>
#include <flow/detail/run/wiring.hpp>
#include <flow/exchange.hpp>
#include <flow/options.hpp>

namespace aetherflow::detail {

class ClusterRun {
 public:
  // Inactive without a cluster of more than one rank: every member then does nothing.
  ClusterRun(const FlowData& flow, const Plan& plan, const RunOptions& options, RunState& state);
  ~ClusterRun();
  ClusterRun(const ClusterRun&) = delete;
  ClusterRun& operator=(const ClusterRun&) = delete;

  bool active() const noexcept { return cluster_ != nullptr; }
  std::size_t rank() const noexcept { return rank_; }
  std::size_t ranks() const noexcept { return ranks_; }
  std::size_t ranks_on_this_machine() const;
  ClusterPlace place(std::size_t node) const;
  // What runs in place of node `id` on this rank (a gathered sink's sender), or null.
  const NodeImpl* replacement(std::size_t id) const;

  // Each rank's checkpoint file: `<path>.rank<r>-of-<N>` (docs/distributed.md).
  CheckpointOptions checkpoint_of(const CheckpointOptions& options) const;
  // Compares the ranks' plans, and whether each resumes from a checkpoint: a FlowError on
  // every rank if one differs.
  void start(bool resuming);
  // Once the graph has drained: gathered sinks' ends sent, or on rank 0 the other ranks'
  // items consumed.
  void gather_sinks(Calls& calls, const Wiring& wiring);
  // The run failed here with `error` before it could record it (a source that could not
  // open): the other ranks are told.
  void failed_here(const NodeError& error);
  // A stop asked of this rank (RunOptions::stop, the deadline) cancels the run here, and on a
  // cluster every rank's, each with the reason naming this rank.
  void cancel(const std::string& reason);
  // Every rank's ending and report. Rank 0 gets the whole job's report, the others their
  // own; if any rank failed, throws its NodeError (the lowest such rank's), with the report.
  RunReport finish(RunReport mine, std::exception_ptr failure);

 private:
  class Control;
  class GatherSender;

  void tell_others(const NodeError& error);
  void tell_others(Bytes message);

  const FlowData& flow_;
  const Plan& plan_;
  RunState& state_;
  std::shared_ptr<Cluster> cluster_;  // null: inactive
  std::size_t rank_ = 0, ranks_ = 1;
  std::uint64_t run_ = 0;  // Cluster::next_run(): what the control messages carry
  std::unique_ptr<Control> control_;
  std::vector<std::unique_ptr<Exchange>> gathered_;       // per node id: gathered sinks only
  std::vector<std::shared_ptr<const NodeImpl>> senders_;  // per node id, ranks other than 0
  std::vector<std::string> plan_lines_;                   // compared by start()
};

}  // namespace aetherflow::detail
