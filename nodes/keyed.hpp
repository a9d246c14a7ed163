#pragma once
// Aggregating by key on every core (docs/nodes.md, "Keyed aggregation"):
//
//   auto words  = flow.node("split", split_words);                  // line -> words
//   auto counts = flow.node("count", aetherflow::count_by([](std::string_view w) { return w; }));
//   auto top    = flow.node("top", aetherflow::top_k<decltype(counts)::output_type>(10));
//   lines >> words >> counts >> top >> print;
//
// Each item updates the state of its key; when the input ends the node emits one
// std::pair<key, state> per key, in batches, to whatever follows it (top_k, a sink,
// write_lines after a transform). The state is split by key hash into shards, one per thread
// of the run unless .shards(n) says otherwise: a call splits its batch by shard once and
// updates each shard under one lock, so no lock is taken per item and nothing is merged at
// the end. A key the key function returns as a view (std::string_view into a read_lines
// chunk) is looked up as the view and stored as a std::string, which outlives the chunk.
//
//   aggregate_by_key(key, init, update)   update(state&, item) per item; init: a value or a
//                                         callable returning the first state of a new key
//   count_by(key)                         items per key (std::uint64_t)
//   sum_by(key, value)                    the sum of value(item) per key
//
// Name the item type for a generic key function: count_by<Hit>([](const auto& h) {...}). A
// key type of your own needs a hash and an equality: .hash_by(hash, equal) (a hash of string
// keys takes a std::string_view). Error policies apply per item to the key function and
// update; a stopped run emits nothing; checkpoints refuse the node (docs/nodes.md says why).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <flow/callable_traits.hpp>
#include <flow/node_kind.hpp>
#include <nodes/detail/keyed_node.hpp>
#include <nodes/detail/keyed_table.hpp>

namespace aetherflow {

namespace detail {
struct DeduceItem {};

// The item type a keyed node takes: named, or the key function's parameter.
template <class Named, class KeyFn>
struct keyed_item {
  using type = Named;
};
template <class KeyFn>
struct keyed_item<DeduceItem, KeyFn> {
  static_assert(ReadableSignature<KeyFn>,
                "aetherflow: the item type of a generic key function (an `auto` parameter) "
                "cannot be read: name it, count_by<Item>([](const auto& x) { ... })");
  using type = std::remove_cvref_t<std::tuple_element_t<0, typename callable_args<KeyFn>::args>>;
};

// A callable returning the first state of a new key: `init` itself, or a copy of the value.
template <class Init>
auto initial_state(Init init) {
  if constexpr (std::is_invocable_v<const Init&>)
    return init;
  else
    return [value = std::move(init)] { return value; };
}
}  // namespace detail

// What aggregate_by_key, count_by and sum_by return: the spec Flow::node makes the node from
// (flow/node_kind.hpp).
template <class In, class KeyFn, class Init, class Update,
          class Hash = detail::default_key_hash<
              std::remove_cvref_t<std::invoke_result_t<const KeyFn&, const In&>>>,
          class Equal = std::equal_to<>>
struct KeyedAggregation {
  using Node = detail::KeyedNode<In, KeyFn, Init, Update, Hash, Equal>;
  using input_type = In;
  using key_type = typename Node::Key;
  using state_type = typename Node::State;
  using output_type = typename Node::Pair;  // std::pair<key_type, state_type>

  KeyFn key;
  Init init;
  Update update;
  Hash hash{};
  Equal equal{};
  std::size_t shard_count = 0;  // 0: one per thread of the run

  // The state split into `n` shards instead of one per thread.
  KeyedAggregation shards(std::size_t n) const {
    KeyedAggregation spec = *this;
    spec.shard_count = n;
    return spec;
  }
  // Keys hashed and compared by functions of your own.
  template <class H, class E = Equal>
  KeyedAggregation<In, KeyFn, Init, Update, H, E> hash_by(H h, E e = {}) const {
    return {key, init, update, std::move(h), std::move(e), shard_count};
  }

  std::shared_ptr<detail::NodeImpl> make(std::string name, NodeOptions options) const {
    static_assert(!std::is_same_v<Hash, detail::MissingKeyHash>,
                  "aetherflow: this key type has no std::hash: give the keyed node a hash and an "
                  "equality of your own, count_by(key).hash_by(hash, equal)");
    return std::make_shared<Node>(std::move(name), options, key, init, update, hash, equal,
                                  shard_count);
  }
};

template <class In = detail::DeduceItem, class KeyFn, class Init, class Update>
auto aggregate_by_key(KeyFn key, Init init, Update update) {
  using Item = typename detail::keyed_item<In, KeyFn>::type;
  auto first = detail::initial_state(std::move(init));
  return KeyedAggregation<Item, KeyFn, decltype(first), Update>{std::move(key), std::move(first),
                                                                std::move(update)};
}

template <class In = detail::DeduceItem, class KeyFn>
auto count_by(KeyFn key) {
  using Item = typename detail::keyed_item<In, KeyFn>::type;
  return aggregate_by_key<Item>(std::move(key), std::uint64_t{0},
                                [](std::uint64_t& n, const Item&) { ++n; });
}

template <class In = detail::DeduceItem, class KeyFn, class ValueFn>
auto sum_by(KeyFn key, ValueFn value) {
  using Item = typename detail::keyed_item<In, KeyFn>::type;
  using Sum = std::remove_cvref_t<std::invoke_result_t<const ValueFn&, const Item&>>;
  return aggregate_by_key<Item>(
      std::move(key), Sum{},
      [value = std::move(value)](Sum& sum, const Item& item) { sum += value(item); });
}

}  // namespace aetherflow
