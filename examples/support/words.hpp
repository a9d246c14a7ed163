#pragma once
// Word counting shared by examples/word_count.cpp and the benchmarks (bench/streaming.cpp,
// bench/keyed.cpp), so that they measure exactly the example's work.

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

// Calls `f` on each space-separated word of `line`, a view into it.
template <class F>
void for_each_word(std::string_view line, F&& f) {
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) f(line.substr(start, end - start));
    start = end + 1;
  }
}

// Counts the space-separated words of `line` into `counts`.
inline void count_words(std::string_view line, WordCounts& counts) {
  for_each_word(line, [&counts](std::string_view word) {
    if (auto it = counts.find(word); it != counts.end())
      ++it->second;
    else
      counts.emplace(word, 1);
  });
}

// The body of a one-to-many node: the words of a line, each a view into the line's chunk.
template <class Emit>
void split_words(std::string_view line, Emit& emit) {
  for_each_word(line, [&emit](std::string_view word) { emit(word); });
}

// Adds b's counts into a: the combine of per-thread tables.
inline WordCounts merge(WordCounts a, const WordCounts& b) {
  for (const auto& [word, n] : b) a[word] += n;
  return a;
}

}  // namespace aetherflow::examples
