#pragma once
// The flow as declared, in Graphviz DOT (Flow::to_dot); with a profile, each node is coloured by
// its busy share and labelled with its key numbers, the bottleneck outlined.

#include <string>

#include <flow/detail/flow_data.hpp>
#include <flow/profile.hpp>

namespace aetherflow::detail {

std::string to_dot(const FlowData& flow, const Profile* profile = nullptr);

}  // namespace aetherflow::detail
