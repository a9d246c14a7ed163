// Heavy chain: the light chain's shape with about 1 us of CPU work per node per item, on one
// thread and on every thread, beside the hand-batched oneTBB graph on every thread. Shows
// whether a heavy node scales to every core, and what AetherFlow costs against an expert's
// hand-made batches.
//
//   build/release/bench/bench_heavy_chain [--benchmark_repetitions=5]

#include <cstdint>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/info.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"
#include "support/tbb_chains.hpp"

namespace {

using aetherflow::bench::chain_sum;
using aetherflow::bench::kHeavyRounds;
constexpr std::int64_t kItems = 1 << 15;  // x 3 nodes x ~1 us: about 0.1 s on one core
const int kThreads = oneapi::tbb::info::default_concurrency();

// range(0): threads (0: every core).
void AetherFlow_HeavyChain(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("heavy_chain");
  aetherflow::bench::build_chain<kHeavyRounds>(flow, kItems, sum);
  const auto threads = static_cast<std::size_t>(state.range(0) ? state.range(0) : kThreads);
  for (auto _ : state) {
    sum = 0;
    flow.run({.threads = threads});
    if (sum != chain_sum(kItems)) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}

void TBB_HeavyChainBatched(benchmark::State& state) {
  for (auto _ : state)
    if (aetherflow::bench::tbb_chain_batched<kHeavyRounds>(kThreads, kItems, 256) !=
        chain_sum(kItems))
      state.SkipWithError("wrong sum");
  state.SetItemsProcessed(state.iterations() * kItems);
}

}  // namespace

BENCHMARK(AetherFlow_HeavyChain)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(TBB_HeavyChainBatched)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"heavy chain, every thread / one thread", "AetherFlow_HeavyChain/threads:0/real_time",
        "AetherFlow_HeavyChain/threads:1/real_time", 1.85},
       {"heavy chain / TBB hand-batched, every thread", "AetherFlow_HeavyChain/threads:0/real_time",
        "TBB_HeavyChainBatched/real_time", 0.95}});
}
