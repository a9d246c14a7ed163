// The profile as JSON (cereal), and back.
#include <flow/profile.hpp>

#include <sstream>

#include <fmt/format.h>
#include <cereal/archives/json.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <flow/errors.hpp>

namespace aetherflow {

// The JSON schema (docs/profiling.md): one object "profile", these fields, in this order.
template <class Archive>
void serialize(Archive& a, LatencySummary& s) {
  a(cereal::make_nvp("count", s.count), cereal::make_nvp("mean_ns", s.mean_ns),
    cereal::make_nvp("p50_ns", s.p50_ns), cereal::make_nvp("p90_ns", s.p90_ns),
    cereal::make_nvp("p99_ns", s.p99_ns), cereal::make_nvp("p999_ns", s.p999_ns),
    cereal::make_nvp("max_ns", s.max_ns));
}
template <class Archive>
void serialize(Archive& a, NodeCounter& c) {
  a(cereal::make_nvp("name", c.name), cereal::make_nvp("value", c.value));
}
template <class Archive>
void serialize(Archive& a, ShardLoad& s) {
  a(cereal::make_nvp("keys", s.keys), cereal::make_nvp("items", s.items),
    cereal::make_nvp("rank", s.rank));
}
template <class Archive>
void serialize(Archive& a, OperationsReport& o) {
  a(cereal::make_nvp("max_in_flight", o.max_in_flight),
    cereal::make_nvp("peak_in_flight", o.peak_in_flight), cereal::make_nvp("started", o.started),
    cereal::make_nvp("completed", o.completed), cereal::make_nvp("timed_out", o.timed_out),
    cereal::make_nvp("abandoned", o.abandoned), cereal::make_nvp("late", o.late));
}
template <class Archive>
void serialize(Archive& a, InFlightSample& s) {
  a(cereal::make_nvp("at_ns", s.at_ns), cereal::make_nvp("in_flight", s.in_flight));
}
template <class Archive>
void serialize(Archive& a, NodeProfile& n) {
  a(cereal::make_nvp("name", n.name), cereal::make_nvp("kind", n.kind),
    cereal::make_nvp("concurrency_limit", n.concurrency_limit),
    cereal::make_nvp("ordered", n.ordered), cereal::make_nvp("calls", n.calls),
    cereal::make_nvp("items_in", n.items_in), cereal::make_nvp("items_out", n.items_out),
    cereal::make_nvp("errors", n.errors), cereal::make_nvp("busy_ns", n.busy_ns),
    cereal::make_nvp("busy_share", n.busy_share), cereal::make_nvp("per_item_ns", n.per_item_ns),
    cereal::make_nvp("call_latency", n.call_latency), cereal::make_nvp("queue_wait", n.queue_wait),
    cereal::make_nvp("peak_concurrency", n.peak_concurrency),
    cereal::make_nvp("utilization", n.utilization),
    cereal::make_nvp("resource_waits", n.resource_waits),
    cereal::make_nvp("resource_wait_ns", n.resource_wait_ns),
    cereal::make_nvp("shared_resources", n.shared_resources),
    cereal::make_nvp("call_buckets", n.call_buckets), cereal::make_nvp("counters", n.counters),
    cereal::make_nvp("shards", n.shards), cereal::make_nvp("operations", n.operations),
    cereal::make_nvp("operation_latency", n.operation_latency),
    cereal::make_nvp("operation_buckets", n.operation_buckets),
    cereal::make_nvp("in_flight", n.in_flight));
}
template <class Archive>
void serialize(Archive& a, ThreadProfile& t) {
  a(cereal::make_nvp("index", t.index), cereal::make_nvp("busy_ns", t.busy_ns),
    cereal::make_nvp("idle_ns", t.idle_ns));
}
template <class Archive>
void serialize(Archive& a, TraceEvent& e) {
  a(cereal::make_nvp("node", e.node), cereal::make_nvp("thread", e.thread),
    cereal::make_nvp("start_ns", e.start_ns), cereal::make_nvp("duration_ns", e.duration_ns),
    cereal::make_nvp("items", e.items), cereal::make_nvp("wait_ns", e.wait_ns));
}
template <class Archive>
void serialize(Archive& a, Profile& p) {
  a(cereal::make_nvp("flow", p.flow), cereal::make_nvp("wall_ns", p.wall_ns),
    cereal::make_nvp("threads", p.threads), cereal::make_nvp("items", p.items),
    cereal::make_nvp("items_per_second", p.items_per_second), cereal::make_nvp("errors", p.errors),
    cereal::make_nvp("end_to_end", p.end_to_end), cereal::make_nvp("nodes", p.nodes),
    cereal::make_nvp("thread_profiles", p.thread_profiles),
    cereal::make_nvp("hot_spot", p.hot_spot), cereal::make_nvp("bottleneck", p.bottleneck),
    cereal::make_nvp("advice", p.advice), cereal::make_nvp("trace", p.trace),
    cereal::make_nvp("trace_dropped", p.trace_dropped));
}

std::string to_json(const Profile& profile) {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive archive(out);
    archive(cereal::make_nvp("profile", const_cast<Profile&>(profile)));
  }
  return out.str();
}

Profile profile_from_json(const std::string& json) {
  Profile profile;
  try {
    std::istringstream in(json);
    cereal::JSONInputArchive archive(in);
    archive(cereal::make_nvp("profile", profile));
  } catch (const std::exception& e) {
    throw Error(std::string("profile_from_json: not a profile: ") + e.what());
  }
  // The outputs index the nodes by trace events' node numbers.
  for (std::size_t i = 0; i < profile.trace.size(); ++i)
    if (profile.trace[i].node >= profile.nodes.size())
      throw Error(fmt::format(
          "profile_from_json: not a profile: trace event {} names node {}, but there are {} nodes",
          i, profile.trace[i].node, profile.nodes.size()));
  return profile;
}

}  // namespace aetherflow
