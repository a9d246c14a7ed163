#include <flow/detail/advice.hpp>

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include <flow/detail/duration_text.hpp>

namespace aetherflow::detail {
namespace {

// A node busy this share of its usable capacity limits the run: it cannot go faster.
constexpr double kSaturated = 0.75;
// A node spending this share of its calls waiting for a resource is held up by it, if it is
// busy at least kWaitMatters of what its concurrency allows: waits of a node that is mostly
// idle limit nothing. (The walkthrough's shared Formatter: 29% waits at 71% busy, and binding
// it per_thread doubles throughput.)
constexpr double kWaitBound = 0.2;
constexpr double kWaitMatters = 0.5;
// A keyed node's shard taking this share of its items, and at least 1.5x an even share, is a
// hot shard, if the node does kHotShardWork of the run's work: its updates run one at a time
// however many threads there are (one key of 90% in the tests).
constexpr double kHotShard = 0.5;
constexpr double kHotShardWork = 0.25;
// The hot spot is the bottleneck of a run whose threads are all busy only if it does at least
// this share of the work; below it, no single node stands out.
constexpr double kDominant = 0.5;

std::string percent(double share) {
  return fmt::format("{:.0f}%", share * 100);
}

bool has_hot_shard(const NodeProfile& n) {
  const double even = n.shards.empty() ? 1.0 : 1.0 / static_cast<double>(n.shards.size());
  const double largest = largest_shard_share(n.shards);
  return n.shards.size() > 1 && largest >= std::max(kHotShard, 1.5 * even) &&
         n.busy_share >= kHotShardWork;
}

std::string hot_shard_advice(const NodeProfile& n) {
  const auto hottest =
      std::max_element(n.shards.begin(), n.shards.end(),
                       [](const ShardLoad& a, const ShardLoad& b) { return a.items < b.items; });
  return fmt::format(
      "{} of keyed node '{}' aggregates {} of its items (an even spread gives each of its "
      "{} shards {}): one key or a few take most items, and a shard's updates run one at a "
      "time; pre-aggregate before the node (count per batch), or spread the hot key over "
      "several (key by key and item % N, then combine the parts)",
      shard_label(n.shards, static_cast<std::size_t>(hottest - n.shards.begin())), n.name,
      percent(largest_shard_share(n.shards)), n.shards.size(),
      percent(1.0 / static_cast<double>(n.shards.size())));
}

double wait_share(const NodeProfile& n) {
  return n.busy_ns ? static_cast<double>(n.resource_wait_ns) / static_cast<double>(n.busy_ns) : 0;
}

// The first node (flow order, for stable ties) with the largest `score`, among those `eligible`.
template <class Eligible, class Score>
const NodeProfile* best(const Profile& p, Eligible eligible, Score score) {
  const NodeProfile* found = nullptr;
  for (const auto& n : p.nodes)
    if (eligible(n) && (!found || score(n) > score(*found))) found = &n;
  return found;
}

void name_hot_spot(Profile& p) {
  const NodeProfile* hot = best(
      p, [](const NodeProfile& n) { return n.busy_ns > 0; },
      [](const NodeProfile& n) { return n.busy_share; });
  if (!hot) return;
  p.hot_spot = hot->name;
  p.advice.push_back(
      fmt::format("hot spot: '{}' does {} of all the work ({} per item): the place to optimise",
                  hot->name, percent(hot->busy_share), duration_text(hot->per_item_ns)));
}

void bottleneck(Profile& p, const NodeProfile& n, std::string why) {
  p.bottleneck = n.name;
  p.advice.push_back(fmt::format("bottleneck: {}", why));
}

// What a saturated node with limited concurrency can be told: only what it can take.
std::string saturated_advice(const NodeProfile& n) {
  const std::string busy = percent(n.utilization);
  if (n.kind == "source")
    return fmt::format(
        "source '{}' is busy {} of the run producing items: reading is what limits "
        "throughput; make the source cheaper (move parsing into a node after it) or split the "
        "input over several sources",
        n.name, busy);
  if (n.ordered)
    return fmt::format(
        "ordered sink '{}' is busy {} of the run; an ordered sink takes one call at a time, so "
        "make it cheaper: move its work into an unlimited node before it",
        n.name, busy);
  return fmt::format(
      "{} node '{}' is busy {} of the run at concurrency {}: raise its concurrency "
      "(NodeOptions::concurrency) if its body is thread-safe, or make it cheaper",
      n.concurrency_limit == 1 ? "serial" : "limited", n.name, busy, n.concurrency_limit);
}

}  // namespace

// The rules, in order of evidence:
//   1. nothing to judge: no item got past the sources;
//   2. a node held up by a shared resource: a lock of a `shared` binding, or an empty pool;
//   3. a keyed node whose items go mostly to one shard (a hot key), whose updates run one at
//      a time;
//   4. a node of limited concurrency (a source, a serial or ordered sink, a limited node) busy
//      nearly all of its capacity: it cannot go faster, so the run cannot either;
//   5. every thread busy: the run's width limits it; the hot spot is the bottleneck if it does
//      most of the work, else no single node is;
//   6. otherwise threads were left idle with no node saturated: no node is the bottleneck.
// Queue waits are not evidence: they are noisy, and an ordered sink's batches wait for their
// turn whatever the node costs.
void advise(Profile& p) {
  name_hot_spot(p);

  std::uint64_t received = 0, busy = 0;
  for (const auto& n : p.nodes) {
    if (n.kind != "source") received += n.items_in;
    busy += n.busy_ns;
  }
  if (received == 0) {
    p.advice.push_back("no bottleneck named: no item got past the sources");
    return;
  }

  if (const NodeProfile* waiting = best(
          p,
          [](const NodeProfile& n) {
            return wait_share(n) >= kWaitBound && n.utilization >= kWaitMatters;
          },
          [](const NodeProfile& n) { return n.resource_wait_ns; })) {
    const std::string what =
        waiting->shared_resources.empty()
            ? std::string("a lease of an empty pool: give the pool more instances")
            : fmt::format(
                  "the lock of its shared {}: bind it per_thread (or pooled), so that "
                  "calls stop taking turns",
                  fmt::join(waiting->shared_resources, ", "));
    return bottleneck(p, *waiting,
                      fmt::format("'{}' spends {} of its time waiting for {}", waiting->name,
                                  percent(wait_share(*waiting)), what));
  }

  if (const NodeProfile* hot = best(
          p, has_hot_shard, [](const NodeProfile& n) { return largest_shard_share(n.shards); }))
    return bottleneck(p, *hot, hot_shard_advice(*hot));

  if (const NodeProfile* saturated = best(
          p,
          [&p](const NodeProfile& n) {
            const bool limited = n.concurrency_limit != 0 && n.concurrency_limit < p.threads;
            return limited && n.utilization >= kSaturated;
          },
          [](const NodeProfile& n) { return n.utilization; }))
    return bottleneck(p, *saturated, saturated_advice(*saturated));

  const double width_used =
      p.wall_ns && p.threads ? static_cast<double>(busy) /
                                   (static_cast<double>(p.wall_ns) * static_cast<double>(p.threads))
                             : 0;
  if (width_used >= kSaturated) {
    const NodeProfile& hot = p.node(p.hot_spot);
    if (hot.busy_share >= kDominant)
      return bottleneck(
          p, hot,
          fmt::format("the {} threads are busy {} of the run and '{}' does {} of the work: "
                      "throughput is bounded by its cost per item ({}); make it cheaper, or run "
                      "on more cores",
                      p.threads, percent(width_used), hot.name, percent(hot.busy_share),
                      duration_text(hot.per_item_ns)));
    p.advice.push_back(fmt::format(
        "no single bottleneck: the {} threads are busy {} of the run and the work is spread "
        "over the nodes (the largest, '{}', does {}): run on more cores, or make every node "
        "cheaper",
        p.threads, percent(width_used), hot.name, percent(hot.busy_share)));
    return;
  }
  p.advice.push_back(fmt::format(
      "no bottleneck: the {} threads were busy {} of the run and no node used all the "
      "concurrency it may have; the run waited on something else (retry delays, a throttle, a "
      "batch's max_wait, a slow consumer of its output)",
      p.threads, percent(width_used)));
}

}  // namespace aetherflow::detail
