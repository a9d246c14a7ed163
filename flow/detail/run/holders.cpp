#include <flow/detail/run/holders.hpp>

#include <algorithm>
#include <atomic>

#include <oneapi/tbb/parallel_for.h>

#include <flow/detail/tsan.hpp>

namespace aetherflow::detail {

void Holders::add(GraphNodes& graph, const NodeRuntime& rt,
                  std::vector<tf::broadcast_node<Msg>*> routes) {
  auto& timed = graph.make<tf::function_node<int, tf::continue_msg>>(
      tf::serial, [this, index = holders_.size()](int) {
        std::lock_guard lock(mutex_);
        if (timed_flushes_) flush(holders_[index], false);
        return tf::continue_msg();
      });
  holders_.push_back({&rt, std::move(routes), &timed});
}

void Holders::flush_later(const NodeImpl& node, std::chrono::nanoseconds delay) {
  const auto holder = std::find_if(holders_.begin(), holders_.end(),
                                   [&](const Holder& h) { return h.rt->node == &node; });
  state_.timer().at(std::chrono::steady_clock::now() + delay, [this, timed = holder->timed] {
    std::lock_guard lock(mutex_);
    if (timed_flushes_) timed->try_put(0);
  });
}

void Holders::flush_held(tf::graph& graph) {
  {
    std::lock_guard lock(mutex_);
    timed_flushes_ = false;
  }
  // A timed flush put in after the graph drained and before the line above is still in the
  // graph: it runs now, not after the graph is gone (even when the run stops here).
  graph.wait_for_all();
  for (const Holder& h : holders_) {
    for (bool more = true; more;) {
      if (state_.stopping()) return;
      std::atomic<bool> again{false};
      // parallel_for's spawn and join synchronise inside libtbb.so, out of ThreadSanitizer's
      // sight (tsan.hpp): the calls before (graph.wait_for_all) and this thread's work happen
      // before each flush, each flush before the join.
      calls_.calls_ended();
      hand_over(&h);
      oneapi::tbb::parallel_for(std::size_t{0}, ahead_, [&](std::size_t) {
        take_over(&h);
        if (flush(h, true)) again.store(true, std::memory_order_relaxed);
        hand_over(&again);
      });
      take_over(&again);
      more = again.load(std::memory_order_relaxed);
      graph.wait_for_all();
    }
  }
}

bool Holders::flush(const Holder& h, bool end_of_stream) {
  std::vector<Msg> out(h.routes.size());
  bool more = false;
  const std::uint64_t ready = calls_.guarded(
      *h.rt, {}, [&](CallContext& ctx) { more = h.rt->node->flush(out, ctx, end_of_stream); });
  Calls::prepare_outputs(*h.rt, out, ready);
  for (std::size_t p = 0; p < out.size(); ++p)
    if (out[p]) h.routes[p]->try_put(out[p]);
  return more;
}

void Holders::drop_held() noexcept {
  for (const Holder& h : holders_) {
    ItemCounts dropped;
    dropped.cancelled = h.rt->node->drop_held();
    h.rt->counts->add(dropped);
  }
}

}  // namespace aetherflow::detail
