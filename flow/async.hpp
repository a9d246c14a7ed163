#pragma once
// Async nodes, for work that waits on something slow: an HTTP service, a database, a disk
// (docs/nodes.md, "Async nodes"). The body starts an operation for its item and returns; the
// operation reports its result later, from any thread, through the Completion it was given
// (flow/completion.hpp):
//
//   auto enrich = flow.node("enrich",
//       aetherflow::async([&service](Trade t, aetherflow::Completion<Quote> done) {
//         service.quote(t, std::move(done));  // calls done.set_value(q) when the reply comes
//       }),
//       {.max_in_flight = 500, .operation_timeout = std::chrono::seconds(2)});
//
// Up to max_in_flight operations run at once across the node's calls, and a call waiting for
// its operations holds no worker thread: the run's threads go on with other work. Each call
// emits its batch's results together, in the items' order. Error policies apply per item to a
// failed operation (set_error, set_stopped, a body that throws, a timeout); a stopped run stops
// waiting, counts the operations in flight as cancelled items, and ignores their completions.
// A body returning void-completion (Completion<void>) makes an async sink.

#include <tuple>
#include <type_traits>
#include <utility>

#include <flow/callable_traits.hpp>
#include <flow/completion.hpp>
#include <flow/detail/async_node.hpp>
#include <flow/node_kind.hpp>

namespace aetherflow {

namespace detail {
template <class C>
struct completion_value {
  static constexpr bool is_completion = false;
};
template <class T>
struct completion_value<Completion<T>> {
  static constexpr bool is_completion = true;
  using type = T;
};
}  // namespace detail

// What async() returns: the spec Flow::node makes the node from (flow/node_kind.hpp).
template <class F>
struct Async {
  static_assert(detail::ReadableSignature<F>,
                "aetherflow::async: the body's parameters must have types, "
                "(Item item, aetherflow::Completion<Result> done): not a generic lambda");
  using Args = typename detail::callable_args<F>::args;
  static_assert(std::tuple_size_v<Args> == 2,
                "aetherflow::async: the body takes two parameters, "
                "(Item item, aetherflow::Completion<Result> done)");
  using ItemParam = std::tuple_element_t<0, Args>;
  using Done = detail::completion_value<std::remove_cvref_t<std::tuple_element_t<1, Args>>>;
  static_assert(
      Done::is_completion,
      "aetherflow::async: the body's second parameter is an aetherflow::Completion<Result>");

  using input_type = std::remove_cvref_t<ItemParam>;
  using output_type = typename Done::type;
  F fn;

  std::shared_ptr<detail::NodeImpl> make(std::string name, NodeOptions options) const {
    return std::make_shared<detail::AsyncNode<F, ItemParam, output_type>>(std::move(name), options,
                                                                          fn);
  }
};

template <class F>
Async<F> async(F fn) {
  return {std::move(fn)};
}

}  // namespace aetherflow
