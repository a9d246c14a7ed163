#pragma once
// The accounting every run must satisfy, whatever failed or was cancelled: each one-input node
// balances its items, and along a chain what one node emits the next receives.

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include <flow/report.hpp>

namespace aetherflow::testing {

inline void expect_balanced(const RunReport& report) {
  for (const NodeReport& n : report.nodes) {
    // Sources have no inputs, one-to-many nodes several outs per in, batch nodes one per group.
    if (n.kind == "source" || n.kind == "expand" || n.kind == "batch") continue;
    if (n.kind == "keyed") {  // its items went into its shards' state, emitted as one per key
      std::uint64_t aggregated = 0, keys = 0;
      for (const ShardLoad& s : n.shards) {
        aggregated += s.items;
        keys += s.keys;
      }
      // Unless every key left, the run stopped and its state counts as cancelled.
      const bool complete = n.out == keys;
      EXPECT_EQ(n.in, (complete ? aggregated : 0) + n.failed + n.cancelled) << "node " << n.name;
      EXPECT_LE(n.failed - n.skipped - n.dead_lettered, 1u) << "node " << n.name;
      continue;
    }
    EXPECT_EQ(n.in, n.out + n.filtered + n.failed + n.cancelled) << "node " << n.name;
    // Failed items are skipped, dead-lettered, or (OnError::fail) the one that stopped the run.
    EXPECT_LE(n.failed - n.skipped - n.dead_lettered, 1u) << "node " << n.name;
  }
}

// For a chain declared in order: what each node emits, the next one receives.
inline void expect_chain_delivers(const RunReport& report) {
  for (std::size_t i = 1; i < report.nodes.size(); ++i)
    EXPECT_EQ(report.nodes[i - 1].out, report.nodes[i].in)
        << report.nodes[i - 1].name << " -> " << report.nodes[i].name;
}

}  // namespace aetherflow::testing
