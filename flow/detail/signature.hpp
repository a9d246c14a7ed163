#pragma once
// Reads a node's role from its callable's signature:
//   first parameter        the input item
//   Emitter<U>& after it   one-to-many: emits U
//   returns void           sink (or one-to-many with an emitter)
//   returns optional<U>    filter: an empty optional drops the item
//   returns U              one-to-one
// Generic lambdas cannot be read: name the input type, flow.node<int>("n", [](auto x) {...}).

#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>

#include <flow/callable_traits.hpp>
#include <flow/detail/batch.hpp>
#include <flow/emitter.hpp>

namespace aetherflow::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
inline constexpr bool is_optional_v = is_optional<std::remove_cvref_t<T>>::value;

template <class T>
struct emitter_item {
  using type = void;  // not an emitter
};
template <class T>
struct emitter_item<Emitter<T>&> {
  using type = T;
};

enum class StepKind { transform, filter, expand, sink };

// What a body's return type makes of a node: void a sink, optional<U> a filter of U, else a
// one-to-one node.
template <class R>
struct result_role {
  static constexpr StepKind kind = StepKind::transform;
  using output = R;
};
template <class U>
struct result_role<std::optional<U>> {
  static constexpr StepKind kind = StepKind::filter;
  using output = U;
};
template <>
struct result_role<void> {
  static constexpr StepKind kind = StepKind::sink;
  using output = void;
};
template <class R>
using result_role_t = result_role<std::remove_cvref_t<R>>;

// Placeholder for "read the input type from the callable".
struct Deduce {};

// The parameters and result of F; with an input type named, F is called with a const In&.
template <class F, class InHint>
struct callable_shape {
  using args = std::tuple<const InHint&>;
  using result = std::invoke_result_t<F&, const InHint&>;
};
template <class F>
struct callable_shape<F, Deduce> : callable_args<F> {};

template <class T>
inline constexpr bool is_emitter_v = !std::is_void_v<typename emitter_item<T>::type>;

// The first I elements of a tuple type.
template <class Tuple, class Seq>
struct tuple_prefix;
template <class Tuple, std::size_t... I>
struct tuple_prefix<Tuple, std::index_sequence<I...>> {
  using type = std::tuple<std::tuple_element_t<I, Tuple>...>;
};

// A node's parameters: the input, then the resources it asks for, then optionally an emitter.
template <class Params>
struct split_params {
  static_assert(std::tuple_size_v<Params> >= 1,
                "aetherflow: a node's callable takes the input item first");
};
template <class P0, class... Rest>
struct split_params<std::tuple<P0, Rest...>> {
 private:
  using rest = std::tuple<Rest...>;
  static constexpr std::size_t n = sizeof...(Rest);
  template <std::size_t K>
  using last_of = std::tuple_element_t<K - 1, rest>;
  static constexpr bool ends_with_emitter = [] {
    if constexpr (n == 0)
      return false;
    else
      return is_emitter_v<last_of<n>>;
  }();

 public:
  using input_param = P0;
  static constexpr bool has_emitter = ends_with_emitter;
  using emitted = typename emitter_item<
      std::tuple_element_t<(n > 0 ? n - 1 : 0), std::tuple<Rest..., void>>>::type;
  using resources =
      typename tuple_prefix<rest, std::make_index_sequence<has_emitter ? n - 1 : n>>::type;
  static_assert(!(is_emitter_v<Rest> || ...) ||
                    (has_emitter && (0 + ... + is_emitter_v<Rest>) == 1),
                "aetherflow: a one-to-many node takes one aetherflow::Emitter<T>&, as its last "
                "parameter (input first, then resources, then the emitter)");
};

template <class F, class InHint = Deduce>
struct StepSignature {
 private:
  using shape = callable_shape<F, InHint>;
  using params = split_params<typename shape::args>;

 public:
  using input_param = typename params::input_param;  // as declared: T, const T&, ...
  using input = std::remove_cvref_t<input_param>;
  using resources = typename params::resources;  // std::tuple of the declared parameter types
  static constexpr bool has_emitter = params::has_emitter;
  using result = typename shape::result;
  static constexpr StepKind kind = has_emitter ? StepKind::expand : result_role_t<result>::kind;
  using output = std::conditional_t<has_emitter, typename params::emitted,
                                    typename result_role_t<result>::output>;
};

// Passes an item to a parameter declared as P, copying only when it must: a `const T&`
// parameter reads the item in place; `T` or `T&&` moves it out when the batch belongs to this
// node alone (`owned`: not shared with other branches) and copies it otherwise; `T&` gets the
// item itself when owned, else a private copy.
template <class P, class T, class Call>
decltype(auto) with_item(T& item, bool owned, Call&& call) {
  using Bare = std::remove_reference_t<P>;
  if constexpr (std::is_lvalue_reference_v<P> && std::is_const_v<Bare>) {
    return call(static_cast<const T&>(item));
  } else if constexpr (std::is_lvalue_reference_v<P>) {
    if (owned) return call(item);
    if constexpr (std::is_copy_constructible_v<T>) {
      T copy(item);
      return call(copy);
    } else {
      throw_move_only_shared();
    }
  } else {
    if (owned) return call(std::move(item));
    if constexpr (std::is_copy_constructible_v<T>) {
      return call(T(item));
    } else {
      throw_move_only_shared();
    }
  }
}

}  // namespace aetherflow::detail
