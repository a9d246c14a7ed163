// Must not compile: a node has one input; a second by-value parameter is no resource.
// expect-error: a node takes one input item
// expect-error: use a fan-in
// expect-errors-at-most: 2
#include <flow/aetherflow.hpp>

#include <ranges>

int main() {
  aetherflow::Flow flow("two_inputs");
  auto numbers = flow.source("numbers", std::views::iota(0, 10));
  auto add = flow.node("add", [](int a, int b) { return a + b; });
  numbers >> add;
}
