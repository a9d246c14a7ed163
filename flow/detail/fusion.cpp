#include <flow/detail/fusion.hpp>

#include <flow/options.hpp>

namespace aetherflow::detail {
namespace {

// Whether a node may share a oneTBB node with its neighbours in a chain (fusion.hpp).
bool fusable(const NodeImpl& node) {
  return node.traits().fusable && node.shape() == Shape::step && node.concurrency() == unlimited &&
         !node.options().adaptive;
}

}  // namespace

std::vector<std::size_t> fused_after(const FlowData& flow) {
  const std::size_t n = flow.nodes.size();
  std::vector<std::size_t> edges_out(n, 0), edges_in(n, 0);
  for (const auto& e : flow.edges) {
    ++edges_out[e.from];
    ++edges_in[e.to];
  }
  std::vector<std::size_t> after(n, kNotFused);
  for (const auto& e : flow.edges)
    if (!e.converter && edges_out[e.from] == 1 && edges_in[e.to] == 1 &&
        fusable(*flow.nodes[e.from].impl) && fusable(*flow.nodes[e.to].impl))
      after[e.to] = e.from;
  return after;
}

}  // namespace aetherflow::detail
