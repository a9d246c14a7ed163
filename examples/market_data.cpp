// Market data: CSV trades -> per-symbol one-minute bars (open, high, low, close, volume, VWAP).
// Trades are partitioned by symbol with consistent hashing, so each replica owns its symbols'
// bars outright and updates them without a lock. The bars are then checked against the same
// computation done the plain way: one thread, one line after another.
//
//   aetherflow-examples market_data [--input FILE | --size TRADES] [--partitions N]
//                                   [--threads T] [--batch B] [--output FILE]
//
// Input: a header line, then symbol,price,quantity,timestamp lines such as
// "AAPL,187.25,120,2026-11-22T10:00:03.500Z" (scripts/generate_data trades writes them).
// Lines that do not parse are counted and skipped. Prices are kept in cents and notional in
// cents x shares, integers, so the parallel sums equal the plain ones exactly.

#include <charconv>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <examples/example.hpp>
#include <examples/support/fields.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {
namespace {

struct Trade {
  std::string symbol;
  std::int64_t cents = 0;     // price
  std::int64_t quantity = 0;  // shares
  std::string minute;         // "2026-11-22T10:00": the bar it belongs to
  std::int64_t ms = 0;        // time within the day, for open and close
};

// "187.25" -> 18725; at most two decimals.
std::optional<std::int64_t> cents(std::string_view text) {
  const auto dot = text.find('.');
  const auto whole = integer(text.substr(0, dot));
  if (!whole) return std::nullopt;
  if (dot == std::string_view::npos) return *whole * 100;
  const std::string_view decimals = text.substr(dot + 1);
  const auto fraction = integer(decimals);
  if (!fraction || decimals.empty() || decimals.size() > 2) return std::nullopt;
  return *whole * 100 + *fraction * (decimals.size() == 1 ? 10 : 1);
}

// symbol,price,quantity,YYYY-MM-DDTHH:MM:SS.mmmZ; nullopt for the header or a malformed line.
std::optional<Trade> parse(std::string_view line) {
  const auto fields = split_fields<4>(line);
  if (!fields) return std::nullopt;
  const auto& field = *fields;
  const std::string_view time = field[3];
  if (field[0].empty() || time.size() < 23 || time[10] != 'T') return std::nullopt;
  const auto price = cents(field[1]);
  const auto quantity = integer(field[2]);
  const auto hours = integer(time.substr(11, 2)), minutes = integer(time.substr(14, 2));
  const auto seconds = integer(time.substr(17, 2)), millis = integer(time.substr(20, 3));
  if (!price || !quantity || !hours || !minutes || !seconds || !millis) return std::nullopt;
  return Trade{std::string(field[0]), *price, *quantity, std::string(time.substr(0, 16)),
               ((*hours * 60 + *minutes) * 60 + *seconds) * 1000 + *millis};
}

struct Bar {
  std::int64_t open = 0, high = 0, low = 0, close = 0;  // cents
  std::int64_t volume = 0;                              // shares
  std::int64_t notional = 0;                            // cents x shares
  std::int64_t trades = 0;
  std::int64_t first_ms = 0, last_ms = 0;  // of the open and the close
  bool operator==(const Bar&) const = default;

  void add(const Trade& t) {
    if (trades == 0) {
      open = high = low = close = t.cents;
      first_ms = last_ms = t.ms;
    }
    high = std::max(high, t.cents);
    low = std::min(low, t.cents);
    if (t.ms < first_ms) std::tie(open, first_ms) = std::tie(t.cents, t.ms);
    if (t.ms >= last_ms) std::tie(close, last_ms) = std::tie(t.cents, t.ms);
    volume += t.quantity;
    notional += t.cents * t.quantity;
    ++trades;
  }
  double vwap() const { return volume ? static_cast<double>(notional) / volume / 100 : 0; }
};

using Bars = std::map<std::pair<std::string, std::string>, Bar>;  // (symbol, minute) -> bar

// One partition's bars: a serial replica's own, so no lock. The flow keeps a copy of the
// builder; both share the bars.
struct BarBuilder {
  std::shared_ptr<Bars> bars = std::make_shared<Bars>();
  void operator()(const Trade& t) const { (*bars)[{t.symbol, t.minute}].add(t); }
};

// The same bars, the plain way.
Bars plain_bars(const std::string& path) {
  Bars bars;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);)
    if (auto trade = parse(line)) bars[{trade->symbol, trade->minute}].add(*trade);
  return bars;
}

int run(const CommonOptions& options, std::size_t partitions, const std::string& output) {
  // Without --input: about 40 bytes a trade.
  const ExampleInput trades_file(options, "trades.csv", datagen::Kind::trades, options.size * 40);
  const std::string& input = trades_file.path();

  Flow flow("market_data");
  std::vector<BarBuilder> builders(partitions);
  auto trades = flow.source("trades", read_lines(input)) >> flow.node("parse", parse);
  auto bars =
      partition(flow, "bars", partitions, [&](std::size_t i) { return builders[i]; },
                consistent_hash([](const Trade& t) { return t.symbol; }), {.concurrency = serial});
  trades >> bars.router;

  const RunReport report = flow.run(run_options(options, "trades"));
  std::cout << report << "\n";
  finish_run(options, flow, report);

  // Merge the partitions' bars: each symbol must have been in one partition only.
  Bars merged;
  std::map<std::string, std::size_t> owner;
  bool one_owner = true;
  for (std::size_t i = 0; i < partitions; ++i) {
    std::set<std::string> symbols;
    for (const auto& [key, bar] : *builders[i].bars) {
      merged.emplace(key, bar);
      symbols.insert(key.first);
    }
    for (const auto& s : symbols) one_owner &= owner.emplace(s, i).second;
    fmt::print("partition {}: {} trades, {} symbols\n", i,
               report.node(fmt::format("bars[{}]", i)).in, symbols.size());
  }
  fmt::print("{} trades, {} unparsable lines, {} bars over {} symbols\n", report.node("parse").out,
             report.node("parse").filtered, merged.size(), owner.size());
  std::size_t shown = 0;
  fmt::print("  {:<6} {:<16} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10}\n", "symbol", "minute", "open",
             "high", "low", "close", "volume", "vwap");
  for (const auto& [key, bar] : merged) {
    if (shown++ == 5) break;
    fmt::print("  {:<6} {:<16} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>8} {:>10.4f}\n", key.first,
               key.second, bar.open / 100.0, bar.high / 100.0, bar.low / 100.0, bar.close / 100.0,
               bar.volume, bar.vwap());
  }
  if (!output.empty()) {
    std::ofstream out(output);
    out << "symbol,minute,open,high,low,close,volume,vwap\n";
    for (const auto& [key, bar] : merged)
      fmt::print(out, "{},{},{:.2f},{:.2f},{:.2f},{:.2f},{},{:.4f}\n", key.first, key.second,
                 bar.open / 100.0, bar.high / 100.0, bar.low / 100.0, bar.close / 100.0, bar.volume,
                 bar.vwap());
    if (!out) throw IoError("market_data: cannot write '" + output + "'");
  }

  const bool same = one_owner && merged == plain_bars(input);
  fmt::print("each symbol in one partition: {}; matches the single-threaded bars: {}\n",
             one_owner ? "yes" : "NO", same ? "yes" : "NO");
  return anything_parsed(report, "parse") && same ? kExitOk : kExitWrongResult;
}

}  // namespace

Example market_data() {
  return {"market_data",
          "CSV trades to per-symbol one-minute bars with VWAP, partitioned by symbol with "
          "consistent hashing, checked against a single-threaded computation",
          true,
          "trades",
          1'000'000,
          [](CLI::App& app) -> ExampleMain {
            auto partitions = std::make_shared<std::size_t>(4);
            auto output = std::make_shared<std::string>();
            app.add_option("--partitions", *partitions, "replicas of the bar builder")
                ->check(whole_number())
                ->check(CLI::Range(1, 256));
            app.add_option("--output", *output, "write every bar to this CSV file");
            return [partitions, output](const CommonOptions& o) {
              return run(o, *partitions, *output);
            };
          }};
}

}  // namespace aetherflow::examples
