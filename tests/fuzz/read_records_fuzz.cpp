// libFuzzer target for read_records, resumed from any record boundary. The first byte picks a
// record size (1 to 16) and a chunk size; the second a resume point; the rest is the file.
// Checks, for any input:
//   a file that is a whole number of records reads back, from the resume point on, byte for
//   byte, in records of the record size;
//   any other file is an IoError naming the offset of its partial record, after the whole
//   records before it.
// Built by the fuzz preset (clang): cmake --workflow --preset fuzz.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <flow/source.hpp>
#include <nodes/read_chunks.hpp>

#include "memory_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t record = 1 + data[0] % 16;
  const std::size_t chunk = record * (1 + data[0] / 16);
  const std::string_view content(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t whole = content.size() / record;
  const std::uint64_t skip = whole ? data[1] % (whole + 1) : 0;
  const MemoryFile file(content);

  aetherflow::RecordSource source(file.path(), record, chunk);
  auto reader = source.open(aetherflow::ResumePoint{skip * record, skip});
  std::string joined;
  try {
    bool more = true;
    while (more) {
      aetherflow::detail::Batch<std::span<const std::byte>> batch;
      aetherflow::SourceBatch<std::span<const std::byte>> fill(batch, 1 + data[1] % 5);
      more = reader.fill(fill);
      for (auto r : batch.values) {
        if (r.size() != record) __builtin_trap();
        joined.append(reinterpret_cast<const char*>(r.data()), r.size());
      }
    }
  } catch (const aetherflow::IoError& e) {
    const std::string offset = "at offset " + std::to_string(whole * record);
    if (content.size() % record == 0 ||
        std::string_view(e.what()).find(offset) == std::string::npos)
      __builtin_trap();
    return 0;
  }
  if (content.size() % record != 0) __builtin_trap();  // a partial record went unreported
  if (joined != content.substr(skip * record)) __builtin_trap();
  return 0;
}
