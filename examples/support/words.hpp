#pragma once
// Word counting shared by examples/word_count.cpp and bench/streaming.cpp, so that the
// benchmark measures exactly the example's work.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace aetherflow::examples {

// Word -> count, with lookups by string_view so that counting copies no word already seen.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using WordCounts = std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>>;

// Counts the space-separated words of `line` into `counts`.
inline void count_words(std::string_view line, WordCounts& counts) {
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) {
      const std::string_view word = line.substr(start, end - start);
      if (auto it = counts.find(word); it != counts.end())
        ++it->second;
      else
        counts.emplace(word, 1);
    }
    start = end + 1;
  }
}

// Adds b's counts into a: the combine of per-thread tables.
inline WordCounts merge(WordCounts a, const WordCounts& b) {
  for (const auto& [word, n] : b) a[word] += n;
  return a;
}

}  // namespace aetherflow::examples
