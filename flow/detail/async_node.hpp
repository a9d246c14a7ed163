#pragma once
// The async node kind (flow/async.hpp). A call starts one operation per item of its batch,
// at most max_in_flight across the node's calls, and waits suspended, holding no worker, until
// each has completed, failed for good or timed out; then it emits the batch's results, in
// their slots, as one batch. So a source batch stays one batch downstream (ordered sinks,
// fan-ins and checkpoints work as after any one-to-one node), and as many batches run at once
// as it takes to keep max_in_flight operations going.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/completion.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/error_policy.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/detail/operations.hpp>
#include <flow/detail/signature.hpp>

namespace aetherflow::detail {

inline constexpr NodeTraits kAsyncTraits{
    .label = "async", .noun = "async node", .adaptable = false, .suspends = true};

struct CompletionAccess {
  template <class T>
  static Completion<T> make(std::shared_ptr<Operations<T>> ops, std::size_t i,
                            std::uint32_t attempt) {
    return Completion<T>(std::make_shared<typename Completion<T>::Op>(std::move(ops), i, attempt));
  }
};

// F is called as fn(item, Completion<Out>); P is its item parameter as declared (a value, a
// const reference, ...), which decides whether the item is moved or copied into it.
template <class F, class P, class Out>
class AsyncNode final : public NodeWithDeadLetters<std::remove_cvref_t<P>> {
 public:
  using In = std::remove_cvref_t<P>;

  AsyncNode(std::string name, NodeOptions options, F fn)
      : NodeWithDeadLetters<In>(std::move(name), kAsyncTraits, std::move(options)),
        fn_(std::move(fn)) {
    this->inputs_ = {&typeid(In)};
    if constexpr (!std::is_void_v<Out>) this->output_ = &typeid(Out);
  }

  void check(std::vector<std::string>& problems) const override {
    check_failed_items_copyable<In>(*this, problems);
  }
  void begin_run(const RunStart&) const override {
    gate_->begin_run(max_in_flight(this->options()), OperationClock::now());
  }
  const OperationGate* operations() const override { return gate_.get(); }
  void finish() const override { finish_callable(fn_); }
  std::vector<NodeCounter> counters() const override { return callable_counters(fn_); }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    if (in.size() == 1) return run(in[0], out, ctx);
    run(BatchHandle(merge_by_slot<In>(in)), out, ctx);
  }

 private:
  void run(const BatchHandle& handle, std::span<BatchHandle> out, CallContext& ctx) const {
    auto& batch = batch_cast<In>(handle);
    const bool owned = !batch.shared;
    const bool give = owned && !keeps_failed_items(this->options());
    const std::size_t n = batch.slots.size();
    const auto ops = std::make_shared<Operations<Out>>(gate_, n, this->name());
    ItemFailures<In> failures(*this, batch);

    // Starts attempt `attempt` of item i's operation. A body that throws fails the attempt
    // with its exception, through a copy of the Completion kept here (the first result given
    // counts: one the body gave before throwing stands).
    auto start = [&](std::size_t i, std::uint32_t attempt) {
      const auto done = CompletionAccess::make<Out>(ops, i, attempt);
      try {
        with_item<P>(batch.values[i], give,
                     [&](auto&& item) { fn_(std::forward<decltype(item)>(item), done); });
      } catch (...) {
        done.set_error(std::current_exception());
      }
    };
    // An operation failed for good or is tried again after the retry delay (ItemFailures).
    struct Due {
      OperationClock::time_point at;
      std::size_t index;
    };
    std::vector<Due> retries;
    auto decide = [&](const OperationsBase::Failed& f) {
      using Next = typename ItemFailures<In>::Next;
      switch (failures.decide(f.attempts, f.error, ctx)) {
        case Next::retry:
          ++ctx.counts.retries;
          retries.push_back({OperationClock::now() + failures.retry_delay(f.attempts), f.index});
          break;
        case Next::give_up:
          failures.give_up(batch.values[f.index], batch.slots[f.index], owned, f.attempts, f.error,
                           ctx);
          break;
        case Next::leave:  // the run is stopping: the item counts as cancelled
          break;
      }
    };

    std::deque<std::size_t> ready(n);  // items whose operation is to start
    std::iota(ready.begin(), ready.end(), std::size_t{0});
    OperationGate& gate = ops->gate();
    const auto timeout = this->options().operation_timeout;
    // However the loop ends, an exception included, what is in flight is abandoned and its
    // slots freed (the gate outlives the run), and the call leaves the gate's queue.
    struct Closing {
      OperationsBase& ops;
      ~Closing() { ops.close(); }
    };
    {
      const Closing closing{*ops};
      while (!ctx.stopping() && !ctx.failure) {
        const auto now = OperationClock::now();
        std::erase_if(retries, [&](const Due& d) {
          if (d.at > now) return false;
          ready.push_back(d.index);
          return true;
        });
        // A stop may come while starting (from this call's own body, say): start no more then.
        while (!ready.empty() && !ctx.stopping() && gate.try_acquire(ops->wakeup())) {
          const std::size_t i = ready.front();
          ready.pop_front();
          start(i, ops->begin(i));
        }
        if (ready.empty()) gate.leave(*ops->wakeup());
        for (const auto& failed : ops->take_failed(timeout)) {
          decide(failed);
          if (ctx.failure) break;  // OnError::fail: the run stops
        }
        if (ctx.failure || (ready.empty() && retries.empty() && ops->settled())) break;
        auto wake_by = ops->next_timeout(timeout);
        for (const Due& d : retries) wake_by = std::min(wake_by, d.at);
        const auto before = OperationClock::now();
        ctx.run->await(*ops->wakeup(), wake_by);
        ctx.counts.awaited += OperationClock::now() - before;
      }
    }

    std::size_t kept = 0;
    if constexpr (std::is_void_v<Out>) {
      for (std::size_t i = 0; i < n; ++i) kept += ops->succeeded(i) ? 1 : 0;
    } else {
      auto result = derive_batch<Out>(batch, n);
      for (std::size_t i = 0; i < n; ++i) {
        if (!ops->succeeded(i)) continue;
        result->push(ops->take(i), batch.slots[i]);
        ++kept;
      }
      out[0] = std::move(result);
    }
    ctx.counts.in += n;
    ctx.counts.out += kept;
    ctx.counts.cancelled += n - kept - ctx.counts.failed;  // neither emitted nor given up on
    failures.send(out, this->dead_letter_port());
  }

  // Mutable: as a step node's (step_node.hpp), a body with a non-const call operator is the
  // user's to make safe.
  mutable F fn_;
  // Shared with the completions, which may outlive the node's calls and the run.
  const std::shared_ptr<OperationGate> gate_ = std::make_shared<OperationGate>();
};

}  // namespace aetherflow::detail
