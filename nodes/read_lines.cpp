#include <nodes/read_lines.hpp>

#include <algorithm>
#include <cstring>
#include <thread>

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
      lines_(from.items),
      follow_(source.options_.follow && file_.size()) {
  if (follow_ && shard.count > 1)
    throw Error(fmt::format(
        "read_lines('{}'): a followed file cannot be split between ranks, as it grows: give the "
        "source on_ranks = OnRanks::rank_zero",
        source.path_));
}

SourcePosition LineSource::Reader::position() const {
  if (follow_) return {chunk_offset_ + pos_, std::nullopt};  // it grows: no total
  return {chunk_offset_ + pos_, file_.size()};
}

bool LineSource::Reader::fill(SourceBatch<std::string_view>& batch) {
  while (!batch.full()) {
    if (pos_ == complete_) {
      if (!batch.empty()) return true;  // a batch never spans two chunks: see keep_alive
      if (file_.at_end()) {
        if (!follow_) {
          if (pos_ == valid_) return false;  // every line emitted
        } else if (!followed_on()) {
          return true;  // nothing new yet: the run asks again, unless it is stopping
        }
      }
      if (pos_ == complete_) next_chunk();
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
    const bool ended = file_.at_end() && !follow_;  // a followed file's last line may grow
    if (last || ended) {
      complete_ = last && !ended ? static_cast<const char*>(last) - chunk->chars() + 1 : valid_;
      break;
    }
    const auto too_long = [&] {
      return IoError(
          fmt::format("read_lines: line {} of '{}' is longer than max_line_length ({} bytes)",
                      lines_ + 1, file_.path(), options_.max_line_length));
    };
    if (file_.at_end()) {  // followed: a part of a line so far, kept for when it is complete
      if (valid_ >= options_.max_line_length) throw too_long();
      complete_ = 0;
      break;
    }
    if (valid_ < limit) continue;                             // a pipe's part of a line
    if (limit >= options_.max_line_length) throw too_long();  // a full chunk, no line end
    limit = std::min(limit * 2, options_.max_line_length);
    auto bigger = std::make_shared<Buffer>(pool_->acquire(limit));
    std::memcpy(bigger->chars(), chunk->chars(), valid_);
    chunk = std::move(bigger);
  }
  chunk_ = std::move(chunk);
  pos_ = 0;
}

// At the end of a followed file: true once there is more to read, in this file or in the one
// that replaced it at the path; false after a short wait without any.
bool LineSource::Reader::followed_on() {
  switch (file_.follow_change()) {
    case detail::InputFile::Change::grown:
      idle_ = std::chrono::milliseconds(1);
      return true;
    case detail::InputFile::Change::rotated:
      if (valid_ > complete_) {  // the old file's last line had no '\n': it is complete now
        complete_ = valid_;
        return true;
      }
      if (file_.reopen()) {
        chunk_offset_ = 0;
        pos_ = complete_ = valid_ = 0;
        idle_ = std::chrono::milliseconds(1);
        return true;
      }
      break;
    case detail::InputFile::Change::none:
      break;
  }
  std::this_thread::sleep_for(idle_);
  idle_ = std::min(idle_ * 2, std::chrono::milliseconds(64));
  return false;
}

}  // namespace aetherflow
