// Must not compile: a fan-in fed by a single node instead of fan_out(a, b).
// expect-error: a fan-in is fed by its branches together
#include <flow/aetherflow.hpp>

#include <vector>

int main() {
  aetherflow::Flow flow("lonely_join");
  auto numbers = flow.source("numbers", std::vector<int>{1});
  auto join = flow.fan_in("join", [](int, int) {});
  numbers >> join;
}
