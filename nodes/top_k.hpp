#pragma once
// The k best items of a stream (docs/nodes.md, "Keyed aggregation"):
//
//   auto counts = flow.node("count", aetherflow::count_by(...));   // pairs (word, count)
//   auto top = flow.node("top", aetherflow::top_k<decltype(counts)::output_type>(10));
//   auto longest = flow.node("longest", aetherflow::top_k(3, [](const Line& l) { return l.size();
//   }));
//
// Emits, when the input ends, the k items with the largest by(item), best first; items with
// equal by() in ascending order of the items themselves (operator<: for pairs, the key), so
// that every run gives the same list. Without `by`, a pair ranks by its second member: a
// keyed node's state. It holds at most k items per thread of the run. A stopped run emits
// nothing.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <flow/callable_traits.hpp>
#include <flow/node_kind.hpp>
#include <nodes/detail/top_k_node.hpp>

namespace aetherflow {

// What top_k returns: the spec Flow::node makes the node from (flow/node_kind.hpp).
template <class T, class By>
struct TopK {
  static_assert(std::is_invocable_v<const std::less<>&, const T&, const T&>,
                "aetherflow: top_k breaks ties by the items' operator<, which this type lacks");
  using input_type = T;
  using output_type = T;
  std::size_t k;
  By by;

  std::shared_ptr<detail::NodeImpl> make(std::string name, NodeOptions options) const {
    return std::make_shared<detail::TopKNode<T, By>>(std::move(name), options, k, by);
  }
};

// By a score of your own; T is by's parameter unless named.
template <class T = void, class By>
auto top_k(std::size_t k, By by) {
  if constexpr (std::is_void_v<T>) {
    using Item =
        std::remove_cvref_t<std::tuple_element_t<0, typename detail::callable_args<By>::args>>;
    return TopK<Item, By>{k, std::move(by)};
  } else {
    return TopK<T, By>{k, std::move(by)};
  }
}

// Pairs (a keyed node's output) by their second member.
template <class Pair>
auto top_k(std::size_t k) {
  return top_k<Pair>(
      k, [](const Pair& p) -> const auto& { return p.second; });
}

}  // namespace aetherflow
