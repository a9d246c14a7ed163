#include <flow/detail/node_impl.hpp>

#include <fmt/format.h>

#include <flow/detail/resource_args.hpp>
#include <flow/errors.hpp>

namespace aetherflow::detail {

std::size_t NodeImpl::concurrency() const noexcept {
  if (shape() == Shape::ordered) return serial;
  if (options_.adaptive) return options_.adaptive->max;  // the run's limit is lower (executor)
  if (options_.concurrency) return *options_.concurrency;
  // Every node without an output is a sink in role, a fan-in of branches included; but an
  // async one needs calls at once to keep its operations in flight.
  return output_ == nullptr && !traits_->suspends ? serial : unlimited;
}

std::vector<ResourceNeed> NodeImpl::resource_needs() const {
  return {};
}

void NodeImpl::check_on_cluster(std::vector<std::string>& problems) const {
  if (options_.gathered && !input_wire())
    problems.push_back(fmt::format(
        "gathered sink '{}' sends its items to rank 0, and items of type {} cannot cross ranks: "
        "give the type a cereal serialize() function (flow/wire.hpp, docs/distributed.md)",
        name_, inputs_.empty() ? "?" : type_name(*inputs_[0])));
}

// The run calls open() on sources and process() on every other node only.
std::unique_ptr<SourceCursor> NodeImpl::open(const ResumePoint&, const Shard&) const {
  throw Error("node '" + name_ + "' is not a source");
}

void NodeImpl::process(std::span<const BatchHandle>, std::span<BatchHandle>, CallContext&) const {
  throw Error("source '" + name_ + "' takes no input");
}

}  // namespace aetherflow::detail
