// The profile's bottleneck rules, on profiles whose answer is known by construction: the
// figures are set, not measured, so no timing decides these tests. Each case is one a user
// met (issue 15): the advice must name the node that limits throughput, or say that none
// does, and never suggest what the node cannot take.
#include <flow/aetherflow.hpp>
#include <flow/detail/advice.hpp>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

constexpr std::uint64_t kWall = 1'000'000'000;  // 1 s

// A node busy `busy` of the wall time on each of its usable threads.
NodeProfile node(std::string name, std::string kind, std::size_t limit, double busy,
                 std::size_t threads, std::uint64_t items = 1000) {
  NodeProfile n;
  n.name = std::move(name);
  n.kind = std::move(kind);
  n.concurrency_limit = limit;
  const std::size_t usable = limit == 0 ? threads : std::min(limit, threads);
  n.busy_ns = static_cast<std::uint64_t>(busy * static_cast<double>(kWall * usable));
  n.utilization = busy;
  n.items_in = n.kind == "source" ? 0 : items;
  n.items_out = items;
  n.per_item_ns = items ? n.busy_ns / items : 0;
  return n;
}

Profile profile(std::size_t threads, std::vector<NodeProfile> nodes) {
  Profile p;
  p.flow = "case";
  p.wall_ns = kWall;
  p.threads = threads;
  p.nodes = std::move(nodes);
  std::uint64_t total = 0;
  for (const auto& n : p.nodes) total += n.busy_ns;
  for (auto& n : p.nodes)
    n.busy_share = total ? static_cast<double>(n.busy_ns) / static_cast<double>(total) : 0;
  detail::advise(p);
  return p;
}

std::string advice_of(const Profile& p) {
  std::string text;
  for (const auto& line : p.advice) text += line + "\n";
  return text;
}

TEST(Advice, ACpuBoundNodeOnEveryThreadIsTheBottleneck) {
  const Profile p =
      profile(4, {node("read", "source", 1, 0.05, 4), node("parse", "transform", 0, 0.92, 4),
                  node("count", "sink", 1, 0.04, 4)});
  EXPECT_EQ(p.hot_spot, "parse");
  EXPECT_EQ(p.bottleneck, "parse") << advice_of(p);
  EXPECT_NE(advice_of(p).find("make it cheaper, or run on more cores"), std::string::npos)
      << advice_of(p);
  EXPECT_EQ(advice_of(p).find("raise its concurrency"), std::string::npos)
      << "parse is unlimited already: " << advice_of(p);
}

TEST(Advice, ANodeWaitingOnASharedLockIsNamedWithTheLock) {
  NodeProfile locked = node("normalize", "transform", 0, 0.98, 2);
  locked.resource_wait_ns = locked.busy_ns / 2;
  locked.resource_waits = 900;
  locked.shared_resources = {"Formatter"};
  const Profile p =
      profile(2, {node("reviews", "source", 1, 0.1, 2), locked, node("score", "sink", 1, 0.02, 2)});
  EXPECT_EQ(p.bottleneck, "normalize");
  EXPECT_NE(advice_of(p).find("waiting for the lock of its shared Formatter: bind it per_thread"),
            std::string::npos)
      << advice_of(p);
}

TEST(Advice, LockWaitsOfABusyNodeOutrankItsCost) {
  // The walkthrough's figures: 29% of the calls' time waiting at 71% busy. Binding the
  // Formatter per_thread doubles throughput, so the lock, not the cost, is the answer.
  NodeProfile locked = node("normalize", "transform", 0, 0.71, 2);
  locked.resource_wait_ns = locked.busy_ns * 29 / 100;
  locked.shared_resources = {"Formatter"};
  const Profile p =
      profile(2, {node("reviews", "source", 1, 0.1, 2), locked, node("total", "sink", 1, 0.01, 2)});
  EXPECT_EQ(p.bottleneck, "normalize");
  EXPECT_NE(advice_of(p).find("the lock of its shared Formatter"), std::string::npos)
      << advice_of(p);

  // Waits of a node that is mostly idle limit nothing.
  NodeProfile idle = node("lookup", "transform", 0, 0.3, 2);
  idle.resource_wait_ns = idle.busy_ns / 2;
  idle.shared_resources = {"Cache"};
  const Profile q = profile(2, {node("keys", "source", 1, 0.1, 2), idle});
  EXPECT_EQ(q.bottleneck, "") << advice_of(q);
}

TEST(Advice, ASerialSinkBehindFastNodesIsTheBottleneck) {
  const Profile p =
      profile(4, {node("numbers", "source", 1, 0.10, 4), node("square", "transform", 0, 0.05, 4),
                  node("write", "sink", 1, 0.97, 4)});
  EXPECT_EQ(p.bottleneck, "write");
  EXPECT_NE(advice_of(p).find("serial node 'write' is busy 97% of the run at concurrency 1: "
                              "raise its concurrency"),
            std::string::npos)
      << advice_of(p);
}

TEST(Advice, AnOrderedSinkIsNeverToldToTakeMoreConcurrency) {
  NodeProfile ordered = node("log", "sink", 1, 0.95, 4);
  ordered.ordered = true;
  const Profile p = profile(4, {node("lines", "source", 1, 0.1, 4), ordered});
  EXPECT_EQ(p.bottleneck, "log");
  EXPECT_NE(advice_of(p).find("ordered sink 'log'"), std::string::npos) << advice_of(p);
  EXPECT_NE(advice_of(p).find("move its work into an unlimited node before it"), std::string::npos);
  EXPECT_EQ(advice_of(p).find("raise its concurrency"), std::string::npos) << advice_of(p);
}

TEST(Advice, AnIdleOrderedSinkIsNotTheBottleneck) {
  // The flagship flow's case: an ordered error sink at 0% busy, whose batches queue for their
  // turn, was named the bottleneck. The run is CPU-bound in 'parse'.
  NodeProfile errors = node("error_log", "sink", 1, 0.0, 2, 10);
  errors.ordered = true;
  errors.queue_wait.mean_ns = 5'000'000;  // long waits for its turn: no evidence of a limit
  errors.queue_wait.p99_ns = 9'000'000;
  const Profile p =
      profile(2, {node("read", "source", 1, 0.2, 2), node("parse", "transform", 0, 0.85, 2), errors,
                  node("tally", "sink", 1, 0.1, 2)});
  EXPECT_EQ(p.bottleneck, "parse") << advice_of(p);
}

TEST(Advice, ASlowSourceIsTheBottleneck) {
  const Profile p =
      profile(4, {node("fetch", "source", 1, 0.99, 4), node("parse", "transform", 0, 0.05, 4),
                  node("store", "sink", 1, 0.02, 4)});
  EXPECT_EQ(p.bottleneck, "fetch");
  EXPECT_NE(advice_of(p).find("source 'fetch' is busy 99% of the run"), std::string::npos)
      << advice_of(p);
}

TEST(Advice, ABalancedFlowHasNoSingleBottleneck) {
  const Profile p =
      profile(4, {node("numbers", "source", 1, 0.3, 4), node("a", "transform", 0, 0.3, 4),
                  node("b", "transform", 0, 0.3, 4), node("c", "transform", 0, 0.3, 4),
                  node("sum", "sink", 0, 0.05, 4)});
  EXPECT_EQ(p.bottleneck, "") << advice_of(p);
  EXPECT_NE(advice_of(p).find("no single bottleneck"), std::string::npos) << advice_of(p);
}

TEST(Advice, AnIdleRunHasNoBottleneck) {
  const Profile p =
      profile(4, {node("numbers", "source", 1, 0.2, 4), node("call", "transform", 0, 0.2, 4),
                  node("sum", "sink", 1, 0.1, 4)});
  EXPECT_EQ(p.bottleneck, "");
  EXPECT_NE(advice_of(p).find("no bottleneck"), std::string::npos) << advice_of(p);
}

TEST(Advice, NothingIsNamedWhenNoItemGotPastTheSources) {
  NodeProfile first = node("parse", "transform", 0, 0.0, 2, 0);
  const Profile p = profile(
      2, {node("numbers", "source", 1, 0.9, 2, 0), first, node("sum", "sink", 1, 0.0, 2, 0)});
  EXPECT_EQ(p.bottleneck, "");
  EXPECT_NE(advice_of(p).find("no item got past the sources"), std::string::npos) << advice_of(p);
}

TEST(Advice, TheSameFiguresGiveTheSameAnswer) {
  // Two nodes saturated alike: the tie goes to the first in flow order, every time.
  const auto make = [] {
    return profile(4, {node("numbers", "source", 1, 0.1, 4), node("a", "transform", 1, 0.9, 4),
                       node("b", "transform", 1, 0.9, 4), node("sum", "sink", 1, 0.1, 4)});
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(make().bottleneck, "a");
}

TEST(Advice, TheDotOutlineIsOnTheNodeTheAdviceNames) {
  Flow flow("outline");
  auto src = flow.source("numbers", std::vector<int>{1, 2, 3});
  auto square = flow.node("square", [](int x) { return x * x; });
  auto write = flow.node("write", [](int) {});
  src >> square >> write;
  const Profile p =
      profile(4, {node("numbers", "source", 1, 0.1, 4), node("square", "transform", 0, 0.05, 4),
                  node("write", "sink", 1, 0.97, 4)});
  ASSERT_EQ(p.bottleneck, "write");
  const std::string dot = flow.to_dot(p);
  const auto outline = dot.find("penwidth=3, color=red");
  ASSERT_NE(outline, std::string::npos) << dot;
  const auto line_start = dot.rfind('\n', outline);
  EXPECT_NE(dot.substr(line_start, outline - line_start).find("write"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("penwidth=3", outline + 1), std::string::npos) << "one outline: " << dot;

  const Profile balanced =
      profile(4, {node("numbers", "source", 1, 0.3, 4), node("square", "transform", 0, 0.9, 4),
                  node("write", "sink", 0, 0.85, 4)});
  EXPECT_EQ(balanced.bottleneck, "");
  EXPECT_EQ(flow.to_dot(balanced).find("penwidth=3"), std::string::npos);
}

// A keyed node whose shards aggregate `items` items each.
NodeProfile keyed(double busy, std::size_t threads, std::vector<std::uint64_t> items) {
  NodeProfile n = node("count", "keyed", 0, busy, threads);
  for (auto i : items) n.shards.push_back({i / 10, i});
  return n;
}

TEST(Advice, AHotShardOfAKeyedNodeIsTheBottleneckAndNamed) {
  const Profile p =
      profile(4, {node("read", "source", 1, 0.1, 4), keyed(0.5, 4, {10, 900, 50, 40})});
  EXPECT_EQ(p.bottleneck, "count") << advice_of(p);
  EXPECT_NE(advice_of(p).find("shard 1 of keyed node 'count' aggregates 90% of its items (an "
                              "even spread gives each of its 4 shards 25%)"),
            std::string::npos)
      << advice_of(p);
}

TEST(Advice, EvenShardsOrAKeyedNodeDoingLittleWorkNameNoHotShard) {
  for (const Profile& p :
       {profile(4, {node("read", "source", 1, 0.1, 4), keyed(0.5, 4, {250, 260, 240, 250})}),
        profile(4, {node("parse", "transform", 0, 0.9, 4), keyed(0.02, 4, {10, 900, 50, 40})}),
        profile(2, {node("read", "source", 1, 0.1, 2), keyed(0.5, 2, {60, 40})})})
    EXPECT_EQ(advice_of(p).find("aggregates"), std::string::npos) << advice_of(p);
}

}  // namespace
}  // namespace aetherflow
