#include <nodes/read_lines.hpp>

#include <cstring>

#include <fmt/format.h>

namespace aetherflow {

LineSource::LineSource(std::string path, LineOptions options)
    : path_(std::move(path)), options_(options), pool_(std::make_shared<BufferPool>()) {
  if (options_.chunk_size == 0 || options_.max_line_length < options_.chunk_size)
    throw Error(fmt::format(
        "read_lines('{}'): chunk_size must be at least 1 and at most max_line_length", path_));
}

LineSource::Reader::Reader(const LineSource& source, ResumePoint from, Shard shard)
    : file_(
          source.path_, "read_lines", from.offset, shard,
          [](detail::InputFile& file, std::uint64_t x) { return file.line_start_at_or_after(x); }),
      options_(source.options_),
      pool_(source.pool_),
      chunk_offset_(file_.offset()),
      lines_(from.items) {}

SourcePosition LineSource::Reader::position() const {
  return {chunk_offset_ + pos_, file_.size()};
}

bool LineSource::Reader::fill(SourceBatch<std::string_view>& batch) {
  while (!batch.full()) {
    if (pos_ == complete_) {
      if (file_.at_end() && pos_ == valid_) return false;  // every line emitted
      if (!batch.empty()) return true;  // a batch never spans two chunks: see keep_alive
      next_chunk();
      continue;
    }
    if (batch.empty()) batch.keep_alive(chunk_);
    const char* data = chunk_->chars();
    const void* newline = std::memchr(data + pos_, '\n', complete_ - pos_);
    const std::size_t end = newline ? static_cast<const char*>(newline) - data : complete_;
    const std::size_t next = newline ? end + 1 : complete_;
    std::size_t stop = end;
    if (options_.keep_line_endings)
      stop = next;
    else if (newline && end > pos_ && data[end - 1] == '\r')
      --stop;
    batch.push(std::string_view(data + pos_, stop - pos_));
    pos_ = next;
    ++lines_;
  }
  return true;
}

// Starts a new chunk with the partial line the old one ended with, and reads the file after
// it; grows the chunk while it holds no complete line.
void LineSource::Reader::next_chunk() {
  const std::size_t carry = valid_ - complete_;
  std::size_t limit = options_.chunk_size;
  while (carry >= limit) limit *= 2;
  auto chunk = std::make_shared<Buffer>(pool_->acquire(limit));
  if (carry) std::memcpy(chunk->chars(), chunk_->chars() + complete_, carry);
  chunk_offset_ += complete_;
  valid_ = carry;
  while (true) {
    // On a pipe, what has arrived: a live stream's lines leave without waiting for a full
    // chunk (RunOptions::max_batch_delay), since a batch ends with its chunk.
    valid_ += file_.read_some(chunk->chars() + valid_, limit - valid_);
    const void* last = valid_ ? ::memrchr(chunk->chars(), '\n', valid_) : nullptr;
    if (last || file_.at_end()) {
      complete_ =
          last && !file_.at_end() ? static_cast<const char*>(last) - chunk->chars() + 1 : valid_;
      break;
    }
    if (valid_ < limit) continue;           // a pipe's part of a line: read on
    if (limit >= options_.max_line_length)  // the chunk is full and holds no line end
      throw IoError(
          fmt::format("read_lines: line {} of '{}' is longer than max_line_length ({} bytes)",
                      lines_ + 1, file_.path(), options_.max_line_length));
    limit = std::min(limit * 2, options_.max_line_length);
    auto bigger = std::make_shared<Buffer>(pool_->acquire(limit));
    std::memcpy(bigger->chars(), chunk->chars(), valid_);
    chunk = std::move(bigger);
  }
  chunk_ = std::move(chunk);
  pos_ = 0;
}

}  // namespace aetherflow
