#pragma once
// Reading a callable's parameter and result types: what code that wraps a user's function needs
// to know about it, whether that code is the framework (flow/detail/signature.hpp reads a
// node's role from it) or written on the public API (nodes/cache.hpp reads the input type of
// the function it memoises). Type traits over the standard library only.
//
// The names are those the framework has always used, in aetherflow::detail: a public header,
// so that nodes/ need not include the node internals, but not a new public API.

#include <tuple>
#include <type_traits>

namespace aetherflow::detail {

template <class F>
struct callable_args : callable_args<decltype(&std::remove_cvref_t<F>::operator())> {};

#define AETHERFLOW_CALLABLE_ARGS(QUALIFIERS)        \
  template <class C, class R, class... A>           \
  struct callable_args<R (C::*)(A...) QUALIFIERS> { \
    using result = R;                               \
    using args = std::tuple<A...>;                  \
  };
AETHERFLOW_CALLABLE_ARGS()
AETHERFLOW_CALLABLE_ARGS(const)
AETHERFLOW_CALLABLE_ARGS(noexcept)
AETHERFLOW_CALLABLE_ARGS(const noexcept)
#undef AETHERFLOW_CALLABLE_ARGS

template <class R, class... A>
struct callable_args<R (*)(A...)> {
  using result = R;
  using args = std::tuple<A...>;
};
template <class R, class... A>
struct callable_args<R (*)(A...) noexcept> : callable_args<R (*)(A...)> {};
template <class R, class... A>
struct callable_args<R(A...)> : callable_args<R (*)(A...)> {};
template <class R, class... A>
struct callable_args<R(A...) noexcept> : callable_args<R (*)(A...)> {};

// A callable whose parameters can be read: a function, or a class with one non-template
// call operator (not a generic lambda, whose `auto` parameters have no type until called).
template <class F>
concept ReadableSignature =
    std::is_function_v<std::remove_pointer_t<std::remove_cvref_t<F>>> || requires {
  &std::remove_cvref_t<F>::operator();
};

}  // namespace aetherflow::detail
