// aetherflow::testing::run_node: one node run alone on given inputs, its outputs in input
// order, its dead letters and its report.
#include <flow/testing/node_runner.hpp>

#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

using testing::expect_balanced;
using testing::run_node;

int parse(const std::string& s) {
  return std::stoi(s);
}

TEST(NodeRunner, OutputsComeInInputOrderOnEveryThread) {
  const auto r = run_node("square", [](int x) { return x * x; }, std::views::iota(0, 5000),
                          {.run = {.threads = 4, .batch_size = 16}});
  ASSERT_EQ(r.outputs.size(), 5000u);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(r.outputs[static_cast<std::size_t>(i)], i * i);
  EXPECT_EQ(r.report.name, "square");
  EXPECT_EQ(r.report.in, 5000u);
  EXPECT_EQ(r.report.out, 5000u);
  EXPECT_EQ(r.run.flow, "square");
  expect_balanced(r.run);
}

TEST(NodeRunner, InputsInBraces) {
  EXPECT_EQ(run_node("parse", parse, {"1", "2", "3"}).outputs, (std::vector<int>{1, 2, 3}));
}

TEST(NodeRunner, DeadLettersCarryTheFailedItemsAndTheReportCountsThem) {
  const auto r = run_node(
      "parse", parse, std::vector<std::string>{"1", "x", "3", "y"},
      {.node = {.on_error = OnError::dead_letter, .retry = Retry{.retries = 2, .delay = {}}}});
  EXPECT_EQ(r.outputs, (std::vector<int>{1, 3}));
  ASSERT_EQ(r.dead_letters.size(), 2u);
  for (const DeadLetter<std::string>& d : r.dead_letters) {
    EXPECT_TRUE(d.item == "x" || d.item == "y") << d.item;
    EXPECT_EQ(d.node, "parse");
    EXPECT_NE(d.error.find("std::invalid_argument"), std::string::npos) << d.error;
    EXPECT_EQ(d.attempts, 3u);
  }
  EXPECT_EQ(r.report.in, 4u);
  EXPECT_EQ(r.report.out, 2u);
  EXPECT_EQ(r.report.failed, 2u);
  EXPECT_EQ(r.report.dead_lettered, 2u);
  EXPECT_EQ(r.report.retries, 4u);
  expect_balanced(r.run);
}

TEST(NodeRunner, SkippedItemsAreCountedAndAbsent) {
  const auto r = run_node("parse", parse, {"1", "x", "3"}, {.node = {.on_error = OnError::skip}});
  EXPECT_EQ(r.outputs, (std::vector<int>{1, 3}));
  EXPECT_TRUE(r.dead_letters.empty());
  EXPECT_EQ(r.report.skipped, 1u);
}

TEST(NodeRunner, AFailedItemThrowsTheRunsNodeError) {
  try {
    run_node("parse", parse, {"1", "2", "x", "4"}, {.run = {.threads = 1}});
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "parse");
    EXPECT_EQ(e.item(), 2u);
    EXPECT_NE(std::string(e.what()).find("node 'parse' failed on item 2"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.report().node("parse").failed, 1u);
    expect_balanced(e.report());
  }
}

TEST(NodeRunner, AFilterLeavesOutWhatItDrops) {
  const auto r = run_node(
      "even", [](int x) -> std::optional<int> { return x % 2 ? std::nullopt : std::optional(x); },
      std::views::iota(0, 10), {.run = {.batch_size = 3}});
  EXPECT_EQ(r.outputs, (std::vector<int>{0, 2, 4, 6, 8}));
  EXPECT_EQ(r.report.filtered, 5u);
}

TEST(NodeRunner, AOneToManyNodesOutputsKeepTheirOrder) {
  const auto r = run_node("repeat",
                          [](int n, Emitter<int>& emit) {
                            for (int i = 0; i < n; ++i) emit(n * 10 + i);
                          },
                          {2, 0, 3, 1}, {.run = {.threads = 2, .batch_size = 1}});
  EXPECT_EQ(r.outputs, (std::vector<int>{20, 21, 30, 31, 32, 10}));
  EXPECT_EQ(r.report.in, 4u);
  EXPECT_EQ(r.report.out, 6u);
  EXPECT_EQ(r.report.filtered, 1u);  // 0 emitted nothing
}

TEST(NodeRunner, ASinkHasNoOutputsButItsCounts) {
  long sum = 0;
  const auto r = run_node(
      "sum", [&sum](int x) { sum += x; }, std::views::iota(1, 101));
  EXPECT_TRUE(r.outputs.empty());
  EXPECT_EQ(sum, 5050);
  EXPECT_EQ(r.report.kind, "sink");
  EXPECT_EQ(r.report.out, 100u);
}

struct Scale {
  int factor = 1;
};
struct Calls {
  int n = 0;
};

TEST(NodeRunner, ANodeTakesItsResourcesFromTheContext) {
  Context ctx;
  ctx.value(Scale{.factor = 3});
  ctx.per_thread<Calls>();
  const auto r = run_node(
      "scale",
      [](int x, const Scale& s, Calls& calls) {
        ++calls.n;
        return x * s.factor;
      },
      {1, 2, 3}, ctx);
  EXPECT_EQ(r.outputs, (std::vector<int>{3, 6, 9}));
  int calls = 0;
  ctx.each<Calls>([&calls](Calls& c) { calls += c.n; });
  EXPECT_EQ(calls, 3);
}

TEST(NodeRunner, AGenericLambdaNamesItsInputType) {
  const auto r = run_node<int>("half", [](auto x) { return x / 2.0; }, {1, 2, 3});
  EXPECT_EQ(r.outputs, (std::vector<double>{0.5, 1.0, 1.5}));
}

}  // namespace
}  // namespace aetherflow
