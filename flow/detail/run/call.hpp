#pragma once
// The wrapper around every node call: a fresh CallContext, the call's counts added to the
// run's, its observers told (call_observer.hpp), and what it threw turned into the run's
// NodeError. Also readying what a call emitted for the nodes it goes to.

#include <cstdint>
#include <span>
#include <vector>

#include <fmt/format.h>

#include <flow/detail/batch.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/detail/run/call_clock.hpp>
#include <flow/detail/run/call_observer.hpp>
#include <flow/detail/run/run_state.hpp>
#include <flow/detail/tsan.hpp>

namespace aetherflow::detail {

// What the oneTBB bodies of one flow node need during a run.
struct NodeRuntime {
  static constexpr std::size_t kNoId = static_cast<std::size_t>(-1);
  std::size_t id = kNoId;  // the node's id; kNoId for conversions on edges (not reported)
  const NodeImpl* node = nullptr;
  AtomicItemCounts* counts = nullptr;                // null for conversions on edges
  const std::vector<std::size_t>* degree = nullptr;  // edges per output port
  std::span<ProviderBase* const> resources;          // the node's resource providers, in order
  bool serial = false;  // oneTBB runs its calls one at a time (for ThreadSanitizer: tsan.hpp)
  std::vector<CallObserver*> observers;  // empty: calls are not timed
};

// One node call's input: the number of its source batch's first item (errors name items by
// it), when the batch became ready and when its source batch was emitted (ticks, for
// observers), and the source batch's token (null: none).
struct CallInput {
  std::uint64_t first_item = 0;
  std::uint64_t ready = 0;
  std::uint64_t emitted = 0;
  InFlightToken* token = nullptr;
  static CallInput of(const BatchBase& batch) {
    if (!batch.token) return {0, batch.ready_ns, 0, nullptr};
    return {batch.token->first_item(), batch.ready_ns, batch.token->emitted_ns(),
            batch.token.get()};
  }
};

class Calls {
 public:
  Calls(RunState& state, RunControl& control) : state_(state), control_(control) {}

  // Runs one call of a node. An exception out of `body` leaves as a NodeError naming the node
  // and item, with the body's exception nested, and stops the run; a failure the body kept in
  // ctx.failure (OnError::fail) stops the run too. Returns when the call ended, in ticks, for
  // its outputs' ready time (0 when nothing observes the node).
  template <class Body>
  std::uint64_t guarded(const NodeRuntime& rt, const CallInput& input, Body&& body) {
    take_over(&graph_built_);
    if (rt.serial) take_over(&rt);
    CallContext ctx;
    ctx.resources = rt.resources;
    ctx.stop = &state_.stop_flag();
    ctx.run = &control_;
    const bool observed = !rt.observers.empty();
    const std::uint64_t start = observed ? CallClock::now() : 0;
    auto finish = [&]() -> std::uint64_t {
      if (ctx.waits.count) {
        ctx.counts.waits += ctx.waits.count;
        ctx.counts.wait_time += std::chrono::nanoseconds(ctx.waits.ns);
      }
      if (rt.counts) rt.counts->add(ctx.counts);
      std::uint64_t end = 0;
      if (observed) {
        end = CallClock::now();
        const ObservedCall call{rt.id,      *rt.node,    start,         end,
                                ctx.counts, input.ready, input.emitted, input.token};
        for (CallObserver* observer : rt.observers) observer->call_ended(call);
      }
      if (rt.serial) hand_over(&rt);
      hand_over(&calls_ended_);
      return end;
    };
    try {
      body(ctx);
    } catch (...) {
      // Every node kind keeps its bodies' exceptions in ctx.failure; one that still gets here
      // (std::bad_alloc in the framework, say) cancels the graph through oneTBB.
      finish();
      state_.stop_early(fmt::format("node '{}' failed", rt.node->name()), false);
      const std::uint64_t item = input.first_item + ctx.failed_slot;
      std::throw_with_nested(NodeError(rt.node->name(), item, describe_current_exception()));
    }
    if (ctx.failure) record_failure(rt, input, ctx);
    return finish();
  }

  // Readies the batches a call emitted: shared where their port fans out, and stamped with
  // `ready`, when the call ended (for the receivers' queue wait).
  static void prepare_outputs(const NodeRuntime& rt, std::span<BatchHandle> out,
                              std::uint64_t ready) {
    for (std::size_t p = 0; p < out.size(); ++p) {
      if (!out[p]) continue;
      out[p]->shared = (*rt.degree)[p] > 1;
      out[p]->ready_ns = ready;
      hand_over(out[p].get());
    }
  }

  // ThreadSanitizer's view of oneTBB's edges (tsan.hpp): the graph is built before any call;
  // every call ends before wait_for_all returns.
  void graph_built() const { hand_over(&graph_built_); }
  void calls_ended() const { take_over(&calls_ended_); }
  const void* calls_ended_marker() const { return &calls_ended_; }

 private:
  void record_failure(const NodeRuntime& rt, const CallInput& input, const CallContext& ctx) {
    try {
      std::rethrow_exception(ctx.failure);
    } catch (...) {
      state_.fail(rt.node->name(), input.first_item + ctx.failed_slot,
                  describe_current_exception());
    }
  }

  RunState& state_;
  RunControl& control_;
  const char graph_built_ = 0, calls_ended_ = 0;
};

}  // namespace aetherflow::detail
