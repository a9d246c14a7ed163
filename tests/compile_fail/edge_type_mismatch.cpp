// Must not compile: a node producing std::string connected to a node taking int.
// expect-error: item types do not match
// expect-error: EdgeTypes<[^>]*basic_string<char>, int>
#include <flow/aetherflow.hpp>

#include <string>
#include <vector>

int main() {
  aetherflow::Flow flow("mismatch");
  auto words = flow.source("words", std::vector<std::string>{"a"});
  auto twice = flow.node("twice", [](int x) { return 2 * x; });
  words >> twice;
}
