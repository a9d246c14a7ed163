#pragma once
// Before any data moves: validates a declared flow as a whole and works out what the executor
// needs to know about it.

#include <cstddef>
#include <string>
#include <vector>

#include <flow/detail/flow_data.hpp>

namespace aetherflow::detail {

struct Plan {
  std::vector<std::size_t> order;  // every node, upstream before downstream
  // Per node: how many batches reach it for one source sequence number. One on a plain chain;
  // more where branches merge again. An ordered sink waits for all of them.
  std::vector<std::size_t> parts_per_seq;
};

// Throws FlowError listing every problem of the flow.
Plan make_plan(const FlowData& flow);

}  // namespace aetherflow::detail
