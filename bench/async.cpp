// Async nodes (issue 19): 20,000 requests to a service that answers each after 5 ms, through an
// async node with max_in_flight 500 on 2 threads, against the same requests through a blocking
// node (a transform that waits 5 ms for its reply), in the same run. The ideal for the async
// node is 20,000 x 5 ms / 500 = 0.2 s; the goal is 1.3x that. The blocking node holds a worker
// per request, so it runs 1,000 requests (2.5 s on 2 threads), compared by throughput.
//
//   build/release/bench/bench_async
//
// The service is aetherflow::testing::DelayedService: replies come from its own threads.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ranges>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <flow/aetherflow.hpp>
#include <flow/testing/delayed_service.hpp>

#include "support/ratio_main.hpp"

namespace {

using namespace std::chrono_literals;
constexpr auto kReply = 5ms;
constexpr std::int64_t kMaxInFlight = 500;

bool quick() {
  return std::getenv("AETHERFLOW_BENCH_QUICK") != nullptr;
}

void Async(benchmark::State& state) {
  const std::int64_t requests = quick() ? 2'000 : 20'000;
  aetherflow::testing::DelayedService service(kReply);
  std::uint64_t answered = 0;
  aetherflow::Flow flow("async_requests");
  flow.source("requests", std::views::iota(std::int64_t{0}, requests)) >>
      flow.node("call",
                aetherflow::async([&](std::int64_t x, aetherflow::Completion<std::int64_t> done) {
                  service.call([x, done]() mutable { done.set_value(x); });
                }),
                {.max_in_flight = static_cast<std::size_t>(kMaxInFlight)}) >>
      flow.node("count", [&](std::int64_t) { ++answered; });
  double seconds = 0;
  for (auto _ : state) {
    const auto report = flow.run({.threads = 2});
    seconds = std::chrono::duration<double>(report.wall).count();
  }
  const double ideal = static_cast<double>(requests) *
                       std::chrono::duration<double>(kReply).count() /
                       static_cast<double>(kMaxInFlight);
  state.counters["seconds"] = seconds;
  state.counters["x_ideal"] = seconds / ideal;
  state.SetItemsProcessed(static_cast<std::int64_t>(answered));
}

void Blocking(benchmark::State& state) {
  const std::int64_t requests = quick() ? 40 : 1'000;
  std::uint64_t answered = 0;
  aetherflow::Flow flow("blocking_requests");
  flow.source("requests", std::views::iota(std::int64_t{0}, requests)) >>
      flow.node("call",
                [](std::int64_t x) {
                  std::this_thread::sleep_for(kReply);  // the worker waits for the reply
                  return x;
                }) >>
      flow.node("count", [&](std::int64_t) { ++answered; });
  for (auto _ : state) flow.run({.threads = 2});
  state.SetItemsProcessed(static_cast<std::int64_t>(answered));
}

void print_goal(const aetherflow::bench::Counters& counters) {
  const auto it = counters.find("Async/iterations:1/real_time");
  if (it == counters.end()) return;
  const double x = it->second.at("x_ideal");
  aetherflow::bench::print_result(
      fmt::format("async node, 20,000 x 5 ms, max_in_flight 500: {:.3f} s, {:.2f}x the ideal "
                  "(goal <= 1.30x): {}",
                  it->second.at("seconds"), x, x <= 1.3 ? "met" : "MISSED"),
      fmt::format("| async node, 20,000 x 5 ms, max_in_flight 500, 2 threads | {:.3f} s | "
                  "{:.2f}x ideal | {} |",
                  it->second.at("seconds"), x, x <= 1.3 ? "met" : "MISSED"));
}

}  // namespace

BENCHMARK(Async)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(Blocking)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  return aetherflow::bench::run_with_ratios(
      argc, argv,
      {{"async node / blocking node, 5 ms requests", "Async/iterations:1/real_time",
        "Blocking/iterations:1/real_time"}},
      print_goal);
}
