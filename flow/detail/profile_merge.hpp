#pragma once
// The profile of a cluster run's whole job (docs/distributed.md), on rank 0, from every rank's
// own: counts, busy time and the call histograms summed, latency summaries the worst rank's
// (percentiles do not add up; the summed histograms, call_buckets, are exact), threads and
// trace events kept with their rank (TraceEvent::thread = rank x kThreadsPerRank + worker, so
// that the Chrome trace gives each rank a pid of its own), the advice made again on the sums.

#include <cstdint>
#include <optional>
#include <vector>

#include <flow/profile.hpp>

namespace aetherflow::detail {

Profile merge_profiles(const std::vector<Profile>& ranks);

// What the job's report and profile both add up per node: counters by name, and one rank's
// shards after the others', each marked with its rank.
void add_counters(std::vector<NodeCounter>& into, const std::vector<NodeCounter>& more);
void add_shards(std::vector<ShardLoad>& into, const std::vector<ShardLoad>& more,
                std::uint32_t rank);
// An async node's operations: counts and limits summed (the ranks run at once).
void add_operations(std::optional<OperationsReport>& into,
                    const std::optional<OperationsReport>& more);

}  // namespace aetherflow::detail
