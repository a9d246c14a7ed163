// Must not compile: a resource type without a default constructor, bound without a factory.
// expect-error: has no default constructor: pass a factory
// expect-errors-at-most: 1
#include <flow/aetherflow.hpp>

#include <string>

struct Tokenizer {
  explicit Tokenizer(std::string vocabulary) : vocabulary(std::move(vocabulary)) {}
  std::string vocabulary;
};

int main() {
  aetherflow::Context ctx;
  ctx.per_thread<Tokenizer>();
}
