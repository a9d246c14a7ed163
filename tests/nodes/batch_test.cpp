// batch(size, max_wait) and unbatch: groups leave when full, when max_wait has passed since
// their first item, and at the end of the stream; nothing is lost or kept across runs.
#include <flow/aetherflow.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <vector>

#include <gtest/gtest.h>

#include "../support/temp_file.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

std::vector<int> numbers(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Batch, GroupsBySizeAndFlushesTheRestAtTheEndOfTheStream) {
  for (std::size_t threads : {1u, 2u}) {
    std::vector<std::vector<int>> groups;
    Flow flow("groups");
    auto src = flow.source("n", numbers(1000));
    auto group = flow.node("group", batch<int>(64));
    auto keep = flow.node("keep", collect(groups));
    src >> group >> keep;
    const RunReport r = flow.run({.threads = threads, .batch_size = 50});

    ASSERT_EQ(groups.size(), 16u);  // 15 full groups, and the last 40 items at the end
    std::vector<int> all;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      EXPECT_EQ(groups[g].size(), g + 1 < groups.size() ? 64u : 1000u % 64) << "group " << g;
      all.insert(all.end(), groups[g].begin(), groups[g].end());
    }
    // A serial batch node fills its groups in the order batches arrive; one source thread
    // keeps that the source order.
    if (threads == 1) {
      EXPECT_EQ(all, numbers(1000));
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, numbers(1000));
    EXPECT_EQ(r.node("group").in, 1000u);
    EXPECT_EQ(r.node("group").out, 16u);
    EXPECT_EQ(r.node("group").kind, "batch");
    EXPECT_EQ(r.node("keep").in, 16u);
  }
}

TEST(Batch, UnbatchGivesBackEveryItem) {
  std::vector<int> out;
  Flow flow("round_trip");
  auto src = flow.source("n", numbers(10'007));
  auto group = flow.node("group", batch<int>(100));
  auto sizes = flow.node("sizes", [](std::vector<int> g) {
    if (g.empty() || g.size() > 100) throw std::logic_error("bad group");
    return g;
  });
  auto split = flow.node("split", unbatch<int>());
  src >> group >> sizes >> split >> flow.node("keep", collect(out));
  const RunReport r = flow.run({.threads = 2, .batch_size = 64});
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, numbers(10'007));
  EXPECT_EQ(r.node("group").out, 101u);
  EXPECT_EQ(r.node("split").out, 10'007u);
}

// The source stops after the first source batch until the sink has seen a group: only the
// max_wait timer can send that group on, as it is neither full nor at the end of the stream.
TEST(Batch, MaxWaitSendsAGroupOnWhileTheStreamIsStillOpen) {
  std::mutex mutex;
  std::condition_variable seen;
  std::vector<std::size_t> sizes;
  bool released_by_timer = false;
  Flow flow("max_wait");
  auto src = flow.source("n", [&, i = 0]() mutable -> std::optional<int> {
    if (i == 5) {  // the second source batch: wait for the first group
      std::unique_lock lock(mutex);
      released_by_timer = seen.wait_for(lock, 60s, [&] { return !sizes.empty(); });
    }
    if (i == 8) return std::nullopt;
    return i++;
  });
  auto group = flow.node("group", batch<int>(100, 5ms));
  auto keep = flow.node("keep", [&](const std::vector<int>& g) {
    std::lock_guard lock(mutex);
    sizes.push_back(g.size());
    seen.notify_all();
  });
  src >> group >> keep;
  // Profiled: the timed flush is a call of the node like any, recorded by a worker of the run.
  // Source batches of exactly 5 items: the source-side latency bound, which would send the
  // first item alone and end the second batch after the long call, is off.
  const RunReport r =
      flow.run({.threads = 2, .batch_size = 5, .max_batch_delay = 0us, .profile = true});
  EXPECT_TRUE(released_by_timer);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 3}));  // by the timer, then at the end
  EXPECT_EQ(r.node("group").out, 2u);
  // Two source batches, the timed flush, the end of stream (and perhaps the second group's
  // timer, if it fires before the end).
  EXPECT_GE(r.profile->node("group").calls, 4u);
  for (const TraceEvent& e : r.profile->trace) EXPECT_LT(e.thread, r.threads);
}

TEST(Batch, ItemsHeldWhenARunIsCancelledAreCountedAndTheNextRunStartsEmpty) {
  std::stop_source stop;
  bool cancel = true;
  std::size_t grouped = 0;
  Flow flow("cancelled");
  auto src = flow.source("n", numbers(100'000));
  auto group = flow.node("group", batch<int>(1000));
  auto keep = flow.node("keep", [&](const std::vector<int>& g) {
    grouped += g.size();
    if (cancel && grouped >= 3000) stop.request_stop();
  });
  src >> group >> keep;
  const RunReport first = flow.run({.threads = 2, .batch_size = 100, .stop = stop.get_token()});
  EXPECT_TRUE(first.cancelled);
  const auto& g = first.node("group");
  EXPECT_EQ(g.in, grouped + g.cancelled);  // every item received is in a group or cancelled
  EXPECT_EQ(g.out * 1000, grouped);

  cancel = false;
  grouped = 0;
  const RunReport second = flow.run({.threads = 2, .batch_size = 100});
  EXPECT_EQ(grouped, 100'000u);  // nothing left over from the cancelled run
  EXPECT_EQ(second.node("group").out, 100u);
  EXPECT_EQ(second.node("group").cancelled, 0u);
}

TEST(Batch, AFailureDownstreamDropsWhatIsHeldAndTheNextRunStartsEmpty) {
  bool fail = true;
  std::size_t grouped = 0;
  Flow flow("failed");
  auto src = flow.source("n", numbers(5000));
  auto group = flow.node("group", batch<int>(7));
  auto keep = flow.node("keep", [&](const std::vector<int>& g) {
    if (fail && g.front() >= 2000) throw std::runtime_error("disk full");
    grouped += g.size();
  });
  src >> group >> keep;
  try {
    flow.run({.threads = 2, .batch_size = 64});
    FAIL() << "expected a NodeError";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "keep");
    const auto& g = e.report().node("group");
    EXPECT_EQ(g.in, g.out * 7 + g.cancelled);
  }
  fail = false;
  grouped = 0;
  flow.run({.threads = 2, .batch_size = 64});
  EXPECT_EQ(grouped, 5000u);
}

TEST(Batch, MistakesAreClearErrors) {
  {
    // Misuse of a batch node joins the flow's one FlowError, with every other problem.
    Flow flow("zero");
    auto src = flow.source("n", numbers(10));
    auto group = flow.node("group", batch<int>(0, -1ms), {.on_error = OnError::skip});
    src >> group >> flow.node("keep", [](const std::vector<int>&) {});
    try {
      flow.run({.batch_size = std::size_t{1} << 30});
      FAIL() << "expected a FlowError";
    } catch (const FlowError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.problems().size(), 4u) << what;
      EXPECT_NE(what.find("'group': batch size must be at least 1"), std::string::npos) << what;
      EXPECT_NE(what.find("'group': batch max_wait must not be negative"), std::string::npos)
          << what;
      EXPECT_NE(what.find("'group' (batch) sets on_error or retry"), std::string::npos) << what;
      EXPECT_NE(what.find("RunOptions::batch_size 1073741824 is out of range"), std::string::npos)
          << what;
    }
  }
  {
    Flow flow("ordered");
    auto src = flow.source("n", numbers(10));
    auto group = flow.node("group", batch<int>(3));
    src >> group >> flow.node("keep", [](const std::vector<int>&) {}, {.ordered = true});
    try {
      flow.validate();
      FAIL() << "expected a FlowError";
    } catch (const FlowError& e) {
      EXPECT_NE(
          std::string(e.what()).find("ordered sink 'keep' comes after the batch node 'group'"),
          std::string::npos)
          << e.what();
    }
  }
  {
    Flow flow("fan_in");
    auto src = flow.source("n", numbers(10));
    auto group = flow.node("group", batch<int>(3));
    auto a = flow.node("a", [](const std::vector<int>& g) { return g.size(); });
    auto b = flow.node("b", [](const std::vector<int>& g) { return g.front(); });
    auto join = flow.fan_in("join", [](std::size_t, int) {});
    src >> group >> fan_out(a, b) >> join;
    try {
      flow.validate();
      FAIL() << "expected a FlowError";
    } catch (const FlowError& e) {
      EXPECT_NE(std::string(e.what()).find("comes after the batch node 'group'"), std::string::npos)
          << e.what();
    }
  }
  {
    testing::TempFile checkpoint;
    Flow flow("checkpointed");
    auto src = flow.source("n", numbers(10));
    auto group = flow.node("group", batch<int>(3));
    src >> group >> flow.node("keep", [](const std::vector<int>&) {});
    try {
      flow.run({.checkpoint = {.path = checkpoint.path()}});
      FAIL() << "expected a FlowError";
    } catch (const FlowError& e) {
      EXPECT_NE(std::string(e.what()).find("node 'group' holds items between calls"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace aetherflow
