#include <contexts/context.hpp>

#include <fmt/format.h>

#include <flow/detail/type_name.hpp>

namespace aetherflow {

const char* to_string(ProviderKind kind) noexcept {
  switch (kind) {
    case ProviderKind::per_thread:
      return "per_thread";
    case ProviderKind::shared:
      return "shared";
    case ProviderKind::shared_concurrent:
      return "shared_concurrent";
    case ProviderKind::pooled:
      return "pooled";
    case ProviderKind::per_call:
      return "per_call";
    case ProviderKind::value:
      return "value";
  }
  return "?";
}

namespace detail {
ResourceStats ProviderBase::base_stats() const {
  ResourceStats s;
  s.type = type_name(type_);
  s.name = name_;
  s.kind = kind_;
  return s;
}
}  // namespace detail

Context::Context() = default;
Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

std::string Context::describe(const detail::ProviderBase& p) {
  return fmt::format("{}{} (bound {})", detail::type_name(p.type()),
                     p.name().empty() ? "" : " \"" + p.name() + "\"", to_string(p.kind()));
}

Context& Context::bind(std::unique_ptr<detail::ProviderBase> provider) {
  if (const auto* existing = find(provider->type(), provider->name()))
    throw ContextError(fmt::format(
        "the context already binds {}: bind each type once, or give the second binding a name",
        describe(*existing)));
  providers_.push_back(std::move(provider));
  return *this;
}

detail::ProviderBase* Context::find(const std::type_info& type,
                                    std::string_view name) const noexcept {
  for (const auto& p : providers_)
    if (p->type() == type && p->name() == name) return p.get();
  return nullptr;
}

detail::ProviderBase& Context::provider(const std::type_info& type, std::string_view name) const {
  if (auto* p = find(type, name)) return *p;
  throw ContextError(fmt::format("the context binds no {}{}", detail::type_name(type),
                                 name.empty() ? "" : fmt::format(" \"{}\"", name)));
}

std::vector<ResourceStats> Context::stats() const {
  std::vector<ResourceStats> all;
  for (const auto& p : providers_) all.push_back(p->stats());
  return all;
}

}  // namespace aetherflow
