#pragma once
// Grouping items for bulk work, and ungrouping them (docs/nodes.md):
//
//   auto rows   = flow.node("rows", aetherflow::batch<Row>(500, 50ms));   // Row -> vector<Row>
//   auto insert = flow.node("insert", [&db](const std::vector<Row>& rows) { db.insert(rows); });
//   parse >> rows >> insert;
//
// A group leaves when it holds `size` items, when `max_wait` has passed since its first item
// (zero: no time limit), and at the end of the stream, so no item waits longer than max_wait
// and none is left behind. The node is serial unless told otherwise, so groups fill in arrival
// order. Items held when a run stops are counted as cancelled in its report. A batch node mixes
// items of different source batches, so no fan-in or ordered sink may follow it, and a run
// with checkpoints refuses it (docs/nodes.md says why).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <flow/emitter.hpp>
#include <flow/node_kind.hpp>
#include <nodes/detail/batch_node.hpp>

namespace aetherflow {

// What batch<T>() returns: the spec Flow::node makes the node from (flow/node_kind.hpp).
template <class T>
struct Batching {
  using input_type = T;
  using output_type = std::vector<T>;
  std::size_t size;
  std::chrono::nanoseconds max_wait;  // zero: no time limit

  std::shared_ptr<detail::NodeImpl> make(std::string name, NodeOptions options) const {
    return std::make_shared<detail::BatchNode<T>>(std::move(name), options, size, max_wait);
  }
};

template <class T>
Batching<T> batch(std::size_t size, std::chrono::nanoseconds max_wait = {}) {
  return {size, max_wait};
}

// The inverse: each item of each group, in the group's order.
template <class T>
auto unbatch() {
  return [](std::vector<T> group, Emitter<T>& emit) {
    for (T& item : group) emit(std::move(item));
  };
}

}  // namespace aetherflow
