#include <flow/flow.hpp>

#include <flow/detail/executor.hpp>
#include <flow/detail/plan.hpp>
#include <flow/errors.hpp>

namespace aetherflow {

namespace detail {
void add_edge(FlowData* from_flow, std::size_t from, std::size_t from_port, FlowData* to_flow,
              std::size_t to, std::size_t to_port, std::shared_ptr<const NodeImpl> converter) {
  if (from_flow != to_flow)
    throw FlowError(from_flow->name, {"cannot connect '" + from_flow->nodes[from].impl->name() +
                                      "' to '" + to_flow->nodes[to].impl->name() +
                                      "' of another flow ('" + to_flow->name + "')"});
  from_flow->edges.push_back({from, from_port, to, to_port, std::move(converter)});
}
}  // namespace detail

Flow::Flow(std::string name) : data_(std::make_unique<detail::FlowData>()) {
  data_->name = std::move(name);
}
Flow::Flow(Flow&&) noexcept = default;
Flow& Flow::operator=(Flow&&) noexcept = default;
Flow::~Flow() = default;

const std::string& Flow::name() const noexcept {
  return data_->name;
}

std::size_t Flow::add_node(std::shared_ptr<detail::NodeImpl> node) {
  return data_->add(std::move(node));
}

detail::NodeKind Flow::node_kind(detail::StepKind kind) noexcept {
  switch (kind) {
    case detail::StepKind::transform:
      return detail::NodeKind::transform;
    case detail::StepKind::filter:
      return detail::NodeKind::filter;
    case detail::StepKind::expand:
      return detail::NodeKind::expand;
    case detail::StepKind::sink:
      return detail::NodeKind::sink;
  }
  return detail::NodeKind::transform;
}

void Flow::validate() const {
  detail::make_plan(*data_);
}

std::string Flow::to_dot() const {
  return detail::to_dot(*data_);
}

RunReport Flow::run(const RunOptions& options) {
  const detail::Plan plan = detail::make_plan(*data_);
  if (data_->running.exchange(true))
    throw Error("flow '" + data_->name + "' is already running: a flow runs one run at a time");
  struct Done {
    std::atomic<bool>& running;
    ~Done() { running.store(false); }
  } done{data_->running};
  return detail::execute(*data_, plan, options);
}

}  // namespace aetherflow
