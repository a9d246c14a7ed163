// The original AetherFlow's context benchmark, on AetherFlow: the same flow, run once with a
// thread-isolated context (per_thread<Processor>) and once with a shared one
// (shared<Processor>, calls serialised by the framework). Only the context differs.
//
//   light: a small state update per operation (the original: 8 threads x 1000 operations)
//   heavy: about 20 us of CPU work per operation (the original: 4 threads x 100)
//   both for 1 thread up to the machine's hardware threads (the scalability table)
//
//   build/release/bench/bench_contexts
//
// Reported: operations per second (items_per_second) and mean latency per operation
// (latency = threads / throughput, the original's definition).

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <flow/aetherflow.hpp>

#include "support/ratio_main.hpp"

namespace {

// The resource both contexts provide: some state that each operation reads and updates.
class Processor {
 public:
  void light(std::uint64_t x) {
    auto& slot = state_[x & (state_.size() - 1)];
    slot = slot * 31 + (x ^ (x >> 7));
  }
  void heavy(std::uint64_t x) {
    std::uint64_t h = 1469598103934665603ULL ^ x;
    for (int round = 0; round < 128; ++round)
      for (auto& word : scratch_) {
        word ^= h;
        h = (h ^ word) * 1099511628211ULL;
      }
    state_[x & (state_.size() - 1)] += h;
  }
  std::uint64_t checksum() const {
    std::uint64_t sum = 0;
    for (auto v : state_) sum += v;
    return sum;
  }

 private:
  std::array<std::uint64_t, 1024> state_{};
  std::array<std::uint64_t, 512> scratch_{};
};

enum Mode : int { isolated = 0, shared = 1 };

template <bool Heavy>
void ContextBench(benchmark::State& state) {
  const bool is_shared = state.range(0) == shared;
  const auto threads = static_cast<std::size_t>(state.range(1));
  const std::int64_t ops = Heavy ? 1000 : 1 << 18;

  aetherflow::Flow flow(Heavy ? "heavy" : "light");
  auto source = flow.source("operations", std::views::iota(std::int64_t{0}, ops));
  auto work = flow.node("operate",
                        [](std::int64_t x, Processor& p) {
                          if constexpr (Heavy)
                            p.heavy(static_cast<std::uint64_t>(x));
                          else
                            p.light(static_cast<std::uint64_t>(x));
                        },
                        {.concurrency = aetherflow::unlimited});
  source >> work;

  for (auto _ : state) {
    aetherflow::Context ctx;  // one line decides isolation or sharing
    if (is_shared)
      ctx.shared<Processor>();
    else
      ctx.per_thread<Processor>();
    flow.run(ctx, {.threads = threads, .batch_size = Heavy ? 16 : 256});
  }
  state.SetItemsProcessed(state.iterations() * ops);
  state.counters["latency"] = benchmark::Counter(
      static_cast<double>(ops) / static_cast<double>(threads),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

const int kMaxThreads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

void Arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shared", "threads"});
  for (int t = 1; t <= kMaxThreads; t *= 2) {
    b->Args({isolated, t});
    b->Args({shared, t});
  }
  if ((kMaxThreads & (kMaxThreads - 1)) != 0) {  // also the machine's own count
    b->Args({isolated, kMaxThreads});
    b->Args({shared, kMaxThreads});
  }
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK(ContextBench<false>)->Name("Light")->Apply(Arguments);
BENCHMARK(ContextBench<true>)->Name("Heavy")->Apply(Arguments);

int main(int argc, char** argv) {
  std::vector<aetherflow::bench::Ratio> ratios;
  for (const std::string kind : {"Light", "Heavy"})
    for (int t = 1; t <= kMaxThreads; t *= 2)
      ratios.push_back({kind + " isolated / shared, " + std::to_string(t) + " threads",
                        kind + "/shared:0/threads:" + std::to_string(t) + "/real_time",
                        kind + "/shared:1/threads:" + std::to_string(t) + "/real_time"});
  return aetherflow::bench::run_with_ratios(argc, argv, ratios);
}
