// How a callable's signature becomes a node's role (detail/signature.hpp).
#include <flow/detail/signature.hpp>

#include <optional>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

namespace aetherflow::detail {
namespace {

int twice(int x) {
  return 2 * x;
}

TEST(Signature, OneToOneReadsInputAndOutput) {
  auto f = [](const std::string& s) { return s.size(); };
  using Sig = StepSignature<decltype(f)>;
  static_assert(std::is_same_v<Sig::input, std::string>);
  static_assert(std::is_same_v<Sig::output, std::size_t>);
  EXPECT_EQ(Sig::kind, StepKind::transform);
}

TEST(Signature, OptionalResultMakesAFilter) {
  auto f = [](int x) -> std::optional<double> { return x; };
  using Sig = StepSignature<decltype(f)>;
  static_assert(std::is_same_v<Sig::output, double>);
  EXPECT_EQ(Sig::kind, StepKind::filter);
}

TEST(Signature, VoidResultMakesASink) {
  auto f = [](int) {};
  using Sig = StepSignature<decltype(f)>;
  static_assert(std::is_void_v<Sig::output>);
  EXPECT_EQ(Sig::kind, StepKind::sink);
}

TEST(Signature, EmitterParameterMakesOneToMany) {
  auto f = [](const std::string&, Emitter<char>&) {};
  using Sig = StepSignature<decltype(f)>;
  static_assert(std::is_same_v<Sig::output, char>);
  EXPECT_EQ(Sig::kind, StepKind::expand);
}

TEST(Signature, FreeFunctionsAndMutableLambdasAreRead) {
  using Free = StepSignature<decltype(&twice)>;
  static_assert(std::is_same_v<Free::input, int> && std::is_same_v<Free::output, int>);
  auto counter = [n = 0](int x) mutable { return x + n++; };
  using Mutable = StepSignature<decltype(counter)>;
  EXPECT_EQ(Mutable::kind, StepKind::transform);
}

TEST(Signature, GenericLambdaTakesTheNamedInputType) {
  auto f = [](const auto& x) { return x + 0.5; };
  using Sig = StepSignature<decltype(f), int>;
  static_assert(std::is_same_v<Sig::input, int> && std::is_same_v<Sig::output, double>);
  EXPECT_EQ(Sig::kind, StepKind::transform);
}

TEST(WithItem, MovesOnlyWhenTheBatchIsOwned) {
  std::string item = "payload";
  auto by_value = [](std::string s) { return s; };
  EXPECT_EQ(with_item<std::string>(item, false, by_value), "payload");
  EXPECT_EQ(item, "payload");  // shared: copied, the original stays
  EXPECT_EQ(with_item<std::string>(item, true, by_value), "payload");
  EXPECT_TRUE(item.empty());  // owned: moved out  NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace aetherflow::detail
