// The first exception of a node stops the run and comes back naming the node and the item;
// the same flow then runs again, correctly.
#include <flow/aetherflow.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "../support/platform.hpp"

namespace aetherflow {
namespace {

struct NotAStdException {
  int code;
};

TEST(Errors, ExceptionMidStreamStopsTheRunAndNamesTheNode) {
  Flow flow("fails");
  std::atomic<bool> fail{true};
  std::atomic<long> sum{0};
  // An input without end in practice: a run over it can only end because the failure stopped
  // it. (This test used to bound the sum of what ran before the stop, which a worker
  // descheduled on a loaded machine could exceed: the other worker streams on meanwhile.)
  auto src = flow.source("numbers", std::views::iota(0, std::numeric_limits<int>::max()));
  auto parse = flow.node("parse", [&fail](int x) {
    if (fail && x == 5000) throw std::invalid_argument("bad digit in 5000");
    return x;
  });
  auto total = flow.node("sum", [&sum](int x) { sum += x; });
  src >> parse >> total;

  try {
    flow.run({.threads = 2, .batch_size = 100});
    FAIL() << "the run should have failed";
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "parse");
    EXPECT_EQ(e.item(), 5000u);
    const std::string what = e.what();
    EXPECT_NE(what.find("node 'parse' failed on item 5000"), std::string::npos) << what;
    EXPECT_NE(what.find("std::invalid_argument: bad digit in 5000"), std::string::npos) << what;
    EXPECT_THROW(std::rethrow_if_nested(e), std::invalid_argument);
  }

  fail = false;
  sum = 0;
  const RunReport report = flow.run({.threads = 2, .batch_size = 100, .max_items = 100000});
  EXPECT_EQ(sum, 99999L * 100000 / 2);
  EXPECT_EQ(report.node("sum").in, 100000u);
  EXPECT_EQ(report.node("parse").failed, 0u);
}

// Mid-batch, on one thread: the items before the failed one are done and passed on, the
// failed one is counted failed, the rest cancelled (the tight loop of an in-place transform
// and the general one must agree).
TEST(Errors, AFailureMidBatchPassesTheItemsBeforeItAndCancelsTheRest) {
  for (const bool general : {false, true}) {
    Flow flow("mid_batch");
    long sum = 0;
    auto src = flow.source("numbers", std::views::iota(0, 10'000));
    auto fail_at_537 = [](int x) {
      if (x == 537) throw std::runtime_error("537");
      return x;
    };
    // A const-reference parameter copies nothing either way; a shared batch (fan-out) is what
    // takes the general loop.
    auto parse = flow.node("parse", fail_at_537);
    auto sink = flow.node("sum", [&sum](int x) { sum += x; });
    src >> parse >> sink;
    if (general) parse >> flow.node("other", [](int) {});
    try {
      flow.run({.threads = 1, .batch_size = 100});
      FAIL() << "the run should have failed";
    } catch (const NodeError& e) {
      EXPECT_EQ(e.item(), 537u);
      const NodeReport& p = e.report().node("parse");
      EXPECT_EQ(p.failed, 1u);
      EXPECT_EQ(p.out, 537u) << "general loop: " << general;  // 0..536, one thread in order
      EXPECT_EQ(p.in, p.out + p.failed + p.cancelled);
      // The sink gets them all; those arriving after the stop it counts as cancelled.
      const NodeReport& s = e.report().node("sum");
      EXPECT_EQ(s.in, 537u);
      EXPECT_EQ(s.out + s.cancelled, 537u);
      const auto done = static_cast<long>(s.out);
      EXPECT_EQ(sum, done * (done - 1) / 2);
    }
  }
}

TEST(Errors, ExceptionsOfAnyTypeAreReported) {
  Flow flow("odd_exception");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto sink = flow.node("sink", [](int x) {
    if (x == 3) throw NotAStdException{42};
  });
  src >> sink;
  try {
    flow.run();
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_NE(std::string(e.what()).find("NotAStdException"), std::string::npos) << e.what();
    try {
      std::rethrow_if_nested(e);
    } catch (const NotAStdException& inner) {
      EXPECT_EQ(inner.code, 42);
    }
  }
}

TEST(Errors, AFailedRunStillAccountsForItsItems) {
  Flow flow("counted");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto twice = flow.node("twice", [](int x) { return 2 * x; });
  auto sink = flow.node("sink", [](int x) {
    if (x == 6) throw std::runtime_error("three");
  });
  src >> twice >> sink;
  try {
    flow.run({.batch_size = 100});
    FAIL();
  } catch (const NodeError& e) {
    const NodeReport& sink_report = e.report().node("sink");
    EXPECT_EQ(sink_report.in, 10u);  // one batch received
    EXPECT_EQ(sink_report.out, 3u);  // items 0..2 consumed, the fourth failed
    EXPECT_EQ(sink_report.failed, 1u);
    EXPECT_EQ(sink_report.cancelled, 6u);  // left unprocessed as the run stopped
    EXPECT_EQ(e.report().node("twice").out, 10u);
    EXPECT_EQ(e.report().stop_reason, "node 'sink' failed");
    EXPECT_FALSE(e.report().cancelled);
  }
}

TEST(Errors, ASourceThatThrowsStopsTheRun) {
  Flow flow("bad_source");
  auto src = flow.source("gen", [i = 0]() mutable -> std::optional<int> {
    if (i == 700) throw std::runtime_error("disk gone");
    return i++;
  });
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  try {
    flow.run({.batch_size = 100});
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "gen");
    EXPECT_EQ(e.item(), 700u);  // the first item the source could not produce
    EXPECT_NE(std::string(e.what()).find("disk gone"), std::string::npos);
    // The 700 items emitted before the failure all reached the sink: the run drained.
    EXPECT_EQ(e.report().node("gen").out, 700u);
    EXPECT_EQ(e.report().node("sink").in, 700u);
  }
}

// A generator throwing off a batch boundary: the items it made before the throw are delivered
// and counted, and the error names the first item it could not make, whatever the batch size.
// With batches of 64 the sink holds its first item until the generator has thrown, so every
// item it made is still in flight when the source fails: none may be cancelled.
TEST(Errors, ASourceThrowingMidBatchDeliversWhatItMadeAndNamesTheNextItem) {
  for (const int fail_at : {500, 448, 1, 0}) {
    for (const std::size_t batch : {std::size_t{64}, std::size_t{0}}) {  // 0: chosen by the run
      SCOPED_TRACE("throws at item " + std::to_string(fail_at) + ", batch " +
                   std::to_string(batch));
      Flow flow("bad_generator");
      std::atomic<long> sum = 0;
      std::atomic<bool> thrown = false;
      auto src = flow.source("gen", [i = 0, fail_at, &thrown]() mutable -> std::optional<int> {
        if (i == fail_at) {
          thrown = true;
          throw std::runtime_error("device lost");
        }
        return i++;
      });
      const bool hold_first = batch == 64;
      auto sink = flow.node("sink", [&, first = true](int x) mutable {
        // A bound, not a timing: it only keeps a broken source from hanging the test.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (hold_first && first && !thrown && std::chrono::steady_clock::now() < give_up)
          std::this_thread::yield();
        first = false;
        sum += x;
      });
      src >> sink;
      try {
        // Room for all the batches: 500 items in batches of 64 are 8 of them.
        flow.run({.threads = 2, .batch_size = batch, .max_batches_in_flight = 16});
        FAIL();
      } catch (const NodeError& e) {
        EXPECT_EQ(e.node(), "gen");
        EXPECT_EQ(e.item(), static_cast<std::uint64_t>(fail_at));
        EXPECT_NE(std::string(e.what()).find("failed on item " + std::to_string(fail_at)),
                  std::string::npos)
            << e.what();
        EXPECT_EQ(e.report().node("gen").out, static_cast<std::uint64_t>(fail_at));
        EXPECT_EQ(e.report().node("sink").in, static_cast<std::uint64_t>(fail_at));
        EXPECT_EQ(e.report().node("sink").cancelled, 0u);
        EXPECT_EQ(e.report().stop_reason, "node 'gen' failed");
        EXPECT_EQ(sum.load(), static_cast<long>(fail_at) * (fail_at - 1) / 2);
      }
    }
  }
}

// The same for a reader (flow/source.hpp) whose fill() throws after pushing items.
struct FailingCountdown {
  using item_type = int;
  int items, fail_at;
  struct Reader {
    int next, end, fail_at;
    bool fill(SourceBatch<int>& batch) {
      while (!batch.full() && next < end) {
        if (next == fail_at) throw std::runtime_error("read error");
        batch.push(next++);
      }
      return next < end;
    }
  };
  Reader open() const { return Reader{0, items, fail_at}; }
};

TEST(Errors, AReaderThrowingMidBatchDeliversWhatItRead) {
  Flow flow("bad_reader");
  std::atomic<int> received = 0;
  auto src = flow.source("reader", FailingCountdown{1000, 250});
  auto sink = flow.node("sink", [&received](int) { ++received; });
  src >> sink;
  try {
    flow.run({.threads = 2, .batch_size = 100});
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.node(), "reader");
    EXPECT_EQ(e.item(), 250u);
    EXPECT_EQ(received.load(), 250);
    EXPECT_EQ(e.report().node("reader").out, 250u);
  }
}

TEST(Errors, BadRunOptionsAreRejected) {
  Flow flow("options");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  EXPECT_THROW(flow.run({.batch_size = (std::size_t{1} << 24) + 1}), Error);
  EXPECT_THROW(flow.run({.auto_batch_size = {.min = 0}}), Error);
  EXPECT_THROW(flow.run({.auto_batch_size = {.min = 64, .max = 32}}), Error);
  try {
    flow.run({.auto_batch_size = {.call_target = std::chrono::microseconds(0)}});
    FAIL() << "a zero call_target should be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("flow 'options'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("call_target"), std::string::npos) << e.what();
  }
  // A fixed size ignores auto_batch_size, valid or not.
  EXPECT_EQ(flow.run({.batch_size = 4, .auto_batch_size = {.min = 0}}).batch_size, 4u);
}

// Asking for more threads than oneTBB runs at once: the report says what ran, and one line
// says the request was capped.
TEST(Errors, ThreadsBeyondTheMachineAreReportedAsCapped) {
  Flow flow("capped");
  auto src = flow.source("numbers", std::views::iota(0, 1000));
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  const std::size_t most = testing::max_threads();
  const RunReport report = flow.run({.threads = most + 2});
  EXPECT_EQ(report.threads, most);
  EXPECT_EQ(report.threads_requested, most + 2);
  std::ostringstream text;
  text << report;
  EXPECT_NE(text.str().find(std::to_string(most + 2) +
                            " threads were requested; oneTBB runs at "
                            "most " +
                            std::to_string(most) + " at once"),
            std::string::npos)
      << text.str();

  const RunReport fits = flow.run({.threads = 1});
  EXPECT_EQ(fits.threads, 1u);
  std::ostringstream quiet;
  quiet << fits;
  EXPECT_EQ(quiet.str().find("were requested"), std::string::npos) << quiet.str();
}

TEST(Errors, ThreadCountComesFromTheEnvironmentWhenNotGiven) {
  Flow flow("env");
  auto src = flow.source("numbers", std::views::iota(0, 10));
  auto sink = flow.node("sink", [](int) {});
  src >> sink;
  ::setenv("AETHERFLOW_THREADS", "3", 1);
  EXPECT_EQ(flow.run().threads_requested, 3u);
  EXPECT_EQ(flow.run({.threads = 1}).threads_requested, 1u);  // an explicit option wins
  ::setenv("AETHERFLOW_THREADS", "many", 1);
  EXPECT_THROW(flow.run(), Error);
  ::unsetenv("AETHERFLOW_THREADS");
}

}  // namespace
}  // namespace aetherflow
