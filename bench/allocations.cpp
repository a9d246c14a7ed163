// Heap allocations per item in steady state: the light chain and the fan-out/fan-in flow, run
// once to warm the pools, then counted by a global operator new of this binary.
// Goal (issue 8): fewer than 0.01 allocations per item.
//
//   build/release/bench/bench_allocations

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <ranges>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <flow/aetherflow.hpp>

#include "support/chains.hpp"
#include "support/ratio_main.hpp"

namespace {
std::atomic<std::uint64_t> allocations{0};
}  // namespace

// Every allocation of the process is counted; the rest is the usual malloc and free.
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

using aetherflow::bench::chain_sum;
using aetherflow::bench::kChainItems;

// Runs `flow` once to warm up, then counts allocations over the timed runs. `sum` is the
// flow's sink total, which must reach `expected` on every run.
void count_allocations(benchmark::State& state, aetherflow::Flow& flow, std::size_t batch,
                       std::int64_t& sum, std::int64_t expected) {
  const aetherflow::RunOptions options{.batch_size = batch};
  flow.run(options);
  const std::uint64_t before = allocations.load();
  for (auto _ : state) {
    sum = 0;
    flow.run(options);
    if (sum != expected) state.SkipWithError("wrong sum");
  }
  const double items = static_cast<double>(state.iterations() * kChainItems);
  state.counters["allocs_per_item"] = static_cast<double>(allocations.load() - before) / items;
  state.SetItemsProcessed(state.iterations() * kChainItems);
}

void LightChain(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("light_chain");
  aetherflow::bench::build_chain(flow, kChainItems, sum);
  count_allocations(state, flow, static_cast<std::size_t>(state.range(0)), sum,
                    chain_sum(kChainItems));
}

void FanIn(benchmark::State& state) {
  std::int64_t sum = 0;
  aetherflow::Flow flow("fan_in");
  auto source = flow.source("n", std::views::iota(std::int64_t{0}, kChainItems));
  auto a = flow.node("a", [](std::int64_t x) { return x + 1; });
  auto b = flow.node("b", [](std::int64_t x) { return x * 2; });
  auto join = flow.fan_in("join", [](std::int64_t x, std::int64_t y) { return x + y; });
  source >> aetherflow::fan_out(a, b) >> join >>
      flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  count_allocations(state, flow, static_cast<std::size_t>(state.range(0)), sum,
                    kChainItems * (kChainItems - 1) / 2 * 3 + kChainItems);
}

void report(const aetherflow::bench::Counters& counters) {
  for (const auto& [run, values] : counters) {
    const auto it = values.find("allocs_per_item");
    if (it == values.end()) continue;
    const bool met = it->second < 0.01;
    aetherflow::bench::print_result(
        fmt::format("{:<48} {:>11.4f} {:>8} {}", run + ": allocations per item", it->second,
                    "< 0.01", met ? "met" : "MISSED"),
        fmt::format("| {}: heap allocations per item | {:.4f} | < 0.01 | {} |", run, it->second,
                    met ? "met" : "MISSED"));
  }
}

}  // namespace

BENCHMARK(LightChain)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(FanIn)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(argc, argv, {}, report);
}
