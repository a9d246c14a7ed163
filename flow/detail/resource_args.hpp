#pragma once
// A node's resource parameters: what each asks of the context (ResourceNeed, checked when a run
// starts) and how each argument is produced during the run (ResourceArg): resolved once per
// batch where the provider allows (per_thread, shared_concurrent, value), acquired per call
// otherwise (a lock, a lease, a fresh instance).

#include <cstddef>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <contexts/detail/provider.hpp>
#include <contexts/named.hpp>
#include <contexts/object_pool.hpp>

namespace aetherflow::detail {

struct ResourceNeed {
  enum class Use { object, read_only, lease };
  const std::type_info* type;
  std::string_view name;
  Use use;
};

// How a parameter declared as P asks for a resource.
template <class P>
struct resource_param {
  static_assert(std::is_lvalue_reference_v<P>,
                "aetherflow: a node takes a resource by reference (T& or const T&), as "
                "aetherflow::Named<T, \"name\">, or as aetherflow::Lease<T>&");
  using type = std::remove_cvref_t<P>;
  static constexpr std::string_view name{};
  static constexpr auto use = std::is_const_v<std::remove_reference_t<P>>
                                  ? ResourceNeed::Use::read_only
                                  : ResourceNeed::Use::object;
  static P argument(type& object) { return object; }
};
template <class T>
struct resource_param<Lease<T>&> {
  using type = T;
  static constexpr std::string_view name{};
  static constexpr auto use = ResourceNeed::Use::lease;
};
template <class T, FixedString N>
struct resource_param<Named<T, N>> {
  using type = std::remove_const_t<T>;
  static constexpr std::string_view name = N.view();
  static constexpr auto use =
      std::is_const_v<T> ? ResourceNeed::Use::read_only : ResourceNeed::Use::object;
  static Named<T, N> argument(type& object) { return Named<T, N>(object); }
};
template <class T, FixedString N>
struct resource_param<const Named<T, N>&> : resource_param<Named<T, N>> {};

template <class Params>
std::vector<ResourceNeed> resource_needs() {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<ResourceNeed>{
        {&typeid(typename resource_param<std::tuple_element_t<I, Params>>::type),
         resource_param<std::tuple_element_t<I, Params>>::name,
         resource_param<std::tuple_element_t<I, Params>>::use}...};
  }
  (std::make_index_sequence<std::tuple_size_v<Params>>{});
}

// One resource parameter during one batch.
template <class P>
class ResourceArg {
  using Param = resource_param<P>;
  using T = typename Param::type;
  static constexpr bool lease = Param::use == ResourceNeed::Use::lease;

 public:
  explicit ResourceArg(ProviderBase* provider)
      : provider_(static_cast<Provider<T>*>(provider)),
        for_batch_(lease ? nullptr : provider_->for_batch()) {}

  // Calls `call` with this parameter's argument, holding a lock or lease meanwhile if needed.
  template <class Call>
  decltype(auto) with(Waits& waits, Call&& call) {
    if constexpr (lease) {
      Access<T> access = provider_->for_call(waits);
      return call(access.lease);
    } else {
      if (for_batch_) return call(Param::argument(*for_batch_));
      Access<T> access = provider_->for_call(waits);
      return call(Param::argument(*access.object));
    }
  }

 private:
  Provider<T>* provider_;
  T* for_batch_;
};

template <class Params>
auto make_resource_args(std::span<ProviderBase* const> providers) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<ResourceArg<std::tuple_element_t<I, Params>>...>(
        ResourceArg<std::tuple_element_t<I, Params>>(providers[I])...);
  }
  (std::make_index_sequence<std::tuple_size_v<Params>>{});
}

// Calls `call(resource arguments...)` with every resource of `args` held for the call.
template <std::size_t I = 0, class Args, class Call, class... Ready>
decltype(auto) with_resources(Args& args, Waits& waits, Call&& call, Ready&&... ready) {
  if constexpr (I == std::tuple_size_v<Args>) {
    return call(std::forward<Ready>(ready)...);
  } else {
    return std::get<I>(args).with(waits, [&](auto&& next) -> decltype(auto) {
      return with_resources<I + 1>(args, waits, call, std::forward<Ready>(ready)...,
                                   std::forward<decltype(next)>(next));
    });
  }
}

}  // namespace aetherflow::detail
