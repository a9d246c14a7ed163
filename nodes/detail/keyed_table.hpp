#pragma once
// The state of a keyed node (nodes/keyed.hpp): one hash table per shard, keyed by what the
// node's key function returns. A key function may return a view (a std::string_view into a
// read_lines chunk): the table looks it up as the view, with no copy, and stores a key that
// owns its characters (std::string) when the key is new, so state outlives the chunk.
//
// Each item's hash is computed once, when its batch is split by shard, and the lookup reuses
// it: the tables take a Prehashed key through heterogeneous lookup.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace aetherflow::detail {

// What a key function's result is stored as: a string for anything that converts to a
// std::string_view (views, C strings, strings), else the type itself.
template <class K>
inline constexpr bool string_key =
    std::is_convertible_v<const K&, std::string_view> && !std::is_same_v<K, std::nullptr_t>;

template <class K>
using stored_key_t = std::conditional_t<string_key<K>, std::string, std::remove_cvref_t<K>>;
// What lookups and hashes see: the view for string keys.
template <class K>
using lookup_key_t = std::conditional_t<string_key<K>, std::string_view, std::remove_cvref_t<K>>;

// What a key without a std::hash gets by default: KeyedAggregation::make says to give one.
struct MissingKeyHash {};

// The default hash of a key: std::hash of its lookup type (std::hash<std::string_view> for
// strings, so a stored string and the view of its characters hash alike).
template <class K>
using default_key_hash =
    std::conditional_t<std::is_default_constructible_v<std::hash<lookup_key_t<K>>>,
                       std::hash<lookup_key_t<K>>, MissingKeyHash>;

// A key with its hash already computed.
template <class Lookup>
struct Prehashed {
  const Lookup& key;
  std::size_t hash;
};

// libstdc++ keeps each entry's hash beside it when hashing is not cheap: for a table of
// strings, as std::unordered_map<std::string, ...> does; not for numbers, as it does not for
// those either. So a shard's entry is no larger than that of a plain unordered_map.
template <class Stored>
inline constexpr bool cheap_to_hash =
    std::is_arithmetic_v<Stored> || std::is_enum_v<Stored> || std::is_pointer_v<Stored>;

// The user's hash, made transparent: a stored key hashes as its lookup type, a Prehashed key
// as the hash it carries.
template <class Hash, class Stored, class Lookup>
struct ShardHash {
  using is_transparent = void;
  Hash hash;

  std::size_t operator()(const Stored& key) const noexcept(cheap_to_hash<Stored>) {
    return hash(static_cast<const Lookup&>(key));
  }
  std::size_t operator()(const Prehashed<Lookup>& key) const noexcept { return key.hash; }
};

// The user's equality, made transparent the same way.
template <class Equal, class Stored, class Lookup>
struct ShardEqual {
  using is_transparent = void;
  Equal equal;

  bool operator()(const Stored& a, const Stored& b) const {
    return equal(static_cast<const Lookup&>(a), static_cast<const Lookup&>(b));
  }
  bool operator()(const Prehashed<Lookup>& a, const Stored& b) const {
    return equal(a.key, static_cast<const Lookup&>(b));
  }
  bool operator()(const Stored& a, const Prehashed<Lookup>& b) const {
    return equal(static_cast<const Lookup&>(a), b.key);
  }
};

template <class Key, class State, class Hash, class Equal>
using KeyedTable = std::unordered_map<stored_key_t<Key>, State,
                                      ShardHash<Hash, stored_key_t<Key>, lookup_key_t<Key>>,
                                      ShardEqual<Equal, stored_key_t<Key>, lookup_key_t<Key>>>;

// The shard of a hash among `shards`: the hash mixed first (MurmurHash3's finaliser), because
// std::hash of an integer is the integer, and the tables take their buckets from the low bits.
// The rank that owns a key on a cluster run: other bits of the mixed hash than the shard's.
inline std::size_t owner_of(std::size_t hash, std::size_t ranks) noexcept {
  std::uint64_t h = hash * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  return static_cast<std::size_t>((h >> 32) % ranks);
}

inline std::size_t shard_of(std::size_t hash, std::size_t shards) noexcept {
  std::uint64_t h = hash;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h % shards);
}

}  // namespace aetherflow::detail
