#pragma once
// Before any data moves: validates a declared flow as a whole and works out what the executor
// needs to know about it.

#include <cstddef>
#include <string>
#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/profile.hpp>

namespace aetherflow::detail {

struct Plan {
  std::vector<std::size_t> order;  // every node, upstream before downstream
  // Per node: how many batches reach it for one source sequence number. One on a plain chain;
  // more where branches merge again. An ordered sink waits for all of them.
  std::vector<std::size_t> parts_per_seq;
};

// Throws FlowError listing every problem of the flow.
Plan make_plan(const FlowData& flow);

// The flow as declared, in Graphviz DOT; with a profile, each node is coloured by its busy
// share and labelled with its key numbers.
std::string to_dot(const FlowData& flow, const Profile* profile = nullptr);

}  // namespace aetherflow::detail
