// Access-log analytics: stream a web server log line by line, look at every request three ways
// at once (which page, what status, how many bytes), join the three views of each request,
// and tally them by key on every core (count_by, sum_by). Errors take a second route to their
// own ordered sink.
//
//   aetherflow-examples log_analytics [--input FILE | --size LINES] [--threads T] [--batch B]
//                                     [--output FILE]
//
// Without --input, a log of about LINES lines (default 1,000,000) is generated first, in the
// common log format, seeded and deterministic (scripts/datagen.hpp).

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <examples/example.hpp>
#include <examples/support/sorted_output.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {
namespace {

struct Request {
  std::string path;  // without the query string
  int status = 0;
  std::uint64_t bytes = 0;
  template <class Archive>
  void serialize(Archive& archive) {  // the error log gathers requests from every rank
    archive(path, status, bytes);
  }
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

// One request seen three ways, joined again by the fan-in: page, status class, bytes.
using View = std::tuple<std::string, std::string, std::uint64_t>;

const std::string& page_of(const View& v) {
  return std::get<0>(v);
}
const std::string& class_of(const View& v) {
  return std::get<1>(v);
}

int run(const CommonOptions& options, const std::string& output) {
  // Without --input: about 85 bytes a line.
  const ExampleInput log(options, "access.log", datagen::Kind::access_log, options.size * 85);
  const std::string& input = log.path();

  aetherflow::Flow flow("log_analytics");
  KeyedRows hits, requests, served;  // per page; per status class: requests, bytes
  std::vector<std::string> first_errors;
  std::uint64_t errors = 0;

  auto lines = flow.source("access_log", aetherflow::read_lines(input));
  auto parsed = flow.node("parse", parse);
  auto page = flow.node("page", [](const Request& r) { return r.path; });
  auto status_class = flow.node(
      "status_class", [](const Request& r) { return std::to_string(r.status / 100) + "xx"; });
  auto bytes = flow.node("bytes", [](const Request& r) { return r.bytes; });
  auto combine = flow.fan_in("combine", [](std::string p, std::string c, std::uint64_t b) {
    return View{std::move(p), std::move(c), b};
  });
  // The tallies, by key on every core.
  auto by_page = flow.node("hits", aetherflow::count_by(page_of));
  auto by_class = flow.node("requests", aetherflow::count_by(class_of));
  auto bytes_by_class = flow.node(
      "served", aetherflow::sum_by(class_of, [](const View& v) { return std::get<2>(v); }));
  auto outcome = flow.branch_on("outcome", [](const Request& r) { return r.status >= 400; });
  auto error_log = flow.node("error_log",
                             [&](const Request& r) {
                               if (first_errors.size() < 3)
                                 first_errors.push_back(std::to_string(r.status) + " " + r.path);
                               ++errors;
                             },
                             {.ordered = true, .gathered = true});

  lines >> parsed >> aetherflow::fan_out(page, status_class, bytes, outcome);
  aetherflow::fan_out(page, status_class, bytes) >> combine >>
      aetherflow::fan_out(by_page, by_class, bytes_by_class);
  // Gathered: on a cluster, every rank's tallies and errors reach rank 0 (docs/distributed.md).
  by_page >> flow.node("keep_hits", aetherflow::collect(hits), {.gathered = true});
  by_class >> flow.node("keep_requests", aetherflow::collect(requests), {.gathered = true});
  bytes_by_class >> flow.node("keep_served", aetherflow::collect(served), {.gathered = true});
  outcome.when(true) >> error_log;
  outcome.when(false) >>
      flow.node("ok", [](const Request&) {}, {.concurrency = aetherflow::unlimited});

  // The flagship example: profiled always, the profile printed after the report.
  RunOptions run = run_options(options, "access_log");
  run.profile = true;
  const aetherflow::RunReport report = flow.run(run);
  if (!prints_results(options)) return kExitOk;  // rank 0 prints and checks the job's

  std::cout << report << "\n";
  if (options.profile_dir.empty()) std::cout << *report.profile << "\n";
  finish_run(options, flow, report);
  std::uint64_t total_requests = 0, total_bytes = 0;
  for (const auto& [c, n] : requests) total_requests += n;
  for (const auto& [c, n] : served) total_bytes += n;
  std::sort(requests.begin(), requests.end());
  std::cout << "requests " << total_requests << ", bytes served " << total_bytes << "\n";
  std::cout << "by status:";
  for (const auto& [c, n] : requests) std::cout << " " << c << "=" << n;
  std::cout << "\ntop pages:\n";
  KeyedRows top = hits;
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (std::size_t i = 0; i < std::min<std::size_t>(5, top.size()); ++i)
    std::cout << "  " << top[i].first << "  " << top[i].second << "\n";
  std::cout << "errors " << errors << ", first:";
  for (const auto& e : first_errors) std::cout << " [" << e << "]";
  std::cout << "\nunparsable lines " << report.node("parse").filtered << "\n";

  if (!output.empty()) {
    KeyedRows rows;
    auto add = [&rows](const char* tally, const KeyedRows& from) {
      for (const auto& [key, n] : from) rows.emplace_back(std::string(tally) + " " + key, n);
    };
    add("page", hits);
    add("requests", requests);
    add("bytes", served);
    write_sorted(output, std::move(rows));
  }

  // Every line is accounted for: parsed or dropped as unparsable; and some did parse.
  const auto& p = report.node("parse");
  const bool balanced = p.in == p.out + p.filtered && total_requests == p.out;
  return anything_parsed(report, "parse") && balanced ? kExitOk : kExitWrongResult;
}

}  // namespace

Example log_analytics() {
  return {"log_analytics",
          "the flagship: an access log streamed line by line, fan-out to three views of each "
          "request, a fan-in, tallies by key, branch_on to an ordered error sink; profiled",
          true,
          "lines",
          1'000'000,
          [](CLI::App& app) -> ExampleMain {
            auto output = std::make_shared<std::string>();
            app.add_option("-o,--output", *output,
                           "write the tallies there, one 'tally key<TAB>value' line each "
                           "(page, requests and bytes by status class), sorted");
            return [output](const CommonOptions& o) { return run(o, *output); };
          },
          true};
}

}  // namespace aetherflow::examples
