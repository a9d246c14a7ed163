#pragma once
// Fan-in: one value from each branch for the same upstream item. The compiler joins the
// branches' batches of one sequence number (a oneTBB key_matching join_node); this node then
// pairs their items by slot. Parameters declared as std::optional<T> mark branches the body can
// do without: the body is called for every item that reached at least one branch and every
// non-optional branch. Other items are skipped and counted as filtered ("incomplete").

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include <flow/detail/batch.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/detail/signature.hpp>

namespace aetherflow::detail {

// A fan-in calls its callable once per set of branch values, not once per item of one input:
// error policies do not apply, and it needs a join of its own.
inline constexpr NodeTraits kFanInTraits{.label = "fan_in",
                                         .noun = "fan-in",
                                         .dot_shape = "invtrapezium",
                                         .item_calls = false,
                                         .adaptable = false};

template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};

template <class P>
struct fan_in_param {
  using bare = std::remove_cvref_t<P>;
  static constexpr bool optional = is_optional<bare>::value;
  using value = typename unwrap_optional<bare>::type;
  static_assert(!std::is_lvalue_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>,
                "aetherflow: a fan-in takes its branches' values by value or by const reference");
};

template <class F>
struct FanInSignature {
  using params = typename callable_args<F>::args;
  using result = typename callable_args<F>::result;
  static constexpr std::size_t arity = std::tuple_size_v<params>;
  static_assert(arity >= 2 && arity <= kMaxJoinInputs,
                "aetherflow: a fan-in joins from 2 to 8 branches (one parameter per branch)");
  template <std::size_t I>
  using param = fan_in_param<std::tuple_element_t<I, params>>;
  template <std::size_t I>
  using value = typename param<I>::value;

  static constexpr StepKind kind = result_role_t<result>::kind;
  using output = typename result_role_t<result>::output;
};

template <class F>
class FanInNode final : public NodeImpl {
  using Sig = FanInSignature<F>;
  static constexpr std::size_t N = Sig::arity;

 public:
  using Out = typename Sig::output;

  FanInNode(std::string name, NodeOptions options, F fn)
      : NodeImpl(std::move(name), kFanInTraits, options), fn_(std::move(fn)) {
    [this]<std::size_t... I>(std::index_sequence<I...>) {
      inputs_ = {&typeid(typename Sig::template value<I>)...};
    }
    (std::make_index_sequence<N>{});
    if constexpr (!std::is_void_v<Out>) output_ = &typeid(Out);
  }

  // A join of one batch per branch, all of one sequence number.
  Shape shape() const override { return Shape::join; }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      join(ctx, out, batch_cast<typename Sig::template value<I>>(in[I])...);
    }
    (std::make_index_sequence<N>{});
    (void)in;
  }
  void finish() const override { finish_callable(fn_); }
  std::vector<NodeCounter> counters() const override { return callable_counters(fn_); }

 private:
  template <class... Parts>
  void join(CallContext& ctx, std::span<BatchHandle> out, Parts&... parts) const {
    constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    std::array<std::size_t, N> pos{};
    const std::array<std::size_t, N> size{parts.slots.size()...};
    const std::array<bool, N> owned{!parts.shared...};
    constexpr std::array<bool, N> required = []<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<bool, N>{!Sig::template param<I>::optional...};
    }
    (std::make_index_sequence<N>{});

    Ref<Batch<std::conditional_t<std::is_void_v<Out>, int, Out>>> result;
    if constexpr (!std::is_void_v<Out>)
      result = derive_batch<Out>(first(parts...), *std::max_element(size.begin(), size.end()));

    auto head = [&](std::size_t p, const auto& part) {
      return pos[p] < size[p] ? part.slots[pos[p]] : none;
    };
    // A call that throws fails the run (OnError::fail): the exception is left in ctx for the
    // executor, and the items after it are counted as cancelled. Nothing throws through
    // oneTBB, so the run drains and every item stays accounted for.
    while (true) {
      const std::uint32_t slot = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::min({head(I, parts)...});
      }
      (std::make_index_sequence<N>{});
      if (slot == none) break;
      ++ctx.counts.in;
      std::array<bool, N> present{};
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((present[I] = head(I, parts) == slot), ...);
      }
      (std::make_index_sequence<N>{});

      bool complete = true;
      for (std::size_t p = 0; p < N; ++p) complete = complete && (present[p] || !required[p]);
      if (ctx.failure) {
        ++ctx.counts.cancelled;
      } else if (!complete) {
        ++ctx.counts.filtered;
      } else {
        try {
          call(ctx, result, slot, present, owned, pos, parts...);
        } catch (...) {
          ++ctx.counts.failed;
          ctx.failure = std::current_exception();
          ctx.failed_slot = slot;
        }
      }
      for (std::size_t p = 0; p < N; ++p) pos[p] += present[p] ? 1 : 0;
    }
    if constexpr (!std::is_void_v<Out>) out[0] = std::move(result);
  }

  template <class Result, class... Parts>
  void call(CallContext& ctx, Result& result, std::uint32_t slot,
            const std::array<bool, N>& present, const std::array<bool, N>& owned,
            const std::array<std::size_t, N>& pos, Parts&... parts) const {
    auto invoke = [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
      return fn_(arg<I>(parts, present[I], owned[I], pos[I])...);
    };
    if constexpr (Sig::kind == StepKind::sink) {
      invoke(std::make_index_sequence<N>{});
      ++ctx.counts.out;
    } else if constexpr (Sig::kind == StepKind::filter) {
      if (auto r = invoke(std::make_index_sequence<N>{})) {
        result->push(std::move(*r), slot);
        ++ctx.counts.out;
      } else {
        ++ctx.counts.filtered;
      }
    } else {
      result->push(invoke(std::make_index_sequence<N>{}), slot);
      ++ctx.counts.out;
    }
  }

  // The argument for branch I: its item as the parameter asks for it.
  template <std::size_t I, class Part>
  static decltype(auto) arg(Part& part, bool present, bool owned, std::size_t pos) {
    using Param = typename Sig::template param<I>;
    using P = std::tuple_element_t<I, typename Sig::params>;
    using V = typename Param::value;
    if constexpr (Param::optional) {
      if (!present) return std::optional<V>();
      return std::optional<V>(take_item(part.values[pos], owned));
    } else if constexpr (std::is_lvalue_reference_v<P>) {
      return static_cast<const V&>(part.values[pos]);
    } else {
      return V(take_item(part.values[pos], owned));
    }
  }

  template <class First, class... Rest>
  static const First& first(const First& f, const Rest&...) {
    return f;
  }

  mutable F fn_;  // mutable: see StepNode::fn_
};

}  // namespace aetherflow::detail
