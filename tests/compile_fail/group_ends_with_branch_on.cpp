// Must not compile: a group ending with a branch_on node, whose routes are not one output.
// expect-error: a group cannot end with a branch_on node
// expect-errors-at-most: 1
#include <flow/aetherflow.hpp>

auto parity(aetherflow::Scope s) {
  auto twice = s.node("twice", [](int x) { return 2 * x; });
  auto by_parity = s.branch_on("by_parity", [](int x) { return x % 2; });
  twice >> by_parity;
  return aetherflow::group(twice, by_parity);
}

int main() {
  aetherflow::Flow flow("group_ends_with_branch_on");
  parity(flow.scope("parity"));
}
