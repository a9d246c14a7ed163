#pragma once
// The observers of calls that steer a run (call_observer.hpp); the profiler is the third
// (flow/detail/profiler.hpp).

#include <flow/detail/adaptive_limit.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/run/call_clock.hpp>
#include <flow/detail/run/call_observer.hpp>
#include <flow/detail/run/graph_nodes.hpp>

namespace aetherflow::detail {

// When the run chooses its batch size: every call on a batch adds its time to the batch's
// source token, and the source's gate learns from the total what the next size should be
// (batch_sizer.hpp).
class BatchCostObserver final : public CallObserver {
 public:
  void call_ended(const ObservedCall& call) noexcept override {
    // An async node's awaited time is not work: it would shrink the batches to nothing.
    if (!call.token) return;
    const std::uint64_t took = CallClock::ns(call.end - call.start);
    const auto awaited = static_cast<std::uint64_t>(call.counts.awaited.count());
    call.token->add_call(took > awaited ? took - awaited : 0);
  }
};

// A node with a concurrency range (NodeOptions::adaptive): a limiter_node in front of it lets
// as many calls in as the range's max, and the slots above the current limit are held back
// (a negative decrement). Each call's end releases what AdaptiveLimit says.
class AdaptiveGate final : public CallObserver {
 public:
  explicit AdaptiveGate(const AdaptiveConcurrency& options) : limit_(options) {}
  const AdaptiveLimit& limit() const noexcept { return limit_; }

  // Puts the limiter in front of `input`; returns the queue, the node's input now. The
  // limiter starts with the slots above the first limit held back.
  tf::receiver<Msg>& wire(GraphNodes& graph, tf::receiver<Msg>& input, std::size_t max) {
    auto& queue = graph.make<tf::queue_node<Msg>>();
    limiter_ = &graph.make<tf::limiter_node<Msg, long long>>(max);
    tf::make_edge(queue, *limiter_);
    tf::make_edge(*limiter_, input);
    if (const std::size_t held = max - limit_.limit())
      limiter_->decrementer().try_put(-static_cast<long long>(held));
    return queue;
  }

  void call_ended(const ObservedCall& call) noexcept override {
    const std::chrono::nanoseconds took(CallClock::ns(call.end - call.start));
    try {
      if (const std::size_t release = limit_.call_done(call.counts.in, call.counts.failed, took))
        limiter_->decrementer().try_put(static_cast<long long>(release));
    } catch (...) {
      // Only a cancelled graph refuses the release, and then nothing waits for it.
    }
  }

 private:
  AdaptiveLimit limit_;
  tf::limiter_node<Msg, long long>* limiter_ = nullptr;
};

}  // namespace aetherflow::detail
