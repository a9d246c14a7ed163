// The first program of the README: a source, two nodes and a sink, run on every core.
#include <flow/aetherflow.hpp>

#include <iostream>
#include <optional>
#include <ranges>

int main() {
  aetherflow::Flow flow("hello");
  long total = 0;

  auto numbers = flow.source("numbers", std::views::iota(1, 1'000'001));
  auto square = flow.node("square", [](int x) { return long{x} * x; });
  auto odd = flow.node("odd", [](long x) -> std::optional<long> {
    if (x % 2 == 0) return std::nullopt;  // an empty optional drops the item
    return x;
  });
  auto sum = flow.node("sum", [&total](long x) { total += x; });  // void: a sink, serial

  numbers >> square >> odd >> sum;

  const aetherflow::RunReport report = flow.run();
  std::cout << "sum of odd squares up to 1e6: " << total << "\n\n" << report;
}
