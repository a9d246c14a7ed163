// Reusable sub-flows: a function adds a group of nodes through a Scope and returns the group,
// which >> connects like one node; its nodes are named under the scope's prefix in the report,
// the profile, DOT and every error.
#include <flow/aetherflow.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aetherflow {
namespace {

// Multiplies each item by `factor`, then drops the multiples of 3.
auto scale(Scope s, int factor) {
  auto times = s.node("times", [factor](int x) { return x * factor; });
  auto keep = s.node("keep", [](int x) -> std::optional<int> {
    if (x % 3 == 0) return std::nullopt;
    return x;
  });
  times >> keep;
  return group(times, keep);
}

std::vector<std::string> names_of(const auto& nodes) {
  std::vector<std::string> names;
  for (const auto& n : nodes) names.push_back(n.name);
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::string> two_scales = {"first/keep",  "first/times",  "numbers",
                                             "second/keep", "second/times", "sink"};

// numbers >> scale x2 >> scale x5 >> sink, the same sub-flow used twice.
struct TwoScales {
  Flow flow{"two_scales"};
  std::vector<int> got;
  TwoScales() {
    auto numbers = flow.source("numbers", std::views::iota(1, 101));
    auto sink = flow.node("sink", [this](int x) { got.push_back(x); });
    numbers >> scale(flow.scope("first"), 2) >> scale(flow.scope("second"), 5) >> sink;
  }
};

// What validating `flow` reports, one problem a line ("" for a valid flow).
std::string problems_of(const Flow& flow) {
  try {
    flow.validate();
  } catch (const FlowError& e) {
    return e.what();
  }
  return "";
}

bool mentions(const std::string& problems, const std::string& text) {
  return problems.find(text) != std::string::npos;
}

TEST(SubFlow, UsedTwiceInOneFlowUnderTwoNames) {
  TwoScales f;
  const RunReport report = f.flow.run({.threads = 2, .batch_size = 8});
  std::vector<int> expected;
  for (int x = 1; x <= 100; ++x)
    if ((2 * x) % 3 != 0) expected.push_back(10 * x);
  std::sort(f.got.begin(), f.got.end());
  EXPECT_EQ(f.got, expected);

  EXPECT_EQ(names_of(report.nodes), two_scales);
  EXPECT_EQ(report.node("first/times").in, 100u);
  EXPECT_EQ(report.node("first/keep").filtered, 33u);
  EXPECT_EQ(report.node("first/keep").out, 67u);
  EXPECT_EQ(report.node("second/times").in, 67u);
  EXPECT_EQ(report.node("second/keep").filtered, 0u);
  EXPECT_EQ(report.node("sink").in, 67u);
  EXPECT_THROW(report.node("times"), std::out_of_range);
}

TEST(SubFlow, ProfileAndDotNameTheNodesWithTheirPrefix) {
  TwoScales f;
  const RunReport report = f.flow.run({.threads = 2, .batch_size = 8, .profile = true});
  ASSERT_TRUE(report.profile);
  const Profile& p = *report.profile;
  EXPECT_EQ(names_of(p.nodes), two_scales);
  EXPECT_EQ(p.node("first/keep").items_in, 100u);
  EXPECT_EQ(p.node("second/times").items_out, 67u);
  const std::string dot = f.flow.to_dot(p);
  for (const auto& name : two_scales)
    EXPECT_NE(dot.find("label=\"" + name + "\\n"), std::string::npos) << name << "\n" << dot;
}

TEST(SubFlow, AFailureInsideNamesThePrefixedNode) {
  Flow flow("failing");
  auto numbers = flow.source("numbers", std::views::iota(1, 11));
  auto sink = flow.node("sink", [](int) {});
  auto check = [](Scope s) {
    auto times = s.node("times", [](int x) { return x; });
    auto validate = s.node("validate", [](int x) {
      if (x == 7) throw std::runtime_error("seven");
      return x;
    });
    times >> validate;
    return group(times, validate);
  };
  numbers >> check(flow.scope("check")) >> sink;
  try {
    flow.run({.batch_size = 1});
    ADD_FAILURE() << "the run was expected to fail";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "check/validate");
    EXPECT_NE(std::string(e.what()).find("'check/validate'"), std::string::npos) << e.what();
  }
}

TEST(SubFlow, ValidationNamesTheNodesInsideWithTheirPrefix) {
  Flow flow("unjoined");
  auto lines = flow.source("lines", std::vector<std::string>{"1", "22"});
  auto sink = flow.node("sink", [](int) {});
  auto parse = [](Scope s) {
    auto split = s.node("split", [](const std::string& l) { return int(l.size()); });
    auto validate = s.node("validate", [](int n) { return n; });
    // split >> validate forgotten
    return group(split, validate);
  };
  lines >> parse(flow.scope("parse")) >> sink;
  const std::string problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "input of 'parse/validate' (int) is not connected")) << problems;
  EXPECT_TRUE(mentions(problems, "output of 'parse/split' (int) goes nowhere")) << problems;
}

TEST(SubFlow, ACycleThroughASubFlowIsNamedWithPrefixes) {
  Flow flow("looped");
  auto lines = flow.source("lines", std::vector<std::string>{"a", "b"});
  auto sink = flow.node("sink", [](const std::string&) {});
  auto parse = [](Scope s) {
    auto split = s.node("split", [](const std::string& l) { return l; });
    auto validate = s.node("validate", [](const std::string& l) { return l; });
    split >> validate;
    return group(split, validate);
  };
  auto p = parse(flow.scope("parse"));
  lines >> p >> sink;
  p >> p;  // the group's output back into its input
  const std::string problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "cycle: parse/split -> parse/validate -> parse/split"))
      << problems;
}

TEST(SubFlow, ScopesNest) {
  Flow flow("nested");
  EXPECT_EQ(flow.prefix(), "");
  EXPECT_EQ(flow.scope("outer").scope("inner").prefix(), "outer/inner/");
  // A sub-flow made of two uses of another.
  auto both = [](Scope s) { return group(scale(s.scope("a"), 2), scale(s.scope("b"), 5)); };
  auto numbers = flow.source("numbers", std::views::iota(1, 7));
  std::vector<int> got;
  auto sink = flow.node("sink", [&got](int x) { got.push_back(x); });
  auto outer = both(flow.scope("outer"));
  numbers >> outer >> sink;
  // Connected inside the outer group: a's output to b's input.
  const std::string problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "input of 'outer/b/times' (int) is not connected"));
  EXPECT_TRUE(mentions(problems, "output of 'outer/a/keep' (int) goes nowhere"));
}

TEST(SubFlow, NestedSubFlowsRun) {
  Flow flow("nested_run");
  auto both = [](Scope s) {
    auto a = scale(s.scope("a"), 2);
    auto b = scale(s.scope("b"), 5);
    a >> b;
    return group(a, b);
  };
  auto numbers = flow.source("numbers", std::views::iota(1, 7));
  std::vector<int> got;
  auto sink = flow.node("sink", [&got](int x) { got.push_back(x); });
  numbers >> both(flow.scope("outer")) >> sink;
  const RunReport report = flow.run();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{10, 20, 40, 50}));
  EXPECT_EQ(names_of(report.nodes),
            (std::vector<std::string>{"numbers", "outer/a/keep", "outer/a/times", "outer/b/keep",
                                      "outer/b/times", "sink"}));
}

TEST(SubFlow, TheSamePrefixTwiceIsADuplicateName) {
  Flow flow("twice");
  auto numbers = flow.source("numbers", std::views::iota(1, 7));
  auto sink = flow.node("sink", [](int) {});
  numbers >> scale(flow.scope("scale"), 2) >> scale(flow.scope("scale"), 3) >> sink;
  const std::string problems = problems_of(flow);
  EXPECT_TRUE(mentions(problems, "duplicate node name 'scale/times' (declared 2 times)"));
  EXPECT_TRUE(mentions(problems, "duplicate node name 'scale/keep' (declared 2 times)"));
}

TEST(SubFlow, AScopeNameIsOneNonEmptyPartWithoutSlash) {
  Flow flow("names");
  try {
    flow.scope("a/b");
    ADD_FAILURE() << "a scope name with '/' was expected to be refused";
  } catch (const FlowError& e) {
    EXPECT_TRUE(mentions(e.what(), "scope name 'a/b' holds a '/'")) << e.what();
  }
  EXPECT_THROW(flow.scope(""), FlowError);
  EXPECT_THROW(flow.scope("a").scope("b/c"), FlowError);
}

TEST(SubFlow, AGroupStartingWithASourceOrEndingInASinkStandsAtAnEnd) {
  Flow flow("ends");
  auto numbers = [](Scope s, int n) {
    auto range = s.source("range", std::views::iota(1, n + 1));
    auto square = s.node("square", [](int x) { return x * x; });
    range >> square;
    return group(range, square);
  };
  std::vector<int> got;
  auto collect = [&got](Scope s) {
    auto odd = s.node("odd", [](int x) -> std::optional<int> {
      if (x % 2 == 0) return std::nullopt;
      return x;
    });
    auto store = s.node("store", [&got](int x) { got.push_back(x); });
    odd >> store;
    return group(odd, store);
  };
  numbers(flow.scope("in"), 6) >> collect(flow.scope("out"));
  const RunReport report = flow.run();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{1, 9, 25}));
  EXPECT_EQ(report.node("in/range").out, 6u);
  EXPECT_EQ(report.node("out/store").in, 3u);
}

TEST(SubFlow, GroupsOfBranchesFeedAGroupStartingWithAFanIn) {
  Flow flow("fan");
  auto words = flow.source("words", std::vector<std::string>{"a", "bb", "ccc"});
  std::vector<std::string> got;
  auto sink = flow.node("sink", [&got](const std::string& s) { got.push_back(s); });
  auto measure = [](Scope s) {
    auto length = s.node("length", [](const std::string& w) { return w.size(); });
    auto upper = s.node("upper", [](std::string w) {
      std::transform(w.begin(), w.end(), w.begin(), [](char c) { return char(c - 'a' + 'A'); });
      return w;
    });
    return group(fan_out(length, upper), fan_out(length, upper));
  };
  auto label = [](Scope s) {
    auto join = s.fan_in(
        "join", [](std::size_t n, const std::string& w) { return w + ":" + std::to_string(n); });
    auto tidy = s.node("tidy", [](std::string l) { return "<" + l + ">"; });
    join >> tidy;
    return group(join, tidy);
  };
  words >> measure(flow.scope("measure")) >> label(flow.scope("label")) >> sink;
  const RunReport report = flow.run();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"<A:1>", "<BB:2>", "<CCC:3>"}));
  EXPECT_EQ(report.node("label/join").out, 3u);
}

// A function taking FlowBuilder& adds its nodes to a flow directly or to a scope of it.
auto squares(FlowBuilder& b) {
  return b.node("square", [](int x) { return x * x; });
}

TEST(SubFlow, AFlowBuilderIsAFlowOrAScope) {
  Flow flow("builders");
  Scope scope = flow.scope("scope");
  auto numbers = flow.source("numbers", std::views::iota(1, 3));
  numbers >> fan_out(squares(flow).discard(), squares(scope).discard());
  const RunReport report = flow.run();
  EXPECT_EQ(names_of(report.nodes),
            (std::vector<std::string>{"numbers", "scope/square", "square"}));
  EXPECT_EQ(report.node("scope/square").out, 2u);
}

}  // namespace
}  // namespace aetherflow
