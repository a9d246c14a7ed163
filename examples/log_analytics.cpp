// Access-log analytics: parse each line of a web server log, look at every request three ways
// at once (which page, what status, how many bytes), join the three views of each request,
// and tally. Errors take a second route to their own ordered sink.
//
//   log_analytics [--lines N] [--threads T] [--batch B] [--seed S] [--dot FILE]
//
// The log is generated (seeded, deterministic) in the common log format. Reading real log
// files, far larger than memory, comes with the streaming sources.

#include <flow/aetherflow.hpp>

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

namespace {

struct Options {
  std::uint64_t lines = 2'000'000;
  std::size_t threads = 0;
  std::size_t batch = 256;
  std::uint64_t seed = 42;
  std::string dot;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--lines")
      o.lines = std::strtoull(value, nullptr, 10);
    else if (flag == "--threads")
      o.threads = std::strtoul(value, nullptr, 10);
    else if (flag == "--batch")
      o.batch = std::strtoul(value, nullptr, 10);
    else if (flag == "--seed")
      o.seed = std::strtoull(value, nullptr, 10);
    else if (flag == "--dot")
      o.dot = value;
    else {
      std::cerr << "unknown option " << flag << "\n";
      std::exit(2);
    }
  }
  return o;
}

// A seeded generator of common-log-format lines; about one line in 200 is garbage.
class LogGenerator {
 public:
  LogGenerator(std::uint64_t lines, std::uint64_t seed) : left_(lines), state_(seed | 1) {}

  std::optional<std::string> operator()() {
    if (left_ == 0) return std::nullopt;
    --left_;
    const auto r = next();
    if (r % 200 == 0) return "garbage line " + std::to_string(r);
    static constexpr std::string_view pages[] = {
        "/", "/index.html", "/about", "/products", "/products/42", "/cart", "/api/search"};
    static constexpr int statuses[] = {200, 200, 200, 200, 200, 304, 404, 500};
    const auto page = pages[(r >> 8) % std::size(pages)];
    const int status = statuses[(r >> 16) % std::size(statuses)];
    const auto bytes = status == 304 ? 0 : 200 + (r >> 24) % 50'000;
    return "10.0." + std::to_string((r >> 32) % 256) + "." + std::to_string((r >> 40) % 256) +
           " - - [22/Nov/2026:10:00:00 +0000] \"GET " + std::string(page) +
           "?q=" + std::to_string(r % 97) + " HTTP/1.1\" " + std::to_string(status) + " " +
           std::to_string(bytes);
  }

 private:
  std::uint64_t next() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ULL;
  }
  std::uint64_t left_;
  std::uint64_t state_;
};

struct Request {
  std::string path;  // without the query string
  int status = 0;
  std::uint64_t bytes = 0;
};

// host ident user [time] "METHOD path PROTOCOL" status bytes
std::optional<Request> parse(const std::string& line) {
  const auto open = line.find('"');
  const auto close = line.find('"', open + 1);
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  const std::string_view request(line.data() + open + 1, close - open - 1);
  const auto space1 = request.find(' ');
  const auto space2 = request.rfind(' ');
  if (space1 == std::string_view::npos || space2 <= space1) return std::nullopt;
  auto path = request.substr(space1 + 1, space2 - space1 - 1);
  path = path.substr(0, path.find('?'));

  Request r{std::string(path)};
  const char* p = line.data() + close + 2;
  const char* end = line.data() + line.size();
  auto [after_status, e1] = std::from_chars(p, end, r.status);
  if (e1 != std::errc()) return std::nullopt;
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

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  aetherflow::Flow flow("log_analytics");
  Tally tally;
  std::vector<std::string> first_errors;
  std::uint64_t errors = 0;

  auto lines = flow.source("log", LogGenerator(options.lines, options.seed));
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

  if (!options.dot.empty()) std::ofstream(options.dot) << flow.to_dot();

  const aetherflow::RunReport report =
      flow.run({.threads = options.threads, .batch_size = options.batch});

  std::cout << report << "\n";
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

  // Every line is accounted for: parsed or dropped as unparsable.
  const bool balanced =
      report.node("parse").in == report.node("parse").out + report.node("parse").filtered &&
      tally.requests == report.node("parse").out;
  return balanced ? 0 : 1;
}
