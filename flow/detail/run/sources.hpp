#pragma once
// A run's sources: each one's input_node, and the gate behind it that keeps at most N of its
// batches in the graph (back-pressure), sizes its next batches when the run chooses the size,
// and tells the checkpoints when a batch is done.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <flow/detail/batch.hpp>
#include <flow/detail/batch_sizer.hpp>
#include <flow/detail/checkpointer.hpp>
#include <flow/detail/free_list.hpp>
#include <flow/detail/run/call.hpp>
#include <flow/detail/run/graph_nodes.hpp>
#include <flow/detail/run/progress.hpp>

namespace aetherflow::detail {

// Back-pressure of one source: a limiter_node lets at most N source batches into the graph;
// when the last batch derived from one of them is released, its token opens the gate again,
// and tells the run's checkpoints (if any) that the batch is done.
// With a batch size chosen by the run, the gate also hears what each batch cost and sizes the
// source's next ones (batch_sizer.hpp).
class SourceGate final : public InFlightToken::Gate {
 public:
  SourceGate(Checkpointer* checkpointer, std::size_t source, std::size_t batch_size,
             const AutoBatchSize& sizing);
  void attach(tf::limiter_node<Msg>& limiter) { limiter_ = &limiter; }
  // After the run: batches still held by the graph's buffers are released without signalling.
  void close() noexcept { open_.store(false, std::memory_order_release); }

  // A token for the source's next batch: a spent one if there is one (free_list.hpp).
  Ref<InFlightToken> token(std::uint64_t seq, std::uint64_t first_item, std::uint64_t items,
                           std::shared_ptr<const void> keep, std::uint64_t emitted);
  // The size of the source's next batch: fixed, or the sizer's choice of the moment.
  std::size_t batch_size() const noexcept { return sizer_ ? sizer_->size() : batch_size_; }
  bool times_calls() const noexcept { return sizer_.has_value(); }
  void recycle(InFlightToken* token) noexcept override { spent_.put(token); }
  void batch_done(std::uint64_t seq, const BatchCost& cost) noexcept override;

 private:
  Checkpointer* checkpointer_;  // null: no checkpoints
  std::size_t source_;          // the source's number for the checkpointer
  std::size_t batch_size_;      // 0: chosen by sizer_
  std::optional<BatchSizer> sizer_;
  tf::limiter_node<Msg>* limiter_ = nullptr;
  std::atomic<bool> open_{true};
  FreeList<InFlightToken> spent_;
};

// What every source of a run shares.
struct SourceSettings {
  std::size_t batch_size;  // 0: chosen by the run
  std::size_t in_flight;   // batches per source in the graph at once
  AutoBatchSize sizing;    // RunOptions::auto_batch_size, with the floor async nodes need
  const RunOptions& options;
  std::size_t rank = 0, ranks = 1;  // on a cluster: which share each source reads (share_of)
};

class Sources {
 public:
  Sources(RunState& state, Calls& calls, RunProgress& progress, Checkpointer* checkpointer,
          SourceSettings settings)
      : state_(state),
        calls_(calls),
        progress_(progress),
        checkpointer_(checkpointer),
        settings_(settings) {}

  // Opens source `rt` and wires its input_node and gate; the gate's limiter is its output.
  Wired wire(GraphNodes& graph, const NodeRuntime& rt);
  // Once the graph is built: the sources start reading.
  void activate();
  // After the run, before the graph's buffers release what they hold.
  void close() noexcept;
  // The batch size of the run's first source: what the run chose last, if it chose.
  std::optional<std::size_t> first_batch_size() const;

 private:
  RunState& state_;
  Calls& calls_;
  RunProgress& progress_;
  Checkpointer* checkpointer_;  // null: no checkpoints
  SourceSettings settings_;
  // Each keeps its spent tokens; the pool keeps spent batches. Both outlive the graph, whose
  // batches return to them.
  std::deque<SourceGate> gates_;
  BatchPool batches_;
  std::vector<tf::input_node<Msg>*> inputs_;
};

}  // namespace aetherflow::detail
