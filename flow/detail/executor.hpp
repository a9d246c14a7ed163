#pragma once
// Compiles a validated flow into a oneTBB flow graph and runs it. A fresh graph is built for
// every run, so a run that failed leaves nothing behind for the next one.

#include <vector>

#include <flow/detail/flow_data.hpp>
#include <flow/detail/plan.hpp>
#include <flow/options.hpp>
#include <flow/report.hpp>

namespace aetherflow::detail {

// `resources`: per node, the providers of its resource parameters (bind_resources).
RunReport execute(const FlowData& flow, const Plan& plan,
                  const std::vector<std::vector<ProviderBase*>>& resources,
                  const RunOptions& options);

// Worker threads for a run: the option if set, else AETHERFLOW_THREADS, else every core.
std::size_t resolve_threads(std::size_t requested);

}  // namespace aetherflow::detail
