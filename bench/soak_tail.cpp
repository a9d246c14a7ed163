// Memory over a long run of a job that never ends: a writer thread appends trades to a file
// at a steady rate and rotates it every 30 s (renamed to FILE.1, a new FILE created), while a
// flow follows it (read_lines, follow mode, checkpointed every second) through a parse and a
// per-symbol VWAP into a sink. The resident memory is sampled every second. At the end the
// writer stops, the flow is drained once it has read every line written, and the program
// prints the samples and a summary:
//
//   soak_tail [SECONDS [LINES_PER_SECOND]]      (default 600 s at 20 000 lines/s)
//
// Goal (issue 19): no growth after the first minute (a fifth of the run, when shorter): the
// largest sample after it at most 5% (and 1 MiB) above the sample at its end. Exit code 1 if
// missed, or if a line written was not read exactly once. ctest -L memory runs it for 10
// minutes (memory.soak_tail_flat_rss); docs/performance.md has the figures.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <flow/aetherflow.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::uint64_t rss_kib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

struct Trade {
  std::string_view symbol;
  double price = 0;
  double quantity = 0;
};

// "SYM7,101.25,300": symbol, price, quantity.
Trade parse(std::string_view line) {
  Trade t;
  const auto a = line.find(','), b = line.find(',', a + 1);
  t.symbol = line.substr(0, a);
  t.price = std::stod(std::string(line.substr(a + 1, b - a - 1)));
  t.quantity = std::stod(std::string(line.substr(b + 1)));
  return t;
}

// Appends `rate` lines a second to `path` until stopped, rotating it every 30 s; returns the
// lines written.
std::uint64_t write_trades(const std::string& path, std::int64_t rate, std::stop_token stop) {
  std::uint64_t written = 0;
  auto out = std::make_optional<std::ofstream>(path, std::ios::app);
  const auto start = Clock::now();
  auto rotated = start;
  char line[64];
  while (!stop.stop_requested()) {
    const auto now = Clock::now();
    if (now - rotated >= 30s) {
      out.reset();
      std::filesystem::rename(path, path + ".1");  // the previous .1 goes
      out.emplace(path, std::ios::app);
      rotated = now;
    }
    const auto due = static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() *
                                                static_cast<double>(rate));
    for (; written < due; ++written) {
      const int n = std::snprintf(line, sizeof line, "SYM%llu,%llu.25,%llu\n",
                                  static_cast<unsigned long long>(written % 50),
                                  static_cast<unsigned long long>(100 + written % 7),
                                  static_cast<unsigned long long>(1 + written % 500));
      out->write(line, n);
    }
    out->flush();
    std::this_thread::sleep_for(1ms);
  }
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::stoi(argv[1]) : 600;
  const std::int64_t rate = argc > 2 ? std::stoll(argv[2]) : 20'000;
  const std::string dir =
      std::filesystem::temp_directory_path() / ("aetherflow_soak_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/trades.csv";
  std::ofstream(path).close();

  std::atomic<std::uint64_t> read{0};
  std::map<std::string, std::pair<double, double>, std::less<>> vwap;  // symbol: pv, volume
  aetherflow::Flow flow("soak_tail");
  flow.source("trades", aetherflow::read_lines(path, {.follow = true})) >>
      flow.node("parse", parse) >>
      flow.node("vwap",
                [&](const Trade& t) {
                  auto it = vwap.find(t.symbol);
                  if (it == vwap.end())
                    it = vwap.emplace(std::string(t.symbol), std::pair{0.0, 0.0}).first;
                  it->second.first += t.price * t.quantity;
                  it->second.second += t.quantity;
                  return it->second.first / it->second.second;
                },
                {.concurrency = aetherflow::serial}) >>
      flow.node("sink", [&](double) { read.fetch_add(1, std::memory_order_relaxed); });

  std::stop_source drain, stop_writing;
  std::uint64_t written = 0;
  std::thread writer([&] { written = write_trades(path, rate, stop_writing.get_token()); });
  std::vector<std::uint64_t> samples;  // KiB, one a second
  std::thread sampler([&] {
    for (int s = 0; s < seconds; ++s) {
      std::this_thread::sleep_for(1s);
      samples.push_back(rss_kib());
    }
    stop_writing.request_stop();
    writer.join();
    const auto until = Clock::now() + 60s;  // bounded: lines not read are reported below
    while (read.load() < written && Clock::now() < until) std::this_thread::sleep_for(10ms);
    drain.request_stop();
  });
  const aetherflow::RunReport report =
      flow.run({.threads = 2,
                .drain = drain.get_token(),
                .checkpoint = {.path = dir + "/soak.ckpt", .interval = 1s, .resume = false}});
  sampler.join();
  std::filesystem::remove_all(dir);

  for (std::size_t s = 0; s < samples.size(); ++s)
    std::printf("%zu s %llu rss_kib\n", s + 1, static_cast<unsigned long long>(samples[s]));
  const std::size_t warm = std::min<std::size_t>(60, samples.size() / 5);
  const std::uint64_t at_warm = samples.at(std::max<std::size_t>(warm, 1) - 1);
  const std::uint64_t peak_after =
      *std::max_element(samples.begin() + static_cast<std::ptrdiff_t>(warm), samples.end());
  const bool flat = peak_after <= std::max(at_warm * 105 / 100, at_warm + 1024);
  const bool exact = report.node("trades").out == written && read.load() == written;
  std::printf(
      "soak_tail: %d s at %lld lines/s: %llu lines written, %llu read; RSS %llu KiB after %zu "
      "s, at most %llu KiB after it, %llu KiB at the end: %s; %s\n",
      seconds, static_cast<long long>(rate), static_cast<unsigned long long>(written),
      static_cast<unsigned long long>(read.load()), static_cast<unsigned long long>(at_warm), warm,
      static_cast<unsigned long long>(peak_after), static_cast<unsigned long long>(samples.back()),
      flat ? "flat" : "GROWS", exact ? "every line read once" : "LINES LOST OR REPEATED");
  return flat && exact ? 0 : 1;
}
