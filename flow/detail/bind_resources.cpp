#include <flow/detail/bind_resources.hpp>

#include <fmt/format.h>

#include <flow/detail/resource_args.hpp>
#include <flow/detail/type_name.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {
namespace {

std::string resource_text(const ResourceNeed& need) {
  std::string text = type_name(*need.type);
  if (!need.name.empty()) text += fmt::format(" \"{}\"", need.name);
  return text;
}

// Why `provider` cannot serve `need`, or empty if it can.
std::string mismatch(const ResourceNeed& need, const ProviderBase& provider) {
  const std::string type = type_name(*need.type);
  if (need.use == ResourceNeed::Use::lease && provider.kind() != ProviderKind::pooled)
    return fmt::format("takes Lease<{}>&, but {} is bound {}: a lease needs a pooled binding", type,
                       resource_text(need), to_string(provider.kind()));
  if (need.use == ResourceNeed::Use::object && provider.kind() == ProviderKind::value)
    return fmt::format(
        "takes {}& to change it, but {} is bound as value(), which is read-only: "
        "take const {}&",
        type, resource_text(need), type);
  return {};
}

}  // namespace

std::vector<std::vector<ProviderBase*>> bind_resources(const FlowData& flow,
                                                       const Context& context) {
  std::vector<std::vector<ProviderBase*>> providers(flow.nodes.size());
  std::vector<std::string> problems;
  for (std::size_t id = 0; id < flow.nodes.size(); ++id) {
    const NodeImpl& node = *flow.nodes[id].impl;
    for (const ResourceNeed& need : node.resource_needs()) {
      ProviderBase* provider = context.find(*need.type, need.name);
      if (!provider) {
        problems.push_back(fmt::format("node '{}' needs {}, but the context binds no {}",
                                       node.name(), resource_text(need), resource_text(need)));
      } else if (auto why = mismatch(need, *provider); !why.empty()) {
        problems.push_back(fmt::format("node '{}' {}", node.name(), why));
      }
      providers[id].push_back(provider);
    }
  }
  if (!problems.empty()) throw FlowError(flow.name, std::move(problems));
  return providers;
}

}  // namespace aetherflow::detail
