#pragma once
// Streams a text file line by line, in bounded memory, whatever its size:
//
//   flow.source("log", aetherflow::read_lines("access.log"));          // items: std::string_view
//   flow.source("stdin", aetherflow::read_lines("-"));                 // standard input
//   flow.source("tail", aetherflow::read_lines("app.log", {.follow = true}));  // like tail -F
//
// The file is read in chunks into pooled buffers, and each line is a view into its chunk: no
// copy. A chunk goes back to the pool when every node is done with every line of it, so a
// view is valid while its item is being processed; copy it (std::string) to keep it longer.
// Lines end at '\n'; a '\r' before it (CRLF) is dropped too, unless keep_line_endings. A last
// line without '\n' is a line; a file ending in '\n' has no empty line after it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <contexts/buffer_pool.hpp>
#include <flow/source.hpp>
#include <nodes/detail/input_file.hpp>
#include <nodes/io_error.hpp>

namespace aetherflow {

struct LineOptions {
  std::size_t chunk_size = std::size_t{1} << 20;  // bytes read at a time
  // A line longer than the chunk makes the chunk grow, up to this; a longer line is an IoError
  // naming the file and the line number.
  std::size_t max_line_length = std::size_t{64} << 20;
  // Keep "\n" or "\r\n" at the end of each line: the lines then concatenate to the file.
  bool keep_line_endings = false;
  // At the end of a regular file, wait for more, like `tail -F`: lines appended later are read
  // as they are completed (a line is read once its '\n' is written); when the file is
  // rotated (renamed away and created anew at the path), the old one is read to its end and
  // then the new one from its start; a file truncated while followed is an IoError naming it.
  // The source never ends by itself: the run ends it (RunOptions::stop, drain, a signal). It
  // looks for more every millisecond at first, backing off to every 64 ms while idle. Not on a
  // cluster's split sources: follow the file on one rank (OnRanks::rank_zero).
  bool follow = false;
};

class LineSource {
 public:
  using item_type = std::string_view;

  LineSource(std::string path, LineOptions options);

  class Reader {
   public:
    explicit Reader(const LineSource& source, ResumePoint from = {}, Shard shard = {});
    bool fill(SourceBatch<std::string_view>& batch);
    SourcePosition position() const;

   private:
    void next_chunk();
    bool followed_on();

    detail::InputFile file_;
    LineOptions options_;
    std::shared_ptr<BufferPool> pool_;
    std::shared_ptr<Buffer> chunk_;
    std::size_t pos_ = 0;                // start of the next line in the chunk
    std::size_t complete_ = 0;           // end of the chunk's last complete line
    std::size_t valid_ = 0;              // bytes of data in the chunk
    std::uint64_t chunk_offset_ = 0;     // file offset of the chunk's first byte
    std::uint64_t lines_ = 0;            // lines emitted so far
    bool follow_ = false;                // LineOptions::follow, on a regular file
    std::chrono::milliseconds idle_{1};  // the next wait for a followed file to grow
  };

  Reader open() const { return Reader(*this); }
  // Resumes at from.offset, a line boundary; line numbers in errors go on from from.items.
  Reader open(ResumePoint from) const { return Reader(*this, from); }
  // A rank's share of the file, the lines that start in its part (a cluster run splits it).
  Reader open(ResumePoint from, Shard shard) const { return Reader(*this, from, shard); }

 private:
  std::string path_;
  LineOptions options_;
  std::shared_ptr<BufferPool> pool_;  // shared by the runs of the source: buffers are reused
};

inline LineSource read_lines(std::string path, LineOptions options = {}) {
  return LineSource(std::move(path), options);
}

}  // namespace aetherflow
