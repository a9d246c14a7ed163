#include <nodes/read_chunks.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace aetherflow {

ChunkSource::ChunkSource(std::string path, std::size_t bytes)
    : path_(std::move(path)), bytes_(bytes), pool_(std::make_shared<BufferPool>()) {
  if (bytes_ == 0)
    throw Error(fmt::format("read_chunks('{}'): chunk size must be at least 1", path_));
}

namespace {
// Pieces of `size` bytes start at its multiples: a shard's part begins and ends at one.
detail::ItemBoundary every(std::size_t size) {
  return [size](detail::InputFile&, std::uint64_t x) { return (x + size - 1) / size * size; };
}
}  // namespace

ChunkSource::Reader::Reader(const ChunkSource& source, ResumePoint from, Shard shard)
    : file_(source.path_, "read_chunks", from.offset, shard, every(source.bytes_)),
      bytes_(source.bytes_),
      pool_(source.pool_) {}

bool ChunkSource::Reader::fill(SourceBatch<Chunk>& batch) {
  auto buffer = std::make_shared<Buffer>(pool_->acquire(bytes_));
  const std::uint64_t offset = file_.offset();
  buffer->resize(file_.read_fully(buffer->chars(), bytes_));
  if (buffer->size() > 0) batch.push(Chunk{std::move(buffer), offset});
  return !file_.at_end();
}

RecordSource::RecordSource(std::string path, std::size_t record_size, std::size_t chunk_size)
    : path_(std::move(path)),
      record_size_(record_size),
      chunk_bytes_(std::max<std::size_t>(1, chunk_size / std::max<std::size_t>(1, record_size)) *
                   record_size),
      pool_(std::make_shared<BufferPool>()) {
  if (record_size_ == 0)
    throw Error(fmt::format("read_records('{}'): record size must be at least 1", path_));
}

RecordSource::Reader::Reader(const RecordSource& source, ResumePoint from, Shard shard)
    : file_(source.path_, "read_records", from.offset, shard, every(source.record_size_)),
      record_size_(source.record_size_),
      chunk_bytes_(source.chunk_bytes_),
      pool_(source.pool_),
      chunk_offset_(file_.offset()) {
  if (from.offset % record_size_ != 0)
    throw IoError(
        fmt::format("read_records: cannot resume '{}' at byte {}: not a multiple of "
                    "the record size {}",
                    file_.path(), from.offset, record_size_));
}

bool RecordSource::Reader::fill(SourceBatch<std::span<const std::byte>>& batch) {
  while (!batch.full()) {
    if (pos_ == valid_) {
      if (file_.at_end()) return false;
      if (!batch.empty()) return true;  // a batch never spans two chunks
      chunk_offset_ += valid_;
      chunk_ = std::make_shared<Buffer>(pool_->acquire(chunk_bytes_));
      valid_ = file_.read_fully(chunk_->chars(), chunk_bytes_);
      pos_ = 0;
      if (valid_ % record_size_ != 0)
        throw IoError(fmt::format(
            "read_records: '{}' ends with a partial record: {} bytes at offset {} (record size {})",
            file_.path(), valid_ % record_size_, chunk_offset_ + valid_ - valid_ % record_size_,
            record_size_));
      continue;
    }
    if (batch.empty()) batch.keep_alive(chunk_);
    batch.push(std::span<const std::byte>(chunk_->data() + pos_, record_size_));
    pos_ += record_size_;
  }
  return true;
}

}  // namespace aetherflow
