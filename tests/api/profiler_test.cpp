// The profiler: it finds a deliberately slow node, its numbers add up and match the run
// report, and every output format is what its consumers expect.
#include <flow/aetherflow.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <ranges>
#include <sstream>
#include <string>

// cereal first, in a block of its own so that formatting keeps it first: it defines
// RAPIDJSON_ASSERT to throw, as the library sees it. RapidJSON included before it would use
// assert(), and RapidJSON's templates would then have two different definitions.
#include <cereal/archives/json.hpp>

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "../support/platform.hpp"

namespace aetherflow {
namespace {

// Burns about `us` microseconds of CPU, so that one node is by far the costliest.
void spin(int us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// source -> cheap -> slow (serial) -> sink, with the slow node thousands of times dearer.
struct HotSpotFlow {
  Flow flow{"hot_spot"};
  HotSpotFlow() {
    auto src = flow.source("numbers", std::views::iota(0, 400));
    auto cheap = flow.node("cheap", [](int x) { return x + 1; });
    auto slow = flow.node("slow",
                          [](int x) {
                            spin(200);
                            return x;
                          },
                          {.concurrency = serial});
    auto sink = flow.node("sink", [](int) {});
    src >> cheap >> slow >> sink;
  }
  RunReport run(RunOptions options = {}) {
    options.profile = true;
    if (!options.threads) options.threads = 2;
    options.batch_size = 8;
    return flow.run(options);
  }
};

int run_command(const std::string& command) {
  return std::system(command.c_str());
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "aetherflow_profile_" + std::to_string(::getpid()) + "_" + name;
}

TEST(Profiler, RanksTheSlowNodeFirstAndNamesItTheBottleneck) {
  if (testing::kThreadSanitizer)
    GTEST_SKIP() << "ThreadSanitizer slows the framework's own work (scheduling, batches) far "
                    "more than the slow node's timed spin, so the slow node no longer keeps "
                    "busy; the profile's shape is checked in the other builds";
  HotSpotFlow f;
  const RunReport report = f.run();
  ASSERT_TRUE(report.profile);
  const Profile& p = *report.profile;
  EXPECT_EQ(p.hot_spot, "slow");
  EXPECT_EQ(p.bottleneck, "slow");
  EXPECT_GT(p.node("slow").busy_share, 0.9);
  EXPECT_GT(p.node("slow").utilization, 0.75);  // serial and busy nearly all of the run
  ASSERT_EQ(p.advice.size(), 2u);
  EXPECT_NE(p.advice[1].find("serial node 'slow' is busy"), std::string::npos) << p.advice[1];
  EXPECT_NE(p.advice[1].find("raise its concurrency"), std::string::npos);
  std::ostringstream table;
  table << p;
  EXPECT_NE(table.str().find("hot spot: 'slow'"), std::string::npos) << table.str();
}

TEST(Profiler, NumbersAddUpAndMatchTheRunReport) {
  HotSpotFlow f;
  const RunReport report = f.run();
  const Profile& p = *report.profile;
  std::uint64_t node_busy = 0, thread_busy = 0, calls = 0;
  for (const auto& n : p.nodes) {
    node_busy += n.busy_ns;
    calls += n.calls;
    EXPECT_EQ(n.items_in, report.node(n.name).in) << n.name;
    EXPECT_EQ(n.items_out, report.node(n.name).out) << n.name;
    EXPECT_EQ(n.call_latency.count, n.calls) << n.name;
    EXPECT_LE(n.peak_concurrency, n.concurrency_limit ? n.concurrency_limit : p.threads);
  }
  for (const auto& t : p.thread_profiles) thread_busy += t.busy_ns;
  // The same calls, counted per node and per thread: equal but for rounding ticks to ns.
  EXPECT_NEAR(static_cast<double>(node_busy), static_cast<double>(thread_busy),
              static_cast<double>(p.nodes.size() + p.threads));
  double shares = 0;
  for (const auto& n : p.nodes) shares += n.busy_share;
  EXPECT_NEAR(shares, 1.0, 1e-9);
  EXPECT_EQ(p.items, 400u);
  EXPECT_EQ(p.node("slow").calls, 50u);  // 400 items in batches of 8
  EXPECT_EQ(p.end_to_end.count, 50u);    // one per batch the sink finished
  EXPECT_EQ(p.trace.size(), calls);
  EXPECT_EQ(p.trace_dropped, 0u);
}

TEST(Profiler, PeakConcurrencyCountsCallsThatOverlap) {
  // The first calls of `meet` wait (up to a minute) until two of them are inside at once.
  std::atomic<int> inside{0};
  Flow flow("overlap");
  auto src = flow.source("numbers", std::views::iota(0, 64));
  auto meet = flow.node("meet", [&inside](int x) {
    ++inside;
    const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (inside.load() < 2 && std::chrono::steady_clock::now() < until) {
    }
    return x;
  });
  auto sink = flow.node("sink", [](int) {});
  src >> meet >> sink;
  const Profile p = *flow.run({.threads = 2, .batch_size = 4, .profile = true}).profile;
  ASSERT_GE(inside.load(), 2);
  EXPECT_EQ(p.node("meet").peak_concurrency, 2u);
  EXPECT_EQ(p.node("sink").peak_concurrency, 1u);  // serial
}

TEST(Profiler, ARunAgainStartsFromAnEmptyProfile) {
  HotSpotFlow f;
  const Profile first = *f.run().profile;
  const Profile second = *f.run().profile;  // records into the first run's buffers
  for (const auto& n : first.nodes) {
    EXPECT_EQ(second.node(n.name).calls, n.calls) << n.name;
    EXPECT_EQ(second.node(n.name).call_latency.count, n.calls) << n.name;
  }
  EXPECT_EQ(second.end_to_end.count, first.end_to_end.count);
  EXPECT_EQ(second.trace.size(), first.trace.size());
  const Profile capped = *f.run({.trace_events = 5}).profile;
  EXPECT_LE(capped.trace.size(), 5u);
  EXPECT_GT(capped.trace_dropped, 0u);
  EXPECT_EQ(f.run().profile->trace_dropped, 0u);
}

TEST(Profiler, JsonLoadsBackIntoTheSameProfile) {
  HotSpotFlow f;
  const Profile p = *f.run().profile;
  const std::string json = to_json(p);
  EXPECT_EQ(profile_from_json(json), p);
  EXPECT_THROW(profile_from_json("{\"not\": \"a profile\"}"), Error);
  EXPECT_THROW(profile_from_json("{ truncated"), Error);
  // A trace event naming a node the profile does not have would make the outputs read past
  // the nodes: refused when loading.
  Profile bad = p;
  bad.trace.push_back({.node = static_cast<std::uint32_t>(p.nodes.size())});
  try {
    profile_from_json(to_json(bad));
    FAIL() << "a trace event of a missing node was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("names node " + std::to_string(p.nodes.size())),
              std::string::npos)
        << e.what();
  }
}

TEST(Profiler, ChromeTraceHasOneSlicePerCallOnWorkerTracks) {
  HotSpotFlow f;
  const Profile p = *f.run().profile;
  rapidjson::Document trace;
  trace.Parse(to_chrome_trace(p).c_str());
  ASSERT_FALSE(trace.HasParseError());
  ASSERT_TRUE(trace["traceEvents"].IsArray());
  std::size_t slices = 0, thread_names = 0, slow_slices = 0;
  for (const auto& e : trace["traceEvents"].GetArray()) {
    const std::string ph = e["ph"].GetString();
    if (ph == "X") {
      ++slices;
      EXPECT_TRUE(e["args"]["items"].IsUint());
      EXPECT_LT(e["tid"].GetUint(), p.threads);
      slow_slices += std::string(e["name"].GetString()) == "slow";
    } else if (ph == "M" && std::string(e["name"].GetString()) == "thread_name") {
      ++thread_names;
    }
  }
  EXPECT_EQ(slices, p.trace.size());
  EXPECT_EQ(slow_slices, p.node("slow").calls);
  EXPECT_EQ(thread_names, p.threads);
  EXPECT_EQ(std::string(trace["otherData"]["flow"].GetString()), "hot_spot");
}

TEST(Profiler, TheTraceIsCappedAndCountsWhatItDropped) {
  HotSpotFlow f;
  const Profile p = *f.run({.trace_events = 5}).profile;
  EXPECT_LE(p.trace.size(), 5u);
  EXPECT_GE(p.trace.size(), 2u);
  std::uint64_t calls = 0;
  for (const auto& n : p.nodes) calls += n.calls;
  EXPECT_EQ(p.trace_dropped, calls - p.trace.size());
  // Said in the table and in the trace's metadata, with how to raise the cap.
  std::ostringstream table;
  table << p;
  const std::string coverage =
      std::to_string(p.trace.size()) + " of " + std::to_string(calls) +
      " calls, sampled evenly over the whole run (RunOptions::trace_events";
  EXPECT_NE(table.str().find("trace: " + coverage), std::string::npos) << table.str();
  rapidjson::Document trace;
  trace.Parse(to_chrome_trace(p).c_str());
  ASSERT_FALSE(trace.HasParseError());
  EXPECT_EQ(trace["otherData"]["calls"].GetUint64(), calls);
  EXPECT_EQ(trace["otherData"]["traced_calls"].GetUint64(), p.trace.size());
  EXPECT_NE(std::string(trace["otherData"]["sampling"].GetString()).find(coverage),
            std::string::npos);
}

// Over the cap, the trace is a sample of the whole run, not its first calls: on one thread,
// with calls of equal cost, the last traced call starts in the second half of the run.
TEST(Profiler, AnOverfullTraceSamplesTheWholeRun) {
  Flow flow("long");
  auto src = flow.source("numbers", std::views::iota(0, 2000));
  auto work = flow.node("work", [](int x) {
    spin(20);
    return x;
  });
  auto sink = flow.node("sink", [](int) {});
  src >> work >> sink;
  const Profile p =
      *flow.run({.threads = 1, .batch_size = 1, .profile = true, .trace_events = 100}).profile;
  ASSERT_LE(p.trace.size(), 100u);
  ASSERT_GE(p.trace.size(), 50u);
  std::uint64_t last = 0;
  for (const auto& e : p.trace) last = std::max(last, e.start_ns);
  EXPECT_GT(last, p.wall_ns / 2) << "the trace covers only the start of the run";
}

// A call waiting for a shared resource's lock is not busy working: the trace draws the wait
// as a slice of its own, so the timeline does not show the node as CPU-bound.
TEST(Profiler, LockWaitsAreDrawnApartFromWorkInTheTrace) {
  struct Formatter {
    int calls = 0;
  };
  Context ctx;
  ctx.shared<Formatter>();
  Flow flow("locked");
  auto src = flow.source("numbers", std::views::iota(0, 400));
  auto format = flow.node("format",
                          [](int x, Formatter& f) {
                            ++f.calls;
                            spin(50);  // long enough for the other thread to queue on the lock
                            return x;
                          },
                          {.concurrency = unlimited});
  auto sink = flow.node("sink", [](int) {});
  src >> format >> sink;
  const RunReport report = flow.run(ctx, {.threads = 2, .batch_size = 4, .profile = true});
  const Profile& p = *report.profile;
  std::uint64_t traced_wait = 0;
  for (const auto& e : p.trace) {
    EXPECT_LE(e.wait_ns, e.duration_ns);
    traced_wait += e.wait_ns;
  }
  EXPECT_EQ(traced_wait, static_cast<std::uint64_t>(report.node("format").wait_time.count()))
      << "every call is traced, so the trace's waits are the report's";
  rapidjson::Document trace;
  trace.Parse(to_chrome_trace(p).c_str());
  ASSERT_FALSE(trace.HasParseError());
  std::size_t wait_slices = 0;
  for (const auto& e : trace["traceEvents"].GetArray())
    if (std::string(e["ph"].GetString()) == "X" && std::string(e["cat"].GetString()) == "wait") {
      ++wait_slices;
      EXPECT_NE(std::string(e["name"].GetString()).find("waiting for"), std::string::npos);
      EXPECT_EQ(std::string(e["args"]["node"].GetString()), "format");
    }
  std::size_t waiting_calls = 0;
  for (const auto& e : p.trace) waiting_calls += e.wait_ns > 0;
  EXPECT_EQ(wait_slices, waiting_calls);
}

// Prometheus gets the profiler's own histogram buckets, so a dashboard's p99 (computed the way
// histogram_quantile does) falls in the bucket whose bound the table reports.
TEST(Profiler, PrometheusBucketsGiveTheTablesPercentiles) {
  Flow flow("buckets");
  auto src = flow.source("numbers", std::views::iota(0, 20'000));
  auto step = flow.node("step", [](int x) { return x * 3; });
  auto sink = flow.node("sink", [](int) {});
  src >> step >> sink;
  // Thousands of calls per node: a percentile's rank then means the same call however it is
  // rounded (the table's and histogram_quantile's differ by one call).
  const Profile p = *flow.run({.threads = 2, .batch_size = 4, .profile = true}).profile;
  for (const auto& n : p.nodes) {
    ASSERT_GE(n.calls, 1000u);
    SCOPED_TRACE(n.name);
    ASSERT_FALSE(n.call_buckets.empty());
    EXPECT_EQ(n.call_buckets.back().second, n.calls);
    // histogram_quantile(0.99): the first bucket holding the rank, interpolated linearly.
    const double rank = 0.99 * static_cast<double>(n.calls);
    double lower = 0, quantile = 0;
    std::uint64_t below = 0;
    for (const auto& [le, cumulative] : n.call_buckets) {
      if (static_cast<double>(cumulative) >= rank) {
        quantile = lower + (le - lower) * (rank - static_cast<double>(below)) /
                               static_cast<double>(cumulative - below);
        break;
      }
      lower = le;
      below = cumulative;
    }
    // Within the histogram's resolution (12.5%); one bucket per factor of ten was up to 10x
    // off.
    const double table = static_cast<double>(n.call_latency.p99_ns) / 1e9;
    EXPECT_LE(quantile, table * 1.25);
    EXPECT_GE(quantile, table / 1.25);
  }
}

TEST(Profiler, PrometheusTextPassesPromtool) {
  HotSpotFlow f;
  const std::string path = temp_path("metrics.prom");
  Profile p = *f.run().profile;
  p.nodes[1].counters = {{"hits", 3}, {"misses", 1}};  // a callable's own counts (a cache's)
  std::ofstream(path) << to_prometheus(p);
  EXPECT_EQ(run_command(std::string(AETHERFLOW_PROMTOOL_EXECUTABLE) + " check metrics < " + path),
            0);
  std::filesystem::remove(path);
}

TEST(Profiler, HeatColouredDotRendersWithGraphviz) {
  HotSpotFlow f;
  Profile p = *f.run().profile;
  // Named here, not left to the measured figures (ThreadSanitizer changes them): which node
  // the advice names is advice_test's; this test renders the outline with Graphviz.
  p.bottleneck = "slow";
  const std::string dot = f.flow.to_dot(p);
  EXPECT_NE(dot.find("busy"), std::string::npos);
  EXPECT_NE(dot.find("penwidth=3, color=red"), std::string::npos);  // the bottleneck
  const std::string path = temp_path("flow.dot");
  std::ofstream(path) << dot;
  EXPECT_EQ(run_command(std::string(AETHERFLOW_DOT_EXECUTABLE) + " -Tsvg " + path + " -o " + path +
                        ".svg"),
            0);
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".svg");
}

TEST(Profiler, ServiceLevelClausesPassOrFailOneByOne) {
  HotSpotFlow f;
  const Profile p = *f.run().profile;
  const auto clauses = check(p, {.max_p99_latency_ns = 3'600'000'000'000ULL,  // an hour
                                 .min_items_per_second = 1e15,
                                 .max_error_rate = 0.0});
  ASSERT_EQ(clauses.size(), 3u);
  EXPECT_TRUE(clauses[0].pass) << clauses[0].text;
  EXPECT_FALSE(clauses[1].pass) << clauses[1].text;
  EXPECT_TRUE(clauses[2].pass) << clauses[2].text;
  EXPECT_NE(clauses[1].text.find("FAIL"), std::string::npos);
}

TEST(Profiler, OffByDefaultAndOnByEnvironmentVariable) {
  HotSpotFlow f;
  EXPECT_FALSE(f.flow.run({.threads = 2}).profile);
  const std::string dir = temp_path("dir");
  ::setenv("AETHERFLOW_PROFILE", dir.c_str(), 1);
  const RunReport report = f.flow.run({.threads = 2});
  ::unsetenv("AETHERFLOW_PROFILE");
  EXPECT_TRUE(report.profile);
  for (const char* suffix : {".profile.json", ".trace.json", ".prom", ".dot"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/hot_spot" + suffix)) << suffix;
  std::filesystem::remove_all(dir);
}

TEST(Profiler, AFailedRunStillCarriesItsProfile) {
  Flow flow("fails");
  auto src = flow.source("numbers", std::views::iota(0, 100));
  auto boom = flow.node("boom", [](int x) {
    if (x == 50) throw std::runtime_error("boom");
  });
  src >> boom;
  try {
    flow.run({.batch_size = 10, .profile = true});
    FAIL();
  } catch (const NodeError& e) {
    ASSERT_TRUE(e.report().profile);
    EXPECT_EQ(e.report().profile->node("boom").errors, 1u);
  }
}

}  // namespace
}  // namespace aetherflow
