// Streaming word count: read a text file line by line in bounded memory, count words on every
// core with one counter table per thread (no lock, no sharing), and merge the tables at the
// end; then check the merged table against one counted line by line on one thread.
//
//   aetherflow-examples word_count [--input FILE | --size MIB] [--threads T] [--top K]
//
// Without --input, MIB MiB of text (default 100) are generated first (scripts/datagen.hpp).

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <examples/example.hpp>
#include <examples/support/words.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {
namespace {

int run(const CommonOptions& options, std::size_t top) {
  const ExampleInput text(options, "words.txt", datagen::Kind::text, options.size << 20);
  const std::string& input = text.path();

  Flow flow("word_count");
  auto lines = flow.source("lines", read_lines(input));
  auto count = flow.node("count", count_words, {.concurrency = unlimited});
  lines >> count;

  Context ctx;
  ctx.per_thread<WordCounts>();  // one table per worker thread: merged below
  const RunReport report = flow.run(ctx, run_options(options, "lines"));
  finish_run(options, flow, report);

  const WordCounts total = ctx.combine<WordCounts>(merge);
  std::vector<std::pair<std::uint64_t, std::string>> ranked;
  std::uint64_t words = 0;
  for (const auto& [word, n] : total) {
    ranked.emplace_back(n, word);
    words += n;
  }
  std::sort(ranked.rbegin(), ranked.rend());
  std::cout << report << "\n"
            << report.node("lines").out << " lines, " << words << " words, " << total.size()
            << " distinct, counted in " << ctx.instances<WordCounts>() << " per-thread tables\n";
  for (std::size_t i = 0; i < std::min(top, ranked.size()); ++i)
    std::cout << "  " << ranked[i].second << "  " << ranked[i].first << "\n";

  WordCounts plain;  // the check: the same file, one line at a time, one thread
  std::ifstream file(input);
  for (std::string line; std::getline(file, line);) count_words(line, plain);
  const bool same = plain == total;
  std::cout << "matches a single-threaded count: " << (same ? "yes" : "NO") << "\n";
  return same ? kExitOk : kExitWrongResult;
}

}  // namespace

Example word_count() {
  return {"word_count",
          "streaming word count with per-thread tables merged at the end, checked against a "
          "single-threaded count",
          true,
          "MiB of text",
          100,
          [](CLI::App& app) -> ExampleMain {
            auto top = std::make_shared<std::size_t>(10);
            app.add_option("--top", *top, "how many of the most frequent words to print")
                ->check(whole_number());
            return [top](const CommonOptions& o) { return run(o, *top); };
          }};
}

}  // namespace aetherflow::examples
