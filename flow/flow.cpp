#include <flow/flow.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include <flow/detail/bind_resources.hpp>
#include <flow/detail/dot.hpp>
#include <flow/detail/environment.hpp>
#include <flow/detail/executor.hpp>
#include <flow/detail/log.hpp>
#include <flow/detail/plan.hpp>
#include <flow/detail/run_checks.hpp>
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

namespace {
std::unique_ptr<detail::FlowData> flow_data(std::string name) {
  auto data = std::make_unique<detail::FlowData>();
  data->name = std::move(name);
  return data;
}
}  // namespace

Flow::Flow(std::string name) : Flow(flow_data(std::move(name))) {}
// The base is built first, from the pointer, then the data moves into its owner: the FlowData
// stays where it is, so the builder's pointer to it holds for the flow's life, moves included.
Flow::Flow(std::unique_ptr<detail::FlowData> data)
    : FlowBuilder(data.get(), ""), data_(std::move(data)) {}
Flow::Flow(Flow&&) noexcept = default;
Flow& Flow::operator=(Flow&&) noexcept = default;
Flow::~Flow() = default;

const std::string& Flow::name() const noexcept {
  return data_->name;
}

std::size_t FlowBuilder::add_node(std::shared_ptr<detail::NodeImpl> node) {
  return flow_->add(std::move(node));
}

Scope FlowBuilder::scope(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos)
    throw FlowError(flow_->name,
                    {name.empty() ? "a scope needs a name: its nodes are named <scope>/<node>"
                                  : "scope name '" + name +
                                        "' holds a '/', which separates scopes in node names: "
                                        "nest scopes instead (flow.scope(\"a\").scope(\"b\"))"});
  return Scope(flow_, prefix_ + name + "/");
}

namespace {
// What a run needs checked first: the plan, the resources' providers and the run's options.
// Every problem of any of them goes into one FlowError.
struct Checked {
  detail::Plan plan;
  std::vector<std::vector<detail::ProviderBase*>> resources;
};

// `options`: those of the run about to start (null: Flow::validate, no run).
Checked check(const detail::FlowData& flow, const Context& context, const RunOptions* options) {
  Checked checked;
  std::vector<std::string> problems;
  auto collect = [&](auto&& step) {
    try {
      step();
    } catch (const FlowError& e) {
      problems.insert(problems.end(), e.problems().begin(), e.problems().end());
    }
  };
  collect([&] { checked.plan = detail::make_plan(flow); });
  collect([&] { checked.resources = detail::bind_resources(flow, context); });
  if (options) detail::check_run_options(flow, *options, problems);
  if (!problems.empty()) throw FlowError(flow.name, std::move(problems));
  return checked;
}
}  // namespace

void Flow::validate(const Context& context) const {
  check(*data_, context, nullptr);
}

std::string Flow::to_dot() const {
  return detail::to_dot(*data_);
}

std::string Flow::to_dot(const Profile& profile) const {
  return detail::to_dot(*data_, &profile);
}

namespace {
void write_profile_files(const Flow& flow, const Profile& profile,
                         const std::filesystem::path& base) {
  auto write = [&](const std::string& suffix, const std::string& text) {
    std::ofstream out(base.string() + suffix);
    out << text;
    if (!out) throw Error("cannot write the profile to '" + base.string() + suffix + "'");
  };
  write(".profile.json", to_json(profile));
  write(".trace.json", to_chrome_trace(profile));
  write(".prom", to_prometheus(profile));
  write(".dot", flow.to_dot(profile));
  detail::log().info("profile of flow '{}' written to {}.*", flow.name(), base.string());
}

// AETHERFLOW_PROFILE: each run of a flow in this process has files of its own, so that the
// second run of a flow does not overwrite the first's: <flow>.* for the first, then
// <flow>-2.*, <flow>-3.*, ...
std::filesystem::path next_profile_base(const std::string& directory, const std::string& flow) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, int> runs;
  std::lock_guard lock(mutex);
  const int run = ++runs[{directory, flow}];
  return std::filesystem::path(directory) / (run == 1 ? flow : flow + "-" + std::to_string(run));
}
}  // namespace

void write_profile(const Flow& flow, const Profile& profile, const std::string& directory) {
  std::filesystem::create_directories(directory);
  write_profile_files(flow, profile, std::filesystem::path(directory) / flow.name());
}

RunReport Flow::run(const RunOptions& options) {
  Context none;
  return run(none, options);
}

RunReport Flow::run(Context& context, const RunOptions& options) {
  const Checked checked = check(*data_, context, &options);
  if (data_->running.exchange(true))
    throw Error("flow '" + data_->name + "' is already running: a flow runs one run at a time");
  struct Done {
    std::atomic<bool>& running;
    ~Done() { running.store(false); }
  } done{data_->running};
  detail::check_environment();
  const std::optional<std::string> directory = detail::profile_directory_from_environment();
  if (!directory) return detail::execute(*data_, checked.plan, checked.resources, options);
  RunOptions profiled = options;
  profiled.profile = true;
  RunReport report = detail::execute(*data_, checked.plan, checked.resources, profiled);
  if (report.profile)
    write_profile_files(*this, *report.profile, next_profile_base(*directory, data_->name));
  return report;
}

}  // namespace aetherflow
