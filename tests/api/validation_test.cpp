// Before any data moves, one FlowError lists every problem of a malformed flow.
#include <flow/aetherflow.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ranges>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

// The problems FlowError reports for `flow`, or a failed test if it reports none.
std::vector<std::string> problems_of(const Flow& flow) {
  try {
    flow.validate();
  } catch (const FlowError& e) {
    return e.problems();
  }
  ADD_FAILURE() << "flow '" << flow.name() << "' was expected to be invalid";
  return {};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

TEST(Validation, AValidFlowPasses) {
  Flow flow("fine");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  EXPECT_NO_THROW(flow.validate());
}

TEST(Validation, DuplicateNames) {
  Flow flow("dupes");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto a = flow.node("step", [](int x) { return x; });
  auto b = flow.node("step", [](int) {});
  src >> a >> b;
  EXPECT_TRUE(mentions(problems_of(flow), "duplicate node name 'step' (declared 2 times)"));
}

TEST(Validation, CycleNamesItsNodes) {
  Flow flow("loop");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto a = flow.node("a", [](int x) { return x; });
  auto b = flow.node("b", [](int x) { return x; });
  auto c = flow.node("c", [](int x) { return x; });
  auto sink = flow.node("sink", [](int) {});
  src >> a >> b >> c >> a;
  c >> sink;
  const auto problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "cycle: a -> b -> c -> a")) << problems.front();
}

TEST(Validation, UnconnectedInputAndUnreachableNode) {
  Flow flow("loose");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto sink = flow.node("sink", [](int) {});
  auto orphan = flow.node("orphan", [](const std::string& s) { return s.size(); });
  auto after = flow.node("after_orphan", [](std::size_t) {});
  src >> sink;
  orphan >> after;
  const auto problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "input of 'orphan' (std::string) is not connected"));
  EXPECT_TRUE(mentions(problems, "'after_orphan' is not reached by any source"));
}

TEST(Validation, OutputsThatGoNowhereUnlessDiscarded) {
  Flow flow("dangling");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto square = flow.node("square", [](int x) { return x * x; });
  src >> square;
  EXPECT_TRUE(mentions(problems_of(flow), "output of 'square' (int) goes nowhere"));
  square.discard();
  EXPECT_NO_THROW(flow.validate());
}

TEST(Validation, UnconnectedRouteAndEmptyBranch) {
  Flow flow("routes");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto parity = flow.branch_on("parity", [](int x) { return x % 2; });
  auto none = flow.branch_on("none", [](int x) { return x; });
  auto sink = flow.node("sink", [](int) {});
  src >> fan_out(parity, none);
  parity.when(0) >> sink;
  parity.when(1);
  const auto problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "route '1' of branch_on 'parity' (int) goes nowhere"));
  EXPECT_TRUE(mentions(problems, "branch_on 'none' has no routes"));
}

TEST(Validation, FanInInputsMustEachHaveOneBranch) {
  Flow flow("join");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto a = flow.node("a", [](int x) { return x; });
  auto join = flow.fan_in("join", [](int, int) {});
  src >> a;
  (void)join;
  const auto problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "input 1 (int) of fan-in 'join' has 0 edges"));
  EXPECT_TRUE(mentions(problems, "output of 'a' (int) goes nowhere"));
}

TEST(Validation, FanInAfterOneToManyCannotPairItems) {
  Flow flow("join_after_expand");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto dup = flow.node("dup", [](int x, Emitter<int>& emit) {
    emit(x);
    emit(x);
  });
  auto same = flow.node("same", [](int x) { return x; });
  auto join = flow.fan_in("join", [](int, int) {});
  src >> fan_out(dup, same) >> join;
  EXPECT_TRUE(mentions(problems_of(flow), "input 1 comes after the one-to-many node 'dup'"));
}

TEST(Validation, FanInOfTwoSources) {
  Flow flow("two_sources");
  auto a = flow.source("a", std::views::iota(0, 3));
  auto b = flow.source("b", std::views::iota(0, 3));
  auto join = flow.fan_in("join", [](int, int) {});
  fan_out(a, b) >> join;
  EXPECT_TRUE(mentions(problems_of(flow), "fan-in 'join' joins items of different sources"));
}

TEST(Validation, OrderedNeedsASinkOfOneSource) {
  Flow flow("ordered");
  auto a = flow.source("a", std::views::iota(0, 3));
  auto b = flow.source("b", std::views::iota(0, 3));
  auto mid = flow.node("mid", [](int x) { return x; }, {.ordered = true});
  auto sink = flow.node("sink", [](int) {}, {.ordered = true});
  fan_out(a, b) >> mid >> sink;
  const auto problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "'mid' is ordered but is not a sink"));
  EXPECT_TRUE(mentions(problems, "ordered sink 'sink' receives items of 2 sources"));
}

TEST(Validation, EveryProblemIsListedInOneError) {
  Flow flow("many");
  auto a = flow.node("x", [](int x) { return x; });
  auto b = flow.node("x", [](int) {});
  a >> b;
  try {
    flow.run();
    FAIL();
  } catch (const FlowError& e) {
    EXPECT_GE(e.problems().size(), 3u);  // no source, duplicate name, unconnected input
    EXPECT_NE(std::string(e.what()).find("flow 'many' is not valid"), std::string::npos);
    EXPECT_TRUE(mentions(e.problems(), "the flow has no source"));
  }
}

TEST(Validation, EdgesBetweenFlowsAreRefused) {
  Flow one("one"), two("two");
  auto src = one.source("numbers", std::views::iota(0, 3));
  auto sink = two.node("sink", [](int) {});
  EXPECT_THROW(src >> sink, FlowError);
}

TEST(Dot, DescribesTheFlowAndRendersWithGraphviz) {
  Flow flow("dot \"quoted\"");
  auto src = flow.source("numbers", std::views::iota(0, 3));
  auto parity = flow.branch_on("parity", [](int x) { return x % 2; });
  auto a = flow.node("a", [](int x) { return x; }, {.concurrency = 4});
  auto b = flow.repeat("b", 3, [](int x) { return x + 1; });
  auto join = flow.fan_in("join", [](int, double) {});
  auto sink = flow.node("sink", [](int) {}, {.ordered = true});
  src >> parity;
  parity.when(0) >> sink;
  parity.otherwise() >> fan_out(a, b) >> join;

  const std::string dot = flow.to_dot();
  EXPECT_NE(dot.find("a\\ntransform · max 4"), std::string::npos) << dot;
  EXPECT_NE(dot.find("b\\nrepeat x3 · unlimited"), std::string::npos) << dot;
  EXPECT_NE(dot.find("sink\\nsink · serial · ordered"), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"otherwise\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"in 2, as double\""), std::string::npos) << dot;

  const std::string path = ::testing::TempDir() + "flow.dot";
  std::ofstream(path) << dot;
  const std::string command =
      std::string(AETHERFLOW_DOT_EXECUTABLE) + " -Tsvg " + path + " -o " + path + ".svg";
  EXPECT_EQ(std::system(command.c_str()), 0) << "graphviz rejected:\n" << dot;
  std::remove(path.c_str());
  std::remove((path + ".svg").c_str());
}

}  // namespace
}  // namespace aetherflow
