// Streaming word count: read a text file line by line in bounded memory, split each line into
// words (views into the line's chunk), count them by key on every core (count_by: the table
// split into shards, no merge at the end), rank the top K (top_k); then check the counts
// against a table counted line by line on one thread.
//
//   aetherflow-examples word_count [--input FILE | --size MIB] [--threads T] [--top K]
//                                  [--output FILE]
//
// Without --input, MIB MiB of text (default 100) are generated first (scripts/datagen.hpp).

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <examples/example.hpp>
#include <examples/support/sorted_output.hpp>
#include <examples/support/words.hpp>
#include <scripts/datagen.hpp>

namespace aetherflow::examples {
namespace {

using Counted = std::pair<std::string, std::uint64_t>;

int run(const CommonOptions& options, std::size_t top, const std::string& output) {
  const ExampleInput text(options, "words.txt", datagen::Kind::text, options.size << 20);
  const std::string& input = text.path();

  Flow flow("word_count");
  KeyedRows counts;           // every word with its count
  std::vector<Counted> best;  // the `top` most frequent, most frequent first
  auto lines = flow.source("lines", read_lines(input));
  auto words = flow.node("split", split_words<Emitter<std::string_view>>);
  auto count = flow.node("count", count_by([](std::string_view word) { return word; }));
  auto ranked = flow.node("top", top_k<Counted>(top));
  // Gathered: on a cluster, every rank's pairs reach rank 0 (docs/distributed.md).
  lines >> words >> count >>
      fan_out(ranked, flow.node("keep", collect(counts), {.gathered = true}));
  ranked >> flow.node("best", collect(best), {.gathered = true});
  const RunReport report = flow.run(run_options(options, "lines"));
  finish_run(options, flow, report);
  if (!prints_results(options)) return kExitOk;  // rank 0 prints and checks the job's

  std::uint64_t total = 0;
  for (const auto& [word, n] : counts) total += n;
  std::cout << report << "\n"
            << report.node("lines").out << " lines, " << total << " words, " << counts.size()
            << " distinct, counted in " << report.node("count").shards.size() << " shards\n";
  for (const auto& [word, n] : best) std::cout << "  " << word << "  " << n << "\n";
  if (!output.empty()) write_sorted(output, counts);

  WordCounts plain;  // the check: the same file, one line at a time, one thread
  std::ifstream file(input);
  for (std::string line; std::getline(file, line);) count_words(line, plain);
  bool same = plain.size() == counts.size();
  for (const auto& [word, n] : counts) {
    const auto it = plain.find(word);
    same = same && it != plain.end() && it->second == n;
  }
  std::cout << "matches a single-threaded count: " << (same ? "yes" : "NO") << "\n";
  return same ? kExitOk : kExitWrongResult;
}

}  // namespace

Example word_count() {
  return {"word_count",
          "streaming word count: the words of every line counted by key on every core "
          "(count_by, one shard per thread), the top K, checked against a single-threaded count",
          true,
          "MiB of text",
          100,
          [](CLI::App& app) -> ExampleMain {
            auto top = std::make_shared<std::size_t>(10);
            auto output = std::make_shared<std::string>();
            app.add_option("--top", *top, "how many of the most frequent words to print")
                ->check(whole_number())
                ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
            app.add_option("-o,--output", *output,
                           "write every word and its count there, one 'word<TAB>count' line "
                           "each, sorted by word");
            return [top, output](const CommonOptions& o) { return run(o, *top, *output); };
          },
          true};
}

}  // namespace aetherflow::examples
