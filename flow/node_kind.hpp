#pragma once
// Writing a node kind of your own: the seam between node kinds and the run (docs/extending.md).
// A kind is a class derived from detail::NodeImpl (flow/detail/node_impl.hpp) that states its
// NodeTraits and shape, and a spec that makes it, which Flow::node accepts like a callable:
//
//   template <class T> struct Batching {        // nodes/batch.hpp, the batch node's spec
//     using input_type = T;
//     using output_type = std::vector<T>;
//     std::shared_ptr<aetherflow::detail::NodeImpl> make(std::string name,
//                                                        aetherflow::NodeOptions options) const;
//   };
//   auto rows = flow.node("rows", aetherflow::batch<Row>(500));
//
// The run wires a node by its shape() and asks its traits() what the plan needs to know; it
// never asks which kind a node is. nodes/detail/batch_node.hpp is a whole kind in one file;
// nodes/detail/keyed_node.hpp one that calls user code per item and so applies the error
// policies (ItemFailures, NodeWithDeadLetters).

#include <concepts>
#include <memory>
#include <string>

#include <flow/detail/batch.hpp>
#include <flow/detail/error_policy.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/options.hpp>

namespace aetherflow {

template <class S>
concept NodeSpec = requires(const S& spec, std::string name, NodeOptions options) {
  typename S::input_type;
  typename S::output_type;
  { spec.make(std::move(name), options) } -> std::convertible_to<std::shared_ptr<detail::NodeImpl>>;
};

}  // namespace aetherflow
