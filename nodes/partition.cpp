#include <nodes/partition.hpp>

namespace aetherflow {

std::uint64_t HashRing::mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

HashRing::HashRing(std::size_t replicas, std::size_t points) {
  if (replicas == 0 || points == 0)
    throw Error("HashRing: it needs at least one replica and one point per replica");
  points_.reserve(replicas * points);
  // A replica's positions depend on its number only, so replica i owns the same positions on
  // a ring of N replicas as on one of N + 1: that is what keeps keys in place.
  for (std::size_t r = 0; r < replicas; ++r)
    for (std::size_t p = 0; p < points; ++p)
      points_.emplace_back(mix((static_cast<std::uint64_t>(r) << 32) | p), r);
  std::sort(points_.begin(), points_.end());
}

std::size_t HashRing::replica_for(std::uint64_t hash) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), std::pair{hash, std::size_t{0}});
  if (it == points_.end()) it = points_.begin();  // the ring wraps around
  return it->second;
}

std::size_t LeastLoaded::pick(Loads& loads) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < loads.size(); ++i)
    if (loads[i].load(std::memory_order_relaxed) < loads[best].load(std::memory_order_relaxed))
      best = i;
  loads[best].fetch_add(1, std::memory_order_relaxed);
  return best;
}

}  // namespace aetherflow
