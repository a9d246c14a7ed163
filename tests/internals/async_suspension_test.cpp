// An async node's call waiting for its operations suspends, leaving its worker to other calls
// (flow/detail/async_node.hpp, flow/detail/wakeup.hpp). Here, not in tests/api, as it asks
// whether the build suspends at all (suspend.hpp).

#include <mutex>
#include <ranges>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <flow/detail/suspend.hpp>

namespace aetherflow {
namespace {

using namespace std::chrono_literals;

// A call waiting for its operations holds no worker: on one thread, the service replies only
// once two batches' operations are in flight together, which needs the second batch's call
// to run while the first one waits. (Sanitized builds block the worker instead: suspend.hpp.)
TEST(AsyncSuspension, AWaitingCallLeavesItsThreadToOtherCalls) {
  if (!detail::kSuspendingWaits) GTEST_SKIP() << "sanitized builds block their waits";
  std::mutex mutex;
  std::vector<Completion<int>> waiting;
  std::vector<int> values;
  Flow flow("async_one_thread");
  flow.source("numbers", std::views::iota(0, 256)) >>
      flow.node("call", async([&](int x, Completion<int> done) {
                  std::lock_guard lock(mutex);
                  waiting.push_back(std::move(done));
                  values.push_back(x);
                  if (waiting.size() < 128) return;
                  for (std::size_t i = 0; i < waiting.size(); ++i) waiting[i].set_value(values[i]);
                  waiting.clear();
                  values.clear();
                }),
                {.max_in_flight = 256}) >>
      flow.node("sink", [](int) {});
  const RunReport r = flow.run({.threads = 1, .batch_size = 64, .deadline = 20s});
  EXPECT_FALSE(r.cancelled) << r.stop_reason;
  EXPECT_EQ(r.node("sink").in, 256u);
}

}  // namespace
}  // namespace aetherflow
