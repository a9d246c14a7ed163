#pragma once
// What a Flow holds: its nodes and edges as declared. The plan (plan.cpp) validates them and
// the executor (executor.cpp) compiles them into a oneTBB graph for each run.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <flow/detail/node_impl.hpp>

namespace aetherflow::detail {

struct NodeDecl {
  std::shared_ptr<NodeImpl> impl;
  bool discarded = false;  // output declared intentionally unused
};

struct EdgeDecl {
  std::size_t from = 0, from_port = 0;
  std::size_t to = 0, to_port = 0;
  // Set when the upstream output type differs from the downstream input type but converts to
  // it: a one-to-one node that converts each item, run on the edge.
  std::shared_ptr<const NodeImpl> converter;
};

class Profiler;

struct FlowData {
  std::string name;
  std::vector<NodeDecl> nodes;
  std::vector<EdgeDecl> edges;
  std::atomic<bool> running{false};
  // The last profiled run's profiler, kept for the next one to record into memory already
  // touched. Runs take and give it back; `running` keeps them one at a time.
  mutable std::shared_ptr<Profiler> profiler;

  std::size_t add(std::shared_ptr<NodeImpl> node) {
    nodes.push_back({std::move(node)});
    return nodes.size() - 1;
  }
};

}  // namespace aetherflow::detail
