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

#include "support/ratio_main.hpp"

namespace {

constexpr std::int64_t kItems = 1 << 20;
const int kThreads = oneapi::tbb::info::default_concurrency();

// The three trivial bodies, shared by both implementations.
std::int64_t add_one(std::int64_t x) {
  return x + 1;
}
std::int64_t twice(std::int64_t x) {
  return x * 2;
}
std::int64_t minus_three(std::int64_t x) {
  return x - 3;
}
constexpr std::int64_t expected_sum() {
  std::int64_t s = 0;
  for (std::int64_t i = 0; i < kItems; ++i) s += (i + 1) * 2 - 3;
  return s;
}

void AetherFlow_LightChain(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("light_chain");
  auto source = flow.source("numbers", std::views::iota(std::int64_t{0}, kItems));
  auto a = flow.node("add_one", add_one);
  auto b = flow.node("twice", twice);
  auto c = flow.node("minus_three", minus_three);
  auto total = flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  source >> a >> b >> c >> total;
  for (auto _ : state) {
    sum = 0;
    flow.run({.threads = static_cast<std::size_t>(kThreads),
              .batch_size = static_cast<std::size_t>(state.range(0))});
    if (sum != expected_sum()) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
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
        if (next == kItems) {
          fc.stop();
          return std::int64_t{0};
        }
        return next++;
      });
      tf::function_node<std::int64_t, std::int64_t> a(g, tf::unlimited, add_one);
      tf::function_node<std::int64_t, std::int64_t> b(g, tf::unlimited, twice);
      tf::function_node<std::int64_t, std::int64_t> c(g, tf::unlimited, minus_three);
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
    if (sum != expected_sum()) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
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
