// branch_on routes each item by key; repeat applies a node to its own output.
#include <flow/aetherflow.hpp>

#include <atomic>
#include <cmath>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

TEST(BranchOn, RoutesEachItemToTheRouteOfItsKey) {
  Flow flow("routes");
  std::vector<int> small, large, rest;
  auto src = flow.source("numbers", std::views::iota(0, 300));
  auto by_size = flow.branch_on("by_size", [](int x) -> std::string {
    return x < 100 ? "small" : x < 200 ? "large" : "huge";
  });
  auto to_small = flow.node("small", [&small](int x) { small.push_back(x); }, {.ordered = true});
  auto to_large = flow.node("large", [&large](int x) { large.push_back(x); }, {.ordered = true});
  auto to_rest = flow.node("rest", [&rest](int x) { rest.push_back(x); }, {.ordered = true});
  src >> by_size;
  by_size.when("small") >> to_small;
  by_size.when("large") >> to_large;
  by_size.otherwise() >> to_rest;

  const RunReport report = flow.run({.batch_size = 16});

  ASSERT_EQ(small.size(), 100u);
  ASSERT_EQ(large.size(), 100u);
  ASSERT_EQ(rest.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(small[i], i);
    EXPECT_EQ(large[i], 100 + i);
    EXPECT_EQ(rest[i], 200 + i);
  }
  EXPECT_EQ(report.node("by_size").in, 300u);
  EXPECT_EQ(report.node("by_size").out, 300u);
}

TEST(BranchOn, ARouteMergedBackKeepsSourceOrder) {
  Flow flow("merge_routes");
  std::vector<int> out;
  auto src = flow.source("numbers", std::views::iota(0, 1000));
  auto parity = flow.branch_on("parity", [](int x) { return x % 2; });
  auto even = flow.node("even", [](int x) { return x * 10; });
  auto odd = flow.node("odd", [](int x) { return x * 10 + 1; });
  auto sink = flow.node("collect", [&out](int x) { out.push_back(x); }, {.ordered = true});
  src >> parity;
  parity.when(0) >> even >> sink;
  parity.when(1) >> odd >> sink;

  flow.run({.threads = 4, .batch_size = 8});

  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(out[i], i * 10 + i % 2);
}

TEST(BranchOn, AKeyWithoutRouteIsAnErrorNamingTheKey) {
  Flow flow("unrouted");
  auto src = flow.source("words", std::vector<std::string>{"GET", "POST", "BREW"});
  auto method = flow.branch_on("method", [](const std::string& m) { return m; });
  auto get = flow.node("get", [](const std::string&) {});
  auto post = flow.node("post", [](const std::string&) {});
  src >> method;
  method.when("GET") >> get;
  method.when("POST") >> post;
  try {
    flow.run();
    FAIL() << "expected an error for the key BREW";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "method");
    EXPECT_EQ(e.item(), 2u);
    EXPECT_NE(std::string(e.what()).find("no route for key 'BREW'"), std::string::npos) << e.what();
    const NodeReport& branch = e.report().node("method");
    EXPECT_EQ(branch.in, 3u);
    EXPECT_EQ(branch.out, 2u);  // GET and POST went on before BREW failed
    EXPECT_EQ(branch.failed, 1u);
    EXPECT_EQ(e.report().node("get").in + e.report().node("post").in, 2u);
    testing::expect_balanced(e.report());
  }
}

TEST(Repeat, AppliesTheNodeToItsOwnOutputNTimes) {
  Flow flow("halving");
  std::vector<double> out;
  auto src = flow.source("numbers", std::vector<double>{64.0, 8.0});
  auto halve = flow.repeat("halve3", 3, [](double x) { return x / 2; });
  auto sink = flow.node("collect", [&out](double x) { out.push_back(x); }, {.ordered = true});
  src >> halve >> sink;
  flow.run();
  EXPECT_EQ(out, (std::vector<double>{8.0, 1.0}));
}

// Fails on its third round for every item.
struct FailsOnThirdRound {
  int operator()(int x) const {
    if (x >= 2) throw std::domain_error("too big");
    return x + 1;
  }
};

TEST(Repeat, KeepsTheLastGoodValueWhenNotStoppingOnError) {
  Flow flow("keep_last");
  std::vector<int> out;
  auto src = flow.source("zeros", std::vector<int>{0, 0, 0});
  auto step = flow.repeat("step", 5, FailsOnThirdRound{}, {.stop_on_error = false});
  auto sink = flow.node("collect", [&out](int x) { out.push_back(x); });
  src >> step >> sink;
  const RunReport report = flow.run();
  EXPECT_EQ(out, (std::vector<int>{2, 2, 2}));
  EXPECT_EQ(report.node("step").errors, 3u);
  EXPECT_EQ(report.node("step").failed, 0u);
  EXPECT_EQ(report.node("step").out, 3u);
}

TEST(Repeat, FailsTheItemWhenStoppingOnError) {
  Flow flow("stop");
  auto src = flow.source("zeros", std::vector<int>{0});
  auto step = flow.repeat("step", 5, FailsOnThirdRound{}, {.stop_on_error = true});
  auto sink = flow.node("sink", [](int) {});
  src >> step >> sink;
  try {
    flow.run();
    FAIL() << "expected the third round to fail the run";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "step");
    try {
      std::rethrow_if_nested(e);
      FAIL() << "the body's exception should be nested";
    } catch (const std::domain_error& inner) {
      EXPECT_STREQ(inner.what(), "too big");
    }
  }
}

}  // namespace
}  // namespace aetherflow
