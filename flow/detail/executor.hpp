#pragma once
// Compiles a validated flow into a oneTBB flow graph and runs it. A fresh graph is built for
// every run, so a run that failed leaves nothing behind for the next one.

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
// Benchmarks only: run as if the profiler were compiled out, to measure what compiling it in
// costs when it is off, in one binary.
extern std::atomic<bool> profiler_compiled_out_for_benchmarks;

// Worker threads for a run: the option if set, else AETHERFLOW_THREADS, else every core.
std::size_t resolve_threads(std::size_t requested);
// The most threads oneTBB runs at once (tbb::global_control::max_allowed_parallelism).
std::size_t max_parallelism();

// Throws Error, naming the flow, unless the run's batch size is valid: fixed (1 to 2^24), or 0
// with a valid auto_batch_size.
void check_batch_size(const std::string& flow, const RunOptions& options);

}  // namespace aetherflow::detail
