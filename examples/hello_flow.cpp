// The first program of the README: a source, two nodes and a sink, run on every core.
#include <iostream>
#include <optional>
#include <ranges>

#include <examples/example.hpp>

namespace aetherflow::examples {
namespace {

int run(const CommonOptions& options) {
  const auto n = static_cast<int>(options.size);
  aetherflow::Flow flow("hello");
  long total = 0;

  auto numbers = flow.source("numbers", std::views::iota(1, n + 1));
  auto square = flow.node("square", [](int x) { return long{x} * x; });
  auto odd = flow.node("odd", [](long x) -> std::optional<long> {
    if (x % 2 == 0) return std::nullopt;  // an empty optional drops the item
    return x;
  });
  auto sum = flow.node("sum", [&total](long x) { total += x; });  // void: a sink, serial

  numbers >> square >> odd >> sum;

  const aetherflow::RunReport report = flow.run(run_options(options, "numbers"));
  std::cout << "sum of odd squares up to " << n << ": " << total << "\n\n" << report;
  finish_run(options, flow, report);

  long expected = 0;  // the same sum, the plain way
  for (long x = 1; x <= n; x += 2) expected += x * x;
  return total == expected ? kExitOk : kExitWrongResult;
}

}  // namespace

Example hello_flow() {
  return {"hello_flow", "a chain with a filter and a sink: the sum of odd squares",
          false,        "numbers",
          1'000'000,    [](CLI::App&) -> ExampleMain { return run; }};
}

}  // namespace aetherflow::examples
