// Fusion (flow/detail/fusion.hpp): which nodes share a oneTBB node, and that a fused chain
// behaves as the same nodes unfused: every node called, counted and named on its own.
#include <flow/aetherflow.hpp>
#include <flow/detail/fusion.hpp>

#include <cstdint>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

using detail::fused_after;
using detail::kNotFused;

int plus_one(int x) {
  return x + 1;
}

TEST(Fusion, ChainsUnlimitedOneToOneNodesUpToTheSerialSink) {
  Flow flow("chain");
  int sum = 0;
  auto source = flow.source("numbers", std::views::iota(0, 10));
  auto a = flow.node("a", plus_one);
  auto keep_even = flow.node("even", [](int x) -> std::optional<int> {
    if (x % 2) return std::nullopt;
    return x;
  });
  auto twice = flow.node("twice", [](int x, Emitter<int>& emit) {
    emit(x);
    emit(x);
  });
  auto total = flow.node("sum", [&sum](int x) { sum += x; });  // serial, as every sink by default
  source >> a >> keep_even >> twice >> total;

  const auto after = fused_after(*a.flow());
  EXPECT_EQ(after[source.id()], kNotFused);
  EXPECT_EQ(after[a.id()], kNotFused);  // a source has a limiter of its own
  EXPECT_EQ(after[keep_even.id()], a.id());
  EXPECT_EQ(after[twice.id()], keep_even.id());
  EXPECT_EQ(after[total.id()], kNotFused);
}

TEST(Fusion, StopsWhereANodeNeedsAOneTbbNodeOfItsOwn) {
  Flow flow("mixed");
  auto source = flow.source("numbers", std::views::iota(0, 10));
  auto a = flow.node("a", plus_one);
  auto left = flow.node("left", plus_one);  // after a fan-out
  auto right = flow.node("right", plus_one);
  auto join = flow.fan_in("join", [](int x, int y) { return x + y; });
  auto limited = flow.node("limited", plus_one, {.concurrency = 4});
  auto adaptive = flow.node("adaptive", plus_one, {.adaptive = AdaptiveConcurrency{.max = 4}});
  auto dead = flow.node("dead", plus_one, {.on_error = OnError::dead_letter});
  auto widen = flow.node("widen", [](double x) { return x; });  // int -> double on the edge
  auto unlimited_sink = flow.node("sink", [](double) {}, {.concurrency = unlimited});
  auto letters = flow.node("letters", [](const DeadLetter<int>&) {});
  source >> a >> fan_out(left, right) >> join >> limited >> adaptive >> dead >> widen >>
      unlimited_sink;
  dead.dead_letters() >> letters;

  const auto after = fused_after(*a.flow());
  for (const auto& node :
       {left.id(), right.id(), join.id(), limited.id(), adaptive.id(), dead.id(), widen.id()})
    EXPECT_EQ(after[node], kNotFused) << a.flow()->nodes[node].impl->name();
  EXPECT_EQ(after[unlimited_sink.id()], widen.id());  // an unlimited sink joins its chain
}

// A fused chain delivers what the same nodes unfused deliver, and reports every node as they
// do. (Which thread runs a node's call on a batch cannot tell the two apart: oneTBB runs an
// unfused successor's task right after on the same thread too.)
TEST(Fusion, AFusedChainReportsEveryNodeAsAnUnfusedOne) {
  constexpr int kItems = 20'000;
  std::int64_t expected = 0;
  for (int x = 0; x < kItems; ++x)
    if (x % 3 != 0) expected += x;
  std::int64_t sum = 0;
  Flow flow("equivalent");
  auto source = flow.source("numbers", std::views::iota(0, kItems));
  auto b = flow.node("b", [](int x) -> std::optional<int> {
    if (x % 3 == 0) return std::nullopt;
    return x;
  });
  source >> flow.node("a", plus_one) >> flow.node("a_undo", [](int x) { return x - 1; }) >> b >>
      flow.node("c", [](int x) { return std::int64_t{x}; }) >>
      flow.node("sum", [&sum](std::int64_t x) { sum += x; });

  const RunReport fused = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(sum, expected);
  sum = 0;
  const RunReport unfused = flow.run({.threads = 2, .batch_size = 64, .fuse = false});
  EXPECT_EQ(sum, expected);
  ASSERT_EQ(fused.nodes.size(), unfused.nodes.size());
  for (std::size_t i = 0; i < fused.nodes.size(); ++i) {
    EXPECT_EQ(fused.nodes[i].name, unfused.nodes[i].name);
    EXPECT_EQ(fused.nodes[i].in, unfused.nodes[i].in) << fused.nodes[i].name;
    EXPECT_EQ(fused.nodes[i].out, unfused.nodes[i].out) << fused.nodes[i].name;
    EXPECT_EQ(fused.nodes[i].filtered, unfused.nodes[i].filtered) << fused.nodes[i].name;
  }
  EXPECT_EQ(fused.node("b").filtered, static_cast<std::uint64_t>((kItems + 2) / 3));
  EXPECT_EQ(fused.node("c").in, static_cast<std::uint64_t>(kItems - (kItems + 2) / 3));
}

// A failure in the middle of a fused chain names that node and item; the nodes after it still
// account for every item they received (cancelled, as the run stops).
TEST(Fusion, AFailureInsideAFusedChainNamesItsNode) {
  for (const bool fuse : {true, false}) {
    Flow flow("failing");
    auto source = flow.source("numbers", std::views::iota(0, 10'000));
    auto a = flow.node("a", plus_one);
    auto b = flow.node("b", [](int x) {
      if (x == 778) throw std::runtime_error("bad item");
      return x;
    });
    auto c = flow.node("c", plus_one);
    source >> a >> b >> c >> flow.node("sink", [](int) {});
    try {
      flow.run({.threads = 2, .batch_size = 100, .fuse = fuse});
      FAIL() << "the run should fail";
    } catch (const NodeError& e) {
      EXPECT_EQ(e.node(), "b");
      EXPECT_EQ(e.item(), 777u);
      const RunReport& r = e.report();
      EXPECT_EQ(r.node("b").failed, 1u);
      EXPECT_EQ(r.node("c").in, r.node("b").out);
      EXPECT_EQ(r.node("c").in, r.node("c").out + r.node("c").cancelled);
      EXPECT_EQ(r.node("a").in, r.node("a").out + r.node("a").cancelled);
    }
  }
}

}  // namespace
}  // namespace aetherflow
