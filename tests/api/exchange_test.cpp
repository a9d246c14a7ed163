// flow/exchange.hpp between two ranks of a LocalCluster: what one run sent on a node's channel
// and left on its way (a failed or cancelled cluster run stops before taking it all) is
// dropped by the next run on that channel, which takes only its own messages.

#include <atomic>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include <flow/aetherflow.hpp>
#include <flow/exchange.hpp>
#include <flow/wire.hpp>
#include <tests/support/local_cluster.hpp>

namespace aetherflow {
namespace {

constexpr int kChannel = 5;

void send_one(Exchange& exchange, int value) {
  exchange.add(1, 1, [&](Bytes& bytes) { wire_write(bytes, std::vector<int>{value}); }, {});
  exchange.end_stream({});
}

TEST(Exchange, WhatAPreviousRunLeftOnItsWayIsDroppedByTheNext) {
  testing::LocalCluster cluster(2);
  std::atomic<bool> stop{false};
  cluster.hold(true);  // run 1's messages are still on their way when run 2 starts
  {
    Exchange run1({cluster.rank(0).get(), 0, 2, kChannel, &stop, 1});
    send_one(run1, 7);
  }
  Exchange receiver({cluster.rank(1).get(), 1, 2, kChannel, &stop, 2});
  cluster.hold(false);
  cluster.wait_delivered();
  EXPECT_FALSE(receiver.take()) << "run 1's item reached run 2";
  EXPECT_FALSE(receiver.ended(0)) << "run 1's end of stream reached run 2";
  EXPECT_EQ(receiver.items_held(), 0u);

  Exchange run2({cluster.rank(0).get(), 0, 2, kChannel, &stop, 2});
  send_one(run2, 8);
  cluster.wait_delivered();
  const std::optional<Exchange::Message> m = receiver.take();
  ASSERT_TRUE(m);
  ASSERT_EQ(m->items, 1u);
  std::vector<int> got;
  wire_read(*m->bytes, m->offset, m->items, got);
  EXPECT_EQ(got, std::vector<int>{8});
  EXPECT_TRUE(receiver.ended(0));
}

}  // namespace
}  // namespace aetherflow
