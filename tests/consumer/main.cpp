// Built against the installed tree by tests/consumer/check_install.cmake.
#include <flow/aetherflow.hpp>

#include <iostream>
#include <ranges>

int main() {
  aetherflow::Flow flow("consumer");
  long sum = 0;
  auto numbers = flow.source("numbers", std::views::iota(1, 101));
  auto square = flow.node("square", [](int x) { return long{x} * x; });
  auto total = flow.node("sum", [&sum](long x) { sum += x; });
  numbers >> square >> total;
  flow.run();
  std::cout << "sum of squares 1..100 = " << sum << "\n";
  return sum == 338350 ? 0 : 1;
}
