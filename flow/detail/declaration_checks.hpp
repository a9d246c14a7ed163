#pragma once
// Checks of a node's callable, made where the node is declared. Each is a static_assert whose
// text says the fix; Flow's declaring functions go no further when one fails, so a mistake
// gives that one message instead of pages of errors from the library's depths.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <contexts/named.hpp>
#include <flow/detail/signature.hpp>

namespace aetherflow::detail {

template <class>
inline constexpr bool always_false = false;

// The input type can be read from F, or is named (flow.node<In>).
template <class F, class In>
constexpr bool readable_input() {
  if constexpr (std::is_same_v<In, Deduce> && !ReadableSignature<F>) {
    static_assert(always_false<F>,
                  "aetherflow: the input type of a generic lambda (an `auto` parameter) cannot be "
                  "read: name it, flow.node<int>(\"name\", [](auto x) { ... }) (likewise "
                  "flow.repeat<In> and flow.branch_on<In>)");
    return false;
  } else {
    return true;
  }
}

template <class P>
inline constexpr bool is_named_v = false;
template <class T, FixedString N>
inline constexpr bool is_named_v<Named<T, N>> = true;

// Parameters after the input ask for resources, so they must be references (or Named). A
// by-value one is nearly always a second input, which a node cannot have.
template <class Resources>
constexpr bool resources_by_reference() {
  constexpr bool ok = []<std::size_t... I>(std::index_sequence<I...>) {
    return ((std::is_lvalue_reference_v<std::tuple_element_t<I, Resources>> ||
             is_named_v<std::remove_cvref_t<std::tuple_element_t<I, Resources>>>)&&...);
  }
  (std::make_index_sequence<std::tuple_size_v<Resources>>{});
  static_assert(ok,
                "aetherflow: a node takes one input item; the parameters after it ask the "
                "Context for resources, by reference (T& or const T&), as Named<T, \"name\"> or "
                "as Lease<T>&, and this callable takes one by value. To combine the items of two "
                "branches, use a fan-in: fan_out(a, b) >> flow.fan_in(\"join\", [](A x, B y) "
                "{ ... })");
  return ok;
}

// A fan-in's callable: its parameters are read, one per branch.
template <class F>
constexpr bool readable_fan_in() {
  if constexpr (!ReadableSignature<F>) {
    static_assert(always_false<F>,
                  "aetherflow: a fan-in's callable cannot be generic (`auto` parameters): its "
                  "parameter types say what each branch brings, [](const A& a, const B& b)");
    return false;
  } else {
    return true;
  }
}

}  // namespace aetherflow::detail
