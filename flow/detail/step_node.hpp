#pragma once
// One-input nodes: transform, filter, one-to-many (expand), sink and repeat. One loop serves
// them all; the signature decides, at compile time, what happens to each result.

#include <span>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <flow/dead_letter.hpp>
#include <flow/detail/batch.hpp>
#include <flow/detail/error_policy.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/detail/resource_args.hpp>
#include <flow/detail/signature.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

// The one-input kinds, as the plan and the run see them (NodeTraits).
inline constexpr NodeTraits kTransformTraits{
    .label = "transform", .noun = "transform", .fusable = true};
inline constexpr NodeTraits kFilterTraits{.label = "filter", .noun = "filter", .fusable = true};
inline constexpr NodeTraits kExpandTraits{
    .label = "expand", .noun = "one-to-many", .fusable = true, .slots = Slots::multiplied};
inline constexpr NodeTraits kSinkTraits{
    .label = "sink", .noun = "sink", .dot_shape = "house", .fusable = true};
inline constexpr NodeTraits kRepeatTraits{.label = "repeat", .noun = "repeat", .fusable = true};

constexpr const NodeTraits& step_traits(StepKind kind) noexcept {
  switch (kind) {
    case StepKind::filter:
      return kFilterTraits;
    case StepKind::expand:
      return kExpandTraits;
    case StepKind::sink:
      return kSinkTraits;
    case StepKind::transform:
      break;
  }
  return kTransformTraits;
}

// Sig describes the user's callable (StepSignature); F is what is called, the callable itself
// or a wrapper around it with the same input and output.
template <class Sig, class F>
class StepNode : public NodeWithDeadLetters<typename Sig::input> {
 public:
  using In = typename Sig::input;
  using Out = typename Sig::output;

  StepNode(std::string name, NodeOptions options, F fn,
           const NodeTraits& traits = step_traits(Sig::kind))
      : NodeWithDeadLetters<In>(std::move(name), traits, std::move(options)), fn_(std::move(fn)) {
    this->inputs_ = {&typeid(In)};
    if constexpr (!std::is_void_v<Out>) this->output_ = &typeid(Out);
  }

  // An ordered sink restores source order before its calls.
  Shape shape() const override {
    if (kind == StepKind::sink && this->options().ordered) return Shape::ordered;
    return NodeImpl::shape();
  }
  void check(std::vector<std::string>& problems) const override {
    check_failed_items_copyable<In>(*this, problems);
  }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    if (in.size() == 1) return run(in[0], out, ctx);
    run(BatchHandle(merge_by_slot<In>(in)), out, ctx);
  }

  const F& body() const noexcept { return fn_; }
  void finish() const override { finish_callable(fn_); }
  std::vector<NodeCounter> counters() const override { return callable_counters(fn_); }
  std::vector<ResourceNeed> resource_needs() const override {
    return detail::resource_needs<typename Sig::resources>();
  }

 private:
  static constexpr StepKind kind = Sig::kind;
  // A transform or filter that keeps the item type rewrites an unshared batch in place: no
  // allocation per node per batch on a chain.
  static constexpr bool can_work_in_place =
      std::is_same_v<In, Out> && (kind == StepKind::transform || kind == StepKind::filter);

  // The common case of a chain, on its own tight loop: a one-to-one node keeping the item type,
  // on a batch of its own, with no resources, retries or error policy to apply. Every item
  // stays in its place, so slots are left as they are; the stop flag is read every 16 items.
  static constexpr bool may_run_tight = kind == StepKind::transform && can_work_in_place &&
                                        std::tuple_size_v<typename Sig::resources> == 0 &&
                                        !std::is_invocable_v<F&, In, CallContext&>;
  bool runs_tight(const BatchBase& batch) const noexcept {
    return !batch.shared && this->options().on_error == OnError::fail && !this->options().retry;
  }
  void run_tight(const BatchHandle& handle, std::span<BatchHandle> out, CallContext& ctx) const {
    auto& batch = batch_cast<In>(handle);
    auto& values = batch.values;
    const std::size_t n = values.size();
    std::size_t i = 0;       // items done: values[0, i) are the output
    std::size_t failed = 0;  // the item at i, when its call threw
    try {
      while (i < n && !ctx.stopping()) {
        for (const std::size_t end = std::min(n, i + 16); i < end; ++i)
          values[i] = with_item<typename Sig::input_param>(values[i], true, fn_);
      }
    } catch (...) {
      // As the general loop: the failing item stops the run, unless it is stopping already,
      // when the item is left unprocessed like the rest.
      if (!ctx.stopping()) {
        ctx.failure = std::current_exception();
        ctx.failed_slot = batch.slots[i];
        failed = 1;
      }
    }
    ctx.counts.in += n;
    ctx.counts.out += i;
    ctx.counts.failed += failed;
    ctx.counts.cancelled += n - i - failed;
    values.erase(values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
    batch.slots.resize(i);
    out[0] = handle;
  }

  void run(const BatchHandle& handle, std::span<BatchHandle> out, CallContext& ctx) const {
    if constexpr (may_run_tight)
      if (runs_tight(*handle)) return run_tight(handle, out, ctx);
    auto& batch = batch_cast<In>(handle);
    const bool owned = !batch.shared;
    const std::size_t n = batch.slots.size();

    Ref<BatchBase> result;
    Batch<std::conditional_t<std::is_void_v<Out>, In, Out>>* target = nullptr;
    bool in_place = false;
    if constexpr (kind != StepKind::sink) {
      if constexpr (can_work_in_place) {
        in_place = owned;
        if (in_place) {
          target = &batch;
          result = handle;
        }
      }
      if (!in_place) {
        auto fresh = derive_batch<Out>(batch, n);
        target = fresh.get();
        result = std::move(fresh);
      }
    }

    auto resources = make_resource_args<typename Sig::resources>(ctx.resources);
    // One call of the body: the item, the resources, then `extra` (the emitter). Framework
    // wrappers such as repeat take the call context instead.
    auto invoke = [&](auto&& item, auto&... extra) -> decltype(auto) {
      using Item = decltype(item);
      return with_resources(resources, ctx.waits, [&](auto&&... r) -> decltype(auto) {
        if constexpr (std::is_invocable_v<F&, Item, CallContext&>)
          return fn_(std::forward<Item>(item), ctx);
        else
          return fn_(std::forward<Item>(item), std::forward<decltype(r)>(r)..., extra...);
      });
    };
    // The same, holding the locks of the node's shared resources for the call, if it has any.
    const CallLocks locks(ctx.resources);
    auto call = [&](auto&& item, auto&... extra) -> decltype(auto) {
      if constexpr (std::tuple_size_v < typename Sig::resources >> 0) {
        if (!locks.empty()) {
          const CallLocks::Held held(locks.locks(), ctx.waits);
          return invoke(std::forward<decltype(item)>(item), extra...);
        }
      }
      return invoke(std::forward<decltype(item)>(item), extra...);
    };

    std::size_t kept = 0;  // items emitted so far (in place: also the next write position)
    auto keep = [&](auto&& value, std::uint32_t slot) {
      if (in_place) {
        target->values[kept] = std::forward<decltype(value)>(value);
        target->slots[kept] = slot;
      } else {
        target->push(std::forward<decltype(value)>(value), slot);
      }
      ++kept;
    };

    ItemFailures<In> failures(*this, batch);  // what the node's error policy makes of them
    const bool give = owned && !keeps_failed_items(this->options());  // may the body consume items?

    // One attempt at item i.
    auto attempt_item = [&](std::size_t i) {
      with_item<typename Sig::input_param>(batch.values[i], give, [&](auto&& item) {
        using Item = decltype(item);
        const std::uint32_t slot = batch.slots[i];
        if constexpr (kind == StepKind::sink) {
          call(std::forward<Item>(item));
          ++kept;
        } else if constexpr (kind == StepKind::transform) {
          keep(call(std::forward<Item>(item)), slot);
        } else if constexpr (kind == StepKind::filter) {
          if (auto r = call(std::forward<Item>(item))) keep(std::move(*r), slot);
        } else {
          Emitter<Out> emit(*target, slot);
          try {
            call(std::forward<Item>(item), emit);
          } catch (...) {  // what a failed call emitted is not its output
            target->values.erase(target->values.end() - static_cast<std::ptrdiff_t>(emit.emitted()),
                                 target->values.end());
            target->slots.resize(target->values.size());
            throw;
          }
          kept += emit.emitted();
          if (emit.emitted() == 0) ++ctx.counts.filtered;
        }
      });
    };
    // Item i's first attempt threw `error`: retries, then the policy. False: the item is left
    // unprocessed, as the run is stopping.
    auto recover = [&](std::size_t i, std::exception_ptr error) {
      for (std::size_t attempt = 1;; ++attempt) {
        using Next = typename ItemFailures<In>::Next;
        const Next next = failures.after(attempt, error, ctx);
        if (next == Next::leave) return false;
        if (next == Next::give_up) {
          failures.give_up(batch.values[i], batch.slots[i], owned, attempt, error, ctx);
          return true;
        }
        ++ctx.counts.retries;
        // The wait may have moved the call to another thread: per-thread resources anew.
        resources = make_resource_args<typename Sig::resources>(ctx.resources);
        try {
          attempt_item(i);
          return true;
        } catch (...) {
          error = std::current_exception();
        }
      }
    };

    // Checked between items, so a stop waits for one item's call, not a batch's. Every 16th
    // item: a check per item cost a light chain 10% of its throughput.
    const std::atomic<bool>* const stop = ctx.stop;
    auto stopping = [stop](std::size_t i) {
      return i % 16 == 0 && stop && stop->load(std::memory_order_relaxed);
    };
    std::size_t i = 0;  // items done with: processed, or failed for good
    for (; i < n && !stopping(i); ++i) {
      try {
        attempt_item(i);
      } catch (...) {
        if (!recover(i, std::current_exception())) break;
        if (ctx.failure) {  // OnError::fail: the run stops
          ++i;
          break;
        }
      }
    }

    const std::uint64_t failed = ctx.counts.failed;  // given up on (ItemFailures::give_up)
    ctx.counts.in += n;
    ctx.counts.out += kept;
    ctx.counts.cancelled += n - i;
    if constexpr (kind == StepKind::filter || kind == StepKind::transform)
      ctx.counts.filtered += i - failed - kept;
    if (in_place) {
      // erase, not resize: items need not be default-constructible.
      target->values.erase(target->values.begin() + kept, target->values.end());
      target->slots.resize(kept);
    }
    failures.send(out, this->dead_letter_port());
    if constexpr (kind != StepKind::sink) out[0] = std::move(result);
  }

  // Mutable: a callable with a non-const call operator (a mutable lambda) is the user's to
  // make safe, by a serial node or its own synchronisation.
  mutable F fn_;
};

// The body of `repeat`: applies `fn` `times` times, each time to the previous result.
template <class Sig, class F>
class RepeatCall {
 public:
  using T = typename Sig::input;
  static_assert(std::is_same_v<T, typename Sig::output> && Sig::kind == StepKind::transform,
                "aetherflow: repeat needs a one-to-one node whose output type is its input type");
  static_assert(std::tuple_size_v<typename Sig::resources> == 0,
                "aetherflow: a repeated node takes no resources");

  RepeatCall(F fn, std::size_t times, bool stop_on_error)
      : fn_(std::move(fn)), times_(times), stop_on_error_(stop_on_error) {}

  T operator()(T value, CallContext& ctx) const {
    for (std::size_t round = 0; round < times_; ++round) {
      if (stop_on_error_) {
        value = with_item<typename Sig::input_param>(value, true, fn_);
        continue;
      }
      try {
        // Not owned: the body gets a copy or a const view, so `value` survives a throw.
        value = with_item<typename Sig::input_param>(value, false, fn_);
      } catch (...) {
        ++ctx.counts.errors;
        break;
      }
    }
    return value;
  }

  std::size_t times() const noexcept { return times_; }

 private:
  mutable F fn_;
  std::size_t times_;
  bool stop_on_error_;
};

template <class Sig, class F>
class RepeatNode final : public StepNode<Sig, RepeatCall<Sig, F>> {
 public:
  RepeatNode(std::string name, NodeOptions options, RepeatCall<Sig, F> call)
      : StepNode<Sig, RepeatCall<Sig, F>>(std::move(name), options, std::move(call),
                                          kRepeatTraits) {}
  std::string detail_label() const override { return fmt::format("x{}", this->body().times()); }
};

}  // namespace aetherflow::detail
