#pragma once
// Runs a checked flow (plan.hpp, run_checks.hpp): builds a fresh oneTBB graph for the run
// (run/wiring.cpp), waits for it and reports. A run that failed leaves nothing behind for the
// next one. The run's parts live in run/, each in its own file.

#include <atomic>
#include <string>
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

// False when built with AETHERFLOW_PROFILER=OFF: profiling code is then compiled out.
#ifdef AETHERFLOW_NO_PROFILER
inline constexpr bool kProfilerCompiled = false;
#else
inline constexpr bool kProfilerCompiled = true;
#endif
// Benchmarks only: run as if the profiler were compiled out, even when a run asks for it.
extern std::atomic<bool> profiler_compiled_out_for_benchmarks;

// Worker threads for a run: the option if set, else AETHERFLOW_THREADS, else every core.
std::size_t resolve_threads(std::size_t requested);
// The threads of a run with these options: resolve_threads(options.threads), but on a cluster
// a rank's share of its machine's cores by default.
std::size_t threads_for(const RunOptions& options);
// The most threads oneTBB runs at once (tbb::global_control::max_allowed_parallelism).
std::size_t max_parallelism();

}  // namespace aetherflow::detail
