#pragma once
// Before any data moves: finds, for every resource a node asks for, the context's provider.

#include <vector>

#include <contexts/context.hpp>
#include <flow/detail/flow_data.hpp>

namespace aetherflow::detail {

// Per node id, the providers of its resource parameters in order. Throws FlowError listing
// every resource the context does not provide, or provides in a way the node cannot take.
std::vector<std::vector<ProviderBase*>> bind_resources(const FlowData& flow,
                                                       const Context& context);

}  // namespace aetherflow::detail
