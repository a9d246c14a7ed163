// Async nodes (flow/async.hpp): operations complete later, from other threads, through a
// Completion. Against a simulated service (testing::DelayedService): order kept by an ordered
// sink, the max_in_flight limit, every error policy on failed operations, a body that throws,
// a completion dropped or never given (timeout), a cancel and a deadline with operations in
// flight, async sinks, the declaration checks and the profile. Completions that come after
// run() returned must touch nothing of the node or the run: these tests run under ASan and
// TSan too. The HTTP round trip is in tests/nodes/async_http_test.cpp.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <flow/profile.hpp>
#include <flow/testing/delayed_service.hpp>
#include <flow/testing/node_runner.hpp>
#include <tests/support/balance.hpp>
#include <tests/support/temp_file.hpp>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;
using testing::DelayedService;

// Completions kept by a test instead of given to a service: they come when the test says.
class Held {
 public:
  void keep(Completion<int> done) {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(done));
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  bool all_stop_requested() {
    std::lock_guard lock(mutex_);
    return std::all_of(held_.begin(), held_.end(), [](auto& d) { return d.stop_requested(); });
  }
  // Completes every one kept with `value`: after the run, a late completion.
  void complete_all(int value) {
    std::lock_guard lock(mutex_);
    for (auto& done : held_) done.set_value(value);
    held_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<Completion<int>> held_;
};

TEST(Async, ResultsReachAnOrderedSinkInSourceOrder) {
  DelayedService service(0ms);
  std::vector<int> got;
  Flow flow("async_order");
  flow.source("numbers", std::views::iota(0, 5000)) >>
      flow.node("twice", async([&](int x, Completion<int> done) {
                  // Replies arrive out of order: later items often come back first.
                  service.call_after(
                      std::chrono::microseconds((x * 37) % 500),
                      [x, done = std::move(done)]() mutable { done.set_value(2 * x); });
                }),
                {.max_in_flight = 100}) >>
      flow.node("keep", [&](int x) { got.push_back(x); }, {.ordered = true});
  const RunReport r = flow.run({.threads = 2});
  std::vector<int> expected(5000);
  for (int i = 0; i < 5000; ++i) expected[static_cast<std::size_t>(i)] = 2 * i;
  EXPECT_EQ(got, expected);
  const NodeReport& twice = r.node("twice");
  EXPECT_EQ(twice.kind, "async");
  ASSERT_TRUE(twice.operations);
  EXPECT_EQ(twice.operations->started, 5000u);
  EXPECT_EQ(twice.operations->completed, 5000u);
  EXPECT_EQ(twice.operations->max_in_flight, 100u);
  EXPECT_LE(twice.operations->peak_in_flight, 100u);
  EXPECT_GT(twice.operations->peak_in_flight, 1u) << "operations ran at once";
  testing::expect_balanced(r);
  testing::expect_chain_delivers(r);
}

TEST(Async, NeverMoreOperationsInFlightThanTheLimit) {
  DelayedService service(200us, 4);
  std::atomic<int> in_flight{0}, most{0};
  Flow flow("async_limit");
  flow.source("numbers", std::views::iota(0, 3000)) >>
      flow.node("call", async([&](int x, Completion<int> done) {
                  const int now = ++in_flight;
                  int seen = most.load();
                  while (now > seen && !most.compare_exchange_weak(seen, now)) {
                  }
                  service.call([&in_flight, x, done = std::move(done)]() mutable {
                    --in_flight;  // before the completion: it frees the slot
                    done.set_value(x);
                  });
                }),
                {.max_in_flight = 20}) >>
      flow.node("sink", [](int) {});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64});
  EXPECT_LE(most.load(), 20);
  EXPECT_GT(most.load(), 1);
  EXPECT_EQ(r.node("sink").in, 3000u);
  EXPECT_LE(r.node("call").operations->peak_in_flight, 20u);
}

// Items whose operation fails: x % 10 == 3.
auto failing_call(DelayedService& service) {
  return async([&service](int x, Completion<int> done) {
    service.call([x, done = std::move(done)]() mutable {
      if (x % 10 == 3)
        done.set_error(
            std::make_exception_ptr(std::runtime_error("service refused " + std::to_string(x))));
      else
        done.set_value(x);
    });
  });
}

TEST(Async, SkipDropsFailedItemsAndCountsThem) {
  DelayedService service(100us);
  std::vector<int> got;
  Flow flow("async_skip");
  flow.source("numbers", std::views::iota(0, 1000)) >>
      flow.node("call", failing_call(service), {.on_error = OnError::skip}) >>
      flow.node("keep", [&](int x) { got.push_back(x); }, {.ordered = true});
  const RunReport r = flow.run({.threads = 2});
  const NodeReport& call = r.node("call");
  EXPECT_EQ(call.failed, 100u);
  EXPECT_EQ(call.skipped, 100u);
  EXPECT_EQ(call.out, 900u);
  EXPECT_EQ(got.size(), 900u);
  EXPECT_TRUE(std::none_of(got.begin(), got.end(), [](int x) { return x % 10 == 3; }));
  testing::expect_balanced(r);
}

TEST(Async, DeadLettersCarryTheItemAndTheOperationsError) {
  DelayedService service(100us);
  std::vector<DeadLetter<int>> letters;
  Flow flow("async_dead_letters");
  auto call = flow.node("call", failing_call(service), {.on_error = OnError::dead_letter});
  flow.source("numbers", std::views::iota(0, 200)) >> call >> flow.node("keep", [](int) {});
  call.dead_letters() >> flow.node("failed", [&](DeadLetter<int> d) { letters.push_back(d); });
  const RunReport r = flow.run({.threads = 2});
  ASSERT_EQ(letters.size(), 20u);
  std::sort(letters.begin(), letters.end(), [](auto& a, auto& b) { return a.item < b.item; });
  EXPECT_EQ(letters[0].item, 3);
  EXPECT_EQ(letters[0].node, "call");
  EXPECT_NE(letters[0].error.find("service refused 3"), std::string::npos) << letters[0].error;
  EXPECT_EQ(letters[0].attempts, 1u);
  EXPECT_EQ(r.node("call").dead_lettered, 20u);
  testing::expect_balanced(r);
}

TEST(Async, RetriesStartTheOperationAgain) {
  DelayedService service(100us);
  std::mutex mutex;
  std::map<int, int> attempts;
  std::vector<int> got;
  Flow flow("async_retry");
  flow.source("numbers", std::views::iota(0, 500)) >>
      flow.node("call", async([&](int x, Completion<int> done) {
                  int attempt = 0;
                  {
                    std::lock_guard lock(mutex);
                    attempt = ++attempts[x];
                  }
                  service.call([x, attempt, done = std::move(done)]() mutable {
                    if (x % 5 == 0 && attempt < 3)  // fails twice, then succeeds
                      done.set_error(std::make_exception_ptr(std::runtime_error("busy")));
                    else
                      done.set_value(x);
                  });
                }),
                {.retry = Retry{.retries = 3, .delay = 1ms}}) >>
      flow.node("keep", [&](int x) { got.push_back(x); }, {.ordered = true});
  const RunReport r = flow.run({.threads = 2});
  EXPECT_EQ(got.size(), 500u);
  EXPECT_EQ(r.node("call").retries, 200u);  // 100 items, two retries each
  EXPECT_EQ(r.node("call").failed, 0u);
  EXPECT_EQ(r.node("call").operations->started, 700u);
  EXPECT_EQ(attempts[5], 3);
  EXPECT_EQ(attempts[6], 1);
}

TEST(Async, ABodyThatThrowsFailsItsItemWithItsOwnException) {
  std::vector<DeadLetter<int>> letters;
  Flow flow("async_throws");
  auto call = flow.node("call", async([](int x, Completion<int> done) {
                          if (x == 7) throw std::invalid_argument("no seven");
                          done.set_value(x);
                        }),
                        {.on_error = OnError::dead_letter});
  flow.source("numbers", std::views::iota(0, 20)) >> call >> flow.node("keep", [](int) {});
  call.dead_letters() >> flow.node("failed", [&](DeadLetter<int> d) { letters.push_back(d); });
  const RunReport r = flow.run({.threads = 2});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].item, 7);
  EXPECT_NE(letters[0].error.find("no seven"), std::string::npos) << letters[0].error;
  EXPECT_EQ(r.node("call").operations->late, 0u) << "the dropped Completion stayed silent";
}

TEST(Async, ACompletionDestroyedWithoutAResultFailsItsItem) {
  Flow flow("async_dropped");
  flow.source("numbers", std::views::iota(0, 10)) >>
      flow.node("call", async([](int x, Completion<int> done) {
                  if (x != 4) done.set_value(x);  // item 4's completion is dropped
                })) >>
      flow.node("keep", [](int) {});
  try {
    flow.run({.threads = 2, .batch_size = 10});
    FAIL() << "item 4 should fail the run";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "call");
    EXPECT_EQ(e.item(), 4u);
    try {
      std::rethrow_if_nested(e);
      FAIL() << "the cause should be nested";
    } catch (const OperationAbandoned& cause) {
      EXPECT_NE(std::string(cause.what()).find("node 'call'"), std::string::npos) << cause.what();
    }
  }
}

// The same when the last copy goes while an exception unrelated to the item is unwinding
// (a client library cleaning up after its own error): the item fails, it does not hang.
TEST(Async, ACompletionDestroyedByAnUnrelatedExceptionFailsItsItem) {
  std::vector<DeadLetter<int>> letters;
  Flow flow("async_dropped_while_unwinding");
  auto call = flow.node("call", async([](int x, Completion<int> done) {
                          if (x != 4) return done.set_value(x);
                          try {
                            const Completion<int> last = std::move(done);
                            throw std::runtime_error("the client's own error");
                          } catch (const std::runtime_error&) {  // handled by the client
                          }
                        }),
                        {.on_error = OnError::dead_letter});
  flow.source("numbers", std::views::iota(0, 10)) >> call >> flow.node("keep", [](int) {});
  call.dead_letters() >> flow.node("failed", [&](DeadLetter<int> d) { letters.push_back(d); });
  const RunReport r = flow.run({.threads = 2, .deadline = 20s});
  EXPECT_FALSE(r.cancelled) << r.stop_reason;
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].item, 4);
  EXPECT_NE(letters[0].error.find("OperationAbandoned"), std::string::npos) << letters[0].error;
}

TEST(Async, AnOperationPastItsTimeoutFailsAndItsLateCompletionIsIgnored) {
  Held held;
  std::vector<DeadLetter<int>> letters;
  std::vector<int> got;
  Flow flow("async_timeout");
  auto call = flow.node("call", async([&](int x, Completion<int> done) {
                          if (x == 3)
                            held.keep(std::move(done));  // never completes in time
                          else
                            done.set_value(x);
                        }),
                        {.on_error = OnError::dead_letter, .operation_timeout = 20ms});
  flow.source("numbers", std::views::iota(0, 10)) >> call >>
      flow.node("keep", [&](int x) { got.push_back(x); }, {.ordered = true});
  call.dead_letters() >> flow.node("failed", [&](DeadLetter<int> d) { letters.push_back(d); });
  const RunReport r = flow.run({.threads = 2});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].item, 3);
  EXPECT_NE(letters[0].error.find("OperationTimedOut"), std::string::npos) << letters[0].error;
  EXPECT_NE(letters[0].error.find("did not complete within its timeout of 20.00 ms"),
            std::string::npos)
      << letters[0].error;
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(r.node("call").operations->timed_out, 1u);
  ASSERT_EQ(held.size(), 1u);
  held.complete_all(3);  // after run(): ignored, and touches nothing of the run
}

TEST(Async, ACancelStopsWaitingAndCountsOperationsInFlightAsCancelled) {
  Held held;
  std::stop_source stop;
  Flow flow("async_cancel");
  flow.source("numbers", std::views::iota(0, 10'000)) >>
      flow.node("call", async([&](int, Completion<int> done) {
                  held.keep(std::move(done));  // nothing completes
                  if (held.size() == 50) stop.request_stop();
                }),
                {.max_in_flight = 50}) >>
      flow.node("keep", [](int) {});
  const RunReport r = flow.run({.threads = 2, .batch_size = 64, .stop = stop.get_token()});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.stop_reason, "stop requested");
  const NodeReport& call = r.node("call");
  EXPECT_EQ(call.out, 0u);
  EXPECT_EQ(call.failed, 0u);
  EXPECT_EQ(call.cancelled, call.in) << "operations in flight and those never started";
  // The 50th start stops the run; another call may take a slot the first one frees as it ends
  // before it sees the stop, but never more than 50 at once.
  EXPECT_GE(call.operations->started, 50u);
  EXPECT_EQ(call.operations->abandoned, call.operations->started);
  EXPECT_LE(call.operations->peak_in_flight, 50u);
  testing::expect_balanced(r);
  held.complete_all(0);  // after run(): late, ignored
}

TEST(Async, ADeadlineEndsARunWaitingOnCompletionsThatNeverCome) {
  Held held;
  Flow flow("async_deadline");
  flow.source("numbers", std::views::iota(0, 100)) >>
      flow.node("call", async([&](int, Completion<int> done) { held.keep(std::move(done)); })) >>
      flow.node("keep", [](int) {});
  const RunReport r = flow.run({.threads = 2, .deadline = 50ms});
  EXPECT_TRUE(r.cancelled);
  EXPECT_NE(r.stop_reason.find("deadline"), std::string::npos) << r.stop_reason;
  EXPECT_EQ(r.node("call").cancelled, r.node("call").in);
  held.complete_all(0);
}

TEST(Async, AnAsyncSinkCompletesWithoutAValue) {
  DelayedService service(100us);
  std::atomic<int> written{0};
  Flow flow("async_sink");
  flow.source("numbers", std::views::iota(0, 300)) >>
      flow.node("write", async([&](int, Completion<void> done) {
                  service.call([&written, done = std::move(done)]() mutable {
                    ++written;
                    done.set_value();
                  });
                }),
                {.max_in_flight = 32});
  const RunReport r = flow.run({.threads = 2});
  EXPECT_EQ(written.load(), 300);
  EXPECT_EQ(r.node("write").out, 300u);
  EXPECT_GT(r.node("write").operations->peak_in_flight, 1u) << "not serial, as sinks are";
}

TEST(Async, StopRequestedSaysWhenTheResultIsNoLongerWanted) {
  Held held;
  bool wanted_at_start = false;
  Flow flow("async_stop_requested");
  flow.source("numbers", std::views::iota(0, 1)) >>
      flow.node("call", async([&](int, Completion<int> done) {
                  wanted_at_start = !done.stop_requested();
                  held.keep(std::move(done));
                }),
                {.on_error = OnError::skip, .operation_timeout = 10ms}) >>
      flow.node("keep", [](int) {});
  const RunReport r = flow.run({.threads = 2});
  EXPECT_TRUE(wanted_at_start);
  EXPECT_EQ(r.node("call").skipped, 1u);
  EXPECT_TRUE(held.all_stop_requested()) << "it timed out";
  held.complete_all(1);
}

// Each call emits its source batch's results as one batch, so checkpoints stay exact as
// after any one-to-one node (docs/errors.md): drained with operations in flight, a run and
// its resume process every item exactly once; cancelled, they skip none (at least once).
std::vector<int> stopped_then_resumed(bool drain) {
  testing::TempFile checkpoint;
  DelayedService service(200us, 4);
  std::vector<int> got;
  auto run = [&](bool stop_early) {
    std::stop_source stop;
    Flow flow("async_checkpoint");
    flow.source("numbers", std::views::iota(0, 20'000)) >>
        flow.node("call", async([&](int x, Completion<int> done) {
                    service.call([x, done] { done.set_value(x); });
                  }),
                  {.max_in_flight = 64}) >>
        flow.node("keep",
                  [&](int x) {
                    got.push_back(x);
                    if (stop_early && got.size() == 5'000) stop.request_stop();
                  },
                  {.ordered = true});
    RunOptions options{.threads = 2, .batch_size = 64};
    (drain ? options.drain : options.stop) = stop.get_token();
    options.checkpoint = {.path = checkpoint.path(), .interval = std::chrono::hours(1)};
    return flow.run(options);
  };
  const RunReport first = run(true);
  EXPECT_EQ(first.cancelled, !drain);
  EXPECT_LT(first.node("numbers").out, 20'000u) << "the first run stopped early";
  const RunReport second = run(false);
  EXPECT_TRUE(second.resumed_from);
  EXPECT_FALSE(second.cancelled);
  std::sort(got.begin(), got.end());
  return got;
}

TEST(Async, ADrainedRunAndItsResumeProcessEveryItemExactlyOnce) {
  std::vector<int> all(20'000);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(stopped_then_resumed(true), all);
}

TEST(Async, ACancelledRunAndItsResumeSkipNoItem) {
  std::vector<int> got = stopped_then_resumed(false);
  got.erase(std::unique(got.begin(), got.end()), got.end());
  std::vector<int> all(20'000);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(got, all);
}

TEST(Async, RunsAloneInTheNodeRunner) {
  DelayedService service(1ms);
  auto lookup = async([&](int id, Completion<std::string> done) {
    service.call([id, done] { done.set_value("row " + std::to_string(id)); });
  });
  const auto r = testing::run_node("lookup", lookup, std::vector<int>{1, 2, 3});
  EXPECT_EQ(r.outputs, (std::vector<std::string>{"row 1", "row 2", "row 3"}));
  EXPECT_EQ(r.report.operations->completed, 3u);
}

TEST(Async, OperationOptionsOnOtherNodesAreDeclarationErrors) {
  Flow flow("async_options");
  flow.source("numbers", std::views::iota(0, 10)) >>
      flow.node("plain", [](int x) { return x; }, {.max_in_flight = 8}) >>
      flow.node("call", async([](int x, Completion<int> done) { done.set_value(x); }),
                {.max_in_flight = 0}) >>
      flow.node("keep", [](int) {});
  try {
    flow.validate();
    FAIL() << "expected a FlowError";
  } catch (const FlowError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'plain' has max_in_flight or operation_timeout but is not an async node"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("'call' has max_in_flight = 0"), std::string::npos) << what;
  }
}

TEST(Async, TheProfileShowsOperationsAndLeavesTheirWaitOutOfBusyTime) {
  DelayedService service(2ms);
  Flow flow("async_profile");
  flow.source("numbers", std::views::iota(0, 2000)) >>
      flow.node("call", async([&](int x, Completion<int> done) {
                  service.call([x, done = std::move(done)]() mutable { done.set_value(x); });
                }),
                {.max_in_flight = 100}) >>
      flow.node("keep", [](int) {});
  const RunReport r = flow.run({.threads = 2, .profile = true});
  ASSERT_TRUE(r.profile);
  const NodeProfile& call = r.profile->node("call");
  ASSERT_TRUE(call.operations);
  EXPECT_EQ(call.operations->completed, 2000u);
  EXPECT_EQ(call.operation_latency.count, 2000u);
  EXPECT_GE(call.operation_latency.p50_ns, 2'000'000u * 7 / 8) << "each takes the 2 ms delay";
  ASSERT_FALSE(call.in_flight.empty());
  EXPECT_TRUE(std::any_of(call.in_flight.begin(), call.in_flight.end(),
                          [](const InFlightSample& s) { return s.in_flight > 1; }));
  EXPECT_TRUE(std::all_of(call.in_flight.begin(), call.in_flight.end(),
                          [](const InFlightSample& s) { return s.in_flight <= 100; }));
  // Each call awaited at least one 2 ms operation; its work is starting them.
  const auto awaited = static_cast<std::uint64_t>(r.node("call").awaited.count());
  EXPECT_GE(awaited, call.calls * 2'000'000u * 7 / 8);
  EXPECT_LT(call.busy_ns, awaited);
  EXPECT_EQ(profile_from_json(to_json(*r.profile)), *r.profile);
  EXPECT_NE(to_chrome_trace(*r.profile).find("\"name\":\"call operations\",\"ph\":\"C\""),
            std::string::npos);
  const std::string metrics = to_prometheus(*r.profile);
  EXPECT_NE(metrics.find("aetherflow_node_operations_in_flight_peak{"), std::string::npos);
  EXPECT_NE(metrics.find("aetherflow_node_operation_duration_seconds_count{flow=\"async_profile\","
                         "node=\"call\"} 2000"),
            std::string::npos)
      << metrics;
  ASSERT_FALSE(call.operation_buckets.empty());
  EXPECT_EQ(call.operation_buckets.back().second, 2000u) << "cumulative: the last bucket has all";
  std::ostringstream table;
  table << *r.profile;
  EXPECT_NE(table.str().find("operations of 'call': 2000 started, 2000 completed"),
            std::string::npos)
      << table.str();
}

}  // namespace
}  // namespace aetherflow
