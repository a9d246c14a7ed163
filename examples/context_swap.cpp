// The same word-count flow, run with a thread-isolated context and with a shared one: one line
// of the context changes, no node code does. Prints both results (identical) and throughputs.
//
//   aetherflow-examples context_swap [--size LINES] [--threads T]

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <examples/example.hpp>

namespace aetherflow::examples {
namespace {

// Counts words. Not thread-safe: the context decides who may touch which instance.
struct WordCounts {
  std::map<std::string, long, std::less<>> counts;
  void add(std::string_view word) {
    if (auto it = counts.find(word); it != counts.end())
      ++it->second;
    else
      counts.emplace(word, 1);
  }
};

// A seeded generator of text lines from a small vocabulary.
class Lines {
 public:
  explicit Lines(long lines) : left_(lines) {}
  std::optional<std::string> operator()() {
    static constexpr std::string_view words[] = {"flow",   "node",    "batch", "graph", "item",
                                                 "thread", "context", "pool",  "sink",  "source"};
    if (left_-- == 0) return std::nullopt;
    std::string line;
    for (int i = 0; i < 12; ++i) {
      state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      line += words[(state_ >> 33) % std::size(words)];
      line += ' ';
    }
    return line;
  }

 private:
  long left_;
  unsigned long long state_ = 42;
};

aetherflow::Flow word_count(long lines) {
  aetherflow::Flow flow("word_count");
  auto text = flow.source("lines", Lines(lines));
  auto count = flow.node("count_words",
                         [](const std::string& line, WordCounts& counts) {
                           std::string_view rest = line;
                           while (!rest.empty()) {
                             const auto space = rest.find(' ');
                             if (space != 0) counts.add(rest.substr(0, space));
                             if (space == std::string_view::npos) break;
                             rest.remove_prefix(space + 1);
                           }
                         },
                         {.concurrency = aetherflow::unlimited});
  text >> count;
  return flow;
}

WordCounts total_of(aetherflow::Context& ctx, bool isolated) {
  if (!isolated) {  // the shared instance: read it through a one-item flow
    WordCounts copy;
    aetherflow::Flow read("read");
    auto one = read.source("one", std::vector<int>{0});
    auto get = read.node("get", [&copy](int, WordCounts& shared) { copy = shared; });
    one >> get;
    read.run(ctx);
    return copy;
  }
  return ctx.combine<WordCounts>([](WordCounts a, const WordCounts& b) {
    for (const auto& [word, n] : b.counts) a.counts[word] += n;
    return a;
  });
}

int run(const CommonOptions& options) {
  const auto lines = static_cast<long>(options.size);
  aetherflow::Flow flow = word_count(lines);
  std::map<std::string, long, std::less<>> results[2];
  for (bool isolated : {true, false}) {
    aetherflow::Context ctx;
    if (isolated)
      ctx.per_thread<WordCounts>();  // thread isolation: one WordCounts per worker thread
    else
      ctx.shared<WordCounts>();  // shared state: one WordCounts, calls take turns
    const aetherflow::RunReport report = flow.run(ctx, run_options(options, "lines"));
    finish_run(options, flow, report);
    results[isolated] = total_of(ctx, isolated).counts;
    std::cout << (isolated ? "thread-isolated" : "shared         ") << ": "
              << static_cast<long>(report.items_per_second()) << " lines/s, "
              << report.node("count_words").waits << " lock waits, \"flow\" counted "
              << results[isolated]["flow"] << " times\n";
  }
  const bool same = results[0] == results[1];
  std::cout << "results identical: " << (same ? "yes" : "NO") << "\n";
  return same ? kExitOk : kExitWrongResult;
}

}  // namespace

Example context_swap() {
  return {"context_swap",
          "one word count run with a thread-isolated and with a shared context: one line of the "
          "context changes, the results are identical",
          false,
          "lines",
          200'000,
          [](CLI::App&) -> ExampleMain { return run; }};
}

}  // namespace aetherflow::examples
