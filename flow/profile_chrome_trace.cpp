// The profile's trace as Chrome trace events (Perfetto, chrome://tracing).
#include <flow/profile.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <flow/detail/trace_coverage.hpp>

namespace aetherflow {
namespace {

// A string as a JSON string literal.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string to_chrome_trace(const Profile& p) {
  // One process per rank of a cluster run's job (pid 1 for rank 0, alone or not).
  const auto pid = [](std::size_t thread) { return 1 + thread / kThreadsPerRank; };
  const auto tid = [](std::size_t thread) { return thread % kThreadsPerRank; };
  std::size_t ranks = 1;
  for (const auto& t : p.thread_profiles) ranks = std::max(ranks, pid(t.index));
  std::string out = "{\"traceEvents\":[\n";
  for (std::size_t r = 0; r < ranks; ++r)
    out += fmt::format(
        "{}{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{},\"args\":{{\"name\":{}}}}}",
        r ? ",\n" : "", r + 1,
        json_string("aetherflow flow " + p.flow + (ranks > 1 ? fmt::format(", rank {}", r) : "")));
  for (const auto& t : p.thread_profiles)
    out += fmt::format(
        ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":"
        "\"worker {}\"}}}}",
        pid(t.index), tid(t.index), tid(t.index));
  auto slice = [&](std::string_view name, std::string_view category, std::uint32_t thread,
                   std::uint64_t start_ns, std::uint64_t duration_ns, std::string_view args) {
    out += fmt::format(
        ",\n{{\"name\":{},\"cat\":{},\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{:.3f},"
        "\"dur\":{:.3f},\"args\":{{{}}}}}",
        json_string(name), json_string(category), pid(thread), tid(thread),
        static_cast<double>(start_ns) / 1e3, static_cast<double>(duration_ns) / 1e3, args);
  };
  for (const auto& e : p.trace) {
    const NodeProfile& n = p.nodes[e.node];
    slice(n.name, n.kind, e.thread, e.start_ns, e.duration_ns,
          fmt::format("\"items\":{},\"wait_ns\":{}", e.items, e.wait_ns));
    // A call's waits for locks and pools are not its work: drawn as a slice of their own
    // inside the call (at its start: a call records how long it waited, not when).
    if (e.wait_ns > 0)
      slice("waiting for " + (n.operations ? std::string("operations")
                              : n.shared_resources.empty()
                                  ? std::string("a pool")
                                  : fmt::format("{}", fmt::join(n.shared_resources, ", "))),
            "wait", e.thread, e.start_ns, std::min(e.wait_ns, e.duration_ns),
            fmt::format("\"node\":{}", json_string(n.name)));
  }
  // An async node's operations in flight, as a counter track of the rank's process.
  for (const NodeProfile& n : p.nodes)
    for (const InFlightSample& s : n.in_flight)
      out += fmt::format(
          ",\n{{\"name\":{},\"ph\":\"C\",\"pid\":1,\"ts\":{:.3f},\"args\":{{\"in flight\":{}}}}}",
          json_string(n.name + " operations"), static_cast<double>(s.at_ns) / 1e3, s.in_flight);
  const std::uint64_t calls = p.trace.size() + p.trace_dropped;
  out += fmt::format(
      "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"flow\":{},\"calls\":{},"
      "\"traced_calls\":{},\"dropped_events\":{},\"sampling\":{}}}}}\n",
      json_string(p.flow), calls, p.trace.size(), p.trace_dropped,
      json_string(detail::trace_coverage(p)));
  return out;
}

}  // namespace aetherflow
