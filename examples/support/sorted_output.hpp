#pragma once
// The --output of the keyed examples (word_count, log_analytics): their result as text that
// two runs can be compared by (cmp), one `key<TAB>value` line per key, sorted by key.

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aetherflow::examples {

using KeyedRows = std::vector<std::pair<std::string, std::uint64_t>>;

// Writes `rows` to `path`, sorted; std::runtime_error naming the path if it cannot.
inline void write_sorted(const std::string& path, KeyedRows rows) {
  std::sort(rows.begin(), rows.end());
  std::ofstream out(path, std::ios::binary);
  for (const auto& [key, value] : rows) out << key << '\t' << value << '\n';
  out.close();
  if (!out) throw std::runtime_error("cannot write the output file " + path);
}

}  // namespace aetherflow::examples
