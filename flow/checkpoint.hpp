#pragma once
// Checkpoints of streaming runs (RunOptions::checkpoint; docs/errors.md, "Checkpoint and
// resume"): for each source, the point up to which every item it emitted has been fully
// processed by every node, sinks included. A run started from a checkpoint emits only what
// comes after it.
//
// The file is cereal's portable binary archive behind a header with a magic number, a format
// version, the payload's length and its CRC-32: a truncated or corrupt file is a
// CheckpointError (flow/errors.hpp) naming it, never a wrong resume.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace aetherflow {

// Where a source resumes. Sources that read files use `offset`, a byte offset; sources that
// count items (ranges) use `items`. Both are recorded, whatever the source.
struct ResumePoint {
  std::uint64_t offset = 0;  // bytes of input consumed before the point
  std::uint64_t items = 0;   // items emitted before the point
  friend bool operator==(const ResumePoint&, const ResumePoint&) = default;
};

struct SourceCheckpoint {
  std::string source;     // the source node's name
  ResumePoint committed;  // every item before this point is fully processed
  bool finished = false;  // the source was exhausted and all its items are committed
  friend bool operator==(const SourceCheckpoint&, const SourceCheckpoint&) = default;
};

struct Checkpoint {
  std::string flow;
  std::vector<SourceCheckpoint> sources;  // one per source of the flow

  // The entry of `source`, or null.
  const SourceCheckpoint* find(std::string_view source) const;
  bool finished() const;  // every source finished
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// Reads a checkpoint file. CheckpointError naming `path` if it cannot be read, or is truncated,
// corrupt, or of another format version.
Checkpoint read_checkpoint(const std::filesystem::path& path);

// Writes a checkpoint file atomically: to a temporary file beside `path`, flushed to disk, then
// renamed over it, so a crash leaves the old checkpoint or the new one, never part of one.
// CheckpointError naming the path and the reason if it cannot.
void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// The bytes of a checkpoint file, and back. `origin` names the bytes in errors (a path).
std::string encode_checkpoint(const Checkpoint& checkpoint);
Checkpoint decode_checkpoint(std::string_view bytes, std::string_view origin);

namespace detail {
// A checkpoint file's header (magic, version, length, CRC) followed by `payload`: how
// encode_checkpoint frames its data, and how the fuzz target gets past the CRC.
std::string frame_checkpoint(std::string_view payload);
}  // namespace detail

}  // namespace aetherflow
