// Streaming word count: read a text file line by line in bounded memory, count words on every
// core with one counter table per thread (no lock, no sharing), and merge the tables at the
// end.
//
//   word_count [--input FILE | --megabytes N] [--threads T] [--top K]
//
// Without --input, N MiB of text (default 100) are generated first (scripts/datagen.hpp).

#include <flow/aetherflow.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <examples/support/words.hpp>
#include <scripts/datagen.hpp>

using aetherflow::examples::count_words;
using aetherflow::examples::WordCounts;

int main(int argc, char** argv) {
  std::string input;
  std::uint64_t megabytes = 100;
  std::size_t threads = 0, top = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--input") {
      input = argv[i + 1];
    } else if (flag == "--megabytes") {
      megabytes = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--threads") {
      threads = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (flag == "--top") {
      top = std::strtoul(argv[i + 1], nullptr, 10);
    } else {
      std::cerr << "usage: word_count [--input FILE | --megabytes N] [--threads T] [--top K]\n";
      return 2;
    }
  }
  const bool generated = input.empty();
  if (generated) {
    input = (std::filesystem::temp_directory_path() /
             ("aetherflow_words_" + std::to_string(::getpid()) + ".txt"))
                .string();
    aetherflow::datagen::write_file(input, aetherflow::datagen::Kind::text, megabytes << 20);
  }

  aetherflow::Flow flow("word_count");
  auto lines = flow.source("lines", aetherflow::read_lines(input));
  auto count = flow.node("count", count_words, {.concurrency = aetherflow::unlimited});
  lines >> count;

  aetherflow::Context ctx;
  ctx.per_thread<WordCounts>();  // one table per worker thread: merged below
  const aetherflow::RunReport report =
      flow.run(ctx, {.threads = threads, .progress = aetherflow::ProgressBar("word_count")});
  if (generated) std::filesystem::remove(input);

  const WordCounts total = ctx.combine<WordCounts>(aetherflow::examples::merge);
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
}
