// Ready-made sinks (collect, discard, write_lines) and the finish() hook they rely on: called
// once per run after the node's last call, whatever ended the run.
#include <flow/aetherflow.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using testing::TempFile;

std::string read_file(const std::string& path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

std::vector<int> numbers(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

TEST(Sinks, CollectAppendsEveryItemToAnyContainer) {
  std::vector<int> list;
  std::set<int> odd;
  Flow flow("collect");
  auto src = flow.source("n", numbers(5000));
  auto keep = flow.node("keep", collect(list), {.ordered = true});
  auto only_odd = flow.node("odd", [](int x) -> std::optional<int> {
    if (x % 2 == 0) return std::nullopt;
    return x;
  });
  auto drop = flow.node("drop", discard<int>());
  auto keep_odd = flow.node("keep_odd", collect(odd));
  src >> fan_out(keep, only_odd, drop);
  only_odd >> keep_odd;
  const RunReport r = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(list, numbers(5000));  // ordered: in source order
  EXPECT_EQ(odd.size(), 2500u);
  EXPECT_EQ(*odd.begin(), 1);
  EXPECT_EQ(r.node("drop").in, 5000u);
  EXPECT_EQ(r.node("drop").out, 5000u);
}

TEST(Sinks, WriteLinesWritesEveryLineAndRewritesTheFileEachRun) {
  TempFile out;
  Flow flow("write");
  auto src = flow.source("n", numbers(20'000));
  auto text = flow.node("text", [](int x) { return "line " + std::to_string(x); });
  // A small buffer, so the file is written many times during the run, not only at the end.
  auto sink = flow.node("out", write_lines(out.path(), 4096), {.ordered = true});
  src >> text >> sink;
  std::string expected;
  for (int i = 0; i < 20'000; ++i) expected += "line " + std::to_string(i) + "\n";
  flow.run({.threads = 2, .batch_size = 128});
  EXPECT_EQ(read_file(out.path()), expected);
  flow.run({.threads = 2, .batch_size = 128});
  EXPECT_EQ(read_file(out.path()), expected) << "a second run rewrites the file, not appends";
}

TEST(Sinks, WriteLinesLeavesAnEmptyFileForARunWithoutLines) {
  TempFile out("stale content\n");
  Flow flow("empty");
  flow.source("n", std::vector<std::string>{}) >> flow.node("out", write_lines(out.path()));
  flow.run();
  EXPECT_EQ(read_file(out.path()), "");
}

TEST(Sinks, WriteLinesNamesAPathItCannotOpen) {
  Flow flow("unwritable");
  const std::string path = ::testing::TempDir() + "no/such/directory/out.txt";
  flow.source("n", std::vector<std::string>{"a"}) >> flow.node("out", write_lines(path));
  try {
    flow.run();
    FAIL() << "the directory does not exist";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "out");
    EXPECT_NE(std::string(e.what()).find("cannot open '" + path + "'"), std::string::npos)
        << e.what();
    try {
      std::rethrow_if_nested(e);
      FAIL() << "no exception nested in the NodeError";
    } catch (const IoError&) {
      SUCCEED();
    }
  }
}

// A sink of its own with finish(): called once per run, after its last item, however the
// run ended; what finish() throws fails the run, naming the node.
struct Tally {
  int* items;
  int* finishes;
  int* seen_at_finish;
  bool* fail_finish;
  void operator()(int) { ++*items; }
  void finish() {
    ++*finishes;
    *seen_at_finish = *items;
    if (*fail_finish) throw std::runtime_error("flush failed");
  }
};

TEST(Sinks, FinishRunsOncePerRunAfterTheLastItemWhateverEndedTheRun) {
  int items = 0, finishes = 0, seen = 0;
  bool fail_finish = false;
  std::stop_source stop;
  Flow flow("finish");
  auto src = flow.source("n", numbers(10'000));
  auto pass = flow.node("pass", [&](int x) {
    if (x == 5000) stop.request_stop();
    return x;
  });
  auto sink = flow.node("tally", Tally{&items, &finishes, &seen, &fail_finish});
  src >> pass >> sink;

  flow.run({.threads = 2, .batch_size = 64});  // completes
  EXPECT_EQ(finishes, 1);
  EXPECT_EQ(seen, 10'000);

  items = 0;
  const RunReport cancelled = flow.run({.threads = 2, .batch_size = 64, .stop = stop.get_token()});
  ASSERT_TRUE(cancelled.cancelled);
  EXPECT_EQ(finishes, 2);
  EXPECT_EQ(seen, items) << "finish() came after every call of the cancelled run";
  EXPECT_EQ(static_cast<std::uint64_t>(seen), cancelled.node("tally").out);

  fail_finish = true;
  try {
    flow.run({.threads = 2, .batch_size = 64});
    FAIL() << "finish() threw";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "tally");
    EXPECT_EQ(e.stage(), NodeError::Stage::finish);
    EXPECT_EQ(e.item(), 10'000u) << "the items it received";
    EXPECT_NE(std::string(e.what()).find("node 'tally' failed in finish(), after its last item"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("on item"), std::string::npos)
        << "no item failed: " << e.what();
    EXPECT_NE(std::string(e.what()).find("flush failed"), std::string::npos) << e.what();
    EXPECT_EQ(e.report().node("tally").out, 10'000u);
  }
  EXPECT_EQ(finishes, 3);
}

}  // namespace
}  // namespace aetherflow
