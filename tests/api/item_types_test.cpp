// Any movable type is an item: move-only ones cross every kind of edge they can, bool is an
// item like any other, and resource types need no default constructor when bound with a
// factory. Each of these once failed to compile (issue 15).
#include <flow/aetherflow.hpp>
#include <nodes/cache.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using Box = std::unique_ptr<int>;

// A source of boxes 0, 1, ..., n-1: a generator, since a range of unique_ptr cannot be copied.
auto boxes(int n) {
  return [i = 0, n]() mutable -> std::optional<Box> {
    if (i == n) return std::nullopt;
    return std::make_unique<int>(i++);
  };
}

TEST(MoveOnlyItems, CrossAChainByValue) {
  Flow flow("boxes");
  long sum = 0;
  auto src = flow.source("boxes", boxes(1000));
  auto twice = flow.node("twice", [](Box b) {
    *b *= 2;
    return b;
  });
  auto unbox = flow.node("unbox", [](Box b) { return *b; });
  auto total = flow.node("sum", [&sum](int x) { sum += x; });
  src >> twice >> unbox >> total;

  const RunReport report = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(sum, 2L * 999 * 1000 / 2);
  EXPECT_EQ(report.node("sum").in, 1000u);
}

TEST(MoveOnlyItems, ReachASinkThatTakesThemByValue) {
  Flow flow("box_sink");
  std::atomic<long> sum = 0;
  auto src = flow.source("boxes", boxes(500));
  auto sink = flow.node("sink", [&sum](Box b) { sum += *b; });
  src >> sink;
  flow.run({.threads = 2, .batch_size = 32});
  EXPECT_EQ(sum.load(), 499L * 500 / 2);
}

TEST(MoveOnlyItems, PassAFilterAndAOneToManyNode) {
  Flow flow("box_filter");
  std::vector<int> seen;
  auto src = flow.source("boxes", boxes(100));
  auto even = flow.node("even", [](Box b) -> std::optional<Box> {
    if (*b % 2) return std::nullopt;
    return b;
  });
  auto split = flow.node("split", [](Box b, Emitter<Box>& out) {
    out(std::make_unique<int>(*b));
    out(std::make_unique<int>(-*b));
  });
  auto sink = flow.node("sink", [&seen](Box b) { seen.push_back(*b); }, {.ordered = true});
  src >> even >> split >> sink;

  const RunReport report = flow.run({.threads = 2, .batch_size = 16});
  ASSERT_EQ(seen.size(), 100u);
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(seen[2 * i], static_cast<int>(2 * i));
    EXPECT_EQ(seen[2 * i + 1], -static_cast<int>(2 * i));
  }
  EXPECT_EQ(report.node("even").filtered, 50u);
}

TEST(MoveOnlyItems, AreRoutedByABranch) {
  Flow flow("box_branch");
  std::atomic<long> evens = 0, odds = 0;
  auto src = flow.source("boxes", boxes(1000));
  auto route = flow.branch_on("parity", [](const Box& b) { return *b % 2; });
  auto even = flow.node("even", [&evens](Box b) { evens += *b; });
  auto odd = flow.node("odd", [&odds](Box b) { odds += *b; });
  src >> route;
  route.when(0) >> even;
  route.when(1) >> odd;

  flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(evens.load(), 2L * (499 * 500 / 2));
  EXPECT_EQ(odds.load(), 2L * (499 * 500 / 2) + 500);
}

TEST(MoveOnlyItems, AFanOutReadsThemByConstReference) {
  Flow flow("box_fan_out");
  std::atomic<long> a = 0, b = 0;
  auto src = flow.source("boxes", boxes(300));
  auto left = flow.node("left", [&a](const Box& x) { a += *x; });
  auto right = flow.node("right", [&b](const Box& x) { b += 2 * *x; });
  src >> fan_out(left, right);

  flow.run({.threads = 2, .batch_size = 32});
  EXPECT_EQ(a.load(), 299L * 300 / 2);
  EXPECT_EQ(b.load(), 299L * 300);
}

TEST(MoveOnlyItems, AFanOutRefusesABranchTakingThemByValue) {
  Flow flow("box_fan_out_by_value");
  auto src = flow.source("boxes", boxes(300));
  auto left = flow.node("left", [](const Box&) {});
  auto right = flow.node("right", [](Box) {});
  src >> fan_out(left, right);
  try {
    flow.run({.threads = 2, .batch_size = 32});
    FAIL() << "a move-only item cannot be copied for a second branch";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "right");
    EXPECT_NE(std::string(e.what()).find("a move-only item is shared by several branches"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("take it by const reference"), std::string::npos);
  }
}

TEST(BoolItems, AreItemsLikeAnyOther) {
  Flow flow("valid");
  std::vector<int> kept;
  long trues = 0;
  auto src = flow.source("numbers", std::views::iota(0, 1000));
  auto valid = flow.node("valid", [](int x) { return x % 3 == 0; });
  auto flip = flow.node("flip", [](bool& b) {  // by reference: a real bool, not a bit proxy
    b = !b;
    return b;
  });
  auto keep = flow.node("keep", [](bool b) -> std::optional<bool> {
    if (b) return b;
    return std::nullopt;
  });
  auto sink = flow.node("count", [&trues](const bool& b) { trues += b; });
  src >> valid >> flip >> keep >> sink;

  const RunReport report = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(trues, 1000 - 334);
  EXPECT_EQ(report.node("keep").filtered, 334u);

  // And a bool source, a fan-out of bools and a fan-in joining them.
  Flow pairs("bool_pairs");
  std::vector<bool> flags;
  for (int i = 0; i < 200; ++i) flags.push_back(i % 4 == 0);
  std::atomic<int> both = 0;
  auto bools = pairs.source("flags", flags);
  auto same = pairs.node("same", [](bool b) { return b; });
  auto negated = pairs.node("negated", [](bool b) { return !b; });
  auto join = pairs.fan_in("join", [](bool x, bool y) { return x != y; });
  auto tally = pairs.node("tally", [&both](bool differ) { both += differ; });
  bools >> fan_out(same, negated) >> join >> tally;
  pairs.run({.threads = 2, .batch_size = 16});
  EXPECT_EQ(both.load(), 200);
}

int plus_one(int x) {
  return x + 1;
}

TEST(Cache, MemoisesAPlainFunction) {
  auto cached = cache(plus_one, {.capacity = 16});
  Flow flow("cached");
  long sum = 0;
  auto src = flow.source(
      "numbers", std::views::iota(0, 100) | std::views::transform([](int x) { return x % 10; }));
  auto step = flow.node("plus_one", cached);
  auto total = flow.node("sum", [&sum](int x) { sum += x; });
  src >> step >> total;

  flow.run({.threads = 1, .batch_size = 10});
  EXPECT_EQ(sum, 10 * (1 + 10) * 10 / 2);
  EXPECT_EQ(cached.stats().misses, 10u);
  EXPECT_EQ(cached.stats().hits, 90u);
}

// A resource that can only be made from a value, as factories are for.
class Tokenizer {
 public:
  explicit Tokenizer(std::string vocabulary) : vocabulary_(std::move(vocabulary)) {}
  std::size_t known(char c) const { return vocabulary_.find(c) != std::string::npos; }

 private:
  std::string vocabulary_;
};
static_assert(!std::is_default_constructible_v<Tokenizer>);

TEST(Resources, NeedNoDefaultConstructorWhenBoundWithAFactory) {
  const std::string vocabulary = "abc";
  auto make = [&] { return Tokenizer(vocabulary); };
  auto letters = [](const std::string& w, const Tokenizer& t) {
    std::size_t n = 0;
    for (char c : w) n += t.known(c);
    return n;
  };
  auto node_of = [&](Context& ctx) {
    Flow flow("tokens");
    std::atomic<std::size_t> known = 0;
    auto src = flow.source("words", std::views::iota(0, 300) | std::views::transform([](int) {
                                      return std::string("abz");
                                    }));
    auto count =
        flow.node("count", [&](const std::string& w, Tokenizer& t) { known += letters(w, t); });
    src >> count;
    flow.run(ctx, {.threads = 2, .batch_size = 16});
    return known.load();
  };
  {
    Context ctx;
    ctx.per_thread<Tokenizer>(make);
    EXPECT_EQ(node_of(ctx), 600u);
    EXPECT_GE(ctx.instances<Tokenizer>(), 1u);
  }
  {
    Context ctx;
    ctx.shared<Tokenizer>(make);
    EXPECT_EQ(node_of(ctx), 600u);
  }
  {
    Context ctx;
    ctx.shared_concurrent<Tokenizer>("vocab", make);
    Flow flow("named");
    std::atomic<std::size_t> known = 0;
    auto src = flow.source("n", std::views::iota(0, 100));
    auto count =
        flow.node("count", [&](int, Named<Tokenizer, "vocab"> t) { known += letters("abz", *t); });
    src >> count;
    flow.run(ctx, {.threads = 2, .batch_size = 16});
    EXPECT_EQ(known.load(), 200u);
  }
  {
    Context ctx;
    ctx.per_call<Tokenizer>(make);
    EXPECT_EQ(node_of(ctx), 600u);
  }
  {
    Context ctx;
    ctx.pooled<Tokenizer>(2, make);
    EXPECT_EQ(node_of(ctx), 600u);
    EXPECT_LE(ctx.instances<Tokenizer>(), 2u);
  }
  {
    Context ctx;
    ctx.pooled<Tokenizer>(2, PoolSettings<Tokenizer>{.reset = [](Tokenizer&) {}}, make);
    EXPECT_EQ(node_of(ctx), 600u);
  }
  {
    Context ctx;
    ctx.value(Tokenizer(vocabulary));
    Flow flow("value");
    std::atomic<std::size_t> known = 0;
    auto src = flow.source("n", std::views::iota(0, 100));
    auto count = flow.node("count", [&](int, const Tokenizer& t) { known += letters("abz", t); });
    src >> count;
    flow.run(ctx, {.threads = 2, .batch_size = 16});
    EXPECT_EQ(known.load(), 200u);
  }
}

}  // namespace
}  // namespace aetherflow
