// Light chain: source -> three trivial one-to-one nodes -> sum sink, in AetherFlow and as a
// hand-written tbb::flow::graph passing one item per message, in the same binary and run.
//
//   build/release/bench/bench_light_chain [--benchmark_repetitions=5]

#include <cstdint>
#include <optional>
#include <ranges>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"

namespace {

using aetherflow::bench::chain_sum;
using aetherflow::bench::kChainItems;
using Light = aetherflow::bench::Steps<0>;
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
  namespace tf = oneapi::tbb::flow;
  oneapi::tbb::task_arena arena(kThreads);
  for (auto _ : state) {
    std::int64_t sum = 0;
    arena.execute([&] {
      tf::graph g;
      std::int64_t next = 0;
      tf::input_node<std::int64_t> source(g, [&next](oneapi::tbb::flow_control& fc) {
        if (next == kChainItems) {
          fc.stop();
          return std::int64_t{0};
        }
        return next++;
      });
      tf::function_node<std::int64_t, std::int64_t> a(g, tf::unlimited, Light::add_one);
      tf::function_node<std::int64_t, std::int64_t> b(g, tf::unlimited, Light::twice);
      tf::function_node<std::int64_t, std::int64_t> c(g, tf::unlimited, Light::minus_three);
      tf::function_node<std::int64_t> total(g, tf::serial, [&sum](std::int64_t x) {
        sum += x;
        return tf::continue_msg();
      });
      tf::make_edge(source, a);
      tf::make_edge(a, b);
      tf::make_edge(b, c);
      tf::make_edge(c, total);
      source.activate();
      g.wait_for_all();
    });
    if (sum != chain_sum(kChainItems)) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kChainItems);
}

}  // namespace

BENCHMARK(AetherFlow_LightChain)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(TBB_LightChainPerItem)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"light chain, batch 256 / TBB per item", "AetherFlow_LightChain/256/real_time",
        "TBB_LightChainPerItem/real_time", 30},
       {"light chain, batch 1024 / TBB per item", "AetherFlow_LightChain/1024/real_time",
        "TBB_LightChainPerItem/real_time", 30}});
}
