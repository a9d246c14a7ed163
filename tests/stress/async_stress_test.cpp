// Async nodes under stress (label `stress`): rounds of many operations through an async node
// whose replies come back in random order, some failing (retried, then skipped), some never
// coming (timed out), on changing threads, batch sizes and max_in_flight, with cancellations at
// random moments. Every round must end (a deadline bounds it) with every item accounted for;
// a round that was not cancelled delivers exactly the items a single-threaded computation of
// the same faults predicts, in order. Replies still pending when a round ends come after
// run() returned: the sanitizer builds run this too.
//
// AETHERFLOW_STRESS_ITEMS (the reliability test's items per round) / 200 overrides the items
// per round, 50,000 by default.
#include <flow/aetherflow.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <ranges>
#include <stop_token>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <flow/testing/delayed_service.hpp>

#include "../support/balance.hpp"

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

std::uint64_t items_per_round() {
  const char* env = std::getenv("AETHERFLOW_STRESS_ITEMS");
  return env ? std::strtoull(env, nullptr, 10) / 200 : 50'000;
}

TEST(AsyncStress, RoundsOfOperationsWithFaultsTimeoutsAndCancelsStayExactlyAccounted) {
  const std::uint64_t items = items_per_round();
  for (std::uint64_t round = 0; round < 8; ++round) {
    std::mt19937_64 random(round);
    const std::size_t threads = 1 + round % 3;
    const std::size_t batch = std::vector<std::size_t>{0, 1, 7, 64, 500}[round % 5];
    const std::size_t limit = std::vector<std::size_t>{1, 16, 200, 1000}[round % 4];
    const bool cancel = round % 2 == 1;
    // x fails with `x % 97 == 5` on every attempt (skipped after its retry), and `x % 211 == 7`
    // never replies (timed out, then skipped); the rest reply after 0 to 300 us.
    auto fails = [](std::uint64_t x) { return x % 97 == 5; };
    auto silent = [](std::uint64_t x) { return x % 211 == 7; };
    testing::DelayedService service(0us, 3);
    std::vector<std::uint64_t> got;
    std::stop_source stop;
    std::jthread canceller;
    if (cancel)
      canceller = std::jthread([&, wait = std::chrono::microseconds(random() % 20'000)] {
        std::this_thread::sleep_for(wait);
        stop.request_stop();
      });
    Flow flow("async_stress");
    flow.source("numbers", std::views::iota(std::uint64_t{0}, items)) >>
        flow.node("call", async([&](std::uint64_t x, Completion<std::uint64_t> done) {
                    if (silent(x)) {
                      service.call_after(10s, [done] {});  // kept far past the timeout
                      return;
                    }
                    service.call_after(
                        std::chrono::microseconds(HashRing::mix(x) % 300), [x, done, &fails] {
                          if (fails(x))
                            done.set_error(std::make_exception_ptr(std::runtime_error("refused")));
                          else
                            done.set_value(x);
                        });
                  }),
                  {.on_error = OnError::skip,
                   .retry = Retry{.retries = 1, .delay = 1ms},
                   .max_in_flight = limit,
                   .operation_timeout = 20ms}) >>
        flow.node("keep", [&](std::uint64_t x) { got.push_back(x); }, {.ordered = true});
    const RunReport r = flow.run(
        {.threads = threads, .batch_size = batch, .stop = stop.get_token(), .deadline = 120s});
    canceller = {};
    SCOPED_TRACE(::testing::Message() << "round " << round << ": threads " << threads << ", batch "
                                      << batch << ", max_in_flight " << limit);
    ASSERT_NE(r.stop_reason.find("deadline"), 0u) << "the round hung";
    testing::expect_balanced(r);
    testing::expect_chain_delivers(r);
    const NodeReport& call = r.node("call");
    ASSERT_TRUE(call.operations);
    EXPECT_LE(call.operations->peak_in_flight, limit);
    EXPECT_EQ(call.operations->started,
              call.operations->completed + call.operations->timed_out + call.operations->abandoned);
    if (r.cancelled) continue;
    std::vector<std::uint64_t> expected;
    for (std::uint64_t x = 0; x < items; ++x)
      if (!fails(x) && !silent(x)) expected.push_back(x);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(call.skipped, items - expected.size());
  }
}

}  // namespace
}  // namespace aetherflow
