#pragma once
// A Context decides, per resource type, what a node asking for that resource gets:
//
//   aetherflow::Context ctx;
//   ctx.per_thread<WordCounts>();                        // one per worker thread
//   ctx.shared<Model>([] { return Model("weights"); });  // one, calls take turns
//   ctx.shared_concurrent<Cache>();                      // one, no lock: Cache is thread-safe
//   ctx.pooled<Connection>(4, [] { return Connection("db"); });   // leased per call, at most 4
//   ctx.per_call<Scratch>();                             // fresh for every call
//   ctx.value(Config{.threshold = 3});                   // a given object, read-only
//   flow.run(ctx);
//
// Nodes ask by declaring parameters after their input: `WordCounts&`, `const Config&`,
// `Lease<Connection>&`, `Named<Database, "replica">`. Swapping thread isolation for shared
// state is a change of the context, never of the node.
//
// Lifetimes: everything a context provides lives in the context. Instances of shared,
// shared_concurrent and value are made when bound; per_thread instances when a thread first
// needs one; pooled instances on demand, up to the pool's capacity. All of them last until the
// context is destroyed, across runs. per_call instances last one call. A fresh context starts
// from fresh state.

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <contexts/detail/provider.hpp>
#include <contexts/named.hpp>
#include <contexts/object_pool.hpp>
#include <contexts/resource_stats.hpp>
#include <flow/errors.hpp>

namespace aetherflow {

// A binding the context cannot make, or a question about one it does not have.
class ContextError : public Error {
 public:
  using Error::Error;
};

// Settings of a pooled binding.
template <class T>
struct PoolSettings {
  std::function<void(T&)> reset = {};  // run on each instance handed back
  PoolOptions options = {};            // what acquiring from an empty pool does
};

class Context {
 public:
  Context();
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;

  // Each binding takes an optional name (to bind one type twice) and an optional factory
  // returning a T (default: T's default constructor), in that order.
  template <class T, class... A>
  Context& per_thread(A&&... a) {
    auto [name, make] = binding<T>(std::forward<A>(a)...);
    return bind(std::make_unique<detail::PerThread<T>>(std::move(name), std::move(make)));
  }
  template <class T, class... A>
  Context& shared(A&&... a) {
    auto [name, make] = binding<T>(std::forward<A>(a)...);
    return bind(std::make_unique<detail::Shared<T>>(std::move(name), make));
  }
  template <class T, class... A>
  Context& shared_concurrent(A&&... a) {
    auto [name, make] = binding<T>(std::forward<A>(a)...);
    return bind(std::make_unique<detail::SharedConcurrent<T>>(std::move(name), make));
  }
  template <class T, class... A>
  Context& per_call(A&&... a) {
    auto [name, make] = binding<T>(std::forward<A>(a)...);
    return bind(std::make_unique<detail::PerCall<T>>(std::move(name), std::move(make)));
  }
  template <class T, class... A>
  Context& pooled(std::size_t capacity, PoolSettings<T> settings, A&&... a) {
    auto [name, make] = binding<T>(std::forward<A>(a)...);
    return bind(std::make_unique<detail::Pooled<T>>(std::move(name), capacity, std::move(make),
                                                    std::move(settings.reset), settings.options));
  }
  template <class T, class... A>
  Context& pooled(std::size_t capacity, A&&... a) {
    return pooled<T>(capacity, PoolSettings<T>{}, std::forward<A>(a)...);
  }
  template <class T>
  Context& value(T object) {
    return value(std::string(), std::move(object));
  }
  template <class T>
  Context& value(std::string name, T object) {
    return bind(std::make_unique<detail::Value<T>>(std::move(name), std::move(object)));
  }

  // Visits every per-thread instance of T made so far.
  template <class T, class F>
  void each(F&& visit, std::string_view name = {}) {
    for (T& instance : per_thread_instances<T>(name)) visit(instance);
  }
  // Folds the per-thread instances of T into one: combine(a, b) returns their union.
  template <class T, class F>
  T combine(F&& combine, std::string_view name = {}) {
    return per_thread_instances<T>(name).combine(std::forward<F>(combine));
  }
  // How many instances of T exist now (per_thread: one per thread that needed one).
  template <class T>
  std::size_t instances(std::string_view name = {}) const {
    return provider(typeid(T), name).stats().instances;
  }

  // The provider bound to (type, name), or null.
  detail::ProviderBase* find(const std::type_info& type, std::string_view name) const noexcept;
  // What each binding did so far: instances, lock and pool waits.
  std::vector<ResourceStats> stats() const;

 private:
  template <class T, class... A>
  static std::pair<std::string, detail::Factory<T>> binding(A&&... a) {
    constexpr bool has_factory = (!std::is_convertible_v<A, std::string_view> || ...);
    static_assert(has_factory || std::is_default_constructible_v<T>,
                  "aetherflow: this resource type has no default constructor: pass a factory "
                  "returning one, ctx.per_thread<T>([&] { return T(args); })");
    std::string name;
    detail::Factory<T> make;
    if constexpr (!has_factory && std::is_default_constructible_v<T>) make = [] { return T(); };
    [[maybe_unused]] auto take = [&](auto&& arg) {
      if constexpr (std::is_convertible_v<decltype(arg), std::string_view>)
        name = std::string(std::string_view(arg));
      else
        make = std::forward<decltype(arg)>(arg);
    };
    (take(std::forward<A>(a)), ...);
    return {std::move(name), std::move(make)};
  }

  template <class T>
  oneapi::tbb::enumerable_thread_specific<T>& per_thread_instances(std::string_view name) {
    auto& p = provider(typeid(T), name);
    if (p.kind() != ProviderKind::per_thread)
      throw ContextError(describe(p) + " is not per_thread: only per_thread instances are visited");
    return static_cast<detail::PerThread<T>&>(p).instances();
  }

  detail::ProviderBase& provider(const std::type_info& type, std::string_view name) const;
  static std::string describe(const detail::ProviderBase& p);
  Context& bind(std::unique_ptr<detail::ProviderBase> provider);

  std::vector<std::unique_ptr<detail::ProviderBase>> providers_;
};

}  // namespace aetherflow
