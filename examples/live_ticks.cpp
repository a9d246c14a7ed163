// Live ticks: a job that never ends by itself. A writer thread appends trades to a log file at
// a steady rate, rotating it every 10,000 trades; the flow tails the file (read_lines follow
// mode, like tail -F), parses each trade, enriches it with its symbol's sector through an
// async call to a local HTTP service (cpp-httplib on 127.0.0.1, a port the system picks), and
// keeps each symbol's rolling VWAP over its last 50 trades in an ordered sink. The progress
// line shows every node's rate and the operations in flight. Ctrl-C (SIGINT) or SIGTERM drains
// the run: what was read is processed, and the example checks it; a second signal cancels.
//
//   aetherflow-examples live_ticks [--seconds S] [--rate TRADES_PER_SECOND] [--threads T]
//
// With --seconds, the writer stops after S seconds, the flow catches up with what it wrote,
// and the run is drained: then every trade written must have been processed exactly once, and
// each symbol's VWAP must equal the plain computation over the trades in the order written.
// Stopped by a signal instead, the writer is still writing: the check is that every trade
// processed was written, none twice, in order. Without either, it runs until a signal.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>

#include <examples/example.hpp>
#include <examples/support/fields.hpp>
#include <examples/support/local_http_server.hpp>

namespace aetherflow::examples {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kRotateEvery = 10'000;  // trades per log file
constexpr std::size_t kWindow = 50;           // trades in a rolling VWAP

// Symbols and their sectors, as the reference-data service knows them.
const std::vector<std::pair<std::string, std::string>> kSymbols = {
    {"AAPL", "technology"}, {"MSFT", "technology"}, {"JPM", "financials"},
    {"XOM", "energy"},      {"JNJ", "health care"}, {"KO", "consumer staples"}};

struct Trade {
  std::uint64_t seq = 0;
  std::string symbol;
  std::int64_t cents = 0;
  std::int64_t quantity = 0;
};
struct Enriched {
  Trade trade;
  std::string sector;
};

// The line a trade is written as: seq,symbol,cents,quantity.
std::string line_of(const Trade& t) {
  return fmt::format("{},{},{},{}\n", t.seq, t.symbol, t.cents, t.quantity);
}

std::optional<Trade> parse(std::string_view line) {
  const auto field = split_fields<4>(line);
  if (!field) return std::nullopt;
  const auto seq = integer((*field)[0]), cents = integer((*field)[2]);
  const auto quantity = integer((*field)[3]);
  if (!seq || !cents || !quantity || (*field)[1].empty()) return std::nullopt;
  return Trade{static_cast<std::uint64_t>(*seq), std::string((*field)[1]), *cents, *quantity};
}

// Appends trades to `path` at `rate` a second until stopped, rotating the file (renamed to
// path.1, then created anew) every kRotateEvery trades. Keeps what it wrote, in order.
class TradeWriter {
 public:
  TradeWriter(std::filesystem::path path, std::uint64_t rate) : path_(std::move(path)) {
    std::ofstream(path_, std::ios::trunc).flush();  // the file exists before the flow starts
    thread_ = std::jthread([this, rate](std::stop_token stop) { write(stop, rate); });
  }
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  // After stop(): every trade written.
  const std::vector<Trade>& written() const { return written_; }
  std::uint64_t count() const { return count_.load(); }

 private:
  void write(const std::stop_token& stop, std::uint64_t rate) {
    std::ofstream out(path_, std::ios::app);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 0; !stop.stop_requested(); ++seq) {
      std::this_thread::sleep_until(start + std::chrono::nanoseconds(1'000'000'000 * seq / rate));
      if (seq > 0 && seq % kRotateEvery == 0) {
        out.close();
        std::filesystem::rename(path_, path_.string() + ".1");
        out.open(path_, std::ios::trunc);
      }
      const auto& [symbol, sector] = kSymbols[(seq * 7 + seq / 3) % kSymbols.size()];
      Trade t{seq, symbol, 10'000 + static_cast<std::int64_t>((seq * 37) % 500),
              1 + static_cast<std::int64_t>(seq % 9) * 10};
      out << line_of(t) << std::flush;
      written_.push_back(std::move(t));
      count_.store(seq + 1);
    }
  }

  std::filesystem::path path_;
  std::vector<Trade> written_;
  std::atomic<std::uint64_t> count_{0};
  std::jthread thread_;  // last: joined before the rest goes
};

// The reference-data service: GET /sector/<symbol>.
void sector_routes(httplib::Server& server) {
  server.Get(R"(/sector/(\w+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string symbol = req.matches[1];
    const auto it = std::find_if(kSymbols.begin(), kSymbols.end(),
                                 [&](const auto& s) { return s.first == symbol; });
    if (it == kSymbols.end()) {
      res.status = 404;
      return;
    }
    res.set_content(it->second, "text/plain");
  });
}

// The client side: a few threads, each with its own keep-alive connection, taking requests
// from a queue and completing each with the reply (httplib's client calls block).
class SectorClient {
 public:
  SectorClient(int port, std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this, port](std::stop_token stop) { serve(stop, port); });
  }
  ~SectorClient() {
    for (auto& t : threads_) t.request_stop();
    ready_.notify_all();
  }
  void lookup(Trade t, Completion<Enriched> done) {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(t), std::move(done));
    }
    ready_.notify_one();
  }

 private:
  void serve(const std::stop_token& stop, int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    for (;;) {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      auto [trade, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      if (done.stop_requested()) continue;  // the flow gave up on it
      const auto res = client.Get("/sector/" + trade.symbol);
      if (!res || res->status != 200)
        done.set_error(std::make_exception_ptr(Error(fmt::format(
            "GET /sector/{}: {}", trade.symbol,
            res ? fmt::format("status {}", res->status) : httplib::to_string(res.error())))));
      else
        done.set_value(Enriched{std::move(trade), res->body});
    }
  }

  std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<std::pair<Trade, Completion<Enriched>>> queue_;
  std::vector<std::jthread> threads_;  // last: joined first
};

// Rolling VWAP over a symbol's last kWindow trades.
struct Window {
  std::deque<std::pair<std::int64_t, std::int64_t>> trades;  // cents, quantity
  std::int64_t notional = 0, volume = 0;
  std::uint64_t count = 0;
  void add(std::int64_t cents, std::int64_t quantity) {
    trades.emplace_back(cents, quantity);
    notional += cents * quantity;
    volume += quantity;
    ++count;
    if (trades.size() <= kWindow) return;
    notional -= trades.front().first * trades.front().second;
    volume -= trades.front().second;
    trades.pop_front();
  }
  double vwap() const { return volume ? static_cast<double>(notional) / volume / 100 : 0; }
};

struct Symbol {
  std::string sector;
  Window window;
};

// The progress line: elapsed time, then each node's rate, and the operations in flight.
std::function<void(const Progress&)> rates_line() {
  return [](const Progress& p) {
    std::string line =
        fmt::format("\r\x1b[K{:6.1f} s", std::chrono::duration<double>(p.elapsed).count());
    for (const NodeProgress& n : p.nodes) {
      line += fmt::format(" | {} {:.0f}/s", n.name, n.out_per_second);
      if (n.in_flight) line += fmt::format(" ({} in flight)", *n.in_flight);
    }
    std::cerr << line << (p.done ? "\n" : "") << std::flush;
  };
}

int run(const CommonOptions& options, double seconds, std::uint64_t rate) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("aetherflow-live-ticks-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path log = dir / "trades.log";

  const LocalHttpServer service(sector_routes);
  SectorClient client(service.port(), 8);
  std::map<std::string, Symbol> symbols;
  std::vector<std::uint64_t> processed;  // sequence numbers, in the order the sink saw them
  std::atomic<std::uint64_t> sunk{0};

  Flow flow("live_ticks");
  flow.source("tail", read_lines(log.string(), {.follow = true})) >> flow.node("parse", parse) >>
      flow.node("enrich", async([&client](Trade t, Completion<Enriched> done) {
                  client.lookup(std::move(t), std::move(done));
                }),
                {.retry = Retry{.retries = 2}, .max_in_flight = 256, .operation_timeout = 2s}) >>
      flow.node("vwap",
                [&](const Enriched& e) {
                  Symbol& s = symbols[e.trade.symbol];
                  s.sector = e.sector;
                  s.window.add(e.trade.cents, e.trade.quantity);
                  processed.push_back(e.trade.seq);
                  sunk.fetch_add(1, std::memory_order_relaxed);
                },
                {.ordered = true});

  TradeWriter writer(log, rate);
  std::stop_source drain;
  // With --seconds: stop writing, let the flow catch up (at most 10 s more), then drain.
  std::jthread timer;
  if (seconds > 0)
    timer = std::jthread([&](std::stop_token cancelled) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      cv.wait_for(lock, cancelled, std::chrono::duration<double>(seconds), [] { return false; });
      if (cancelled.stop_requested()) return;
      writer.stop();
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (sunk.load() < writer.count() && std::chrono::steady_clock::now() < give_up &&
             !cancelled.stop_requested())
        std::this_thread::sleep_for(5ms);
      drain.request_stop();
    });

  RunOptions run = run_options(options, "tail");
  run.drain = drain.get_token();
  run.stop_on_signals = true;
  run.progress = options.progress ? rates_line() : std::function<void(const Progress&)>{};
  run.progress_interval = 500ms;
  const RunReport report = flow.run(run);
  timer = {};  // joined: the writer is stopped or stops below
  writer.stop();
  std::filesystem::remove_all(dir);

  std::cout << report << "\n";
  std::cout << fmt::format("{:<6} {:<18} {:>8} {:>12}\n", "symbol", "sector", "trades",
                           fmt::format("vwap({})", kWindow));
  for (const auto& [name, s] : symbols)
    std::cout << fmt::format("{:<6} {:<18} {:>8} {:>12.4f}\n", name, s.sector, s.window.count,
                             s.window.vwap());
  std::cout << "stopped: " << report.stop_reason << "\n";

  // The checks. Processed: a prefix of what was written, in order, none twice.
  const auto& written = writer.written();
  bool in_order = processed.size() <= written.size();
  for (std::size_t i = 0; in_order && i < processed.size(); ++i) in_order = processed[i] == i;
  std::cout << fmt::format("trades written {}, processed {}; each once, in order: {}\n",
                           written.size(), processed.size(), in_order ? "yes" : "no");
  if (!in_order) return kExitWrongResult;
  if (seconds <= 0) return kExitOk;  // stopped by a signal while the writer wrote
  // A drained run after the writer stopped: all of it, and the VWAPs of a plain computation.
  std::map<std::string, Window> plain;
  for (const Trade& t : written) plain[t.symbol].add(t.cents, t.quantity);
  bool same = processed.size() == written.size() && plain.size() == symbols.size();
  for (const auto& [name, w] : plain)
    same = same && symbols.count(name) && symbols.at(name).window.vwap() == w.vwap() &&
           symbols.at(name).window.count == w.count;
  std::cout << "every trade processed, VWAPs match a plain computation: " << (same ? "yes" : "no")
            << "\n";
  return same ? kExitOk : kExitWrongResult;
}

}  // namespace

Example live_ticks() {
  return {"live_ticks",
          "tail a rotating trade log, enrich through a local HTTP service, rolling VWAP",
          false,
          "",
          0,
          [](CLI::App& app) -> ExampleMain {
            auto seconds = std::make_shared<double>(0);
            auto rate = std::make_shared<std::uint64_t>(2000);
            app.add_option("--seconds", *seconds,
                           "write for this long, then catch up and drain (default: until a "
                           "signal)")
                ->check(CLI::NonNegativeNumber);
            app.add_option("--rate", *rate, "trades written per second")
                ->check(whole_number())
                ->check(CLI::Range(1, 1'000'000));
            return [seconds, rate](const CommonOptions& options) {
              return run(options, *seconds, *rate);
            };
          }};
}

}  // namespace aetherflow::examples
