// Light chain: source -> three trivial one-to-one nodes -> sum sink, in AetherFlow (the batch
// size the run chooses, 256 and 1024) and as a hand-written tbb::flow::graph, one item per message
// and in hand-made batches of 1024, in the same binary and run.
//
//   build/release/bench/bench_light_chain [--benchmark_repetitions=5]

#include <cstdint>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/info.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"
#include "support/tbb_chains.hpp"

namespace {

using aetherflow::bench::chain_sum;
using aetherflow::bench::kChainItems;
const int kThreads = oneapi::tbb::info::default_concurrency();

void AetherFlow_LightChain(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("light_chain");
  aetherflow::bench::build_chain(flow, kChainItems, sum);
  for (auto _ : state) {
    sum = 0;
    flow.run({.threads = static_cast<std::size_t>(kThreads),
              .batch_size = static_cast<std::size_t>(state.range(0))});
    if (sum != chain_sum(kChainItems)) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kChainItems);
}

void TBB_LightChainPerItem(benchmark::State& state) {
  for (auto _ : state)
    if (aetherflow::bench::tbb_chain_per_item<0>(kThreads, kChainItems) != chain_sum(kChainItems))
      state.SkipWithError("wrong sum");
  state.SetItemsProcessed(state.iterations() * kChainItems);
}

void TBB_LightChainBatched(benchmark::State& state) {
  for (auto _ : state)
    if (aetherflow::bench::tbb_chain_batched<0>(kThreads, kChainItems, 1024) !=
        chain_sum(kChainItems))
      state.SkipWithError("wrong sum");
  state.SetItemsProcessed(state.iterations() * kChainItems);
}

}  // namespace

// Arg 0: the batch size the run chooses (the default).
BENCHMARK(AetherFlow_LightChain)
    ->Arg(0)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(TBB_LightChainPerItem)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(TBB_LightChainBatched)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"light chain, chosen batch / TBB per item", "AetherFlow_LightChain/0/real_time",
        "TBB_LightChainPerItem/real_time", 30},
       {"light chain, batch 256 / TBB per item", "AetherFlow_LightChain/256/real_time",
        "TBB_LightChainPerItem/real_time", 30},
       {"light chain, batch 1024 / TBB per item", "AetherFlow_LightChain/1024/real_time",
        "TBB_LightChainPerItem/real_time", 30},
       {"light chain, chosen batch / TBB hand-batched 1024", "AetherFlow_LightChain/0/real_time",
        "TBB_LightChainBatched/real_time", 0.5},
       {"light chain, batch 256 / TBB hand-batched 1024", "AetherFlow_LightChain/256/real_time",
        "TBB_LightChainBatched/real_time", 0.5},
       {"light chain, batch 1024 / TBB hand-batched 1024", "AetherFlow_LightChain/1024/real_time",
        "TBB_LightChainBatched/real_time", 0.5}});
}
