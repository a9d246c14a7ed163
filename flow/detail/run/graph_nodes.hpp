#pragma once
// The oneTBB graph of one run and the nodes it is built of, which the run owns.

#include <memory>
#include <utility>
#include <vector>

#include <oneapi/tbb/flow_graph.h>

#include <flow/detail/batch.hpp>

namespace aetherflow::detail {

namespace tf = oneapi::tbb::flow;
using Msg = BatchHandle;

class GraphNodes {
 public:
  explicit GraphNodes(tf::graph& graph) : graph_(graph) {}
  tf::graph& graph() noexcept { return graph_; }

  // A new oneTBB node of this graph: `args` after the graph.
  template <class Node, class... Args>
  Node& make(Args&&... args) {
    auto node = std::make_unique<Node>(graph_, std::forward<Args>(args)...);
    Node& ref = *node;
    nodes_.push_back(std::move(node));
    return ref;
  }

 private:
  tf::graph& graph_;
  std::vector<std::unique_ptr<tf::graph_node>> nodes_;
};

// A node of the flow as oneTBB nodes: where its input ports and output ports are.
struct Wired {
  std::vector<tf::receiver<Msg>*> inputs;
  std::vector<tf::sender<Msg>*> outputs;
};

}  // namespace aetherflow::detail
