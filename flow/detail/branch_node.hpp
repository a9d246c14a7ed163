#pragma once
// branch_on: each item goes to the route of its key. Every route receives one batch per input
// batch (possibly empty), so what joins or orders downstream never waits for a missing one.

#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <flow/detail/batch.hpp>
#include <flow/detail/node_impl.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

// A key as text, for error messages and DOT labels.
template <class K>
std::string key_text(const K& key) {
  if constexpr (std::is_enum_v<K>)
    return fmt::format("{}", static_cast<std::underlying_type_t<K>>(key));
  else if constexpr (fmt::is_formattable<K>::value)
    return fmt::format("{}", key);
  else
    return "<" + type_name(typeid(K)) + ">";
}

template <class K>
concept Hashable = requires(const K& k) {
  std::hash<K>{}(k);
};

// A branch routes items without calling user code on them but their key: error policies do
// not apply. It always has routes, even with one.
inline constexpr NodeTraits kBranchTraits{.label = "branch",
                                          .noun = "branch_on",
                                          .dot_shape = "diamond",
                                          .item_calls = false,
                                          .port_noun = "route"};

template <class T, class Key, class KeyFn>
class BranchNode final : public NodeImpl {
 public:
  BranchNode(std::string name, NodeOptions options, KeyFn key)
      : NodeImpl(std::move(name), kBranchTraits, options), key_(std::move(key)) {
    inputs_ = {&typeid(T)};
    output_ = &typeid(T);
  }

  // The output port for `key`, made on first request; ports are numbered in the order routes
  // are declared.
  std::size_t route(const Key& key) {
    if (auto found = find(key)) return *found;
    port_keys_.emplace_back(key);
    if constexpr (Hashable<Key>) index_.emplace(key, port_keys_.size() - 1);
    return port_keys_.size() - 1;
  }
  // The port for items whose key has no route of its own.
  std::size_t otherwise() {
    if (!otherwise_) {
      otherwise_ = port_keys_.size();
      port_keys_.emplace_back(std::nullopt);
    }
    return *otherwise_;
  }

  Shape shape() const override { return Shape::routes; }
  void check(std::vector<std::string>& problems) const override {
    if (port_keys_.empty())
      problems.push_back(
          fmt::format("branch_on '{}' has no routes: add route.when(key) >> node", name()));
  }
  std::size_t output_ports() const override { return port_keys_.size(); }
  std::string port_label(std::size_t port) const override {
    return port_keys_[port] ? key_text(*port_keys_[port]) : "otherwise";
  }

  void process(std::span<const BatchHandle> in, std::span<BatchHandle> out,
               CallContext& ctx) const override {
    const auto& handle = in[0];
    auto& batch = batch_cast<T>(handle);
    const bool owned = !batch.shared;
    const std::size_t n = batch.slots.size();
    std::vector<Ref<Batch<T>>> routes(port_count());
    for (auto& r : routes) r = derive_batch<T>(batch, 0);

    // A key that throws (or has no route) fails the run (OnError::fail): the exception is left
    // in ctx for the executor, the items after it are cancelled, and the routes still leave,
    // so nothing throws through oneTBB and every item stays accounted for.
    std::size_t i = 0;
    try {
      for (; i < n; ++i) {
        const auto port = port_for(key_(std::as_const(batch.values[i])));
        routes[port]->push(take_item(batch.values[i], owned), batch.slots[i]);
      }
    } catch (...) {
      ctx.counts.failed += 1;
      ctx.counts.cancelled += n - i - 1;
      ctx.failure = std::current_exception();
      ctx.failed_slot = batch.slots[i];
    }
    ctx.counts.in += n;
    ctx.counts.out += i;
    for (std::size_t p = 0; p < routes.size(); ++p) out[p] = std::move(routes[p]);
  }

 private:
  std::size_t port_count() const { return port_keys_.size(); }

  std::optional<std::size_t> find(const Key& key) const {
    if constexpr (Hashable<Key>) {
      if (auto it = index_.find(key); it != index_.end()) return it->second;
    } else {
      for (std::size_t p = 0; p < port_keys_.size(); ++p)
        if (port_keys_[p] && *port_keys_[p] == key) return p;
    }
    return std::nullopt;
  }

  std::size_t port_for(const Key& key) const {
    if (auto found = find(key)) return *found;
    if (otherwise_) return *otherwise_;
    throw Error(fmt::format("branch_on '{}': no route for key '{}' and no otherwise() route",
                            name(), key_text(key)));
  }

  mutable KeyFn key_;                          // mutable: see StepNode::fn_
  std::vector<std::optional<Key>> port_keys_;  // per output port; empty: the otherwise route
  std::conditional_t<Hashable<Key>, std::unordered_map<Key, std::size_t>, bool> index_{};
  std::optional<std::size_t> otherwise_;
};

}  // namespace aetherflow::detail
