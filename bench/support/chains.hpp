#pragma once
// The chain shared by the benchmarks: source of int64 -> three one-to-one nodes -> sum sink.
// Light: the nodes do one arithmetic operation. Heavy: each also burns about 1 us of CPU.

#include <cstdint>
#include <ranges>

#include <flow/aetherflow.hpp>

namespace aetherflow::bench {

inline constexpr std::int64_t kChainItems = 1 << 20;
// Rounds of burn() that cost about 1 us: one round is a dependent multiply-add, about 1.1 ns
// on the development machine (bench_granularity prints its calibration).
inline constexpr int kHeavyRounds = 900;

// Where burn_rounds() stores its result: a volatile store keeps the compiler from dropping the
// work.
inline thread_local volatile std::int64_t burnt = 0;

// Burns `rounds` dependent multiply-adds on x.
inline void burn_rounds(std::int64_t x, std::int64_t rounds) {
  for (std::int64_t i = 0; i < rounds; ++i) x = x * 6364136223846793005LL + 1442695040888963407LL;
  burnt = x;
}
template <int Rounds>
inline void burn(std::int64_t x) {
  if constexpr (Rounds > 0) burn_rounds(x, Rounds);
}

// The three bodies, each with `Rounds` of extra work (0: light).
template <int Rounds>
struct Steps {
  static std::int64_t add_one(std::int64_t x) {
    burn<Rounds>(x);
    return x + 1;
  }
  static std::int64_t twice(std::int64_t x) {
    burn<Rounds>(x);
    return x * 2;
  }
  static std::int64_t minus_three(std::int64_t x) {
    burn<Rounds>(x);
    return x - 3;
  }
};

// The sum the sink must reach for `items` items.
constexpr std::int64_t chain_sum(std::int64_t items) {
  std::int64_t s = 0;
  for (std::int64_t i = 0; i < items; ++i) s += (i + 1) * 2 - 3;
  return s;
}

// Declares the chain on `flow`, summing into `sum`.
template <int Rounds = 0>
void build_chain(Flow& flow, std::int64_t items, std::int64_t& sum) {
  using S = Steps<Rounds>;
  auto source = flow.source("numbers", std::views::iota(std::int64_t{0}, items));
  auto a = flow.node("add_one", S::add_one);
  auto b = flow.node("twice", S::twice);
  auto c = flow.node("minus_three", S::minus_three);
  auto total = flow.node("sum", [&sum](std::int64_t x) { sum += x; });
  source >> a >> b >> c >> total;
}

}  // namespace aetherflow::bench
