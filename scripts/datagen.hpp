#pragma once
// Deterministic, seeded test inputs of any size, for examples, benchmarks and tests:
//   access_log  web server access log, common log format (about 1 line in 200 is garbage)
//   trades      CSV trades: symbol,price,quantity,timestamp (with a header line)
//   text        plain text: lines of 8 to 16 words from a small vocabulary
//   words       plain text of many distinct words: lines of 8 to 16 words drawn from 8 M
//               with Zipf-like frequencies (rank r about 1/r as often as rank 1) and a long
//               tail: 400 MiB hold about 4 M distinct words
// The same kind, seed and size always give the same bytes.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aetherflow::datagen {

enum class Kind { access_log, trades, text, words };

inline Kind kind_from(std::string_view name) {
  if (name == "access-log") return Kind::access_log;
  if (name == "trades") return Kind::trades;
  if (name == "text") return Kind::text;
  if (name == "words") return Kind::words;
  throw std::invalid_argument("unknown data kind '" + std::string(name) +
                              "' (access-log, trades, text or words)");
}

class Generator {
 public:
  Generator(Kind kind, std::uint64_t seed) : kind_(kind), state_(seed * 2 + 1) {
    if (kind_ == Kind::trades) header_pending_ = true;
  }

  // Appends one line, '\n' included.
  void append_line(std::string& out) {
    switch (kind_) {
      case Kind::access_log:
        return access_log(out);
      case Kind::trades:
        return trade(out);
      case Kind::text:
        return text(out);
      case Kind::words:
        return zipf_words(out);
    }
  }

 private:
  std::uint64_t next() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ULL;
  }

  void access_log(std::string& out) {
    const std::uint64_t r = next();
    if (r % 200 == 0) {
      out += "garbage line " + std::to_string(r) + "\n";
      return;
    }
    static constexpr std::string_view pages[] = {
        "/", "/index.html", "/about", "/products", "/products/42", "/cart", "/api/search"};
    static constexpr int statuses[] = {200, 200, 200, 200, 200, 304, 404, 500};
    const int status = statuses[(r >> 16) % std::size(statuses)];
    const std::uint64_t bytes = status == 304 ? 0 : 200 + (r >> 24) % 50'000;
    const std::uint64_t second = line_++ / 50;
    char line[256];
    const int n = std::snprintf(
        line, sizeof line,
        "10.0.%u.%u - - [22/Nov/2026:%02u:%02u:%02u +0000] \"GET %.*s?q=%u HTTP/1.1\" %d %llu\n",
        static_cast<unsigned>((r >> 32) % 256), static_cast<unsigned>((r >> 40) % 256),
        static_cast<unsigned>(second / 3600 % 24), static_cast<unsigned>(second / 60 % 60),
        static_cast<unsigned>(second % 60),
        static_cast<int>(pages[(r >> 8) % std::size(pages)].size()),
        pages[(r >> 8) % std::size(pages)].data(), static_cast<unsigned>(r % 97), status,
        static_cast<unsigned long long>(bytes));
    out.append(line, static_cast<std::size_t>(n));
  }

  void trade(std::string& out) {
    if (header_pending_) {
      header_pending_ = false;
      out += "symbol,price,quantity,timestamp\n";
    }
    static constexpr std::string_view symbols[] = {"AAPL", "MSFT", "GOOG", "AMZN",
                                                   "NVDA", "META", "TSLA", "ORCL"};
    const std::uint64_t r = next();
    const std::size_t s = (r >> 8) % std::size(symbols);
    const double price =
        100.0 + static_cast<double>(s) * 25 + static_cast<double>(r % 10'000) / 100;
    const std::uint64_t millis = line_++ * 7;  // 22 Nov 2026, from 10:00:00.000 on
    char line[128];
    const int n = std::snprintf(line, sizeof line, "%.*s,%.2f,%u,2026-11-22T%02u:%02u:%02u.%03uZ\n",
                                static_cast<int>(symbols[s].size()), symbols[s].data(), price,
                                static_cast<unsigned>(1 + (r >> 20) % 500),
                                static_cast<unsigned>(10 + millis / 3'600'000 % 14),
                                static_cast<unsigned>(millis / 60'000 % 60),
                                static_cast<unsigned>(millis / 1000 % 60),
                                static_cast<unsigned>(millis % 1000));
    out.append(line, static_cast<std::size_t>(n));
  }

  void text(std::string& out) {
    static constexpr std::string_view words[] = {
        "the",   "flow",  "of",    "data",   "through", "nodes", "and",  "batches", "is",
        "fast",  "when",  "every", "core",   "works",   "on",    "its",  "own",     "items",
        "graph", "queue", "sink",  "source", "thread",  "pool",  "line", "word",    "count"};
    const std::uint64_t r = next();
    const int count = 8 + static_cast<int>(r % 9);
    for (int i = 0; i < count; ++i) {
      if (i) out += ' ';
      out += words[(next() >> 11) % std::size(words)];
    }
    out += '\n';
  }

  // A word's rank r in [1, 2^23) drawn with density 1/r (r = 2^(23 u), u uniform), written
  // as the letters of a bijective scramble of r: frequent words are not the short ones.
  void zipf_words(std::string& out) {
    constexpr int kBits = 23;
    const int count = 8 + static_cast<int>(next() % 9);
    for (int i = 0; i < count; ++i) {
      if (i) out += ' ';
      const double u = static_cast<double>(next() >> 11) / 9007199254740992.0;  // [0, 1)
      auto rank = static_cast<std::uint64_t>(std::exp2(u * kBits));
      rank = (rank * 0x9E3779B1u) & ((std::uint64_t{1} << kBits) - 1);  // odd: a bijection
      do {
        out += static_cast<char>('a' + rank % 26);
        rank /= 26;
      } while (rank);
    }
    out += '\n';
  }

  Kind kind_;
  std::uint64_t state_;
  std::uint64_t line_ = 0;
  bool header_pending_ = false;
};

// After each write of write_file: the bytes and the lines written so far. The last call is the
// first with at least the bytes asked for.
using WriteProgress = std::function<void(std::uint64_t bytes, std::uint64_t lines)>;

inline constexpr std::uint64_t kDefaultSeed = 42;

// Writes whole lines of `kind` to `path` until at least `bytes` bytes; returns the lines.
inline std::uint64_t write_file(const std::string& path, Kind kind, std::uint64_t bytes,
                                std::uint64_t seed = kDefaultSeed,
                                const WriteProgress& progress = {}) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot create '" + path + "'");
  Generator generator(kind, seed);
  std::string buffer;
  std::uint64_t written = 0, lines = 0;
  while (written < bytes) {
    buffer.clear();
    while (buffer.size() < (1 << 20) && written + buffer.size() < bytes) {
      generator.append_line(buffer);
      ++lines;
    }
    if (std::fwrite(buffer.data(), 1, buffer.size(), file) != buffer.size()) {
      std::fclose(file);
      throw std::runtime_error("cannot write '" + path + "'");
    }
    written += buffer.size();
    if (progress) progress(written, lines);
  }
  if (std::fclose(file) != 0) throw std::runtime_error("cannot write '" + path + "'");
  return lines;
}

}  // namespace aetherflow::datagen
