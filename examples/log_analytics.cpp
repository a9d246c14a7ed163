// Access-log analytics: stream a web server log line by line, look at every request three ways
// at once (which page, what status, how many bytes), join the three views of each request,
// and tally. Errors take a second route to their own ordered sink.
//
//   aetherflow-examples log_analytics [--input FILE | --size LINES] [--threads T] [--batch B]
//
// Without --input, a log of about LINES lines (default 1,000,000) is generated first, in the
// common log format, seeded and deterministic (scripts/datagen.hpp).

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <examples/example.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {
namespace {

struct Request {
  std::string path;  // without the query string
  int status = 0;
  std::uint64_t bytes = 0;
};

// host ident user [time] "METHOD path PROTOCOL" status bytes
std::optional<Request> parse(std::string_view line) {
  const auto open = line.find('"');
  const auto close = line.find('"', open + 1);
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  const std::string_view request(line.data() + open + 1, close - open - 1);
  const auto space1 = request.find(' ');
  const auto space2 = request.rfind(' ');
  if (space1 == std::string_view::npos || space2 <= space1) return std::nullopt;
  auto path = request.substr(space1 + 1, space2 - space1 - 1);
  path = path.substr(0, path.find('?'));

  if (close + 2 >= line.size()) return std::nullopt;
  Request r{std::string(path)};
  const char* p = line.data() + close + 2;
  const char* end = line.data() + line.size();
  auto [after_status, e1] = std::from_chars(p, end, r.status);
  if (e1 != std::errc() || after_status == end) return std::nullopt;
  auto [after_bytes, e2] = std::from_chars(after_status + 1, end, r.bytes);
  if (e2 != std::errc()) return std::nullopt;
  return r;
}

struct Tally {
  std::map<std::string, std::uint64_t> hits;
  std::map<std::string, std::uint64_t> by_class;
  std::uint64_t bytes = 0;
  std::uint64_t requests = 0;
};

int run(const CommonOptions& options) {
  // Without --input: about 85 bytes a line.
  const ExampleInput log(options, "access.log", datagen::Kind::access_log, options.size * 85);
  const std::string& input = log.path();

  aetherflow::Flow flow("log_analytics");
  Tally tally;
  std::vector<std::string> first_errors;
  std::uint64_t errors = 0;

  auto lines = flow.source("access_log", aetherflow::read_lines(input));
  auto requests = flow.node("parse", parse);
  auto page = flow.node("page", [](const Request& r) { return r.path; });
  auto status_class = flow.node(
      "status_class", [](const Request& r) { return std::to_string(r.status / 100) + "xx"; });
  auto bytes = flow.node("bytes", [](const Request& r) { return r.bytes; });
  auto combine = flow.fan_in("combine", [](std::string p, std::string c, std::uint64_t b) {
    return std::tuple{std::move(p), std::move(c), b};
  });
  auto count =
      flow.node("tally", [&tally](const std::tuple<std::string, std::string, std::uint64_t>& v) {
        ++tally.hits[std::get<0>(v)];
        ++tally.by_class[std::get<1>(v)];
        tally.bytes += std::get<2>(v);
        ++tally.requests;
      });
  auto outcome = flow.branch_on("outcome", [](const Request& r) { return r.status >= 400; });
  auto error_log = flow.node("error_log",
                             [&](const Request& r) {
                               if (first_errors.size() < 3)
                                 first_errors.push_back(std::to_string(r.status) + " " + r.path);
                               ++errors;
                             },
                             {.ordered = true});

  lines >> requests >> aetherflow::fan_out(page, status_class, bytes, outcome);
  aetherflow::fan_out(page, status_class, bytes) >> combine >> count;
  outcome.when(true) >> error_log;
  outcome.when(false) >>
      flow.node("ok", [](const Request&) {}, {.concurrency = aetherflow::unlimited});

  // The flagship example: profiled always, the profile printed after the report.
  RunOptions run = run_options(options, "access_log");
  run.profile = true;
  const aetherflow::RunReport report = flow.run(run);

  std::cout << report << "\n";
  if (options.profile_dir.empty()) std::cout << *report.profile << "\n";
  finish_run(options, flow, report);
  std::cout << "requests " << tally.requests << ", bytes served " << tally.bytes << "\n";
  std::cout << "by status:";
  for (const auto& [c, n] : tally.by_class) std::cout << " " << c << "=" << n;
  std::cout << "\ntop pages:\n";
  std::vector<std::pair<std::uint64_t, std::string>> top;
  for (const auto& [p, n] : tally.hits) top.emplace_back(n, p);
  std::sort(top.rbegin(), top.rend());
  for (std::size_t i = 0; i < std::min<std::size_t>(5, top.size()); ++i)
    std::cout << "  " << top[i].second << "  " << top[i].first << "\n";
  std::cout << "errors " << errors << ", first:";
  for (const auto& e : first_errors) std::cout << " [" << e << "]";
  std::cout << "\nunparsable lines " << report.node("parse").filtered << "\n";

  // Every line is accounted for: parsed or dropped as unparsable; and some did parse.
  const bool balanced =
      report.node("parse").in == report.node("parse").out + report.node("parse").filtered &&
      tally.requests == report.node("parse").out;
  return anything_parsed(report, "parse") && balanced ? kExitOk : kExitWrongResult;
}

}  // namespace

Example log_analytics() {
  return {"log_analytics",
          "the flagship: an access log streamed line by line, fan-out to three views of each "
          "request, a fan-in, branch_on to an ordered error sink; profiled",
          true,
          "lines",
          1'000'000,
          [](CLI::App&) -> ExampleMain { return run; }};
}

}  // namespace aetherflow::examples
