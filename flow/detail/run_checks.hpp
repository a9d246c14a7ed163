#pragma once
// What a run's options ask of a flow, checked with the flow itself before any data moves:
// Flow::run adds these problems to the flow's own in one FlowError.

#include <string>
#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/options.hpp>

namespace aetherflow::detail {

// The most items a source batch may hold.
inline constexpr std::size_t kMaxBatchSize = std::size_t{1} << 24;

// The batch size (fixed, or chosen within a valid auto_batch_size), and checkpoints: settings
// that make sense, and a flow that can take them (every source resumable, no node that holds
// items between calls).
void check_run_options(const FlowData& flow, const RunOptions& options,
                       std::vector<std::string>& problems);

}  // namespace aetherflow::detail
