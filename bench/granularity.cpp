// Granularity sweep: source -> one node doing W ns of CPU work per item -> sink, for W from
// 10 ns to 100 us, on one thread and on every thread, in AetherFlow and as a oneTBB graph
// passing one item per message. Parallel efficiency at W is
//   (items/s on T threads) / (T x items/s on one thread),
// and the minimum effective task granularity is the smallest W reaching 50% (and 90%).
//
//   build/release/bench/bench_granularity [--benchmark_repetitions=3]
//
// W is converted to rounds of burn_rounds() by timing them at start-up.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ranges>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"
#include "support/tbb_chains.hpp"

namespace {

using aetherflow::bench::burn_rounds;
const int kThreads = oneapi::tbb::info::default_concurrency();
const std::vector<std::int64_t> kWorkNs = {10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000};

// Rounds of burn_rounds() per nanosecond on this machine.
double rounds_per_ns() {
  // Opaque to the compiler: with constants, GCC works the whole loop out at compile time.
  std::int64_t rounds = 50'000'000, seed = 1;
  benchmark::DoNotOptimize(rounds);
  benchmark::DoNotOptimize(seed);
  const auto start = std::chrono::steady_clock::now();
  burn_rounds(seed, rounds);
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return static_cast<double>(rounds) / took.count();
}

// Enough items for about 50 ms of work on one thread, within bounds; a sixteenth of that with
// AETHERFLOW_BENCH_QUICK set (the smoke test).
std::int64_t items_for(std::int64_t work_ns) {
  static const std::int64_t scale = std::getenv("AETHERFLOW_BENCH_QUICK") ? 16 : 1;
  return std::clamp<std::int64_t>(50'000'000 / work_ns, 4096, 1 << 20) / scale;
}

void AetherFlow(benchmark::State& state, std::int64_t work_ns, std::int64_t rounds, int threads) {
  const std::int64_t items = items_for(work_ns);
  aetherflow::Flow flow("granularity");
  std::int64_t count = 0;
  auto source = flow.source("n", std::views::iota(std::int64_t{0}, items));
  auto work = flow.node("work", [rounds](std::int64_t x) {
    burn_rounds(x, rounds);
    return x;
  });
  source >> work >> flow.node("count", [&count](std::int64_t) { ++count; });
  for (auto _ : state) {
    count = 0;
    flow.run({.threads = static_cast<std::size_t>(threads)});
    if (count != items) state.SkipWithError("items lost");
  }
  state.SetItemsProcessed(state.iterations() * items);
}

void TBB(benchmark::State& state, std::int64_t work_ns, std::int64_t rounds, int threads) {
  namespace tf = oneapi::tbb::flow;
  const std::int64_t items = items_for(work_ns);
  oneapi::tbb::task_arena arena(threads);
  for (auto _ : state) {
    std::int64_t count = 0;
    arena.execute([&] {
      tf::graph g;
      tf::input_node<std::int64_t> source(g, aetherflow::bench::tbb_count_to(items));
      tf::function_node<std::int64_t, std::int64_t> work(g, tf::unlimited,
                                                         [rounds](std::int64_t x) {
                                                           burn_rounds(x, rounds);
                                                           return x;
                                                         });
      tf::function_node<std::int64_t> sink(g, tf::serial, [&count](std::int64_t) {
        ++count;
        return tf::continue_msg();
      });
      tf::make_edge(source, work);
      tf::make_edge(work, sink);
      source.activate();
      g.wait_for_all();
    });
    if (count != items) state.SkipWithError("items lost");
  }
  state.SetItemsProcessed(state.iterations() * items);
}

std::string name(const char* framework, std::int64_t work_ns, int threads) {
  return fmt::format("{}/work_ns:{}/threads:{}", framework, work_ns, threads);
}

// Parallel efficiency per W, and the smallest W reaching 50% and 90%, per framework.
void report(const aetherflow::bench::Counters& counters) {
  auto rate = [&](const std::string& run) {
    const auto it = counters.find(run + "/real_time");
    return it == counters.end() ? 0.0 : it->second.at("items_per_second");
  };
  std::printf("\nparallel efficiency on %d threads (items/s on %d / (%d x items/s on 1))\n",
              kThreads, kThreads, kThreads);
  std::printf("%10s %12s %12s\n", "work", "AetherFlow", "TBB/item");
  struct Threshold {
    double level;
    std::int64_t first[2] = {0, 0};  // per framework: the smallest W reaching the level
  };
  std::vector<Threshold> thresholds = {{0.5}, {0.9}};
  for (std::int64_t w : kWorkNs) {
    double efficiency[2];
    const char* frameworks[2] = {"AetherFlow", "TBB"};
    for (int f = 0; f < 2; ++f) {
      const double one = rate(name(frameworks[f], w, 1));
      const double all = rate(name(frameworks[f], w, kThreads));
      efficiency[f] = one > 0 ? all / (kThreads * one) : 0;
      for (auto& t : thresholds)
        if (!t.first[f] && efficiency[f] >= t.level) t.first[f] = w;
    }
    std::printf("%8lld ns %11.0f%% %11.0f%%\n", static_cast<long long>(w), 100 * efficiency[0],
                100 * efficiency[1]);
  }
  auto shown = [](std::int64_t w) {
    return w ? fmt::format("{} ns", w) : std::string("not reached");
  };
  for (const auto& t : thresholds)
    aetherflow::bench::print_result(
        fmt::format("minimum granularity for {:.0f}% efficiency on {} threads: AetherFlow {}, "
                    "TBB per item {}",
                    100 * t.level, kThreads, shown(t.first[0]), shown(t.first[1])),
        fmt::format("| minimum per-item work for {:.0f}% parallel efficiency, {} threads | "
                    "AetherFlow {} | TBB per item {} | |",
                    100 * t.level, kThreads, shown(t.first[0]), shown(t.first[1])));
}

}  // namespace

int main(int argc, char** argv) {
  const double per_ns = rounds_per_ns();
  std::printf("calibrated: %.3f rounds of burn_rounds() per ns\n", per_ns);
  for (std::int64_t w : kWorkNs) {
    const auto rounds = static_cast<std::int64_t>(static_cast<double>(w) * per_ns);
    for (int threads : kThreads > 1 ? std::vector<int>{1, kThreads} : std::vector<int>{1}) {
      benchmark::RegisterBenchmark(name("AetherFlow", w, threads).c_str(), AetherFlow, w, rounds,
                                   threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(name("TBB", w, threads).c_str(), TBB, w, rounds, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return aetherflow::bench::run_with_ratios(argc, argv, {}, report);
}
