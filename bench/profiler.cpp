// What the profiler costs, in one run:
//   light chain (source -> 3 trivial nodes -> sum): profile on vs off (goal: at most 10% loss)
//   heavy chain (about 1 us per node per item):     profile on vs off (goal: at most 3% loss)
//   light chain, profile off: compiled in vs compiled out (goal: at most 1% loss)
//
//   build/release/bench/bench_profiler [--benchmark_repetitions=5]

#include <cstdint>
#include <thread>

#include <benchmark/benchmark.h>

#include <flow/aetherflow.hpp>
#include <flow/detail/executor.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"

namespace {

using aetherflow::bench::chain_sum;
// About 0.33 us of dependent multiply-adds (1.1 ns a round, as bench_granularity calibrates).
constexpr int kHeavyRounds = 300;
constexpr std::int64_t kHeavyItems = 1 << 14;

enum Mode : int { off = 0, on = 1, compiled_out = 2 };

// range(0): Mode; range(1): batch size (0: chosen by the run, the default).
template <int Rounds>
void Chain(benchmark::State& state) {
  const auto mode = static_cast<Mode>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  const std::int64_t items = Rounds ? kHeavyItems : aetherflow::bench::kChainItems;
  std::int64_t sum = 0;
  aetherflow::Flow flow(Rounds ? "heavy_chain" : "light_chain");
  aetherflow::bench::build_chain<Rounds>(flow, items, sum);
  aetherflow::detail::profiler_compiled_out_for_benchmarks = mode == compiled_out;
  for (auto _ : state) {
    sum = 0;
    flow.run({.threads = std::max(1u, std::thread::hardware_concurrency()),
              .batch_size = batch,
              .profile = mode == on});
    if (sum != chain_sum(items)) state.SkipWithError("wrong sum");
  }
  aetherflow::detail::profiler_compiled_out_for_benchmarks = false;
  state.SetItemsProcessed(state.iterations() * items);
}

}  // namespace

BENCHMARK(Chain<0>)
    ->Name("Light")
    ->ArgNames({"mode", "batch"})
    ->Args({off, 0})
    ->Args({on, 0})
    ->Args({compiled_out, 0})
    ->Args({off, 256})
    ->Args({on, 256})
    ->Args({off, 1024})
    ->Args({on, 1024})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(Chain<kHeavyRounds>)
    ->Name("Heavy")
    ->ArgNames({"mode", "batch"})
    ->Args({off, 256})
    ->Args({on, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"light chain, chosen batch: profile on / off", "Light/mode:1/batch:0/real_time",
        "Light/mode:0/batch:0/real_time", 0.90},
       {"light chain, batch 256: profile on / off", "Light/mode:1/batch:256/real_time",
        "Light/mode:0/batch:256/real_time", 0.90},
       {"light chain, batch 1024: profile on / off", "Light/mode:1/batch:1024/real_time",
        "Light/mode:0/batch:1024/real_time", 0.90},
       {"heavy chain: profile on / off", "Heavy/mode:1/batch:256/real_time",
        "Heavy/mode:0/batch:256/real_time", 0.97},
       {"light chain off: compiled in / compiled out", "Light/mode:0/batch:0/real_time",
        "Light/mode:2/batch:0/real_time", 0.99}});
}
