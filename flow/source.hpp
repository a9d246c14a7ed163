#pragma once
// Writing a source of your own: an object whose open() returns a reader that fills batches.
// The streaming file sources of nodes/ (read_lines, read_chunks, read_records) are written on
// this, as a user could.
//
//   struct Countdown {
//     using item_type = int;
//     int from;
//     struct Reader {
//       int next;
//       bool fill(aetherflow::SourceBatch<int>& batch) {   // false: no more items after these
//         while (!batch.full() && next > 0) batch.push(next--);
//         return next > 0;
//       }
//     };
//     Reader open() const { return Reader{from}; }         // once per run
//   };
//   flow.source("countdown", Countdown{10});
//
// open() runs when a run starts, before any data moves: it is where a file that cannot be
// opened is reported. A reader may end a batch early (return true with the batch not full),
// or return true with nothing when it has nothing yet (a followed file, after waiting a
// little for more): it is asked again, unless the run is stopping its sources.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include <flow/checkpoint.hpp>
#include <flow/cluster.hpp>
#include <flow/detail/batch_core.hpp>

namespace aetherflow {

// How far a source is through its input: bytes consumed, and the total when known.
struct SourcePosition {
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> total_bytes;
};

// The batch a reader fills: up to capacity() items.
template <class T>
class SourceBatch {
 public:
  explicit SourceBatch(detail::Batch<T>& batch, std::size_t capacity)
      : batch_(batch), capacity_(capacity) {}

  void push(T item) {
    batch_.push(std::move(item), static_cast<std::uint32_t>(batch_.values.size()));
  }
  std::size_t size() const noexcept { return batch_.values.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  bool full() const noexcept { return size() >= capacity_; }
  bool empty() const noexcept { return size() == 0; }
  // The items point into memory that `owner` keeps alive, a chunk buffer say. It is released
  // once every node is done with every item of this batch, and not before.
  void keep_alive(std::shared_ptr<const void> owner) { batch_.keep = std::move(owner); }

 private:
  detail::Batch<T>& batch_;
  std::size_t capacity_;
};

template <class S>
concept BatchSource = requires(const S& source) {
  typename S::item_type;
  {source.open()};
}
&&requires(decltype(std::declval<const S&>().open())& reader,
           SourceBatch<typename S::item_type>& batch) {
  { reader.fill(batch) } -> std::convertible_to<bool>;
};

// Readers may tell how far they are, for progress reports.
template <class R>
concept ReportsPosition = requires(const R& reader) {
  { reader.position() } -> std::convertible_to<SourcePosition>;
};

}  // namespace aetherflow

namespace aetherflow {

// A source that can resume from a checkpoint (RunOptions::checkpoint) has a second open:
//   Reader open(aetherflow::ResumePoint from) const;
// that starts after the first `from.items` items, at byte `from.offset` of its input: the
// position().bytes its reader reported right after filling the last committed batch. A
// file's reader seeks there. Without ReportsPosition, `offset` is 0 and `items` tells.
template <class S>
concept ResumableSource = BatchSource<S> && requires(const S& source, ResumePoint from) {
  { source.open(from) } -> std::same_as<decltype(source.open())>;
};

}  // namespace aetherflow

namespace aetherflow {

// A source whose input a cluster run can split between ranks (flow/cluster.hpp,
// docs/distributed.md) has a third open, for a rank's share; `from` as for a resumed run:
//   Reader open(aetherflow::ResumePoint from, aetherflow::Shard shard) const;
// Every item must be read by exactly one of the shards 0..count-1, in the order of the whole
// input when they are taken one after another.
template <class S>
concept ShardedSource = BatchSource<S> && requires(const S& source, ResumePoint from, Shard shard) {
  { source.open(from, shard) } -> std::same_as<decltype(source.open())>;
};

}  // namespace aetherflow
