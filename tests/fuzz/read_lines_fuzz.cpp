// libFuzzer target for read_lines' line splitting. The first byte picks a chunk size (1 to
// 64) and whether line endings are kept; the rest is the file. Checks, for any input:
//   keeping endings, the lines concatenate to the file, byte for byte;
//   dropping them, no line holds a '\n', and there is one line per '\n' (plus an unterminated
//   last line).
// Built by the fuzz preset (clang): cmake --workflow --preset fuzz.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <flow/source.hpp>
#include <nodes/read_lines.hpp>

#include "memory_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const bool keep = (data[0] & 0x80) != 0;
  const std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);

  const MemoryFile file(content);
  aetherflow::LineSource source(
      file.path(), {.chunk_size = chunk, .max_line_length = 1 << 20, .keep_line_endings = keep});
  auto reader = source.open();
  std::string joined;
  std::size_t lines = 0;
  bool more = true;
  while (more) {
    aetherflow::detail::Batch<std::string_view> batch;
    aetherflow::SourceBatch<std::string_view> fill(batch, 1 + data[0] % 7);
    more = reader.fill(fill);
    for (std::string_view line : batch.values) {
      if (!keep && line.find('\n') != std::string_view::npos) __builtin_trap();
      joined += line;
      ++lines;
    }
  }

  std::size_t newlines = 0;
  for (char c : content) newlines += c == '\n';
  const std::size_t expected = newlines + (!content.empty() && content.back() != '\n');
  if (lines != expected) __builtin_trap();
  if (keep && joined != content) __builtin_trap();
  return 0;
}
