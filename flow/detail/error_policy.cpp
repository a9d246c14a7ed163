#include <flow/detail/error_policy.hpp>

namespace aetherflow::detail {

void check_error_policies(const FlowData& flow, std::vector<std::string>& problems) {
  for (const auto& decl : flow.nodes) {
    const NodeImpl& node = *decl.impl;
    const NodeOptions& o = node.options();
    if (!node.traits().item_calls && (o.on_error != OnError::fail || o.retry))
      problems.push_back(fmt::format(
          "'{}' ({}) sets on_error or retry, which apply to nodes calling user code on one item "
          "at a time (transform, filter, one-to-many, sink, repeat)",
          node.name(), node.traits().label));
    if (o.ordered && has_dead_letters(o))
      problems.push_back(
          fmt::format("'{}' is an ordered sink: it cannot send dead letters", node.name()));
  }
  for (const auto& e : flow.edges) {
    const NodeImpl& from = *flow.nodes[e.from].impl;
    if (e.from_port >= from.output_ports())
      problems.push_back(
          fmt::format("the dead letters of '{}' are connected, but its on_error is not dead_letter",
                      from.name()));
  }
}

}  // namespace aetherflow::detail
