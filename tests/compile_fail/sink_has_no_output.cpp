// Must not compile: a sink on the left of >>.
// expect-error: the left side of >> has no output
#include <flow/aetherflow.hpp>

#include <vector>

int main() {
  aetherflow::Flow flow("sink_first");
  auto sink = flow.node("sink", [](int) {});
  auto twice = flow.node("twice", [](int x) { return 2 * x; });
  sink >> twice;
}
