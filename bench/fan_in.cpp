// Fan-out/fan-in: each item goes to two branches of different cost, and a join pairs the two
// results of the same item; in AetherFlow (fan_out >> fan_in) and as a hand-written oneTBB
// graph passing one item per message into a key_matching join_node.
//
//   build/release/bench/bench_fan_in [--benchmark_repetitions=5]

#include <cstdint>
#include <ranges>
#include <tuple>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"
#include "support/tbb_chains.hpp"

namespace {

using aetherflow::bench::burn;
constexpr std::int64_t kItems = 1 << 18;
constexpr int kDearRounds = 20;  // the dearer branch: about 70 ns more per item
const int kThreads = oneapi::tbb::info::default_concurrency();

std::int64_t cheap(std::int64_t x) {
  return x + 1;
}
std::int64_t dear(std::int64_t x) {
  burn<kDearRounds>(x);
  return x * 2;
}
constexpr std::int64_t expected_sum() {
  std::int64_t s = 0;
  for (std::int64_t i = 0; i < kItems; ++i) s += (i + 1) + i * 2;
  return s;
}

void AetherFlow_FanIn(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("fan_in");
  auto source = flow.source("numbers", std::views::iota(std::int64_t{0}, kItems));
  auto a = flow.node("cheap", cheap);
  auto b = flow.node("dear", dear);
  auto join = flow.fan_in("join", [](std::int64_t x, std::int64_t y) { return x + y; });
  auto total = flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  source >> aetherflow::fan_out(a, b) >> join >> total;
  for (auto _ : state) {
    sum = 0;
    flow.run({.threads = static_cast<std::size_t>(kThreads)});
    if (sum != expected_sum()) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}

struct Tagged {
  std::int64_t id = 0, value = 0;
};

void TBB_FanInPerItem(benchmark::State& state) {
  namespace tf = oneapi::tbb::flow;
  oneapi::tbb::task_arena arena(kThreads);
  for (auto _ : state) {
    std::int64_t sum = 0;
    arena.execute([&] {
      tf::graph g;
      tf::input_node<std::int64_t> source(g, aetherflow::bench::tbb_count_to(kItems));
      tf::function_node<std::int64_t, Tagged> a(g, tf::unlimited, [](std::int64_t x) {
        return Tagged{x, cheap(x)};
      });
      tf::function_node<std::int64_t, Tagged> b(g, tf::unlimited, [](std::int64_t x) {
        return Tagged{x, dear(x)};
      });
      auto id = [](const Tagged& t) { return t.id; };
      tf::join_node<std::tuple<Tagged, Tagged>, tf::key_matching<std::int64_t>> join(g, id, id);
      tf::function_node<std::tuple<Tagged, Tagged>> total(
          g, tf::serial, [&sum](const std::tuple<Tagged, Tagged>& pair) {
            sum += std::get<0>(pair).value + std::get<1>(pair).value;
            return tf::continue_msg();
          });
      tf::make_edge(source, a);
      tf::make_edge(source, b);
      tf::make_edge(a, tf::input_port<0>(join));
      tf::make_edge(b, tf::input_port<1>(join));
      tf::make_edge(join, total);
      source.activate();
      g.wait_for_all();
    });
    if (sum != expected_sum()) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}

}  // namespace

BENCHMARK(AetherFlow_FanIn)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(TBB_FanInPerItem)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"fan-out/fan-in / TBB per item, key_matching", "AetherFlow_FanIn/real_time",
        "TBB_FanInPerItem/real_time", 20}});
}
