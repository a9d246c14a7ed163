// Must not compile: a generic lambda's input type cannot be read; the one error says the fix.
// expect-error: name it, flow.node<int>
// expect-errors-at-most: 2
#include <flow/aetherflow.hpp>

#include <ranges>

int main() {
  aetherflow::Flow flow("generic");
  auto numbers = flow.source("numbers", std::views::iota(0, 10));
  auto half = flow.node("half", [](auto x) { return x / 2.0; });
  numbers >> half;
}
