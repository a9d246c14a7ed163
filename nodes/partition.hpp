#pragma once
// Replicas of a node, with items routed among them (docs/nodes.md):
//
//   auto bars = aetherflow::partition(flow, "bars", 4,
//       [](std::size_t) { return BarBuilder{}; },                          // one per replica
//       aetherflow::consistent_hash([](const Trade& t) { return t.symbol; }),
//       {.concurrency = aetherflow::serial});
//   trades >> bars.router;
//   for (auto& replica : bars.replicas) replica >> sink;
//
// Each replica is a node of its own, "bars[0]", "bars[1]"..., so the run report counts each;
// the router is a branch_on node, "bars.route". With consistent_hash every item of one key
// reaches the same replica, so a serial replica keeps per-key state without a lock.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <flow/errors.hpp>
#include <flow/flow.hpp>

namespace aetherflow {

// Consistent hashing: each replica owns `points` positions on a ring of 64-bit hashes, and a
// key belongs to the replica owning the first position at or after the key's hash. Adding a
// replica moves only the keys the new replica's positions take over: about 1/N of them, all
// to the new replica.
class HashRing {
 public:
  explicit HashRing(std::size_t replicas, std::size_t points = 64);
  std::size_t replica_for(std::uint64_t hash) const;
  // A well-spread 64-bit hash of any value std::hash takes (std::hash of an integer is often
  // the integer itself, which would crowd one arc of the ring).
  template <class Key>
  static std::uint64_t hash(const Key& key) {
    return mix(static_cast<std::uint64_t>(std::hash<Key>{}(key)));
  }
  static std::uint64_t mix(std::uint64_t x);

 private:
  std::vector<std::pair<std::uint64_t, std::size_t>> points_;  // (position, replica), sorted
};

// Routing policies: each makes, for a number of replicas, a function item -> replica.
struct RoundRobin {
  template <class T>
  auto router(std::size_t replicas) const {
    return [next = std::make_shared<std::atomic<std::uint64_t>>(0), replicas](const T&) {
      return static_cast<std::size_t>(next->fetch_add(1, std::memory_order_relaxed) % replicas);
    };
  }
};
inline RoundRobin round_robin() {
  return {};
}

template <class KeyFn>
struct ConsistentHash {
  KeyFn key;
  template <class T>
  auto router(std::size_t replicas) const {
    return [ring = std::make_shared<const HashRing>(replicas), key = key](const T& item) {
      return ring->replica_for(HashRing::hash(key(item)));
    };
  }
};
// Items with equal key(item) always reach the same replica.
template <class KeyFn>
ConsistentHash<KeyFn> consistent_hash(KeyFn key) {
  return {std::move(key)};
}

// Routes each item to the replica with the fewest items routed to it and not yet through it
// (ties: the lowest number). Its replicas count what they finish, so a replica that slows
// down gets fewer items. They must be one-parameter callables (no resources, no emitter).
class LeastLoaded {
 public:
  using Loads = std::vector<std::atomic<std::int64_t>>;

  template <class T>
  auto router(std::size_t replicas) {
    loads_ = std::make_shared<Loads>(replicas);
    return [loads = loads_](const T&) { return pick(*loads); };
  }
  // Replica i's callable, made to count the items it finishes.
  template <class F>
  auto wrap(std::size_t i, F fn) const {
    using Sig = detail::StepSignature<F>;
    static_assert(std::tuple_size_v<typename Sig::resources> == 0 && !Sig::has_emitter,
                  "aetherflow: least_loaded replicas take the item as their only parameter");
    return Counted<F, typename Sig::input_param>{std::move(fn), loads_, i};
  }
  static std::size_t pick(Loads& loads);
  const Loads& loads() const { return *loads_; }

 private:
  template <class F, class Param>
  struct Counted {
    F fn;
    std::shared_ptr<Loads> loads;
    std::size_t i;
    decltype(auto) operator()(Param item) {
      struct Done {
        std::atomic<std::int64_t>& load;
        ~Done() { load.fetch_sub(1, std::memory_order_relaxed); }
      } done{(*loads)[i]};
      return fn(std::forward<Param>(item));
    }
    // Items routed to a run that was cancelled never arrive: each run starts from zero.
    void finish() {
      (*loads)[i].store(0, std::memory_order_relaxed);
      detail::finish_callable(fn);
    }
  };
  std::shared_ptr<Loads> loads_;
};
inline LeastLoaded least_loaded() {
  return {};
}

template <class Router, class Replica>
struct Partition {
  Router router;                  // connect the input here: `source >> p.router`
  std::vector<Replica> replicas;  // connect each output: `for (auto& r : p.replicas) r >> sink`
};

// `replicas` nodes named name[i], made by make(i) with `options`, behind a router that sends
// each item to the replica `policy` picks.
template <class MakeReplica, class Policy>
auto partition(Flow& flow, const std::string& name, std::size_t replicas, MakeReplica make,
               Policy policy, NodeOptions options = {}) {
  using F = std::invoke_result_t<MakeReplica&, std::size_t>;
  using In = typename detail::StepSignature<F>::input;
  if (replicas == 0)
    throw Error(fmt::format("partition '{}': it needs at least one replica", name));
  auto router = flow.branch_on<In>(name + ".route", policy.template router<In>(replicas));
  // A policy that watches its replicas (least_loaded) wraps their callables.
  auto replica = [&](std::size_t i) {
    if constexpr (requires { policy.wrap(i, make(i)); })
      return policy.wrap(i, make(i));
    else
      return make(i);
  };
  using Replica = decltype(flow.node(name, replica(0), options));
  std::vector<Replica> nodes;
  for (std::size_t i = 0; i < replicas; ++i) {
    nodes.push_back(flow.node(fmt::format("{}[{}]", name, i), replica(i), options));
    router.when(i) >> nodes.back();
  }
  return Partition<decltype(router), Replica>{router, std::move(nodes)};
}

}  // namespace aetherflow
